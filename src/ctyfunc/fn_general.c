/* go-cty stdlib equal, notequal, coalesce (general.go), tostring,
 * tonumber, tobool, assertnotnull (conversion.go) and byteslen,
 * bytesslice (bytes.go), on the value model's Equals, convert and Unify
 * and its bytes capsule. */
#include "ctyfunc/fn_int.h"

#include "base/alloc.h"

#include <stdio.h>
#include <string.h>

/* ---- equal / notequal ---- */

static int equal_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                      struct soupc_cty_value *const *a, size_t n,
                      const struct soupc_cty_type *ret) {
  soupc_status st;
  int rv;

  soupc_status_clear(&st);
  rv = soupc__cty_equals(out, a[0], a[1], &st);
  return soupc__fn_status(c, -1, rv, &st);
}

static int notequal_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                         struct soupc_cty_value *const *a, size_t n,
                         const struct soupc_cty_type *ret) {
  struct soupc_cty_value *eq = NULL;
  soupc_status st;
  int rv;

  soupc_status_clear(&st);
  rv = soupc__cty_equals(&eq, a[0], a[1], &st);
  if (rv != 0) {
    return soupc__fn_status(c, -1, rv, &st);
  }
  /* Value.Not: an unknown stays unknown, refined not-null. */
  if (cty_is_known(eq)) {
    rv = soupc__fn_bool(out, !cty_unmarked(eq)->u.b);
  } else {
    rv = soupc__cty_unknown_bool_not_null(out);
  }
  soupc_cty_value_free(eq);
  return rv;
}

/* ---- coalesce ---- */

static int coalesce_type(struct soupc_cty_type **out, struct fn_ctx *c,
                         struct soupc_cty_value *const *a, size_t n) {
  const struct soupc_cty_type **ts = FN_PTR_ARRAY(n);
  size_t i;
  int rv;

  if (ts == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  for (i = 0; i < n; i++) {
    ts[i] = a[i]->type;
  }
  *out = NULL;
  rv = soupc__cty_unify(out, NULL, ts, n, true);
  soupc__free(ts);
  if (rv != 0) {
    return rv;
  }
  if (*out == NULL) {
    return soupc__fn_fail(c, -1, "all arguments must have the same type");
  }
  return 0;
}

static int convert_to(struct soupc_cty_value **out, struct fn_ctx *c, long arg,
                      const struct soupc_cty_value *v,
                      const struct soupc_cty_type *want) {
  struct soupc_cty_path *path = NULL;
  soupc_status st;
  int rv;

  soupc_status_clear(&st);
  rv = soupc__cty_convert(out, v, want, &path, &st);
  soupc_cty_path_free(path);
  return soupc__fn_status(c, arg, rv, &st);
}

static int coalesce_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                         struct soupc_cty_value *const *a, size_t n,
                         const struct soupc_cty_type *ret) {
  size_t i;

  for (i = 0; i < n; i++) {
    if (!cty_is_known(a[i])) {
      return soupc__fn_unknown(out, ret);
    }
    if (cty_is_null(a[i])) {
      continue;
    }
    return convert_to(out, c, -1, a[i], ret);
  }
  return soupc__fn_fail(c, -1, "no non-null arguments");
}

/* ---- MakeToFunc: tostring, tonumber, tobool ---- */

static int cannot_convert(struct fn_ctx *c, const struct soupc_cty_type *got,
                          const struct soupc_cty_type *want) {
  struct cty_buf b;

  soupc__cty_buf_init(&b);
  soupc__cty_buf_puts(&b, "cannot convert ");
  soupc__fn_friendly(&b, got, false);
  soupc__cty_buf_puts(&b, " to ");
  soupc__fn_friendly(&b, want, true);
  return soupc__fn_fail_buf(c, 0, &b);
}

static int to_type(struct soupc_cty_type **out, struct fn_ctx *c,
                   const struct soupc_cty_value *v, soupc_cty_kind want_kind) {
  const struct soupc_cty_type *want = soupc__cty_type_prim(want_kind);
  const struct soupc_cty_type *got = v->type;
  soupc_cty_conversion *conv = NULL;
  int rv;

  if (soupc_cty_type_equals(got, want)) {
    *out = soupc__cty_type_ref(want);
    return 0;
  }
  rv = soupc_cty_get_conversion_unsafe(&conv, got, want);
  if (rv != 0) {
    return rv;
  }
  if (conv == NULL) {
    if ((got->kind == SOUPC_CTY_TUPLE || got->kind == SOUPC_CTY_OBJECT) &&
        got->kind == want->kind) {
      /* not reachable for primitive targets; kept for the shape of
       * go-cty's message */
      struct cty_buf b;
      soupc__cty_buf_init(&b);
      soupc__cty_buf_puts(&b,
                          got->kind == SOUPC_CTY_TUPLE
                              ? "incompatible tuple type for conversion: "
                              : "incompatible object type for conversion: ");
      soupc__cty_mismatch(&b, got, want);
      return soupc__fn_fail_buf(c, 0, &b);
    }
    return cannot_convert(c, got, want);
  }
  soupc_cty_conversion_free(conv);
  *out = soupc__cty_type_ref(want);
  return 0;
}

static int tostring_type(struct soupc_cty_type **out, struct fn_ctx *c,
                         struct soupc_cty_value *const *a, size_t n) {
  return to_type(out, c, a[0], SOUPC_CTY_STRING);
}

static int tonumber_type(struct soupc_cty_type **out, struct fn_ctx *c,
                         struct soupc_cty_value *const *a, size_t n) {
  return to_type(out, c, a[0], SOUPC_CTY_NUMBER);
}

static int tobool_type(struct soupc_cty_type **out, struct fn_ctx *c,
                       struct soupc_cty_value *const *a, size_t n) {
  return to_type(out, c, a[0], SOUPC_CTY_BOOL);
}

static int to_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                   struct soupc_cty_value *const *a, size_t n,
                   const struct soupc_cty_type *ret) {
  const struct soupc_cty_value *v = a[0];
  struct soupc_cty_path *path = NULL;
  struct cty_buf b;
  soupc_status st;
  int rv;

  soupc_status_clear(&st);
  rv = soupc__cty_convert(out, v, ret, &path, &st);
  soupc_cty_path_free(path);
  if (rv == 0 || rv == SOUPC_ERR_NOMEM) {
    return rv;
  }
  if (v->type->kind == SOUPC_CTY_STRING &&
      (ret->kind == SOUPC_CTY_BOOL || ret->kind == SOUPC_CTY_NUMBER)) {
    soupc__cty_buf_init(&b);
    soupc__cty_buf_puts(&b, "cannot convert ");
    if (cty_is_null(v)) {
      soupc__cty_buf_puts(&b, "string");
    } else {
      soupc__cty_go_quote(&b, v->u.str.s, v->u.str.len);
    }
    soupc__cty_buf_puts(&b, ret->kind == SOUPC_CTY_BOOL
                                ? " to bool; only the strings \"true\" or "
                                  "\"false\" are allowed"
                                : " to number; given string must be a decimal "
                                  "representation of a number");
    return soupc__fn_fail_buf(c, 0, &b);
  }
  return cannot_convert(c, v->type, ret);
}

/* ---- assertnotnull (go-cty >= 1.14) ---- */

static int same_type(struct soupc_cty_type **out, struct fn_ctx *c,
                     struct soupc_cty_value *const *a, size_t n) {
  *out = soupc__cty_type_ref(a[0]->type);
  return 0;
}

static int identity_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                         struct soupc_cty_value *const *a, size_t n,
                         const struct soupc_cty_type *ret) {
  return soupc__fn_dup(out, a[0]);
}

/* ---- byteslen / bytesslice ---- */

static int byteslen_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                         struct soupc_cty_value *const *a, size_t n,
                         const struct soupc_cty_type *ret) {
  const uint8_t *data;
  size_t len;
  int rv = soupc_cty_value_bytes_get(a[0], &data, &len);

  if (rv != 0) {
    return rv;
  }
  return soupc__fn_int(out, (int64_t)len);
}

static int bytesslice_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                           struct soupc_cty_value *const *a, size_t n,
                           const struct soupc_cty_type *ret) {
  const uint8_t *data;
  size_t len;
  int64_t offset, length;
  uint64_t end;
  int rv = soupc_cty_value_bytes_get(a[0], &data, &len);

  if (rv != 0) {
    return rv;
  }
  rv = soupc__fn_to_int(&offset, c, -1, a[1], NULL);
  if (rv == 0) {
    rv = soupc__fn_to_int(&length, c, -1, a[2], NULL);
  }
  if (rv != 0) {
    return rv;
  }
  if (offset < 0 || length < 0) {
    return soupc__fn_fail(c, -1, "offset and length must be non-negative");
  }
  if ((uint64_t)offset > len) {
    return soupc__fn_fail(c, -1,
                          "offset %lld is greater than total buffer length %zu",
                          (long long)offset, len);
  }
  /* Go's int addition wraps; a negative end passes the length check and
   * the slice expression panics. */
  end = (uint64_t)offset + (uint64_t)length;
  if (end > INT64_MAX) {
    return soupc__fn_fail(c, -1,
                          "panic in function implementation: runtime error: "
                          "slice bounds out of range [:%lld]",
                          (long long)(int64_t)end); /* two's complement */
  }
  if (end > len) {
    return soupc__fn_fail(c, -1,
                          "offset %lld + length %lld is greater than total "
                          "buffer length %zu",
                          (long long)offset, (long long)length, len);
  }
  return soupc_cty_value_bytes(out, data + offset, (size_t)length);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define UND                                                                    \
  (SOUPC_CTY_PARAM_ALLOW_UNKNOWN | SOUPC_CTY_PARAM_ALLOW_DYNAMIC |             \
   SOUPC_CTY_PARAM_ALLOW_NULL)

static const struct fn_param p_equal[] = {{"a", FN_T_DYNAMIC, UND},
                                          {"b", FN_T_DYNAMIC, UND}};
static const struct fn_param p_vals = {"vals", FN_T_DYNAMIC, UND};
static const struct fn_param p_to[] = {
    {"v", FN_T_DYNAMIC,
     SOUPC_CTY_PARAM_ALLOW_NULL | SOUPC_CTY_PARAM_ALLOW_DYNAMIC}};
static const struct fn_param p_assert[] = {{"v", FN_T_DYNAMIC, 0}};
static const struct fn_param p_byteslen[] = {
    {"buf", FN_T_BYTES, SOUPC_CTY_PARAM_ALLOW_DYNAMIC}};
static const struct fn_param p_bytesslice[] = {
    {"buf", FN_T_BYTES, SOUPC_CTY_PARAM_ALLOW_DYNAMIC},
    {"offset", FN_T_NUMBER, SOUPC_CTY_PARAM_ALLOW_DYNAMIC},
    {"length", FN_T_NUMBER, SOUPC_CTY_PARAM_ALLOW_DYNAMIC}};

const struct soupc_cty_function soupc__fn_general[] = {
    {"equal",
     "Returns true if the two given values are equal, or false "
     "otherwise.",
     p_equal, N(p_equal), NULL, NULL, FN_T_BOOL, FN_REFINE_NOT_NULL,
     equal_impl},
    {"notequal",
     "Returns false if the two given values are equal, or true otherwise.",
     p_equal, N(p_equal), NULL, NULL, FN_T_BOOL, FN_REFINE_NOT_NULL,
     notequal_impl},
    {"coalesce",
     "Returns the first of the given arguments that isn't null, or raises an "
     "error if there are no non-null arguments.",
     NULL, 0, &p_vals, coalesce_type, FN_T_DYNAMIC, FN_REFINE_NOT_NULL,
     coalesce_impl},
    {"tostring",
     "Converts the given value to string, or raises an error if that "
     "conversion is impossible.",
     p_to, N(p_to), NULL, tostring_type, FN_T_STRING, FN_REFINE_NONE, to_impl},
    {"tonumber",
     "Converts the given value to number, or raises an error if that "
     "conversion is impossible.",
     p_to, N(p_to), NULL, tonumber_type, FN_T_NUMBER, FN_REFINE_NONE, to_impl},
    {"tobool",
     "Converts the given value to bool, or raises an error if that "
     "conversion is impossible.",
     p_to, N(p_to), NULL, tobool_type, FN_T_BOOL, FN_REFINE_NONE, to_impl},
    {"assertnotnull",
     "Returns the given value varbatim if it is non-null, or raises an error "
     "if it's null.",
     p_assert, N(p_assert), NULL, same_type, FN_T_DYNAMIC, FN_REFINE_NOT_NULL,
     identity_impl},
    {"byteslen", "Returns the total number of bytes in the given buffer.",
     p_byteslen, N(p_byteslen), NULL, NULL, FN_T_NUMBER, FN_REFINE_NOT_NULL,
     byteslen_impl},
    {"bytesslice", "Extracts a subslice from the given buffer.", p_bytesslice,
     N(p_bytesslice), NULL, NULL, FN_T_BYTES, FN_REFINE_NOT_NULL,
     bytesslice_impl},
};
const size_t soupc__fn_general_count = N(soupc__fn_general);
