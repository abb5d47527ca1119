/* Readers from JSON text: go-cty json.ImpliedType and json.Unmarshal
 * (cty/json/type_implied.go, unmarshal.go) and soup-go's
 * buildCtyValueFromJSON (wire-cty-spec.md §1.3 (a)).
 *
 * go-cty reads with json.Decoder's Token API, and only the outermost
 * buffer can be malformed (inner values arrive as validated
 * json.RawMessage), so the outer level is read token by token (go_dec) for
 * Go's exact errors and inner values from the parsed tree. */
#include "cty/cty_int.h"

#include "base/alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int err_set(soupc_status *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int err_set(soupc_status *st, const char *fmt, ...) {
  char msg[512];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT, "%s", msg);
  return SOUPC_ERR_CTY_DECODE;
}

/* Prefixes the message already in @p st: "<prefix>: <message>". */
static int err_wrap(soupc_status *st, int rv, const char *prefix) {
  char msg[1100];

  if (rv == SOUPC_ERR_NOMEM || st == NULL) {
    return rv;
  }
  snprintf(msg, sizeof(msg), "%s: %s", prefix, st->message);
  soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT, "%s", msg);
  return rv;
}

static void free_items(struct soupc_cty_value **items, size_t n) {
  size_t i;

  for (i = 0; items != NULL && i < n; i++) {
    soupc_cty_value_free(items[i]);
  }
  soupc__free(items);
}

/* %q of a string into a fixed buffer (for error messages). */
static const char *quoted(char *buf, size_t cap, const char *s, size_t len) {
  struct cty_buf b;

  soupc__cty_buf_init(&b);
  soupc__cty_go_quote(&b, s, len);
  snprintf(buf, cap, "%.*s", (int)(b.len < cap ? b.len : cap - 1),
           b.p != NULL ? (char *)b.p : "\"\"");
  soupc__cty_buf_dispose(&b);
  return buf;
}

/* ---- json.ImpliedType ---- */

static int implied_tok(struct soupc_cty_type **out, struct go_dec *d,
                       struct go_tok *t, int depth);

static int implied_object(struct soupc_cty_type **out, struct go_dec *d,
                          int depth) {
  struct soupc_cty_type **ts = NULL;
  char **names = NULL;
  size_t *lens = NULL;
  size_t n = 0, cap = 0, i;
  int rv;

  for (;;) {
    struct go_tok t;
    struct soupc_cty_type *aty = NULL;
    char *key;
    size_t klen;
    rv = soupc__godec_token(d, &t);
    if (rv != 0) {
      goto fail;
    }
    if (t.delim != 0) {
      if (t.delim != '}') {
        rv = err_set(d->st, "unexpected delimiter '%c'", t.delim);
        goto fail;
      }
      break;
    }
    if (t.node->kind != JN_STRING) {
      soupc__json_free(t.node);
      rv = err_set(d->st, "expected string but found json.Number");
      goto fail;
    }
    key = t.node->s;
    klen = t.node->len;
    t.node->s = NULL;
    soupc__json_free(t.node);
    rv = soupc__godec_token(d, &t);
    if (rv == 0) {
      rv = implied_tok(&aty, d, &t, depth + 1);
    }
    if (rv != 0) {
      soupc__free(key);
      goto fail;
    }
    /* go-cty >= 1.16.2: a repeated key must imply the same type. */
    for (i = 0; i < n; i++) {
      if (lens[i] == klen && memcmp(names[i], key, klen) == 0) {
        break;
      }
    }
    if (i < n) {
      bool same = soupc__cty_type_equal(ts[i], aty);
      soupc_cty_type_free(aty);
      if (!same) {
        char q[300];
        rv = err_set(d->st, "duplicate %s property in JSON object",
                     quoted(q, sizeof(q), key, klen));
        soupc__free(key);
        goto fail;
      }
      soupc__free(key);
      continue;
    }
    if (n == cap) {
      size_t nc = cap == 0 ? 8 : cap * 2;
      struct soupc_cty_type **nt = soupc__realloc(ts, nc * sizeof(*nt));
      char **nn = nt == NULL ? NULL : soupc__realloc(names, nc * sizeof(*nn));
      size_t *nl;
      if (nt != NULL) {
        ts = nt;
      }
      if (nn != NULL) {
        names = nn;
      }
      nl = nn == NULL ? NULL : soupc__realloc(lens, nc * sizeof(*nl));
      if (nl == NULL) {
        soupc_cty_type_free(aty);
        soupc__free(key);
        rv = SOUPC_ERR_NOMEM;
        goto fail;
      }
      lens = nl;
      cap = nc;
    }
    ts[n] = aty;
    names[n] = key;
    lens[n] = klen;
    n++;
  }
  /* cty.Object NFC-normalises the names */
  for (i = 0; i < n; i++) {
    if (!soupc__cty_nfc_trivial(names[i], lens[i])) {
      size_t nl = 0;
      char *nn = soupc__cty_nfc(names[i], lens[i], &nl);
      if (nn == NULL) {
        rv = SOUPC_ERR_NOMEM;
        goto fail;
      }
      soupc__free(names[i]);
      names[i] = nn;
      lens[i] = nl;
    }
  }
  rv = soupc__cty_type_new_object(out, names, lens, ts, NULL, n);
  soupc__free(ts);
  soupc__free(names);
  soupc__free(lens);
  return rv;
fail:
  for (i = 0; i < n; i++) {
    soupc_cty_type_free(ts[i]);
    soupc__free(names[i]);
  }
  soupc__free(ts);
  soupc__free(names);
  soupc__free(lens);
  return rv;
}

static int implied_tuple(struct soupc_cty_type **out, struct go_dec *d,
                         int depth) {
  struct soupc_cty_type **ts = NULL;
  size_t n = 0, cap = 0;
  int rv;

  for (;;) {
    struct go_tok t;
    struct soupc_cty_type *ety = NULL;
    rv = soupc__godec_token(d, &t);
    if (rv != 0) {
      goto fail;
    }
    if (t.delim == ']') {
      break;
    }
    rv = implied_tok(&ety, d, &t, depth + 1);
    if (rv != 0) {
      goto fail;
    }
    if (n == cap) {
      size_t nc = cap == 0 ? 8 : cap * 2;
      struct soupc_cty_type **nt = soupc__realloc(ts, nc * sizeof(*nt));
      if (nt == NULL) {
        soupc_cty_type_free(ety);
        rv = SOUPC_ERR_NOMEM;
        goto fail;
      }
      ts = nt;
      cap = nc;
    }
    ts[n++] = ety;
  }
  rv = soupc__cty_type_new_tuple(out, ts, n);
  soupc__free(ts);
  return rv;
fail:
  while (n > 0) {
    soupc_cty_type_free(ts[--n]);
  }
  soupc__free(ts);
  return rv;
}

/* impliedTypeForTok; consumes t.node. */
static int implied_tok(struct soupc_cty_type **out, struct go_dec *d,
                       struct go_tok *t, int depth) {
  enum json_kind k;

  if (depth > CTY_MAX_DEPTH) {
    soupc__json_free(t->node);
    return err_set(d->st, "JSON value nests too deeply");
  }
  if (t->delim == '{') {
    return implied_object(out, d, depth);
  }
  if (t->delim == '[') {
    return implied_tuple(out, d, depth);
  }
  if (t->delim != 0) {
    return err_set(d->st, "unexpected token '%c'", t->delim);
  }
  k = t->node->kind;
  soupc__json_free(t->node);
  *out = soupc__cty_type_prim(k == JN_NULL     ? SOUPC_CTY_DYNAMIC
                              : k == JN_BOOL   ? SOUPC_CTY_BOOL
                              : k == JN_NUMBER ? SOUPC_CTY_NUMBER
                                               : SOUPC_CTY_STRING);
  return 0;
}

static int implied_text(struct soupc_cty_type **out, const char *buf,
                        size_t len, soupc_status *st) {
  struct go_dec *d = soupc__malloc(sizeof(*d));
  struct soupc_cty_type *t = NULL;
  struct go_tok tok;
  int rv;

  if (d == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  soupc__godec_init(d, buf, len, st);
  rv = soupc__godec_token(d, &tok);
  if (rv == 0) {
    rv = implied_tok(&t, d, &tok, 0);
  }
  if (rv == 0 && soupc__godec_more(d)) {
    soupc_cty_type_free(t);
    rv = err_set(st, "extraneous data after JSON object");
  }
  soupc__free(d);
  if (rv == 0) {
    *out = t;
  }
  return rv;
}

int soupc_cty_json_implied_type(soupc_cty_type **out, const char *json,
                                size_t len, soupc_status *st) {
  return implied_text(out, json, len, st);
}

int soupc__cty_json_implied(struct soupc_cty_type **out,
                            const struct json_node *n, soupc_status *st) {
  return implied_text(out, n->raw, n->raw_len, st);
}

/* ---- go-cty json.Unmarshal ---- */

static int unm_text(struct soupc_cty_value **out,
                    const struct soupc_cty_type *ty, const char *buf,
                    size_t len, soupc_status *st, int depth);
static int unm_node(struct soupc_cty_value **out,
                    const struct soupc_cty_type *ty, const struct json_node *n,
                    soupc_status *st, int depth);

/* unmarshalPrimitive for a value token (NULL node: a delimiter). */
static int unm_prim(struct soupc_cty_value **out,
                    const struct soupc_cty_type *ty, const struct json_node *n,
                    soupc_status *st) {
  struct soupc_cty_value *s = NULL;
  const char *why;
  int rv;

  switch (ty->kind) {
  case SOUPC_CTY_BOOL:
    if (n != NULL && n->kind == JN_BOOL) {
      *out = soupc__cty_bool_val(n->b);
      return 0;
    }
    if (n != NULL && n->kind == JN_STRING) {
      rv = soupc__cty_val_string(&s, n->s, n->len);
      if (rv == 0) {
        rv = soupc__cty_convert(out, s, ty, NULL, st);
        soupc_cty_value_free(s);
      }
      return rv == SOUPC_ERR_CTY_CONVERT ? SOUPC_ERR_CTY_DECODE : rv;
    }
    return err_set(st, "bool is required");
  case SOUPC_CTY_NUMBER:
    if (n != NULL && (n->kind == JN_NUMBER || n->kind == JN_STRING)) {
      struct cty_num *num;
      rv = soupc__cty_val_number(&s, &num);
      if (rv != 0) {
        return rv;
      }
      if (soupc__cty_num_parse(num, n->s, n->len, &why) != 0) {
        soupc_cty_value_free(s);
        return err_set(st, "a number is required");
      }
      *out = s;
      return 0;
    }
    return err_set(st, "number is required");
  case SOUPC_CTY_STRING:
    if (n != NULL && (n->kind == JN_STRING || n->kind == JN_NUMBER)) {
      return soupc__cty_val_string(out, n->s, n->len);
    }
    if (n != NULL && n->kind == JN_BOOL) {
      return soupc__cty_val_string(out, n->b ? "true" : "false", n->b ? 4 : 5);
    }
    return err_set(st, "string is required");
  default:
    return soupc__cty_panic(st, "unsupported primitive type");
  }
}

/* unmarshalCapsule for the bytes capsule: json.Unmarshal into *[]byte. */
static int unm_capsule(struct soupc_cty_value **out,
                       const struct soupc_cty_type *ty, const char *buf,
                       size_t len, soupc_status *st) {
  struct json_node *n = NULL;
  uint8_t *data = NULL;
  size_t dl = 0;
  int rv;

  if (ty != soupc_cty_type_bytes()) {
    return err_set(st, "unsupported type %s", ty->cap->name);
  }
  rv = soupc__json_parse_go(&n, buf, len, JSON_UNMARSHAL, NULL, st);
  if (rv != 0) {
    return rv;
  }
  if (n->kind != JN_STRING) {
    rv = err_set(st, "json: cannot unmarshal %s into Go value of type []uint8",
                 n->kind == JN_NUMBER   ? "number"
                 : n->kind == JN_BOOL   ? "bool"
                 : n->kind == JN_OBJECT ? "object"
                                        : "array");
  } else {
    rv = soupc_cty_base64_decode(&data, &dl, n->s, n->len, st);
    if (rv == 0) {
      rv = soupc_cty_value_bytes(out, data, dl);
      soupc__free(data);
    }
  }
  soupc__json_free(n);
  return rv;
}

/* Finishes a sequence: ListVal / SetVal / TupleVal, or an empty one. */
static int finish_seq(struct soupc_cty_value **out,
                      const struct soupc_cty_type *ty,
                      struct soupc_cty_value **items, size_t n,
                      soupc_status *st, bool top) {
  if (ty->kind == SOUPC_CTY_TUPLE) {
    if (n != ty->n) {
      free_items(items, n);
      if (top) {
        /* go-cty slices the path of the tuple's parent: [:-1] */
        return soupc__cty_panic(
            st, "runtime error: slice bounds out of range [:-1]");
      }
      return err_set(st, "not enough tuple elements (need %zu)", ty->n);
    }
    return soupc__cty_tuple_val(out, items, n);
  }
  if (n == 0) {
    soupc__free(items);
    return soupc__cty_empty_coll(out, ty->kind, ty->elem);
  }
  return soupc__cty_list_val(out, ty->kind, items, n, st);
}

static int finish_map(struct soupc_cty_value **out,
                      const struct soupc_cty_type *ty, char **keys,
                      size_t *lens, struct soupc_cty_value **vals, size_t n,
                      soupc_status *st) {
  size_t i, j, m = 0;

  if (ty->kind == SOUPC_CTY_MAP) {
    if (n == 0) {
      soupc__free(keys);
      soupc__free(lens);
      soupc__free(vals);
      return soupc__cty_empty_coll(out, SOUPC_CTY_MAP, ty->elem);
    }
    return soupc__cty_map_val(out, keys, lens, vals, n, st);
  }
  /* Object: last duplicate wins; missing attributes are null. */
  {
    struct soupc_cty_value **items = soupc__calloc(ty->n + 1, sizeof(*items));
    char **nn = soupc__calloc(ty->n + 1, sizeof(*nn));
    size_t *nl = soupc__calloc(ty->n + 1, sizeof(*nl));
    int rv = 0;
    if (items == NULL || nn == NULL || nl == NULL) {
      rv = SOUPC_ERR_NOMEM;
    }
    for (i = 0; rv == 0 && i < n; i++) {
      long a = soupc__cty_type_attr(ty, keys[i], lens[i]);
      soupc_cty_value_free(items[a]);
      items[a] = vals[i];
      vals[i] = NULL;
    }
    for (j = 0; rv == 0 && j < ty->n; j++) {
      if (items[j] == NULL) {
        rv = soupc_cty_value_null(&items[j], ty->elems[j]);
      }
      if (rv == 0) {
        nn[m] = soupc__strndup(ty->names[j], ty->name_lens[j]);
        nl[m] = ty->name_lens[j];
        rv = nn[m] == NULL ? SOUPC_ERR_NOMEM : 0;
        m += rv == 0;
      }
    }
    for (i = 0; i < n; i++) {
      soupc_cty_value_free(vals[i]);
      soupc__free(keys[i]);
    }
    soupc__free(vals);
    soupc__free(keys);
    soupc__free(lens);
    if (rv != 0) {
      free_items(items, ty->n);
      for (i = 0; nn != NULL && i < m; i++) {
        soupc__free(nn[i]);
      }
      soupc__free(nn);
      soupc__free(nl);
      return rv;
    }
    return soupc__cty_object_val(out, nn, nl, items, ty->n);
  }
}

/* unmarshalDynamic's body: the type and value members already read. */
static int unm_dyn_parts(struct soupc_cty_value **out,
                         const struct json_node *type_node,
                         const struct json_node *value_node, soupc_status *st,
                         int depth) {
  struct soupc_cty_type *t = NULL;
  int rv;

  if (type_node == NULL) {
    return err_set(st, "missing type in dynamically-typed value");
  }
  if (value_node == NULL) {
    return err_set(st, "missing value in dynamically-typed value");
  }
  rv = soupc__cty_type_unmarshal_json(&t, type_node->raw, type_node->raw_len,
                                      st);
  if (rv != 0) {
    return rv == SOUPC_ERR_NOMEM || rv == SOUPC_ERR_CTY_PANIC
               ? rv
               : err_wrap(st, SOUPC_ERR_CTY_DECODE,
                          "failed to decode type for dynamic value");
  }
  /* Unmarshal(valBody, t): a fresh top-level read */
  rv = unm_text(out, t, value_node->raw, value_node->raw_len, st, depth + 1);
  soupc_cty_type_free(t);
  return rv;
}

static int unm_node(struct soupc_cty_value **out,
                    const struct soupc_cty_type *ty, const struct json_node *n,
                    soupc_status *st, int depth) {
  struct soupc_cty_value **items = NULL;
  size_t i;
  int rv;

  if (depth > CTY_MAX_DEPTH) {
    return err_set(st, "JSON value nests too deeply");
  }
  if (n->kind == JN_NULL) {
    return soupc_cty_value_null(out, ty);
  }
  switch (ty->kind) {
  case SOUPC_CTY_DYNAMIC: {
    const struct json_node *tn = NULL, *vn = NULL;
    if (n->kind != JN_OBJECT) {
      return err_set(st, "missing expected {");
    }
    for (i = 0; i < n->n; i++) {
      if (strcmp(n->keys[i], "type") == 0 && n->key_lens[i] == 4) {
        struct soupc_cty_type *t = NULL;
        /* decoded as it is read, so a bad type is reported here */
        rv = soupc__cty_type_unmarshal_json(&t, n->items[i]->raw,
                                            n->items[i]->raw_len, st);
        if (rv != 0) {
          return rv == SOUPC_ERR_NOMEM || rv == SOUPC_ERR_CTY_PANIC
                     ? rv
                     : err_wrap(st, SOUPC_ERR_CTY_DECODE,
                                "failed to decode type for dynamic value");
        }
        soupc_cty_type_free(t);
        tn = n->items[i];
      } else if (strcmp(n->keys[i], "value") == 0 && n->key_lens[i] == 5) {
        vn = n->items[i];
      } else {
        char q[300];
        return err_set(st, "invalid key %s in dynamically-typed value",
                       quoted(q, sizeof(q), n->keys[i], n->key_lens[i]));
      }
    }
    return unm_dyn_parts(out, tn, vn, st, depth);
  }
  case SOUPC_CTY_STRING:
  case SOUPC_CTY_NUMBER:
  case SOUPC_CTY_BOOL:
    return unm_prim(out, ty,
                    n->kind == JN_ARRAY || n->kind == JN_OBJECT ? NULL : n, st);
  case SOUPC_CTY_CAPSULE:
    return unm_capsule(out, ty, n->raw, n->raw_len, st);
  case SOUPC_CTY_LIST:
  case SOUPC_CTY_SET:
  case SOUPC_CTY_TUPLE:
    if (n->kind != JN_ARRAY) {
      return err_set(st, "missing expected [");
    }
    if (ty->kind == SOUPC_CTY_TUPLE && n->n > ty->n) {
      return err_set(st, "too many tuple elements (need %zu)", ty->n);
    }
    items = soupc__calloc(n->n + 1, sizeof(*items));
    if (items == NULL) {
      return SOUPC_ERR_NOMEM;
    }
    for (i = 0; i < n->n; i++) {
      rv = unm_node(&items[i],
                    ty->kind == SOUPC_CTY_TUPLE ? ty->elems[i] : ty->elem,
                    n->items[i], st, depth + 1);
      if (rv != 0) {
        free_items(items, i);
        return rv;
      }
    }
    return finish_seq(out, ty, items, n->n, st, false);
  case SOUPC_CTY_MAP:
  case SOUPC_CTY_OBJECT: {
    char **keys;
    size_t *lens;
    if (n->kind != JN_OBJECT) {
      return err_set(st, "missing expected {");
    }
    items = soupc__calloc(n->n + 1, sizeof(*items));
    keys = soupc__calloc(n->n + 1, sizeof(*keys));
    lens = soupc__calloc(n->n + 1, sizeof(*lens));
    rv = items == NULL || keys == NULL || lens == NULL ? SOUPC_ERR_NOMEM : 0;
    for (i = 0; rv == 0 && i < n->n; i++) {
      if (ty->kind == SOUPC_CTY_OBJECT &&
          soupc__cty_type_attr(ty, n->keys[i], n->key_lens[i]) < 0) {
        char q[300];
        rv = err_set(st, "unsupported attribute %s",
                     quoted(q, sizeof(q), n->keys[i], n->key_lens[i]));
        break;
      }
      rv = unm_node(
          &items[i],
          ty->kind == SOUPC_CTY_OBJECT
              ? ty->elems[soupc__cty_type_attr(ty, n->keys[i], n->key_lens[i])]
              : ty->elem,
          n->items[i], st, depth + 1);
      if (rv == 0) {
        keys[i] = soupc__strndup(n->keys[i], n->key_lens[i]);
        lens[i] = n->key_lens[i];
        rv = keys[i] == NULL ? SOUPC_ERR_NOMEM : 0;
      }
    }
    if (rv != 0) {
      size_t k;
      for (k = 0; keys != NULL && k <= i && k < n->n; k++) {
        soupc__free(keys[k]);
      }
      soupc__free(keys);
      soupc__free(lens);
      free_items(items, n->n);
      return rv;
    }
    return finish_map(out, ty, keys, lens, items, n->n, st);
  }
  }
  return err_set(st, "unsupported type");
}

/* requireDelim */
static int require_delim(struct go_dec *d, char c) {
  struct go_tok t;
  int rv = soupc__godec_token(d, &t);

  if (rv != 0) {
    return rv;
  }
  soupc__json_free(t.node);
  if (t.delim != c) {
    return err_set(d->st, "missing expected %c", c);
  }
  return 0;
}

/* requireObjectKey: the key (owned) or an error wrapped with @p what. */
static int require_key(struct go_dec *d, char **key, size_t *klen,
                       const char *what) {
  struct go_tok t;
  char pre[80];
  int rv = soupc__godec_token(d, &t);

  snprintf(pre, sizeof(pre), "failed to read %s", what);
  if (rv != 0) {
    return err_wrap(d->st, rv, pre);
  }
  if (t.node == NULL || t.node->kind != JN_STRING) {
    soupc__json_free(t.node);
    err_set(d->st, "missing expected object key");
    return err_wrap(d->st, SOUPC_ERR_CTY_DECODE, pre);
  }
  *key = t.node->s;
  *klen = t.node->len;
  t.node->s = NULL;
  soupc__json_free(t.node);
  return 0;
}

static int read_raw(struct go_dec *d, struct json_node **out,
                    const char *what) {
  char pre[80];
  int rv = soupc__godec_decode(d, out);

  if (rv != 0) {
    snprintf(pre, sizeof(pre), "failed to read %s", what);
    return err_wrap(d->st, rv, pre);
  }
  return 0;
}

static int grow(struct soupc_cty_value ***items, char ***keys, size_t **lens,
                size_t n, size_t *cap) {
  size_t nc;

  if (n < *cap) {
    return 0;
  }
  nc = *cap == 0 ? 8 : *cap * 2;
  {
    struct soupc_cty_value **ni = soupc__realloc(*items, nc * sizeof(*ni));
    if (ni == NULL) {
      return SOUPC_ERR_NOMEM;
    }
    *items = ni;
  }
  if (keys != NULL) {
    char **nk = soupc__realloc(*keys, nc * sizeof(*nk));
    size_t *nl;
    if (nk == NULL) {
      return SOUPC_ERR_NOMEM;
    }
    *keys = nk;
    nl = soupc__realloc(*lens, nc * sizeof(*nl));
    if (nl == NULL) {
      return SOUPC_ERR_NOMEM;
    }
    *lens = nl;
  }
  *cap = nc;
  return 0;
}

/* unmarshalList / unmarshalSet / unmarshalTuple on the outer buffer. */
static int stream_seq(struct soupc_cty_value **out,
                      const struct soupc_cty_type *ty, struct go_dec *d,
                      int depth) {
  struct soupc_cty_value **items = NULL;
  size_t n = 0, cap = 0;
  const char *what = ty->kind == SOUPC_CTY_LIST  ? "list value"
                     : ty->kind == SOUPC_CTY_SET ? "set value"
                                                 : "tuple value";
  int rv = require_delim(d, '[');

  if (rv != 0) {
    return rv;
  }
  while (soupc__godec_more(d)) {
    struct json_node *raw = NULL;
    if (ty->kind == SOUPC_CTY_TUPLE && n >= ty->n) {
      rv = err_set(d->st, "too many tuple elements (need %zu)", ty->n);
      goto fail;
    }
    rv = grow(&items, NULL, NULL, n, &cap);
    if (rv == 0) {
      rv = read_raw(d, &raw, what);
    }
    if (rv == 0) {
      rv = unm_node(&items[n],
                    ty->kind == SOUPC_CTY_TUPLE ? ty->elems[n] : ty->elem, raw,
                    d->st, depth + 1);
      soupc__json_free(raw);
    }
    if (rv != 0) {
      goto fail;
    }
    n++;
  }
  rv = require_delim(d, ']');
  if (rv != 0) {
    goto fail;
  }
  if (items == NULL) {
    items = soupc__calloc(1, sizeof(*items));
    if (items == NULL) {
      return SOUPC_ERR_NOMEM;
    }
  }
  return finish_seq(out, ty, items, n, d->st, true);
fail:
  free_items(items, n);
  return rv;
}

/* unmarshalMap / unmarshalObject / unmarshalDynamic on the outer buffer. */
static int stream_obj(struct soupc_cty_value **out,
                      const struct soupc_cty_type *ty, struct go_dec *d,
                      int depth) {
  struct soupc_cty_value **items = NULL;
  struct json_node *type_node = NULL, *value_node = NULL;
  char **keys = NULL;
  size_t *lens = NULL;
  size_t n = 0, cap = 0, i;
  bool dyn = ty->kind == SOUPC_CTY_DYNAMIC;
  const char *kw = dyn                            ? "dynamic type descriptor"
                   : ty->kind == SOUPC_CTY_OBJECT ? "object"
                                                  : "map";
  char what[64];
  int rv = require_delim(d, '{');

  if (rv != 0) {
    return rv;
  }
  while (soupc__godec_more(d)) {
    struct json_node *raw = NULL;
    char *key = NULL;
    size_t klen = 0;
    long a = -1;
    snprintf(what, sizeof(what), "%s key", kw);
    rv = require_key(d, &key, &klen, what);
    if (rv != 0) {
      goto fail;
    }
    if (ty->kind == SOUPC_CTY_OBJECT) {
      a = soupc__cty_type_attr(ty, key, klen);
      if (a < 0) {
        char q[300];
        rv = err_set(d->st, "unsupported attribute %s",
                     quoted(q, sizeof(q), key, klen));
        soupc__free(key);
        goto fail;
      }
    }
    snprintf(what, sizeof(what), "%s value", kw);
    rv = read_raw(d, &raw, what);
    if (rv != 0) {
      soupc__free(key);
      goto fail;
    }
    if (dyn) {
      if (klen == 4 && memcmp(key, "type", 4) == 0) {
        struct soupc_cty_type *t = NULL;
        rv = soupc__cty_type_unmarshal_json(&t, raw->raw, raw->raw_len, d->st);
        if (rv != 0 && rv != SOUPC_ERR_NOMEM && rv != SOUPC_ERR_CTY_PANIC) {
          rv = err_wrap(d->st, SOUPC_ERR_CTY_DECODE,
                        "failed to decode type for dynamic value");
        }
        soupc_cty_type_free(t);
        soupc__json_free(type_node);
        type_node = raw;
      } else if (klen == 5 && memcmp(key, "value", 5) == 0) {
        soupc__json_free(value_node);
        value_node = raw;
      } else {
        char q[300];
        rv = err_set(d->st, "invalid key %s in dynamically-typed value",
                     quoted(q, sizeof(q), key, klen));
        soupc__json_free(raw);
      }
      soupc__free(key);
      if (rv != 0) {
        goto fail;
      }
      continue;
    }
    rv = grow(&items, &keys, &lens, n, &cap);
    if (rv == 0) {
      rv = unm_node(&items[n], a >= 0 ? ty->elems[a] : ty->elem, raw, d->st,
                    depth + 1);
    }
    soupc__json_free(raw);
    if (rv != 0) {
      soupc__free(key);
      goto fail;
    }
    keys[n] = key;
    lens[n] = klen;
    n++;
  }
  rv = require_delim(d, '}');
  if (rv != 0) {
    goto fail;
  }
  if (dyn) {
    rv = unm_dyn_parts(out, type_node, value_node, d->st, depth);
    soupc__json_free(type_node);
    soupc__json_free(value_node);
    return rv;
  }
  if (items == NULL) {
    items = soupc__calloc(1, sizeof(*items));
    keys = soupc__calloc(1, sizeof(*keys));
    lens = soupc__calloc(1, sizeof(*lens));
    if (items == NULL || keys == NULL || lens == NULL) {
      soupc__free(items);
      soupc__free(keys);
      soupc__free(lens);
      return SOUPC_ERR_NOMEM;
    }
  }
  return finish_map(out, ty, keys, lens, items, n, d->st);
fail:
  soupc__json_free(type_node);
  soupc__json_free(value_node);
  for (i = 0; i < n; i++) {
    soupc__free(keys[i]);
  }
  soupc__free(keys);
  soupc__free(lens);
  free_items(items, n);
  return rv;
}

static int unm_text(struct soupc_cty_value **out,
                    const struct soupc_cty_type *ty, const char *buf,
                    size_t len, soupc_status *st, int depth) {
  struct go_dec *d;
  struct go_tok t;
  int rv;

  if (depth > CTY_MAX_DEPTH) {
    return err_set(st, "JSON value nests too deeply");
  }
  if (ty == NULL) {
    return err_set(st, "no type to unmarshal the JSON value into");
  }
  d = soupc__malloc(sizeof(*d));
  if (d == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  soupc__godec_init(d, buf, len, st);
  rv = soupc__godec_token(d, &t);
  if (rv != 0) {
    goto out;
  }
  if (t.node != NULL && t.node->kind == JN_NULL) {
    soupc__json_free(t.node);
    rv = soupc_cty_value_null(out, ty);
    goto out;
  }
  /* Each container reader starts over on the same buffer. */
  soupc__godec_init(d, buf, len, st);
  switch (ty->kind) {
  case SOUPC_CTY_DYNAMIC:
  case SOUPC_CTY_MAP:
  case SOUPC_CTY_OBJECT:
    soupc__json_free(t.node);
    rv = stream_obj(out, ty, d, depth);
    break;
  case SOUPC_CTY_LIST:
  case SOUPC_CTY_SET:
  case SOUPC_CTY_TUPLE:
    soupc__json_free(t.node);
    rv = stream_seq(out, ty, d, depth);
    break;
  case SOUPC_CTY_CAPSULE:
    soupc__json_free(t.node);
    rv = unm_capsule(out, ty, buf, len, st);
    break;
  default:
    rv = unm_prim(out, ty, t.node, st);
    soupc__json_free(t.node);
    break;
  }
out:
  soupc__free(d);
  return rv;
}

int soupc_cty_json_decode(soupc_cty_value **out, const soupc_cty_type *ty,
                          const char *json, size_t len, soupc_status *st) {
  return unm_text(out, ty, json, len, st, 0);
}

int soupc__cty_json_unmarshal_node(struct soupc_cty_value **out,
                                   const struct soupc_cty_type *ty,
                                   const struct json_node *n,
                                   soupc_status *st) {
  return unm_text(out, ty, n->raw, n->raw_len, st, 0);
}

/* ---- soup-go buildCtyValueFromJSON ---- */

struct bpath {
  char s[512]; /* soup-go's path: elements joined with '.' */
};

static size_t bpath_push(struct bpath *p, const char *seg, size_t len) {
  size_t old = strlen(p->s);

  snprintf(p->s + old, sizeof(p->s) - old, "%s%.*s", old > 0 ? "." : "",
           (int)len, seg);
  return old;
}

static int build(struct soupc_cty_value **out, const struct soupc_cty_type *ty,
                 const struct json_node *n, struct bpath *path,
                 soupc_status *st, int depth);

/* Go map semantics: the members of @p n sorted by key, later duplicates
 * replacing earlier ones. @return the member indexes (count in *m). */
static size_t *map_order(const struct json_node *n, size_t *m_out) {
  size_t *idx = soupc__calloc(n->n + 1, sizeof(*idx));
  size_t i, j, m = 0;

  if (idx == NULL) {
    return NULL;
  }
  for (i = 0; i < n->n; i++) {
    size_t lo = 0, hi = m;
    while (lo < hi) {
      size_t mid = (lo + hi) / 2, a = idx[mid];
      size_t l =
          n->key_lens[a] < n->key_lens[i] ? n->key_lens[a] : n->key_lens[i];
      int c = l > 0 ? memcmp(n->keys[a], n->keys[i], l) : 0;
      if (c == 0) {
        c = n->key_lens[a] < n->key_lens[i] ? -1
                                            : n->key_lens[a] > n->key_lens[i];
      }
      if (c < 0) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    if (lo < m && n->key_lens[idx[lo]] == n->key_lens[i] &&
        memcmp(n->keys[idx[lo]], n->keys[i], n->key_lens[i]) == 0) {
      idx[lo] = i;
      continue;
    }
    for (j = m; j > lo; j--) {
      idx[j] = idx[j - 1];
    }
    idx[lo] = i;
    m++;
  }
  *m_out = m;
  return idx;
}

static int build_bytes(struct soupc_cty_value **out, const struct json_node *n,
                       struct bpath *path, soupc_status *st) {
  uint8_t *data = NULL;
  size_t dl = 0;
  int rv;

  if (n->kind != JN_STRING) {
    return err_set(st, "expected base64 string for bytes at %s", path->s);
  }
  rv = soupc_cty_base64_decode(&data, &dl, n->s, n->len, st);
  if (rv == SOUPC_ERR_CTY_DECODE) {
    char msg[1100];
    snprintf(msg, sizeof(msg), "invalid base64 for bytes at %s: %s", path->s,
             st != NULL ? st->message : "");
    return err_set(st, "%s", msg);
  }
  if (rv != 0) {
    return rv;
  }
  rv = soupc_cty_value_bytes(out, data, dl);
  soupc__free(data);
  return rv;
}

static int build_number(struct soupc_cty_value **out, const struct json_node *n,
                        struct bpath *path, soupc_status *st) {
  struct soupc_cty_value *v = NULL;
  struct cty_num *num;
  char q[300];
  const char *why;
  int rv;

  if (n->kind != JN_STRING && n->kind != JN_NUMBER) {
    return err_set(st, "expected number at %s", path->s);
  }
  rv = soupc__cty_val_number(&v, &num);
  if (rv != 0) {
    return rv;
  }
  if (soupc__cty_num_parse(num, n->s, n->len, &why) != 0) {
    soupc_cty_value_free(v);
    return err_set(st, "invalid number%s at %s: %s is not a number: %s",
                   n->kind == JN_STRING ? " string" : "", path->s,
                   quoted(q, sizeof(q), n->s, n->len), why);
  }
  *out = v;
  return 0;
}

static int build_seq(struct soupc_cty_value **out,
                     const struct soupc_cty_type *ty, const struct json_node *n,
                     struct bpath *path, soupc_status *st, int depth) {
  struct soupc_cty_value **items;
  char seg[32];
  size_t i, old;
  int rv;

  if (n->kind != JN_ARRAY) {
    return err_set(st, "expected array at %s", path->s);
  }
  items = soupc__calloc(n->n + 1, sizeof(*items));
  if (items == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  for (i = 0; i < n->n; i++) {
    if (ty->kind == SOUPC_CTY_TUPLE && i >= ty->n) {
      /* ty.TupleElementType(i) indexes past the end: Go panics */
      free_items(items, i);
      return soupc__cty_panic(st,
                              "runtime error: index out of range [%zu] "
                              "with length %zu",
                              i, ty->n);
    }
    snprintf(seg, sizeof(seg), "[%zu]", i);
    old = bpath_push(path, seg, strlen(seg));
    rv = build(&items[i], ty->kind == SOUPC_CTY_TUPLE ? ty->elems[i] : ty->elem,
               n->items[i], path, st, depth + 1);
    path->s[old] = '\0';
    if (rv != 0) {
      free_items(items, i);
      return rv;
    }
  }
  if (ty->kind == SOUPC_CTY_TUPLE) {
    return soupc__cty_tuple_val(out, items, n->n);
  }
  if (n->n == 0) {
    soupc__free(items);
    return soupc__cty_empty_coll(out, ty->kind, ty->elem);
  }
  return soupc__cty_list_val(out, ty->kind, items, n->n, st);
}

static int build_mapping(struct soupc_cty_value **out,
                         const struct soupc_cty_type *ty,
                         const struct json_node *n, struct bpath *path,
                         soupc_status *st, int depth) {
  struct soupc_cty_value **vals = NULL;
  char **keys = NULL;
  size_t *lens = NULL, *order = NULL;
  size_t i, m = 0, old;
  int rv = SOUPC_ERR_NOMEM;

  if (n->kind != JN_OBJECT) {
    return err_set(st, "expected object at %s", path->s);
  }
  order = map_order(n, &m);
  vals = soupc__calloc(m + 1, sizeof(*vals));
  keys = soupc__calloc(m + 1, sizeof(*keys));
  lens = soupc__calloc(m + 1, sizeof(*lens));
  if (order == NULL || vals == NULL || keys == NULL || lens == NULL) {
    goto fail;
  }
  for (i = 0; i < m; i++) {
    const struct json_node *item = n->items[order[i]];
    const char *k = n->keys[order[i]];
    size_t kl = n->key_lens[order[i]];
    const struct soupc_cty_type *et = ty->elem;
    if (ty->kind == SOUPC_CTY_OBJECT) {
      long a = soupc_cty_type_attribute_index(ty, k, kl);
      if (a < 0) {
        rv = soupc__cty_panic(st, "no such attribute");
        goto fail;
      }
      et = ty->elems[a];
    }
    old = bpath_push(path, k, kl);
    rv = build(&vals[i], et, item, path, st, depth + 1);
    path->s[old] = '\0';
    if (rv != 0) {
      goto fail;
    }
    keys[i] = soupc__strndup(k, kl);
    lens[i] = kl;
    if (keys[i] == NULL) {
      rv = SOUPC_ERR_NOMEM;
      goto fail;
    }
  }
  soupc__free(order);
  if (ty->kind == SOUPC_CTY_OBJECT) {
    return soupc__cty_object_val(out, keys, lens, vals, m);
  }
  if (m == 0) {
    soupc__free(vals);
    soupc__free(keys);
    soupc__free(lens);
    return soupc__cty_empty_coll(out, SOUPC_CTY_MAP, ty->elem);
  }
  return soupc__cty_map_val(out, keys, lens, vals, m, st);
fail:
  for (i = 0; keys != NULL && i < m; i++) {
    soupc__free(keys[i]);
  }
  free_items(vals, m);
  soupc__free(keys);
  soupc__free(lens);
  soupc__free(order);
  return rv;
}

static int build(struct soupc_cty_value **out, const struct soupc_cty_type *ty,
                 const struct json_node *n, struct bpath *path,
                 soupc_status *st, int depth) {
  struct cty_buf fb;
  int rv;

  if (depth > CTY_MAX_DEPTH) {
    return err_set(st, "JSON value nests too deeply");
  }
  if (n->kind == JN_NULL) {
    return soupc_cty_value_null(out, ty);
  }
  if (ty == soupc_cty_type_bytes()) {
    return build_bytes(out, n, path, st);
  }
  switch (ty->kind) {
  case SOUPC_CTY_STRING:
    if (n->kind != JN_STRING) {
      return err_set(st, "expected string at %s", path->s);
    }
    return soupc__cty_val_string(out, n->s, n->len);
  case SOUPC_CTY_NUMBER:
    return build_number(out, n, path, st);
  case SOUPC_CTY_BOOL:
    if (n->kind != JN_BOOL) {
      return err_set(st, "expected bool at %s", path->s);
    }
    *out = soupc__cty_bool_val(n->b);
    return 0;
  case SOUPC_CTY_LIST:
  case SOUPC_CTY_SET:
  case SOUPC_CTY_TUPLE:
    return build_seq(out, ty, n, path, st, depth);
  case SOUPC_CTY_MAP:
  case SOUPC_CTY_OBJECT:
    return build_mapping(out, ty, n, path, st, depth);
  default:
    soupc__cty_buf_init(&fb);
    soupc__cty_type_friendly(&fb, ty, false);
    soupc__cty_buf_putc(&fb, 0);
    rv = fb.oom ? SOUPC_ERR_NOMEM
                : err_set(st, "cannot build value for type %s at %s",
                          (char *)fb.p, path->s);
    soupc__cty_buf_dispose(&fb);
    return rv;
  }
}

int soupc__cty_build_from_json(struct soupc_cty_value **out,
                               const struct soupc_cty_type *ty,
                               const char *json, size_t len, bool fill_required,
                               soupc_status *st) {
  struct json_node *n = NULL;
  struct bpath *path;
  int rv;

  (void)fill_required;
  if (ty->kind == SOUPC_CTY_DYNAMIC) {
    /* ctyjson.ImpliedType then ctyjson.Unmarshal */
    struct soupc_cty_type *it = NULL;
    rv = implied_text(&it, json, len, st);
    if (rv != 0) {
      return rv;
    }
    rv = unm_text(out, it, json, len, st, 0);
    soupc_cty_type_free(it);
    return rv;
  }
  /* json.Decoder.Decode: the first value; trailing bytes ignored */
  rv = soupc__json_parse_go(&n, json, len, JSON_DECODER, NULL, st);
  if (rv != 0) {
    return rv;
  }
  path = soupc__calloc(1, sizeof(*path));
  if (path == NULL) {
    soupc__json_free(n);
    return SOUPC_ERR_NOMEM;
  }
  rv = build(out, ty, n, path, st, 0);
  soupc__free(path);
  soupc__json_free(n);
  return rv;
}

int soupc_cty_value_from_json(soupc_cty_value **out, const soupc_cty_type *ty,
                              const char *json, size_t len, int fill_required,
                              soupc_status *st) {
  return soupc__cty_build_from_json(out, ty, json, len, fill_required != 0, st);
}
