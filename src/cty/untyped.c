/* soup-go's `wire encode` without --type: json.Unmarshal into an
 * interface{} (Go's errors; every number a float64), then vmihailenco
 * msgpack's Marshal of that Go value. */
#include "cty/cty_int.h"

#include <errno.h>
#include <math.h>
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

static int buf_write(void *data, const char *p, size_t len) {
  struct cty_buf *b = data;

  soupc__cty_buf_put(b, p, len);
  return b->oom ? -1 : 0;
}

/* A map member: its key and the last value given for it (a Go map). */
struct member {
  const char *key;
  size_t len;
  const struct json_node *val;
};

static int cmp_member(const void *a, const void *b) {
  const struct member *x = a, *y = b;
  size_t n = x->len < y->len ? x->len : y->len;
  int c = memcmp(x->key, y->key, n);

  return c != 0 ? c : (x->len > y->len) - (x->len < y->len);
}

static int pack(msgpack_packer *pk, const struct json_node *n,
                soupc_status *st);

/* Members deduplicated (last wins) and sorted: Go ranges over a map in a
 * random order, and sorted is the one order a test can rely on. */
static int pack_object(msgpack_packer *pk, const struct json_node *n,
                       soupc_status *st) {
  struct member *m = calloc(n->n + 1, sizeof(*m));
  size_t i, j, k = 0;
  int rv = 0;

  if (m == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  for (i = 0; i < n->n; i++) {
    for (j = 0; j < k; j++) {
      if (m[j].len == n->key_lens[i] &&
          memcmp(m[j].key, n->keys[i], m[j].len) == 0) {
        break;
      }
    }
    m[j].key = n->keys[i];
    m[j].len = n->key_lens[i];
    m[j].val = n->items[i];
    if (j == k) {
      k++;
    }
  }
  qsort(m, k, sizeof(*m), cmp_member);
  msgpack_pack_map(pk, k);
  for (i = 0; i < k && rv == 0; i++) {
    msgpack_pack_str(pk, m[i].len);
    msgpack_pack_str_body(pk, m[i].key, m[i].len);
    rv = pack(pk, m[i].val, st);
  }
  free(m);
  return rv;
}

static int pack(msgpack_packer *pk, const struct json_node *n,
                soupc_status *st) {
  size_t i;
  int rv = 0;

  switch (n->kind) {
  case JN_NULL:
    msgpack_pack_nil(pk);
    break;
  case JN_BOOL:
    if (n->b) {
      msgpack_pack_true(pk);
    } else {
      msgpack_pack_false(pk);
    }
    break;
  case JN_NUMBER: {
    /* strconv.ParseFloat(s, 64): correctly rounded, as glibc's strtod;
     * only overflow is an error */
    double d;
    errno = 0;
    d = strtod(n->s, NULL);
    if (errno == ERANGE && isinf(d)) {
      soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                       "json: cannot unmarshal number %s into Go value of "
                       "type float64",
                       n->s);
      return SOUPC_ERR_CTY_DECODE;
    }
    msgpack_pack_double(pk, d);
    break;
  }
  case JN_STRING:
    msgpack_pack_str(pk, n->len);
    msgpack_pack_str_body(pk, n->s, n->len);
    break;
  case JN_ARRAY:
    msgpack_pack_array(pk, n->n);
    for (i = 0; i < n->n && rv == 0; i++) {
      rv = pack(pk, n->items[i], st);
    }
    break;
  case JN_OBJECT:
    rv = pack_object(pk, n, st);
    break;
  }
  return rv;
}

int soupc_cty_json_untyped_msgpack(uint8_t **out, size_t *len_out,
                                   const char *json, size_t len,
                                   soupc_status *st) {
  struct json_node *root = NULL;
  struct cty_buf b;
  msgpack_packer pk;
  int rv;

  rv = soupc__json_parse_go(&root, json, len, JSON_UNMARSHAL, NULL, st);
  if (rv != 0) {
    return rv;
  }
  soupc__cty_buf_init(&b);
  msgpack_packer_init(&pk, &b, buf_write);
  rv = pack(&pk, root, st);
  soupc__json_free(root);
  if (rv != 0) {
    soupc__cty_buf_dispose(&b);
    return rv;
  }
  return soupc__cty_buf_take(&b, (char **)out, len_out);
}
