/* Internal model of cty types and values shared by the cty modules.
 * Only include/soupc/cty.h is public; everything here is plumbing. */
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
  char **names;      /* object: NFC attribute names, sorted bytewise */
  size_t *name_lens; /* object: bytes in names[i] */
  bool *optional;    /* object: NULL when no attribute is optional */
};

/* go-cty numbers are *big.Float values. The precision is part of the value
 * (spec §2.3: 512 when parsed from text, 64 from an integer, 53 from a
 * float64) because Text('f',-1) prints the shortest digits for it. */
struct cty_num {
  mpfr_t f;      /* always 512 bits of storage; holds the exact value */
  unsigned prec; /* Go precision: 53, 64 or 512 */
};

/* Refinements of an unknown value (go-cty 1.13+, spec §2.7). */
struct cty_refine {
  bool not_null;
  char *prefix; /* string prefix, may be NULL */
  size_t prefix_len;
  bool has_lower, has_upper;
  bool lower_incl, upper_incl;
  struct cty_num lower, upper; /* valid when has_lower / has_upper */
  bool has_len_lo, has_len_hi;
  int64_t len_lo, len_hi;
};

enum {
  CTY_V_NULL = 1,
  CTY_V_UNKNOWN = 2
};
/* Internal allocation flag: the string bytes follow the struct. */
#define CTY_V_INLINE 0x100u

struct soupc_cty_value {
  struct soupc_cty_type *type; /* owned reference: the value's own type */
  unsigned flags;              /* CTY_V_* */
  struct cty_refine *refine;   /* unknown only; NULL = unrefined */
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
  } u;
};

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

/* ---- types (type.c) ---- */
struct soupc_cty_type *soupc__cty_type_prim(soupc_cty_kind kind);
struct soupc_cty_type *soupc__cty_type_ref(const struct soupc_cty_type *t);
int soupc__cty_type_new_coll(struct soupc_cty_type **out, soupc_cty_kind kind,
                             struct soupc_cty_type *elem);
/* Takes ownership of elems[] entries and names; elems/names arrays are
 * copied. Names must already be NFC; they are sorted here. */
int soupc__cty_type_new_tuple(struct soupc_cty_type **out,
                              struct soupc_cty_type **elems, size_t n);
int soupc__cty_type_new_object(struct soupc_cty_type **out, char **names,
                               size_t *name_lens, struct soupc_cty_type **attrs,
                               const bool *optional, size_t n);
bool soupc__cty_type_equal(const struct soupc_cty_type *a,
                           const struct soupc_cty_type *b);
/* go-cty TestConformance, ignoring optional markers: @p want may hold
 * dynamic where @p have is concrete. */
bool soupc__cty_type_conforms(const struct soupc_cty_type *have,
                              const struct soupc_cty_type *want);
/* Index of attribute @p name in an object type, or -1. */
long soupc__cty_type_attr(const struct soupc_cty_type *t, const char *name,
                          size_t len);
void soupc__cty_type_json(struct cty_buf *b, const struct soupc_cty_type *t);
struct json_node;
int soupc__cty_type_from_node(struct soupc_cty_type **out,
                              const struct json_node *n, soupc_status *st);

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
/* Text('f', -1) and Text('g', 10), appended to @p b. */
void soupc__cty_num_text_f(struct cty_buf *b, const struct cty_num *n);
void soupc__cty_num_text_g10(struct cty_buf *b, const struct cty_num *n);
bool soupc__cty_num_int64(const struct cty_num *n, int64_t *out);
bool soupc__cty_num_float64(const struct cty_num *n, double *out);
bool soupc__cty_num_is_inf(const struct cty_num *n);
int soupc__cty_num_cmp(const struct cty_num *a, const struct cty_num *b);
/* go-cty rawNumberEqual: same Text('f',-1), with -0 == 0.
 * @return 1 equal, 0 not, -1 out of memory. */
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
/* Go strconv.Quote (%q), used in set hash bytes. */
void soupc__cty_go_quote(struct cty_buf *b, const char *s, size_t len);
uint32_t soupc__cty_crc32(const uint8_t *p, size_t len);
/* Go's utf8.DecodeRune: the rune, or -1 for an invalid byte (*size = 1). */
int32_t soupc__cty_utf8_decode(const uint8_t *p, size_t len, size_t *size);
/* Go's strconv.IsPrint. */
bool soupc__cty_go_is_print(int32_t r);

/* ---- values (value.c) ---- */
/* A string value from bytes, NFC-normalised. */
int soupc__cty_val_string(struct soupc_cty_value **out, const char *s,
                          size_t len);
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
void soupc__cty_set_hash(struct cty_buf *b, const struct soupc_cty_value *v);
/* @return 1 equivalent, 0 not, -1 out of memory. */
int soupc__cty_val_equivalent(const struct soupc_cty_value *a,
                              const struct soupc_cty_value *b);
void soupc__cty_refine_free(struct cty_refine *r);

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
};
/* Parses one JSON value. Trailing bytes are reported through
 * @p trailing_out (non-zero if any non-space byte follows). */
int soupc__json_parse(struct json_node **out, const char *buf, size_t len,
                      bool *trailing_out, soupc_status *st);
void soupc__json_free(struct json_node *n);

#endif
