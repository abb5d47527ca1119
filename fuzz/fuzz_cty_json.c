/* libFuzzer target: the cty JSON readers (soup-go's builder, go-cty
 * json.Unmarshal, the rich dialect). Input: a go-cty JSON type description,
 * '\n', JSON text. Whatever builds must encode, and go-cty JSON written by
 * soup-c must read back to the same JSON. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "soupc/cty.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(soupc_cty_value *v, const soupc_cty_type *ty) {
  soupc_status st;
  char *js = NULL, *js2 = NULL;
  size_t jl = 0, jl2 = 0;
  uint8_t *mp = NULL;
  size_t ml = 0;
  soupc_cty_value *back = NULL;

  if (soupc_cty_msgpack_encode(&mp, &ml, v, ty, &st) == 0) {
    soupc_cty_value *m = NULL;
    int rv = soupc_cty_msgpack_decode(&m, ty, mp, ml, &st);
    (void)rv;
    soupc_cty_value_free(m);
    soupc_cty_free_bytes(mp);
  }
  if (soupc_cty_json_encode(&js, &jl, v, ty, &st) != 0) {
    return;
  }
  if (soupc_cty_json_decode(&back, ty, js, jl, &st) == 0 &&
      soupc_cty_json_encode(&js2, &jl2, back, ty, &st) == 0) {
    assert(jl == jl2 && memcmp(js, js2, jl) == 0);
  }
  soupc_cty_free_bytes(js2);
  soupc_cty_value_free(back);
  soupc_cty_free_bytes(js);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *nl = memchr(data, '\n', size);
  const char *text;
  soupc_cty_type *ty = NULL;
  soupc_cty_value *v = NULL;
  soupc_status st;
  size_t tlen, vlen;

  if (nl == NULL) {
    return 0;
  }
  tlen = (size_t)(nl - data);
  text = (const char *)nl + 1;
  vlen = size - tlen - 1;
  if (soupc_cty_type_parse(&ty, (const char *)data, tlen, &st) != 0) {
    return 0;
  }
  if (soupc_cty_value_from_json(&v, ty, text, vlen, 0, &st) == 0) {
    check(v, ty);
    soupc_cty_value_free(v);
    v = NULL;
  }
  if (soupc_cty_json_decode(&v, ty, text, vlen, &st) == 0) {
    check(v, ty);
    soupc_cty_value_free(v);
    v = NULL;
  }
  if (soupc_cty_value_from_rich_json(&v, ty, text, vlen, &st) == 0) {
    check(v, ty);
    soupc_cty_value_free(v);
  }
  soupc_cty_type_free(ty);
  return 0;
}
