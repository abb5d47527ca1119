/* cty-wire: a value in Terraform's wire encoding, through libsoupc-cty
 * alone (no go-plugin, no gRPC): the JSON type description and JSON value
 * on the command line become the msgpack bytes a provider's DynamicValue
 * carries, printed in hex, and those bytes are decoded again and printed as
 * JSON. go-cty's msgpack.Marshal gives the same bytes (check.sh).
 *
 *   cty-wire TYPE-JSON VALUE-JSON
 *   cty-wire '["list","number"]' '[1,2.5]'
 *
 * Exit 0; 1 with go-cty's message when the value is not of the type. */
#include <stdio.h>
#include <string.h>

#include "soupc/cty.h"

int main(int argc, char **argv) {
  soupc_cty_type *ty = NULL;
  soupc_cty_value *v = NULL, *back = NULL;
  uint8_t *mp = NULL;
  char *json = NULL;
  size_t mp_len = 0, json_len = 0, i;
  soupc_status st;
  int rv;

  if (argc != 3) {
    fprintf(stderr, "usage: cty-wire TYPE-JSON VALUE-JSON\n");
    return 2;
  }
  rv = soupc_cty_type_parse(&ty, argv[1], strlen(argv[1]), &st);
  if (rv == 0) {
    rv = soupc_cty_json_decode(&v, ty, argv[2], strlen(argv[2]), &st);
  }
  if (rv == 0) {
    rv = soupc_cty_msgpack_encode(&mp, &mp_len, v, ty, &st);
  }
  if (rv == 0) {
    rv = soupc_cty_msgpack_decode(&back, ty, mp, mp_len, &st);
  }
  if (rv == 0 && !soupc_cty_value_raw_equals(v, back)) {
    snprintf(st.message, sizeof(st.message), "round trip changed the value");
    rv = -1;
  }
  if (rv == 0) {
    rv = soupc_cty_json_encode(&json, &json_len, back, ty, &st);
  }
  if (rv == 0) {
    printf("msgpack ");
    for (i = 0; i < mp_len; i++) {
      printf("%02x", mp[i]);
    }
    printf("\njson %s\n", json);
  } else {
    fprintf(stderr, "cty-wire: %s\n", st.message);
  }
  soupc_cty_free_bytes(json);
  soupc_cty_free_bytes(mp);
  soupc_cty_value_free(back);
  soupc_cty_value_free(v);
  soupc_cty_type_free(ty);
  return rv == 0 ? 0 : 1;
}
