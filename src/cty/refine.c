/* Value.Range, ValueRange and the RefinementBuilder (go-cty
 * value_range.go, unknown_refinement.go). go-cty panics on refinements
 * that contradict what is known; the builder records the first such panic
 * and soupc_cty_refine_finish reports it. */
#include "cty/cty_int.h"

#include "base/alloc.h"

#include <string.h>

static struct cty_refine *refine_new(unsigned char kind, char null) {
  struct cty_refine *r = soupc__calloc(1, sizeof(*r));

  if (r != NULL) {
    r->kind = kind;
    r->null = null;
    r->max_len = CTY_MAX_INT;
  }
  return r;
}

/* ---- Range ---- */

int soupc__cty_range_of(struct soupc_cty_range *r,
                        const struct soupc_cty_value *v, soupc_status *st) {
  struct cty_refine *rf = NULL;
  soupc_cty_kind k = v->type->kind;

  memset(r, 0, sizeof(*r));
  if (cty_is_marked(v)) {
    return soupc__cty_panic(st, "Value.Range on marked value; must be "
                                "unmarked first");
  }
  if (v->flags & CTY_V_UNKNOWN) {
    rf = v->refine != NULL ? soupc__cty_refine_dup(v->refine)
                           : refine_new(CTY_RF_NULLABLE, CTY_TRI_UNKNOWN);
  } else if (v->flags & CTY_V_NULL) {
    rf = refine_new(CTY_RF_NULLABLE, CTY_TRI_TRUE);
  } else if (k == SOUPC_CTY_STRING) {
    rf = refine_new(CTY_RF_STRING, CTY_TRI_FALSE);
    if (rf != NULL) {
      rf->prefix = soupc__strndup(v->u.str.s, v->u.str.len);
      rf->prefix_len = v->u.str.len;
      if (rf->prefix == NULL) {
        soupc__free(rf);
        rf = NULL;
      }
    }
  } else if (k == SOUPC_CTY_NUMBER) {
    rf = refine_new(CTY_RF_NUMBER, CTY_TRI_FALSE);
    if (rf != NULL) {
      rf->min = soupc__cty_val_ref(v);
      rf->max = soupc__cty_val_ref(v);
      rf->min_inc = rf->max_inc = true;
    }
  } else if (cty_kind_is_coll(k)) {
    rf = refine_new(CTY_RF_COLLECTION, CTY_TRI_FALSE);
    /* Value.Length: a set holding unknowns (and more than one element)
     * has no known length. */
    if (rf != NULL &&
        (k != SOUPC_CTY_SET || v->u.c.n == 1 || soupc__cty_wholly_known(v))) {
      rf->min_len = rf->max_len = (int64_t)v->u.c.n;
    }
  } else {
    rf = refine_new(CTY_RF_NULLABLE, CTY_TRI_FALSE);
  }
  if (rf == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  r->ty = soupc__cty_type_ref(v->type);
  r->raw = rf;
  return 0;
}

void soupc__cty_range_dispose(struct soupc_cty_range *r) {
  soupc_cty_type_free(r->ty);
  soupc__cty_refine_free(r->raw);
  memset(r, 0, sizeof(*r));
}

int soupc_cty_value_range(soupc_cty_range **out, const soupc_cty_value *v,
                          soupc_status *st) {
  struct soupc_cty_range *r = soupc__malloc(sizeof(*r));
  int rv;

  if (r == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  rv = soupc__cty_range_of(r, v, st);
  if (rv != 0) {
    soupc__free(r);
    return rv;
  }
  *out = r;
  return 0;
}

void soupc_cty_range_free(soupc_cty_range *r) {
  if (r == NULL) {
    return;
  }
  soupc__cty_range_dispose(r);
  soupc__free(r);
}

const soupc_cty_type *soupc_cty_range_type(const soupc_cty_range *r) {
  return r->ty;
}

int soupc_cty_range_could_be_null(const soupc_cty_range *r) {
  return r->raw->null != CTY_TRI_FALSE;
}

int soupc_cty_range_definitely_not_null(const soupc_cty_range *r) {
  return r->raw->null == CTY_TRI_FALSE;
}

/* The panic ValueRange's accessors raise for a type they do not apply
 * to: "<Accessor> for <type GoString>". */
static int accessor_panic(const char *accessor, const soupc_cty_range *r,
                          soupc_status *st) {
  struct cty_buf b;
  int rv;

  soupc__cty_buf_init(&b);
  soupc__cty_type_gostring(&b, r->ty);
  soupc__cty_buf_putc(&b, 0);
  rv = b.oom ? SOUPC_ERR_NOMEM
             : soupc__cty_panic(st, "%s for %s", accessor, (char *)b.p);
  soupc__cty_buf_dispose(&b);
  return rv;
}

int soupc_cty_range_string_prefix(const soupc_cty_range *r, const char **s_out,
                                  size_t *len_out, soupc_status *st) {
  *s_out = "";
  *len_out = 0;
  if (r->ty->kind == SOUPC_CTY_DYNAMIC) {
    return 0;
  }
  if (r->ty->kind != SOUPC_CTY_STRING) {
    return accessor_panic("StringPrefix", r, st);
  }
  if (r->raw->kind == CTY_RF_STRING && r->raw->prefix != NULL) {
    *s_out = r->raw->prefix;
    *len_out = r->raw->prefix_len;
  }
  return 0;
}

static int number_bound(soupc_cty_value **out, int *inclusive_out,
                        const soupc_cty_range *r, bool upper,
                        soupc_status *st) {
  const struct soupc_cty_value *b;

  *inclusive_out = 0;
  if (r->ty->kind == SOUPC_CTY_DYNAMIC) {
    return soupc_cty_value_unknown(out, soupc__cty_type_prim(SOUPC_CTY_NUMBER));
  }
  if (r->ty->kind != SOUPC_CTY_NUMBER) {
    return accessor_panic(upper ? "NumberUpperBound" : "NumberLowerBound", r,
                          st);
  }
  b = r->raw->kind == CTY_RF_NUMBER ? (upper ? r->raw->max : r->raw->min)
                                    : NULL;
  if (b != NULL) {
    if (!cty_is_known(b)) {
      *inclusive_out = 1;
      *out = soupc__cty_inf(!upper);
      return 0;
    }
    *inclusive_out = upper ? r->raw->max_inc : r->raw->min_inc;
    *out = soupc__cty_val_ref(b);
    return 0;
  }
  *out = soupc__cty_inf(!upper);
  return 0;
}

int soupc_cty_range_number_lower_bound(soupc_cty_value **out,
                                       int *inclusive_out,
                                       const soupc_cty_range *r,
                                       soupc_status *st) {
  return number_bound(out, inclusive_out, r, false, st);
}

int soupc_cty_range_number_upper_bound(soupc_cty_value **out,
                                       int *inclusive_out,
                                       const soupc_cty_range *r,
                                       soupc_status *st) {
  return number_bound(out, inclusive_out, r, true, st);
}

static int length_bound(const soupc_cty_range *r, int64_t *out, bool upper,
                        soupc_status *st) {
  *out = upper ? CTY_MAX_INT : 0;
  if (r->ty->kind == SOUPC_CTY_DYNAMIC) {
    return 0;
  }
  if (!cty_kind_is_coll(r->ty->kind)) {
    return accessor_panic(upper ? "LengthUpperBound" : "LengthLowerBound", r,
                          st);
  }
  if (r->raw->kind == CTY_RF_COLLECTION) {
    *out = upper ? r->raw->max_len : r->raw->min_len;
  }
  return 0;
}

int soupc_cty_range_length_lower_bound(const soupc_cty_range *r, int64_t *out,
                                       soupc_status *st) {
  return length_bound(r, out, false, st);
}

int soupc_cty_range_length_upper_bound(const soupc_cty_range *r, int64_t *out,
                                       soupc_status *st) {
  return length_bound(r, out, true, st);
}

/* ---- ValueRange.Includes ---- */

static bool val_is_false(const struct soupc_cty_value *v) {
  return cty_is_known(v) && !cty_is_null(v) && !cty_is_marked(v) && !v->u.b;
}

/* a >= b (or a > b): GreaterThan(...).Or(Equals(...)) for inclusive. */
static int num_ge(struct soupc_cty_value **out, const struct soupc_cty_value *a,
                  const struct soupc_cty_value *b, bool inclusive, bool less,
                  soupc_status *st) {
  struct soupc_cty_value *gt = NULL, *eq = NULL;
  int rv = soupc__cty_num_less(&gt, a, b, !less, st);

  if (rv != 0 || !inclusive) {
    *out = gt;
    return rv;
  }
  rv = soupc__cty_equals(&eq, a, b, st);
  if (rv == 0) {
    rv = soupc__cty_bool_or(out, gt, eq, st);
  }
  soupc_cty_value_free(gt);
  soupc_cty_value_free(eq);
  return rv;
}

int soupc__cty_range_includes(struct soupc_cty_value **out,
                              const struct soupc_cty_range *r,
                              const struct soupc_cty_value *v,
                              soupc_status *st) {
  struct soupc_cty_value *a = NULL, *b = NULL;
  bool vnull = cty_is_null(v);
  int rv = 0;

  if (r->raw->null == CTY_TRI_TRUE) {
    *out = soupc__cty_bool_val(vnull);
    return 0;
  }
  if (r->raw->null == CTY_TRI_FALSE && vnull) {
    *out = soupc__cty_bool_val(false);
    return 0;
  }
  if (vnull) {
    *out = soupc__cty_bool_val(true);
    return 0;
  }
  if (!soupc__cty_type_conforms(v->type, r->ty)) {
    *out = soupc__cty_bool_val(false);
    return 0;
  }
  if (v->type->kind == SOUPC_CTY_DYNAMIC) {
    return soupc__cty_unknown_bool_not_null(out);
  }
  switch (r->raw->kind) {
  case CTY_RF_STRING:
    if (cty_is_known(v)) {
      const char *s = NULL, *p = NULL;
      size_t sl = 0, pl = 0;
      rv = soupc_cty_range_string_prefix(r, &p, &pl, st);
      if (rv == 0) {
        rv = soupc_cty_value_as_string(v, &s, &sl, st);
      }
      if (rv != 0) {
        return rv;
      }
      if (sl < pl || memcmp(s, p, pl) != 0) {
        *out = soupc__cty_bool_val(false);
        return 0;
      }
    }
    break;
  case CTY_RF_COLLECTION: {
    struct soupc_cty_value *len = NULL, *lo = NULL, *hi = NULL;
    bool decided = false;
    rv = soupc__cty_length(&len, v, st);
    if (rv == 0) {
      rv = soupc_cty_value_number_int(&lo, r->raw->min_len);
    }
    if (rv == 0) {
      rv = soupc_cty_value_number_int(&hi, r->raw->max_len);
    }
    if (rv == 0) {
      rv = num_ge(&a, len, lo, true, false, st);
    }
    if (rv == 0 && val_is_false(a)) {
      decided = true;
    }
    if (rv == 0 && !decided) {
      rv = num_ge(&b, len, hi, true, true, st);
      decided = rv == 0 && val_is_false(b);
    }
    soupc_cty_value_free(len);
    soupc_cty_value_free(lo);
    soupc_cty_value_free(hi);
    soupc_cty_value_free(a);
    soupc_cty_value_free(b);
    if (rv != 0) {
      return rv;
    }
    if (decided) {
      *out = soupc__cty_bool_val(false);
      return 0;
    }
    break;
  }
  case CTY_RF_NUMBER: {
    struct soupc_cty_value *mn = NULL, *mx = NULL;
    int mi = 0, xi = 0;
    bool decided = false;
    rv = soupc_cty_range_number_lower_bound(&mn, &mi, r, st);
    if (rv == 0) {
      rv = soupc_cty_range_number_upper_bound(&mx, &xi, r, st);
    }
    if (rv == 0) {
      rv = num_ge(&a, v, mn, mi != 0, false, st);
    }
    if (rv == 0) {
      rv = num_ge(&b, v, mx, xi != 0, true, st);
    }
    if (rv == 0) {
      decided = val_is_false(a) || val_is_false(b);
    }
    soupc_cty_value_free(mn);
    soupc_cty_value_free(mx);
    soupc_cty_value_free(a);
    soupc_cty_value_free(b);
    if (rv != 0) {
      return rv;
    }
    if (decided) {
      *out = soupc__cty_bool_val(false);
      return 0;
    }
    break;
  }
  default:
    break;
  }
  return soupc__cty_unknown_bool_not_null(out);
}

int soupc_cty_range_includes(soupc_cty_value **out, const soupc_cty_range *r,
                             const soupc_cty_value *v, soupc_status *st) {
  return soupc__cty_range_includes(out, r, v, st);
}

/* ---- RefinementBuilder ---- */

struct soupc_cty_refiner {
  struct soupc_cty_value *orig; /* unmarked */
  struct soupc_cty_marks *marks;
  struct cty_refine *wip; /* NULL: the type admits no refinement */
  bool dynamic_val;       /* refining DynamicVal: every call is ignored */
  int err;                /* the first panic (or NOMEM), 0 if none */
  soupc_status st;
};

int soupc_cty_refine_begin(soupc_cty_refiner **out, const soupc_cty_value *v) {
  struct soupc_cty_refiner *b = soupc__calloc(1, sizeof(*b));
  const struct soupc_cty_value *raw = cty_unmarked(v);
  soupc_cty_kind k = raw->type->kind;

  if (b == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  b->orig = soupc__cty_val_ref(raw);
  b->marks = cty_is_marked(v) ? soupc__cty_marks_ref(v->u.mk.marks) : NULL;
  if ((raw->flags & CTY_V_UNKNOWN) && raw->refine != NULL) {
    b->wip = soupc__cty_refine_dup(raw->refine);
    b->err = b->wip == NULL ? SOUPC_ERR_NOMEM : 0;
  } else if (k == SOUPC_CTY_DYNAMIC && (raw->flags & CTY_V_UNKNOWN)) {
    b->dynamic_val = true;
  } else if (k == SOUPC_CTY_STRING || k == SOUPC_CTY_NUMBER ||
             cty_kind_is_coll(k) || k == SOUPC_CTY_BOOL ||
             k == SOUPC_CTY_OBJECT || k == SOUPC_CTY_TUPLE ||
             k == SOUPC_CTY_CAPSULE || k == SOUPC_CTY_DYNAMIC) {
    b->wip =
        refine_new(k == SOUPC_CTY_STRING   ? CTY_RF_STRING
                   : k == SOUPC_CTY_NUMBER ? CTY_RF_NUMBER
                   : cty_kind_is_coll(k)   ? CTY_RF_COLLECTION
                                           : CTY_RF_NULLABLE,
                   k == SOUPC_CTY_DYNAMIC ? CTY_TRI_TRUE : CTY_TRI_UNKNOWN);
    b->err = b->wip == NULL ? SOUPC_ERR_NOMEM : 0;
  }
  *out = b;
  return 0;
}

static void set_gostring(struct cty_buf *buf, const struct soupc_cty_value *v) {
  soupc__cty_buf_init(buf);
  soupc__cty_value_gostring(buf, v);
  soupc__cty_buf_putc(buf, 0);
}

/* Records go-cty's panic "<fmt with the orig type's GoString>". */
static void type_panic(soupc_cty_refiner *b, const char *what) {
  struct cty_buf t;

  soupc__cty_buf_init(&t);
  soupc__cty_type_gostring(&t, b->orig->type);
  soupc__cty_buf_putc(&t, 0);
  if (t.oom) {
    b->err = SOUPC_ERR_NOMEM;
  } else {
    b->err =
        soupc__cty_panic(&b->st, "cannot refine %s%s value", what, (char *)t.p);
  }
  soupc__cty_buf_dispose(&t);
}

/* refineable(): false to ignore the call (DynamicVal or an earlier
 * panic); records a panic for a type that takes no refinements. */
static bool refineable(soupc_cty_refiner *b) {
  if (b->err != 0 || b->dynamic_val) {
    return false;
  }
  if (b->wip == NULL) {
    type_panic(b, "a ");
    return false;
  }
  return true;
}

static void fail(soupc_cty_refiner *b, const char *msg) {
  b->err = soupc__cty_panic(&b->st, "%s", msg);
}

void soupc_cty_refine_not_null(soupc_cty_refiner *b) {
  if (!refineable(b)) {
    return;
  }
  if ((cty_is_known(b->orig) && cty_is_null(b->orig)) ||
      b->wip->null == CTY_TRI_TRUE) {
    fail(b, "refining null value as non-null");
    return;
  }
  b->wip->null = CTY_TRI_FALSE;
}

void soupc_cty_refine_null(soupc_cty_refiner *b) {
  if (!refineable(b)) {
    return;
  }
  if ((cty_is_known(b->orig) && !cty_is_null(b->orig)) ||
      b->wip->null == CTY_TRI_FALSE) {
    fail(b, "refining non-null value as null");
    return;
  }
  b->wip->null = CTY_TRI_TRUE;
}

void soupc_cty_refine_string_prefix_full(soupc_cty_refiner *b, const char *s,
                                         size_t len) {
  char *p;
  size_t pl = 0, m;

  if (!refineable(b)) {
    return;
  }
  if (b->wip->kind != CTY_RF_STRING) {
    type_panic(b, "string prefix for a ");
    return;
  }
  p = soupc__cty_nfc(s, len, &pl);
  if (p == NULL) {
    b->err = SOUPC_ERR_NOMEM;
    return;
  }
  if (cty_is_known(b->orig) && !cty_is_null(b->orig)) {
    m = b->orig->u.str.len < pl ? b->orig->u.str.len : pl;
    if (m > 0 && memcmp(b->orig->u.str.s, p, m) != 0) {
      soupc__free(p);
      fail(b, "refined prefix is inconsistent with known value");
      return;
    }
  }
  m = b->wip->prefix_len < pl ? b->wip->prefix_len : pl;
  if (m > 0 && memcmp(b->wip->prefix, p, m) != 0) {
    soupc__free(p);
    fail(b, "refined prefix is inconsistent with previous refined prefix");
    return;
  }
  if (pl > b->wip->prefix_len) {
    soupc__free(b->wip->prefix);
    b->wip->prefix = p;
    b->wip->prefix_len = pl;
  } else {
    soupc__free(p);
  }
}

void soupc_cty_refine_string_prefix(soupc_cty_refiner *b, const char *s,
                                    size_t len) {
  char *p = NULL;
  size_t pl = 0;

  if (b->err != 0) {
    return;
  }
  if (soupc_cty_safe_known_prefix(&p, &pl, s, len) != 0) {
    b->err = SOUPC_ERR_NOMEM;
    return;
  }
  soupc_cty_refine_string_prefix_full(b, p, pl);
  soupc__free(p);
}

/* A comparison on the builder's behalf: *res is 1 when known true, 0 when
 * known false, -1 when unknown. */
static int cmp_known(soupc_cty_refiner *b, int *res,
                     const struct soupc_cty_value *x,
                     const struct soupc_cty_value *y, bool greater,
                     bool or_equal) {
  struct soupc_cty_value *r = NULL;
  int rv = num_ge(&r, x, y, or_equal, !greater, &b->st);

  if (rv != 0) {
    b->err = rv;
    return rv;
  }
  *res = cty_is_known(r) ? (cty_unmarked(r)->u.b ? 1 : 0) : -1;
  soupc_cty_value_free(r);
  return 0;
}

/* "number lower bound X is greater than upper bound Y" when so. */
static void check_bounds(soupc_cty_refiner *b) {
  struct cty_refine *w = b->wip;
  struct cty_buf x, y;
  int ok;

  if (w->min == NULL || w->max == NULL) {
    return;
  }
  /* min < max when one bound is exclusive, else min <= max */
  if (cmp_known(b, &ok, w->min, w->max, false, w->min_inc == w->max_inc) != 0 ||
      ok != 0) {
    return;
  }
  set_gostring(&x, w->min);
  set_gostring(&y, w->max);
  if (x.oom || y.oom) {
    b->err = SOUPC_ERR_NOMEM;
  } else {
    b->err = soupc__cty_panic(&b->st,
                              "number lower bound %s is greater than upper "
                              "bound %s",
                              (char *)x.p, (char *)y.p);
  }
  soupc__cty_buf_dispose(&x);
  soupc__cty_buf_dispose(&y);
}

static void number_bound_refine(soupc_cty_refiner *b,
                                const soupc_cty_value *bound, int inclusive,
                                bool upper) {
  struct cty_refine *w;
  struct soupc_cty_value **slot;
  bool *slot_inc;
  int res;

  if (!refineable(b)) {
    return;
  }
  w = b->wip;
  if (w->kind != CTY_RF_NUMBER) {
    type_panic(b, "numeric bounds for a ");
    return;
  }
  if (!cty_is_known(bound)) {
    return;
  }
  if (cty_is_null(bound)) {
    fail(b, upper ? "number range upper bound must not be null"
                  : "number range lower bound must not be null");
    return;
  }
  /* lower: bound > orig (or >= when exclusive) contradicts what is known;
   * upper: bound < orig (or <=). */
  if (cmp_known(b, &res, bound, b->orig, !upper, !inclusive) != 0) {
    return;
  }
  if (res == 1) {
    struct cty_buf x, y;
    set_gostring(&x, b->orig);
    set_gostring(&y, bound);
    if (x.oom || y.oom) {
      b->err = SOUPC_ERR_NOMEM;
    } else {
      b->err = soupc__cty_panic(&b->st, "refining %s to be %s %s", (char *)x.p,
                                upper ? (inclusive ? "<=" : "<")
                                      : (inclusive ? ">=" : ">"),
                                (char *)y.p);
    }
    soupc__cty_buf_dispose(&x);
    soupc__cty_buf_dispose(&y);
    return;
  }
  slot = upper ? &w->max : &w->min;
  slot_inc = upper ? &w->max_inc : &w->min_inc;
  if (*slot != NULL) {
    /* Keep the existing bound when it is already tighter. */
    bool strict = inclusive && !*slot_inc;
    if (cmp_known(b, &res, bound, *slot, !upper, !strict) != 0) {
      return;
    }
    if (res == 0) {
      return;
    }
  }
  if (bound != soupc__cty_inf(!upper)) {
    soupc_cty_value_free(*slot);
    *slot = soupc__cty_val_ref(bound);
    *slot_inc = inclusive != 0;
  }
  check_bounds(b);
}

void soupc_cty_refine_number_lower_bound(soupc_cty_refiner *b,
                                         const soupc_cty_value *bound,
                                         int inclusive) {
  number_bound_refine(b, bound, inclusive, false);
}

void soupc_cty_refine_number_upper_bound(soupc_cty_refiner *b,
                                         const soupc_cty_value *bound,
                                         int inclusive) {
  number_bound_refine(b, bound, inclusive, true);
}

static void length_bound_refine(soupc_cty_refiner *b, int64_t n, bool upper) {
  struct cty_refine *w;

  if (!refineable(b)) {
    return;
  }
  w = b->wip;
  if (w->kind != CTY_RF_COLLECTION) {
    type_panic(b, "collection length bounds for a ");
    return;
  }
  if (cty_is_known(b->orig)) {
    /* The known length must fit the new bound. */
    int64_t real = (int64_t)b->orig->u.c.n;
    if (cty_is_null(b->orig)) {
      fail(b, "value is null");
      return;
    }
    if (upper ? n < real : n > real) {
      b->err = soupc__cty_panic(&b->st,
                                "refining collection of length "
                                "cty.NumberIntVal(%lld) with %s bound %lld",
                                (long long)real, upper ? "upper" : "lower",
                                (long long)n);
      return;
    }
  }
  if (upper ? w->max_len < n : w->min_len > n) {
    return;
  }
  if (upper) {
    w->max_len = n;
  } else {
    w->min_len = n;
  }
  if (w->max_len < w->min_len) {
    b->err = soupc__cty_panic(&b->st,
                              "collection length upper bound %lld is less "
                              "than lower bound %lld",
                              (long long)w->max_len, (long long)w->min_len);
  }
}

void soupc_cty_refine_collection_length_lower_bound(soupc_cty_refiner *b,
                                                    int64_t min) {
  length_bound_refine(b, min, false);
}

void soupc_cty_refine_collection_length_upper_bound(soupc_cty_refiner *b,
                                                    int64_t max) {
  length_bound_refine(b, max, true);
}

static void refiner_free(soupc_cty_refiner *b) {
  soupc_cty_value_free(b->orig);
  soupc_cty_marks_free(b->marks);
  soupc__cty_refine_free(b->wip);
  soupc__free(b);
}

/* NewValue without the marks: a known value when the refinements pin the
 * value down, otherwise an unknown carrying the refinement. */
static int new_value(struct soupc_cty_value **out, soupc_cty_refiner *b) {
  const struct soupc_cty_type *ty = b->orig->type;
  struct cty_refine *w = b->wip;
  struct soupc_cty_value *unk = NULL;
  struct soupc_cty_value **items;
  size_t i, n;
  int rv;

  if (cty_is_known(b->orig) || b->dynamic_val) {
    *out = soupc__cty_val_ref(b->orig);
    return 0;
  }
  if (w->null == CTY_TRI_TRUE) {
    return soupc_cty_value_null(out, ty);
  }
  if (w->null == CTY_TRI_FALSE && w->kind == CTY_RF_NUMBER && w->min_inc &&
      w->max_inc && w->min != NULL && w->max != NULL) {
    struct soupc_cty_value *eq = NULL;
    rv = soupc__cty_equals(&eq, w->min, w->max, &b->st);
    if (rv != 0) {
      return rv;
    }
    if (cty_is_known(eq) && cty_unmarked(eq)->u.b) {
      soupc_cty_value_free(eq);
      *out = soupc__cty_val_ref(w->min);
      return 0;
    }
    soupc_cty_value_free(eq);
  }
  if (w->null == CTY_TRI_FALSE && w->kind == CTY_RF_COLLECTION &&
      w->min_len == w->max_len) {
    n = (size_t)w->min_len;
    if (n == 0) {
      return soupc__cty_empty_coll(out, ty->kind, ty->elem);
    }
    if (ty->kind == SOUPC_CTY_LIST || (ty->kind == SOUPC_CTY_SET && n == 1)) {
      /* A known list of n unknowns; a one-element set cannot coalesce. */
      if (n > ((size_t)1 << 24)) {
        return soupc__cty_panic(&b->st, "collection length %zu is too large",
                                n);
      }
      rv = soupc_cty_value_unknown(&unk, ty->elem);
      if (rv != 0) {
        return rv;
      }
      items = soupc__calloc(n, sizeof(*items));
      if (items == NULL) {
        soupc_cty_value_free(unk);
        return SOUPC_ERR_NOMEM;
      }
      for (i = 0; i < n; i++) {
        items[i] = soupc__cty_val_ref(unk);
      }
      soupc_cty_value_free(unk);
      return soupc__cty_list_val(out, ty->kind, items, n, &b->st);
    }
  }
  b->wip = NULL;
  return soupc__cty_unknown_refined(out, ty, w);
}

bool soupc__cty_refine_failed(const soupc_cty_refiner *b) {
  return b->err != 0;
}

int soupc_cty_refine_finish(soupc_cty_value **out, soupc_cty_refiner *b,
                            soupc_status *st) {
  struct soupc_cty_value *v = NULL;
  int rv = b->err;

  if (rv != 0) {
    if (st != NULL) {
      *st = b->st;
    }
    refiner_free(b);
    return rv;
  }
  rv = new_value(&v, b);
  if (rv == 0 && b->marks != NULL) {
    rv = soupc__cty_with_marks(&v, v, b->marks);
  }
  if (rv != 0 && st != NULL) {
    *st = b->st;
  }
  refiner_free(b);
  if (rv != 0) {
    return rv;
  }
  *out = v;
  return 0;
}

int soupc_cty_value_refine_not_null(soupc_cty_value **out,
                                    const soupc_cty_value *v,
                                    soupc_status *st) {
  soupc_cty_refiner *b = NULL;
  int rv = soupc_cty_refine_begin(&b, v);

  if (rv != 0) {
    return rv;
  }
  soupc_cty_refine_not_null(b);
  return soupc_cty_refine_finish(out, b, st);
}
