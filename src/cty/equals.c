/* Value.RawEquals, Value.Equals and the few operations they and the
 * refinement rules need (LessThan, GreaterThan, Or, Length), plus GetAttr
 * and Index, following go-cty's value_ops.go. Where go-cty iterates a Go
 * map (object attributes, map keys) its order is random; we use sorted
 * order, which is one of the orders go-cty can take. */
#include "cty/cty_int.h"

#include "base/alloc.h"

#include <string.h>

/* ---- RawEquals ---- */

static bool num_val_raw_equal(const struct soupc_cty_value *a,
                              const struct soupc_cty_value *b) {
  /* go-cty's NilVal placeholders compare equal only to each other. */
  if (a == NULL || b == NULL) {
    return a == b;
  }
  return soupc__cty_raw_equals(a, b);
}

static bool refine_raw_equal(const struct cty_refine *a,
                             const struct cty_refine *b) {
  if (a->kind != b->kind || a->null != b->null) {
    return false;
  }
  switch (a->kind) {
  case CTY_RF_STRING:
    return a->prefix_len == b->prefix_len &&
           (a->prefix_len == 0 ||
            memcmp(a->prefix, b->prefix, a->prefix_len) == 0);
  case CTY_RF_NUMBER:
    return num_val_raw_equal(a->min, b->min) &&
           num_val_raw_equal(a->max, b->max) && a->min_inc == b->min_inc &&
           a->max_inc == b->max_inc;
  case CTY_RF_COLLECTION:
    return a->min_len == b->min_len && a->max_len == b->max_len;
  default:
    return true;
  }
}

static bool capsule_raw_equals(const struct soupc_cty_value *a,
                               const struct soupc_cty_value *b) {
  const struct cty_capsule *c = a->type->cap;

  if (c != NULL && c->ops.raw_equals != NULL) {
    return c->ops.raw_equals(a->u.payload, b->u.payload, c->type_data) != 0;
  }
  return a->u.payload == b->u.payload;
}

bool soupc__cty_raw_equals(const struct soupc_cty_value *a,
                           const struct soupc_cty_value *b) {
  size_t i;

  if (!soupc__cty_type_equal(a->type, b->type)) {
    return false;
  }
  if (cty_is_marked(a) != cty_is_marked(b) ||
      (cty_is_marked(a) &&
       !soupc__cty_marks_equal(a->u.mk.marks, b->u.mk.marks))) {
    return false;
  }
  a = cty_unmarked(a);
  b = cty_unmarked(b);
  if ((a->flags & CTY_V_UNKNOWN) && (b->flags & CTY_V_UNKNOWN)) {
    if ((a->refine == NULL) != (b->refine == NULL)) {
      return false;
    }
    return a->refine == NULL || refine_raw_equal(a->refine, b->refine);
  }
  if ((a->flags ^ b->flags) & CTY_V_UNKNOWN) {
    return false;
  }
  if ((a->flags & CTY_V_NULL) || (b->flags & CTY_V_NULL)) {
    return (a->flags & CTY_V_NULL) && (b->flags & CTY_V_NULL);
  }
  switch (a->type->kind) {
  case SOUPC_CTY_STRING:
    return a->u.str.len == b->u.str.len &&
           memcmp(a->u.str.s, b->u.str.s, a->u.str.len) == 0;
  case SOUPC_CTY_NUMBER:
    return soupc__cty_num_equal(a->u.num, b->u.num) == 1;
  case SOUPC_CTY_BOOL:
    return a->u.b == b->u.b;
  case SOUPC_CTY_DYNAMIC:
    return true;
  case SOUPC_CTY_CAPSULE:
    return capsule_raw_equals(a, b);
  default:
    break;
  }
  if (a->u.c.n != b->u.c.n) {
    return false;
  }
  for (i = 0; i < a->u.c.n; i++) {
    if (a->u.c.keys != NULL &&
        (a->u.c.key_lens[i] != b->u.c.key_lens[i] ||
         memcmp(a->u.c.keys[i], b->u.c.keys[i], a->u.c.key_lens[i]) != 0)) {
      return false;
    }
    /* Sets: both sides are in canonical order (go-cty compares
     * AsValueSlice element by element too). */
    if (!soupc__cty_raw_equals(a->u.c.items[i], b->u.c.items[i])) {
      return false;
    }
  }
  return true;
}

int soupc_cty_value_raw_equals(const soupc_cty_value *a,
                               const soupc_cty_value *b) {
  return soupc__cty_raw_equals(a, b);
}

int soupc_cty_value_equal(const soupc_cty_value *a, const soupc_cty_value *b) {
  return soupc__cty_raw_equals(a, b);
}

/* ---- helpers ---- */

int soupc__cty_unknown_bool_not_null(struct soupc_cty_value **out) {
  struct cty_refine *rf = soupc__calloc(1, sizeof(*rf));

  if (rf == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  rf->kind = CTY_RF_NULLABLE;
  rf->null = CTY_TRI_FALSE;
  return soupc__cty_unknown_refined(out, soupc__cty_type_prim(SOUPC_CTY_BOOL),
                                    rf);
}

/* definitelyNotNull: known and not null, or unknown refined not-null. */
static bool definitely_not_null(const struct soupc_cty_value *v) {
  v = cty_unmarked(v);
  if ((v->flags & CTY_V_UNKNOWN) == 0) {
    return (v->flags & CTY_V_NULL) == 0;
  }
  return v->refine != NULL && v->refine->null == CTY_TRI_FALSE;
}

/* Value.HasWhollyKnownType: no DynamicVal anywhere inside. */
static bool wholly_known_type(const struct soupc_cty_value *v) {
  size_t i;

  v = cty_unmarked(v);
  if (v->flags & CTY_V_NULL) {
    return true;
  }
  if ((v->flags & CTY_V_UNKNOWN) && v->type->kind == SOUPC_CTY_DYNAMIC) {
    return false;
  }
  if (!cty_kind_has_items(v->type->kind)) {
    return true;
  }
  if (v->flags & CTY_V_UNKNOWN) {
    return !v->type->has_dyn;
  }
  for (i = 0; i < v->u.c.n; i++) {
    if (!wholly_known_type(v->u.c.items[i])) {
      return false;
    }
  }
  return true;
}

static bool is_true(const struct soupc_cty_value *v) {
  return cty_is_known(v) && !cty_is_null(v) && cty_unmarked(v)->u.b;
}

static bool is_false(const struct soupc_cty_value *v) {
  return cty_is_known(v) && !cty_is_null(v) && !cty_unmarked(v)->u.b;
}

/* Set.Has: an element of @p set equivalent to @p x. */
static int set_has(const struct soupc_cty_value *set,
                   const struct soupc_cty_value *x) {
  size_t i;

  for (i = 0; i < set->u.c.n; i++) {
    int eq = soupc__cty_val_equivalent(set->u.c.items[i], x);
    if (eq != 0) {
      return eq;
    }
  }
  return 0;
}

/* ---- Equals ---- */

enum {
  EQ_FALSE = 0,
  EQ_TRUE = 1,
  EQ_UNKNOWN = 2
};

static int equals_raw(int *res, const struct soupc_cty_value *a,
                      const struct soupc_cty_value *b, soupc_status *st,
                      int depth);

/* Element-wise Equals for objects, tuples, lists and maps of one type. */
static int equals_items(int *res, const struct soupc_cty_value *a,
                        const struct soupc_cty_value *b, soupc_status *st,
                        int depth) {
  size_t i;
  int rv, eq;

  if (a->u.c.n != b->u.c.n) {
    *res = EQ_FALSE;
    return 0;
  }
  for (i = 0; i < a->u.c.n; i++) {
    if (a->u.c.keys != NULL &&
        (a->u.c.key_lens[i] != b->u.c.key_lens[i] ||
         memcmp(a->u.c.keys[i], b->u.c.keys[i], a->u.c.key_lens[i]) != 0)) {
      *res = EQ_FALSE;
      return 0;
    }
    rv = equals_raw(&eq, a->u.c.items[i], b->u.c.items[i], st, depth + 1);
    if (rv != 0) {
      return rv;
    }
    if (eq != EQ_TRUE) {
      *res = eq;
      return 0;
    }
  }
  *res = EQ_TRUE;
  return 0;
}

/* Equals on two unmarked values (go-cty's code after the marks branch).
 * *res is EQ_FALSE, EQ_TRUE or EQ_UNKNOWN (refined not null). */
static int equals_raw(int *res, const struct soupc_cty_value *a,
                      const struct soupc_cty_value *b, soupc_status *st,
                      int depth) {
  bool ak = cty_is_known(a), bk = cty_is_known(b);
  bool an = cty_is_null(a), bn = cty_is_null(b);
  size_t i;
  int rv;

  if (depth > CTY_MAX_DEPTH) {
    return SOUPC_ERR_CTY_DECODE;
  }
  if ((an && definitely_not_null(b)) || (bn && definitely_not_null(a))) {
    *res = EQ_FALSE;
    return 0;
  }
  if (ak != bk) {
    /* One known value and one unknown: the unknown's range may already
     * rule the known one out. */
    const struct soupc_cty_value *kv = ak ? a : b, *uv = ak ? b : a;
    struct soupc_cty_range rng;
    struct soupc_cty_value *ok = NULL;
    rv = soupc__cty_range_of(&rng, uv, st);
    if (rv == 0) {
      rv = soupc__cty_range_includes(&ok, &rng, kv, st);
      soupc__cty_range_dispose(&rng);
    }
    if (rv != 0) {
      return rv;
    }
    if (is_false(ok)) {
      soupc_cty_value_free(ok);
      *res = EQ_FALSE;
      return 0;
    }
    soupc_cty_value_free(ok);
    /* a known value of another (fully known) type can never be equal */
    if (!cty_is_null(kv) && !uv->type->has_dyn &&
        !soupc__cty_type_equal(kv->type, uv->type)) {
      *res = EQ_FALSE;
    } else {
      *res = EQ_UNKNOWN;
    }
    return 0;
  }
  if (!ak) {
    *res = EQ_UNKNOWN;
    return 0;
  }
  if (an || bn) {
    *res = an && bn ? EQ_TRUE : EQ_FALSE;
    return 0;
  }
  if (!wholly_known_type(a) || !wholly_known_type(b)) {
    /* Nested dynamic values: unequal only if the types can never match. */
    if (!soupc__cty_type_conforms(a->type, b->type) &&
        !soupc__cty_type_conforms(b->type, a->type)) {
      *res = EQ_FALSE;
    } else {
      *res = EQ_UNKNOWN;
    }
    return 0;
  }
  if (!soupc__cty_type_equal(a->type, b->type)) {
    *res = EQ_FALSE;
    return 0;
  }
  switch (a->type->kind) {
  case SOUPC_CTY_NUMBER:
    rv = soupc__cty_num_equal(a->u.num, b->u.num);
    if (rv < 0) {
      return SOUPC_ERR_NOMEM;
    }
    *res = rv ? EQ_TRUE : EQ_FALSE;
    return 0;
  case SOUPC_CTY_BOOL:
    *res = a->u.b == b->u.b ? EQ_TRUE : EQ_FALSE;
    return 0;
  case SOUPC_CTY_STRING:
    *res = a->u.str.len == b->u.str.len &&
                   memcmp(a->u.str.s, b->u.str.s, a->u.str.len) == 0
               ? EQ_TRUE
               : EQ_FALSE;
    return 0;
  case SOUPC_CTY_CAPSULE:
    *res = capsule_raw_equals(a, b) ? EQ_TRUE : EQ_FALSE;
    return 0;
  case SOUPC_CTY_SET: {
    /* Equal if every element of each is in the other; any unknown
     * element (at the top level) makes it undecided. */
    bool equal = true;
    const struct soupc_cty_value *s1 = a, *s2 = b;
    int pass;
    for (pass = 0; pass < 2; pass++) {
      for (i = 0; i < s1->u.c.n; i++) {
        if (!cty_is_known(s1->u.c.items[i])) {
          *res = EQ_UNKNOWN;
          return 0;
        }
        rv = set_has(s2, s1->u.c.items[i]);
        if (rv < 0) {
          return SOUPC_ERR_NOMEM;
        }
        if (rv == 0) {
          equal = false;
        }
      }
      s1 = b;
      s2 = a;
    }
    *res = equal ? EQ_TRUE : EQ_FALSE;
    return 0;
  }
  case SOUPC_CTY_LIST:
  case SOUPC_CTY_MAP:
  case SOUPC_CTY_TUPLE:
  case SOUPC_CTY_OBJECT:
    return equals_items(res, a, b, st, depth);
  default:
    return soupc__cty_panic(st, "unsupported value type in Equals");
  }
}

int soupc__cty_equals(struct soupc_cty_value **out,
                      const struct soupc_cty_value *a,
                      const struct soupc_cty_value *b, soupc_status *st) {
  struct soupc_cty_value *ua = NULL, *ub = NULL, *r = NULL;
  struct soupc_cty_marks *am = NULL, *bm = NULL, *m = NULL;
  int res = EQ_FALSE, rv;

  if (soupc__cty_contains_marked(a) || soupc__cty_contains_marked(b)) {
    rv = soupc_cty_value_unmark_deep(&ua, &am, a);
    if (rv == 0) {
      rv = soupc_cty_value_unmark_deep(&ub, &bm, b);
    }
    /* go-cty >= 1.18: comparing with null keeps only top-level marks. */
    if (rv == 0 && cty_is_null(a) + cty_is_null(b) == 1) {
      soupc_cty_marks_free(am);
      soupc_cty_marks_free(bm);
      am = cty_is_marked(a) ? soupc__cty_marks_ref(a->u.mk.marks) : NULL;
      bm = cty_is_marked(b) ? soupc__cty_marks_ref(b->u.mk.marks) : NULL;
    }
    if (rv == 0) {
      rv = soupc__cty_equals(&r, ua, ub, st);
    }
    if (rv == 0) {
      rv = soupc__cty_marks_union(&m, am, bm);
    }
    if (rv == 0) {
      rv = soupc__cty_with_marks(&r, r, m);
      r = rv == 0 ? r : NULL;
    }
    soupc_cty_value_free(ua);
    soupc_cty_value_free(ub);
    soupc_cty_marks_free(am);
    soupc_cty_marks_free(bm);
    soupc_cty_marks_free(m);
    if (rv != 0) {
      soupc_cty_value_free(r);
      return rv;
    }
    *out = r;
    return 0;
  }
  rv = equals_raw(&res, a, b, st, 0);
  if (rv != 0) {
    return rv;
  }
  if (res == EQ_UNKNOWN) {
    return soupc__cty_unknown_bool_not_null(out);
  }
  *out = soupc__cty_bool_val(res == EQ_TRUE);
  return 0;
}

int soupc_cty_value_equals(soupc_cty_value **out, const soupc_cty_value *a,
                           const soupc_cty_value *b, soupc_status *st) {
  return soupc__cty_equals(out, a, b, st);
}

/* ---- LessThan / GreaterThan / Or ---- */

/* mustTypeCheck(required, ...): the panic go-cty raises for a wrong type,
 * or whether any operand is dynamic (*dyn) or unknown (*unk). */
static int type_check(const struct soupc_cty_value *const *vals, size_t n,
                      soupc_cty_kind required, bool *dyn, bool *unk,
                      soupc_status *st) {
  size_t i;

  *dyn = false;
  *unk = false;
  for (i = 0; i < n; i++) {
    const struct soupc_cty_value *v = vals[i];
    if (v->type->kind == SOUPC_CTY_DYNAMIC) {
      *dyn = true;
      continue;
    }
    if (v->type->kind != required) {
      struct cty_buf x, y;
      int rv;
      soupc__cty_buf_init(&x);
      soupc__cty_buf_init(&y);
      soupc__cty_type_friendly(&x, soupc__cty_type_prim(required), false);
      soupc__cty_type_friendly(&y, v->type, false);
      soupc__cty_buf_putc(&x, 0);
      soupc__cty_buf_putc(&y, 0);
      rv = x.oom || y.oom
               ? SOUPC_ERR_NOMEM
               : soupc__cty_panic(st,
                                  "type mismatch: want %s but value %zu is %s",
                                  (char *)x.p, i, (char *)y.p);
      soupc__cty_buf_dispose(&x);
      soupc__cty_buf_dispose(&y);
      return rv;
    }
    if (v->flags & CTY_V_UNKNOWN) {
      *unk = true;
    }
  }
  return 0;
}

/* Combines marks of @p a and @p b onto @p r (owned). */
static int carry_marks(struct soupc_cty_value **out, struct soupc_cty_value *r,
                       const struct soupc_cty_value *a,
                       const struct soupc_cty_value *b) {
  struct soupc_cty_marks *m = NULL;
  int rv = soupc__cty_marks_union(&m, cty_is_marked(a) ? a->u.mk.marks : NULL,
                                  b != NULL && cty_is_marked(b) ? b->u.mk.marks
                                                                : NULL);

  if (rv != 0) {
    soupc_cty_value_free(r);
    return rv;
  }
  rv = soupc__cty_with_marks(out, r, m);
  soupc_cty_marks_free(m);
  return rv;
}

static int num_less_raw(struct soupc_cty_value **out,
                        const struct soupc_cty_value *a,
                        const struct soupc_cty_value *b, bool greater,
                        soupc_status *st, int depth);

/* a < b (greater: a > b) for known bound values, as a C bool. */
static int bound_cmp(bool *res, const struct soupc_cty_value *a,
                     const struct soupc_cty_value *b, bool greater,
                     soupc_status *st, int depth) {
  struct soupc_cty_value *r = NULL;
  int rv = num_less_raw(&r, a, b, greater, st, depth + 1);

  if (rv != 0) {
    return rv;
  }
  *res = is_true(r);
  soupc_cty_value_free(r);
  return 0;
}

static int num_less_raw(struct soupc_cty_value **out,
                        const struct soupc_cty_value *a,
                        const struct soupc_cty_value *b, bool greater,
                        soupc_status *st, int depth) {
  const struct soupc_cty_value *vals[2] = {a, b};
  bool dyn, unk, r;
  int rv;

  if (depth > 8) {
    return soupc__cty_panic(st, "comparison recursion too deep");
  }
  rv = type_check(vals, 2, SOUPC_CTY_NUMBER, &dyn, &unk, st);
  if (rv != 0) {
    return rv;
  }
  if (!dyn && !unk) {
    int c;
    if ((a->flags & CTY_V_NULL) || (b->flags & CTY_V_NULL)) {
      soupc__cty_panic(st, "interface conversion: interface {} is "
                           "nil, not *big.Float");
      return SOUPC_ERR_CTY_PANIC; /* what soupc__cty_panic returns */
    }
    c = soupc__cty_num_cmp(a->u.num, b->u.num);
    *out = soupc__cty_bool_val(greater ? c > 0 : c < 0);
    return 0;
  }
  if (a->type->kind == SOUPC_CTY_NUMBER && b->type->kind == SOUPC_CTY_NUMBER) {
    /* Bounds may decide it (go-cty treats them all as exclusive). */
    struct soupc_cty_range ra, rb;
    struct soupc_cty_value *amax = NULL, *bmin = NULL, *amin = NULL,
                           *bmax = NULL;
    int inc;
    rv = soupc__cty_range_of(&ra, a, st);
    if (rv != 0) {
      return rv;
    }
    rv = soupc__cty_range_of(&rb, b, st);
    if (rv != 0) {
      soupc__cty_range_dispose(&ra);
      return rv;
    }
    /* LessThan: a.max < b.min -> true; a.min > b.max -> false.
     * GreaterThan: a.min > b.max -> true; a.max < b.min -> false. */
    rv = soupc_cty_range_number_upper_bound(&amax, &inc, &ra, st);
    if (rv == 0) {
      rv = soupc_cty_range_number_lower_bound(&bmin, &inc, &rb, st);
    }
    if (rv == 0) {
      rv = soupc_cty_range_number_lower_bound(&amin, &inc, &ra, st);
    }
    if (rv == 0) {
      rv = soupc_cty_range_number_upper_bound(&bmax, &inc, &rb, st);
    }
    soupc__cty_range_dispose(&ra);
    soupc__cty_range_dispose(&rb);
    /* the accessors set every bound on success (refine.c); a NULL one here
     * would be a broken contract, not a value to dereference */
    if (rv == 0 &&
        (amax == NULL || bmin == NULL || amin == NULL || bmax == NULL)) {
      soupc__cty_panic(st, "number range without bounds");
      rv = SOUPC_ERR_CTY_PANIC;
    }
    if (rv == 0) {
      const struct soupc_cty_value *x1 = greater ? amin : amax;
      const struct soupc_cty_value *y1 = greater ? bmax : bmin;
      const struct soupc_cty_value *x2 = greater ? amax : amin;
      const struct soupc_cty_value *y2 = greater ? bmin : bmax;
      *out = NULL;
      if (cty_is_known(x1) && cty_is_known(y1)) {
        rv = bound_cmp(&r, x1, y1, greater, st, depth);
        if (rv == 0 && r) {
          *out = soupc__cty_bool_val(true);
        }
      }
      if (rv == 0 && *out == NULL && cty_is_known(x2) && cty_is_known(y2)) {
        rv = bound_cmp(&r, x2, y2, !greater, st, depth);
        if (rv == 0 && r) {
          *out = soupc__cty_bool_val(false);
        }
      }
    }
    soupc_cty_value_free(amax);
    soupc_cty_value_free(bmin);
    soupc_cty_value_free(amin);
    soupc_cty_value_free(bmax);
    if (rv != 0 || *out != NULL) {
      return rv;
    }
  }
  return soupc__cty_unknown_bool_not_null(out);
}

int soupc__cty_num_less(struct soupc_cty_value **out,
                        const struct soupc_cty_value *a,
                        const struct soupc_cty_value *b, bool greater,
                        soupc_status *st) {
  struct soupc_cty_value *r = NULL;
  int rv = num_less_raw(&r, cty_unmarked(a), cty_unmarked(b), greater, st, 0);

  if (rv != 0) {
    return rv;
  }
  return carry_marks(out, r, a, b);
}

int soupc__cty_bool_or(struct soupc_cty_value **out,
                       const struct soupc_cty_value *a,
                       const struct soupc_cty_value *b, soupc_status *st) {
  const struct soupc_cty_value *vals[2] = {cty_unmarked(a), cty_unmarked(b)};
  struct soupc_cty_value *r = NULL;
  bool dyn, unk;
  int rv = type_check(vals, 2, SOUPC_CTY_BOOL, &dyn, &unk, st);

  if (rv != 0) {
    return rv;
  }
  if (dyn || unk) {
    if (is_true(vals[0]) || is_true(vals[1])) {
      r = soupc__cty_bool_val(true);
    } else {
      rv = soupc__cty_unknown_bool_not_null(&r);
      if (rv != 0) {
        return rv;
      }
    }
  } else {
    if ((vals[0]->flags & CTY_V_NULL) || (vals[1]->flags & CTY_V_NULL)) {
      return soupc__cty_panic(st, "interface conversion: interface {} is "
                                  "nil, not bool");
    }
    r = soupc__cty_bool_val(vals[0]->u.b || vals[1]->u.b);
  }
  return carry_marks(out, r, a, b);
}

/* ---- Length ---- */

int soupc__cty_length(struct soupc_cty_value **out,
                      const struct soupc_cty_value *v, soupc_status *st) {
  const struct soupc_cty_value *raw = cty_unmarked(v);
  struct soupc_cty_value *r = NULL;
  int rv;

  if (raw->type->kind == SOUPC_CTY_TUPLE) {
    rv = soupc_cty_value_number_int(&r, (int64_t)raw->type->n);
  } else if (raw->flags & CTY_V_UNKNOWN) {
    /* The range of the length follows the collection's refinements. */
    struct soupc_cty_range rng;
    soupc_cty_refiner *b = NULL;
    struct soupc_cty_value *lo = NULL, *hi = NULL, *unk = NULL;
    int64_t l = 0, h = CTY_MAX_INT;
    rv = soupc__cty_range_of(&rng, raw, st);
    if (rv != 0) {
      return rv;
    }
    rv = soupc_cty_range_length_lower_bound(&rng, &l, st);
    if (rv == 0) {
      rv = soupc_cty_range_length_upper_bound(&rng, &h, st);
    }
    soupc__cty_range_dispose(&rng);
    if (rv == 0) {
      rv = soupc_cty_value_number_int(&lo, l);
    }
    if (rv == 0) {
      rv = soupc_cty_value_number_int(&hi, h);
    }
    if (rv == 0) {
      rv =
          soupc_cty_value_unknown(&unk, soupc__cty_type_prim(SOUPC_CTY_NUMBER));
    }
    if (rv == 0) {
      rv = soupc_cty_refine_begin(&b, unk);
    }
    if (rv == 0) {
      soupc_cty_refine_not_null(b);
      soupc_cty_refine_number_lower_bound(b, lo, 1);
      soupc_cty_refine_number_upper_bound(b, hi, 1);
      rv = soupc_cty_refine_finish(&r, b, st);
    }
    soupc_cty_value_free(lo);
    soupc_cty_value_free(hi);
    soupc_cty_value_free(unk);
  } else if (raw->flags & CTY_V_NULL) {
    return soupc__cty_panic(st, "value is null");
  } else if (raw->type->kind == SOUPC_CTY_SET && raw->u.c.n != 1 &&
             !soupc__cty_wholly_known(raw)) {
    /* Unknown elements may coalesce with others: 1..n. */
    soupc_cty_refiner *b = NULL;
    struct soupc_cty_value *lo = NULL, *hi = NULL, *unk = NULL;
    rv = soupc_cty_value_number_int(&lo, 1);
    if (rv == 0) {
      rv = soupc_cty_value_number_int(&hi, (int64_t)raw->u.c.n);
    }
    if (rv == 0) {
      rv =
          soupc_cty_value_unknown(&unk, soupc__cty_type_prim(SOUPC_CTY_NUMBER));
    }
    if (rv == 0) {
      rv = soupc_cty_refine_begin(&b, unk);
    }
    if (rv == 0) {
      soupc_cty_refine_not_null(b);
      soupc_cty_refine_number_lower_bound(b, lo, 1);
      soupc_cty_refine_number_upper_bound(b, hi, 1);
      rv = soupc_cty_refine_finish(&r, b, st);
    }
    soupc_cty_value_free(lo);
    soupc_cty_value_free(hi);
    soupc_cty_value_free(unk);
  } else if (cty_kind_has_items(raw->type->kind)) {
    rv = soupc_cty_value_number_int(&r, (int64_t)raw->u.c.n);
  } else {
    return soupc__cty_panic(st, "value is not a collection");
  }
  if (rv != 0) {
    return rv;
  }
  return carry_marks(out, r, v, NULL);
}

int soupc_cty_value_length(soupc_cty_value **out, const soupc_cty_value *v,
                           soupc_status *st) {
  return soupc__cty_length(out, v, st);
}

/* ---- GetAttr / Index ---- */

int soupc_cty_value_get_attr(soupc_cty_value **out, const soupc_cty_value *v,
                             const char *name, size_t len, soupc_status *st) {
  const struct soupc_cty_value *raw = cty_unmarked(v);
  struct soupc_cty_value *r = NULL;
  long idx;
  int rv;

  if (raw->type->kind == SOUPC_CTY_DYNAMIC) {
    r = soupc__cty_dynamic_val();
  } else if (raw->type->kind != SOUPC_CTY_OBJECT) {
    return soupc__cty_panic(st, "value is not an object");
  } else {
    idx = soupc_cty_type_attribute_index(raw->type, name, len);
    if (idx < 0) {
      return soupc__cty_panic(st, "value has no attribute of that name");
    }
    if (raw->flags & CTY_V_UNKNOWN) {
      rv = soupc_cty_value_unknown(&r, raw->type->elems[idx]);
      if (rv != 0) {
        return rv;
      }
    } else if (raw->flags & CTY_V_NULL) {
      /* go-cty reads a nil map: the attribute is a null of its type. */
      rv = soupc_cty_value_null(&r, raw->type->elems[idx]);
      if (rv != 0) {
        return rv;
      }
    } else {
      r = soupc__cty_val_ref(raw->u.c.items[idx]);
    }
  }
  return carry_marks(out, r, v, NULL);
}

/* A list/tuple index: a non-negative integer, or go-cty's panic. */
static int list_index(size_t *out, const struct soupc_cty_value *key,
                      soupc_status *st) {
  int64_t i;

  if (!soupc__cty_num_int64(key->u.num, &i) || i < 0) {
    return soupc__cty_panic(st, "element key for list must be non-negative "
                                "integer");
  }
  *out = (size_t)i;
  return 0;
}

int soupc_cty_value_index(soupc_cty_value **out, const soupc_cty_value *v,
                          const soupc_cty_value *key, soupc_status *st) {
  const struct soupc_cty_value *raw = cty_unmarked(v), *k = cty_unmarked(key);
  struct soupc_cty_value *r = NULL;
  soupc_cty_kind kk = k->type->kind;
  size_t i = 0;
  int rv = 0;

  switch (raw->type->kind) {
  case SOUPC_CTY_DYNAMIC:
    r = soupc__cty_dynamic_val();
    break;
  case SOUPC_CTY_LIST:
  case SOUPC_CTY_MAP: {
    bool is_list = raw->type->kind == SOUPC_CTY_LIST;
    if (kk != SOUPC_CTY_DYNAMIC &&
        kk != (is_list ? SOUPC_CTY_NUMBER : SOUPC_CTY_STRING)) {
      return soupc__cty_panic(st, is_list ? "element key for list must be "
                                            "number"
                                          : "element key for map must be "
                                            "string");
    }
    if (kk == SOUPC_CTY_DYNAMIC || (k->flags & CTY_V_UNKNOWN) ||
        (raw->flags & CTY_V_UNKNOWN)) {
      rv = soupc_cty_value_unknown(&r, raw->type->elem);
      break;
    }
    if (is_list) {
      rv = list_index(&i, k, st);
      if (rv != 0) {
        return rv;
      }
      if (i >= raw->u.c.n) {
        return soupc__cty_panic(st,
                                "runtime error: index out of range [%zu] "
                                "with length %zu",
                                i, raw->u.c.n);
      }
      r = soupc__cty_val_ref(raw->u.c.items[i]);
      break;
    }
    for (i = 0; i < raw->u.c.n; i++) {
      if (raw->u.c.key_lens[i] == k->u.str.len &&
          memcmp(raw->u.c.keys[i], k->u.str.s, k->u.str.len) == 0) {
        break;
      }
    }
    /* go-cty reads a missing key as a nil payload: a null element. */
    rv = i < raw->u.c.n ? (r = soupc__cty_val_ref(raw->u.c.items[i]), 0)
                        : soupc_cty_value_null(&r, raw->type->elem);
    break;
  }
  case SOUPC_CTY_TUPLE:
    if (kk == SOUPC_CTY_DYNAMIC ||
        (kk == SOUPC_CTY_NUMBER && (k->flags & CTY_V_UNKNOWN))) {
      r = soupc__cty_dynamic_val();
      break;
    }
    if (kk != SOUPC_CTY_NUMBER) {
      return soupc__cty_panic(st, "element key for tuple must be number");
    }
    rv = list_index(&i, k, st);
    if (rv != 0) {
      return rv;
    }
    if (i >= raw->type->n) {
      return soupc__cty_panic(st,
                              "runtime error: index out of range [%zu] "
                              "with length %zu",
                              i, raw->type->n);
    }
    if (raw->flags & CTY_V_UNKNOWN) {
      rv = soupc_cty_value_unknown(&r, raw->type->elems[i]);
    } else {
      r = soupc__cty_val_ref(raw->u.c.items[i]);
    }
    break;
  default:
    return soupc__cty_panic(st, "not a list, map, or tuple type");
  }
  if (rv != 0) {
    return rv;
  }
  return carry_marks(out, r, v, key);
}
