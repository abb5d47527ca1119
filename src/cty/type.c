/* cty types: construction, go-cty's JSON type descriptions (spec §1.2),
 * equality and conformance. */
#include "cty/cty_int.h"

#include "base/alloc.h"
#include "base/options.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Primitive types are immortal singletons (refs < 0). */
static struct soupc_cty_type prims[4] = {
    {-1, SOUPC_CTY_STRING, true, false, NULL, NULL, 0, NULL, NULL, NULL, NULL,
     NULL},
    {-1, SOUPC_CTY_NUMBER, true, false, NULL, NULL, 0, NULL, NULL, NULL, NULL,
     NULL},
    {-1, SOUPC_CTY_BOOL, true, false, NULL, NULL, 0, NULL, NULL, NULL, NULL,
     NULL},
    {-1, SOUPC_CTY_DYNAMIC, false, true, NULL, NULL, 0, NULL, NULL, NULL, NULL,
     NULL},
};

static struct soupc_cty_type *conc(struct soupc_cty_type *t) {
  return t->concrete != NULL ? t->concrete : t;
}

struct soupc_cty_type *soupc__cty_type_prim(soupc_cty_kind kind) {
  return &prims[kind];
}

struct soupc_cty_type *soupc__cty_type_ref(const struct soupc_cty_type *t) {
  struct soupc_cty_type *m = (struct soupc_cty_type *)t;

  cty_ref_inc(&m->refs);
  return m;
}

soupc_cty_type *soupc_cty_type_ref(const soupc_cty_type *ty) {
  return soupc__cty_type_ref(ty);
}

void soupc_cty_type_free(soupc_cty_type *t) {
  size_t i;

  if (t == NULL || !cty_ref_dec(&t->refs)) {
    return;
  }
  if (t->cap != NULL) {
    soupc__free(t->cap->name);
    soupc__free(t->cap);
  }
  soupc_cty_type_free(t->elem);
  soupc_cty_type_free(t->concrete);
  for (i = 0; i < t->n; i++) {
    soupc_cty_type_free(t->elems[i]);
    if (t->names != NULL) {
      soupc__free(t->names[i]);
    }
  }
  soupc__free(t->elems);
  soupc__free(t->names);
  soupc__free(t->name_lens);
  soupc__free(t->optional);
  soupc__free(t);
}

soupc_cty_kind soupc_cty_type_kind(const soupc_cty_type *t) {
  return t->kind;
}

int soupc__cty_type_new_coll(struct soupc_cty_type **out, soupc_cty_kind kind,
                             struct soupc_cty_type *elem) {
  struct soupc_cty_type *t;

  if (elem == NULL) {
    return SOUPC_ERR_NOMEM; /* a failed constructor's result, passed on */
  }
  t = soupc__calloc(1, sizeof(*t));
  if (t == NULL) {
    soupc_cty_type_free(elem);
    return SOUPC_ERR_NOMEM;
  }
  t->refs = 1;
  t->kind = kind;
  t->elem = elem;
  t->plain = elem->plain;
  t->has_dyn = elem->has_dyn;
  if (!t->has_dyn && elem->concrete != NULL &&
      soupc__cty_type_new_coll(&t->concrete, kind,
                               soupc__cty_type_ref(elem->concrete)) != 0) {
    soupc_cty_type_free(t);
    return SOUPC_ERR_NOMEM;
  }
  *out = t;
  return 0;
}

int soupc__cty_type_new_tuple(struct soupc_cty_type **out,
                              struct soupc_cty_type **elems, size_t n) {
  struct soupc_cty_type *t = soupc__calloc(1, sizeof(*t));
  size_t i;

  /* elems is never NULL here: NULL is Go's Tuple(nil) (new_tuple_nil) */
  if (t == NULL ||
      (t->elems = soupc__calloc(n + 1, sizeof(*t->elems))) == NULL) {
    soupc__free(t);
    for (i = 0; i < n; i++) {
      soupc_cty_type_free(elems[i]);
    }
    return SOUPC_ERR_NOMEM;
  }
  t->refs = 1;
  t->kind = SOUPC_CTY_TUPLE;
  t->n = n;
  t->plain = true;
  for (i = 0; i < n; i++) {
    t->elems[i] = elems[i];
    t->plain = t->plain && elems[i]->plain;
    t->has_dyn = t->has_dyn || elems[i]->has_dyn;
  }
  if (!t->has_dyn && !t->plain) {
    struct soupc_cty_type **ce = soupc__calloc(n + 1, sizeof(*ce));
    if (ce == NULL) {
      soupc_cty_type_free(t);
      return SOUPC_ERR_NOMEM;
    }
    for (i = 0; i < n; i++) {
      ce[i] = soupc__cty_type_ref(conc(elems[i]));
    }
    i = (size_t)soupc__cty_type_new_tuple(&t->concrete, ce, n);
    soupc__free(ce);
    if (i != 0) {
      soupc_cty_type_free(t);
      return SOUPC_ERR_NOMEM;
    }
  }
  *out = t;
  return 0;
}

int soupc__cty_type_new_tuple_nil(struct soupc_cty_type **out) {
  struct soupc_cty_type *t = soupc__calloc(1, sizeof(*t));

  if (t == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  t->refs = 1;
  t->kind = SOUPC_CTY_TUPLE;
  t->plain = true;
  *out = t;
  return 0;
}

static int name_cmp(const char *a, size_t al, const char *b, size_t bl) {
  size_t n = al < bl ? al : bl;
  int c = n > 0 ? memcmp(a, b, n) : 0;

  if (c != 0) {
    return c;
  }
  return al < bl ? -1 : (al > bl ? 1 : 0);
}

int soupc__cty_type_new_object(struct soupc_cty_type **out, char **names,
                               size_t *name_lens, struct soupc_cty_type **attrs,
                               const bool *optional, size_t n) {
  struct soupc_cty_type *t = soupc__calloc(1, sizeof(*t));
  size_t i, j, k;
  bool any_opt = false;

  if (t == NULL) {
    goto nomem;
  }
  t->refs = 1;
  t->kind = SOUPC_CTY_OBJECT;
  t->plain = true;
  if (n > 0) {
    t->elems = soupc__calloc(n, sizeof(*t->elems));
    t->names = soupc__calloc(n, sizeof(*t->names));
    t->name_lens = soupc__calloc(n, sizeof(*t->name_lens));
    t->optional = soupc__calloc(n, sizeof(*t->optional));
    if (t->elems == NULL || t->names == NULL || t->name_lens == NULL ||
        t->optional == NULL) {
      goto nomem;
    }
  }
  /* Insertion sort keeps this simple; a later duplicate name replaces an
   * earlier one, as a Go map assignment does. */
  for (i = 0; i < n; i++) {
    for (j = 0; j < t->n; j++) {
      int c = name_cmp(names[i], name_lens[i], t->names[j], t->name_lens[j]);
      if (c == 0) {
        soupc_cty_type_free(t->elems[j]);
        soupc__free(t->names[j]);
        break;
      }
      if (c < 0) {
        for (k = t->n; k > j; k--) {
          t->elems[k] = t->elems[k - 1];
          t->names[k] = t->names[k - 1];
          t->name_lens[k] = t->name_lens[k - 1];
          t->optional[k] = t->optional[k - 1];
        }
        t->n++;
        break;
      }
    }
    if (j == t->n) {
      t->n++;
    }
    t->elems[j] = attrs[i];
    t->names[j] = names[i];
    t->name_lens[j] = name_lens[i];
    t->optional[j] = optional != NULL && optional[i];
    attrs[i] = NULL;
    names[i] = NULL;
  }
  for (i = 0; i < t->n; i++) {
    any_opt = any_opt || t->optional[i];
    t->plain = t->plain && t->elems[i]->plain;
  }
  if (!any_opt) {
    soupc__free(t->optional);
    t->optional = NULL;
  } else {
    t->plain = false;
  }
  for (i = 0; i < t->n; i++) {
    t->has_dyn = t->has_dyn || t->elems[i]->has_dyn;
  }
  if (!t->has_dyn && !t->plain) {
    struct soupc_cty_type **ce = soupc__calloc(t->n + 1, sizeof(*ce));
    char **cn = soupc__calloc(t->n + 1, sizeof(*cn));
    size_t *cl = soupc__calloc(t->n + 1, sizeof(*cl));
    int rv = SOUPC_ERR_NOMEM;
    if (ce != NULL && cn != NULL && cl != NULL) {
      for (i = 0; i < t->n; i++) {
        ce[i] = soupc__cty_type_ref(conc(t->elems[i]));
        cn[i] = soupc__strndup(t->names[i], t->name_lens[i]);
        cl[i] = t->name_lens[i];
        if (cn[i] == NULL) {
          size_t q;
          for (q = 0; q <= i; q++) {
            soupc_cty_type_free(ce[q]);
            soupc__free(cn[q]);
          }
          break;
        }
      }
      if (i == t->n) {
        rv = soupc__cty_type_new_object(&t->concrete, cn, cl, ce, NULL, t->n);
      }
    }
    soupc__free(ce);
    soupc__free(cn);
    soupc__free(cl);
    if (rv != 0) {
      soupc_cty_type_free(t);
      return SOUPC_ERR_NOMEM;
    }
  }
  *out = t;
  return 0;

nomem:
  for (i = 0; i < n; i++) {
    soupc_cty_type_free(attrs[i]);
    soupc__free(names[i]);
  }
  if (t != NULL) {
    soupc__free(t->elems);
    soupc__free(t->names);
    soupc__free(t->name_lens);
    soupc__free(t->optional);
    soupc__free(t);
  }
  return SOUPC_ERR_NOMEM;
}

bool soupc__cty_type_equal(const struct soupc_cty_type *a,
                           const struct soupc_cty_type *b) {
  size_t i;

  if (a == b) {
    return true;
  }
  if (a->kind != b->kind || a->n != b->n || a->kind == SOUPC_CTY_CAPSULE) {
    return false; /* capsule types are equal only to themselves */
  }
  switch (a->kind) {
  case SOUPC_CTY_LIST:
  case SOUPC_CTY_SET:
  case SOUPC_CTY_MAP:
    return soupc__cty_type_equal(a->elem, b->elem);
  case SOUPC_CTY_TUPLE:
  case SOUPC_CTY_OBJECT:
    for (i = 0; i < a->n; i++) {
      if (a->kind == SOUPC_CTY_OBJECT &&
          (name_cmp(a->names[i], a->name_lens[i], b->names[i],
                    b->name_lens[i]) != 0 ||
           (a->optional != NULL && a->optional[i]) !=
               (b->optional != NULL && b->optional[i]))) {
        return false;
      }
      if (!soupc__cty_type_equal(a->elems[i], b->elems[i])) {
        return false;
      }
    }
    return true;
  default:
    return true;
  }
}

bool soupc__cty_type_conforms(const struct soupc_cty_type *have,
                              const struct soupc_cty_type *want) {
  size_t i;

  if (have == want || have == want->concrete ||
      want->kind == SOUPC_CTY_DYNAMIC) {
    return true;
  }
  if (have->kind != want->kind || have->n != want->n ||
      have->kind == SOUPC_CTY_CAPSULE) {
    return false;
  }
  switch (have->kind) {
  case SOUPC_CTY_LIST:
  case SOUPC_CTY_SET:
  case SOUPC_CTY_MAP:
    return soupc__cty_type_conforms(have->elem, want->elem);
  case SOUPC_CTY_TUPLE:
  case SOUPC_CTY_OBJECT:
    for (i = 0; i < have->n; i++) {
      if (have->kind == SOUPC_CTY_OBJECT &&
          name_cmp(have->names[i], have->name_lens[i], want->names[i],
                   want->name_lens[i]) != 0) {
        return false;
      }
      if (!soupc__cty_type_conforms(have->elems[i], want->elems[i])) {
        return false;
      }
    }
    return true;
  default:
    return true;
  }
}

long soupc__cty_type_attr(const struct soupc_cty_type *t, const char *name,
                          size_t len) {
  size_t lo = 0, hi = t->n;

  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = name_cmp(t->names[mid], t->name_lens[mid], name, len);
    if (c == 0) {
      return (long)mid;
    }
    if (c < 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return -1;
}

/* ---- constructors and accessors (public) ---- */

const soupc_cty_type *soupc_cty_type_primitive(soupc_cty_kind k) {
  return (unsigned)k <= SOUPC_CTY_DYNAMIC ? &prims[k] : NULL;
}

static int coll_type(soupc_cty_type **out, soupc_cty_kind kind,
                     const soupc_cty_type *elem) {
  return soupc__cty_type_new_coll(out, kind, soupc__cty_type_ref(elem));
}

int soupc_cty_type_list(soupc_cty_type **out, const soupc_cty_type *elem) {
  return coll_type(out, SOUPC_CTY_LIST, elem);
}

int soupc_cty_type_set(soupc_cty_type **out, const soupc_cty_type *elem) {
  return coll_type(out, SOUPC_CTY_SET, elem);
}

int soupc_cty_type_map(soupc_cty_type **out, const soupc_cty_type *elem) {
  return coll_type(out, SOUPC_CTY_MAP, elem);
}

int soupc_cty_type_tuple(soupc_cty_type **out,
                         const soupc_cty_type *const *elems, size_t n) {
  struct soupc_cty_type **ts = soupc__calloc(n + 1, sizeof(*ts));
  size_t i;
  int rv;

  if (ts == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  for (i = 0; i < n; i++) {
    ts[i] = soupc__cty_type_ref(elems[i]);
  }
  rv = soupc__cty_type_new_tuple(out, ts, n);
  soupc__free(ts);
  return rv;
}

int soupc_cty_type_object(soupc_cty_type **out, const char *const *names,
                          const soupc_cty_type *const *attrs, size_t n,
                          const char *const *optional, size_t n_opt,
                          soupc_status *st) {
  struct soupc_cty_type **ts = soupc__calloc(n + 1, sizeof(*ts));
  char **nn = soupc__calloc(n + 1, sizeof(*nn));
  size_t *nl = soupc__calloc(n + 1, sizeof(*nl));
  bool *opt = soupc__calloc(n + 1, sizeof(*opt));
  size_t i, j;
  int rv = SOUPC_ERR_NOMEM;

  if (ts == NULL || nn == NULL || nl == NULL || opt == NULL) {
    goto fail;
  }
  for (i = 0; i < n; i++) {
    nn[i] = soupc__cty_nfc(names[i], strlen(names[i]), &nl[i]);
    if (nn[i] == NULL) {
      goto fail;
    }
    ts[i] = soupc__cty_type_ref(attrs[i]);
  }
  for (j = 0; j < n_opt; j++) {
    size_t ol = 0;
    bool found = false;
    char *on = soupc__cty_nfc(optional[j], strlen(optional[j]), &ol);
    if (on == NULL) {
      goto fail;
    }
    for (i = 0; i < n; i++) {
      if (name_cmp(nn[i], nl[i], on, ol) == 0) {
        opt[i] = true;
        found = true;
      }
    }
    if (!found) {
      rv = soupc__cty_panic(st, "optional contains undeclared attribute \"%s\"",
                            on);
      soupc__free(on);
      goto fail;
    }
    soupc__free(on);
  }
  rv = soupc__cty_type_new_object(out, nn, nl, ts, opt, n);
  soupc__free(ts);
  soupc__free(nn);
  soupc__free(nl);
  soupc__free(opt);
  return rv;
fail:
  for (i = 0; i < n; i++) {
    if (ts != NULL) {
      soupc_cty_type_free(ts[i]);
    }
    if (nn != NULL) {
      soupc__free(nn[i]);
    }
  }
  soupc__free(ts);
  soupc__free(nn);
  soupc__free(nl);
  soupc__free(opt);
  return rv;
}

const soupc_cty_type *soupc_cty_type_element(const soupc_cty_type *ty) {
  return cty_kind_is_coll(ty->kind) ? ty->elem : NULL;
}

size_t soupc_cty_type_length(const soupc_cty_type *ty) {
  return ty->kind == SOUPC_CTY_TUPLE || ty->kind == SOUPC_CTY_OBJECT ? ty->n
                                                                     : 0;
}

const soupc_cty_type *soupc_cty_type_member(const soupc_cty_type *ty,
                                            size_t i) {
  if ((ty->kind != SOUPC_CTY_TUPLE && ty->kind != SOUPC_CTY_OBJECT) ||
      i >= ty->n) {
    return NULL;
  }
  return ty->elems[i];
}

const char *soupc_cty_type_attribute_name(const soupc_cty_type *ty, size_t i,
                                          size_t *len_out) {
  if (ty->kind != SOUPC_CTY_OBJECT || i >= ty->n) {
    return NULL;
  }
  if (len_out != NULL) {
    *len_out = ty->name_lens[i];
  }
  return ty->names[i];
}

int soupc_cty_type_attribute_optional(const soupc_cty_type *ty, size_t i) {
  return ty->kind == SOUPC_CTY_OBJECT && i < ty->n && ty->optional != NULL &&
         ty->optional[i];
}

long soupc_cty_type_attribute_index(const soupc_cty_type *ty, const char *name,
                                    size_t len) {
  long idx;
  size_t nl = 0;
  char *nn;

  if (ty->kind != SOUPC_CTY_OBJECT) {
    return -1;
  }
  if (soupc__cty_nfc_trivial(name, len)) {
    return soupc__cty_type_attr(ty, name, len);
  }
  nn = soupc__cty_nfc(name, len, &nl);
  if (nn == NULL) {
    return -1;
  }
  idx = soupc__cty_type_attr(ty, nn, nl);
  soupc__free(nn);
  return idx;
}

int soupc_cty_type_equals(const soupc_cty_type *a, const soupc_cty_type *b) {
  return soupc__cty_type_equal(a, b);
}

int soupc_cty_type_has_dynamic(const soupc_cty_type *ty) {
  return ty->has_dyn;
}

struct soupc_cty_type *
soupc__cty_type_no_optional(const struct soupc_cty_type *t) {
  struct soupc_cty_type *r = NULL;
  struct soupc_cty_type **ts;
  char **nn;
  size_t *nl;
  size_t i;
  int rv;

  if (t->plain || t->kind <= SOUPC_CTY_DYNAMIC ||
      t->kind == SOUPC_CTY_CAPSULE) {
    return soupc__cty_type_ref(t);
  }
  if (!t->has_dyn && t->concrete != NULL) {
    return soupc__cty_type_ref(t->concrete);
  }
  if (cty_kind_is_coll(t->kind)) {
    struct soupc_cty_type *e = soupc__cty_type_no_optional(t->elem);
    if (e == NULL) {
      return NULL;
    }
    rv = soupc__cty_type_new_coll(&r, t->kind, e);
    return rv == 0 ? r : NULL;
  }
  ts = soupc__calloc(t->n + 1, sizeof(*ts));
  nn = soupc__calloc(t->n + 1, sizeof(*nn));
  nl = soupc__calloc(t->n + 1, sizeof(*nl));
  if (ts != NULL && nn != NULL && nl != NULL) {
    for (i = 0; i < t->n; i++) {
      ts[i] = soupc__cty_type_no_optional(t->elems[i]);
      if (ts[i] == NULL) {
        break;
      }
      if (t->kind == SOUPC_CTY_OBJECT) {
        nn[i] = soupc__strndup(t->names[i], t->name_lens[i]);
        nl[i] = t->name_lens[i];
        if (nn[i] == NULL) {
          soupc_cty_type_free(ts[i]);
          break;
        }
      }
    }
    if (i == t->n) {
      rv = t->kind == SOUPC_CTY_OBJECT
               ? soupc__cty_type_new_object(&r, nn, nl, ts, NULL, t->n)
               : soupc__cty_type_new_tuple(&r, ts, t->n);
      soupc__free(ts);
      soupc__free(nn);
      soupc__free(nl);
      return rv == 0 ? r : NULL;
    }
    while (i > 0) {
      i--;
      soupc_cty_type_free(ts[i]);
      soupc__free(nn[i]);
    }
  }
  soupc__free(ts);
  soupc__free(nn);
  soupc__free(nl);
  return NULL;
}

int soupc_cty_type_without_optional_attributes(soupc_cty_type **out,
                                               const soupc_cty_type *ty) {
  struct soupc_cty_type *r = soupc__cty_type_no_optional(ty);

  if (r == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  *out = r;
  return 0;
}

/* ---- capsule types ---- */

static void bytes_free(void *payload, void *type_data) {
  (void)type_data;
  soupc__free(payload);
}

/* stdlib.Bytes has no ops: go-cty's default GoString, which %#v-prints the
 * *[]byte payload. */
static char *bytes_gostring(const void *payload, void *type_data) {
  const size_t *len = payload;
  const uint8_t *p = (const uint8_t *)(len + 1);
  struct cty_buf b;
  size_t i;
  char *s;

  (void)type_data;
  soupc__cty_buf_init(&b);
  soupc__cty_buf_puts(&b, "cty.CapsuleVal(cty.Capsule(\"bytes\", "
                          "reflect.TypeOf([]byte(nil))), &[]uint8{");
  for (i = 0; i < *len; i++) {
    soupc__cty_buf_printf(&b, i == 0 ? "0x%x" : ", 0x%x", p[i]);
  }
  soupc__cty_buf_puts(&b, "})");
  soupc__cty_buf_putc(&b, 0);
  if (b.oom) {
    soupc__cty_buf_dispose(&b);
    return NULL;
  }
  s = malloc(b.len);
  if (s != NULL) {
    memcpy(s, b.p, b.len);
  }
  soupc__cty_buf_dispose(&b);
  return s;
}

static char *bytes_type_gostring(void *type_data) {
  static const char s[] = "cty.Capsule(\"bytes\", reflect.TypeOf([]byte(nil)))";
  char *r = malloc(sizeof(s));

  (void)type_data;
  if (r != NULL) {
    memcpy(r, s, sizeof(s));
  }
  return r;
}

static struct cty_capsule bytes_cap = {
    (char *)"bytes",
    5,
    {sizeof(soupc_cty_capsule_ops), bytes_free, NULL, bytes_gostring,
     bytes_type_gostring, NULL, NULL, NULL, NULL, NULL},
    NULL};
static struct soupc_cty_type bytes_type = {
    -1,   SOUPC_CTY_CAPSULE, true, false, NULL, NULL, 0, NULL, NULL, NULL,
    NULL, &bytes_cap};

const soupc_cty_type *soupc_cty_type_bytes(void) {
  return &bytes_type;
}

int soupc_cty_type_capsule(soupc_cty_type **out, const char *name,
                           const soupc_cty_capsule_ops *ops, void *type_data) {
  struct soupc_cty_type *t;
  struct cty_capsule *c;
  soupc_cty_capsule_ops o;
  int rv;

  /* docs/api/abi.md: read the caller's table at its own size. */
  rv = soupc__options_copy(&o, sizeof(o), ops, "soupc_cty_capsule_ops", NULL);
  if (rv != 0) {
    return rv;
  }
  t = soupc__calloc(1, sizeof(*t));
  c = soupc__calloc(1, sizeof(*c));
  if (t == NULL || c == NULL) {
    goto nomem;
  }
  c->name_len = strlen(name);
  c->name = soupc__strndup(name, c->name_len);
  if (c->name == NULL) {
    goto nomem;
  }
  c->ops = o;
  c->type_data = type_data;
  t->refs = 1;
  t->kind = SOUPC_CTY_CAPSULE;
  t->plain = true;
  t->cap = c;
  *out = t;
  return 0;
nomem:
  soupc__free(t);
  soupc__free(c);
  return SOUPC_ERR_NOMEM;
}

const char *soupc_cty_type_capsule_name(const soupc_cty_type *ty) {
  return ty->kind == SOUPC_CTY_CAPSULE ? ty->cap->name : NULL;
}

int soupc_cty_value_capsule(soupc_cty_value **out, const soupc_cty_type *ty,
                            void *payload, soupc_status *st) {
  struct soupc_cty_value *v;

  if (ty->kind != SOUPC_CTY_CAPSULE) {
    return soupc__cty_panic(st, "not a capsule type");
  }
  v = soupc__cty_val_alloc(soupc__cty_type_ref(ty), 0);
  if (v == NULL) {
    if (ty->cap->ops.free_payload != NULL) {
      ty->cap->ops.free_payload(payload, ty->cap->type_data);
    }
    return SOUPC_ERR_NOMEM;
  }
  v->u.payload = payload;
  *out = v;
  return 0;
}

const void *soupc_cty_value_capsule_payload(const soupc_cty_value *v) {
  v = cty_unmarked(v);
  if (v->type->kind != SOUPC_CTY_CAPSULE ||
      (v->flags & (CTY_V_NULL | CTY_V_UNKNOWN)) != 0) {
    return NULL;
  }
  return v->u.payload;
}

/* The bytes payload: a size_t length followed by the bytes. */
int soupc_cty_value_bytes(soupc_cty_value **out, const void *data, size_t len) {
  size_t *p;

  if (len > SIZE_MAX - sizeof(size_t) - 1) {
    return SOUPC_ERR_NOMEM;
  }
  p = soupc__malloc(sizeof(size_t) + len + 1);
  if (p == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  *p = len;
  if (len > 0) {
    memcpy(p + 1, data, len);
  }
  return soupc_cty_value_capsule(out, &bytes_type, p, NULL);
}

int soupc_cty_value_bytes_get(const soupc_cty_value *v,
                              const uint8_t **data_out, size_t *len_out) {
  const size_t *p;

  if (cty_is_marked(v) || v->type != &bytes_type ||
      (v->flags & (CTY_V_NULL | CTY_V_UNKNOWN)) != 0) {
    return SOUPC_ERR_CTY_PANIC;
  }
  p = v->u.payload;
  *len_out = *p;
  *data_out = (const uint8_t *)(p + 1);
  return 0;
}

/* ---- names: JSON, friendly, GoString ---- */

static const char *const kind_names[] = {"string",  "number", "bool",
                                         "dynamic", "list",   "set",
                                         "map",     "tuple",  "object"};

/* go-cty Type.MarshalJSON. @p err gets go-cty's error for a capsule
 * (soupc__cty_type_json writes capsules as their name instead). */
static int type_json(struct cty_buf *b, const struct soupc_cty_type *t,
                     struct cty_buf *err) {
  size_t i;
  bool any = false;
  int rv;

  switch (t->kind) {
  case SOUPC_CTY_STRING:
  case SOUPC_CTY_NUMBER:
  case SOUPC_CTY_BOOL:
  case SOUPC_CTY_DYNAMIC:
    soupc__cty_buf_putc(b, '"');
    soupc__cty_buf_puts(b, kind_names[t->kind]);
    soupc__cty_buf_putc(b, '"');
    return 0;
  case SOUPC_CTY_CAPSULE:
    if (err != NULL) {
      soupc__cty_buf_printf(err, "type not allowed: %s", t->cap->name);
      return -1;
    }
    soupc__cty_json_quote(b, t->cap->name, t->cap->name_len);
    return 0;
  case SOUPC_CTY_LIST:
  case SOUPC_CTY_SET:
  case SOUPC_CTY_MAP:
    soupc__cty_buf_puts(b, "[\"");
    soupc__cty_buf_puts(b, kind_names[t->kind]);
    soupc__cty_buf_puts(b, "\",");
    if (type_json(b, t->elem, err) != 0) {
      return -1;
    }
    soupc__cty_buf_putc(b, ']');
    return 0;
  case SOUPC_CTY_TUPLE:
  case SOUPC_CTY_OBJECT:
    if (t->kind == SOUPC_CTY_TUPLE && t->elems == NULL) {
      soupc__cty_buf_puts(b, "[\"tuple\",null]"); /* Go's nil slice */
      return 0;
    }
    soupc__cty_buf_puts(b, t->kind == SOUPC_CTY_TUPLE ? "[\"tuple\",["
                                                      : "[\"object\",{");
    for (i = 0; i < t->n; i++) {
      if (i > 0) {
        soupc__cty_buf_putc(b, ',');
      }
      if (t->kind == SOUPC_CTY_OBJECT) {
        soupc__cty_json_quote(b, t->names[i], t->name_lens[i]);
        soupc__cty_buf_putc(b, ':');
      }
      /* Members go through json.Marshal, which wraps a MarshalJSON
       * error. */
      if (err != NULL) {
        struct cty_buf inner;
        soupc__cty_buf_init(&inner);
        rv = type_json(b, t->elems[i], &inner);
        if (rv != 0) {
          soupc__cty_buf_puts(err, "json: error calling MarshalJSON for type "
                                   "cty.Type: ");
          soupc__cty_buf_put(err, inner.p, inner.len);
          soupc__cty_buf_dispose(&inner);
          return -1;
        }
        soupc__cty_buf_dispose(&inner);
      } else {
        type_json(b, t->elems[i], NULL);
      }
    }
    soupc__cty_buf_putc(b, t->kind == SOUPC_CTY_TUPLE ? ']' : '}');
    /* go-cty appends the optional names only when there are some. */
    for (i = 0; t->optional != NULL && i < t->n; i++) {
      if (!t->optional[i]) {
        continue;
      }
      soupc__cty_buf_puts(b, any ? "," : ",[");
      soupc__cty_json_quote(b, t->names[i], t->name_lens[i]);
      any = true;
    }
    if (any) {
      soupc__cty_buf_putc(b, ']');
    }
    soupc__cty_buf_putc(b, ']');
    return 0;
  }
  return 0;
}

void soupc__cty_type_json(struct cty_buf *b, const struct soupc_cty_type *t) {
  type_json(b, t, NULL);
}

int soupc__cty_type_marshal(struct cty_buf *b, const struct soupc_cty_type *t,
                            soupc_status *st) {
  struct cty_buf err;
  int rv;

  soupc__cty_buf_init(&err);
  rv = type_json(b, t, &err);
  if (rv != 0) {
    soupc__cty_buf_putc(&err, 0);
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT, "%s",
                     err.oom ? "out of memory" : (char *)err.p);
    soupc__cty_buf_dispose(&err);
    return SOUPC_ERR_CTY_TYPE;
  }
  soupc__cty_buf_dispose(&err);
  return b->oom ? SOUPC_ERR_NOMEM : 0;
}

int soupc_cty_type_to_json(char **out, size_t *len_out,
                           const soupc_cty_type *ty) {
  struct cty_buf b;

  soupc__cty_buf_init(&b);
  soupc__cty_type_json(&b, ty);
  return soupc__cty_buf_take(&b, out, len_out);
}

int soupc_cty_type_marshal_json(char **out, size_t *len_out,
                                const soupc_cty_type *ty, soupc_status *st) {
  struct cty_buf b;
  int rv;

  soupc__cty_buf_init(&b);
  rv = soupc__cty_type_marshal(&b, ty, st);
  if (rv != 0) {
    soupc__cty_buf_dispose(&b);
    return rv;
  }
  return soupc__cty_buf_take(&b, out, len_out);
}

void soupc__cty_type_friendly(struct cty_buf *b, const struct soupc_cty_type *t,
                              bool constraint) {
  switch (t->kind) {
  case SOUPC_CTY_DYNAMIC:
    soupc__cty_buf_puts(b, constraint ? "any type" : "dynamic");
    return;
  case SOUPC_CTY_LIST:
  case SOUPC_CTY_SET:
  case SOUPC_CTY_MAP:
    soupc__cty_buf_puts(b, t->kind == SOUPC_CTY_LIST  ? "list of "
                           : t->kind == SOUPC_CTY_SET ? "set of "
                                                      : "map of ");
    if (constraint && t->elem->kind == SOUPC_CTY_DYNAMIC) {
      soupc__cty_buf_puts(b, "any single type");
    } else {
      soupc__cty_type_friendly(b, t->elem, constraint);
    }
    return;
  case SOUPC_CTY_CAPSULE:
    soupc__cty_buf_put(b, t->cap->name, t->cap->name_len);
    return;
  default:
    soupc__cty_buf_puts(b, kind_names[t->kind]);
    return;
  }
}

int soupc_cty_type_friendly_name(char **out, size_t *len_out,
                                 const soupc_cty_type *ty, int for_constraint) {
  struct cty_buf b;

  soupc__cty_buf_init(&b);
  soupc__cty_type_friendly(&b, ty, for_constraint != 0);
  return soupc__cty_buf_take(&b, out, len_out);
}

void soupc__cty_type_gostring(struct cty_buf *b,
                              const struct soupc_cty_type *t) {
  static const char *const prim[] = {"cty.String", "cty.Number", "cty.Bool",
                                     "cty.DynamicPseudoType"};
  size_t i;
  bool opt = false;

  switch (t->kind) {
  case SOUPC_CTY_STRING:
  case SOUPC_CTY_NUMBER:
  case SOUPC_CTY_BOOL:
  case SOUPC_CTY_DYNAMIC:
    soupc__cty_buf_puts(b, prim[t->kind]);
    return;
  case SOUPC_CTY_LIST:
  case SOUPC_CTY_SET:
  case SOUPC_CTY_MAP:
    soupc__cty_buf_puts(b, t->kind == SOUPC_CTY_LIST  ? "cty.List("
                           : t->kind == SOUPC_CTY_SET ? "cty.Set("
                                                      : "cty.Map(");
    soupc__cty_type_gostring(b, t->elem);
    soupc__cty_buf_putc(b, ')');
    return;
  case SOUPC_CTY_TUPLE:
    if (t->n == 0) {
      soupc__cty_buf_puts(b, "cty.EmptyTuple");
      return;
    }
    soupc__cty_buf_puts(b, "cty.Tuple([]cty.Type{");
    for (i = 0; i < t->n; i++) {
      if (i > 0) {
        soupc__cty_buf_puts(b, ", ");
      }
      soupc__cty_type_gostring(b, t->elems[i]);
    }
    soupc__cty_buf_puts(b, "})");
    return;
  case SOUPC_CTY_OBJECT:
    if (t->n == 0) {
      soupc__cty_buf_puts(b, "cty.EmptyObject");
      return;
    }
    for (i = 0; t->optional != NULL && i < t->n; i++) {
      opt = opt || t->optional[i];
    }
    soupc__cty_buf_puts(b,
                        opt ? "cty.ObjectWithOptionalAttrs(" : "cty.Object(");
    soupc__cty_buf_puts(b, "map[string]cty.Type{");
    for (i = 0; i < t->n; i++) {
      if (i > 0) {
        soupc__cty_buf_puts(b, ", ");
      }
      soupc__cty_go_quote(b, t->names[i], t->name_lens[i]);
      soupc__cty_buf_putc(b, ':');
      soupc__cty_type_gostring(b, t->elems[i]);
    }
    soupc__cty_buf_putc(b, '}');
    if (opt) {
      bool first = true;
      soupc__cty_buf_puts(b, ", []string{");
      for (i = 0; i < t->n; i++) {
        if (!t->optional[i]) {
          continue;
        }
        if (!first) {
          soupc__cty_buf_puts(b, ", ");
        }
        first = false;
        soupc__cty_go_quote(b, t->names[i], t->name_lens[i]);
      }
      soupc__cty_buf_putc(b, '}');
    }
    soupc__cty_buf_putc(b, ')');
    return;
  case SOUPC_CTY_CAPSULE:
    if (t->cap->ops.type_gostring != NULL) {
      char *s = t->cap->ops.type_gostring(t->cap->type_data);
      if (s != NULL) {
        soupc__cty_buf_puts(b, s);
        free(s);
        return;
      }
    }
    soupc__cty_buf_puts(b, "cty.Capsule(");
    soupc__cty_go_quote(b, t->cap->name, t->cap->name_len);
    soupc__cty_buf_puts(b, ", reflect.TypeOf(nil))");
    return;
  }
}

int soupc_cty_type_gostring(char **out, size_t *len_out,
                            const soupc_cty_type *ty) {
  struct cty_buf b;

  soupc__cty_buf_init(&b);
  soupc__cty_type_gostring(&b, ty);
  return soupc__cty_buf_take(&b, out, len_out);
}

/* ---- soup-go's parseCtyType (wire-cty-spec.md §1.2) ---- */

static int type_err(soupc_status *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int type_err(soupc_status *st, const char *fmt, ...) {
  char msg[512];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT, "%s", msg);
  return SOUPC_ERR_CTY_TYPE;
}

static const char *jn_kind(const struct json_node *n) {
  static const char *const names[] = {"null",   "bool",  "number",
                                      "string", "array", "object"};
  return names[n->kind];
}

/* json.Unmarshal(raw, &s) into a Go string: a string, or null (""), or
 * Go's UnmarshalTypeError. */
static int go_string(const char **out, const struct json_node *n,
                     soupc_status *st) {
  if (n->kind == JN_NULL) {
    *out = "";
    return 0;
  }
  if (n->kind != JN_STRING) {
    return type_err(st,
                    "json: cannot unmarshal %s into Go value of type string",
                    jn_kind(n));
  }
  *out = n->s != NULL ? n->s : "";
  return 0;
}

/* Sorted, de-duplicated (last wins) member order of an object node: Go
 * decodes into a map, so later duplicates replace earlier ones. */
static size_t *member_order(const struct json_node *n, size_t *count) {
  size_t *idx = soupc__calloc(n->n + 1, sizeof(*idx));
  size_t i, j, m = 0;

  if (idx == NULL) {
    return NULL;
  }
  for (i = 0; i < n->n; i++) {
    for (j = 0; j < m; j++) {
      if (name_cmp(n->keys[idx[j]], n->key_lens[idx[j]], n->keys[i],
                   n->key_lens[i]) == 0) {
        idx[j] = i;
        break;
      }
    }
    if (j == m) {
      idx[m++] = i;
    }
  }
  /* insertion sort by key */
  for (i = 1; i < m; i++) {
    size_t x = idx[i];
    for (j = i; j > 0 && name_cmp(n->keys[idx[j - 1]], n->key_lens[idx[j - 1]],
                                  n->keys[x], n->key_lens[x]) > 0;
         j--) {
      idx[j] = idx[j - 1];
    }
    idx[j] = x;
  }
  *count = m;
  return idx;
}

static int from_node(struct soupc_cty_type **out, const struct json_node *n,
                     int depth, soupc_status *st);

static int object_from_node(struct soupc_cty_type **out,
                            const struct json_node *attrs,
                            const struct json_node *opts, int depth,
                            soupc_status *st) {
  struct soupc_cty_type **ts = NULL;
  const char **names = NULL;
  const char **onames = NULL;
  size_t *order = NULL;
  size_t i, m = 0, no = 0;
  int rv = SOUPC_ERR_NOMEM;

  if (attrs->kind != JN_NULL && attrs->kind != JN_OBJECT) {
    return type_err(st,
                    "json: cannot unmarshal %s into Go value of type "
                    "map[string]json.RawMessage",
                    jn_kind(attrs));
  }
  if (attrs->kind == JN_OBJECT) {
    order = member_order(attrs, &m);
    if (order == NULL) {
      return SOUPC_ERR_NOMEM;
    }
  }
  ts = soupc__calloc(m + 1, sizeof(*ts));
  names = soupc__calloc(m + 1, sizeof(*names));
  if (ts == NULL || names == NULL) {
    goto out;
  }
  for (i = 0; i < m; i++) {
    names[i] = attrs->keys[order[i]];
    rv = from_node(&ts[i], attrs->items[order[i]], depth + 1, st);
    if (rv != 0) {
      goto out;
    }
  }
  if (opts != NULL && opts->kind != JN_NULL) {
    if (opts->kind != JN_ARRAY) {
      rv = type_err(st,
                    "json: cannot unmarshal %s into Go value of type []string",
                    jn_kind(opts));
      goto out;
    }
    onames = soupc__calloc(opts->n + 1, sizeof(*onames));
    if (onames == NULL) {
      rv = SOUPC_ERR_NOMEM;
      goto out;
    }
    for (i = 0; i < opts->n; i++) {
      rv = go_string(&onames[no], opts->items[i], st);
      if (rv != 0) {
        goto out;
      }
      no++;
    }
  }
  rv = soupc_cty_type_object(out, names, (const soupc_cty_type *const *)ts, m,
                             onames, no, st);
  if (rv == SOUPC_ERR_CTY_PANIC) {
    rv = SOUPC_ERR_CTY_TYPE;
  }
out:
  for (i = 0; ts != NULL && i < m; i++) {
    soupc_cty_type_free(ts[i]);
  }
  soupc__free(ts);
  soupc__free(names);
  soupc__free(onames);
  soupc__free(order);
  return rv;
}

static int from_node(struct soupc_cty_type **out, const struct json_node *n,
                     int depth, soupc_status *st) {
  const char *kind = "";
  size_t i;
  int rv;

  if (depth > CTY_MAX_DEPTH) {
    return type_err(st, "type description nests deeper than %d levels",
                    CTY_MAX_DEPTH);
  }
  /* json.Unmarshal into a string accepts a string and null. */
  if (n->kind == JN_STRING || n->kind == JN_NULL) {
    const char *s = n->kind == JN_STRING ? n->s : "";
    size_t len = n->kind == JN_STRING ? n->len : 0;
    for (i = 0; i < 4; i++) {
      if (strlen(kind_names[i]) == len && memcmp(s, kind_names[i], len) == 0) {
        *out = soupc__cty_type_prim((soupc_cty_kind)i);
        return 0;
      }
    }
    if (len == 5 && memcmp(s, "bytes", 5) == 0) {
      *out = &bytes_type;
      return 0;
    }
    return type_err(st, "unknown primitive type string: %s", s);
  }
  if (n->kind != JN_ARRAY) {
    return type_err(st, "invalid type specification format");
  }
  if (n->n < 2) {
    return type_err(st, "type array must have at least 2 elements");
  }
  rv = go_string(&kind, n->items[0], st);
  if (rv != 0) {
    return rv;
  }
  if (n->n > (strcmp(kind, "object") == 0 ? 3U : 2U)) {
    return type_err(st,
                    "unexpected extra data in %s type description: %zu "
                    "elements",
                    kind, n->n);
  }
  if (strcmp(kind, "list") == 0 || strcmp(kind, "set") == 0 ||
      strcmp(kind, "map") == 0) {
    struct soupc_cty_type *elem = NULL;
    soupc_cty_kind k = kind[0] == 'l'   ? SOUPC_CTY_LIST
                       : kind[0] == 's' ? SOUPC_CTY_SET
                                        : SOUPC_CTY_MAP;
    rv = from_node(&elem, n->items[1], depth + 1, st);
    if (rv != 0) {
      return rv;
    }
    return soupc__cty_type_new_coll(out, k, elem);
  }
  if (strcmp(kind, "object") == 0) {
    return object_from_node(out, n->items[1], n->n == 3 ? n->items[2] : NULL,
                            depth, st);
  }
  if (strcmp(kind, "tuple") == 0) {
    const struct json_node *a = n->items[1];
    struct soupc_cty_type **elems;
    size_t na = a->kind == JN_ARRAY ? a->n : 0;
    if (a->kind != JN_ARRAY && a->kind != JN_NULL) {
      return type_err(st,
                      "json: cannot unmarshal %s into Go value of type "
                      "[]json.RawMessage",
                      jn_kind(a));
    }
    elems = soupc__calloc(na + 1, sizeof(*elems));
    if (elems == NULL) {
      return SOUPC_ERR_NOMEM;
    }
    for (i = 0; i < na; i++) {
      rv = from_node(&elems[i], a->items[i], depth + 1, st);
      if (rv != 0) {
        while (i > 0) {
          soupc_cty_type_free(elems[--i]);
        }
        soupc__free(elems);
        return rv;
      }
    }
    rv = soupc__cty_type_new_tuple(out, elems, na);
    soupc__free(elems);
    return rv;
  }
  return type_err(st, "unknown complex type kind: %s", kind);
}

int soupc__cty_type_from_node(struct soupc_cty_type **out,
                              const struct json_node *n, soupc_status *st) {
  return from_node(out, n, 0, st);
}

int soupc_cty_type_parse(soupc_cty_type **out, const char *json, size_t len,
                         soupc_status *st) {
  struct json_node *n = NULL;
  int rv;

  /* json.Unmarshal: the whole text must be one JSON value; anything else
   * fails both of soup-go's attempts and is "invalid type specification
   * format". */
  rv = soupc__json_parse_go(&n, json, len, JSON_UNMARSHAL, NULL, NULL);
  if (rv != 0) {
    return rv == SOUPC_ERR_NOMEM
               ? rv
               : type_err(st, "invalid type specification format");
  }
  rv = from_node(out, n, 0, st);
  soupc__json_free(n);
  return rv;
}

/* ---- go-cty's Type.UnmarshalJSON ---- */

static int unmarshal_node(struct soupc_cty_type **out,
                          const struct json_node *n, int depth,
                          soupc_status *st) {
  const struct json_node *k;
  size_t i;
  int rv;

  if (depth > CTY_MAX_DEPTH) {
    return type_err(st, "type description nests deeper than %d levels",
                    CTY_MAX_DEPTH);
  }
  if (n->kind == JN_STRING) {
    for (i = 0; i < 4; i++) {
      if (strlen(kind_names[i]) == n->len &&
          memcmp(n->s, kind_names[i], n->len) == 0) {
        *out = soupc__cty_type_prim((soupc_cty_kind)i);
        return 0;
      }
    }
    {
      struct cty_buf q;
      soupc__cty_buf_init(&q);
      soupc__cty_go_quote(&q, n->s, n->len);
      soupc__cty_buf_putc(&q, 0);
      rv = q.oom ? SOUPC_ERR_NOMEM
                 : type_err(st, "invalid primitive type name %s", (char *)q.p);
      soupc__cty_buf_dispose(&q);
      return rv;
    }
  }
  if (n->kind == JN_OBJECT) {
    return type_err(st, "invalid complex type description");
  }
  if (n->kind != JN_ARRAY) {
    return type_err(st, "invalid type description");
  }
  if (n->n == 0) {
    return type_err(st, "invalid character ']' looking for beginning of "
                        "value");
  }
  k = n->items[0];
  if (k->kind != JN_STRING) {
    return type_err(st, "invalid complex type kind name");
  }
  if (n->n == 1) {
    return type_err(st, "expected comma after array element");
  }
  if (strcmp(k->s, "list") == 0 || strcmp(k->s, "set") == 0 ||
      strcmp(k->s, "map") == 0) {
    struct soupc_cty_type *elem = NULL;
    if (n->n > 2) {
      return type_err(st, "unexpected extra data in type description");
    }
    rv = unmarshal_node(&elem, n->items[1], depth + 1, st);
    if (rv != 0) {
      return rv;
    }
    return soupc__cty_type_new_coll(out,
                                    k->s[0] == 'l'   ? SOUPC_CTY_LIST
                                    : k->s[0] == 's' ? SOUPC_CTY_SET
                                                     : SOUPC_CTY_MAP,
                                    elem);
  }
  if (strcmp(k->s, "tuple") == 0) {
    const struct json_node *a = n->items[1];
    struct soupc_cty_type **elems;
    size_t na = a->kind == JN_ARRAY ? a->n : 0;
    if (n->n > 2) {
      return type_err(st, "unexpected extra data in type description");
    }
    if (a->kind != JN_ARRAY && a->kind != JN_NULL) {
      return type_err(st,
                      "json: cannot unmarshal %s into Go value of type "
                      "[]cty.Type",
                      jn_kind(a));
    }
    if (a->kind == JN_NULL) {
      return soupc__cty_type_new_tuple_nil(out); /* var etys []Type */
    }
    elems = soupc__calloc(na + 1, sizeof(*elems));
    if (elems == NULL) {
      return SOUPC_ERR_NOMEM;
    }
    for (i = 0; i < na; i++) {
      rv = unmarshal_node(&elems[i], a->items[i], depth + 1, st);
      if (rv != 0) {
        while (i > 0) {
          soupc_cty_type_free(elems[--i]);
        }
        soupc__free(elems);
        return rv;
      }
    }
    rv = soupc__cty_type_new_tuple(out, elems, na);
    soupc__free(elems);
    return rv;
  }
  if (strcmp(k->s, "object") == 0) {
    const struct json_node *a = n->items[1], *o = n->n > 2 ? n->items[2] : NULL;
    struct soupc_cty_type **ts = NULL;
    const char **names = NULL, **onames = NULL;
    size_t *order = NULL, m = 0, no = 0;
    if (n->n > 3) {
      return type_err(st, "unexpected extra data in type description");
    }
    if (a->kind != JN_OBJECT && a->kind != JN_NULL) {
      return type_err(st,
                      "json: cannot unmarshal %s into Go value of type "
                      "map[string]cty.Type",
                      jn_kind(a));
    }
    if (a->kind == JN_OBJECT) {
      order = member_order(a, &m);
      if (order == NULL) {
        return SOUPC_ERR_NOMEM;
      }
    }
    ts = soupc__calloc(m + 1, sizeof(*ts));
    names = soupc__calloc(m + 1, sizeof(*names));
    rv = ts == NULL || names == NULL ? SOUPC_ERR_NOMEM : 0;
    for (i = 0; rv == 0 && i < m; i++) {
      names[i] = a->keys[order[i]];
      rv = unmarshal_node(&ts[i], a->items[order[i]], depth + 1, st);
    }
    if (rv == 0 && o != NULL && o->kind != JN_NULL) {
      if (o->kind != JN_ARRAY) {
        rv = type_err(st,
                      "json: cannot unmarshal %s into Go value of type "
                      "[]string",
                      jn_kind(o));
      } else {
        onames = soupc__calloc(o->n + 1, sizeof(*onames));
        rv = onames == NULL ? SOUPC_ERR_NOMEM : 0;
        for (i = 0; rv == 0 && i < o->n; i++) {
          rv = go_string(&onames[no], o->items[i], st);
          no += rv == 0;
        }
      }
    }
    if (rv == 0) {
      rv = soupc_cty_type_object(out, names, (const soupc_cty_type *const *)ts,
                                 m, onames, no, st);
    }
    for (i = 0; ts != NULL && i < m; i++) {
      soupc_cty_type_free(ts[i]);
    }
    soupc__free(ts);
    soupc__free(names);
    soupc__free(onames);
    soupc__free(order);
    return rv;
  }
  return type_err(st, "invalid complex type kind name");
}

int soupc__cty_type_unmarshal_json(struct soupc_cty_type **out,
                                   const char *json, size_t len,
                                   soupc_status *st) {
  struct json_node *n = NULL;
  bool trailing = false;
  int rv;

  rv = soupc__json_parse_go(&n, json, len, JSON_DECODER, &trailing, st);
  if (rv != 0) {
    return rv == SOUPC_ERR_NOMEM ? rv : SOUPC_ERR_CTY_TYPE;
  }
  if (trailing) {
    bool is_str = n->kind == JN_STRING;
    soupc__json_free(n);
    return type_err(st, is_str ? "extraneous data after type description"
                               : "unexpected extra data in type description");
  }
  rv = unmarshal_node(out, n, 0, st);
  soupc__json_free(n);
  return rv;
}
