/* cty.Walk, cty.Transform / TransformWithTransformer and
 * cty.UnknownAsNull (go-cty walk.go, unknown_as_null.go). */
#include "cty/cty_int.h"

#include "base/alloc.h"

#include <string.h>

/* Pushes the path step go-cty's element iterator gives element @p i of
 * the unmarked container @p v: GetAttrStep for objects, IndexStep with a
 * number (lists, tuples), a string (maps) or the element (sets). */
static int push_step(struct soupc_cty_path *p, const struct soupc_cty_value *v,
                     size_t i) {
  struct soupc_cty_value *key = NULL;
  int rv;

  switch (v->type->kind) {
  case SOUPC_CTY_OBJECT:
    return soupc__cty_path_push_attr(p, v->type->names[i],
                                     v->type->name_lens[i]);
  case SOUPC_CTY_SET:
    return soupc__cty_path_push_index(p, v->u.c.items[i]);
  case SOUPC_CTY_MAP:
    rv = soupc__cty_val_string(&key, v->u.c.keys[i], v->u.c.key_lens[i]);
    break;
  default:
    rv = soupc_cty_value_number_int(&key, (int64_t)i);
    break;
  }
  if (rv != 0) {
    return rv;
  }
  rv = soupc__cty_path_push_index(p, key);
  soupc_cty_value_free(key);
  return rv;
}

/* ---- Walk ---- */

struct walker {
  struct soupc_cty_path path;
  soupc_cty_walk_fn fn;
  void *user_data;
};

static int walk(struct walker *w, const struct soupc_cty_value *v, int depth) {
  const struct soupc_cty_value *raw = cty_unmarked(v);
  size_t i;
  int rv = w->fn(&w->path, v, w->user_data);

  if (rv <= 0) {
    return rv;
  }
  if ((raw->flags & (CTY_V_NULL | CTY_V_UNKNOWN)) != 0 ||
      !cty_kind_has_items(raw->type->kind)) {
    return 0;
  }
  if (depth > CTY_MAX_DEPTH) {
    return SOUPC_ERR_CTY_DECODE;
  }
  for (i = 0; i < raw->u.c.n; i++) {
    rv = push_step(&w->path, raw, i);
    if (rv != 0) {
      return rv;
    }
    rv = walk(w, raw->u.c.items[i], depth + 1);
    soupc__cty_path_pop(&w->path);
    if (rv != 0) {
      return rv;
    }
  }
  return 0;
}

int soupc_cty_walk(const soupc_cty_value *v, soupc_cty_walk_fn fn,
                   void *user_data) {
  struct walker w;
  int rv;

  memset(&w, 0, sizeof(w));
  w.fn = fn;
  w.user_data = user_data;
  rv = walk(&w, v, 0);
  soupc__cty_path_dispose(&w.path);
  return rv < 0 ? rv : 0;
}

/* ---- Transform ---- */

struct transformer {
  struct soupc_cty_path path;
  soupc_cty_transform_fn enter, exit;
  void *user_data;
  soupc_status *st;
};

/* Rebuilds container @p raw (unmarked, known, non-empty) from transformed
 * elements with go-cty's constructors, which derive the element type from
 * the new elements. Takes ownership of @p items. */
static int rebuild(struct soupc_cty_value **out,
                   const struct soupc_cty_value *raw,
                   struct soupc_cty_value **items, soupc_status *st) {
  size_t i, n = raw->u.c.n;
  char **keys;
  size_t *lens;

  switch (raw->type->kind) {
  case SOUPC_CTY_LIST:
  case SOUPC_CTY_SET:
    return soupc__cty_list_val(out, raw->type->kind, items, n, st);
  case SOUPC_CTY_TUPLE:
    return soupc__cty_tuple_val(out, items, n);
  default:
    break;
  }
  keys = soupc__calloc(n + 1, sizeof(*keys));
  lens = soupc__calloc(n + 1, sizeof(*lens));
  if (keys == NULL || lens == NULL) {
    goto nomem;
  }
  for (i = 0; i < n; i++) {
    const char *k = raw->type->kind == SOUPC_CTY_MAP ? raw->u.c.keys[i]
                                                     : raw->type->names[i];
    lens[i] = raw->type->kind == SOUPC_CTY_MAP ? raw->u.c.key_lens[i]
                                               : raw->type->name_lens[i];
    keys[i] = soupc__strndup(k, lens[i]);
    if (keys[i] == NULL) {
      while (i > 0) {
        soupc__free(keys[--i]);
      }
      goto nomem;
    }
  }
  if (raw->type->kind == SOUPC_CTY_MAP) {
    return soupc__cty_map_val(out, keys, lens, items, n, st);
  }
  return soupc__cty_object_val(out, keys, lens, items, n);
nomem:
  soupc__free(keys);
  soupc__free(lens);
  for (i = 0; i < n; i++) {
    soupc_cty_value_free(items[i]);
  }
  soupc__free(items);
  return SOUPC_ERR_NOMEM;
}

static int transform(struct soupc_cty_value **out, struct transformer *t,
                     const struct soupc_cty_value *v0, int depth) {
  struct soupc_cty_value *v = NULL, *nv = NULL, *res = NULL;
  const struct soupc_cty_value *raw;
  struct soupc_cty_value **items;
  size_t i;
  int rv;

  if (depth > CTY_MAX_DEPTH) {
    return SOUPC_ERR_CTY_DECODE;
  }
  if (t->enter != NULL) {
    rv = t->enter(&v, &t->path, v0, t->user_data);
    if (rv != 0) {
      return rv;
    }
  } else {
    v = soupc__cty_val_ref(v0);
  }
  raw = cty_unmarked(v);
  /* Empty containers (and EmptyObjectVal) are passed on as they are. */
  if ((raw->flags & (CTY_V_NULL | CTY_V_UNKNOWN)) != 0 ||
      !cty_kind_has_items(raw->type->kind) ||
      (raw->type->kind == SOUPC_CTY_OBJECT ? raw->type->n : raw->u.c.n) == 0) {
    nv = v;
    v = NULL;
  } else {
    items = soupc__calloc(raw->u.c.n + 1, sizeof(*items));
    if (items == NULL) {
      soupc_cty_value_free(v);
      return SOUPC_ERR_NOMEM;
    }
    for (i = 0; i < raw->u.c.n; i++) {
      rv = push_step(&t->path, raw, i);
      if (rv == 0) {
        rv = transform(&items[i], t, raw->u.c.items[i], depth + 1);
        soupc__cty_path_pop(&t->path);
      }
      if (rv != 0) {
        while (i > 0) {
          soupc_cty_value_free(items[--i]);
        }
        soupc__free(items);
        soupc_cty_value_free(v);
        return rv;
      }
    }
    rv = rebuild(&nv, raw, items, t->st);
    if (rv == 0 && cty_is_marked(v)) {
      rv = soupc__cty_with_marks(&nv, nv, v->u.mk.marks);
    }
    soupc_cty_value_free(v);
    if (rv != 0) {
      return rv;
    }
  }
  if (t->exit == NULL) {
    *out = nv;
    return 0;
  }
  rv = t->exit(&res, &t->path, nv, t->user_data);
  soupc_cty_value_free(nv);
  if (rv != 0) {
    return rv;
  }
  *out = res;
  return 0;
}

int soupc_cty_transform_with(soupc_cty_value **out, const soupc_cty_value *v,
                             soupc_cty_transform_fn enter,
                             soupc_cty_transform_fn exit, void *user_data,
                             soupc_status *st) {
  struct transformer t;
  int rv;

  memset(&t, 0, sizeof(t));
  t.enter = enter;
  t.exit = exit;
  t.user_data = user_data;
  t.st = st;
  rv = transform(out, &t, v, 0);
  soupc__cty_path_dispose(&t.path);
  return rv;
}

int soupc_cty_transform(soupc_cty_value **out, const soupc_cty_value *v,
                        soupc_cty_transform_fn fn, void *user_data,
                        soupc_status *st) {
  return soupc_cty_transform_with(out, v, NULL, fn, user_data, st);
}

/* ---- UnknownAsNull ---- */

static int unknown_as_null(struct soupc_cty_value **out,
                           const struct soupc_cty_value *v, soupc_status *st,
                           int depth) {
  const struct soupc_cty_value *raw = cty_unmarked(v);
  struct soupc_cty_value *nv = NULL, **items;
  size_t i;
  int rv;

  if (depth > CTY_MAX_DEPTH) {
    return SOUPC_ERR_CTY_DECODE;
  }
  /* go-cty's order: null as is, unknown to null, then leaves as is; the
   * unknown test must sit between the two identical branches. */
  // NOLINTNEXTLINE(bugprone-branch-clone)
  if (raw->flags & CTY_V_NULL) {
    nv = soupc__cty_val_ref(raw);
  } else if (raw->flags & CTY_V_UNKNOWN) {
    rv = soupc_cty_value_null(&nv, raw->type);
    if (rv != 0) {
      return rv;
    }
  } else if (!cty_kind_has_items(raw->type->kind) || raw->u.c.n == 0) {
    nv = soupc__cty_val_ref(raw);
  } else {
    items = soupc__calloc(raw->u.c.n + 1, sizeof(*items));
    if (items == NULL) {
      return SOUPC_ERR_NOMEM;
    }
    for (i = 0; i < raw->u.c.n; i++) {
      rv = unknown_as_null(&items[i], raw->u.c.items[i], st, depth + 1);
      if (rv != 0) {
        while (i > 0) {
          soupc_cty_value_free(items[--i]);
        }
        soupc__free(items);
        return rv;
      }
    }
    rv = rebuild(&nv, raw, items, st);
    if (rv != 0) {
      return rv;
    }
  }
  /* go-cty >= 1.16.4 keeps the marks of a marked value. */
  if (cty_is_marked(v)) {
    return soupc__cty_with_marks(out, nv, v->u.mk.marks);
  }
  *out = nv;
  return 0;
}

int soupc_cty_unknown_as_null(soupc_cty_value **out, const soupc_cty_value *v,
                              soupc_status *st) {
  return unknown_as_null(out, v, st, 0);
}
