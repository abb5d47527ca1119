/* libFuzzer target: random go-cty stdlib function calls (issue 14). Input:
 * one byte choosing the function (modulo soupc_cty_function_count()), then
 * the arguments, one per line, each in `cty call`'s JSON form
 * ({"type":T,"value":V} or "unknown"/"null", optional "marks"). Arguments
 * that do not parse are skipped. Invariants (go-cty's function.Call): a
 * successful call's value, unmarked, conforms to the return type
 * ReturnTypeForValues gives for the same arguments; the result line
 * (`cty call`'s output) can always be written; the same call made twice
 * gives the same result line, and the arguments are left as they were. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "soupc/cty.h"
#include "soupc/cty_function.h"

#define MAX_ARGS 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One call, written as `cty call` writes it; NULL only on NOMEM. */
static char *call_line(const soupc_cty_function *f,
                       const soupc_cty_value *const *args, size_t nargs,
                       soupc_cty_value **result) {
  soupc_cty_call_error err = {NULL, -1};
  soupc_cty_value *out = NULL;
  char *line = NULL;
  size_t len = 0;
  int rc = soupc_cty_function_call(&out, f, args, nargs, &err);

  if (rc == 0 || rc == SOUPC_ERR_INVALID_ARGUMENT) {
    rc = soupc_cty_call_result_to_json(&line, &len, soupc_cty_function_name(f),
                                       out, &err);
    assert(rc == 0 || rc == SOUPC_ERR_NOMEM);
  }
  soupc_cty_call_error_dispose(&err);
  if (result != NULL) {
    *result = out;
  } else {
    soupc_cty_value_free(out);
  }
  return line;
}

static void check_return_type(const soupc_cty_function *f,
                              const soupc_cty_value *const *args, size_t nargs,
                              const soupc_cty_value *result) {
  soupc_cty_type *want = NULL;
  soupc_cty_value *plain = NULL;
  soupc_cty_path_errors *errs = NULL;

  if (soupc_cty_function_return_type(&want, f, args, nargs, NULL) == 0 &&
      soupc_cty_value_unmark_deep(&plain, NULL, result) == 0 &&
      soupc_cty_type_test_conformance(&errs, soupc_cty_value_type(plain),
                                      want) == 0) {
    assert(soupc_cty_path_errors_count(errs) == 0);
  }
  soupc_cty_path_errors_free(errs);
  soupc_cty_value_free(plain);
  soupc_cty_type_free(want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  soupc_cty_value *args[MAX_ARGS];
  char *before[MAX_ARGS];
  const soupc_cty_function *f;
  const char *p, *end;
  soupc_cty_value *result = NULL;
  char *first, *second;
  size_t nargs = 0, i;

  /* Big inputs only make big strings slower; the interest is in shapes. */
  if (size < 1 || size > 4096) {
    return 0;
  }
  f = soupc_cty_function_at(data[0] % soupc_cty_function_count());
  p = (const char *)data + 1;
  end = (const char *)data + size;
  while (p < end && nargs < MAX_ARGS) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
    if (soupc_cty_call_arg_from_json(&args[nargs], p, len, NULL) == 0) {
      nargs++;
    }
    p += len + 1;
  }
  for (i = 0; i < nargs; i++) {
    before[i] = NULL;
    (void)soupc_cty_value_to_rich_json(&before[i], NULL, args[i], NULL);
  }
  first = call_line(f, (const soupc_cty_value *const *)args, nargs, &result);
  if (result != NULL) {
    check_return_type(f, (const soupc_cty_value *const *)args, nargs, result);
  }
  second = call_line(f, (const soupc_cty_value *const *)args, nargs, NULL);
  if (first != NULL && second != NULL) {
    assert(strcmp(first, second) == 0);
  }
  for (i = 0; i < nargs; i++) {
    char *after = NULL;
    if (before[i] != NULL &&
        soupc_cty_value_to_rich_json(&after, NULL, args[i], NULL) == 0) {
      assert(strcmp(before[i], after) == 0);
    }
    soupc_cty_free_bytes(after);
    soupc_cty_free_bytes(before[i]);
    soupc_cty_value_free(args[i]);
  }
  soupc_cty_free_bytes(first);
  soupc_cty_free_bytes(second);
  soupc_cty_value_free(result);
  return 0;
}
