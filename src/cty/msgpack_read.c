/* go-cty msgpack.Unmarshal (cty/msgpack/unmarshal.go, unknown.go; spec
 * §2.7, §2.8), reading the bytes as vmihailenco/msgpack's Decoder does.
 *
 * Why not msgpack-c's unpacker (the encoder does use msgpack-c's packer):
 * go-cty reads one item at a time and reports the first item that does not
 * fit its type ("number is required", "EOF" where the input ends), and a
 * malformed input half-way through is one of those answers; msgpack-c
 * parses the whole input into an object tree first, so it cannot say what
 * go-cty says, it caps nesting at 32 levels (MSGPACK_EMBED_STACK_SIZE,
 * compiled into Debian's libmsgpackc) where Terraform values go deeper,
 * and building the tree was half the decode time. The readers below are
 * the few vmihailenco Decoder methods go-cty calls, with their errors. */
#include "cty/cty_int.h"

#include "base/alloc.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- vmihailenco/msgpack's Decoder over a buffer ----------------------- */

struct rd {
  const uint8_t *p;
  size_t len;
  size_t off;
  char err[96]; /* the Go error text of the last failed read */
};

static int rd_fail(struct rd *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int rd_fail(struct rd *r, const char *fmt, ...) {
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(r->err, sizeof(r->err), fmt, ap);
  va_end(ap);
  return -1;
}

/* io.ReadFull of @p n bytes: "EOF" if none is left, "unexpected EOF" (and
 * everything consumed) if only some are. */
static int rd_take(struct rd *r, size_t n, const uint8_t **p) {
  size_t avail = r->len - r->off;

  if (n == 0) {
    *p = r->p + r->off;
    return 0;
  }
  if (avail == 0) {
    return rd_fail(r, "EOF");
  }
  if (avail < n) {
    r->off = r->len;
    return rd_fail(r, "unexpected EOF");
  }
  *p = r->p + r->off;
  r->off += n;
  return 0;
}

static int rd_peek(struct rd *r, uint8_t *c) {
  if (r->off >= r->len || r->p == NULL) {
    return rd_fail(r, "EOF");
  }
  *c = r->p[r->off];
  return 0;
}

static int rd_code(struct rd *r, uint8_t *c) {
  int rv = rd_peek(r, c);

  r->off += rv == 0;
  return rv;
}

/* A big-endian unsigned integer of @p n bytes. */
static int rd_be(struct rd *r, size_t n, uint64_t *out) {
  const uint8_t *p = NULL;
  size_t i;

  if (rd_take(r, n, &p) != 0) {
    return -1;
  }
  *out = 0;
  for (i = 0; i < n; i++) {
    *out = *out << 8 | p[i];
  }
  return 0;
}

static bool is_fixnum(uint8_t c) {
  return c <= 0x7f || c >= 0xe0;
}
static bool is_ext(uint8_t c) {
  return (c >= 0xd4 && c <= 0xd8) || (c >= 0xc7 && c <= 0xc9);
}

/* Decoder.bytesLen: -1 for nil. */
static int rd_bytes_len(struct rd *r, uint8_t c, int64_t *n) {
  uint64_t u = 0;
  int rv;

  if (c == 0xc0) {
    *n = -1;
    return 0;
  }
  if (c >= 0xa0 && c <= 0xbf) {
    *n = c & 0x1f;
    return 0;
  }
  switch (c) {
  case 0xd9:
  case 0xc4:
    rv = rd_be(r, 1, &u);
    break;
  case 0xda:
  case 0xc5:
    rv = rd_be(r, 2, &u);
    break;
  case 0xdb:
  case 0xc6:
    rv = rd_be(r, 4, &u);
    break;
  default:
    return rd_fail(r, "msgpack: invalid code=%x decoding string/bytes length",
                   c);
  }
  *n = (int64_t)u;
  return rv;
}

/* Decoder.DecodeString / DecodeBytes: the bytes in place (nil is ""). */
static int rd_string(struct rd *r, const char **s, size_t *len) {
  uint8_t c = 0;
  int64_t n = 0;
  const uint8_t *p = NULL;

  if (rd_code(r, &c) != 0 || rd_bytes_len(r, c, &n) != 0) {
    return -1;
  }
  if (n <= 0) {
    *s = "";
    *len = 0;
    return 0;
  }
  if (rd_take(r, (size_t)n, &p) != 0) {
    return -1;
  }
  *s = (const char *)p;
  *len = (size_t)n;
  return 0;
}

/* DecodeArrayLen (@p map 0) or DecodeMapLen: -1 for nil. */
static int rd_len(struct rd *r, int map, int64_t *n) {
  uint8_t c = 0;
  uint64_t u = 0;

  if (rd_code(r, &c) != 0) {
    return -1;
  }
  if (c == 0xc0) {
    *n = -1;
    return 0;
  }
  if ((!map && c >= 0x90 && c <= 0x9f) || (map && c >= 0x80 && c <= 0x8f)) {
    *n = c & 0x0f;
    return 0;
  }
  if (c == (map ? 0xde : 0xdc) || c == (map ? 0xdf : 0xdd)) {
    if (rd_be(r, (c & 1) ? 4 : 2, &u) != 0) {
      return -1;
    }
    *n = (int64_t)u;
    return 0;
  }
  return rd_fail(r, "msgpack: invalid code=%x decoding %s length", c,
                 map ? "map" : "array");
}

/* Decoder.int / uint after the code: nil is 0; @p is_signed says whether
 * the code was a signed form (int8..int64, negative fixint). */
static int rd_int_body(struct rd *r, uint8_t c, uint64_t *u, bool *is_signed) {
  static const uint8_t sizes[] = {1, 2, 4, 8};

  *is_signed = false;
  if (c == 0xc0) {
    *u = 0;
    return 0;
  }
  if (is_fixnum(c)) {
    *is_signed = c >= 0xe0;
    *u = c >= 0xe0 ? (uint64_t)(int64_t)(int8_t)c : c;
    return 0;
  }
  if (c >= 0xcc && c <= 0xcf) {
    return rd_be(r, sizes[c - 0xcc], u);
  }
  if (c >= 0xd0 && c <= 0xd3) {
    size_t n = sizes[c - 0xd0];
    if (rd_be(r, n, u) != 0) {
      return -1;
    }
    if (n > 0 && n < 8 && (*u >> (n * 8 - 1)) != 0) {
      *u |= ~(uint64_t)0 << (n * 8); /* sign-extend */
    }
    *is_signed = true;
    return 0;
  }
  return rd_fail(r, "msgpack: invalid code=%x decoding int64", c);
}

/* DecodeInt64 */
static int rd_int64(struct rd *r, int64_t *out) {
  uint8_t c = 0;
  uint64_t u = 0;
  bool s;

  if (rd_code(r, &c) != 0 || rd_int_body(r, c, &u, &s) != 0) {
    return -1;
  }
  *out = (int64_t)u;
  return 0;
}

/* DecodeBool */
static int rd_bool(struct rd *r, bool *out) {
  uint8_t c = 0;

  if (rd_code(r, &c) != 0) {
    return -1;
  }
  if (c != 0xc2 && c != 0xc3) {
    return rd_fail(r, "msgpack: invalid code=%x decoding bool", c);
  }
  *out = c == 0xc3;
  return 0;
}

/* DecodeExtHeader */
static int rd_ext_header(struct rd *r, int8_t *type, uint64_t *len) {
  uint8_t c = 0, t = 0;

  if (rd_code(r, &c) != 0) {
    return -1;
  }
  if (c >= 0xd4 && c <= 0xd8) {
    *len = (uint64_t)1 << (c - 0xd4);
  } else if (c >= 0xc7 && c <= 0xc9) {
    static const uint8_t sizes[] = {1, 2, 4};
    if (rd_be(r, sizes[c - 0xc7], len) != 0) {
      return -1;
    }
  } else {
    return rd_fail(r, "msgpack: invalid code=%x decoding ext len", c);
  }
  if (rd_code(r, &t) != 0) {
    return -1;
  }
  *type = (int8_t)t;
  return 0;
}

/* ---- go-cty's unmarshal ------------------------------------------------ */

struct dec {
  soupc_status *st;
};

static int dec_err(soupc_status *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int dec_err(soupc_status *st, const char *fmt, ...) {
  char msg[400];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT, "%s", msg);
  return SOUPC_ERR_CTY_DECODE;
}

/* path.NewError(err): the reader's own text. */
static int raw_err(const struct rd *r, soupc_status *st) {
  return dec_err(st, "%s", r->err);
}

static int unmarshal(struct soupc_cty_value **out,
                     const struct soupc_cty_type *ty, struct rd *r,
                     soupc_status *st, int depth);

/* utf8.ValidString */
static bool utf8_valid(const char *s, size_t len) {
  size_t i, sz;

  for (i = 0; i < len; i += sz) {
    if (soupc__cty_utf8_decode((const uint8_t *)s + i, len - i, &sz) < 0) {
      return false;
    }
  }
  return true;
}

/* unmarshalPrimitive for cty.Number. */
static int unmarshal_number(struct soupc_cty_value **out, struct rd *r,
                            uint8_t peek, soupc_status *st) {
  struct soupc_cty_value *v = NULL;
  struct cty_num *n;
  int rv = soupc__cty_val_number(&v, &n);

  if (rv != 0) {
    return rv;
  }
  if (is_fixnum(peek) || (peek >= 0xcc && peek <= 0xd3)) {
    uint8_t c = 0;
    uint64_t u = 0;
    bool is_signed = false;
    /* DecodeInt64 for fixnums and int8..int64, DecodeUint64 for uint8.. */
    if (rd_code(r, &c) != 0 || rd_int_body(r, c, &u, &is_signed) != 0) {
      rv = dec_err(st, "number is required");
    } else if (is_fixnum(peek) || is_signed) {
      soupc__cty_num_set_int64(n, (int64_t)u);
    } else {
      soupc__cty_num_set_uint64(n, u);
    }
  } else if (peek == 0xca || peek == 0xcb) {
    uint64_t u = 0;
    double d;
    r->off++;
    if (rd_be(r, peek == 0xca ? 4 : 8, &u) != 0) {
      rv = dec_err(st, "number is required");
    } else {
      if (peek == 0xca) {
        uint32_t b32 = (uint32_t)u;
        float f;
        memcpy(&f, &b32, sizeof(f));
        d = (double)f;
      } else {
        memcpy(&d, &u, sizeof(d));
      }
      if (isnan(d)) { /* cty.NumberFloatVal panics in big.Float */
        rv = soupc__cty_panic(st, "Float.SetFloat64(NaN)");
      } else {
        soupc__cty_num_set_double(n, d);
      }
    }
  } else {
    const char *s = NULL, *why = NULL;
    size_t len = 0;
    if (rd_string(r, &s, &len) != 0 ||
        soupc__cty_num_parse(n, s, len, &why) != 0) {
      rv = dec_err(st, "number is required");
    }
  }
  if (rv != 0) {
    soupc_cty_value_free(v);
    return rv;
  }
  *out = v;
  return 0;
}

/* A growable array of decoded elements, sized by what the input can hold
 * (every element takes at least one byte), never by a declared count. */
struct items {
  struct soupc_cty_value **v;
  char **keys;
  size_t *key_lens;
  size_t n;
  size_t cap;
};

static void items_dispose(struct items *it) {
  size_t i;

  for (i = 0; i < it->n; i++) {
    soupc_cty_value_free(it->v[i]);
    if (it->keys != NULL) {
      soupc__free(it->keys[i]);
    }
  }
  soupc__free(it->v);
  soupc__free(it->keys);
  soupc__free(it->key_lens);
  memset(it, 0, sizeof(*it));
}

static int items_init(struct items *it, int64_t n, const struct rd *r,
                      bool keyed) {
  size_t cap = (size_t)n < r->len - r->off ? (size_t)n : r->len - r->off;

  memset(it, 0, sizeof(*it));
  it->cap = cap + 1;
  it->v = soupc__calloc(it->cap, sizeof(*it->v));
  if (keyed) {
    it->keys = soupc__calloc(it->cap, sizeof(*it->keys));
    it->key_lens = soupc__calloc(it->cap, sizeof(*it->key_lens));
  }
  if (it->v == NULL || (keyed && (it->keys == NULL || it->key_lens == NULL))) {
    items_dispose(it);
    return SOUPC_ERR_NOMEM;
  }
  return 0;
}

/* Makes room for one more element. */
static int items_grow(struct items *it) {
  size_t cap = it->cap * 2;
  void *nv;

  if (it->n + 1 < it->cap) {
    return 0;
  }
  nv = soupc__realloc(it->v, cap * sizeof(*it->v));
  if (nv == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  it->v = nv;
  if (it->keys != NULL) {
    nv = soupc__realloc(it->keys, cap * sizeof(*it->keys));
    if (nv == NULL) {
      return SOUPC_ERR_NOMEM;
    }
    it->keys = nv;
    nv = soupc__realloc(it->key_lens, cap * sizeof(*it->key_lens));
    if (nv == NULL) {
      return SOUPC_ERR_NOMEM;
    }
    it->key_lens = nv;
  }
  it->cap = cap;
  return 0;
}

/* unmarshalList, unmarshalSet and unmarshalTuple. */
static int unmarshal_seq(struct soupc_cty_value **out,
                         const struct soupc_cty_type *ty, struct rd *r,
                         soupc_status *st, int depth) {
  static const char *const required[] = {
      [SOUPC_CTY_LIST] = "a list is required",
      [SOUPC_CTY_SET] = "a set is required",
      [SOUPC_CTY_TUPLE] = "a tuple is required"};
  struct items it;
  int64_t n = 0, i;
  int rv;

  if (rd_len(r, 0, &n) != 0) {
    return dec_err(st, "%s", required[ty->kind]);
  }
  if (n < 0) {
    return soupc_cty_value_null(out, ty);
  }
  if (ty->kind == SOUPC_CTY_TUPLE) {
    if (n == 0) {
      return soupc__cty_tuple_val(out, NULL, 0); /* cty.TupleVal(nil) */
    }
    if ((uint64_t)n != ty->n) {
      return dec_err(st, "a tuple of length %zu is required", ty->n);
    }
  }
  rv = items_init(&it, n, r, false);
  for (i = 0; rv == 0 && i < n; i++) {
    rv = items_grow(&it);
    if (rv == 0) {
      rv = unmarshal(&it.v[it.n],
                     ty->kind == SOUPC_CTY_TUPLE ? ty->elems[i] : ty->elem, r,
                     st, depth + 1);
      it.n += rv == 0;
    }
  }
  if (rv != 0) {
    items_dispose(&it);
    return rv;
  }
  if (ty->kind == SOUPC_CTY_TUPLE) {
    return soupc__cty_val_tuple(out, ty, it.v, it.n, st);
  }
  return soupc__cty_val_list(out, ty->kind, ty, it.v, it.n, st);
}

/* unmarshalMap. A key that is not a string is go-cty's quirk: the error it
 * builds is dropped, and the key reads as "" (spec §2.8). */
static int unmarshal_map(struct soupc_cty_value **out,
                         const struct soupc_cty_type *ty, struct rd *r,
                         soupc_status *st, int depth) {
  struct items it;
  int64_t n = 0, i;
  int rv;

  if (rd_len(r, 1, &n) != 0) {
    return dec_err(st, "a map is required");
  }
  if (n < 0) {
    return soupc_cty_value_null(out, ty);
  }
  rv = items_init(&it, n, r, true);
  for (i = 0; rv == 0 && i < n; i++) {
    const char *k = "";
    size_t klen = 0;
    rv = items_grow(&it);
    if (rv != 0) {
      break;
    }
    if (rd_string(r, &k, &klen) != 0) {
      k = "";
      klen = 0;
    }
    it.keys[it.n] = soupc__cty_nfc(k, klen, &it.key_lens[it.n]);
    if (it.keys[it.n] == NULL) {
      rv = SOUPC_ERR_NOMEM;
      break;
    }
    rv = unmarshal(&it.v[it.n], ty->elem, r, st, depth + 1);
    if (rv != 0) {
      soupc__free(it.keys[it.n]);
      it.keys[it.n] = NULL;
    }
    it.n += rv == 0;
  }
  if (rv != 0) {
    items_dispose(&it);
    return rv;
  }
  return soupc__cty_val_map(out, ty, it.keys, it.key_lens, it.v, it.n, st);
}

/* cty.ObjectVal of the attributes given when a key repeated (fewer than
 * the type has). Takes @p items. */
static int partial_object(struct soupc_cty_value **out,
                          const struct soupc_cty_type *ty,
                          struct soupc_cty_value **items) {
  char **names = soupc__calloc(ty->n + 1, sizeof(*names));
  size_t *lens = soupc__calloc(ty->n + 1, sizeof(*lens));
  size_t i, m = 0;
  int rv = names == NULL || lens == NULL ? SOUPC_ERR_NOMEM : 0;

  for (i = 0; rv == 0 && i < ty->n; i++) {
    if (items[i] == NULL) {
      continue;
    }
    names[m] = soupc__strndup(ty->names[i], ty->name_lens[i]);
    lens[m] = ty->name_lens[i];
    items[m] = items[i];
    if (m != i) {
      items[i] = NULL;
    }
    rv = names[m] == NULL ? SOUPC_ERR_NOMEM : 0;
    m++;
  }
  if (rv == 0) {
    return soupc__cty_object_val(out, names, lens, items, m);
  }
  for (i = 0; i < ty->n; i++) {
    soupc_cty_value_free(items[i]);
    if (names != NULL && i < m) {
      soupc__free(names[i]);
    }
  }
  soupc__free(items);
  soupc__free(names);
  soupc__free(lens);
  return rv;
}

/* unmarshalObject. */
static int unmarshal_object(struct soupc_cty_value **out,
                            const struct soupc_cty_type *ty, struct rd *r,
                            soupc_status *st, int depth) {
  struct soupc_cty_value **items;
  int64_t n = 0, i;
  size_t k;
  int rv = 0;

  if (rd_len(r, 1, &n) != 0) {
    return dec_err(st, "an object is required");
  }
  if (n < 0) {
    return soupc_cty_value_null(out, ty);
  }
  if (n == 0) {
    return soupc__cty_object_val(out, NULL, NULL, NULL, 0); /* EmptyObject */
  }
  if ((uint64_t)n != ty->n) {
    return dec_err(st, "an object with %zu attributes is required (%lld given)",
                   ty->n, (long long)n);
  }
  items = soupc__calloc(ty->n + 1, sizeof(*items));
  if (items == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  for (i = 0; rv == 0 && i < n; i++) {
    const char *key = NULL;
    size_t klen = 0;
    struct soupc_cty_value *v = NULL;
    long idx;
    if (rd_string(r, &key, &klen) != 0) {
      rv = dec_err(st, "all keys must be strings");
      break;
    }
    idx = soupc__cty_type_attr(ty, key, klen);
    if (idx < 0) {
      rv = dec_err(st, "unsupported attribute");
      break;
    }
    rv = unmarshal(&v, ty->elems[idx], r, st, depth + 1);
    if (rv == 0) {
      soupc_cty_value_free(items[idx]);
      items[idx] = v;
    }
  }
  if (rv != 0) {
    for (k = 0; k < ty->n; k++) {
      soupc_cty_value_free(items[k]);
    }
    soupc__free(items);
    return rv;
  }
  for (k = 0; k < ty->n && items[k] != NULL; k++) {
  }
  if (k < ty->n) {
    return partial_object(out, ty, items);
  }
  return soupc__cty_val_object(out, ty, items, st);
}

/* unmarshalDynamic: [type JSON, value]; the reader's errors are raw. */
static int unmarshal_dynamic(struct soupc_cty_value **out, struct rd *r,
                             soupc_status *st, int depth) {
  struct soupc_cty_type *t = NULL;
  const char *tj = NULL;
  size_t tlen = 0;
  int64_t n = 0;
  int rv;

  if (rd_len(r, 0, &n) != 0) {
    return raw_err(r, st);
  }
  if (n == -1) {
    return soupc_cty_value_null(out, soupc__cty_type_prim(SOUPC_CTY_DYNAMIC));
  }
  if (n != 2) {
    return dec_err(st, "dynamic value array must have exactly two elements");
  }
  if (rd_string(r, &tj, &tlen) != 0) {
    return raw_err(r, st);
  }
  rv = soupc__cty_type_unmarshal_json(&t, tj, tlen, st);
  if (rv != 0) {
    return rv == SOUPC_ERR_NOMEM || rv == SOUPC_ERR_CTY_PANIC
               ? rv
               : SOUPC_ERR_CTY_DECODE;
  }
  rv = unmarshal(out, t, r, st, depth + 1);
  soupc_cty_type_free(t);
  return rv;
}

#define RFN "failed to decode msgpack extension body: "

/* A numeric bound: unmarshal as tuple([number, bool]), then go-cty's
 * checks. @return 0, or a decode error or panic */
static int refine_bound(soupc_cty_refiner *b, int64_t key, struct rd *body,
                        soupc_status *st, int depth) {
  struct soupc_cty_type *bt = NULL, *elems[2];
  struct soupc_cty_value *raw = NULL;
  soupc_status ignored;
  int rv;

  elems[0] = soupc__cty_type_prim(SOUPC_CTY_NUMBER);
  elems[1] = soupc__cty_type_prim(SOUPC_CTY_BOOL);
  rv = soupc__cty_type_new_tuple(&bt, elems, 2);
  if (rv != 0) {
    return rv;
  }
  soupc_status_clear(&ignored);
  rv = unmarshal(&raw, bt, body, &ignored, depth + 1);
  soupc_cty_type_free(bt);
  if (rv == SOUPC_ERR_NOMEM || rv == SOUPC_ERR_CTY_PANIC) {
    *st = ignored;
    return rv;
  }
  if (rv == 0 && cty_is_known(raw) && !cty_is_null(raw) && raw->u.c.n == 0) {
    soupc_cty_value_free(raw); /* rawBound.Index(cty.Zero) of TupleVal(nil) */
    return soupc__cty_panic(st, "runtime error: index out of range [0] with "
                                "length 0");
  }
  if (rv != 0 || !cty_is_known(raw) || cty_is_null(raw) ||
      !cty_is_known(raw->u.c.items[0]) || cty_is_null(raw->u.c.items[0]) ||
      !cty_is_known(raw->u.c.items[1]) || cty_is_null(raw->u.c.items[1])) {
    soupc_cty_value_free(raw);
    return dec_err(st, RFN "length bound refinement must be [number, bool] "
                           "array");
  }
  if (key == 3) {
    soupc_cty_refine_number_lower_bound(b, raw->u.c.items[0],
                                        raw->u.c.items[1]->u.b);
  } else {
    soupc_cty_refine_number_upper_bound(b, raw->u.c.items[0],
                                        raw->u.c.items[1]->u.b);
  }
  soupc_cty_value_free(raw);
  return 0;
}

/* One refinement entry of key @p key (1..6), read from @p body. */
static int refine_entry(soupc_cty_refiner *b, const struct soupc_cty_type *ty,
                        int64_t key, struct rd *body, soupc_status *st,
                        int depth) {
  switch (key) {
  case 1: {
    bool is_null = false;
    if (rd_bool(body, &is_null) != 0) {
      return dec_err(st, RFN "null refinement is not boolean");
    }
    if (is_null) {
      soupc_cty_refine_null(b);
    } else {
      soupc_cty_refine_not_null(b);
    }
    return 0;
  }
  case 2: {
    const char *s = NULL;
    size_t len = 0;
    if (ty->kind != SOUPC_CTY_STRING) {
      return dec_err(st, RFN "string prefix refinement for non-string type");
    }
    if (rd_string(body, &s, &len) != 0) {
      return dec_err(st, RFN "string prefix refinement is not string");
    }
    if (!utf8_valid(s, len)) {
      return dec_err(st, RFN "string prefix refinement is not valid UTF-8");
    }
    soupc_cty_refine_string_prefix_full(b, s, len);
    return 0;
  }
  case 5:
  case 6: {
    int64_t n = 0;
    if (!cty_kind_is_coll(ty->kind)) {
      return dec_err(st, RFN "length lower bound refinement for "
                             "non-collection type");
    }
    if (rd_int64(body, &n) != 0) {
      return dec_err(st, RFN "length bound refinement must be integer or "
                             "[integer, bool] array");
    }
    if (key == 5) {
      soupc_cty_refine_collection_length_lower_bound(b, n);
    } else {
      soupc_cty_refine_collection_length_upper_bound(b, n);
    }
    return 0;
  }
  default: /* 3, 4 */
    if (ty->kind != SOUPC_CTY_NUMBER) {
      return dec_err(st, RFN "numeric bound refinement for non-number type");
    }
    return refine_bound(b, key, body, st, depth);
  }
}

/* unmarshalUnknownValue: any extension is an unknown; type 0x0c carries a
 * refinement map, applied through the RefinementBuilder. Entries are read
 * one item at a time as go-cty does: the value of a key it does not know
 * is not skipped, so it is read as the next key. A refinement go-cty
 * would panic on ends the loop there, as the panic would. */
static int unmarshal_unknown(struct soupc_cty_value **out,
                             const struct soupc_cty_type *ty, struct rd *r,
                             soupc_status *st, int depth) {
  struct soupc_cty_value *unk = NULL, *tmp = NULL;
  soupc_cty_refiner *b = NULL;
  struct rd body;
  const uint8_t *p = NULL;
  int8_t type = 0;
  uint64_t len = 0;
  int64_t entries = 0, i;
  int rv;

  if (rd_ext_header(r, &type, &len) != 0) {
    return dec_err(st, "extension code is required for unknown value");
  }
  if (len <= 1) {
    if (len > 0 && rd_take(r, (size_t)len, &p) != 0) {
      return dec_err(st, "failed to read msgpack extension body: %s", r->err);
    }
    return soupc_cty_value_unknown(out, ty);
  }
  if (type != 0x0c) {
    /* Go's %02x of an int8: "-1" for 0xff */
    return dec_err(st,
                   type < 0 ? "unsupported extension type 0x-%x with len %llu"
                            : "unsupported extension type 0x%02x with len %llu",
                   type < 0 ? -(int)type : (int)type, (unsigned long long)len);
  }
  if (len > 1024) {
    return dec_err(st, "oversize unknown value refinement");
  }
  if (rd_take(r, (size_t)len, &p) != 0) {
    return dec_err(st, "failed to read msgpack extension body: %s", r->err);
  }
  memset(&body, 0, sizeof(body));
  body.p = p;
  body.len = (size_t)len;
  if (rd_len(&body, 1, &entries) != 0) {
    return dec_err(st, RFN "not a map");
  }
  if (ty->kind == SOUPC_CTY_DYNAMIC) {
    return soupc_cty_value_unknown(out, ty);
  }
  rv = soupc_cty_value_unknown(&unk, ty);
  if (rv == 0) {
    rv = soupc_cty_refine_begin(&b, unk);
  }
  soupc_cty_value_free(unk);
  if (rv != 0) {
    return rv;
  }
  for (i = 0; rv == 0 && i < entries && !soupc__cty_refine_failed(b); i++) {
    int64_t key = 0;
    if (rd_int64(&body, &key) != 0) {
      rv = dec_err(st, RFN "non-integer key in map");
    } else if (key >= 1 && key <= 6) {
      rv = refine_entry(b, ty, key, &body, st, depth);
    }
  }
  if (rv != 0) {
    soupc_cty_refine_finish(&tmp, b, NULL);
    soupc_cty_value_free(tmp);
    return rv;
  }
  return soupc_cty_refine_finish(out, b, st);
}

#undef RFN

/* go-cty's unmarshal(dec, ty, path). */
static int unmarshal(struct soupc_cty_value **out,
                     const struct soupc_cty_type *ty, struct rd *r,
                     soupc_status *st, int depth) {
  uint8_t peek = 0;

  if (depth > CTY_MAX_DEPTH) {
    return dec_err(st, "msgpack value nests deeper than %d levels",
                   CTY_MAX_DEPTH);
  }
  if (rd_peek(r, &peek) != 0) {
    return raw_err(r, st);
  }
  if (is_ext(peek)) {
    return unmarshal_unknown(out, ty, r, st, depth);
  }
  if (ty->kind == SOUPC_CTY_DYNAMIC) {
    return unmarshal_dynamic(out, r, st, depth);
  }
  if (peek == 0xc0) {
    r->off++;
    return soupc_cty_value_null(out, ty);
  }
  switch (ty->kind) {
  case SOUPC_CTY_BOOL: {
    bool b = false;
    if (rd_bool(r, &b) != 0) {
      return dec_err(st, "bool is required");
    }
    *out = soupc__cty_bool_val(b);
    return 0;
  }
  case SOUPC_CTY_NUMBER:
    return unmarshal_number(out, r, peek, st);
  case SOUPC_CTY_STRING: {
    const char *s = NULL;
    size_t len = 0;
    if (rd_string(r, &s, &len) != 0) {
      return dec_err(st, "string is required");
    }
    return soupc__cty_val_string(out, s, len);
  }
  case SOUPC_CTY_LIST:
  case SOUPC_CTY_SET:
  case SOUPC_CTY_TUPLE:
    return unmarshal_seq(out, ty, r, st, depth);
  case SOUPC_CTY_MAP:
    return unmarshal_map(out, ty, r, st, depth);
  case SOUPC_CTY_OBJECT:
    return unmarshal_object(out, ty, r, st, depth);
  case SOUPC_CTY_CAPSULE:
    return dec_err(st, "unsupported type %s", ty->cap->name);
  case SOUPC_CTY_DYNAMIC:
    break;
  }
  return dec_err(st, "unsupported type");
}

int soupc_cty_msgpack_decode(soupc_cty_value **out, const soupc_cty_type *ty,
                             const uint8_t *buf, size_t len, soupc_status *st) {
  struct rd r;

  memset(&r, 0, sizeof(r));
  r.p = buf != NULL ? buf : (const uint8_t *)"";
  r.len = buf != NULL ? len : 0;
  /* trailing bytes after the first value are ignored, as go-cty does */
  return unmarshal(out, ty, &r, st, 0);
}
