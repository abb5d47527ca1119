/**
 * @file cty_function.h
 * The cty function library: go-cty's cty/function/stdlib in C, with
 * go-cty's calling rules (the `function` package) and byte-identical
 * results, under the 83 names TofuSoup's soup-go exposes through
 * `soup-go cty call` (docs/internals/cty-function.md).
 *
 * A function is described by a static, immutable soupc_cty_function:
 * positional parameters, an optional variadic parameter, and a result type
 * computed from the argument types. A call follows go-cty's
 * function.Function.Call: the argument count and types are checked; a null
 * argument is refused unless the parameter allows nulls; an unknown
 * argument (or one of dynamic type) makes the result unknown unless the
 * parameter allows it, and such unknowns are refined as go-cty refines
 * them; marks on arguments whose parameter does not handle marks are
 * removed before the call and put back on the result.
 *
 * Thread safety: the function table is immutable and every call is
 * independent; calls may run on any number of threads at once.
 */
#ifndef SOUPC_CTY_FUNCTION_H
#define SOUPC_CTY_FUNCTION_H

#include "soupc/cty.h"
#include "soupc/soupc.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A function of the library (opaque, static storage, never freed). */
typedef struct soupc_cty_function soupc_cty_function;

/** Parameter flags (go-cty function.Parameter). */
enum {
  /** A null argument reaches the function instead of being refused. */
  SOUPC_CTY_PARAM_ALLOW_NULL = 1u << 0,
  /** An unknown argument reaches the function instead of making the
   * result unknown without calling it. */
  SOUPC_CTY_PARAM_ALLOW_UNKNOWN = 1u << 1,
  /** An argument of dynamic type reaches the type check instead of making
   * the result an unknown of dynamic type. */
  SOUPC_CTY_PARAM_ALLOW_DYNAMIC = 1u << 2,
  /** A marked argument reaches the function with its marks; otherwise
   * they are removed and applied to the result. */
  SOUPC_CTY_PARAM_ALLOW_MARKED = 1u << 3
};

/** Why a call was refused. The message is go-cty's error text, unbounded
 * (soupc_status would truncate it). */
typedef struct soupc_cty_call_error {
  /** NUL-terminated message, or NULL; owned, release with
   * soupc_cty_call_error_dispose(). */
  char *message;
  /** Index of the argument at fault (go-cty function.ArgError), or -1. */
  long arg_index;
} soupc_cty_call_error;

/** Releases the message in @p e and resets it; @p e may be NULL. */
SOUPC_EXTERN void soupc_cty_call_error_dispose(soupc_cty_call_error *e);

/** @return the number of functions (83). */
SOUPC_EXTERN size_t soupc_cty_function_count(void);

/**
 * @return function @p i in bytewise name order (the order of soup-go's
 * `cty functions`), or NULL if @p i >= soupc_cty_function_count().
 */
SOUPC_EXTERN const soupc_cty_function *soupc_cty_function_at(size_t i);

/**
 * Finds a function by its soup-go name ("upper", "regexreplace", ...).
 * @param name NUL-terminated
 * @return the function, or NULL if there is none by that name
 */
SOUPC_EXTERN const soupc_cty_function *
soupc_cty_function_lookup(const char *name);

/** @return the function's name; static storage. */
SOUPC_EXTERN const char *soupc_cty_function_name(const soupc_cty_function *f);

/** @return go-cty's description of the function; static storage. */
SOUPC_EXTERN const char *
soupc_cty_function_description(const soupc_cty_function *f);

/** @return the number of positional parameters. */
SOUPC_EXTERN size_t soupc_cty_function_param_count(const soupc_cty_function *f);

/**
 * Reads one parameter of the signature.
 *
 * @param name_out  the parameter's name; static storage
 * @param type_out  the type an argument must conform to (dynamic = any);
 *                  borrowed, valid for the life of the process
 * @param flags_out SOUPC_CTY_PARAM_* bits
 * @param f         the function
 * @param i         0 .. param_count-1 for the positional parameters, or
 *                  param_count for the variadic one
 * @return 0, or SOUPC_ERR_NOT_FOUND when there is no such parameter
 *         (outputs unchanged)
 */
SOUPC_EXTERN int soupc_cty_function_param(const char **name_out,
                                          const soupc_cty_type **type_out,
                                          unsigned *flags_out,
                                          const soupc_cty_function *f,
                                          size_t i);

/** @return non-zero if the function takes a variadic parameter. */
SOUPC_EXTERN int soupc_cty_function_is_variadic(const soupc_cty_function *f);

/**
 * go-cty Function.ReturnTypeForValues: the result type a call with these
 * arguments would have (dynamic when it cannot be known yet).
 *
 * @param out  on success, a new type; free with soupc_cty_type_free()
 * @param f    the function
 * @param args @p nargs borrowed values (unknowns are fine)
 * @param nargs number of arguments
 * @param err  on SOUPC_ERR_INVALID_ARGUMENT, the reason (may be NULL)
 * @return 0, SOUPC_ERR_INVALID_ARGUMENT (the arguments are refused) or
 *         SOUPC_ERR_NOMEM
 */
SOUPC_EXTERN int
soupc_cty_function_return_type(soupc_cty_type **out,
                               const soupc_cty_function *f,
                               const soupc_cty_value *const *args, size_t nargs,
                               soupc_cty_call_error *err);

/**
 * go-cty Function.Call.
 *
 * @param out  on success, the result (possibly unknown, null or marked);
 *             free with soupc_cty_value_free()
 * @param f    the function
 * @param args @p nargs borrowed values; never modified
 * @param nargs number of arguments
 * @param err  on SOUPC_ERR_INVALID_ARGUMENT, go-cty's error text and the
 *             argument at fault (may be NULL)
 * @return 0, SOUPC_ERR_INVALID_ARGUMENT (the function refused the call) or
 *         SOUPC_ERR_NOMEM. On error *out is unchanged.
 */
SOUPC_EXTERN int soupc_cty_function_call(soupc_cty_value **out,
                                         const soupc_cty_function *f,
                                         const soupc_cty_value *const *args,
                                         size_t nargs,
                                         soupc_cty_call_error *err);

/**
 * Looks @p name up and calls it (soupc_cty_function_lookup() then
 * soupc_cty_function_call()).
 * @param out   as soupc_cty_function_call()
 * @param name  NUL-terminated soup-go name
 * @param args  as soupc_cty_function_call()
 * @param nargs as soupc_cty_function_call()
 * @param err   as soupc_cty_function_call() (may be NULL)
 * @return as soupc_cty_function_call(), or SOUPC_ERR_NOT_FOUND for an
 *         unknown name (then @p err says "unknown function")
 */
SOUPC_EXTERN int soupc_cty_call(soupc_cty_value **out, const char *name,
                                const soupc_cty_value *const *args,
                                size_t nargs, soupc_cty_call_error *err);

/**
 * Reads one argument in soup-go's `cty call` form:
 * {"type":T,"value":V} where T is a type description and V a value in the
 * rich JSON dialect (soupc_cty_value_from_rich_json()), or
 * "unknown":true / "null":true instead of a value, plus optional
 * "marks":["name",...]. Keys match as Go's encoding/json matches them.
 *
 * @param out  on success, a new value
 * @param json the argument text; need not be NUL-terminated
 * @param len  bytes in @p json
 * @param err  on SOUPC_ERR_INVALID_ARGUMENT, soup-go's error text
 * @return 0, SOUPC_ERR_INVALID_ARGUMENT or SOUPC_ERR_NOMEM
 */
SOUPC_EXTERN int soupc_cty_call_arg_from_json(soupc_cty_value **out,
                                              const char *json, size_t len,
                                              soupc_cty_call_error *err);

/**
 * Writes soup-go's `cty call` result line (without the newline):
 * {"function":..,"ok":..,"error"?,"type"?,"value"?,"unknown":..,"null":..,
 * "marks"?,"refine"?,"msgpack"?}, byte for byte as soup-go's json.Marshal.
 *
 * @param out    on success, a malloc'd NUL-terminated string; free with
 *               soupc_cty_free_bytes()
 * @param len_out on success, bytes in *out (without the NUL)
 * @param name   the function's name
 * @param result the call's result, or NULL for a refused call
 * @param err    the refusal when @p result is NULL (may be NULL)
 * @return 0 or SOUPC_ERR_NOMEM
 */
SOUPC_EXTERN int soupc_cty_call_result_to_json(char **out, size_t *len_out,
                                               const char *name,
                                               const soupc_cty_value *result,
                                               const soupc_cty_call_error *err);

#ifdef __cplusplus
}
#endif

#endif /* SOUPC_CTY_FUNCTION_H */
