#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "soupc/soupc.h"

static void every_error_code_has_a_name(void **state) {
  static const int codes[] = {SOUPC_OK,
                              SOUPC_ERR_INVALID_ARGUMENT,
                              SOUPC_ERR_NOT_FOUND,
                              SOUPC_ERR_TOO_LARGE,
                              SOUPC_ERR_IO,
                              SOUPC_ERR_UNSUPPORTED,
                              SOUPC_ERR_CLOSED,
                              SOUPC_ERR_DEADLINE,
                              SOUPC_ERR_CONNECT,
                              SOUPC_ERR_TLS,
                              SOUPC_ERR_PROTOCOL,
                              SOUPC_ERR_STATUS,
                              SOUPC_ERR_HANDSHAKE,
                              SOUPC_ERR_COOKIE,
                              SOUPC_ERR_PLUGIN_EXITED,
                              SOUPC_ERR_STORE_FULL,
                              SOUPC_ERR_STORE,
                              SOUPC_ERR_CTY_DECODE,
                              SOUPC_ERR_CTY_TYPE,
                              SOUPC_ERR_CTY_CONVERT,
                              SOUPC_ERR_CTY_PANIC,
                              SOUPC_ERR_NOMEM,
                              SOUPC_ERR_INTERNAL};
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
    assert_string_not_equal(soupc_strerror(codes[i]), "unknown error");
  }
  assert_string_equal(soupc_strerror(-12345), "unknown error");
}

static void only_the_900_range_is_fatal(void **state) {
  (void)state;
  assert_true(soupc_err_is_fatal(SOUPC_ERR_NOMEM));
  assert_true(soupc_err_is_fatal(SOUPC_ERR_INTERNAL));
  assert_false(soupc_err_is_fatal(SOUPC_ERR_NOT_FOUND));
  assert_false(soupc_err_is_fatal(SOUPC_ERR_STORE_FULL));
  assert_false(soupc_err_is_fatal(SOUPC_OK));
}

static void errors_map_to_grpc_codes(void **state) {
  (void)state;
  assert_int_equal(soupc_err_to_grpc(SOUPC_OK), SOUPC_GRPC_OK);
  assert_int_equal(soupc_err_to_grpc(SOUPC_ERR_NOT_FOUND),
                   SOUPC_GRPC_NOT_FOUND);
  assert_int_equal(soupc_err_to_grpc(SOUPC_ERR_INVALID_ARGUMENT),
                   SOUPC_GRPC_INVALID_ARGUMENT);
  assert_int_equal(soupc_err_to_grpc(SOUPC_ERR_TOO_LARGE),
                   SOUPC_GRPC_RESOURCE_EXHAUSTED);
  assert_int_equal(soupc_err_to_grpc(SOUPC_ERR_STORE_FULL),
                   SOUPC_GRPC_RESOURCE_EXHAUSTED);
  assert_int_equal(soupc_err_to_grpc(SOUPC_ERR_DEADLINE),
                   SOUPC_GRPC_DEADLINE_EXCEEDED);
  assert_int_equal(soupc_err_to_grpc(SOUPC_ERR_STORE), SOUPC_GRPC_INTERNAL);
}

static void grpc_code_names_are_canonical(void **state) {
  (void)state;
  assert_string_equal(soupc_grpc_code_name(0), "OK");
  assert_string_equal(soupc_grpc_code_name(5), "NOT_FOUND");
  assert_string_equal(soupc_grpc_code_name(8), "RESOURCE_EXHAUSTED");
  assert_string_equal(soupc_grpc_code_name(16), "UNAUTHENTICATED");
  assert_string_equal(soupc_grpc_code_name(17), "UNKNOWN");
  assert_string_equal(soupc_grpc_code_name(-1), "UNKNOWN");
}

static void status_message_is_one_line_and_truncated(void **state) {
  soupc_status st;
  char long_text[2000];

  (void)state;
  soupc_status_set(&st, SOUPC_GRPC_INTERNAL, "a\nb\rc %d", 7);
  assert_int_equal(st.code, SOUPC_GRPC_INTERNAL);
  assert_string_equal(st.message, "a b c 7");
  memset(long_text, 'x', sizeof(long_text) - 1);
  long_text[sizeof(long_text) - 1] = '\0';
  soupc_status_set(&st, 1, "%s", long_text);
  assert_int_equal(strlen(st.message), sizeof(st.message) - 1);
  soupc_status_clear(&st);
  assert_int_equal(st.code, 0);
  assert_string_equal(st.message, "");
  soupc_status_set(NULL, 1, "ignored");
  soupc_status_clear(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_error_code_has_a_name),
      cmocka_unit_test(only_the_900_range_is_fatal),
      cmocka_unit_test(errors_map_to_grpc_codes),
      cmocka_unit_test(grpc_code_names_are_canonical),
      cmocka_unit_test(status_message_is_one_line_and_truncated),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
