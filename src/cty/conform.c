/* Type.TestConformance (go-cty type_conform.go): every reason a type does
 * not conform to a wanted type, each with its path. go-cty walks object
 * attributes in Go map order; we walk them sorted. */
#include "cty/cty_int.h"

#include "base/alloc.h"

static int conform(struct soupc_cty_path_errors *errs,
                   struct soupc_cty_path *path,
                   const struct soupc_cty_type *given,
                   const struct soupc_cty_type *want, int depth);

static int push_unknown(struct soupc_cty_path *path,
                        const struct soupc_cty_type *t) {
  struct soupc_cty_value *k = NULL;
  int rv = soupc_cty_value_unknown(&k, t);

  if (rv != 0) {
    return rv;
  }
  rv = soupc__cty_path_push_index(path, k);
  soupc_cty_value_free(k);
  return rv;
}

static int conform_objects(struct soupc_cty_path_errors *errs,
                           struct soupc_cty_path *path,
                           const struct soupc_cty_type *given,
                           const struct soupc_cty_type *want, int depth) {
  size_t i;
  long j;
  int rv;

  for (i = 0; i < given->n; i++) {
    if (soupc__cty_type_attr(want, given->names[i], given->name_lens[i]) < 0) {
      rv = soupc__cty_perr_add(errs, path, "unsupported attribute \"%s\"",
                               given->names[i]);
      if (rv != 0) {
        return rv;
      }
    }
  }
  for (i = 0; i < want->n; i++) {
    if (soupc__cty_type_attr(given, want->names[i], want->name_lens[i]) < 0) {
      rv = soupc__cty_perr_add(errs, path, "missing required attribute \"%s\"",
                               want->names[i]);
      if (rv != 0) {
        return rv;
      }
    }
  }
  for (i = 0; i < want->n; i++) {
    j = soupc__cty_type_attr(given, want->names[i], want->name_lens[i]);
    if (j < 0) {
      continue;
    }
    rv = soupc__cty_path_push_attr(path, want->names[i], want->name_lens[i]);
    if (rv != 0) {
      return rv;
    }
    rv = conform(errs, path, given->elems[j], want->elems[i], depth + 1);
    soupc__cty_path_pop(path);
    if (rv != 0) {
      return rv;
    }
  }
  return 0;
}

static int conform(struct soupc_cty_path_errors *errs,
                   struct soupc_cty_path *path,
                   const struct soupc_cty_type *given,
                   const struct soupc_cty_type *want, int depth) {
  struct cty_buf a, b;
  size_t i;
  int rv;

  if (want->kind == SOUPC_CTY_DYNAMIC || soupc__cty_type_equal(given, want)) {
    return 0;
  }
  if (depth > CTY_MAX_DEPTH) {
    return SOUPC_ERR_CTY_TYPE;
  }
  if (given->kind == SOUPC_CTY_OBJECT && want->kind == SOUPC_CTY_OBJECT) {
    return conform_objects(errs, path, given, want, depth);
  }
  if (given->kind == SOUPC_CTY_TUPLE && want->kind == SOUPC_CTY_TUPLE) {
    if (given->n != want->n) {
      return soupc__cty_perr_add(errs, path,
                                 "%zu elements are required, but got %zu",
                                 want->n, given->n);
    }
    for (i = 0; i < want->n; i++) {
      struct soupc_cty_value *k = NULL;
      rv = soupc_cty_value_number_int(&k, (int64_t)i);
      if (rv == 0) {
        rv = soupc__cty_path_push_index(path, k);
        soupc_cty_value_free(k);
      }
      if (rv != 0) {
        return rv;
      }
      rv = conform(errs, path, given->elems[i], want->elems[i], depth + 1);
      soupc__cty_path_pop(path);
      if (rv != 0) {
        return rv;
      }
    }
    return 0;
  }
  if (cty_kind_is_coll(given->kind) && given->kind == want->kind) {
    /* list: index unknown number; map: unknown string; set: an unknown of
     * the given element type. */
    rv = push_unknown(path, given->kind == SOUPC_CTY_LIST
                                ? soupc__cty_type_prim(SOUPC_CTY_NUMBER)
                            : given->kind == SOUPC_CTY_MAP
                                ? soupc__cty_type_prim(SOUPC_CTY_STRING)
                                : given->elem);
    if (rv != 0) {
      return rv;
    }
    rv = conform(errs, path, given->elem, want->elem, depth + 1);
    soupc__cty_path_pop(path);
    return rv;
  }
  soupc__cty_buf_init(&a);
  soupc__cty_buf_init(&b);
  soupc__cty_type_friendly(&a, want, false);
  soupc__cty_type_friendly(&b, given, false);
  soupc__cty_buf_putc(&a, 0);
  soupc__cty_buf_putc(&b, 0);
  rv = a.oom || b.oom
           ? SOUPC_ERR_NOMEM
           : soupc__cty_perr_add(errs, path, "%s required, but received %s",
                                 (char *)a.p, (char *)b.p);
  soupc__cty_buf_dispose(&a);
  soupc__cty_buf_dispose(&b);
  return rv;
}

int soupc_cty_type_test_conformance(soupc_cty_path_errors **out,
                                    const soupc_cty_type *given,
                                    const soupc_cty_type *want) {
  struct soupc_cty_path_errors *errs = soupc__calloc(1, sizeof(*errs));
  struct soupc_cty_path path = {0, 0, NULL};
  int rv;

  if (errs == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  rv = conform(errs, &path, given, want, 0);
  soupc__cty_path_dispose(&path);
  if (rv != 0) {
    soupc_cty_path_errors_free(errs);
    return rv;
  }
  *out = errs;
  return 0;
}
