/* go-cty stdlib string functions (cty/function/stdlib/string.go and
 * string_replace.go): upper, lower, strrev, strlen, substr, join, sort,
 * split, chomp, indent, title, trimspace, trim, trimprefix, trimsuffix,
 * replace. Go's strings package semantics, Unicode 15 case tables. */
#include "ctyfunc/fn_int.h"

#include "base/alloc.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* strings.Repeat would allocate whatever it is asked for (and Go dies when
 * that fails); refuse results beyond this instead. */
#define FN_MAX_RESULT ((size_t)1 << 30)

static const char *str_of(const struct soupc_cty_value *v, size_t *len) {
  *len = v->u.str.len;
  return v->u.str.s;
}

/* strings.Map(f, s) for the case mappings. */
static int map_runes(struct soupc_cty_value **out, const char *s, size_t len,
                     int32_t (*f)(int32_t)) {
  struct cty_buf b;
  size_t i = 0, sz;

  soupc__cty_buf_init(&b);
  while (i < len) {
    int32_t r = soupc__fn_rune(s + i, len - i, &sz);
    soupc__fn_put_rune(&b, f(r));
    i += sz;
  }
  return soupc__fn_str_buf(out, &b);
}

static bool all_ascii(const char *s, size_t len) {
  size_t i;

  for (i = 0; i < len; i++) {
    if ((uint8_t)s[i] >= 0x80) {
      return false;
    }
  }
  return true;
}

/* strings.ToUpper / ToLower's ASCII path: the same bytes as the rune
 * mapping gives (Unicode maps ASCII letters to ASCII), without decoding. */
static int map_ascii(struct soupc_cty_value **out, const char *s, size_t len,
                     bool upper) {
  char small[256];
  char *p = len <= sizeof small ? small : soupc__malloc(len);
  size_t i;
  int rv;

  if (p == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  for (i = 0; i < len; i++) {
    char ch = s[i];
    if (upper && ch >= 'a' && ch <= 'z') {
      ch = (char)(ch - 'a' + 'A');
    } else if (!upper && ch >= 'A' && ch <= 'Z') {
      ch = (char)(ch - 'A' + 'a');
    }
    p[i] = ch;
  }
  rv = soupc__cty_val_string(out, len > 0 ? p : "", len);
  if (p != small) {
    soupc__free(p);
  }
  return rv;
}

static int upper_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                      struct soupc_cty_value *const *a, size_t n,
                      const struct soupc_cty_type *ret) {
  size_t len;
  const char *s = str_of(a[0], &len);

  if (all_ascii(s, len)) {
    return map_ascii(out, s, len, true);
  }
  return map_runes(out, s, len, soupc__fn_to_upper);
}

static int lower_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                      struct soupc_cty_value *const *a, size_t n,
                      const struct soupc_cty_type *ret) {
  size_t len;
  const char *s = str_of(a[0], &len);

  if (all_ascii(s, len)) {
    return map_ascii(out, s, len, false);
  }
  return map_runes(out, s, len, soupc__fn_to_lower);
}

/* strings.Title: unicode.ToTitle after each separator (isSeparator). */
static bool is_separator(int32_t r) {
  if (r <= 0x7F) {
    return !((r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') ||
             (r >= 'A' && r <= 'Z') || r == '_');
  }
  switch (utf8proc_category(r)) {
  case UTF8PROC_CATEGORY_LU:
  case UTF8PROC_CATEGORY_LL:
  case UTF8PROC_CATEGORY_LT:
  case UTF8PROC_CATEGORY_LM:
  case UTF8PROC_CATEGORY_LO:
  case UTF8PROC_CATEGORY_ND:
    return false;
  default:
    return soupc__fn_is_space(r);
  }
}

static int title_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                      struct soupc_cty_value *const *a, size_t n,
                      const struct soupc_cty_type *ret) {
  struct cty_buf b;
  size_t len, i = 0, sz;
  const char *s = str_of(a[0], &len);
  int32_t prev = ' ';

  soupc__cty_buf_init(&b);
  while (i < len) {
    int32_t r = soupc__fn_rune(s + i, len - i, &sz);
    soupc__fn_put_rune(&b, is_separator(prev) ? soupc__fn_to_title(r) : r);
    prev = r;
    i += sz;
  }
  return soupc__fn_str_buf(out, &b);
}

static int strrev_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                       struct soupc_cty_value *const *a, size_t n,
                       const struct soupc_cty_type *ret) {
  size_t len, i = 0, pos;
  const char *s = str_of(a[0], &len);
  char *r = soupc__malloc(len + 1);
  int rv;

  if (r == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  pos = len;
  while (i < len) {
    size_t d = soupc__fn_grapheme(s + i, len - i);
    pos -= d;
    memcpy(r + pos, s + i, d);
    i += d;
  }
  rv = soupc__fn_str(out, r, len);
  soupc__free(r);
  return rv;
}

static int strlen_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                       struct soupc_cty_value *const *a, size_t n,
                       const struct soupc_cty_type *ret) {
  size_t len;
  const char *s;
  int rv;

  if (!soupc__fn_known(a[0])) {
    /* The prefix of a refined unknown string bounds its length. */
    struct soupc_cty_value *v = NULL, *min = NULL;
    soupc_cty_refiner *b = NULL;
    soupc_cty_range *r = NULL;
    soupc_status st;
    const char *p;
    size_t plen;
    soupc_status_clear(&st);
    rv = soupc__fn_unknown(&v, ret);
    if (rv != 0) {
      return rv;
    }
    rv = soupc_cty_value_range(&r, a[0], &st);
    if (rv == 0 && soupc_cty_range_type(r)->kind == SOUPC_CTY_STRING) {
      rv = soupc_cty_range_string_prefix(r, &p, &plen, &st);
      if (rv == 0) {
        rv = soupc__fn_int(&min, (int64_t)soupc__fn_grapheme_count(p, plen));
      }
      if (rv == 0) {
        rv = soupc_cty_refine_begin(&b, v);
      }
      if (rv == 0) {
        soupc_cty_refine_number_lower_bound(b, min, 1);
        soupc_cty_value_free(v);
        v = NULL;
        rv = soupc_cty_refine_finish(&v, b, &st);
      }
      soupc_cty_value_free(min);
    }
    soupc_cty_range_free(r);
    if (rv != 0) {
      soupc_cty_value_free(v);
      return soupc__fn_status(c, -1, rv, &st);
    }
    *out = v;
    return 0;
  }
  s = str_of(a[0], &len);
  return soupc__fn_int(out, (int64_t)soupc__fn_grapheme_count(s, len));
}

static int substr_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                       struct soupc_cty_value *const *a, size_t n,
                       const struct soupc_cty_type *ret) {
  size_t len, i = 0, start = 0;
  const char *s = str_of(a[0], &len);
  int64_t offset, length, pos = 0;
  int rv;

  rv = soupc__fn_to_int(&offset, c, -1, a[1], NULL);
  if (rv != 0) {
    return rv;
  }
  rv = soupc__fn_to_int(&length, c, -1, a[2], NULL);
  if (rv != 0) {
    return rv;
  }
  if (offset < 0) {
    offset += (int64_t)soupc__fn_grapheme_count(s, len);
  } else if (length == 0) {
    return soupc__fn_str(out, "", 0);
  }
  if (offset > 0) {
    /* Seek forward, as go-cty does (it checks the end only after a miss). */
    while (i < len) {
      i += soupc__fn_grapheme(s + i, len - i);
      pos++;
      if (pos == offset) {
        break;
      }
      if (i >= len) {
        return soupc__fn_str(out, "", 0);
      }
    }
    start = i;
  }
  if (length < 0) {
    return soupc__fn_str(out, s + start, len - start);
  }
  pos = 0;
  i = start;
  while (i < len) {
    i += soupc__fn_grapheme(s + i, len - i);
    pos++;
    if (pos == length) {
      break;
    }
  }
  return soupc__fn_str(out, s + start, i - start);
}

static int join_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                     struct soupc_cty_value *const *a, size_t n,
                     const struct soupc_cty_type *ret) {
  struct cty_buf b;
  size_t i, j, sep_len, count = 0;
  const char *sep = str_of(a[0], &sep_len);

  if (n < 2) {
    return soupc__fn_fail(c, -1, "at least one list is required");
  }
  for (i = 1; i < n; i++) {
    if (!soupc__fn_wholly_known(a[i])) {
      return soupc__fn_unknown(out, ret);
    }
  }
  soupc__cty_buf_init(&b);
  for (i = 1; i < n; i++) {
    for (j = 0; j < a[i]->u.c.n; j++) {
      const struct soupc_cty_value *e = a[i]->u.c.items[j];
      if (soupc__fn_null_p(e)) {
        soupc__cty_buf_dispose(&b);
        if (n > 2) {
          return soupc__fn_fail(c, (long)i,
                                "element %zu of list %zu is null; cannot "
                                "concatenate null values",
                                j, i);
        }
        return soupc__fn_fail(
            c, (long)i, "element %zu is null; cannot concatenate null values",
            j);
      }
      if (count++ > 0) {
        soupc__cty_buf_put(&b, sep, sep_len);
      }
      soupc__cty_buf_put(&b, e->u.str.s, e->u.str.len);
    }
  }
  return soupc__fn_str_buf(out, &b);
}

static int cmp_str(const void *x, const void *y) {
  const struct soupc_cty_value *a = *(const struct soupc_cty_value *const *)x;
  const struct soupc_cty_value *b = *(const struct soupc_cty_value *const *)y;
  size_t m = a->u.str.len < b->u.str.len ? a->u.str.len : b->u.str.len;
  int r = m > 0 ? memcmp(a->u.str.s, b->u.str.s, m) : 0;

  if (r != 0) {
    return r;
  }
  return a->u.str.len < b->u.str.len ? -1 : (a->u.str.len > b->u.str.len);
}

static int sort_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                     struct soupc_cty_value *const *a, size_t n,
                     const struct soupc_cty_type *ret) {
  const struct soupc_cty_value *l = a[0];
  struct soupc_cty_value **items;
  size_t i;
  int rv;

  if (!soupc__fn_wholly_known(l)) {
    /* The order is not known yet, but the length is. */
    struct soupc_cty_value *v = NULL;
    soupc_cty_refiner *b = NULL;
    soupc_cty_range *r = NULL;
    soupc_status st;
    int64_t lo = 0, hi = INT64_MAX;
    soupc_status_clear(&st);
    rv = soupc_cty_value_range(&r, l, &st);
    if (rv == 0) {
      rv = soupc_cty_range_length_lower_bound(r, &lo, &st);
    }
    if (rv == 0) {
      rv = soupc_cty_range_length_upper_bound(r, &hi, &st);
    }
    soupc_cty_range_free(r);
    if (rv == 0) {
      rv = soupc__fn_unknown(&v, ret);
    }
    if (rv == 0) {
      rv = soupc_cty_refine_begin(&b, v);
    }
    if (rv == 0) {
      soupc_cty_refine_collection_length_lower_bound(b, lo);
      soupc_cty_refine_collection_length_upper_bound(b, hi);
      soupc_cty_value_free(v);
      v = NULL;
      rv = soupc_cty_refine_finish(&v, b, &st);
    }
    if (rv != 0) {
      soupc_cty_value_free(v);
      return soupc__fn_status(c, -1, rv, &st);
    }
    *out = v;
    return 0;
  }
  for (i = 0; i < l->u.c.n; i++) {
    if (soupc__fn_null_p(l->u.c.items[i])) {
      return soupc__fn_fail(c, -1,
                            "given list element %zu is null; a null string "
                            "cannot be sorted",
                            i);
    }
  }
  items = FN_PTR_ARRAY(l->u.c.n);
  if (items == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  for (i = 0; i < l->u.c.n; i++) {
    rv = soupc__fn_dup(&items[i], l->u.c.items[i]);
    if (rv != 0) {
      while (i > 0) {
        soupc_cty_value_free(items[--i]);
      }
      soupc__free(items);
      return rv;
    }
  }
  /* sort.Strings is not stable, but equal strings are indistinguishable. */
  qsort(items, l->u.c.n, sizeof(void *), cmp_str);
  return soupc__fn_list(out, soupc__cty_type_prim(SOUPC_CTY_STRING), items,
                        l->u.c.n);
}

/* Appends a string value for s[0..len) to items[*n]. */
static int push_str(struct soupc_cty_value ***items, size_t *n, size_t *cap,
                    const char *s, size_t len) {
  if (*n == *cap) {
    size_t nc = *cap == 0 ? 8 : *cap * 2;
    struct soupc_cty_value **p = soupc__realloc(*items, nc * sizeof(void *));
    if (p == NULL) {
      return SOUPC_ERR_NOMEM;
    }
    *items = p;
    *cap = nc;
  }
  if (soupc__fn_str(&(*items)[*n], s, len) != 0) {
    return SOUPC_ERR_NOMEM;
  }
  (*n)++;
  return 0;
}

static int split_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                      struct soupc_cty_value *const *a, size_t n,
                      const struct soupc_cty_type *ret) {
  size_t sep_len, len, i = 0, start = 0, count = 0, cap = 0, sz;
  const char *sep = str_of(a[0], &sep_len);
  const char *s = str_of(a[1], &len);
  struct soupc_cty_value **items = NULL;
  int rv = 0;

  if (sep_len == 0) {
    /* strings.Split with "" explodes into UTF-8 sequences. */
    while (i < len && rv == 0) {
      soupc__fn_rune(s + i, len - i, &sz);
      rv = push_str(&items, &count, &cap, s + i, sz);
      i += sz;
    }
  } else {
    while (rv == 0) {
      const char *hit = sep_len <= len - start
                            ? memmem(s + start, len - start, sep, sep_len)
                            : NULL;
      if (hit == NULL) {
        rv = push_str(&items, &count, &cap, s + start, len - start);
        break;
      }
      rv = push_str(&items, &count, &cap, s + start,
                    (size_t)(hit - (s + start)));
      start = (size_t)(hit - s) + sep_len;
    }
  }
  if (rv != 0) {
    while (count > 0) {
      soupc_cty_value_free(items[--count]);
    }
    soupc__free(items);
    return rv;
  }
  return soupc__fn_list(out, soupc__cty_type_prim(SOUPC_CTY_STRING), items,
                        count);
}

static int chomp_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                      struct soupc_cty_value *const *a, size_t n,
                      const struct soupc_cty_type *ret) {
  size_t len;
  const char *s = str_of(a[0], &len);

  /* (?:\r\n?|\n)*\z matches exactly the trailing run of \r and \n. */
  while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r')) {
    len--;
  }
  return soupc__fn_str(out, s, len);
}

/* strings.Replace(s, old, new, -1). */
static int replace_all(struct cty_buf *b, const char *s, size_t len,
                       const char *old, size_t old_len, const char *rep,
                       size_t rep_len) {
  size_t i = 0, sz;

  if (old_len == 0) {
    /* Matches at the start and after each UTF-8 sequence. */
    soupc__cty_buf_put(b, rep, rep_len);
    while (i < len) {
      soupc__fn_rune(s + i, len - i, &sz);
      soupc__cty_buf_put(b, s + i, sz);
      soupc__cty_buf_put(b, rep, rep_len);
      i += sz;
      if (b->len > FN_MAX_RESULT) {
        return -1;
      }
    }
    return 0;
  }
  while (i < len) {
    const char *hit =
        old_len <= len - i ? memmem(s + i, len - i, old, old_len) : NULL;
    if (hit == NULL) {
      break;
    }
    soupc__cty_buf_put(b, s + i, (size_t)(hit - (s + i)));
    soupc__cty_buf_put(b, rep, rep_len);
    i = (size_t)(hit - s) + old_len;
    if (b->len > FN_MAX_RESULT) {
      return -1;
    }
  }
  soupc__cty_buf_put(b, s + i, len - i);
  return 0;
}

static int too_large(struct fn_ctx *c, struct cty_buf *b) {
  soupc__cty_buf_dispose(b);
  return soupc__fn_fail(c, -1, "result would be larger than %zu bytes",
                        FN_MAX_RESULT);
}

static int indent_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                       struct soupc_cty_value *const *a, size_t n,
                       const struct soupc_cty_type *ret) {
  struct cty_buf b, pad;
  size_t len;
  const char *s = str_of(a[1], &len);
  int64_t spaces, k;
  int rv;

  rv = soupc__fn_to_int(&spaces, c, -1, a[0], NULL);
  if (rv != 0) {
    return rv;
  }
  if (spaces < 0) {
    /* strings.Repeat panics; function.Call reports the panic. */
    return soupc__fn_fail(c, -1,
                          "panic in function implementation: "
                          "strings: negative Repeat count");
  }
  if ((uint64_t)spaces > FN_MAX_RESULT) {
    soupc__cty_buf_init(&b);
    return too_large(c, &b);
  }
  soupc__cty_buf_init(&pad);
  soupc__cty_buf_putc(&pad, '\n');
  for (k = 0; k < spaces; k++) {
    soupc__cty_buf_putc(&pad, ' ');
  }
  soupc__cty_buf_init(&b);
  rv = pad.oom ? 0
               : replace_all(&b, s, len, "\n", 1, (const char *)pad.p, pad.len);
  soupc__cty_buf_dispose(&pad);
  if (rv != 0) {
    return too_large(c, &b);
  }
  return soupc__fn_str_buf(out, &b);
}

static int replace_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                        struct soupc_cty_value *const *a, size_t n,
                        const struct soupc_cty_type *ret) {
  struct cty_buf b;
  size_t len, old_len, rep_len;
  const char *s = str_of(a[0], &len);
  const char *old = str_of(a[1], &old_len);
  const char *rep = str_of(a[2], &rep_len);

  soupc__cty_buf_init(&b);
  if (replace_all(&b, s, len, old, old_len, rep, rep_len) != 0) {
    return too_large(c, &b);
  }
  return soupc__fn_str_buf(out, &b);
}

static int trimspace_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                          struct soupc_cty_value *const *a, size_t n,
                          const struct soupc_cty_type *ret) {
  size_t len, start = 0, sz;
  const char *s = str_of(a[0], &len);

  while (start < len &&
         soupc__fn_is_space(soupc__fn_rune(s + start, len - start, &sz))) {
    start += sz;
  }
  while (len > start) {
    /* Step back over one UTF-8 sequence (utf8.DecodeLastRune). */
    size_t k = len - 1, back;
    while (k > start && k + 4 > len && ((uint8_t)s[k] & 0xC0) == 0x80) {
      k--;
    }
    if (soupc__fn_rune(s + k, len - k, &back) == 0xFFFD && k + back != len) {
      k = len - 1;
    }
    if (!soupc__fn_is_space(soupc__fn_rune(s + k, len - k, &back))) {
      break;
    }
    len = k;
  }
  return soupc__fn_str(out, s + start, len - start);
}

/* Whether rune @p r occurs in @p set (strings.ContainsRune). */
static bool in_cutset(const char *set, size_t set_len, int32_t r) {
  size_t i = 0, sz;

  while (i < set_len) {
    if (soupc__fn_rune(set + i, set_len - i, &sz) == r) {
      return true;
    }
    i += sz;
  }
  return false;
}

static int trim_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                     struct soupc_cty_value *const *a, size_t n,
                     const struct soupc_cty_type *ret) {
  size_t len, set_len, start = 0, sz;
  const char *s = str_of(a[0], &len);
  const char *set = str_of(a[1], &set_len);

  if (len == 0 || set_len == 0) {
    return soupc__fn_str(out, s, len);
  }
  while (start < len &&
         in_cutset(set, set_len, soupc__fn_rune(s + start, len - start, &sz))) {
    start += sz;
  }
  while (len > start) {
    size_t k = len - 1;
    while (k > start && k + 4 > len && ((uint8_t)s[k] & 0xC0) == 0x80) {
      k--;
    }
    if (soupc__fn_rune(s + k, len - k, &sz) == 0xFFFD && k + sz != len) {
      k = len - 1;
    }
    if (!in_cutset(set, set_len, soupc__fn_rune(s + k, len - k, &sz))) {
      break;
    }
    len = k;
  }
  return soupc__fn_str(out, s + start, len - start);
}

static int trimprefix_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                           struct soupc_cty_value *const *a, size_t n,
                           const struct soupc_cty_type *ret) {
  size_t len, plen;
  const char *s = str_of(a[0], &len);
  const char *p = str_of(a[1], &plen);

  if (plen <= len && memcmp(s, p, plen) == 0) {
    return soupc__fn_str(out, s + plen, len - plen);
  }
  return soupc__fn_str(out, s, len);
}

static int trimsuffix_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                           struct soupc_cty_value *const *a, size_t n,
                           const struct soupc_cty_type *ret) {
  size_t len, plen;
  const char *s = str_of(a[0], &len);
  const char *p = str_of(a[1], &plen);

  if (plen <= len && memcmp(s + len - plen, p, plen) == 0) {
    return soupc__fn_str(out, s, len - plen);
  }
  return soupc__fn_str(out, s, len);
}

#define P_STR(nm, fl)                                                          \
  { nm, FN_T_STRING, fl }
#define DYN SOUPC_CTY_PARAM_ALLOW_DYNAMIC

static const struct fn_param p_str_dyn[] = {P_STR("str", DYN)};
static const struct fn_param p_strlen[] = {
    P_STR("str", DYN | SOUPC_CTY_PARAM_ALLOW_UNKNOWN)};
static const struct fn_param p_str[] = {P_STR("str", 0)};
static const struct fn_param p_substr[] = {P_STR("str", DYN),
                                           {"offset", FN_T_NUMBER, DYN},
                                           {"length", FN_T_NUMBER, DYN}};
static const struct fn_param p_join[] = {P_STR("separator", 0)};
static const struct fn_param p_join_var = {"lists", FN_T_LIST_STRING, 0};
static const struct fn_param p_sort[] = {
    {"list", FN_T_LIST_STRING, SOUPC_CTY_PARAM_ALLOW_UNKNOWN}};
static const struct fn_param p_split[] = {P_STR("separator", 0),
                                          P_STR("str", 0)};
static const struct fn_param p_indent[] = {{"spaces", FN_T_NUMBER, 0},
                                           P_STR("str", 0)};
static const struct fn_param p_trim[] = {P_STR("str", 0), P_STR("cutset", 0)};
static const struct fn_param p_trimprefix[] = {P_STR("str", 0),
                                               P_STR("prefix", 0)};
static const struct fn_param p_trimsuffix[] = {P_STR("str", 0),
                                               P_STR("suffix", 0)};
static const struct fn_param p_replace[] = {P_STR("str", 0), P_STR("substr", 0),
                                            P_STR("replace", 0)};

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define STR_FN(nm, desc, params, impl)                                         \
  {                                                                            \
    nm, desc, params, N(params), NULL, NULL, FN_T_STRING, FN_REFINE_NOT_NULL,  \
        impl                                                                   \
  }

const struct soupc_cty_function soupc__fn_string[] = {
    STR_FN("upper",
           "Returns the given string with all Unicode letters translated to "
           "their uppercase equivalents.",
           p_str_dyn, upper_impl),
    STR_FN("lower",
           "Returns the given string with all Unicode letters translated to "
           "their lowercase equivalents.",
           p_str_dyn, lower_impl),
    STR_FN("strrev",
           "Returns the given string with all of its Unicode characters in "
           "reverse order.",
           p_str_dyn, strrev_impl),
    {"strlen",
     "Returns the number of Unicode characters (technically: grapheme "
     "clusters) in the given string.",
     p_strlen, N(p_strlen), NULL, NULL, FN_T_NUMBER, FN_REFINE_STRLEN,
     strlen_impl},
    STR_FN("substr", "Extracts a substring from the given string.", p_substr,
           substr_impl),
    {"join",
     "Concatenates together the elements of all given lists with a "
     "delimiter, producing a single string.",
     p_join, N(p_join), &p_join_var, NULL, FN_T_STRING, FN_REFINE_NOT_NULL,
     join_impl},
    {"sort", "Applies a lexicographic sort to the elements of the given list.",
     p_sort, N(p_sort), NULL, NULL, FN_T_LIST_STRING, FN_REFINE_NOT_NULL,
     sort_impl},
    {"split",
     "Produces a list of one or more strings by splitting the given string "
     "at all instances of a given separator substring.",
     p_split, N(p_split), NULL, NULL, FN_T_LIST_STRING, FN_REFINE_NOT_NULL,
     split_impl},
    STR_FN("chomp",
           "Removes one or more newline characters from the end of the given "
           "string.",
           p_str, chomp_impl),
    STR_FN("indent",
           "Adds a given number of spaces after each newline character in the "
           "given string.",
           p_indent, indent_impl),
    STR_FN("title",
           "Replaces one letter after each non-letter and non-digit character "
           "with its uppercase equivalent.",
           p_str, title_impl),
    STR_FN("trimspace",
           "Removes any consecutive space characters (as defined by Unicode) "
           "from the start and end of the given string.",
           p_str, trimspace_impl),
    STR_FN("trim",
           "Removes consecutive sequences of characters in \"cutset\" from the "
           "start and end of the given string.",
           p_trim, trim_impl),
    STR_FN("trimprefix",
           "Removes the given prefix from the start of the given string, if "
           "present.",
           p_trimprefix, trimprefix_impl),
    STR_FN("trimsuffix",
           "Removes the given suffix from the start of the given string, if "
           "present.",
           p_trimsuffix, trimsuffix_impl),
    STR_FN("replace",
           "Replaces all instances of the given substring in the given string "
           "with the given replacement string.",
           p_replace, replace_impl),
};
const size_t soupc__fn_string_count = N(soupc__fn_string);
