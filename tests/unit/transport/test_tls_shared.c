/* Shared TLS contexts (soupc_tls_context, src/transport/tls_shared.c): many
 * servers and channels on one context each, mutual TLS, and sessions that
 * resume across servers (what go-plugin's brokered connections do). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "soupc/cert.h"
#include "test_util.h"
#include "transport/transport.h"

static char *server_cert, *server_key, *client_cert, *client_key;

static int setup(void **state) {
  soupc_cert_options o = SOUPC_CERT_OPTIONS_INIT;
  soupc_status st;

  (void)state;
  o.curve = SOUPC_CURVE_P256;
  o.is_ca = 1;
  return soupc_cert_generate(&server_cert, &server_key, &o, &st) == 0 &&
                 soupc_cert_generate(&client_cert, &client_key, &o, &st) == 0
             ? 0
             : -1;
}

static int teardown(void **state) {
  (void)state;
  free(server_cert);
  free(server_key);
  free(client_cert);
  free(client_key);
  return 0;
}

static void sessions_resume_across_servers_of_one_context(void **state) {
  soupc_tls_options stls = SOUPC_TLS_OPTIONS_INIT;
  soupc_tls_options ctls = SOUPC_TLS_OPTIONS_INIT;
  soupc_tls_context *sctx = NULL, *cctx = NULL;
  soupc_status st;
  int resumed = 0;

  (void)state;
  stls.cert_pem = server_cert;
  stls.key_pem = server_key;
  stls.ca_pem = client_cert; /* client certificates required */
  ctls.cert_pem = client_cert;
  ctls.key_pem = client_key;
  ctls.ca_pem = server_cert;
  assert_int_equal(soupc_tls_context_new(&sctx, &stls, 1, &st), 0);
  assert_int_equal(soupc_tls_context_new(&cctx, &ctls, 0, &st), 0);
  for (int i = 0; i < 4; i++) {
    soupc_server_options so = SOUPC_SERVER_OPTIONS_INIT;
    soupc_channel_options co = SOUPC_CHANNEL_OPTIONS_INIT;
    soupc_tls_options name = SOUPC_TLS_OPTIONS_INIT;
    soupc_server *srv;
    soupc_channel *ch;
    char out[32];

    so.tls_context = sctx; /* a new server each time, one context */
    srv = tu_server_start("127.0.0.1:0", &so);
    name.server_name = "localhost";
    co.tls = &name; /* only the name; the context has the material */
    co.tls_context = cctx;
    ch = tu_channel(soupc_server_address(srv), &co);
    assert_non_null(ch);
    assert_int_equal(
        tu_call(ch, "/test.Echo/Unary", "shared", out, sizeof(out), 0, &st), 0);
    assert_string_equal(out, "shared");
    /* The first handshake is full; the others resume its newest ticket. */
    if (i == 0) {
      assert_false(soupc__channel_tls_resumed(ch));
    } else {
      resumed += soupc__channel_tls_resumed(ch);
    }
    soupc_channel_free(ch);
    soupc_server_free(srv);
  }
  assert_int_equal(resumed, 3);
  soupc_tls_context_free(sctx);
  soupc_tls_context_free(cctx);
}

static void a_context_made_for_the_other_side_is_refused(void **state) {
  soupc_tls_options stls = SOUPC_TLS_OPTIONS_INIT;
  soupc_tls_context *sctx = NULL;
  soupc_server_options so = SOUPC_SERVER_OPTIONS_INIT;
  soupc_channel_options co = SOUPC_CHANNEL_OPTIONS_INIT;
  soupc_server *srv = NULL;
  soupc_channel *ch = NULL;
  soupc_status st;

  (void)state;
  stls.cert_pem = server_cert;
  stls.key_pem = server_key;
  assert_int_equal(soupc_tls_context_new(&sctx, &stls, 1, &st), 0);
  co.tls_context = sctx; /* a server context on a channel */
  srv = tu_server_start("127.0.0.1:0", &so);
  assert_int_equal(soupc_channel_open(&ch, soupc_server_address(srv), &co, &st),
                   SOUPC_ERR_TLS);
  assert_non_null(strstr(st.message, "not made for a channel"));
  assert_null(ch);
  soupc_server_free(srv);
  /* A context outlives nothing: servers keep their own reference. */
  so.tls_context = sctx;
  srv = tu_server_start("127.0.0.1:0", &so);
  soupc_tls_context_free(sctx);
  soupc_server_free(srv);
  /* Bad material is a TLS error with a reason. */
  stls.key_pem = client_key;
  assert_int_equal(soupc_tls_context_new(&sctx, &stls, 1, &st), SOUPC_ERR_TLS);
  assert_true(st.message[0] != '\0');
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(sessions_resume_across_servers_of_one_context),
      cmocka_unit_test(a_context_made_for_the_other_side_is_refused),
  };

  return cmocka_run_group_tests(tests, setup, teardown);
}
