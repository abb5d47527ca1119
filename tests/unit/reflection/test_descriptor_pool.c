/* The descriptor pool behind gRPC reflection (src/reflection/): sets built
 * here with protobuf-c's descriptor.proto code, symbol scoping as protoc
 * does it, imports, bad sets, and an allocation-failure sweep over
 * soupc_reflection_new(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "google/protobuf/descriptor.pb-c.h"
#include "reflection/descriptor_pool.h"
#include "soupc/reflection.h"

/* a.proto: package pkg; message Outer { int32 f = 1; message Inner {}
 * enum Color { RED = 0; } } service Svc { rpc Call(Outer) returns (Outer);
 * } extend Outer { int32 ext = 100; }   b.proto imports a.proto. */
static uint8_t *make_set(size_t *len, int with_a) {
  Google__Protobuf__FileDescriptorSet set =
      GOOGLE__PROTOBUF__FILE_DESCRIPTOR_SET__INIT;
  Google__Protobuf__FileDescriptorProto a =
      GOOGLE__PROTOBUF__FILE_DESCRIPTOR_PROTO__INIT;
  Google__Protobuf__FileDescriptorProto b =
      GOOGLE__PROTOBUF__FILE_DESCRIPTOR_PROTO__INIT;
  Google__Protobuf__DescriptorProto outer =
      GOOGLE__PROTOBUF__DESCRIPTOR_PROTO__INIT;
  Google__Protobuf__DescriptorProto inner =
      GOOGLE__PROTOBUF__DESCRIPTOR_PROTO__INIT;
  Google__Protobuf__FieldDescriptorProto f =
      GOOGLE__PROTOBUF__FIELD_DESCRIPTOR_PROTO__INIT;
  Google__Protobuf__FieldDescriptorProto ext =
      GOOGLE__PROTOBUF__FIELD_DESCRIPTOR_PROTO__INIT;
  Google__Protobuf__EnumDescriptorProto color =
      GOOGLE__PROTOBUF__ENUM_DESCRIPTOR_PROTO__INIT;
  Google__Protobuf__EnumValueDescriptorProto red =
      GOOGLE__PROTOBUF__ENUM_VALUE_DESCRIPTOR_PROTO__INIT;
  Google__Protobuf__ServiceDescriptorProto svc =
      GOOGLE__PROTOBUF__SERVICE_DESCRIPTOR_PROTO__INIT;
  Google__Protobuf__MethodDescriptorProto call =
      GOOGLE__PROTOBUF__METHOD_DESCRIPTOR_PROTO__INIT;
  Google__Protobuf__FieldDescriptorProto *fields[] = {&f}, *exts[] = {&ext};
  Google__Protobuf__DescriptorProto *nested[] = {&inner}, *msgs[] = {&outer};
  Google__Protobuf__EnumDescriptorProto *enums[] = {&color};
  Google__Protobuf__EnumValueDescriptorProto *values[] = {&red};
  Google__Protobuf__ServiceDescriptorProto *svcs[] = {&svc};
  Google__Protobuf__MethodDescriptorProto *methods[] = {&call};
  Google__Protobuf__FileDescriptorProto *files[2];
  char *deps[] = {(char *)"a.proto"};
  uint8_t *buf;

  f.name = (char *)"f";
  f.number = 1;
  f.has_number = 1;
  inner.name = (char *)"Inner";
  red.name = (char *)"RED";
  color.name = (char *)"Color";
  color.n_value = 1;
  color.value = values;
  outer.name = (char *)"Outer";
  outer.n_field = 1;
  outer.field = fields;
  outer.n_nested_type = 1;
  outer.nested_type = nested;
  outer.n_enum_type = 1;
  outer.enum_type = enums;
  call.name = (char *)"Call";
  call.input_type = (char *)".pkg.Outer";
  call.output_type = (char *)".pkg.Outer";
  svc.name = (char *)"Svc";
  svc.n_method = 1;
  svc.method = methods;
  ext.name = (char *)"ext";
  ext.number = 100;
  ext.has_number = 1;
  ext.extendee = (char *)".pkg.Outer";
  a.name = (char *)"a.proto";
  a.package = (char *)"pkg";
  a.n_message_type = 1;
  a.message_type = msgs;
  a.n_service = 1;
  a.service = svcs;
  a.n_extension = 1;
  a.extension = exts;
  b.name = (char *)"b.proto";
  b.package = (char *)"other";
  b.n_dependency = 1;
  b.dependency = deps;
  files[0] = &b;
  files[1] = &a;
  set.n_file = with_a ? 2 : 1;
  set.file = files;
  *len = google__protobuf__file_descriptor_set__get_packed_size(&set);
  buf = malloc(*len);
  google__protobuf__file_descriptor_set__pack(&set, buf);
  return buf;
}

static void symbols_are_scoped_as_protoc_scopes_them(void **state) {
  struct dpool p;
  soupc_status st;
  size_t len;
  uint8_t *set = make_set(&len, 1);
  static const char *const names[] = {
      "pkg.Outer",     "pkg.Outer.f", "pkg.Outer.Inner", "pkg.Outer.Color",
      "pkg.Outer.RED", "pkg.Svc",     "pkg.Svc.Call",    "pkg.ext"};
  int32_t nums[4];

  (void)state;
  memset(&p, 0, sizeof(p));
  assert_int_equal(soupc__dpool_add_set(&p, set, len, &st), 0);
  assert_int_equal(soupc__dpool_link(&p, &st), 0);
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    const struct dpool_symbol *s = soupc__dpool_find_symbol(&p, names[i]);

    assert_non_null(s);
    assert_string_equal(p.files[s->file].name, "a.proto");
  }
  assert_true(soupc__dpool_find_symbol(&p, "pkg.Outer")->is_message);
  assert_false(soupc__dpool_find_symbol(&p, "pkg.Svc")->is_message);
  assert_null(soupc__dpool_find_symbol(&p, "pkg.RED")); /* enum in Outer */
  assert_null(soupc__dpool_find_symbol(&p, "pkg"));
  /* b.proto imports a.proto. */
  assert_int_equal(p.files[0].ndeps, 1);
  assert_int_equal(p.files[0].deps[0], 1);
  assert_int_equal(soupc__dpool_find_extension(&p, "pkg.Outer", 100), 1);
  assert_int_equal(soupc__dpool_find_extension(&p, "pkg.Outer", 101), -1);
  assert_int_equal(soupc__dpool_extension_numbers(&p, "pkg.Outer", nums, 4), 1);
  assert_int_equal(nums[0], 100);
  /* Adding the same set again keeps the first copies. */
  assert_int_equal(soupc__dpool_add_set(&p, set, len, &st), 0);
  assert_int_equal(p.nfiles, 2);
  soupc__dpool_dispose(&p);
  free(set);
}

static void bad_sets_get_clear_errors(void **state) {
  soupc_reflection_options o = SOUPC_REFLECTION_OPTIONS_INIT;
  soupc_reflection *r = NULL;
  soupc_status st;
  size_t len;
  uint8_t *set = make_set(&len, 0); /* b.proto without a.proto */
  static const uint8_t garbage[] = {0x0a, 0xff, 0xff, 0x01};

  (void)state;
  o.descriptor_set = set;
  o.descriptor_set_len = len;
  assert_int_equal(soupc_reflection_new(&r, &o, &st),
                   SOUPC_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(st.message, "b.proto imports a.proto"));
  assert_null(r);
  o.descriptor_set = garbage;
  o.descriptor_set_len = sizeof(garbage);
  assert_int_equal(soupc_reflection_new(&r, &o, &st),
                   SOUPC_ERR_INVALID_ARGUMENT);
  assert_non_null(
      strstr(st.message, "not a google.protobuf.FileDescriptorSet"));
  free(set);
  /* With the application's files it works, beside soup-c's own. */
  set = make_set(&len, 1);
  o.descriptor_set = set;
  o.descriptor_set_len = len;
  assert_int_equal(soupc_reflection_new(&r, &o, &st), 0);
  soupc_reflection_free(r);
  free(set);
}

static void allocation_failures_are_clean(void **state) {
  soupc_reflection *r;
  soupc_status st;
  long k;
  int ok = 0;

  (void)state;
  for (k = 1; k < 5000 && !ok; k++) {
    r = NULL;
    soupc__alloc_fail_at(k);
    if (soupc_reflection_new(&r, NULL, &st) == 0) {
      ok = 1;
    } else {
      assert_null(r);
    }
    soupc__alloc_fail_at(0);
    soupc_reflection_free(r);
  }
  assert_true(ok);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(symbols_are_scoped_as_protoc_scopes_them),
      cmocka_unit_test(bad_sets_get_clear_errors),
      cmocka_unit_test(allocation_failures_are_clean),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
