/* go-cty's convert package: GetConversion, GetConversionUnsafe, Convert
 * (conversion.go, conversion_*.go, public.go).
 *
 * A go-cty Conversion is a closure tree; here it is a tree of nodes, each
 * a kind plus what that closure captured. Applying one walks the tree the
 * way the closures call each other, including go-cty's quirks (the unknown
 * length shortcut for sets, nulls re-typed without optional attributes,
 * marks on a converted null dropped). Where go-cty ranges over a Go map
 * (object attributes) the order is random; we use sorted order. */
#include "cty/cty_int.h"

#include "base/alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum conv_kind {
  CK_PASS = 0,     /* dynamicPassthrough */
  CK_FIXUP,        /* dynamicFixup: Convert(in, out) */
  CK_NUM_STR,      /* number -> string */
  CK_BOOL_STR,     /* bool -> string */
  CK_STR_NUM,      /* string -> number */
  CK_STR_BOOL,     /* string -> bool */
  CK_OBJ_OBJ,      /* conversionObjectToObject */
  CK_TUP_TUP,      /* conversionTupleToTuple */
  CK_COLL_LIST,    /* conversionCollectionToList */
  CK_COLL_SET,     /* conversionCollectionToSet */
  CK_COLL_MAP,     /* conversionCollectionToMap */
  CK_TUP_SET,      /* conversionTupleToSet */
  CK_TUP_LIST,     /* conversionTupleToList */
  CK_OBJ_MAP,      /* conversionObjectToMap */
  CK_MAP_OBJ,      /* conversionMapToObject */
  CK_TO_CAPSULE,   /* conversionToCapsule */
  CK_FROM_CAPSULE, /* conversionFromCapsule */
  CK_EMPTY,        /* an empty tuple/object to an empty collection */
  CK_DYNVAL,       /* unifyAllAsDynamic: always cty.DynamicVal */
  CK_CHAIN         /* unify's composite: first(in), then second(in) */
};

struct soupc_cty_conversion {
  long refs;
  enum conv_kind kind;
  bool wrap;                  /* getConversion's wrapper around kind */
  struct soupc_cty_type *out; /* the wanted type (wrapper, fixup, objects) */
  struct soupc_cty_type *ety; /* element type of the result collection */
  struct soupc_cty_type *in;  /* the input type (capsules) */
  struct soupc_cty_conversion *elem; /* collection element conversion */
  /* Per tuple element / object attribute (of @p out for OBJ_OBJ and
   * MAP_OBJ, of the input object for OBJ_MAP); entries may be NULL. */
  struct soupc_cty_conversion **convs;
  bool *present; /* OBJ_OBJ, MAP_OBJ, OBJ_MAP: the attribute has an entry */
  size_t n;
  bool unsafe;
  struct soupc_cty_conversion *first, *second; /* CK_CHAIN */
};

/* Where an error happened and how to report it. */
struct cctx {
  struct soupc_cty_path path;
  soupc_status *st;
  struct soupc_cty_path *err_path; /* copy of path at the failure */
};

static int conv_error(struct cctx *cx, const struct soupc_cty_path *at,
                      const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int conv_error(struct cctx *cx, const struct soupc_cty_path *at,
                      const char *fmt, ...) {
  char msg[512];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  soupc_status_set(cx->st, SOUPC_GRPC_INVALID_ARGUMENT, "%s", msg);
  if (cx->err_path == NULL) {
    soupc__cty_path_dup(&cx->err_path, at);
  }
  return SOUPC_ERR_CTY_CONVERT;
}

/* ---- node lifetime ---- */

static struct soupc_cty_conversion *node_new(enum conv_kind k) {
  struct soupc_cty_conversion *c = soupc__calloc(1, sizeof(*c));

  if (c != NULL) {
    c->refs = 1;
    c->kind = k;
  }
  return c;
}

void soupc_cty_conversion_free(soupc_cty_conversion *c) {
  size_t i;

  if (c == NULL || !cty_ref_dec(&c->refs)) {
    return;
  }
  soupc_cty_type_free(c->out);
  soupc_cty_type_free(c->ety);
  soupc_cty_type_free(c->in);
  soupc_cty_conversion_free(c->elem);
  for (i = 0; c->convs != NULL && i < c->n; i++) {
    soupc_cty_conversion_free(c->convs[i]);
  }
  soupc__free(c->convs);
  soupc__free(c->present);
  soupc_cty_conversion_free(c->first);
  soupc_cty_conversion_free(c->second);
  soupc__free(c);
}

void soupc_cty_conversions_free(soupc_cty_conversion **convs, size_t n) {
  size_t i;

  if (convs == NULL) {
    return;
  }
  for (i = 0; i < n; i++) {
    soupc_cty_conversion_free(convs[i]);
  }
  soupc__free(convs);
}

static int node_arrays(struct soupc_cty_conversion *c, size_t n,
                       bool with_present) {
  c->n = n;
  c->convs = soupc__calloc(n + 1, sizeof(*c->convs));
  if (c->convs == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  if (with_present) {
    c->present = soupc__calloc(n + 1, sizeof(*c->present));
    if (c->present == NULL) {
      return SOUPC_ERR_NOMEM;
    }
  }
  return 0;
}

/* ---- building: getConversion / getConversionKnown ---- */

static int get_conversion(struct soupc_cty_conversion **out,
                          const struct soupc_cty_type *in,
                          const struct soupc_cty_type *want, bool unsafe);

static bool is_prim(const struct soupc_cty_type *t) {
  return t->kind <= SOUPC_CTY_BOOL;
}

static int obj_obj(struct soupc_cty_conversion **out,
                   const struct soupc_cty_type *in,
                   const struct soupc_cty_type *want, bool unsafe) {
  struct soupc_cty_conversion *c = node_new(CK_OBJ_OBJ);
  size_t i;
  long j;
  int rv;

  if (c == NULL || node_arrays(c, want->n, true) != 0) {
    soupc_cty_conversion_free(c);
    return SOUPC_ERR_NOMEM;
  }
  c->out = soupc__cty_type_ref(want);
  for (i = 0; i < want->n; i++) {
    j = soupc__cty_type_attr(in, want->names[i], want->name_lens[i]);
    if (j < 0) {
      if (want->optional != NULL && want->optional[i]) {
        continue;
      }
      goto none;
    }
    c->present[i] = true;
    if (soupc__cty_type_equal(in->elems[j], want->elems[i])) {
      continue;
    }
    rv = get_conversion(&c->convs[i], in->elems[j], want->elems[i], unsafe);
    if (rv != 0) {
      soupc_cty_conversion_free(c);
      return rv;
    }
    if (c->convs[i] == NULL) {
      goto none;
    }
  }
  *out = c;
  return 0;
none:
  soupc_cty_conversion_free(c);
  *out = NULL;
  return 0;
}

static int tup_tup(struct soupc_cty_conversion **out,
                   const struct soupc_cty_type *in,
                   const struct soupc_cty_type *want, bool unsafe) {
  struct soupc_cty_conversion *c;
  size_t i;
  int rv;

  *out = NULL;
  if (in->n != want->n) {
    return 0;
  }
  c = node_new(CK_TUP_TUP);
  if (c == NULL || node_arrays(c, in->n, false) != 0) {
    soupc_cty_conversion_free(c);
    return SOUPC_ERR_NOMEM;
  }
  for (i = 0; i < in->n; i++) {
    if (soupc__cty_type_equal(in->elems[i], want->elems[i])) {
      continue;
    }
    rv = get_conversion(&c->convs[i], in->elems[i], want->elems[i], unsafe);
    if (rv != 0 || c->convs[i] == NULL) {
      soupc_cty_conversion_free(c);
      return rv;
    }
  }
  *out = c;
  return 0;
}

/* CollectionToList / ToSet / ToMap over an element conversion. */
static int coll_node(struct soupc_cty_conversion **out, enum conv_kind k,
                     const struct soupc_cty_type *ety,
                     struct soupc_cty_conversion *elem) {
  struct soupc_cty_conversion *c = node_new(k);

  if (c == NULL) {
    soupc_cty_conversion_free(elem);
    return SOUPC_ERR_NOMEM;
  }
  c->ety = soupc__cty_type_ref(ety);
  c->elem = elem;
  *out = c;
  return 0;
}

/* An empty tuple or object converts to an empty collection of @p ety with
 * its optional attributes removed. */
static int empty_node(struct soupc_cty_conversion **out, soupc_cty_kind kind,
                      const struct soupc_cty_type *ety) {
  struct soupc_cty_conversion *c = node_new(CK_EMPTY);

  if (c == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  c->ety = soupc__cty_type_no_optional(ety);
  c->n = (size_t)kind;
  if (c->ety == NULL) {
    soupc_cty_conversion_free(c);
    return SOUPC_ERR_NOMEM;
  }
  *out = c;
  return 0;
}

/* conversionTupleToSet / conversionTupleToList: element conversions to a
 * common element type (unified when the wanted one is dynamic). */
static int tup_coll(struct soupc_cty_conversion **out, enum conv_kind k,
                    const struct soupc_cty_type *in,
                    const struct soupc_cty_type *ety0, bool unsafe) {
  struct soupc_cty_type *ety = NULL;
  struct soupc_cty_conversion *c;
  size_t i;
  int rv;

  *out = NULL;
  if (in->n == 0) {
    return empty_node(out, k == CK_TUP_SET ? SOUPC_CTY_SET : SOUPC_CTY_LIST,
                      ety0);
  }
  if (ety0->kind == SOUPC_CTY_DYNAMIC) {
    rv = soupc__cty_unify(&ety, NULL,
                          (const struct soupc_cty_type *const *)in->elems,
                          in->n, unsafe);
    if (rv != 0 || ety == NULL) {
      return rv;
    }
    if (ety->kind == SOUPC_CTY_DYNAMIC) {
      for (i = 0; i < in->n; i++) {
        if (in->elems[i]->kind != SOUPC_CTY_DYNAMIC) {
          soupc_cty_type_free(ety);
          return 0;
        }
      }
    }
  } else {
    ety = soupc__cty_type_ref(ety0);
  }
  c = node_new(k);
  if (c == NULL || node_arrays(c, in->n, false) != 0) {
    soupc_cty_conversion_free(c);
    soupc_cty_type_free(ety);
    return SOUPC_ERR_NOMEM;
  }
  c->ety = ety;
  c->unsafe = unsafe;
  for (i = 0; i < in->n; i++) {
    if (soupc__cty_type_equal(in->elems[i], ety)) {
      continue;
    }
    rv = get_conversion(&c->convs[i], in->elems[i], ety, unsafe);
    if (rv != 0 || c->convs[i] == NULL) {
      soupc_cty_conversion_free(c);
      return rv;
    }
  }
  *out = c;
  return 0;
}

static int obj_map(struct soupc_cty_conversion **out,
                   const struct soupc_cty_type *in,
                   const struct soupc_cty_type *ety0, bool unsafe) {
  struct soupc_cty_type *ety = NULL;
  struct soupc_cty_conversion *c;
  size_t i;
  int rv;

  *out = NULL;
  if (in->n == 0) {
    return empty_node(out, SOUPC_CTY_MAP, ety0);
  }
  if (ety0->kind == SOUPC_CTY_DYNAMIC) {
    rv = soupc__cty_unify(&ety, NULL,
                          (const struct soupc_cty_type *const *)in->elems,
                          in->n, unsafe);
    if (rv != 0 || ety == NULL) {
      return rv;
    }
  } else {
    ety = soupc__cty_type_ref(ety0);
  }
  c = node_new(CK_OBJ_MAP);
  if (c == NULL || node_arrays(c, in->n, false) != 0) {
    soupc_cty_conversion_free(c);
    soupc_cty_type_free(ety);
    return SOUPC_ERR_NOMEM;
  }
  c->ety = ety;
  c->unsafe = unsafe;
  for (i = 0; i < in->n; i++) {
    if (soupc__cty_type_equal(in->elems[i], ety)) {
      continue;
    }
    rv = get_conversion(&c->convs[i], in->elems[i], ety, unsafe);
    if (rv != 0 || c->convs[i] == NULL) {
      soupc_cty_conversion_free(c);
      return rv;
    }
  }
  *out = c;
  return 0;
}

static int map_obj(struct soupc_cty_conversion **out,
                   const struct soupc_cty_type *in,
                   const struct soupc_cty_type *want, bool unsafe) {
  struct soupc_cty_conversion *c = node_new(CK_MAP_OBJ);
  size_t i;
  int rv;

  *out = NULL;
  if (c == NULL || node_arrays(c, want->n, true) != 0) {
    soupc_cty_conversion_free(c);
    return SOUPC_ERR_NOMEM;
  }
  c->out = soupc__cty_type_ref(want);
  c->unsafe = unsafe;
  for (i = 0; i < want->n; i++) {
    if (soupc__cty_type_equal(want->elems[i], in->elem)) {
      continue;
    }
    /* go-cty stores the (possibly nil) conversion in its map before
     * checking it, so an optional attribute without one still has an
     * entry: a value for it is then an error. */
    c->present[i] = true;
    rv = get_conversion(&c->convs[i], in->elem, want->elems[i], unsafe);
    if (rv != 0) {
      soupc_cty_conversion_free(c);
      return rv;
    }
    if (c->convs[i] == NULL &&
        !(unsafe && want->optional != NULL && want->optional[i])) {
      soupc_cty_conversion_free(c);
      return 0;
    }
  }
  *out = c;
  return 0;
}

static int capsule_conv(struct soupc_cty_conversion **out,
                        const struct soupc_cty_type *in,
                        const struct soupc_cty_type *want) {
  struct soupc_cty_conversion *c = NULL;

  *out = NULL;
  if (soupc__cty_type_equal(in, want)) {
    return 0;
  }
  if (want->kind == SOUPC_CTY_CAPSULE && want->cap->ops.convert_to != NULL &&
      want->cap->ops.can_convert_to != NULL &&
      want->cap->ops.can_convert_to(in, want->cap->type_data)) {
    c = node_new(CK_TO_CAPSULE);
  } else if (in->kind == SOUPC_CTY_CAPSULE &&
             in->cap->ops.convert_from != NULL &&
             in->cap->ops.can_convert_from != NULL &&
             in->cap->ops.can_convert_from(want, in->cap->type_data)) {
    c = node_new(CK_FROM_CAPSULE);
  } else {
    return 0;
  }
  if (c == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  c->in = soupc__cty_type_ref(in);
  c->out = soupc__cty_type_ref(want);
  *out = c;
  return 0;
}

static int simple(struct soupc_cty_conversion **out, enum conv_kind k,
                  const struct soupc_cty_type *want) {
  struct soupc_cty_conversion *c = node_new(k);

  if (c == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  c->out = soupc__cty_type_ref(want);
  *out = c;
  return 0;
}

/* getConversionKnown: the conversion for known, non-null values, or
 * *out NULL when there is none. */
static int get_known(struct soupc_cty_conversion **out,
                     const struct soupc_cty_type *in,
                     const struct soupc_cty_type *want, bool unsafe) {
  struct soupc_cty_conversion *elem = NULL;
  soupc_cty_kind ik = in->kind, wk = want->kind;
  int rv;

  *out = NULL;
  if (wk == SOUPC_CTY_DYNAMIC) {
    return simple(out, CK_PASS, want);
  }
  if (unsafe && ik == SOUPC_CTY_DYNAMIC) {
    return simple(out, CK_FIXUP, want);
  }
  if (is_prim(in) && is_prim(want)) {
    if (ik == SOUPC_CTY_NUMBER && wk == SOUPC_CTY_STRING) {
      return simple(out, CK_NUM_STR, want);
    }
    if (ik == SOUPC_CTY_BOOL && wk == SOUPC_CTY_STRING) {
      return simple(out, CK_BOOL_STR, want);
    }
    if (unsafe && ik == SOUPC_CTY_STRING && wk == SOUPC_CTY_NUMBER) {
      return simple(out, CK_STR_NUM, want);
    }
    if (unsafe && ik == SOUPC_CTY_STRING && wk == SOUPC_CTY_BOOL) {
      return simple(out, CK_STR_BOOL, want);
    }
    return 0;
  }
  if (wk == SOUPC_CTY_OBJECT && ik == SOUPC_CTY_OBJECT) {
    return obj_obj(out, in, want, unsafe);
  }
  if (wk == SOUPC_CTY_TUPLE && ik == SOUPC_CTY_TUPLE) {
    return tup_tup(out, in, want, unsafe);
  }
  if ((wk == SOUPC_CTY_LIST || wk == SOUPC_CTY_SET) &&
      (ik == SOUPC_CTY_LIST || ik == SOUPC_CTY_SET)) {
    if (wk == SOUPC_CTY_SET && ik == SOUPC_CTY_LIST && !unsafe) {
      return 0;
    }
    if (soupc__cty_type_equal(in->elem, want->elem)) {
      return coll_node(out, wk == SOUPC_CTY_LIST ? CK_COLL_LIST : CK_COLL_SET,
                       want->elem, NULL);
    }
    rv = get_conversion(&elem, in->elem, want->elem, unsafe);
    if (rv != 0 || elem == NULL) {
      return rv;
    }
    return coll_node(out, wk == SOUPC_CTY_LIST ? CK_COLL_LIST : CK_COLL_SET,
                     want->elem, elem);
  }
  if (wk == SOUPC_CTY_MAP && ik == SOUPC_CTY_MAP) {
    /* No shortcut for equal element types: go-cty asks getConversion,
     * which has none for two identical primitives. */
    rv = get_conversion(&elem, in->elem, want->elem, unsafe);
    if (rv != 0 || elem == NULL) {
      return rv;
    }
    return coll_node(out, CK_COLL_MAP, want->elem, elem);
  }
  if ((wk == SOUPC_CTY_LIST || wk == SOUPC_CTY_SET) && ik == SOUPC_CTY_TUPLE) {
    return tup_coll(out, wk == SOUPC_CTY_LIST ? CK_TUP_LIST : CK_TUP_SET, in,
                    want->elem, unsafe);
  }
  if (wk == SOUPC_CTY_MAP && ik == SOUPC_CTY_OBJECT) {
    return obj_map(out, in, want->elem, unsafe);
  }
  if (wk == SOUPC_CTY_OBJECT && ik == SOUPC_CTY_MAP) {
    return unsafe ? map_obj(out, in, want, unsafe) : 0;
  }
  if (ik == SOUPC_CTY_CAPSULE || wk == SOUPC_CTY_CAPSULE) {
    return unsafe ? capsule_conv(out, in, want) : 0;
  }
  return 0;
}

static int get_conversion(struct soupc_cty_conversion **out,
                          const struct soupc_cty_type *in,
                          const struct soupc_cty_type *want, bool unsafe) {
  int rv = get_known(out, in, want, unsafe);

  if (rv != 0 || *out == NULL) {
    return rv;
  }
  (*out)->wrap = true;
  if ((*out)->out == NULL) {
    (*out)->out = soupc__cty_type_ref(want);
  } else if ((*out)->out != want) {
    /* The wrapper's type is the wanted one; kinds that kept another
     * (none do today) would need their own field. */
    soupc_cty_type_free((*out)->out);
    (*out)->out = soupc__cty_type_ref(want);
  }
  return 0;
}

int soupc_cty_get_conversion(soupc_cty_conversion **out,
                             const soupc_cty_type *in,
                             const soupc_cty_type *want) {
  return get_conversion(out, in, want, false);
}

int soupc_cty_get_conversion_unsafe(soupc_cty_conversion **out,
                                    const soupc_cty_type *in,
                                    const soupc_cty_type *want) {
  return get_conversion(out, in, want, true);
}

/* Composite conversions made by unify.c. */
int soupc__cty_conv_dynval(struct soupc_cty_conversion **out);
int soupc__cty_conv_chain(struct soupc_cty_conversion **out,
                          struct soupc_cty_conversion *first,
                          struct soupc_cty_conversion *second);

int soupc__cty_conv_dynval(struct soupc_cty_conversion **out) {
  *out = node_new(CK_DYNVAL);
  return *out == NULL ? SOUPC_ERR_NOMEM : 0;
}

int soupc__cty_conv_chain(struct soupc_cty_conversion **out,
                          struct soupc_cty_conversion *first,
                          struct soupc_cty_conversion *second) {
  struct soupc_cty_conversion *c = node_new(CK_CHAIN);

  if (c == NULL) {
    soupc_cty_conversion_free(first);
    soupc_cty_conversion_free(second);
    return SOUPC_ERR_NOMEM;
  }
  c->first = first;
  c->second = second;
  *out = c;
  return 0;
}

/* ---- dynamicReplace and prepareUnknownResult ---- */

static struct soupc_cty_type *dynamic_replace(const struct soupc_cty_type *in,
                                              const struct soupc_cty_type *out);

static struct soupc_cty_type *coll_of(soupc_cty_kind k,
                                      struct soupc_cty_type *elem) {
  struct soupc_cty_type *t = NULL;

  if (elem == NULL) {
    return NULL;
  }
  return soupc__cty_type_new_coll(&t, k, elem) == 0 ? t : NULL;
}

/* dynamicReplace of the unified type of @p types into @p out_elem. */
static struct soupc_cty_type *
unified_replace(struct soupc_cty_type *const *types, size_t n,
                const struct soupc_cty_type *out_elem) {
  struct soupc_cty_type *u = NULL, *r;

  if (soupc__cty_unify(&u, NULL, (const struct soupc_cty_type *const *)types, n,
                       true) != 0) {
    return NULL;
  }
  /* unify of nothing is NilType, which dynamicReplace treats as dynamic */
  r = u == NULL ? soupc__cty_type_ref(out_elem) : dynamic_replace(u, out_elem);
  soupc_cty_type_free(u);
  return r;
}

static struct soupc_cty_type *
dynamic_replace(const struct soupc_cty_type *in,
                const struct soupc_cty_type *out) {
  struct soupc_cty_type *r = NULL, **ts;
  char **nn;
  size_t *nl;
  size_t i;
  int rv;

  if (in->kind == SOUPC_CTY_DYNAMIC) {
    return soupc__cty_type_ref(out);
  }
  switch (out->kind) {
  case SOUPC_CTY_DYNAMIC:
    return soupc__cty_type_ref(in);
  case SOUPC_CTY_STRING:
  case SOUPC_CTY_NUMBER:
  case SOUPC_CTY_BOOL:
  case SOUPC_CTY_CAPSULE:
    return soupc__cty_type_ref(out);
  case SOUPC_CTY_MAP:
    if (in->kind == SOUPC_CTY_MAP) {
      return coll_of(SOUPC_CTY_MAP, dynamic_replace(in->elem, out->elem));
    }
    if (in->kind == SOUPC_CTY_OBJECT) {
      return coll_of(SOUPC_CTY_MAP,
                     unified_replace(in->elems, in->n, out->elem));
    }
    return soupc__cty_type_ref(out);
  case SOUPC_CTY_SET:
  case SOUPC_CTY_LIST:
    if (in->kind == SOUPC_CTY_SET || in->kind == SOUPC_CTY_LIST) {
      return coll_of(out->kind, dynamic_replace(in->elem, out->elem));
    }
    if (in->kind == SOUPC_CTY_TUPLE) {
      return coll_of(out->kind, unified_replace(in->elems, in->n, out->elem));
    }
    return soupc__cty_type_ref(out);
  case SOUPC_CTY_OBJECT:
    /* cty.Object(outTypes): optional markers are dropped here. */
    ts = soupc__calloc(out->n + 1, sizeof(*ts));
    nn = soupc__calloc(out->n + 1, sizeof(*nn));
    nl = soupc__calloc(out->n + 1, sizeof(*nl));
    rv = ts == NULL || nn == NULL || nl == NULL ? SOUPC_ERR_NOMEM : 0;
    for (i = 0; rv == 0 && i < out->n; i++) {
      long j = in->kind == SOUPC_CTY_OBJECT
                   ? soupc__cty_type_attr(in, out->names[i], out->name_lens[i])
                   : -1;
      if (in->kind == SOUPC_CTY_MAP) {
        ts[i] = dynamic_replace(in->elem, out->elems[i]);
      } else if (j >= 0) {
        ts[i] = dynamic_replace(in->elems[j], out->elems[i]);
      } else {
        ts[i] = soupc__cty_type_ref(out->elems[i]);
      }
      nn[i] = soupc__strndup(out->names[i], out->name_lens[i]);
      nl[i] = out->name_lens[i];
      if (ts[i] == NULL || nn[i] == NULL) {
        rv = SOUPC_ERR_NOMEM;
      }
    }
    /* A map or object supplies the attributes; anything else yields an
     * object with none (go-cty builds outTypes only in those cases). */
    if (rv == 0 && in->kind != SOUPC_CTY_MAP && in->kind != SOUPC_CTY_OBJECT) {
      for (i = 0; i < out->n; i++) {
        soupc_cty_type_free(ts[i]);
        soupc__free(nn[i]);
      }
      rv = soupc__cty_type_new_object(&r, nn, nl, ts, NULL, 0);
    } else if (rv == 0) {
      rv = soupc__cty_type_new_object(&r, nn, nl, ts, NULL, out->n);
    } else {
      for (i = 0; ts != NULL && nn != NULL && i < out->n; i++) {
        soupc_cty_type_free(ts[i]);
        soupc__free(nn[i]);
      }
    }
    soupc__free(ts);
    soupc__free(nn);
    soupc__free(nl);
    return rv == 0 ? r : NULL;
  case SOUPC_CTY_TUPLE:
    if (out->n == 0) {
      /* go-cty appends to a nil slice: cty.Tuple(nil), which its
       * MarshalJSON writes as ["tuple",null] */
      return soupc__cty_type_new_tuple_nil(&r) == 0 ? r : NULL;
    }
    if (in->kind != SOUPC_CTY_TUPLE || in->n < out->n) {
      return NULL; /* go-cty: TupleElementType panics */
    }
    ts = soupc__calloc(out->n + 1, sizeof(*ts));
    if (ts == NULL) {
      return NULL;
    }
    for (i = 0; i < out->n; i++) {
      ts[i] = dynamic_replace(in->elems[i], out->elems[i]);
      if (ts[i] == NULL) {
        while (i > 0) {
          soupc_cty_type_free(ts[--i]);
        }
        soupc__free(ts);
        return NULL;
      }
    }
    rv = soupc__cty_type_new_tuple(&r, ts, out->n);
    soupc__free(ts);
    return rv == 0 ? r : NULL;
  }
  return NULL;
}

static int prepare_unknown(struct soupc_cty_value **out,
                           const struct soupc_cty_value *in,
                           const struct soupc_cty_type *target,
                           soupc_status *st) {
  struct soupc_cty_range rng;
  struct soupc_cty_value *unk = NULL;
  soupc_cty_refiner *b = NULL;
  const struct soupc_cty_type *src;
  int64_t lo = 0, hi = CTY_MAX_INT;
  int rv;

  rv = soupc__cty_range_of(&rng, in, st);
  if (rv != 0) {
    return rv;
  }
  src = rng.ty;
  rv = soupc_cty_value_unknown(&unk, target);
  if (rv == 0) {
    rv = soupc_cty_refine_begin(&b, unk);
  }
  if (rv != 0) {
    goto out;
  }
  if (soupc_cty_range_definitely_not_null(&rng)) {
    soupc_cty_refine_not_null(b);
  }
  if ((src->kind == SOUPC_CTY_OBJECT && target->kind == SOUPC_CTY_MAP) ||
      (src->kind == SOUPC_CTY_TUPLE && target->kind == SOUPC_CTY_LIST)) {
    soupc_cty_refine_collection_length_lower_bound(b, (int64_t)src->n);
    soupc_cty_refine_collection_length_upper_bound(b, (int64_t)src->n);
  } else if (src->kind == SOUPC_CTY_TUPLE && target->kind == SOUPC_CTY_SET) {
    soupc_cty_refine_collection_length_lower_bound(
        b, src->n <= 1 ? (int64_t)src->n : 1);
    soupc_cty_refine_collection_length_upper_bound(b, (int64_t)src->n);
  } else if (cty_kind_is_coll(src->kind) && cty_kind_is_coll(target->kind)) {
    soupc_cty_range_length_lower_bound(&rng, &lo, NULL);
    soupc_cty_range_length_upper_bound(&rng, &hi, NULL);
    if (target->kind == SOUPC_CTY_SET) {
      if (lo > 0) {
        soupc_cty_refine_collection_length_lower_bound(b, 1);
      }
    } else {
      soupc_cty_refine_collection_length_lower_bound(b, lo);
    }
    soupc_cty_refine_collection_length_upper_bound(b, hi);
  }
  rv = soupc_cty_refine_finish(out, b, st);
out:
  soupc_cty_value_free(unk);
  soupc__cty_range_dispose(&rng);
  return rv;
}

/* ---- applying ---- */

static int apply(struct soupc_cty_value **out,
                 const struct soupc_cty_conversion *c,
                 const struct soupc_cty_value *in, struct cctx *cx, int depth);

/* A null element keeps its type minus optional attributes (go-cty
 * rebuilds it with NullVal, which also drops its marks). */
static int fix_null(struct soupc_cty_value **v) {
  struct soupc_cty_type *t;
  struct soupc_cty_value *n = NULL;
  int rv;

  if (!cty_is_null(*v)) {
    return 0;
  }
  t = soupc__cty_type_no_optional((*v)->type);
  if (t == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  rv = soupc_cty_value_null(&n, t);
  soupc_cty_type_free(t);
  if (rv != 0) {
    return rv;
  }
  soupc_cty_value_free(*v);
  *v = n;
  return 0;
}

static int push_num(struct soupc_cty_path *p, size_t i) {
  struct soupc_cty_value *k = NULL;
  int rv = soupc_cty_value_number_int(&k, (int64_t)i);

  if (rv == 0) {
    rv = soupc__cty_path_push_index(p, k);
    soupc_cty_value_free(k);
  }
  return rv;
}

static int push_str(struct soupc_cty_path *p, const char *s, size_t len) {
  struct soupc_cty_value *k = NULL;
  int rv = soupc__cty_val_string(&k, s, len);

  if (rv == 0) {
    rv = soupc__cty_path_push_index(p, k);
    soupc_cty_value_free(k);
  }
  return rv;
}

static void free_vals(struct soupc_cty_value **v, size_t n) {
  size_t i;

  for (i = 0; v != NULL && i < n; i++) {
    soupc_cty_value_free(v[i]);
  }
  soupc__free(v);
}

/* cty.CanListVal / CanSetVal / CanMapVal */
static bool can_coll(struct soupc_cty_value **v, size_t n) {
  const struct soupc_cty_type *et = NULL;
  size_t i;

  for (i = 0; i < n; i++) {
    if (et == NULL || et->kind == SOUPC_CTY_DYNAMIC) {
      et = v[i]->type;
    } else if (v[i]->type->kind != SOUPC_CTY_DYNAMIC &&
               !soupc__cty_type_equal(et, v[i]->type)) {
      return false;
    }
  }
  return true;
}

/* conversionUnifyListElements / conversionUnifyCollectionElements: every
 * element converted to the elements' unified type. @p keys NULL for a
 * list (paths by number). */
static int unify_elems(struct soupc_cty_value **v, size_t n, char **keys,
                       const size_t *lens, bool unsafe, struct cctx *cx,
                       int depth) {
  struct soupc_cty_type **tys = soupc__calloc(n + 1, sizeof(*tys));
  struct soupc_cty_type *u = NULL;
  size_t i;
  int rv;

  if (tys == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  for (i = 0; i < n; i++) {
    tys[i] = v[i]->type;
  }
  rv = soupc__cty_unify(&u, NULL, (const struct soupc_cty_type *const *)tys, n,
                        unsafe);
  soupc__free(tys);
  if (rv != 0) {
    return rv;
  }
  if (u == NULL) {
    return conv_error(cx, &cx->path,
                      "cannot find a common base type for all elements");
  }
  for (i = 0; i < n && rv == 0; i++) {
    struct soupc_cty_conversion *c = NULL;
    struct soupc_cty_value *nv = NULL;
    if (soupc__cty_type_equal(v[i]->type, u)) {
      continue;
    }
    rv = get_conversion(&c, v[i]->type, u, unsafe);
    if (rv != 0) {
      break;
    }
    if (c == NULL) {
      /* go-cty calls the nil conversion */
      rv = soupc__cty_panic(cx->st, "runtime error: invalid memory address or "
                                    "nil pointer dereference");
      break;
    }
    rv = keys != NULL ? push_str(&cx->path, keys[i], lens[i])
                      : push_num(&cx->path, i);
    if (rv == 0) {
      rv = apply(&nv, c, v[i], cx, depth + 1);
      soupc__cty_path_pop(&cx->path);
    }
    soupc_cty_conversion_free(c);
    if (rv == 0) {
      soupc_cty_value_free(v[i]);
      v[i] = nv;
    }
  }
  soupc_cty_type_free(u);
  return rv;
}

/* Element iteration shared by the sequence conversions: converts element
 * i of @p in with @p conv_at(i) (NULL = as is), optionally re-typing
 * nulls, and returns the new elements. */
static int convert_elems(struct soupc_cty_value ***out,
                         const struct soupc_cty_value *in,
                         const struct soupc_cty_conversion *single,
                         struct soupc_cty_conversion *const *per,
                         bool fix_nulls, struct cctx *cx, int depth) {
  size_t i, n = in->u.c.n;
  struct soupc_cty_value **v = soupc__calloc(n + 1, sizeof(*v));
  int rv = 0;

  if (v == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  for (i = 0; i < n && rv == 0; i++) {
    const struct soupc_cty_conversion *c = per != NULL ? per[i] : single;
    rv = push_num(&cx->path, i);
    if (rv != 0) {
      break;
    }
    if (c != NULL) {
      rv = apply(&v[i], c, in->u.c.items[i], cx, depth + 1);
    } else {
      v[i] = soupc__cty_val_ref(in->u.c.items[i]);
    }
    if (rv == 0 && fix_nulls) {
      rv = fix_null(&v[i]);
    }
    soupc__cty_path_pop(&cx->path);
  }
  if (rv != 0) {
    free_vals(v, n);
    return rv;
  }
  *out = v;
  return 0;
}

static int apply_coll(struct soupc_cty_value **out,
                      const struct soupc_cty_conversion *c,
                      const struct soupc_cty_value *in, struct cctx *cx,
                      int depth) {
  struct soupc_cty_value **v = NULL;
  soupc_cty_kind k = c->kind == CK_COLL_LIST || c->kind == CK_TUP_LIST
                         ? SOUPC_CTY_LIST
                         : SOUPC_CTY_SET;
  size_t n = in->u.c.n;
  int rv;

  if (c->kind == CK_COLL_LIST && in->type->kind == SOUPC_CTY_SET && n != 1 &&
      !soupc__cty_wholly_known(in)) {
    /* val.Length() is unknown: an unknown list of the input's element
     * type, unrefined. */
    struct soupc_cty_type *t = NULL;
    rv = soupc__cty_type_new_coll(&t, SOUPC_CTY_LIST,
                                  soupc__cty_type_ref(in->type->elem));
    if (rv == 0) {
      rv = soupc_cty_value_unknown(out, t);
      soupc_cty_type_free(t);
    }
    return rv;
  }
  rv = convert_elems(&v, in, c->elem,
                     c->kind == CK_TUP_LIST || c->kind == CK_TUP_SET ? c->convs
                                                                     : NULL,
                     c->kind != CK_TUP_LIST, cx, depth);
  if (rv != 0) {
    return rv;
  }
  if (n == 0) {
    /* only collections get here empty (empty tuples are CK_EMPTY) */
    struct soupc_cty_type *et = c->ety->kind == SOUPC_CTY_DYNAMIC
                                    ? soupc__cty_type_ref(in->type->elem)
                                    : soupc__cty_type_no_optional(c->ety);
    soupc__free(v);
    if (et == NULL) {
      return SOUPC_ERR_NOMEM;
    }
    rv = soupc__cty_empty_coll(out, k, et);
    soupc_cty_type_free(et);
    return rv;
  }
  if (c->kind == CK_TUP_LIST) {
    /* go-cty passes the path of the last element here (elemPath). */
    rv = push_num(&cx->path, n - 1);
    if (rv == 0) {
      rv = unify_elems(v, n, NULL, NULL, c->unsafe, cx, depth);
      soupc__cty_path_pop(&cx->path);
    }
    if (rv != 0) {
      free_vals(v, n);
      return rv;
    }
  }
  if (!can_coll(v, n)) {
    free_vals(v, n);
    return conv_error(cx, &cx->path,
                      "element types must all match for conversion to %s",
                      k == SOUPC_CTY_LIST ? "list" : "set");
  }
  return soupc__cty_list_val(out, k, v, n, cx->st);
}

/* Map results: keys copied from @p names. */
static int make_map(struct soupc_cty_value **out, struct soupc_cty_value **v,
                    char *const *names, const size_t *lens, size_t n,
                    struct cctx *cx) {
  char **keys = soupc__calloc(n + 1, sizeof(*keys));
  size_t *kl = soupc__calloc(n + 1, sizeof(*kl));
  size_t i;

  if (keys == NULL || kl == NULL) {
    goto nomem;
  }
  for (i = 0; i < n; i++) {
    keys[i] = soupc__strndup(names[i], lens[i]);
    kl[i] = lens[i];
    if (keys[i] == NULL) {
      while (i > 0) {
        soupc__free(keys[--i]);
      }
      goto nomem;
    }
  }
  return soupc__cty_map_val(out, keys, kl, v, n, cx->st);
nomem:
  soupc__free(keys);
  soupc__free(kl);
  free_vals(v, n);
  return SOUPC_ERR_NOMEM;
}

static int apply_to_map(struct soupc_cty_value **out,
                        const struct soupc_cty_conversion *c,
                        const struct soupc_cty_value *in, struct cctx *cx,
                        int depth) {
  bool from_obj = c->kind == CK_OBJ_MAP;
  char *const *names = from_obj ? in->type->names : in->u.c.keys;
  const size_t *lens = from_obj ? in->type->name_lens : in->u.c.key_lens;
  size_t i, n = in->u.c.n;
  struct soupc_cty_value **v = soupc__calloc(n + 1, sizeof(*v));
  int rv = 0;

  if (v == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  for (i = 0; i < n && rv == 0; i++) {
    const struct soupc_cty_conversion *ec = from_obj ? c->convs[i] : c->elem;
    rv = push_str(&cx->path, names[i], lens[i]);
    if (rv != 0) {
      break;
    }
    if (ec != NULL) {
      rv = apply(&v[i], ec, in->u.c.items[i], cx, depth + 1);
    } else {
      v[i] = soupc__cty_val_ref(in->u.c.items[i]);
    }
    soupc__cty_path_pop(&cx->path);
  }
  if (rv != 0) {
    free_vals(v, n);
    return rv;
  }
  if (n == 0) {
    struct soupc_cty_type *et = c->ety->kind == SOUPC_CTY_DYNAMIC
                                    ? soupc__cty_type_ref(in->type->elem)
                                    : soupc__cty_type_no_optional(c->ety);
    soupc__free(v);
    if (et == NULL) {
      return SOUPC_ERR_NOMEM;
    }
    rv = soupc__cty_empty_coll(out, SOUPC_CTY_MAP, et);
    soupc_cty_type_free(et);
    return rv;
  }
  if (cty_kind_is_coll(c->ety->kind) || c->ety->kind == SOUPC_CTY_OBJECT) {
    /* collection -> map unifies with unsafe false, whatever was asked */
    rv = unify_elems(v, n, (char **)names, lens, from_obj && c->unsafe, cx,
                     depth);
    if (rv != 0) {
      free_vals(v, n);
      return rv;
    }
  }
  if (!can_coll(v, n)) {
    free_vals(v, n);
    return conv_error(cx, &cx->path,
                      from_obj
                          ? "attribute types must all match for conversion to "
                            "map"
                          : "element types must all match for conversion to "
                            "map");
  }
  return make_map(out, v, names, lens, n, cx);
}

static int apply_obj_obj(struct soupc_cty_value **out,
                         const struct soupc_cty_conversion *c,
                         const struct soupc_cty_value *in, struct cctx *cx,
                         int depth) {
  const struct soupc_cty_type *want = c->out;
  struct soupc_cty_value **v = soupc__calloc(want->n + 1, sizeof(*v));
  char **names = soupc__calloc(want->n + 1, sizeof(*names));
  size_t *lens = soupc__calloc(want->n + 1, sizeof(*lens));
  size_t i, m = 0;
  long j;
  int rv = 0;

  if (v == NULL || names == NULL || lens == NULL) {
    rv = SOUPC_ERR_NOMEM;
    goto fail;
  }
  for (i = 0; i < want->n && rv == 0; i++) {
    j = soupc__cty_type_attr(in->type, want->names[i], want->name_lens[i]);
    names[m] = soupc__strndup(want->names[i], want->name_lens[i]);
    lens[m] = want->name_lens[i];
    if (names[m] == NULL) {
      rv = SOUPC_ERR_NOMEM;
      break;
    }
    if (j < 0 || !c->present[i]) {
      /* an absent optional attribute: a null of its type */
      struct soupc_cty_type *t = soupc__cty_type_no_optional(want->elems[i]);
      rv = t == NULL ? SOUPC_ERR_NOMEM : soupc_cty_value_null(&v[m], t);
      soupc_cty_type_free(t);
      m += rv == 0;
      continue;
    }
    rv = soupc__cty_path_push_attr(&cx->path, want->names[i],
                                   want->name_lens[i]);
    if (rv != 0) {
      break;
    }
    if (c->convs[i] != NULL) {
      rv = apply(&v[m], c->convs[i], in->u.c.items[j], cx, depth + 1);
    } else {
      v[m] = soupc__cty_val_ref(in->u.c.items[j]);
    }
    soupc__cty_path_pop(&cx->path);
    if (rv == 0) {
      rv = fix_null(&v[m]);
    }
    if (rv == 0) {
      m++;
    }
  }
  if (rv != 0) {
    goto fail;
  }
  return soupc__cty_object_val(out, names, lens, v, m);
fail:
  for (i = 0; i <= m && i < want->n; i++) {
    if (v != NULL) {
      soupc_cty_value_free(v[i]);
    }
    if (names != NULL) {
      soupc__free(names[i]);
    }
  }
  soupc__free(v);
  soupc__free(names);
  soupc__free(lens);
  return rv;
}

static int apply_map_obj(struct soupc_cty_value **out,
                         const struct soupc_cty_conversion *c,
                         const struct soupc_cty_value *in, struct cctx *cx,
                         int depth) {
  const struct soupc_cty_type *want = c->out;
  struct soupc_cty_value **v = soupc__calloc(want->n + 1, sizeof(*v));
  char **names = soupc__calloc(want->n + 1, sizeof(*names));
  size_t *lens = soupc__calloc(want->n + 1, sizeof(*lens));
  size_t i, m = 0;
  long a;
  int rv = 0;

  if (v == NULL || names == NULL || lens == NULL) {
    rv = SOUPC_ERR_NOMEM;
    goto fail;
  }
  /* The map's elements, in key order; keys the object lacks are skipped. */
  for (i = 0; i < in->u.c.n && rv == 0; i++) {
    const struct soupc_cty_value *x = in->u.c.items[i];
    a = soupc__cty_type_attr(want, in->u.c.keys[i], in->u.c.key_lens[i]);
    if (a < 0) {
      continue;
    }
    if (c->convs[a] != NULL) {
      rv = push_str(&cx->path, in->u.c.keys[i], in->u.c.key_lens[i]);
      if (rv == 0) {
        rv = apply(&v[m], c->convs[a], x, cx, depth + 1);
        soupc__cty_path_pop(&cx->path);
      }
    } else if (c->present[a]) {
      struct cty_buf mm;
      soupc__cty_buf_init(&mm);
      soupc__cty_mismatch(&mm, x->type, want->elems[a]);
      soupc__cty_buf_putc(&mm, 0);
      rv = mm.oom ? SOUPC_ERR_NOMEM
                  : conv_error(cx, &cx->path,
                               "map element type is incompatible with "
                               "attribute \"%s\": %s",
                               want->names[a], (char *)mm.p);
      soupc__cty_buf_dispose(&mm);
    } else {
      v[m] = soupc__cty_val_ref(x);
    }
    if (rv == 0) {
      rv = fix_null(&v[m]);
    }
    if (rv == 0) {
      names[m] = soupc__strndup(want->names[a], want->name_lens[a]);
      lens[m] = want->name_lens[a];
      rv = names[m] == NULL ? SOUPC_ERR_NOMEM : 0;
      m++;
    }
  }
  /* Attributes the map did not supply: optional ones become null (of the
   * attribute's declared type), required ones are an error. */
  for (i = 0; i < want->n && rv == 0; i++) {
    size_t k;
    bool have = false;
    for (k = 0; k < m; k++) {
      if (lens[k] == want->name_lens[i] &&
          memcmp(names[k], want->names[i], lens[k]) == 0) {
        have = true;
        break;
      }
    }
    if (have) {
      continue;
    }
    if (want->optional == NULL || !want->optional[i]) {
      rv = conv_error(cx, &cx->path,
                      "map has no element for required attribute \"%s\"",
                      want->names[i]);
      break;
    }
    rv = soupc_cty_value_null(&v[m], want->elems[i]);
    if (rv == 0) {
      names[m] = soupc__strndup(want->names[i], want->name_lens[i]);
      lens[m] = want->name_lens[i];
      rv = names[m] == NULL ? SOUPC_ERR_NOMEM : 0;
      m++;
    }
  }
  if (rv != 0) {
    goto fail;
  }
  return soupc__cty_object_val(out, names, lens, v, m);
fail:
  for (i = 0; i <= m && i < want->n; i++) {
    if (v != NULL) {
      soupc_cty_value_free(v[i]);
    }
    if (names != NULL) {
      soupc__free(names[i]);
    }
  }
  soupc__free(v);
  soupc__free(names);
  soupc__free(lens);
  return rv;
}

static int str_to_bool(struct soupc_cty_value **out, const char *s, size_t len,
                       struct cctx *cx) {
  char low[6];
  size_t i;

  if ((len == 4 && memcmp(s, "true", 4) == 0) || (len == 1 && s[0] == '1')) {
    *out = soupc__cty_bool_val(true);
    return 0;
  }
  if ((len == 5 && memcmp(s, "false", 5) == 0) || (len == 1 && s[0] == '0')) {
    *out = soupc__cty_bool_val(false);
    return 0;
  }
  /* strings.ToLower: only the ASCII letters can spell true/false. */
  if (len == 4 || len == 5) {
    for (i = 0; i < len; i++) {
      char ch = s[i];
      low[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
    }
    if (len == 4 && memcmp(low, "true", 4) == 0) {
      return conv_error(cx, &cx->path,
                        "a bool is required; to convert from string, use "
                        "lowercase \"true\"");
    }
    if (len == 5 && memcmp(low, "false", 5) == 0) {
      return conv_error(cx, &cx->path,
                        "a bool is required; to convert from string, use "
                        "lowercase \"false\"");
    }
  }
  return conv_error(cx, &cx->path, "a bool is required");
}

/* The conversion of a known, non-null, unmarked value (the closures
 * getConversionKnown returns). */
static int apply_known(struct soupc_cty_value **out,
                       const struct soupc_cty_conversion *c,
                       const struct soupc_cty_value *in, struct cctx *cx,
                       int depth) {
  struct cty_buf b;
  const char *why;
  int rv;

  switch (c->kind) {
  case CK_PASS:
    *out = soupc__cty_val_ref(in);
    return 0;
  case CK_FIXUP:
    rv = soupc__cty_convert(out, in, c->out, NULL, cx->st);
    if (rv == SOUPC_ERR_CTY_CONVERT && cx->err_path == NULL) {
      soupc__cty_path_dup(&cx->err_path, &cx->path);
    }
    return rv;
  case CK_NUM_STR:
    soupc__cty_buf_init(&b);
    soupc__cty_num_text_f(&b, in->u.num);
    if (b.oom) {
      soupc__cty_buf_dispose(&b);
      return SOUPC_ERR_NOMEM;
    }
    rv = soupc__cty_val_string(out, (const char *)b.p, b.len);
    soupc__cty_buf_dispose(&b);
    return rv;
  case CK_BOOL_STR:
    return soupc__cty_val_string(out, in->u.b ? "true" : "false",
                                 in->u.b ? 4 : 5);
  case CK_STR_NUM: {
    struct soupc_cty_value *v = NULL;
    struct cty_num *num;
    rv = soupc__cty_val_number(&v, &num);
    if (rv != 0) {
      return rv;
    }
    if (soupc__cty_num_parse(num, in->u.str.s, in->u.str.len, &why) != 0) {
      soupc_cty_value_free(v);
      return conv_error(cx, &cx->path, "a number is required");
    }
    *out = v;
    return 0;
  }
  case CK_STR_BOOL:
    return str_to_bool(out, in->u.str.s, in->u.str.len, cx);
  case CK_OBJ_OBJ:
    return apply_obj_obj(out, c, in, cx, depth);
  case CK_TUP_TUP: {
    struct soupc_cty_value **v = NULL;
    rv = convert_elems(&v, in, NULL, c->convs, false, cx, depth);
    if (rv != 0) {
      return rv;
    }
    return soupc__cty_tuple_val(out, v, in->u.c.n);
  }
  case CK_COLL_LIST:
  case CK_COLL_SET:
  case CK_TUP_LIST:
  case CK_TUP_SET:
    return apply_coll(out, c, in, cx, depth);
  case CK_COLL_MAP:
  case CK_OBJ_MAP:
    return apply_to_map(out, c, in, cx, depth);
  case CK_MAP_OBJ:
    return apply_map_obj(out, c, in, cx, depth);
  case CK_EMPTY:
    return soupc__cty_empty_coll(out, (soupc_cty_kind)c->n, c->ety);
  case CK_TO_CAPSULE: {
    void *payload = NULL;
    const struct cty_capsule *cap = c->out->cap;
    rv = cap->ops.convert_to(&payload, in, cap->type_data, cx->st);
    if (rv != 0) {
      if (cx->err_path == NULL) {
        soupc__cty_path_dup(&cx->err_path, &cx->path);
      }
      return rv == SOUPC_ERR_NOMEM ? rv : SOUPC_ERR_CTY_CONVERT;
    }
    return soupc_cty_value_capsule(out, c->out, payload, cx->st);
  }
  case CK_FROM_CAPSULE: {
    const struct cty_capsule *cap = c->in->cap;
    rv = cap->ops.convert_from(out, in->u.payload, c->out, cap->type_data,
                               cx->st);
    if (rv != 0 && rv != SOUPC_ERR_NOMEM) {
      if (cx->err_path == NULL) {
        soupc__cty_path_dup(&cx->err_path, &cx->path);
      }
      return SOUPC_ERR_CTY_CONVERT;
    }
    return rv;
  }
  case CK_DYNVAL:
    *out = soupc__cty_dynamic_val();
    return 0;
  case CK_CHAIN: {
    struct soupc_cty_value *first = NULL;
    rv = apply(&first, c->first, in, cx, depth + 1);
    if (rv != 0) {
      return rv;
    }
    soupc_cty_value_free(first); /* go-cty applies the second to `in` */
    return apply(out, c->second, in, cx, depth + 1);
  }
  }
  return soupc__cty_panic(cx->st, "unknown conversion");
}

static int apply(struct soupc_cty_value **out,
                 const struct soupc_cty_conversion *c,
                 const struct soupc_cty_value *in, struct cctx *cx, int depth) {
  struct soupc_cty_type *t, *r;
  int rv;

  if (depth > CTY_MAX_DEPTH) {
    return soupc__cty_panic(cx->st, "conversion nests too deeply");
  }
  if (!c->wrap) {
    return apply_known(out, c, in, cx, depth);
  }
  if (cty_is_marked(in)) {
    struct soupc_cty_value *v = NULL;
    rv = apply(&v, c, in->u.mk.inner, cx, depth);
    if (rv != 0) {
      return rv;
    }
    return soupc__cty_with_marks(out, v, in->u.mk.marks);
  }
  if (c->out->kind == SOUPC_CTY_DYNAMIC) {
    *out = soupc__cty_val_ref(in);
    return 0;
  }
  if ((in->flags & (CTY_V_NULL | CTY_V_UNKNOWN)) != 0) {
    t = soupc__cty_type_no_optional(c->out);
    r = t == NULL ? NULL : dynamic_replace(in->type, t);
    soupc_cty_type_free(t);
    if (r == NULL) {
      return soupc__cty_panic(cx->st, "TupleElementType on non-tuple Type");
    }
    rv = (in->flags & CTY_V_UNKNOWN) ? prepare_unknown(out, in, r, cx->st)
                                     : soupc_cty_value_null(out, r);
    soupc_cty_type_free(r);
    return rv;
  }
  return apply_known(out, c, in, cx, depth);
}

int soupc_cty_conversion_apply(soupc_cty_value **out,
                               const soupc_cty_conversion *c,
                               const soupc_cty_value *in,
                               soupc_cty_path **err_path, soupc_status *st) {
  struct cctx cx;
  int rv;

  memset(&cx, 0, sizeof(cx));
  cx.st = st;
  rv = apply(out, c, in, &cx, 0);
  soupc__cty_path_dispose(&cx.path);
  if (rv == SOUPC_ERR_CTY_CONVERT && err_path != NULL) {
    *err_path = cx.err_path;
    cx.err_path = NULL;
  }
  soupc_cty_path_free(cx.err_path);
  return rv;
}

/* ---- Convert ---- */

int soupc__cty_convert(struct soupc_cty_value **out,
                       const struct soupc_cty_value *in,
                       const struct soupc_cty_type *want,
                       struct soupc_cty_path **err_path, soupc_status *st) {
  struct soupc_cty_conversion *c = NULL;
  struct soupc_cty_type *plain = soupc__cty_type_no_optional(want);
  bool same;
  int rv;

  if (plain == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  same = soupc__cty_type_equal(in->type, plain);
  soupc_cty_type_free(plain);
  if (same) {
    *out = soupc__cty_val_ref(in);
    return 0;
  }
  rv = get_conversion(&c, in->type, want, true);
  if (rv != 0) {
    return rv;
  }
  if (c == NULL) {
    struct cty_buf b;
    soupc__cty_buf_init(&b);
    soupc__cty_mismatch(&b, in->type, want);
    soupc__cty_buf_putc(&b, 0);
    if (b.oom) {
      soupc__cty_buf_dispose(&b);
      return SOUPC_ERR_NOMEM;
    }
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT, "%s", (char *)b.p);
    soupc__cty_buf_dispose(&b);
    if (err_path != NULL) {
      soupc_cty_path_new(err_path);
    }
    return SOUPC_ERR_CTY_CONVERT;
  }
  rv = soupc_cty_conversion_apply(out, c, in, err_path, st);
  soupc_cty_conversion_free(c);
  return rv;
}

int soupc_cty_convert(soupc_cty_value **out, const soupc_cty_value *in,
                      const soupc_cty_type *want, soupc_cty_path **err_path,
                      soupc_status *st) {
  return soupc__cty_convert(out, in, want, err_path, st);
}
