/* src/base/options.c: option structs are read at the caller's size
 * (docs/api/abi.md). A "v1" and "v2" layout stand for the same public
 * struct before and after a release adds a field at its end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "base/options.h"

struct opts_v1 {
  size_t struct_size;
  int workers;
  const char *name;
};

struct opts_v2 {
  size_t struct_size;
  int workers;
  const char *name;
  int new_flag; /* added in "v2" */
};

static void null_options_are_all_defaults(void **state) {
  struct opts_v2 o;
  soupc_status st;

  (void)state;
  memset(&o, 0x5a, sizeof(o));
  assert_int_equal(soupc__options_copy(&o, sizeof(o), NULL, "t", &st), 0);
  assert_int_equal(o.struct_size, sizeof(o));
  assert_int_equal(o.workers, 0);
  assert_null(o.name);
  assert_int_equal(o.new_flag, 0);
}

static void same_size_is_copied_whole(void **state) {
  struct opts_v2 in = {
      .struct_size = sizeof(in), .workers = 3, .name = "x", .new_flag = 1};
  struct opts_v2 o;

  (void)state;
  assert_int_equal(soupc__options_copy(&o, sizeof(o), &in, "t", NULL), 0);
  assert_int_equal(o.workers, 3);
  assert_string_equal(o.name, "x");
  assert_int_equal(o.new_flag, 1);
}

static void older_caller_gets_defaults_for_new_fields(void **state) {
  /* Only the v1 bytes exist: a v1 struct on the heap, so ASan would see a
   * read past it. */
  struct opts_v1 *in = test_malloc(sizeof(*in));
  struct opts_v2 o;

  (void)state;
  in->struct_size = sizeof(*in);
  in->workers = 7;
  in->name = "old";
  memset(&o, 0x5a, sizeof(o));
  assert_int_equal(soupc__options_copy(&o, sizeof(o), in, "t", NULL), 0);
  assert_int_equal(o.struct_size, sizeof(o));
  assert_int_equal(o.workers, 7);
  assert_string_equal(o.name, "old");
  assert_int_equal(o.new_flag, 0);
  test_free(in);
}

static void newer_caller_with_new_fields_unset_is_accepted(void **state) {
  struct opts_v2 in = {.struct_size = sizeof(in), .workers = 2};
  struct opts_v1 o;

  (void)state;
  assert_int_equal(soupc__options_copy(&o, sizeof(o), &in, "t", NULL), 0);
  assert_int_equal(o.struct_size, sizeof(o));
  assert_int_equal(o.workers, 2);
}

static void newer_caller_setting_an_unknown_field_is_unsupported(void **state) {
  struct opts_v2 in = {.struct_size = sizeof(in), .workers = 2, .new_flag = 1};
  struct opts_v1 o;
  soupc_status st;

  (void)state;
  assert_int_equal(
      soupc__options_copy(&o, sizeof(o), &in, "soupc_x_options", &st),
      SOUPC_ERR_UNSUPPORTED);
  assert_int_equal(st.code, SOUPC_GRPC_UNIMPLEMENTED);
  assert_non_null(strstr(st.message, "soupc_x_options sets a field unknown"));
  assert_int_equal(o.workers, 0); /* zeroed on error */
}

static void zeroed_struct_is_not_initialised(void **state) {
  struct opts_v2 in;
  struct opts_v2 o;
  soupc_status st;

  (void)state;
  memset(&in, 0, sizeof(in));
  in.workers = 4;
  assert_int_equal(
      soupc__options_copy(&o, sizeof(o), &in, "soupc_x_options", &st),
      SOUPC_ERR_INVALID_ARGUMENT);
  assert_int_equal(st.code, SOUPC_GRPC_INVALID_ARGUMENT);
  assert_non_null(strstr(st.message, "soupc_x_options.struct_size is 0"));
  assert_non_null(strstr(st.message, "INIT"));
}

static void absurd_size_is_not_initialised(void **state) {
  struct opts_v2 in = {.struct_size = SOUPC__OPTIONS_MAX_SIZE + 1};
  struct opts_v2 o;

  (void)state;
  assert_int_equal(soupc__options_copy(&o, sizeof(o), &in, "t", NULL),
                   SOUPC_ERR_INVALID_ARGUMENT);
  in.struct_size = sizeof(size_t) - 1;
  assert_int_equal(soupc__options_copy(&o, sizeof(o), &in, "t", NULL),
                   SOUPC_ERR_INVALID_ARGUMENT);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(null_options_are_all_defaults),
      cmocka_unit_test(same_size_is_copied_whole),
      cmocka_unit_test(older_caller_gets_defaults_for_new_fields),
      cmocka_unit_test(newer_caller_with_new_fields_unset_is_accepted),
      cmocka_unit_test(newer_caller_setting_an_unknown_field_is_unsupported),
      cmocka_unit_test(zeroed_struct_is_not_initialised),
      cmocka_unit_test(absurd_size_is_not_initialised),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
