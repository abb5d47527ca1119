/* convert.Unify / UnifyUnsafe (go-cty convert/unify.go, sort_types.go,
 * compare_types.go): the single type a set of types can all convert to,
 * and the conversions to it. Go map iteration (object attributes) is
 * taken in sorted order. */
#include "cty/cty_int.h"

#include "base/alloc.h"

#include <string.h>

int soupc__cty_conv_dynval(struct soupc_cty_conversion **out);
int soupc__cty_conv_chain(struct soupc_cty_conversion **out,
                          struct soupc_cty_conversion *first,
                          struct soupc_cty_conversion *second);

typedef const struct soupc_cty_type *ctype;

static bool is_prim(ctype t) {
  return t->kind <= SOUPC_CTY_BOOL;
}

/* compareTypes: < 0 when @p a is preferred (it is a supertype). */
static int compare_types(ctype a, ctype b) {
  int swap = 1;
  size_t i;
  bool a_super = false, b_super = false;

  if (a->kind == SOUPC_CTY_DYNAMIC || b->kind == SOUPC_CTY_DYNAMIC) {
    if (a->kind != SOUPC_CTY_DYNAMIC) {
      return -1;
    }
    if (b->kind != SOUPC_CTY_DYNAMIC) {
      return 1;
    }
    return 0;
  }
  if (is_prim(a) && is_prim(b)) {
    if (a->kind == SOUPC_CTY_STRING || b->kind == SOUPC_CTY_STRING) {
      if (a->kind != SOUPC_CTY_STRING) {
        return 1;
      }
      if (b->kind != SOUPC_CTY_STRING) {
        return -1;
      }
      return 0;
    }
  }
  if (cty_kind_is_coll(a->kind) && a->kind == b->kind) {
    return compare_types(a->elem, b->elem);
  }
  if ((a->kind == SOUPC_CTY_TUPLE && b->kind == SOUPC_CTY_LIST) ||
      (a->kind == SOUPC_CTY_OBJECT && b->kind == SOUPC_CTY_MAP) ||
      (a->kind == SOUPC_CTY_SET && b->kind == SOUPC_CTY_TUPLE) ||
      (a->kind == SOUPC_CTY_SET && b->kind == SOUPC_CTY_LIST)) {
    ctype t = a;
    a = b;
    b = t;
    swap = -1;
  }
  if (b->kind == SOUPC_CTY_SET &&
      (a->kind == SOUPC_CTY_TUPLE || a->kind == SOUPC_CTY_LIST)) {
    return -1 * swap;
  }
  if (a->kind == SOUPC_CTY_LIST && b->kind == SOUPC_CTY_TUPLE) {
    return -1 * swap;
  }
  if (a->kind == SOUPC_CTY_MAP && b->kind == SOUPC_CTY_OBJECT) {
    return -1 * swap;
  }
  if ((a->kind == SOUPC_CTY_OBJECT && b->kind == SOUPC_CTY_OBJECT) ||
      (a->kind == SOUPC_CTY_TUPLE && b->kind == SOUPC_CTY_TUPLE)) {
    if (a->n != b->n) {
      return 0;
    }
    for (i = 0; i < a->n; i++) {
      long j = (long)i;
      int c;
      if (a->kind == SOUPC_CTY_OBJECT) {
        j = soupc__cty_type_attr(b, a->names[i], a->name_lens[i]);
        if (j < 0) {
          return 0;
        }
      }
      c = compare_types(a->elems[i], b->elems[j]);
      if (c < 0) {
        a_super = true;
      } else if (c > 0) {
        b_super = true;
      }
    }
    if (a_super && b_super) {
      return 0;
    }
    if (a_super) {
      return -1 * swap;
    }
    if (b_super) {
      return 1 * swap;
    }
    return 0;
  }
  return 0;
}

/* sortTypes: Kahn's algorithm over the "is preferred to" edges, exactly
 * as go-cty writes it (the queue shares the result slice). */
static int sort_types(size_t **out, ctype const *tys, size_t l) {
  size_t *edges_n = soupc__calloc(l + 1, sizeof(size_t));
  size_t **edges = soupc__calloc(l + 1, sizeof(size_t *));
  size_t *indeg = soupc__calloc(l + 1, sizeof(size_t));
  size_t *result = soupc__calloc(l + 1, sizeof(size_t));
  size_t i, j, head = 0, tail = 0;
  int rv = SOUPC_ERR_NOMEM;

  if (edges_n == NULL || edges == NULL || indeg == NULL || result == NULL) {
    goto out;
  }
  for (i = 0; i < l; i++) {
    edges[i] = soupc__calloc(l + 1, sizeof(size_t));
    if (edges[i] == NULL) {
      goto out;
    }
  }
  for (i = 0; i + 1 < l; i++) {
    for (j = i + 1; j < l; j++) {
      int c = compare_types(tys[i], tys[j]);
      if (c < 0) {
        edges[i][edges_n[i]++] = j;
      } else if (c > 0) {
        edges[j][edges_n[j]++] = i;
      }
    }
  }
  for (i = 0; i < l; i++) {
    for (j = 0; j < edges_n[i]; j++) {
      indeg[edges[i][j]]++;
    }
  }
  for (i = 0; i < l; i++) {
    if (indeg[i] == 0) {
      result[tail++] = i;
    }
  }
  while (head < tail) {
    i = result[head++];
    for (j = 0; j < edges_n[i]; j++) {
      if (--indeg[edges[i][j]] == 0) {
        result[tail++] = edges[i][j];
      }
    }
  }
  *out = result;
  result = NULL;
  rv = 0;
out:
  for (i = 0; edges != NULL && i < l; i++) {
    soupc__free(edges[i]);
  }
  soupc__free(edges);
  soupc__free(edges_n);
  soupc__free(indeg);
  soupc__free(result);
  return rv;
}

/* The result of one unify call. */
struct ures {
  struct soupc_cty_type *ty; /* NULL: cty.NilType */
  struct soupc_cty_conversion **convs;
  size_t n;
};

static void ures_clear(struct ures *r) {
  soupc_cty_type_free(r->ty);
  soupc_cty_conversions_free(r->convs, r->n);
  r->ty = NULL;
  r->convs = NULL;
}

static int unify(struct ures *r, ctype const *types, size_t n, bool unsafe,
                 int depth);

/* Conversions from every type to @p ret (none needed when equal); on a
 * missing one the result is NilType, or @p fallback when given. */
typedef int (*fallback_fn)(struct ures *r, ctype const *types, size_t n,
                           bool unsafe, int depth);

static int convs_to(struct ures *r, struct soupc_cty_type *ret,
                    ctype const *types, size_t n, bool unsafe,
                    fallback_fn fallback, int depth) {
  size_t i;
  int rv;

  r->n = n;
  r->convs = soupc__calloc(n + 1, sizeof(*r->convs));
  if (r->convs == NULL) {
    soupc_cty_type_free(ret);
    return SOUPC_ERR_NOMEM;
  }
  for (i = 0; i < n; i++) {
    if (soupc__cty_type_equal(types[i], ret)) {
      continue;
    }
    rv = unsafe ? soupc_cty_get_conversion_unsafe(&r->convs[i], types[i], ret)
                : soupc_cty_get_conversion(&r->convs[i], types[i], ret);
    if (rv != 0) {
      soupc_cty_type_free(ret);
      ures_clear(r);
      return rv;
    }
    if (r->convs[i] == NULL) {
      soupc_cty_type_free(ret);
      ures_clear(r);
      if (fallback != NULL) {
        return fallback(r, types, n, unsafe, depth);
      }
      return 0;
    }
  }
  r->ty = ret;
  return 0;
}

static int all_dynamic(struct ures *r, size_t n) {
  size_t i;
  int rv;

  r->n = n;
  r->convs = soupc__calloc(n + 1, sizeof(*r->convs));
  if (r->convs == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  for (i = 0; i < n; i++) {
    rv = soupc__cty_conv_dynval(&r->convs[i]);
    if (rv != 0) {
      ures_clear(r);
      return rv;
    }
  }
  r->ty = soupc__cty_type_prim(SOUPC_CTY_DYNAMIC);
  return 0;
}

/* The members (tuple elements or object attributes, in sorted order) of
 * every type, flattened. */
static int all_members(ctype **out, size_t *n_out, ctype const *types,
                       size_t n) {
  size_t i, j, total = 0, k = 0;
  ctype *m;

  for (i = 0; i < n; i++) {
    total += types[i]->n;
  }
  m = soupc__calloc(total + 1, sizeof(*m));
  if (m == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  for (i = 0; i < n; i++) {
    for (j = 0; j < types[i]->n; j++) {
      m[k++] = types[i]->elems[j];
    }
  }
  *out = m;
  *n_out = total;
  return 0;
}

/* unifyObjectTypesToMap / unifyTupleTypesToList */
static int members_to_coll(struct ures *r, ctype const *types, size_t n,
                           bool unsafe, soupc_cty_kind kind, int depth) {
  struct ures e = {NULL, NULL, 0};
  struct soupc_cty_type *ret = NULL;
  ctype *m = NULL;
  size_t mn = 0;
  int rv = all_members(&m, &mn, types, n);

  if (rv != 0) {
    return rv;
  }
  rv = unify(&e, m, mn, unsafe, depth + 1);
  soupc__free(m);
  if (rv != 0 || e.ty == NULL) {
    ures_clear(&e);
    return rv;
  }
  rv = soupc__cty_type_new_coll(&ret, kind, soupc__cty_type_ref(e.ty));
  ures_clear(&e);
  if (rv != 0) {
    return rv;
  }
  return convs_to(r, ret, types, n, unsafe, NULL, depth);
}

static int objects_to_map(struct ures *r, ctype const *types, size_t n,
                          bool unsafe, int depth) {
  return members_to_coll(r, types, n, unsafe, SOUPC_CTY_MAP, depth);
}

static int tuples_to_list(struct ures *r, ctype const *types, size_t n,
                          bool unsafe, int depth) {
  return members_to_coll(r, types, n, unsafe, SOUPC_CTY_LIST, depth);
}

static int unify_collections(struct ures *r, soupc_cty_kind kind,
                             ctype const *types, size_t n, bool unsafe,
                             bool has_dyn, int depth) {
  struct ures e = {NULL, NULL, 0};
  struct soupc_cty_type *ret = NULL;
  ctype *elems;
  size_t i;
  int rv;

  if (has_dyn) {
    return all_dynamic(r, n);
  }
  elems = soupc__calloc(n + 1, sizeof(*elems));
  if (elems == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  for (i = 0; i < n; i++) {
    elems[i] = types[i]->elem;
  }
  rv = unify(&e, elems, n, unsafe, depth + 1);
  soupc__free(elems);
  if (rv != 0 || e.ty == NULL) {
    ures_clear(&e);
    return rv;
  }
  rv = soupc__cty_type_new_coll(&ret, kind, soupc__cty_type_ref(e.ty));
  ures_clear(&e);
  if (rv != 0) {
    return rv;
  }
  return convs_to(r, ret, types, n, unsafe, NULL, depth);
}

/* unifyObjectTypes / unifyTupleTypes: member-wise when the shapes agree,
 * otherwise (or when a conversion is missing) as a map / list. */
static int unify_structs(struct ures *r, ctype const *types, size_t n,
                         bool unsafe, bool has_dyn, int depth) {
  bool obj = types[0]->kind == SOUPC_CTY_OBJECT;
  ctype first = types[0];
  struct soupc_cty_type **ts = NULL, *ret = NULL;
  ctype *across = NULL;
  char **nn = NULL;
  size_t *nl = NULL;
  size_t i, k;
  int rv;

  if (has_dyn) {
    return all_dynamic(r, n);
  }
  for (i = 1; i < n; i++) {
    if (types[i]->n != first->n) {
      return obj ? objects_to_map(r, types, n, unsafe, depth)
                 : tuples_to_list(r, types, n, unsafe, depth);
    }
    for (k = 0; obj && k < types[i]->n; k++) {
      if (soupc__cty_type_attr(first, types[i]->names[k],
                               types[i]->name_lens[k]) < 0) {
        return objects_to_map(r, types, n, unsafe, depth);
      }
    }
  }
  ts = soupc__calloc(first->n + 1, sizeof(*ts));
  across = soupc__calloc(n + 1, sizeof(*across));
  nn = soupc__calloc(first->n + 1, sizeof(*nn));
  nl = soupc__calloc(first->n + 1, sizeof(*nl));
  rv = ts == NULL || across == NULL || nn == NULL || nl == NULL
           ? SOUPC_ERR_NOMEM
           : 0;
  for (k = 0; rv == 0 && k < first->n; k++) {
    struct ures e = {NULL, NULL, 0};
    for (i = 0; i < n; i++) {
      long j = obj ? soupc__cty_type_attr(types[i], first->names[k],
                                          first->name_lens[k])
                   : (long)k;
      across[i] = types[i]->elems[j];
    }
    rv = unify(&e, across, n, unsafe, depth + 1);
    if (rv == 0 && e.ty == NULL) {
      ures_clear(&e);
      goto none;
    }
    if (rv == 0) {
      ts[k] = soupc__cty_type_ref(e.ty);
      if (obj) {
        nn[k] = soupc__strndup(first->names[k], first->name_lens[k]);
        nl[k] = first->name_lens[k];
        rv = nn[k] == NULL ? SOUPC_ERR_NOMEM : 0;
      }
    }
    ures_clear(&e);
  }
  if (rv == 0) {
    rv = obj ? soupc__cty_type_new_object(&ret, nn, nl, ts, NULL, first->n)
             : soupc__cty_type_new_tuple(&ret, ts, first->n);
    soupc__free(ts);
    soupc__free(nn);
    soupc__free(nl);
    soupc__free(across);
    if (rv != 0) {
      return rv;
    }
    return convs_to(r, ret, types, n, unsafe,
                    obj ? objects_to_map : tuples_to_list, depth);
  }
none:
  for (k = 0; ts != NULL && k < first->n; k++) {
    soupc_cty_type_free(ts[k]);
    if (nn != NULL) {
      soupc__free(nn[k]);
    }
  }
  soupc__free(ts);
  soupc__free(nn);
  soupc__free(nl);
  soupc__free(across);
  return rv;
}

/* unifyTuplesAsList / unifyObjectsAsMaps: the structural types first
 * unify to a collection, which then unifies with the rest. */
static int structs_as_coll(struct ures *r, ctype const *types, size_t n,
                           bool unsafe, soupc_cty_kind sk, soupc_cty_kind ck,
                           int depth) {
  struct ures sr = {NULL, NULL, 0};
  ctype *subset = soupc__calloc(n + 1, sizeof(*subset));
  ctype *mapped = soupc__calloc(n + 1, sizeof(*mapped));
  size_t *idx = soupc__calloc(n + 1, sizeof(*idx));
  size_t i, m = 0;
  int rv = SOUPC_ERR_NOMEM;

  if (subset == NULL || mapped == NULL || idx == NULL) {
    goto out;
  }
  for (i = 0; i < n; i++) {
    if (types[i]->kind == sk) {
      idx[m] = i;
      subset[m++] = types[i];
    }
  }
  rv = sk == SOUPC_CTY_TUPLE ? tuples_to_list(&sr, subset, m, unsafe, depth)
                             : objects_to_map(&sr, subset, m, unsafe, depth);
  if (rv != 0 || sr.ty == NULL || sr.ty->kind != ck) {
    goto out;
  }
  memcpy(mapped, types, n * sizeof(*mapped));
  for (i = 0; i < m; i++) {
    mapped[idx[i]] = sr.ty;
  }
  rv = unify(r, mapped, n, unsafe, depth + 1);
  if (rv != 0 || r->ty == NULL) {
    goto out;
  }
  if (r->ty->kind != ck) {
    ures_clear(r);
    goto out;
  }
  for (i = 0; i < m; i++) {
    struct soupc_cty_conversion *sc = sr.convs[i];
    sr.convs[i] = NULL;
    if (r->convs[idx[i]] == NULL) {
      r->convs[idx[i]] = sc;
      continue;
    }
    rv = soupc__cty_conv_chain(&r->convs[idx[i]], sc, r->convs[idx[i]]);
    if (rv != 0) {
      ures_clear(r);
      goto out;
    }
  }
out:
  ures_clear(&sr);
  soupc__free(subset);
  soupc__free(mapped);
  soupc__free(idx);
  return rv;
}

static int unify(struct ures *r, ctype const *types, size_t n, bool unsafe,
                 int depth) {
  size_t map_n = 0, list_n = 0, set_n = 0, obj_n = 0, tup_n = 0, dyn_n = 0;
  size_t *order = NULL;
  size_t i, w;
  int rv;

  memset(r, 0, sizeof(*r));
  if (n == 0) {
    return 0;
  }
  if (depth > CTY_MAX_DEPTH) {
    return SOUPC_ERR_CTY_TYPE;
  }
  for (i = 0; i < n; i++) {
    switch (types[i]->kind) {
    case SOUPC_CTY_MAP:
      map_n++;
      break;
    case SOUPC_CTY_LIST:
      list_n++;
      break;
    case SOUPC_CTY_SET:
      set_n++;
      break;
    case SOUPC_CTY_OBJECT:
      obj_n++;
      break;
    case SOUPC_CTY_TUPLE:
      tup_n++;
      break;
    case SOUPC_CTY_DYNAMIC:
      dyn_n++;
      break;
    default:
      break;
    }
  }
  if (map_n > 0 && map_n + dyn_n == n) {
    return unify_collections(r, SOUPC_CTY_MAP, types, n, unsafe, dyn_n > 0,
                             depth);
  }
  if (map_n > 0 && map_n + obj_n + dyn_n == n) {
    rv = structs_as_coll(r, types, n, unsafe, SOUPC_CTY_OBJECT, SOUPC_CTY_MAP,
                         depth);
    if (rv != 0 || r->ty != NULL) {
      return rv;
    }
  } else if (list_n > 0 && list_n + dyn_n == n) {
    return unify_collections(r, SOUPC_CTY_LIST, types, n, unsafe, dyn_n > 0,
                             depth);
  } else if (list_n > 0 && list_n + tup_n + dyn_n == n) {
    rv = structs_as_coll(r, types, n, unsafe, SOUPC_CTY_TUPLE, SOUPC_CTY_LIST,
                         depth);
    if (rv != 0 || r->ty != NULL) {
      return rv;
    }
  } else if (set_n > 0 && set_n + dyn_n == n) {
    return unify_collections(r, SOUPC_CTY_SET, types, n, unsafe, dyn_n > 0,
                             depth);
  } else if ((obj_n > 0 && obj_n + dyn_n == n) ||
             (tup_n > 0 && tup_n + dyn_n == n)) {
    return unify_structs(r, types, n, unsafe, dyn_n > 0, depth);
  } else if (obj_n > 0 && tup_n > 0) {
    return 0;
  }
  /* The preference order: try each type as the target. */
  rv = sort_types(&order, types, n);
  if (rv != 0) {
    return rv;
  }
  for (w = 0; w < n; w++) {
    ctype want = types[order[w]];
    struct soupc_cty_conversion **convs = soupc__calloc(n + 1, sizeof(*convs));
    if (convs == NULL) {
      soupc__free(order);
      return SOUPC_ERR_NOMEM;
    }
    for (i = 0; i < n; i++) {
      if (i == order[w] || soupc__cty_type_equal(types[i], want)) {
        continue;
      }
      rv = unsafe ? soupc_cty_get_conversion_unsafe(&convs[i], types[i], want)
                  : soupc_cty_get_conversion(&convs[i], types[i], want);
      if (rv != 0) {
        soupc_cty_conversions_free(convs, n);
        soupc__free(order);
        return rv;
      }
      if (convs[i] == NULL) {
        break;
      }
    }
    if (i == n) {
      r->ty = soupc__cty_type_ref(want);
      r->convs = convs;
      r->n = n;
      soupc__free(order);
      return 0;
    }
    soupc_cty_conversions_free(convs, n);
  }
  soupc__free(order);
  return 0;
}

int soupc__cty_unify(struct soupc_cty_type **out,
                     struct soupc_cty_conversion ***convs_out,
                     const struct soupc_cty_type *const *types, size_t n,
                     bool unsafe) {
  struct ures r;
  int rv = unify(&r, types, n, unsafe, 0);

  if (rv != 0) {
    ures_clear(&r);
    return rv;
  }
  *out = r.ty;
  if (convs_out != NULL) {
    *convs_out = r.ty != NULL ? r.convs : NULL;
    if (r.ty == NULL) {
      soupc_cty_conversions_free(r.convs, r.n);
    }
  } else {
    soupc_cty_conversions_free(r.convs, r.n);
  }
  return 0;
}

int soupc_cty_unify(soupc_cty_type **out, soupc_cty_conversion ***convs_out,
                    const soupc_cty_type *const *types, size_t n, int unsafe) {
  return soupc__cty_unify(out, convs_out, types, n, unsafe != 0);
}
