/* libFuzzer target: go-cty's convert package (Convert, GetConversion
 * safe and unsafe, Unify and UnifyUnsafe, MismatchMessage). Input: a
 * soup-go type description A, '\n', a type description B, '\n', a rich
 * value of type A. Invariants: a converted value has a type that conforms
 * to B; a unified type is one every input type converts to; converting a
 * value to its own type (no dynamic or optional attribute inside) gives it
 * back. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "soupc/cty.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Splits off the next line. @return its length, or -1 without a '\n'. */
static long take_line(const char **p, size_t *left) {
  const char *nl = memchr(*p, '\n', *left);
  long n;

  if (nl == NULL) {
    return -1;
  }
  n = nl - *p;
  *left -= (size_t)n + 1;
  *p = nl + 1;
  return n;
}

static void check_conversion(const soupc_cty_value *v,
                             const soupc_cty_type *to) {
  soupc_cty_value *out = NULL;
  soupc_status st;

  if (soupc_cty_convert(&out, v, to, NULL, &st) == 0) {
    soupc_cty_path_errors *errs = NULL;
    soupc_cty_value *plain = NULL;
    if (soupc_cty_value_unmark_deep(&plain, NULL, out) == 0 &&
        soupc_cty_type_test_conformance(&errs, soupc_cty_value_type(plain),
                                        to) == 0) {
      assert(soupc_cty_path_errors_count(errs) == 0);
    }
    soupc_cty_path_errors_free(errs);
    soupc_cty_value_free(plain);
  }
  soupc_cty_value_free(out);
}

static void check_unify(const soupc_cty_type *a, const soupc_cty_type *b) {
  const soupc_cty_type *types[2];
  int unsafe;

  types[0] = a;
  types[1] = b;
  for (unsafe = 0; unsafe < 2; unsafe++) {
    soupc_cty_type *u = NULL;
    soupc_cty_conversion **convs = NULL;
    if (soupc_cty_unify(&u, &convs, types, 2, unsafe) != 0 || u == NULL) {
      continue;
    }
    /* each input either is the unified type or has a conversion to it */
    assert(convs[0] != NULL || soupc_cty_type_equals(a, u) ||
           soupc_cty_type_kind(u) == SOUPC_CTY_DYNAMIC);
    assert(convs[1] != NULL || soupc_cty_type_equals(b, u) ||
           soupc_cty_type_kind(u) == SOUPC_CTY_DYNAMIC);
    soupc_cty_conversions_free(convs, 2);
    soupc_cty_type_free(u);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *p = (const char *)data;
  size_t left = size;
  const char *ta, *tb;
  long la, lb;
  soupc_cty_type *a = NULL, *b = NULL;
  soupc_cty_value *v = NULL;
  soupc_cty_conversion *conv = NULL;
  soupc_status st;
  char *msg = NULL;

  ta = p;
  la = take_line(&p, &left);
  tb = p;
  lb = la < 0 ? -1 : take_line(&p, &left);
  if (lb < 0 || soupc_cty_type_parse(&a, ta, (size_t)la, &st) != 0) {
    return 0;
  }
  if (soupc_cty_type_parse(&b, tb, (size_t)lb, &st) != 0) {
    soupc_cty_type_free(a);
    return 0;
  }
  if (soupc_cty_get_conversion(&conv, a, b) == 0) {
    soupc_cty_conversion_free(conv);
  }
  conv = NULL;
  if (soupc_cty_get_conversion_unsafe(&conv, a, b) == 0) {
    soupc_cty_conversion_free(conv);
  }
  if (soupc_cty_mismatch_message(&msg, NULL, a, b) == 0) {
    soupc_cty_free_bytes(msg);
  }
  check_unify(a, b);
  if (soupc_cty_value_from_rich_json(&v, a, p, left, &st) == 0) {
    soupc_cty_value *same = NULL;
    const soupc_cty_type *vt = soupc_cty_value_type(v);
    soupc_cty_type *plain = NULL;
    check_conversion(v, b);
    /* with no dynamic or optional attribute inside, a value converts to
     * its own type unchanged (go-cty drops optional markers otherwise) */
    if (!soupc_cty_type_has_dynamic(vt) &&
        soupc_cty_type_without_optional_attributes(&plain, vt) == 0 &&
        soupc_cty_type_equals(plain, vt) &&
        soupc_cty_convert(&same, v, vt, NULL, &st) == 0) {
      assert(soupc_cty_value_raw_equals(same, v));
    }
    soupc_cty_type_free(plain);
    soupc_cty_value_free(same);
    soupc_cty_value_free(v);
  }
  soupc_cty_type_free(a);
  soupc_cty_type_free(b);
  return 0;
}
