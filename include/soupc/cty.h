/**
 * @file cty.h
 * cty types and values with go-cty's semantics (marks, capsules, unknowns
 * and refinements, conversion and unification, Equals, Walk, Transform,
 * ranges), and the Terraform wire encodings (cty msgpack and cty JSON),
 * byte-compatible with go-cty (wire-cty-spec.md §2, §3, §9).
 *
 * Types and values are immutable once built and reference-counted; every
 * object returned through an @c out parameter belongs to the caller and is
 * released with the matching @c _free function, which accepts NULL. A
 * borrowed pointer (a @c const return) stays valid while the object it came
 * from lives. Objects may be read, shared (@c _ref) and freed from several
 * threads at once. The three builders that change in place (a
 * soupc_cty_path, a soupc_cty_path_marks and a soupc_cty_refiner) belong to
 * one thread while they are being changed; nothing in this API keeps
 * global mutable state, and no function blocks or calls back into the
 * caller except through the callbacks it is given (capsule operations,
 * Walk and Transform functions), which run on the calling thread.
 *
 * On failure nothing is returned through an @c out parameter that the
 * caller must free, and nothing is leaked. Values nest at most 256 levels deep:
 * an operation that recurses deeper returns SOUPC_ERR_CTY_DECODE (values)
 * or SOUPC_ERR_CTY_TYPE (types) without a message.
 *
 * Errors: 0 on success, or a negative soupc_err:
 * - SOUPC_ERR_CTY_TYPE: a bad type description;
 * - SOUPC_ERR_CTY_DECODE: input that does not match the type or cannot be
 *   encoded;
 * - SOUPC_ERR_CTY_CONVERT: a value that cannot be converted (convert
 *   package errors, with go-cty's message);
 * - SOUPC_ERR_CTY_PANIC: an operation that go-cty refuses by panicking
 *   (Range of a marked value, GetAttr on a number, ...); the message is
 *   go-cty's panic text;
 * - SOUPC_ERR_NOMEM.
 * A one-line reason goes to @p st (may be NULL) with code
 * SOUPC_GRPC_INVALID_ARGUMENT.
 *
 * Strings are byte strings (UTF-8 expected) with explicit lengths; every
 * string that becomes part of a value is NFC-normalised as cty.StringVal
 * does. Returned strings are NUL-terminated and freed with
 * soupc_cty_free_bytes().
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
/** A cty value (opaque): known, null or unknown (optionally refined),
 * optionally marked. */
typedef struct soupc_cty_value soupc_cty_value;
/** An immutable set of marks (opaque), each a byte string. */
typedef struct soupc_cty_marks soupc_cty_marks;
/** A path into a value (opaque): attribute and index steps. */
typedef struct soupc_cty_path soupc_cty_path;
/** A list of (message, path) errors (opaque). */
typedef struct soupc_cty_path_errors soupc_cty_path_errors;
/** A list of (path, marks) pairs (opaque): go-cty's []PathValueMarks. */
typedef struct soupc_cty_path_marks soupc_cty_path_marks;
/** What is known about a value's range (opaque): go-cty's ValueRange. */
typedef struct soupc_cty_range soupc_cty_range;
/** A prepared type conversion (opaque): go-cty's convert.Conversion. */
typedef struct soupc_cty_conversion soupc_cty_conversion;
/** A refinement in progress (opaque): go-cty's RefinementBuilder. */
typedef struct soupc_cty_refiner soupc_cty_refiner;

/** Type kinds. DYNAMIC is go-cty's DynamicPseudoType. */
typedef enum {
  SOUPC_CTY_STRING = 0,  /**< cty.String: a Unicode (NFC) string */
  SOUPC_CTY_NUMBER = 1,  /**< cty.Number: arbitrary precision (512 bits) */
  SOUPC_CTY_BOOL = 2,    /**< cty.Bool */
  SOUPC_CTY_DYNAMIC = 3, /**< cty.DynamicPseudoType: any type */
  SOUPC_CTY_LIST = 4,    /**< cty.List of one element type */
  SOUPC_CTY_SET = 5,     /**< cty.Set of one element type */
  SOUPC_CTY_MAP = 6,     /**< cty.Map from string keys to one element type */
  SOUPC_CTY_TUPLE = 7,   /**< cty.Tuple: a fixed sequence of element types */
  SOUPC_CTY_OBJECT = 8,  /**< cty.Object: named attributes, some optional */
  SOUPC_CTY_CAPSULE = 9  /**< a capsule type (soupc_cty_type_capsule()) */
} soupc_cty_kind;

/* ------------------------------------------------------------------ */
/** @name Types */
/**@{*/

/**
 * Parses a JSON type description the way TofuSoup's soup-go does
 * (`"string"`, `["list","number"]`, `["object",{"a":"string"},["a"]]`,
 * and `"bytes"` for the bytes capsule; wire-cty-spec.md §1.2, strict
 * arity), with soup-go's error texts.
 *
 * @param out  on success, a new type (the caller's; soupc_cty_type_free())
 * @param json the description; need not be NUL-terminated
 * @param len  its length in bytes
 * @param st   gets the reason on failure (may be NULL)
 * @return 0, SOUPC_ERR_CTY_TYPE (not JSON, or not a type description,
 *         with soup-go's message) or SOUPC_ERR_NOMEM
 */
SOUPC_EXTERN int soupc_cty_type_parse(soupc_cty_type **out, const char *json,
                                      size_t len, soupc_status *st);

/**
 * Writes the canonical JSON type description (go-cty Type.MarshalJSON).
 * The bytes capsule is written `"bytes"` (soup-go's spelling); other
 * capsules as their name.
 * @param out     on success, a malloc'd NUL-terminated string; free with
 *                soupc_cty_free_bytes()
 * @param len_out its length without the NUL (may be NULL)
 * @param ty      the type (borrowed)
 * @return 0 or SOUPC_ERR_NOMEM
 */
SOUPC_EXTERN int soupc_cty_type_to_json(char **out, size_t *len_out,
                                        const soupc_cty_type *ty);

/**
 * go-cty's Type.MarshalJSON exactly: capsule types are refused with
 * go-cty's error ("type not allowed: bytes"; inside an object or tuple,
 * wrapped as encoding/json wraps it).
 * @param out     as soupc_cty_type_to_json()
 * @param len_out its length without the NUL (may be NULL)
 * @param ty      the type (borrowed)
 * @param st      gets go-cty's error on failure (may be NULL)
 * @return 0, SOUPC_ERR_CTY_TYPE (@p ty holds a capsule) or SOUPC_ERR_NOMEM
 */
SOUPC_EXTERN int soupc_cty_type_marshal_json(char **out, size_t *len_out,
                                             const soupc_cty_type *ty,
                                             soupc_status *st);

/** @return the kind of @p ty. */
SOUPC_EXTERN soupc_cty_kind soupc_cty_type_kind(const soupc_cty_type *ty);

/** @return a new reference to @p ty (release with soupc_cty_type_free). */
SOUPC_EXTERN soupc_cty_type *soupc_cty_type_ref(const soupc_cty_type *ty);

/** Releases @p ty; NULL is a no-op. */
SOUPC_EXTERN void soupc_cty_type_free(soupc_cty_type *ty);

/** @return cty.String, cty.Number, cty.Bool or cty.DynamicPseudoType for
 * those four kinds (immortal, never freed; NULL for other kinds). */
SOUPC_EXTERN const soupc_cty_type *soupc_cty_type_primitive(soupc_cty_kind k);

/** cty.List / cty.Set / cty.Map of @p elem.
 * @param out   on success, a new type
 * @param elem  the element type (a new reference is taken)
 * @return 0 or SOUPC_ERR_NOMEM */
SOUPC_EXTERN int soupc_cty_type_list(soupc_cty_type **out,
                                     const soupc_cty_type *elem);
/** @copydoc soupc_cty_type_list */
SOUPC_EXTERN int soupc_cty_type_set(soupc_cty_type **out,
                                    const soupc_cty_type *elem);
/** @copydoc soupc_cty_type_list */
SOUPC_EXTERN int soupc_cty_type_map(soupc_cty_type **out,
                                    const soupc_cty_type *elem);

/** cty.Tuple of @p n element types (n may be 0: cty.EmptyTuple).
 * @param out    on success, a new type
 * @param elems  the element types (new references are taken)
 * @param n      how many
 * @return 0 or SOUPC_ERR_NOMEM */
SOUPC_EXTERN int soupc_cty_type_tuple(soupc_cty_type **out,
                                      const soupc_cty_type *const *elems,
                                      size_t n);

/**
 * cty.ObjectWithOptionalAttrs. Names are NUL-terminated, NFC-normalised
 * here; a repeated name keeps the last type.
 * @param out       on success, a new type
 * @param names     @p n attribute names, NUL-terminated
 * @param attrs     their types (new references are taken)
 * @param n         how many attributes (0: cty.EmptyObject)
 * @param optional  names of optional attributes (may be NULL if n_opt 0)
 * @param n_opt     how many optional names
 * @param st        gets go-cty's panic text on failure (may be NULL)
 * @return 0, SOUPC_ERR_CTY_PANIC (an optional name that is not an
 *         attribute: go-cty panics) or SOUPC_ERR_NOMEM
 */
SOUPC_EXTERN int soupc_cty_type_object(soupc_cty_type **out,
                                       const char *const *names,
                                       const soupc_cty_type *const *attrs,
                                       size_t n, const char *const *optional,
                                       size_t n_opt, soupc_status *st);

/** @return the element type of a list, set or map type; NULL otherwise. */
SOUPC_EXTERN const soupc_cty_type *
soupc_cty_type_element(const soupc_cty_type *ty);

/** @return the number of tuple elements or object attributes; 0
 * otherwise. */
SOUPC_EXTERN size_t soupc_cty_type_length(const soupc_cty_type *ty);

/** @return tuple element type @p i, or object attribute @p i's type (in
 * sorted name order); NULL when out of range. */
SOUPC_EXTERN const soupc_cty_type *
soupc_cty_type_member(const soupc_cty_type *ty, size_t i);

/** @return object attribute @p i's name (sorted bytewise), its length in
 * @p len_out (may be NULL); NULL when out of range or not an object. */
SOUPC_EXTERN const char *soupc_cty_type_attribute_name(const soupc_cty_type *ty,
                                                       size_t i,
                                                       size_t *len_out);

/** @return non-zero if object attribute @p i is optional. */
SOUPC_EXTERN int soupc_cty_type_attribute_optional(const soupc_cty_type *ty,
                                                   size_t i);

/** @return the index of attribute @p name (NFC-normalised first) in an
 * object type, or -1. */
SOUPC_EXTERN long soupc_cty_type_attribute_index(const soupc_cty_type *ty,
                                                 const char *name, size_t len);

/** @return non-zero if @p a and @p b are the same type (Type.Equals:
 * optional markers count; capsules by identity). */
SOUPC_EXTERN int soupc_cty_type_equals(const soupc_cty_type *a,
                                       const soupc_cty_type *b);

/** @return non-zero if @p ty contains dynamic (Type.HasDynamicTypes). */
SOUPC_EXTERN int soupc_cty_type_has_dynamic(const soupc_cty_type *ty);

/** Type.WithoutOptionalAttributesDeep: @p ty with every object's
 * optional markers dropped, at any depth.
 * @return 0 or SOUPC_ERR_NOMEM */
SOUPC_EXTERN int
soupc_cty_type_without_optional_attributes(soupc_cty_type **out,
                                           const soupc_cty_type *ty);

/** Type.FriendlyName ("list of string"), or with @p for_constraint
 * FriendlyNameForConstraint ("list of any single type").
 * @param out      on success, a NUL-terminated string; soupc_cty_free_bytes()
 * @param len_out  its length (may be NULL)
 * @param ty       the type (borrowed)
 * @param for_constraint  non-zero for FriendlyNameForConstraint
 * @return 0 or SOUPC_ERR_NOMEM */
SOUPC_EXTERN int soupc_cty_type_friendly_name(char **out, size_t *len_out,
                                              const soupc_cty_type *ty,
                                              int for_constraint);

/** Type.GoString (`cty.List(cty.String)`).
 * @param out      on success, a NUL-terminated string; soupc_cty_free_bytes()
 * @param len_out  its length (may be NULL)
 * @param ty       the type (borrowed)
 * @return 0 or SOUPC_ERR_NOMEM */
SOUPC_EXTERN int soupc_cty_type_gostring(char **out, size_t *len_out,
                                         const soupc_cty_type *ty);

/**
 * Type.TestConformance(want): every reason @p given does not conform to
 * @p want (dynamic in @p want accepts anything), each with its path. An
 * empty list means it conforms. Object attributes are visited in sorted
 * order (go-cty's own order is Go's random map order).
 * @param out    on success, a new list (soupc_cty_path_errors_free())
 * @param given  the type tested (borrowed)
 * @param want   the type it should conform to (borrowed)
 * @return 0, SOUPC_ERR_CTY_TYPE (types nested too deep) or SOUPC_ERR_NOMEM
 */
SOUPC_EXTERN int soupc_cty_type_test_conformance(soupc_cty_path_errors **out,
                                                 const soupc_cty_type *given,
                                                 const soupc_cty_type *want);

/**
 * go-cty json.ImpliedType: the type a JSON document implies (arrays are
 * tuples, objects are objects, null is dynamic); a repeated key must
 * imply the same type (go-cty >= 1.16.2).
 * @param out  on success, a new type
 * @param json the document, @p len bytes
 * @param len  its length
 * @param st   gets go-cty's error on failure (may be NULL)
 * @return 0, SOUPC_ERR_CTY_DECODE (not JSON; a repeated key of another
 *         type: "duplicate \"a\" property in JSON object") or
 *         SOUPC_ERR_NOMEM
 */
SOUPC_EXTERN int soupc_cty_json_implied_type(soupc_cty_type **out,
                                             const char *json, size_t len,
                                             soupc_status *st);
/**@}*/

/* ------------------------------------------------------------------ */
/** @name Capsule types */
/**@{*/

/**
 * The operations of a capsule type (go-cty CapsuleOps). Start from
 * SOUPC_CTY_CAPSULE_OPS_INIT; every other member may be NULL. The payload
 * of a capsule value is an opaque pointer owned by the value once built.
 */
typedef struct soupc_cty_capsule_ops {
  /** sizeof(soupc_cty_capsule_ops) as the caller was built; set by
   * SOUPC_CTY_CAPSULE_OPS_INIT (docs/api/abi.md). */
  size_t struct_size;
  /** Frees a payload when the last value holding it is freed. */
  void (*free_payload)(void *payload, void *type_data);
  /** RawEquals; NULL compares payload pointers (go-cty's default). */
  int (*raw_equals)(const void *a, const void *b, void *type_data);
  /** GoString of a value (a malloc'd string, or NULL to use the default
   * `cty.CapsuleVal(...)` form). */
  char *(*gostring)(const void *payload, void *type_data);
  /** GoString of the type (malloc'd; NULL = `cty.Capsule("name", ...)`). */
  char *(*type_gostring)(void *type_data);
  /** HashKey: a string identifying the payload inside a set (malloc'd);
   * NULL means all payloads hash alike. */
  char *(*hash_key)(const void *payload, void *type_data);
  /** ConversionTo: non-zero if a value of @p src can convert to this
   * capsule type. */
  int (*can_convert_to)(const soupc_cty_type *src, void *type_data);
  /** Converts @p in (of a type can_convert_to accepted) into a payload;
   * @return 0 or a negative soupc_err with @p st set. */
  int (*convert_to)(void **payload_out, const soupc_cty_value *in,
                    void *type_data, soupc_status *st);
  /** ConversionFrom: non-zero if this capsule converts to @p dst. */
  int (*can_convert_from)(const soupc_cty_type *dst, void *type_data);
  /** Converts a payload into a value of @p dst. */
  int (*convert_from)(soupc_cty_value **out, const void *payload,
                      const soupc_cty_type *dst, void *type_data,
                      soupc_status *st);
} soupc_cty_capsule_ops;

/** Initialiser for soupc_cty_capsule_ops: every operation NULL. */
#define SOUPC_CTY_CAPSULE_OPS_INIT                                             \
  { .struct_size = sizeof(soupc_cty_capsule_ops) }

/**
 * cty.CapsuleWithOps: a new capsule type, distinct from every other type.
 * The operations may be called from any thread that uses the type's
 * values, at once, so they must be thread-safe.
 * @param out        on success, a new type
 * @param name       its friendly name (copied)
 * @param ops        copied; may be NULL (all defaults)
 * @param type_data  passed to every op; never freed
 * @return 0; SOUPC_ERR_INVALID_ARGUMENT (@p ops not initialised with
 *         SOUPC_CTY_CAPSULE_OPS_INIT); SOUPC_ERR_UNSUPPORTED (@p ops sets an
 *         operation newer than this library); SOUPC_ERR_NOMEM.
 */
SOUPC_EXTERN int soupc_cty_type_capsule(soupc_cty_type **out, const char *name,
                                        const soupc_cty_capsule_ops *ops,
                                        void *type_data);

/** @return soup-go's `bytes` capsule (go-cty stdlib.Bytes); immortal. */
SOUPC_EXTERN const soupc_cty_type *soupc_cty_type_bytes(void);

/** @return a capsule type's name; NULL for other types. */
SOUPC_EXTERN const char *soupc_cty_type_capsule_name(const soupc_cty_type *ty);

/** cty.CapsuleVal: takes ownership of @p payload (freed by the type's
 * free_payload). @return 0, SOUPC_ERR_CTY_PANIC (not a capsule type) or
 * SOUPC_ERR_NOMEM (the payload is freed). */
SOUPC_EXTERN int soupc_cty_value_capsule(soupc_cty_value **out,
                                         const soupc_cty_type *ty,
                                         void *payload, soupc_status *st);

/** @return the payload of a known, non-null capsule value (marks are
 * looked through); NULL otherwise. */
SOUPC_EXTERN const void *
soupc_cty_value_capsule_payload(const soupc_cty_value *v);

/** stdlib.BytesVal: a bytes capsule holding a copy of @p data.
 * @param out   on success, a new value
 * @param data  @p len bytes (may be NULL when @p len is 0)
 * @param len   how many
 * @return 0 or SOUPC_ERR_NOMEM */
SOUPC_EXTERN int soupc_cty_value_bytes(soupc_cty_value **out, const void *data,
                                       size_t len);

/** The buffer of a known, non-null, unmarked bytes value.
 * @return 0, or SOUPC_ERR_CTY_PANIC for any other value */
SOUPC_EXTERN int soupc_cty_value_bytes_get(const soupc_cty_value *v,
                                           const uint8_t **data_out,
                                           size_t *len_out);

/** Go's base64.StdEncoding, which soup-go uses for bytes values and for
 * msgpack on a command line (padded).
 * @param out      on success, a NUL-terminated string; soupc_cty_free_bytes()
 * @param len_out  its length (may be NULL)
 * @param data     @p len bytes to encode
 * @param len      how many
 * @return 0 or SOUPC_ERR_NOMEM */
SOUPC_EXTERN int soupc_cty_base64_encode(char **out, size_t *len_out,
                                         const void *data, size_t len);
/** Go's base64.StdEncoding.DecodeString: CR and LF are skipped;
 * errors are Go's ("illegal base64 data at input byte 4").
 * @return 0, SOUPC_ERR_CTY_DECODE or SOUPC_ERR_NOMEM */
SOUPC_EXTERN int soupc_cty_base64_decode(uint8_t **out, size_t *len_out,
                                         const char *s, size_t len,
                                         soupc_status *st);
/**@}*/

/* ------------------------------------------------------------------ */
/** @name Values: construction and access */
/**@{*/

/** Releases @p v; NULL is a no-op. */
SOUPC_EXTERN void soupc_cty_value_free(soupc_cty_value *v);

/** @return a new reference to @p v. */
SOUPC_EXTERN soupc_cty_value *soupc_cty_value_ref(const soupc_cty_value *v);

/** Releases bytes and strings returned by this API. */
SOUPC_EXTERN void soupc_cty_free_bytes(void *p);

/** @return the value's type (for a marked value, the type of the value
 * inside: marks do not change a type); borrowed. */
SOUPC_EXTERN const soupc_cty_type *
soupc_cty_value_type(const soupc_cty_value *v);

/** @return non-zero if @p v is null (marks are looked through). */
SOUPC_EXTERN int soupc_cty_value_is_null(const soupc_cty_value *v);

/** @return non-zero if @p v is known (it may still contain unknowns). */
SOUPC_EXTERN int soupc_cty_value_is_known(const soupc_cty_value *v);

/** @return non-zero if neither @p v nor anything inside it is unknown
 * (Value.IsWhollyKnown). */
SOUPC_EXTERN int soupc_cty_value_is_wholly_known(const soupc_cty_value *v);

/**
 * Value.RawEquals: same type, same marks, same null/unknown state and
 * refinements, same content (numbers as go-cty compares them, sets
 * element-wise in order). Never unknown.
 * @return non-zero if @p a and @p b are RawEqual, 0 if not
 */
SOUPC_EXTERN int soupc_cty_value_raw_equals(const soupc_cty_value *a,
                                            const soupc_cty_value *b);

/** The older name of soupc_cty_value_raw_equals.
 * @return non-zero if @p a and @p b are RawEqual, 0 if not */
SOUPC_EXTERN int soupc_cty_value_equal(const soupc_cty_value *a,
                                       const soupc_cty_value *b);

/**
 * Value.Equals: a bool value, unknown (refined not-null) when undecided,
 * carrying the marks of both sides; two nulls are equal whatever their
 * types.
 * @param out  on success, a new bool value
 * @param a    one value (borrowed)
 * @param b    the other (borrowed)
 * @param st   gets go-cty's panic text on failure (may be NULL)
 * @return 0, SOUPC_ERR_CTY_PANIC (what go-cty panics on: values of kinds
 *         it cannot compare, "comparison recursion too deep") or
 *         SOUPC_ERR_NOMEM
 */
SOUPC_EXTERN int soupc_cty_value_equals(soupc_cty_value **out,
                                        const soupc_cty_value *a,
                                        const soupc_cty_value *b,
                                        soupc_status *st);

/** Value.GoString (`cty.ListVal([]cty.Value{cty.StringVal("a")})`). Marks
 * are listed in sorted order (go-cty's order is random).
 * @param out      on success, a NUL-terminated string; soupc_cty_free_bytes()
 * @param len_out  its length (may be NULL)
 * @param v        the value (borrowed)
 * @return 0 or SOUPC_ERR_NOMEM */
SOUPC_EXTERN int soupc_cty_value_gostring(char **out, size_t *len_out,
                                          const soupc_cty_value *v);

/** Builds a string value (NFC-normalised, spec §2.3).
 * @param out  on success, a new value
 * @param s    @p len bytes, copied
 * @param len  how many
 * @return 0 or SOUPC_ERR_NOMEM */
SOUPC_EXTERN int soupc_cty_value_string(soupc_cty_value **out, const char *s,
                                        size_t len);
/** Builds a number by parsing decimal text at 512 bits (cty.ParseNumberVal).
 * @param out   on success, a new value
 * @param text  NUL-terminated decimal text ("12", "-1.5e3")
 * @return 0, SOUPC_ERR_CTY_DECODE (not a number) or SOUPC_ERR_NOMEM */
SOUPC_EXTERN int soupc_cty_value_number_parse(soupc_cty_value **out,
                                              const char *text);
/** Builds a number from an int64 (cty.NumberIntVal, 64-bit precision).
 * @param out  on success, a new value
 * @param v    the integer
 * @return 0 or SOUPC_ERR_NOMEM */
SOUPC_EXTERN int soupc_cty_value_number_int(soupc_cty_value **out, int64_t v);
/** Builds a number from a float64 (cty.NumberFloatVal); infinities are
 * numbers too.
 * @param out  on success, a new value
 * @param v    the float
 * @return 0, SOUPC_ERR_CTY_DECODE (@p v is NaN, which go-cty refuses) or
 *         SOUPC_ERR_NOMEM */
SOUPC_EXTERN int soupc_cty_value_number_float(soupc_cty_value **out, double v);
/** Builds a bool value (cty.True or cty.False, shared).
 * @param out  gets the value (free it like any other)
 * @param b    non-zero for true
 * @return 0: building a bool cannot fail */
SOUPC_EXTERN int soupc_cty_value_bool(soupc_cty_value **out, int b);
/** Builds a null value of @p ty (cty.NullVal).
 * @param out  on success, a new value
 * @param ty   its type (a new reference is taken)
 * @return 0 or SOUPC_ERR_NOMEM */
SOUPC_EXTERN int soupc_cty_value_null(soupc_cty_value **out,
                                      const soupc_cty_type *ty);
/** Builds an unrefined unknown value of @p ty (cty.UnknownVal).
 * @param out  on success, a new value
 * @param ty   its type (a new reference is taken)
 * @return 0 or SOUPC_ERR_NOMEM */
SOUPC_EXTERN int soupc_cty_value_unknown(soupc_cty_value **out,
                                         const soupc_cty_type *ty);

/**
 * cty.ListVal / cty.SetVal: the element type comes from the elements,
 * which must agree (dynamic-typed nulls and unknowns take the others'
 * type). A set drops duplicates, orders its elements as go-cty does, and
 * carries the elements' marks on the set itself. Takes new references to
 * the elements.
 * @return 0, SOUPC_ERR_CTY_PANIC (n == 0, or inconsistent element types,
 *         with go-cty's panic text) or SOUPC_ERR_NOMEM
 */
SOUPC_EXTERN int soupc_cty_value_list(soupc_cty_value **out,
                                      const soupc_cty_value *const *elems,
                                      size_t n, soupc_status *st);
/** @copydoc soupc_cty_value_list */
SOUPC_EXTERN int soupc_cty_value_set(soupc_cty_value **out,
                                     const soupc_cty_value *const *elems,
                                     size_t n, soupc_status *st);
/** cty.MapVal: @p keys[i] (NFC-normalised; a later duplicate wins) maps to
 * @p vals[i]. Same rules as soupc_cty_value_list.
 * @param out       on success, a new value
 * @param keys      @p n keys, copied
 * @param key_lens  their lengths
 * @param vals      @p n values (new references are taken)
 * @param n         how many (at least 1)
 * @param st        gets go-cty's panic text on failure (may be NULL)
 * @return 0, SOUPC_ERR_CTY_PANIC (n == 0: "must not call MapVal with
 *         empty map"; values of different types) or SOUPC_ERR_NOMEM */
SOUPC_EXTERN int soupc_cty_value_map(soupc_cty_value **out,
                                     const char *const *keys,
                                     const size_t *key_lens,
                                     const soupc_cty_value *const *vals,
                                     size_t n, soupc_status *st);
/** cty.ListValEmpty / SetValEmpty / MapValEmpty of @p elem_type; @p kind
 * is SOUPC_CTY_LIST, SOUPC_CTY_SET or SOUPC_CTY_MAP.
 * @param out        on success, a new value
 * @param kind       which collection
 * @param elem_type  its element type (a new reference is taken)
 * @return 0, SOUPC_ERR_INVALID_ARGUMENT (@p kind is not a collection) or
 *         SOUPC_ERR_NOMEM */
SOUPC_EXTERN int soupc_cty_value_empty(soupc_cty_value **out,
                                       soupc_cty_kind kind,
                                       const soupc_cty_type *elem_type);
/** cty.TupleVal (n may be 0: cty.EmptyTupleVal); the type comes from the
 * elements.
 * @param out    on success, a new value
 * @param elems  @p n values (new references are taken)
 * @param n      how many
 * @return 0 or SOUPC_ERR_NOMEM */
SOUPC_EXTERN int soupc_cty_value_tuple(soupc_cty_value **out,
                                       const soupc_cty_value *const *elems,
                                       size_t n);
/** cty.ObjectVal: attribute @p names[i] (NFC-normalised; a later duplicate
 * wins) holds @p vals[i]; the type comes from the values.
 * @param out        on success, a new value
 * @param names      @p n names, copied
 * @param name_lens  their lengths
 * @param vals       @p n values (new references are taken)
 * @param n          how many (0: cty.EmptyObjectVal)
 * @return 0 or SOUPC_ERR_NOMEM */
SOUPC_EXTERN int soupc_cty_value_object(soupc_cty_value **out,
                                        const char *const *names,
                                        const size_t *name_lens,
                                        const soupc_cty_value *const *vals,
                                        size_t n);

/** The bytes of a known, non-null, unmarked string (borrowed, NUL after).
 * @return 0 or SOUPC_ERR_CTY_PANIC (go-cty's AsString panic text) */
SOUPC_EXTERN int soupc_cty_value_as_string(const soupc_cty_value *v,
                                           const char **s_out, size_t *len_out,
                                           soupc_status *st);
/** The value of a known, non-null, unmarked bool.
 * @return 0 or SOUPC_ERR_CTY_PANIC */
SOUPC_EXTERN int soupc_cty_value_as_bool(const soupc_cty_value *v, int *out,
                                         soupc_status *st);
/** A known, non-null, unmarked number as Go's Text('f', -1) ("-0",
 * "0.1", "+Inf"). @return 0, SOUPC_ERR_CTY_PANIC or SOUPC_ERR_NOMEM */
SOUPC_EXTERN int soupc_cty_value_number_text(char **out, size_t *len_out,
                                             const soupc_cty_value *v,
                                             soupc_status *st);
/** @return 1 and *out if @p v is a known, non-null, unmarked number that
 * is exactly an int64; 0 otherwise. */
SOUPC_EXTERN int soupc_cty_value_as_int64(const soupc_cty_value *v,
                                          int64_t *out);

/**
 * Value.LengthInt: elements of a known, non-null, unmarked list, set or
 * map; attributes of an object type; elements of a tuple type (the last
 * two even when unknown). A set holding unknowns counts each.
 * @return 0 or SOUPC_ERR_CTY_PANIC
 */
SOUPC_EXTERN int soupc_cty_value_length_int(const soupc_cty_value *v,
                                            size_t *out, soupc_status *st);

/**
 * Element @p i of a known, non-null, unmarked list, set, map, tuple or
 * object, in go-cty's iteration order (sets in set order, maps by key,
 * objects by attribute name). The value is borrowed; @p key_out (may be
 * NULL) gets the map key or attribute name (borrowed) and @p key_len_out
 * its length, or NULL for sequences.
 * @return the element, or NULL when @p v is not such a value or @p i is
 *         out of range
 */
SOUPC_EXTERN const soupc_cty_value *
soupc_cty_value_element(const soupc_cty_value *v, size_t i,
                        const char **key_out, size_t *key_len_out);

/**
 * Value.GetAttr: the attribute of an object (marks of @p v carried over;
 * unknown object -> unknown attribute; dynamic -> DynamicVal).
 * @return 0, SOUPC_ERR_CTY_PANIC ("value is not an object", "value has no
 *         attribute of that name") or SOUPC_ERR_NOMEM
 */
SOUPC_EXTERN int soupc_cty_value_get_attr(soupc_cty_value **out,
                                          const soupc_cty_value *v,
                                          const char *name, size_t len,
                                          soupc_status *st);

/**
 * Value.Index: a list or tuple element by number, a map element by string,
 * with go-cty's unknown and mark rules.
 * @return 0, SOUPC_ERR_CTY_PANIC or SOUPC_ERR_NOMEM
 */
SOUPC_EXTERN int soupc_cty_value_index(soupc_cty_value **out,
                                       const soupc_cty_value *v,
                                       const soupc_cty_value *key,
                                       soupc_status *st);

/** Value.Length as a value (unknown and refined for unknown collections
 * and for sets holding unknowns); marks of @p v are carried over.
 * @param out  on success, a new number value
 * @param v    a collection, tuple or object value (borrowed)
 * @param st   gets go-cty's panic text on failure (may be NULL)
 * @return 0, SOUPC_ERR_CTY_PANIC ("value is null", "value is not a
 *         collection") or SOUPC_ERR_NOMEM */
SOUPC_EXTERN int soupc_cty_value_length(soupc_cty_value **out,
                                        const soupc_cty_value *v,
                                        soupc_status *st);
/**@}*/

/* ------------------------------------------------------------------ */
/** @name Marks */
/**@{*/

/** A mark set holding @p n names (copied; duplicates collapse). n may be
 * 0 (then *out is NULL, the empty set).
 * @param out    on success, a new set (soupc_cty_marks_free())
 * @param names  @p n names
 * @param lens   their lengths, or NULL when every name is NUL-terminated
 * @param n      how many
 * @return 0 or SOUPC_ERR_NOMEM */
SOUPC_EXTERN int soupc_cty_marks_new(soupc_cty_marks **out,
                                     const char *const *names,
                                     const size_t *lens, size_t n);
/** @return the number of marks in @p m (0 for NULL). */
SOUPC_EXTERN size_t soupc_cty_marks_count(const soupc_cty_marks *m);
/** @return mark @p i in sorted order (borrowed; NULL when out of range);
 * its length in @p len_out (may be NULL). */
SOUPC_EXTERN const char *soupc_cty_marks_name(const soupc_cty_marks *m,
                                              size_t i, size_t *len_out);
/** @return non-zero if @p m holds @p name. */
SOUPC_EXTERN int soupc_cty_marks_has(const soupc_cty_marks *m, const char *name,
                                     size_t len);
/** @return a new reference to @p m (NULL stays NULL). */
SOUPC_EXTERN soupc_cty_marks *soupc_cty_marks_ref(const soupc_cty_marks *m);
/** Releases @p m; NULL is a no-op. */
SOUPC_EXTERN void soupc_cty_marks_free(soupc_cty_marks *m);

/** @return non-zero if @p v itself carries marks (Value.IsMarked). */
SOUPC_EXTERN int soupc_cty_value_is_marked(const soupc_cty_value *v);
/** @return non-zero if @p v or anything inside it is marked. */
SOUPC_EXTERN int soupc_cty_value_contains_marked(const soupc_cty_value *v);
/** @return @p v's own marks (borrowed; NULL when unmarked). */
SOUPC_EXTERN const soupc_cty_marks *
soupc_cty_value_marks(const soupc_cty_value *v);
/** Value.Mark: @p v with one more mark. Any value may be marked, unknowns
 * and nulls included, as in go-cty.
 * @param out   on success, a new value
 * @param v     the value (borrowed)
 * @param name  the mark, @p len bytes, copied
 * @param len   its length
 * @return 0 or SOUPC_ERR_NOMEM */
SOUPC_EXTERN int soupc_cty_value_mark(soupc_cty_value **out,
                                      const soupc_cty_value *v,
                                      const char *name, size_t len);
/** Value.WithMarks: @p v with every mark of @p marks added (NULL adds
 * none).
 * @param out    on success, a new value
 * @param v      the value (borrowed)
 * @param marks  the marks to add (borrowed)
 * @return 0 or SOUPC_ERR_NOMEM */
SOUPC_EXTERN int soupc_cty_value_with_marks(soupc_cty_value **out,
                                            const soupc_cty_value *v,
                                            const soupc_cty_marks *marks);
/** Value.Unmark: the value without its own marks, and those marks
 * (@p marks_out may be NULL; gets NULL when unmarked). Marks inside stay.
 * @param out        gets a new reference to the unmarked value
 * @param marks_out  gets a new reference to @p v's own marks (may be NULL)
 * @param v          the value (borrowed)
 * @return 0: this cannot fail */
SOUPC_EXTERN int soupc_cty_value_unmark(soupc_cty_value **out,
                                        soupc_cty_marks **marks_out,
                                        const soupc_cty_value *v);
/** Value.UnmarkDeep: no marks anywhere, and the union of all of them.
 * @param out        on success, a new value
 * @param marks_out  gets the union (NULL when none; may be NULL)
 * @param v          the value (borrowed)
 * @return 0, SOUPC_ERR_CTY_DECODE (nested too deep) or SOUPC_ERR_NOMEM */
SOUPC_EXTERN int soupc_cty_value_unmark_deep(soupc_cty_value **out,
                                             soupc_cty_marks **marks_out,
                                             const soupc_cty_value *v);
/**
 * Value.UnmarkDeepWithPaths (go-cty >= 1.17: a value's own marks before
 * its children's, containers in iteration order): the unmarked value and
 * where each mark was.
 * @param out        on success, a new value without marks
 * @param marks_out  on success, a new list (soupc_cty_path_marks_free()),
 *                   empty when @p v holds no marks
 * @param v          the value (borrowed)
 * @return 0, SOUPC_ERR_CTY_DECODE (nested too deep) or SOUPC_ERR_NOMEM
 */
SOUPC_EXTERN int
soupc_cty_value_unmark_deep_with_paths(soupc_cty_value **out,
                                       soupc_cty_path_marks **marks_out,
                                       const soupc_cty_value *v);
/** Value.MarkWithPaths: puts marks back where @p pm says (the first entry
 * whose path matches a position wins; a path that matches nothing is
 * ignored, as in go-cty).
 * @param out  on success, a new value
 * @param v    the value (borrowed)
 * @param pm   the (path, marks) list, borrowed (NULL: none)
 * @param st   gets the reason on failure (may be NULL)
 * @return 0, SOUPC_ERR_CTY_PANIC (a rebuilt container go-cty would refuse),
 *         SOUPC_ERR_CTY_DECODE (nested too deep) or SOUPC_ERR_NOMEM */
SOUPC_EXTERN int soupc_cty_value_mark_with_paths(soupc_cty_value **out,
                                                 const soupc_cty_value *v,
                                                 const soupc_cty_path_marks *pm,
                                                 soupc_status *st);

/** An empty (path, marks) list; fill it with soupc_cty_path_marks_append().
 * @param out  on success, a new list (soupc_cty_path_marks_free())
 * @return 0 or SOUPC_ERR_NOMEM */
SOUPC_EXTERN int soupc_cty_path_marks_new(soupc_cty_path_marks **out);
/** Appends a copy of @p path with a reference to @p marks.
 * @return 0 or SOUPC_ERR_NOMEM (@p pm is unchanged) */
SOUPC_EXTERN int soupc_cty_path_marks_append(soupc_cty_path_marks *pm,
                                             const soupc_cty_path *path,
                                             const soupc_cty_marks *marks);
/** @return the number of entries (0 for NULL). */
SOUPC_EXTERN size_t soupc_cty_path_marks_count(const soupc_cty_path_marks *pm);
/** @return entry @p i's path (borrowed); @p i must be below the count. */
SOUPC_EXTERN const soupc_cty_path *
soupc_cty_path_marks_path(const soupc_cty_path_marks *pm, size_t i);
/** @return entry @p i's marks (borrowed); @p i must be below the count. */
SOUPC_EXTERN const soupc_cty_marks *
soupc_cty_path_marks_marks(const soupc_cty_path_marks *pm, size_t i);
/** Releases @p pm; NULL is a no-op. */
SOUPC_EXTERN void soupc_cty_path_marks_free(soupc_cty_path_marks *pm);
/**@}*/

/* ------------------------------------------------------------------ */
/** @name Paths */
/**@{*/

/** Step kinds: GetAttrStep and IndexStep. */
typedef enum {
  SOUPC_CTY_STEP_ATTR = 0, /**< GetAttrStep: an object attribute, by name */
  SOUPC_CTY_STEP_INDEX = 1 /**< IndexStep: an element, by key value */
} soupc_cty_step_kind;

/** An empty path (cty.Path{}), built up with the append functions.
 * @param out  on success, a new path (soupc_cty_path_free())
 * @return 0 or SOUPC_ERR_NOMEM */
SOUPC_EXTERN int soupc_cty_path_new(soupc_cty_path **out);
/** Appends a GetAttrStep (name copied).
 * @return 0 or SOUPC_ERR_NOMEM (@p p is unchanged) */
SOUPC_EXTERN int soupc_cty_path_append_attr(soupc_cty_path *p, const char *name,
                                            size_t len);
/** Appends an IndexStep holding a reference to @p key.
 * @return 0 or SOUPC_ERR_NOMEM (@p p is unchanged) */
SOUPC_EXTERN int soupc_cty_path_append_index(soupc_cty_path *p,
                                             const soupc_cty_value *key);
/** A copy of @p p (NULL copies as an empty path).
 * @param out  on success, a new path
 * @param p    the path (borrowed)
 * @return 0 or SOUPC_ERR_NOMEM */
SOUPC_EXTERN int soupc_cty_path_copy(soupc_cty_path **out,
                                     const soupc_cty_path *p);
/** @return the number of steps (0 for NULL). */
SOUPC_EXTERN size_t soupc_cty_path_length(const soupc_cty_path *p);
/** @return step @p i's kind; @p i must be below the length. */
SOUPC_EXTERN soupc_cty_step_kind
soupc_cty_path_step_kind(const soupc_cty_path *p, size_t i);
/** @return step @p i's attribute name (borrowed), or NULL for an index. */
SOUPC_EXTERN const char *soupc_cty_path_step_attr(const soupc_cty_path *p,
                                                  size_t i, size_t *len_out);
/** @return step @p i's index key (borrowed), or NULL for an attribute. */
SOUPC_EXTERN const soupc_cty_value *
soupc_cty_path_step_key(const soupc_cty_path *p, size_t i);
/** Path.Equals: same steps, index keys compared with RawEquals.
 * @return non-zero if @p a and @p b are equal (NULL is the empty path) */
SOUPC_EXTERN int soupc_cty_path_equals(const soupc_cty_path *a,
                                       const soupc_cty_path *b);
/** Releases @p p; NULL is a no-op. */
SOUPC_EXTERN void soupc_cty_path_free(soupc_cty_path *p);

/** @return the number of errors (0 for NULL). */
SOUPC_EXTERN size_t soupc_cty_path_errors_count(const soupc_cty_path_errors *e);
/** @return error @p i's message (borrowed); @p i must be below the
 * count. */
SOUPC_EXTERN const char *
soupc_cty_path_errors_message(const soupc_cty_path_errors *e, size_t i);
/** @return error @p i's path (borrowed); @p i must be below the count. */
SOUPC_EXTERN const soupc_cty_path *
soupc_cty_path_errors_path(const soupc_cty_path_errors *e, size_t i);
/** Releases @p e; NULL is a no-op. */
SOUPC_EXTERN void soupc_cty_path_errors_free(soupc_cty_path_errors *e);
/**@}*/

/* ------------------------------------------------------------------ */
/** @name Walk, Transform, UnknownAsNull */
/**@{*/

/**
 * Called for each value cty.Walk visits, containers before their
 * elements. @p path and @p v are borrowed for the call.
 * @return 1 to descend into @p v, 0 to skip its elements, or a negative
 *         soupc_err to stop the walk (soupc_cty_walk returns it).
 */
typedef int (*soupc_cty_walk_fn)(const soupc_cty_path *path,
                                 const soupc_cty_value *v, void *user_data);

/** cty.Walk. Set elements are visited with the element as the index key.
 * @return 0, or what a callback returned */
SOUPC_EXTERN int soupc_cty_walk(const soupc_cty_value *v, soupc_cty_walk_fn fn,
                                void *user_data);

/**
 * Called by cty.Transform for each value, elements before their container
 * (which is rebuilt from the rewritten elements). Stores a new value in
 * @p out (the caller of the transform owns it), or returns a negative
 * soupc_err to stop. A callback that returns 0 must have set @p out.
 * @return 0, or a negative soupc_err that stops the transform (and is
 *         returned by it)
 */
typedef int (*soupc_cty_transform_fn)(soupc_cty_value **out,
                                      const soupc_cty_path *path,
                                      const soupc_cty_value *v,
                                      void *user_data);

/** cty.Transform (post-order). A rebuilt container that go-cty's
 * constructors would refuse (a list whose elements no longer agree) is
 * SOUPC_ERR_CTY_PANIC with go-cty's text.
 * @param out        on success, the new value
 * @param v          the value (borrowed)
 * @param fn         called after each value's elements
 * @param user_data  passed to @p fn
 * @param st         gets the reason on failure (may be NULL)
 * @return 0, what @p fn returned, SOUPC_ERR_CTY_PANIC, SOUPC_ERR_CTY_DECODE
 *         (nested too deep) or SOUPC_ERR_NOMEM */
SOUPC_EXTERN int soupc_cty_transform(soupc_cty_value **out,
                                     const soupc_cty_value *v,
                                     soupc_cty_transform_fn fn, void *user_data,
                                     soupc_status *st);

/** cty.TransformWithTransformer: @p enter runs before a value's elements
 * are visited (may be NULL), @p exit after (may be NULL); the elements
 * visited are those of the value @p enter returned.
 * @return as soupc_cty_transform() */
SOUPC_EXTERN int soupc_cty_transform_with(soupc_cty_value **out,
                                          const soupc_cty_value *v,
                                          soupc_cty_transform_fn enter,
                                          soupc_cty_transform_fn exit,
                                          void *user_data, soupc_status *st);

/** cty.UnknownAsNull: every unknown, at any depth, becomes a null of its
 * type; marks are kept (go-cty >= 1.16.4).
 * @param out  on success, a new value
 * @param v    the value (borrowed)
 * @param st   gets the reason on failure (may be NULL)
 * @return 0, SOUPC_ERR_CTY_PANIC (a rebuilt set go-cty would refuse),
 *         SOUPC_ERR_CTY_DECODE (nested too deep) or SOUPC_ERR_NOMEM */
SOUPC_EXTERN int soupc_cty_unknown_as_null(soupc_cty_value **out,
                                           const soupc_cty_value *v,
                                           soupc_status *st);
/**@}*/

/* ------------------------------------------------------------------ */
/** @name Ranges and refinements */
/**@{*/

/**
 * Value.Range: what @p v's refinements (or its known value) say about it.
 * @param out  on success, a new range (soupc_cty_range_free())
 * @param v    the value (borrowed; the range keeps what it needs)
 * @param st   gets go-cty's panic text on failure (may be NULL)
 * @return 0, SOUPC_ERR_CTY_PANIC ("Value.Range on marked
 * value; must be unmarked first") or SOUPC_ERR_NOMEM
 */
SOUPC_EXTERN int soupc_cty_value_range(soupc_cty_range **out,
                                       const soupc_cty_value *v,
                                       soupc_status *st);
/** Releases @p r; NULL is a no-op. */
SOUPC_EXTERN void soupc_cty_range_free(soupc_cty_range *r);
/** ValueRange.TypeConstraint.
 * @return the type (borrowed from @p r) */
SOUPC_EXTERN const soupc_cty_type *
soupc_cty_range_type(const soupc_cty_range *r);
/** ValueRange.CouldBeNull.
 * @return non-zero if the value may be null */
SOUPC_EXTERN int soupc_cty_range_could_be_null(const soupc_cty_range *r);
/** ValueRange.DefinitelyNotNull.
 * @return non-zero if the value is certainly not null */
SOUPC_EXTERN int soupc_cty_range_definitely_not_null(const soupc_cty_range *r);
/** ValueRange.StringPrefix (borrowed). @return 0 or SOUPC_ERR_CTY_PANIC
 * (not a string or dynamic range) */
SOUPC_EXTERN int soupc_cty_range_string_prefix(const soupc_cty_range *r,
                                               const char **s_out,
                                               size_t *len_out,
                                               soupc_status *st);
/** ValueRange.NumberLowerBound / NumberUpperBound: a new reference to the
 * bound (an infinity when unbounded; an unknown number for a dynamic
 * range) and whether it is inclusive. @return 0 or SOUPC_ERR_CTY_PANIC */
SOUPC_EXTERN int soupc_cty_range_number_lower_bound(soupc_cty_value **out,
                                                    int *inclusive_out,
                                                    const soupc_cty_range *r,
                                                    soupc_status *st);
/** @copydoc soupc_cty_range_number_lower_bound */
SOUPC_EXTERN int soupc_cty_range_number_upper_bound(soupc_cty_value **out,
                                                    int *inclusive_out,
                                                    const soupc_cty_range *r,
                                                    soupc_status *st);
/** ValueRange.LengthLowerBound / LengthUpperBound (INT64_MAX when
 * unbounded, go-cty's math.MaxInt). @return 0 or SOUPC_ERR_CTY_PANIC */
SOUPC_EXTERN int soupc_cty_range_length_lower_bound(const soupc_cty_range *r,
                                                    int64_t *out,
                                                    soupc_status *st);
/** @copydoc soupc_cty_range_length_lower_bound */
SOUPC_EXTERN int soupc_cty_range_length_upper_bound(const soupc_cty_range *r,
                                                    int64_t *out,
                                                    soupc_status *st);
/** ValueRange.Includes: true, false, or an unknown bool (refined
 * not-null) when undecided.
 * @param out  on success, a new bool value
 * @param r    the range (borrowed)
 * @param v    the candidate (borrowed)
 * @param st   gets the reason on failure (may be NULL)
 * @return 0, SOUPC_ERR_CTY_PANIC (what go-cty panics on, e.g. comparing
 *         numbers with a value of another type) or SOUPC_ERR_NOMEM */
SOUPC_EXTERN int soupc_cty_range_includes(soupc_cty_value **out,
                                          const soupc_cty_range *r,
                                          const soupc_cty_value *v,
                                          soupc_status *st);

/**
 * Value.Refine: starts refining @p v. Each refinement call records
 * go-cty's panic, if the refinement is invalid, and the first one is
 * reported by soupc_cty_refine_finish; later calls are then ignored.
 * A refiner belongs to one thread until it is finished.
 * @param out  on success, a new refiner: pass it to soupc_cty_refine_finish(),
 *             which frees it
 * @param v    the value to refine (borrowed; marks are kept)
 * @return 0 or SOUPC_ERR_NOMEM
 */
SOUPC_EXTERN int soupc_cty_refine_begin(soupc_cty_refiner **out,
                                        const soupc_cty_value *v);
/** RefinementBuilder.NotNull / Null */
SOUPC_EXTERN void soupc_cty_refine_not_null(soupc_cty_refiner *b);
/** @copydoc soupc_cty_refine_not_null */
SOUPC_EXTERN void soupc_cty_refine_null(soupc_cty_refiner *b);
/** RefinementBuilder.StringPrefix (trimmed to a safe known prefix first)
 * and StringPrefixFull (as given, NFC-normalised). */
SOUPC_EXTERN void soupc_cty_refine_string_prefix(soupc_cty_refiner *b,
                                                 const char *s, size_t len);
/** @copydoc soupc_cty_refine_string_prefix */
SOUPC_EXTERN void soupc_cty_refine_string_prefix_full(soupc_cty_refiner *b,
                                                      const char *s,
                                                      size_t len);
/** NumberRangeLowerBound / NumberRangeUpperBound (@p bound: a number
 * value; unknown means no bound). */
SOUPC_EXTERN void soupc_cty_refine_number_lower_bound(
    soupc_cty_refiner *b, const soupc_cty_value *bound, int inclusive);
/** @copydoc soupc_cty_refine_number_lower_bound */
SOUPC_EXTERN void soupc_cty_refine_number_upper_bound(
    soupc_cty_refiner *b, const soupc_cty_value *bound, int inclusive);
/** CollectionLengthLowerBound / CollectionLengthUpperBound. */
SOUPC_EXTERN void
soupc_cty_refine_collection_length_lower_bound(soupc_cty_refiner *b,
                                               int64_t min);
/** @copydoc soupc_cty_refine_collection_length_lower_bound */
SOUPC_EXTERN void
soupc_cty_refine_collection_length_upper_bound(soupc_cty_refiner *b,
                                               int64_t max);
/**
 * RefinementBuilder.NewValue: the refined value (a known value when the
 * refinements pin it down, as go-cty does), and frees @p b.
 * @return 0, SOUPC_ERR_CTY_PANIC (the first invalid refinement) or
 *         SOUPC_ERR_NOMEM
 */
SOUPC_EXTERN int soupc_cty_refine_finish(soupc_cty_value **out,
                                         soupc_cty_refiner *b,
                                         soupc_status *st);
/** Value.RefineNotNull: begin, NotNull, finish.
 * @return as soupc_cty_refine_finish(), or SOUPC_ERR_NOMEM */
SOUPC_EXTERN int soupc_cty_value_refine_not_null(soupc_cty_value **out,
                                                 const soupc_cty_value *v,
                                                 soupc_status *st);

/**
 * ctystrings.SafeKnownPrefix: @p s NFC-normalised and trimmed back to a
 * point where appending anything cannot change the characters kept
 * (grapheme clusters as go-textseg sees them, NFC as x/text does).
 * @param out      on success, a NUL-terminated string; soupc_cty_free_bytes()
 * @param len_out  its length (may be NULL)
 * @param s        the prefix, @p len bytes
 * @param len      its length
 * @return 0 or SOUPC_ERR_NOMEM
 */
SOUPC_EXTERN int soupc_cty_safe_known_prefix(char **out, size_t *len_out,
                                             const char *s, size_t len);
/** ctystrings.Normalize (NFC); invalid UTF-8 is kept as utf8proc leaves
 * it.
 * @param out      on success, a NUL-terminated string; soupc_cty_free_bytes()
 * @param len_out  its length (may be NULL)
 * @param s        the string, @p len bytes
 * @param len      its length
 * @return 0 or SOUPC_ERR_NOMEM */
SOUPC_EXTERN int soupc_cty_normalize_string(char **out, size_t *len_out,
                                            const char *s, size_t len);
/**
 * A JSON string literal exactly as Go's json.Marshal writes it (quotes
 * included; `<`, `>`, `&`, U+2028 and U+2029 escaped; each invalid UTF-8
 * byte as `\ufffd`), for output that sits next to go-cty's own JSON.
 * @return 0 or SOUPC_ERR_NOMEM
 */
SOUPC_EXTERN int soupc_cty_json_quote(char **out, size_t *len_out,
                                      const char *s, size_t len);
/** Go's strconv.Quote (the `%q` in go-cty's messages).
 * @return 0 or SOUPC_ERR_NOMEM */
SOUPC_EXTERN int soupc_cty_go_quote(char **out, size_t *len_out, const char *s,
                                    size_t len);
/**@}*/

/* ------------------------------------------------------------------ */
/** @name Conversion and unification (go-cty's convert package) */
/**@{*/

/**
 * convert.GetConversion (safe: cannot fail at run time, except on
 * unknown-free values where go-cty's own conversions can) and
 * GetConversionUnsafe. *out is NULL when no conversion exists, which is
 * also the answer for two identical primitive types.
 * @param out   on success, a new conversion (soupc_cty_conversion_free()),
 *              or NULL when there is none
 * @param in    the type converted from
 * @param want  the type converted to
 * @return 0 (whether or not a conversion exists) or SOUPC_ERR_NOMEM
 */
SOUPC_EXTERN int soupc_cty_get_conversion(soupc_cty_conversion **out,
                                          const soupc_cty_type *in,
                                          const soupc_cty_type *want);
/** @copydoc soupc_cty_get_conversion */
SOUPC_EXTERN int soupc_cty_get_conversion_unsafe(soupc_cty_conversion **out,
                                                 const soupc_cty_type *in,
                                                 const soupc_cty_type *want);
/**
 * Applies a conversion (convert.Conversion).
 * @param out       on success, the converted value
 * @param c         from soupc_cty_get_conversion() (borrowed)
 * @param in        a value of the conversion's input type (borrowed)
 * @param err_path  on SOUPC_ERR_CTY_CONVERT, the path of the failing
 *                  element (a new path, the caller's; may be NULL)
 * @param st        gets go-cty's message on failure (may be NULL)
 * @return 0, SOUPC_ERR_CTY_CONVERT (go-cty's message in @p st),
 *         SOUPC_ERR_CTY_PANIC or SOUPC_ERR_NOMEM
 */
SOUPC_EXTERN int soupc_cty_conversion_apply(soupc_cty_value **out,
                                            const soupc_cty_conversion *c,
                                            const soupc_cty_value *in,
                                            soupc_cty_path **err_path,
                                            soupc_status *st);
/** Releases @p c; NULL is a no-op. */
SOUPC_EXTERN void soupc_cty_conversion_free(soupc_cty_conversion *c);

/** convert.Convert: @p in as a value of @p want (itself when the types
 * already match), or go-cty's mismatch message.
 * @param out       on success, a new value
 * @param in        the value (borrowed)
 * @param want      the type wanted (borrowed)
 * @param err_path  on SOUPC_ERR_CTY_CONVERT, the failing element's path
 *                  (a new path, the caller's; may be NULL)
 * @param st        gets go-cty's message on failure (may be NULL)
 * @return 0, SOUPC_ERR_CTY_CONVERT (no conversion, or the value does not
 *         convert: "a number is required"), SOUPC_ERR_CTY_PANIC (what
 *         go-cty panics on) or SOUPC_ERR_NOMEM */
SOUPC_EXTERN int soupc_cty_convert(soupc_cty_value **out,
                                   const soupc_cty_value *in,
                                   const soupc_cty_type *want,
                                   soupc_cty_path **err_path, soupc_status *st);

/** convert.MismatchMessage (go-cty >= 1.16.3): the sentence a user sees
 * when @p got cannot become @p want.
 * @param out      on success, a NUL-terminated string; soupc_cty_free_bytes()
 * @param len_out  its length (may be NULL)
 * @param got      the type given (borrowed)
 * @param want     the type wanted (borrowed)
 * @return 0 or SOUPC_ERR_NOMEM */
SOUPC_EXTERN int soupc_cty_mismatch_message(char **out, size_t *len_out,
                                            const soupc_cty_type *got,
                                            const soupc_cty_type *want);

/**
 * convert.Unify (@p unsafe 0) or UnifyUnsafe: the single type all of
 * @p types can convert to, or *out NULL when there is none (cty.NilType).
 * @param out       on success, a new type, or NULL when none unifies them
 * @param types     @p n types (borrowed)
 * @param n         how many (0 unifies to nothing)
 * @param unsafe    non-zero for UnifyUnsafe
 * @param convs_out if not NULL, gets an array of @p n conversions (each
 *                  NULL when that type needs none), freed with
 *                  soupc_cty_conversions_free(); NULL when *out is NULL
 * @return 0 (whether or not the types unify), SOUPC_ERR_CTY_TYPE (types
 *         nested too deep) or SOUPC_ERR_NOMEM
 */
SOUPC_EXTERN int soupc_cty_unify(soupc_cty_type **out,
                                 soupc_cty_conversion ***convs_out,
                                 const soupc_cty_type *const *types, size_t n,
                                 int unsafe);
/** Frees an array from soupc_cty_unify. */
SOUPC_EXTERN void soupc_cty_conversions_free(soupc_cty_conversion **convs,
                                             size_t n);
/**@}*/

/* ------------------------------------------------------------------ */
/** @name JSON and msgpack */
/**@{*/

/**
 * Builds a value from plain JSON the way TofuSoup's soup-go does for
 * `wire encode`, `cty convert` and `cty validate-value` (spec §1.3 (a)):
 * numbers exact from tokens or strings, no other conversions, `dynamic`
 * only at the top (implied type) or as null, `bytes` from base64.
 *
 * @param out           on success, a new value
 * @param ty            the type (borrowed)
 * @param json          the document, @p len bytes
 * @param len           its length
 * @param fill_required if non-zero, missing required object attributes
 *                      become null (validate-value never runs Marshal);
 *                      otherwise they are an error, as Marshal reports.
 * @param st            gets soup-go's message on failure (may be NULL)
 * @return 0, SOUPC_ERR_CTY_DECODE (not JSON, or not a value of @p ty, with
 *         soup-go's message) or SOUPC_ERR_NOMEM
 */
SOUPC_EXTERN int soupc_cty_value_from_json(soupc_cty_value **out,
                                           const soupc_cty_type *ty,
                                           const char *json, size_t len,
                                           int fill_required, soupc_status *st);

/**
 * Builds a value from TofuSoup's "rich" JSON dialect (soup-go
 * cty_rich.go): plain JSON plus `{"$null":true}`,
 * `{"$unknown":true,"$refine":{...}}`, `{"$marks":[..],"$value":X}`,
 * `{"$bytes":"<b64>"}`, `{"$number":"Infinity"}` and
 * `{"$dynamic":{"type":T,"value":V}}`, with soup-go's error texts.
 * @param out  on success, a new value
 * @param ty   the type (borrowed)
 * @param json the document, @p len bytes
 * @param len  its length
 * @param st   gets soup-go's message on failure (may be NULL)
 * @return 0, SOUPC_ERR_CTY_DECODE (not a rich value of @p ty),
 *         SOUPC_ERR_CTY_PANIC (what go-cty panics on while building it: a
 *         refinement that contradicts the value, a list of mixed types)
 *         or SOUPC_ERR_NOMEM
 */
SOUPC_EXTERN int soupc_cty_value_from_rich_json(soupc_cty_value **out,
                                                const soupc_cty_type *ty,
                                                const char *json, size_t len,
                                                soupc_status *st);

/**
 * Writes @p v in the rich dialect exactly as soup-go's encodeRich does
 * (Go json.Marshal: sorted keys, `<>&` escaped; numbers as Text('f',-1);
 * refinements read back through Range). A map key or attribute starting
 * with '$' cannot be written (SOUPC_ERR_CTY_DECODE).
 * @param out      on success, a NUL-terminated string; soupc_cty_free_bytes()
 * @param len_out  its length (may be NULL)
 * @param v        the value (borrowed)
 * @param st       gets the reason on failure (may be NULL)
 * @return 0, SOUPC_ERR_CTY_DECODE, SOUPC_ERR_CTY_PANIC (Range of a marked
 *         refined value) or SOUPC_ERR_NOMEM
 */
SOUPC_EXTERN int soupc_cty_value_to_rich_json(char **out, size_t *len_out,
                                              const soupc_cty_value *v,
                                              soupc_status *st);

/**
 * go-cty msgpack.Marshal(v, ty): the wire encoding (spec §2). @p v is
 * converted to @p ty first when it does not conform.
 * @param out     on success, malloc'd bytes; free with soupc_cty_free_bytes()
 * @param len_out their length
 * @param v       the value (borrowed)
 * @param ty      the type to encode it as (borrowed)
 * @param st      gets go-cty's message on failure (may be NULL)
 * @return 0, SOUPC_ERR_CTY_CONVERT (@p v does not convert to @p ty),
 *         SOUPC_ERR_CTY_DECODE (a value msgpack cannot carry: a marked
 *         value, "value has marks, so it cannot be serialized"),
 *         SOUPC_ERR_CTY_PANIC (go-cty's panics) or SOUPC_ERR_NOMEM
 */
SOUPC_EXTERN int soupc_cty_msgpack_encode(uint8_t **out, size_t *len_out,
                                          const soupc_cty_value *v,
                                          const soupc_cty_type *ty,
                                          soupc_status *st);

/**
 * go-cty msgpack.Unmarshal(buf, ty) (spec §2.7, §2.8). Trailing bytes
 * after the first value are ignored, as go-cty does.
 * @param out  on success, a new value
 * @param ty   the type (borrowed)
 * @param buf  @p len bytes of msgpack
 * @param len  their length
 * @param st   gets go-cty's message on failure (may be NULL)
 * @return 0, SOUPC_ERR_CTY_DECODE (not msgpack, or not a value of @p ty,
 *         with go-cty's message; over-long refinements),
 *         SOUPC_ERR_CTY_PANIC (what go-cty panics on while decoding) or
 *         SOUPC_ERR_NOMEM
 */
SOUPC_EXTERN int soupc_cty_msgpack_decode(soupc_cty_value **out,
                                          const soupc_cty_type *ty,
                                          const uint8_t *buf, size_t len,
                                          soupc_status *st);

/**
 * go-cty json.Marshal(v, ty) (spec §3.1). Unknown values and infinities
 * are SOUPC_ERR_CTY_DECODE ("value is not known").
 * @param out     on success, a malloc'd NUL-terminated string;
 *                soupc_cty_free_bytes()
 * @param len_out its length
 * @param v       the value (borrowed)
 * @param ty      the type to encode it as (borrowed)
 * @param st      gets go-cty's message on failure (may be NULL)
 * @return 0, SOUPC_ERR_CTY_CONVERT (@p v does not convert to @p ty),
 *         SOUPC_ERR_CTY_DECODE (unknowns, marks, infinities: what
 *         json.Marshal refuses), SOUPC_ERR_CTY_PANIC or SOUPC_ERR_NOMEM
 */
SOUPC_EXTERN int soupc_cty_json_encode(char **out, size_t *len_out,
                                       const soupc_cty_value *v,
                                       const soupc_cty_type *ty,
                                       soupc_status *st);

/**
 * What soup-go's `wire encode` does without a type: Go's json.Unmarshal
 * into an interface{} (Go's error texts; every number a float64), then
 * vmihailenco/msgpack's Marshal of it (float64s, str8; a repeated key's
 * last value; map keys in sorted order, Go's being random).
 * @param out     on success, malloc'd bytes; free with soupc_cty_free_bytes()
 * @param len_out their length
 * @param json    the document, @p len bytes
 * @param len     its length
 * @param st      gets Go's message on failure (may be NULL)
 * @return 0, SOUPC_ERR_CTY_DECODE (not JSON, Go's message) or
 *         SOUPC_ERR_NOMEM
 */
SOUPC_EXTERN int soupc_cty_json_untyped_msgpack(uint8_t **out, size_t *len_out,
                                                const char *json, size_t len,
                                                soupc_status *st);
/** go-cty json.Unmarshal(buf, ty) (spec §3.2).
 * @param out   on success, a new value
 * @param ty    the type (borrowed)
 * @param json  the document, @p len bytes
 * @param len   its length
 * @param st    gets go-cty's message on failure (may be NULL)
 * @return 0, SOUPC_ERR_CTY_DECODE (not JSON, or not a value of @p ty, with
 *         go-cty's message) or SOUPC_ERR_NOMEM */
SOUPC_EXTERN int soupc_cty_json_decode(soupc_cty_value **out,
                                       const soupc_cty_type *ty,
                                       const char *json, size_t len,
                                       soupc_status *st);
/**@}*/

#ifdef __cplusplus
}
#endif

#endif /* SOUPC_CTY_H */
