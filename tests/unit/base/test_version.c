/* src/base/version.c: the run-time version agrees with the generated
 * header, and the header's text, parts and number agree with each other. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soupc/soupc.h"

static void run_time_version_is_the_header_version(void **state) {
  (void)state;
  assert_string_equal(soupc_version(), SOUPC_VERSION);
  assert_int_equal(soupc_version_num(), SOUPC_VERSION_NUM);
}

static void version_text_parts_and_number_agree(void **state) {
  unsigned long major, minor, patch;
  char text[32];
  char *end;

  (void)state;
  major = strtoul(SOUPC_VERSION, &end, 10);
  assert_int_equal(*end, '.');
  minor = strtoul(end + 1, &end, 10);
  assert_int_equal(*end, '.');
  patch = strtoul(end + 1, &end, 10);
  assert_int_equal(*end, '\0');
  assert_int_equal(major, SOUPC_VERSION_MAJOR);
  assert_int_equal(minor, SOUPC_VERSION_MINOR);
  assert_int_equal(patch, SOUPC_VERSION_PATCH);
  assert_int_equal(SOUPC_VERSION_NUM, (major << 16) | (minor << 8) | patch);
  snprintf(text, sizeof(text), "%lu.%lu.%lu", major, minor, patch);
  assert_string_equal(text, SOUPC_VERSION);
}

static void version_num_is_usable_in_the_preprocessor(void **state) {
  (void)state;
#if SOUPC_VERSION_NUM < 0x000100
  fail_msg("SOUPC_VERSION_NUM is below 0.1.0");
#endif
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(run_time_version_is_the_header_version),
      cmocka_unit_test(version_text_parts_and_number_agree),
      cmocka_unit_test(version_num_is_usable_in_the_preprocessor),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
