/* libFuzzer target: the go-cty JSON type-description parser. A parsed type
 * must print canonically, and the canonical form must parse to itself. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "soupc/cty.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  soupc_cty_type *ty = NULL, *ty2 = NULL;
  soupc_status st;
  char *j1 = NULL, *j2 = NULL;
  size_t l1 = 0, l2 = 0;

  if (soupc_cty_type_parse(&ty, (const char *)data, size, &st) != 0) {
    return 0;
  }
  if (soupc_cty_type_to_json(&j1, &l1, ty) == 0) {
    int rv = soupc_cty_type_parse(&ty2, j1, l1, &st);
    assert(rv == 0);
    (void)rv;
    if (soupc_cty_type_to_json(&j2, &l2, ty2) == 0) {
      assert(l1 == l2 && memcmp(j1, j2, l1) == 0);
    }
  }
  soupc_cty_free_bytes(j1);
  soupc_cty_free_bytes(j2);
  soupc_cty_type_free(ty2);
  soupc_cty_type_free(ty);
  return 0;
}
