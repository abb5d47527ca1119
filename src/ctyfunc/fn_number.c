/* go-cty stdlib number, comparison and bool functions
 * (cty/function/stdlib/number.go, bool.go) and the cty Value operations
 * under them (cty/value_ops.go): Go *big.Float arithmetic on MPFR at each
 * value's Go precision, round half to even, as math/big does. */
#include "ctyfunc/fn_int.h"

#include "base/alloc.h"

#include <gmp.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static const struct cty_num *num(const struct soupc_cty_value *v) {
  return v->u.num;
}

static unsigned max_prec(unsigned a, unsigned b) {
  return a > b ? a : b;
}

/* A number value holding x exactly, with Go precision @p prec. */
static int num_val(struct soupc_cty_value **out, mpfr_srcptr x, unsigned prec) {
  struct soupc_cty_value *v;
  struct cty_num *n = soupc__fn_num_new(prec);

  if (n == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  mpfr_set(n->f, x, MPFR_RNDN);
  v = soupc__cty_val_alloc(soupc__cty_type_prim(SOUPC_CTY_NUMBER), 0);
  if (v == NULL) {
    soupc__cty_num_free(n);
    return SOUPC_ERR_NOMEM;
  }
  v->u.num = n;
  *out = v;
  return 0;
}

static int float_val(struct soupc_cty_value **out, struct fn_ctx *c, double d) {
  if (isnan(d)) {
    /* cty.NumberFloatVal(NaN): big.Float.SetFloat64 panics. */
    return soupc__fn_fail(c, -1,
                          "panic in function implementation: "
                          "Float.SetFloat64(NaN)");
  }
  return soupc_cty_value_number_float(out, d);
}

/* Go precision 0 (the infinities and a zero Float) counts as 64 where a
 * result takes its operands' precision. */
static void go_exp_range(void) {
  mpfr_set_emin((mpfr_exp_t)INT32_MIN);
  mpfr_set_emax((mpfr_exp_t)INT32_MAX);
}

enum arith {
  OP_ADD,
  OP_SUB,
  OP_DIV
};

/* big.Float Add/Sub/Quo into a new Float (precision max of the two). */
static int arith(struct soupc_cty_value **out, struct fn_ctx *c, enum arith op,
                 const struct cty_num *a, const struct cty_num *b,
                 const char *nan_msg) {
  unsigned prec = max_prec(a->prec, b->prec);
  mpfr_t r;
  int rv;

  go_exp_range();
  mpfr_init2(r, prec > 0 ? prec : 64);
  switch (op) {
  case OP_ADD:
    mpfr_add(r, a->f, b->f, MPFR_RNDN);
    break;
  case OP_SUB:
    mpfr_sub(r, a->f, b->f, MPFR_RNDN);
    break;
  case OP_DIV:
    mpfr_div(r, a->f, b->f, MPFR_RNDN);
    break;
  }
  if (mpfr_nan_p(r)) {
    mpfr_clear(r);
    return soupc__fn_fail(c, -1, "%s", nan_msg);
  }
  rv = num_val(out, r, prec);
  mpfr_clear(r);
  return rv;
}

/* cty Value.Multiply: a 512-bit product, kept at the larger operand
 * precision or the product's minimum precision, whichever is more. */
static int multiply(struct soupc_cty_value **out, struct fn_ctx *c,
                    const struct cty_num *a, const struct cty_num *b,
                    const char *nan_msg) {
  unsigned prec = max_prec(a->prec, b->prec);
  mpfr_t r;
  int rv;

  go_exp_range();
  mpfr_init2(r, 512);
  mpfr_mul(r, a->f, b->f, MPFR_RNDN);
  if (mpfr_nan_p(r)) {
    mpfr_clear(r);
    return soupc__fn_fail(c, -1, "%s", nan_msg);
  }
  if (mpfr_number_p(r) && !mpfr_zero_p(r)) {
    prec = max_prec(prec, (unsigned)mpfr_min_prec(r));
  }
  rv = num_val(out, r, prec);
  mpfr_clear(r);
  return rv;
}

int soupc__fn_num_add(struct soupc_cty_value **out, struct fn_ctx *c,
                      const struct soupc_cty_value *a,
                      const struct soupc_cty_value *b, const char *nan_msg) {
  return arith(out, c, OP_ADD, num(a), num(b), nan_msg);
}

static int add_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                    struct soupc_cty_value *const *a, size_t n,
                    const struct soupc_cty_type *ret) {
  return arith(out, c, OP_ADD, num(a[0]), num(a[1]),
               "can't compute sum of opposing infinities");
}

static int subtract_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                         struct soupc_cty_value *const *a, size_t n,
                         const struct soupc_cty_type *ret) {
  /* val.Add(other.Negate()): the same rounding as a subtraction. */
  return arith(out, c, OP_SUB, num(a[0]), num(a[1]),
               "can't subtract infinity from itself");
}

static int multiply_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                         struct soupc_cty_value *const *a, size_t n,
                         const struct soupc_cty_type *ret) {
  return multiply(out, c, num(a[0]), num(a[1]),
                  "can't multiply zero by infinity");
}

static int divide_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                       struct soupc_cty_value *const *a, size_t n,
                       const struct soupc_cty_type *ret) {
  return arith(out, c, OP_DIV, num(a[0]), num(a[1]),
               "can't divide zero by zero or infinity by infinity");
}

/* cty Value.Modulo. */
static int modulo_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                       struct soupc_cty_value *const *a, size_t n,
                       const struct soupc_cty_type *ret) {
  const struct cty_num *x = num(a[0]), *y = num(a[1]);
  unsigned px = x->prec > 0 ? x->prec : 64;
  mpfr_t rat, work;
  mpz_t i;
  int rv;

  if (mpfr_inf_p(x->f) || mpfr_inf_p(y->f)) {
    return multiply(out, c, x, y, "can't use modulo with zero and infinity");
  }
  if (mpfr_zero_p(y->f)) {
    return soupc__fn_dup(out, a[0]);
  }
  go_exp_range();
  mpfr_init2(rat, max_prec(px, y->prec));
  mpfr_div(rat, x->f, y->f, MPFR_RNDN);
  mpz_init(i);
  mpfr_get_z(i, rat, MPFR_RNDZ); /* big.Float.Int truncates */
  mpfr_init2(work, px);
  mpfr_set_z(work, i, MPFR_RNDN); /* Copy(v).SetInt: rounds to v's prec */
  mpfr_mul(work, y->f, work, MPFR_RNDN);
  mpfr_sub(work, x->f, work, MPFR_RNDN);
  rv = num_val(out, work, x->prec);
  mpfr_clear(work);
  mpfr_clear(rat);
  mpz_clear(i);
  return rv;
}

/* Value.Absolute / Value.Negate: the operand's own marks carry over. */
static int sign_op(struct soupc_cty_value **out,
                   const struct soupc_cty_value *v, bool negate) {
  const struct cty_num *x = num(cty_unmarked(v));
  struct soupc_cty_value *r = NULL;
  mpfr_t t;
  int rv;

  mpfr_init2(t, mpfr_get_prec(x->f));
  if (negate) {
    mpfr_neg(t, x->f, MPFR_RNDN);
  } else {
    mpfr_abs(t, x->f, MPFR_RNDN);
  }
  rv = num_val(&r, t, x->prec);
  mpfr_clear(t);
  if (rv != 0) {
    return rv;
  }
  return soupc__cty_with_marks(out, r, cty_is_marked(v) ? v->u.mk.marks : NULL);
}

static int abs_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                    struct soupc_cty_value *const *a, size_t n,
                    const struct soupc_cty_type *ret) {
  return sign_op(out, a[0], false);
}

static int negate_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                       struct soupc_cty_value *const *a, size_t n,
                       const struct soupc_cty_type *ret) {
  return sign_op(out, a[0], true);
}

/* A number from the integer @p i: big.Float.SetInt into a new Float. */
static int int_val(struct soupc_cty_value **out, const mpz_t i) {
  size_t bits = mpz_sgn(i) == 0 ? 0 : mpz_sizeinbase(i, 2);
  unsigned prec = bits > 64 ? (unsigned)bits : 64;
  mpfr_t r;
  int rv;

  mpfr_init2(r, prec);
  mpfr_set_z(r, i, MPFR_RNDN);
  rv = num_val(out, r, prec);
  mpfr_clear(r);
  return rv;
}

static int int_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                    struct soupc_cty_value *const *a, size_t n,
                    const struct soupc_cty_type *ret) {
  const struct cty_num *x = num(a[0]);
  mpz_t i;
  int rv;

  if (mpfr_zero_p(x->f) || (mpfr_number_p(x->f) && mpfr_integer_p(x->f))) {
    return soupc__fn_dup(out, a[0]);
  }
  if (mpfr_inf_p(x->f)) {
    /* big.Float.Int of an infinity is nil; SetInt(nil) dereferences it. */
    return soupc__fn_fail(c, -1,
                          "panic in function implementation: runtime error: "
                          "invalid memory address or nil pointer dereference");
  }
  mpz_init(i);
  mpfr_get_z(i, x->f, MPFR_RNDZ);
  rv = int_val(out, i);
  mpz_clear(i);
  return rv;
}

/* ceil / floor: f.SetInt(i) keeps f's precision, so i is rounded to it. */
static int round_int(struct soupc_cty_value **out,
                     struct soupc_cty_value *const *a, mpfr_rnd_t dir) {
  const struct cty_num *x = num(a[0]);
  unsigned prec = x->prec > 0 ? x->prec : 64;
  mpfr_t r;
  mpz_t i;
  int rv;

  if (mpfr_inf_p(x->f)) {
    return soupc__fn_dup(out, a[0]);
  }
  mpz_init(i);
  mpfr_get_z(i, x->f, dir);
  mpfr_init2(r, prec);
  mpfr_set_z(r, i, MPFR_RNDN);
  rv = num_val(out, r, x->prec);
  mpfr_clear(r);
  mpz_clear(i);
  return rv;
}

static int ceil_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                     struct soupc_cty_value *const *a, size_t n,
                     const struct soupc_cty_type *ret) {
  return round_int(out, a, MPFR_RNDU);
}

static int floor_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                      struct soupc_cty_value *const *a, size_t n,
                      const struct soupc_cty_type *ret) {
  return round_int(out, a, MPFR_RNDD);
}

static int log_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                    struct soupc_cty_value *const *a, size_t n,
                    const struct soupc_cty_type *ret) {
  double x, base;
  int rv = soupc__fn_to_float(&x, c, -1, a[0]);

  if (rv == 0) {
    rv = soupc__fn_to_float(&base, c, -1, a[1]);
  }
  if (rv != 0) {
    return rv;
  }
  return float_val(out, c, soupc__fn_go_log(x) / soupc__fn_go_log(base));
}

static int pow_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                    struct soupc_cty_value *const *a, size_t n,
                    const struct soupc_cty_type *ret) {
  double x, y;
  int rv = soupc__fn_to_float(&x, c, -1, a[0]);

  if (rv == 0) {
    rv = soupc__fn_to_float(&y, c, -1, a[1]);
  }
  if (rv != 0) {
    return rv;
  }
  return float_val(out, c, soupc__fn_go_pow(x, y));
}

static int signum_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                       struct soupc_cty_value *const *a, size_t n,
                       const struct soupc_cty_type *ret) {
  int64_t i;
  int rv = soupc__fn_to_int(&i, c, -1, a[0], NULL);

  if (rv != 0) {
    return rv;
  }
  return soupc__fn_int(out, i < 0 ? -1 : (i > 0 ? 1 : 0));
}

/* min/max: start from +Inf (min) or -Inf (max); each strictly better
 * argument replaces the current one. */
static int minmax(struct soupc_cty_value **out, struct fn_ctx *c,
                  struct soupc_cty_value *const *a, size_t n, int want) {
  const struct soupc_cty_value *best = NULL;
  size_t i;

  if (n == 0) {
    return soupc__fn_fail(c, -1, "must pass at least one number");
  }
  for (i = 0; i < n; i++) {
    mpfr_srcptr x = num(a[i])->f;
    bool better;
    if (best == NULL) {
      /* better than the starting infinity unless it is that infinity */
      better = !(mpfr_inf_p(x) && (mpfr_signbit(x) != 0) == (want > 0));
    } else {
      int cmp = mpfr_cmp(x, num(best)->f);
      better = want < 0 ? cmp < 0 : cmp > 0;
    }
    if (better) {
      best = a[i];
    }
  }
  if (best == NULL) {
    struct soupc_cty_value *v = NULL;
    int rv = soupc_cty_value_number_int(&v, 0);
    if (rv != 0) {
      return rv;
    }
    mpfr_set_inf(v->u.num->f, want < 0 ? 1 : -1);
    v->u.num->prec = 0; /* cty.PositiveInfinity / NegativeInfinity */
    *out = v;
    return 0;
  }
  return soupc__fn_dup(out, best);
}

static int min_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                    struct soupc_cty_value *const *a, size_t n,
                    const struct soupc_cty_type *ret) {
  return minmax(out, c, a, n, -1);
}

static int max_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                    struct soupc_cty_value *const *a, size_t n,
                    const struct soupc_cty_type *ret) {
  return minmax(out, c, a, n, 1);
}

static int parseint_type(struct soupc_cty_type **out, struct fn_ctx *c,
                         struct soupc_cty_value *const *a, size_t n) {
  if (a[0]->type->kind != SOUPC_CTY_STRING) {
    struct cty_buf b;
    soupc__cty_buf_init(&b);
    soupc__cty_buf_puts(&b, "first argument must be a string, not ");
    soupc__fn_friendly(&b, a[0]->type, false);
    return soupc__fn_fail_buf(c, 0, &b);
  }
  *out = soupc__cty_type_prim(SOUPC_CTY_NUMBER);
  return 0;
}

/* big.Int.SetString digit values: 0-9, then a-z (and A-Z the same for
 * bases up to 36), then A-Z as 36..61. @return the digit or 99. */
static int go_digit(char ch, int base) {
  if (ch >= '0' && ch <= '9') {
    return ch - '0';
  }
  if (ch >= 'a' && ch <= 'z') {
    return ch - 'a' + 10;
  }
  if (ch >= 'A' && ch <= 'Z') {
    return base <= 36 ? ch - 'A' + 10 : ch - 'A' + 36;
  }
  return 99;
}

static int parseint_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                         struct soupc_cty_value *const *a, size_t n,
                         const struct soupc_cty_type *ret) {
  const char *s = a[0]->u.str.s;
  size_t len = a[0]->u.str.len, i = 0;
  int64_t base;
  bool neg = false;
  mpz_t v;
  int rv;

  rv = soupc__fn_to_int(&base, c, 1, a[1], NULL);
  if (rv != 0) {
    return rv;
  }
  if (base < 2 || base > 62) {
    return soupc__fn_fail(
        c, 1, "base must be a whole number between 2 and 62 inclusive");
  }
  if (len > 0 && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    i = 1;
  }
  rv = i < len ? 0 : -1;
  mpz_init(v);
  for (; i < len && rv == 0; i++) {
    int d = go_digit(s[i], (int)base);
    if (d >= base) {
      rv = -1;
      break;
    }
    mpz_mul_ui(v, v, (unsigned long)base);
    mpz_add_ui(v, v, (unsigned long)d);
  }
  if (rv != 0) {
    struct cty_buf b;
    char t[48];
    mpz_clear(v);
    soupc__cty_buf_init(&b);
    soupc__cty_buf_puts(&b, "cannot parse ");
    soupc__cty_go_quote(&b, s, len);
    snprintf(t, sizeof(t), " as a base %lld integer", (long long)base);
    soupc__cty_buf_puts(&b, t);
    return soupc__fn_fail_buf(c, 0, &b);
  }
  if (neg) {
    mpz_neg(v, v);
  }
  rv = int_val(out, v);
  mpz_clear(v);
  return rv;
}

/* ---- comparisons: Value.LessThan / GreaterThan, with Or(Equals) for the
 * -OrEqualTo forms (the value model decides unknowns from ranges and
 * carries marks) ---- */

static int compare(struct soupc_cty_value **out, struct fn_ctx *c,
                   struct soupc_cty_value *const *a, bool greater,
                   bool or_equal) {
  struct soupc_cty_value *lt = NULL, *eq = NULL;
  soupc_status st;
  int rv;

  soupc_status_clear(&st);
  rv = soupc__cty_num_less(&lt, a[0], a[1], greater, &st);
  if (rv == 0 && or_equal) {
    rv = soupc__cty_equals(&eq, a[0], a[1], &st);
    if (rv == 0) {
      rv = soupc__cty_bool_or(out, lt, eq, &st);
    }
    soupc_cty_value_free(lt);
    soupc_cty_value_free(eq);
  } else if (rv == 0) {
    *out = lt;
  }
  return soupc__fn_status(c, -1, rv, &st);
}

static int lessthan_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                         struct soupc_cty_value *const *a, size_t n,
                         const struct soupc_cty_type *ret) {
  return compare(out, c, a, false, false);
}

static int greaterthan_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                            struct soupc_cty_value *const *a, size_t n,
                            const struct soupc_cty_type *ret) {
  return compare(out, c, a, true, false);
}

static int lessthanorequalto_impl(struct soupc_cty_value **out,
                                  struct fn_ctx *c,
                                  struct soupc_cty_value *const *a, size_t n,
                                  const struct soupc_cty_type *ret) {
  return compare(out, c, a, false, true);
}

static int greaterthanorequalto_impl(struct soupc_cty_value **out,
                                     struct fn_ctx *c,
                                     struct soupc_cty_value *const *a, size_t n,
                                     const struct soupc_cty_type *ret) {
  return compare(out, c, a, true, true);
}

/* ---- bool.go: Value.Not/And/Or take their operands' own marks ---- */

static int bool_result(struct soupc_cty_value **out, bool b,
                       const struct soupc_cty_value *x,
                       const struct soupc_cty_value *y) {
  struct soupc_cty_marks *m = NULL;
  int rv = soupc__cty_marks_union(&m, cty_is_marked(x) ? x->u.mk.marks : NULL,
                                  y != NULL && cty_is_marked(y) ? y->u.mk.marks
                                                                : NULL);

  if (rv != 0) {
    return rv;
  }
  rv = soupc__cty_with_marks(out, soupc__cty_bool_val(b), m);
  soupc_cty_marks_free(m);
  return rv;
}

static int not_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                    struct soupc_cty_value *const *a, size_t n,
                    const struct soupc_cty_type *ret) {
  return bool_result(out, !cty_unmarked(a[0])->u.b, a[0], NULL);
}

static int and_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                    struct soupc_cty_value *const *a, size_t n,
                    const struct soupc_cty_type *ret) {
  return bool_result(out, cty_unmarked(a[0])->u.b && cty_unmarked(a[1])->u.b,
                     a[0], a[1]);
}

static int or_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                   struct soupc_cty_value *const *a, size_t n,
                   const struct soupc_cty_type *ret) {
  return bool_result(out, cty_unmarked(a[0])->u.b || cty_unmarked(a[1])->u.b,
                     a[0], a[1]);
}

#define DYN SOUPC_CTY_PARAM_ALLOW_DYNAMIC
#define MRK SOUPC_CTY_PARAM_ALLOW_MARKED
#define UNK SOUPC_CTY_PARAM_ALLOW_UNKNOWN
#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct fn_param p_num_dm[] = {{"num", FN_T_NUMBER, DYN | MRK}};
static const struct fn_param p_num_d[] = {{"num", FN_T_NUMBER, DYN}};
static const struct fn_param p_num[] = {{"num", FN_T_NUMBER, 0}};
static const struct fn_param p_ab[] = {{"a", FN_T_NUMBER, DYN},
                                       {"b", FN_T_NUMBER, DYN}};
static const struct fn_param p_cmp[] = {{"a", FN_T_NUMBER, UNK | DYN | MRK},
                                        {"b", FN_T_NUMBER, UNK | DYN | MRK}};
static const struct fn_param p_log[] = {{"num", FN_T_NUMBER, 0},
                                        {"base", FN_T_NUMBER, 0}};
static const struct fn_param p_pow[] = {{"num", FN_T_NUMBER, 0},
                                        {"power", FN_T_NUMBER, 0}};
static const struct fn_param p_numbers = {"numbers", FN_T_NUMBER, DYN};
static const struct fn_param p_parseint[] = {{"number", FN_T_DYNAMIC, 0},
                                             {"base", FN_T_NUMBER, 0}};
static const struct fn_param p_bool[] = {{"val", FN_T_BOOL, DYN | MRK}};
static const struct fn_param p_bools[] = {{"a", FN_T_BOOL, DYN | MRK},
                                          {"b", FN_T_BOOL, DYN | MRK}};

#define FN(nm, desc, params, ret, impl)                                        \
  { nm, desc, params, N(params), NULL, NULL, ret, FN_REFINE_NOT_NULL, impl }

const struct soupc_cty_function soupc__fn_number[] = {
    FN("abs",
       "If the given number is negative then returns its positive equivalent, "
       "or otherwise returns the given number unchanged.",
       p_num_dm, FN_T_NUMBER, abs_impl),
    FN("add", "Returns the sum of the two given numbers.", p_ab, FN_T_NUMBER,
       add_impl),
    FN("subtract", "Returns the difference between the two given numbers.",
       p_ab, FN_T_NUMBER, subtract_impl),
    FN("multiply", "Returns the product of the two given numbers.", p_ab,
       FN_T_NUMBER, multiply_impl),
    FN("divide", "Divides the first given number by the second.", p_ab,
       FN_T_NUMBER, divide_impl),
    FN("modulo",
       "Divides the first given number by the second and then returns the "
       "remainder.",
       p_ab, FN_T_NUMBER, modulo_impl),
    FN("greaterthan",
       "Returns true if and only if the second number is greater than the "
       "first.",
       p_cmp, FN_T_BOOL, greaterthan_impl),
    FN("greaterthanorequalto",
       "Returns true if and only if the second number is greater than or "
       "equal to the first.",
       p_cmp, FN_T_BOOL, greaterthanorequalto_impl),
    FN("lessthan",
       "Returns true if and only if the second number is less than the first.",
       p_cmp, FN_T_BOOL, lessthan_impl),
    FN("lessthanorequalto",
       "Returns true if and only if the second number is less than or equal "
       "to the first.",
       p_cmp, FN_T_BOOL, lessthanorequalto_impl),
    FN("negate", "Multiplies the given number by -1.", p_num_dm, FN_T_NUMBER,
       negate_impl),
    {"min", "Returns the numerically smallest of all of the given numbers.",
     NULL, 0, &p_numbers, NULL, FN_T_NUMBER, FN_REFINE_NOT_NULL, min_impl},
    {"max", "Returns the numerically greatest of all of the given numbers.",
     NULL, 0, &p_numbers, NULL, FN_T_NUMBER, FN_REFINE_NOT_NULL, max_impl},
    FN("int", "Discards any fractional portion of the given number.", p_num_d,
       FN_T_NUMBER, int_impl),
    FN("ceil",
       "Returns the smallest whole number that is greater than or equal to "
       "the given value.",
       p_num, FN_T_NUMBER, ceil_impl),
    FN("floor",
       "Returns the greatest whole number that is less than or equal to the "
       "given value.",
       p_num, FN_T_NUMBER, floor_impl),
    FN("log", "Returns the logarithm of the given number in the given base.",
       p_log, FN_T_NUMBER, log_impl),
    FN("pow",
       "Returns the given number raised to the given power (exponentiation).",
       p_pow, FN_T_NUMBER, pow_impl),
    FN("signum",
       "Returns 0 if the given number is zero, 1 if the given number is "
       "positive, or -1 if the given number is negative.",
       p_num, FN_T_NUMBER, signum_impl),
    {"parseint",
     "Parses the given string as a number of the given base, or raises an "
     "error if the string contains invalid characters.",
     p_parseint, N(p_parseint), NULL, parseint_type, FN_T_NUMBER,
     FN_REFINE_NOT_NULL, parseint_impl},
    FN("not", "Applies the logical NOT operation to the given boolean value.",
       p_bool, FN_T_BOOL, not_impl),
    FN("and", "Applies the logical AND operation to the given boolean values.",
       p_bools, FN_T_BOOL, and_impl),
    FN("or", "Applies the logical OR operation to the given boolean values.",
       p_bools, FN_T_BOOL, or_impl),
};
const size_t soupc__fn_number_count = N(soupc__fn_number);
