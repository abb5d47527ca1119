/* go-cty's function.Function.Call and ReturnTypeForValues (cty/function/
 * function.go), the registry of the 83 functions soup-go lists, and the
 * public API of include/soupc/cty_function.h. */
#include "ctyfunc/fn_int.h"

#include "base/alloc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- errors ---- */

int soupc__fn_fail(struct fn_ctx *c, long arg, const char *fmt, ...) {
  va_list ap;
  char *msg;
  int n;

  /* Measure, then format: two va_start passes (clang's analyzer does not
   * follow va_copy). */
  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) {
    c->oom = true;
    return SOUPC_ERR_NOMEM;
  }
  msg = soupc__malloc((size_t)n + 1);
  if (msg == NULL) {
    c->oom = true;
    return SOUPC_ERR_NOMEM;
  }
  va_start(ap, fmt);
  vsnprintf(msg, (size_t)n + 1, fmt, ap);
  va_end(ap);
  soupc__free(c->err);
  c->err = msg;
  c->err_arg = arg;
  return FN_EFAIL;
}

int soupc__fn_fail_buf(struct fn_ctx *c, long arg, struct cty_buf *b) {
  soupc__cty_buf_putc(b, 0);
  if (b->oom) {
    soupc__cty_buf_dispose(b);
    return SOUPC_ERR_NOMEM;
  }
  soupc__free(c->err);
  c->err = (char *)b->p;
  c->err_arg = arg;
  b->p = NULL;
  soupc__cty_buf_dispose(b);
  return FN_EFAIL;
}

void soupc_cty_call_error_dispose(soupc_cty_call_error *e) {
  if (e == NULL) {
    return;
  }
  soupc__free(e->message);
  e->message = NULL;
  e->arg_index = -1;
}

/* Type.TestConformance: its first error's message, or NULL (malloc'd). */
static int conform_error(char **msg_out, const struct soupc_cty_type *given,
                         const struct soupc_cty_type *want) {
  soupc_cty_path_errors *errs = NULL;
  int rv = soupc_cty_type_test_conformance(&errs, given, want);

  *msg_out = NULL;
  if (rv != 0) {
    return rv;
  }
  if (soupc_cty_path_errors_count(errs) > 0) {
    *msg_out = soupc__strdup(soupc_cty_path_errors_message(errs, 0));
    rv = *msg_out == NULL ? SOUPC_ERR_NOMEM : 0;
  }
  soupc_cty_path_errors_free(errs);
  return rv;
}

/* ---- Call ---- */

static const struct fn_param *param_of(const struct soupc_cty_function *f,
                                       size_t i) {
  return i < f->nparams ? &f->params[i] : f->varparam;
}

/* The arguments as the implementation sees them: marks removed (deep)
 * where the parameter does not take marked values, their union kept for
 * the result. */
struct call_args {
  struct soupc_cty_value **v; /* owned references */
  size_t n;
  struct soupc_cty_marks *marks; /* NULL = none */
};

static void call_args_dispose(struct call_args *a) {
  size_t i;

  for (i = 0; i < a->n; i++) {
    soupc_cty_value_free(a->v[i]);
  }
  soupc__free(a->v);
  soupc_cty_marks_free(a->marks);
}

static int call_args_init(struct call_args *a,
                          const struct soupc_cty_function *f,
                          struct soupc_cty_value *const *args, size_t n) {
  size_t i;

  a->v = FN_PTR_ARRAY(n);
  a->n = 0;
  a->marks = NULL;
  if (a->v == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  for (; a->n < n; a->n++) {
    const struct fn_param *p = param_of(f, a->n);
    struct soupc_cty_value *v = soupc__cty_val_ref(args[a->n]);
    i = a->n;
    if ((p == NULL || (p->flags & SOUPC_CTY_PARAM_ALLOW_MARKED) == 0) &&
        soupc__cty_contains_marked(v)) {
      struct soupc_cty_marks *m = NULL, *u = NULL;
      int rv = soupc__cty_unmark_deep(&a->v[i], &m, v);
      if (rv == 0) {
        rv = soupc__cty_marks_union(&u, a->marks, m);
      }
      soupc_cty_marks_free(m);
      if (rv != 0) {
        return rv;
      }
      soupc_cty_marks_free(a->marks);
      a->marks = u;
    } else {
      a->v[i] = v;
    }
  }
  return 0;
}

/* returnTypeForValues. @p orig are the caller's arguments, @p args the
 * same without the marks the parameters do not take. @p dyn is set (with
 * *ret = dynamic) when an argument of dynamic type meets a parameter that
 * does not accept one. */
static int return_type(struct soupc_cty_type **ret, bool *dyn, struct fn_ctx *c,
                       struct soupc_cty_value *const *orig,
                       struct soupc_cty_value *const *args, size_t n) {
  const struct soupc_cty_function *f = c->f;
  size_t i;

  *dyn = false;
  if (f->varparam == NULL && n != f->nparams) {
    return soupc__fn_fail(c, -1,
                          "wrong number of arguments (%zu required; %zu given)",
                          f->nparams, n);
  }
  if (f->varparam != NULL && n < f->nparams) {
    return soupc__fn_fail(
        c, -1, "wrong number of arguments (at least %zu required; %zu given)",
        f->nparams, n);
  }
  for (i = 0; i < n; i++) {
    const struct fn_param *p = param_of(f, i);
    const struct soupc_cty_value *v = orig[i];
    /* go-cty reports a variadic argument's type error with its index
     * among the variadic arguments (function.go uses i, not realI). */
    long idx = i < f->nparams ? (long)i : (long)(i - f->nparams);

    if (cty_is_null(v) && (p->flags & SOUPC_CTY_PARAM_ALLOW_NULL) == 0) {
      return soupc__fn_fail(c, (long)i, "argument must not be null");
    }
    if (v->type->kind == SOUPC_CTY_DYNAMIC) {
      if ((p->flags & SOUPC_CTY_PARAM_ALLOW_DYNAMIC) == 0) {
        *ret = soupc__cty_type_prim(SOUPC_CTY_DYNAMIC);
        *dyn = true;
        return 0;
      }
    } else {
      char *msg = NULL;
      int rv = conform_error(&msg, v->type, soupc__fn_type(p->type));
      if (rv != 0) {
        return rv;
      }
      if (msg != NULL) {
        rv = soupc__fn_fail(c, idx, "%s", msg);
        soupc__free(msg);
        return rv;
      }
    }
  }
  if (f->type == NULL) {
    *ret = soupc__cty_type_ref(soupc__fn_type(f->static_ret));
    return 0;
  }
  return f->type(ret, c, args, n);
}

/* Spec.RefineResult, applied to the result as the deferred call in
 * Function.Call does: RefineWith on an unknown (known results come back
 * unchanged), then NewValue, which may pin the value down. */
static int refine_result(struct soupc_cty_value **v, struct fn_ctx *c,
                         enum fn_refine r) {
  soupc_cty_refiner *b = NULL;
  soupc_status st;
  int rv;

  if (r == FN_REFINE_NONE || cty_is_known(*v) ||
      (*v)->type->kind == SOUPC_CTY_DYNAMIC) {
    return 0;
  }
  rv = soupc_cty_refine_begin(&b, *v);
  if (rv != 0) {
    return rv;
  }
  soupc_cty_refine_not_null(b);
  if (r == FN_REFINE_STRLEN) {
    struct soupc_cty_value *zero = NULL;
    rv = soupc__fn_int(&zero, 0);
    if (rv == 0) {
      soupc_cty_refine_number_lower_bound(b, zero, 1);
      soupc_cty_value_free(zero);
    }
  }
  soupc_status_clear(&st);
  if (rv == 0) {
    struct soupc_cty_value *nv = NULL;
    rv = soupc_cty_refine_finish(&nv, b, &st);
    b = NULL;
    if (rv == 0) {
      soupc_cty_value_free(*v);
      *v = nv;
    }
  }
  if (b != NULL) {
    struct soupc_cty_value *nv = NULL;
    (void)soupc_cty_refine_finish(&nv, b, NULL);
    soupc_cty_value_free(nv);
  }
  return soupc__fn_status(c, -1, rv, &st);
}

static int call(struct soupc_cty_value **out, struct fn_ctx *c,
                struct soupc_cty_value *const *args, size_t n) {
  const struct soupc_cty_function *f = c->f;
  struct soupc_cty_type *ret = NULL;
  struct soupc_cty_value *v = NULL;
  struct call_args a;
  bool dyn, unknown;
  size_t i;
  int rv;

  rv = call_args_init(&a, f, args, n);
  if (rv == 0) {
    rv = return_type(&ret, &dyn, c, args, a.v, n);
  }
  if (rv != 0) {
    call_args_dispose(&a);
    return rv;
  }
  unknown = dyn;
  for (i = 0; i < n; i++) {
    if (!cty_is_known(args[i]) &&
        (param_of(f, i)->flags & SOUPC_CTY_PARAM_ALLOW_UNKNOWN) == 0) {
      unknown = true;
    }
  }
  rv = unknown ? soupc__fn_unknown(&v, ret) : f->impl(&v, c, a.v, n, ret);
  if (rv == 0 && a.marks != NULL) {
    rv = soupc__cty_with_marks(&v, v, a.marks);
  }
  call_args_dispose(&a);
  if (rv != 0) {
    soupc_cty_type_free(ret);
    return rv;
  }
  /* Function.Call panics when the result does not conform; that would be
   * a bug here, so say so instead of returning a wrong answer. */
  if (!soupc__cty_type_conforms(v->type, ret)) {
    struct cty_buf b;
    soupc__cty_buf_init(&b);
    soupc__cty_buf_puts(&b, "internal error: ");
    soupc__cty_buf_puts(&b, f->name);
    soupc__cty_buf_puts(&b, " returned a value of type ");
    soupc__cty_type_json(&b, v->type);
    soupc__cty_buf_puts(&b, " for result type ");
    soupc__cty_type_json(&b, ret);
    soupc_cty_value_free(v);
    soupc_cty_type_free(ret);
    return soupc__fn_fail_buf(c, -1, &b);
  }
  soupc_cty_type_free(ret);
  if (!dyn) {
    rv = refine_result(&v, c, f->refine);
    if (rv != 0) {
      soupc_cty_value_free(v);
      return rv;
    }
  }
  *out = v;
  return 0;
}

/* ---- the registry ---- */

struct fn_table {
  const struct soupc_cty_function *fns;
  const size_t *count;
};

static const struct fn_table tables[] = {
    {soupc__fn_string, &soupc__fn_string_count},
    {soupc__fn_number, &soupc__fn_number_count},
    {soupc__fn_regex, &soupc__fn_regex_count},
    {soupc__fn_datetime, &soupc__fn_datetime_count},
    {soupc__fn_encoding, &soupc__fn_encoding_count},
    {soupc__fn_general, &soupc__fn_general_count},
    {soupc__fn_collection, &soupc__fn_collection_count},
    {soupc__fn_set, &soupc__fn_set_count},
    {soupc__fn_format, &soupc__fn_format_count},
};

#define MAX_FUNCTIONS 128
static const struct soupc_cty_function *sorted[MAX_FUNCTIONS];
static size_t n_sorted;
static pthread_once_t sorted_once = PTHREAD_ONCE_INIT;

static int by_name(const void *a, const void *b) {
  const struct soupc_cty_function *x =
      *(const struct soupc_cty_function *const *)a;
  const struct soupc_cty_function *y =
      *(const struct soupc_cty_function *const *)b;
  return strcmp(x->name, y->name);
}

static void sort_functions(void) {
  size_t t, i;

  for (t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
    for (i = 0; i < *tables[t].count && n_sorted < MAX_FUNCTIONS; i++) {
      sorted[n_sorted++] = &tables[t].fns[i];
    }
  }
  qsort(sorted, n_sorted, sizeof(void *), by_name);
}

size_t soupc_cty_function_count(void) {
  pthread_once(&sorted_once, sort_functions);
  return n_sorted;
}

const soupc_cty_function *soupc_cty_function_at(size_t i) {
  pthread_once(&sorted_once, sort_functions);
  return i < n_sorted ? sorted[i] : NULL;
}

const soupc_cty_function *soupc_cty_function_lookup(const char *name) {
  size_t lo = 0, hi;

  pthread_once(&sorted_once, sort_functions);
  hi = n_sorted;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    int c = strcmp(sorted[mid]->name, name);
    if (c == 0) {
      return sorted[mid];
    }
    if (c < 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return NULL;
}

const char *soupc_cty_function_name(const soupc_cty_function *f) {
  return f->name;
}

const char *soupc_cty_function_description(const soupc_cty_function *f) {
  return f->description;
}

size_t soupc_cty_function_param_count(const soupc_cty_function *f) {
  return f->nparams;
}

int soupc_cty_function_is_variadic(const soupc_cty_function *f) {
  return f->varparam != NULL;
}

int soupc_cty_function_param(const char **name_out,
                             const soupc_cty_type **type_out,
                             unsigned *flags_out, const soupc_cty_function *f,
                             size_t i) {
  const struct fn_param *p;

  if (i > f->nparams || (i == f->nparams && f->varparam == NULL)) {
    return SOUPC_ERR_NOT_FOUND;
  }
  p = param_of(f, i);
  *name_out = p->name;
  *type_out = soupc__fn_type(p->type);
  *flags_out = p->flags;
  return 0;
}

static int finish(int rv, struct fn_ctx *c, soupc_cty_call_error *err) {
  if (rv == FN_EFAIL && err != NULL) {
    err->message = c->err;
    err->arg_index = c->err_arg;
    c->err = NULL;
  }
  if (c->oom && rv != FN_EFAIL) {
    rv = SOUPC_ERR_NOMEM;
  }
  soupc__free(c->err);
  return rv;
}

int soupc_cty_function_return_type(soupc_cty_type **out,
                                   const soupc_cty_function *f,
                                   const soupc_cty_value *const *args,
                                   size_t nargs, soupc_cty_call_error *err) {
  struct fn_ctx c = {f, NULL, -1, false};
  struct soupc_cty_type *ret = NULL;
  bool dyn;
  int rv;

  if (err != NULL) {
    err->message = NULL;
    err->arg_index = -1;
  }
  {
    struct call_args a;
    rv = call_args_init(&a, f, (struct soupc_cty_value *const *)args, nargs);
    if (rv == 0) {
      rv = return_type(&ret, &dyn, &c, (struct soupc_cty_value *const *)args,
                       a.v, nargs);
    }
    call_args_dispose(&a);
  }
  if (rv == 0) {
    *out = ret;
  }
  return finish(rv, &c, err);
}

int soupc_cty_function_call(soupc_cty_value **out, const soupc_cty_function *f,
                            const soupc_cty_value *const *args, size_t nargs,
                            soupc_cty_call_error *err) {
  struct fn_ctx c = {f, NULL, -1, false};
  int rv;

  if (err != NULL) {
    err->message = NULL;
    err->arg_index = -1;
  }
  rv = call(out, &c, (struct soupc_cty_value *const *)args, nargs);
  return finish(rv, &c, err);
}

int soupc_cty_call(soupc_cty_value **out, const char *name,
                   const soupc_cty_value *const *args, size_t nargs,
                   soupc_cty_call_error *err) {
  const soupc_cty_function *f = soupc_cty_function_lookup(name);

  if (f == NULL) {
    if (err != NULL) {
      err->message = soupc__strdup("unknown function");
      err->arg_index = -1;
    }
    return SOUPC_ERR_NOT_FOUND;
  }
  return soupc_cty_function_call(out, f, args, nargs, err);
}
