/* go-cty's Value.Range and RefinementBuilder (cty/value_range.go,
 * cty/unknown_refinement.go) as the stdlib uses them: reading what is known
 * about a value, and refining an unknown result, including NewValue's
 * collapse of a fully-determined unknown into a known value.
 *
 * TODO(ctymodel): issue 13 brings Range/Refine to the value model; once it
 * lands these become thin calls into it. */
#include "ctyfunc/fn_int.h"

#include "base/alloc.h"

#include <string.h>

/* NewValue builds a list of this many unknowns for a length-refined list;
 * go-cty would try whatever it is told. */
#define FN_MAX_COLLAPSE ((int64_t)1 << 24)

void soupc__fn_range(struct fn_range *r, const struct soupc_cty_value *v) {
  memset(r, 0, sizeof(*r));
  r->ty = v->type;
  r->len_hi = INT64_MAX;
  switch (v->type->kind) {
  case SOUPC_CTY_STRING:
    r->kind = FN_R_STRING;
    break;
  case SOUPC_CTY_NUMBER:
    r->kind = FN_R_NUMBER;
    break;
  case SOUPC_CTY_LIST:
  case SOUPC_CTY_SET:
  case SOUPC_CTY_MAP:
    r->kind = FN_R_COLLECTION;
    break;
  case SOUPC_CTY_DYNAMIC:
    r->kind = FN_R_DYNAMIC;
    break;
  default:
    r->kind = FN_R_NULLABLE;
    break;
  }
  if (!soupc__fn_known(v)) {
    const struct cty_refine *f = v->refine;
    r->null = FN_TRI_UNKNOWN;
    if (f == NULL) {
      return;
    }
    r->null = f->null == CTY_TRI_FALSE  ? FN_TRI_FALSE
              : f->null == CTY_TRI_TRUE ? FN_TRI_TRUE
                                        : FN_TRI_UNKNOWN;
    if (f->kind == CTY_RF_STRING) {
      r->prefix = f->prefix;
      r->prefix_len = f->prefix != NULL ? f->prefix_len : 0;
    } else if (f->kind == CTY_RF_NUMBER) {
      r->min = f->min != NULL ? f->min->u.num : NULL;
      r->min_inc = f->min_inc;
      r->max = f->max != NULL ? f->max->u.num : NULL;
      r->max_inc = f->max_inc;
    } else if (f->kind == CTY_RF_COLLECTION) {
      r->len_lo = f->min_len;
      r->len_hi = f->max_len;
    }
    return;
  }
  if (soupc__fn_null_p(v)) {
    r->null = FN_TRI_TRUE;
    r->kind = FN_R_NULLABLE;
    return;
  }
  r->null = FN_TRI_FALSE;
  switch (r->kind) {
  case FN_R_STRING:
    r->prefix = v->u.str.s;
    r->prefix_len = v->u.str.len;
    break;
  case FN_R_NUMBER:
    r->min = r->max = v->u.num;
    r->min_inc = r->max_inc = true;
    break;
  case FN_R_COLLECTION:
    /* Value.Length: a set holding unknowns has no exact length. */
    if (v->type->kind != SOUPC_CTY_SET || v->u.c.n == 1 ||
        soupc__fn_wholly_known(v)) {
      r->len_lo = r->len_hi = (int64_t)v->u.c.n;
    }
    break;
  default:
    break;
  }
}

static struct cty_refine *wip(struct soupc_cty_value *v) {
  if (soupc__fn_known(v) || v->type->kind == SOUPC_CTY_DYNAMIC) {
    return NULL; /* NewValue returns the original; DynamicVal is opaque */
  }
  if (v->refine == NULL) {
    soupc_cty_kind k = v->type->kind;
    v->refine = soupc__calloc(1, sizeof(*v->refine));
    if (v->refine != NULL) {
      v->refine->kind =
          k == SOUPC_CTY_STRING   ? CTY_RF_STRING
          : k == SOUPC_CTY_NUMBER ? CTY_RF_NUMBER
          : (k == SOUPC_CTY_LIST || k == SOUPC_CTY_SET || k == SOUPC_CTY_MAP)
              ? CTY_RF_COLLECTION
              : CTY_RF_NULLABLE;
      v->refine->max_len = INT64_MAX;
    }
  }
  return v->refine;
}

int soupc__fn_rf_not_null(struct soupc_cty_value *v) {
  struct cty_refine *r;

  if (soupc__fn_known(v) || v->type->kind == SOUPC_CTY_DYNAMIC) {
    return 0;
  }
  r = wip(v);
  if (r == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  r->null = CTY_TRI_FALSE;
  return 0;
}

/* A number value holding a copy of @p src (bounds are values). */
static int num_value(struct soupc_cty_value **out, const struct cty_num *src) {
  struct cty_num *n;
  int rv = soupc__cty_val_number(out, &n);

  if (rv == 0) {
    mpfr_set(n->f, src->f, MPFR_RNDN);
    n->prec = src->prec;
  }
  return rv;
}

int soupc__fn_rf_lower(struct soupc_cty_value *v, const struct cty_num *min,
                       bool inclusive) {
  struct cty_refine *r;

  if (min == NULL || soupc__fn_known(v) || v->type->kind != SOUPC_CTY_NUMBER) {
    return 0;
  }
  r = wip(v);
  if (r == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  if (r->min != NULL) {
    int c = mpfr_cmp(min->f, r->min->u.num->f);
    bool ok = (inclusive && !r->min_inc) ? c > 0 : c >= 0;
    if (!ok) {
      return 0; /* the existing bound is tighter */
    }
  }
  if (mpfr_inf_p(min->f) && mpfr_signbit(min->f)) {
    return 0; /* NegativeInfinity is "no bound" */
  }
  soupc_cty_value_free(r->min);
  r->min = NULL;
  if (num_value(&r->min, min) != 0) {
    return SOUPC_ERR_NOMEM;
  }
  r->min_inc = inclusive;
  return 0;
}

int soupc__fn_rf_upper(struct soupc_cty_value *v, const struct cty_num *max,
                       bool inclusive) {
  struct cty_refine *r;

  if (max == NULL || soupc__fn_known(v) || v->type->kind != SOUPC_CTY_NUMBER) {
    return 0;
  }
  r = wip(v);
  if (r == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  if (r->max != NULL) {
    int c = mpfr_cmp(max->f, r->max->u.num->f);
    bool ok = (inclusive && !r->max_inc) ? c < 0 : c <= 0;
    if (!ok) {
      return 0;
    }
  }
  if (mpfr_inf_p(max->f) && !mpfr_signbit(max->f)) {
    return 0; /* PositiveInfinity is "no bound" */
  }
  soupc_cty_value_free(r->max);
  r->max = NULL;
  if (num_value(&r->max, max) != 0) {
    return SOUPC_ERR_NOMEM;
  }
  r->max_inc = inclusive;
  return 0;
}

static bool is_coll(const struct soupc_cty_value *v) {
  soupc_cty_kind k = v->type->kind;
  return k == SOUPC_CTY_LIST || k == SOUPC_CTY_SET || k == SOUPC_CTY_MAP;
}

int soupc__fn_rf_len_lo(struct soupc_cty_value *v, int64_t min) {
  struct cty_refine *r;

  if (soupc__fn_known(v) || !is_coll(v)) {
    return 0;
  }
  r = wip(v);
  if (r == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  if (r->min_len > min) {
    return 0;
  }
  r->min_len = min;
  return 0;
}

int soupc__fn_rf_len_hi(struct soupc_cty_value *v, int64_t max) {
  struct cty_refine *r;

  if (soupc__fn_known(v) || !is_coll(v)) {
    return 0;
  }
  r = wip(v);
  if (r == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  if (r->max_len < max) {
    return 0;
  }
  r->max_len = max;
  return 0;
}

int soupc__fn_rf_prefix_full(struct soupc_cty_value *v, const char *s,
                             size_t len) {
  struct cty_refine *r;
  char *p;
  size_t plen;

  if (soupc__fn_known(v) || v->type->kind != SOUPC_CTY_STRING) {
    return 0;
  }
  r = wip(v);
  if (r == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  p = soupc__cty_nfc(s, len, &plen);
  if (p == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  if (plen > r->prefix_len || r->prefix == NULL) {
    soupc__free(r->prefix);
    r->prefix = p;
    r->prefix_len = plen;
  } else {
    soupc__free(p);
  }
  return 0;
}

/* A collection value of @p n fresh unknowns of the element type. */
static int unknown_elems(struct soupc_cty_value **out,
                         const struct soupc_cty_type *t, int64_t n) {
  struct soupc_cty_value **items;
  int64_t i;
  int rv;

  if (n == 0) {
    *out = soupc__cty_val_alloc(soupc__cty_type_ref(t), 0);
    return *out == NULL ? SOUPC_ERR_NOMEM : 0;
  }
  if (n > FN_MAX_COLLAPSE) {
    return SOUPC_ERR_NOMEM;
  }
  items = FN_PTR_ARRAY(n);
  if (items == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  for (i = 0; i < n; i++) {
    rv = soupc_cty_value_unknown(&items[i], t->elem);
    if (rv != 0) {
      while (i > 0) {
        soupc_cty_value_free(items[--i]);
      }
      soupc__free(items);
      return rv;
    }
  }
  return soupc__cty_val_list(out, t->kind, t, items, (size_t)n, NULL);
}

int soupc__fn_rf_finish(struct soupc_cty_value **v) {
  struct soupc_cty_value *x = *v, *k = NULL;
  const struct cty_refine *r = x->refine;
  int rv;

  if (soupc__fn_known(x) || r == NULL || r->null != CTY_TRI_FALSE) {
    return 0;
  }
  if (x->type->kind == SOUPC_CTY_NUMBER) {
    /* min == max, both inclusive: the value is min itself. */
    if (r->min != NULL && r->max != NULL && r->min_inc && r->max_inc &&
        soupc__cty_num_equal(r->min->u.num, r->max->u.num) == 1) {
      k = soupc_cty_value_ref(r->min);
    }
  } else if (is_coll(x)) {
    int64_t lo = r->min_len;
    int64_t hi = r->max_len;
    soupc_cty_kind kind = x->type->kind;
    if (lo == hi && (lo == 0 || kind == SOUPC_CTY_LIST ||
                     (kind == SOUPC_CTY_SET && lo == 1))) {
      rv = unknown_elems(&k, x->type, lo);
      if (rv != 0) {
        return rv;
      }
    }
  }
  if (k != NULL) {
    /* TODO(ctymodel): NewValue re-applies the builder's marks. */
    soupc_cty_value_free(x);
    *v = k;
  }
  return 0;
}
