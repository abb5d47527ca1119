/* go-cty stdlib collection functions (cty/function/stdlib/collection.go
 * and sequence.go): hasindex, index, length, element, coalescelist,
 * compact, contains, distinct, chunklist, flatten, keys, lookup, merge,
 * reverse, setproduct, slice, values, zipmap, concat, range.
 *
 * go-cty calls Value methods that panic on values they do not expect
 * (LengthInt on an unknown, AsString on a null); where a function can
 * reach one, the same panic text comes back through function.Call's
 * "panic in function implementation: " wrapper. */
#include "ctyfunc/fn_int.h"

#include "base/alloc.h"

#include <string.h>

/* ---- helpers ---- */

static const struct soupc_cty_marks *marks_of(const struct soupc_cty_value *v) {
  return cty_is_marked(v) ? v->u.mk.marks : NULL;
}

/* A union of marks collected on the way (cty.NewValueMarks). */
struct mk_acc {
  struct soupc_cty_marks *m;
  bool oom;
};

static void acc_add(struct mk_acc *a, const struct soupc_cty_marks *m) {
  struct soupc_cty_marks *u = NULL;

  if (m == NULL || a->oom) {
    return;
  }
  if (soupc__cty_marks_union(&u, a->m, m) != 0) {
    a->oom = true;
    return;
  }
  soupc_cty_marks_free(a->m);
  a->m = u;
}

static void acc_dispose(struct mk_acc *a) {
  soupc_cty_marks_free(a->m);
  a->m = NULL;
}

/* WithMarks(acc) on a result: @p rv is the status of building *out. */
static int acc_finish(struct soupc_cty_value **out, struct mk_acc *a, int rv) {
  if (rv == 0 && a->oom) {
    soupc_cty_value_free(*out);
    *out = NULL;
    rv = SOUPC_ERR_NOMEM;
  }
  if (rv == 0 && a->m != NULL) {
    rv = soupc__cty_with_marks(out, *out, a->m);
  }
  acc_dispose(a);
  return rv;
}

/* A growable array of owned values. */
struct vvec {
  struct soupc_cty_value **v;
  size_t n, cap;
};

static int vvec_push(struct vvec *a, struct soupc_cty_value *x) {
  if (a->n + 1 >= a->cap) {
    size_t cap = a->cap < 8 ? 8 : a->cap * 2;
    struct soupc_cty_value **nv = soupc__realloc(a->v, cap * sizeof(void *));
    if (nv == NULL) {
      soupc_cty_value_free(x);
      return SOUPC_ERR_NOMEM;
    }
    a->v = nv;
    a->cap = cap;
  }
  a->v[a->n++] = x;
  return 0;
}

static void vvec_dispose(struct vvec *a) {
  size_t i;

  for (i = 0; i < a->n; i++) {
    soupc_cty_value_free(a->v[i]);
  }
  soupc__free(a->v);
  a->v = NULL;
  a->n = a->cap = 0;
}

/* Hands the array over (never NULL, so n == 0 works too). */
static struct soupc_cty_value **vvec_take(struct vvec *a) {
  struct soupc_cty_value **v = a->v;

  if (v == NULL) {
    v = FN_PTR_ARRAY(0);
  }
  a->v = NULL;
  a->n = a->cap = 0;
  return v;
}

/* cty.ListVal(items) or ListValEmpty(ety) when there are none. */
static int list_of(struct soupc_cty_value **out, struct vvec *a,
                   const struct soupc_cty_type *ety) {
  size_t n = a->n;
  struct soupc_cty_value **items = vvec_take(a);

  if (items == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  return soupc__fn_list(out, ety, items, n);
}

static int tuple_of(struct soupc_cty_value **out, struct vvec *a) {
  size_t n = a->n;
  struct soupc_cty_value **items = vvec_take(a);

  if (items == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  return soupc__cty_tuple_val(out, items, n);
}

static const struct soupc_cty_type *dyn_type(void) {
  return soupc__cty_type_prim(SOUPC_CTY_DYNAMIC);
}

static int ret_dynamic(struct soupc_cty_type **out) {
  *out = soupc__cty_type_ref(dyn_type());
  return 0;
}

static int coll_type(struct soupc_cty_type **out, soupc_cty_kind kind,
                     const struct soupc_cty_type *elem) {
  return soupc__cty_type_new_coll(out, kind, soupc__cty_type_ref(elem));
}

/* A tuple type of the given element types (references taken). */
static int tuple_type(struct soupc_cty_type **out,
                      const struct soupc_cty_type *const *ts, size_t n) {
  struct soupc_cty_type **el = FN_PTR_ARRAY(n);
  size_t i;
  int rv;

  if (el == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  for (i = 0; i < n; i++) {
    el[i] = soupc__cty_type_ref(ts[i]);
  }
  rv = soupc__cty_type_new_tuple(out, el, n);
  soupc__free(el);
  return rv;
}

/* A Go map[string]cty.Type being filled in: a later name replaces an
 * earlier one. */
struct attr_map {
  char **names;
  size_t *lens;
  const struct soupc_cty_type **types; /* borrowed */
  size_t n, cap;
};

static int attr_set(struct attr_map *m, const char *name, size_t len,
                    const struct soupc_cty_type *t) {
  size_t i;

  for (i = 0; i < m->n; i++) {
    if (m->lens[i] == len && memcmp(m->names[i], name, len) == 0) {
      m->types[i] = t;
      return 0;
    }
  }
  if (m->n == m->cap) {
    size_t cap = m->cap < 8 ? 8 : m->cap * 2;
    char **nn = soupc__realloc(m->names, cap * sizeof(char *));
    size_t *nl;
    const struct soupc_cty_type **nt;
    if (nn == NULL) {
      return SOUPC_ERR_NOMEM;
    }
    m->names = nn;
    nl = soupc__realloc(m->lens, cap * sizeof(size_t));
    if (nl == NULL) {
      return SOUPC_ERR_NOMEM;
    }
    m->lens = nl;
    nt = soupc__realloc(m->types, cap * sizeof(void *));
    if (nt == NULL) {
      return SOUPC_ERR_NOMEM;
    }
    m->types = nt;
    m->cap = cap;
  }
  m->names[m->n] = soupc__strndup(name, len);
  if (m->names[m->n] == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  m->lens[m->n] = len;
  m->types[m->n] = t;
  m->n++;
  return 0;
}

static void attr_dispose(struct attr_map *m) {
  size_t i;

  for (i = 0; i < m->n; i++) {
    soupc__free(m->names[i]);
  }
  soupc__free(m->names);
  soupc__free(m->lens);
  soupc__free(m->types);
  memset(m, 0, sizeof(*m));
}

/* cty.Object(attrs); the map is consumed. */
static int attr_object_type(struct soupc_cty_type **out, struct attr_map *m) {
  struct soupc_cty_type **ts = FN_PTR_ARRAY(m->n);
  char **names = FN_PTR_ARRAY(m->n);
  size_t *lens = soupc__calloc(m->n + 1, sizeof(size_t));
  size_t i;
  int rv = SOUPC_ERR_NOMEM;

  if (ts != NULL && names != NULL && lens != NULL) {
    for (i = 0; i < m->n; i++) {
      ts[i] = soupc__cty_type_ref(m->types[i]);
      names[i] = m->names[i];
      lens[i] = m->lens[i];
      m->names[i] = NULL;
    }
    rv = soupc__cty_type_new_object(out, names, lens, ts, NULL, m->n);
  }
  soupc__free(ts);
  soupc__free(names);
  soupc__free(lens);
  attr_dispose(m);
  return rv;
}

/* A Go map[string]cty.Value being filled in (MapVal / ObjectVal do the
 * later-wins and the ordering). */
struct kv_vec {
  char **keys;
  size_t *lens;
  struct vvec vals;
};

static int kv_push(struct kv_vec *a, const char *k, size_t len,
                   struct soupc_cty_value *v) {
  size_t n = a->vals.n;
  char **nk;
  size_t *nl;

  nk = soupc__realloc(a->keys, (n + 1) * sizeof(char *));
  if (nk == NULL) {
    soupc_cty_value_free(v);
    return SOUPC_ERR_NOMEM;
  }
  a->keys = nk;
  nl = soupc__realloc(a->lens, (n + 1) * sizeof(size_t));
  if (nl == NULL) {
    soupc_cty_value_free(v);
    return SOUPC_ERR_NOMEM;
  }
  a->lens = nl;
  a->keys[n] = soupc__strndup(k, len);
  if (a->keys[n] == NULL) {
    soupc_cty_value_free(v);
    return SOUPC_ERR_NOMEM;
  }
  a->lens[n] = len;
  if (vvec_push(&a->vals, v) != 0) {
    soupc__free(a->keys[n]);
    return SOUPC_ERR_NOMEM;
  }
  return 0;
}

static void kv_dispose(struct kv_vec *a) {
  size_t i;

  for (i = 0; i < a->vals.n; i++) {
    soupc__free(a->keys[i]);
  }
  soupc__free(a->keys);
  soupc__free(a->lens);
  vvec_dispose(&a->vals);
  a->keys = NULL;
  a->lens = NULL;
}

/* MapVal / MapValEmpty(ety) / ObjectVal of the pairs; consumes them. */
static int kv_build(struct soupc_cty_value **out, struct kv_vec *a, bool as_map,
                    const struct soupc_cty_type *ety) {
  size_t n = a->vals.n;
  char **keys = a->keys;
  size_t *lens = a->lens;
  struct soupc_cty_value **vals;
  soupc_status st;

  if (as_map && n == 0) {
    kv_dispose(a);
    return soupc__cty_empty_coll(out, SOUPC_CTY_MAP, ety);
  }
  if (keys == NULL) {
    keys = FN_PTR_ARRAY(0);
    lens = soupc__calloc(1, sizeof(size_t));
    if (keys == NULL || lens == NULL) {
      soupc__free(keys);
      soupc__free(lens);
      kv_dispose(a);
      return SOUPC_ERR_NOMEM;
    }
  }
  vals = vvec_take(&a->vals);
  a->keys = NULL;
  a->lens = NULL;
  if (vals == NULL) {
    size_t i;
    for (i = 0; i < n; i++) {
      soupc__free(keys[i]);
    }
    soupc__free(keys);
    soupc__free(lens);
    return SOUPC_ERR_NOMEM;
  }
  if (as_map) {
    soupc_status_clear(&st);
    return soupc__cty_map_val(out, keys, lens, vals, n, &st);
  }
  return soupc__cty_object_val(out, keys, lens, vals, n);
}

/* Value.LengthInt (on an unmarked value). */
static int length_int(size_t *out, struct fn_ctx *c,
                      const struct soupc_cty_value *v) {
  soupc_status st;
  int rv;

  soupc_status_clear(&st);
  rv = soupc_cty_value_length_int(v, out, &st);
  return soupc__fn_status(c, -1, rv, &st);
}

/* Value.Length().IsKnown() */
static int length_known(bool *known, struct fn_ctx *c,
                        const struct soupc_cty_value *v) {
  struct soupc_cty_value *l = NULL;
  soupc_status st;
  int rv;

  soupc_status_clear(&st);
  rv = soupc__cty_length(&l, v, &st);
  if (rv != 0) {
    return soupc__fn_status(c, -1, rv, &st);
  }
  *known = cty_is_known(l);
  soupc_cty_value_free(l);
  return 0;
}

/* Value.Index(cty.NumberIntVal(i)) */
static int index_int(struct soupc_cty_value **out, struct fn_ctx *c,
                     const struct soupc_cty_value *v, int64_t i) {
  struct soupc_cty_value *key = NULL;
  soupc_status st;
  int rv = soupc__fn_int(&key, i);

  if (rv != 0) {
    return rv;
  }
  soupc_status_clear(&st);
  rv = soupc_cty_value_index(out, v, key, &st);
  soupc_cty_value_free(key);
  return soupc__fn_status(c, -1, rv, &st);
}

static int fail_friendly(struct fn_ctx *c, long arg, const char *prefix,
                         const struct soupc_cty_type *t) {
  struct cty_buf b;

  soupc__cty_buf_init(&b);
  soupc__cty_buf_puts(&b, prefix);
  soupc__fn_friendly(&b, t, false);
  return soupc__fn_fail_buf(c, arg, &b);
}

static int convert_to(struct soupc_cty_value **out, struct fn_ctx *c, long arg,
                      const struct soupc_cty_value *v,
                      const struct soupc_cty_type *want) {
  struct soupc_cty_path *path = NULL;
  soupc_status st;
  int rv;

  soupc_status_clear(&st);
  rv = soupc__cty_convert(out, v, want, &path, &st);
  soupc_cty_path_free(path);
  return soupc__fn_status(c, arg, rv, &st);
}

static bool is_seq(soupc_cty_kind k) {
  return k == SOUPC_CTY_LIST || k == SOUPC_CTY_SET || k == SOUPC_CTY_TUPLE;
}

/* Value.HasIndex on unmarked values: 1 true, 0 false, -1 unknown. */
static int has_index(struct fn_ctx *c, const struct soupc_cty_value *v,
                     const struct soupc_cty_value *key, int *res) {
  soupc_cty_kind k = v->type->kind, kk = key->type->kind;
  int64_t i;
  size_t j;

  if (k == SOUPC_CTY_DYNAMIC) {
    *res = -1;
    return 0;
  }
  if (k != SOUPC_CTY_LIST && k != SOUPC_CTY_MAP && k != SOUPC_CTY_TUPLE) {
    return soupc__fn_fail(c, -1,
                          "panic in function implementation: not a list, "
                          "map, or tuple type");
  }
  if (kk == SOUPC_CTY_DYNAMIC) {
    *res = -1;
    return 0;
  }
  if (kk != (k == SOUPC_CTY_MAP ? SOUPC_CTY_STRING : SOUPC_CTY_NUMBER)) {
    *res = 0;
    return 0;
  }
  if (!cty_is_known(key) || (k != SOUPC_CTY_TUPLE && !cty_is_known(v))) {
    *res = -1;
    return 0;
  }
  if (k == SOUPC_CTY_MAP) {
    *res = 0;
    for (j = 0; j < v->u.c.n; j++) {
      if (v->u.c.key_lens[j] == key->u.str.len &&
          memcmp(v->u.c.keys[j], key->u.str.s, key->u.str.len) == 0) {
        *res = 1;
      }
    }
    return 0;
  }
  if (!soupc__cty_num_int64(key->u.num, &i) || i < 0) {
    *res = 0;
    return 0;
  }
  *res = (uint64_t)i < (k == SOUPC_CTY_TUPLE ? v->type->n : v->u.c.n);
  return 0;
}

static int bool_or_unknown(struct soupc_cty_value **out, int tri) {
  if (tri < 0) {
    return soupc__cty_unknown_bool_not_null(out);
  }
  return soupc__fn_bool(out, tri != 0);
}

/* ---- hasindex / index ---- */

static int hasindex_type(struct soupc_cty_type **out, struct fn_ctx *c,
                         struct soupc_cty_value *const *a, size_t n) {
  soupc_cty_kind k = a[0]->type->kind;

  if (k != SOUPC_CTY_TUPLE && k != SOUPC_CTY_LIST && k != SOUPC_CTY_MAP &&
      k != SOUPC_CTY_DYNAMIC) {
    return soupc__fn_fail(c, -1, "collection must be a list, a map or a tuple");
  }
  *out = soupc__cty_type_ref(soupc__fn_type(FN_T_BOOL));
  return 0;
}

static int hasindex_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                         struct soupc_cty_value *const *a, size_t n,
                         const struct soupc_cty_type *ret) {
  int tri = 0;
  int rv = has_index(c, a[0], a[1], &tri);

  return rv != 0 ? rv : bool_or_unknown(out, tri);
}

static int index_type(struct soupc_cty_type **out, struct fn_ctx *c,
                      struct soupc_cty_value *const *a, size_t n) {
  const struct soupc_cty_type *ct = a[0]->type;
  soupc_cty_kind kk = a[1]->type->kind;
  int64_t idx;
  int rv;

  switch (ct->kind) {
  case SOUPC_CTY_TUPLE:
    if (kk != SOUPC_CTY_NUMBER && kk != SOUPC_CTY_DYNAMIC) {
      return soupc__fn_fail(c, -1, "key for tuple must be number");
    }
    if (!cty_is_known(a[1])) {
      return ret_dynamic(out);
    }
    rv = soupc__fn_to_int(&idx, c, -1, a[1], "invalid key for tuple: ");
    if (rv != 0) {
      return rv;
    }
    if (idx < 0 || (uint64_t)idx >= ct->n) {
      return soupc__fn_fail(c, -1, "key must be between 0 and %zu inclusive",
                            ct->n);
    }
    *out = soupc__cty_type_ref(ct->elems[idx]);
    return 0;
  case SOUPC_CTY_LIST:
    if (kk != SOUPC_CTY_NUMBER && kk != SOUPC_CTY_DYNAMIC) {
      return soupc__fn_fail(c, -1, "key for list must be number");
    }
    *out = soupc__cty_type_ref(ct->elem);
    return 0;
  case SOUPC_CTY_MAP:
    if (kk != SOUPC_CTY_STRING && kk != SOUPC_CTY_DYNAMIC) {
      return soupc__fn_fail(c, -1, "key for map must be string");
    }
    *out = soupc__cty_type_ref(ct->elem);
    return 0;
  default:
    return soupc__fn_fail(c, -1, "collection must be a list, a map or a tuple");
  }
}

static int index_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                      struct soupc_cty_value *const *a, size_t n,
                      const struct soupc_cty_type *ret) {
  soupc_status st;
  int tri = 0;
  int rv = has_index(c, a[0], a[1], &tri);

  if (rv != 0) {
    return rv;
  }
  if (tri == 0) {
    return soupc__fn_fail(c, -1, "invalid index");
  }
  soupc_status_clear(&st);
  rv = soupc_cty_value_index(out, a[0], a[1], &st);
  return soupc__fn_status(c, -1, rv, &st);
}

/* ---- length ---- */

static int length_type(struct soupc_cty_type **out, struct fn_ctx *c,
                       struct soupc_cty_value *const *a, size_t n) {
  soupc_cty_kind k = a[0]->type->kind;

  if (k != SOUPC_CTY_TUPLE && k != SOUPC_CTY_LIST && k != SOUPC_CTY_MAP &&
      k != SOUPC_CTY_SET && k != SOUPC_CTY_DYNAMIC) {
    return soupc__fn_fail(c, -1, "collection must be a list, a map or a tuple");
  }
  *out = soupc__cty_type_ref(soupc__fn_type(FN_T_NUMBER));
  return 0;
}

static int length_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                       struct soupc_cty_value *const *a, size_t n,
                       const struct soupc_cty_type *ret) {
  soupc_status st;
  int rv;

  soupc_status_clear(&st);
  rv = soupc__cty_length(out, a[0], &st);
  return soupc__fn_status(c, -1, rv, &st);
}

/* ---- element ---- */

static int element_type(struct soupc_cty_type **out, struct fn_ctx *c,
                        struct soupc_cty_value *const *a, size_t n) {
  const struct soupc_cty_type *lt = a[0]->type;
  int64_t idx;
  int rv;

  if (lt->kind == SOUPC_CTY_LIST) {
    *out = soupc__cty_type_ref(lt->elem);
    return 0;
  }
  if (lt->kind != SOUPC_CTY_TUPLE) {
    return fail_friendly(c, -1, "cannot read elements from ", lt);
  }
  if (!cty_is_known(a[1])) {
    return ret_dynamic(out);
  }
  rv = soupc__fn_to_int(&idx, c, -1, a[1], "invalid index: ");
  if (rv != 0) {
    return rv;
  }
  if (lt->n == 0) {
    return soupc__fn_fail(c, -1,
                          "cannot use element function with an empty list");
  }
  idx %= (int64_t)lt->n;
  if (idx < 0) {
    idx += (int64_t)lt->n;
  }
  *out = soupc__cty_type_ref(lt->elems[idx]);
  return 0;
}

static int element_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                        struct soupc_cty_value *const *a, size_t n,
                        const struct soupc_cty_type *ret) {
  const struct soupc_cty_value *in = cty_unmarked(a[0]);
  struct mk_acc acc = {NULL, false};
  int64_t idx;
  size_t l = 0;
  int rv;

  rv = soupc__fn_to_int(&idx, c, -1, a[1], "invalid index: ");
  if (rv != 0) {
    return rv;
  }
  if (!cty_is_known(in)) {
    /* go-cty drops the list's marks here. */
    return soupc__fn_unknown(out, ret);
  }
  rv = length_int(&l, c, in);
  if (rv != 0) {
    return rv;
  }
  if (l == 0) {
    return soupc__fn_fail(c, -1,
                          "cannot use element function with an empty list");
  }
  idx %= (int64_t)l;
  if (idx < 0) {
    idx += (int64_t)l;
  }
  acc_add(&acc, marks_of(a[0]));
  rv = index_int(out, c, in, idx);
  return acc_finish(out, &acc, rv);
}

/* ---- coalescelist ---- */

static int coalescelist_type(struct soupc_cty_type **out, struct fn_ctx *c,
                             struct soupc_cty_value *const *a, size_t n) {
  size_t i;

  if (n == 0) {
    return soupc__fn_fail(c, -1, "at least one argument is required");
  }
  for (i = 0; i < n; i++) {
    soupc_cty_kind k = a[i]->type->kind;
    if (!cty_is_known(a[i])) {
      return ret_dynamic(out);
    }
    if (k != SOUPC_CTY_LIST && k != SOUPC_CTY_TUPLE) {
      return soupc__fn_fail(c, -1,
                            "coalescelist arguments must be lists or tuples");
    }
  }
  for (i = 1; i < n; i++) {
    if (!soupc_cty_type_equals(a[i]->type, a[0]->type)) {
      return ret_dynamic(out);
    }
  }
  *out = soupc__cty_type_ref(a[0]->type);
  return 0;
}

static int coalescelist_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                             struct soupc_cty_value *const *a, size_t n,
                             const struct soupc_cty_type *ret) {
  size_t i, l;
  int rv;

  for (i = 0; i < n; i++) {
    if (!cty_is_known(a[i])) {
      return soupc__fn_unknown(out, ret);
    }
    if (cty_is_null(a[i])) {
      continue;
    }
    rv = length_int(&l, c, a[i]);
    if (rv != 0) {
      return rv;
    }
    if (l > 0) {
      return soupc__fn_dup(out, a[i]);
    }
  }
  return soupc__fn_fail(c, -1, "no non-null arguments");
}

/* ---- compact ---- */

static int compact_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                        struct soupc_cty_value *const *a, size_t n,
                        const struct soupc_cty_type *ret) {
  const struct soupc_cty_value *l = a[0];
  struct vvec acc = {NULL, 0, 0};
  size_t i;
  int rv;

  if (!soupc__fn_wholly_known(l)) {
    return soupc__fn_unknown(out, ret);
  }
  for (i = 0; i < l->u.c.n; i++) {
    const struct soupc_cty_value *v = l->u.c.items[i];
    if (cty_is_null(v) || v->u.str.len == 0) {
      continue;
    }
    rv = vvec_push(&acc, soupc__cty_val_ref(v));
    if (rv != 0) {
      vvec_dispose(&acc);
      return rv;
    }
  }
  return list_of(out, &acc, soupc__fn_type(FN_T_STRING));
}

/* ---- contains / distinct ---- */

/* Value.Equals(...).True(): 1 true, 0 false, -1 unknown. */
static int equals_tri(int *res, struct fn_ctx *c,
                      const struct soupc_cty_value *x,
                      const struct soupc_cty_value *y) {
  struct soupc_cty_value *eq = NULL;
  soupc_status st;
  int rv;

  soupc_status_clear(&st);
  rv = soupc__cty_equals(&eq, x, y, &st);
  if (rv != 0) {
    return soupc__fn_status(c, -1, rv, &st);
  }
  *res = cty_is_known(eq) ? (cty_unmarked(eq)->u.b ? 1 : 0) : -1;
  soupc_cty_value_free(eq);
  return 0;
}

static int contains_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                         struct soupc_cty_value *const *a, size_t n,
                         const struct soupc_cty_type *ret) {
  const struct soupc_cty_value *l = a[0];
  bool unk = false;
  size_t i, len = 0;
  int rv;

  if (!is_seq(l->type->kind)) {
    return soupc__fn_fail(c, -1, "argument must be list, tuple, or set");
  }
  if (cty_is_null(l)) {
    return soupc__fn_fail(c, -1, "cannot search a nil list or set");
  }
  rv = length_int(&len, c, l);
  if (rv != 0) {
    return rv;
  }
  if (len == 0) {
    return soupc__fn_bool(out, false);
  }
  if (!cty_is_known(l) || !cty_is_known(a[1])) {
    return soupc__fn_unknown(out, ret);
  }
  for (i = 0; i < l->u.c.n; i++) {
    int eq = 0;
    rv = equals_tri(&eq, c, a[1], l->u.c.items[i]);
    if (rv != 0) {
      return rv;
    }
    if (eq < 0) {
      unk = true;
    } else if (eq > 0) {
      return soupc__fn_bool(out, true);
    }
  }
  return unk ? soupc__fn_unknown(out, ret) : soupc__fn_bool(out, false);
}

static int same_type(struct soupc_cty_type **out, struct fn_ctx *c,
                     struct soupc_cty_value *const *a, size_t n) {
  *out = soupc__cty_type_ref(a[0]->type);
  return 0;
}

static int distinct_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                         struct soupc_cty_value *const *a, size_t n,
                         const struct soupc_cty_type *ret) {
  const struct soupc_cty_value *l = a[0];
  struct vvec acc = {NULL, 0, 0};
  size_t i, j;
  int rv = 0;

  if (!soupc__fn_wholly_known(l)) {
    return soupc__fn_unknown(out, ret);
  }
  for (i = 0; i < l->u.c.n && rv == 0; i++) {
    bool seen = false;
    for (j = 0; j < acc.n && rv == 0 && !seen; j++) {
      int eq = 0;
      rv = equals_tri(&eq, c, acc.v[j], l->u.c.items[i]);
      seen = eq > 0;
    }
    if (rv == 0 && !seen) {
      rv = vvec_push(&acc, soupc__cty_val_ref(l->u.c.items[i]));
    }
  }
  if (rv != 0) {
    vvec_dispose(&acc);
    return rv;
  }
  return list_of(out, &acc, ret->elem);
}

/* ---- chunklist ---- */

static int chunklist_type(struct soupc_cty_type **out, struct fn_ctx *c,
                          struct soupc_cty_value *const *a, size_t n) {
  return coll_type(out, SOUPC_CTY_LIST, a[0]->type);
}

static int chunklist_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                          struct soupc_cty_value *const *a, size_t n,
                          const struct soupc_cty_type *ret) {
  const struct soupc_cty_value *l = cty_unmarked(a[0]);
  struct mk_acc acc = {NULL, false};
  struct vvec chunks = {NULL, 0, 0}, chunk = {NULL, 0, 0};
  int64_t size;
  size_t i, len = 0;
  int rv;

  acc_add(&acc, marks_of(a[0]));
  acc_add(&acc, marks_of(a[1]));
  rv = soupc__fn_to_int(&size, c, -1, cty_unmarked(a[1]), "invalid size: ");
  if (rv == 0 && size < 0) {
    rv = soupc__fn_fail(c, -1, "the size argument must be positive");
  }
  if (rv == 0) {
    rv = length_int(&len, c, l);
  }
  if (rv != 0) {
    acc_dispose(&acc);
    return rv;
  }
  if (len == 0) {
    rv = soupc__cty_empty_coll(out, SOUPC_CTY_LIST, l->type);
    return acc_finish(out, &acc, rv);
  }
  if (size == 0) {
    rv = vvec_push(&chunks, soupc__cty_val_ref(l));
    if (rv == 0) {
      rv = list_of(out, &chunks, l->type);
    }
    return acc_finish(out, &acc, rv);
  }
  for (i = 0; i < l->u.c.n && rv == 0; i++) {
    rv = vvec_push(&chunk, soupc__cty_val_ref(l->u.c.items[i]));
    if (rv == 0 && ((uint64_t)(i + 1) % (uint64_t)size == 0 || i + 1 == len)) {
      struct soupc_cty_value *cv = NULL;
      rv = list_of(&cv, &chunk, l->type->elem);
      if (rv == 0) {
        rv = vvec_push(&chunks, cv);
      }
    }
  }
  vvec_dispose(&chunk);
  if (rv == 0) {
    rv = list_of(out, &chunks, l->type);
  }
  vvec_dispose(&chunks);
  return acc_finish(out, &acc, rv);
}

/* ---- flatten ---- */

/* flattener(): the flattened elements (references) into @p res, their
 * marks into @p acc; *known false when some part cannot be flattened
 * yet. */
// NOLINTNEXTLINE(misc-no-recursion)
static int flattener(struct fn_ctx *c, const struct soupc_cty_value *v,
                     struct vvec *res, struct mk_acc *acc, bool *known,
                     int depth) {
  const struct soupc_cty_value *l = cty_unmarked(v);
  bool lk = false;
  size_t i;
  int rv;

  acc_add(acc, marks_of(v));
  *known = true;
  if (depth > CTY_MAX_DEPTH) {
    return soupc__fn_fail(c, -1, "value is nested too deeply");
  }
  rv = length_known(&lk, c, l);
  if (rv != 0) {
    return rv;
  }
  if (!lk) {
    *known = false;
    return 0;
  }
  for (i = 0; i < l->u.c.n; i++) {
    const struct soupc_cty_value *e = l->u.c.items[i];
    if (cty_is_dynamic_val(e)) {
      *known = false;
    }
    if (!cty_is_null(e) && is_seq(e->type->kind)) {
      bool k2 = true;
      if (!cty_is_known(e)) {
        *known = false;
        acc_add(acc, marks_of(e));
        continue;
      }
      {
        struct vvec sub = {NULL, 0, 0};
        size_t j;
        rv = flattener(c, e, &sub, acc, &k2, depth + 1);
        for (j = 0; rv == 0 && k2 && j < sub.n; j++) {
          rv = vvec_push(res, sub.v[j]);
          sub.v[j] = NULL;
        }
        vvec_dispose(&sub);
        if (rv != 0) {
          return rv;
        }
        if (!k2) {
          *known = false;
        }
      }
    } else {
      rv = vvec_push(res, soupc__cty_val_ref(e));
      if (rv != 0) {
        return rv;
      }
    }
  }
  return 0;
}

static int flatten_type(struct soupc_cty_type **out, struct fn_ctx *c,
                        struct soupc_cty_value *const *a, size_t n) {
  struct vvec res = {NULL, 0, 0};
  struct mk_acc acc = {NULL, false};
  const struct soupc_cty_type **ts;
  bool known = true;
  size_t i;
  int rv;

  if (!soupc__fn_wholly_known(a[0])) {
    return ret_dynamic(out);
  }
  if (!is_seq(a[0]->type->kind)) {
    return soupc__fn_fail(c, -1, "can only flatten lists, sets and tuples");
  }
  rv = flattener(c, a[0], &res, &acc, &known, 0);
  acc_dispose(&acc);
  if (rv != 0 || !known) {
    vvec_dispose(&res);
    return rv != 0 ? rv : ret_dynamic(out);
  }
  ts = FN_PTR_ARRAY(res.n);
  if (ts == NULL) {
    vvec_dispose(&res);
    return SOUPC_ERR_NOMEM;
  }
  for (i = 0; i < res.n; i++) {
    ts[i] = res.v[i]->type;
  }
  rv = tuple_type(out, ts, res.n);
  soupc__free(ts);
  vvec_dispose(&res);
  return rv;
}

static int flatten_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                        struct soupc_cty_value *const *a, size_t n,
                        const struct soupc_cty_type *ret) {
  struct vvec res = {NULL, 0, 0};
  struct mk_acc acc = {NULL, false};
  bool known = true;
  size_t len = 0;
  int rv = length_int(&len, c, cty_unmarked(a[0]));

  if (rv != 0) {
    return rv;
  }
  if (len == 0) {
    acc_add(&acc, marks_of(a[0]));
    rv = tuple_of(out, &res);
    return acc_finish(out, &acc, rv);
  }
  rv = flattener(c, a[0], &res, &acc, &known, 0);
  if (rv == 0) {
    rv = known ? tuple_of(out, &res) : soupc__fn_unknown(out, ret);
  }
  vvec_dispose(&res);
  return acc_finish(out, &acc, rv);
}

/* ---- keys / values ---- */

static int keys_type(struct soupc_cty_type **out, struct fn_ctx *c,
                     struct soupc_cty_value *const *a, size_t n) {
  const struct soupc_cty_type *t = a[0]->type;

  if (t->kind == SOUPC_CTY_MAP) {
    return soupc__fn_list_type(out, soupc__fn_type(FN_T_STRING));
  }
  if (t->kind == SOUPC_CTY_OBJECT) {
    return soupc__fn_tuple_type_n(out, soupc__fn_type(FN_T_STRING), t->n);
  }
  return soupc__fn_fail(c, 0, "must have map or object type");
}

static int keys_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                     struct soupc_cty_value *const *a, size_t n,
                     const struct soupc_cty_type *ret) {
  const struct soupc_cty_value *m = cty_unmarked(a[0]);
  struct mk_acc acc = {NULL, false};
  struct vvec keys = {NULL, 0, 0};
  size_t i;
  int rv = 0;

  acc_add(&acc, marks_of(a[0]));
  if (m->type->kind == SOUPC_CTY_OBJECT) {
    for (i = 0; i < m->type->n && rv == 0; i++) {
      struct soupc_cty_value *k = NULL;
      rv = soupc__fn_str(&k, m->type->names[i], m->type->name_lens[i]);
      if (rv == 0) {
        rv = vvec_push(&keys, k);
      }
    }
    if (rv == 0) {
      rv = tuple_of(out, &keys);
    }
  } else if (!cty_is_known(m)) {
    rv = soupc__fn_unknown(out, ret);
  } else {
    for (i = 0; i < m->u.c.n && rv == 0; i++) {
      struct soupc_cty_value *k = NULL;
      rv = soupc__fn_str(&k, m->u.c.keys[i], m->u.c.key_lens[i]);
      if (rv == 0) {
        rv = vvec_push(&keys, k);
      }
    }
    if (rv == 0) {
      rv = list_of(out, &keys, soupc__fn_type(FN_T_STRING));
    }
  }
  vvec_dispose(&keys);
  return acc_finish(out, &acc, rv);
}

static int values_type(struct soupc_cty_type **out, struct fn_ctx *c,
                       struct soupc_cty_value *const *a, size_t n) {
  const struct soupc_cty_type *t = a[0]->type;

  if (t->kind == SOUPC_CTY_MAP) {
    return soupc__fn_list_type(out, t->elem);
  }
  if (t->kind == SOUPC_CTY_OBJECT) {
    /* attributes are kept in name order already */
    return tuple_type(out, (const struct soupc_cty_type *const *)t->elems,
                      t->n);
  }
  return soupc__fn_fail(c, -1, "values() requires a map as the first argument");
}

static int values_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                       struct soupc_cty_value *const *a, size_t n,
                       const struct soupc_cty_type *ret) {
  const struct soupc_cty_value *m = cty_unmarked(a[0]);
  struct mk_acc acc = {NULL, false};
  struct vvec vals = {NULL, 0, 0};
  size_t i;
  int rv = 0;

  acc_add(&acc, marks_of(a[0]));
  for (i = 0; i < m->u.c.n && rv == 0; i++) {
    rv = vvec_push(&vals, soupc__cty_val_ref(m->u.c.items[i]));
  }
  if (rv == 0) {
    rv = ret->kind == SOUPC_CTY_TUPLE ? tuple_of(out, &vals)
                                      : list_of(out, &vals, ret->elem);
  }
  vvec_dispose(&vals);
  return acc_finish(out, &acc, rv);
}

/* ---- lookup ---- */

static int lookup_type(struct soupc_cty_type **out, struct fn_ctx *c,
                       struct soupc_cty_value *const *a, size_t n) {
  const struct soupc_cty_type *t = a[0]->type;

  if (t->kind == SOUPC_CTY_OBJECT) {
    const struct soupc_cty_value *k = cty_unmarked(a[1]);
    long idx;
    if (!cty_is_known(k)) {
      return ret_dynamic(out);
    }
    idx = soupc__cty_type_attr(t, k->u.str.s, k->u.str.len);
    *out = soupc__cty_type_ref(idx >= 0 ? t->elems[idx] : a[2]->type);
    return 0;
  }
  if (t->kind == SOUPC_CTY_MAP) {
    struct soupc_cty_value *cv = NULL;
    struct soupc_cty_path *path = NULL;
    soupc_status st;
    int rv;
    soupc_status_clear(&st);
    rv = soupc__cty_convert(&cv, a[2], t->elem, &path, &st);
    soupc_cty_path_free(path);
    soupc_cty_value_free(cv);
    if (rv == SOUPC_ERR_NOMEM) {
      return rv;
    }
    if (rv != 0) {
      return soupc__fn_fail(c, 2,
                            "the default value must have the same type as "
                            "the map elements");
    }
    *out = soupc__cty_type_ref(t->elem);
    return 0;
  }
  return soupc__fn_fail(c, 0, "lookup() requires a map as the first argument");
}

static int lookup_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                       struct soupc_cty_value *const *a, size_t n,
                       const struct soupc_cty_type *ret) {
  const struct soupc_cty_value *m = cty_unmarked(a[0]);
  const struct soupc_cty_value *k = cty_unmarked(a[1]);
  struct mk_acc acc = {NULL, false};
  soupc_status st;
  int rv;

  acc_add(&acc, marks_of(a[0]));
  acc_add(&acc, marks_of(a[1]));
  if (!soupc__fn_wholly_known(m)) {
    rv = soupc__fn_unknown(out, ret);
    return acc_finish(out, &acc, rv);
  }
  soupc_status_clear(&st);
  if (m->type->kind == SOUPC_CTY_OBJECT) {
    if (soupc__cty_type_attr(m->type, k->u.str.s, k->u.str.len) >= 0) {
      rv = soupc_cty_value_get_attr(out, m, k->u.str.s, k->u.str.len, &st);
      rv = soupc__fn_status(c, -1, rv, &st);
      return acc_finish(out, &acc, rv);
    }
  } else {
    int tri = 0;
    rv = has_index(c, m, k, &tri);
    if (rv == 0 && tri == 1) {
      rv = soupc_cty_value_index(out, m, k, &st);
      rv = soupc__fn_status(c, -1, rv, &st);
      return acc_finish(out, &acc, rv);
    }
    if (rv != 0) {
      acc_dispose(&acc);
      return rv;
    }
  }
  rv = convert_to(out, c, -1, a[2], ret);
  return acc_finish(out, &acc, rv);
}

/* ---- merge ---- */

static int merge_type(struct soupc_cty_type **out, struct fn_ctx *c,
                      struct soupc_cty_value *const *a, size_t n) {
  struct attr_map attrs = {NULL, NULL, NULL, 0, 0};
  const struct soupc_cty_type *first = NULL;
  struct soupc_cty_type *empty = NULL;
  bool matching = true, attrs_known = true;
  size_t i, j;
  int rv = 0;

  rv = soupc__cty_type_new_object(&empty, NULL, NULL, NULL, NULL, 0);
  if (rv != 0) {
    return rv;
  }
  if (n == 0) {
    *out = empty;
    return 0;
  }
  for (i = 0; i < n && rv == 0; i++) {
    const struct soupc_cty_type *ty = a[i]->type;
    const struct soupc_cty_value *arg = cty_unmarked(a[i]);
    if (ty->kind == SOUPC_CTY_DYNAMIC) {
      attr_dispose(&attrs);
      soupc_cty_type_free(empty);
      return ret_dynamic(out);
    }
    if (ty->kind != SOUPC_CTY_MAP && ty->kind != SOUPC_CTY_OBJECT) {
      struct cty_buf b, fb;
      attr_dispose(&attrs);
      soupc_cty_type_free(empty);
      soupc__cty_buf_init(&b);
      soupc__cty_buf_init(&fb);
      soupc__fn_friendly(&fb, ty, false);
      soupc__cty_buf_puts(&b, "arguments must be maps or objects, got ");
      soupc__cty_go_quote(&b, fb.len > 0 ? (const char *)fb.p : "", fb.len);
      soupc__cty_buf_dispose(&fb);
      return soupc__fn_fail_buf(c, -1, &b);
    }
    if (ty->kind == SOUPC_CTY_OBJECT) {
      if (cty_is_null(arg)) {
        ty = empty;
      }
      for (j = 0; j < ty->n && rv == 0; j++) {
        rv = attr_set(&attrs, ty->names[j], ty->name_lens[j], ty->elems[j]);
      }
    } else if (cty_is_null(arg)) {
      /* nothing to add */
    } else if (cty_is_known(arg)) {
      for (j = 0; j < arg->u.c.n && rv == 0; j++) {
        rv = attr_set(&attrs, arg->u.c.keys[j], arg->u.c.key_lens[j], ty->elem);
      }
    } else {
      attrs_known = false;
    }
    if (i == 0) {
      first = ty;
    } else if (matching && !soupc_cty_type_equals(ty, first)) {
      matching = false;
    }
  }
  if (rv != 0) {
    attr_dispose(&attrs);
    soupc_cty_type_free(empty);
    return rv;
  }
  if (matching) {
    *out = soupc__cty_type_ref(first);
    attr_dispose(&attrs);
  } else if (!attrs_known) {
    attr_dispose(&attrs);
    rv = ret_dynamic(out);
  } else {
    rv = attr_object_type(out, &attrs);
  }
  soupc_cty_type_free(empty);
  return rv;
}

static int merge_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                      struct soupc_cty_value *const *a, size_t n,
                      const struct soupc_cty_type *ret) {
  struct kv_vec kv = {NULL, NULL, {NULL, 0, 0}};
  struct mk_acc acc = {NULL, false};
  size_t i, j;
  int rv = 0;

  for (i = 0; i < n && rv == 0; i++) {
    const struct soupc_cty_value *arg = cty_unmarked(a[i]);
    if (cty_is_null(arg)) {
      continue;
    }
    acc_add(&acc, marks_of(a[i]));
    for (j = 0; j < arg->u.c.n && rv == 0; j++) {
      if (arg->type->kind == SOUPC_CTY_OBJECT) {
        rv = kv_push(&kv, arg->type->names[j], arg->type->name_lens[j],
                     soupc__cty_val_ref(arg->u.c.items[j]));
      } else {
        rv = kv_push(&kv, arg->u.c.keys[j], arg->u.c.key_lens[j],
                     soupc__cty_val_ref(arg->u.c.items[j]));
      }
    }
  }
  if (rv != 0) {
    kv_dispose(&kv);
    acc_dispose(&acc);
    return rv;
  }
  if (ret->kind == SOUPC_CTY_MAP) {
    rv = kv_build(out, &kv, true, ret->elem);
  } else if (ret->kind == SOUPC_CTY_OBJECT || ret->kind == SOUPC_CTY_DYNAMIC) {
    rv = kv_build(out, &kv, false, NULL);
  } else {
    struct cty_buf b;
    kv_dispose(&kv);
    acc_dispose(&acc);
    soupc__cty_buf_init(&b);
    soupc__cty_buf_puts(&b, "panic in function implementation: unexpected "
                            "return type: ");
    soupc__cty_type_gostring(&b, ret);
    return soupc__fn_fail_buf(c, -1, &b);
  }
  return acc_finish(out, &acc, rv);
}

/* ---- reverse ---- */

static int reverse_type(struct soupc_cty_type **out, struct fn_ctx *c,
                        struct soupc_cty_value *const *a, size_t n) {
  const struct soupc_cty_type *t = a[0]->type;

  if (t->kind == SOUPC_CTY_TUPLE) {
    const struct soupc_cty_type **ts = FN_PTR_ARRAY(t->n);
    size_t i;
    int rv;
    if (ts == NULL) {
      return SOUPC_ERR_NOMEM;
    }
    for (i = 0; i < t->n; i++) {
      ts[t->n - 1 - i] = t->elems[i];
    }
    rv = tuple_type(out, ts, t->n);
    soupc__free(ts);
    return rv;
  }
  if (t->kind == SOUPC_CTY_LIST || t->kind == SOUPC_CTY_SET) {
    return soupc__fn_list_type(out, t->elem);
  }
  return fail_friendly(c, 0, "can only reverse list or tuple values, not ", t);
}

static int reverse_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                        struct soupc_cty_value *const *a, size_t n,
                        const struct soupc_cty_type *ret) {
  const struct soupc_cty_value *l = cty_unmarked(a[0]);
  struct mk_acc acc = {NULL, false};
  struct vvec vals = {NULL, 0, 0};
  size_t i, len = 0;
  int rv = length_int(&len, c, l);

  if (rv != 0) {
    return rv;
  }
  acc_add(&acc, marks_of(a[0]));
  for (i = len; i > 0 && rv == 0; i--) {
    rv = vvec_push(&vals, soupc__cty_val_ref(l->u.c.items[i - 1]));
  }
  if (rv == 0) {
    rv = ret->kind == SOUPC_CTY_TUPLE ? tuple_of(out, &vals)
                                      : list_of(out, &vals, ret->elem);
  }
  vvec_dispose(&vals);
  return acc_finish(out, &acc, rv);
}

/* ---- setproduct ---- */

static int setproduct_type(struct soupc_cty_type **out, struct fn_ctx *c,
                           struct soupc_cty_value *const *a, size_t n) {
  struct soupc_cty_type **etys;
  struct soupc_cty_type *tt = NULL;
  size_t i, lists = 0;
  int rv = 0;

  if (n < 2) {
    return soupc__fn_fail(c, -1, "at least two arguments are required");
  }
  etys = FN_PTR_ARRAY(n);
  if (etys == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  for (i = 0; i < n && rv == 0; i++) {
    const struct soupc_cty_type *t = a[i]->type;
    switch (t->kind) {
    case SOUPC_CTY_SET:
      etys[i] = soupc__cty_type_ref(t->elem);
      break;
    case SOUPC_CTY_LIST:
      etys[i] = soupc__cty_type_ref(t->elem);
      lists++;
      break;
    case SOUPC_CTY_TUPLE:
      lists++;
      if (t->n == 0) {
        etys[i] = soupc__cty_type_ref(dyn_type());
        break;
      }
      rv = soupc__cty_unify(&etys[i], NULL,
                            (const struct soupc_cty_type *const *)t->elems,
                            t->n, true);
      if (rv == 0 && etys[i] == NULL) {
        rv =
            soupc__fn_fail(c, (long)i, "all elements must be of the same type");
      }
      break;
    default:
      rv = soupc__fn_fail(c, (long)i, "a set or a list is required");
    }
  }
  if (rv == 0) {
    rv = soupc__cty_type_new_tuple(&tt, etys, n);
    if (rv == 0) {
      rv = soupc__cty_type_new_coll(
          out, lists == n ? SOUPC_CTY_LIST : SOUPC_CTY_SET, tt);
    }
  } else {
    for (i = 0; i < n; i++) {
      soupc_cty_type_free(etys[i]);
    }
  }
  soupc__free(etys);
  return rv;
}

/* The refinement of setproduct's unknown result. */
static int setproduct_unknown(struct soupc_cty_value **out, struct fn_ctx *c,
                              struct soupc_cty_value *const *a, size_t n,
                              const struct soupc_cty_type *ret) {
  struct soupc_cty_value *u = NULL;
  soupc_cty_refiner *b = NULL;
  soupc_status st;
  int64_t max_len = 1;
  size_t i;
  int rv = soupc__fn_unknown(&u, ret);

  if (rv != 0) {
    return rv;
  }
  soupc_status_clear(&st);
  for (i = 0; i < n; i++) {
    const struct soupc_cty_value *arg = cty_unmarked(a[i]);
    const struct soupc_cty_type *t;
    struct soupc_cty_range rng;
    int64_t hi;
    rv = soupc__cty_range_of(&rng, arg, &st);
    if (rv != 0) {
      soupc_cty_value_free(u);
      return soupc__fn_status(c, -1, rv, &st);
    }
    t = rng.ty;
    if (cty_kind_is_coll(t->kind)) {
      rv = soupc_cty_range_length_upper_bound(&rng, &hi, &st);
    } else if (t->kind == SOUPC_CTY_TUPLE) {
      hi = (int64_t)t->n;
    } else {
      soupc__cty_range_dispose(&rng);
      *out = u;
      return 0;
    }
    soupc__cty_range_dispose(&rng);
    if (rv != 0) {
      soupc_cty_value_free(u);
      return soupc__fn_status(c, -1, rv, &st);
    }
    if (hi > 1024) {
      *out = u;
      return 0;
    }
    max_len *= hi;
    if (max_len > 2048 || max_len < 0) {
      *out = u;
      return 0;
    }
  }
  rv = soupc_cty_refine_begin(&b, u);
  soupc_cty_value_free(u);
  if (rv != 0) {
    return rv;
  }
  if (max_len == 0) {
    soupc_cty_refine_collection_length_lower_bound(b, 0);
    soupc_cty_refine_collection_length_upper_bound(b, 0);
  } else {
    soupc_cty_refine_collection_length_lower_bound(b, 1);
    soupc_cty_refine_collection_length_upper_bound(b, max_len);
  }
  rv = soupc_cty_refine_finish(out, b, &st);
  return soupc__fn_status(c, -1, rv, &st);
}

/* Beyond this many result elements soup-c refuses (go-cty would try). */
#define FN_MAX_PRODUCT ((size_t)1 << 22)

static int setproduct_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                           struct soupc_cty_value *const *a, size_t n,
                           const struct soupc_cty_type *ret) {
  const struct soupc_cty_type *ety = ret->elem;
  struct mk_acc acc = {NULL, false};
  struct vvec prod = {NULL, 0, 0};
  size_t *pos = NULL, total = 1, i, j;
  bool unknown_len = false;
  int rv = 0;

  for (i = 0; i < n && rv == 0; i++) {
    const struct soupc_cty_value *arg = cty_unmarked(a[i]);
    bool lk = false;
    size_t l = 0;
    acc_add(&acc, marks_of(a[i]));
    if (cty_is_known(arg)) {
      rv = length_known(&lk, c, arg);
    }
    if (rv != 0) {
      break;
    }
    if (!lk) {
      unknown_len = true;
      continue;
    }
    rv = length_int(&l, c, arg);
    if (rv == 0 && l != 0 && total > FN_MAX_PRODUCT / l) {
      rv = soupc__fn_fail(c, -1,
                          "setproduct: the product would have more than %zu "
                          "elements",
                          FN_MAX_PRODUCT);
    }
    total *= l;
  }
  if (rv != 0) {
    acc_dispose(&acc);
    return rv;
  }
  if (unknown_len) {
    rv = setproduct_unknown(out, c, a, n, ret);
    return acc_finish(out, &acc, rv);
  }
  if (total == 0) {
    rv = soupc__cty_empty_coll(out, ret->kind, ety);
    return acc_finish(out, &acc, rv);
  }
  pos = soupc__calloc(n, sizeof(size_t));
  if (pos == NULL) {
    acc_dispose(&acc);
    return SOUPC_ERR_NOMEM;
  }
  for (i = 0; i < total && rv == 0; i++) {
    struct soupc_cty_value **tv = FN_PTR_ARRAY(n);
    struct soupc_cty_value *t = NULL;
    if (tv == NULL) {
      rv = SOUPC_ERR_NOMEM;
      break;
    }
    for (j = 0; j < n && rv == 0; j++) {
      const struct soupc_cty_value *v = cty_unmarked(a[j])->u.c.items[pos[j]];
      const struct soupc_cty_type *want = ety->elems[j];
      if (soupc_cty_type_equals(v->type, want)) {
        tv[j] = soupc__cty_val_ref(v);
      } else {
        struct soupc_cty_path *path = NULL;
        soupc_status st;
        soupc_status_clear(&st);
        rv = soupc__cty_convert(&tv[j], v, want, &path, &st);
        soupc_cty_path_free(path);
        if (rv != 0 && rv != SOUPC_ERR_NOMEM) {
          struct cty_buf b;
          soupc__cty_buf_init(&b);
          soupc__cty_buf_printf(&b, "failed to convert argVals[%zu][%zu] to ",
                                j, pos[j]);
          soupc__fn_friendly(&b, want, false);
          soupc__cty_buf_puts(&b, "; this is a bug in cty");
          rv = soupc__fn_fail_buf(c, -1, &b);
        }
      }
    }
    if (rv != 0) {
      while (j > 0) {
        soupc_cty_value_free(tv[--j]);
      }
      soupc__free(tv);
      break;
    }
    rv = soupc__cty_tuple_val(&t, tv, n);
    if (rv == 0) {
      rv = vvec_push(&prod, t);
    }
    for (j = n; j > 0; j--) {
      size_t len = cty_unmarked(a[j - 1])->u.c.n;
      if (++pos[j - 1] < len) {
        break;
      }
      pos[j - 1] = 0;
    }
  }
  soupc__free(pos);
  if (rv == 0) {
    size_t np = prod.n;
    struct soupc_cty_value **items = vvec_take(&prod);
    soupc_status st;
    soupc_status_clear(&st);
    rv = items == NULL ? SOUPC_ERR_NOMEM
                       : soupc__cty_list_val(out, ret->kind, items, np, &st);
    rv = soupc__fn_status(c, -1, rv, &st);
  }
  vvec_dispose(&prod);
  return acc_finish(out, &acc, rv);
}

/* ---- slice ---- */

struct slice_idx {
  int64_t start, end;
  bool known;
};

static int slice_indexes(struct slice_idx *s, struct fn_ctx *c,
                         struct soupc_cty_value *const *a) {
  const struct soupc_cty_value *l = cty_unmarked(a[0]);
  bool len_known = false, sk = false, ek = false;
  size_t len = 0;
  int rv;

  s->start = s->end = 0;
  s->known = false;
  if (l->type->kind == SOUPC_CTY_TUPLE) {
    len_known = true;
  } else {
    rv = length_known(&len_known, c, l);
    if (rv != 0) {
      return rv;
    }
  }
  if (len_known) {
    rv = length_int(&len, c, l);
    if (rv != 0) {
      return rv;
    }
  }
  if (cty_is_known(a[1])) {
    rv = soupc__fn_to_int(&s->start, c, 1, a[1], "invalid start index: ");
    if (rv != 0) {
      return rv;
    }
    if (s->start < 0) {
      return soupc__fn_fail(c, 1, "start index must not be less than zero");
    }
    if (len_known && (uint64_t)s->start > len) {
      return soupc__fn_fail(c, 1,
                            "start index must not be greater than the length "
                            "of the list");
    }
    sk = true;
  }
  if (cty_is_known(a[2])) {
    rv = soupc__fn_to_int(&s->end, c, 2, a[2], "invalid end index: ");
    if (rv != 0) {
      return rv;
    }
    if (s->end < 0) {
      return soupc__fn_fail(c, 2, "end index must not be less than zero");
    }
    if (len_known && (uint64_t)s->end > len) {
      return soupc__fn_fail(c, 2,
                            "end index must not be greater than the length "
                            "of the list");
    }
    ek = true;
  }
  if (sk && ek && s->start > s->end) {
    return soupc__fn_fail(c, 1,
                          "start index must not be greater than end index");
  }
  s->known = sk && ek;
  return 0;
}

static int slice_type(struct soupc_cty_type **out, struct fn_ctx *c,
                      struct soupc_cty_value *const *a, size_t n) {
  const struct soupc_cty_type *t = a[0]->type;
  struct slice_idx s;
  int rv;

  if (t->kind == SOUPC_CTY_SET) {
    return soupc__fn_fail(c, 0,
                          "cannot slice a set, because its elements do not "
                          "have indices; explicitly convert to a list if the "
                          "ordering of the result is not important");
  }
  if (t->kind != SOUPC_CTY_LIST && t->kind != SOUPC_CTY_TUPLE) {
    return soupc__fn_fail(c, 0, "must be a list or tuple value");
  }
  rv = slice_indexes(&s, c, a);
  if (rv != 0) {
    return rv;
  }
  if (t->kind == SOUPC_CTY_LIST) {
    *out = soupc__cty_type_ref(t);
    return 0;
  }
  if (!s.known) {
    return ret_dynamic(out);
  }
  return tuple_type(out,
                    (const struct soupc_cty_type *const *)t->elems + s.start,
                    (size_t)(s.end - s.start));
}

static int slice_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                      struct soupc_cty_value *const *a, size_t n,
                      const struct soupc_cty_type *ret) {
  const struct soupc_cty_value *l = cty_unmarked(a[0]);
  struct mk_acc acc = {NULL, false};
  struct vvec vals = {NULL, 0, 0};
  struct slice_idx s;
  int64_t i;
  int rv;

  acc_add(&acc, marks_of(a[0]));
  if (ret->kind == SOUPC_CTY_DYNAMIC) {
    *out = soupc__cty_dynamic_val();
    return acc_finish(out, &acc, 0);
  }
  rv = slice_indexes(&s, c, a);
  for (i = s.start; rv == 0 && i < s.end; i++) {
    rv = vvec_push(&vals, soupc__cty_val_ref(l->u.c.items[i]));
  }
  if (rv == 0) {
    rv = ret->kind == SOUPC_CTY_TUPLE ? tuple_of(out, &vals)
                                      : list_of(out, &vals, ret->elem);
  }
  vvec_dispose(&vals);
  return acc_finish(out, &acc, rv);
}

/* ---- zipmap ---- */

static int zipmap_type(struct soupc_cty_type **out, struct fn_ctx *c,
                       struct soupc_cty_value *const *a, size_t n) {
  const struct soupc_cty_value *keys = cty_unmarked(a[0]);
  const struct soupc_cty_type *vt = a[1]->type;
  struct attr_map attrs = {NULL, NULL, NULL, 0, 0};
  size_t i;
  int rv = 0;

  if (vt->kind == SOUPC_CTY_LIST) {
    return coll_type(out, SOUPC_CTY_MAP, vt->elem);
  }
  if (vt->kind != SOUPC_CTY_TUPLE) {
    return soupc__fn_fail(c, -1,
                          "values argument must be a list or tuple value");
  }
  if (!soupc__fn_wholly_known(keys)) {
    return ret_dynamic(out);
  }
  if (keys->u.c.n != vt->n) {
    return soupc__fn_fail(c, -1,
                          "number of keys (%zu) does not match number of "
                          "values (%zu)",
                          keys->u.c.n, vt->n);
  }
  for (i = 0; i < keys->u.c.n && rv == 0; i++) {
    const struct soupc_cty_value *k = cty_unmarked(keys->u.c.items[i]);
    if (cty_is_null(k)) {
      attr_dispose(&attrs);
      return soupc__fn_fail(c, -1, "keys list has null value at index %zu", i);
    }
    rv = attr_set(&attrs, k->u.str.s, k->u.str.len, vt->elems[i]);
  }
  if (rv != 0) {
    attr_dispose(&attrs);
    return rv;
  }
  return attr_object_type(out, &attrs);
}

static int zipmap_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                       struct soupc_cty_value *const *a, size_t n,
                       const struct soupc_cty_type *ret) {
  const struct soupc_cty_value *keys = cty_unmarked(a[0]);
  const struct soupc_cty_value *vals = cty_unmarked(a[1]);
  struct kv_vec kv = {NULL, NULL, {NULL, 0, 0}};
  struct mk_acc acc = {NULL, false};
  size_t i, kl = 0, vl = 0;
  int rv;

  acc_add(&acc, marks_of(a[0]));
  acc_add(&acc, marks_of(a[1]));
  if (!soupc__fn_wholly_known(keys)) {
    rv = soupc__fn_unknown(out, ret);
    return acc_finish(out, &acc, rv);
  }
  rv = length_int(&kl, c, keys);
  if (rv == 0) {
    rv = length_int(&vl, c, vals);
  }
  if (rv == 0 && kl != vl) {
    rv = soupc__fn_fail(c, -1,
                        "number of keys (%zu) does not match number of "
                        "values (%zu)",
                        kl, vl);
  }
  for (i = 0; i < kl && rv == 0; i++) {
    const struct soupc_cty_value *kval = keys->u.c.items[i];
    const struct soupc_cty_value *k = cty_unmarked(kval);
    struct soupc_cty_value *v = NULL;
    if (cty_is_null(k)) {
      rv = soupc__fn_fail(c, -1,
                          "panic in function implementation: value is "
                          "null");
      break;
    }
    rv = index_int(&v, c, vals, (int64_t)i);
    if (rv == 0) {
      rv = kv_push(&kv, k->u.str.s, k->u.str.len, v);
    }
    acc_add(&acc, marks_of(kval));
  }
  if (rv != 0) {
    kv_dispose(&kv);
    acc_dispose(&acc);
    return rv;
  }
  if (ret->kind == SOUPC_CTY_MAP) {
    rv = kv_build(out, &kv, true, ret->elem);
  } else if (ret->kind == SOUPC_CTY_OBJECT) {
    rv = kv_build(out, &kv, false, NULL);
  } else {
    kv_dispose(&kv);
    acc_dispose(&acc);
    return fail_friendly(c, -1, "internally selected incorrect result type ",
                         ret);
  }
  return acc_finish(out, &acc, rv);
}

/* ---- concat ---- */

static int concat_type(struct soupc_cty_type **out, struct fn_ctx *c,
                       struct soupc_cty_value *const *a, size_t n) {
  const struct soupc_cty_type **etys = NULL;
  size_t i, j, ne = 0, cap = 0;
  int rv = 0;

  if (n == 0) {
    return soupc__fn_fail(c, -1, "at least one argument is required");
  }
  if (a[0]->type->kind == SOUPC_CTY_LIST) {
    bool all = true;
    for (i = 0; i < n; i++) {
      all = all && a[i]->type->kind == SOUPC_CTY_LIST;
    }
    if (all) {
      const struct soupc_cty_type **ts = FN_PTR_ARRAY(n);
      struct soupc_cty_type *common = NULL;
      if (ts == NULL) {
        return SOUPC_ERR_NOMEM;
      }
      for (i = 0; i < n; i++) {
        ts[i] = a[i]->type;
      }
      rv = soupc__cty_unify(&common, NULL, ts, n, true);
      soupc__free(ts);
      if (rv != 0) {
        return rv;
      }
      if (common != NULL) {
        *out = common;
        return 0;
      }
    }
  }
  for (i = 0; i < n && rv == 0; i++) {
    const struct soupc_cty_value *v = cty_unmarked(a[i]);
    const struct soupc_cty_type *t = v->type;
    size_t add;
    if (t->kind == SOUPC_CTY_TUPLE) {
      add = t->n;
    } else if (t->kind == SOUPC_CTY_LIST) {
      if (!cty_is_known(v)) {
        soupc__free(etys);
        return ret_dynamic(out);
      }
      rv = length_int(&add, c, v);
      if (rv != 0) {
        break;
      }
    } else {
      soupc__free(etys);
      return fail_friendly(c, (long)i,
                           "all arguments must be lists or tuples; got ", t);
    }
    if (etys == NULL || ne + add + 1 > cap) {
      size_t ncap = (ne + add + 1) * 2;
      const struct soupc_cty_type **ne2 =
          soupc__realloc(etys, ncap * sizeof(void *));
      if (ne2 == NULL) {
        rv = SOUPC_ERR_NOMEM;
        break;
      }
      etys = ne2;
      cap = ncap;
    }
    for (j = 0; j < add; j++) {
      etys[ne++] = t->kind == SOUPC_CTY_TUPLE ? t->elems[j] : t->elem;
    }
  }
  if (rv == 0) {
    rv = tuple_type(out, etys, ne);
  }
  soupc__free(etys);
  return rv;
}

static int concat_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                       struct soupc_cty_value *const *a, size_t n,
                       const struct soupc_cty_type *ret) {
  struct mk_acc acc = {NULL, false};
  struct vvec vals = {NULL, 0, 0};
  size_t i, j;
  int rv = 0;

  if (ret->kind == SOUPC_CTY_LIST) {
    for (i = 0; i < n && rv == 0; i++) {
      struct soupc_cty_value *cv = NULL;
      const struct soupc_cty_value *l;
      rv = convert_to(&cv, c, (long)i, a[i], ret);
      if (rv != 0) {
        break;
      }
      l = cty_unmarked(cv);
      acc_add(&acc, marks_of(cv));
      for (j = 0; j < l->u.c.n && rv == 0; j++) {
        rv = vvec_push(&vals, soupc__cty_val_ref(l->u.c.items[j]));
      }
      soupc_cty_value_free(cv);
    }
    if (rv == 0) {
      rv = list_of(out, &vals, ret->elem);
    }
  } else if (ret->kind == SOUPC_CTY_TUPLE) {
    for (i = 0; i < n && rv == 0; i++) {
      const struct soupc_cty_value *l = cty_unmarked(a[i]);
      acc_add(&acc, marks_of(a[i]));
      for (j = 0; j < l->u.c.n && rv == 0; j++) {
        rv = vvec_push(&vals, soupc__cty_val_ref(l->u.c.items[j]));
      }
    }
    if (rv == 0) {
      rv = tuple_of(out, &vals);
    }
  } else {
    acc_dispose(&acc);
    return soupc__fn_fail(c, -1,
                          "panic in function implementation: "
                          "unsupported return type");
  }
  vvec_dispose(&vals);
  if (rv != 0) {
    acc_dispose(&acc);
    return rv;
  }
  return acc_finish(out, &acc, rv);
}

/* ---- range ---- */

static int num_cmp(const struct soupc_cty_value *a,
                   const struct soupc_cty_value *b) {
  return soupc__cty_num_cmp(a->u.num, b->u.num);
}

/* Beyond go-cty's own 1024-element cap nothing is built. */
#define RANGE_MAX 1024

static int range_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                      struct soupc_cty_value *const *a, size_t n,
                      const struct soupc_cty_type *ret) {
  struct soupc_cty_value *start = NULL, *end = NULL, *step = NULL, *num = NULL;
  struct vvec vals = {NULL, 0, 0};
  bool down;
  int rv = 0;

  switch (n) {
  case 1:
    start = soupc__cty_zero();
    end = soupc__cty_val_ref(a[0]);
    rv = soupc__fn_int(&step, num_cmp(a[0], start) < 0 ? -1 : 1);
    break;
  case 2:
    start = soupc__cty_val_ref(a[0]);
    end = soupc__cty_val_ref(a[1]);
    rv = soupc__fn_int(&step, num_cmp(a[1], a[0]) < 0 ? -1 : 1);
    break;
  case 3:
    start = soupc__cty_val_ref(a[0]);
    end = soupc__cty_val_ref(a[1]);
    step = soupc__cty_val_ref(a[2]);
    break;
  default:
    return soupc__fn_fail(c, -1, "must have one, two, or three arguments");
  }
  if (rv != 0) {
    goto done;
  }
  /* go-cty compares step == cty.Zero, which is only ever true for
   * cty.Zero itself: a zero step read from input is not caught. */
  if (step == soupc__cty_zero()) {
    rv = soupc__fn_fail(c, 2, "step must not be zero");
    goto done;
  }
  down = soupc__cty_num_cmp(step->u.num, soupc__cty_zero()->u.num) < 0;
  if (down && num_cmp(end, start) > 0) {
    rv = soupc__fn_fail(c, 1,
                        "end must be less than start when step is negative");
    goto done;
  }
  if (!down && num_cmp(end, start) < 0) {
    rv = soupc__fn_fail(c, 1,
                        "end must be greater than start when step is "
                        "positive");
    goto done;
  }
  num = soupc__cty_val_ref(start);
  for (;;) {
    struct soupc_cty_value *next = NULL;
    if (down ? num_cmp(num, end) <= 0 : num_cmp(num, end) >= 0) {
      break;
    }
    if (vals.n >= RANGE_MAX) {
      rv = soupc__fn_fail(c, -1,
                          "more than 1024 values were generated; either "
                          "decrease the difference between start and end or "
                          "use a smaller step");
      break;
    }
    rv = vvec_push(&vals, soupc__cty_val_ref(num));
    if (rv == 0) {
      rv = soupc__fn_num_add(&next, c, num, step,
                             "panic in function implementation: addition of "
                             "infinities with opposite signs");
    }
    if (rv != 0) {
      break;
    }
    soupc_cty_value_free(num);
    num = next;
  }
  if (rv == 0) {
    rv = list_of(out, &vals, soupc__fn_type(FN_T_NUMBER));
  }
done:
  vvec_dispose(&vals);
  soupc_cty_value_free(num);
  soupc_cty_value_free(start);
  soupc_cty_value_free(end);
  soupc_cty_value_free(step);
  return rv;
}

/* ---- the table ---- */

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define P_DYN SOUPC_CTY_PARAM_ALLOW_DYNAMIC
#define P_UNK SOUPC_CTY_PARAM_ALLOW_UNKNOWN
#define P_NULL SOUPC_CTY_PARAM_ALLOW_NULL
#define P_MARK SOUPC_CTY_PARAM_ALLOW_MARKED

static const struct fn_param p_hasindex[] = {
    {"collection", FN_T_DYNAMIC, P_DYN}, {"key", FN_T_DYNAMIC, P_DYN}};
static const struct fn_param p_index[] = {{"collection", FN_T_DYNAMIC, 0},
                                          {"key", FN_T_DYNAMIC, P_DYN}};
static const struct fn_param p_length[] = {
    {"collection", FN_T_DYNAMIC, P_DYN | P_UNK | P_MARK}};
static const struct fn_param p_element[] = {{"list", FN_T_DYNAMIC, P_MARK},
                                            {"index", FN_T_NUMBER, 0}};
static const struct fn_param p_coalescelist = {"vals", FN_T_DYNAMIC,
                                               P_UNK | P_DYN | P_NULL};
static const struct fn_param p_compact[] = {{"list", FN_T_LIST_STRING, 0}};
static const struct fn_param p_contains[] = {{"list", FN_T_DYNAMIC, 0},
                                             {"value", FN_T_DYNAMIC, P_NULL}};
static const struct fn_param p_distinct[] = {{"list", FN_T_LIST_DYNAMIC, 0}};
static const struct fn_param p_chunklist[] = {
    {"list", FN_T_LIST_DYNAMIC, P_MARK}, {"size", FN_T_NUMBER, P_MARK}};
static const struct fn_param p_list_marked[] = {{"list", FN_T_DYNAMIC, P_MARK}};
static const struct fn_param p_keys[] = {
    {"inputMap", FN_T_DYNAMIC, P_UNK | P_MARK}};
static const struct fn_param p_lookup[] = {{"inputMap", FN_T_DYNAMIC, P_MARK},
                                           {"key", FN_T_STRING, P_MARK},
                                           {"default", FN_T_DYNAMIC, P_MARK}};
static const struct fn_param p_merge = {"maps", FN_T_DYNAMIC,
                                        P_DYN | P_NULL | P_MARK};
static const struct fn_param p_setproduct = {"sets", FN_T_DYNAMIC,
                                             P_MARK | P_UNK};
static const struct fn_param p_slice[] = {{"list", FN_T_DYNAMIC, P_MARK},
                                          {"start_index", FN_T_NUMBER, 0},
                                          {"end_index", FN_T_NUMBER, 0}};
static const struct fn_param p_values[] = {{"mapping", FN_T_DYNAMIC, P_MARK}};
static const struct fn_param p_zipmap[] = {{"keys", FN_T_LIST_STRING, P_MARK},
                                           {"values", FN_T_DYNAMIC, P_MARK}};
static const struct fn_param p_concat = {"seqs", FN_T_DYNAMIC, P_MARK};
static const struct fn_param p_range = {"params", FN_T_NUMBER, 0};

const struct soupc_cty_function soupc__fn_collection[] = {
    {"hasindex",
     "Returns true if if the given collection can be indexed with the given "
     "key without producing an error, or false otherwise.",
     p_hasindex, N(p_hasindex), NULL, hasindex_type, FN_T_BOOL,
     FN_REFINE_NOT_NULL, hasindex_impl},
    {"index",
     "Returns the element with the given key from the given collection, or "
     "raises an error if there is no such element.",
     p_index, N(p_index), NULL, index_type, FN_T_DYNAMIC, FN_REFINE_NONE,
     index_impl},
    {"length", "Returns the number of elements in the given collection.",
     p_length, N(p_length), NULL, length_type, FN_T_NUMBER, FN_REFINE_NOT_NULL,
     length_impl},
    {"element",
     "Returns the element with the given index from the given list or tuple, "
     "applying the modulo operation to the given index if it's greater than "
     "the number of elements.",
     p_element, N(p_element), NULL, element_type, FN_T_DYNAMIC, FN_REFINE_NONE,
     element_impl},
    {"coalescelist",
     "Returns the first of the given sequences that has a length greater "
     "than zero.",
     NULL, 0, &p_coalescelist, coalescelist_type, FN_T_DYNAMIC,
     FN_REFINE_NOT_NULL, coalescelist_impl},
    {"compact",
     "Removes all empty string elements from the given list of strings.",
     p_compact, N(p_compact), NULL, NULL, FN_T_LIST_STRING, FN_REFINE_NOT_NULL,
     compact_impl},
    {"contains",
     "Returns true if the given value is a value in the given list, tuple, or "
     "set, or false otherwise.",
     p_contains, N(p_contains), NULL, NULL, FN_T_BOOL, FN_REFINE_NOT_NULL,
     contains_impl},
    {"distinct",
     "Removes any duplicate values from the given list, preserving the order "
     "of remaining elements.",
     p_distinct, N(p_distinct), NULL, same_type, FN_T_DYNAMIC,
     FN_REFINE_NOT_NULL, distinct_impl},
    {"chunklist",
     "Splits a single list into multiple lists where each has at most the "
     "given number of elements.",
     p_chunklist, N(p_chunklist), NULL, chunklist_type, FN_T_DYNAMIC,
     FN_REFINE_NOT_NULL, chunklist_impl},
    {"flatten",
     "Transforms a list, set, or tuple value into a tuple by replacing any "
     "given elements that are themselves sequences with a flattened tuple of "
     "all of the nested elements concatenated together.",
     p_list_marked, N(p_list_marked), NULL, flatten_type, FN_T_DYNAMIC,
     FN_REFINE_NOT_NULL, flatten_impl},
    {"keys",
     "Returns a list of the keys of the given map in lexicographical order.",
     p_keys, N(p_keys), NULL, keys_type, FN_T_DYNAMIC, FN_REFINE_NOT_NULL,
     keys_impl},
    {"lookup",
     "Returns the value of the element with the given key from the given "
     "map, or returns the default value if there is no such element.",
     p_lookup, N(p_lookup), NULL, lookup_type, FN_T_DYNAMIC, FN_REFINE_NONE,
     lookup_impl},
    {"merge",
     "Merges all of the elements from the given maps into a single map, or "
     "the attributes from given objects into a single object.",
     NULL, 0, &p_merge, merge_type, FN_T_DYNAMIC, FN_REFINE_NOT_NULL,
     merge_impl},
    {"reverselist",
     "Returns the given list with its elements in reverse order.",
     p_list_marked, N(p_list_marked), NULL, reverse_type, FN_T_DYNAMIC,
     FN_REFINE_NOT_NULL, reverse_impl},
    {"setproduct", "Calculates the cartesian product of two or more sets.",
     NULL, 0, &p_setproduct, setproduct_type, FN_T_DYNAMIC, FN_REFINE_NOT_NULL,
     setproduct_impl},
    {"slice", "Extracts a subslice of the given list or tuple value.", p_slice,
     N(p_slice), NULL, slice_type, FN_T_DYNAMIC, FN_REFINE_NOT_NULL,
     slice_impl},
    {"values",
     "Returns the values of elements of a given map, or the values of "
     "attributes of a given object, in lexicographic order by key or "
     "attribute name.",
     p_values, N(p_values), NULL, values_type, FN_T_DYNAMIC, FN_REFINE_NOT_NULL,
     values_impl},
    {"zipmap",
     "Constructs a map from a list of keys and a corresponding list of "
     "values, which must both be of the same length.",
     p_zipmap, N(p_zipmap), NULL, zipmap_type, FN_T_DYNAMIC, FN_REFINE_NOT_NULL,
     zipmap_impl},
    {"concat",
     "Concatenates together all of the given lists or tuples into a single "
     "sequence, preserving the input order.",
     NULL, 0, &p_concat, concat_type, FN_T_DYNAMIC, FN_REFINE_NOT_NULL,
     concat_impl},
    {"range",
     "Returns a list of numbers spread evenly over a particular range.", NULL,
     0, &p_range, NULL, FN_T_LIST_NUMBER, FN_REFINE_NOT_NULL, range_impl},
};
const size_t soupc__fn_collection_count = N(soupc__fn_collection);
