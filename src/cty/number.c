/* cty numbers: Go's *big.Float semantics on MPFR/GMP (spec §2.3, §9.2).
 *
 * go-cty parses text with big.ParseFloat(s, 10, 512, ToNearestEven) and
 * prints with Text('f', -1) (shortest digits at the value's precision).
 * Go's parser is not correctly rounded for large decimal exponents: it
 * multiplies or divides by 5**e computed by repeated squaring at 576/640
 * bits. We replay exactly that sequence of MPFR operations, so the rounded
 * results agree bit for bit. */
#include "cty/cty_int.h"

#include "base/alloc.h"

#include <gmp.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#define GO_PREC 512U
#define CTY_MAX_EXP2 262144.0

/* Go's Float exponent range is int32 (MinExp/MaxExp); MPFR uses the same
 * 0.5 <= m < 1 convention. The range is per thread in MPFR, so set it on
 * each entry that can overflow. */
static void set_go_exp_range(void) {
  mpfr_set_emin((mpfr_exp_t)INT32_MIN);
  mpfr_set_emax((mpfr_exp_t)INT32_MAX);
}

struct cty_num *soupc__cty_num_new(unsigned prec) {
  struct cty_num *n = soupc__malloc(sizeof(*n));

  if (n == NULL) {
    return NULL;
  }
  mpfr_init2(n->f, GO_PREC);
  mpfr_set_zero(n->f, 1);
  n->prec = prec;
  return n;
}

void soupc__cty_num_free(struct cty_num *n) {
  if (n == NULL) {
    return;
  }
  mpfr_clear(n->f);
  soupc__free(n);
}

struct cty_num *soupc__cty_num_dup(const struct cty_num *n) {
  struct cty_num *d = soupc__cty_num_new(n->prec);

  if (d != NULL) {
    mpfr_set(d->f, n->f, MPFR_RNDN);
  }
  return d;
}

void soupc__cty_num_set_int64(struct cty_num *n, int64_t v) {
  mpfr_set_sj(n->f, (intmax_t)v, MPFR_RNDN);
  n->prec = 64;
}

void soupc__cty_num_set_uint64(struct cty_num *n, uint64_t v) {
  mpfr_set_uj(n->f, (uintmax_t)v, MPFR_RNDN);
  n->prec = 64;
}

void soupc__cty_num_set_double(struct cty_num *n, double v) {
  mpfr_set_d(n->f, v, MPFR_RNDN);
  n->prec = 53;
}

/* big.Float.pow5: 5**n at 576 bits, squaring at 640 bits. */
static void go_pow5(mpfr_t z, uint64_t n) {
  uint64_t p = 1;
  unsigned i;
  mpfr_t f;

  if (n <= 27) {
    for (i = 0; i < n; i++) {
      p *= 5;
    }
    mpfr_set_uj(z, (uintmax_t)p, MPFR_RNDN);
    return;
  }
  for (i = 0; i < 27; i++) {
    p *= 5;
  }
  mpfr_set_uj(z, (uintmax_t)p, MPFR_RNDN);
  n -= 27;
  mpfr_init2(f, GO_PREC + 128);
  mpfr_set_ui(f, 5, MPFR_RNDN);
  while (n > 0) {
    if ((n & 1) != 0) {
      mpfr_mul(z, z, f, MPFR_RNDN);
    }
    mpfr_mul(f, f, f, MPFR_RNDN);
    n >>= 1;
  }
  mpfr_clear(f);
}

int soupc__cty_num_parse(struct cty_num *out, const char *s, size_t len,
                         const char **why) {
  size_t i = 0, digits = 0, frac = 0;
  bool neg = false, seen_dot = false, ebase10 = true;
  int64_t exp = 0, e2, e5;
  char *mant = NULL;
  size_t mlen = 0;
  mpz_t m;
  int rv = -1;

  *why = "number has no digits";
  if (len > 0 && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    i = 1;
  }
  /* big.Float.Parse special-cases exactly "Inf"/"inf" with an optional
   * sign; "Infinity" and "NaN" are errors. */
  if (len - i == 3 &&
      (memcmp(s + i, "Inf", 3) == 0 || memcmp(s + i, "inf", 3) == 0)) {
    mpfr_set_inf(out->f, neg ? -1 : 1);
    out->prec = GO_PREC;
    return 0;
  }
  mant = soupc__malloc(len + 1);
  if (mant == NULL) {
    *why = "out of memory";
    return -1;
  }
  for (; i < len; i++) {
    char c = s[i];
    if (c >= '0' && c <= '9') {
      mant[mlen++] = c;
      digits++;
      if (seen_dot) {
        frac++;
      }
    } else if (c == '.' && !seen_dot) {
      seen_dot = true;
    } else {
      break;
    }
  }
  mant[mlen] = '\0';
  if (digits == 0) {
    goto done;
  }
  /* scanExponent(r, base2ok=true, sepOk=false): e/E decimal, p/P binary. */
  if (i < len && (s[i] == 'e' || s[i] == 'E' || s[i] == 'p' || s[i] == 'P')) {
    bool eneg = false;
    size_t ed = 0;
    ebase10 = s[i] == 'e' || s[i] == 'E';
    i++;
    if (i < len && (s[i] == '+' || s[i] == '-')) {
      eneg = s[i] == '-';
      i++;
    }
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
      if (exp > (INT64_MAX - 9) / 10) {
        *why = "exponent overflow";
        goto done;
      }
      exp = exp * 10 + (s[i] - '0');
      ed++;
    }
    if (ed == 0) {
      *why = "exponent has no digits";
      goto done;
    }
    if (eneg) {
      exp = -exp;
    }
  }
  if (i != len) {
    *why = "expected end of string";
    goto done;
  }
  mpz_init(m);
  mpz_set_str(m, mant, 10);
  if (mpz_sgn(m) == 0) {
    mpfr_set_zero(out->f, neg ? -1 : 1);
    out->prec = GO_PREC;
    mpz_clear(m);
    rv = 0;
    goto done;
  }
  e5 = (ebase10 ? exp : 0) - (int64_t)frac;
  e2 = exp - (int64_t)frac;
  {
    int64_t exp2 = (int64_t)mpz_sizeinbase(m, 2) + e2;
    double approx;
    if (exp2 < INT32_MIN || exp2 > INT32_MAX) {
      *why = "exponent overflow";
      mpz_clear(m);
      goto done;
    }
    /* soup-c limit, not Go's: a binary exponent beyond +-2^18 would print
     * as ~80 000 decimal digits (Text('f')); such input is refused rather
     * than spending seconds and megabytes on it. */
    approx = (double)exp2 + (double)e5 * 2.321928094887362;
    if (approx > CTY_MAX_EXP2 || approx < -CTY_MAX_EXP2) {
      *why = "exponent out of range (soup-c limit: 2^+-262144)";
      mpz_clear(m);
      goto done;
    }
  }
  set_go_exp_range();
  {
    mpfr_t mf, p;
    size_t bits = mpz_sizeinbase(m, 2);
    mpfr_init2(mf, (mpfr_prec_t)(bits < 2 ? 2 : bits));
    mpfr_set_z(mf, m, MPFR_RNDN); /* exact */
    if (e5 == 0) {
      mpfr_set(out->f, mf, MPFR_RNDN);
    } else {
      mpfr_init2(p, GO_PREC + 64);
      go_pow5(p, (uint64_t)(e5 < 0 ? -e5 : e5));
      if (e5 < 0) {
        mpfr_div(out->f, mf, p, MPFR_RNDN);
      } else {
        mpfr_mul(out->f, mf, p, MPFR_RNDN);
      }
      mpfr_clear(p);
    }
    mpfr_mul_2si(out->f, out->f, (long)e2, MPFR_RNDN);
    if (neg) {
      mpfr_neg(out->f, out->f, MPFR_RNDN);
    }
    mpfr_clear(mf);
  }
  out->prec = GO_PREC;
  mpz_clear(m);
  rv = 0;
done:
  soupc__free(mant);
  return rv;
}

/* ---- math/big's decimal type: value = 0.mant * 10**exp ---- */
struct dec {
  char *mant; /* digits, no trailing zeros; NULL/empty = 0 */
  int nd;
  int exp;
};

static void dec_trim(struct dec *d) {
  while (d->nd > 0 && d->mant[d->nd - 1] == '0') {
    d->nd--;
  }
  if (d->nd == 0) {
    d->exp = 0;
  }
}

/* Exact decimal of m * 2**shift, m >= 0. */
static int dec_init(struct dec *d, const mpz_t m0, long shift) {
  mpz_t m;
  size_t cap;

  d->mant = NULL;
  d->nd = 0;
  d->exp = 0;
  if (mpz_sgn(m0) == 0) {
    return 0;
  }
  mpz_init_set(m, m0);
  if (shift < 0) {
    mp_bitcnt_t tz = mpz_scan1(m, 0);
    unsigned long k = (unsigned long)-shift;
    if (tz > k) {
      tz = k;
    }
    mpz_fdiv_q_2exp(m, m, tz);
    shift += (long)tz;
  }
  if (shift > 0) {
    mpz_mul_2exp(m, m, (mp_bitcnt_t)shift);
    shift = 0;
  }
  if (shift < 0) {
    mpz_t p;
    mpz_init(p);
    mpz_ui_pow_ui(p, 5, (unsigned long)-shift);
    mpz_mul(m, m, p);
    mpz_clear(p);
  }
  cap = mpz_sizeinbase(m, 10) + 2;
  d->mant = soupc__malloc(cap);
  if (d->mant == NULL) {
    mpz_clear(m);
    return -1;
  }
  mpz_get_str(d->mant, 10, m);
  d->nd = (int)strlen(d->mant);
  d->exp = d->nd + (int)shift; /* shift <= 0: value = digits / 10**-shift */
  dec_trim(d);
  mpz_clear(m);
  return 0;
}

static char dec_at(const struct dec *d, int i) {
  if (i >= 0 && i < d->nd) {
    return d->mant[i];
  }
  return '0';
}

static void dec_round_up(struct dec *d, int n) {
  if (n < 0 || n >= d->nd) {
    return;
  }
  while (n > 0 && d->mant[n - 1] >= '9') {
    n--;
  }
  if (n == 0) {
    d->mant[0] = '1';
    d->nd = 1;
    d->exp++;
    return;
  }
  d->mant[n - 1]++;
  d->nd = n;
}

static void dec_round_down(struct dec *d, int n) {
  if (n < 0 || n >= d->nd) {
    return;
  }
  d->nd = n;
  dec_trim(d);
}

static void dec_round(struct dec *d, int n) {
  bool up;

  if (n < 0 || n >= d->nd) {
    return;
  }
  /* shouldRoundUp: exactly half rounds to even. */
  if (d->mant[n] == '5' && n + 1 == d->nd) {
    up = n > 0 && ((d->mant[n - 1] - '0') & 1) != 0;
  } else {
    up = d->mant[n] >= '5';
  }
  if (up) {
    dec_round_up(d, n);
  } else {
    dec_round_down(d, n);
  }
}

/* |x| = mant * 2**e with mant an integer; returns e. */
static long num_mant(mpz_t mant, const struct cty_num *x) {
  mpfr_exp_t e = mpfr_get_z_2exp(mant, x->f);
  mpz_abs(mant, mant);
  return (long)e;
}

/* ftoa.go roundShortest. */
static int round_shortest(struct dec *d, const struct cty_num *x) {
  mpz_t mant, t;
  struct dec lower, upper;
  long exp;
  long X;
  bool inclusive;
  int i, rv = 0;

  if (d->nd == 0) {
    return 0;
  }
  /* mant has prec+1 bits, so its lsb is 1/2 ulp at x's precision. */
  mpz_init(mant);
  mpz_init(t);
  X = (long)mpfr_get_exp(x->f);
  exp = num_mant(mant, x);
  {
    long bl = (long)mpz_sizeinbase(mant, 2);
    long s = bl - (long)(x->prec + 1);
    (void)X;
    if (s < 0) {
      mpz_mul_2exp(mant, mant, (mp_bitcnt_t)-s);
    } else if (s > 0) {
      mpz_fdiv_q_2exp(mant, mant, (mp_bitcnt_t)s);
    }
    exp += s;
  }
  mpz_sub_ui(t, mant, 1);
  rv |= dec_init(&lower, t, exp);
  mpz_add_ui(t, mant, 1);
  rv |= dec_init(&upper, t, exp);
  inclusive = mpz_tstbit(mant, 1) == 0;
  if (rv != 0) {
    goto out;
  }
  for (i = 0; i < d->nd; i++) {
    char m = d->mant[i];
    char l = dec_at(&lower, i);
    char u = dec_at(&upper, i);
    bool okdown = l != m || (inclusive && i + 1 == lower.nd);
    bool okup = m != u && (inclusive || m + 1 < u || i + 1 < upper.nd);
    if (okdown && okup) {
      dec_round(d, i + 1);
      break;
    }
    if (okdown) {
      dec_round_down(d, i + 1);
      break;
    }
    if (okup) {
      dec_round_up(d, i + 1);
      break;
    }
  }
out:
  soupc__free(lower.mant);
  soupc__free(upper.mant);
  mpz_clear(mant);
  mpz_clear(t);
  return rv;
}

static int dec_of(struct dec *d, const struct cty_num *x) {
  mpz_t mant;
  long e;
  int rv;

  if (mpfr_zero_p(x->f)) {
    d->mant = NULL;
    d->nd = 0;
    d->exp = 0;
    return 0;
  }
  mpz_init(mant);
  e = num_mant(mant, x);
  rv = dec_init(d, mant, e);
  mpz_clear(mant);
  return rv;
}

static void fmt_f(struct cty_buf *b, int prec, const struct dec *d) {
  int i;

  if (d->exp > 0) {
    int m = d->nd < d->exp ? d->nd : d->exp;
    soupc__cty_buf_put(b, d->mant, (size_t)m);
    for (; m < d->exp; m++) {
      soupc__cty_buf_putc(b, '0');
    }
  } else {
    soupc__cty_buf_putc(b, '0');
  }
  if (prec > 0) {
    soupc__cty_buf_putc(b, '.');
    for (i = 0; i < prec; i++) {
      soupc__cty_buf_putc(b, (uint8_t)dec_at(d, d->exp + i));
    }
  }
}

static void fmt_e(struct cty_buf *b, int prec, const struct dec *d) {
  char tmp[32];
  long exp = 0;
  int i;

  soupc__cty_buf_putc(b, d->nd > 0 ? (uint8_t)d->mant[0] : '0');
  if (prec > 0) {
    int m = d->nd < prec + 1 ? d->nd : prec + 1;
    soupc__cty_buf_putc(b, '.');
    i = 1;
    if (i < m) {
      soupc__cty_buf_put(b, d->mant + 1, (size_t)(m - 1));
      i = m;
    }
    for (; i <= prec; i++) {
      soupc__cty_buf_putc(b, '0');
    }
  }
  soupc__cty_buf_putc(b, 'e');
  if (d->nd > 0) {
    exp = (long)d->exp - 1;
  }
  soupc__cty_buf_putc(b, exp < 0 ? '-' : '+');
  if (exp < 0) {
    exp = -exp;
  }
  if (exp < 10) {
    soupc__cty_buf_putc(b, '0');
  }
  snprintf(tmp, sizeof(tmp), "%ld", exp);
  soupc__cty_buf_puts(b, tmp);
}

static bool num_prefix(struct cty_buf *b, const struct cty_num *n) {
  if (mpfr_signbit(n->f)) {
    soupc__cty_buf_putc(b, '-');
  }
  if (mpfr_inf_p(n->f)) {
    if (!mpfr_signbit(n->f)) {
      soupc__cty_buf_putc(b, '+');
    }
    soupc__cty_buf_puts(b, "Inf");
    return true;
  }
  return false;
}

void soupc__cty_num_text_f(struct cty_buf *b, const struct cty_num *n) {
  struct dec d;
  int prec;

  if (num_prefix(b, n)) {
    return;
  }
  if (dec_of(&d, n) != 0 || round_shortest(&d, n) != 0) {
    soupc__free(d.mant);
    b->oom = true;
    return;
  }
  prec = d.nd - d.exp;
  fmt_f(b, prec > 0 ? prec : 0, &d);
  soupc__free(d.mant);
}

void soupc__cty_num_text_g10(struct cty_buf *b, const struct cty_num *n) {
  struct dec d;
  int prec = 10, eprec, exp;

  if (num_prefix(b, n)) {
    return;
  }
  if (dec_of(&d, n) != 0) {
    b->oom = true;
    return;
  }
  dec_round(&d, prec);
  eprec = prec;
  if (eprec > d.nd && d.nd >= d.exp) {
    eprec = d.nd;
  }
  exp = d.exp - 1;
  if (exp < -4 || exp >= eprec) {
    if (prec > d.nd) {
      prec = d.nd;
    }
    fmt_e(b, prec - 1, &d);
  } else {
    if (prec > d.exp) {
      prec = d.nd;
    }
    fmt_f(b, prec - d.exp > 0 ? prec - d.exp : 0, &d);
  }
  soupc__free(d.mant);
}

/* Text('g', -1): shortest digits, %e form when the exponent is < -4 or
 * >= 6 (big.Float's ftoa uses eprec 6 for the shortest form). */
void soupc__cty_num_text_g(struct cty_buf *b, const struct cty_num *n) {
  struct dec d;
  int exp;

  if (num_prefix(b, n)) {
    return;
  }
  if (dec_of(&d, n) != 0 || round_shortest(&d, n) != 0) {
    soupc__free(d.mant);
    b->oom = true;
    return;
  }
  exp = d.exp - 1;
  if (d.nd > 0 && (exp < -4 || exp >= 6)) {
    fmt_e(b, d.nd - 1, &d);
  } else {
    fmt_f(b, d.nd - d.exp > 0 ? d.nd - d.exp : 0, &d);
  }
  soupc__free(d.mant);
}

/* big.Float.Text(fmt, prec) for 'e', 'E', 'f', 'g' and 'G' (prec < 0:
 * the shortest digits that read back at the number's precision), as
 * ftoa.go's Append writes it. Added for the cty function library's
 * format (fmt.Sprintf of a *big.Float). */
void soupc__cty_num_text(struct cty_buf *b, const struct cty_num *n, char fmt,
                         int prec) {
  struct dec d;
  bool shortest = false;
  size_t start;
  int exp, eprec;
  bool upper = fmt == 'E' || fmt == 'G';

  if (num_prefix(b, n)) {
    return;
  }
  if (dec_of(&d, n) != 0) {
    b->oom = true;
    return;
  }
  if (prec < 0) {
    shortest = true;
    if (round_shortest(&d, n) != 0) {
      soupc__free(d.mant);
      b->oom = true;
      return;
    }
    if (fmt == 'e' || fmt == 'E') {
      prec = d.nd - 1;
    } else if (fmt == 'f') {
      prec = d.nd - d.exp > 0 ? d.nd - d.exp : 0;
    } else {
      prec = d.nd;
    }
  } else if (fmt == 'e' || fmt == 'E') {
    dec_round(&d, 1 + prec);
  } else if (fmt == 'f') {
    dec_round(&d, d.exp + prec);
  } else {
    if (prec == 0) {
      prec = 1;
    }
    dec_round(&d, prec);
  }
  start = b->len;
  if (fmt == 'e' || fmt == 'E') {
    fmt_e(b, prec, &d);
  } else if (fmt == 'f') {
    fmt_f(b, prec, &d);
  } else {
    eprec = prec;
    if (eprec > d.nd && d.nd >= d.exp) {
      eprec = d.nd;
    }
    if (shortest) {
      eprec = 6;
    }
    exp = d.exp - 1;
    if (exp < -4 || exp >= eprec) {
      if (prec > d.nd) {
        prec = d.nd;
      }
      fmt_e(b, prec - 1, &d);
    } else {
      if (prec > d.exp) {
        prec = d.nd;
      }
      fmt_f(b, prec - d.exp > 0 ? prec - d.exp : 0, &d);
      upper = false;
    }
  }
  if (upper && !b->oom) {
    size_t i;
    for (i = start; i < b->len; i++) {
      if (b->p[i] == 'e') {
        b->p[i] = 'E';
      }
    }
  }
  soupc__free(d.mant);
}

bool soupc__cty_num_is_int(const struct cty_num *n) {
  return mpfr_integer_p(n->f) != 0;
}

bool soupc__cty_num_int64(const struct cty_num *n, int64_t *out) {
  if (!mpfr_number_p(n->f) || !mpfr_integer_p(n->f) ||
      !mpfr_fits_intmax_p(n->f, MPFR_RNDN)) {
    return false;
  }
  *out = (int64_t)mpfr_get_sj(n->f, MPFR_RNDN);
  return true;
}

bool soupc__cty_num_float64(const struct cty_num *n, double *out) {
  double d;

  if (!mpfr_number_p(n->f)) {
    return false;
  }
  d = mpfr_get_d(n->f, MPFR_RNDN);
  if (d - d != 0.0) { /* overflowed to infinity */
    return false;
  }
  if (mpfr_cmp_d(n->f, d) != 0) {
    return false;
  }
  *out = d;
  return true;
}

bool soupc__cty_num_is_inf(const struct cty_num *n) {
  return mpfr_inf_p(n->f) != 0;
}

int soupc__cty_num_cmp(const struct cty_num *a, const struct cty_num *b) {
  return mpfr_cmp(a->f, b->f);
}

int soupc__cty_num_equal(const struct cty_num *a, const struct cty_num *b) {
  struct cty_buf x, y;
  int eq;
  int sa = mpfr_sgn(a->f), sb = mpfr_sgn(b->f);

  if (sa != sb) {
    return 0;
  }
  if (mpfr_equal_p(a->f, b->f) && a->prec == b->prec) {
    return 1;
  }
  /* rawNumberEqual: Int(nil)'s accuracy must agree; exact integers compare
   * exactly, everything else by Text('f', -1). */
  if (mpfr_integer_p(a->f) || mpfr_integer_p(b->f)) {
    return mpfr_integer_p(a->f) && mpfr_integer_p(b->f) &&
           mpfr_equal_p(a->f, b->f);
  }
  soupc__cty_buf_init(&x);
  soupc__cty_buf_init(&y);
  soupc__cty_num_text_f(&x, a);
  soupc__cty_num_text_f(&y, b);
  if (x.len == 2 && memcmp(x.p, "-0", 2) == 0) {
    x.len = 0;
    soupc__cty_buf_putc(&x, '0');
  }
  if (y.len == 2 && memcmp(y.p, "-0", 2) == 0) {
    y.len = 0;
    soupc__cty_buf_putc(&y, '0');
  }
  if (x.oom || y.oom) {
    eq = -1;
  } else {
    eq = x.len == y.len && memcmp(x.p, y.p, x.len) == 0;
  }
  soupc__cty_buf_dispose(&x);
  soupc__cty_buf_dispose(&y);
  return eq;
}
