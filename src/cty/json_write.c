/* go-cty json.Marshal (spec §3.1, cty/json/marshal.go): no whitespace,
 * sorted keys, every object attribute, {"value":..,"type":..} at dynamic
 * positions; a value that does not conform is converted first. */
#include "cty/cty_int.h"

#include "base/alloc.h"

#include <stdio.h>
#include <string.h>

static int enc_err(soupc_status *st, const char *msg) {
  soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT, "%s", msg);
  return SOUPC_ERR_CTY_DECODE;
}

static int wrap(soupc_status *st, int rv, const char *prefix) {
  char msg[1100];

  if (rv == SOUPC_ERR_NOMEM || st == NULL) {
    return rv;
  }
  snprintf(msg, sizeof(msg), "%s%s", prefix, st->message);
  soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT, "%s", msg);
  return rv;
}

static int marshal(struct cty_buf *b, const struct soupc_cty_value *v,
                   const struct soupc_cty_type *ty, int depth,
                   soupc_status *st) {
  size_t i;
  int rv;

  if (depth > CTY_MAX_DEPTH) {
    return enc_err(st, "value nests too deeply");
  }
  if (cty_is_marked(v)) {
    return enc_err(st, "value has marks, so it cannot be serialized as JSON");
  }
  if (v->flags & CTY_V_UNKNOWN) {
    return enc_err(st, "value is not known"); /* checked first, §3.1 */
  }
  if (ty->kind == SOUPC_CTY_DYNAMIC && v->type->kind != SOUPC_CTY_DYNAMIC) {
    struct cty_buf tj;
    soupc__cty_buf_init(&tj);
    rv = soupc__cty_type_marshal(&tj, v->type, st);
    if (rv != 0) {
      soupc__cty_buf_dispose(&tj);
      return wrap(st, rv, "failed to serialize type: ");
    }
    soupc__cty_buf_puts(b, "{\"value\":");
    rv = marshal(b, v, v->type, depth + 1, st);
    if (rv != 0) {
      soupc__cty_buf_dispose(&tj);
      return wrap(st, rv, "failed to serialize value: ");
    }
    soupc__cty_buf_puts(b, ",\"type\":");
    soupc__cty_buf_put(b, tj.p, tj.len);
    soupc__cty_buf_putc(b, '}');
    soupc__cty_buf_dispose(&tj);
    return 0;
  }
  if (v->flags & CTY_V_NULL) {
    soupc__cty_buf_puts(b, "null");
    return 0;
  }
  if (ty->kind != v->type->kind) {
    return soupc__cty_panic(st, "value does not conform to its type");
  }
  switch (ty->kind) {
  case SOUPC_CTY_STRING:
    soupc__cty_json_quote(b, v->u.str.s, v->u.str.len);
    return 0;
  case SOUPC_CTY_NUMBER:
    if (soupc__cty_num_is_inf(v->u.num)) {
      return enc_err(st, "cannot serialize infinity as JSON");
    }
    soupc__cty_num_text_f(b, v->u.num);
    return 0;
  case SOUPC_CTY_BOOL:
    soupc__cty_buf_puts(b, v->u.b ? "true" : "false");
    return 0;
  case SOUPC_CTY_CAPSULE: {
    /* json.Marshal of the payload: the bytes capsule's *[]byte is a base64
     * string. */
    const uint8_t *data;
    size_t dl, sl = 0;
    char *s = NULL;
    if (soupc_cty_value_bytes_get(v, &data, &dl) != 0) {
      return enc_err(st, "cannot JSON-serialize this capsule type");
    }
    rv = soupc_cty_base64_encode(&s, &sl, data, dl);
    if (rv != 0) {
      return rv;
    }
    soupc__cty_json_quote(b, s, sl);
    soupc__free(s);
    return 0;
  }
  case SOUPC_CTY_LIST:
  case SOUPC_CTY_SET:
  case SOUPC_CTY_TUPLE:
    if (ty->kind == SOUPC_CTY_TUPLE && v->u.c.n != ty->n) {
      return soupc__cty_panic(st, "value does not conform to its type");
    }
    soupc__cty_buf_putc(b, '[');
    for (i = 0; i < v->u.c.n; i++) {
      if (i > 0) {
        soupc__cty_buf_putc(b, ',');
      }
      rv = marshal(b, v->u.c.items[i],
                   ty->kind == SOUPC_CTY_TUPLE ? ty->elems[i] : ty->elem,
                   depth + 1, st);
      if (rv != 0) {
        return rv;
      }
    }
    soupc__cty_buf_putc(b, ']');
    return 0;
  case SOUPC_CTY_MAP:
  case SOUPC_CTY_OBJECT:
    if (ty->kind == SOUPC_CTY_OBJECT && v->u.c.n != ty->n) {
      return soupc__cty_panic(st, "value does not conform to its type");
    }
    soupc__cty_buf_putc(b, '{');
    for (i = 0; i < v->u.c.n; i++) {
      if (i > 0) {
        soupc__cty_buf_putc(b, ',');
      }
      if (ty->kind == SOUPC_CTY_MAP) {
        soupc__cty_json_quote(b, v->u.c.keys[i], v->u.c.key_lens[i]);
      } else {
        soupc__cty_json_quote(b, ty->names[i], ty->name_lens[i]);
      }
      soupc__cty_buf_putc(b, ':');
      rv = marshal(b, v->u.c.items[i],
                   ty->kind == SOUPC_CTY_OBJECT ? ty->elems[i] : ty->elem,
                   depth + 1, st);
      if (rv != 0) {
        return rv;
      }
    }
    soupc__cty_buf_putc(b, '}');
    return 0;
  default:
    return enc_err(st, "cannot JSON-serialize dynamic");
  }
}

int soupc_cty_json_encode(char **out, size_t *len_out, const soupc_cty_value *v,
                          const soupc_cty_type *ty, soupc_status *st) {
  struct soupc_cty_value *conv = NULL;
  struct cty_buf b;
  int rv;

  if (v->type != ty && !soupc__cty_type_conforms(v->type, ty)) {
    rv = soupc__cty_convert(&conv, v, ty, NULL, st);
    if (rv != 0) {
      return rv;
    }
    v = conv;
  }
  soupc__cty_buf_init(&b);
  rv = marshal(&b, v, ty, 0, st);
  soupc_cty_value_free(conv);
  if (rv != 0) {
    soupc__cty_buf_dispose(&b);
    return rv;
  }
  return soupc__cty_buf_take(&b, out, len_out);
}
