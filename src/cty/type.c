/* cty types: construction, go-cty's JSON type descriptions (spec §1.2),
 * equality and conformance. */
#include "cty/cty_int.h"

#include "base/alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Primitive types are immortal singletons (refs < 0). */
static struct soupc_cty_type prims[4] = {
    {-1, SOUPC_CTY_STRING, true, false, NULL, NULL, 0, NULL, NULL, NULL, NULL},
    {-1, SOUPC_CTY_NUMBER, true, false, NULL, NULL, 0, NULL, NULL, NULL, NULL},
    {-1, SOUPC_CTY_BOOL, true, false, NULL, NULL, 0, NULL, NULL, NULL, NULL},
    {-1, SOUPC_CTY_DYNAMIC, false, true, NULL, NULL, 0, NULL, NULL, NULL, NULL},
};

static struct soupc_cty_type *conc(struct soupc_cty_type *t) {
  return t->concrete != NULL ? t->concrete : t;
}

struct soupc_cty_type *soupc__cty_type_prim(soupc_cty_kind kind) {
  return &prims[kind];
}

struct soupc_cty_type *soupc__cty_type_ref(const struct soupc_cty_type *t) {
  struct soupc_cty_type *m = (struct soupc_cty_type *)t;

  if (m->refs > 0) {
    m->refs++;
  }
  return m;
}

void soupc_cty_type_free(soupc_cty_type *t) {
  size_t i;

  if (t == NULL || t->refs < 0 || --t->refs > 0) {
    return;
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
  struct soupc_cty_type *t = soupc__calloc(1, sizeof(*t));

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

  if (t == NULL ||
      (n > 0 && (t->elems = soupc__calloc(n, sizeof(*t->elems))) == NULL)) {
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
  if (a->kind != b->kind || a->n != b->n) {
    return false;
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
  if (have->kind != want->kind || have->n != want->n) {
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

static const char *const kind_names[] = {"string",  "number", "bool",
                                         "dynamic", "list",   "set",
                                         "map",     "tuple",  "object"};

void soupc__cty_type_json(struct cty_buf *b, const struct soupc_cty_type *t) {
  size_t i;
  bool any = false;

  switch (t->kind) {
  case SOUPC_CTY_STRING:
  case SOUPC_CTY_NUMBER:
  case SOUPC_CTY_BOOL:
  case SOUPC_CTY_DYNAMIC:
    soupc__cty_buf_putc(b, '"');
    soupc__cty_buf_puts(b, kind_names[t->kind]);
    soupc__cty_buf_putc(b, '"');
    return;
  case SOUPC_CTY_LIST:
  case SOUPC_CTY_SET:
  case SOUPC_CTY_MAP:
    soupc__cty_buf_puts(b, "[\"");
    soupc__cty_buf_puts(b, kind_names[t->kind]);
    soupc__cty_buf_puts(b, "\",");
    soupc__cty_type_json(b, t->elem);
    soupc__cty_buf_putc(b, ']');
    return;
  case SOUPC_CTY_TUPLE:
    soupc__cty_buf_puts(b, "[\"tuple\",[");
    for (i = 0; i < t->n; i++) {
      if (i > 0) {
        soupc__cty_buf_putc(b, ',');
      }
      soupc__cty_type_json(b, t->elems[i]);
    }
    soupc__cty_buf_puts(b, "]]");
    return;
  case SOUPC_CTY_OBJECT:
    soupc__cty_buf_puts(b, "[\"object\",{");
    for (i = 0; i < t->n; i++) {
      if (i > 0) {
        soupc__cty_buf_putc(b, ',');
      }
      soupc__cty_json_quote(b, t->names[i], t->name_lens[i]);
      soupc__cty_buf_putc(b, ':');
      soupc__cty_type_json(b, t->elems[i]);
    }
    soupc__cty_buf_putc(b, '}');
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
    return;
  }
}

static int type_err(soupc_status *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int type_err(soupc_status *st, const char *fmt, ...) {
  char msg[300];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT, "%s", msg);
  return SOUPC_ERR_CTY_TYPE;
}

static int from_node(struct soupc_cty_type **out, const struct json_node *n,
                     int depth, soupc_status *st) {
  const char *kind;
  size_t i;
  int rv;

  if (depth > CTY_MAX_DEPTH) {
    return type_err(st, "type description nests deeper than %s levels", "256");
  }
  if (n->kind == JN_STRING) {
    for (i = 0; i < 4; i++) {
      if (strcmp(n->s, kind_names[i]) == 0 && strlen(n->s) == n->len) {
        *out = soupc__cty_type_prim((soupc_cty_kind)i);
        return 0;
      }
    }
    if (strcmp(n->s, "bytes") == 0) {
      return type_err(st, "type %s (a soup-go capsule) is not supported",
                      "\"bytes\"");
    }
    return type_err(st, "unknown primitive type string: %s", n->s);
  }
  if (n->kind != JN_ARRAY) {
    return type_err(st, "invalid type specification format%s", "");
  }
  if (n->n < 2) {
    return type_err(st, "type array must have at least 2 elements%s", "");
  }
  if (n->items[0]->kind != JN_STRING) {
    return type_err(st, "invalid type specification format%s", "");
  }
  kind = n->items[0]->s;
  if (strcmp(kind, "list") == 0 || strcmp(kind, "set") == 0 ||
      strcmp(kind, "map") == 0) {
    struct soupc_cty_type *elem;
    soupc_cty_kind k = kind[0] == 'l'   ? SOUPC_CTY_LIST
                       : kind[0] == 's' ? SOUPC_CTY_SET
                                        : SOUPC_CTY_MAP;
    if (n->n != 2) {
      soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                       "unexpected extra data in %s type description: %zu "
                       "elements",
                       kind, n->n);
      return SOUPC_ERR_CTY_TYPE;
    }
    rv = from_node(&elem, n->items[1], depth + 1, st);
    if (rv != 0) {
      return rv;
    }
    return soupc__cty_type_new_coll(out, k, elem);
  }
  if (strcmp(kind, "tuple") == 0) {
    const struct json_node *a = n->items[1];
    struct soupc_cty_type **elems;
    if (n->n != 2) {
      soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                       "unexpected extra data in tuple type description: "
                       "%zu elements",
                       n->n);
      return SOUPC_ERR_CTY_TYPE;
    }
    if (a->kind != JN_ARRAY) {
      return type_err(st, "tuple element types must be an array%s", "");
    }
    elems = soupc__calloc(a->n + 1, sizeof(*elems));
    if (elems == NULL) {
      return SOUPC_ERR_NOMEM;
    }
    for (i = 0; i < a->n; i++) {
      rv = from_node(&elems[i], a->items[i], depth + 1, st);
      if (rv != 0) {
        while (i > 0) {
          soupc_cty_type_free(elems[--i]);
        }
        soupc__free(elems);
        return rv;
      }
    }
    rv = soupc__cty_type_new_tuple(out, elems, a->n);
    soupc__free(elems);
    return rv;
  }
  if (strcmp(kind, "object") == 0) {
    const struct json_node *a = n->items[1];
    const struct json_node *o = n->n == 3 ? n->items[2] : NULL;
    struct soupc_cty_type **attrs = NULL;
    char **names = NULL;
    size_t *lens = NULL;
    bool *opt = NULL;
    size_t j;
    if (n->n > 3) {
      soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                       "unexpected extra data in object type description: "
                       "%zu elements",
                       n->n);
      return SOUPC_ERR_CTY_TYPE;
    }
    if (a->kind != JN_OBJECT) {
      return type_err(st, "object attribute types must be a JSON object%s", "");
    }
    if (o != NULL && o->kind != JN_ARRAY) {
      return type_err(st, "optional attribute names must be an array%s", "");
    }
    attrs = soupc__calloc(a->n + 1, sizeof(*attrs));
    names = soupc__calloc(a->n + 1, sizeof(*names));
    lens = soupc__calloc(a->n + 1, sizeof(*lens));
    opt = soupc__calloc(a->n + 1, sizeof(*opt));
    rv = SOUPC_ERR_NOMEM;
    if (attrs == NULL || names == NULL || lens == NULL || opt == NULL) {
      goto obj_fail;
    }
    for (i = 0; i < a->n; i++) {
      names[i] = soupc__cty_nfc(a->keys[i], a->key_lens[i], &lens[i]);
      if (names[i] == NULL) {
        rv = SOUPC_ERR_NOMEM;
        goto obj_fail;
      }
      rv = from_node(&attrs[i], a->items[i], depth + 1, st);
      if (rv != 0) {
        goto obj_fail;
      }
    }
    for (j = 0; o != NULL && j < o->n; j++) {
      bool found = false;
      if (o->items[j]->kind != JN_STRING) {
        rv = type_err(st, "optional attribute names must be strings%s", "");
        goto obj_fail;
      }
      {
        size_t ol = 0;
        char *on = soupc__cty_nfc(o->items[j]->s, o->items[j]->len, &ol);
        if (on == NULL) {
          rv = SOUPC_ERR_NOMEM;
          goto obj_fail;
        }
        for (i = 0; i < a->n; i++) {
          if (name_cmp(names[i], lens[i], on, ol) == 0) {
            opt[i] = true;
            found = true;
          }
        }
        soupc__free(on);
      }
      if (!found) {
        rv = type_err(st, "optional attribute %s is not an attribute",
                      o->items[j]->s);
        goto obj_fail;
      }
    }
    rv = soupc__cty_type_new_object(out, names, lens, attrs, opt, a->n);
    soupc__free(attrs);
    soupc__free(names);
    soupc__free(lens);
    soupc__free(opt);
    return rv;
  obj_fail:
    for (i = 0; attrs != NULL && names != NULL && i < a->n; i++) {
      soupc_cty_type_free(attrs[i]);
      soupc__free(names[i]);
    }
    soupc__free(attrs);
    soupc__free(names);
    soupc__free(lens);
    soupc__free(opt);
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
  bool trailing = false;
  int rv;

  rv = soupc__json_parse(&n, json, len, &trailing, st);
  if (rv != 0) {
    return rv == SOUPC_ERR_NOMEM ? rv : SOUPC_ERR_CTY_TYPE;
  }
  if (trailing) {
    soupc__json_free(n);
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "extraneous data after type description");
    return SOUPC_ERR_CTY_TYPE;
  }
  rv = from_node(out, n, 0, st);
  soupc__json_free(n);
  return rv;
}

int soupc_cty_type_to_json(char **out, size_t *len_out,
                           const soupc_cty_type *ty) {
  struct cty_buf b;

  soupc__cty_buf_init(&b);
  soupc__cty_type_json(&b, ty);
  soupc__cty_buf_putc(&b, 0);
  if (b.oom) {
    soupc__cty_buf_dispose(&b);
    return SOUPC_ERR_NOMEM;
  }
  *out = (char *)b.p;
  if (len_out != NULL) {
    *len_out = b.len - 1;
  }
  return 0;
}
