/**
 * @file cty.h
 * cty types and values, and the Terraform wire encodings (cty msgpack and
 * cty JSON), byte-compatible with go-cty (wire-cty-spec.md §2, §3, §9).
 *
 * Types and values are immutable once built and reference-counted
 * internally; every object returned through an @c out parameter belongs to
 * the caller and is released with the matching @c _free function, which
 * accepts NULL. Functions are thread-safe on distinct objects; a value may
 * be read from several threads at once.
 *
 * Errors: 0 on success; SOUPC_ERR_CTY_TYPE for a bad type description;
 * SOUPC_ERR_CTY_DECODE for input that does not match the type or cannot
 * be encoded; SOUPC_ERR_NOMEM. A one-line reason goes to @p st (may be
 * NULL) with code SOUPC_GRPC_INVALID_ARGUMENT.
 */
#ifndef SOUPC_CTY_H
#define SOUPC_CTY_H

#include "soupc/soupc.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A cty type (opaque). */
typedef struct soupc_cty_type soupc_cty_type;
/** A cty value (opaque): known, null or unknown (optionally refined). */
typedef struct soupc_cty_value soupc_cty_value;

/** Type kinds. DYNAMIC is go-cty's DynamicPseudoType. */
typedef enum {
  SOUPC_CTY_STRING = 0,
  SOUPC_CTY_NUMBER = 1,
  SOUPC_CTY_BOOL = 2,
  SOUPC_CTY_DYNAMIC = 3,
  SOUPC_CTY_LIST = 4,
  SOUPC_CTY_SET = 5,
  SOUPC_CTY_MAP = 6,
  SOUPC_CTY_TUPLE = 7,
  SOUPC_CTY_OBJECT = 8
} soupc_cty_kind;

/**
 * Parses go-cty's JSON type description (`"string"`, `["list","number"]`,
 * `["object",{"a":"string"},["a"]]`, ...; spec §1.2, strict arity).
 *
 * @param out  on success, a new type
 * @param json the description; need not be NUL-terminated
 * @return 0, SOUPC_ERR_CTY_TYPE or SOUPC_ERR_NOMEM
 */
SOUPC_EXTERN int soupc_cty_type_parse(soupc_cty_type **out, const char *json,
                                      size_t len, soupc_status *st);

/**
 * Writes the canonical JSON type description (go-cty Type.MarshalJSON).
 * @param out     on success, a malloc'd NUL-terminated string; free with
 *                soupc_cty_free_bytes()
 * @return 0 or SOUPC_ERR_NOMEM
 */
SOUPC_EXTERN int soupc_cty_type_to_json(char **out, size_t *len_out,
                                        const soupc_cty_type *ty);

/** @return the kind of @p ty. */
SOUPC_EXTERN soupc_cty_kind soupc_cty_type_kind(const soupc_cty_type *ty);

/** Releases @p ty; NULL is a no-op. */
SOUPC_EXTERN void soupc_cty_type_free(soupc_cty_type *ty);

/** Releases @p v; NULL is a no-op. */
SOUPC_EXTERN void soupc_cty_value_free(soupc_cty_value *v);

/** Releases bytes returned by the encoders. */
SOUPC_EXTERN void soupc_cty_free_bytes(void *p);

/** @return the value's own type; borrowed, valid while @p v lives. */
SOUPC_EXTERN const soupc_cty_type *
soupc_cty_value_type(const soupc_cty_value *v);

/** @return non-zero if @p v is null. */
SOUPC_EXTERN int soupc_cty_value_is_null(const soupc_cty_value *v);

/** @return non-zero if @p v is known (it may still contain unknowns). */
SOUPC_EXTERN int soupc_cty_value_is_known(const soupc_cty_value *v);

/**
 * @return non-zero if @p a and @p b are the same value: same type, same
 * null/unknown state and refinements, numbers equal as go-cty compares
 * them, strings byte-equal, collections element-wise.
 */
SOUPC_EXTERN int soupc_cty_value_equal(const soupc_cty_value *a,
                                       const soupc_cty_value *b);

/** Builds a string value (NFC-normalised, spec §2.3). */
SOUPC_EXTERN int soupc_cty_value_string(soupc_cty_value **out, const char *s,
                                        size_t len);
/** Builds a number by parsing decimal text at 512 bits (cty.ParseNumberVal).
 * @return 0, SOUPC_ERR_CTY_DECODE (not a number) or SOUPC_ERR_NOMEM */
SOUPC_EXTERN int soupc_cty_value_number_parse(soupc_cty_value **out,
                                              const char *text);
/** Builds a number from an int64 (cty.NumberIntVal, 64-bit precision). */
SOUPC_EXTERN int soupc_cty_value_number_int(soupc_cty_value **out, int64_t v);
/** Builds a number from a float64 (cty.NumberFloatVal); NaN is refused. */
SOUPC_EXTERN int soupc_cty_value_number_float(soupc_cty_value **out, double v);
/** Builds a bool value. */
SOUPC_EXTERN int soupc_cty_value_bool(soupc_cty_value **out, int b);
/** Builds a null value of @p ty. */
SOUPC_EXTERN int soupc_cty_value_null(soupc_cty_value **out,
                                      const soupc_cty_type *ty);
/** Builds an unrefined unknown value of @p ty. */
SOUPC_EXTERN int soupc_cty_value_unknown(soupc_cty_value **out,
                                         const soupc_cty_type *ty);

/**
 * Builds a value from plain JSON the way TofuSoup's soup-go does for
 * `wire encode`, `cty convert` and `cty validate-value` (spec §1.3 (a)):
 * numbers exact from tokens or strings, no other conversions, `dynamic`
 * only at the top (implied type) or as null.
 *
 * @param fill_required if non-zero, missing required object attributes
 *                      become null (validate-value never runs Marshal);
 *                      otherwise they are an error, as Marshal reports.
 */
SOUPC_EXTERN int soupc_cty_value_from_json(soupc_cty_value **out,
                                           const soupc_cty_type *ty,
                                           const char *json, size_t len,
                                           int fill_required, soupc_status *st);

/**
 * Builds a value from TofuSoup's "rich" JSON dialect (spec §1.3 (b)):
 * plain JSON plus `{"$null":true}`, `{"$unknown":true,"$refine":{...}}`,
 * `{"$number":"Infinity"}` and `{"$dynamic":{"type":T,"value":V}}`. The
 * only way to build refined unknowns from text.
 */
SOUPC_EXTERN int soupc_cty_value_from_rich_json(soupc_cty_value **out,
                                                const soupc_cty_type *ty,
                                                const char *json, size_t len,
                                                soupc_status *st);

/**
 * go-cty msgpack.Marshal(v, ty): the wire encoding (spec §2).
 * @param out on success, malloc'd bytes; free with soupc_cty_free_bytes()
 */
SOUPC_EXTERN int soupc_cty_msgpack_encode(uint8_t **out, size_t *len_out,
                                          const soupc_cty_value *v,
                                          const soupc_cty_type *ty,
                                          soupc_status *st);

/**
 * go-cty msgpack.Unmarshal(buf, ty) (spec §2.7, §2.8). Trailing bytes
 * after the first value are ignored, as go-cty does.
 */
SOUPC_EXTERN int soupc_cty_msgpack_decode(soupc_cty_value **out,
                                          const soupc_cty_type *ty,
                                          const uint8_t *buf, size_t len,
                                          soupc_status *st);

/**
 * go-cty json.Marshal(v, ty) (spec §3.1). Unknown values and infinities
 * are SOUPC_ERR_CTY_DECODE ("value is not known").
 * @param out on success, a malloc'd NUL-terminated string
 */
SOUPC_EXTERN int soupc_cty_json_encode(char **out, size_t *len_out,
                                       const soupc_cty_value *v,
                                       const soupc_cty_type *ty,
                                       soupc_status *st);

/** go-cty json.Unmarshal(buf, ty) (spec §3.2). */
SOUPC_EXTERN int soupc_cty_json_decode(soupc_cty_value **out,
                                       const soupc_cty_type *ty,
                                       const char *json, size_t len,
                                       soupc_status *st);

#ifdef __cplusplus
}
#endif

#endif /* SOUPC_CTY_H */
