/* The cty value model through the public API: marks, capsules, convert,
 * unify, Equals, ranges and refinements, Walk/Transform, UnknownAsNull and
 * SafeKnownPrefix. Expected values are go-cty's (v1.16.4 run through
 * soup-go's cty commands; see docs/internals/cty.md). */
#include "soupc/cty.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static soupc_cty_type *ty(const char *json) {
  soupc_cty_type *t = NULL;
  soupc_status st;

  assert_int_equal(soupc_cty_type_parse(&t, json, strlen(json), &st), 0);
  return t;
}

static soupc_cty_value *rich(const char *type_json, const char *value) {
  soupc_cty_type *t = ty(type_json);
  soupc_cty_value *v = NULL;
  soupc_status st;
  int rv = soupc_cty_value_from_rich_json(&v, t, value, strlen(value), &st);

  if (rv != 0) {
    fail_msg("%s: %s", value, st.message);
  }
  soupc_cty_type_free(t);
  return v;
}

static void assert_rich(const soupc_cty_value *v, const char *want) {
  char *s = NULL;
  size_t n = 0;
  soupc_status st;

  assert_int_equal(soupc_cty_value_to_rich_json(&s, &n, v, &st), 0);
  assert_string_equal(s, want);
  soupc_cty_free_bytes(s);
}

static void assert_type(const soupc_cty_type *t, const char *want) {
  char *s = NULL;
  size_t n = 0;

  assert_int_equal(soupc_cty_type_to_json(&s, &n, t), 0);
  assert_string_equal(s, want);
  soupc_cty_free_bytes(s);
}

static void assert_gostring(const soupc_cty_value *v, const char *want) {
  char *s = NULL;
  size_t n = 0;

  assert_int_equal(soupc_cty_value_gostring(&s, &n, v), 0);
  assert_string_equal(s, want);
  soupc_cty_free_bytes(s);
}

static void marks_unmark_and_come_back_by_path(void **state) {
  soupc_cty_value *v = rich("[\"map\",[\"list\",\"string\"]]",
                            "{\"k\":{\"$marks\":[\"x\",\"y\"],\"$value\":"
                            "[{\"$marks\":[\"z\"],\"$value\":\"a\"}]}}");
  soupc_cty_value *plain = NULL, *back = NULL;
  soupc_cty_path_marks *pm = NULL;
  const soupc_cty_path *p;
  soupc_status st;

  (void)state;
  assert_true(soupc_cty_value_contains_marked(v));
  assert_false(soupc_cty_value_is_marked(v));
  assert_int_equal(soupc_cty_value_unmark_deep_with_paths(&plain, &pm, v), 0);
  assert_rich(plain, "{\"k\":[\"a\"]}");
  /* go-cty >= 1.17: a value's marks before its elements' */
  assert_int_equal(soupc_cty_path_marks_count(pm), 2);
  p = soupc_cty_path_marks_path(pm, 0);
  assert_int_equal(soupc_cty_path_length(p), 1);
  assert_int_equal(soupc_cty_marks_count(soupc_cty_path_marks_marks(pm, 0)), 2);
  assert_string_equal(
      soupc_cty_marks_name(soupc_cty_path_marks_marks(pm, 0), 1, NULL), "y");
  assert_int_equal(soupc_cty_path_length(soupc_cty_path_marks_path(pm, 1)), 2);
  assert_int_equal(soupc_cty_value_mark_with_paths(&back, plain, pm, &st), 0);
  assert_true(soupc_cty_value_raw_equals(back, v));
  assert_gostring(v, "cty.MapVal(map[string]cty.Value{\"k\":cty.ListVal([]"
                     "cty.Value{cty.StringVal(\"a\").Mark(\"z\")}).WithMarks("
                     "cty.NewValueMarks(\"x\", \"y\"))})");
  soupc_cty_path_marks_free(pm);
  soupc_cty_value_free(plain);
  soupc_cty_value_free(back);
  soupc_cty_value_free(v);
}

static void set_elements_hand_their_marks_to_the_set(void **state) {
  soupc_cty_value *v = rich("[\"set\",\"string\"]",
                            "[{\"$marks\":[\"s\"],\"$value\":\"b\"},\"a\"]");

  (void)state;
  assert_true(soupc_cty_value_is_marked(v));
  assert_rich(v, "{\"$marks\":[\"s\"],\"$value\":[\"a\",\"b\"]}");
  soupc_cty_value_free(v);
}

static void bytes_capsule_round_trips(void **state) {
  soupc_cty_value *v = rich("\"bytes\"", "{\"$bytes\":\"aGk=\"}");
  const uint8_t *d;
  size_t n;
  uint8_t *mp = NULL;
  soupc_status st;

  (void)state;
  assert_int_equal(soupc_cty_value_bytes_get(v, &d, &n), 0);
  assert_int_equal(n, 2);
  assert_memory_equal(d, "hi", 2);
  assert_rich(v, "{\"$bytes\":\"aGk=\"}");
  assert_gostring(v, "cty.CapsuleVal(cty.Capsule(\"bytes\", reflect.TypeOf("
                     "[]byte(nil))), &[]uint8{0x68, 0x69})");
  assert_int_equal(
      soupc_cty_msgpack_encode(&mp, &n, v, soupc_cty_type_bytes(), &st),
      SOUPC_ERR_CTY_DECODE);
  assert_string_equal(st.message,
                      "capsule types not supported for msgpack encoding");
  soupc_cty_value_free(v);
}

static void convert_follows_go_cty(void **state) {
  soupc_cty_value *v = rich("[\"object\",{\"a\":\"string\",\"b\":\"number\"}]",
                            "{\"a\":\"5\",\"b\":1}");
  soupc_cty_type *want =
      ty("[\"object\",{\"a\":\"number\",\"c\":\"string\"},[\"c\"]]");
  soupc_cty_value *out = NULL;
  soupc_cty_conversion *c = NULL;
  soupc_status st;
  char *msg = NULL;
  size_t n;

  (void)state;
  assert_int_equal(soupc_cty_convert(&out, v, want, NULL, &st), 0);
  assert_rich(out, "{\"a\":5,\"c\":{\"$null\":true}}");
  assert_type(soupc_cty_value_type(out),
              "[\"object\",{\"a\":\"number\",\"c\":\"string\"}]");
  assert_int_equal(soupc_cty_get_conversion(&c, soupc_cty_value_type(v), want),
                   0);
  assert_null(c); /* string -> number is unsafe */
  assert_int_equal(
      soupc_cty_mismatch_message(&msg, &n, soupc_cty_value_type(v), want), 0);
  assert_string_equal(msg, "attribute \"a\": number required");
  soupc_cty_free_bytes(msg);
  soupc_cty_value_free(out);
  soupc_cty_value_free(v);
  soupc_cty_type_free(want);

  v = rich("\"string\"", "\"True\"");
  want = ty("\"bool\"");
  assert_int_equal(soupc_cty_convert(&out, v, want, NULL, &st),
                   SOUPC_ERR_CTY_CONVERT);
  assert_string_equal(st.message, "a bool is required; to convert from string, "
                                  "use lowercase \"true\"");
  soupc_cty_value_free(v);
  soupc_cty_type_free(want);

  /* a set whose length is not known becomes an unknown list */
  v = rich("[\"set\",\"number\"]", "[1,{\"$unknown\":true}]");
  want = ty("[\"list\",\"string\"]");
  assert_int_equal(soupc_cty_convert(&out, v, want, NULL, &st), 0);
  assert_rich(out, "{\"$unknown\":true}");
  assert_type(soupc_cty_value_type(out), "[\"list\",\"number\"]");
  soupc_cty_value_free(out);
  soupc_cty_value_free(v);
  soupc_cty_type_free(want);
}

static void unify_finds_go_ctys_common_type(void **state) {
  static const struct {
    const char *a, *b;
    int unsafe;
    const char *want; /* NULL: none */
  } cases[] = {
      {"\"string\"", "\"number\"", 1, "\"string\""},
      {"\"string\"", "\"number\"", 0, "\"string\""},
      {"[\"list\",\"string\"]", "[\"tuple\",[\"string\",\"number\"]]", 1,
       "[\"list\",\"string\"]"},
      {"[\"object\",{\"a\":\"string\"}]", "[\"object\",{\"b\":\"number\"}]", 1,
       "[\"map\",\"string\"]"},
      {"[\"object\",{\"a\":\"string\"}]", "[\"tuple\",[]]", 1, NULL},
      {"\"bool\"", "\"number\"", 1, NULL},
      {"\"dynamic\"", "[\"list\",\"bool\"]", 1, "\"dynamic\""},
  };
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const soupc_cty_type *ts[2];
    soupc_cty_type *a = ty(cases[i].a), *b = ty(cases[i].b), *u = NULL;
    soupc_cty_conversion **convs = NULL;
    ts[0] = a;
    ts[1] = b;
    assert_int_equal(soupc_cty_unify(&u, &convs, ts, 2, cases[i].unsafe), 0);
    if (cases[i].want == NULL) {
      assert_null(u);
    } else {
      assert_non_null(u);
      assert_type(u, cases[i].want);
    }
    soupc_cty_conversions_free(convs, 2);
    soupc_cty_type_free(u);
    soupc_cty_type_free(a);
    soupc_cty_type_free(b);
  }
}

static void equals_is_three_valued_and_carries_marks(void **state) {
  soupc_cty_value *a = rich("\"string\"", "\"a\"");
  soupc_cty_value *b =
      rich("\"string\"",
           "{\"$unknown\":true,\"$refine\":{\"string_prefix\":\"b\"}}");
  soupc_cty_value *c = rich("\"string\"", "{\"$unknown\":true}");
  soupc_cty_value *m =
      rich("[\"list\",\"string\"]", "[{\"$marks\":[\"s\"],\"$value\":\"a\"}]");
  soupc_cty_value *l = rich("[\"list\",\"string\"]", "[\"a\"]");
  soupc_cty_value *r = NULL;
  soupc_status st;

  (void)state;
  /* the prefix rules "a" out */
  assert_int_equal(soupc_cty_value_equals(&r, a, b, &st), 0);
  assert_rich(r, "false");
  soupc_cty_value_free(r);
  assert_int_equal(soupc_cty_value_equals(&r, a, c, &st), 0);
  assert_rich(r, "{\"$refine\":{\"is_known_null\":false},\"$unknown\":true}");
  soupc_cty_value_free(r);
  assert_int_equal(soupc_cty_value_equals(&r, m, l, &st), 0);
  assert_rich(r, "{\"$marks\":[\"s\"],\"$value\":true}");
  assert_false(soupc_cty_value_raw_equals(m, l));
  soupc_cty_value_free(r);
  soupc_cty_value_free(a);
  soupc_cty_value_free(b);
  soupc_cty_value_free(c);
  soupc_cty_value_free(m);
  soupc_cty_value_free(l);
}

static void refinements_build_ranges_and_collapse(void **state) {
  soupc_cty_value *v =
      rich("\"number\"", "{\"$unknown\":true,\"$refine\":{"
                         "\"number_lower_bound\":[\"1\",true]}}");
  soupc_cty_value *five = rich("\"number\"", "5"),
                  *zero = rich("\"number\"", "0");
  soupc_cty_value *r = NULL, *lo = NULL;
  soupc_cty_range *rng = NULL;
  soupc_cty_refiner *b = NULL;
  soupc_status st;
  int inc = 0;

  (void)state;
  assert_int_equal(soupc_cty_value_range(&rng, v, &st), 0);
  assert_int_equal(soupc_cty_range_number_lower_bound(&lo, &inc, rng, &st), 0);
  assert_rich(lo, "1");
  assert_true(inc);
  assert_int_equal(soupc_cty_range_includes(&r, rng, five, &st), 0);
  assert_rich(r, "{\"$refine\":{\"is_known_null\":false},\"$unknown\":true}");
  soupc_cty_value_free(r);
  assert_int_equal(soupc_cty_range_includes(&r, rng, zero, &st), 0);
  assert_rich(r, "false");
  soupc_cty_value_free(r);
  soupc_cty_value_free(lo);
  soupc_cty_range_free(rng);

  /* a contradiction is go-cty's panic */
  assert_int_equal(soupc_cty_refine_begin(&b, v), 0);
  soupc_cty_refine_number_upper_bound(b, zero, 1);
  assert_int_equal(soupc_cty_refine_finish(&r, b, &st), SOUPC_ERR_CTY_PANIC);
  assert_string_equal(st.message,
                      "refining cty.UnknownVal(cty.Number).Refine()."
                      "NumberLowerBound(cty.NumberIntVal(1), true)."
                      "NewValue() to be <= cty.NumberIntVal(0)");
  soupc_cty_value_free(v);

  /* equal inclusive bounds pin the value down */
  v = rich("\"number\"", "{\"$unknown\":true}");
  assert_int_equal(soupc_cty_refine_begin(&b, v), 0);
  soupc_cty_refine_not_null(b);
  soupc_cty_refine_number_lower_bound(b, five, 1);
  soupc_cty_refine_number_upper_bound(b, five, 1);
  assert_int_equal(soupc_cty_refine_finish(&r, b, &st), 0);
  assert_rich(r, "5");
  soupc_cty_value_free(r);
  soupc_cty_value_free(v);
  soupc_cty_value_free(five);
  soupc_cty_value_free(zero);
}

struct visits {
  char log[512];
};

static int visit(const soupc_cty_path *p, const soupc_cty_value *v, void *ud) {
  struct visits *w = ud;
  size_t used = strlen(w->log);

  (void)v;
  snprintf(w->log + used, sizeof(w->log) - used, "%zu,",
           soupc_cty_path_length(p));
  return 1;
}

static int upper(soupc_cty_value **out, const soupc_cty_path *p,
                 const soupc_cty_value *v, void *ud) {
  soupc_cty_value *raw = NULL, *s = NULL;
  soupc_cty_marks *m = NULL;
  const char *str;
  size_t n, i;
  char buf[64];
  int rv;

  (void)p;
  (void)ud;
  soupc_cty_value_unmark(&raw, &m, v);
  if (soupc_cty_type_kind(soupc_cty_value_type(raw)) != SOUPC_CTY_STRING ||
      !soupc_cty_value_is_known(raw) || soupc_cty_value_is_null(raw) ||
      soupc_cty_value_as_string(raw, &str, &n, NULL) != 0 || n >= sizeof(buf)) {
    soupc_cty_value_free(raw);
    soupc_cty_marks_free(m);
    *out = soupc_cty_value_ref(v);
    return 0;
  }
  for (i = 0; i < n; i++) {
    buf[i] = (char)(str[i] >= 'a' && str[i] <= 'z' ? str[i] - 32 : str[i]);
  }
  rv = soupc_cty_value_string(&s, buf, n);
  if (rv == 0) {
    rv = soupc_cty_value_with_marks(out, s, m);
  }
  soupc_cty_value_free(s);
  soupc_cty_value_free(raw);
  soupc_cty_marks_free(m);
  return rv;
}

static void walk_and_transform_visit_in_go_ctys_order(void **state) {
  soupc_cty_value *v = rich("[\"object\",{\"a\":[\"list\",\"string\"],\"b\":"
                            "\"bool\"}]",
                            "{\"a\":[\"x\"],\"b\":true}");
  soupc_cty_value *l = rich("[\"list\",\"string\"]",
                            "[\"a\",{\"$marks\":[\"m\"],\"$value\":\"b\"}]");
  soupc_cty_value *out = NULL;
  struct visits w;
  soupc_status st;

  (void)state;
  memset(&w, 0, sizeof(w));
  assert_int_equal(soupc_cty_walk(v, visit, &w), 0);
  assert_string_equal(w.log, "0,1,2,1,");
  assert_int_equal(soupc_cty_transform(&out, l, upper, NULL, &st), 0);
  assert_rich(out, "[\"A\",{\"$marks\":[\"m\"],\"$value\":\"B\"}]");
  soupc_cty_value_free(out);
  soupc_cty_value_free(l);
  l = rich("[\"list\",\"string\"]", "[\"a\",{\"$unknown\":true}]");
  assert_int_equal(soupc_cty_unknown_as_null(&out, l, &st), 0);
  assert_rich(out, "[\"a\",{\"$null\":true}]");
  soupc_cty_value_free(out);
  soupc_cty_value_free(v);
  soupc_cty_value_free(l);
}

static void safe_known_prefix_drops_what_could_still_change(void **state) {
  static const struct {
    const char *in, *want;
  } cases[] = {
      {"hello", "hell"},
      {"hello-", "hello-"},
      {"h\xc3\xa9llo w\xc3\xb6rld", "h\xc3\xa9llo w\xc3\xb6rl"},
      {"e\xcc\x81", ""},
      {"", ""},
      {"a/", "a/"},
  };
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char *p = NULL;
    size_t n = 0;
    assert_int_equal(
        soupc_cty_safe_known_prefix(&p, &n, cases[i].in, strlen(cases[i].in)),
        0);
    assert_string_equal(p, cases[i].want);
    soupc_cty_free_bytes(p);
  }
}

/* docs/api/abi.md: the ops table carries its size, like option structs. */
static void capsule_ops_need_their_init_macro(void **state) {
  soupc_cty_capsule_ops ops;
  soupc_cty_type *ty = NULL;

  (void)state;
  memset(&ops, 0, sizeof(ops));
  assert_int_equal(soupc_cty_type_capsule(&ty, "thing", &ops, NULL),
                   SOUPC_ERR_INVALID_ARGUMENT);
  assert_null(ty);
  ops = (soupc_cty_capsule_ops)SOUPC_CTY_CAPSULE_OPS_INIT;
  assert_int_equal(soupc_cty_type_capsule(&ty, "thing", &ops, NULL), 0);
  assert_string_equal(soupc_cty_type_capsule_name(ty), "thing");
  soupc_cty_type_free(ty);
  ty = NULL;
  assert_int_equal(soupc_cty_type_capsule(&ty, "plain", NULL, NULL), 0);
  soupc_cty_type_free(ty);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(marks_unmark_and_come_back_by_path),
      cmocka_unit_test(set_elements_hand_their_marks_to_the_set),
      cmocka_unit_test(bytes_capsule_round_trips),
      cmocka_unit_test(capsule_ops_need_their_init_macro),
      cmocka_unit_test(convert_follows_go_cty),
      cmocka_unit_test(unify_finds_go_ctys_common_type),
      cmocka_unit_test(equals_is_three_valued_and_carries_marks),
      cmocka_unit_test(refinements_build_ranges_and_collapse),
      cmocka_unit_test(walk_and_transform_visit_in_go_ctys_order),
      cmocka_unit_test(safe_known_prefix_drops_what_could_still_change),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
