/* Value and type helpers the stdlib functions share: go-cty's constructors
 * (StringVal, ListVal, TupleVal, ObjectVal), gocty.FromCtyValue for the
 * numbers functions take, FriendlyName and the result refinement. */
#include "ctyfunc/fn_int.h"

#include "base/alloc.h"

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* ---- the parameter and result types ---- */

static struct soupc_cty_type *fn_types[FN_T_COUNT];
static pthread_once_t fn_types_once = PTHREAD_ONCE_INIT;

static struct soupc_cty_type *coll(soupc_cty_kind kind, soupc_cty_kind elem) {
  struct soupc_cty_type *t = NULL;

  /* Out of memory at start-up: leave NULL; soupc__fn_type() reports it. */
  if (soupc__cty_type_new_coll(&t, kind, soupc__cty_type_prim(elem)) != 0) {
    return NULL;
  }
  return t;
}

static void fn_types_init(void) {
  fn_types[FN_T_STRING] = soupc__cty_type_prim(SOUPC_CTY_STRING);
  fn_types[FN_T_NUMBER] = soupc__cty_type_prim(SOUPC_CTY_NUMBER);
  fn_types[FN_T_BOOL] = soupc__cty_type_prim(SOUPC_CTY_BOOL);
  fn_types[FN_T_DYNAMIC] = soupc__cty_type_prim(SOUPC_CTY_DYNAMIC);
  fn_types[FN_T_LIST_STRING] = coll(SOUPC_CTY_LIST, SOUPC_CTY_STRING);
  fn_types[FN_T_LIST_NUMBER] = coll(SOUPC_CTY_LIST, SOUPC_CTY_NUMBER);
  fn_types[FN_T_LIST_DYNAMIC] = coll(SOUPC_CTY_LIST, SOUPC_CTY_DYNAMIC);
  fn_types[FN_T_SET_DYNAMIC] = coll(SOUPC_CTY_SET, SOUPC_CTY_DYNAMIC);
  fn_types[FN_T_BYTES] = (struct soupc_cty_type *)soupc_cty_type_bytes();
}

const struct soupc_cty_type *soupc__fn_type(enum fn_type_id id) {
  pthread_once(&fn_types_once, fn_types_init);
  return fn_types[id];
}

/* ---- constructors ---- */

struct cty_num *soupc__fn_num_new(unsigned prec) {
  struct cty_num *n = soupc__malloc(sizeof(*n));

  if (n == NULL) {
    return NULL;
  }
  /* 512 bits of storage as number.c keeps, more when the Go precision
   * asks for it (integers from parseint, int). */
  mpfr_init2(n->f, prec > 512 ? (mpfr_prec_t)prec : 512);
  mpfr_set_zero(n->f, 1);
  n->prec = prec;
  return n;
}

int soupc__fn_str(struct soupc_cty_value **out, const char *s, size_t len) {
  return soupc__cty_val_string(out, s, len);
}

int soupc__fn_str_buf(struct soupc_cty_value **out, struct cty_buf *b) {
  int rv;

  if (b->oom) {
    soupc__cty_buf_dispose(b);
    return SOUPC_ERR_NOMEM;
  }
  rv = soupc__cty_val_string(out, b->len > 0 ? (const char *)b->p : "", b->len);
  soupc__cty_buf_dispose(b);
  return rv;
}

int soupc__fn_int(struct soupc_cty_value **out, int64_t i) {
  return soupc_cty_value_number_int(out, i);
}

int soupc__fn_bool(struct soupc_cty_value **out, bool b) {
  *out = soupc__cty_bool_val(b); /* cty.True / cty.False, immortal */
  return 0;
}

int soupc__fn_null(struct soupc_cty_value **out,
                   const struct soupc_cty_type *t) {
  return soupc_cty_value_null(out, t);
}

int soupc__fn_unknown(struct soupc_cty_value **out,
                      const struct soupc_cty_type *t) {
  if (t->kind == SOUPC_CTY_DYNAMIC) {
    *out = soupc__cty_dynamic_val();
    return 0;
  }
  return soupc_cty_value_unknown(out, t);
}

int soupc__fn_dup(struct soupc_cty_value **out,
                  const struct soupc_cty_value *v) {
  *out = soupc__cty_val_ref(v); /* values are immutable and shared */
  return 0;
}

int soupc__fn_list_type(struct soupc_cty_type **out,
                        const struct soupc_cty_type *elem) {
  return soupc__cty_type_new_coll(out, SOUPC_CTY_LIST,
                                  soupc__cty_type_ref(elem));
}

int soupc__fn_list(struct soupc_cty_value **out,
                   const struct soupc_cty_type *elem,
                   struct soupc_cty_value **items, size_t n) {
  if (n == 0) {
    soupc__free(items);
    return soupc__cty_empty_coll(out, SOUPC_CTY_LIST, elem);
  }
  return soupc__cty_list_val(out, SOUPC_CTY_LIST, items, n, NULL);
}

int soupc__fn_tuple(struct soupc_cty_value **out,
                    struct soupc_cty_value **items, size_t n) {
  return soupc__cty_tuple_val(out, items, n);
}

int soupc__fn_object(struct soupc_cty_value **out, const char *const *names,
                     const size_t *name_lens, struct soupc_cty_value **items,
                     size_t n) {
  char **nm = FN_PTR_ARRAY(n);
  size_t *lens = soupc__calloc(n + 1, sizeof(*lens));
  size_t i;

  if (nm == NULL || lens == NULL) {
    goto nomem;
  }
  for (i = 0; i < n; i++) {
    nm[i] = soupc__strndup(names[i], name_lens[i]);
    lens[i] = name_lens[i];
    if (nm[i] == NULL) {
      goto nomem;
    }
  }
  return soupc__cty_object_val(out, nm, lens, items, n);
nomem:
  if (nm != NULL) {
    for (i = 0; i < n; i++) {
      soupc__free(nm[i]);
    }
  }
  soupc__free(nm);
  soupc__free(lens);
  for (i = 0; i < n; i++) {
    soupc_cty_value_free(items[i]);
  }
  soupc__free(items);
  return SOUPC_ERR_NOMEM;
}

int soupc__fn_tuple_type_n(struct soupc_cty_type **out,
                           const struct soupc_cty_type *elem, size_t n) {
  struct soupc_cty_type **ts = FN_PTR_ARRAY(n);
  size_t i;
  int rv;

  if (ts == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  for (i = 0; i < n; i++) {
    ts[i] = soupc__cty_type_ref(elem);
  }
  rv = soupc__cty_type_new_tuple(out, ts, n);
  soupc__free(ts);
  return rv;
}

int soupc__fn_object_type_str(struct soupc_cty_type **out,
                              const char *const *names, const size_t *lens,
                              size_t n) {
  struct soupc_cty_type **ts = FN_PTR_ARRAY(n);
  char **nm = FN_PTR_ARRAY(n);
  size_t *ln = soupc__calloc(n + 1, sizeof(*ln));
  size_t i;
  int rv = SOUPC_ERR_NOMEM;

  if (ts == NULL || nm == NULL || ln == NULL) {
    goto fail;
  }
  for (i = 0; i < n; i++) {
    nm[i] = soupc__strndup(names[i], lens[i]);
    if (nm[i] == NULL) {
      goto fail;
    }
    ln[i] = lens[i];
    ts[i] = soupc__cty_type_prim(SOUPC_CTY_STRING);
  }
  rv = soupc__cty_type_new_object(out, nm, ln, ts, NULL, n);
  soupc__free(nm);
  soupc__free(ts);
  soupc__free(ln);
  return rv;
fail:
  if (nm != NULL) {
    for (i = 0; i < n; i++) {
      soupc__free(nm[i]);
    }
  }
  soupc__free(nm);
  soupc__free(ts);
  soupc__free(ln);
  return rv;
}

/* ---- predicates ---- */

bool soupc__fn_known(const struct soupc_cty_value *v) {
  return cty_is_known(v);
}

bool soupc__fn_null_p(const struct soupc_cty_value *v) {
  return cty_is_null(v);
}

bool soupc__fn_wholly_known(const struct soupc_cty_value *v) {
  return soupc__cty_wholly_known(v);
}

int soupc__fn_status(struct fn_ctx *c, long arg, int rv,
                     const soupc_status *st) {
  if (rv == 0 || rv == SOUPC_ERR_NOMEM) {
    return rv;
  }
  if (rv == SOUPC_ERR_CTY_PANIC) {
    /* function.Call recovers the panic and reports it (without Go's
     * stack trace here). */
    return soupc__fn_fail(c, arg, "panic in function implementation: %s",
                          st->message);
  }
  return soupc__fn_fail(c, arg, "%s", st->message);
}

/* ---- gocty.FromCtyValue for Go's int and float64 ---- */

int soupc__fn_to_int(int64_t *out, struct fn_ctx *c, long arg,
                     const struct soupc_cty_value *v, const char *prefix) {
  const char *p = prefix != NULL ? prefix : "";

  if (soupc__fn_null_p(v)) {
    return soupc__fn_fail(c, arg, "%snull value is not allowed", p);
  }
  if (!soupc__fn_known(v)) {
    return soupc__fn_fail(c, arg, "%svalue must be known", p);
  }
  if (v->type->kind != SOUPC_CTY_NUMBER) {
    return soupc__fn_fail(c, arg, "%snumber value is required", p);
  }
  /* big.Float.Int64: exact only for an integer within int64. */
  if (!soupc__cty_num_int64(v->u.num, out)) {
    return soupc__fn_fail(c, arg,
                          "%svalue must be a whole number, between "
                          "-9223372036854775808 and 9223372036854775807",
                          p);
  }
  return 0;
}

int soupc__fn_to_float(double *out, struct fn_ctx *c, long arg,
                       const struct soupc_cty_value *v) {
  double d;

  if (soupc__fn_null_p(v)) {
    return soupc__fn_fail(c, arg, "null value is not allowed");
  }
  if (!soupc__fn_known(v)) {
    return soupc__fn_fail(c, arg, "value must be known");
  }
  /* big.Float.Float64 rounds to nearest even; only a result that
   * overflowed to an infinity (from a finite value) is refused. */
  d = mpfr_get_d(v->u.num->f, MPFR_RNDN);
  if (isinf(d) && !mpfr_inf_p(v->u.num->f)) {
    return soupc__fn_fail(c, arg, "value must be between %f and %f inclusive",
                          -DBL_MAX, DBL_MAX);
  }
  *out = d;
  return 0;
}

/* ---- names of types ---- */

void soupc__fn_friendly(struct cty_buf *b, const struct soupc_cty_type *t,
                        bool constraint) {
  soupc__cty_type_friendly(b, t, constraint);
}
