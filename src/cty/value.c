/* cty values: reference counting, construction (go-cty's ListVal, MapVal,
 * ObjectVal, ... and the schema-driven builders the decoders use) and
 * plain accessors. Set semantics live in set.c, marks in marks.c. */
#include "cty/cty_int.h"

#include "base/alloc.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- singletons ---- */

static struct soupc_cty_value true_val = {-1, NULL, 0, NULL, {.b = true}};
static struct soupc_cty_value false_val = {-1, NULL, 0, NULL, {.b = false}};
static struct soupc_cty_value dyn_val = {
    -1, NULL, CTY_V_UNKNOWN, NULL, {.b = false}};
static struct soupc_cty_value pos_inf, neg_inf, zero;
static pthread_once_t singletons_once = PTHREAD_ONCE_INIT;

static void num_singleton(struct soupc_cty_value *v, int sign, unsigned prec) {
  static struct cty_num nums[3];
  static int used;
  struct cty_num *n = &nums[used++];

  mpfr_init2(n->f, 512);
  if (sign == 0) {
    mpfr_set_zero(n->f, 1);
  } else {
    mpfr_set_inf(n->f, sign);
  }
  n->prec = prec;
  v->refs = -1;
  v->type = soupc__cty_type_prim(SOUPC_CTY_NUMBER);
  v->u.num = n;
}

static void init_singletons(void) {
  true_val.type = soupc__cty_type_prim(SOUPC_CTY_BOOL);
  false_val.type = soupc__cty_type_prim(SOUPC_CTY_BOOL);
  dyn_val.type = soupc__cty_type_prim(SOUPC_CTY_DYNAMIC);
  /* (&big.Float{}).SetInf keeps precision 0; big.NewFloat(0) is 53. */
  num_singleton(&pos_inf, 1, 0);
  num_singleton(&neg_inf, -1, 0);
  num_singleton(&zero, 0, 53);
}

struct soupc_cty_value *soupc__cty_bool_val(bool b) {
  pthread_once(&singletons_once, init_singletons);
  return b ? &true_val : &false_val;
}

struct soupc_cty_value *soupc__cty_inf(bool negative) {
  pthread_once(&singletons_once, init_singletons);
  return negative ? &neg_inf : &pos_inf;
}

struct soupc_cty_value *soupc__cty_zero(void) {
  pthread_once(&singletons_once, init_singletons);
  return &zero;
}

struct soupc_cty_value *soupc__cty_dynamic_val(void) {
  pthread_once(&singletons_once, init_singletons);
  return &dyn_val;
}

/* ---- errors ---- */

int soupc__cty_panic(soupc_status *st, const char *fmt, ...) {
  char msg[512];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT, "%s", msg);
  return SOUPC_ERR_CTY_PANIC;
}

/* ---- allocation and reference counting ---- */

struct soupc_cty_value *soupc__cty_val_alloc(struct soupc_cty_type *owned_type,
                                             unsigned flags) {
  struct soupc_cty_value *v = soupc__calloc(1, sizeof(*v));

  if (v == NULL) {
    soupc_cty_type_free(owned_type);
    return NULL;
  }
  v->refs = 1;
  v->type = owned_type;
  v->flags = flags;
  return v;
}

struct soupc_cty_value *soupc__cty_val_ref(const struct soupc_cty_value *v) {
  struct soupc_cty_value *m = (struct soupc_cty_value *)v;

  cty_ref_inc(&m->refs);
  return m;
}

soupc_cty_value *soupc_cty_value_ref(const soupc_cty_value *v) {
  return soupc__cty_val_ref(v);
}

void soupc__cty_refine_free(struct cty_refine *r) {
  if (r == NULL) {
    return;
  }
  soupc__free(r->prefix);
  soupc_cty_value_free(r->min);
  soupc_cty_value_free(r->max);
  soupc__free(r);
}

struct cty_refine *soupc__cty_refine_dup(const struct cty_refine *r) {
  struct cty_refine *d = soupc__malloc(sizeof(*d));

  if (d == NULL) {
    return NULL;
  }
  *d = *r;
  d->prefix = NULL;
  if (r->prefix != NULL) {
    d->prefix = soupc__strndup(r->prefix, r->prefix_len);
    if (d->prefix == NULL) {
      soupc__free(d);
      return NULL;
    }
  }
  if (d->min != NULL) {
    d->min = soupc__cty_val_ref(d->min);
  }
  if (d->max != NULL) {
    d->max = soupc__cty_val_ref(d->max);
  }
  return d;
}

/* Frees one value whose count reached zero; children are released
 * iteratively through a small explicit stack when the tree is deep, so a
 * hostile 256-level value cannot grow the C stack. */
static void value_destroy(struct soupc_cty_value *v) {
  size_t i;

  if (v->flags & CTY_V_MARKED) {
    soupc_cty_value_free(v->u.mk.inner);
    soupc_cty_marks_free(v->u.mk.marks);
  } else if ((v->flags & (CTY_V_NULL | CTY_V_UNKNOWN)) == 0) {
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
    case SOUPC_CTY_CAPSULE:
      if (v->type->cap != NULL && v->type->cap->ops.free_payload != NULL) {
        v->type->cap->ops.free_payload(v->u.payload, v->type->cap->type_data);
      }
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

void soupc_cty_value_free(soupc_cty_value *v) {
  if (v == NULL || !cty_ref_dec(&v->refs)) {
    return;
  }
  value_destroy(v);
}

void soupc_cty_free_bytes(void *p) {
  soupc__free(p);
}

/* ---- basic accessors ---- */

const soupc_cty_type *soupc_cty_value_type(const soupc_cty_value *v) {
  return v->type;
}

int soupc_cty_value_is_null(const soupc_cty_value *v) {
  return cty_is_null(v);
}

int soupc_cty_value_is_known(const soupc_cty_value *v) {
  return cty_is_known(v);
}

bool soupc__cty_wholly_known(const struct soupc_cty_value *v) {
  size_t i;

  v = cty_unmarked(v);
  if ((v->flags & CTY_V_UNKNOWN) != 0) {
    return false;
  }
  if ((v->flags & CTY_V_NULL) != 0 || !cty_kind_has_items(v->type->kind)) {
    return true;
  }
  for (i = 0; i < v->u.c.n; i++) {
    if (!soupc__cty_wholly_known(v->u.c.items[i])) {
      return false;
    }
  }
  return true;
}

int soupc_cty_value_is_wholly_known(const soupc_cty_value *v) {
  return soupc__cty_wholly_known(v);
}

/* ---- primitive constructors ---- */

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
    v->refs = 1;
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

int soupc__cty_val_number(struct soupc_cty_value **out,
                          struct cty_num **num_out) {
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
  int rv = soupc__cty_val_number(&v, &n);

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
  int rv = soupc__cty_val_number(&v, &n);

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
  rv = soupc__cty_val_number(&v, &n);
  if (rv != 0) {
    return rv;
  }
  soupc__cty_num_set_double(n, d);
  *out = v;
  return 0;
}

int soupc_cty_value_bool(soupc_cty_value **out, int b) {
  *out = soupc__cty_bool_val(b != 0);
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

int soupc__cty_unknown_refined(struct soupc_cty_value **out,
                               const struct soupc_cty_type *ty,
                               struct cty_refine *rf) {
  struct soupc_cty_value *v;

  if (rf == NULL && ty->kind == SOUPC_CTY_DYNAMIC) {
    *out = soupc__cty_dynamic_val();
    return 0;
  }
  v = soupc__cty_val_alloc(soupc__cty_type_ref(ty), CTY_V_UNKNOWN);
  if (v == NULL) {
    soupc__cty_refine_free(rf);
    return SOUPC_ERR_NOMEM;
  }
  v->refine = rf;
  *out = v;
  return 0;
}

int soupc_cty_value_unknown(soupc_cty_value **out, const soupc_cty_type *ty) {
  return soupc__cty_unknown_refined(out, ty, NULL);
}

int soupc__cty_val_retype(struct soupc_cty_value **out,
                          struct soupc_cty_value *v,
                          const struct soupc_cty_type *ty) {
  struct soupc_cty_value *nv = NULL;
  const struct soupc_cty_value *in = cty_unmarked(v);
  int rv;

  if (soupc__cty_type_equal(in->type, ty)) {
    *out = v;
    return 0;
  }
  if (in->flags & CTY_V_NULL) {
    rv = soupc_cty_value_null(&nv, ty);
  } else {
    struct cty_refine *rf = NULL;
    if (in->refine != NULL) {
      rf = soupc__cty_refine_dup(in->refine);
      if (rf == NULL) {
        soupc_cty_value_free(v);
        return SOUPC_ERR_NOMEM;
      }
    }
    rv = soupc__cty_unknown_refined(&nv, ty, rf);
  }
  if (rv == 0 && cty_is_marked(v)) {
    rv = soupc__cty_with_marks(&nv, nv, v->u.mk.marks);
  }
  soupc_cty_value_free(v);
  if (rv != 0) {
    return rv;
  }
  *out = nv;
  return 0;
}

/* ---- collections ---- */

static void free_items(struct soupc_cty_value **items, size_t n) {
  size_t i;

  if (items == NULL) {
    return; /* an allocation that failed before the items were made */
  }
  for (i = 0; i < n; i++) {
    soupc_cty_value_free(items[i]);
  }
  soupc__free(items);
}

/* The element type go-cty's ListVal/SetVal/MapVal derive: the first
 * element's type, unless it is dynamic, in which case the next one's; a
 * later non-dynamic element must agree. *out is borrowed (NULL = none). */
static int coll_elem_type(const struct soupc_cty_type **out,
                          struct soupc_cty_value **items, size_t n,
                          const char *what, soupc_status *st) {
  const struct soupc_cty_type *et = NULL;
  size_t i;

  for (i = 0; i < n; i++) {
    const struct soupc_cty_type *t = items[i]->type;
    if (et == NULL || et->kind == SOUPC_CTY_DYNAMIC) {
      et = t;
    } else if (t->kind != SOUPC_CTY_DYNAMIC && !soupc__cty_type_equal(et, t)) {
      struct cty_buf a, b;
      int rv;
      soupc__cty_buf_init(&a);
      soupc__cty_buf_init(&b);
      soupc__cty_type_gostring(&a, et);
      soupc__cty_type_gostring(&b, t);
      soupc__cty_buf_putc(&a, 0);
      soupc__cty_buf_putc(&b, 0);
      rv = a.oom || b.oom ? SOUPC_ERR_NOMEM
                          : soupc__cty_panic(st,
                                             "inconsistent %s element types "
                                             "(%s then %s)",
                                             what, (char *)a.p, (char *)b.p);
      soupc__cty_buf_dispose(&a);
      soupc__cty_buf_dispose(&b);
      return rv;
    }
  }
  *out = et;
  return 0;
}

/* Re-types dynamic-typed nulls and unknowns to @p et (go-cty stores only
 * the raw payload, which then reads back as @p et). */
static int retype_items(struct soupc_cty_value **items, size_t n,
                        const struct soupc_cty_type *et) {
  size_t i;
  int rv;

  if (et == NULL || et->kind == SOUPC_CTY_DYNAMIC) {
    return 0; /* no element, or dynamic elements: nothing to re-type */
  }
  for (i = 0; i < n; i++) {
    if (items[i]->type->kind == SOUPC_CTY_DYNAMIC) {
      struct soupc_cty_value *v = items[i];
      items[i] = NULL;
      rv = soupc__cty_val_retype(&items[i], v, et);
      if (rv != 0) {
        return rv; /* items[i] is NULL; the caller frees the rest */
      }
    }
  }
  return 0;
}

int soupc__cty_list_val(struct soupc_cty_value **out, soupc_cty_kind kind,
                        struct soupc_cty_value **items, size_t n,
                        soupc_status *st) {
  const struct soupc_cty_type *et = NULL;
  struct soupc_cty_type *t = NULL;
  struct soupc_cty_marks *marks = NULL;
  struct soupc_cty_value *v;
  size_t i;
  int rv;

  if (n == 0) {
    soupc__free(items);
    return soupc__cty_panic(st, "must not call %s with empty slice",
                            kind == SOUPC_CTY_SET ? "SetVal" : "ListVal");
  }
  if (kind == SOUPC_CTY_SET) {
    /* SetVal: a set cannot hold marked values; their marks (at any depth)
     * move to the set itself. */
    for (i = 0; i < n; i++) {
      struct soupc_cty_marks *m = NULL, *u = NULL;
      if (!soupc__cty_contains_marked(items[i])) {
        continue;
      }
      rv = soupc__cty_unmark_deep(&items[i], &m, items[i]);
      if (rv == 0) {
        rv = soupc__cty_marks_union(&u, marks, m);
      }
      soupc_cty_marks_free(m);
      if (rv != 0) {
        soupc_cty_marks_free(marks);
        free_items(items, n);
        return rv;
      }
      soupc_cty_marks_free(marks);
      marks = u;
    }
  }
  rv =
      coll_elem_type(&et, items, n, kind == SOUPC_CTY_SET ? "set" : "list", st);
  if (rv == 0) {
    rv = retype_items(items, n, et);
  }
  if (rv == 0) {
    rv = soupc__cty_type_new_coll(&t, kind, soupc__cty_type_ref(et));
  }
  if (rv == 0 && kind == SOUPC_CTY_SET) {
    rv = soupc__cty_set_canonical(items, &n);
  }
  if (rv != 0) {
    soupc_cty_type_free(t);
    soupc_cty_marks_free(marks);
    free_items(items, n);
    return rv;
  }
  v = soupc__cty_val_alloc(t, 0);
  if (v == NULL) {
    soupc_cty_marks_free(marks);
    free_items(items, n);
    return SOUPC_ERR_NOMEM;
  }
  v->u.c.items = items;
  v->u.c.n = n;
  if (marks != NULL) {
    rv = soupc__cty_with_marks(&v, v, marks);
    soupc_cty_marks_free(marks);
    if (rv != 0) {
      return rv;
    }
  }
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

/* Sorts keys/vals by key in place; a later duplicate replaces an earlier
 * one (Go map). @return the number of distinct keys. */
static size_t sort_keys(char **keys, size_t *key_lens,
                        struct soupc_cty_value **vals, size_t n) {
  size_t i, j, m = 0;

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
  return m;
}

static void free_keyed(char **keys, size_t *lens, struct soupc_cty_value **vals,
                       size_t n) {
  size_t i;

  for (i = 0; i < n; i++) {
    soupc__free(keys[i]);
  }
  soupc__free(keys);
  soupc__free(lens);
  free_items(vals, n);
}

int soupc__cty_map_val(struct soupc_cty_value **out, char **keys,
                       size_t *key_lens, struct soupc_cty_value **vals,
                       size_t n, soupc_status *st) {
  const struct soupc_cty_type *et = NULL;
  struct soupc_cty_type *t = NULL;
  struct soupc_cty_value *v;
  size_t m;
  int rv;

  if (n == 0) {
    free_keyed(keys, key_lens, vals, 0);
    return soupc__cty_panic(st, "must not call MapVal with empty map");
  }
  for (m = 0; m < n; m++) { /* MapVal NFC-normalises the keys */
    if (!soupc__cty_nfc_trivial(keys[m], key_lens[m])) {
      size_t nl = 0;
      char *nk = soupc__cty_nfc(keys[m], key_lens[m], &nl);
      if (nk == NULL) {
        free_keyed(keys, key_lens, vals, n);
        return SOUPC_ERR_NOMEM;
      }
      soupc__free(keys[m]);
      keys[m] = nk;
      key_lens[m] = nl;
    }
  }
  m = sort_keys(keys, key_lens, vals, n);
  rv = coll_elem_type(&et, vals, m, "map", st);
  if (rv == 0) {
    rv = retype_items(vals, m, et);
  }
  if (rv == 0) {
    rv = soupc__cty_type_new_coll(&t, SOUPC_CTY_MAP, soupc__cty_type_ref(et));
  }
  if (rv != 0) {
    free_keyed(keys, key_lens, vals, m);
    return rv;
  }
  v = soupc__cty_val_alloc(t, 0);
  if (v == NULL) {
    free_keyed(keys, key_lens, vals, m);
    return SOUPC_ERR_NOMEM;
  }
  v->u.c.items = vals;
  v->u.c.keys = keys;
  v->u.c.key_lens = key_lens;
  v->u.c.n = m;
  *out = v;
  return 0;
}

/* The tuple or object type of @p items (each element's own type). */
static int struct_type(struct soupc_cty_type **out, soupc_cty_kind kind,
                       char **names, const size_t *lens,
                       struct soupc_cty_value **items, size_t n) {
  struct soupc_cty_type **ts = soupc__calloc(n + 1, sizeof(*ts));
  char **cn = NULL;
  size_t *cl = NULL;
  size_t i;
  int rv;

  if (ts == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  for (i = 0; i < n; i++) {
    ts[i] = soupc__cty_type_ref(items[i]->type);
  }
  if (kind == SOUPC_CTY_TUPLE) {
    rv = soupc__cty_type_new_tuple(out, ts, n);
    soupc__free(ts);
    return rv;
  }
  cn = soupc__calloc(n + 1, sizeof(*cn));
  cl = soupc__calloc(n + 1, sizeof(*cl));
  rv = SOUPC_ERR_NOMEM;
  if (cn != NULL && cl != NULL) {
    for (i = 0; i < n; i++) {
      cn[i] = soupc__strndup(names[i], lens[i]);
      cl[i] = lens[i];
      if (cn[i] == NULL) {
        break;
      }
    }
    if (i == n) {
      rv = soupc__cty_type_new_object(out, cn, cl, ts, NULL, n);
      soupc__free(ts);
      soupc__free(cn);
      soupc__free(cl);
      return rv;
    }
  }
  for (i = 0; i < n; i++) {
    soupc_cty_type_free(ts[i]);
    if (cn != NULL) {
      soupc__free(cn[i]);
    }
  }
  soupc__free(ts);
  soupc__free(cn);
  soupc__free(cl);
  return rv;
}

int soupc__cty_tuple_val(struct soupc_cty_value **out,
                         struct soupc_cty_value **items, size_t n) {
  struct soupc_cty_type *t = NULL;
  struct soupc_cty_value *v;
  int rv = struct_type(&t, SOUPC_CTY_TUPLE, NULL, NULL, items, n);

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

int soupc__cty_object_val(struct soupc_cty_value **out, char **names,
                          size_t *name_lens, struct soupc_cty_value **vals,
                          size_t n) {
  struct soupc_cty_type *t = NULL;
  struct soupc_cty_value *v;
  size_t i, m;
  int rv;

  for (i = 0; i < n; i++) {
    if (!soupc__cty_nfc_trivial(names[i], name_lens[i])) {
      size_t nl = 0;
      char *nn = soupc__cty_nfc(names[i], name_lens[i], &nl);
      if (nn == NULL) {
        free_keyed(names, name_lens, vals, n);
        return SOUPC_ERR_NOMEM;
      }
      soupc__free(names[i]);
      names[i] = nn;
      name_lens[i] = nl;
    }
  }
  m = sort_keys(names, name_lens, vals, n);
  rv = struct_type(&t, SOUPC_CTY_OBJECT, names, name_lens, vals, m);
  for (i = 0; i < m; i++) {
    soupc__free(names[i]);
  }
  soupc__free(names);
  soupc__free(name_lens);
  if (rv != 0) {
    free_items(vals, m);
    return rv;
  }
  v = soupc__cty_val_alloc(t, 0);
  if (v == NULL) {
    free_items(vals, m);
    return SOUPC_ERR_NOMEM;
  }
  v->u.c.items = vals;
  v->u.c.n = m;
  *out = v;
  return 0;
}

int soupc__cty_empty_coll(struct soupc_cty_value **out, soupc_cty_kind kind,
                          const struct soupc_cty_type *ety) {
  struct soupc_cty_type *t = NULL;
  struct soupc_cty_value *v;
  int rv = soupc__cty_type_new_coll(&t, kind, soupc__cty_type_ref(ety));

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

/* ---- schema-driven builders (the decoders) ---- */

/* Element type of a list/set/map built from @p items for @p schema: the
 * schema's element type unless it holds dynamic, in which case the
 * elements decide (cty.ListVal & co.). */
static int schema_elem(struct soupc_cty_type **out,
                       const struct soupc_cty_type *schema,
                       struct soupc_cty_value **items, size_t n,
                       soupc_status *st) {
  const struct soupc_cty_type *et = NULL;
  int rv;

  if (!schema->has_dyn) {
    *out = soupc__cty_type_ref(schema->concrete != NULL ? schema->concrete
                                                        : schema);
    return 0;
  }
  if (n == 0) {
    *out = soupc__cty_type_ref(schema);
    return 0;
  }
  rv = coll_elem_type(&et, items, n,
                      schema->kind == SOUPC_CTY_SET   ? "set"
                      : schema->kind == SOUPC_CTY_MAP ? "map"
                                                      : "list",
                      st);
  if (rv == 0) {
    rv = retype_items(items, n, et);
  }
  if (rv != 0) {
    return rv;
  }
  if (soupc__cty_type_equal(et, schema->elem)) {
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
  size_t i;
  int rv;

  (void)kind;
  if (schema->kind == SOUPC_CTY_SET && n > 0) {
    for (i = 0; i < n; i++) {
      if (cty_is_marked(items[i]) || soupc__cty_contains_marked(items[i])) {
        /* Marks move to the set (SetVal); the generic path does that. */
        return soupc__cty_list_val(out, SOUPC_CTY_SET, items, n, st);
      }
    }
  }
  rv = schema_elem(&t, schema, items, n, st);
  if (rv != 0) {
    free_items(items, n);
    return rv;
  }
  if (schema->kind == SOUPC_CTY_SET) {
    rv = soupc__cty_set_canonical(items, &n);
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

int soupc__cty_val_map(struct soupc_cty_value **out,
                       const struct soupc_cty_type *schema, char **keys,
                       size_t *key_lens, struct soupc_cty_value **vals,
                       size_t n, soupc_status *st) {
  struct soupc_cty_type *t = NULL;
  struct soupc_cty_value *v;
  size_t m;
  int rv;

  m = sort_keys(keys, key_lens, vals, n);
  rv = schema_elem(&t, schema, vals, m, st);
  if (rv != 0) {
    free_keyed(keys, key_lens, vals, m);
    return rv;
  }
  v = soupc__cty_val_alloc(t, 0);
  if (v == NULL) {
    free_keyed(keys, key_lens, vals, m);
    return SOUPC_ERR_NOMEM;
  }
  v->u.c.items = vals;
  v->u.c.keys = keys;
  v->u.c.key_lens = key_lens;
  v->u.c.n = m;
  *out = v;
  return 0;
}

/* The real type of a tuple/object value: cty.ObjectVal/TupleVal take each
 * element's own type and drop optional markers. */
static int structural_type(struct soupc_cty_type **out,
                           const struct soupc_cty_type *schema,
                           struct soupc_cty_value **items, size_t n) {
  size_t i;

  if (n == schema->n) {
    /* The schema (or its concrete form) is right when every item has
     * exactly the schema's member type, which is the common case. */
    const struct soupc_cty_type *c =
        schema->concrete != NULL ? schema->concrete : schema;
    for (i = 0; i < n; i++) {
      if (items[i]->type != c->elems[i] &&
          !soupc__cty_type_equal(items[i]->type, c->elems[i])) {
        break;
      }
    }
    if (i == n && (c->optional == NULL)) {
      *out = soupc__cty_type_ref(c);
      return 0;
    }
  }
  return struct_type(out, schema->kind, schema->names, schema->name_lens, items,
                     n);
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
      struct soupc_cty_type *nt = soupc__cty_type_no_optional(schema->elems[i]);
      rv = nt == NULL ? SOUPC_ERR_NOMEM : soupc_cty_value_null(&items[i], nt);
      soupc_cty_type_free(nt);
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

/* ---- public constructors over borrowed elements ---- */

static struct soupc_cty_value **ref_items(const soupc_cty_value *const *elems,
                                          size_t n) {
  struct soupc_cty_value **items = soupc__calloc(n + 1, sizeof(*items));
  size_t i;

  if (items == NULL) {
    return NULL;
  }
  for (i = 0; i < n; i++) {
    items[i] = soupc__cty_val_ref(elems[i]);
  }
  return items;
}

int soupc_cty_value_list(soupc_cty_value **out,
                         const soupc_cty_value *const *elems, size_t n,
                         soupc_status *st) {
  struct soupc_cty_value **items = ref_items(elems, n);

  if (items == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  return soupc__cty_list_val(out, SOUPC_CTY_LIST, items, n, st);
}

int soupc_cty_value_set(soupc_cty_value **out,
                        const soupc_cty_value *const *elems, size_t n,
                        soupc_status *st) {
  struct soupc_cty_value **items = ref_items(elems, n);

  if (items == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  return soupc__cty_list_val(out, SOUPC_CTY_SET, items, n, st);
}

/* Copies and NFC-normalises @p n strings. */
static int copy_names(char ***names_out, size_t **lens_out,
                      const char *const *names, const size_t *lens, size_t n) {
  char **nn = soupc__calloc(n + 1, sizeof(*nn));
  size_t *nl = soupc__calloc(n + 1, sizeof(*nl));
  size_t i;

  if (nn == NULL || nl == NULL) {
    goto nomem;
  }
  for (i = 0; i < n; i++) {
    size_t len = lens != NULL ? lens[i] : strlen(names[i]);
    nn[i] = soupc__cty_nfc(names[i], len, &nl[i]);
    if (nn[i] == NULL) {
      while (i > 0) {
        soupc__free(nn[--i]);
      }
      goto nomem;
    }
  }
  *names_out = nn;
  *lens_out = nl;
  return 0;
nomem:
  soupc__free(nn);
  soupc__free(nl);
  return SOUPC_ERR_NOMEM;
}

int soupc_cty_value_map(soupc_cty_value **out, const char *const *keys,
                        const size_t *key_lens,
                        const soupc_cty_value *const *vals, size_t n,
                        soupc_status *st) {
  struct soupc_cty_value **items;
  char **nk = NULL;
  size_t *nl = NULL;

  if (n == 0) {
    return soupc__cty_panic(st, "must not call MapVal with empty map");
  }
  if (copy_names(&nk, &nl, keys, key_lens, n) != 0) {
    return SOUPC_ERR_NOMEM;
  }
  items = ref_items(vals, n);
  if (items == NULL) {
    free_keyed(nk, nl, NULL, n);
    return SOUPC_ERR_NOMEM;
  }
  return soupc__cty_map_val(out, nk, nl, items, n, st);
}

int soupc_cty_value_empty(soupc_cty_value **out, soupc_cty_kind kind,
                          const soupc_cty_type *elem_type) {
  if (!cty_kind_is_coll(kind)) {
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  return soupc__cty_empty_coll(out, kind, elem_type);
}

int soupc_cty_value_tuple(soupc_cty_value **out,
                          const soupc_cty_value *const *elems, size_t n) {
  struct soupc_cty_value **items = ref_items(elems, n);

  if (items == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  return soupc__cty_tuple_val(out, items, n);
}

int soupc_cty_value_object(soupc_cty_value **out, const char *const *names,
                           const size_t *name_lens,
                           const soupc_cty_value *const *vals, size_t n) {
  struct soupc_cty_value **items;
  char **nn = NULL;
  size_t *nl = NULL;

  if (copy_names(&nn, &nl, names, name_lens, n) != 0) {
    return SOUPC_ERR_NOMEM;
  }
  items = ref_items(vals, n);
  if (items == NULL) {
    free_keyed(nn, nl, NULL, n);
    return SOUPC_ERR_NOMEM;
  }
  return soupc__cty_object_val(out, nn, nl, items, n);
}

/* ---- integration accessors ---- */

static int assert_prim(const soupc_cty_value *v, soupc_cty_kind k,
                       const char *not_kind, soupc_status *st) {
  if (cty_is_marked(v)) {
    return soupc__cty_panic(st, "value is marked, so must be unmarked first");
  }
  if (v->type->kind != k) {
    return soupc__cty_panic(st, "%s", not_kind);
  }
  if (v->flags & CTY_V_NULL) {
    return soupc__cty_panic(st, "value is null");
  }
  if (v->flags & CTY_V_UNKNOWN) {
    return soupc__cty_panic(st, "value is unknown");
  }
  return 0;
}

int soupc_cty_value_as_string(const soupc_cty_value *v, const char **s_out,
                              size_t *len_out, soupc_status *st) {
  int rv = assert_prim(v, SOUPC_CTY_STRING, "not a string", st);

  if (rv != 0) {
    return rv;
  }
  *s_out = v->u.str.s;
  if (len_out != NULL) {
    *len_out = v->u.str.len;
  }
  return 0;
}

int soupc_cty_value_as_bool(const soupc_cty_value *v, int *out,
                            soupc_status *st) {
  int rv = assert_prim(v, SOUPC_CTY_BOOL, "not bool", st);

  if (rv != 0) {
    return rv;
  }
  *out = v->u.b;
  return 0;
}

int soupc_cty_value_number_text(char **out, size_t *len_out,
                                const soupc_cty_value *v, soupc_status *st) {
  struct cty_buf b;
  int rv = assert_prim(v, SOUPC_CTY_NUMBER, "not a number", st);

  if (rv != 0) {
    return rv;
  }
  soupc__cty_buf_init(&b);
  soupc__cty_num_text_f(&b, v->u.num);
  return soupc__cty_buf_take(&b, out, len_out);
}

int soupc_cty_value_as_int64(const soupc_cty_value *v, int64_t *out) {
  if (assert_prim(v, SOUPC_CTY_NUMBER, "", NULL) != 0) {
    return 0;
  }
  return soupc__cty_num_int64(v->u.num, out) ? 1 : 0;
}

int soupc_cty_value_length_int(const soupc_cty_value *v, size_t *out,
                               soupc_status *st) {
  if (cty_is_marked(v)) {
    return soupc__cty_panic(st, "value is marked, so must be unmarked first");
  }
  if (v->type->kind == SOUPC_CTY_TUPLE || v->type->kind == SOUPC_CTY_OBJECT) {
    *out = v->type->n;
    return 0;
  }
  if (v->flags & CTY_V_UNKNOWN) {
    return soupc__cty_panic(st, "value is not known");
  }
  if (v->flags & CTY_V_NULL) {
    return soupc__cty_panic(st, "value is null");
  }
  if (!cty_kind_is_coll(v->type->kind)) {
    return soupc__cty_panic(st, "value is not a collection");
  }
  *out = v->u.c.n;
  return 0;
}

const soupc_cty_value *soupc_cty_value_element(const soupc_cty_value *v,
                                               size_t i, const char **key_out,
                                               size_t *key_len_out) {
  if (cty_is_marked(v) || (v->flags & (CTY_V_NULL | CTY_V_UNKNOWN)) != 0 ||
      !cty_kind_has_items(v->type->kind) || i >= v->u.c.n) {
    return NULL;
  }
  if (key_out != NULL) {
    *key_out = NULL;
    if (v->type->kind == SOUPC_CTY_MAP) {
      *key_out = v->u.c.keys[i];
    } else if (v->type->kind == SOUPC_CTY_OBJECT) {
      *key_out = v->type->names[i];
    }
  }
  if (key_len_out != NULL) {
    *key_len_out = v->type->kind == SOUPC_CTY_MAP      ? v->u.c.key_lens[i]
                   : v->type->kind == SOUPC_CTY_OBJECT ? v->type->name_lens[i]
                                                       : 0;
  }
  return v->u.c.items[i];
}
