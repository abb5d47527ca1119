/* cty numbers: Go big.Float parsing and formatting (spec §2.3, §9.2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/alloc.h"
#include "cty/cty_int.h"

static char *text_f(const char *in) {
  struct cty_num *n = soupc__cty_num_new(512);
  struct cty_buf b;
  const char *why;

  assert_int_equal(soupc__cty_num_parse(n, in, strlen(in), &why), 0);
  soupc__cty_buf_init(&b);
  soupc__cty_num_text_f(&b, n);
  soupc__cty_buf_putc(&b, 0);
  soupc__cty_num_free(n);
  return (char *)b.p;
}

static void check_f(const char *in, const char *want) {
  char *got = text_f(in);

  assert_string_equal(got, want);
  soupc__free(got);
}

static void parsed_numbers_print_shortest_decimal(void **state) {
  (void)state;
  check_f("0.1", "0.1");
  check_f("123.45", "123.45");
  check_f("-0", "-0");
  check_f("1e21", "1000000000000000000000");
  check_f("1.23E-10", "0.000000000123");
  check_f("+1", "1");
  check_f(".5", "0.5");
  check_f("5.", "5");
  check_f("1p3", "8"); /* big.ParseFloat accepts a binary exponent */
  check_f("Inf", "+Inf");
  check_f("-inf", "-Inf");
  check_f("1.23456789012345678901234567890", "1.2345678901234567890123456789");
}

static void go_refused_number_spellings_are_refused(void **state) {
  static const char *const bad[] = {"Infinity", "NaN", "0x10",  "1_000",
                                    "",         "-",   ".",     "1e",
                                    "1e+",      "abc", "1.2.3", " 1"};
  size_t i;
  const char *why;

  (void)state;
  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    struct cty_num *n = soupc__cty_num_new(512);
    assert_int_not_equal(soupc__cty_num_parse(n, bad[i], strlen(bad[i]), &why),
                         0);
    soupc__cty_num_free(n);
  }
}

static void g10_matches_big_float_string(void **state) {
  static const char *const cases[][2] = {
      {"1234567890123", "1.23456789e+12"},
      {"10", "10"},
      {"0.0001", "0.0001"},
      {"0.00001", "1e-05"},
      {"1.5", "1.5"},
      {"0", "0"},
  };
  size_t i;
  const char *why;

  (void)state;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct cty_num *n = soupc__cty_num_new(512);
    struct cty_buf b;
    assert_int_equal(
        soupc__cty_num_parse(n, cases[i][0], strlen(cases[i][0]), &why), 0);
    soupc__cty_buf_init(&b);
    soupc__cty_num_text_g10(&b, n);
    soupc__cty_buf_putc(&b, 0);
    assert_string_equal((char *)b.p, cases[i][1]);
    soupc__cty_buf_dispose(&b);
    soupc__cty_num_free(n);
  }
}

static void float64_values_print_at_53_bits(void **state) {
  struct cty_num *n = soupc__cty_num_new(53);
  struct cty_buf b;

  (void)state;
  soupc__cty_num_set_double(n, 0.1);
  soupc__cty_buf_init(&b);
  soupc__cty_num_text_f(&b, n);
  soupc__cty_buf_putc(&b, 0);
  assert_string_equal((char *)b.p, "0.1");
  soupc__cty_buf_dispose(&b);
  soupc__cty_num_set_double(n, 1e300);
  soupc__cty_buf_init(&b);
  soupc__cty_num_text_f(&b, n);
  soupc__cty_buf_putc(&b, 0);
  assert_int_equal(strlen((char *)b.p), 301);
  soupc__cty_buf_dispose(&b);
  soupc__cty_num_free(n);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(parsed_numbers_print_shortest_decimal),
      cmocka_unit_test(go_refused_number_spellings_are_refused),
      cmocka_unit_test(g10_matches_big_float_string),
      cmocka_unit_test(float64_values_print_at_53_bits),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
