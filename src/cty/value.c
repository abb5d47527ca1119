/* cty values: construction, go-cty's set semantics (spec §2.5), equality
 * and the little of convert.Convert that Marshal needs (spec §2.1). */
#include "cty/cty_int.h"

#include "base/alloc.h"

#include <string.h>

struct soupc_cty_value *soupc__cty_val_alloc(struct soupc_cty_type *owned_type,
                                             unsigned flags) {
  struct soupc_cty_value *v = soupc__calloc(1, sizeof(*v));

  if (v == NULL) {
    soupc_cty_type_free(owned_type);
    return NULL;
  }
  v->type = owned_type;
  v->flags = flags;
  return v;
}

void soupc__cty_refine_free(struct cty_refine *r) {
  if (r == NULL) {
    return;
  }
  soupc__free(r->prefix);
  if (r->has_lower) {
    mpfr_clear(r->lower.f);
  }
  if (r->has_upper) {
    mpfr_clear(r->upper.f);
  }
  soupc__free(r);
}

void soupc_cty_value_free(soupc_cty_value *v) {
  size_t i;

  if (v == NULL) {
    return;
  }
  if ((v->flags & (CTY_V_NULL | CTY_V_UNKNOWN)) == 0) {
    switch (v->type->kind) {
    case SOUPC_CTY_STRING:
      if ((v->flags & CTY_V_INLINE) == 0) {
        soupc__free(v->u.str.s);
      }
      break;
    case SOUPC_CTY_NUMBER:
      soupc__cty_num_free(v->u.num);
      break;
    case SOUPC_CTY_BOOL:
    case SOUPC_CTY_DYNAMIC:
      break;
    default:
      for (i = 0; i < v->u.c.n; i++) {
        soupc_cty_value_free(v->u.c.items[i]);
        if (v->u.c.keys != NULL) {
          soupc__free(v->u.c.keys[i]);
        }
      }
      soupc__free(v->u.c.items);
      soupc__free(v->u.c.keys);
      soupc__free(v->u.c.key_lens);
      break;
    }
  }
  soupc__cty_refine_free(v->refine);
  soupc_cty_type_free(v->type);
  soupc__free(v);
}

void soupc_cty_free_bytes(void *p) {
  soupc__free(p);
}

const soupc_cty_type *soupc_cty_value_type(const soupc_cty_value *v) {
  return v->type;
}

int soupc_cty_value_is_null(const soupc_cty_value *v) {
  return (v->flags & CTY_V_NULL) != 0;
}

int soupc_cty_value_is_known(const soupc_cty_value *v) {
  return (v->flags & CTY_V_UNKNOWN) == 0;
}

int soupc__cty_val_string(struct soupc_cty_value **out, const char *s,
                          size_t len) {
  struct soupc_cty_value *v;

  /* Common case: already NFC; one allocation holds value and bytes. */
  if (soupc__cty_nfc_trivial(s, len) && len < SIZE_MAX - sizeof(*v) - 1) {
    v = soupc__malloc(sizeof(*v) + len + 1);
    if (v == NULL) {
      return SOUPC_ERR_NOMEM;
    }
    memset(v, 0, sizeof(*v));
    v->type = soupc__cty_type_prim(SOUPC_CTY_STRING);
    v->flags = CTY_V_INLINE;
    v->u.str.s = (char *)(v + 1);
    if (len > 0) {
      memcpy(v->u.str.s, s, len);
    }
    v->u.str.s[len] = '\0';
    v->u.str.len = len;
    *out = v;
    return 0;
  }
  return soupc_cty_value_string(out, s, len);
}

int soupc_cty_value_string(soupc_cty_value **out, const char *s, size_t len) {
  struct soupc_cty_value *v =
      soupc__cty_val_alloc(soupc__cty_type_prim(SOUPC_CTY_STRING), 0);

  if (v == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  v->u.str.s = soupc__cty_nfc(s, len, &v->u.str.len);
  if (v->u.str.s == NULL) {
    soupc__free(v);
    return SOUPC_ERR_NOMEM;
  }
  *out = v;
  return 0;
}

static int number_val(soupc_cty_value **out, struct cty_num **num_out) {
  struct soupc_cty_value *v =
      soupc__cty_val_alloc(soupc__cty_type_prim(SOUPC_CTY_NUMBER), 0);

  if (v == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  v->u.num = soupc__cty_num_new(512);
  if (v->u.num == NULL) {
    soupc__free(v);
    return SOUPC_ERR_NOMEM;
  }
  *out = v;
  *num_out = v->u.num;
  return 0;
}

int soupc_cty_value_number_parse(soupc_cty_value **out, const char *text) {
  struct soupc_cty_value *v;
  struct cty_num *n;
  const char *why;
  int rv = number_val(&v, &n);

  if (rv != 0) {
    return rv;
  }
  if (soupc__cty_num_parse(n, text, strlen(text), &why) != 0) {
    soupc_cty_value_free(v);
    return SOUPC_ERR_CTY_DECODE;
  }
  *out = v;
  return 0;
}

int soupc_cty_value_number_int(soupc_cty_value **out, int64_t i) {
  struct soupc_cty_value *v;
  struct cty_num *n;
  int rv = number_val(&v, &n);

  if (rv != 0) {
    return rv;
  }
  soupc__cty_num_set_int64(n, i);
  *out = v;
  return 0;
}

int soupc_cty_value_number_float(soupc_cty_value **out, double d) {
  struct soupc_cty_value *v;
  struct cty_num *n;
  int rv;

  if (d != d) {
    return SOUPC_ERR_CTY_DECODE;
  }
  rv = number_val(&v, &n);
  if (rv != 0) {
    return rv;
  }
  soupc__cty_num_set_double(n, d);
  *out = v;
  return 0;
}

int soupc_cty_value_bool(soupc_cty_value **out, int b) {
  struct soupc_cty_value *v =
      soupc__cty_val_alloc(soupc__cty_type_prim(SOUPC_CTY_BOOL), 0);

  if (v == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  v->u.b = b != 0;
  *out = v;
  return 0;
}

int soupc_cty_value_null(soupc_cty_value **out, const soupc_cty_type *ty) {
  struct soupc_cty_value *v =
      soupc__cty_val_alloc(soupc__cty_type_ref(ty), CTY_V_NULL);

  if (v == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  *out = v;
  return 0;
}

int soupc_cty_value_unknown(soupc_cty_value **out, const soupc_cty_type *ty) {
  struct soupc_cty_value *v =
      soupc__cty_val_alloc(soupc__cty_type_ref(ty), CTY_V_UNKNOWN);

  if (v == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  *out = v;
  return 0;
}

static void free_items(struct soupc_cty_value **items, size_t n) {
  size_t i;

  for (i = 0; i < n; i++) {
    soupc_cty_value_free(items[i]);
  }
  soupc__free(items);
}

/* ---- set hash bytes and ordering (spec §2.5) ---- */

void soupc__cty_set_hash(struct cty_buf *b, const struct soupc_cty_value *v) {
  size_t i;

  if ((v->flags & CTY_V_UNKNOWN) != 0) {
    soupc__cty_buf_putc(b, '?');
    return;
  }
  if ((v->flags & CTY_V_NULL) != 0) {
    soupc__cty_buf_putc(b, '~');
    return;
  }
  switch (v->type->kind) {
  case SOUPC_CTY_NUMBER:
    soupc__cty_num_text_g10(b, v->u.num); /* big.Float.String() */
    return;
  case SOUPC_CTY_BOOL:
    soupc__cty_buf_putc(b, v->u.b ? 'T' : 'F');
    return;
  case SOUPC_CTY_STRING:
    soupc__cty_go_quote(b, v->u.str.s, v->u.str.len);
    return;
  case SOUPC_CTY_MAP:
    soupc__cty_buf_putc(b, '{');
    for (i = 0; i < v->u.c.n; i++) {
      soupc__cty_go_quote(b, v->u.c.keys[i], v->u.c.key_lens[i]);
      soupc__cty_buf_putc(b, ':');
      soupc__cty_set_hash(b, v->u.c.items[i]);
      soupc__cty_buf_putc(b, ';');
    }
    soupc__cty_buf_putc(b, '}');
    return;
  case SOUPC_CTY_LIST:
  case SOUPC_CTY_SET:
    soupc__cty_buf_putc(b, '[');
    for (i = 0; i < v->u.c.n; i++) {
      soupc__cty_set_hash(b, v->u.c.items[i]);
      soupc__cty_buf_putc(b, ';');
    }
    soupc__cty_buf_putc(b, ']');
    return;
  case SOUPC_CTY_OBJECT:
  case SOUPC_CTY_TUPLE:
    soupc__cty_buf_putc(b, '<');
    for (i = 0; i < v->u.c.n; i++) {
      soupc__cty_set_hash(b, v->u.c.items[i]);
      soupc__cty_buf_putc(b, ';');
    }
    soupc__cty_buf_putc(b, '>');
    return;
  case SOUPC_CTY_DYNAMIC:
    return;
  }
}

static bool wholly_known(const struct soupc_cty_value *v) {
  size_t i;

  if ((v->flags & CTY_V_UNKNOWN) != 0) {
    return false;
  }
  if ((v->flags & CTY_V_NULL) != 0 || v->type->kind < SOUPC_CTY_LIST) {
    return true;
  }
  for (i = 0; i < v->u.c.n; i++) {
    if (!wholly_known(v->u.c.items[i])) {
      return false;
    }
  }
  return true;
}

/* @return 1 equal, 0 not, -1 out of memory. */
static int deep_equal(const struct soupc_cty_value *a,
                      const struct soupc_cty_value *b) {
  size_t i, j;
  int eq = 0;

  if ((a->flags & CTY_V_NULL) || (b->flags & CTY_V_NULL)) {
    return (a->flags & CTY_V_NULL) && (b->flags & CTY_V_NULL);
  }
  if (a->type->kind != b->type->kind) {
    return 0;
  }
  switch (a->type->kind) {
  case SOUPC_CTY_STRING:
    return a->u.str.len == b->u.str.len &&
           memcmp(a->u.str.s, b->u.str.s, a->u.str.len) == 0;
  case SOUPC_CTY_NUMBER:
    return soupc__cty_num_equal(a->u.num, b->u.num);
  case SOUPC_CTY_BOOL:
    return a->u.b == b->u.b;
  case SOUPC_CTY_DYNAMIC:
    return 1;
  default:
    break;
  }
  if (a->u.c.n != b->u.c.n) {
    return 0;
  }
  if (a->type->kind == SOUPC_CTY_SET) {
    for (i = 0; i < a->u.c.n; i++) {
      for (j = 0; j < b->u.c.n; j++) {
        eq = deep_equal(a->u.c.items[i], b->u.c.items[j]);
        if (eq != 0) {
          break;
        }
      }
      if (j < b->u.c.n && eq < 0) {
        return -1;
      }
      if (j == b->u.c.n) {
        return 0;
      }
    }
    return 1;
  }
  for (i = 0; i < a->u.c.n; i++) {
    if (a->u.c.keys != NULL &&
        (a->u.c.key_lens[i] != b->u.c.key_lens[i] ||
         memcmp(a->u.c.keys[i], b->u.c.keys[i], a->u.c.key_lens[i]) != 0)) {
      return 0;
    }
    eq = deep_equal(a->u.c.items[i], b->u.c.items[i]);
    if (eq != 1) {
      return eq;
    }
  }
  return 1;
}

/* setRules.Equivalent: Equals(...) == True, so any unknown inside makes two
 * values distinct. */
int soupc__cty_val_equivalent(const struct soupc_cty_value *a,
                              const struct soupc_cty_value *b) {
  if (!wholly_known(a) || !wholly_known(b)) {
    return 0;
  }
  return deep_equal(a, b);
}

struct set_elem {
  struct soupc_cty_value *v;
  uint8_t *hash; /* set hash bytes (non-primitive and number elements) */
  size_t hash_len;
  uint32_t bucket;
  size_t order; /* insertion index */
};

static int str_cmp(const struct soupc_cty_value *a,
                   const struct soupc_cty_value *b) {
  size_t n = a->u.str.len < b->u.str.len ? a->u.str.len : b->u.str.len;
  int c = n > 0 ? memcmp(a->u.str.s, b->u.str.s, n) : 0;

  if (c != 0) {
    return c;
  }
  return a->u.str.len < b->u.str.len ? -1 : (a->u.str.len > b->u.str.len);
}

/* setRules.Less */
static bool set_less(const struct set_elem *x, const struct set_elem *y) {
  const struct soupc_cty_value *a = x->v, *b = y->v;
  bool an = (a->flags & CTY_V_NULL) != 0, bn = (b->flags & CTY_V_NULL) != 0;
  bool ak = (a->flags & CTY_V_UNKNOWN) == 0,
       bk = (b->flags & CTY_V_UNKNOWN) == 0;

  if (bn && !an) {
    return true;
  }
  if (an) {
    return false;
  }
  if (ak && !bk) {
    return true;
  }
  if (!ak) {
    return false;
  }
  switch (a->type->kind) {
  case SOUPC_CTY_STRING:
    return str_cmp(a, b) < 0;
  case SOUPC_CTY_BOOL:
    return !a->u.b && b->u.b;
  case SOUPC_CTY_NUMBER:
    return soupc__cty_num_cmp(a->u.num, b->u.num) < 0;
  default: {
    size_t n = x->hash_len < y->hash_len ? x->hash_len : y->hash_len;
    int c = n > 0 ? memcmp(x->hash, y->hash, n) : 0;
    if (c != 0) {
      return c < 0;
    }
    return x->hash_len < y->hash_len;
  }
  }
}

static bool bucket_less(const struct set_elem *x, const struct set_elem *y) {
  if (x->bucket != y->bucket) {
    return x->bucket < y->bucket;
  }
  return x->order < y->order;
}

/* Stable merge sort; @p tmp has room for n elements. */
static void merge_sort(struct set_elem *a, struct set_elem *tmp, size_t n,
                       bool (*less)(const struct set_elem *,
                                    const struct set_elem *)) {
  size_t mid = n / 2, i = 0, j, k = 0;

  if (n < 2) {
    return;
  }
  merge_sort(a, tmp, mid, less);
  merge_sort(a + mid, tmp, n - mid, less);
  j = mid;
  while (i < mid && j < n) {
    if (less(&a[j], &a[i])) {
      tmp[k++] = a[j++];
    } else {
      tmp[k++] = a[i++];
    }
  }
  while (i < mid) {
    tmp[k++] = a[i++];
  }
  while (j < n) {
    tmp[k++] = a[j++];
  }
  memcpy(a, tmp, n * sizeof(*a));
}

/* set.Set Add + Values(): dedupe within a crc32 bucket, walk buckets in
 * ascending id with insertion order inside, then a stable sort by Less. */
static int canonical_set(struct soupc_cty_value **items, size_t *n_io) {
  size_t n = *n_io, i, j, kept = 0;
  struct set_elem *e = NULL, *tmp = NULL;
  soupc_cty_kind k;
  bool hashed;
  int rv = SOUPC_ERR_NOMEM;

  if (n == 0) {
    return 0;
  }
  k = items[0]->type->kind;
  /* Strings and bools have a total order in which equivalent values are
   * adjacent, so their buckets never show; everything else needs the hash
   * bytes (numbers too: -0 and 0 land in different buckets and both stay,
   * as in go-cty). */
  hashed = k != SOUPC_CTY_STRING && k != SOUPC_CTY_BOOL;
  e = soupc__calloc(n, sizeof(*e));
  tmp = soupc__calloc(n, sizeof(*tmp));
  if (e == NULL || tmp == NULL) {
    goto out;
  }
  for (i = 0; i < n; i++) {
    e[i].v = items[i];
    e[i].order = i;
    if (hashed) {
      struct cty_buf b;
      soupc__cty_buf_init(&b);
      soupc__cty_set_hash(&b, items[i]);
      if (b.oom) {
        soupc__cty_buf_dispose(&b);
        goto out;
      }
      e[i].hash = b.p;
      e[i].hash_len = b.len;
      e[i].bucket = soupc__cty_crc32(b.p, b.len);
    }
  }
  if (hashed) {
    merge_sort(e, tmp, n, bucket_less);
    for (i = 0; i < n; i++) {
      bool dup = false;
      for (j = kept; j > 0 && e[j - 1].bucket == e[i].bucket; j--) {
        int eq = soupc__cty_val_equivalent(e[j - 1].v, e[i].v);
        if (eq < 0) {
          goto out_partial;
        }
        if (eq > 0) {
          dup = true;
          break;
        }
      }
      if (dup) {
        soupc_cty_value_free(e[i].v);
        soupc__free(e[i].hash);
      } else {
        e[kept++] = e[i];
      }
    }
    merge_sort(e, tmp, kept, set_less);
  } else {
    merge_sort(e, tmp, n, set_less);
    for (i = 0; i < n; i++) {
      int eq = kept > 0 ? soupc__cty_val_equivalent(e[kept - 1].v, e[i].v) : 0;
      if (eq < 0) {
        goto out_partial;
      }
      if (eq > 0) {
        soupc_cty_value_free(e[i].v);
      } else {
        e[kept++] = e[i];
      }
    }
  }
  for (i = 0; i < kept; i++) {
    items[i] = e[i].v;
    soupc__free(e[i].hash);
  }
  *n_io = kept;
  rv = 0;
  goto out;
out_partial:
  /* Out of memory mid-dedupe: hand every surviving value back so the
   * caller frees each exactly once. */
  for (j = 0; j < kept; j++) {
    items[j] = e[j].v;
    soupc__free(e[j].hash);
    e[j].hash = NULL;
  }
  for (; i < n; i++) {
    items[kept++] = e[i].v;
    soupc__free(e[i].hash);
    e[i].hash = NULL;
  }
  *n_io = kept;
  soupc__free(e);
  soupc__free(tmp);
  return SOUPC_ERR_NOMEM;
out:
  if (rv != 0 && e != NULL) {
    for (i = 0; i < n; i++) {
      soupc__free(e[i].hash);
    }
  }
  soupc__free(e);
  soupc__free(tmp);
  return rv;
}

/* Element type of a list/set/map built from @p items: the schema's element
 * type unless it is dynamic, in which case all elements must share one
 * (cty.ListVal panics otherwise; we refuse). */
static int unify_elem(struct soupc_cty_type **out,
                      const struct soupc_cty_type *schema,
                      struct soupc_cty_value **items, size_t n,
                      soupc_status *st) {
  const struct soupc_cty_type *et = schema->elem;
  size_t i;

  if (!schema->has_dyn) {
    *out = soupc__cty_type_ref(schema->concrete != NULL ? schema->concrete
                                                        : schema);
    return 0;
  }
  if (n > 0) {
    /* cty.ListVal/SetVal/MapVal: the first element whose type is not
     * dynamic decides; dynamic-typed nulls and unknowns then take that
     * type (their raw value has none). */
    const struct soupc_cty_type *found = NULL;
    for (i = 0; i < n; i++) {
      if (items[i]->type->kind == SOUPC_CTY_DYNAMIC) {
        continue;
      }
      if (found == NULL) {
        found = items[i]->type;
      } else if (!soupc__cty_type_equal(found, items[i]->type)) {
        soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                         "inconsistent collection element types");
        return SOUPC_ERR_CTY_DECODE;
      }
    }
    if (found != NULL) {
      et = found;
      for (i = 0; i < n; i++) {
        if (items[i]->type->kind == SOUPC_CTY_DYNAMIC) {
          soupc_cty_type_free(items[i]->type);
          items[i]->type = soupc__cty_type_ref(et);
        }
      }
    } else {
      et = soupc__cty_type_prim(SOUPC_CTY_DYNAMIC);
    }
    if (soupc__cty_type_equal(et, schema->elem)) {
      et = schema->elem;
    }
  }
  if (et == schema->elem) {
    *out = soupc__cty_type_ref(schema);
    return 0;
  }
  return soupc__cty_type_new_coll(out, schema->kind, soupc__cty_type_ref(et));
}

int soupc__cty_val_list(struct soupc_cty_value **out, soupc_cty_kind kind,
                        const struct soupc_cty_type *schema,
                        struct soupc_cty_value **items, size_t n,
                        soupc_status *st) {
  struct soupc_cty_type *t = NULL;
  struct soupc_cty_value *v;
  int rv;

  (void)kind;
  rv = unify_elem(&t, schema, items, n, st);
  if (rv != 0) {
    free_items(items, n);
    return rv;
  }
  if (schema->kind == SOUPC_CTY_SET) {
    rv = canonical_set(items, &n);
    if (rv != 0) {
      soupc_cty_type_free(t);
      free_items(items, n);
      return rv;
    }
  }
  v = soupc__cty_val_alloc(t, 0);
  if (v == NULL) {
    free_items(items, n);
    return SOUPC_ERR_NOMEM;
  }
  v->u.c.items = items;
  v->u.c.n = n;
  *out = v;
  return 0;
}

static int key_cmp(const char *a, size_t al, const char *b, size_t bl) {
  size_t n = al < bl ? al : bl;
  int c = n > 0 ? memcmp(a, b, n) : 0;

  if (c != 0) {
    return c;
  }
  return al < bl ? -1 : (al > bl);
}

int soupc__cty_val_map(struct soupc_cty_value **out,
                       const struct soupc_cty_type *schema, char **keys,
                       size_t *key_lens, struct soupc_cty_value **vals,
                       size_t n, soupc_status *st) {
  struct soupc_cty_type *t = NULL;
  struct soupc_cty_value *v;
  size_t i, j, m = 0;
  int rv;

  /* Sort by key; a later duplicate replaces an earlier one (Go map). */
  for (i = 0; i < n; i++) {
    char *k = keys[i];
    size_t kl = key_lens[i];
    struct soupc_cty_value *x = vals[i];
    size_t lo = 0, hi = m;
    while (lo < hi) {
      size_t mid = (lo + hi) / 2;
      if (key_cmp(keys[mid], key_lens[mid], k, kl) < 0) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    if (lo < m && key_cmp(keys[lo], key_lens[lo], k, kl) == 0) {
      soupc__free(keys[lo]);
      soupc_cty_value_free(vals[lo]);
      keys[lo] = k;
      vals[lo] = x;
      continue;
    }
    for (j = m; j > lo; j--) {
      keys[j] = keys[j - 1];
      key_lens[j] = key_lens[j - 1];
      vals[j] = vals[j - 1];
    }
    keys[lo] = k;
    key_lens[lo] = kl;
    vals[lo] = x;
    m++;
  }
  rv = unify_elem(&t, schema, vals, m, st);
  if (rv != 0) {
    goto fail;
  }
  v = soupc__cty_val_alloc(t, 0);
  if (v == NULL) {
    rv = SOUPC_ERR_NOMEM;
    goto fail;
  }
  v->u.c.items = vals;
  v->u.c.keys = keys;
  v->u.c.key_lens = key_lens;
  v->u.c.n = m;
  *out = v;
  return 0;
fail:
  for (i = 0; i < m; i++) {
    soupc__free(keys[i]);
  }
  soupc__free(keys);
  soupc__free(key_lens);
  free_items(vals, m);
  return rv;
}

/* The real type of a tuple/object value: cty.ObjectVal/TupleVal take each
 * element's own type and drop optional markers. */
static int structural_type(struct soupc_cty_type **out,
                           const struct soupc_cty_type *schema,
                           struct soupc_cty_value **items, size_t n) {
  struct soupc_cty_type **ts;
  char **names = NULL;
  size_t *lens = NULL;
  size_t i;
  int rv;

  if (!schema->has_dyn && n == schema->n) {
    *out = soupc__cty_type_ref(schema->concrete != NULL ? schema->concrete
                                                        : schema);
    return 0;
  }
  ts = soupc__calloc(n + 1, sizeof(*ts));
  if (ts == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  if (schema->kind == SOUPC_CTY_OBJECT) {
    names = soupc__calloc(n + 1, sizeof(*names));
    lens = soupc__calloc(n + 1, sizeof(*lens));
    if (names == NULL || lens == NULL) {
      soupc__free(ts);
      soupc__free(names);
      soupc__free(lens);
      return SOUPC_ERR_NOMEM;
    }
  }
  for (i = 0; i < n; i++) {
    ts[i] = soupc__cty_type_ref(items[i]->type);
    if (names != NULL) {
      names[i] = soupc__strndup(schema->names[i], schema->name_lens[i]);
      lens[i] = schema->name_lens[i];
      if (names[i] == NULL) {
        size_t k;
        for (k = 0; k <= i; k++) {
          soupc_cty_type_free(ts[k]);
          soupc__free(names[k]);
        }
        soupc__free(ts);
        soupc__free(names);
        soupc__free(lens);
        return SOUPC_ERR_NOMEM;
      }
    }
  }
  if (names != NULL) {
    rv = soupc__cty_type_new_object(out, names, lens, ts, NULL, n);
  } else {
    rv = soupc__cty_type_new_tuple(out, ts, n);
  }
  soupc__free(ts);
  soupc__free(names);
  soupc__free(lens);
  return rv;
}

int soupc__cty_val_object(struct soupc_cty_value **out,
                          const struct soupc_cty_type *schema,
                          struct soupc_cty_value **items, soupc_status *st) {
  struct soupc_cty_type *t = NULL;
  struct soupc_cty_value *v;
  size_t i;
  int rv;

  for (i = 0; i < schema->n; i++) {
    if (items[i] != NULL) {
      continue;
    }
    if (schema->optional != NULL && schema->optional[i]) {
      rv = soupc_cty_value_null(&items[i], schema->elems[i]);
      if (rv != 0) {
        goto fail;
      }
      continue;
    }
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "attribute \"%s\" is required", schema->names[i]);
    rv = SOUPC_ERR_CTY_DECODE;
    goto fail;
  }
  rv = structural_type(&t, schema, items, schema->n);
  if (rv != 0) {
    goto fail;
  }
  v = soupc__cty_val_alloc(t, 0);
  if (v == NULL) {
    rv = SOUPC_ERR_NOMEM;
    goto fail;
  }
  v->u.c.items = items;
  v->u.c.n = schema->n;
  *out = v;
  return 0;
fail:
  free_items(items, schema->n);
  return rv;
}

int soupc__cty_val_tuple(struct soupc_cty_value **out,
                         const struct soupc_cty_type *schema,
                         struct soupc_cty_value **items, size_t n,
                         soupc_status *st) {
  struct soupc_cty_type *t = NULL;
  struct soupc_cty_value *v;
  int rv;

  if (n != schema->n) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "a tuple of length %zu is required (%zu given)", schema->n,
                     n);
    free_items(items, n);
    return SOUPC_ERR_CTY_DECODE;
  }
  rv = structural_type(&t, schema, items, n);
  if (rv != 0) {
    free_items(items, n);
    return rv;
  }
  v = soupc__cty_val_alloc(t, 0);
  if (v == NULL) {
    free_items(items, n);
    return SOUPC_ERR_NOMEM;
  }
  v->u.c.items = items;
  v->u.c.n = n;
  *out = v;
  return 0;
}

static bool refine_equal(const struct cty_refine *a,
                         const struct cty_refine *b) {
  if (a == NULL || b == NULL) {
    return a == b;
  }
  return a->not_null == b->not_null && a->prefix_len == b->prefix_len &&
         (a->prefix_len == 0 ||
          memcmp(a->prefix, b->prefix, a->prefix_len) == 0) &&
         a->has_lower == b->has_lower && a->has_upper == b->has_upper &&
         (!a->has_lower || (a->lower_incl == b->lower_incl &&
                            mpfr_equal_p(a->lower.f, b->lower.f))) &&
         (!a->has_upper || (a->upper_incl == b->upper_incl &&
                            mpfr_equal_p(a->upper.f, b->upper.f))) &&
         a->has_len_lo == b->has_len_lo && a->has_len_hi == b->has_len_hi &&
         (!a->has_len_lo || a->len_lo == b->len_lo) &&
         (!a->has_len_hi || a->len_hi == b->len_hi);
}

int soupc_cty_value_equal(const soupc_cty_value *a, const soupc_cty_value *b) {
  size_t i;

  if (((a->flags ^ b->flags) & (CTY_V_NULL | CTY_V_UNKNOWN)) != 0 ||
      !soupc__cty_type_equal(a->type, b->type)) {
    return 0;
  }
  if (a->flags & CTY_V_UNKNOWN) {
    return refine_equal(a->refine, b->refine);
  }
  if (a->flags & CTY_V_NULL) {
    return 1;
  }
  if (a->type->kind < SOUPC_CTY_LIST) {
    return deep_equal(a, b) == 1;
  }
  if (a->u.c.n != b->u.c.n) {
    return 0;
  }
  for (i = 0; i < a->u.c.n; i++) {
    if (a->u.c.keys != NULL &&
        key_cmp(a->u.c.keys[i], a->u.c.key_lens[i], b->u.c.keys[i],
                b->u.c.key_lens[i]) != 0) {
      return 0;
    }
    /* Sets are in canonical order on both sides. */
    if (!soupc_cty_value_equal(a->u.c.items[i], b->u.c.items[i])) {
      return 0;
    }
  }
  return 1;
}
