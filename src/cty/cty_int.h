/* Internal model of cty types and values shared by the cty modules.
 * Only include/soupc/cty.h is public; everything here is plumbing.
 *
 * The model follows go-cty's: a value is a type plus a payload; a marked
 * value wraps an unmarked one (go-cty's `marker`); an unknown may carry a
 * refinement (go-cty's `*unknownType`). Values and types are immutable and
 * reference-counted, so subtrees are shared freely. */
#ifndef SOUPC_CTY_CTY_INT_H
#define SOUPC_CTY_CTY_INT_H

#include "soupc/cty.h"

#include <mpfr.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Nesting limit for every recursive reader, so hostile input cannot
 * exhaust the C stack (go-cty has none; Go stacks grow). */
#define CTY_MAX_DEPTH 256

/* go-cty's math.MaxInt on a 64-bit build: an unbounded length. */
#define CTY_MAX_INT INT64_MAX

/* Reference counts: > 0 counted, < 0 immortal (static singletons). The
 * __atomic builtins write through refs, which clang-tidy's
 * readability-non-const-parameter does not see. */
/* NOLINTBEGIN(readability-non-const-parameter) */
static inline void cty_ref_inc(long *refs) {
  if (__atomic_load_n(refs, __ATOMIC_RELAXED) > 0) {
    __atomic_add_fetch(refs, 1, __ATOMIC_RELAXED);
  }
}
/* @return true when the caller dropped the last reference. A count of 1
 * means no other thread holds a reference, so no atomic RMW is needed. */
static inline bool cty_ref_dec(long *refs) {
  /* NOLINTEND(readability-non-const-parameter) */
  long r = __atomic_load_n(refs, __ATOMIC_ACQUIRE);

  if (r < 0) {
    return false;
  }
  if (r == 1) {
    return true;
  }
  return __atomic_sub_fetch(refs, 1, __ATOMIC_ACQ_REL) == 0;
}

/* Kinds beyond the public enum's nine. */
struct cty_capsule {
  char *name;
  size_t name_len;
  soupc_cty_capsule_ops ops;
  void *type_data;
};

struct soupc_cty_type {
  long refs; /* >= 1; types are shared by values and other types */
  soupc_cty_kind kind;
  bool plain;   /* no dynamic and no optional attribute anywhere inside */
  bool has_dyn; /* dynamic somewhere inside (or this type is dynamic) */
  /* The type cty.ObjectVal & co. give a value built for this type when no
   * dynamic is inside: optional markers dropped. Owned; NULL = itself. */
  struct soupc_cty_type *concrete;
  struct soupc_cty_type *elem;   /* list, set, map */
  size_t n;                      /* tuple elements or object attributes */
  struct soupc_cty_type **elems; /* tuple element / object attribute types */
  char **names;            /* object: NFC attribute names, sorted bytewise */
  size_t *name_lens;       /* object: bytes in names[i] */
  bool *optional;          /* object: NULL when no attribute is optional */
  struct cty_capsule *cap; /* capsule: identity is the type's address */
};

/* go-cty numbers are *big.Float values. The precision is part of the value
 * (spec §2.3: 512 when parsed from text, 64 from an integer, 53 from a
 * float64) because Text('f',-1) prints the shortest digits for it. */
struct cty_num {
  mpfr_t f;      /* always 512 bits of storage; holds the exact value */
  unsigned prec; /* Go precision: 53, 64 or 512 (or a product's) */
};

/* go-cty's unknownValRefinement "sum type" (unknown_refinement.go): which
 * struct backs the refinement matters to RawEquals and GoString. */
enum cty_rf_kind {
  CTY_RF_NULLABLE = 0, /* refinementNullable (bool, object, tuple, capsule) */
  CTY_RF_STRING = 1,
  CTY_RF_NUMBER = 2,
  CTY_RF_COLLECTION = 3
};
/* go-cty's tristateBool */
#define CTY_TRI_UNKNOWN 0
#define CTY_TRI_TRUE 'T'
#define CTY_TRI_FALSE 'F'

struct cty_refine {
  unsigned char kind; /* enum cty_rf_kind */
  char null;          /* CTY_TRI_* */
  char *prefix;       /* STRING: NFC prefix (may be NULL = "") */
  size_t prefix_len;
  /* NUMBER: owned known number values, NULL = unset (go-cty NilVal). */
  struct soupc_cty_value *min, *max;
  bool min_inc, max_inc;
  int64_t min_len, max_len; /* COLLECTION; max_len CTY_MAX_INT = none */
};

enum {
  CTY_V_NULL = 1,
  CTY_V_UNKNOWN = 2,
  CTY_V_MARKED = 4 /* a wrapper: u.mk.inner is the unmarked value */
};
/* Internal allocation flag: the string bytes follow the struct. */
#define CTY_V_INLINE 0x100u

struct soupc_cty_marks {
  long refs;
  size_t n;
  char **names; /* sorted bytewise, distinct, NUL-terminated */
  size_t *lens;
};

struct soupc_cty_value {
  long refs;                   /* see cty_ref_inc/cty_ref_dec */
  struct soupc_cty_type *type; /* owned reference: the value's own type */
  unsigned flags;              /* CTY_V_* */
  struct cty_refine *refine;   /* unknown only; NULL = totally unknown */
  union {
    bool b;
    struct {
      char *s; /* NFC (when valid UTF-8), NUL-terminated */
      size_t len;
    } str;
    struct cty_num *num;
    struct {
      size_t n;
      struct soupc_cty_value **items; /* list, set (go-cty order), tuple,
                                         object (type's attribute order),
                                         map values (key order) */
      char **keys;                    /* map only: sorted NFC keys */
      size_t *key_lens;
    } c;
    struct {
      struct soupc_cty_value *inner; /* never itself marked */
      struct soupc_cty_marks *marks; /* at least one mark */
    } mk;
    void *payload; /* capsule */
  } u;
};

/* The unmarked value behind @p v (itself if unmarked). */
static inline const struct soupc_cty_value *
cty_unmarked(const struct soupc_cty_value *v) {
  return (v->flags & CTY_V_MARKED) ? v->u.mk.inner : v;
}
static inline bool cty_is_null(const struct soupc_cty_value *v) {
  return (cty_unmarked(v)->flags & CTY_V_NULL) != 0;
}
static inline bool cty_is_known(const struct soupc_cty_value *v) {
  return (cty_unmarked(v)->flags & CTY_V_UNKNOWN) == 0;
}
static inline bool cty_is_marked(const struct soupc_cty_value *v) {
  return (v->flags & CTY_V_MARKED) != 0;
}
/* A known, non-null container whose u.c is valid (after unmarking). */
static inline bool cty_kind_is_coll(soupc_cty_kind k) {
  return k == SOUPC_CTY_LIST || k == SOUPC_CTY_SET || k == SOUPC_CTY_MAP;
}
static inline bool cty_kind_has_items(soupc_cty_kind k) {
  return k >= SOUPC_CTY_LIST && k <= SOUPC_CTY_OBJECT;
}
/* cty.DynamicVal: an unmarked, unrefined unknown of dynamic type (go-cty
 * compares with ==, which sees exactly these). */
static inline bool cty_is_dynamic_val(const struct soupc_cty_value *v) {
  return v->flags == CTY_V_UNKNOWN && v->refine == NULL &&
         v->type->kind == SOUPC_CTY_DYNAMIC;
}

/* ---- growable byte buffer ---- */
struct cty_buf {
  uint8_t *p;
  size_t len; /* bytes used; len <= cap */
  size_t cap;
  bool oom; /* an append failed; contents are incomplete */
};
void soupc__cty_buf_init(struct cty_buf *b);
void soupc__cty_buf_dispose(struct cty_buf *b);
void soupc__cty_buf_put(struct cty_buf *b, const void *data, size_t len);
void soupc__cty_buf_putc(struct cty_buf *b, uint8_t c);
void soupc__cty_buf_puts(struct cty_buf *b, const char *s);
void soupc__cty_buf_printf(struct cty_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* NUL-terminates and hands the bytes to @p out (soupc__free them).
 * @return 0 or SOUPC_ERR_NOMEM (the buffer is disposed either way). */
int soupc__cty_buf_take(struct cty_buf *b, char **out, size_t *len_out);

/* ---- types (type.c) ---- */
struct soupc_cty_type *soupc__cty_type_prim(soupc_cty_kind kind);
struct soupc_cty_type *soupc__cty_type_ref(const struct soupc_cty_type *t);
int soupc__cty_type_new_coll(struct soupc_cty_type **out, soupc_cty_kind kind,
                             struct soupc_cty_type *elem);
/* Takes ownership of elems[] entries and names; elems/names arrays are
 * copied. Names must already be NFC; they are sorted here. */
int soupc__cty_type_new_tuple(struct soupc_cty_type **out,
                              struct soupc_cty_type **elems, size_t n);
/* Go's cty.Tuple(nil): an empty tuple type whose element list is a nil
 * slice (elems NULL), which Type.MarshalJSON writes ["tuple",null]; it
 * comes from Type.UnmarshalJSON of ["tuple",null] and from convert's
 * dynamicReplace. Equal to the empty tuple in every other respect. */
int soupc__cty_type_new_tuple_nil(struct soupc_cty_type **out);
int soupc__cty_type_new_object(struct soupc_cty_type **out, char **names,
                               size_t *name_lens, struct soupc_cty_type **attrs,
                               const bool *optional, size_t n);
bool soupc__cty_type_equal(const struct soupc_cty_type *a,
                           const struct soupc_cty_type *b);
/* go-cty TestConformance reports no error: @p want may hold dynamic where
 * @p have is concrete; optional markers are ignored. */
bool soupc__cty_type_conforms(const struct soupc_cty_type *have,
                              const struct soupc_cty_type *want);
/* Index of attribute @p name in an object type, or -1. */
long soupc__cty_type_attr(const struct soupc_cty_type *t, const char *name,
                          size_t len);
/* Type.WithoutOptionalAttributesDeep (a new reference). */
struct soupc_cty_type *
soupc__cty_type_no_optional(const struct soupc_cty_type *t);
/* The canonical JSON type description (Type.MarshalJSON); capsules are
 * written as their name, which only soup-go's "bytes" can read back. */
void soupc__cty_type_json(struct cty_buf *b, const struct soupc_cty_type *t);
/* go-cty Type.MarshalJSON, with its errors for capsules ("type not
 * allowed: bytes", wrapped by json.Marshal inside objects and tuples). */
int soupc__cty_type_marshal(struct cty_buf *b, const struct soupc_cty_type *t,
                            soupc_status *st);
/* Type.FriendlyName / FriendlyNameForConstraint. */
void soupc__cty_type_friendly(struct cty_buf *b, const struct soupc_cty_type *t,
                              bool constraint);
/* Type.GoString (%#v of a cty.Type). */
void soupc__cty_type_gostring(struct cty_buf *b,
                              const struct soupc_cty_type *t);
struct json_node;
/* soup-go's parseCtyType (wire-cty-spec.md §1.2), including "bytes". */
int soupc__cty_type_from_node(struct soupc_cty_type **out,
                              const struct json_node *n, soupc_status *st);
/* go-cty's Type.UnmarshalJSON, for the type inside a msgpack or JSON
 * dynamic wrapper: strict, no capsules. */
int soupc__cty_type_unmarshal_json(struct soupc_cty_type **out,
                                   const char *json, size_t len,
                                   soupc_status *st);

/* ---- numbers (number.c) ---- */
struct cty_num *soupc__cty_num_new(unsigned prec);
void soupc__cty_num_free(struct cty_num *n);
struct cty_num *soupc__cty_num_dup(const struct cty_num *n);
/* big.ParseFloat(s, 10, 512, ToNearestEven). @return 0 or -1 with a
 * reason in @p why (static string). */
int soupc__cty_num_parse(struct cty_num *out, const char *s, size_t len,
                         const char **why);
void soupc__cty_num_set_int64(struct cty_num *n, int64_t v);
void soupc__cty_num_set_uint64(struct cty_num *n, uint64_t v);
void soupc__cty_num_set_double(struct cty_num *n, double v);
/* Text('f', -1), Text('g', 10) and Text('g', -1), appended to @p b. */
void soupc__cty_num_text_f(struct cty_buf *b, const struct cty_num *n);
void soupc__cty_num_text_g10(struct cty_buf *b, const struct cty_num *n);
void soupc__cty_num_text_g(struct cty_buf *b, const struct cty_num *n);
/* big.Float.Text(fmt, prec) for fmt 'e', 'E', 'f', 'g', 'G'; prec < 0 is
 * the shortest form. */
void soupc__cty_num_text(struct cty_buf *b, const struct cty_num *n, char fmt,
                         int prec);
bool soupc__cty_num_int64(const struct cty_num *n, int64_t *out);
bool soupc__cty_num_float64(const struct cty_num *n, double *out);
bool soupc__cty_num_is_inf(const struct cty_num *n);
bool soupc__cty_num_is_int(const struct cty_num *n);
int soupc__cty_num_cmp(const struct cty_num *a, const struct cty_num *b);
/* go-cty rawNumberEqual. @return 1 equal, 0 not, -1 out of memory. */
int soupc__cty_num_equal(const struct cty_num *a, const struct cty_num *b);

/* ---- strings (ustr.c) ---- */
/* NFC-normalises @p s (invalid UTF-8 bytes are kept as they are, as Go's
 * norm package does). @return a new NUL-terminated string or NULL. */
char *soupc__cty_nfc(const char *s, size_t len, size_t *len_out);
/* true if @p s is valid UTF-8 with every code point below U+0300, which
 * NFC leaves unchanged. */
bool soupc__cty_nfc_trivial(const char *s, size_t len);
/* Go encoding/json decoding of invalid UTF-8: each bad byte becomes
 * U+FFFD. @return a new NUL-terminated string or NULL. */
char *soupc__cty_go_utf8(const char *s, size_t len, size_t *len_out);
/* Go encoding/json string encoding (Go >= 1.22: \b and \f). */
void soupc__cty_json_quote(struct cty_buf *b, const char *s, size_t len);
/* Go strconv.Quote (%q and %#v of a string). */
void soupc__cty_go_quote(struct cty_buf *b, const char *s, size_t len);
uint32_t soupc__cty_crc32(const uint8_t *p, size_t len);
/* Go's utf8.DecodeRune: the rune, or -1 for an invalid byte (*size = 1). */
int32_t soupc__cty_utf8_decode(const uint8_t *p, size_t len, size_t *size);
/* Go's strconv.IsPrint. */
bool soupc__cty_go_is_print(int32_t r);

/* ---- values (value.c) ---- */
/* Immortal singletons: cty.True, cty.False, cty.PositiveInfinity,
 * cty.NegativeInfinity, cty.Zero and cty.DynamicVal (borrowed; refs and
 * frees are no-ops). go-cty compares the infinities and DynamicVal by
 * identity in places, so these are the only ones. */
struct soupc_cty_value *soupc__cty_bool_val(bool b);
struct soupc_cty_value *soupc__cty_inf(bool negative);
struct soupc_cty_value *soupc__cty_zero(void);
struct soupc_cty_value *soupc__cty_dynamic_val(void);
struct soupc_cty_value *soupc__cty_val_ref(const struct soupc_cty_value *v);
/* A string value from bytes, NFC-normalised. */
int soupc__cty_val_string(struct soupc_cty_value **out, const char *s,
                          size_t len);
/* A number value with a fresh 512-bit cty_num (value 0). */
int soupc__cty_val_number(struct soupc_cty_value **out, struct cty_num **num);
struct soupc_cty_value *soupc__cty_val_alloc(struct soupc_cty_type *owned_type,
                                             unsigned flags);
/* Builds a collection value; takes ownership of items (and keys). Sets are
 * deduplicated and ordered like go-cty. Element types are unified for
 * list/set/map of dynamic; tuple/object types are computed from items. */
int soupc__cty_val_list(struct soupc_cty_value **out, soupc_cty_kind kind,
                        const struct soupc_cty_type *schema,
                        struct soupc_cty_value **items, size_t n,
                        soupc_status *st);
int soupc__cty_val_map(struct soupc_cty_value **out,
                       const struct soupc_cty_type *schema, char **keys,
                       size_t *key_lens, struct soupc_cty_value **vals,
                       size_t n, soupc_status *st);
/* items[i] is the value of schema attribute i (NULL = absent). */
int soupc__cty_val_object(struct soupc_cty_value **out,
                          const struct soupc_cty_type *schema,
                          struct soupc_cty_value **items, soupc_status *st);
int soupc__cty_val_tuple(struct soupc_cty_value **out,
                         const struct soupc_cty_type *schema,
                         struct soupc_cty_value **items, size_t n,
                         soupc_status *st);
/* go-cty's ListVal / SetVal / MapVal / TupleVal / ObjectVal on already
 * built values: the element type comes from the elements. Takes ownership
 * of @p items (and keys/names); n > 0 for list/set/map. */
int soupc__cty_list_val(struct soupc_cty_value **out, soupc_cty_kind kind,
                        struct soupc_cty_value **items, size_t n,
                        soupc_status *st);
int soupc__cty_map_val(struct soupc_cty_value **out, char **keys,
                       size_t *key_lens, struct soupc_cty_value **vals,
                       size_t n, soupc_status *st);
int soupc__cty_tuple_val(struct soupc_cty_value **out,
                         struct soupc_cty_value **items, size_t n);
/* Names need not be sorted or NFC; a later duplicate replaces an earlier
 * one (Go map). */
int soupc__cty_object_val(struct soupc_cty_value **out, char **names,
                          size_t *name_lens, struct soupc_cty_value **vals,
                          size_t n);
/* Empty collection of element type @p ety (ListValEmpty & co.). */
int soupc__cty_empty_coll(struct soupc_cty_value **out, soupc_cty_kind kind,
                          const struct soupc_cty_type *ety);
/* The same value re-typed as @p ty, for a dynamic-typed null or unknown
 * placed in a collection of @p ty (go-cty keeps only the raw payload).
 * Takes ownership of @p v. */
int soupc__cty_val_retype(struct soupc_cty_value **out,
                          struct soupc_cty_value *v,
                          const struct soupc_cty_type *ty);
/* ---- sets (set.c) ---- */
/* set.Set Add + Values(): drops duplicates and orders @p items as go-cty
 * does; *n_io shrinks. On error every surviving item is still in items. */
int soupc__cty_set_canonical(struct soupc_cty_value **items, size_t *n_io);
/* appendSetHashBytes */
void soupc__cty_set_hash(struct cty_buf *b, const struct soupc_cty_value *v);
/* setRules.Equivalent. @return 1 equivalent, 0 not, -1 out of memory. */
int soupc__cty_val_equivalent(const struct soupc_cty_value *a,
                              const struct soupc_cty_value *b);
void soupc__cty_refine_free(struct cty_refine *r);
struct cty_refine *soupc__cty_refine_dup(const struct cty_refine *r);
/* Value.IsWhollyKnown */
bool soupc__cty_wholly_known(const struct soupc_cty_value *v);
/* An unknown of @p ty with refinement @p rf (owned; may be NULL). */
int soupc__cty_unknown_refined(struct soupc_cty_value **out,
                               const struct soupc_cty_type *ty,
                               struct cty_refine *rf);

/* ---- marks (marks.c) ---- */
struct soupc_cty_marks *soupc__cty_marks_ref(const struct soupc_cty_marks *m);
/* Adds every mark of @p b to a copy of @p a (either may be NULL).
 * @return 0 (with *out NULL when both are empty) or SOUPC_ERR_NOMEM. */
int soupc__cty_marks_union(struct soupc_cty_marks **out,
                           const struct soupc_cty_marks *a,
                           const struct soupc_cty_marks *b);
bool soupc__cty_marks_equal(const struct soupc_cty_marks *a,
                            const struct soupc_cty_marks *b);
/* Value.WithMarks: @p v plus @p m (may be NULL). Takes ownership of @p v. */
int soupc__cty_with_marks(struct soupc_cty_value **out,
                          struct soupc_cty_value *v,
                          const struct soupc_cty_marks *m);
/* Value.UnmarkDeep: takes ownership of @p v; *marks_out gets the union
 * (NULL when there were none). */
int soupc__cty_unmark_deep(struct soupc_cty_value **out,
                           struct soupc_cty_marks **marks_out,
                           struct soupc_cty_value *v);
bool soupc__cty_contains_marked(const struct soupc_cty_value *v);

/* ---- paths (path.c) ---- */
struct cty_step {
  struct soupc_cty_value *key; /* index step; NULL for an attribute step */
  char *name;                  /* attribute step */
  size_t len;
};
struct soupc_cty_path {
  size_t n, cap;
  struct cty_step *steps;
};
int soupc__cty_path_push_attr(struct soupc_cty_path *p, const char *name,
                              size_t len);
/* Takes a reference to @p key. */
int soupc__cty_path_push_index(struct soupc_cty_path *p,
                               const struct soupc_cty_value *key);
void soupc__cty_path_pop(struct soupc_cty_path *p);
void soupc__cty_path_dispose(struct soupc_cty_path *p);
int soupc__cty_path_dup(struct soupc_cty_path **out,
                        const struct soupc_cty_path *p);

/* A list of (message, path) errors, go-cty's []error of PathErrors. */
struct cty_perr {
  char *msg;
  struct soupc_cty_path *path;
};
struct soupc_cty_path_errors {
  size_t n, cap;
  struct cty_perr *e;
};
int soupc__cty_perr_add(struct soupc_cty_path_errors *l,
                        const struct soupc_cty_path *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- errors ---- */
/* Sets @p st and returns SOUPC_ERR_CTY_PANIC: the operation is one go-cty
 * panics on; the message is the panic's text. */
/* Whether a refinement call on @p b already recorded go-cty's panic. */
bool soupc__cty_refine_failed(const soupc_cty_refiner *b);
int soupc__cty_panic(soupc_status *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- value GoString (gostring.c) ---- */
void soupc__cty_value_gostring(struct cty_buf *b,
                               const struct soupc_cty_value *v);

/* ---- comparisons (equals.c) ---- */
bool soupc__cty_raw_equals(const struct soupc_cty_value *a,
                           const struct soupc_cty_value *b);
/* Value.Equals; the result is a new bool value (maybe unknown/marked). */
int soupc__cty_equals(struct soupc_cty_value **out,
                      const struct soupc_cty_value *a,
                      const struct soupc_cty_value *b, soupc_status *st);
/* Value.LessThan / GreaterThan on numbers, with go-cty's unknown rules. */
int soupc__cty_num_less(struct soupc_cty_value **out,
                        const struct soupc_cty_value *a,
                        const struct soupc_cty_value *b, bool greater,
                        soupc_status *st);
/* Value.Or / Value.And of two bools (go-cty short-circuits). */
int soupc__cty_bool_or(struct soupc_cty_value **out,
                       const struct soupc_cty_value *a,
                       const struct soupc_cty_value *b, soupc_status *st);
/* Value.Length (maybe unknown, refined). */
int soupc__cty_length(struct soupc_cty_value **out,
                      const struct soupc_cty_value *v, soupc_status *st);

/* ---- ranges and refinement (refine.c) ---- */
struct soupc_cty_range {
  struct soupc_cty_type *ty;
  struct cty_refine *raw; /* never NULL */
};
/* Value.Range into a caller-owned struct; dispose with
 * soupc__cty_range_dispose. */
int soupc__cty_range_of(struct soupc_cty_range *r,
                        const struct soupc_cty_value *v, soupc_status *st);
void soupc__cty_range_dispose(struct soupc_cty_range *r);
int soupc__cty_range_includes(struct soupc_cty_value **out,
                              const struct soupc_cty_range *r,
                              const struct soupc_cty_value *v,
                              soupc_status *st);
/* A bool unknown refined not-null (go-cty's usual undecided answer). */
int soupc__cty_unknown_bool_not_null(struct soupc_cty_value **out);

/* ---- conversions (convert.c, unify.c, mismatch.c) ---- */
int soupc__cty_convert(struct soupc_cty_value **out,
                       const struct soupc_cty_value *in,
                       const struct soupc_cty_type *want,
                       struct soupc_cty_path **err_path, soupc_status *st);
/* unify(types, unsafe); *out NULL = no common type. */
int soupc__cty_unify(struct soupc_cty_type **out,
                     struct soupc_cty_conversion ***convs_out,
                     const struct soupc_cty_type *const *types, size_t n,
                     bool unsafe);
void soupc__cty_mismatch(struct cty_buf *b, const struct soupc_cty_type *got,
                         const struct soupc_cty_type *want);

/* ---- JSON DOM (json_dom.c) ---- */
enum json_kind {
  JN_NULL,
  JN_BOOL,
  JN_NUMBER,
  JN_STRING,
  JN_ARRAY,
  JN_OBJECT
};
struct json_node {
  enum json_kind kind;
  bool b;
  char *s; /* number text (exact) or string bytes, NUL-terminated */
  size_t len;
  size_t n; /* array items / object members, in input order */
  struct json_node **items;
  char **keys;
  size_t *key_lens;
  const char *raw; /* the node's bytes in the input (Go json.RawMessage) */
  size_t raw_len;
};
/* Parses one JSON value the way Go's encoding/json does (strings with
 * invalid UTF-8 get U+FFFD, numbers kept as text), with Go's error texts.
 * @p mode: JSON_UNMARSHAL (json.Unmarshal: the whole input, "unexpected
 * end of JSON input", trailing data is an error) or JSON_DECODER
 * (json.Decoder.Decode: the first value, "unexpected EOF", trailing bytes
 * ignored and reported through @p trailing_out). The input must outlive
 * the tree (raw spans point into it). */
enum json_mode {
  JSON_UNMARSHAL = 0,
  JSON_DECODER = 1
};
int soupc__json_parse_go(struct json_node **out, const char *buf, size_t len,
                         enum json_mode mode, bool *trailing_out,
                         soupc_status *st);
/* The older entry point: decoder mode. */
int soupc__json_parse(struct json_node **out, const char *buf, size_t len,
                      bool *trailing_out, soupc_status *st);
void soupc__json_free(struct json_node *n);

/* Go's json.Decoder Token API over a buffer: Token, More and Decode into a
 * json.RawMessage (the decoded node), with Go's error texts. */
struct go_dec {
  const char *p;
  size_t len, off;
  int state;
  size_t depth;
  unsigned char stack[CTY_MAX_DEPTH + 2];
  soupc_status *st;
};
/* A token: a delimiter ('[', ']', '{', '}') or a value node (string,
 * number, bool, null; the caller frees it). */
struct go_tok {
  char delim;
  struct json_node *node;
};
void soupc__godec_init(struct go_dec *d, const char *buf, size_t len,
                       soupc_status *st);
int soupc__godec_token(struct go_dec *d, struct go_tok *t);
bool soupc__godec_more(struct go_dec *d);
int soupc__godec_decode(struct go_dec *d, struct json_node **out);
/* The member named @p key (last one wins, as in Go maps), or NULL. */
const struct json_node *soupc__json_member(const struct json_node *n,
                                           const char *key);

/* ---- JSON readers shared with rich.c (json_read.c) ---- */
int soupc__cty_json_implied(struct soupc_cty_type **out,
                            const struct json_node *n, soupc_status *st);
/* go-cty json.Unmarshal of a parsed tree. */
int soupc__cty_json_unmarshal_node(struct soupc_cty_value **out,
                                   const struct soupc_cty_type *ty,
                                   const struct json_node *n, soupc_status *st);
/* soup-go's buildCtyValueFromJSON on raw text. */
int soupc__cty_build_from_json(struct soupc_cty_value **out,
                               const struct soupc_cty_type *ty,
                               const char *json, size_t len, bool fill_required,
                               soupc_status *st);

#endif
