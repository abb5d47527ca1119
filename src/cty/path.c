/* cty.Path (GetAttrStep, IndexStep) and lists of path errors. */
#include "cty/cty_int.h"

#include "base/alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int path_grow(struct soupc_cty_path *p) {
  struct cty_step *s;
  size_t cap;

  if (p->n < p->cap) {
    return 0;
  }
  cap = p->cap == 0 ? 8 : p->cap * 2;
  s = soupc__realloc(p->steps, cap * sizeof(*s));
  if (s == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  p->steps = s;
  p->cap = cap;
  return 0;
}

int soupc__cty_path_push_attr(struct soupc_cty_path *p, const char *name,
                              size_t len) {
  char *n;

  if (path_grow(p) != 0) {
    return SOUPC_ERR_NOMEM;
  }
  n = soupc__strndup(name, len);
  if (n == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  p->steps[p->n].key = NULL;
  p->steps[p->n].name = n;
  p->steps[p->n].len = len;
  p->n++;
  return 0;
}

int soupc__cty_path_push_index(struct soupc_cty_path *p,
                               const struct soupc_cty_value *key) {
  if (path_grow(p) != 0) {
    return SOUPC_ERR_NOMEM;
  }
  p->steps[p->n].key = soupc__cty_val_ref(key);
  p->steps[p->n].name = NULL;
  p->steps[p->n].len = 0;
  p->n++;
  return 0;
}

void soupc__cty_path_pop(struct soupc_cty_path *p) {
  struct cty_step *s = &p->steps[--p->n];

  soupc_cty_value_free(s->key);
  soupc__free(s->name);
}

void soupc__cty_path_dispose(struct soupc_cty_path *p) {
  while (p->n > 0) {
    soupc__cty_path_pop(p);
  }
  soupc__free(p->steps);
  p->steps = NULL;
  p->cap = 0;
}

int soupc__cty_path_dup(struct soupc_cty_path **out,
                        const struct soupc_cty_path *p) {
  struct soupc_cty_path *d = soupc__calloc(1, sizeof(*d));
  size_t i;
  int rv = 0;

  if (d == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  for (i = 0; p != NULL && i < p->n && rv == 0; i++) {
    rv = p->steps[i].key != NULL
             ? soupc__cty_path_push_index(d, p->steps[i].key)
             : soupc__cty_path_push_attr(d, p->steps[i].name, p->steps[i].len);
  }
  if (rv != 0) {
    soupc_cty_path_free(d);
    return rv;
  }
  *out = d;
  return 0;
}

int soupc_cty_path_new(soupc_cty_path **out) {
  return soupc__cty_path_dup(out, NULL);
}

int soupc_cty_path_append_attr(soupc_cty_path *p, const char *name,
                               size_t len) {
  return soupc__cty_path_push_attr(p, name, len);
}

int soupc_cty_path_append_index(soupc_cty_path *p, const soupc_cty_value *key) {
  return soupc__cty_path_push_index(p, key);
}

int soupc_cty_path_copy(soupc_cty_path **out, const soupc_cty_path *p) {
  return soupc__cty_path_dup(out, p);
}

size_t soupc_cty_path_length(const soupc_cty_path *p) {
  return p == NULL ? 0 : p->n;
}

soupc_cty_step_kind soupc_cty_path_step_kind(const soupc_cty_path *p,
                                             size_t i) {
  return p->steps[i].key != NULL ? SOUPC_CTY_STEP_INDEX : SOUPC_CTY_STEP_ATTR;
}

const char *soupc_cty_path_step_attr(const soupc_cty_path *p, size_t i,
                                     size_t *len_out) {
  if (p->steps[i].key != NULL) {
    return NULL;
  }
  if (len_out != NULL) {
    *len_out = p->steps[i].len;
  }
  return p->steps[i].name;
}

const soupc_cty_value *soupc_cty_path_step_key(const soupc_cty_path *p,
                                               size_t i) {
  return p->steps[i].key;
}

int soupc_cty_path_equals(const soupc_cty_path *a, const soupc_cty_path *b) {
  size_t i, na = soupc_cty_path_length(a), nb = soupc_cty_path_length(b);

  if (na != nb) {
    return 0;
  }
  for (i = 0; i < na; i++) {
    const struct cty_step *x = &a->steps[i], *y = &b->steps[i];
    if ((x->key == NULL) != (y->key == NULL)) {
      return 0;
    }
    if (x->key == NULL) {
      if (x->len != y->len || memcmp(x->name, y->name, x->len) != 0) {
        return 0;
      }
    } else if (!soupc__cty_raw_equals(x->key, y->key)) {
      return 0;
    }
  }
  return 1;
}

void soupc_cty_path_free(soupc_cty_path *p) {
  if (p == NULL) {
    return;
  }
  soupc__cty_path_dispose(p);
  soupc__free(p);
}

/* ---- path errors ---- */

int soupc__cty_perr_add(struct soupc_cty_path_errors *l,
                        const struct soupc_cty_path *path, const char *fmt,
                        ...) {
  struct cty_buf b;
  va_list ap;
  char tmp[1024];
  int rv;

  if (l->n == l->cap) {
    size_t cap = l->cap == 0 ? 4 : l->cap * 2;
    struct cty_perr *e = soupc__realloc(l->e, cap * sizeof(*e));
    if (e == NULL) {
      return SOUPC_ERR_NOMEM;
    }
    l->e = e;
    l->cap = cap;
  }
  va_start(ap, fmt);
  vsnprintf(tmp, sizeof(tmp), fmt, ap);
  va_end(ap);
  soupc__cty_buf_init(&b);
  soupc__cty_buf_puts(&b, tmp);
  rv = soupc__cty_buf_take(&b, &l->e[l->n].msg, NULL);
  if (rv != 0) {
    return rv;
  }
  rv = soupc__cty_path_dup(&l->e[l->n].path, path);
  if (rv != 0) {
    soupc__free(l->e[l->n].msg);
    return rv;
  }
  l->n++;
  return 0;
}

size_t soupc_cty_path_errors_count(const soupc_cty_path_errors *e) {
  return e == NULL ? 0 : e->n;
}

const char *soupc_cty_path_errors_message(const soupc_cty_path_errors *e,
                                          size_t i) {
  return e->e[i].msg;
}

const soupc_cty_path *soupc_cty_path_errors_path(const soupc_cty_path_errors *e,
                                                 size_t i) {
  return e->e[i].path;
}

void soupc_cty_path_errors_free(soupc_cty_path_errors *e) {
  size_t i;

  if (e == NULL) {
    return;
  }
  for (i = 0; i < e->n; i++) {
    soupc__free(e->e[i].msg);
    soupc_cty_path_free(e->e[i].path);
  }
  soupc__free(e->e);
  soupc__free(e);
}
