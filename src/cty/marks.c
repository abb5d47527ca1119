/* Marks (go-cty marks.go, marks_wrangle.go): sets of byte-string marks,
 * marked wrappers, and the deep unmark/re-mark operations. */
#include "cty/cty_int.h"

#include "base/alloc.h"

#include <string.h>

/* ---- mark sets ---- */

static int name_cmp(const char *a, size_t al, const char *b, size_t bl) {
  size_t n = al < bl ? al : bl;
  int c = n > 0 ? memcmp(a, b, n) : 0;

  if (c != 0) {
    return c;
  }
  return al < bl ? -1 : (al > bl);
}

static struct soupc_cty_marks *marks_alloc(size_t n) {
  struct soupc_cty_marks *m = soupc__calloc(1, sizeof(*m));

  if (m == NULL) {
    return NULL;
  }
  m->refs = 1;
  m->names = soupc__calloc(n + 1, sizeof(*m->names));
  m->lens = soupc__calloc(n + 1, sizeof(*m->lens));
  if (m->names == NULL || m->lens == NULL) {
    soupc__free(m->names);
    soupc__free(m->lens);
    soupc__free(m);
    return NULL;
  }
  return m;
}

/* Inserts a copy of @p name in sorted position unless present. */
static int marks_insert(struct soupc_cty_marks *m, const char *name,
                        size_t len) {
  size_t lo = 0, hi = m->n, j;
  char *c;

  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    int r = name_cmp(m->names[mid], m->lens[mid], name, len);
    if (r == 0) {
      return 0;
    }
    if (r < 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  c = soupc__strndup(name, len);
  if (c == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  for (j = m->n; j > lo; j--) {
    m->names[j] = m->names[j - 1];
    m->lens[j] = m->lens[j - 1];
  }
  m->names[lo] = c;
  m->lens[lo] = len;
  m->n++;
  return 0;
}

int soupc_cty_marks_new(soupc_cty_marks **out, const char *const *names,
                        const size_t *lens, size_t n) {
  struct soupc_cty_marks *m;
  size_t i;

  if (n == 0) {
    *out = NULL;
    return 0;
  }
  m = marks_alloc(n);
  if (m == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  for (i = 0; i < n; i++) {
    if (marks_insert(m, names[i], lens != NULL ? lens[i] : strlen(names[i])) !=
        0) {
      soupc_cty_marks_free(m);
      return SOUPC_ERR_NOMEM;
    }
  }
  *out = m;
  return 0;
}

size_t soupc_cty_marks_count(const soupc_cty_marks *m) {
  return m == NULL ? 0 : m->n;
}

const char *soupc_cty_marks_name(const soupc_cty_marks *m, size_t i,
                                 size_t *len_out) {
  if (m == NULL || i >= m->n) {
    return NULL;
  }
  if (len_out != NULL) {
    *len_out = m->lens[i];
  }
  return m->names[i];
}

int soupc_cty_marks_has(const soupc_cty_marks *m, const char *name,
                        size_t len) {
  size_t i;

  for (i = 0; m != NULL && i < m->n; i++) {
    if (name_cmp(m->names[i], m->lens[i], name, len) == 0) {
      return 1;
    }
  }
  return 0;
}

struct soupc_cty_marks *soupc__cty_marks_ref(const struct soupc_cty_marks *m) {
  struct soupc_cty_marks *w = (struct soupc_cty_marks *)m;

  if (w != NULL) {
    cty_ref_inc(&w->refs);
  }
  return w;
}

soupc_cty_marks *soupc_cty_marks_ref(const soupc_cty_marks *m) {
  return soupc__cty_marks_ref(m);
}

void soupc_cty_marks_free(soupc_cty_marks *m) {
  size_t i;

  if (m == NULL || !cty_ref_dec(&m->refs)) {
    return;
  }
  for (i = 0; i < m->n; i++) {
    soupc__free(m->names[i]);
  }
  soupc__free(m->names);
  soupc__free(m->lens);
  soupc__free(m);
}

bool soupc__cty_marks_equal(const struct soupc_cty_marks *a,
                            const struct soupc_cty_marks *b) {
  size_t i, na = soupc_cty_marks_count(a), nb = soupc_cty_marks_count(b);

  if (na != nb) {
    return false;
  }
  for (i = 0; i < na; i++) {
    if (name_cmp(a->names[i], a->lens[i], b->names[i], b->lens[i]) != 0) {
      return false;
    }
  }
  return true;
}

int soupc__cty_marks_union(struct soupc_cty_marks **out,
                           const struct soupc_cty_marks *a,
                           const struct soupc_cty_marks *b) {
  struct soupc_cty_marks *m;
  size_t i, na = soupc_cty_marks_count(a), nb = soupc_cty_marks_count(b);

  if (nb == 0 || a == b) {
    *out = soupc__cty_marks_ref(a);
    return 0;
  }
  if (na == 0) {
    *out = soupc__cty_marks_ref(b);
    return 0;
  }
  m = marks_alloc(na + nb);
  if (m == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  for (i = 0; i < na + nb; i++) {
    const struct soupc_cty_marks *s = i < na ? a : b;
    size_t k = i < na ? i : i - na;
    if (marks_insert(m, s->names[k], s->lens[k]) != 0) {
      soupc_cty_marks_free(m);
      return SOUPC_ERR_NOMEM;
    }
  }
  if (m->n == na) { /* b added nothing */
    soupc_cty_marks_free(m);
    *out = soupc__cty_marks_ref(a);
    return 0;
  }
  *out = m;
  return 0;
}

/* ---- marked values ---- */

int soupc__cty_with_marks(struct soupc_cty_value **out,
                          struct soupc_cty_value *v,
                          const struct soupc_cty_marks *m) {
  struct soupc_cty_marks *u = NULL;
  struct soupc_cty_value *inner, *w;
  int rv;

  if (soupc_cty_marks_count(m) == 0) {
    *out = v;
    return 0;
  }
  if (cty_is_marked(v)) {
    rv = soupc__cty_marks_union(&u, v->u.mk.marks, m);
    if (rv != 0) {
      soupc_cty_value_free(v);
      return rv;
    }
    if (u == v->u.mk.marks) {
      soupc_cty_marks_free(u);
      *out = v;
      return 0;
    }
    inner = soupc__cty_val_ref(v->u.mk.inner);
    soupc_cty_value_free(v);
  } else {
    u = soupc__cty_marks_ref(m);
    inner = v;
  }
  w = soupc__cty_val_alloc(soupc__cty_type_ref(inner->type), CTY_V_MARKED);
  if (w == NULL) {
    soupc_cty_marks_free(u);
    soupc_cty_value_free(inner);
    return SOUPC_ERR_NOMEM;
  }
  w->u.mk.inner = inner;
  w->u.mk.marks = u;
  *out = w;
  return 0;
}

int soupc_cty_value_is_marked(const soupc_cty_value *v) {
  return cty_is_marked(v);
}

const soupc_cty_marks *soupc_cty_value_marks(const soupc_cty_value *v) {
  return cty_is_marked(v) ? v->u.mk.marks : NULL;
}

int soupc_cty_value_mark(soupc_cty_value **out, const soupc_cty_value *v,
                         const char *name, size_t len) {
  struct soupc_cty_marks *m = NULL;
  int rv = soupc_cty_marks_new(&m, &name, &len, 1);

  if (rv != 0) {
    return rv;
  }
  rv = soupc__cty_with_marks(out, soupc__cty_val_ref(v), m);
  soupc_cty_marks_free(m);
  return rv;
}

int soupc_cty_value_with_marks(soupc_cty_value **out, const soupc_cty_value *v,
                               const soupc_cty_marks *marks) {
  return soupc__cty_with_marks(out, soupc__cty_val_ref(v), marks);
}

int soupc_cty_value_unmark(soupc_cty_value **out, soupc_cty_marks **marks_out,
                           const soupc_cty_value *v) {
  if (marks_out != NULL) {
    *marks_out = cty_is_marked(v) ? soupc__cty_marks_ref(v->u.mk.marks) : NULL;
  }
  *out = soupc__cty_val_ref(cty_unmarked(v));
  return 0;
}

bool soupc__cty_contains_marked(const struct soupc_cty_value *v) {
  size_t i;

  if (cty_is_marked(v)) {
    return true;
  }
  if ((v->flags & (CTY_V_NULL | CTY_V_UNKNOWN)) != 0 ||
      !cty_kind_has_items(v->type->kind)) {
    return false;
  }
  for (i = 0; i < v->u.c.n; i++) {
    if (soupc__cty_contains_marked(v->u.c.items[i])) {
      return true;
    }
  }
  return false;
}

int soupc_cty_value_contains_marked(const soupc_cty_value *v) {
  return soupc__cty_contains_marked(v);
}

/* ---- (path, marks) lists ---- */

struct pm_entry {
  struct soupc_cty_path *path;
  struct soupc_cty_marks *marks;
};
struct soupc_cty_path_marks {
  size_t n, cap;
  struct pm_entry *e;
};

int soupc_cty_path_marks_new(soupc_cty_path_marks **out) {
  *out = soupc__calloc(1, sizeof(**out));
  return *out == NULL ? SOUPC_ERR_NOMEM : 0;
}

int soupc_cty_path_marks_append(soupc_cty_path_marks *pm,
                                const soupc_cty_path *path,
                                const soupc_cty_marks *marks) {
  int rv;

  if (pm->n == pm->cap) {
    size_t cap = pm->cap == 0 ? 4 : pm->cap * 2;
    struct pm_entry *e = soupc__realloc(pm->e, cap * sizeof(*e));
    if (e == NULL) {
      return SOUPC_ERR_NOMEM;
    }
    pm->e = e;
    pm->cap = cap;
  }
  rv = soupc__cty_path_dup(&pm->e[pm->n].path, path);
  if (rv != 0) {
    return rv;
  }
  pm->e[pm->n].marks = soupc__cty_marks_ref(marks);
  pm->n++;
  return 0;
}

size_t soupc_cty_path_marks_count(const soupc_cty_path_marks *pm) {
  return pm == NULL ? 0 : pm->n;
}

const soupc_cty_path *soupc_cty_path_marks_path(const soupc_cty_path_marks *pm,
                                                size_t i) {
  return pm->e[i].path;
}

const soupc_cty_marks *
soupc_cty_path_marks_marks(const soupc_cty_path_marks *pm, size_t i) {
  return pm->e[i].marks;
}

void soupc_cty_path_marks_free(soupc_cty_path_marks *pm) {
  size_t i;

  if (pm == NULL) {
    return;
  }
  for (i = 0; i < pm->n; i++) {
    soupc_cty_path_free(pm->e[i].path);
    soupc_cty_marks_free(pm->e[i].marks);
  }
  soupc__free(pm->e);
  soupc__free(pm);
}

/* ---- deep unmarking (WrangleMarksDeep with WrangleDrop) ---- */

struct wrangle {
  struct soupc_cty_path path;
  struct soupc_cty_path_marks *pm; /* NULL: UnmarkDeep */
  struct soupc_cty_marks *all;     /* union of every mark seen */
};

/* A container like @p v holding @p items (owned, v->u.c.n of them);
 * map keys are copied. */
static int rebuild(struct soupc_cty_value **out,
                   const struct soupc_cty_value *v,
                   struct soupc_cty_value **items) {
  size_t k, n = v->u.c.n;
  char **keys = NULL;
  size_t *lens = NULL;
  struct soupc_cty_value *c;

  if (v->u.c.keys != NULL) {
    keys = soupc__calloc(n, sizeof(*keys));
    lens = soupc__calloc(n, sizeof(*lens));
    if (keys == NULL || lens == NULL) {
      goto nomem;
    }
    for (k = 0; k < n; k++) {
      keys[k] = soupc__strndup(v->u.c.keys[k], v->u.c.key_lens[k]);
      lens[k] = v->u.c.key_lens[k];
      if (keys[k] == NULL) {
        goto nomem;
      }
    }
  }
  c = soupc__cty_val_alloc(soupc__cty_type_ref(v->type), 0);
  if (c == NULL) {
    goto nomem;
  }
  c->u.c.n = n;
  c->u.c.items = items;
  c->u.c.keys = keys;
  c->u.c.key_lens = lens;
  *out = c;
  return 0;
nomem:
  for (k = 0; k < n; k++) {
    soupc_cty_value_free(items[k]);
    if (keys != NULL) {
      soupc__free(keys[k]);
    }
  }
  soupc__free(items);
  soupc__free(keys);
  soupc__free(lens);
  return SOUPC_ERR_NOMEM;
}

static int record_marks(struct wrangle *w, const struct soupc_cty_marks *m) {
  struct soupc_cty_marks *u = NULL;
  int rv = soupc__cty_marks_union(&u, w->all, m);

  if (rv != 0) {
    return rv;
  }
  soupc_cty_marks_free(w->all);
  w->all = u;
  if (w->pm == NULL) {
    return 0;
  }
  /* UnmarkDeepWithPaths merges into the latest entry when the path is the
   * same; a value's marks all come at once, so one entry per value. */
  return soupc_cty_path_marks_append(w->pm, &w->path, m);
}

/* Sets *out to @p v without any mark (a new reference; unchanged subtrees
 * are shared). Pre-order: a value's own marks, then its elements. */
static int wrangle(struct soupc_cty_value **out,
                   const struct soupc_cty_value *v, struct wrangle *w,
                   int depth) {
  struct soupc_cty_value **items;
  size_t i;
  int rv;

  if (depth > CTY_MAX_DEPTH) {
    return SOUPC_ERR_CTY_DECODE;
  }
  if (cty_is_marked(v)) {
    rv = record_marks(w, v->u.mk.marks);
    if (rv != 0) {
      return rv;
    }
    v = v->u.mk.inner;
  }
  /* go-cty's wrangler walks lists, tuples, maps and objects; sets cannot
   * hold marks (SetVal moves them to the set). */
  if ((v->flags & (CTY_V_NULL | CTY_V_UNKNOWN)) != 0 ||
      !cty_kind_has_items(v->type->kind) || v->type->kind == SOUPC_CTY_SET ||
      !soupc__cty_contains_marked(v)) {
    *out = soupc__cty_val_ref(v);
    return 0;
  }
  items = soupc__calloc(v->u.c.n, sizeof(*items));
  if (items == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  for (i = 0; i < v->u.c.n; i++) {
    const struct soupc_cty_value *item = v->u.c.items[i];
    if (!soupc__cty_contains_marked(item)) {
      items[i] = soupc__cty_val_ref(item);
      continue;
    }
    if (v->type->kind == SOUPC_CTY_OBJECT) {
      rv = soupc__cty_path_push_attr(&w->path, v->type->names[i],
                                     v->type->name_lens[i]);
    } else {
      struct soupc_cty_value *key = NULL;
      rv = v->type->kind == SOUPC_CTY_MAP
               ? soupc__cty_val_string(&key, v->u.c.keys[i], v->u.c.key_lens[i])
               : soupc_cty_value_number_int(&key, (int64_t)i);
      if (rv == 0) {
        rv = soupc__cty_path_push_index(&w->path, key);
        soupc_cty_value_free(key);
      }
    }
    if (rv == 0) {
      rv = wrangle(&items[i], item, w, depth + 1);
      soupc__cty_path_pop(&w->path);
    }
    if (rv != 0) {
      size_t k;
      for (k = 0; k < v->u.c.n; k++) {
        soupc_cty_value_free(items[k]);
      }
      soupc__free(items);
      return rv;
    }
  }
  return rebuild(out, v, items);
}

static int unmark_deep(struct soupc_cty_value **out,
                       struct soupc_cty_marks **marks_out,
                       struct soupc_cty_path_marks *pm,
                       const struct soupc_cty_value *v) {
  struct wrangle w;
  int rv;

  memset(&w, 0, sizeof(w));
  w.pm = pm;
  rv = wrangle(out, v, &w, 0);
  soupc__cty_path_dispose(&w.path);
  if (rv != 0 || marks_out == NULL) {
    soupc_cty_marks_free(w.all);
  } else {
    *marks_out = w.all;
  }
  return rv;
}

int soupc__cty_unmark_deep(struct soupc_cty_value **out,
                           struct soupc_cty_marks **marks_out,
                           struct soupc_cty_value *v) {
  struct soupc_cty_value *r = NULL;
  int rv = unmark_deep(&r, marks_out, NULL, v);

  soupc_cty_value_free(v);
  if (rv == 0) {
    *out = r;
  }
  return rv;
}

int soupc_cty_value_unmark_deep(soupc_cty_value **out,
                                soupc_cty_marks **marks_out,
                                const soupc_cty_value *v) {
  return unmark_deep(out, marks_out, NULL, v);
}

int soupc_cty_value_unmark_deep_with_paths(soupc_cty_value **out,
                                           soupc_cty_path_marks **marks_out,
                                           const soupc_cty_value *v) {
  soupc_cty_path_marks *pm = NULL;
  int rv = soupc_cty_path_marks_new(&pm);

  if (rv != 0) {
    return rv;
  }
  rv = unmark_deep(out, NULL, pm, v);
  if (rv != 0) {
    soupc_cty_path_marks_free(pm);
    return rv;
  }
  *marks_out = pm;
  return 0;
}

/* ---- MarkWithPaths: TransformWithTransformer, marking on Exit ---- */

static int mark_exit(soupc_cty_value **out, const soupc_cty_path *path,
                     const soupc_cty_value *v, void *user_data) {
  const soupc_cty_path_marks *pm = user_data;
  size_t i;

  for (i = 0; i < pm->n; i++) {
    if (soupc_cty_path_equals(path, pm->e[i].path)) {
      return soupc_cty_value_with_marks(out, v, pm->e[i].marks);
    }
  }
  *out = soupc__cty_val_ref(v);
  return 0;
}

int soupc_cty_value_mark_with_paths(soupc_cty_value **out,
                                    const soupc_cty_value *v,
                                    const soupc_cty_path_marks *pm,
                                    soupc_status *st) {
  if (soupc_cty_path_marks_count(pm) == 0) {
    *out = soupc__cty_val_ref(v);
    return 0;
  }
  return soupc_cty_transform_with(out, v, NULL, mark_exit, (void *)pm, st);
}
