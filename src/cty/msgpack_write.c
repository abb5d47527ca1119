/* go-cty msgpack.Marshal (spec §2.1-§2.7) on msgpack-c's packer, whose
 * size-class choices match vmihailenco/msgpack with UseCompactInts(true)
 * (spec §2.2: unsigned forms for n >= 0, float64 only, str8, bin8). */
#include "cty/cty_int.h"

#include "base/alloc.h"

#include <msgpack.h>
#include <string.h>
#include <utf8proc.h>

static int buf_write(void *data, const char *p, size_t len) {
  struct cty_buf *b = data;

  soupc__cty_buf_put(b, p, len);
  return b->oom ? -1 : 0;
}

static int enc_err(soupc_status *st, const char *msg) {
  soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT, "%s", msg);
  return SOUPC_ERR_CTY_DECODE;
}

/* spec §2.3 number rules, in order. */
static void pack_number(msgpack_packer *pk, const struct cty_num *n) {
  int64_t i;
  double d;

  if (soupc__cty_num_is_inf(n)) {
    msgpack_pack_double(pk, mpfr_signbit(n->f) ? -1.0 / 0.0 : 1.0 / 0.0);
    return;
  }
  if (soupc__cty_num_int64(n, &i)) {
    msgpack_pack_int64(pk, i);
    return;
  }
  if (soupc__cty_num_float64(n, &d) && !mpfr_integer_p(n->f)) {
    msgpack_pack_double(pk, d);
    return;
  }
  {
    struct cty_buf t;
    soupc__cty_buf_init(&t);
    soupc__cty_num_text_f(&t, n);
    if (t.oom) {
      ((struct cty_buf *)pk->data)->oom = true; /* surfaces as NOMEM */
    }
    msgpack_pack_str(pk, t.len);
    msgpack_pack_str_body(pk, t.p, t.len);
    soupc__cty_buf_dispose(&t);
  }
}

/* ctystrings.SafeKnownPrefix after the 255-byte cut (spec §2.7): drop a
 * torn UTF-8 sequence, then the last grapheme cluster, which later text
 * could still extend. */
static size_t safe_prefix_len(const char *s, size_t len) {
  const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
  utf8proc_ssize_t i = 0, n;
  utf8proc_int32_t cp, prev = -1;
  utf8proc_int32_t state = 0;
  size_t last_break = 0;

  while ((size_t)i < len) {
    n = utf8proc_iterate(p + i, (utf8proc_ssize_t)len - i, &cp);
    if (n <= 0) {
      break; /* torn or invalid tail */
    }
    if (prev >= 0 && utf8proc_grapheme_break_stateful(prev, cp, &state)) {
      last_break = (size_t)i;
    }
    prev = cp;
    i += n;
  }
  return last_break;
}

static void pack_unknown(msgpack_packer *pk, const struct soupc_cty_value *v,
                         const struct soupc_cty_type *ty) {
  const struct cty_refine *r = v->refine;
  soupc_cty_kind k = v->type->kind;
  struct cty_buf pb;
  msgpack_packer pp;
  size_t count = 0, plen = 0;
  bool lo = false, hi = false, llo = false, lhi = false;

  if (r == NULL || ty->kind == SOUPC_CTY_DYNAMIC || k == SOUPC_CTY_DYNAMIC) {
    static const char plain[] = {(char)0xd4, 0, 0};
    msgpack_pack_str_body(pk, plain, 3); /* raw bytes */
    return;
  }
  if (r->not_null) {
    count++;
  }
  if (k == SOUPC_CTY_STRING && r->prefix_len > 0) {
    plen = r->prefix_len;
    if (plen > 256) {
      plen = safe_prefix_len(r->prefix, 255);
    }
    if (plen > 0) {
      count++;
    }
  }
  if (k == SOUPC_CTY_NUMBER) {
    lo = r->has_lower && !mpfr_inf_p(r->lower.f);
    hi = r->has_upper && !mpfr_inf_p(r->upper.f);
    count += (size_t)lo + (size_t)hi;
  }
  if (k == SOUPC_CTY_LIST || k == SOUPC_CTY_SET || k == SOUPC_CTY_MAP) {
    llo = r->has_len_lo && r->len_lo != 0;
    lhi = r->has_len_hi && r->len_hi != INT64_MAX;
    count += (size_t)llo + (size_t)lhi;
  }
  if (count == 0) {
    static const char plain[] = {(char)0xd4, 0, 0};
    msgpack_pack_str_body(pk, plain, 3);
    return;
  }
  soupc__cty_buf_init(&pb);
  msgpack_packer_init(&pp, &pb, buf_write);
  msgpack_pack_map(&pp, count);
  if (r->not_null) {
    msgpack_pack_int64(&pp, 1);
    msgpack_pack_false(&pp);
  }
  if (plen > 0) {
    msgpack_pack_int64(&pp, 2);
    msgpack_pack_str(&pp, plen);
    msgpack_pack_str_body(&pp, r->prefix, plen);
  }
  if (lo) {
    msgpack_pack_int64(&pp, 3);
    msgpack_pack_array(&pp, 2);
    pack_number(&pp, &r->lower);
    if (r->lower_incl) {
      msgpack_pack_true(&pp);
    } else {
      msgpack_pack_false(&pp);
    }
  }
  if (hi) {
    msgpack_pack_int64(&pp, 4);
    msgpack_pack_array(&pp, 2);
    pack_number(&pp, &r->upper);
    if (r->upper_incl) {
      msgpack_pack_true(&pp);
    } else {
      msgpack_pack_false(&pp);
    }
  }
  if (llo) {
    msgpack_pack_int64(&pp, 5);
    msgpack_pack_int64(&pp, r->len_lo);
  }
  if (lhi) {
    msgpack_pack_int64(&pp, 6);
    msgpack_pack_int64(&pp, r->len_hi);
  }
  if (pb.oom) {
    ((struct cty_buf *)pk->data)->oom = true;
  }
  msgpack_pack_ext(pk, pb.len, 0x0c);
  msgpack_pack_ext_body(pk, pb.p, pb.len);
  soupc__cty_buf_dispose(&pb);
}

static int marshal(msgpack_packer *pk, const struct soupc_cty_value *v,
                   const struct soupc_cty_type *ty, int depth,
                   soupc_status *st) {
  size_t i;
  int rv;

  if (depth > CTY_MAX_DEPTH) {
    return enc_err(st, "value nests too deeply");
  }
  /* §2.1 step 2: checked before unknown/null, so a typed null or unknown
   * at a dynamic position is wrapped too. */
  if (ty->kind == SOUPC_CTY_DYNAMIC && v->type->kind != SOUPC_CTY_DYNAMIC) {
    struct cty_buf tj;
    soupc__cty_buf_init(&tj);
    soupc__cty_type_json(&tj, v->type);
    if (tj.oom) {
      return SOUPC_ERR_NOMEM;
    }
    msgpack_pack_array(pk, 2);
    msgpack_pack_bin(pk, tj.len);
    msgpack_pack_bin_body(pk, tj.p, tj.len);
    soupc__cty_buf_dispose(&tj);
    return marshal(pk, v, v->type, depth + 1, st);
  }
  if (v->flags & CTY_V_UNKNOWN) {
    pack_unknown(pk, v, ty);
    return 0;
  }
  if (v->flags & CTY_V_NULL) {
    msgpack_pack_nil(pk);
    return 0;
  }
  if (ty->kind != v->type->kind) {
    return enc_err(st, ty->kind == SOUPC_CTY_TUPLE ? "tuple required"
                                                   : "value does not conform "
                                                     "to the type");
  }
  switch (ty->kind) {
  case SOUPC_CTY_STRING:
    msgpack_pack_str(pk, v->u.str.len);
    msgpack_pack_str_body(pk, v->u.str.s, v->u.str.len);
    return 0;
  case SOUPC_CTY_NUMBER:
    pack_number(pk, v->u.num);
    return 0;
  case SOUPC_CTY_BOOL:
    if (v->u.b) {
      msgpack_pack_true(pk);
    } else {
      msgpack_pack_false(pk);
    }
    return 0;
  case SOUPC_CTY_LIST:
  case SOUPC_CTY_SET:
    msgpack_pack_array(pk, v->u.c.n);
    for (i = 0; i < v->u.c.n; i++) {
      rv = marshal(pk, v->u.c.items[i], ty->elem, depth + 1, st);
      if (rv != 0) {
        return rv;
      }
    }
    return 0;
  case SOUPC_CTY_MAP:
    msgpack_pack_map(pk, v->u.c.n);
    for (i = 0; i < v->u.c.n; i++) {
      msgpack_pack_str(pk, v->u.c.key_lens[i]);
      msgpack_pack_str_body(pk, v->u.c.keys[i], v->u.c.key_lens[i]);
      rv = marshal(pk, v->u.c.items[i], ty->elem, depth + 1, st);
      if (rv != 0) {
        return rv;
      }
    }
    return 0;
  case SOUPC_CTY_TUPLE:
    if (v->u.c.n != ty->n) {
      return enc_err(st, "tuple required");
    }
    msgpack_pack_array(pk, ty->n);
    for (i = 0; i < ty->n; i++) {
      rv = marshal(pk, v->u.c.items[i], ty->elems[i], depth + 1, st);
      if (rv != 0) {
        return rv;
      }
    }
    return 0;
  case SOUPC_CTY_OBJECT:
    if (v->type == ty || soupc__cty_type_conforms(v->type, ty)) {
      msgpack_pack_map(pk, ty->n);
      for (i = 0; i < ty->n; i++) {
        msgpack_pack_str(pk, ty->name_lens[i]);
        msgpack_pack_str_body(pk, ty->names[i], ty->name_lens[i]);
        rv = marshal(pk, v->u.c.items[i], ty->elems[i], depth + 1, st);
        if (rv != 0) {
          return rv;
        }
      }
      return 0;
    }
    /* convert.Convert (§2.1): absent optional attributes become null,
     * absent required ones and extra ones are errors. */
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
    msgpack_pack_map(pk, ty->n);
    for (i = 0; i < ty->n; i++) {
      long idx = soupc__cty_type_attr(v->type, ty->names[i], ty->name_lens[i]);
      msgpack_pack_str(pk, ty->name_lens[i]);
      msgpack_pack_str_body(pk, ty->names[i], ty->name_lens[i]);
      if (idx < 0) {
        msgpack_pack_nil(pk);
        continue;
      }
      rv = marshal(pk, v->u.c.items[idx], ty->elems[i], depth + 1, st);
      if (rv != 0) {
        return rv;
      }
    }
    return 0;
  case SOUPC_CTY_DYNAMIC:
    return enc_err(st, "value of dynamic type must be null or unknown");
  }
  return enc_err(st, "unsupported type");
}

int soupc_cty_msgpack_encode(uint8_t **out, size_t *len_out,
                             const soupc_cty_value *v, const soupc_cty_type *ty,
                             soupc_status *st) {
  struct cty_buf b;
  msgpack_packer pk;
  int rv;

  soupc__cty_buf_init(&b);
  msgpack_packer_init(&pk, &b, buf_write);
  rv = marshal(&pk, v, ty, 0, st);
  if (rv == 0 && b.oom) {
    rv = SOUPC_ERR_NOMEM;
  }
  if (rv != 0) {
    soupc__cty_buf_dispose(&b);
    return rv;
  }
  if (b.p == NULL) { /* cannot happen: every value writes a byte */
    soupc__cty_buf_putc(&b, 0);
    b.len = 0;
  }
  *out = b.p;
  *len_out = b.len;
  return 0;
}
