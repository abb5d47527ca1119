/* Readers from JSON text: soup-go's buildCtyValueFromJSON (spec §1.3 a),
 * its rich dialect (§1.3 b), go-cty json.Unmarshal (§3.2) and
 * json.ImpliedType (§3.3). All work on the exact-number tree of
 * json_dom.c. */
#include "cty/cty_int.h"

#include "base/alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rd {
  soupc_status *st;
  bool fill_required; /* builder: missing required attributes -> null */
  char path[256];     /* soup-go error path: [0], key, joined with '.' */
};

/* Frees the first @p n values of @p items and the array (NULL entries are
 * fine), for the error paths of the readers below. @return @p rv. */
static int free_items(soupc_cty_value **items, size_t n, int rv) {
  size_t i;

  for (i = 0; i < n; i++) {
    soupc_cty_value_free(items[i]);
  }
  soupc__free(items);
  return rv;
}

static int rd_err(struct rd *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int rd_err(struct rd *r, const char *fmt, ...) {
  char msg[400];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  soupc_status_set(r->st, SOUPC_GRPC_INVALID_ARGUMENT, "%s", msg);
  return SOUPC_ERR_CTY_DECODE;
}

static size_t path_push(struct rd *r, const char *seg, bool index) {
  size_t old = strlen(r->path);

  /* soup-go joins path elements with '.', indexes included: a.[1] */
  (void)index;
  snprintf(r->path + old, sizeof(r->path) - old, "%s%s", old > 0 ? "." : "",
           seg);
  return old;
}

static int str_val(struct soupc_cty_value **out, const char *s, size_t len) {
  return soupc__cty_val_string(out, s, len);
}

static int num_val(struct soupc_cty_value **out, const char *s, size_t len,
                   const char **why) {
  struct soupc_cty_value *v = NULL;
  int rv = soupc_cty_value_number_int(&v, 0);

  if (rv != 0) {
    return rv;
  }
  if (soupc__cty_num_parse(v->u.num, s, len, why) != 0) {
    soupc_cty_value_free(v);
    return SOUPC_ERR_CTY_DECODE;
  }
  *out = v;
  return 0;
}

/* ---- json.ImpliedType ---- */
static int implied(struct soupc_cty_type **out, const struct json_node *n,
                   struct rd *r, int depth) {
  size_t i = 0, j;
  int rv;

  if (depth > CTY_MAX_DEPTH) {
    return rd_err(r, "JSON value nests deeper than %s levels", "256");
  }
  switch (n->kind) {
  case JN_NULL:
    *out = soupc__cty_type_prim(SOUPC_CTY_DYNAMIC);
    return 0;
  case JN_BOOL:
    *out = soupc__cty_type_prim(SOUPC_CTY_BOOL);
    return 0;
  case JN_NUMBER:
    *out = soupc__cty_type_prim(SOUPC_CTY_NUMBER);
    return 0;
  case JN_STRING:
    *out = soupc__cty_type_prim(SOUPC_CTY_STRING);
    return 0;
  case JN_ARRAY: {
    struct soupc_cty_type **ts = soupc__calloc(n->n + 1, sizeof(*ts));
    if (ts == NULL) {
      return SOUPC_ERR_NOMEM;
    }
    for (i = 0; i < n->n; i++) {
      rv = implied(&ts[i], n->items[i], r, depth + 1);
      if (rv != 0) {
        while (i > 0) {
          soupc_cty_type_free(ts[--i]);
        }
        soupc__free(ts);
        return rv;
      }
    }
    rv = soupc__cty_type_new_tuple(out, ts, n->n);
    soupc__free(ts);
    return rv;
  }
  case JN_OBJECT: {
    struct soupc_cty_type **ts = soupc__calloc(n->n + 1, sizeof(*ts));
    char **names = soupc__calloc(n->n + 1, sizeof(*names));
    size_t *lens = soupc__calloc(n->n + 1, sizeof(*lens));
    rv = SOUPC_ERR_NOMEM;
    if (ts == NULL || names == NULL || lens == NULL) {
      goto obj_out;
    }
    for (i = 0; i < n->n; i++) {
      rv = implied(&ts[i], n->items[i], r, depth + 1);
      if (rv != 0) {
        goto obj_out;
      }
      /* v1.16.2+: a repeated key must imply the same type. */
      for (j = 0; j < i; j++) {
        if (n->key_lens[j] == n->key_lens[i] &&
            memcmp(n->keys[j], n->keys[i], n->key_lens[i]) == 0 &&
            !soupc__cty_type_equal(ts[j], ts[i])) {
          soupc_status_set(r->st, SOUPC_GRPC_INVALID_ARGUMENT,
                           "duplicate \"%s\" property in JSON object",
                           n->keys[i]);
          i++;
          rv = SOUPC_ERR_CTY_DECODE;
          goto obj_out;
        }
      }
      names[i] = soupc__cty_nfc(n->keys[i], n->key_lens[i], &lens[i]);
      if (names[i] == NULL) {
        i++;
        rv = SOUPC_ERR_NOMEM;
        goto obj_out;
      }
    }
    rv = soupc__cty_type_new_object(out, names, lens, ts, NULL, n->n);
    soupc__free(ts);
    soupc__free(names);
    soupc__free(lens);
    return rv;
  obj_out:
    for (j = 0; ts != NULL && names != NULL && j < i; j++) {
      soupc_cty_type_free(ts[j]);
      soupc__free(names[j]);
    }
    soupc__free(ts);
    soupc__free(names);
    soupc__free(lens);
    return rv;
  }
  }
  return SOUPC_ERR_CTY_DECODE;
}

/* ---- go-cty json.Unmarshal ---- */
static int unm(struct soupc_cty_value **out, const struct soupc_cty_type *ty,
               const struct json_node *n, struct rd *r, int depth);

static int unm_items(struct soupc_cty_value ***items_out,
                     const struct soupc_cty_type *const *tys, size_t ntys,
                     const struct json_node *n, struct rd *r, int depth) {
  struct soupc_cty_value **items = soupc__calloc(n->n + 1, sizeof(*items));
  size_t i;
  int rv;

  if (items == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  for (i = 0; i < n->n; i++) {
    rv = unm(&items[i], ntys == 1 ? tys[0] : tys[i], n->items[i], r, depth + 1);
    if (rv != 0) {
      return free_items(items, i, rv);
    }
  }
  *items_out = items;
  return 0;
}

static int map_keys(char ***keys_out, size_t **lens_out,
                    const struct json_node *n) {
  char **keys = soupc__calloc(n->n + 1, sizeof(*keys));
  size_t *lens = soupc__calloc(n->n + 1, sizeof(*lens));
  size_t i;

  if (keys == NULL || lens == NULL) {
    goto nomem;
  }
  for (i = 0; i < n->n; i++) {
    keys[i] = soupc__cty_nfc(n->keys[i], n->key_lens[i], &lens[i]);
    if (keys[i] == NULL) {
      while (i > 0) {
        soupc__free(keys[--i]);
      }
      goto nomem;
    }
  }
  *keys_out = keys;
  *lens_out = lens;
  return 0;
nomem:
  soupc__free(keys);
  soupc__free(lens);
  return SOUPC_ERR_NOMEM;
}

static int unm(struct soupc_cty_value **out, const struct soupc_cty_type *ty,
               const struct json_node *n, struct rd *r, int depth) {
  struct soupc_cty_value **items = NULL;
  const char *why;
  size_t i;
  int rv;

  if (depth > CTY_MAX_DEPTH) {
    return rd_err(r, "JSON value nests deeper than %s levels", "256");
  }
  if (n->kind == JN_NULL) {
    return soupc_cty_value_null(out, ty);
  }
  switch (ty->kind) {
  case SOUPC_CTY_DYNAMIC: {
    const struct json_node *tn = NULL, *vn = NULL;
    struct soupc_cty_type *t = NULL;
    if (n->kind != JN_OBJECT) {
      return rd_err(r, "missing expected {%s", "");
    }
    for (i = 0; i < n->n; i++) {
      if (strcmp(n->keys[i], "type") == 0) {
        tn = n->items[i];
      } else if (strcmp(n->keys[i], "value") == 0) {
        vn = n->items[i];
      } else {
        return rd_err(r, "invalid key \"%s\" in dynamically-typed value",
                      n->keys[i]);
      }
    }
    if (tn == NULL) {
      return rd_err(r, "missing type in dynamically-typed value%s", "");
    }
    if (vn == NULL) {
      return rd_err(r, "missing value in dynamically-typed value%s", "");
    }
    rv = soupc__cty_type_from_node(&t, tn, r->st);
    if (rv != 0) {
      return rv;
    }
    rv = unm(out, t, vn, r, depth + 1);
    soupc_cty_type_free(t);
    return rv;
  }
  case SOUPC_CTY_STRING:
    if (n->kind == JN_STRING || n->kind == JN_NUMBER) {
      return str_val(out, n->s, n->len);
    }
    if (n->kind == JN_BOOL) {
      return str_val(out, n->b ? "true" : "false", n->b ? 4 : 5);
    }
    return rd_err(r, "a string is required%s", "");
  case SOUPC_CTY_NUMBER:
    if (n->kind == JN_STRING || n->kind == JN_NUMBER) {
      rv = num_val(out, n->s, n->len, &why);
      if (rv == SOUPC_ERR_CTY_DECODE) {
        return rd_err(r, "a number is required%s", "");
      }
      return rv;
    }
    return rd_err(r, "a number is required%s", "");
  case SOUPC_CTY_BOOL:
    if (n->kind == JN_BOOL) {
      return soupc_cty_value_bool(out, n->b);
    }
    if (n->kind == JN_STRING && strcmp(n->s, "true") == 0) {
      return soupc_cty_value_bool(out, 1);
    }
    if (n->kind == JN_STRING && strcmp(n->s, "false") == 0) {
      return soupc_cty_value_bool(out, 0);
    }
    return rd_err(r, "a bool is required%s", "");
  case SOUPC_CTY_LIST:
  case SOUPC_CTY_SET: {
    const struct soupc_cty_type *et = ty->elem;
    if (n->kind != JN_ARRAY) {
      return rd_err(r,
                    ty->kind == SOUPC_CTY_LIST ? "a list is required%s"
                                               : "a set is required%s",
                    "");
    }
    rv = unm_items(&items, &et, 1, n, r, depth);
    if (rv != 0) {
      return rv;
    }
    return soupc__cty_val_list(out, ty->kind, ty, items, n->n, r->st);
  }
  case SOUPC_CTY_MAP: {
    const struct soupc_cty_type *et = ty->elem;
    char **keys = NULL;
    size_t *lens = NULL;
    if (n->kind != JN_OBJECT) {
      return rd_err(r, "a map is required%s", "");
    }
    rv = unm_items(&items, &et, 1, n, r, depth);
    if (rv != 0) {
      return rv;
    }
    rv = map_keys(&keys, &lens, n);
    if (rv != 0) {
      return free_items(items, n->n, rv);
    }
    return soupc__cty_val_map(out, ty, keys, lens, items, n->n, r->st);
  }
  case SOUPC_CTY_TUPLE:
    if (n->kind != JN_ARRAY) {
      return rd_err(r, "a tuple is required%s", "");
    }
    if (n->n != ty->n) {
      /* go-cty: "too many tuple elements"; too few panics (spec §3.2). */
      soupc_status_set(r->st, SOUPC_GRPC_INVALID_ARGUMENT,
                       "%s tuple elements (need %zu)",
                       n->n > ty->n ? "too many" : "not enough", ty->n);
      return SOUPC_ERR_CTY_DECODE;
    }
    rv = unm_items(&items, (const struct soupc_cty_type *const *)ty->elems,
                   ty->n == 1 ? 2 : ty->n, n, r, depth);
    if (rv != 0) {
      return rv;
    }
    return soupc__cty_val_tuple(out, ty, items, n->n, r->st);
  case SOUPC_CTY_OBJECT:
    if (n->kind != JN_OBJECT) {
      return rd_err(r, "an object is required%s", "");
    }
    items = soupc__calloc(ty->n + 1, sizeof(*items));
    if (items == NULL) {
      return SOUPC_ERR_NOMEM;
    }
    for (i = 0; i < n->n; i++) {
      long idx = soupc__cty_type_attr(ty, n->keys[i], n->key_lens[i]);
      struct soupc_cty_value *v = NULL;
      if (idx < 0) {
        rv = rd_err(r, "unsupported attribute \"%s\"", n->keys[i]);
        goto obj_fail;
      }
      rv = unm(&v, ty->elems[idx], n->items[i], r, depth + 1);
      if (rv != 0) {
        goto obj_fail;
      }
      soupc_cty_value_free(items[idx]); /* duplicate: last wins */
      items[idx] = v;
    }
    /* Missing attributes become null, except that {} is EmptyObjectVal,
     * which Marshal then converts (optional -> null, required -> error). */
    for (i = 0; i < ty->n && n->n > 0; i++) {
      if (items[i] == NULL) {
        rv = soupc_cty_value_null(&items[i], ty->elems[i]);
        if (rv != 0) {
          goto obj_fail;
        }
      }
    }
    return soupc__cty_val_object(out, ty, items, r->st);
  obj_fail:
    return free_items(items, ty->n, rv);
  }
  return SOUPC_ERR_CTY_DECODE;
}

/* Type.AttributeType/HasAttribute NFC-normalise the name first; the raw
 * map lookups in go-cty's json/msgpack decoders do not. */
static long attr_nfc(const struct soupc_cty_type *ty, const char *k,
                     size_t len) {
  size_t nl = 0;
  char *nk;
  long idx = soupc__cty_type_attr(ty, k, len);

  if (idx >= 0) {
    return idx;
  }
  nk = soupc__cty_nfc(k, len, &nl);
  if (nk == NULL) {
    return -1;
  }
  idx = soupc__cty_type_attr(ty, nk, nl);
  soupc__free(nk);
  return idx;
}

/* ---- soup-go buildCtyValueFromJSON ---- */
static int build(struct soupc_cty_value **out, const struct soupc_cty_type *ty,
                 const struct json_node *n, struct rd *r, int depth) {
  struct soupc_cty_value **items = NULL;
  const char *why;
  char seg[48];
  size_t i, old;
  int rv;

  if (depth > CTY_MAX_DEPTH) {
    return rd_err(r, "JSON value nests deeper than %s levels", "256");
  }
  if (n->kind == JN_NULL) {
    return soupc_cty_value_null(out, ty);
  }
  switch (ty->kind) {
  case SOUPC_CTY_DYNAMIC:
    return rd_err(r, "cannot build value for type dynamic at %s", r->path);
  case SOUPC_CTY_STRING:
    if (n->kind != JN_STRING) {
      return rd_err(r, "expected string at %s", r->path);
    }
    return str_val(out, n->s, n->len);
  case SOUPC_CTY_NUMBER:
    if (n->kind != JN_STRING && n->kind != JN_NUMBER) {
      return rd_err(r, "expected number at %s", r->path);
    }
    rv = num_val(out, n->s, n->len, &why);
    if (rv == SOUPC_ERR_CTY_DECODE) {
      soupc_status_set(r->st, SOUPC_GRPC_INVALID_ARGUMENT,
                       "invalid number%s at %s: \"%s\" is not a number: %s",
                       n->kind == JN_STRING ? " string" : "", r->path, n->s,
                       why);
    }
    return rv;
  case SOUPC_CTY_BOOL:
    if (n->kind != JN_BOOL) {
      return rd_err(r, "expected bool at %s", r->path);
    }
    return soupc_cty_value_bool(out, n->b);
  case SOUPC_CTY_LIST:
  case SOUPC_CTY_SET:
  case SOUPC_CTY_TUPLE:
    if (n->kind != JN_ARRAY) {
      return rd_err(r, "expected array at %s", r->path);
    }
    if (ty->kind == SOUPC_CTY_TUPLE && n->n != ty->n) {
      /* soup-go panics on extra elements and Marshal refuses missing
       * ones ("tuple required"); both are an error here. */
      soupc_status_set(r->st, SOUPC_GRPC_INVALID_ARGUMENT,
                       "tuple required: the type has %zu elements, the "
                       "value %zu",
                       ty->n, n->n);
      return SOUPC_ERR_CTY_DECODE;
    }
    items = soupc__calloc(n->n + 1, sizeof(*items));
    if (items == NULL) {
      return SOUPC_ERR_NOMEM;
    }
    for (i = 0; i < n->n; i++) {
      snprintf(seg, sizeof(seg), "[%zu]", i);
      old = path_push(r, seg, true);
      rv = build(&items[i],
                 ty->kind == SOUPC_CTY_TUPLE ? ty->elems[i] : ty->elem,
                 n->items[i], r, depth + 1);
      r->path[old] = '\0';
      if (rv != 0) {
        return free_items(items, i, rv);
      }
    }
    if (ty->kind == SOUPC_CTY_TUPLE) {
      return soupc__cty_val_tuple(out, ty, items, n->n, r->st);
    }
    return soupc__cty_val_list(out, ty->kind, ty, items, n->n, r->st);
  case SOUPC_CTY_MAP: {
    char **keys = NULL;
    size_t *lens = NULL;
    if (n->kind != JN_OBJECT) {
      return rd_err(r, "expected object at %s", r->path);
    }
    items = soupc__calloc(n->n + 1, sizeof(*items));
    if (items == NULL) {
      return SOUPC_ERR_NOMEM;
    }
    for (i = 0; i < n->n; i++) {
      old = path_push(r, n->keys[i], false);
      rv = build(&items[i], ty->elem, n->items[i], r, depth + 1);
      r->path[old] = '\0';
      if (rv != 0) {
        return free_items(items, i, rv);
      }
    }
    rv = map_keys(&keys, &lens, n);
    if (rv != 0) {
      return free_items(items, n->n, rv);
    }
    return soupc__cty_val_map(out, ty, keys, lens, items, n->n, r->st);
  }
  case SOUPC_CTY_OBJECT:
    if (n->kind != JN_OBJECT) {
      return rd_err(r, "expected object at %s", r->path);
    }
    items = soupc__calloc(ty->n + 1, sizeof(*items));
    if (items == NULL) {
      return SOUPC_ERR_NOMEM;
    }
    for (i = 0; i < n->n; i++) {
      long idx = attr_nfc(ty, n->keys[i], n->key_lens[i]);
      struct soupc_cty_value *v = NULL;
      if (idx < 0) {
        /* soup-go panics here ("no such attribute", spec §8). */
        soupc_status_set(r->st, SOUPC_GRPC_INVALID_ARGUMENT,
                         "no such attribute \"%s\" at %s", n->keys[i], r->path);
        rv = SOUPC_ERR_CTY_DECODE;
        goto obj_fail;
      }
      old = path_push(r, n->keys[i], false);
      rv = build(&v, ty->elems[idx], n->items[i], r, depth + 1);
      r->path[old] = '\0';
      if (rv != 0) {
        goto obj_fail;
      }
      soupc_cty_value_free(items[idx]);
      items[idx] = v;
    }
    for (i = 0; r->fill_required && i < ty->n; i++) {
      if (items[i] == NULL) {
        rv = soupc_cty_value_null(&items[i], ty->elems[i]);
        if (rv != 0) {
          goto obj_fail;
        }
      }
    }
    return soupc__cty_val_object(out, ty, items, r->st);
  obj_fail:
    return free_items(items, ty->n, rv);
  }
  return SOUPC_ERR_CTY_DECODE;
}

int soupc_cty_value_from_json(soupc_cty_value **out, const soupc_cty_type *ty,
                              const char *json, size_t len, int fill_required,
                              soupc_status *st) {
  struct json_node *n = NULL;
  struct rd r;
  bool trailing = false;
  int rv;

  memset(&r, 0, sizeof(r));
  r.st = st;
  r.fill_required = fill_required != 0;
  rv = soupc__json_parse(&n, json, len, &trailing, st);
  if (rv != 0) {
    return rv;
  }
  if (ty->kind == SOUPC_CTY_DYNAMIC) {
    struct soupc_cty_type *it = NULL;
    /* ctyjson.ImpliedType then Unmarshal; only ImpliedType rejects
     * trailing data. */
    if (trailing) {
      rv = rd_err(&r, "extraneous data after JSON object%s", "");
      goto out;
    }
    rv = implied(&it, n, &r, 0);
    if (rv == 0) {
      rv = unm(out, it, n, &r, 0);
      soupc_cty_type_free(it);
    }
    goto out;
  }
  rv = build(out, ty, n, &r, 0);
out:
  soupc__json_free(n);
  return rv;
}

int soupc_cty_json_decode(soupc_cty_value **out, const soupc_cty_type *ty,
                          const char *json, size_t len, soupc_status *st) {
  struct json_node *n = NULL;
  struct rd r;
  bool trailing = false;
  int rv;

  memset(&r, 0, sizeof(r));
  r.st = st;
  rv = soupc__json_parse(&n, json, len, &trailing, st);
  if (rv != 0) {
    return rv;
  }
  rv = unm(out, ty, n, &r, 0);
  soupc__json_free(n);
  return rv;
}

/* ---- the rich dialect (soup-go cty_rich.go) ---- */
static const struct json_node *member(const struct json_node *n,
                                      const char *key) {
  size_t i;

  for (i = n->n; i > 0; i--) {
    if (strcmp(n->keys[i - 1], key) == 0) {
      return n->items[i - 1];
    }
  }
  return NULL;
}

static int refine_bound(struct cty_num *num, bool *incl,
                        const struct json_node *b, struct rd *r,
                        const char *name) {
  const char *why;

  if (b->kind != JN_ARRAY || b->n != 2 || b->items[0]->kind != JN_STRING ||
      b->items[1]->kind != JN_BOOL) {
    return rd_err(r, "%s must be [\"<decimal>\", inclusive]", name);
  }
  mpfr_init2(num->f, 512);
  if (soupc__cty_num_parse(num, b->items[0]->s, b->items[0]->len, &why) != 0) {
    mpfr_clear(num->f);
    return rd_err(r, "%s is not a number", name);
  }
  *incl = b->items[1]->b;
  return 0;
}

static int rich_unknown(struct soupc_cty_value **out,
                        const struct soupc_cty_type *ty,
                        const struct json_node *refine, struct rd *r) {
  struct soupc_cty_value *v = NULL;
  struct cty_refine *rf;
  size_t i;
  int rv = soupc_cty_value_unknown(&v, ty);

  if (rv != 0 || refine == NULL) {
    *out = v;
    return rv;
  }
  if (refine->kind != JN_OBJECT) {
    soupc_cty_value_free(v);
    return rd_err(r, "$refine must be an object%s", "");
  }
  rf = soupc__calloc(1, sizeof(*rf));
  if (rf == NULL) {
    soupc_cty_value_free(v);
    return SOUPC_ERR_NOMEM;
  }
  v->refine = rf;
  for (i = 0; i < refine->n; i++) {
    const char *k = refine->keys[i];
    const struct json_node *x = refine->items[i];
    rv = 0;
    if (strcmp(k, "is_known_null") == 0 && x->kind == JN_BOOL) {
      rf->not_null = !x->b;
    } else if (strcmp(k, "string_prefix") == 0 && x->kind == JN_STRING) {
      soupc__free(rf->prefix);
      rf->prefix = soupc__strndup(x->s, x->len);
      rf->prefix_len = x->len;
      rv = rf->prefix == NULL ? SOUPC_ERR_NOMEM : 0;
    } else if (strcmp(k, "number_lower_bound") == 0 && !rf->has_lower) {
      rv = refine_bound(&rf->lower, &rf->lower_incl, x, r, k);
      rf->has_lower = rv == 0;
    } else if (strcmp(k, "number_upper_bound") == 0 && !rf->has_upper) {
      rv = refine_bound(&rf->upper, &rf->upper_incl, x, r, k);
      rf->has_upper = rv == 0;
    } else if ((strcmp(k, "collection_length_lower_bound") == 0 ||
                strcmp(k, "collection_length_upper_bound") == 0) &&
               x->kind == JN_NUMBER) {
      char *end;
      long long ll = strtoll(x->s, &end, 10);
      if (*end != '\0' || ll < 0) {
        rv = rd_err(r, "%s must be a non-negative integer", k);
      } else if (k[18] == 'l') {
        rf->has_len_lo = true;
        rf->len_lo = ll;
      } else {
        rf->has_len_hi = true;
        rf->len_hi = ll;
      }
    } else {
      rv = rd_err(r, "unknown refinement %s", k);
    }
    if (rv != 0) {
      soupc_cty_value_free(v);
      return rv;
    }
  }
  *out = v;
  return 0;
}

static int rich(struct soupc_cty_value **out, const struct soupc_cty_type *ty,
                const struct json_node *n, struct rd *r, int depth) {
  struct soupc_cty_value **items = NULL;
  size_t i;
  int rv;

  if (depth > CTY_MAX_DEPTH) {
    return rd_err(r, "JSON value nests deeper than %s levels", "256");
  }
  if (n->kind == JN_NULL) {
    return soupc_cty_value_null(out, ty);
  }
  if (n->kind == JN_OBJECT && n->n >= 1 && n->n <= 2) {
    const struct json_node *x;
    if (n->n == 1 && (x = member(n, "$null")) != NULL && x->kind == JN_BOOL &&
        x->b) {
      return soupc_cty_value_null(out, ty);
    }
    x = member(n, "$unknown");
    if (x != NULL && x->kind == JN_BOOL && x->b &&
        (n->n == 1 || member(n, "$refine") != NULL)) {
      return rich_unknown(out, ty, member(n, "$refine"), r);
    }
    if (member(n, "$marks") != NULL && member(n, "$value") != NULL) {
      return rd_err(r, "value has marks, so it cannot be serialized%s", "");
    }
    if (n->n == 1 && (x = member(n, "$number")) != NULL &&
        x->kind == JN_STRING) {
      const char *why;
      if (strcmp(x->s, "Infinity") == 0 || strcmp(x->s, "-Infinity") == 0) {
        rv = soupc_cty_value_number_int(out, 0);
        if (rv == 0) {
          mpfr_set_inf((*out)->u.num->f, x->s[0] == '-' ? -1 : 1);
          (*out)->u.num->prec = 512;
        }
        return rv;
      }
      rv = num_val(out, x->s, x->len, &why);
      return rv == SOUPC_ERR_CTY_DECODE
                 ? rd_err(r, "$number %s is not a number", x->s)
                 : rv;
    }
    if (n->n == 1 && (x = member(n, "$dynamic")) != NULL &&
        x->kind == JN_OBJECT) {
      const struct json_node *tn = member(x, "type"), *vn = member(x, "value");
      struct soupc_cty_type *t = NULL;
      if (tn == NULL || vn == NULL) {
        return rd_err(r, "$dynamic needs type and value%s", "");
      }
      rv = soupc__cty_type_from_node(&t, tn, r->st);
      if (rv != 0) {
        return rv;
      }
      rv = rich(out, t, vn, r, depth + 1);
      soupc_cty_type_free(t);
      return rv;
    }
    if (n->n == 1 && member(n, "$bytes") != NULL) {
      return rd_err(r, "$bytes (capsule) values are not supported%s", "");
    }
  }
  switch (ty->kind) {
  case SOUPC_CTY_DYNAMIC: {
    struct soupc_cty_type *it = NULL;
    rv = implied(&it, n, r, depth);
    if (rv != 0) {
      return rv;
    }
    rv = unm(out, it, n, r, depth);
    soupc_cty_type_free(it);
    return rv;
  }
  case SOUPC_CTY_LIST:
  case SOUPC_CTY_SET:
  case SOUPC_CTY_TUPLE:
    if (n->kind != JN_ARRAY) {
      return rd_err(r, "expected array%s", "");
    }
    if (ty->kind == SOUPC_CTY_TUPLE && n->n != ty->n) {
      soupc_status_set(r->st, SOUPC_GRPC_INVALID_ARGUMENT,
                       "tuple has %zu elements, got %zu", ty->n, n->n);
      return SOUPC_ERR_CTY_DECODE;
    }
    items = soupc__calloc(n->n + 1, sizeof(*items));
    if (items == NULL) {
      return SOUPC_ERR_NOMEM;
    }
    for (i = 0; i < n->n; i++) {
      rv =
          rich(&items[i], ty->kind == SOUPC_CTY_TUPLE ? ty->elems[i] : ty->elem,
               n->items[i], r, depth + 1);
      if (rv != 0) {
        return free_items(items, i, rv);
      }
    }
    if (ty->kind == SOUPC_CTY_TUPLE) {
      return soupc__cty_val_tuple(out, ty, items, n->n, r->st);
    }
    return soupc__cty_val_list(out, ty->kind, ty, items, n->n, r->st);
  case SOUPC_CTY_MAP: {
    char **keys = NULL;
    size_t *lens = NULL;
    if (n->kind != JN_OBJECT) {
      return rd_err(r, "expected object%s", "");
    }
    items = soupc__calloc(n->n + 1, sizeof(*items));
    if (items == NULL) {
      return SOUPC_ERR_NOMEM;
    }
    for (i = 0; i < n->n; i++) {
      rv = rich(&items[i], ty->elem, n->items[i], r, depth + 1);
      if (rv != 0) {
        return free_items(items, i, rv);
      }
    }
    rv = map_keys(&keys, &lens, n);
    if (rv != 0) {
      return free_items(items, n->n, rv);
    }
    return soupc__cty_val_map(out, ty, keys, lens, items, n->n, r->st);
  }
  case SOUPC_CTY_OBJECT:
    if (n->kind != JN_OBJECT) {
      return rd_err(r, "expected object%s", "");
    }
    items = soupc__calloc(ty->n + 1, sizeof(*items));
    if (items == NULL) {
      return SOUPC_ERR_NOMEM;
    }
    for (i = 0; i < n->n; i++) {
      long idx = attr_nfc(ty, n->keys[i], n->key_lens[i]);
      struct soupc_cty_value *v = NULL;
      if (idx < 0) {
        rv = rd_err(r, "type has no attribute \"%s\"", n->keys[i]);
        goto obj_fail;
      }
      rv = rich(&v, ty->elems[idx], n->items[i], r, depth + 1);
      if (rv != 0) {
        goto obj_fail;
      }
      soupc_cty_value_free(items[idx]);
      items[idx] = v;
    }
    for (i = 0; i < ty->n; i++) {
      if (items[i] == NULL) {
        rv = rd_err(r, "attribute \"%s\" was not given", ty->names[i]);
        goto obj_fail;
      }
    }
    return soupc__cty_val_object(out, ty, items, r->st);
  obj_fail:
    return free_items(items, ty->n, rv);
  default:
    return build(out, ty, n, r, depth);
  }
}

int soupc_cty_value_from_rich_json(soupc_cty_value **out,
                                   const soupc_cty_type *ty, const char *json,
                                   size_t len, soupc_status *st) {
  struct json_node *n = NULL;
  struct rd r;
  bool trailing = false;
  int rv;

  memset(&r, 0, sizeof(r));
  r.st = st;
  rv = soupc__json_parse(&n, json, len, &trailing, st);
  if (rv != 0) {
    return rv;
  }
  rv = rich(out, ty, n, &r, 0);
  soupc__json_free(n);
  return rv;
}
