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
  /* TODO(ctymodel): stdlib.Bytes once capsule types land. */
  fn_types[FN_T_BYTES] = NULL;
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
  return soupc_cty_value_bool(out, b);
}

int soupc__fn_null(struct soupc_cty_value **out,
                   const struct soupc_cty_type *t) {
  return soupc_cty_value_null(out, t);
}

int soupc__fn_unknown(struct soupc_cty_value **out,
                      const struct soupc_cty_type *t) {
  return soupc_cty_value_unknown(out, t);
}

static struct cty_refine *refine_dup(const struct cty_refine *r) {
  return soupc__cty_refine_dup(r);
}

/* Copies the collection payload of @p v into @p d. */
/* NOLINTNEXTLINE(misc-no-recursion): values nest at most CTY_MAX_DEPTH */
static int dup_items(struct soupc_cty_value *d,
                     const struct soupc_cty_value *v) {
  size_t i, n = v->u.c.n;

  d->u.c.items = FN_PTR_ARRAY(n);
  if (d->u.c.items == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  if (v->u.c.keys != NULL) {
    d->u.c.keys = FN_PTR_ARRAY(n);
    d->u.c.key_lens = soupc__calloc(n + 1, sizeof(*d->u.c.key_lens));
    if (d->u.c.keys == NULL || d->u.c.key_lens == NULL) {
      return SOUPC_ERR_NOMEM;
    }
  }
  for (i = 0; i < n; i++) {
    int rv = soupc__fn_dup(&d->u.c.items[i], v->u.c.items[i]);
    if (rv != 0) {
      return rv;
    }
    d->u.c.n = i + 1;
    if (v->u.c.keys != NULL) {
      d->u.c.keys[i] = soupc__strndup(v->u.c.keys[i], v->u.c.key_lens[i]);
      if (d->u.c.keys[i] == NULL) {
        return SOUPC_ERR_NOMEM;
      }
      d->u.c.key_lens[i] = v->u.c.key_lens[i];
    }
  }
  return 0;
}

/* NOLINTNEXTLINE(misc-no-recursion): values nest at most CTY_MAX_DEPTH */
int soupc__fn_dup(struct soupc_cty_value **out,
                  const struct soupc_cty_value *v) {
  struct soupc_cty_value *d;
  int rv = 0;

  if (v->type->kind == SOUPC_CTY_STRING && (v->flags & CTY_V_NULL) == 0 &&
      (v->flags & CTY_V_UNKNOWN) == 0) {
    return soupc__cty_val_string(out, v->u.str.s, v->u.str.len);
  }
  /* Values are immutable and shared since the value model became
   * reference-counted; marked values and capsules are shared as they are
   * (their payloads cannot be copied). */
  if (v->flags & CTY_V_MARKED || v->type->kind == SOUPC_CTY_CAPSULE ||
      v->refs < 0) {
    *out = soupc_cty_value_ref(v);
    return 0;
  }
  d = soupc__cty_val_alloc(soupc__cty_type_ref(v->type),
                           v->flags & ~CTY_V_INLINE);
  if (d == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  if (v->refine != NULL) {
    d->refine = refine_dup(v->refine);
    if (d->refine == NULL) {
      soupc_cty_value_free(d);
      return SOUPC_ERR_NOMEM;
    }
  }
  if ((v->flags & (CTY_V_NULL | CTY_V_UNKNOWN)) == 0) {
    switch (v->type->kind) {
    case SOUPC_CTY_NUMBER:
      d->u.num = soupc__fn_num_new(v->u.num->prec);
      if (d->u.num != NULL) {
        mpfr_set(d->u.num->f, v->u.num->f, MPFR_RNDN);
      }
      rv = d->u.num == NULL ? SOUPC_ERR_NOMEM : 0;
      break;
    case SOUPC_CTY_BOOL:
      d->u.b = v->u.b;
      break;
    case SOUPC_CTY_STRING:
    case SOUPC_CTY_DYNAMIC:
      break;
    default:
      rv = dup_items(d, v);
      break;
    }
  }
  if (rv != 0) {
    soupc_cty_value_free(d);
    return rv;
  }
  *out = d;
  return 0;
}

static void free_items(struct soupc_cty_value **items, size_t n) {
  size_t i;

  for (i = 0; i < n; i++) {
    soupc_cty_value_free(items[i]);
  }
  soupc__free(items);
}

int soupc__fn_list_type(struct soupc_cty_type **out,
                        const struct soupc_cty_type *elem) {
  return soupc__cty_type_new_coll(out, SOUPC_CTY_LIST,
                                  soupc__cty_type_ref(elem));
}

int soupc__fn_list(struct soupc_cty_value **out,
                   const struct soupc_cty_type *elem,
                   struct soupc_cty_value **items, size_t n) {
  struct soupc_cty_type *t = NULL;
  struct soupc_cty_value *v;
  int rv;

  /* cty.ListVal: the first element not of dynamic type decides. */
  if (n > 0) {
    size_t i;
    for (i = 0; i < n; i++) {
      if (items[i]->type->kind != SOUPC_CTY_DYNAMIC) {
        elem = items[i]->type;
        break;
      }
    }
  }
  rv = soupc__fn_list_type(&t, elem);
  if (rv != 0) {
    free_items(items, n);
    return rv;
  }
  if (n == 0) {
    soupc__free(items);
    items = NULL;
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

int soupc__fn_tuple(struct soupc_cty_value **out,
                    struct soupc_cty_value **items, size_t n) {
  struct soupc_cty_type **ts, *t = NULL;
  struct soupc_cty_value *v;
  size_t i;
  int rv;

  ts = FN_PTR_ARRAY(n);
  if (ts == NULL) {
    free_items(items, n);
    return SOUPC_ERR_NOMEM;
  }
  for (i = 0; i < n; i++) {
    ts[i] = soupc__cty_type_ref(items[i]->type);
  }
  rv = soupc__cty_type_new_tuple(&t, ts, n);
  soupc__free(ts);
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

int soupc__fn_object(struct soupc_cty_value **out, const char *const *names,
                     const size_t *name_lens, struct soupc_cty_value **items,
                     size_t n) {
  struct soupc_cty_type **ts = NULL, *t = NULL;
  struct soupc_cty_value *v;
  char **nm = NULL;
  size_t *lens = NULL;
  size_t i;
  int rv = SOUPC_ERR_NOMEM;

  ts = FN_PTR_ARRAY(n);
  nm = FN_PTR_ARRAY(n);
  lens = soupc__calloc(n + 1, sizeof(*lens));
  if (ts == NULL || nm == NULL || lens == NULL) {
    goto fail;
  }
  for (i = 0; i < n; i++) {
    nm[i] = soupc__strndup(names[i], name_lens[i]);
    if (nm[i] == NULL) {
      goto fail;
    }
    lens[i] = name_lens[i];
    ts[i] = soupc__cty_type_ref(items[i]->type);
  }
  rv = soupc__cty_type_new_object(&t, nm, lens, ts, NULL, n);
  nm = NULL; /* taken, even on failure */
  ts = NULL;
  if (rv != 0) {
    goto fail;
  }
  soupc__free(lens);
  v = soupc__cty_val_alloc(t, 0);
  if (v == NULL) {
    free_items(items, n);
    return SOUPC_ERR_NOMEM;
  }
  v->u.c.items = items;
  v->u.c.n = n;
  *out = v;
  return 0;
fail:
  if (nm != NULL) {
    for (i = 0; i < n; i++) {
      soupc__free(nm[i]);
      soupc_cty_type_free(ts[i]);
    }
  }
  soupc__free(nm);
  soupc__free(ts);
  soupc__free(lens);
  free_items(items, n);
  return rv;
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
  return (v->flags & CTY_V_UNKNOWN) == 0;
}

bool soupc__fn_null_p(const struct soupc_cty_value *v) {
  return (v->flags & CTY_V_NULL) != 0;
}

/* NOLINTNEXTLINE(misc-no-recursion): values nest at most CTY_MAX_DEPTH */
bool soupc__fn_wholly_known(const struct soupc_cty_value *v) {
  size_t i;

  if ((v->flags & CTY_V_UNKNOWN) != 0) {
    return false;
  }
  if ((v->flags & CTY_V_NULL) != 0 || v->type->kind < SOUPC_CTY_LIST) {
    return true;
  }
  for (i = 0; i < v->u.c.n; i++) {
    if (!soupc__fn_wholly_known(v->u.c.items[i])) {
      return false;
    }
  }
  return true;
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

/* NOLINTNEXTLINE(misc-no-recursion): values nest at most CTY_MAX_DEPTH */
void soupc__fn_friendly(struct cty_buf *b, const struct soupc_cty_type *t,
                        bool constraint) {
  if (t->kind == SOUPC_CTY_CAPSULE) {
    soupc__cty_type_friendly(b, t, constraint); /* the capsule's name */
    return;
  }
  switch (t->kind) {
  case SOUPC_CTY_STRING:
    soupc__cty_buf_puts(b, "string");
    return;
  case SOUPC_CTY_NUMBER:
    soupc__cty_buf_puts(b, "number");
    return;
  case SOUPC_CTY_BOOL:
    soupc__cty_buf_puts(b, "bool");
    return;
  case SOUPC_CTY_DYNAMIC:
    soupc__cty_buf_puts(b, constraint ? "any type" : "dynamic");
    return;
  case SOUPC_CTY_LIST:
  case SOUPC_CTY_SET:
  case SOUPC_CTY_MAP:
    soupc__cty_buf_puts(b, t->kind == SOUPC_CTY_LIST  ? "list of "
                           : t->kind == SOUPC_CTY_SET ? "set of "
                                                      : "map of ");
    if (constraint && t->elem->kind == SOUPC_CTY_DYNAMIC) {
      soupc__cty_buf_puts(b, "any single type");
    } else {
      soupc__fn_friendly(b, t->elem, constraint);
    }
    return;
  case SOUPC_CTY_TUPLE:
    soupc__cty_buf_puts(b, "tuple");
    return;
  case SOUPC_CTY_OBJECT:
    soupc__cty_buf_puts(b, "object");
    return;
  case SOUPC_CTY_CAPSULE:
    return;
  }
}
