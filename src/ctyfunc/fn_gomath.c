/* Go's math.Log, math.Exp and math.Pow for amd64, operation for
 * operation, so `log` and `pow` give go-cty's float64 bits (glibc's
 * correctly rounded log/pow differ from Go's in the last place).
 *
 * Log and Exp follow Go's amd64 assembly (math/log_amd64.s, exp_amd64.s),
 * which is what math.Log/math.Exp run on amd64: the FreeBSD algorithms,
 * with Exp using fused multiply-adds when the CPU has AVX and FMA (Go's
 * math.useFMA). Pow is math/pow.go (Go 1.19) over them. */
#include "ctyfunc/fn_int.h"

#include <math.h>
#include <string.h>

static uint64_t bits_of(double d) {
  uint64_t u;
  memcpy(&u, &d, sizeof(u));
  return u;
}

static double from_bits(uint64_t u) {
  double d;
  memcpy(&d, &u, sizeof(d));
  return d;
}

#define POS_INF_BITS 0x7FF0000000000000ULL
#define NEG_INF_BITS 0xFFF0000000000000ULL
#define SIGN_BIT 0x8000000000000000ULL

double soupc__fn_go_log(double x) {
  const double hsqrt2 = 7.07106781186547524401e-01;
  const double ln2hi = 6.93147180369123816490e-01;
  const double ln2lo = 1.90821492927058770002e-10;
  const double l1 = 6.666666666666735130e-01, l2 = 3.999999999940941908e-01;
  const double l3 = 2.857142874366239149e-01, l4 = 2.222219843214978396e-01;
  const double l5 = 1.818357216161805012e-01, l6 = 1.531383769920937332e-01;
  const double l7 = 1.479819860511658591e-01;
  uint64_t b = bits_of(x);
  double f1, k, f, s, s2, s4, t1, t2, r, hfsq;

  if ((b & ~SIGN_BIT) == 0) {
    return -INFINITY;
  }
  if ((int64_t)b < 0) {
    return NAN;
  }
  if (b >= POS_INF_BITS) {
    return x; /* +Inf or NaN */
  }
  /* The assembly's frexp takes the exponent field as it is (subnormals
   * are not normalised first). */
  f1 = from_bits((b & 0x000FFFFFFFFFFFFFULL) | 0x3FE0000000000000ULL);
  k = (double)((int)((b >> 52) & 0x7FF) - 0x3FE);
  if (!(hsqrt2 < f1)) { /* CMPSD ... 5 (not less than) */
    k -= 1;
    f1 *= 2;
  }
  f = f1 - 1;
  s = f / (2 + f);
  s2 = s * s;
  s4 = s2 * s2;
  t1 = s2 * (l1 + s4 * (l3 + s4 * (l5 + s4 * l7)));
  t2 = s4 * (l2 + s4 * (l4 + s4 * l6));
  r = t1 + t2;
  hfsq = 0.5 * f * f;
  return k * ln2hi - ((hfsq - (s * (hfsq + r) + k * ln2lo)) - f);
}

static int use_fma(void) {
  static int cached = -1;

  if (cached < 0) {
    __builtin_cpu_init();
    cached = __builtin_cpu_supports("avx") && __builtin_cpu_supports("fma");
  }
  return cached;
}

/* CVTSD2SL: round to nearest even; out of range gives INT32_MIN. */
static int32_t cvtsd2sl(double d) {
  double r = nearbyint(d);

  if (!(r >= -2147483648.0 && r < 2147483648.0)) {
    return INT32_MIN;
  }
  return (int32_t)r;
}

double soupc__fn_go_exp(double x) {
  const double log2e = 1.4426950408889634073599246810018920;
  const double ln2u = 0.69314718055966295651160180568695068359375;
  const double ln2l = 0.28235290563031577122588448175013436025525412068e-12;
  const double overflow = 7.09782712893384e+02;
  const double c[] = {0.5,
                      1.0,
                      2.0,
                      1.6666666666666666667e-1,
                      4.1666666666666666667e-2,
                      8.3333333333333333333e-3,
                      1.3888888888888888889e-3,
                      1.9841269841269841270e-4,
                      2.4801587301587301587e-5};
  uint64_t b = bits_of(x);
  int32_t e;
  double k, p;

  if ((b & ~SIGN_BIT) >= POS_INF_BITS) {
    return b == NEG_INF_BITS ? 0.0 : x;
  }
  if (x > overflow) {
    return INFINITY;
  }
  e = cvtsd2sl(log2e * x);
  k = (double)e;
  if (use_fma()) {
    x = fma(-ln2u, k, x);
    x = fma(-ln2l, k, x);
    x *= 0.0625;
    p = fma(c[8], x, c[7]);
    p = fma(p, x, c[6]);
    p = fma(p, x, c[5]);
    p = fma(p, x, c[4]);
    p = fma(p, x, c[3]);
    p = fma(p, x, c[0]);
    p = fma(p, x, c[1]);
    x *= p;
    x *= x + c[2];
    x *= x + c[2];
    x *= x + c[2];
    x = fma(x, x + c[2], c[1]);
  } else {
    x = x - ln2u * k;
    x = x - ln2l * k;
    x *= 0.0625;
    p = ((((((c[8] * x + c[7]) * x + c[6]) * x + c[5]) * x + c[4]) * x + c[3]) *
             x +
         c[0]) *
            x +
        c[1];
    x *= p;
    x *= c[2] + x;
    x *= c[2] + x;
    x *= c[2] + x;
    x *= c[2] + x;
    x += c[1];
  }
  /* fr * 2**e, as the assembly builds it. */
  e += 0x3FF;
  if (e <= 0) {
    if (e < -52) {
      return 0.0;
    }
    e += 0x3FE;
    x *= from_bits((uint64_t)(uint32_t)e << 52);
    e = 1;
  } else if (e >= 0x7FF) {
    return INFINITY;
  }
  return x * from_bits((uint64_t)(uint32_t)e << 52);
}

/* ---- math/pow.go and its helpers (pure Go on amd64) ---- */

static double go_normalize(double x, int *e) {
  if (fabs(x) < 2.2250738585072014e-308) {
    *e = -52;
    return x * 4503599627370496.0; /* 1 << 52 */
  }
  *e = 0;
  return x;
}

static double go_frexp(double f, int *exp) {
  uint64_t x;
  int e;

  *exp = 0;
  if (f == 0 || isinf(f) || isnan(f)) {
    return f;
  }
  f = go_normalize(f, &e);
  x = bits_of(f);
  *exp = e + (int)((x >> 52) & 0x7FF) - 1023 + 1;
  x &= ~(0x7FFULL << 52);
  x |= (uint64_t)(-1 + 1023) << 52;
  return from_bits(x);
}

static double go_ldexp(double frac, int exp) {
  uint64_t x;
  double m = 1;
  int e;

  if (frac == 0 || isinf(frac) || isnan(frac)) {
    return frac;
  }
  frac = go_normalize(frac, &e);
  exp += e;
  x = bits_of(frac);
  exp += (int)((x >> 52) & 0x7FF) - 1023;
  if (exp < -1075) {
    return copysign(0, frac);
  }
  if (exp > 1023) {
    return frac < 0 ? -INFINITY : INFINITY;
  }
  if (exp < -1022) {
    exp += 53;
    m = 1.0 / 9007199254740992.0; /* 2**-53 */
  }
  x &= ~(0x7FFULL << 52);
  x |= (uint64_t)(exp + 1023) << 52;
  return m * from_bits(x);
}

static double go_modf(double f, double *frac) {
  double sign = 1, i;
  uint64_t x;
  unsigned e;

  if (f < 1) {
    if (f == 0) {
      *frac = f;
      return f; /* -0, -0 for -0 */
    }
    if (f > 0) {
      *frac = f;
      return 0;
    }
    /* Modf(-f), negated */
    sign = -1;
    f = -f;
    if (f < 1) {
      *frac = -f;
      return -0.0;
    }
  }
  x = bits_of(f);
  e = (unsigned)((x >> 52) & 0x7FF) - 1023;
  if (e < 64 - 12) {
    x &= ~((1ULL << (64 - 12 - e)) - 1);
  }
  i = from_bits(x);
  *frac = sign * (f - i);
  return sign * i;
}

/* int64(xi)&1 == 1: an out-of-range conversion is 0x8000... on amd64. */
static int go_is_odd_int(double x) {
  double xf, xi = go_modf(x, &xf);
  int64_t n = (xi >= -9223372036854775808.0 && xi < 9223372036854775808.0)
                  ? (int64_t)xi
                  : INT64_MIN;
  return xf == 0 && (n & 1) == 1;
}

double soupc__fn_go_pow(double x, double y) {
  double yi, yf, a1 = 1.0, x1;
  int ae = 0, xe;
  int64_t i;

  if (y == 0 || x == 1) {
    return 1;
  }
  if (y == 1) {
    return x;
  }
  if (isnan(x) || isnan(y)) {
    return NAN;
  }
  if (x == 0) {
    if (y < 0) {
      return go_is_odd_int(y) ? copysign(INFINITY, x) : INFINITY;
    }
    if (y > 0) {
      return go_is_odd_int(y) ? x : 0;
    }
  } else if (isinf(y)) {
    if (x == -1) {
      return 1;
    }
    return ((fabs(x) < 1) == (y > 0)) ? 0 : INFINITY;
  } else if (isinf(x)) {
    if (x < 0) {
      /* Pow(-Inf, y) = Pow(-0, -y), which the x == 0 case answers. */
      x = -0.0;
      y = -y;
      if (y < 0) {
        return go_is_odd_int(y) ? copysign(INFINITY, x) : INFINITY;
      }
      return go_is_odd_int(y) ? x : 0;
    }
    if (y < 0) {
      return 0;
    }
    if (y > 0) {
      return INFINITY;
    }
  } else if (y == 0.5) {
    return sqrt(x);
  } else if (y == -0.5) {
    return 1 / sqrt(x);
  }
  yi = go_modf(fabs(y), &yf);
  if (yf != 0 && x < 0) {
    return NAN;
  }
  if (yi >= 9223372036854775808.0) {
    if (x == -1) {
      return 1;
    }
    return ((fabs(x) < 1) == (y > 0)) ? 0 : INFINITY;
  }
  if (yf != 0) {
    if (yf > 0.5) {
      yf--;
      yi++;
    }
    a1 = soupc__fn_go_exp(yf * soupc__fn_go_log(x));
  }
  x1 = go_frexp(x, &xe);
  for (i = (int64_t)yi; i != 0; i >>= 1) {
    if (xe < -(1 << 12) || (1 << 12) < xe) {
      ae += xe;
      break;
    }
    if ((i & 1) == 1) {
      a1 *= x1;
      ae += xe;
    }
    x1 *= x1;
    xe *= 2; /* Go shifts negative ints too; C must not */
    if (x1 < .5) {
      x1 += x1;
      xe--;
    }
  }
  if (y < 0) {
    a1 = 1 / a1;
    ae = -ae;
  }
  return go_ldexp(a1, ae);
}
