#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "kv/kv.h"

static struct kv_enrich_config config;

static int enrich(const char *value, char **out) {
  struct kv_enrich_info info = {&config, "127.0.0.1:5555", 1.5};
  uint8_t *buf = NULL;
  size_t len = 0;
  int rv;

  rv = soupc__kv_enrich_json(&buf, &len, (const uint8_t *)value, strlen(value),
                             &info);
  if (rv == 1) {
    *out = soupc__strndup((const char *)buf, len);
    soupc__free(buf);
  }
  return rv;
}

static int setup(void **state) {
  (void)state;
  unsetenv("TLS_MODE");
  unsetenv("PLUGIN_SERVER_CERT");
  setenv("TLS_KEY_TYPE", "ec", 1);
  setenv("TLS_CURVE", "secp384r1", 1);
  setenv("COMBO_ID", "c-c", 1);
  soupc__kv_enrich_config_load(&config);
  return 0;
}

static void object_gets_a_server_handshake_last(void **state) {
  char *out = NULL;

  (void)state;
  assert_int_equal(enrich("{\"b\":1,\"a\":[true,null,\"x\"]}", &out), 1);
  assert_non_null(out);
  /* Member order and the other values are kept. */
  assert_memory_equal(out, "{\"b\":1,\"a\":[true,null,\"x\"],", 27);
  assert_non_null(strstr(out, "\"server_handshake\":{\"endpoint\":"
                              "\"127.0.0.1:5555\""));
  assert_non_null(strstr(out, "\"server_language\":\"c\""));
  assert_non_null(strstr(out, "\"tls_mode\":\"unknown\""));
  assert_non_null(strstr(out, "\"protocol_version\":\"1\""));
  assert_non_null(strstr(out, "\"combo_id\":\"c-c\""));
  assert_non_null(strstr(out, "\"crypto_config\":{\"key_type\":\"ec\","
                              "\"curve\":\"secp384r1\",\"key_size\":384}"));
  assert_non_null(strstr(out, "\"cert_fingerprint\":null"));
  soupc__free(out);
}

static void existing_server_handshake_is_replaced(void **state) {
  char *out = NULL;
  const char *first;

  (void)state;
  assert_int_equal(enrich("{\"server_handshake\":5,\"k\":\"v\"}", &out), 1);
  first = strstr(out, "server_handshake");
  assert_non_null(first);
  assert_null(strstr(first + 1, "server_handshake"));
  assert_null(strstr(out, "\"server_handshake\":5"));
  soupc__free(out);
}

static void big_number_text_is_kept_exactly(void **state) {
  char *out = NULL;

  (void)state;
  assert_int_equal(enrich("{\"n\":12345678901234567890}", &out), 1);
  assert_non_null(strstr(out, "\"n\":12345678901234567890,"));
  soupc__free(out);
}

static void non_objects_pass_through(void **state) {
  char *out = NULL;

  (void)state;
  /* soup-go panics on a stored `null` (rpc-spec.md §5.3). */
  assert_int_equal(enrich("null", &out), 0);
  assert_int_equal(enrich("[1,2]", &out), 0);
  assert_int_equal(enrich("\"s\"", &out), 0);
  assert_int_equal(enrich("42", &out), 0);
  assert_int_equal(enrich("{not json", &out), 0);
  assert_int_equal(enrich("{\"a\":1} trailing", &out), 0);
  assert_int_equal(enrich("", &out), 0);
  assert_null(out);
}

/* {"a":[[...]]} with @p levels containers open at once, the object included. */
static char *nested(size_t levels) {
  char *s = malloc(2 * levels + 8);
  size_t i, n = 0;

  assert_non_null(s);
  memcpy(s, "{\"a\":", 5);
  n = 5;
  for (i = 1; i < levels; i++) {
    s[n++] = '[';
  }
  for (i = 1; i < levels; i++) {
    s[n++] = ']';
  }
  s[n++] = '}';
  s[n] = '\0';
  return s;
}

/* yajl_gen cannot write 128 levels, and yajl's tree recurses per level, so a
 * deeper value passes through as stored, however deep (a million levels
 * overflowed the stack before this check). */
static void deep_nesting_passes_through_intact(void **state) {
  char *out = NULL;
  char *ok = nested(127), *deep = nested(128), *huge = nested(1000000);
  char strings[600];

  (void)state;
  assert_int_equal(enrich(ok, &out), 1);
  assert_non_null(strstr(out, "\"server_handshake\""));
  assert_int_equal(strncmp(out, ok, 127 + 4), 0);
  soupc__free(out);
  out = NULL;
  assert_int_equal(enrich(deep, &out), 0);
  assert_int_equal(enrich(huge, &out), 0);
  assert_null(out);
  /* brackets inside strings, escaped quotes included, are not nesting */
  memset(strings, 0, sizeof(strings));
  memcpy(strings, "{\"a\":\"\\\"", 8);
  memset(strings + 8, '[', 300);
  memcpy(strings + 308, "\"}", 2);
  assert_int_equal(enrich(strings, &out), 1);
  soupc__free(out);
  free(ok);
  free(deep);
  free(huge);
}

static void value_with_nul_byte_passes_through(void **state) {
  struct kv_enrich_info info = {&config, NULL, 0};
  uint8_t *buf = NULL;
  size_t len = 0;

  (void)state;
  assert_int_equal(soupc__kv_enrich_json(
                       &buf, &len, (const uint8_t *)"{\"a\":\0}", 7, &info),
                   0);
  assert_null(buf);
}

/* cert_fingerprint is the sha256 of $PLUGIN_SERVER_CERT's bytes, as
 * soup-go computes it; an unreadable or empty path gives null. */
static void cert_fingerprint_is_the_files_sha256(void **state) {
  struct kv_enrich_config cfg;
  char path[] = "/tmp/soupc-enrich-XXXXXX";
  int fd;

  (void)state;
  fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, "abc", 3), 3);
  close(fd);
  setenv("PLUGIN_SERVER_CERT", path, 1);
  soupc__kv_enrich_config_load(&cfg);
  /* FIPS 180-2's "abc" example */
  assert_string_equal(cfg.cert_fingerprint, "ba7816bf8f01cfea414140de5dae2223"
                                            "b00361a396177a9cb410ff61f20015ad");
  unlink(path);
  soupc__kv_enrich_config_load(&cfg); /* the file is gone */
  assert_string_equal(cfg.cert_fingerprint, "");
  setenv("PLUGIN_SERVER_CERT", "", 1);
  soupc__kv_enrich_config_load(&cfg);
  assert_string_equal(cfg.cert_fingerprint, "");
  unsetenv("PLUGIN_SERVER_CERT");
  soupc__kv_enrich_config_load(&cfg);
  assert_string_equal(cfg.cert_fingerprint, "");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(object_gets_a_server_handshake_last),
      cmocka_unit_test(deep_nesting_passes_through_intact),
      cmocka_unit_test(existing_server_handshake_is_replaced),
      cmocka_unit_test(big_number_text_is_kept_exactly),
      cmocka_unit_test(non_objects_pass_through),
      cmocka_unit_test(value_with_nul_byte_passes_through),
      cmocka_unit_test(cert_fingerprint_is_the_files_sha256),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
