/* go-cty stdlib regex, regexall and regexreplace
 * (cty/function/stdlib/regexp.go, string_replace.go) on RE2, with Go's
 * regexp package around it: Go's syntax differences are translated before
 * RE2 sees a pattern, RE2's error codes become Go's messages, and the match
 * loops (FindAllStringSubmatchIndex, ReplaceAllString with Expand) are
 * Go's, so empty matches advance exactly as in Go. */
#include "ctyfunc/fn_int.h"
#include "ctyfunc/re2_shim.h"

#include "base/alloc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* A compiled pattern: RE2 plus the group names Go's SubexpNames gives
 * (named groups are compiled as plain groups, so duplicates work as in
 * Go). */
struct fn_re {
  long refs; /* guarded by cache_lock */
  char *pattern;
  size_t pattern_len;
  struct soupc_re2 *re2;
  int ngroups;
  char **names; /* ngroups entries; NULL for an unnamed group */
  size_t *name_lens;
};

/* Go's regexp/syntax error codes (syntax.ErrorCode). */
static const char *const go_codes[] = {
    NULL,                                      /* NoError */
    "regexp/syntax: internal error",           /* ErrorInternal */
    "invalid escape sequence",                 /* ErrorBadEscape */
    "invalid character class",                 /* ErrorBadCharClass */
    "invalid character class range",           /* ErrorBadCharRange */
    "missing closing ]",                       /* ErrorMissingBracket */
    "missing closing )",                       /* ErrorMissingParen */
    "unexpected )",                            /* ErrorUnexpectedParen */
    "trailing backslash at end of expression", /* ErrorTrailingBackslash */
    "missing argument to repetition operator", /* ErrorRepeatArgument */
    "invalid repeat count",                    /* ErrorRepeatSize */
    "invalid nested repetition operator",      /* ErrorRepeatOp */
    "invalid or unsupported Perl syntax",      /* ErrorBadPerlOp */
    "invalid UTF-8",                           /* ErrorBadUTF8 */
    "invalid named capture",                   /* ErrorBadNamedCapture */
    "expression too large",                    /* ErrorPatternTooLarge */
};
#define GO_BAD_ESCAPE 2
#define GO_BAD_NAMED_CAPTURE 14
#define GO_MISSING_PAREN 6
#define GO_UNEXPECTED_PAREN 7
#define GO_MISSING_BRACKET 5
#define GO_BAD_REPEAT_SIZE 10

/* A compile failure: Go's syntax.Error (Code, Expr). */
struct re_error {
  const char *code;
  char expr[512];
};

static void free_re(struct fn_re *r) {
  int i;

  if (r == NULL) {
    return;
  }
  if (r->names != NULL) {
    for (i = 0; i < r->ngroups; i++) {
      soupc__free(r->names[i]);
    }
  }
  soupc__free(r->names);
  soupc__free(r->name_lens);
  soupc__free(r->pattern);
  if (r->re2 != NULL) {
    soupc__re2_free(r->re2);
  }
  soupc__free(r);
}

/* isValidCaptureName: one or more of [A-Za-z0-9_]. */
static bool valid_name(const char *s, size_t len) {
  size_t i;

  if (len == 0) {
    return false;
  }
  for (i = 0; i < len; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9') || c == '_')) {
      return false;
    }
  }
  return true;
}

struct names {
  char **v;
  size_t *lens;
  size_t n, cap;
};

static int push_name(struct names *nm, const char *s, size_t len) {
  if (nm->n == nm->cap) {
    size_t cap = nm->cap == 0 ? 8 : nm->cap * 2;
    char **v = soupc__realloc(nm->v, cap * sizeof(char *));
    size_t *l;
    if (v == NULL) {
      return SOUPC_ERR_NOMEM;
    }
    nm->v = v;
    l = soupc__realloc(nm->lens, cap * sizeof(size_t));
    if (l == NULL) {
      return SOUPC_ERR_NOMEM;
    }
    nm->lens = l;
    nm->cap = cap;
  }
  nm->v[nm->n] = s == NULL ? NULL : soupc__strndup(s, len);
  if (s != NULL && nm->v[nm->n] == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  nm->lens[nm->n++] = len;
  return 0;
}

/* Go's parseInt for repeat counts: digits without a leading zero; -1 when
 * too big. @return bytes used, 0 if not a number. */
static size_t repeat_int(const char *s, size_t len, long *n) {
  size_t i = 0;

  *n = 0;
  if (len == 0 || s[0] < '0' || s[0] > '9' ||
      (len >= 2 && s[0] == '0' && s[1] >= '0' && s[1] <= '9')) {
    return 0;
  }
  while (i < len && s[i] >= '0' && s[i] <= '9') {
    if (*n >= 100000000) {
      *n = -1;
    } else if (*n >= 0) {
      *n = *n * 10 + (s[i] - '0');
    }
    i++;
  }
  return i;
}

/* Go's parseRepeat at s[0] == '{'. @return the bytes of a well-formed
 * {n}, {n,} or {n,m}, or 0 (then '{' is a literal), with *bad set when Go
 * refuses its counts (checked before anything else about the repeat). */
static size_t repeat_at(const char *s, size_t len, bool *bad) {
  long min, max;
  size_t i = 1, k;

  k = repeat_int(s + i, len - i, &min);
  if (k == 0) {
    return 0;
  }
  i += k;
  if (i >= len) {
    return 0;
  }
  if (s[i] != ',') {
    max = min;
  } else {
    i++;
    if (i >= len) {
      return 0;
    }
    if (s[i] == '}') {
      max = -1;
    } else {
      k = repeat_int(s + i, len - i, &max);
      if (k == 0) {
        return 0;
      }
      i += k;
      if (max < 0) {
        min = -1;
      }
    }
  }
  if (i >= len || s[i] != '}') {
    return 0;
  }
  *bad = min < 0 || min > 1000 || max > 1000 || (max >= 0 && min > max);
  return i + 1;
}

/* Rewrites Go's pattern syntax into RE2's where they differ (records every
 * group's name, in order). At a construct only Go refuses it stops, with
 * the error in *pre_err: the caller then has RE2 check the text before it,
 * so an earlier error still wins, as in Go's left-to-right parser. */
static int translate(struct cty_buf *out, struct names *nm, const char *p,
                     size_t len, struct re_error *pre_err, bool *has_pre) {
  size_t i = 0;
  bool in_class = false, quoted = false;
  int rv;

  while (i < len) {
    char c = p[i];
    if (quoted) { /* \Q...\E */
      if (c == '\\' && i + 1 < len && p[i + 1] == 'E') {
        quoted = false;
      }
      soupc__cty_buf_putc(out, (uint8_t)c);
      i++;
      continue;
    }
    if (c == '\\' && i + 1 < len) {
      if (p[i + 1] == 'Q' && !in_class) {
        quoted = true;
      } else if (p[i + 1] == 'C') {
        /* RE2 matches any byte with \C; Go refuses it. */
        pre_err->code = go_codes[GO_BAD_ESCAPE];
        snprintf(pre_err->expr, sizeof(pre_err->expr), "\\C");
        *has_pre = true;
        return 0;
      }
      soupc__cty_buf_put(out, p + i, 2);
      i += 2;
      continue;
    }
    if (in_class) {
      if (c == ']') {
        in_class = false;
      } else if (c == '[' && i + 1 < len && p[i + 1] == ':') {
        /* [:alpha:] inside a class */
        const char *e = memmem(p + i + 2, len - i - 2, ":]", 2);
        if (e != NULL) {
          size_t n = (size_t)(e - (p + i)) + 2;
          soupc__cty_buf_put(out, p + i, n);
          i += n;
          continue;
        }
      }
      soupc__cty_buf_putc(out, (uint8_t)c);
      i++;
      continue;
    }
    if (c == '[') {
      in_class = true;
      soupc__cty_buf_putc(out, '[');
      i++;
      /* A leading ^ and a leading ] are part of the class. */
      if (i < len && p[i] == '^') {
        soupc__cty_buf_putc(out, '^');
        i++;
      }
      if (i < len && p[i] == ']') {
        soupc__cty_buf_putc(out, ']');
        i++;
      }
      continue;
    }
    if (c == '{') {
      /* Go refuses a bad count before a nested or missing repeat operand;
       * RE2 checks those first. */
      bool bad = false;
      size_t n = repeat_at(p + i, len - i, &bad);
      if (n > 0 && bad) {
        pre_err->code = go_codes[GO_BAD_REPEAT_SIZE];
        snprintf(pre_err->expr, sizeof(pre_err->expr), "%.*s", (int)n, p + i);
        *has_pre = true;
        return 0;
      }
      if (n > 0) {
        soupc__cty_buf_put(out, p + i, n);
        i += n;
        continue;
      }
    }
    if (c == '(' && i + 1 < len && p[i + 1] == '?') {
      /* (?P<name>re) and, since Go 1.22, (?<name>re) */
      bool py = i + 4 < len && p[i + 2] == 'P' && p[i + 3] == '<';
      bool ecma = i + 3 < len && p[i + 2] == '<';
      if (py || ecma) {
        size_t start = i + (py ? 4 : 3);
        const char *gt = memchr(p + start, '>', len - start);
        if (py && (gt == NULL ||
                   !valid_name(p + start, (size_t)(gt - (p + start))))) {
          /* RE2 refuses a bad (?P<name> with Go's code and text. */
          soupc__cty_buf_putc(out, '(');
          i++;
          continue;
        }
        if (gt == NULL || !valid_name(p + start, (size_t)(gt - (p + start)))) {
          /* Go's error for (?<name>: the capture text, or without a '>'
           * the whole rest of the pattern. */
          size_t n = gt == NULL ? len - i : (size_t)(gt - (p + i)) + 1;
          pre_err->code = go_codes[GO_BAD_NAMED_CAPTURE];
          snprintf(pre_err->expr, sizeof(pre_err->expr), "%.*s", (int)n, p + i);
          *has_pre = true;
          return 0;
        }
        {
          /* RE2 refuses a repeated name and (before 2023) the (?<name>
           * form; Go takes both, so those are renamed. Other named groups
           * pass through untouched, so RE2's error texts quote the
           * pattern as written. */
          size_t nlen = (size_t)(gt - (p + start)), k;
          bool dup = false;
          for (k = 0; k < nm->n; k++) {
            if (nm->v[k] != NULL && nm->lens[k] == nlen &&
                memcmp(nm->v[k], p + start, nlen) == 0) {
              dup = true;
              break;
            }
          }
          rv = push_name(nm, p + start, nlen);
          if (rv != 0) {
            return rv;
          }
          if (dup) {
            char t[48];
            snprintf(t, sizeof(t), "(?P<soupc_dup_%zu>", nm->n);
            soupc__cty_buf_puts(out, t);
          } else {
            soupc__cty_buf_puts(out, "(?P<");
            soupc__cty_buf_put(out, p + start, nlen + 1);
          }
        }
        i = (size_t)(gt - p) + 1;
        continue;
      }
    } else if (c == '(') {
      rv = push_name(nm, NULL, 0);
      if (rv != 0) {
        return rv;
      }
    }
    soupc__cty_buf_putc(out, (uint8_t)c);
    i++;
  }
  return 0;
}

/* Copies RE2's error text, putting back the names translate() changed
 * ("(?P<soupc_dup_N>" is group N's own name). */
static void unrename(char *dst, size_t cap, const char *arg,
                     const struct names *nm) {
  static const char tag[] = "(?P<soupc_dup_";
  size_t o = 0;

  while (*arg != '\0' && o + 1 < cap) {
    if (strncmp(arg, tag, sizeof(tag) - 1) == 0) {
      char *end;
      unsigned long k = strtoul(arg + sizeof(tag) - 1, &end, 10);
      if (*end == '>' && k >= 1 && k <= nm->n && nm->v[k - 1] != NULL) {
        int w = snprintf(dst + o, cap - o, "(?P<%.*s>", (int)nm->lens[k - 1],
                         nm->v[k - 1]);
        o += w > 0 ? (size_t)w : 0;
        if (o >= cap) {
          o = cap - 1;
        }
        arg = end + 1;
        continue;
      }
    }
    dst[o++] = *arg++;
  }
  dst[o] = '\0';
}

static int compile(struct fn_re **out, struct re_error *err, const char *p,
                   size_t len) {
  struct fn_re *r = soupc__calloc(1, sizeof(*r));
  struct names nm = {NULL, NULL, 0, 0};
  struct re_error pre;
  struct cty_buf t;
  bool has_pre = false;
  char arg[512];
  int rv, code;

  if (r == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  soupc__cty_buf_init(&t);
  rv = translate(&t, &nm, p, len, &pre, &has_pre);
  if (rv != 0 || t.oom) {
    rv = SOUPC_ERR_NOMEM;
    goto fail;
  }
  code = soupc__re2_compile(&r->re2, t.len > 0 ? (const char *)t.p : "", t.len,
                            arg, sizeof(arg));
  if (code < 0) {
    rv = SOUPC_ERR_NOMEM;
    goto fail;
  }
  if (has_pre &&
      (code == 0 || code == GO_MISSING_PAREN || code == GO_MISSING_BRACKET)) {
    /* RE2 saw only the text before Go's refusal: a group or class still
     * open there is no error yet. */
    *err = pre;
    rv = FN_EFAIL;
    goto fail;
  }
  if (code > 0) {
    if ((size_t)code < sizeof(go_codes) / sizeof(go_codes[0])) {
      err->code = go_codes[code];
      if (code == GO_MISSING_PAREN || code == GO_UNEXPECTED_PAREN) {
        /* Go reports these with the whole pattern (p.wholeRegexp) */
        snprintf(err->expr, sizeof(err->expr), "%.*s", (int)len, p);
      } else {
        unrename(err->expr, sizeof(err->expr), arg, &nm);
      }
    } else {
      err->code = go_codes[1];
      err->expr[0] = '\0';
    }
    rv = FN_EFAIL;
    goto fail;
  }
  r->ngroups = soupc__re2_groups(r->re2);
  if (r->ngroups + 1 > SOUPC_RE2_MAX_CAPS || (size_t)r->ngroups != nm.n) {
    err->code = go_codes[15];
    snprintf(err->expr, sizeof(err->expr), "%.*s", (int)len, p);
    rv = FN_EFAIL;
    goto fail;
  }
  r->names = nm.v;
  r->name_lens = nm.lens;
  nm.v = NULL;
  nm.lens = NULL;
  r->pattern = soupc__strndup(p, len);
  r->pattern_len = len;
  if (r->pattern == NULL) {
    rv = SOUPC_ERR_NOMEM;
    goto fail;
  }
  r->refs = 1;
  soupc__cty_buf_dispose(&t);
  *out = r;
  return 0;
fail:
  if (nm.v != NULL) {
    size_t i;
    for (i = 0; i < nm.n; i++) {
      soupc__free(nm.v[i]);
    }
  }
  soupc__free(nm.v);
  soupc__free(nm.lens);
  soupc__cty_buf_dispose(&t);
  free_re(r);
  return rv;
}

/* ---- a small cache: go-cty compiles each pattern twice per call ---- */

#define CACHE_SIZE 32
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fn_re *cache[CACHE_SIZE]; /* most recent first */

static void release(struct fn_re *r) {
  bool last;

  pthread_mutex_lock(&cache_lock);
  last = --r->refs == 0;
  pthread_mutex_unlock(&cache_lock);
  if (last) {
    free_re(r);
  }
}

static struct fn_re *cache_get(const char *p, size_t len) {
  struct fn_re *r = NULL;
  size_t i;

  pthread_mutex_lock(&cache_lock);
  for (i = 0; i < CACHE_SIZE && cache[i] != NULL; i++) {
    if (cache[i]->pattern_len == len &&
        (len == 0 || memcmp(cache[i]->pattern, p, len) == 0)) {
      r = cache[i];
      memmove(&cache[1], &cache[0], i * sizeof(void *));
      cache[0] = r;
      r->refs++;
      break;
    }
  }
  pthread_mutex_unlock(&cache_lock);
  return r;
}

static void cache_put(struct fn_re *r) {
  struct fn_re *old;

  pthread_mutex_lock(&cache_lock);
  old = cache[CACHE_SIZE - 1];
  memmove(&cache[1], &cache[0], (CACHE_SIZE - 1) * sizeof(void *));
  cache[0] = r;
  r->refs++;
  if (old != NULL && --old->refs == 0) {
    pthread_mutex_unlock(&cache_lock);
    free_re(old);
    return;
  }
  pthread_mutex_unlock(&cache_lock);
}

static int get_re(struct fn_re **out, struct re_error *err, const char *p,
                  size_t len) {
  struct fn_re *r = cache_get(p, len);
  int rv;

  if (r != NULL) {
    *out = r;
    return 0;
  }
  rv = compile(&r, err, p, len);
  if (rv != 0) {
    return rv;
  }
  cache_put(r);
  *out = r;
  return 0;
}

/* ---- regex / regexall ---- */

/* regexPatternResultType */
static int pattern_type(struct soupc_cty_type **out, struct fn_ctx *c,
                        const struct fn_re *r) {
  size_t named = 0, unnamed = 0;
  int i;

  for (i = 0; i < r->ngroups; i++) {
    if (r->names[i] != NULL) {
      named++;
    } else {
      unnamed++;
    }
  }
  if (named == 0 && unnamed == 0) {
    *out = soupc__cty_type_prim(SOUPC_CTY_STRING);
    return 0;
  }
  if (named > 0 && unnamed > 0) {
    return soupc__fn_fail(c, 0,
                          "invalid regexp pattern: cannot mix both named and "
                          "unnamed capture groups");
  }
  if (unnamed > 0) {
    return soupc__fn_tuple_type_n(out, soupc__cty_type_prim(SOUPC_CTY_STRING),
                                  unnamed);
  }
  return soupc__fn_object_type_str(out, (const char *const *)r->names,
                                   r->name_lens, named);
}

static int pattern_fail(struct fn_ctx *c, const struct re_error *e) {
  return soupc__fn_fail(c, 0, "invalid regexp pattern: %s in %s", e->code,
                        e->expr);
}

static int regex_type(struct soupc_cty_type **out, struct fn_ctx *c,
                      struct soupc_cty_value *const *a, size_t n) {
  struct fn_re *r = NULL;
  struct re_error e;
  int rv;

  if (!soupc__fn_known(a[0])) {
    *out = soupc__cty_type_prim(SOUPC_CTY_DYNAMIC);
    return 0;
  }
  rv = get_re(&r, &e, a[0]->u.str.s, a[0]->u.str.len);
  if (rv == FN_EFAIL) {
    return pattern_fail(c, &e);
  }
  if (rv != 0) {
    return rv;
  }
  rv = pattern_type(out, c, r);
  release(r);
  return rv;
}

static int regexall_type(struct soupc_cty_type **out, struct fn_ctx *c,
                         struct soupc_cty_value *const *a, size_t n) {
  struct soupc_cty_type *et = NULL;
  int rv = regex_type(&et, c, a, n);

  if (rv != 0) {
    return rv;
  }
  rv = soupc__fn_list_type(out, et);
  soupc_cty_type_free(et);
  return rv;
}

/* regexPatternResult for one match (caps has 2*(ngroups+1) offsets). */
static int match_value(struct soupc_cty_value **out, const struct fn_re *r,
                       const char *s, const long *caps,
                       const struct soupc_cty_type *ret) {
  struct soupc_cty_value **items;
  int i, rv = 0;

  if (ret->kind == SOUPC_CTY_STRING) {
    return soupc__fn_str(out, s + caps[0], (size_t)(caps[1] - caps[0]));
  }
  items = FN_PTR_ARRAY(r->ngroups);
  if (items == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  for (i = 0; i < r->ngroups && rv == 0; i++) {
    long st = caps[2 * i + 2], en = caps[2 * i + 3];
    if (st < 0 || en < 0) {
      rv = soupc__fn_null(&items[i], soupc__cty_type_prim(SOUPC_CTY_STRING));
    } else {
      rv = soupc__fn_str(&items[i], s + st, (size_t)(en - st));
    }
  }
  if (rv != 0) {
    while (i > 0) {
      soupc_cty_value_free(items[--i]);
    }
    soupc__free(items);
    return rv;
  }
  if (ret->kind == SOUPC_CTY_TUPLE) {
    return soupc__fn_tuple(out, items, (size_t)r->ngroups);
  }
  /* An object: attributes in the type's (sorted) order; with repeated
   * names, the last group of a name wins (Go map assignment). */
  {
    struct soupc_cty_value **attrs = FN_PTR_ARRAY(ret->n);
    size_t k;
    if (attrs == NULL) {
      for (i = 0; i < r->ngroups; i++) {
        soupc_cty_value_free(items[i]);
      }
      soupc__free(items);
      return SOUPC_ERR_NOMEM;
    }
    for (i = 0; i < r->ngroups; i++) {
      long idx = soupc__cty_type_attr(ret, r->names[i], r->name_lens[i]);
      if (idx >= 0) {
        soupc_cty_value_free(attrs[idx]);
        attrs[idx] = items[i];
      } else {
        soupc_cty_value_free(items[i]);
      }
    }
    soupc__free(items);
    for (k = 0; k < ret->n; k++) {
      if (attrs[k] == NULL) {
        rv = soupc__fn_null(&attrs[k], soupc__cty_type_prim(SOUPC_CTY_STRING));
        if (rv != 0) {
          break;
        }
      }
    }
    if (rv != 0) {
      for (k = 0; k < ret->n; k++) {
        soupc_cty_value_free(attrs[k]);
      }
      soupc__free(attrs);
      return rv;
    }
    return soupc__fn_object(out, (const char *const *)ret->names,
                            ret->name_lens, attrs, ret->n);
  }
}

static int regex_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                      struct soupc_cty_value *const *a, size_t n,
                      const struct soupc_cty_type *ret) {
  struct fn_re *r = NULL;
  struct re_error e;
  long *caps;
  int rv;

  if (ret->kind == SOUPC_CTY_DYNAMIC) {
    return soupc__fn_unknown(out, ret);
  }
  rv = get_re(&r, &e, a[0]->u.str.s, a[0]->u.str.len);
  if (rv != 0) {
    return rv == FN_EFAIL
               ? soupc__fn_fail(c, 0, "error parsing pattern: %s", e.code)
               : rv;
  }
  caps = soupc__calloc(2 * (size_t)(r->ngroups + 1), sizeof(long));
  if (caps == NULL) {
    release(r);
    return SOUPC_ERR_NOMEM;
  }
  if (!soupc__re2_match(r->re2, a[1]->u.str.s, a[1]->u.str.len, 0, caps,
                        r->ngroups + 1)) {
    rv = soupc__fn_fail(c, -1,
                        "pattern did not match any part of the given string");
  } else {
    rv = match_value(out, r, a[1]->u.str.s, caps, ret);
  }
  soupc__free(caps);
  release(r);
  return rv;
}

/* Go's utf8 width of the rune at s[i] (1 for an invalid byte, 0 at the
 * end). */
static size_t rune_width(const char *s, size_t len, size_t i) {
  size_t sz;

  if (i >= len) {
    return 0;
  }
  soupc__fn_rune(s + i, len - i, &sz);
  return sz;
}

static int regexall_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                         struct soupc_cty_value *const *a, size_t n,
                         const struct soupc_cty_type *ret) {
  const char *s = a[1]->u.str.s;
  size_t len = a[1]->u.str.len, pos = 0, count = 0, cap = 0;
  struct soupc_cty_value **items = NULL;
  struct fn_re *r = NULL;
  struct re_error e;
  long prev_end = -1, *caps;
  int rv;

  if (ret->elem->kind == SOUPC_CTY_DYNAMIC) {
    return soupc__fn_unknown(out, soupc__cty_type_prim(SOUPC_CTY_DYNAMIC));
  }
  rv = get_re(&r, &e, a[0]->u.str.s, a[0]->u.str.len);
  if (rv != 0) {
    return rv == FN_EFAIL
               ? soupc__fn_fail(c, 0, "error parsing pattern: %s", e.code)
               : rv;
  }
  caps = soupc__calloc(2 * (size_t)(r->ngroups + 1), sizeof(long));
  if (caps == NULL) {
    release(r);
    return SOUPC_ERR_NOMEM;
  }
  /* Regexp.allMatches: an empty match right after the previous match is
   * skipped; after an empty match the search moves on one rune. */
  while (pos <= len &&
         soupc__re2_match(r->re2, s, len, pos, caps, r->ngroups + 1)) {
    bool accept = true;
    if ((size_t)caps[1] == pos) {
      size_t w = rune_width(s, len, pos);
      if (caps[0] == prev_end) {
        accept = false;
      }
      pos += w > 0 ? w : 1;
    } else {
      pos = (size_t)caps[1];
    }
    prev_end = caps[1];
    if (accept) {
      if (count == cap) {
        size_t nc = cap == 0 ? 8 : cap * 2;
        struct soupc_cty_value **p = soupc__realloc(items, nc * sizeof(void *));
        if (p == NULL) {
          rv = SOUPC_ERR_NOMEM;
          break;
        }
        items = p;
        cap = nc;
      }
      rv = match_value(&items[count], r, s, caps, ret->elem);
      if (rv != 0) {
        break;
      }
      count++;
    }
  }
  soupc__free(caps);
  release(r);
  if (rv != 0) {
    while (count > 0) {
      soupc_cty_value_free(items[--count]);
    }
    soupc__free(items);
    return rv;
  }
  return soupc__fn_list(out, ret->elem, items, count);
}

/* ---- regexreplace: Regexp.ReplaceAllString ---- */

static bool is_name_rune(int32_t r) {
  if (r == '_') {
    return true;
  }
  switch (utf8proc_category(r)) {
  case UTF8PROC_CATEGORY_LU:
  case UTF8PROC_CATEGORY_LL:
  case UTF8PROC_CATEGORY_LT:
  case UTF8PROC_CATEGORY_LM:
  case UTF8PROC_CATEGORY_LO:
  case UTF8PROC_CATEGORY_ND:
    return true;
  default:
    return false;
  }
}

/* Regexp.expand of @p tmpl for one match. */
static void expand(struct cty_buf *b, const struct fn_re *r, const char *tmpl,
                   size_t tlen, const char *s, const long *caps) {
  size_t i = 0;

  while (i < tlen) {
    const char *dollar = memchr(tmpl + i, '$', tlen - i);
    size_t j, k, name_start, name_len;
    bool brace = false;
    long num;
    if (dollar == NULL) {
      break;
    }
    soupc__cty_buf_put(b, tmpl + i, (size_t)(dollar - (tmpl + i)));
    i = (size_t)(dollar - tmpl) + 1;
    if (i < tlen && tmpl[i] == '$') {
      soupc__cty_buf_putc(b, '$');
      i++;
      continue;
    }
    /* extract: $name, ${name}, $1 */
    j = i;
    if (j < tlen && tmpl[j] == '{') {
      brace = true;
      j++;
    }
    name_start = j;
    while (j < tlen) {
      size_t sz;
      int32_t rr = soupc__fn_rune(tmpl + j, tlen - j, &sz);
      if (!is_name_rune(rr)) {
        break;
      }
      j += sz;
    }
    name_len = j - name_start;
    if (name_len == 0 || (brace && (j >= tlen || tmpl[j] != '}'))) {
      soupc__cty_buf_putc(b, '$'); /* malformed: a literal $ */
      continue;
    }
    if (brace) {
      j++;
    }
    num = 0;
    for (k = 0; k < name_len; k++) {
      char ch = tmpl[name_start + k];
      if (ch < '0' || ch > '9' || num >= 100000000) {
        num = -1;
        break;
      }
      num = num * 10 + (ch - '0');
    }
    if (tmpl[name_start] == '0' && name_len > 1) {
      num = -1;
    }
    i = j;
    if (num >= 0) {
      if (num <= r->ngroups && caps[2 * num] >= 0) {
        soupc__cty_buf_put(b, s + caps[2 * num],
                           (size_t)(caps[2 * num + 1] - caps[2 * num]));
      }
    } else {
      int g;
      for (g = 0; g < r->ngroups; g++) {
        if (r->names[g] != NULL && r->name_lens[g] == name_len &&
            memcmp(r->names[g], tmpl + name_start, name_len) == 0 &&
            caps[2 * g + 2] >= 0) {
          soupc__cty_buf_put(b, s + caps[2 * g + 2],
                             (size_t)(caps[2 * g + 3] - caps[2 * g + 2]));
          break;
        }
      }
    }
  }
  soupc__cty_buf_put(b, tmpl + i, tlen - i);
}

static int regexreplace_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                             struct soupc_cty_value *const *a, size_t n,
                             const struct soupc_cty_type *ret) {
  const char *s = a[0]->u.str.s, *rep = a[2]->u.str.s;
  size_t len = a[0]->u.str.len, rep_len = a[2]->u.str.len;
  size_t search = 0, last_end = 0;
  bool has_dollar = memchr(rep, '$', rep_len) != NULL;
  struct fn_re *r = NULL;
  struct re_error e;
  struct cty_buf b;
  long *caps;
  int rv, ncaps;

  rv = get_re(&r, &e, a[1]->u.str.s, a[1]->u.str.len);
  if (rv != 0) {
    /* regexp.Compile's own error text: *syntax.Error.Error() */
    return rv == FN_EFAIL
               ? soupc__fn_fail(c, -1, "error parsing regexp: %s: `%s`", e.code,
                                e.expr)
               : rv;
  }
  ncaps = has_dollar ? r->ngroups + 1 : 1;
  caps = soupc__calloc(2 * (size_t)(r->ngroups + 1), sizeof(long));
  if (caps == NULL) {
    release(r);
    return SOUPC_ERR_NOMEM;
  }
  soupc__cty_buf_init(&b);
  while (search <= len &&
         soupc__re2_match(r->re2, s, len, search, caps, ncaps)) {
    size_t w;
    soupc__cty_buf_put(&b, s + last_end, (size_t)caps[0] - last_end);
    /* No replacement for an empty match right after a previous match. */
    if ((size_t)caps[1] > last_end || caps[0] == 0) {
      if (has_dollar) {
        expand(&b, r, rep, rep_len, s, caps);
      } else {
        soupc__cty_buf_put(&b, rep, rep_len);
      }
    }
    last_end = (size_t)caps[1];
    w = rune_width(s, len, search);
    if (search + w > (size_t)caps[1]) {
      search += w;
    } else if (search + 1 > (size_t)caps[1]) {
      search++;
    } else {
      search = (size_t)caps[1];
    }
  }
  soupc__cty_buf_put(&b, s + last_end, len - last_end);
  soupc__free(caps);
  release(r);
  return soupc__fn_str_buf(out, &b);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct fn_param p_regex[] = {{"pattern", FN_T_STRING, 0},
                                          {"string", FN_T_STRING, 0}};
static const struct fn_param p_regexreplace[] = {{"str", FN_T_STRING, 0},
                                                 {"pattern", FN_T_STRING, 0},
                                                 {"replace", FN_T_STRING, 0}};

const struct soupc_cty_function soupc__fn_regex[] = {
    {"regex",
     "Applies the given regular expression pattern to the given string and "
     "returns information about a single match, or raises an error if there "
     "is no match.",
     p_regex, N(p_regex), NULL, regex_type, FN_T_DYNAMIC, FN_REFINE_NOT_NULL,
     regex_impl},
    {"regexall",
     "Applies the given regular expression pattern to the given string and "
     "returns a list of information about all non-overlapping matches, or an "
     "empty list if there are no matches.",
     p_regex, N(p_regex), NULL, regexall_type, FN_T_DYNAMIC, FN_REFINE_NOT_NULL,
     regexall_impl},
    {"regexreplace",
     "Applies the given regular expression pattern to the given string and "
     "replaces all matches with the given replacement string.",
     p_regexreplace, N(p_regexreplace), NULL, NULL, FN_T_STRING,
     FN_REFINE_NOT_NULL, regexreplace_impl},
};
const size_t soupc__fn_regex_count = N(soupc__fn_regex);
