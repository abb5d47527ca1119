/* TofuSoup's rich JSON dialect for cty values (soup-go cty_rich.go,
 * buildRefinedUnknown in cty.go), both ways, with soup-go's errors:
 *
 *   {"$null": true}                         a null of the type here
 *   {"$unknown": true, "$refine": {...}}    an unknown, optionally refined
 *   {"$marks": ["sensitive"], "$value": x}  marks applied here
 *   {"$bytes": "aGk="}                      a bytes capsule value
 *   {"$number": "Infinity"}                 a number JSON cannot spell
 *   {"$dynamic": {"type": T, "value": x}}   a value of type T (input only)
 *
 * Anything else is read as soup-go reads it: JSON objects as maps or
 * objects, arrays as lists, sets or tuples, and leaves through
 * buildCtyValueFromJSON. Values are built with go-cty's constructors, so
 * their types come from their elements, as in soup-go. */
#include "cty/cty_int.h"

#include "base/alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int rerr(soupc_status *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int rerr(soupc_status *st, const char *fmt, ...) {
  char msg[512];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT, "%s", msg);
  return SOUPC_ERR_CTY_DECODE;
}

/* "<prefix><message already in st>" */
static int rwrap(soupc_status *st, int rv, const char *prefix) {
  char msg[1100];

  if (rv == SOUPC_ERR_NOMEM || st == NULL) {
    return rv;
  }
  snprintf(msg, sizeof(msg), "%s%s", prefix, st->message);
  soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT, "%s", msg);
  return rv;
}

static const char *raw_str(char *buf, size_t cap, const struct json_node *n) {
  snprintf(buf, cap, "%.*s", (int)(n->raw_len < cap ? n->raw_len : cap - 1),
           n->raw);
  return buf;
}

static const char *quote(char *buf, size_t cap, const char *s, size_t len) {
  struct cty_buf b;

  soupc__cty_buf_init(&b);
  soupc__cty_go_quote(&b, s, len);
  snprintf(buf, cap, "%.*s", (int)(b.len < cap ? b.len : cap - 1),
           b.p != NULL ? (char *)b.p : "\"\"");
  soupc__cty_buf_dispose(&b);
  return buf;
}

static void free_items(struct soupc_cty_value **items, size_t n) {
  size_t i;

  for (i = 0; items != NULL && i < n; i++) {
    soupc_cty_value_free(items[i]);
  }
  soupc__free(items);
}

/* bytes.TrimSpace(raw) == "null" (unicode.IsSpace at either end). */
static size_t space_len(const uint8_t *p, size_t len, bool back) {
  static const uint32_t spaces[] = {0x85,   0xa0,   0x1680, 0x2000, 0x2001,
                                    0x2002, 0x2003, 0x2004, 0x2005, 0x2006,
                                    0x2007, 0x2008, 0x2009, 0x200a, 0x2028,
                                    0x2029, 0x202f, 0x205f, 0x3000};
  size_t i, n;
  uint32_t cp = 0;

  if (len == 0) {
    return 0;
  }
  if (!back) {
    if (p[0] == ' ' || (p[0] >= '\t' && p[0] <= '\r')) {
      return 1;
    }
    n = p[0] < 0xe0 ? 2 : 3;
    if ((p[0] & 0xe0) == 0xc0 && len >= 2) {
      cp = (uint32_t)(p[0] & 0x1f) << 6 | (p[1] & 0x3f);
    } else if ((p[0] & 0xf0) == 0xe0 && len >= 3) {
      cp = (uint32_t)(p[0] & 0x0f) << 12 | (uint32_t)(p[1] & 0x3f) << 6 |
           (p[2] & 0x3f);
    } else {
      return 0;
    }
  } else {
    uint8_t c = p[len - 1];
    if (c == ' ' || (c >= '\t' && c <= '\r')) {
      return 1;
    }
    if (len >= 2 && (p[len - 2] & 0xe0) == 0xc0) {
      n = 2;
      cp = (uint32_t)(p[len - 2] & 0x1f) << 6 | (c & 0x3f);
    } else if (len >= 3 && (p[len - 3] & 0xf0) == 0xe0) {
      n = 3;
      cp = (uint32_t)(p[len - 3] & 0x0f) << 12 |
           (uint32_t)(p[len - 2] & 0x3f) << 6 | (c & 0x3f);
    } else {
      return 0;
    }
  }
  for (i = 0; i < sizeof(spaces) / sizeof(spaces[0]); i++) {
    if (cp == spaces[i]) {
      return n;
    }
  }
  return 0;
}

static bool trimmed_null(const char *raw, size_t len) {
  const uint8_t *p = (const uint8_t *)raw;
  size_t k;

  while ((k = space_len(p, len, false)) > 0) {
    p += k;
    len -= k;
  }
  while ((k = space_len(p, len, true)) > 0) {
    len -= k;
  }
  return len == 4 && memcmp(p, "null", 4) == 0;
}

/* ---- decoding ---- */

struct rich {
  soupc_status *st;
  int depth;
};

static int decode(struct soupc_cty_value **out, const struct soupc_cty_type *ty,
                  const char *raw, size_t len, struct rich *r);

/* The sentinel keys, in soup-go's order, with their one companion. */
static const struct {
  const char *key;
  const char *companion;
  bool required;
} specs[] = {{"$null", NULL, false},     {"$unknown", "$refine", false},
             {"$marks", "$value", true}, {"$bytes", NULL, false},
             {"$number", NULL, false},   {"$dynamic", NULL, false}};
#define N_SPECS (sizeof(specs) / sizeof(specs[0]))

/* json.Unmarshal(raw, &x) shape checks: bool true / string / []string /
 * object. @return 0 if the member has the shape. */
static int shape_ok(size_t spec, const struct json_node *v) {
  size_t i;

  switch (spec) {
  case 0:
  case 1:
    return v->kind == JN_BOOL && v->b ? 0 : -1;
  case 2:
    if (v->kind == JN_NULL) {
      return 0;
    }
    if (v->kind != JN_ARRAY) {
      return -1;
    }
    for (i = 0; i < v->n; i++) {
      if (v->items[i]->kind != JN_STRING && v->items[i]->kind != JN_NULL) {
        return -1;
      }
    }
    return 0;
  case 3:
  case 4:
    return v->kind == JN_STRING || v->kind == JN_NULL ? 0 : -1;
  default:
    return v->kind == JN_OBJECT ? 0 : -1;
  }
}

static const char *const shape_msg[] = {
    "must be written as true",   "must be written as true",
    "must be a list of strings", "must be a string",
    "must be a string",          "must be an object"};

/* Keys of @p n once duplicates collapse (Go map), sorted. */
static size_t distinct_keys(const struct json_node *n, size_t *idx) {
  size_t i, j, m = 0;

  for (i = 0; i < n->n; i++) {
    for (j = 0; j < m; j++) {
      if (n->key_lens[idx[j]] == n->key_lens[i] &&
          memcmp(n->keys[idx[j]], n->keys[i], n->key_lens[i]) == 0) {
        idx[j] = i;
        break;
      }
    }
    if (j == m) {
      idx[m++] = i;
    }
  }
  for (i = 1; i < m; i++) {
    size_t x = idx[i];
    for (j = i; j > 0; j--) {
      size_t a = idx[j - 1];
      size_t l =
          n->key_lens[a] < n->key_lens[x] ? n->key_lens[a] : n->key_lens[x];
      int c = l > 0 ? memcmp(n->keys[a], n->keys[x], l) : 0;
      if (c < 0 || (c == 0 && n->key_lens[a] <= n->key_lens[x])) {
        break;
      }
      idx[j] = a;
    }
    idx[j] = x;
  }
  return m;
}

static bool is_key(const struct json_node *n, size_t i, const char *k) {
  return n->key_lens[i] == strlen(k) &&
         memcmp(n->keys[i], k, n->key_lens[i]) == 0;
}

/* parseExactNumber: big.ParseFloat(text, 10, 512, ToNearestEven). */
static int exact_number(struct soupc_cty_value **out, const char *s, size_t len,
                        const char **why) {
  struct soupc_cty_value *v = NULL;
  struct cty_num *num;
  int rv = soupc__cty_val_number(&v, &num);

  if (rv != 0) {
    return rv;
  }
  if (soupc__cty_num_parse(num, s, len, why) != 0) {
    soupc_cty_value_free(v);
    return SOUPC_ERR_CTY_DECODE;
  }
  *out = v;
  return 0;
}

/* parseNumberBound: ["<digits>", inclusive] */
static int number_bound(struct soupc_cty_value **out, bool *incl,
                        const char *key, const struct json_node *v,
                        soupc_status *st) {
  char raw[300], q[300];
  const char *why = "";
  const char *text = "";
  size_t tlen = 0;
  int rv;

  if (v->kind != JN_ARRAY && v->kind != JN_NULL) {
    return rerr(st, "%s must be a [digits, inclusive] pair, got %s", key,
                raw_str(raw, sizeof(raw), v));
  }
  if (v->kind == JN_NULL || v->n != 2) {
    return rerr(st, "%s must have exactly 2 elements, got %zu", key,
                v->kind == JN_NULL ? (size_t)0 : v->n);
  }
  if (v->items[0]->kind == JN_STRING) {
    text = v->items[0]->s;
    tlen = v->items[0]->len;
  } else if (v->items[0]->kind != JN_NULL) {
    return rerr(st, "%s bound must be a string of digits, got %s", key,
                raw_str(raw, sizeof(raw), v->items[0]));
  }
  if (v->items[1]->kind != JN_BOOL && v->items[1]->kind != JN_NULL) {
    return rerr(st, "%s inclusiveness must be a bool, got %s", key,
                raw_str(raw, sizeof(raw), v->items[1]));
  }
  *incl = v->items[1]->kind == JN_BOOL && v->items[1]->b;
  rv = exact_number(out, text, tlen, &why);
  if (rv == SOUPC_ERR_CTY_DECODE) {
    quote(q, sizeof(q), text, tlen);
    return rerr(st, "invalid number bound %s: %s is not a number: %s", q, q,
                why);
  }
  return rv;
}

/* parseLengthBound: an exact non-negative int */
static int length_bound(int64_t *out, const char *key,
                        const struct json_node *v, soupc_status *st) {
  char raw[300];
  const char *s;
  size_t i;
  bool neg;
  uint64_t acc = 0;

  if (v->kind != JN_NUMBER) {
    return rerr(st, "%s must be a number, got %s", key,
                raw_str(raw, sizeof(raw), v));
  }
  /* strconv.Atoi: an optional sign and decimal digits only */
  s = v->s;
  neg = s[0] == '-';
  i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  if (s[i] == '\0') {
    goto not_int;
  }
  for (; s[i] != '\0'; i++) {
    if (s[i] < '0' || s[i] > '9') {
      goto not_int;
    }
    if (acc >
        ((uint64_t)INT64_MAX + (neg ? 1u : 0u) - (uint64_t)(s[i] - '0')) / 10) {
      goto not_int;
    }
    acc = acc * 10 + (uint64_t)(s[i] - '0');
  }
  if (neg && acc != 0) {
    return rerr(st, "%s must not be negative, got -%llu", key,
                (unsigned long long)acc);
  }
  *out = (int64_t)acc;
  return 0;
not_int:
  return rerr(st, "%s must be an integer this build can hold, got %s", key,
              v->s);
}

/* buildRefinedUnknown */
static int refined_unknown(struct soupc_cty_value **out,
                           const struct soupc_cty_type *ty,
                           const struct json_node *rn, soupc_status *st) {
  static const char *const order[] = {"is_known_null",
                                      "string_prefix",
                                      "number_lower_bound",
                                      "number_upper_bound",
                                      "collection_length_lower_bound",
                                      "collection_length_upper_bound"};
  struct soupc_cty_value *unk = NULL, *bound = NULL;
  soupc_cty_refiner *b = NULL;
  struct cty_buf unread;
  size_t k, i;
  int rv;

  if (rn->kind == JN_NULL) {
    return rerr(st, "refinements must be an object");
  }
  if (rn->kind != JN_OBJECT) {
    return rerr(st,
                "refinements must be an object: json: cannot unmarshal %s "
                "into Go value of type map[string]json.RawMessage",
                rn->kind == JN_ARRAY    ? "array"
                : rn->kind == JN_STRING ? "string"
                : rn->kind == JN_NUMBER ? "number"
                                        : "bool");
  }
  rv = soupc_cty_value_unknown(&unk, ty);
  if (rv == 0) {
    rv = soupc_cty_refine_begin(&b, unk);
  }
  soupc_cty_value_free(unk);
  if (rv != 0) {
    return rv;
  }
  for (k = 0; k < 6; k++) {
    const struct json_node *v = soupc__json_member(rn, order[k]);
    bool incl = false;
    int64_t len = 0;
    if (v == NULL) {
      continue;
    }
    switch (k) {
    case 0:
      if (v->kind != JN_BOOL && v->kind != JN_NULL) {
        rv = rerr(st,
                  "is_known_null must be a bool: json: cannot unmarshal %s "
                  "into Go value of type bool",
                  v->kind == JN_STRING   ? "string"
                  : v->kind == JN_NUMBER ? "number"
                  : v->kind == JN_ARRAY  ? "array"
                                         : "object");
        break;
      }
      if (v->kind == JN_BOOL && v->b) {
        soupc_cty_refine_null(b);
      } else {
        soupc_cty_refine_not_null(b);
      }
      break;
    case 1:
      if (v->kind != JN_STRING && v->kind != JN_NULL) {
        rv = rerr(st,
                  "string_prefix must be a string: json: cannot unmarshal %s "
                  "into Go value of type string",
                  v->kind == JN_BOOL     ? "bool"
                  : v->kind == JN_NUMBER ? "number"
                  : v->kind == JN_ARRAY  ? "array"
                                         : "object");
        break;
      }
      soupc_cty_refine_string_prefix_full(b, v->kind == JN_STRING ? v->s : "",
                                          v->kind == JN_STRING ? v->len : 0);
      break;
    case 2:
    case 3:
      rv = number_bound(&bound, &incl, order[k], v, st);
      if (rv == 0) {
        if (k == 2) {
          soupc_cty_refine_number_lower_bound(b, bound, incl);
        } else {
          soupc_cty_refine_number_upper_bound(b, bound, incl);
        }
        soupc_cty_value_free(bound);
        bound = NULL;
      }
      break;
    default:
      rv = length_bound(&len, order[k], v, st);
      if (rv == 0) {
        if (k == 4) {
          soupc_cty_refine_collection_length_lower_bound(b, len);
        } else {
          soupc_cty_refine_collection_length_upper_bound(b, len);
        }
      }
      break;
    }
    if (rv != 0) {
      struct soupc_cty_value *tmp = NULL;
      soupc_cty_refine_finish(&tmp, b, NULL);
      soupc_cty_value_free(tmp);
      return rv;
    }
  }
  /* Keys it does not know, sorted: "unknown refinement a, b". */
  soupc__cty_buf_init(&unread);
  {
    size_t *idx = soupc__calloc(rn->n + 1, sizeof(*idx));
    size_t m = idx != NULL ? distinct_keys(rn, idx) : 0;
    for (i = 0; i < m; i++) {
      bool known = false;
      for (k = 0; k < 6; k++) {
        known = known || is_key(rn, idx[i], order[k]);
      }
      if (!known) {
        if (unread.len > 0) {
          soupc__cty_buf_puts(&unread, ", ");
        }
        soupc__cty_buf_put(&unread, rn->keys[idx[i]], rn->key_lens[idx[i]]);
      }
    }
    soupc__free(idx);
    if (idx == NULL) {
      unread.oom = true;
    }
  }
  if (unread.len > 0 || unread.oom) {
    struct soupc_cty_value *tmp = NULL;
    soupc__cty_buf_putc(&unread, 0);
    rv = unread.oom ? SOUPC_ERR_NOMEM
                    : rerr(st, "unknown refinement %s", (char *)unread.p);
    soupc__cty_buf_dispose(&unread);
    soupc_cty_refine_finish(&tmp, b, NULL);
    soupc_cty_value_free(tmp);
    return rv;
  }
  soupc__cty_buf_dispose(&unread);
  return soupc_cty_refine_finish(out, b, st);
}

static int decode_dynamic(struct soupc_cty_value **out,
                          const struct json_node *env, struct rich *r) {
  const struct json_node *tn = NULL, *vn = NULL;
  struct soupc_cty_type *t = NULL;
  size_t i;
  int rv;

  /* Go decodes into struct {Type, Value}: keys match the fields without
   * regard to case, and a later one wins. */
  for (i = 0; i < env->n; i++) {
    if (env->key_lens[i] == 4 && strncasecmp(env->keys[i], "type", 4) == 0) {
      tn = env->items[i];
    } else if (env->key_lens[i] == 5 &&
               strncasecmp(env->keys[i], "value", 5) == 0) {
      vn = env->items[i];
    }
  }
  if (tn == NULL) {
    return rerr(r->st, "$dynamic is missing a type");
  }
  rv = soupc__cty_type_from_node(&t, tn, r->st);
  if (rv != 0) {
    return rwrap(r->st, rv, "$dynamic type: ");
  }
  rv = decode(out, t, vn != NULL ? vn->raw : "", vn != NULL ? vn->raw_len : 0,
              r);
  soupc_cty_type_free(t);
  return rv;
}

static int decode_number(struct soupc_cty_value **out,
                         const struct json_node *v, soupc_status *st) {
  const char *s = v->kind == JN_STRING ? v->s : "";
  size_t len = v->kind == JN_STRING ? v->len : 0;
  const char *why = "";
  char q[300];
  int rv;

  if (len == 8 && memcmp(s, "Infinity", 8) == 0) {
    *out = soupc__cty_inf(false);
    return 0;
  }
  if (len == 9 && memcmp(s, "-Infinity", 9) == 0) {
    *out = soupc__cty_inf(true);
    return 0;
  }
  rv = exact_number(out, s, len, &why);
  if (rv == SOUPC_ERR_CTY_DECODE) {
    quote(q, sizeof(q), s, len);
    return rerr(st, "$number %s is not a number: %s", q, why);
  }
  return rv;
}

/* decodeSentinel: *handled false when @p n has none of the keys. */
static int sentinel(struct soupc_cty_value **out, bool *handled,
                    const struct soupc_cty_type *ty, const struct json_node *n,
                    struct rich *r) {
  const struct json_node *v;
  size_t s = N_SPECS, k, i;
  struct cty_buf extra;
  char raw[300];
  int rv;

  *handled = false;
  for (k = 0; k < N_SPECS; k++) {
    if (soupc__json_member(n, specs[k].key) == NULL) {
      continue;
    }
    if (s != N_SPECS) {
      return rerr(r->st, "both %s and %s given", specs[s].key, specs[k].key);
    }
    s = k;
  }
  if (s == N_SPECS) {
    return 0;
  }
  v = soupc__json_member(n, specs[s].key);
  if (shape_ok(s, v) != 0) {
    return rerr(r->st, "%s %s, got %s", specs[s].key, shape_msg[s],
                raw_str(raw, sizeof(raw), v));
  }
  if (specs[s].required && soupc__json_member(n, specs[s].companion) == NULL) {
    return rerr(r->st, "%s given without %s", specs[s].key, specs[s].companion);
  }
  soupc__cty_buf_init(&extra);
  {
    size_t *idx = soupc__calloc(n->n + 1, sizeof(*idx));
    size_t m = idx != NULL ? distinct_keys(n, idx) : 0;
    for (i = 0; i < m; i++) {
      if (is_key(n, idx[i], specs[s].key) ||
          (specs[s].companion != NULL &&
           is_key(n, idx[i], specs[s].companion))) {
        continue;
      }
      if (extra.len > 0) {
        soupc__cty_buf_puts(&extra, ", ");
      }
      soupc__cty_buf_put(&extra, n->keys[idx[i]], n->key_lens[idx[i]]);
    }
    if (idx == NULL) {
      extra.oom = true;
    }
    soupc__free(idx);
  }
  if (extra.len > 0 || extra.oom) {
    soupc__cty_buf_putc(&extra, 0);
    rv = extra.oom ? SOUPC_ERR_NOMEM
                   : rerr(r->st, "%s cannot be written alongside %s",
                          specs[s].key, (char *)extra.p);
    soupc__cty_buf_dispose(&extra);
    return rv;
  }
  soupc__cty_buf_dispose(&extra);
  *handled = true;
  switch (s) {
  case 0:
    return soupc_cty_value_null(out, ty);
  case 1:
    v = soupc__json_member(n, "$refine");
    if (v == NULL) {
      return soupc_cty_value_unknown(out, ty);
    }
    return refined_unknown(out, ty, v, r->st);
  case 2: {
    struct soupc_cty_value *val = NULL;
    const struct json_node *marks = soupc__json_member(n, "$marks");
    v = soupc__json_member(n, "$value");
    rv = decode(&val, ty, v->raw, v->raw_len, r);
    for (i = 0; rv == 0 && marks->kind == JN_ARRAY && i < marks->n; i++) {
      const struct json_node *m = marks->items[i];
      rv = soupc_cty_value_mark(out, val, m->kind == JN_STRING ? m->s : "",
                                m->kind == JN_STRING ? m->len : 0);
      soupc_cty_value_free(val);
      val = rv == 0 ? *out : NULL;
    }
    if (rv == 0) {
      *out = val;
    }
    return rv;
  }
  case 3: {
    uint8_t *data = NULL;
    size_t dl = 0;
    rv = soupc_cty_base64_decode(&data, &dl, v->kind == JN_STRING ? v->s : "",
                                 v->kind == JN_STRING ? v->len : 0, r->st);
    if (rv == SOUPC_ERR_CTY_DECODE) {
      return rwrap(r->st, rv, "$bytes is not base64: ");
    }
    if (rv == 0) {
      rv = soupc_cty_value_bytes(out, data, dl);
      soupc__free(data);
    }
    return rv;
  }
  case 4:
    return decode_number(out, v, r->st);
  default:
    return decode_dynamic(out, v, r);
  }
}

static int decode_sequence(struct soupc_cty_value **out,
                           const struct soupc_cty_type *ty,
                           const struct json_node *n, struct rich *r) {
  struct soupc_cty_value **vals = soupc__calloc(n->n + 1, sizeof(*vals));
  char pre[40];
  size_t i;
  int rv;

  if (vals == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  for (i = 0; i < n->n; i++) {
    if (ty->kind == SOUPC_CTY_TUPLE && i >= ty->n) {
      free_items(vals, i);
      return rerr(r->st, "tuple has %zu elements, got %zu", ty->n, n->n);
    }
    rv = decode(&vals[i], ty->kind == SOUPC_CTY_TUPLE ? ty->elems[i] : ty->elem,
                n->items[i]->raw, n->items[i]->raw_len, r);
    if (rv != 0) {
      free_items(vals, i);
      snprintf(pre, sizeof(pre), "element %zu: ", i);
      return rwrap(r->st, rv, pre);
    }
  }
  if (ty->kind == SOUPC_CTY_TUPLE) {
    if (n->n != ty->n) {
      free_items(vals, n->n);
      return rerr(r->st, "tuple has %zu elements, got %zu", ty->n, n->n);
    }
    return soupc__cty_tuple_val(out, vals, n->n);
  }
  if (n->n == 0) {
    soupc__free(vals);
    return soupc__cty_empty_coll(out, ty->kind, ty->elem);
  }
  return soupc__cty_list_val(out, ty->kind, vals, n->n, r->st);
}

static int decode_mapping(struct soupc_cty_value **out,
                          const struct soupc_cty_type *ty,
                          const struct json_node *n, struct rich *r) {
  size_t *idx = soupc__calloc(n->n + 1, sizeof(*idx));
  struct soupc_cty_value **vals = NULL;
  char **keys = NULL;
  size_t *lens = NULL;
  size_t i, m;
  char q[300], pre[320];
  int rv = SOUPC_ERR_NOMEM;

  if (idx == NULL) {
    return rv;
  }
  m = distinct_keys(n, idx);
  vals = soupc__calloc(m + 1, sizeof(*vals));
  keys = soupc__calloc(m + 1, sizeof(*keys));
  lens = soupc__calloc(m + 1, sizeof(*lens));
  if (vals == NULL || keys == NULL || lens == NULL) {
    goto fail;
  }
  for (i = 0; i < m; i++) {
    const char *k = n->keys[idx[i]];
    size_t kl = n->key_lens[idx[i]];
    const struct json_node *item = n->items[idx[i]];
    const struct soupc_cty_type *et = ty->elem;
    if (ty->kind == SOUPC_CTY_OBJECT) {
      long a = soupc_cty_type_attribute_index(ty, k, kl);
      if (a < 0) {
        rv =
            rerr(r->st, "type has no attribute %s", quote(q, sizeof(q), k, kl));
        goto fail;
      }
      et = ty->elems[a];
    }
    rv = decode(&vals[i], et, item->raw, item->raw_len, r);
    if (rv != 0) {
      snprintf(pre, sizeof(pre), "%s: ", quote(q, sizeof(q), k, kl));
      rwrap(r->st, rv, pre);
      goto fail;
    }
    keys[i] = soupc__strndup(k, kl);
    lens[i] = kl;
    if (keys[i] == NULL) {
      rv = SOUPC_ERR_NOMEM;
      goto fail;
    }
  }
  if (ty->kind == SOUPC_CTY_OBJECT) {
    /* every attribute given (compared with the keys as written) */
    size_t a, j;
    for (a = 0; a < ty->n; a++) {
      for (j = 0; j < m; j++) {
        if (lens[j] == ty->name_lens[a] &&
            memcmp(keys[j], ty->names[a], lens[j]) == 0) {
          break;
        }
      }
      if (j == m) {
        rv = rerr(r->st, "attribute %s was not given",
                  quote(q, sizeof(q), ty->names[a], ty->name_lens[a]));
        goto fail;
      }
    }
    soupc__free(idx);
    return soupc__cty_object_val(out, keys, lens, vals, m);
  }
  soupc__free(idx);
  if (m == 0) {
    soupc__free(vals);
    soupc__free(keys);
    soupc__free(lens);
    return soupc__cty_empty_coll(out, SOUPC_CTY_MAP, ty->elem);
  }
  return soupc__cty_map_val(out, keys, lens, vals, m, r->st);
fail:
  for (i = 0; keys != NULL && i < m; i++) {
    soupc__free(keys[i]);
  }
  free_items(vals, m);
  soupc__free(keys);
  soupc__free(lens);
  soupc__free(idx);
  return rv;
}

static int decode(struct soupc_cty_value **out, const struct soupc_cty_type *ty,
                  const char *raw, size_t len, struct rich *r) {
  struct json_node *n = NULL;
  bool handled = false;
  int rv;

  if (trimmed_null(raw, len)) {
    return soupc_cty_value_null(out, ty);
  }
  if (++r->depth > CTY_MAX_DEPTH) {
    r->depth--;
    return rerr(r->st, "JSON value nests deeper than %d levels", CTY_MAX_DEPTH);
  }
  /* json.Unmarshal into a map, then into a slice: both need the whole
   * text to be one valid JSON value. */
  rv = soupc__json_parse_go(&n, raw, len, JSON_UNMARSHAL, NULL, NULL);
  if (rv == SOUPC_ERR_NOMEM) {
    r->depth--;
    return rv;
  }
  if (rv == 0 && n->kind == JN_OBJECT) {
    rv = sentinel(out, &handled, ty, n, r);
    if (rv == 0 && !handled) {
      if (ty->kind == SOUPC_CTY_MAP || ty->kind == SOUPC_CTY_OBJECT) {
        rv = decode_mapping(out, ty, n, r);
      } else if (ty->kind == SOUPC_CTY_DYNAMIC) {
        rv = soupc__cty_build_from_json(out, ty, raw, len, false, r->st);
      } else {
        struct cty_buf fb;
        soupc__cty_buf_init(&fb);
        soupc__cty_type_friendly(&fb, ty, false);
        soupc__cty_buf_putc(&fb, 0);
        rv = fb.oom ? SOUPC_ERR_NOMEM
                    : rerr(r->st, "JSON object given for %s", (char *)fb.p);
        soupc__cty_buf_dispose(&fb);
      }
    }
  } else if (rv == 0 && n->kind == JN_ARRAY &&
             (ty->kind == SOUPC_CTY_LIST || ty->kind == SOUPC_CTY_SET ||
              ty->kind == SOUPC_CTY_TUPLE)) {
    rv = decode_sequence(out, ty, n, r);
  } else {
    rv = soupc__cty_build_from_json(out, ty, raw, len, false, r->st);
  }
  soupc__json_free(n);
  r->depth--;
  return rv;
}

int soupc_cty_value_from_rich_json(soupc_cty_value **out,
                                   const soupc_cty_type *ty, const char *json,
                                   size_t len, soupc_status *st) {
  struct rich r;

  r.st = st;
  r.depth = 0;
  return decode(out, ty, json != NULL ? json : "", json != NULL ? len : 0, &r);
}

/* ---- encoding (encodeRich) ---- */

static int encode(struct cty_buf *b, const struct soupc_cty_value *v,
                  soupc_status *st, int depth);

static int encode_refinements(struct cty_buf *b,
                              const struct soupc_cty_value *v,
                              soupc_status *st) {
  struct soupc_cty_range rng;
  const struct soupc_cty_type *ty;
  struct cty_buf body;
  int rv;
  bool any = false;

  rv = soupc__cty_range_of(&rng, v, st);
  if (rv != 0) {
    return rv;
  }
  ty = rng.ty;
  soupc__cty_buf_init(&body);
  /* keys in Go's sorted order */
  if (cty_kind_is_coll(ty->kind)) {
    int64_t lo = 0, hi = CTY_MAX_INT;
    soupc_cty_range_length_lower_bound(&rng, &lo, NULL);
    soupc_cty_range_length_upper_bound(&rng, &hi, NULL);
    if (lo != 0) {
      soupc__cty_buf_printf(&body, "\"collection_length_lower_bound\":%lld",
                            (long long)lo);
      any = true;
    }
    if (hi != CTY_MAX_INT) {
      soupc__cty_buf_printf(&body, "%s\"collection_length_upper_bound\":%lld",
                            any ? "," : "", (long long)hi);
      any = true;
    }
  }
  if (soupc_cty_range_definitely_not_null(&rng)) {
    soupc__cty_buf_printf(&body, "%s\"is_known_null\":false", any ? "," : "");
    any = true;
  }
  if (ty->kind == SOUPC_CTY_NUMBER) {
    int upper;
    for (upper = 0; upper < 2; upper++) {
      struct soupc_cty_value *bv = NULL;
      int incl = 0;
      rv = upper ? soupc_cty_range_number_upper_bound(&bv, &incl, &rng, st)
                 : soupc_cty_range_number_lower_bound(&bv, &incl, &rng, st);
      if (rv != 0) {
        break;
      }
      if (cty_is_known(bv) && !cty_is_null(bv) &&
          !soupc__cty_num_is_inf(cty_unmarked(bv)->u.num)) {
        soupc__cty_buf_printf(&body, "%s\"number_%s_bound\":[\"",
                              any ? "," : "", upper ? "upper" : "lower");
        soupc__cty_num_text_f(&body, cty_unmarked(bv)->u.num);
        soupc__cty_buf_puts(&body, incl ? "\",true]" : "\",false]");
        any = true;
      }
      soupc_cty_value_free(bv);
    }
  }
  if (rv == 0 && ty->kind == SOUPC_CTY_STRING) {
    const char *p = "";
    size_t pl = 0;
    soupc_cty_range_string_prefix(&rng, &p, &pl, NULL);
    if (pl > 0) {
      soupc__cty_buf_printf(&body, "%s\"string_prefix\":", any ? "," : "");
      soupc__cty_json_quote(&body, p, pl);
      any = true;
    }
  }
  soupc__cty_range_dispose(&rng);
  if (rv == 0 && any) {
    soupc__cty_buf_puts(b, "\"$refine\":{");
    soupc__cty_buf_put(b, body.p, body.len);
    soupc__cty_buf_puts(b, "},");
  }
  if (body.oom) {
    b->oom = true;
  }
  soupc__cty_buf_dispose(&body);
  return rv;
}

static int encode(struct cty_buf *b, const struct soupc_cty_value *v,
                  soupc_status *st, int depth) {
  size_t i;
  int rv;

  if (depth > CTY_MAX_DEPTH) {
    return rerr(st, "value nests too deeply");
  }
  if (cty_is_marked(v)) {
    const struct soupc_cty_marks *m = v->u.mk.marks;
    soupc__cty_buf_puts(b, "{\"$marks\":[");
    for (i = 0; i < m->n; i++) {
      if (i > 0) {
        soupc__cty_buf_putc(b, ',');
      }
      soupc__cty_json_quote(b, m->names[i], m->lens[i]);
    }
    soupc__cty_buf_puts(b, "],\"$value\":");
    rv = encode(b, v->u.mk.inner, st, depth + 1);
    soupc__cty_buf_putc(b, '}');
    return rv;
  }
  if (v->flags & CTY_V_UNKNOWN) {
    soupc__cty_buf_putc(b, '{');
    rv = encode_refinements(b, v, st);
    soupc__cty_buf_puts(b, "\"$unknown\":true}");
    return rv;
  }
  if (v->flags & CTY_V_NULL) {
    soupc__cty_buf_puts(b, "{\"$null\":true}");
    return 0;
  }
  switch (v->type->kind) {
  case SOUPC_CTY_CAPSULE: {
    const uint8_t *data;
    size_t dl;
    char *s = NULL;
    size_t sl = 0;
    if (soupc_cty_value_bytes_get(v, &data, &dl) != 0) {
      return rerr(st, "no rich encoding for %s", v->type->cap->name);
    }
    rv = soupc_cty_base64_encode(&s, &sl, data, dl);
    if (rv != 0) {
      return rv;
    }
    soupc__cty_buf_puts(b, "{\"$bytes\":");
    soupc__cty_json_quote(b, s, sl);
    soupc__cty_buf_putc(b, '}');
    soupc__free(s);
    return 0;
  }
  case SOUPC_CTY_STRING:
    soupc__cty_json_quote(b, v->u.str.s, v->u.str.len);
    return 0;
  case SOUPC_CTY_BOOL:
    soupc__cty_buf_puts(b, v->u.b ? "true" : "false");
    return 0;
  case SOUPC_CTY_NUMBER:
    if (soupc__cty_num_is_inf(v->u.num)) {
      soupc__cty_buf_puts(b, mpfr_signbit(v->u.num->f)
                                 ? "{\"$number\":\"-Infinity\"}"
                                 : "{\"$number\":\"Infinity\"}");
    } else {
      soupc__cty_num_text_f(b, v->u.num);
    }
    return 0;
  case SOUPC_CTY_LIST:
  case SOUPC_CTY_SET:
  case SOUPC_CTY_TUPLE:
    soupc__cty_buf_putc(b, '[');
    for (i = 0; i < v->u.c.n; i++) {
      if (i > 0) {
        soupc__cty_buf_putc(b, ',');
      }
      rv = encode(b, v->u.c.items[i], st, depth + 1);
      if (rv != 0) {
        return rv;
      }
    }
    soupc__cty_buf_putc(b, ']');
    return 0;
  case SOUPC_CTY_MAP:
  case SOUPC_CTY_OBJECT:
    soupc__cty_buf_putc(b, '{');
    for (i = 0; i < v->u.c.n; i++) {
      const char *k =
          v->type->kind == SOUPC_CTY_MAP ? v->u.c.keys[i] : v->type->names[i];
      size_t kl = v->type->kind == SOUPC_CTY_MAP ? v->u.c.key_lens[i]
                                                 : v->type->name_lens[i];
      if (kl > 0 && k[0] == '$') {
        char q[300];
        return rerr(st,
                    "key %s cannot be expressed: it collides with a "
                    "rich-value sentinel",
                    quote(q, sizeof(q), k, kl));
      }
      if (i > 0) {
        soupc__cty_buf_putc(b, ',');
      }
      soupc__cty_json_quote(b, k, kl);
      soupc__cty_buf_putc(b, ':');
      rv = encode(b, v->u.c.items[i], st, depth + 1);
      if (rv != 0) {
        return rv;
      }
    }
    soupc__cty_buf_putc(b, '}');
    return 0;
  default:
    return rerr(st, "no rich encoding for dynamic");
  }
}

int soupc_cty_value_to_rich_json(char **out, size_t *len_out,
                                 const soupc_cty_value *v, soupc_status *st) {
  struct cty_buf b;
  int rv;

  soupc__cty_buf_init(&b);
  rv = encode(&b, v, st, 0);
  if (rv != 0) {
    soupc__cty_buf_dispose(&b);
    return rv;
  }
  return soupc__cty_buf_take(&b, out, len_out);
}
