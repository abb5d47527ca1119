/* go-cty msgpack.Unmarshal (spec §2.7, §2.8) on msgpack-c's unpacker. */
#include "cty/cty_int.h"

#include "base/alloc.h"

#include <msgpack.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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

/* Structural pre-check of one msgpack object: every declared length and
 * element count must fit in the bytes that remain, so msgpack-c never
 * allocates for a count that the input cannot hold (a 5-byte "dd ffffffff"
 * would otherwise ask for 4G objects). Also bounds nesting. */
static int precheck(const uint8_t *p, size_t len, size_t *off, int depth) {
  uint8_t c;
  uint64_t n = 0, items = 0, skip = 0;
  size_t need;
  uint64_t i;

  if (depth > CTY_MAX_DEPTH || *off >= len) {
    return -1;
  }
  c = p[(*off)++];
#define NEED(k)                                                                \
  do {                                                                         \
    if (len - *off < (k)) {                                                    \
      return -1;                                                               \
    }                                                                          \
  } while (0)
#define BE(k)                                                                  \
  do {                                                                         \
    NEED(k);                                                                   \
    n = 0;                                                                     \
    for (i = 0; i < (k); i++) {                                                \
      n = (n << 8) | p[*off + i];                                              \
    }                                                                          \
    *off += (k);                                                               \
  } while (0)
  if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3) {
    return 0;
  }
  if ((c & 0xe0) == 0xa0) {
    skip = c & 0x1f;
  } else if ((c & 0xf0) == 0x90) {
    items = c & 0x0f;
  } else if ((c & 0xf0) == 0x80) {
    items = (uint64_t)(c & 0x0f) * 2;
  } else {
    switch (c) {
    case 0xcc:
    case 0xd0:
      skip = 1;
      break;
    case 0xcd:
    case 0xd1:
      skip = 2;
      break;
    case 0xca:
    case 0xce:
    case 0xd2:
      skip = 4;
      break;
    case 0xcb:
    case 0xcf:
    case 0xd3:
      skip = 8;
      break;
    case 0xc4:
    case 0xd9:
      BE(1);
      skip = n;
      break;
    case 0xc5:
    case 0xda:
      BE(2);
      skip = n;
      break;
    case 0xc6:
    case 0xdb:
      BE(4);
      skip = n;
      break;
    case 0xd4:
      skip = 2;
      break;
    case 0xd5:
      skip = 3;
      break;
    case 0xd6:
      skip = 5;
      break;
    case 0xd7:
      skip = 9;
      break;
    case 0xd8:
      skip = 17;
      break;
    case 0xc7:
      BE(1);
      skip = n + 1;
      break;
    case 0xc8:
      BE(2);
      skip = n + 1;
      break;
    case 0xc9:
      BE(4);
      skip = n + 1;
      break;
    case 0xdc:
      BE(2);
      items = n;
      break;
    case 0xdd:
      BE(4);
      items = n;
      break;
    case 0xde:
      BE(2);
      items = n * 2;
      break;
    case 0xdf:
      BE(4);
      items = n * 2;
      break;
    default: /* 0xc1 is never used */
      return -1;
    }
  }
  need = (size_t)skip;
  NEED(need);
  *off += need;
  if (items > len - *off) {
    return -1;
  }
  for (i = 0; i < items; i++) {
    if (precheck(p, len, off, depth + 1) != 0) {
      return -1;
    }
  }
  return 0;
#undef NEED
#undef BE
}

static int decode(struct soupc_cty_value **out, const struct soupc_cty_type *ty,
                  const msgpack_object *o, soupc_status *st, int depth);

static int obj_string(char **s_out, size_t *len_out, const msgpack_object *o) {
  if (o->type == MSGPACK_OBJECT_STR) {
    *s_out = soupc__cty_nfc(o->via.str.ptr, o->via.str.size, len_out);
  } else {
    *s_out = soupc__cty_nfc(o->via.bin.ptr, o->via.bin.size, len_out);
  }
  return *s_out == NULL ? SOUPC_ERR_NOMEM : 0;
}

static bool is_stringish(const msgpack_object *o) {
  return o->type == MSGPACK_OBJECT_STR || o->type == MSGPACK_OBJECT_BIN;
}

/* utf8.ValidString */
static bool utf8_valid(const char *s, size_t len) {
  char *fixed;
  size_t fl = 0;
  bool ok;

  fixed = soupc__cty_go_utf8(s, len, &fl);
  if (fixed == NULL) {
    return false;
  }
  ok = fl == len && (len == 0 || memcmp(fixed, s, len) == 0);
  soupc__free(fixed);
  return ok;
}

static int decode_number(struct cty_num *num, const msgpack_object *o) {
  const char *why;

  switch (o->type) {
  case MSGPACK_OBJECT_POSITIVE_INTEGER:
    soupc__cty_num_set_uint64(num, o->via.u64);
    return 0;
  case MSGPACK_OBJECT_NEGATIVE_INTEGER:
    soupc__cty_num_set_int64(num, o->via.i64);
    return 0;
  case MSGPACK_OBJECT_FLOAT32:
  case MSGPACK_OBJECT_FLOAT64:
    if (o->via.f64 != o->via.f64) {
      return -2; /* go-cty panics in Float.SetFloat64(NaN) */
    }
    soupc__cty_num_set_double(num, o->via.f64);
    return 0;
  case MSGPACK_OBJECT_STR:
  case MSGPACK_OBJECT_BIN:
    return soupc__cty_num_parse(num, o->via.str.ptr, o->via.str.size, &why);
  default:
    return -1;
  }
}

/* unmarshalUnknownValue (unknown.go): any ext is an unknown; ext type
 * 0x0c carries a refinement map, applied through the RefinementBuilder
 * (which can pin the value down, or panic on a contradiction). Entries
 * are read one object at a time as go-cty does: the value of a key it does
 * not know is not skipped, so it is read as the next key. */
static int decode_unknown(struct soupc_cty_value **out,
                          const struct soupc_cty_type *ty,
                          const msgpack_object *o, soupc_status *st) {
  struct soupc_cty_value *unk = NULL;
  soupc_cty_refiner *b = NULL;
  msgpack_unpacked up;
  const char *body = o->via.ext.ptr;
  size_t blen = o->via.ext.size, off = 0, i, entries;
  const char *pre = "failed to decode msgpack extension body";
  int rv;

  if (o->via.ext.size <= 1) {
    return soupc_cty_value_unknown(out, ty);
  }
  if (o->via.ext.type != 0x0c) {
    return dec_err(st, "unsupported extension type 0x%02x with len %u",
                   (unsigned)(uint8_t)o->via.ext.type, o->via.ext.size);
  }
  if (o->via.ext.size > 1024) {
    return dec_err(st, "oversize unknown value refinement");
  }
  /* DecodeMapLen on the first byte */
  {
    uint8_t c = (uint8_t)body[0];
    if ((c & 0xf0) == 0x80) {
      entries = c & 0x0f;
      off = 1;
    } else if (c == 0xde && blen >= 3) {
      entries = (size_t)((uint8_t)body[1]) << 8 | (uint8_t)body[2];
      off = 3;
    } else if (c == 0xdf && blen >= 5) {
      entries = (size_t)((uint8_t)body[1]) << 24 |
                (size_t)((uint8_t)body[2]) << 16 |
                (size_t)((uint8_t)body[3]) << 8 | (uint8_t)body[4];
      off = 5;
    } else if (c == 0xc0) {
      entries = 0;
      off = 1;
    } else {
      return dec_err(st, "%s: not a map", pre);
    }
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
  msgpack_unpacked_init(&up);
  for (i = 0; i < entries && rv == 0; i++) {
    int64_t key;
    const msgpack_object *x;
    if (msgpack_unpack_next(&up, body, blen, &off) < 0 ||
        (up.data.type != MSGPACK_OBJECT_POSITIVE_INTEGER &&
         up.data.type != MSGPACK_OBJECT_NEGATIVE_INTEGER)) {
      rv = dec_err(st, "%s: non-integer key in map", pre);
      break;
    }
    key = up.data.type == MSGPACK_OBJECT_POSITIVE_INTEGER
              ? (up.data.via.u64 > 100 ? 100 : (int64_t)up.data.via.u64)
              : -1;
    if (key < 1 || key > 6) {
      continue; /* the value stays to be read as the next key */
    }
    if (key == 2 && ty->kind != SOUPC_CTY_STRING) {
      rv = dec_err(st, "%s: string prefix refinement for non-string type", pre);
      break;
    }
    if ((key == 5 || key == 6) && !cty_kind_is_coll(ty->kind)) {
      rv = dec_err(
          st, "%s: length lower bound refinement for non-collection type", pre);
      break;
    }
    if ((key == 3 || key == 4) && ty->kind != SOUPC_CTY_NUMBER) {
      rv = dec_err(st, "%s: numeric bound refinement for non-number type", pre);
      break;
    }
    if (msgpack_unpack_next(&up, body, blen, &off) < 0) {
      rv = dec_err(st, "%s: %s", pre,
                   key == 1   ? "null refinement is not boolean"
                   : key == 2 ? "string prefix refinement is not string"
                   : key >= 5 ? "length bound refinement must be integer or "
                                "[integer, bool] array"
                              : "length bound refinement must be [number, "
                                "bool] array");
      break;
    }
    x = &up.data;
    switch (key) {
    case 1:
      if (x->type != MSGPACK_OBJECT_BOOLEAN) {
        rv = dec_err(st, "%s: null refinement is not boolean", pre);
      } else if (x->via.boolean) {
        soupc_cty_refine_null(b);
      } else {
        soupc_cty_refine_not_null(b);
      }
      break;
    case 2:
      if (!is_stringish(x)) {
        rv = dec_err(st, "%s: string prefix refinement is not string", pre);
      } else if (!utf8_valid(x->via.str.ptr, x->via.str.size)) {
        rv =
            dec_err(st, "%s: string prefix refinement is not valid UTF-8", pre);
      } else {
        soupc_cty_refine_string_prefix_full(b, x->via.str.ptr, x->via.str.size);
      }
      break;
    case 3:
    case 4: {
      /* unmarshal as tuple([number, bool]) */
      struct soupc_cty_value *num = NULL;
      bool ok = x->type == MSGPACK_OBJECT_ARRAY && x->via.array.size == 2 &&
                x->via.array.ptr[1].type == MSGPACK_OBJECT_BOOLEAN &&
                x->via.array.ptr[0].type != MSGPACK_OBJECT_NIL &&
                x->via.array.ptr[0].type != MSGPACK_OBJECT_EXT;
      if (ok) {
        struct cty_num *n;
        rv = soupc__cty_val_number(&num, &n);
        if (rv != 0) {
          break;
        }
        ok = decode_number(n, &x->via.array.ptr[0]) == 0;
      }
      if (!ok) {
        soupc_cty_value_free(num);
        rv = dec_err(st,
                     "%s: length bound refinement must be [number, bool] "
                     "array",
                     pre);
        break;
      }
      if (key == 3) {
        soupc_cty_refine_number_lower_bound(b, num,
                                            x->via.array.ptr[1].via.boolean);
      } else {
        soupc_cty_refine_number_upper_bound(b, num,
                                            x->via.array.ptr[1].via.boolean);
      }
      soupc_cty_value_free(num);
      break;
    }
    default: /* 5, 6 */
      if (x->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
          x->via.u64 <= (uint64_t)INT64_MAX) {
        int64_t n = (int64_t)x->via.u64;
        if (key == 5) {
          soupc_cty_refine_collection_length_lower_bound(b, n);
        } else {
          soupc_cty_refine_collection_length_upper_bound(b, n);
        }
      } else if (x->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        if (key == 5) {
          soupc_cty_refine_collection_length_lower_bound(b, x->via.i64);
        } else {
          soupc_cty_refine_collection_length_upper_bound(b, x->via.i64);
        }
      } else {
        rv = dec_err(st,
                     "%s: length bound refinement must be integer or [integer, "
                     "bool] array",
                     pre);
      }
      break;
    }
  }
  msgpack_unpacked_destroy(&up);
  if (rv != 0) {
    struct soupc_cty_value *tmp = NULL;
    soupc_cty_refine_finish(&tmp, b, NULL);
    soupc_cty_value_free(tmp);
    return rv;
  }
  return soupc_cty_refine_finish(out, b, st);
}

static int decode_items(struct soupc_cty_value ***items_out,
                        const struct soupc_cty_type *ty,
                        const msgpack_object *o, soupc_status *st, int depth) {
  size_t n = o->via.array.size, i;
  struct soupc_cty_value **items = soupc__calloc(n + 1, sizeof(*items));
  int rv;

  if (items == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  for (i = 0; i < n; i++) {
    rv =
        decode(&items[i], ty->kind == SOUPC_CTY_TUPLE ? ty->elems[i] : ty->elem,
               &o->via.array.ptr[i], st, depth + 1);
    if (rv != 0) {
      while (i > 0) {
        soupc_cty_value_free(items[--i]);
      }
      soupc__free(items);
      return rv;
    }
  }
  *items_out = items;
  return 0;
}

static int empty_struct(struct soupc_cty_value **out, soupc_cty_kind kind) {
  struct soupc_cty_type *t = NULL;
  struct soupc_cty_value *v;
  int rv = kind == SOUPC_CTY_TUPLE
               ? soupc__cty_type_new_tuple(&t, NULL, 0)
               : soupc__cty_type_new_object(&t, NULL, NULL, NULL, NULL, 0);

  if (rv != 0) {
    return rv;
  }
  v = soupc__cty_val_alloc(t, 0);
  if (v == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  *out = v;
  return 0;
}

static int decode(struct soupc_cty_value **out, const struct soupc_cty_type *ty,
                  const msgpack_object *o, soupc_status *st, int depth) {
  struct soupc_cty_value **items = NULL;
  size_t i;
  int rv;

  if (depth > CTY_MAX_DEPTH) {
    return dec_err(st, "msgpack value nests too deeply");
  }
  if (o->type == MSGPACK_OBJECT_EXT) {
    return decode_unknown(out, ty, o, st);
  }
  if (ty->kind == SOUPC_CTY_DYNAMIC) {
    struct soupc_cty_type *t = NULL;
    const msgpack_object *tj;
    if (o->type == MSGPACK_OBJECT_NIL) {
      return soupc_cty_value_null(out, ty);
    }
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != 2) {
      return dec_err(st, "dynamic value array must have exactly two "
                         "elements");
    }
    tj = &o->via.array.ptr[0];
    if (!is_stringish(tj)) {
      return dec_err(st, "dynamic value type must be bin or str");
    }
    rv = soupc__cty_type_unmarshal_json(&t, tj->via.str.ptr, tj->via.str.size,
                                        st);
    if (rv != 0) {
      return rv == SOUPC_ERR_NOMEM || rv == SOUPC_ERR_CTY_PANIC
                 ? rv
                 : SOUPC_ERR_CTY_DECODE;
    }
    rv = decode(out, t, &o->via.array.ptr[1], st, depth + 1);
    soupc_cty_type_free(t);
    return rv;
  }
  if (o->type == MSGPACK_OBJECT_NIL) {
    return soupc_cty_value_null(out, ty);
  }
  switch (ty->kind) {
  case SOUPC_CTY_STRING:
    if (!is_stringish(o)) {
      return dec_err(st, "string is required");
    }
    return soupc__cty_val_string(out, o->via.str.size > 0 ? o->via.str.ptr : "",
                                 o->via.str.size);
  case SOUPC_CTY_NUMBER: {
    struct soupc_cty_value *v = NULL;
    rv = soupc_cty_value_number_int(&v, 0);
    if (rv != 0) {
      return rv;
    }
    rv = decode_number(v->u.num, o);
    if (rv != 0) {
      soupc_cty_value_free(v);
      return dec_err(st, rv == -2 ? "number is NaN" : "number is required");
    }
    *out = v;
    return 0;
  }
  case SOUPC_CTY_BOOL:
    if (o->type != MSGPACK_OBJECT_BOOLEAN) {
      return dec_err(st, "bool is required");
    }
    return soupc_cty_value_bool(out, o->via.boolean);
  case SOUPC_CTY_LIST:
  case SOUPC_CTY_SET:
    if (o->type != MSGPACK_OBJECT_ARRAY) {
      return dec_err(st, ty->kind == SOUPC_CTY_LIST ? "a list is required"
                                                    : "a set is required");
    }
    rv = decode_items(&items, ty, o, st, depth);
    if (rv != 0) {
      return rv;
    }
    return soupc__cty_val_list(out, ty->kind, ty, items, o->via.array.size, st);
  case SOUPC_CTY_TUPLE:
    if (o->type != MSGPACK_OBJECT_ARRAY) {
      return dec_err(st, "a tuple is required");
    }
    if (o->via.array.size == 0) {
      return empty_struct(out, SOUPC_CTY_TUPLE); /* go-cty quirk, §2.8 */
    }
    if (o->via.array.size != ty->n) {
      return dec_err(st, "a tuple of length %zu is required", ty->n);
    }
    rv = decode_items(&items, ty, o, st, depth);
    if (rv != 0) {
      return rv;
    }
    return soupc__cty_val_tuple(out, ty, items, ty->n, st);
  case SOUPC_CTY_MAP: {
    size_t n = o->via.map.size;
    char **keys;
    size_t *lens;
    if (o->type != MSGPACK_OBJECT_MAP) {
      return dec_err(st, "a map is required");
    }
    items = soupc__calloc(n + 1, sizeof(*items));
    keys = soupc__calloc(n + 1, sizeof(*keys));
    lens = soupc__calloc(n + 1, sizeof(*lens));
    rv = SOUPC_ERR_NOMEM;
    if (items == NULL || keys == NULL || lens == NULL) {
      goto map_fail;
    }
    for (i = 0; i < n; i++) {
      const msgpack_object *k = &o->via.map.ptr[i].key;
      /* A non-string key silently becomes "" (spec §2.8). */
      if (is_stringish(k)) {
        rv = obj_string(&keys[i], &lens[i], k);
      } else {
        keys[i] = soupc__strndup("", 0);
        lens[i] = 0;
        rv = keys[i] == NULL ? SOUPC_ERR_NOMEM : 0;
      }
      if (rv != 0) {
        goto map_fail;
      }
      rv = decode(&items[i], ty->elem, &o->via.map.ptr[i].val, st, depth + 1);
      if (rv != 0) {
        goto map_fail;
      }
    }
    return soupc__cty_val_map(out, ty, keys, lens, items, n, st);
  map_fail:
    for (i = 0; items != NULL && keys != NULL && i < n; i++) {
      soupc_cty_value_free(items[i]);
      soupc__free(keys[i]);
    }
    soupc__free(items);
    soupc__free(keys);
    soupc__free(lens);
    return rv;
  }
  case SOUPC_CTY_OBJECT:
    if (o->type != MSGPACK_OBJECT_MAP) {
      return dec_err(st, "an object is required");
    }
    if (o->via.map.size == 0) {
      return empty_struct(out, SOUPC_CTY_OBJECT); /* go-cty quirk, §2.8 */
    }
    if (o->via.map.size != ty->n) {
      return dec_err(st, "an object with %zu attributes is required (%u given)",
                     ty->n, o->via.map.size);
    }
    items = soupc__calloc(ty->n + 1, sizeof(*items));
    if (items == NULL) {
      return SOUPC_ERR_NOMEM;
    }
    for (i = 0; i < o->via.map.size; i++) {
      const msgpack_object *k = &o->via.map.ptr[i].key;
      struct soupc_cty_value *v = NULL;
      long idx;
      if (!is_stringish(k)) {
        rv = dec_err(st, "all keys must be strings");
        goto obj_fail;
      }
      idx = soupc__cty_type_attr(ty, k->via.str.ptr, k->via.str.size);
      if (idx < 0) {
        rv = dec_err(st, "unsupported attribute");
        goto obj_fail;
      }
      rv = decode(&v, ty->elems[idx], &o->via.map.ptr[i].val, st, depth + 1);
      if (rv != 0) {
        goto obj_fail;
      }
      soupc_cty_value_free(items[idx]);
      items[idx] = v;
    }
    for (i = 0; i < ty->n && items[i] != NULL; i++) {
    }
    if (i < ty->n) {
      /* a repeated key: cty.ObjectVal of the attributes that were given */
      char **names = soupc__calloc(ty->n + 1, sizeof(*names));
      size_t *lens = soupc__calloc(ty->n + 1, sizeof(*lens));
      size_t m = 0;
      rv = names == NULL || lens == NULL ? SOUPC_ERR_NOMEM : 0;
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
      if (rv != 0) {
        for (i = 0; names != NULL && i < m; i++) {
          soupc__free(names[i]);
        }
        soupc__free(names);
        soupc__free(lens);
        goto obj_fail;
      }
      return soupc__cty_object_val(out, names, lens, items, m);
    }
    return soupc__cty_val_object(out, ty, items, st);
  obj_fail:
    for (i = 0; i < ty->n; i++) {
      soupc_cty_value_free(items[i]);
    }
    soupc__free(items);
    return rv;
  case SOUPC_CTY_CAPSULE:
    return dec_err(st, "unsupported type %s", ty->cap->name);
  case SOUPC_CTY_DYNAMIC:
    break;
  }
  return dec_err(st, "unsupported type");
}

int soupc_cty_msgpack_decode(soupc_cty_value **out, const soupc_cty_type *ty,
                             const uint8_t *buf, size_t len, soupc_status *st) {
  msgpack_unpacked up;
  msgpack_unpack_return ur;
  size_t off = 0;
  int rv;

  if (precheck(buf, len, &off, 0) != 0) {
    return dec_err(st,
                   "malformed msgpack: truncated, invalid or nested "
                   "deeper than %d levels",
                   CTY_MAX_DEPTH);
  }
  off = 0;
  msgpack_unpacked_init(&up);
  /* One zone chunk sized to the input instead of msgpack-c's default 8 KiB
   * chunks: a large value otherwise costs hundreds of chunk mallocs. The
   * object tree is a few times the input (each msgpack_object is 24 bytes;
   * precheck() has bounded every count by the bytes that remain). */
  up.zone = msgpack_zone_new(len < 2048                 ? 8192
                             : len > ((size_t)16 << 20) ? ((size_t)64 << 20)
                                                        : len * 4);
  if (up.zone == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  ur = msgpack_unpack_next(&up, (const char *)buf, len, &off);
  if (ur == MSGPACK_UNPACK_NOMEM_ERROR) {
    msgpack_unpacked_destroy(&up);
    return SOUPC_ERR_NOMEM;
  }
  if (ur != MSGPACK_UNPACK_SUCCESS && ur != MSGPACK_UNPACK_EXTRA_BYTES) {
    msgpack_unpacked_destroy(&up);
    return dec_err(st, "malformed msgpack");
  }
  rv = decode(out, ty, &up.data, st, 0);
  msgpack_unpacked_destroy(&up);
  return rv;
}
