/* Value.GoString (go-cty value_ops.go): the `%#v` form soup-go's
 * `cty rich` reports as go_string. Slices print as []cty.Value{...},
 * maps as map[string]cty.Value{"k":...} with sorted keys, as Go's fmt
 * does. */
#include "cty/cty_int.h"

#include "base/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void items_slice(struct cty_buf *b, const struct soupc_cty_value *v) {
  size_t i;

  soupc__cty_buf_puts(b, "[]cty.Value{");
  for (i = 0; i < v->u.c.n; i++) {
    if (i > 0) {
      soupc__cty_buf_puts(b, ", ");
    }
    soupc__cty_value_gostring(b, v->u.c.items[i]);
  }
  soupc__cty_buf_putc(b, '}');
}

static void items_map(struct cty_buf *b, const struct soupc_cty_value *v) {
  size_t i;

  soupc__cty_buf_puts(b, "map[string]cty.Value{");
  for (i = 0; i < v->u.c.n; i++) {
    const char *k =
        v->type->kind == SOUPC_CTY_MAP ? v->u.c.keys[i] : v->type->names[i];
    size_t kl = v->type->kind == SOUPC_CTY_MAP ? v->u.c.key_lens[i]
                                               : v->type->name_lens[i];
    if (i > 0) {
      soupc__cty_buf_puts(b, ", ");
    }
    soupc__cty_go_quote(b, k, kl);
    soupc__cty_buf_putc(b, ':');
    soupc__cty_value_gostring(b, v->u.c.items[i]);
  }
  soupc__cty_buf_putc(b, '}');
}

/* %#v of a *big.Float is Text('g', -1); of a float64, strconv's shortest
 * 'g', which for an exact float64 is the same digits at precision 53. */
static void number(struct cty_buf *b, const struct cty_num *n) {
  double d;

  if (soupc__cty_num_is_int(n)) {
    soupc__cty_buf_puts(b, "cty.NumberIntVal(");
    soupc__cty_num_text_g(b, n);
  } else if (soupc__cty_num_float64(n, &d) || soupc__cty_num_is_inf(n)) {
    struct cty_num f;
    f = *n;
    f.prec = 53;
    soupc__cty_buf_puts(b, "cty.NumberFloatVal(");
    soupc__cty_num_text_g(b, &f);
  } else {
    struct cty_buf t;
    soupc__cty_buf_init(&t);
    soupc__cty_num_text_f(&t, n);
    soupc__cty_buf_puts(b, "cty.MustParseNumberVal(");
    soupc__cty_go_quote(b, (const char *)t.p, t.len);
    if (t.oom) {
      b->oom = true;
    }
    soupc__cty_buf_dispose(&t);
  }
  soupc__cty_buf_putc(b, ')');
}

/* unknownValRefinement.GoString */
static void refinement(struct cty_buf *b, const struct cty_refine *r) {
  size_t start = b->len;

  if (r->null == CTY_TRI_FALSE) {
    soupc__cty_buf_puts(b, ".NotNull()");
  } else if (r->null == CTY_TRI_TRUE) {
    soupc__cty_buf_puts(b, ".Null()");
  }
  switch (r->kind) {
  case CTY_RF_STRING:
    if (r->prefix_len > 0) {
      soupc__cty_buf_puts(b, ".StringPrefixFull(");
      soupc__cty_go_quote(b, r->prefix, r->prefix_len);
      soupc__cty_buf_putc(b, ')');
    }
    break;
  case CTY_RF_NUMBER:
    if (r->min != NULL && r->min != soupc__cty_inf(true)) {
      soupc__cty_buf_puts(b, ".NumberLowerBound(");
      soupc__cty_value_gostring(b, r->min);
      soupc__cty_buf_puts(b, r->min_inc ? ", true)" : ", false)");
    }
    if (r->max != NULL && r->max != soupc__cty_inf(false)) {
      soupc__cty_buf_puts(b, ".NumberUpperBound(");
      soupc__cty_value_gostring(b, r->max);
      soupc__cty_buf_puts(b, r->max_inc ? ", true)" : ", false)");
    }
    break;
  case CTY_RF_COLLECTION:
    if (r->min_len != 0) {
      soupc__cty_buf_printf(b, ".CollectionLengthLowerBound(%lld)",
                            (long long)r->min_len);
    }
    if (r->max_len != CTY_MAX_INT) {
      soupc__cty_buf_printf(b, ".CollectionLengthUpperBound(%lld)",
                            (long long)r->max_len);
    }
    break;
  default:
    break;
  }
  (void)start;
}

static void capsule(struct cty_buf *b, const struct soupc_cty_value *v) {
  const struct cty_capsule *c = v->type->cap;

  if (c->ops.gostring != NULL) {
    char *s = c->ops.gostring(v->u.payload, c->type_data);
    if (s != NULL) {
      soupc__cty_buf_puts(b, s);
      free(s);
      return;
    }
  }
  soupc__cty_buf_puts(b, "cty.CapsuleVal(");
  soupc__cty_type_gostring(b, v->type);
  soupc__cty_buf_printf(b, ", (%p))", v->u.payload);
}

void soupc__cty_value_gostring(struct cty_buf *b,
                               const struct soupc_cty_value *v) {
  if (cty_is_marked(v)) {
    const struct soupc_cty_marks *m = v->u.mk.marks;
    size_t i;
    soupc__cty_value_gostring(b, v->u.mk.inner);
    if (m->n == 1) {
      soupc__cty_buf_puts(b, ".Mark(");
      soupc__cty_go_quote(b, m->names[0], m->lens[0]);
      soupc__cty_buf_putc(b, ')');
      return;
    }
    soupc__cty_buf_puts(b, ".WithMarks(cty.NewValueMarks(");
    for (i = 0; i < m->n; i++) {
      if (i > 0) {
        soupc__cty_buf_puts(b, ", ");
      }
      soupc__cty_go_quote(b, m->names[i], m->lens[i]);
    }
    soupc__cty_buf_puts(b, "))");
    return;
  }
  if (v->flags & CTY_V_NULL) {
    soupc__cty_buf_puts(b, "cty.NullVal(");
    soupc__cty_type_gostring(b, v->type);
    soupc__cty_buf_putc(b, ')');
    return;
  }
  if (cty_is_dynamic_val(v)) {
    soupc__cty_buf_puts(b, "cty.DynamicVal");
    return;
  }
  if (v->flags & CTY_V_UNKNOWN) {
    soupc__cty_buf_puts(b, "cty.UnknownVal(");
    soupc__cty_type_gostring(b, v->type);
    soupc__cty_buf_putc(b, ')');
    if (v->refine != NULL) {
      struct cty_buf r;
      soupc__cty_buf_init(&r);
      refinement(&r, v->refine);
      if (r.len == 10 && memcmp(r.p, ".NotNull()", 10) == 0) {
        soupc__cty_buf_puts(b, ".RefineNotNull()");
      } else {
        soupc__cty_buf_puts(b, ".Refine()");
        soupc__cty_buf_put(b, r.p, r.len);
        soupc__cty_buf_puts(b, ".NewValue()");
      }
      if (r.oom) {
        b->oom = true;
      }
      soupc__cty_buf_dispose(&r);
    }
    return;
  }
  switch (v->type->kind) {
  case SOUPC_CTY_BOOL:
    soupc__cty_buf_puts(b, v->u.b ? "cty.True" : "cty.False");
    return;
  case SOUPC_CTY_NUMBER:
    number(b, v->u.num);
    return;
  case SOUPC_CTY_STRING:
    soupc__cty_buf_puts(b, "cty.StringVal(");
    soupc__cty_go_quote(b, v->u.str.s, v->u.str.len);
    soupc__cty_buf_putc(b, ')');
    return;
  case SOUPC_CTY_SET:
  case SOUPC_CTY_LIST:
    if (v->u.c.n == 0) {
      soupc__cty_buf_puts(b, v->type->kind == SOUPC_CTY_SET
                                 ? "cty.SetValEmpty("
                                 : "cty.ListValEmpty(");
      soupc__cty_type_gostring(b, v->type->elem);
    } else {
      soupc__cty_buf_puts(b, v->type->kind == SOUPC_CTY_SET ? "cty.SetVal("
                                                            : "cty.ListVal(");
      items_slice(b, v);
    }
    soupc__cty_buf_putc(b, ')');
    return;
  case SOUPC_CTY_MAP:
    if (v->u.c.n == 0) {
      soupc__cty_buf_puts(b, "cty.MapValEmpty(");
      soupc__cty_type_gostring(b, v->type->elem);
    } else {
      soupc__cty_buf_puts(b, "cty.MapVal(");
      items_map(b, v);
    }
    soupc__cty_buf_putc(b, ')');
    return;
  case SOUPC_CTY_TUPLE:
    if (v->type->n == 0) {
      soupc__cty_buf_puts(b, "cty.EmptyTupleVal");
      return;
    }
    soupc__cty_buf_puts(b, "cty.TupleVal(");
    items_slice(b, v);
    soupc__cty_buf_putc(b, ')');
    return;
  case SOUPC_CTY_OBJECT:
    if (v->type->n == 0) {
      soupc__cty_buf_puts(b, "cty.EmptyObjectVal");
      return;
    }
    soupc__cty_buf_puts(b, "cty.ObjectVal(");
    items_map(b, v);
    soupc__cty_buf_putc(b, ')');
    return;
  case SOUPC_CTY_CAPSULE:
    capsule(b, v);
    return;
  case SOUPC_CTY_DYNAMIC:
    soupc__cty_buf_puts(b, "cty.DynamicVal");
    return;
  }
}

int soupc_cty_value_gostring(char **out, size_t *len_out,
                             const soupc_cty_value *v) {
  struct cty_buf b;

  soupc__cty_buf_init(&b);
  soupc__cty_value_gostring(&b, v);
  return soupc__cty_buf_take(&b, out, len_out);
}
