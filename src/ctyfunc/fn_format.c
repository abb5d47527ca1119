/* go-cty stdlib format and formatlist (cty/function/stdlib/format.go and
 * format_fsm.go).
 *
 * The verb scanner is go-cty's Ragel machine: its generated tables are
 * reproduced below and driven the way the generated Go code drives them,
 * so every error offset matches. Numbers then go through what go-cty
 * hands them to: fmt.Sprintf of a *big.Float (%e %E %f %g %G) or a
 * *big.Int (%b %d %o %x %X), emulated here with fmt's flag parsing and
 * math/big's Format methods (Go >= 1.22's fmt: the '0' and '-' flags are
 * independent, docs/internals/cty-function.md). */
#include "ctyfunc/fn_int.h"

#include "base/alloc.h"

#include <string.h>

/* ---- format_fsm.go's tables ---- */

static const unsigned char fsm_actions[] = {
    0,  1, 0,  1,  1,  1,  2,  1, 4,  1,  5,  1,  6,  1, 7,  1, 8, 1,
    9,  1, 10, 1,  11, 1,  14, 1, 16, 1,  17, 1,  18, 2, 3,  4, 2, 12,
    10, 2, 12, 16, 2,  12, 18, 2, 13, 14, 2,  15, 10, 2, 15, 18};
static const unsigned char fsm_key_offsets[] = {0,  0,  14, 27, 34,
                                                36, 39, 43, 51};
static const unsigned char fsm_trans_keys[] = {
    32, 35, 37, 43, 45, 46, 48,  91, 49,  57, 65, 90, 97, 122, 32,  35,  43, 45,
    46, 48, 91, 49, 57, 65, 90,  97, 122, 91, 48, 57, 65, 90,  97,  122, 49, 57,
    93, 48, 57, 65, 90, 97, 122, 46, 91,  48, 57, 65, 90, 97,  122, 37};
static const unsigned char fsm_single_lengths[] = {0, 8, 7, 1, 0, 1, 0, 2, 1};
static const unsigned char fsm_range_lengths[] = {0, 3, 3, 3, 1, 1, 2, 3, 0};
static const unsigned char fsm_index_offsets[] = {0,  0,  12, 23, 28,
                                                  30, 33, 36, 42};
static const unsigned char fsm_indicies[] = {
    1,  2,  3, 4,  5, 6, 7,  10, 8,  9,  9,  0,  1,  2,  4,
    5,  6,  7, 10, 8, 9, 9,  0,  13, 11, 12, 12, 0,  14, 0,
    15, 14, 0, 9,  9, 0, 16, 19, 17, 18, 18, 0,  20, 3};
static const unsigned char fsm_trans_targs[] = {0, 2, 2, 8, 2, 2, 3, 2, 7, 8, 4,
                                                3, 8, 4, 5, 6, 3, 7, 8, 4, 1};
static const unsigned char fsm_trans_actions[] = {7,  17, 9,  3,  15, 13, 25,
                                                  11, 43, 29, 19, 27, 49, 46,
                                                  21, 0,  37, 23, 40, 34, 1};
static const unsigned char fsm_eof_actions[] = {0,  31, 31, 31, 31,
                                                31, 31, 31, 5};
enum {
  FSM_START = 8,
  FSM_FIRST_FINAL = 8
};

/* formatVerb; the numbers are Go ints (64 bits, wrapping). */
struct verb {
  const char *raw;
  size_t raw_len;
  size_t offset;
  int64_t argnum;
  char mode;
  bool zero, sharp, plus, minus, space;
  bool has_prec, has_width;
  int64_t prec, width;
};

static int64_t go_mul10_add(int64_t v, int d) {
  return (int64_t)((uint64_t)v * 10u + (uint64_t)d);
}

/* ---- Go's fmt, as far as a *big.Float or *big.Int operand goes ---- */

struct gofmt {
  bool sharp, zero, plus, minus, space;
  bool wid_ok, prec_ok, noverb;
  int64_t wid, prec;
  char verb;
};

/* fmt's parsenum, with its tooLarge guard. */
static size_t go_parsenum(const char *s, size_t start, size_t end, int64_t *num,
                          bool *isnum) {
  size_t i;

  *num = 0;
  *isnum = false;
  if (start >= end) {
    return end;
  }
  for (i = start; i < end && s[i] >= '0' && s[i] <= '9'; i++) {
    if (*num > 1000000) {
      *num = 0;
      *isnum = false;
      return end;
    }
    *num = *num * 10 + (s[i] - '0');
    *isnum = true;
  }
  return i;
}

/* doPrintf's parse of "%<flags><width><.prec><verb>" (no [n]). */
static void go_parse(struct gofmt *g, const char *s, size_t end) {
  size_t i = 1;

  memset(g, 0, sizeof(*g));
  for (; i < end; i++) {
    char ch = s[i];
    if (ch == '#') {
      g->sharp = true;
    } else if (ch == '0') {
      g->zero = true;
    } else if (ch == '+') {
      g->plus = true;
    } else if (ch == '-') {
      g->minus = true;
    } else if (ch == ' ') {
      g->space = true;
    } else if (ch >= 'a' && ch <= 'z') {
      g->verb = ch; /* the fast path: flags and a verb only */
      return;
    } else {
      break;
    }
  }
  i = go_parsenum(s, i, end, &g->wid, &g->wid_ok);
  if (i + 1 < end && s[i] == '.') {
    i = go_parsenum(s, i + 1, end, &g->prec, &g->prec_ok);
    if (!g->prec_ok) {
      g->prec = 0;
      g->prec_ok = true;
    }
  }
  if (i >= end) {
    g->noverb = true;
    return;
  }
  g->verb = s[i];
}

static void put_n(struct cty_buf *b, char ch, int64_t n) {
  for (; n > 0; n--) {
    soupc__cty_buf_putc(b, (uint8_t)ch);
  }
}

/* (*big.Float).Format(s, verb) for e E f g G. */
static void go_float(struct cty_buf *b, const struct gofmt *g,
                     const struct cty_num *x) {
  struct cty_buf t;
  const char *sign = "", *p;
  size_t len;
  int64_t prec = g->prec_ok ? g->prec : 6, pad = 0;
  bool inf = soupc__cty_num_is_inf(x);

  if ((g->verb == 'g' || g->verb == 'G') && !g->prec_ok) {
    prec = -1;
  }
  soupc__cty_buf_init(&t);
  soupc__cty_num_text(&t, x, g->verb, prec > INT32_MAX ? INT32_MAX : (int)prec);
  if (t.oom) {
    b->oom = true;
    soupc__cty_buf_dispose(&t);
    return;
  }
  p = (const char *)t.p;
  len = t.len;
  if (p[0] == '-') {
    sign = "-";
    p++;
    len--;
  } else if (p[0] == '+') {
    sign = g->space ? " " : "+";
    p++;
    len--;
  } else if (g->plus) {
    sign = "+";
  } else if (g->space) {
    sign = " ";
  }
  if (g->wid_ok && (uint64_t)g->wid > strlen(sign) + len) {
    pad = g->wid - (int64_t)(strlen(sign) + len);
  }
  if (g->zero && !inf) {
    soupc__cty_buf_puts(b, sign);
    put_n(b, '0', pad);
    soupc__cty_buf_put(b, p, len);
  } else if (g->minus) {
    soupc__cty_buf_puts(b, sign);
    soupc__cty_buf_put(b, p, len);
    put_n(b, ' ', pad);
  } else {
    put_n(b, ' ', pad);
    soupc__cty_buf_puts(b, sign);
    soupc__cty_buf_put(b, p, len);
  }
  soupc__cty_buf_dispose(&t);
}

/* |x| in @p base, lower-case letters; soupc__free() it. */
static char *int_digits(const mpz_t x, int base) {
  char *d = soupc__malloc(mpz_sizeinbase(x, base) + 2);

  if (d != NULL) {
    mpz_get_str(d, base, x);
    if (d[0] == '-') {
      memmove(d, d + 1, strlen(d));
    }
  }
  return d;
}

/* (*big.Int).Format(s, verb) for b d o x X. */
static void go_int(struct cty_buf *b, const struct gofmt *g, const mpz_t x) {
  const char *sign = "", *prefix = "";
  int base = g->verb == 'b' ? 2 : g->verb == 'o' ? 8 : g->verb == 'd' ? 10 : 16;
  char *digits;
  size_t nd, length;
  int64_t left = 0, zeros = 0, right = 0;

  if (mpz_sgn(x) < 0) {
    sign = "-";
  } else if (g->plus) {
    sign = "+";
  } else if (g->space) {
    sign = " ";
  }
  if (g->sharp) {
    prefix = g->verb == 'b'   ? "0b"
             : g->verb == 'o' ? "0"
             : g->verb == 'x' ? "0x"
             : g->verb == 'X' ? "0X"
                              : "";
  }
  digits = int_digits(x, base);
  if (digits == NULL) {
    b->oom = true;
    return;
  }
  nd = strlen(digits);
  if (g->verb == 'X') {
    size_t i;
    for (i = 0; i < nd; i++) {
      if (digits[i] >= 'a' && digits[i] <= 'z') {
        digits[i] = (char)('A' + (digits[i] - 'a'));
      }
    }
  }
  if (g->prec_ok) {
    if ((int64_t)nd < g->prec) {
      zeros = g->prec - (int64_t)nd;
    } else if (nd == 1 && digits[0] == '0' && g->prec == 0) {
      soupc__free(digits);
      return;
    }
  }
  length = strlen(sign) + strlen(prefix) + (size_t)zeros + nd;
  if (g->wid_ok && (int64_t)length < g->wid) {
    int64_t d = g->wid - (int64_t)length;
    if (g->minus) {
      right = d;
    } else if (g->zero && !g->prec_ok) {
      zeros = d;
    } else {
      left = d;
    }
  }
  put_n(b, ' ', left);
  soupc__cty_buf_puts(b, sign);
  soupc__cty_buf_puts(b, prefix);
  put_n(b, '0', zeros);
  soupc__cty_buf_put(b, digits, nd);
  put_n(b, ' ', right);
  soupc__free(digits);
}

/* fmt.Sprintf(raw-without-[n], *big.Float or *big.Int). */
static void go_sprintf(struct cty_buf *b, const struct verb *v,
                       const struct cty_num *x, bool as_int, const mpz_t xi) {
  size_t len = 0, i;
  struct gofmt g;
  struct cty_buf s;

  /* formatStripIndexSegment; the raw verb is short (flags, two
   * numbers, a letter), but may be longer than tmp. */
  soupc__cty_buf_init(&s);
  for (i = 0; i < v->raw_len; i++) {
    if (v->raw[i] == '[') {
      while (i < v->raw_len && v->raw[i] != ']') {
        i++;
      }
      continue;
    }
    soupc__cty_buf_putc(&s, (uint8_t)v->raw[i]);
  }
  if (s.oom) {
    b->oom = true;
    soupc__cty_buf_dispose(&s);
    return;
  }
  len = s.len;
  go_parse(&g, (const char *)s.p, len);
  soupc__cty_buf_dispose(&s);
  if (g.noverb) {
    soupc__cty_buf_puts(b, "%!(NOVERB)%!(EXTRA ");
    if (as_int) {
      char *d = int_digits(xi, 10);
      soupc__cty_buf_puts(b, "*big.Int=");
      if (d == NULL) {
        b->oom = true;
        return;
      }
      if (mpz_sgn(xi) < 0) {
        soupc__cty_buf_putc(b, '-');
      }
      soupc__cty_buf_puts(b, d);
      soupc__free(d);
    } else {
      soupc__cty_buf_puts(b, "*big.Float=");
      soupc__cty_num_text(b, x, 'g', -1);
    }
    soupc__cty_buf_putc(b, ')');
    return;
  }
  if (as_int) {
    go_int(b, &g, xi);
  } else {
    go_float(b, &g, x);
  }
}

/* ---- formatAppend ---- */

/* Padding beyond this many characters is refused (Go would try to
 * allocate it). */
#define FMT_MAX_PAD ((int64_t)1 << 26)

static int unsupported(struct fn_ctx *c, const struct verb *v,
                       const char *msg) {
  struct cty_buf b;

  soupc__cty_buf_init(&b);
  soupc__cty_buf_puts(&b, "unsupported value for ");
  soupc__cty_go_quote(&b, v->raw, v->raw_len);
  soupc__cty_buf_printf(&b, " at %zu: %s", v->offset, msg);
  return soupc__fn_fail_buf(c, -1, &b);
}

/* formatPadWidth, appending to @p out. */
static int pad_width(struct fn_ctx *c, struct cty_buf *out,
                     const struct verb *v, const char *s, size_t len) {
  int64_t given, pad;

  if (v->width < 0) {
    soupc__cty_buf_put(out, s, len);
    return 0;
  }
  given = (int64_t)soupc__fn_grapheme_count(s, len);
  if (given >= v->width) {
    soupc__cty_buf_put(out, s, len);
    return 0;
  }
  pad = v->width - given;
  if (pad > FMT_MAX_PAD) {
    return soupc__fn_fail(c, -1, "format: a width of %lld is too large",
                          (long long)v->width);
  }
  if (v->minus) {
    soupc__cty_buf_put(out, s, len);
  }
  put_n(out, v->zero ? '0' : ' ', pad);
  if (!v->minus) {
    soupc__cty_buf_put(out, s, len);
  }
  return 0;
}

static int convert_arg(struct soupc_cty_value **out, struct fn_ctx *c,
                       const struct verb *v, const struct soupc_cty_value *arg,
                       soupc_cty_kind kind) {
  struct soupc_cty_path *path = NULL;
  soupc_status st;
  int rv;

  soupc_status_clear(&st);
  rv = soupc__cty_convert(out, arg, soupc__cty_type_prim(kind), &path, &st);
  soupc_cty_path_free(path);
  if (rv == 0 || rv == SOUPC_ERR_NOMEM) {
    return rv;
  }
  if (rv == SOUPC_ERR_CTY_PANIC) {
    return soupc__fn_status(c, -1, rv, &st);
  }
  return unsupported(c, v, st.message);
}

static int append_json(struct fn_ctx *c, struct cty_buf *out,
                       const struct verb *v,
                       const struct soupc_cty_value *arg) {
  soupc_status st;
  char *js = NULL;
  size_t len = 0;
  int rv;

  soupc_status_clear(&st);
  rv = soupc_cty_json_encode(&js, &len, arg, arg->type, &st);
  if (rv == SOUPC_ERR_NOMEM) {
    return rv;
  }
  if (rv == SOUPC_ERR_CTY_PANIC) {
    return soupc__fn_status(c, -1, rv, &st);
  }
  if (rv != 0) {
    return unsupported(c, v, st.message);
  }
  rv = pad_width(c, out, v, js, len);
  soupc_cty_free_bytes(js);
  return rv;
}

static int append_as_is(struct fn_ctx *c, struct cty_buf *out,
                        const struct verb *v,
                        const struct soupc_cty_value *arg) {
  if (!v->sharp && !cty_is_null(arg)) {
    if (arg->type->kind == SOUPC_CTY_STRING) {
      return pad_width(c, out, v, arg->u.str.s, arg->u.str.len);
    }
    if (arg->type->kind == SOUPC_CTY_NUMBER) {
      struct cty_buf t;
      int rv;
      soupc__cty_buf_init(&t);
      soupc__cty_num_text_g(&t, arg->u.num);
      rv = t.oom ? SOUPC_ERR_NOMEM
                 : pad_width(c, out, v, t.len ? (const char *)t.p : "", t.len);
      soupc__cty_buf_dispose(&t);
      return rv;
    }
  }
  return append_json(c, out, v, arg);
}

static int append_bool(struct fn_ctx *c, struct cty_buf *out,
                       const struct verb *v,
                       const struct soupc_cty_value *arg) {
  struct soupc_cty_value *bv = NULL;
  int rv = convert_arg(&bv, c, v, arg, SOUPC_CTY_BOOL);

  if (rv != 0) {
    return rv;
  }
  soupc__cty_buf_puts(out, cty_unmarked(bv)->u.b ? "true" : "false");
  soupc_cty_value_free(bv);
  return 0;
}

static int append_number(struct fn_ctx *c, struct cty_buf *out,
                         const struct verb *v,
                         const struct soupc_cty_value *arg) {
  struct soupc_cty_value *nv = NULL;
  const struct cty_num *x;
  int rv = convert_arg(&nv, c, v, arg, SOUPC_CTY_NUMBER);

  if (rv != 0) {
    return rv;
  }
  x = cty_unmarked(nv)->u.num;
  if (strchr("bdoxX", v->mode) != NULL) {
    mpz_t i;
    if (soupc__cty_num_is_inf(x) || !mpfr_integer_p(x->f)) {
      soupc_cty_value_free(nv);
      return unsupported(c, v, "an integer is required");
    }
    mpz_init(i);
    mpfr_get_z(i, x->f, MPFR_RNDZ);
    go_sprintf(out, v, x, true, i);
    mpz_clear(i);
  } else {
    mpz_t unused;
    mpz_init(unused);
    go_sprintf(out, v, x, false, unused);
    mpz_clear(unused);
  }
  soupc_cty_value_free(nv);
  return 0;
}

static int append_string(struct fn_ctx *c, struct cty_buf *out,
                         const struct verb *v,
                         const struct soupc_cty_value *arg) {
  struct soupc_cty_value *sv = NULL;
  const char *s;
  size_t len, pos = 0;
  int64_t i;
  int rv = convert_arg(&sv, c, v, arg, SOUPC_CTY_STRING);

  if (rv != 0) {
    return rv;
  }
  s = cty_unmarked(sv)->u.str.s;
  len = cty_unmarked(sv)->u.str.len;
  if (v->prec > 0) {
    for (i = 0; i < v->prec && pos < len; i++) {
      pos += soupc__fn_grapheme(s + pos, len - pos);
    }
    len = pos;
  }
  if (v->mode == 's') {
    rv = pad_width(c, out, v, s, len);
  } else {
    /* json.Marshal(cty.StringVal(str)): NFC first, then quoted. */
    size_t nl = 0;
    char *nfc = soupc__cty_nfc(s, len, &nl);
    struct cty_buf q;
    if (nfc == NULL) {
      soupc_cty_value_free(sv);
      return SOUPC_ERR_NOMEM;
    }
    soupc__cty_buf_init(&q);
    soupc__cty_json_quote(&q, nfc, nl);
    soupc__free(nfc);
    rv = q.oom ? SOUPC_ERR_NOMEM
               : pad_width(c, out, v, (const char *)q.p, q.len);
    soupc__cty_buf_dispose(&q);
  }
  soupc_cty_value_free(sv);
  return rv;
}

static int format_append(struct fn_ctx *c, struct cty_buf *out, struct verb *v,
                         struct soupc_cty_value *const *args, size_t nargs) {
  const struct soupc_cty_value *arg;
  int64_t idx = (int64_t)((uint64_t)v->argnum - 1u);

  if (idx >= 0 && (uint64_t)idx >= nargs) {
    struct cty_buf b;
    soupc__cty_buf_init(&b);
    soupc__cty_buf_puts(&b, "not enough arguments for ");
    soupc__cty_go_quote(&b, v->raw, v->raw_len);
    soupc__cty_buf_printf(&b, " at %zu: need index %lld but have %zu total",
                          v->offset, (long long)v->argnum, nargs);
    return soupc__fn_fail_buf(c, -1, &b);
  }
  if (idx < 0) {
    /* args[argIdx] with a wrapped-around index */
    return soupc__fn_fail(c, -1,
                          "panic in function implementation: runtime error: "
                          "index out of range [%lld]",
                          (long long)idx);
  }
  arg = args[idx];
  if (v->mode != 'v' && cty_is_null(arg)) {
    return unsupported(c, v, "null value cannot be formatted");
  }
  if (!v->has_width) {
    v->width = -1;
  }
  if (!v->has_prec) {
    v->prec = -1;
  }
  switch (v->mode) {
  case 'v':
    return append_as_is(c, out, v, arg);
  case 't':
    return append_bool(c, out, v, arg);
  case 'b':
  case 'd':
  case 'o':
  case 'x':
  case 'X':
  case 'e':
  case 'E':
  case 'f':
  case 'g':
  case 'G':
    return append_number(c, out, v, arg);
  case 's':
  case 'q':
    return append_string(c, out, v, arg);
  default: {
    struct cty_buf b;
    soupc__cty_buf_init(&b);
    soupc__cty_buf_puts(&b, "unsupported format verb ");
    soupc__fn_quote_rune(&b, (int32_t)(unsigned char)v->mode);
    soupc__cty_buf_puts(&b, " in ");
    soupc__cty_go_quote(&b, v->raw, v->raw_len);
    soupc__cty_buf_printf(&b, " at offset %zu", v->offset);
    return soupc__fn_fail_buf(c, -1, &b);
  }
  }
}

/* formatFSM(format, args): the result string into @p out. */
static int format_fsm(struct fn_ctx *c, struct cty_buf *out, const char *data,
                      size_t pe, struct soupc_cty_value *const *args,
                      size_t nargs) {
  struct verb v;
  int64_t next_arg = 1, highest = 0;
  size_t p = 0, ts = 0;
  int cs = FSM_START;
  int rv;

  memset(&v, 0, sizeof(v));
  for (; p < pe; p++) {
    unsigned char ch = (unsigned char)data[p];
    int keys = fsm_key_offsets[cs];
    int trans = fsm_index_offsets[cs];
    int klen = fsm_single_lengths[cs];
    int acts, nacts;
    bool matched = false;

    if (klen > 0) {
      int lo = keys, hi = keys + klen - 1;
      while (lo <= hi) {
        int mid = lo + ((hi - lo) >> 1);
        if (ch < fsm_trans_keys[mid]) {
          hi = mid - 1;
        } else if (ch > fsm_trans_keys[mid]) {
          lo = mid + 1;
        } else {
          trans += mid - keys;
          matched = true;
          break;
        }
      }
      if (!matched) {
        keys += klen;
        trans += klen;
      }
    }
    if (!matched) {
      klen = fsm_range_lengths[cs];
      if (klen > 0) {
        int lo = keys, hi = keys + (klen << 1) - 2;
        while (lo <= hi) {
          int mid = lo + (((hi - lo) >> 1) & ~1);
          if (ch < fsm_trans_keys[mid]) {
            hi = mid - 2;
          } else if (ch > fsm_trans_keys[mid + 1]) {
            lo = mid + 2;
          } else {
            trans += (mid - keys) >> 1;
            matched = true;
            break;
          }
        }
        if (!matched) {
          trans += klen;
        }
      }
    }
    trans = fsm_indicies[trans];
    cs = fsm_trans_targs[trans];
    acts = fsm_trans_actions[trans];
    nacts = acts != 0 ? fsm_actions[acts++] : 0;
    for (; nacts > 0; nacts--) {
      switch (fsm_actions[acts++]) {
      case 0: /* begin */
        memset(&v, 0, sizeof(v));
        v.argnum = next_arg;
        v.prec = -1;
        v.width = -1;
        ts = p;
        break;
      case 1: /* emit */
        soupc__cty_buf_putc(out, ch);
        break;
      case 4: { /* err_char */
        size_t sz = 0;
        struct cty_buf b;
        int32_t r = soupc__fn_rune(data + p, pe - p, &sz);
        soupc__cty_buf_init(&b);
        soupc__cty_buf_puts(&b, "unrecognized format character ");
        soupc__fn_quote_rune(&b, r);
        soupc__cty_buf_printf(&b, " at offset %zu", p);
        return soupc__fn_fail_buf(c, -1, &b);
      }
      case 5:
        v.sharp = true;
        break;
      case 6:
        v.zero = true;
        break;
      case 7:
        v.minus = true;
        break;
      case 8:
        v.plus = true;
        break;
      case 9:
        v.space = true;
        break;
      case 10:
        v.argnum = 0;
        break;
      case 11:
        v.argnum = go_mul10_add(v.argnum, ch - '0');
        break;
      case 12:
        v.has_width = true;
        break;
      case 13:
        v.width = 0;
        break;
      case 14:
        v.width = go_mul10_add(v.width, ch - '0');
        break;
      case 15:
        v.has_prec = true;
        break;
      case 16:
        v.prec = 0;
        break;
      case 17:
        v.prec = go_mul10_add(v.prec, ch - '0');
        break;
      case 18: /* mode */
        v.mode = (char)ch;
        v.raw = data + ts;
        v.raw_len = p + 1 - ts;
        v.offset = ts;
        if (v.argnum > highest) {
          highest = v.argnum;
        }
        rv = format_append(c, out, &v, args, nargs);
        if (rv != 0) {
          return rv;
        }
        next_arg = (int64_t)((uint64_t)v.argnum + 1u);
        break;
      default:
        break;
      }
    }
    if (cs == 0) {
      break;
    }
  }
  if (p == pe) {
    int acts = fsm_eof_actions[cs];
    int nacts = fsm_actions[acts++];
    for (; nacts > 0; nacts--) {
      if (fsm_actions[acts++] == 3) {
        return soupc__fn_fail(
            c, -1, "invalid format string starting at offset %zu", p);
      }
    }
  }
  if (cs < FSM_FIRST_FINAL) {
    return soupc__fn_fail(c, -1,
                          "extraneous characters beginning at offset %zu", p);
  }
  if ((uint64_t)highest < nargs) {
    if (highest == 0) {
      return soupc__fn_fail(c, 1,
                            "too many arguments; no verbs in format string");
    }
    return soupc__fn_fail(c, highest + 1,
                          "too many arguments; only %lld used by format string",
                          (long long)highest);
  }
  return out->oom ? SOUPC_ERR_NOMEM : 0;
}

/* ---- format ---- */

static int format_string(struct soupc_cty_value **out, struct fn_ctx *c,
                         const struct soupc_cty_value *f,
                         struct soupc_cty_value *const *args, size_t nargs) {
  struct cty_buf b;
  int rv;

  soupc__cty_buf_init(&b);
  rv = format_fsm(c, &b, f->u.str.s, f->u.str.len, args, nargs);
  if (rv != 0) {
    soupc__cty_buf_dispose(&b);
    return rv;
  }
  return soupc__fn_str_buf(out, &b);
}

static int format_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                       struct soupc_cty_value *const *a, size_t n,
                       const struct soupc_cty_type *ret) {
  size_t i;

  for (i = 1; i < n; i++) {
    if (!soupc__fn_wholly_known(a[i])) {
      const char *f = a[0]->u.str.s;
      const char *pct = memchr(f, '%', a[0]->u.str.len);
      struct soupc_cty_value *u = NULL;
      soupc_cty_refiner *b = NULL;
      soupc_status st;
      int rv = soupc__fn_unknown(&u, ret);
      if (rv != 0 || pct == NULL || pct == f) {
        *out = u;
        return rv;
      }
      rv = soupc_cty_refine_begin(&b, u);
      soupc_cty_value_free(u);
      if (rv != 0) {
        return rv;
      }
      soupc_cty_refine_string_prefix(b, f, (size_t)(pct - f));
      soupc_status_clear(&st);
      rv = soupc_cty_refine_finish(out, b, &st);
      return soupc__fn_status(c, -1, rv, &st);
    }
  }
  return format_string(out, c, a[0], a + 1, n - 1);
}

/* ---- formatlist ---- */

static int formatlist_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                           struct soupc_cty_value *const *a, size_t n,
                           const struct soupc_cty_type *ret) {
  struct soupc_cty_value *const *args = a + 1;
  size_t nargs = n - 1, i, it;
  int64_t iter_len = -1, chooser = -1;
  struct soupc_cty_value **res = NULL, **fa = NULL;
  size_t *pos = NULL;
  bool *iter = NULL, unknown = false;
  int rv = 0;

  if (nargs == 0) {
    struct soupc_cty_value *s = NULL;
    struct soupc_cty_value **items;
    rv = format_string(&s, c, a[0], args, 0);
    if (rv != 0) {
      return rv;
    }
    items = FN_PTR_ARRAY(1);
    if (items == NULL) {
      soupc_cty_value_free(s);
      return SOUPC_ERR_NOMEM;
    }
    items[0] = s;
    return soupc__fn_list(out, soupc__fn_type(FN_T_STRING), items, 1);
  }
  iter = soupc__calloc(nargs, sizeof(bool));
  pos = soupc__calloc(nargs, sizeof(size_t));
  fa = FN_PTR_ARRAY(nargs);
  if (iter == NULL || pos == NULL || fa == NULL) {
    rv = SOUPC_ERR_NOMEM;
    goto done;
  }
  for (i = 0; i < nargs; i++) {
    const struct soupc_cty_value *arg = args[i];
    soupc_cty_kind k = arg->type->kind;
    if ((k == SOUPC_CTY_LIST || k == SOUPC_CTY_SET || k == SOUPC_CTY_TUPLE) &&
        !cty_is_null(arg)) {
      size_t this_len = 0;
      soupc_status st;
      if (k != SOUPC_CTY_TUPLE) {
        bool lk = false;
        if (cty_is_known(arg)) {
          struct soupc_cty_value *l = NULL;
          soupc_status_clear(&st);
          rv = soupc__cty_length(&l, arg, &st);
          if (rv != 0) {
            rv = soupc__fn_status(c, -1, rv, &st);
            goto done;
          }
          lk = cty_is_known(l);
          soupc_cty_value_free(l);
        }
        if (!lk) {
          unknown = true;
          continue;
        }
      }
      soupc_status_clear(&st);
      rv = soupc_cty_value_length_int(arg, &this_len, &st);
      if (rv != 0) {
        rv = soupc__fn_status(c, -1, rv, &st);
        goto done;
      }
      if (iter_len == -1) {
        iter_len = (int64_t)this_len;
        chooser = (int64_t)i;
      } else if ((int64_t)this_len != iter_len) {
        rv = soupc__fn_fail(c, (long)i + 1,
                            "argument %zu has length %zu, which is "
                            "inconsistent with argument %lld of length %lld",
                            i + 1, this_len, (long long)chooser + 1,
                            (long long)iter_len);
        goto done;
      }
      if (!cty_is_known(arg)) {
        unknown = true;
        continue;
      }
      iter[i] = true;
    } else if (cty_is_dynamic_val(arg)) {
      unknown = true;
    }
  }
  if (unknown) {
    rv = soupc__fn_unknown(out, ret);
    goto done;
  }
  if (iter_len == 0) {
    rv =
        soupc__cty_empty_coll(out, SOUPC_CTY_LIST, soupc__fn_type(FN_T_STRING));
    goto done;
  }
  if (iter_len == -1) {
    iter_len = 1;
  }
  res = FN_PTR_ARRAY(iter_len);
  if (res == NULL) {
    rv = SOUPC_ERR_NOMEM;
    goto done;
  }
  for (it = 0; it < (size_t)iter_len && rv == 0; it++) {
    bool unk = false;
    for (i = 0; i < nargs; i++) {
      fa[i] = iter[i] ? args[i]->u.c.items[pos[i]++] : args[i];
      if (!soupc__fn_wholly_known(fa[i])) {
        unk = true; /* go-cty moves on without advancing the rest */
        break;
      }
    }
    if (unk) {
      struct soupc_cty_value *u = NULL;
      rv = soupc__fn_unknown(&u, soupc__fn_type(FN_T_STRING));
      if (rv == 0) {
        soupc_status st;
        soupc_status_clear(&st);
        rv = soupc_cty_value_refine_not_null(&res[it], u, &st);
        rv = soupc__fn_status(c, -1, rv, &st);
        soupc_cty_value_free(u);
      }
      continue;
    }
    {
      struct fn_ctx inner = {c->f, NULL, -1, false};
      rv = format_string(&res[it], &inner, a[0], fa, nargs);
      if (rv == FN_EFAIL) {
        static const char panic_pfx[] = "panic in function implementation: ";
        const char *m = inner.err != NULL ? inner.err : "";
        /* a panic leaves formatFSM unwrapped */
        rv = strncmp(m, panic_pfx, sizeof(panic_pfx) - 1) == 0
                 ? soupc__fn_fail(c, -1, "%s", m)
                 : soupc__fn_fail(c, -1, "error on format iteration %zu: %s",
                                  it, m);
      }
      soupc__free(inner.err);
      if (inner.oom && rv == 0) {
        rv = SOUPC_ERR_NOMEM;
      }
    }
  }
  if (rv == 0) {
    rv =
        soupc__fn_list(out, soupc__fn_type(FN_T_STRING), res, (size_t)iter_len);
    res = NULL;
  }
done:
  if (res != NULL) {
    for (it = 0; it < (size_t)iter_len; it++) {
      soupc_cty_value_free(res[it]);
    }
    soupc__free(res);
  }
  soupc__free(fa);
  soupc__free(pos);
  soupc__free(iter);
  return rv;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct fn_param p_format[] = {{"format", FN_T_STRING, 0}};
static const struct fn_param p_args = {"args", FN_T_DYNAMIC,
                                       SOUPC_CTY_PARAM_ALLOW_NULL |
                                           SOUPC_CTY_PARAM_ALLOW_UNKNOWN |
                                           SOUPC_CTY_PARAM_ALLOW_DYNAMIC};

const struct soupc_cty_function soupc__fn_format[] = {
    {"format",
     "Constructs a string by applying formatting verbs to a series of "
     "arguments, using a similar syntax to the C function \\\"printf\\\".",
     p_format, N(p_format), &p_args, NULL, FN_T_STRING, FN_REFINE_NOT_NULL,
     format_impl},
    {"formatlist",
     "Constructs a list of strings by applying formatting verbs to a series "
     "of arguments, using a similar syntax to the C function "
     "\\\"printf\\\".",
     p_format, N(p_format), &p_args, NULL, FN_T_LIST_STRING, FN_REFINE_NOT_NULL,
     formatlist_impl},
};
const size_t soupc__fn_format_count = N(soupc__fn_format);
