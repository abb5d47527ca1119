/* go-cty msgpack.Marshal (spec §2.1-§2.7) on msgpack-c's packer, whose
 * size-class choices match vmihailenco/msgpack with UseCompactInts(true)
 * (spec §2.2: unsigned forms for n >= 0, float64 only, str8, bin8). */
#include "cty/cty_int.h"

#include "base/alloc.h"

#include <msgpack.h>
#include <stdio.h>
#include <string.h>

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

static void pack_bool(msgpack_packer *pk, bool b) {
  if (b) {
    msgpack_pack_true(pk);
  } else {
    msgpack_pack_false(pk);
  }
}

/* marshalUnknownValue (unknown.go): d40000, or ext 0x0c holding the
 * refinements read back through Range. */
static int pack_unknown(msgpack_packer *pk, const struct soupc_cty_value *v,
                        soupc_status *st) {
  static const char plain[] = {(char)0xd4, 0, 0};
  struct soupc_cty_range rng;
  struct soupc_cty_value *lo = NULL, *hi = NULL;
  const struct soupc_cty_type *ty;
  char *prefix = NULL;
  size_t plen = 0, count = 0;
  int64_t llo = 0, lhi = CTY_MAX_INT;
  int lo_inc = 0, hi_inc = 0, rv;
  bool nn, has_lo = false, has_hi = false;
  struct cty_buf pb;
  msgpack_packer pp;

  rv = soupc__cty_range_of(&rng, v, st);
  if (rv != 0) {
    return rv;
  }
  ty = rng.ty;
  if (ty->kind == SOUPC_CTY_DYNAMIC) {
    soupc__cty_range_dispose(&rng);
    msgpack_pack_str_body(pk, plain, 3); /* raw bytes */
    return 0;
  }
  nn = soupc_cty_range_definitely_not_null(&rng);
  count += nn;
  if (ty->kind == SOUPC_CTY_NUMBER) {
    rv = soupc_cty_range_number_lower_bound(&lo, &lo_inc, &rng, st);
    if (rv == 0) {
      rv = soupc_cty_range_number_upper_bound(&hi, &hi_inc, &rng, st);
    }
    /* go-cty compares with the infinity singletons by identity */
    has_lo = rv == 0 && cty_is_known(lo) && lo != soupc__cty_inf(true);
    has_hi = rv == 0 && cty_is_known(hi) && hi != soupc__cty_inf(false);
    count += (size_t)has_lo + (size_t)has_hi;
  } else if (ty->kind == SOUPC_CTY_STRING) {
    const char *p = "";
    soupc_cty_range_string_prefix(&rng, &p, &plen, NULL);
    if (plen > 256) {
      rv = soupc_cty_safe_known_prefix(&prefix, &plen, p, 255);
    } else if (plen > 0) {
      prefix = soupc__strndup(p, plen);
      rv = prefix == NULL ? SOUPC_ERR_NOMEM : 0;
    }
    count += plen > 0 && rv == 0;
  } else if (cty_kind_is_coll(ty->kind)) {
    soupc_cty_range_length_lower_bound(&rng, &llo, NULL);
    soupc_cty_range_length_upper_bound(&rng, &lhi, NULL);
    count += (size_t)(llo != 0) + (size_t)(lhi != CTY_MAX_INT);
  }
  soupc__cty_range_dispose(&rng);
  if (rv != 0 || count == 0) {
    if (rv == 0) {
      msgpack_pack_str_body(pk, plain, 3);
    }
    soupc_cty_value_free(lo);
    soupc_cty_value_free(hi);
    soupc__free(prefix);
    return rv;
  }
  soupc__cty_buf_init(&pb);
  msgpack_packer_init(&pp, &pb, buf_write);
  msgpack_pack_map(&pp, count);
  if (nn) {
    msgpack_pack_int64(&pp, 1);
    msgpack_pack_false(&pp);
  }
  if (has_lo) {
    msgpack_pack_int64(&pp, 3);
    msgpack_pack_array(&pp, 2);
    pack_number(&pp, cty_unmarked(lo)->u.num);
    pack_bool(&pp, lo_inc != 0);
  }
  if (has_hi) {
    msgpack_pack_int64(&pp, 4);
    msgpack_pack_array(&pp, 2);
    pack_number(&pp, cty_unmarked(hi)->u.num);
    pack_bool(&pp, hi_inc != 0);
  }
  if (plen > 0) {
    msgpack_pack_int64(&pp, 2);
    msgpack_pack_str(&pp, plen);
    msgpack_pack_str_body(&pp, prefix, plen);
  }
  if (llo != 0) {
    msgpack_pack_int64(&pp, 5);
    msgpack_pack_int64(&pp, llo);
  }
  if (lhi != CTY_MAX_INT) {
    msgpack_pack_int64(&pp, 6);
    msgpack_pack_int64(&pp, lhi);
  }
  if (pb.oom) {
    ((struct cty_buf *)pk->data)->oom = true;
  }
  msgpack_pack_ext(pk, pb.len, 0x0c);
  msgpack_pack_ext_body(pk, pb.p, pb.len);
  soupc__cty_buf_dispose(&pb);
  soupc_cty_value_free(lo);
  soupc_cty_value_free(hi);
  soupc__free(prefix);
  return 0;
}

static int marshal(msgpack_packer *pk, const struct soupc_cty_value *v,
                   const struct soupc_cty_type *ty, int depth,
                   soupc_status *st) {
  size_t i;
  int rv;

  if (depth > CTY_MAX_DEPTH) {
    return enc_err(st, "value nests too deeply");
  }
  if (cty_is_marked(v)) {
    return enc_err(st, "value has marks, so it cannot be serialized");
  }
  /* §2.1 step 2: checked before unknown/null, so a typed null or unknown
   * at a dynamic position is wrapped too. */
  if (ty->kind == SOUPC_CTY_DYNAMIC && v->type->kind != SOUPC_CTY_DYNAMIC) {
    struct cty_buf tj;
    soupc__cty_buf_init(&tj);
    rv = soupc__cty_type_marshal(&tj, v->type, st);
    if (rv != 0) {
      soupc__cty_buf_dispose(&tj);
      if (rv == SOUPC_ERR_NOMEM) {
        return rv;
      }
      {
        char msg[1100];
        snprintf(msg, sizeof(msg), "failed to serialize type: %s",
                 st != NULL ? st->message : "");
        return enc_err(st, msg);
      }
    }
    msgpack_pack_array(pk, 2);
    msgpack_pack_bin(pk, tj.len);
    msgpack_pack_bin_body(pk, tj.p, tj.len);
    soupc__cty_buf_dispose(&tj);
    return marshal(pk, v, v->type, depth + 1, st);
  }
  if (v->flags & CTY_V_UNKNOWN) {
    return pack_unknown(pk, v, st);
  }
  if (v->flags & CTY_V_NULL) {
    msgpack_pack_nil(pk);
    return 0;
  }
  if (ty->kind == SOUPC_CTY_CAPSULE) {
    return enc_err(st, "capsule types not supported for msgpack encoding");
  }
  if (ty->kind != v->type->kind) {
    return soupc__cty_panic(st, "value does not conform to its type");
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
    pack_bool(pk, v->u.b);
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
  case SOUPC_CTY_OBJECT:
    if (v->u.c.n != ty->n) {
      return soupc__cty_panic(st, "value does not conform to its type");
    }
    if (ty->kind == SOUPC_CTY_TUPLE) {
      msgpack_pack_array(pk, ty->n);
    } else {
      msgpack_pack_map(pk, ty->n);
    }
    for (i = 0; i < ty->n; i++) {
      if (ty->kind == SOUPC_CTY_OBJECT) {
        msgpack_pack_str(pk, ty->name_lens[i]);
        msgpack_pack_str_body(pk, ty->names[i], ty->name_lens[i]);
      }
      rv = marshal(pk, v->u.c.items[i], ty->elems[i], depth + 1, st);
      if (rv != 0) {
        return rv;
      }
    }
    return 0;
  default:
    return soupc__cty_panic(st, "unsupported type");
  }
}

int soupc_cty_msgpack_encode(uint8_t **out, size_t *len_out,
                             const soupc_cty_value *v, const soupc_cty_type *ty,
                             soupc_status *st) {
  struct soupc_cty_value *conv = NULL;
  struct cty_buf b;
  msgpack_packer pk;
  int rv;

  /* Marshal: a value whose type does not conform is converted first. */
  if (v->type != ty && !soupc__cty_type_conforms(v->type, ty)) {
    rv = soupc__cty_convert(&conv, v, ty, NULL, st);
    if (rv != 0) {
      return rv;
    }
    v = conv;
  }
  soupc__cty_buf_init(&b);
  msgpack_packer_init(&pk, &b, buf_write);
  rv = marshal(&pk, v, ty, 0, st);
  soupc_cty_value_free(conv);
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
