#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "kv/kv.h"

static int validate(const char *key, size_t len, size_t max, soupc_status *st) {
  return soupc__kv_key_validate((const uint8_t *)key, len, max, st);
}

static void empty_key_is_invalid_argument(void **state) {
  soupc_status st;

  (void)state;
  assert_int_equal(validate("", 0, 100, &st), SOUPC_ERR_INVALID_ARGUMENT);
  assert_int_equal(st.code, SOUPC_GRPC_INVALID_ARGUMENT);
  assert_string_equal(st.message, "key is empty");
}

static void over_limit_key_names_the_limit(void **state) {
  soupc_status st;

  (void)state;
  assert_int_equal(validate("abcdef", 6, 5, &st), SOUPC_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(st.message, "6 bytes"));
  assert_non_null(strstr(st.message, "limit is 5"));
  /* A library names no CLI flag (issue 11): the message is the rule. */
  assert_string_equal(st.message, "key is 6 bytes; the limit is 5 bytes");
  assert_int_equal(validate("abcde", 5, 5, &st), 0);
}

static void invalid_utf8_is_rejected_with_its_offset(void **state) {
  soupc_status st;

  (void)state;
  assert_int_equal(validate("ab\xff", 3, 100, &st), SOUPC_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(st.message, "UTF-8"));
  assert_non_null(strstr(st.message, "offset 2"));
  /* A truncated multi-byte sequence and an encoded surrogate. */
  assert_int_equal(validate("\xe2\x82", 2, 100, &st),
                   SOUPC_ERR_INVALID_ARGUMENT);
  assert_int_equal(validate("\xed\xa0\x80", 3, 100, &st),
                   SOUPC_ERR_INVALID_ARGUMENT);
}

static void nul_unicode_and_traversal_keys_are_valid(void **state) {
  static const char nul[] = "a\0b";
  static const char emoji_rtl[] = "\xf0\x9f\x98\x80 \xd7\xa9\xd7\x9c";
  soupc_status st;

  (void)state;
  assert_int_equal(validate(nul, 3, 100, &st), 0);
  assert_int_equal(validate(emoji_rtl, strlen(emoji_rtl), 100, &st), 0);
  assert_int_equal(validate("../../etc/passwd", 16, 100, &st), 0);
  assert_int_equal(validate("\x01\x7f", 2, 100, &st), 0);
}

static void key_description_escapes_and_truncates(void **state) {
  char buf[16];

  (void)state;
  soupc__kv_key_describe(buf, sizeof(buf), (const uint8_t *)"a\0b", 3);
  assert_string_equal(buf, "a\\x00b");
  soupc__kv_key_describe(buf, sizeof(buf),
                         (const uint8_t *)"0123456789abcdefghij", 20);
  assert_true(strlen(buf) < sizeof(buf));
  assert_non_null(strstr(buf, "..."));
  /* Exactly: eight bytes of room kept for one escape, then "...". */
  assert_string_equal(buf, "01234567...");
  /* A backslash, DEL and controls are escaped; a space and '~' are not. */
  soupc__kv_key_describe(buf, sizeof(buf), (const uint8_t *)" \\~", 3);
  assert_string_equal(buf, " \\x5c~");
  soupc__kv_key_describe(buf, sizeof(buf), (const uint8_t *)"\x7f\x1f", 2);
  assert_string_equal(buf, "\\x7f\\x1f");
}

/* Tiny buffers: still a C string, "..." only where it fits, and a zero
 * capacity writes nothing. */
static void key_description_fits_any_buffer(void **state) {
  char buf[8];

  (void)state;
  memset(buf, 'Z', sizeof(buf));
  soupc__kv_key_describe(buf, 0, (const uint8_t *)"abc", 3);
  assert_int_equal(buf[0], 'Z');
  soupc__kv_key_describe(buf, 1, (const uint8_t *)"abc", 3);
  assert_string_equal(buf, "");
  soupc__kv_key_describe(buf, 3, (const uint8_t *)"abc", 3);
  assert_string_equal(buf, "");
  soupc__kv_key_describe(buf, 4, (const uint8_t *)"abc", 3);
  assert_string_equal(buf, "...");
  soupc__kv_key_describe(buf, sizeof(buf), (const uint8_t *)"", 0);
  assert_string_equal(buf, "");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(empty_key_is_invalid_argument),
      cmocka_unit_test(over_limit_key_names_the_limit),
      cmocka_unit_test(invalid_utf8_is_rejected_with_its_offset),
      cmocka_unit_test(nul_unicode_and_traversal_keys_are_valid),
      cmocka_unit_test(key_description_escapes_and_truncates),
      cmocka_unit_test(key_description_fits_any_buffer),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
