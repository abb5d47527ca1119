/* Internal model of the cty function library: go-cty's `function` package
 * (Spec, Parameter, Call) and the helpers the stdlib functions share.
 * Only include/soupc/cty_function.h is public. */
#ifndef SOUPC_CTYFUNC_FN_INT_H
#define SOUPC_CTYFUNC_FN_INT_H

#include "cty/cty_int.h"
#include "soupc/cty_function.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An array of @p n pointers plus a spare slot (so n == 0 allocates).
 * sizeof(void *): clang-tidy's sizeof-expression check flags
 * sizeof(*p) when *p is a pointer to a struct. */
#define FN_PTR_ARRAY(n) soupc__calloc((size_t)(n) + 1, sizeof(void *))

/* Returned by type and implementation callbacks when the call is refused;
 * the message is in the fn_ctx. Everything else is SOUPC_ERR_NOMEM. */
#define FN_EFAIL SOUPC_ERR_INVALID_ARGUMENT

/* The types the stdlib's parameters and static results use; immortal. */
enum fn_type_id {
  FN_T_STRING,
  FN_T_NUMBER,
  FN_T_BOOL,
  FN_T_DYNAMIC,
  FN_T_LIST_STRING,
  FN_T_LIST_NUMBER,
  FN_T_LIST_DYNAMIC,
  FN_T_SET_DYNAMIC,
  FN_T_BYTES,
  FN_T_COUNT
};
const struct soupc_cty_type *soupc__fn_type(enum fn_type_id id);

/* function.Parameter */
struct fn_param {
  const char *name;
  enum fn_type_id type;
  unsigned flags; /* SOUPC_CTY_PARAM_* */
};

/* What function.Call keeps for one call: the error, if any, goes here. */
struct fn_ctx {
  const struct soupc_cty_function *f;
  char *err;    /* malloc'd message of a refused call */
  long err_arg; /* function.ArgError index, or -1 */
  bool oom;     /* formatting the message ran out of memory */
};

/* Spec.Type: the result type for the (possibly unknown) arguments. */
typedef int (*fn_type_cb)(struct soupc_cty_type **out, struct fn_ctx *c,
                          struct soupc_cty_value *const *args, size_t n);
/* Spec.Impl: args are borrowed, *out is new and conforms to @p ret. */
typedef int (*fn_impl_cb)(struct soupc_cty_value **out, struct fn_ctx *c,
                          struct soupc_cty_value *const *args, size_t n,
                          const struct soupc_cty_type *ret);

/* Spec.RefineResult, as the two shapes the stdlib uses. */
enum fn_refine {
  FN_REFINE_NONE,
  FN_REFINE_NOT_NULL, /* refineNonNull */
  FN_REFINE_STRLEN    /* NotNull, number >= 0 */
};

/* function.Spec plus the name soup-go lists it under. */
struct soupc_cty_function {
  const char *name;
  const char *description;
  const struct fn_param *params;
  size_t nparams;
  const struct fn_param *varparam; /* NULL = not variadic */
  fn_type_cb type;                 /* NULL = static_ret */
  enum fn_type_id static_ret;
  enum fn_refine refine;
  fn_impl_cb impl;
};

/* Refuses the call: formats go-cty's error text. @p arg is the ArgError
 * index or -1. @return FN_EFAIL (or SOUPC_ERR_NOMEM). */
int soupc__fn_fail(struct fn_ctx *c, long arg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Refuses the call with the bytes of @p b as the message. */
int soupc__fn_fail_buf(struct fn_ctx *c, long arg, struct cty_buf *b);

/* The function tables, one per stdlib source file (fn_<area>.c). */
extern const struct soupc_cty_function soupc__fn_string[];
extern const size_t soupc__fn_string_count;
extern const struct soupc_cty_function soupc__fn_number[];
extern const size_t soupc__fn_number_count;
extern const struct soupc_cty_function soupc__fn_regex[];
extern const size_t soupc__fn_regex_count;
extern const struct soupc_cty_function soupc__fn_datetime[];
extern const size_t soupc__fn_datetime_count;
extern const struct soupc_cty_function soupc__fn_encoding[];
extern const size_t soupc__fn_encoding_count;
extern const struct soupc_cty_function soupc__fn_general[];
extern const size_t soupc__fn_general_count;
extern const struct soupc_cty_function soupc__fn_collection[];
extern const size_t soupc__fn_collection_count;
extern const struct soupc_cty_function soupc__fn_set[];
extern const size_t soupc__fn_set_count;
extern const struct soupc_cty_function soupc__fn_format[];
extern const size_t soupc__fn_format_count;

/* ---- values (fn_val.c) ---- */
/* A zero number with Go precision @p prec and enough storage for it. */
struct cty_num *soupc__fn_num_new(unsigned prec);
int soupc__fn_str(struct soupc_cty_value **out, const char *s, size_t len);
/* Takes the bytes of @p b (NUL-terminated); disposes of it either way. */
int soupc__fn_str_buf(struct soupc_cty_value **out, struct cty_buf *b);
int soupc__fn_int(struct soupc_cty_value **out, int64_t i);
int soupc__fn_bool(struct soupc_cty_value **out, bool b);
int soupc__fn_null(struct soupc_cty_value **out,
                   const struct soupc_cty_type *t);
int soupc__fn_unknown(struct soupc_cty_value **out,
                      const struct soupc_cty_type *t);
/* A deep copy (values are not shared yet). */
int soupc__fn_dup(struct soupc_cty_value **out,
                  const struct soupc_cty_value *v);
/* cty.ListVal / ListValEmpty(elem): takes ownership of items[0..n). */
int soupc__fn_list(struct soupc_cty_value **out,
                   const struct soupc_cty_type *elem,
                   struct soupc_cty_value **items, size_t n);
int soupc__fn_tuple(struct soupc_cty_value **out,
                    struct soupc_cty_value **items, size_t n);
/* cty.ObjectVal: names are NFC and sorted, one per item; takes ownership
 * of items, copies names. */
int soupc__fn_object(struct soupc_cty_value **out, const char *const *names,
                     const size_t *name_lens, struct soupc_cty_value **items,
                     size_t n);
int soupc__fn_list_type(struct soupc_cty_type **out,
                        const struct soupc_cty_type *elem);
int soupc__fn_tuple_type_n(struct soupc_cty_type **out,
                           const struct soupc_cty_type *elem, size_t n);
/* An object type of @p n string attributes (names NFC, any order). */
int soupc__fn_object_type_str(struct soupc_cty_type **out,
                              const char *const *names, const size_t *lens,
                              size_t n);
bool soupc__fn_known(const struct soupc_cty_value *v);
bool soupc__fn_null_p(const struct soupc_cty_value *v);
bool soupc__fn_wholly_known(const struct soupc_cty_value *v);
/* Maps a value-model error (soupc_status) to the call's refusal: a
 * SOUPC_ERR_CTY_PANIC is reported as function.Call reports a panic. */
int soupc__fn_status(struct fn_ctx *c, long arg, int rv,
                     const soupc_status *st);
/* gocty.FromCtyValue(v, &int) (go's int is 64 bits). */
int soupc__fn_to_int(int64_t *out, struct fn_ctx *c, long arg,
                     const struct soupc_cty_value *v, const char *prefix);
/* gocty.FromCtyValue(v, &float64). */
int soupc__fn_to_float(double *out, struct fn_ctx *c, long arg,
                       const struct soupc_cty_value *v);
/* cty Type.FriendlyName() / FriendlyNameForConstraint(). */
void soupc__fn_friendly(struct cty_buf *b, const struct soupc_cty_type *t,
                        bool constraint);

/* Value.Add on two known numbers (big.Float.Add at the larger precision);
 * @p nan_msg is the refusal for +Inf + -Inf. */
int soupc__fn_num_add(struct soupc_cty_value **out, struct fn_ctx *c,
                      const struct soupc_cty_value *a,
                      const struct soupc_cty_value *b, const char *nan_msg);

/* ---- Go's math.Log, math.Exp, math.Pow on amd64 (fn_gomath.c) ---- */
double soupc__fn_go_log(double x);
double soupc__fn_go_exp(double x);
double soupc__fn_go_pow(double x, double y);

/* ---- Go's unicode and strings (fn_unicode.c) ---- */
/* utf8.DecodeRune: U+FFFD with size 1 for an invalid byte. */
int32_t soupc__fn_rune(const char *s, size_t len, size_t *size);
void soupc__fn_put_rune(struct cty_buf *b, int32_t r);
/* textseg.ScanGraphemeClusters: bytes in the first cluster of s. */
size_t soupc__fn_grapheme(const char *s, size_t len);
size_t soupc__fn_grapheme_count(const char *s, size_t len);
bool soupc__fn_is_space(int32_t r); /* unicode.IsSpace */
/* unicode.ToUpper, ToLower, ToTitle (simple case mappings). */
int32_t soupc__fn_to_upper(int32_t r);
int32_t soupc__fn_to_lower(int32_t r);
int32_t soupc__fn_to_title(int32_t r);
/* strconv.QuoteRune */
void soupc__fn_quote_rune(struct cty_buf *b, int32_t r);

#endif
