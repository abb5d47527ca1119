/* go-cty stdlib set functions (cty/function/stdlib/set.go): sethaselement,
 * setunion, setintersection, setsubtract, setsymmetricdifference.
 *
 * go-cty's set.Set keeps values in buckets by hash and answers Has with
 * the bucket plus setRules.Equivalent; the results here are built in the
 * order set.Set's Union & co. add them, and the value model's SetVal
 * orders them as set.Set.Values() does. */
#include "ctyfunc/fn_int.h"

#include "base/alloc.h"

#include <string.h>

/* The elements of a known set with their buckets (set.Set's hash). */
struct hset {
  struct soupc_cty_value *const *v;
  uint32_t *bucket;
  size_t n;
};

static int bucket_of(uint32_t *out, const struct soupc_cty_value *v) {
  struct cty_buf b;

  soupc__cty_buf_init(&b);
  soupc__cty_set_hash(&b, v);
  if (b.oom) {
    soupc__cty_buf_dispose(&b);
    return SOUPC_ERR_NOMEM;
  }
  *out = soupc__cty_crc32(b.p, b.len);
  soupc__cty_buf_dispose(&b);
  return 0;
}

static int hset_init(struct hset *h, const struct soupc_cty_value *set) {
  size_t i;

  h->v = set->u.c.items;
  h->n = set->u.c.n;
  h->bucket = soupc__calloc(h->n + 1, sizeof(uint32_t));
  if (h->bucket == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  for (i = 0; i < h->n; i++) {
    if (bucket_of(&h->bucket[i], h->v[i]) != 0) {
      soupc__free(h->bucket);
      h->bucket = NULL;
      return SOUPC_ERR_NOMEM;
    }
  }
  return 0;
}

static void hset_dispose(struct hset *h) {
  soupc__free(h->bucket);
  h->bucket = NULL;
}

/* set.Set.Has: 1, 0, or SOUPC_ERR_NOMEM (negative). */
static int hset_has(const struct hset *h, const struct soupc_cty_value *v,
                    uint32_t bucket) {
  size_t i;

  for (i = 0; i < h->n; i++) {
    if (h->bucket[i] == bucket) {
      int eq = soupc__cty_val_equivalent(h->v[i], v);
      if (eq != 0) {
        return eq < 0 ? SOUPC_ERR_NOMEM : 1;
      }
    }
  }
  return 0;
}

/* ---- sethaselement ---- */

static int sethaselement_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                              struct soupc_cty_value *const *a, size_t n,
                              const struct soupc_cty_type *ret) {
  const struct soupc_cty_value *set = a[0], *elem = a[1];
  const struct soupc_cty_type *ety = set->type->elem;
  struct hset h;
  uint32_t bucket = 0;
  bool unknown_miss;
  int rv;

  if (elem->type->kind != SOUPC_CTY_DYNAMIC && ety->kind != SOUPC_CTY_DYNAMIC &&
      !soupc_cty_type_equals(elem->type, ety)) {
    return soupc__fn_bool(out, false);
  }
  unknown_miss = !soupc__fn_wholly_known(set);
  if (!soupc_cty_type_equals(ety, elem->type)) {
    return soupc__fn_bool(out, false);
  }
  rv = hset_init(&h, set);
  if (rv != 0) {
    return rv;
  }
  rv = bucket_of(&bucket, elem);
  if (rv == 0) {
    rv = hset_has(&h, elem, bucket);
  }
  hset_dispose(&h);
  if (rv < 0) {
    return rv;
  }
  if (rv == 1) {
    return soupc__fn_bool(out, true);
  }
  return unknown_miss ? soupc__cty_unknown_bool_not_null(out)
                      : soupc__fn_bool(out, false);
}

/* ---- setunion & co. ---- */

static int set_op_type(struct soupc_cty_type **out, struct fn_ctx *c,
                       struct soupc_cty_value *const *a, size_t n) {
  const struct soupc_cty_type **etys = FN_PTR_ARRAY(n);
  struct soupc_cty_type *ety = NULL;
  size_t i, m = 0;
  int rv;

  if (etys == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  for (i = 0; i < n; i++) {
    const struct soupc_cty_type *t = a[i]->type;
    if (!cty_kind_is_coll(t->kind)) {
      soupc__free(etys);
      return soupc__fn_fail(c, -1,
                            "panic in function implementation: not a "
                            "collection type");
    }
    if (cty_is_known(a[i]) && a[i]->u.c.n == 0 &&
        t->elem->kind == SOUPC_CTY_DYNAMIC) {
      continue; /* an empty set of dynamic converts to anything */
    }
    etys[m++] = t->elem;
  }
  if (m == 0) {
    soupc__free(etys);
    *out = soupc__cty_type_ref(soupc__fn_type(FN_T_SET_DYNAMIC));
    return 0;
  }
  rv = soupc__cty_unify(&ety, NULL, etys, m, true);
  soupc__free(etys);
  if (rv != 0) {
    return rv;
  }
  if (ety == NULL) {
    return soupc__fn_fail(c, -1,
                          "given sets must all have compatible element types");
  }
  return soupc__cty_type_new_coll(out, SOUPC_CTY_SET, ety);
}

enum set_op {
  SET_UNION,
  SET_INTERSECTION,
  SET_SUBTRACT,
  SET_SYMDIFF
};

/* The elements of @p from that @p other has (keep_common) or lacks,
 * appended to @p items (references). */
static int pick(struct soupc_cty_value **items, size_t *k,
                const struct hset *from, const struct hset *other,
                bool keep_common) {
  size_t i;

  for (i = 0; i < from->n; i++) {
    int has = hset_has(other, from->v[i], from->bucket[i]);
    if (has < 0) {
      return has;
    }
    if ((has == 1) == keep_common) {
      items[(*k)++] = soupc__cty_val_ref(from->v[i]);
    }
  }
  return 0;
}

/* f(s1, s2) of set.go; *out is the new set. */
static int set_apply(struct soupc_cty_value **out, enum set_op op,
                     const struct soupc_cty_value *s1,
                     const struct soupc_cty_value *s2,
                     const struct soupc_cty_type *ety) {
  struct hset h1 = {NULL, NULL, 0}, h2 = {NULL, NULL, 0};
  struct soupc_cty_value **items;
  size_t k = 0, i;
  int rv;

  items = FN_PTR_ARRAY(s1->u.c.n + s2->u.c.n);
  if (items == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  rv = hset_init(&h1, s1);
  if (rv == 0) {
    rv = hset_init(&h2, s2);
  }
  if (rv == 0) {
    switch (op) {
    case SET_UNION:
      for (i = 0; i < s1->u.c.n; i++) {
        items[k++] = soupc__cty_val_ref(s1->u.c.items[i]);
      }
      for (i = 0; i < s2->u.c.n; i++) {
        items[k++] = soupc__cty_val_ref(s2->u.c.items[i]);
      }
      break;
    case SET_INTERSECTION:
      rv = pick(items, &k, &h1, &h2, true);
      break;
    case SET_SUBTRACT:
      rv = pick(items, &k, &h1, &h2, false);
      break;
    case SET_SYMDIFF:
      rv = pick(items, &k, &h1, &h2, false);
      if (rv == 0) {
        rv = pick(items, &k, &h2, &h1, false);
      }
      break;
    }
  }
  hset_dispose(&h1);
  hset_dispose(&h2);
  if (rv != 0) {
    for (i = 0; i < k; i++) {
      soupc_cty_value_free(items[i]);
    }
    soupc__free(items);
    return rv;
  }
  if (k == 0) {
    soupc__free(items);
    return soupc__cty_empty_coll(out, SOUPC_CTY_SET, ety);
  }
  /* SetVal adds them in this order: duplicates go, set.Set's order. */
  return soupc__cty_list_val(out, SOUPC_CTY_SET, items, k, NULL);
}

static int set_op_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                       struct soupc_cty_value *const *a, size_t n,
                       const struct soupc_cty_type *ret, enum set_op op) {
  bool allow_unknowns = op == SET_UNION;
  struct soupc_cty_value *acc = NULL;
  size_t i;

  for (i = 0; i < n; i++) {
    struct soupc_cty_value *cv = NULL;
    struct soupc_cty_path *path = NULL;
    soupc_status st;
    int rv;

    soupc_status_clear(&st);
    rv = soupc__cty_convert(&cv, a[i], ret, &path, &st);
    soupc_cty_path_free(path);
    if (rv != 0) {
      soupc_cty_value_free(acc);
      return soupc__fn_status(c, (long)i, rv, &st);
    }
    if (!allow_unknowns && !soupc__fn_wholly_known(cv)) {
      soupc_cty_value_free(cv);
      soupc_cty_value_free(acc);
      return soupc__fn_unknown(out, ret);
    }
    if (acc == NULL) {
      acc = cv;
      continue;
    }
    {
      struct soupc_cty_value *next = NULL;
      rv = set_apply(&next, op, cty_unmarked(acc), cty_unmarked(cv), ret->elem);
      soupc_cty_value_free(cv);
      soupc_cty_value_free(acc);
      if (rv != 0) {
        return rv;
      }
      acc = next;
    }
  }
  *out = acc;
  return 0;
}

static int setunion_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                         struct soupc_cty_value *const *a, size_t n,
                         const struct soupc_cty_type *ret) {
  return set_op_impl(out, c, a, n, ret, SET_UNION);
}

static int setintersection_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                                struct soupc_cty_value *const *a, size_t n,
                                const struct soupc_cty_type *ret) {
  return set_op_impl(out, c, a, n, ret, SET_INTERSECTION);
}

static int setsubtract_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                            struct soupc_cty_value *const *a, size_t n,
                            const struct soupc_cty_type *ret) {
  return set_op_impl(out, c, a, n, ret, SET_SUBTRACT);
}

static int setsymdiff_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                           struct soupc_cty_value *const *a, size_t n,
                           const struct soupc_cty_type *ret) {
  return set_op_impl(out, c, a, n, ret, SET_SYMDIFF);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct fn_param p_has[] = {
    {"set", FN_T_SET_DYNAMIC, SOUPC_CTY_PARAM_ALLOW_DYNAMIC},
    {"elem", FN_T_DYNAMIC, SOUPC_CTY_PARAM_ALLOW_DYNAMIC}};
static const struct fn_param p_first[] = {
    {"first_set", FN_T_SET_DYNAMIC, SOUPC_CTY_PARAM_ALLOW_DYNAMIC}};
static const struct fn_param p_other = {"other_sets", FN_T_SET_DYNAMIC,
                                        SOUPC_CTY_PARAM_ALLOW_DYNAMIC};
static const struct fn_param p_ab[] = {
    {"a", FN_T_SET_DYNAMIC, SOUPC_CTY_PARAM_ALLOW_DYNAMIC},
    {"b", FN_T_SET_DYNAMIC, SOUPC_CTY_PARAM_ALLOW_DYNAMIC}};

const struct soupc_cty_function soupc__fn_set[] = {
    {"sethaselement",
     "Returns true if the given set contains the given element, or false "
     "otherwise.",
     p_has, N(p_has), NULL, NULL, FN_T_BOOL, FN_REFINE_NOT_NULL,
     sethaselement_impl},
    {"setunion", "Returns the union of all given sets.", p_first, N(p_first),
     &p_other, set_op_type, FN_T_DYNAMIC, FN_REFINE_NOT_NULL, setunion_impl},
    {"setintersection", "Returns the intersection of all given sets.", p_first,
     N(p_first), &p_other, set_op_type, FN_T_DYNAMIC, FN_REFINE_NOT_NULL,
     setintersection_impl},
    {"setsubtract", "Returns the relative complement of the two given sets.",
     p_ab, N(p_ab), NULL, set_op_type, FN_T_DYNAMIC, FN_REFINE_NOT_NULL,
     setsubtract_impl},
    {"setsymmetricdifference",
     "Returns the symmetric difference of the two given sets.", p_first,
     N(p_first), &p_other, set_op_type, FN_T_DYNAMIC, FN_REFINE_NOT_NULL,
     setsymdiff_impl},
};
const size_t soupc__fn_set_count = N(soupc__fn_set);
