/* cty codecs through the public API: go-cty quirks the vectors do not pin,
 * refined unknowns, and an allocation-failure sweep (STYLE.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/alloc.h"
#include "soupc/cty.h"

static soupc_cty_type *type_of(const char *json) {
  soupc_cty_type *t = NULL;
  soupc_status st;

  assert_int_equal(soupc_cty_type_parse(&t, json, strlen(json), &st), 0);
  return t;
}

/* Encodes plain JSON (soup-go's builder) to msgpack hex. */
static char *mp_hex(const char *type, const char *value) {
  soupc_cty_type *t = type_of(type);
  soupc_cty_value *v = NULL;
  soupc_status st;
  uint8_t *b = NULL;
  size_t n = 0, i;
  char *hex;

  assert_int_equal(
      soupc_cty_value_from_json(&v, t, value, strlen(value), 0, &st), 0);
  assert_int_equal(soupc_cty_msgpack_encode(&b, &n, v, t, &st), 0);
  hex = malloc(n * 2 + 1);
  for (i = 0; i < n; i++) {
    snprintf(hex + i * 2, 3, "%02x", b[i]);
  }
  hex[n * 2] = '\0';
  soupc_cty_free_bytes(b);
  soupc_cty_value_free(v);
  soupc_cty_type_free(t);
  return hex;
}

static void check_mp(const char *type, const char *value, const char *want) {
  char *got = mp_hex(type, value);

  assert_string_equal(got, want);
  free(got);
}

static void set_keeps_negative_zero_and_zero_apart(void **state) {
  (void)state;
  /* go-cty hashes -0 as "-0" and 0 as "0": two buckets, two elements,
   * both written as 00 (spec §2.5, §2.3). */
  check_mp("[\"set\",\"number\"]", "[\"-0\",0]", "920000");
  check_mp("[\"set\",\"number\"]", "[1,1.0,\"1\"]", "9101");
}

static void strings_and_keys_are_nfc(void **state) {
  (void)state;
  check_mp("\"string\"", "\"e\\u0301\"", "a2c3a9");
  check_mp("[\"map\",\"bool\"]", "{\"e\\u0301\":true}", "81a2c3a9c3");
  check_mp("[\"object\",{\"\\u00e9\":\"bool\"}]", "{\"e\\u0301\":false}",
           "81a2c3a9c2");
}

static void dynamic_list_elements_of_different_types_are_refused(void **state) {
  soupc_cty_type *t = type_of("[\"list\",\"dynamic\"]");
  soupc_cty_value *v = NULL;
  soupc_status st;
  char *js = NULL;
  size_t n = 0;

  (void)state;
  assert_int_equal(
      soupc_cty_json_decode(&v, t,
                            "[{\"value\":1,\"type\":\"number\"},"
                            "{\"value\":\"x\",\"type\":\"string\"}]",
                            67, &st),
      SOUPC_ERR_CTY_PANIC); /* cty.ListVal panics */
  assert_non_null(strstr(st.message,
                         "inconsistent list element types (cty.Number then "
                         "cty.String)"));
  soupc_cty_type_free(t);
  (void)js;
  (void)n;
}

static void refined_unknowns_round_trip_through_msgpack(void **state) {
  static const char *const cases[][2] = {
      {"\"string\"", "d70c8201c202a370792d"},
      {"\"number\"", "c7110c820392cb3ff8000000000000c204920ac3"},
      {"[\"list\",\"string\"]", "c7050c8205010605"},
      {"[\"map\",\"string\"]", "c7030c810600"},
      {"\"string\"", "d40000"},
  };
  size_t i, j;

  (void)state;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    soupc_cty_type *t = type_of(cases[i][0]);
    soupc_cty_value *v = NULL;
    soupc_status st;
    uint8_t in[64], *out = NULL;
    size_t n = strlen(cases[i][1]) / 2, on = 0;
    for (j = 0; j < n; j++) {
      unsigned x;
      sscanf(cases[i][1] + j * 2, "%2x", &x);
      in[j] = (uint8_t)x;
    }
    assert_int_equal(soupc_cty_msgpack_decode(&v, t, in, n, &st), 0);
    assert_false(soupc_cty_value_is_known(v));
    assert_int_equal(soupc_cty_msgpack_encode(&out, &on, v, t, &st), 0);
    assert_int_equal(on, n);
    assert_memory_equal(out, in, n);
    soupc_cty_free_bytes(out);
    soupc_cty_value_free(v);
    soupc_cty_type_free(t);
  }
}

static void refinement_on_the_wrong_type_is_refused(void **state) {
  soupc_cty_type *t = type_of("\"number\"");
  soupc_cty_value *v = NULL;
  soupc_status st;
  static const uint8_t prefix[] = {0xd6, 0x0c, 0x81, 0x02, 0xa1, 0x61};

  (void)state;
  assert_int_equal(soupc_cty_msgpack_decode(&v, t, prefix, 6, &st),
                   SOUPC_ERR_CTY_DECODE);
  assert_non_null(strstr(st.message, "non-string"));
  soupc_cty_type_free(t);
}

static void hostile_msgpack_counts_fail_cleanly(void **state) {
  soupc_cty_type *t = type_of("[\"list\",\"string\"]");
  soupc_cty_value *v = NULL;
  soupc_status st;
  static const uint8_t huge[] = {0xdd, 0xff, 0xff, 0xff, 0xff};
  static const uint8_t truncated[] = {0x93, 0xa1, 0x61};

  (void)state;
  assert_int_equal(soupc_cty_msgpack_decode(&v, t, huge, sizeof(huge), &st),
                   SOUPC_ERR_CTY_DECODE);
  assert_int_equal(
      soupc_cty_msgpack_decode(&v, t, truncated, sizeof(truncated), &st),
      SOUPC_ERR_CTY_DECODE);
  assert_int_equal(soupc_cty_msgpack_decode(&v, t, NULL, 0, &st),
                   SOUPC_ERR_CTY_DECODE);
  soupc_cty_type_free(t);
}

/* One pass of everything a wire round trip does. */
static int scenario(void) {
  static const char type[] =
      "[\"object\",{\"a\":[\"list\",\"string\"],\"b\":[\"set\",[\"object\","
      "{\"n\":\"number\"}]],\"c\":[\"map\",\"number\"],\"d\":[\"tuple\","
      "[\"bool\",\"string\"]],\"e\":\"string\"},[\"e\"]]";
  static const char value[] =
      "{\"a\":[\"x\",\"e\\u0301\"],\"b\":[{\"n\":0.1},{\"n\":10},{\"n\":2}],"
      "\"c\":{\"k\":1e400,\"j\":-1.5},\"d\":[true,\"\\u00e9\"]}";
  soupc_cty_type *t = NULL;
  soupc_cty_value *v = NULL, *back = NULL, *jback = NULL;
  soupc_status st;
  uint8_t *mp = NULL;
  char *js = NULL;
  size_t mn = 0, jn = 0;
  int rv;

  rv = soupc_cty_type_parse(&t, type, sizeof(type) - 1, &st);
  if (rv == 0) {
    rv = soupc_cty_value_from_json(&v, t, value, sizeof(value) - 1, 0, &st);
  }
  if (rv == 0) {
    rv = soupc_cty_msgpack_encode(&mp, &mn, v, t, &st);
  }
  if (rv == 0) {
    rv = soupc_cty_msgpack_decode(&back, t, mp, mn, &st);
  }
  if (rv == 0) {
    rv = soupc_cty_json_encode(&js, &jn, back, t, &st);
  }
  if (rv == 0) {
    rv = soupc_cty_json_decode(&jback, t, js, jn, &st);
  }
  /* The comparison itself allocates (number text); keep it out of the
   * sweep so a failure there is not mistaken for a wrong value. */
  soupc__alloc_fail_at(0);
  /* v holds only the attributes given (as soup-go builds it); Marshal
   * converts it, so compare what goes on the wire. */
  if (rv == 0) {
    uint8_t *mp2 = NULL;
    size_t mn2 = 0;
    if (soupc_cty_msgpack_encode(&mp2, &mn2, back, t, &st) != 0 || mn2 != mn ||
        memcmp(mp2, mp, mn) != 0) {
      rv = -1000;
    }
    soupc_cty_free_bytes(mp2);
  }
  soupc_cty_free_bytes(mp);
  soupc_cty_free_bytes(js);
  soupc_cty_value_free(jback);
  soupc_cty_value_free(back);
  soupc_cty_value_free(v);
  soupc_cty_type_free(t);
  return rv;
}

static void
every_allocation_failure_is_reported_and_leaks_nothing(void **state) {
  long total, i;

  (void)state;
  soupc__alloc_count_reset();
  assert_int_equal(scenario(), 0);
  total = soupc__alloc_count();
  assert_true(total > 50);
  for (i = 1; i <= total; i++) {
    int rv;
    soupc__alloc_fail_at(i);
    rv = scenario();
    soupc__alloc_fail_at(0);
    if (!(rv == 0 || rv == SOUPC_ERR_NOMEM || rv == SOUPC_ERR_CTY_DECODE ||
          rv == SOUPC_ERR_CTY_TYPE)) {
      fprintf(stderr, "allocation %ld of %ld: rv=%d\n", i, total, rv);
    }
    /* An allocation failure must surface as an error, never as a wrong
     * value; a few allocations (caches, scratch buffers) may be retried. */
    assert_true(rv == 0 || rv == SOUPC_ERR_NOMEM ||
                rv == SOUPC_ERR_CTY_DECODE || rv == SOUPC_ERR_CTY_TYPE);
    assert_int_not_equal(rv, -1000);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(set_keeps_negative_zero_and_zero_apart),
      cmocka_unit_test(strings_and_keys_are_nfc),
      cmocka_unit_test(dynamic_list_elements_of_different_types_are_refused),
      cmocka_unit_test(refined_unknowns_round_trip_through_msgpack),
      cmocka_unit_test(refinement_on_the_wrong_type_is_refused),
      cmocka_unit_test(hostile_msgpack_counts_fail_cleanly),
      cmocka_unit_test(every_allocation_failure_is_reported_and_leaks_nothing),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
