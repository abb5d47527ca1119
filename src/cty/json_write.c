/* go-cty json.Marshal (spec §3.1): no whitespace, sorted keys, every
 * object attribute, {"value":..,"type":..} at dynamic positions. */
#include "cty/cty_int.h"

#include "base/alloc.h"

#include <string.h>

static int enc_err(soupc_status *st, const char *msg) {
  soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT, "%s", msg);
  return SOUPC_ERR_CTY_DECODE;
}

static int marshal(struct cty_buf *b, const struct soupc_cty_value *v,
                   const struct soupc_cty_type *ty, int depth,
                   soupc_status *st) {
  size_t i;
  int rv;

  if (depth > CTY_MAX_DEPTH) {
    return enc_err(st, "value nests too deeply");
  }
  if (v->flags & CTY_V_UNKNOWN) {
    return enc_err(st, "value is not known"); /* checked first, §3.1 */
  }
  if (ty->kind == SOUPC_CTY_DYNAMIC && v->type->kind != SOUPC_CTY_DYNAMIC) {
    soupc__cty_buf_puts(b, "{\"value\":");
    rv = marshal(b, v, v->type, depth + 1, st);
    if (rv != 0) {
      return rv;
    }
    soupc__cty_buf_puts(b, ",\"type\":");
    soupc__cty_type_json(b, v->type);
    soupc__cty_buf_putc(b, '}');
    return 0;
  }
  if (v->flags & CTY_V_NULL) {
    soupc__cty_buf_puts(b, "null");
    return 0;
  }
  if (ty->kind != v->type->kind) {
    return enc_err(st, ty->kind == SOUPC_CTY_TUPLE
                           ? "tuple required"
                           : "value does not conform to the type");
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
  case SOUPC_CTY_LIST:
  case SOUPC_CTY_SET:
    soupc__cty_buf_putc(b, '[');
    for (i = 0; i < v->u.c.n; i++) {
      if (i > 0) {
        soupc__cty_buf_putc(b, ',');
      }
      rv = marshal(b, v->u.c.items[i], ty->elem, depth + 1, st);
      if (rv != 0) {
        return rv;
      }
    }
    soupc__cty_buf_putc(b, ']');
    return 0;
  case SOUPC_CTY_MAP:
    soupc__cty_buf_putc(b, '{');
    for (i = 0; i < v->u.c.n; i++) {
      if (i > 0) {
        soupc__cty_buf_putc(b, ',');
      }
      soupc__cty_json_quote(b, v->u.c.keys[i], v->u.c.key_lens[i]);
      soupc__cty_buf_putc(b, ':');
      rv = marshal(b, v->u.c.items[i], ty->elem, depth + 1, st);
      if (rv != 0) {
        return rv;
      }
    }
    soupc__cty_buf_putc(b, '}');
    return 0;
  case SOUPC_CTY_TUPLE:
    if (v->u.c.n != ty->n) {
      return enc_err(st, "tuple required");
    }
    soupc__cty_buf_putc(b, '[');
    for (i = 0; i < ty->n; i++) {
      if (i > 0) {
        soupc__cty_buf_putc(b, ',');
      }
      rv = marshal(b, v->u.c.items[i], ty->elems[i], depth + 1, st);
      if (rv != 0) {
        return rv;
      }
    }
    soupc__cty_buf_putc(b, ']');
    return 0;
  case SOUPC_CTY_OBJECT: {
    bool direct = v->type == ty || soupc__cty_type_conforms(v->type, ty);
    if (!direct) {
      for (i = 0; i < v->type->n; i++) {
        if (soupc__cty_type_attr(ty, v->type->names[i], v->type->name_lens[i]) <
            0) {
          soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                           "unsupported attribute \"%s\"", v->type->names[i]);
          return SOUPC_ERR_CTY_DECODE;
        }
      }
      for (i = 0; i < ty->n; i++) {
        if (soupc__cty_type_attr(v->type, ty->names[i], ty->name_lens[i]) < 0 &&
            (ty->optional == NULL || !ty->optional[i])) {
          soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                           "attribute \"%s\" is required", ty->names[i]);
          return SOUPC_ERR_CTY_DECODE;
        }
      }
    }
    soupc__cty_buf_putc(b, '{');
    for (i = 0; i < ty->n; i++) {
      long idx = direct ? (long)i
                        : soupc__cty_type_attr(v->type, ty->names[i],
                                               ty->name_lens[i]);
      if (i > 0) {
        soupc__cty_buf_putc(b, ',');
      }
      soupc__cty_json_quote(b, ty->names[i], ty->name_lens[i]);
      soupc__cty_buf_putc(b, ':');
      if (idx < 0) {
        soupc__cty_buf_puts(b, "null");
        continue;
      }
      rv = marshal(b, v->u.c.items[idx], ty->elems[i], depth + 1, st);
      if (rv != 0) {
        return rv;
      }
    }
    soupc__cty_buf_putc(b, '}');
    return 0;
  }
  case SOUPC_CTY_DYNAMIC:
    return enc_err(st, "value of dynamic type must be null or unknown");
  }
  return enc_err(st, "unsupported type");
}

int soupc_cty_json_encode(char **out, size_t *len_out, const soupc_cty_value *v,
                          const soupc_cty_type *ty, soupc_status *st) {
  struct cty_buf b;
  int rv;

  soupc__cty_buf_init(&b);
  rv = marshal(&b, v, ty, 0, st);
  soupc__cty_buf_putc(&b, 0);
  if (rv == 0 && b.oom) {
    rv = SOUPC_ERR_NOMEM;
  }
  if (rv != 0) {
    soupc__cty_buf_dispose(&b);
    return rv;
  }
  *out = (char *)b.p;
  *len_out = b.len - 1;
  return 0;
}
