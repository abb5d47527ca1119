/* go-cty stdlib formatdate and timeadd (cty/function/stdlib/datetime.go,
 * datetime_rfc3339.go), with the pieces of Go's time package they rely on:
 * the strict RFC 3339 parser go-cty carries, time.Parse(time.RFC3339, ...)
 * for its error details (Go 1.25's format.go), time.ParseDuration,
 * Time.Add and Time.Format. Times are seconds since the Unix epoch plus
 * nanoseconds and a fixed UTC offset, on the proleptic Gregorian calendar
 * as Go's are. */
#include "ctyfunc/fn_int.h"

#include "base/alloc.h"

#include <stdio.h>
#include <string.h>

struct go_time {
  int64_t sec;  /* since 1970-01-01T00:00:00Z */
  int32_t nsec; /* 0 <= nsec < 1e9 */
  int32_t off;  /* seconds east of UTC (the FixedZone's offset) */
};

/* ---- the calendar ---- */

static bool is_leap(int64_t y) {
  return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

static int days_in(int m, int64_t y) {
  static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return (m == 2 && is_leap(y)) ? 29 : d[m - 1];
}

static int64_t days_from_civil(int64_t y, int m, int d) {
  int64_t era, yoe, doy, doe;

  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = y - era * 400;
  doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
  int64_t era, doe, yoe, doy, mp;

  z += 719468;
  era = (z >= 0 ? z : z - 146096) / 146097;
  doe = z - era * 146097;
  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* The broken-down local time of @p t. */
struct civil {
  int64_t year;
  int month, day, hour, min, sec, wday; /* wday: 0 = Sunday */
};

static void to_civil(struct civil *c, const struct go_time *t) {
  int64_t local = t->sec + t->off;
  int64_t days = floor_div(local, 86400);
  int64_t rem = local - days * 86400;

  civil_from_days(days, &c->year, &c->month, &c->day);
  c->hour = (int)(rem / 3600);
  c->min = (int)(rem % 3600 / 60);
  c->sec = (int)(rem % 60);
  c->wday = (int)(((days % 7) + 11) % 7); /* 1970-01-01 was a Thursday */
}

/* time.Date(...) in a fixed zone of @p off seconds. */
static void from_civil(struct go_time *t, int64_t y, int m, int d, int hh,
                       int mm, int ss, int32_t nsec, int32_t off) {
  t->sec = days_from_civil(y, m, d) * 86400 + (int64_t)hh * 3600 +
           (int64_t)mm * 60 + ss - off;
  t->nsec = nsec;
  t->off = off;
}

/* ---- go-cty's parseRFC3339 (the strict form, Go 1.20's) ---- */

struct uparse {
  const char *s;
  bool ok;
};

static int parse_uint(struct uparse *u, size_t at, size_t n, int min, int max) {
  int x = 0;
  size_t i;

  for (i = 0; i < n; i++) {
    char ch = u->s[at + i];
    if (ch < '0' || ch > '9') {
      u->ok = false;
      return min;
    }
    x = x * 10 + (ch - '0');
  }
  if (x < min || x > max) {
    u->ok = false;
    return min;
  }
  return x;
}

/* parseNanoseconds: s[0] is '.' or ','; n bytes including it. */
static int32_t parse_nanos(const char *s, size_t n) {
  int32_t ns = 0;
  size_t i;

  if (n > 10) {
    n = 10;
  }
  for (i = 1; i < n; i++) {
    ns = ns * 10 + (s[i] - '0');
  }
  for (i = 10 - n; i > 0; i--) {
    ns *= 10;
  }
  return ns;
}

static bool is_digit_at(const char *s, size_t len, size_t i) {
  return i < len && s[i] >= '0' && s[i] <= '9';
}

static bool parse_rfc3339(struct go_time *t, const char *s, size_t len) {
  struct uparse u = {s, true};
  int year, month, day, hour, min, sec;
  int32_t nsec = 0, off = 0;
  size_t rest;

  if (len < 19) {
    return false;
  }
  year = parse_uint(&u, 0, 4, 0, 9999);
  month = parse_uint(&u, 5, 2, 1, 12);
  day = parse_uint(&u, 8, 2, 1, days_in(month, year));
  hour = parse_uint(&u, 11, 2, 0, 23);
  min = parse_uint(&u, 14, 2, 0, 59);
  sec = parse_uint(&u, 17, 2, 0, 59);
  if (!u.ok || !(s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' &&
                 s[16] == ':')) {
    return false;
  }
  rest = 19;
  if (len - rest >= 2 && s[rest] == '.' && is_digit_at(s, len, rest + 1)) {
    size_t n = 2;
    while (rest + n < len && is_digit_at(s, len, rest + n)) {
      n++;
    }
    nsec = parse_nanos(s + rest, n);
    rest += n;
  }
  if (!(len - rest == 1 && s[rest] == 'Z')) {
    int hr, mm;
    if (len - rest != 6) {
      return false;
    }
    hr = parse_uint(&u, rest + 1, 2, 0, 23);
    mm = parse_uint(&u, rest + 4, 2, 0, 59);
    if (!u.ok || !((s[rest] == '-' || s[rest] == '+') && s[rest + 3] == ':')) {
      return false;
    }
    off = (hr * 60 + mm) * 60;
    if (s[rest] == '-') {
      off = -off;
    }
  }
  from_civil(t, year, month, day, hour, min, sec, nsec, off);
  return true;
}

/* ---- time.Parse(time.RFC3339, s): only its errors are used ---- */

/* time.ParseError's fields; layout_elem and value_elem point into static
 * strings or into the value. */
struct parse_err {
  const char *layout_elem;
  const char *value_elem;
  size_t value_elem_len;
  char message[160];
};

static bool getnum(const char *s, size_t len, size_t *used, int *n,
                   bool fixed) {
  if (!is_digit_at(s, len, 0)) {
    return false;
  }
  if (!is_digit_at(s, len, 1)) {
    if (fixed) {
      return false;
    }
    *n = s[0] - '0';
    *used = 1;
    return true;
  }
  *n = (s[0] - '0') * 10 + (s[1] - '0');
  *used = 2;
  return true;
}

static void perr(struct parse_err *e, const char *layout_elem, const char *v,
                 size_t vlen, const char *msg) {
  e->layout_elem = layout_elem;
  e->value_elem = v;
  e->value_elem_len = vlen;
  snprintf(e->message, sizeof(e->message), "%s", msg);
}

/* Go's parse() for layout "2006-01-02T15:04:05Z07:00". @return true if Go
 * accepts the value; otherwise *e describes the ParseError. */
static bool lenient_parse(struct parse_err *e, const char *s, size_t len) {
  static const char *const lits[] = {"", "-", "-", "T", ":", ":", ""};
  static const char *const stds[] = {"2006", "01", "02",    "15",
                                     "04",   "05", "Z07:00"};
  size_t i = 0, chunk;
  int year = 0, month = -1, day = -1, n = 0;
  char msg[64];

  for (chunk = 0; chunk < 7; chunk++) {
    const char *lit = lits[chunk];
    size_t k, used = 0;
    const char *hold;
    bool bad = false;
    const char *range = NULL;
    /* skip(value, prefix): the literal must be there */
    for (k = 0; lit[k] != '\0'; k++) {
      if (i >= len || s[i] != lit[k]) {
        perr(e, lit, s + i, len - i, "");
        return false;
      }
      i++;
    }
    hold = s + i;
    switch (chunk) {
    case 0: /* stdLongYear: four characters through atoi */
      if (len - i < 4 || !is_digit_at(s, len, i)) {
        bad = true;
        break;
      }
      for (k = 0, year = 0; k < 4; k++) {
        if (!is_digit_at(s, len, i + k)) {
          bad = true;
          break;
        }
        year = year * 10 + (s[i + k] - '0');
      }
      i += 4;
      break;
    case 1: /* stdZeroMonth */
      if (!getnum(s + i, len - i, &used, &month, true)) {
        bad = true;
        break;
      }
      i += used;
      if (month <= 0 || month > 12) {
        range = "month";
      }
      break;
    case 2: /* stdZeroDay */
      if (!getnum(s + i, len - i, &used, &day, true)) {
        bad = true;
        break;
      }
      i += used;
      break;
    case 3: /* stdHour: one or two digits */
      if (!getnum(s + i, len - i, &used, &n, false)) {
        bad = true;
        n = 0;
      } else {
        i += used;
      }
      if (n < 0 || n >= 24) {
        range = "hour";
      }
      break;
    case 4: /* stdZeroMinute */
      if (!getnum(s + i, len - i, &used, &n, true)) {
        bad = true;
        n = 0;
      } else {
        i += used;
      }
      if (n < 0 || n >= 60) {
        range = "minute";
      }
      break;
    case 5: /* stdZeroSecond, then a fraction the layout does not have */
      if (!getnum(s + i, len - i, &used, &n, true)) {
        bad = true;
        break;
      }
      i += used;
      if (n < 0 || n >= 60) {
        range = "second";
        break;
      }
      if (len - i >= 2 && (s[i] == '.' || s[i] == ',') &&
          is_digit_at(s, len, i + 1)) {
        size_t m = 2;
        while (i + m < len && is_digit_at(s, len, i + m)) {
          m++;
        }
        i += m;
      }
      break;
    case 6: /* stdISO8601ColonTZ */
      if (i < len && s[i] == 'Z') {
        i++;
        break;
      }
      if (len - i < 6 || s[i + 3] != ':') {
        bad = true;
        break;
      }
      {
        int hr, mm;
        size_t u2;
        if (!getnum(s + i + 1, 2, &u2, &hr, true) ||
            !getnum(s + i + 4, 2, &u2, &mm, true)) {
          bad = true;
        } else {
          if (hr > 24) {
            range = "time zone offset hour";
          }
          if (mm > 60) {
            range = "time zone offset minute";
          }
          if (s[i] != '+' && s[i] != '-') {
            bad = true;
          }
        }
        i += 6;
      }
      break;
    default:
      break;
    }
    if (range != NULL) {
      snprintf(msg, sizeof(msg), ": %s out of range", range);
      perr(e, stds[chunk], s + i, len - i, msg);
      return false;
    }
    if (bad) {
      perr(e, stds[chunk], hold, len - (size_t)(hold - s), "");
      return false;
    }
  }
  if (i < len) {
    perr(e, "", s + i, len - i, ": extra text: ");
    return false; /* the caller quotes the extra text */
  }
  if (day < 1 || day > days_in(month, year)) {
    perr(e, "", s + i, len - i, ": day out of range");
    return false;
  }
  return true;
}

/* Go's time.quote (not strconv's): bytes of non-ASCII and control
 * characters as \x escapes. */
static void time_quote(struct cty_buf *b, const char *s, size_t len) {
  static const char hex[] = "0123456789abcdef";
  size_t i = 0;

  soupc__cty_buf_putc(b, '"');
  while (i < len) {
    size_t sz;
    int32_t r = soupc__fn_rune(s + i, len - i, &sz);
    if (r >= 0x80 || r < ' ') {
      size_t j, w = sz;
      if (r == 0xFFFD) {
        w = (i + 2 < len && memcmp(s + i, "\xef\xbf\xbd", 3) == 0) ? 3 : 1;
      }
      for (j = 0; j < w; j++) {
        soupc__cty_buf_puts(b, "\\x");
        soupc__cty_buf_putc(b, (uint8_t)hex[(uint8_t)s[i + j] >> 4]);
        soupc__cty_buf_putc(b, (uint8_t)hex[(uint8_t)s[i + j] & 0xF]);
      }
    } else {
      if (r == '"' || r == '\\') {
        soupc__cty_buf_putc(b, '\\');
      }
      soupc__cty_buf_put(b, s + i, sz);
    }
    i += sz;
  }
  soupc__cty_buf_putc(b, '"');
}

/* parseStrictRFC3339 + parseTimestamp (datetime.go): *t, or an error. */
static int parse_timestamp(struct go_time *t, struct fn_ctx *c, long arg,
                           const char *s, size_t len) {
  struct parse_err e;
  struct cty_buf b;
  const char *what;

  if (parse_rfc3339(t, s, len)) {
    return 0;
  }
  if (lenient_parse(&e, s, len)) {
    /* Go's general parser takes what the strict one refuses. */
    int hr, mm;
    if (s[12] == ':') {
      return soupc__fn_fail(c, arg,
                            "not a valid RFC3339 timestamp: hour must have "
                            "exactly two digits");
    }
    if (s[19] == ',') {
      perr(&e, ".", ",", 1, ": sub-second separator must be a period");
    } else if (s[len - 1] != 'Z') {
      hr = (s[len - 5] - '0') * 10 + (s[len - 4] - '0');
      mm = (s[len - 2] - '0') * 10 + (s[len - 1] - '0');
      if (hr >= 24) {
        perr(&e, "Z07:00", s + len - 6, 6, ": timezone hour out of range");
      } else if (mm >= 60) {
        perr(&e, "Z07:00", s + len - 6, 6, ": timezone minute out of range");
      } else {
        perr(&e, "2006-01-02T15:04:05Z07:00", s, len, "");
      }
    } else {
      perr(&e, "2006-01-02T15:04:05Z07:00", s, len, "");
    }
  }
  if (e.layout_elem[0] == '\0' && e.value_elem_len == 0 &&
      e.message[0] != '\0') {
    return soupc__fn_fail(c, arg, "not a valid RFC3339 timestamp%s", e.message);
  }
  /* LayoutElem "" with a value (extra text) is a "timestamp segment". */
  if (strcmp(e.layout_elem, "2006") == 0) {
    what = "year";
  } else if (strcmp(e.layout_elem, "01") == 0) {
    what = "month";
  } else if (strcmp(e.layout_elem, "02") == 0) {
    what = "day of month";
  } else if (strcmp(e.layout_elem, "15") == 0) {
    what = "hour";
  } else if (strcmp(e.layout_elem, "04") == 0) {
    what = "minute";
  } else if (strcmp(e.layout_elem, "05") == 0) {
    what = "second";
  } else if (strcmp(e.layout_elem, "Z07:00") == 0) {
    what = "UTC offset";
  } else if (strcmp(e.layout_elem, "T") == 0) {
    return soupc__fn_fail(c, arg,
                          "not a valid RFC3339 timestamp: missing required "
                          "time introducer 'T'");
  } else if (strcmp(e.layout_elem, ":") == 0 ||
             strcmp(e.layout_elem, "-") == 0) {
    soupc__cty_buf_init(&b);
    if (e.value_elem_len == 0) {
      soupc__cty_buf_puts(&b, "not a valid RFC3339 timestamp: end of string "
                              "where ");
      soupc__cty_go_quote(&b, e.layout_elem, 1);
      soupc__cty_buf_puts(&b, " is expected");
    } else {
      soupc__cty_buf_puts(&b, "not a valid RFC3339 timestamp: found ");
      soupc__cty_go_quote(&b, e.value_elem, e.value_elem_len);
      soupc__cty_buf_puts(&b, " where ");
      soupc__cty_go_quote(&b, e.layout_elem, 1);
      soupc__cty_buf_puts(&b, " is expected");
    }
    return soupc__fn_fail_buf(c, arg, &b);
  } else {
    what = "timestamp segment";
  }
  if (e.value_elem_len == 0) {
    return soupc__fn_fail(c, arg,
                          "not a valid RFC3339 timestamp: end of string "
                          "before %s",
                          what);
  }
  if (strcmp(what, "hour") == 0 &&
      memchr(e.value_elem, ':', e.value_elem_len) != NULL) {
    return soupc__fn_fail(c, arg,
                          "not a valid RFC3339 timestamp: hour must be "
                          "between 0 and 23 inclusive");
  }
  if (strcmp(what, "hour") == 0 && e.value_elem_len != 2) {
    return soupc__fn_fail(c, arg,
                          "not a valid RFC3339 timestamp: hour must have "
                          "exactly two digits");
  }
  if (strcmp(what, "minute") == 0 && e.value_elem_len != 2) {
    return soupc__fn_fail(c, arg,
                          "not a valid RFC3339 timestamp: minute must have "
                          "exactly two digits");
  }
  soupc__cty_buf_init(&b);
  soupc__cty_buf_puts(&b, "not a valid RFC3339 timestamp: cannot use ");
  soupc__cty_go_quote(&b, e.value_elem, e.value_elem_len);
  soupc__cty_buf_puts(&b, " as ");
  soupc__cty_buf_puts(&b, what);
  return soupc__fn_fail_buf(c, arg, &b);
}

/* ---- time.ParseDuration ---- */

static int duration_fail(struct fn_ctx *c, const char *what, const char *unit,
                         size_t unit_len, const char *orig, size_t orig_len) {
  struct cty_buf b;

  soupc__cty_buf_init(&b);
  soupc__cty_buf_puts(&b, "time: ");
  soupc__cty_buf_puts(&b, what);
  if (unit != NULL) {
    time_quote(&b, unit, unit_len);
    soupc__cty_buf_puts(&b, " in duration ");
  }
  time_quote(&b, orig, orig_len);
  return soupc__fn_fail_buf(c, -1, &b);
}

static int parse_duration(int64_t *out, struct fn_ctx *c, const char *s,
                          size_t len) {
  static const struct {
    const char *name;
    uint64_t ns;
  } units[] = {{"ns", 1ULL},           {"us", 1000ULL},
               {"\xc2\xb5s", 1000ULL}, /* U+00B5 micro sign */
               {"\xce\xbcs", 1000ULL}, /* U+03BC Greek mu */
               {"ms", 1000000ULL},     {"s", 1000000000ULL},
               {"m", 60000000000ULL},  {"h", 3600000000000ULL}};
  const char *orig = s;
  size_t orig_len = len, i = 0;
  uint64_t d = 0;
  bool neg = false;

  if (len > 0 && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    i = 1;
  }
  if (len - i == 1 && s[i] == '0') {
    *out = 0;
    return 0;
  }
  if (i == len) {
    return duration_fail(c, "invalid duration ", NULL, 0, orig, orig_len);
  }
  while (i < len) {
    uint64_t v = 0, f = 0, unit = 0;
    double scale = 1;
    bool pre = false, post = false, overflow = false;
    size_t u, k;
    if (!(s[i] == '.' || (s[i] >= '0' && s[i] <= '9'))) {
      return duration_fail(c, "invalid duration ", NULL, 0, orig, orig_len);
    }
    /* leadingInt */
    while (i < len && s[i] >= '0' && s[i] <= '9') {
      if (v > (1ULL << 63) / 10) {
        return duration_fail(c, "invalid duration ", NULL, 0, orig, orig_len);
      }
      v = v * 10 + (uint64_t)(s[i] - '0');
      if (v > (1ULL << 63)) {
        return duration_fail(c, "invalid duration ", NULL, 0, orig, orig_len);
      }
      i++;
      pre = true;
    }
    if (i < len && s[i] == '.') {
      i++;
      /* leadingFraction: stops accumulating on overflow */
      while (i < len && s[i] >= '0' && s[i] <= '9') {
        post = true;
        if (!overflow) {
          if (f > ((1ULL << 63) - 1) / 10) {
            overflow = true;
          } else {
            uint64_t y = f * 10 + (uint64_t)(s[i] - '0');
            if (y > (1ULL << 63)) {
              overflow = true;
            } else {
              f = y;
              scale *= 10;
            }
          }
        }
        i++;
      }
    }
    if (!pre && !post) {
      return duration_fail(c, "invalid duration ", NULL, 0, orig, orig_len);
    }
    u = i;
    while (i < len && s[i] != '.' && !(s[i] >= '0' && s[i] <= '9')) {
      i++;
    }
    if (i == u) {
      return duration_fail(c, "missing unit in duration ", NULL, 0, orig,
                           orig_len);
    }
    for (k = 0; k < sizeof(units) / sizeof(units[0]); k++) {
      if (strlen(units[k].name) == i - u &&
          memcmp(units[k].name, s + u, i - u) == 0) {
        unit = units[k].ns;
        break;
      }
    }
    if (unit == 0) {
      return duration_fail(c, "unknown unit ", s + u, i - u, orig, orig_len);
    }
    if (v > (1ULL << 63) / unit) {
      return duration_fail(c, "invalid duration ", NULL, 0, orig, orig_len);
    }
    v *= unit;
    if (f > 0) {
      v += (uint64_t)((double)f * ((double)unit / scale));
      if (v > (1ULL << 63)) {
        return duration_fail(c, "invalid duration ", NULL, 0, orig, orig_len);
      }
    }
    d += v;
    if (d > (1ULL << 63)) {
      return duration_fail(c, "invalid duration ", NULL, 0, orig, orig_len);
    }
  }
  if (neg) {
    *out = d == (1ULL << 63) ? INT64_MIN : -(int64_t)d;
    return 0;
  }
  if (d > (1ULL << 63) - 1) {
    return duration_fail(c, "invalid duration ", NULL, 0, orig, orig_len);
  }
  *out = (int64_t)d;
  return 0;
}

/* ---- Time.Format pieces ---- */

/* appendInt(b, x, width): zero-padded, a '-' before the padding. */
static void put_int(struct cty_buf *b, int64_t x, int width) {
  char t[32];
  uint64_t u = x < 0 ? (uint64_t) - (x + 1) + 1 : (uint64_t)x;
  int n;

  if (x < 0) {
    soupc__cty_buf_putc(b, '-');
  }
  n = snprintf(t, sizeof(t), "%0*llu", width, (unsigned long long)u);
  soupc__cty_buf_put(b, t, n > 0 ? (size_t)n : 0);
}

/* "Z07:00" (z_for_utc) or "-07:00" / "-0700". */
static void put_zone(struct cty_buf *b, int32_t off, bool z_for_utc,
                     bool colon) {
  int32_t zone = off / 60;

  if (z_for_utc && off == 0) {
    soupc__cty_buf_putc(b, 'Z');
    return;
  }
  if (zone < 0) {
    soupc__cty_buf_putc(b, '-');
    zone = -zone;
  } else {
    soupc__cty_buf_putc(b, '+');
  }
  put_int(b, zone / 60, 2);
  if (colon) {
    soupc__cty_buf_putc(b, ':');
  }
  put_int(b, zone % 60, 2);
}

/* Format(time.RFC3339) */
static void put_rfc3339(struct cty_buf *b, const struct go_time *t) {
  struct civil cv;

  to_civil(&cv, t);
  put_int(b, cv.year, 4);
  soupc__cty_buf_putc(b, '-');
  put_int(b, cv.month, 2);
  soupc__cty_buf_putc(b, '-');
  put_int(b, cv.day, 2);
  soupc__cty_buf_putc(b, 'T');
  put_int(b, cv.hour, 2);
  soupc__cty_buf_putc(b, ':');
  put_int(b, cv.min, 2);
  soupc__cty_buf_putc(b, ':');
  put_int(b, cv.sec, 2);
  put_zone(b, t->off, true, true);
}

/* Time.Add */
static void time_add(struct go_time *t, int64_t d) {
  int64_t dsec = d / 1000000000;
  int32_t nsec = t->nsec + (int32_t)(d % 1000000000);

  if (nsec >= 1000000000) {
    dsec++;
    nsec -= 1000000000;
  } else if (nsec < 0) {
    dsec--;
    nsec += 1000000000;
  }
  t->nsec = nsec;
  t->sec += dsec;
}

static int timeadd_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                        struct soupc_cty_value *const *a, size_t n,
                        const struct soupc_cty_type *ret) {
  struct go_time t = {0, 0, 0};
  struct cty_buf b;
  int64_t d = 0;
  int rv = parse_timestamp(&t, c, -1, a[0]->u.str.s, a[0]->u.str.len);

  if (rv == 0) {
    rv = parse_duration(&d, c, a[1]->u.str.s, a[1]->u.str.len);
  }
  if (rv != 0) {
    return rv;
  }
  time_add(&t, d);
  soupc__cty_buf_init(&b);
  put_rfc3339(&b, &t);
  return soupc__fn_str_buf(out, &b);
}

/* ---- formatdate ---- */

static bool is_verb(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

/* splitDateFormat on the whole format: @return the token length. */
static size_t next_token(const char *s, size_t len) {
  size_t i;

  if (s[0] == '\'') {
    if (len > 1 && s[1] == '\'') {
      return 2;
    }
    for (i = 1; i < len; i++) {
      if (s[i] == '\'') {
        if (i + 1 == len) {
          return len;
        }
        if (s[i + 1] == '\'') {
          i++; /* a doubled quote inside the literal */
          continue;
        }
        return i + 1;
      }
    }
    return len;
  }
  if (is_verb(s[0])) {
    for (i = 1; i < len && s[i] == s[0]; i++) {
    }
    return i;
  }
  for (i = 1; i < len && s[i] != '\'' && !is_verb(s[i]); i++) {
  }
  return i;
}

static const char *const month_names[] = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};
static const char *const day_names[] = {"Sunday",    "Monday",   "Tuesday",
                                        "Wednesday", "Thursday", "Friday",
                                        "Saturday"};

/* "invalid date format verb %q: ..." */
static int bad_verb(struct fn_ctx *c, const char *tok, size_t len,
                    const char *why) {
  struct cty_buf b;

  soupc__cty_buf_init(&b);
  soupc__cty_buf_puts(&b, "invalid date format verb ");
  soupc__cty_go_quote(&b, tok, len);
  soupc__cty_buf_puts(&b, why);
  return soupc__fn_fail_buf(c, 0, &b);
}

/* One verb token (a run of one letter). */
static int put_verb(struct cty_buf *b, struct fn_ctx *c, const char *tok,
                    size_t n, const struct go_time *t, const struct civil *cv) {
  switch (tok[0]) {
  case 'Y':
    if (n == 2) {
      put_int(b, cv->year % 100, 2); /* years here are 0..9999 */
    } else if (n == 4) {
      put_int(b, cv->year, 4);
    } else {
      return bad_verb(c, tok, n, ": year must either be \"YY\" or \"YYYY\"");
    }
    return 0;
  case 'M':
    if (n == 1 || n == 2) {
      put_int(b, cv->month, (int)n);
    } else if (n == 3) {
      soupc__cty_buf_put(b, month_names[cv->month - 1], 3);
    } else if (n == 4) {
      soupc__cty_buf_puts(b, month_names[cv->month - 1]);
    } else {
      return bad_verb(c, tok, n,
                      ": month must be \"M\", \"MM\", \"MMM\", or \"MMMM\"");
    }
    return 0;
  case 'D':
    if (n > 2) {
      return bad_verb(c, tok, n,
                      ": day of month must either be \"D\" or \"DD\"");
    }
    put_int(b, cv->day, (int)n);
    return 0;
  case 'E':
    if (n == 3) {
      soupc__cty_buf_put(b, day_names[cv->wday], 3);
    } else if (n == 4) {
      soupc__cty_buf_puts(b, day_names[cv->wday]);
    } else {
      return bad_verb(c, tok, n,
                      ": day of week must either be \"EEE\" or \"EEEE\"");
    }
    return 0;
  case 'h':
    if (n > 2) {
      return bad_verb(c, tok, n, ": 24-hour must either be \"h\" or \"hh\"");
    }
    put_int(b, cv->hour, (int)n);
    return 0;
  case 'H': {
    int h = cv->hour % 12;
    if (n > 2) {
      return bad_verb(c, tok, n, ": 12-hour must either be \"H\" or \"HH\"");
    }
    put_int(b, h == 0 ? 12 : h, (int)n);
    return 0;
  }
  case 'A':
  case 'a':
    if (n != 2) {
      char why[32];
      snprintf(why, sizeof(why), ": must be \"%c%c\"", tok[0], tok[0]);
      return bad_verb(c, tok, n, why);
    }
    if (cv->hour / 12 == 0) {
      soupc__cty_buf_puts(b, tok[0] == 'A' ? "AM" : "am");
    } else {
      soupc__cty_buf_puts(b, tok[0] == 'A' ? "PM" : "pm");
    }
    return 0;
  case 'm':
    if (n > 2) {
      return bad_verb(c, tok, n, ": minute must either be \"m\" or \"mm\"");
    }
    put_int(b, cv->min, (int)n);
    return 0;
  case 's':
    if (n > 2) {
      return bad_verb(c, tok, n, ": second must either be \"s\" or \"ss\"");
    }
    put_int(b, cv->sec, (int)n);
    return 0;
  case 'Z':
    switch (n) {
    case 1:
      put_zone(b, t->off, true, true);
      return 0;
    case 3:
      if (t->off / 60 == 0) {
        soupc__cty_buf_puts(b, "UTC");
      } else {
        put_zone(b, t->off, false, false);
      }
      return 0;
    case 4:
      put_zone(b, t->off, false, false);
      return 0;
    case 5:
      put_zone(b, t->off, false, true);
      return 0;
    default:
      return bad_verb(c, tok, n, ": timezone must be Z, ZZZZ, or ZZZZZ");
    }
  default:
    return bad_verb(c, tok, n, "");
  }
}

static int formatdate_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                           struct soupc_cty_value *const *a, size_t n,
                           const struct soupc_cty_type *ret) {
  const char *f = a[0]->u.str.s;
  size_t flen = a[0]->u.str.len, i = 0;
  struct go_time t = {0, 0, 0};
  struct civil cv;
  struct cty_buf b;
  int rv = parse_timestamp(&t, c, 1, a[1]->u.str.s, a[1]->u.str.len);

  if (rv != 0) {
    return rv;
  }
  to_civil(&cv, &t);
  soupc__cty_buf_init(&b);
  while (i < flen) {
    size_t k = next_token(f + i, flen - i), j;
    const char *tok = f + i;
    if (tok[0] == '\'') {
      if (tok[k - 1] != '\'' || k == 1) {
        soupc__cty_buf_dispose(&b);
        return soupc__fn_fail(c, 0, "unterminated literal '");
      }
      if (k == 2) {
        soupc__cty_buf_putc(&b, '\'');
      } else {
        /* the raw text between the quotes; '' is one quote */
        for (j = 1; j < k - 1; j++) {
          soupc__cty_buf_putc(&b, (uint8_t)tok[j]);
          if (tok[j] == '\'') {
            j++;
          }
        }
      }
    } else if (is_verb(tok[0])) {
      rv = put_verb(&b, c, tok, k, &t, &cv);
      if (rv != 0) {
        soupc__cty_buf_dispose(&b);
        return rv;
      }
    } else {
      soupc__cty_buf_put(&b, tok, k);
    }
    i += k;
  }
  return soupc__fn_str_buf(out, &b);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct fn_param p_formatdate[] = {{"format", FN_T_STRING, 0},
                                               {"time", FN_T_STRING, 0}};
static const struct fn_param p_timeadd[] = {{"timestamp", FN_T_STRING, 0},
                                            {"duration", FN_T_STRING, 0}};

const struct soupc_cty_function soupc__fn_datetime[] = {
    {"formatdate",
     "Formats a timestamp given in RFC 3339 syntax into another timestamp in "
     "some other machine-oriented time syntax, as described in the format "
     "string.",
     p_formatdate, N(p_formatdate), NULL, NULL, FN_T_STRING, FN_REFINE_NOT_NULL,
     formatdate_impl},
    {"timeadd",
     "Adds the duration represented by the given duration string to the "
     "given RFC 3339 timestamp string, returning another RFC 3339 timestamp.",
     p_timeadd, N(p_timeadd), NULL, NULL, FN_T_STRING, FN_REFINE_NONE,
     timeadd_impl},
};
const size_t soupc__fn_datetime_count = N(soupc__fn_datetime);
