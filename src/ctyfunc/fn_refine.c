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
    r->null = f->not_null ? FN_TRI_FALSE : FN_TRI_UNKNOWN;
    r->prefix = f->prefix;
    r->prefix_len = f->prefix != NULL ? f->prefix_len : 0;
    r->min = f->has_lower ? &f->lower : NULL;
    r->min_inc = f->lower_incl;
    r->max = f->has_upper ? &f->upper : NULL;
    r->max_inc = f->upper_incl;
    r->len_lo = f->has_len_lo ? f->len_lo : 0;
    r->len_hi = f->has_len_hi ? f->len_hi : INT64_MAX;
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
    v->refine = soupc__calloc(1, sizeof(*v->refine));
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
  r->not_null = true;
  return 0;
}

static void num_set(struct cty_num *dst, const struct cty_num *src) {
  mpfr_init2(dst->f, 512);
  mpfr_set(dst->f, src->f, MPFR_RNDN);
  dst->prec = src->prec;
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
  if (r->has_lower) {
    int c = mpfr_cmp(min->f, r->lower.f);
    bool ok = (inclusive && !r->lower_incl) ? c > 0 : c >= 0;
    if (!ok) {
      return 0; /* the existing bound is tighter */
    }
  }
  if (mpfr_inf_p(min->f) && mpfr_signbit(min->f)) {
    return 0; /* NegativeInfinity is "no bound" */
  }
  if (r->has_lower) {
    mpfr_clear(r->lower.f);
  }
  num_set(&r->lower, min);
  r->lower_incl = inclusive;
  r->has_lower = true;
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
  if (r->has_upper) {
    int c = mpfr_cmp(max->f, r->upper.f);
    bool ok = (inclusive && !r->upper_incl) ? c < 0 : c <= 0;
    if (!ok) {
      return 0;
    }
  }
  if (mpfr_inf_p(max->f) && !mpfr_signbit(max->f)) {
    return 0; /* PositiveInfinity is "no bound" */
  }
  if (r->has_upper) {
    mpfr_clear(r->upper.f);
  }
  num_set(&r->upper, max);
  r->upper_incl = inclusive;
  r->has_upper = true;
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
  if ((r->has_len_lo ? r->len_lo : 0) > min) {
    return 0;
  }
  r->len_lo = min;
  r->has_len_lo = true;
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
  if ((r->has_len_hi ? r->len_hi : INT64_MAX) < max) {
    return 0;
  }
  r->len_hi = max;
  r->has_len_hi = max != INT64_MAX;
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

  if (soupc__fn_known(x) || r == NULL || !r->not_null) {
    return 0;
  }
  if (x->type->kind == SOUPC_CTY_NUMBER) {
    /* min == max, both inclusive: the value is min itself. */
    if (r->has_lower && r->has_upper && r->lower_incl && r->upper_incl &&
        soupc__cty_num_equal(&r->lower, &r->upper) == 1) {
      k = soupc__cty_val_alloc(soupc__cty_type_ref(x->type), 0);
      if (k == NULL) {
        return SOUPC_ERR_NOMEM;
      }
      k->u.num = soupc__cty_num_dup(&r->lower);
      if (k->u.num == NULL) {
        soupc_cty_value_free(k);
        return SOUPC_ERR_NOMEM;
      }
    }
  } else if (is_coll(x)) {
    int64_t lo = r->has_len_lo ? r->len_lo : 0;
    int64_t hi = r->has_len_hi ? r->len_hi : INT64_MAX;
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
