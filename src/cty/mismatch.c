/* convert.MismatchMessage (go-cty >= 1.16.3, convert/mismatch_msg.go):
 * the sentence a user sees when a value's type cannot become the wanted
 * one. Attributes are considered in sorted order (go-cty ranges over a Go
 * map, so with several bad attributes its choice varies run to run). */
#include "cty/cty_int.h"

#include "base/alloc.h"

#include <string.h>

typedef const struct soupc_cty_type *ctype;

static void constraint_required(struct cty_buf *b, ctype want) {
  soupc__cty_type_friendly(b, want, true);
  soupc__cty_buf_puts(b, " required");
}

static bool has_conv(ctype from, ctype to, bool unsafe) {
  struct soupc_cty_conversion *c = NULL;
  bool ok;

  if ((unsafe ? soupc_cty_get_conversion_unsafe(&c, from, to)
              : soupc_cty_get_conversion(&c, from, to)) != 0) {
    return false;
  }
  ok = c != NULL;
  soupc_cty_conversion_free(c);
  return ok;
}

static void attr_mismatch(struct cty_buf *b, const char *name, size_t len,
                          ctype got, ctype want) {
  soupc__cty_buf_puts(b, "attribute ");
  soupc__cty_go_quote(b, name, len);
  soupc__cty_buf_puts(b, ": ");
  soupc__cty_mismatch(b, got, want);
}

static void objects(struct cty_buf *b, ctype got, ctype want) {
  size_t i, missing = 0, nmissing = 0;
  long unsafe_attr = -1, safe_attr = -1, j;

  for (i = 0; i < want->n; i++) {
    j = soupc__cty_type_attr(got, want->names[i], want->name_lens[i]);
    if (j < 0) {
      if (want->optional == NULL || !want->optional[i]) {
        nmissing++;
      }
      continue;
    }
    if (soupc__cty_type_equal(got->elems[j], want->elems[i])) {
      continue;
    }
    if (unsafe_attr >= 0) {
      continue;
    }
    if (!has_conv(got->elems[j], want->elems[i], true)) {
      unsafe_attr = (long)i;
    }
    if (safe_attr >= 0) {
      continue;
    }
    if (!has_conv(got->elems[j], want->elems[i], false)) {
      safe_attr = (long)i;
    }
  }
  if (nmissing > 0) {
    /* names sorted: the attribute order already is */
    soupc__cty_buf_puts(b, nmissing == 1 ? "attribute " : "attributes ");
    for (i = 0; i < want->n; i++) {
      if (soupc__cty_type_attr(got, want->names[i], want->name_lens[i]) >= 0 ||
          (want->optional != NULL && want->optional[i])) {
        continue;
      }
      if (missing > 0) {
        if (nmissing == 2) {
          soupc__cty_buf_puts(b, " and ");
        } else if (missing + 1 == nmissing) {
          soupc__cty_buf_puts(b, ", and ");
        } else {
          soupc__cty_buf_puts(b, ", ");
        }
      }
      soupc__cty_go_quote(b, want->names[i], want->name_lens[i]);
      missing++;
    }
    soupc__cty_buf_puts(b, nmissing == 1 ? " is required" : " are required");
    return;
  }
  for (i = 0; i < 2; i++) {
    long a = i == 0 ? unsafe_attr : safe_attr;
    if (a >= 0) {
      j = soupc__cty_type_attr(got, want->names[a], want->name_lens[a]);
      attr_mismatch(b, want->names[a], want->name_lens[a], got->elems[j],
                    want->elems[a]);
      return;
    }
  }
  soupc__cty_buf_puts(b, "incorrect object attributes");
}

static void from_structural(struct cty_buf *b, ctype got, ctype want) {
  ctype wety;
  size_t i;

  if ((want->kind == SOUPC_CTY_LIST || want->kind == SOUPC_CTY_SET) &&
      got->kind != SOUPC_CTY_TUPLE) {
    constraint_required(b, want);
    return;
  }
  if (want->kind == SOUPC_CTY_MAP && got->kind != SOUPC_CTY_OBJECT) {
    constraint_required(b, want);
    return;
  }
  wety = want->elem;
  for (i = 0; i < got->n; i++) {
    if (soupc__cty_type_equal(got->elems[i], wety) ||
        has_conv(got->elems[i], wety, true)) {
      continue;
    }
    if (got->kind == SOUPC_CTY_TUPLE) {
      soupc__cty_buf_printf(b, "element %zu: ", i);
    } else {
      soupc__cty_buf_puts(b, "element ");
      soupc__cty_go_quote(b, got->names[i], got->name_lens[i]);
      soupc__cty_buf_puts(b, ": ");
    }
    soupc__cty_mismatch(b, got->elems[i], wety);
    return;
  }
  soupc__cty_buf_puts(b, "all elements must be ");
  soupc__cty_type_friendly(b, wety, true);
}

static void from_collections(struct cty_buf *b, ctype got, ctype want) {
  if ((want->kind == SOUPC_CTY_LIST || want->kind == SOUPC_CTY_SET) &&
      got->kind != SOUPC_CTY_LIST && got->kind != SOUPC_CTY_SET) {
    constraint_required(b, want);
    return;
  }
  if (want->kind == SOUPC_CTY_MAP && got->kind != SOUPC_CTY_MAP) {
    constraint_required(b, want);
    return;
  }
  soupc__cty_buf_puts(
      b, want->kind == SOUPC_CTY_LIST  ? "incorrect list element type: "
         : want->kind == SOUPC_CTY_SET ? "incorrect set element type: "
                                       : "incorrect map element type: ");
  soupc__cty_mismatch(b, got->elem, want->elem);
}

/* typesAreLikelyToCauseConfusion */
static bool confusing(ctype got, ctype want) {
  bool gp = got->kind <= SOUPC_CTY_BOOL, wp = want->kind <= SOUPC_CTY_BOOL;

  if (gp != wp) {
    return false;
  }
  if (want->kind == SOUPC_CTY_STRING) {
    return false;
  }
  if ((want->kind == SOUPC_CTY_BOOL && got->kind == SOUPC_CTY_NUMBER) ||
      (got->kind == SOUPC_CTY_BOOL && want->kind == SOUPC_CTY_NUMBER)) {
    return false;
  }
  if (cty_kind_is_coll(got->kind) && cty_kind_is_coll(want->kind) &&
      !got->elem->has_dyn && want->elem->has_dyn) {
    return false;
  }
  if (got->kind == SOUPC_CTY_TUPLE && want->kind == SOUPC_CTY_OBJECT) {
    return false;
  }
  return true;
}

void soupc__cty_mismatch(struct cty_buf *b, ctype got, ctype want) {
  if (got->kind == SOUPC_CTY_OBJECT && want->kind == SOUPC_CTY_OBJECT) {
    objects(b, got, want);
  } else if (got->kind == SOUPC_CTY_TUPLE && want->kind == SOUPC_CTY_LIST &&
             want->elem->kind == SOUPC_CTY_DYNAMIC) {
    soupc__cty_buf_puts(b, "all list elements must have the same type");
  } else if (got->kind == SOUPC_CTY_TUPLE && want->kind == SOUPC_CTY_SET &&
             want->elem->kind == SOUPC_CTY_DYNAMIC) {
    soupc__cty_buf_puts(b, "all set elements must have the same type");
  } else if (got->kind == SOUPC_CTY_OBJECT && want->kind == SOUPC_CTY_MAP &&
             want->elem->kind == SOUPC_CTY_DYNAMIC) {
    soupc__cty_buf_puts(b, "all map elements must have the same type");
  } else if ((got->kind == SOUPC_CTY_TUPLE || got->kind == SOUPC_CTY_OBJECT) &&
             cty_kind_is_coll(want->kind)) {
    from_structural(b, got, want);
  } else if (cty_kind_is_coll(got->kind) && cty_kind_is_coll(want->kind)) {
    from_collections(b, got, want);
  } else if (!confusing(got, want)) {
    soupc__cty_type_friendly(b, want, false);
    soupc__cty_buf_puts(b, " required, but have ");
    soupc__cty_type_friendly(b, got, false);
  } else {
    constraint_required(b, want);
  }
}

int soupc_cty_mismatch_message(char **out, size_t *len_out,
                               const soupc_cty_type *got,
                               const soupc_cty_type *want) {
  struct cty_buf b;

  soupc__cty_buf_init(&b);
  soupc__cty_mismatch(&b, got, want);
  return soupc__cty_buf_take(&b, out, len_out);
}
