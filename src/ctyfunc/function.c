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

/* ---- Type.TestConformance (cty/type_conform.go): the first error ---- */

/* NOLINTNEXTLINE(misc-no-recursion): values nest at most CTY_MAX_DEPTH */
static bool conform(struct cty_buf *msg, const struct soupc_cty_type *given,
                    const struct soupc_cty_type *want) {
  size_t i;

  if (want->kind == SOUPC_CTY_DYNAMIC || soupc__cty_type_equal(given, want)) {
    return true;
  }
  if (given->kind == SOUPC_CTY_OBJECT && want->kind == SOUPC_CTY_OBJECT) {
    /* Go ranges over maps here, so with several errors the first one is
     * random there; ours is the first in name order. */
    for (i = 0; i < given->n; i++) {
      if (soupc__cty_type_attr(want, given->names[i], given->name_lens[i]) <
          0) {
        soupc__cty_buf_puts(msg, "unsupported attribute ");
        soupc__cty_go_quote(msg, given->names[i], given->name_lens[i]);
        return false;
      }
    }
    for (i = 0; i < want->n; i++) {
      if (soupc__cty_type_attr(given, want->names[i], want->name_lens[i]) < 0) {
        soupc__cty_buf_puts(msg, "missing required attribute ");
        soupc__cty_go_quote(msg, want->names[i], want->name_lens[i]);
        return false;
      }
    }
    for (i = 0; i < want->n; i++) {
      long g = soupc__cty_type_attr(given, want->names[i], want->name_lens[i]);
      if (!conform(msg, given->elems[g], want->elems[i])) {
        return false;
      }
    }
    return true;
  }
  if (given->kind == SOUPC_CTY_TUPLE && want->kind == SOUPC_CTY_TUPLE) {
    if (given->n != want->n) {
      char t[96];
      snprintf(t, sizeof(t), "%zu elements are required, but got %zu", want->n,
               given->n);
      soupc__cty_buf_puts(msg, t);
      return false;
    }
    for (i = 0; i < want->n; i++) {
      if (!conform(msg, given->elems[i], want->elems[i])) {
        return false;
      }
    }
    return true;
  }
  if (given->kind == want->kind &&
      (given->kind == SOUPC_CTY_LIST || given->kind == SOUPC_CTY_MAP ||
       given->kind == SOUPC_CTY_SET)) {
    return conform(msg, given->elem, want->elem);
  }
  soupc__fn_friendly(msg, want, false);
  soupc__cty_buf_puts(msg, " required, but received ");
  soupc__fn_friendly(msg, given, false);
  return false;
}

/* ---- Call ---- */

static const struct fn_param *param_of(const struct soupc_cty_function *f,
                                       size_t i) {
  return i < f->nparams ? &f->params[i] : f->varparam;
}

/* returnTypeForValues. @p dyn is set (with *ret = dynamic) when an argument
 * of dynamic type meets a parameter that does not accept one. */
static int return_type(struct soupc_cty_type **ret, bool *dyn, struct fn_ctx *c,
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
    const struct soupc_cty_value *v = args[i];
    /* go-cty reports a variadic argument's type error with its index
     * among the variadic arguments (function.go uses i, not realI). */
    long idx = i < f->nparams ? (long)i : (long)(i - f->nparams);

    /* TODO(ctymodel): marks. go-cty unmarks (deep) an argument whose
     * parameter lacks AllowMarked before these checks. */
    if (soupc__fn_null_p(v) && (p->flags & SOUPC_CTY_PARAM_ALLOW_NULL) == 0) {
      return soupc__fn_fail(c, (long)i, "argument must not be null");
    }
    if (v->type->kind == SOUPC_CTY_DYNAMIC) {
      if ((p->flags & SOUPC_CTY_PARAM_ALLOW_DYNAMIC) == 0) {
        *ret = soupc__cty_type_prim(SOUPC_CTY_DYNAMIC);
        *dyn = true;
        return 0;
      }
    } else {
      struct cty_buf msg;
      soupc__cty_buf_init(&msg);
      if (!conform(&msg, v->type, soupc__fn_type(p->type))) {
        return soupc__fn_fail_buf(c, idx, &msg);
      }
      soupc__cty_buf_dispose(&msg);
    }
  }
  if (f->type == NULL) {
    *ret = soupc__cty_type_ref(soupc__fn_type(f->static_ret));
    return 0;
  }
  return f->type(ret, c, args, n);
}

/* Spec.RefineResult, applied to the result as the deferred call in
 * Function.Call does: RefineWith on the unknown (known results are
 * unchanged), then NewValue. */
static int refine_result(struct soupc_cty_value **v, enum fn_refine r) {
  int rv;

  if (r == FN_REFINE_NONE || soupc__fn_known(*v) ||
      (*v)->type->kind == SOUPC_CTY_DYNAMIC) {
    return 0;
  }
  rv = soupc__fn_rf_not_null(*v);
  if (rv == 0 && r == FN_REFINE_STRLEN) {
    struct cty_num zero;
    mpfr_init2(zero.f, 64);
    mpfr_set_zero(zero.f, 1);
    zero.prec = 64;
    rv = soupc__fn_rf_lower(*v, &zero, true);
    mpfr_clear(zero.f);
  }
  return rv != 0 ? rv : soupc__fn_rf_finish(v);
}

static int call(struct soupc_cty_value **out, struct fn_ctx *c,
                struct soupc_cty_value *const *args, size_t n) {
  const struct soupc_cty_function *f = c->f;
  struct soupc_cty_type *ret = NULL;
  struct soupc_cty_value *v = NULL;
  bool dyn, unknown;
  size_t i;
  int rv;

  rv = return_type(&ret, &dyn, c, args, n);
  if (rv != 0) {
    return rv;
  }
  unknown = dyn;
  for (i = 0; i < n; i++) {
    /* TODO(ctymodel): marks: UnmarkDeep unless AllowMarked, and collect
     * the marks for the result. */
    if (!soupc__fn_known(args[i]) &&
        (param_of(f, i)->flags & SOUPC_CTY_PARAM_ALLOW_UNKNOWN) == 0) {
      unknown = true;
    }
  }
  if (unknown) {
    rv = soupc__fn_unknown(&v, ret);
  } else {
    rv = f->impl(&v, c, args, n, ret);
  }
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
    rv = refine_result(&v, f->refine);
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
  rv =
      return_type(&ret, &dyn, &c, (struct soupc_cty_value *const *)args, nargs);
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
