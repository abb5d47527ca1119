/* gRPC over TLS (ALPN h2) and mutual TLS, with certificates from
 * soupc_cert_generate(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "soupc/cert.h"
#include "test_util.h"

struct pems {
  char *server_cert, *server_key;
  char *client_cert, *client_key;
  char *other_cert, *other_key; /* an unrelated self-signed pair */
};

static int setup(void **state) {
  struct pems *p = calloc(1, sizeof(*p));
  soupc_cert_options o = SOUPC_CERT_OPTIONS_INIT;
  soupc_status st;

  o.curve = SOUPC_CURVE_P256;
  if (soupc_cert_generate(&p->server_cert, &p->server_key, &o, &st) != 0) {
    fprintf(stderr, "cert: %s\n", st.message);
    return -1;
  }
  /* go-plugin's AutoMTLS client certificate is a P-521 CA. */
  o.curve = SOUPC_CURVE_P521;
  o.is_ca = 1;
  if (soupc_cert_generate(&p->client_cert, &p->client_key, &o, &st) != 0) {
    return -1;
  }
  o.curve = SOUPC_CURVE_P256;
  o.is_ca = 0;
  if (soupc_cert_generate(&p->other_cert, &p->other_key, &o, &st) != 0) {
    return -1;
  }
  *state = p;
  return 0;
}

static int teardown(void **state) {
  struct pems *p = *state;

  free(p->server_cert);
  free(p->server_key);
  free(p->client_cert);
  free(p->client_key);
  free(p->other_cert);
  free(p->other_key);
  free(p);
  return 0;
}

static void unary_echo_over_tls_works(void **state) {
  struct pems *p = *state;
  soupc_tls_options stls = {sizeof(soupc_tls_options), p->server_cert,
                            p->server_key, NULL, NULL};
  soupc_tls_options ctls = {sizeof(soupc_tls_options), NULL, NULL,
                            p->server_cert, "localhost"};
  soupc_server_options so = {.struct_size = sizeof(soupc_server_options),
                             .tls = &stls};
  soupc_channel_options co = {.struct_size = sizeof(soupc_channel_options),
                              .tls = &ctls};
  soupc_server *srv = tu_server_start("127.0.0.1:0", &so);
  soupc_channel *ch;
  soupc_status st;
  char out[32];

  assert_non_null(srv);
  ch = tu_channel(soupc_server_address(srv), &co);
  assert_non_null(ch);
  assert_int_equal(
      tu_call(ch, "/test.Echo/Unary", "secret", out, sizeof(out), 0, &st), 0);
  assert_string_equal(out, "secret");
  soupc_channel_free(ch);
  soupc_server_free(srv);
}

static void tls_over_a_unix_socket_verifies_localhost(void **state) {
  struct pems *p = *state;
  soupc_tls_options stls = {sizeof(soupc_tls_options), p->server_cert,
                            p->server_key, NULL, NULL};
  soupc_tls_options ctls = {sizeof(soupc_tls_options), NULL, NULL,
                            p->server_cert, NULL};
  soupc_server_options so = {.struct_size = sizeof(soupc_server_options),
                             .tls = &stls};
  soupc_channel_options co = {.struct_size = sizeof(soupc_channel_options),
                              .tls = &ctls};
  char dir[] = "/tmp/soupc-tls-XXXXXX";
  char addr[128], out[32];
  soupc_server *srv;
  soupc_channel *ch;
  soupc_status st;

  assert_non_null(mkdtemp(dir));
  snprintf(addr, sizeof(addr), "unix:%s/s", dir);
  srv = tu_server_start(addr, &so);
  ch = tu_channel(addr, &co);
  assert_non_null(ch);
  assert_int_equal(
      tu_call(ch, "/test.Echo/Unary", "unix+tls", out, sizeof(out), 0, &st), 0);
  assert_string_equal(out, "unix+tls");
  soupc_channel_free(ch);
  soupc_server_free(srv);
  rmdir(dir);
}

static void mutual_tls_with_a_client_certificate_works(void **state) {
  struct pems *p = *state;
  soupc_tls_options stls = {sizeof(soupc_tls_options), p->server_cert,
                            p->server_key, p->client_cert, NULL};
  soupc_tls_options ctls = {sizeof(soupc_tls_options), p->client_cert,
                            p->client_key, p->server_cert, "localhost"};
  soupc_server_options so = {.struct_size = sizeof(soupc_server_options),
                             .tls = &stls};
  soupc_channel_options co = {.struct_size = sizeof(soupc_channel_options),
                              .tls = &ctls};
  soupc_server *srv = tu_server_start("127.0.0.1:0", &so);
  soupc_channel *ch = tu_channel(soupc_server_address(srv), &co);
  soupc_status st;
  char out[32];

  assert_non_null(ch);
  assert_int_equal(
      tu_call(ch, "/test.Echo/Unary", "mtls", out, sizeof(out), 0, &st), 0);
  assert_string_equal(out, "mtls");
  soupc_channel_free(ch);
  soupc_server_free(srv);
}

/* With TLS 1.3 the client finishes its handshake before the server checks
 * the client certificate, so the refusal can surface at open or at the
 * first call; either way no call may succeed. */
static void assert_refused(const char *addr, const soupc_channel_options *co) {
  soupc_channel *ch = NULL;
  soupc_status st;
  int rv = soupc_channel_open(&ch, addr, co, &st);

  if (rv == 0) {
    assert_int_equal(tu_call(ch, "/test.Echo/Unary", "x", NULL, 0, 2000, &st),
                     SOUPC_GRPC_UNAVAILABLE);
    soupc_channel_free(ch);
  } else {
    assert_true(rv == SOUPC_ERR_TLS || rv == SOUPC_ERR_CONNECT);
  }
}

static void mutual_tls_refuses_a_client_without_a_certificate(void **state) {
  struct pems *p = *state;
  soupc_tls_options stls = {sizeof(soupc_tls_options), p->server_cert,
                            p->server_key, p->client_cert, NULL};
  soupc_tls_options ctls = {sizeof(soupc_tls_options), NULL, NULL,
                            p->server_cert, "localhost"};
  soupc_server_options so = {.struct_size = sizeof(soupc_server_options),
                             .tls = &stls};
  soupc_channel_options co = {.struct_size = sizeof(soupc_channel_options),
                              .tls = &ctls};
  soupc_server *srv = tu_server_start("127.0.0.1:0", &so);
  soupc_channel *ch;
  soupc_status st;
  soupc_tls_options good = {sizeof(soupc_tls_options), p->client_cert,
                            p->client_key, p->server_cert, "localhost"};
  soupc_channel_options gco = {.struct_size = sizeof(soupc_channel_options),
                               .tls = &good};

  assert_refused(soupc_server_address(srv), &co);
  /* An untrusted client certificate is refused too. */
  ctls.cert_pem = p->other_cert;
  ctls.key_pem = p->other_key;
  assert_refused(soupc_server_address(srv), &co);
  /* And the server still serves a good client afterwards. */
  ch = tu_channel(soupc_server_address(srv), &gco);
  assert_non_null(ch);
  assert_int_equal(tu_call(ch, "/test.Echo/Unary", "x", NULL, 0, 0, &st), 0);
  soupc_channel_free(ch);
  soupc_server_free(srv);
}

static void client_refuses_an_untrusted_server(void **state) {
  struct pems *p = *state;
  soupc_tls_options stls = {sizeof(soupc_tls_options), p->server_cert,
                            p->server_key, NULL, NULL};
  soupc_tls_options ctls = {sizeof(soupc_tls_options), NULL, NULL,
                            p->other_cert, "localhost"};
  soupc_server_options so = {.struct_size = sizeof(soupc_server_options),
                             .tls = &stls};
  soupc_channel_options co = {.struct_size = sizeof(soupc_channel_options),
                              .tls = &ctls};
  soupc_server *srv = tu_server_start("127.0.0.1:0", &so);
  soupc_channel *ch = NULL;
  soupc_status st;

  assert_int_equal(soupc_channel_open(&ch, soupc_server_address(srv), &co, &st),
                   SOUPC_ERR_TLS);
  assert_non_null(strstr(st.message, "TLS"));
  soupc_server_free(srv);
}

static void plaintext_client_against_a_tls_server_fails_cleanly(void **s) {
  struct pems *p = *s;
  soupc_tls_options stls = {sizeof(soupc_tls_options), p->server_cert,
                            p->server_key, NULL, NULL};
  soupc_server_options so = {.struct_size = sizeof(soupc_server_options),
                             .tls = &stls};
  soupc_channel_options co = {.struct_size = sizeof(soupc_channel_options),
                              .connect_timeout_ms = 2000};
  soupc_server *srv = tu_server_start("127.0.0.1:0", &so);
  soupc_channel *ch = NULL;
  soupc_status st;

  assert_int_not_equal(
      soupc_channel_open(&ch, soupc_server_address(srv), &co, &st), 0);
  soupc_server_free(srv);
}

static void bad_server_key_is_a_tls_error(void **state) {
  struct pems *p = *state;
  soupc_tls_options stls = {sizeof(soupc_tls_options), p->server_cert,
                            p->other_key, NULL, NULL};
  soupc_server_options so = {.struct_size = sizeof(soupc_server_options),
                             .tls = &stls};
  soupc_server *srv = NULL;
  soupc_status st;

  assert_int_equal(soupc_server_new(&srv, &so, &st), SOUPC_ERR_TLS);
  assert_null(srv);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(unary_echo_over_tls_works),
      cmocka_unit_test(tls_over_a_unix_socket_verifies_localhost),
      cmocka_unit_test(mutual_tls_with_a_client_certificate_works),
      cmocka_unit_test(mutual_tls_refuses_a_client_without_a_certificate),
      cmocka_unit_test(client_refuses_an_untrusted_server),
      cmocka_unit_test(plaintext_client_against_a_tls_server_fails_cleanly),
      cmocka_unit_test(bad_server_key_is_a_tls_error),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
