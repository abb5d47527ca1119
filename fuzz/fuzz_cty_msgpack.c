/* libFuzzer target: cty msgpack decoder (STYLE.md: decode, re-encode,
 * compare). Input: a go-cty JSON type description, '\n', msgpack bytes.
 * After one decode/encode round the encoding must be a fixed point: a
 * second round gives the same bytes. (One round may legitimately change
 * bytes: go-cty keeps -0 and 0 as two set elements but both encode as 0.) */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "soupc/cty.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int round_trip(uint8_t **out, size_t *len_out, const soupc_cty_type *ty,
                      const uint8_t *in, size_t len) {
  soupc_cty_value *v = NULL;
  soupc_status st;
  int rv;

  rv = soupc_cty_msgpack_decode(&v, ty, in, len, &st);
  if (rv != 0) {
    return rv;
  }
  rv = soupc_cty_msgpack_encode(out, len_out, v, ty, &st);
  if (rv == 0) {
    /* the JSON encoder must cope with whatever decoded */
    char *js = NULL;
    size_t jl = 0;
    if (soupc_cty_json_encode(&js, &jl, v, ty, &st) == 0) {
      soupc_cty_free_bytes(js);
    }
  }
  soupc_cty_value_free(v);
  return rv;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *nl = memchr(data, '\n', size);
  soupc_cty_type *ty = NULL;
  soupc_status st;
  uint8_t *e1 = NULL, *e2 = NULL, *e3 = NULL;
  size_t l1 = 0, l2 = 0, l3 = 0, tlen;

  if (nl == NULL) {
    return 0;
  }
  tlen = (size_t)(nl - data);
  if (soupc_cty_type_parse(&ty, (const char *)data, tlen, &st) != 0) {
    return 0;
  }
  if (round_trip(&e1, &l1, ty, nl + 1, size - tlen - 1) == 0 &&
      round_trip(&e2, &l2, ty, e1, l1) == 0) {
    int rv = round_trip(&e3, &l3, ty, e2, l2);
    assert(rv == 0);
    assert(l2 == l3 && memcmp(e2, e3, l2) == 0);
    (void)rv;
  }
  soupc_cty_free_bytes(e1);
  soupc_cty_free_bytes(e2);
  soupc_cty_free_bytes(e3);
  soupc_cty_type_free(ty);
  return 0;
}
