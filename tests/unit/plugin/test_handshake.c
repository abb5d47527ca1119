/* src/plugin/handshake.c: the handshake line (go-plugin-protocol.md §2.4,
 * §6.2.4; rpc-spec.md §7.2-§7.3). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/alloc.h"
#include "plugin/plugin_int.h"
#include "soupc/cert.h"

/* A fresh cert whose DER length is not a multiple of 3, so its base64 needs
 * padding; @p b64 unpadded (malloc'd). */
static void make_cert(char **b64, uint8_t **der, size_t *der_len) {
  soupc_cert_options co;
  soupc_status st;
  int tries;

  co = (soupc_cert_options)SOUPC_CERT_OPTIONS_INIT;
  co.curve = SOUPC_CURVE_P256;
  co.is_ca = 1;
  for (tries = 0; tries < 20; tries++) {
    char *cert = NULL, *key = NULL;

    assert_int_equal(soupc_cert_generate(&cert, &key, &co, &st), 0);
    assert_int_equal(soupc_cert_pem_to_der(der, der_len, cert), 0);
    free(cert);
    free(key);
    if (*der_len % 3 != 0) {
      break;
    }
    free(*der);
  }
  assert_int_equal(soupc_base64_encode_unpadded(b64, *der, *der_len), 0);
}

static void format_without_tls_keeps_empty_sixth_field(void **state) {
  char *line = NULL;

  (void)state;
  assert_int_equal(soupc__plugin_handshake_format(&line, 1, "unix",
                                                  "/tmp/plugin123", NULL, -1),
                   0);
  assert_string_equal(line, "1|1|unix|/tmp/plugin123|grpc|\n");
  soupc__free(line);
  assert_int_equal(soupc__plugin_handshake_format(&line, 5, "tcp",
                                                  "127.0.0.1:10000", "MIIB", 0),
                   0);
  assert_string_equal(line, "1|5|tcp|127.0.0.1:10000|grpc|MIIB|false\n");
  soupc__free(line);
}

static void six_field_plaintext_line_parses(void **state) {
  soupc_plugin_handshake *hs = NULL;
  soupc_status st;
  const char *l = "1|3|unix|/tmp/plugin123|grpc|\n";

  (void)state;
  assert_int_equal(soupc_plugin_handshake_parse(&hs, l, strlen(l), &st), 0);
  assert_int_equal(hs->core_version, 1);
  assert_int_equal(hs->app_version, 3);
  assert_string_equal(hs->network, "unix");
  assert_string_equal(hs->address, "/tmp/plugin123");
  assert_string_equal(hs->dial_address, "unix:/tmp/plugin123");
  assert_string_equal(hs->protocol, "grpc");
  assert_null(hs->cert_der);
  assert_null(hs->cert_pem);
  assert_int_equal(hs->mux, -1);
  soupc_plugin_handshake_free(hs);
}

static void five_field_python_line_parses(void **state) {
  soupc_plugin_handshake *hs = NULL;
  soupc_status st;
  const char *l = "  1|1|tcp|127.0.0.1:1234|grpc\r\n";

  (void)state;
  assert_int_equal(soupc_plugin_handshake_parse(&hs, l, strlen(l), &st), 0);
  assert_string_equal(hs->network, "tcp");
  assert_string_equal(hs->dial_address, "127.0.0.1:1234");
  assert_null(hs->cert_pem);
  soupc_plugin_handshake_free(hs);
}

static void seven_field_line_records_mux_flag(void **state) {
  soupc_plugin_handshake *hs = NULL;
  soupc_status st;
  const char *l = "1|1|unix|/tmp/p|grpc||true";

  (void)state;
  assert_int_equal(soupc_plugin_handshake_parse(&hs, l, strlen(l), &st), 0);
  assert_int_equal(hs->mux, 1);
  soupc_plugin_handshake_free(hs);
}

static void cert_parses_with_and_without_base64_padding(void **state) {
  soupc_plugin_handshake *hs = NULL;
  soupc_status st;
  uint8_t *der = NULL;
  size_t der_len = 0;
  char *b64 = NULL;
  char line[4096];

  (void)state;
  make_cert(&b64, &der, &der_len);
  snprintf(line, sizeof(line), "1|1|tcp|127.0.0.1:10000|grpc|%s\n", b64);
  assert_int_equal(soupc_plugin_handshake_parse(&hs, line, strlen(line), &st),
                   0);
  assert_int_equal(hs->cert_der_len, der_len);
  assert_memory_equal(hs->cert_der, der, der_len);
  assert_non_null(strstr(hs->cert_pem, "BEGIN CERTIFICATE"));
  soupc_plugin_handshake_free(hs);

  /* pyvider and soup-go's reattach path use padded base64. */
  {
    size_t blen = strlen(b64), pad = (4 - blen % 4) % 4;

    assert_true(pad > 0);
    snprintf(line, sizeof(line), "1|1|tcp|127.0.0.1:10000|grpc|%s%.*s", b64,
             (int)pad, "==");
    assert_int_equal(soupc_plugin_handshake_parse(&hs, line, strlen(line), &st),
                     0);
    assert_int_equal(hs->cert_der_len, der_len);
    assert_memory_equal(hs->cert_der, der, der_len);
    soupc_plugin_handshake_free(hs);
  }
  free(b64);
  free(der);
}

static void short_cert_field_is_ignored_like_go_plugin(void **state) {
  soupc_plugin_handshake *hs = NULL;
  soupc_status st;
  const char *l = "1|1|unix|/tmp/p|grpc|notacert";

  (void)state;
  assert_int_equal(soupc_plugin_handshake_parse(&hs, l, strlen(l), &st), 0);
  assert_null(hs->cert_der);
  soupc_plugin_handshake_free(hs);
}

static void expect_garbled(const char *l, int err, const char *needle) {
  soupc_plugin_handshake *hs = NULL;
  soupc_status st;

  hs = (soupc_plugin_handshake *)&st; /* a sentinel that must survive */
  soupc_status_clear(&st);
  assert_int_equal(soupc_plugin_handshake_parse(&hs, l, strlen(l), &st), err);
  if (strstr(st.message, needle) == NULL) {
    fail_msg("message \"%s\" lacks \"%s\"", st.message, needle);
  }
  /* untouched on error */
  assert_ptr_equal(hs, (soupc_plugin_handshake *)&st);
}

static void garbage_is_rejected_with_a_clear_message(void **state) {
  char longcert[200];

  (void)state;
  expect_garbled("", SOUPC_ERR_HANDSHAKE, "empty");
  expect_garbled("hello world\n", SOUPC_ERR_HANDSHAKE, "1 '|'-separated field");
  expect_garbled("1|1|unix|/tmp/p", SOUPC_ERR_HANDSHAKE, "4 '|'-separated");
  expect_garbled("2|1|unix|/tmp/p|grpc|", SOUPC_ERR_HANDSHAKE,
                 "field 1 (core protocol version) is \"2\"");
  expect_garbled("1|x|unix|/tmp/p|grpc|", SOUPC_ERR_HANDSHAKE, "field 2");
  expect_garbled("1|-1|unix|/tmp/p|grpc|", SOUPC_ERR_HANDSHAKE, "field 2");
  expect_garbled("1|1|udp|/tmp/p|grpc|", SOUPC_ERR_HANDSHAKE,
                 "field 3 (network) is \"udp\"");
  expect_garbled("1|1|tcp|localhost|grpc|", SOUPC_ERR_HANDSHAKE, "HOST:PORT");
  expect_garbled("1|1|tcp|127.0.0.1:99999|grpc|", SOUPC_ERR_HANDSHAKE,
                 "field 4");
  expect_garbled("1|1|unix||grpc|", SOUPC_ERR_HANDSHAKE, "socket path");
  expect_garbled("1|1|unix|/tmp/p|http|", SOUPC_ERR_HANDSHAKE, "field 5");
  expect_garbled("1|1|unix|/tmp/p|netrpc|", SOUPC_ERR_UNSUPPORTED, "netrpc");
  expect_garbled("1|1|unix|/tmp/p|grpc||maybe", SOUPC_ERR_HANDSHAKE, "field 7");
  expect_garbled("1|1|unix|/tmp/p|grpc||true|x", SOUPC_ERR_HANDSHAKE,
                 "more than 7");
  memset(longcert, 'A', sizeof(longcert));
  memcpy(longcert, "1|1|unix|/tmp/p|grpc|", 21);
  longcert[sizeof(longcert) - 1] = '\0';
  expect_garbled(longcert, SOUPC_ERR_HANDSHAKE, "not a DER certificate");
  longcert[60] = '*';
  expect_garbled(longcert, SOUPC_ERR_HANDSHAKE, "not base64");
}

/* Error messages quote a bad field: at most 40 bytes, then "...", control
 * bytes as '?'. */
static void a_quoted_field_is_cut_at_40_bytes(void **state) {
  char line[160], want[80];
  const char *net40 =
      "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn\x01"; /* 40 bytes */

  (void)state;
  snprintf(line, sizeof(line), "1|1|%s|/tmp/p|grpc|", net40);
  snprintf(want, sizeof(want), "is \"%.39s?\";", net40);
  expect_garbled(line, SOUPC_ERR_HANDSHAKE, want);
  snprintf(line, sizeof(line), "1|1|%sX|/tmp/p|grpc|", net40); /* 41 bytes */
  snprintf(want, sizeof(want), "is \"%.39s?...\";", net40);
  expect_garbled(line, SOUPC_ERR_HANDSHAKE, want);
}

static void ports_0_to_65535_are_valid(void **state) {
  soupc_plugin_handshake *hs = NULL;
  soupc_status st;
  const char *edge = "1|1|tcp|127.0.0.1:65535|grpc|";
  const char *zero = "1|1|tcp|127.0.0.1:0|grpc|";

  (void)state;
  assert_int_equal(soupc_plugin_handshake_parse(&hs, edge, strlen(edge), &st),
                   0);
  soupc_plugin_handshake_free(hs);
  assert_int_equal(soupc_plugin_handshake_parse(&hs, zero, strlen(zero), &st),
                   0);
  soupc_plugin_handshake_free(hs);
  expect_garbled("1|1|tcp|127.0.0.1:65536|grpc|", SOUPC_ERR_HANDSHAKE,
                 "field 4");
}

/* A reattach config becomes the line go-plugin would have printed. */
static void reattach_config_becomes_a_handshake_line(void **state) {
  soupc_plugin_reattach rc = SOUPC_PLUGIN_REATTACH_INIT;
  soupc_cert_options co = SOUPC_CERT_OPTIONS_INIT;
  char *line = NULL, *cert = NULL, *key = NULL, *b64 = NULL, want[2048];
  uint8_t *der = NULL;
  size_t der_len = 0;
  soupc_status st;

  (void)state;
  co.curve = SOUPC_CURVE_P256;
  assert_int_equal(soupc_cert_generate(&cert, &key, &co, &st), 0);
  assert_int_equal(soupc_cert_pem_to_der(&der, &der_len, cert), 0);
  assert_int_equal(soupc_base64_encode_unpadded(&b64, der, der_len), 0);
  rc.network = "unix";
  rc.address = "/tmp/p";
  rc.protocol_version = 3;
  assert_int_equal(soupc__plugin_reattach_line(&line, &rc, &st), 0);
  assert_string_equal(line, "1|3|unix|/tmp/p|grpc|\n");
  soupc__free(line);
  rc.server_cert_pem = cert;
  assert_int_equal(soupc__plugin_reattach_line(&line, &rc, &st), 0);
  snprintf(want, sizeof(want), "1|3|unix|/tmp/p|grpc|%s\n", b64);
  assert_string_equal(line, want);
  soupc__free(line);
  rc.server_cert_pem = "not a certificate";
  assert_int_equal(soupc__plugin_reattach_line(&line, &rc, &st),
                   SOUPC_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(st.message, "not a PEM certificate"));
  rc.server_cert_pem = NULL;
  soupc__alloc_fail_at(1); /* the line itself */
  assert_int_equal(soupc__plugin_reattach_line(&line, &rc, &st),
                   SOUPC_ERR_NOMEM);
  soupc__alloc_fail_at(0);
  rc.protocol = "netrpc";
  assert_int_equal(soupc__plugin_reattach_line(&line, &rc, &st),
                   SOUPC_ERR_UNSUPPORTED);
  free(cert);
  free(key);
  free(der);
  free(b64);
}

/* plugin_int.h: dispose zeroes the struct (mux -1), so disposing twice is
 * harmless. */
static void dispose_leaves_an_empty_handshake(void **state) {
  soupc_plugin_handshake hs;
  soupc_status st;
  const char *l = "1|1|unix|/tmp/plugin1|grpc||true";

  (void)state;
  assert_int_equal(soupc__plugin_handshake_parse_into(&hs, l, strlen(l), &st),
                   0);
  assert_int_equal(hs.mux, 1);
  soupc__plugin_handshake_dispose(&hs);
  assert_null(hs.address);
  assert_null(hs.dial_address);
  assert_null(hs.cert_der);
  assert_null(hs.cert_pem);
  assert_int_equal(hs.app_version, 0);
  assert_int_equal(hs.mux, -1);
  soupc__plugin_handshake_dispose(&hs);
}

static void parse_survives_every_allocation_failure(void **state) {
  soupc_plugin_handshake *hs = NULL;
  soupc_status st;
  const char *l = "1|1|unix|/tmp/plugin1|grpc|";
  long n;

  (void)state;
  for (n = 1; n < 10; n++) {
    int rv;

    soupc__alloc_fail_at(n);
    rv = soupc_plugin_handshake_parse(&hs, l, strlen(l), &st);
    soupc__alloc_fail_at(0);
    if (rv == 0) {
      /* success means a whole result, not one missing what failed */
      assert_non_null(hs->address);
      assert_string_equal(hs->address, "/tmp/plugin1");
      assert_string_equal(hs->dial_address, "unix:/tmp/plugin1");
      soupc_plugin_handshake_free(hs);
      break;
    }
    assert_int_equal(rv, SOUPC_ERR_NOMEM);
  }
  assert_true(n < 10);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(format_without_tls_keeps_empty_sixth_field),
      cmocka_unit_test(six_field_plaintext_line_parses),
      cmocka_unit_test(five_field_python_line_parses),
      cmocka_unit_test(seven_field_line_records_mux_flag),
      cmocka_unit_test(cert_parses_with_and_without_base64_padding),
      cmocka_unit_test(short_cert_field_is_ignored_like_go_plugin),
      cmocka_unit_test(garbage_is_rejected_with_a_clear_message),
      cmocka_unit_test(a_quoted_field_is_cut_at_40_bytes),
      cmocka_unit_test(ports_0_to_65535_are_valid),
      cmocka_unit_test(dispose_leaves_an_empty_handshake),
      cmocka_unit_test(reattach_config_becomes_a_handshake_line),
      cmocka_unit_test(parse_survives_every_allocation_failure),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
