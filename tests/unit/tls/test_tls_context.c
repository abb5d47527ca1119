/* Tests for src/tls/tls_context.c: full in-memory handshakes (a BIO pair
 * between a server SSL and a client SSL) for server auth, mTLS, ALPN and
 * name checks, and the status messages for bad certificate material. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "soupc/cert.h"
#include "tls/tls_context.h"

#include "goplugin_cert.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <stdlib.h>
#include <string.h>

/* A generated certificate and key. */
struct pair {
  char *cert;
  char *key;
};

/* Shared across tests: generation is the slow part. */
static struct pair server_p256;  /* EC P-256, not a CA */
static struct pair server_rsa;   /* RSA 2048, not a CA */
static struct pair client_p384;  /* EC P-384 CA */
static struct pair other_p256;   /* an unrelated EC P-256 CA */
static struct pair client_p521;  /* EC P-521 CA, like go-plugin's */
static struct pair client_plain; /* EC P-256, not a CA */

static void make_pair(struct pair *p, soupc_key_type kt, soupc_curve curve,
                      int is_ca) {
  soupc_cert_options o = SOUPC_CERT_OPTIONS_INIT;
  soupc_status st;

  o.key_type = kt;
  o.curve = curve;
  o.is_ca = is_ca;
  assert_int_equal(soupc_cert_generate(&p->cert, &p->key, &o, &st), 0);
}

static void free_pair(struct pair *p) {
  free(p->cert);
  free(p->key);
  p->cert = p->key = NULL;
}

static int setup(void **state) {
  (void)state;
  make_pair(&server_p256, SOUPC_KEY_EC, SOUPC_CURVE_P256, 0);
  make_pair(&server_rsa, SOUPC_KEY_RSA, SOUPC_CURVE_P256, 0);
  make_pair(&client_p384, SOUPC_KEY_EC, SOUPC_CURVE_P384, 1);
  make_pair(&other_p256, SOUPC_KEY_EC, SOUPC_CURVE_P256, 1);
  make_pair(&client_p521, SOUPC_KEY_EC, SOUPC_CURVE_P521, 1);
  make_pair(&client_plain, SOUPC_KEY_EC, SOUPC_CURVE_P256, 0);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  free_pair(&server_p256);
  free_pair(&server_rsa);
  free_pair(&client_p384);
  free_pair(&other_p256);
  free_pair(&client_p521);
  free_pair(&client_plain);
  return 0;
}

/* One connection's setup: what each side loads and what the client asks
 * for. */
struct conn_spec {
  soupc_tls_options server;
  soupc_tls_options client;
  const char *server_name;          /* passed to soupc__tls_client_prepare */
  int max_version;                  /* 0, TLS1_2_VERSION or TLS1_3_VERSION */
  const unsigned char *client_alpn; /* NULL = the context's ("h2") */
  unsigned int client_alpn_len;
  int no_client_alpn;  /* offer no ALPN at all */
  SSL_SESSION *resume; /* a session from an earlier handshake, or NULL */
  SSL_CTX *sctx;       /* reuse this server context (resumption), or NULL */
  int dirty_close;     /* end with a close without close_notify */
  const char *client_suites; /* the client's TLS 1.3 suites, or NULL */
};

struct conn_result {
  int client_ok, server_ok;
  int client_alpn_rv, server_alpn_rv;
  int version;
  int reused;           /* the client resumed spec->resume */
  int dirty_eof_err;    /* server's SSL_get_error after a dirty close */
  const char *cipher;   /* the suite negotiated (a static OpenSSL name) */
  SSL_SESSION *session; /* the client's session after the handshake */
  char client_err[256], server_err[256];
};

static int step(SSL *ssl, int *done, int *failed, char *err, size_t cap) {
  int rv, e;

  if (*done || *failed) {
    return 0;
  }
  rv = SSL_do_handshake(ssl);
  if (rv == 1) {
    *done = 1;
    return 1;
  }
  e = SSL_get_error(ssl, rv);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
    return 0;
  }
  *failed = 1;
  soupc__tls_describe_failure(ssl, err, cap);
  return 1;
}

/* Runs one handshake between contexts built from @p spec. */
static void handshake(struct conn_result *res, const struct conn_spec *spec) {
  soupc_status st;
  SSL_CTX *sctx, *cctx;
  SSL *s, *c;
  BIO *sb, *cb;
  int sdone = 0, sfail = 0, cdone = 0, cfail = 0, i;

  memset(res, 0, sizeof(*res));
  if (spec->sctx != NULL) {
    sctx = spec->sctx;
    SSL_CTX_up_ref(sctx);
  } else {
    sctx = soupc__tls_server_ctx_new(&spec->server, &st);
  }
  assert_non_null(sctx);
  cctx = soupc__tls_client_ctx_new(&spec->client, &st);
  assert_non_null(cctx);
  s = SSL_new(sctx);
  c = SSL_new(cctx);
  assert_non_null(s);
  assert_non_null(c);
  assert_int_equal(BIO_new_bio_pair(&sb, 0, &cb, 0), 1);
  SSL_set_bio(s, sb, sb);
  SSL_set_bio(c, cb, cb);
  SSL_set_accept_state(s);
  SSL_set_connect_state(c);
  assert_int_equal(soupc__tls_client_prepare(c, spec->server_name), 0);
  if (spec->max_version != 0) {
    SSL_set_max_proto_version(c, spec->max_version);
  }
  if (spec->client_suites != NULL) {
    assert_int_equal(SSL_set_ciphersuites(c, spec->client_suites), 1);
  }
  if (spec->resume != NULL) {
    assert_int_equal(SSL_set_session(c, spec->resume), 1);
  }
  if (spec->no_client_alpn) {
    SSL_set_alpn_protos(c, NULL, 0);
  } else if (spec->client_alpn != NULL) {
    SSL_set_alpn_protos(c, spec->client_alpn, spec->client_alpn_len);
  }

  /* Each side writes into the pair and the other reads: a few rounds
   * finish any TLS 1.2 or 1.3 handshake (including the server reading the
   * client's last flight and a failure alert). */
  for (i = 0; i < 20 && !((cdone || cfail) && (sdone || sfail)); i++) {
    step(c, &cdone, &cfail, res->client_err, sizeof(res->client_err));
    step(s, &sdone, &sfail, res->server_err, sizeof(res->server_err));
  }
  /* In TLS 1.3 the client finishes first and learns of the server's
   * rejection of its certificate only on its next read. */
  if (cdone && sfail) {
    char byte;
    int rv = SSL_read(c, &byte, 1);
    if (rv <= 0 && SSL_get_error(c, rv) == SSL_ERROR_SSL) {
      cdone = 0;
      soupc__tls_describe_failure(c, res->client_err, sizeof(res->client_err));
    }
  }
  res->client_ok = cdone;
  res->server_ok = sdone;
  if (cdone && sdone) {
    res->client_alpn_rv = soupc__tls_check_alpn(c, &st);
    res->server_alpn_rv = soupc__tls_check_alpn(s, &st);
    res->version = SSL_version(c);
    res->reused = SSL_session_reused(c);
    res->cipher = SSL_get_cipher_name(c);
    if (spec->sctx != NULL) {
      /* TLS 1.3 tickets arrive after the handshake; a read takes them in. */
      char byte;
      int rv = SSL_read(c, &byte, 1);
      assert_true(rv <= 0 && SSL_get_error(c, rv) == SSL_ERROR_WANT_READ);
      res->session = SSL_get1_session(c);
    }
    if (spec->dirty_close) {
      char byte;
      int rv;
      BIO_shutdown_wr(cb); /* the client's TCP FIN, no close_notify */
      rv = SSL_read(s, &byte, 1);
      res->dirty_eof_err = rv > 0 ? -1 : SSL_get_error(s, rv);
    } else {
      /* A clean close: SSL_free() without a sent close_notify marks the
       * session unresumable (ssl_clear_bad_session). */
      SSL_shutdown(c);
      SSL_shutdown(s);
    }
  }
  SSL_free(s);
  SSL_free(c);
  SSL_CTX_free(sctx);
  SSL_CTX_free(cctx);
  ERR_clear_error();
}

static void server_auth_spec(struct conn_spec *spec, const struct pair *srv) {
  memset(spec, 0, sizeof(*spec));
  spec->server.cert_pem = srv->cert;
  spec->server.key_pem = srv->key;
  spec->client.ca_pem = srv->cert;
  spec->server_name = "localhost";
}

static void mtls_spec(struct conn_spec *spec, const struct pair *srv,
                      const struct pair *cli) {
  server_auth_spec(spec, srv);
  spec->server.ca_pem = cli->cert;
  spec->client.cert_pem = cli->cert;
  spec->client.key_pem = cli->key;
}

static void right_roots_handshake_negotiates_h2(void **state) {
  static const int versions[] = {TLS1_2_VERSION, TLS1_3_VERSION};
  struct conn_spec spec;
  struct conn_result r;
  size_t i;

  (void)state;
  for (i = 0; i < 2; i++) {
    server_auth_spec(&spec, &server_p256);
    spec.max_version = versions[i];
    handshake(&r, &spec);
    assert_true(r.client_ok);
    assert_true(r.server_ok);
    assert_int_equal(r.version, versions[i]);
    assert_int_equal(r.client_alpn_rv, 0);
    assert_int_equal(r.server_alpn_rv, 0);
  }
}

/* TLS 1.2 with an RSA certificate (ECDHE-RSA). */
static void rsa_server_cert_handshakes(void **state) {
  struct conn_spec spec;
  struct conn_result r;

  (void)state;
  server_auth_spec(&spec, &server_rsa);
  spec.max_version = TLS1_2_VERSION;
  handshake(&r, &spec);
  assert_true(r.client_ok && r.server_ok);
  server_auth_spec(&spec, &server_rsa);
  handshake(&r, &spec);
  assert_true(r.client_ok && r.server_ok);
  assert_int_equal(r.version, TLS1_3_VERSION);
}

static void wrong_roots_are_refused(void **state) {
  struct conn_spec spec;
  struct conn_result r;

  (void)state;
  server_auth_spec(&spec, &server_p256);
  spec.client.ca_pem = other_p256.cert;
  handshake(&r, &spec);
  assert_false(r.client_ok);
  assert_non_null(strstr(r.client_err, "certificate verify failed"));
}

static void ip_san_verifies_and_other_names_do_not(void **state) {
  static const char *good[] = {"127.0.0.1", "::1", "[::1]", "localhost",
                               "LOCALHOST"};
  static const char *bad[] = {"127.0.0.2", "::2", "example.com",
                              "localhost.localdomain"};
  struct conn_spec spec;
  struct conn_result r;
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
    server_auth_spec(&spec, &server_p256);
    spec.server_name = good[i];
    handshake(&r, &spec);
    assert_true(r.client_ok);
  }
  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    server_auth_spec(&spec, &server_p256);
    spec.server_name = bad[i];
    handshake(&r, &spec);
    assert_false(r.client_ok);
    assert_non_null(strstr(r.client_err, "mismatch"));
  }
}

static void mtls_with_right_client_cert_succeeds(void **state) {
  const struct pair *clients[] = {&client_p384, &client_plain, &client_p521};
  struct conn_spec spec;
  struct conn_result r;
  size_t i;

  (void)state;
  for (i = 0; i < 3; i++) {
    mtls_spec(&spec, &server_p256, clients[i]);
    handshake(&r, &spec);
    assert_true(r.client_ok);
    assert_true(r.server_ok);
    mtls_spec(&spec, &server_p256, clients[i]);
    spec.max_version = TLS1_2_VERSION;
    handshake(&r, &spec);
    assert_true(r.client_ok && r.server_ok);
  }
}

static void mtls_without_client_cert_is_refused(void **state) {
  static const int versions[] = {TLS1_2_VERSION, TLS1_3_VERSION};
  struct conn_spec spec;
  struct conn_result r;
  size_t i;

  (void)state;
  for (i = 0; i < 2; i++) {
    mtls_spec(&spec, &server_p256, &client_p384);
    spec.client.cert_pem = NULL;
    spec.client.key_pem = NULL;
    spec.max_version = versions[i];
    handshake(&r, &spec);
    assert_false(r.server_ok);
    assert_false(r.client_ok);
    assert_non_null(strstr(r.server_err, "did not return a certificate"));
  }
}

static void mtls_client_cert_from_other_ca_is_refused(void **state) {
  static const int versions[] = {TLS1_2_VERSION, TLS1_3_VERSION};
  struct conn_spec spec;
  struct conn_result r;
  size_t i;

  (void)state;
  for (i = 0; i < 2; i++) {
    mtls_spec(&spec, &server_p256, &client_p384);
    spec.client.cert_pem = other_p256.cert;
    spec.client.key_pem = other_p256.key;
    spec.max_version = versions[i];
    handshake(&r, &spec);
    assert_false(r.server_ok);
    assert_false(r.client_ok);
    assert_non_null(strstr(r.server_err, "certificate verify failed"));
  }
}

/* go-plugin-protocol.md §3.1-3.3: a go-plugin host presents a P-521 CA
 * certificate made by Go (SEC1 key, ecdsa-with-SHA512, SAN DNS:localhost
 * only) and trusts our server certificate as its root. */
static void goplugin_host_p521_client_cert_is_accepted(void **state) {
  static const int versions[] = {TLS1_2_VERSION, TLS1_3_VERSION};
  struct conn_spec spec;
  struct conn_result r;
  size_t i;

  (void)state;
  for (i = 0; i < 2; i++) {
    server_auth_spec(&spec, &server_p256);
    spec.server.ca_pem = goplugin_cert_pem;
    spec.client.cert_pem = goplugin_cert_pem;
    spec.client.key_pem = goplugin_key_pem;
    spec.max_version = versions[i];
    handshake(&r, &spec);
    assert_true(r.server_ok);
    assert_true(r.client_ok);
    assert_int_equal(r.version, versions[i]);
  }
  /* And the other way round: go-plugin's certificate as a server (a
   * plugin written with go-plugin, our host as the client). */
  memset(&spec, 0, sizeof(spec));
  spec.server.cert_pem = goplugin_cert_pem;
  spec.server.key_pem = goplugin_key_pem;
  spec.server.ca_pem = client_p384.cert;
  spec.client.ca_pem = goplugin_cert_pem;
  spec.client.cert_pem = client_p384.cert;
  spec.client.key_pem = client_p384.key;
  spec.server_name = "localhost";
  handshake(&r, &spec);
  assert_true(r.server_ok && r.client_ok);
}

static void client_offering_no_h2_is_refused(void **state) {
  static const unsigned char http11[] = {8,   'h', 't', 't', 'p',
                                         '/', '1', '.', '1'};
  static const unsigned char both[] = {8,   'h', 't', 't', 'p', '/',
                                       '1', '.', '1', 2,   'h', '2'};
  struct conn_spec spec;
  struct conn_result r;

  (void)state;
  server_auth_spec(&spec, &server_p256);
  spec.client_alpn = http11;
  spec.client_alpn_len = sizeof(http11);
  handshake(&r, &spec);
  assert_false(r.server_ok);
  assert_false(r.client_ok);
  assert_non_null(strstr(r.client_err, "no application protocol"));

  /* h2 after another protocol is still chosen. */
  server_auth_spec(&spec, &server_p256);
  spec.client_alpn = both;
  spec.client_alpn_len = sizeof(both);
  handshake(&r, &spec);
  assert_true(r.server_ok && r.client_ok);
  assert_int_equal(r.server_alpn_rv, 0);

  /* No ALPN at all: the handshake completes, and check_alpn refuses. */
  server_auth_spec(&spec, &server_p256);
  spec.no_client_alpn = 1;
  handshake(&r, &spec);
  assert_true(r.server_ok && r.client_ok);
  assert_int_equal(r.server_alpn_rv, SOUPC_ERR_TLS);
  assert_int_equal(r.client_alpn_rv, SOUPC_ERR_TLS);
}

static void check_alpn_message_names_the_problem(void **state) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  SSL *ssl = SSL_new(ctx);
  soupc_status st;

  (void)state;
  assert_int_equal(soupc__tls_check_alpn(ssl, &st), SOUPC_ERR_TLS);
  assert_non_null(strstr(st.message, "h2"));
  SSL_free(ssl);
  SSL_CTX_free(ctx);
}

static void expect_server_error(const soupc_tls_options *o, const char *msg) {
  soupc_status st;

  memset(&st, 0, sizeof(st));
  assert_null(soupc__tls_server_ctx_new(o, &st));
  if (strstr(st.message, msg) == NULL) {
    fail_msg("status \"%s\" does not contain \"%s\"", st.message, msg);
  }
  assert_int_not_equal(st.code, 0);
  assert_int_equal(ERR_peek_error(), 0); /* the queue was cleared */
}

static void bad_material_gives_clear_messages(void **state) {
  soupc_tls_options o;
  soupc_status st;
  char *key_copy;

  (void)state;
  o = (soupc_tls_options)SOUPC_TLS_OPTIONS_INIT;
  expect_server_error(&o, "needs a certificate");

  o.cert_pem = "hello";
  o.key_pem = server_p256.key;
  expect_server_error(&o, "certificate file is not PEM");

  o.cert_pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
  expect_server_error(&o, "certificate PEM does not parse");

  o.cert_pem = server_p256.cert;
  o.key_pem = NULL;
  expect_server_error(&o, "without its private key");

  o.key_pem = "hello";
  expect_server_error(&o, "private key file is not PEM");

  key_copy = strdup(server_p256.key);
  key_copy[40] = key_copy[40] == 'A' ? 'B' : 'A';
  key_copy[41] = key_copy[41] == 'A' ? 'B' : 'A';
  o.key_pem = key_copy;
  expect_server_error(&o, "private key");
  free(key_copy);

  o.key_pem = client_p384.key;
  expect_server_error(&o, "private key does not match certificate");

  o.key_pem = server_p256.key;
  o.ca_pem = "not a cert";
  expect_server_error(&o, "CA certificates are not PEM");

  /* The client reports the same problems. */
  o = (soupc_tls_options)SOUPC_TLS_OPTIONS_INIT;
  o.cert_pem = server_p256.cert;
  o.key_pem = client_p384.key;
  assert_null(soupc__tls_client_ctx_new(&o, &st));
  assert_non_null(strstr(st.message, "does not match"));
  o.cert_pem = NULL;
  o.key_pem = NULL;
  o.ca_pem = "-----BEGIN CERTIFICATE-----\n";
  assert_null(soupc__tls_client_ctx_new(&o, &st));
  assert_non_null(strstr(st.message, "not PEM"));
}

/* Several certificates in ca_pem are all roots; a chain in cert_pem is
 * sent after the leaf. */
static void multiple_ca_certs_are_all_trusted(void **state) {
  struct conn_spec spec;
  struct conn_result r;
  char *bundle;
  size_t a = strlen(other_p256.cert), b = strlen(server_p256.cert);

  (void)state;
  bundle = malloc(a + b + 1);
  assert_non_null(bundle);
  memcpy(bundle, other_p256.cert, a);
  memcpy(bundle + a, server_p256.cert, b + 1);
  server_auth_spec(&spec, &server_p256);
  spec.client.ca_pem = bundle;
  handshake(&r, &spec);
  assert_true(r.client_ok && r.server_ok);
  free(bundle);
}

/* The system store loads; our self-signed server is not in it. */
static void default_roots_do_not_trust_self_signed(void **state) {
  struct conn_spec spec;
  struct conn_result r;

  (void)state;
  server_auth_spec(&spec, &server_p256);
  spec.client.ca_pem = NULL;
  handshake(&r, &spec);
  assert_false(r.client_ok);
  assert_non_null(strstr(r.client_err, "certificate verify failed"));
}

/* A client certificate check does not stop resumption: the server context
 * has a session id context, without which OpenSSL fails every resumed
 * handshake once SSL_VERIFY_PEER is set. */
static void mtls_sessions_resume(void **state) {
  static const int versions[] = {TLS1_2_VERSION, TLS1_3_VERSION};
  struct conn_spec spec;
  struct conn_result first, second;
  soupc_status st;
  size_t i;

  (void)state;
  for (i = 0; i < 2; i++) {
    mtls_spec(&spec, &server_p256, &client_p384);
    spec.max_version = versions[i];
    spec.sctx = soupc__tls_server_ctx_new(&spec.server, &st);
    assert_non_null(spec.sctx);
    handshake(&first, &spec);
    assert_true(first.client_ok && first.server_ok);
    assert_false(first.reused);
    assert_non_null(first.session);
    spec.resume = first.session;
    handshake(&second, &spec);
    assert_true(second.client_ok && second.server_ok);
    assert_true(second.reused);
    assert_int_equal(second.client_alpn_rv, 0);
    assert_int_equal(second.server_alpn_rv, 0);
    SSL_SESSION_free(first.session);
    SSL_SESSION_free(second.session);
    SSL_CTX_free(spec.sctx);
  }
}

/* The server picks the TLS 1.3 suite in its own order, AES-128-GCM first
 * (the cheapest with AES hardware), whatever order an OpenSSL client
 * offers; a client that lists ChaCha20 first (no AES hardware) gets it,
 * and one that offers only AES-256 still connects. */
static void server_orders_tls13_suites_aes128_first(void **state) {
  static const struct {
    const char *offer, *want;
  } cases[] = {
      {"TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:"
       "TLS_AES_128_GCM_SHA256",
       "TLS_AES_128_GCM_SHA256"},
      {"TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384:"
       "TLS_AES_128_GCM_SHA256",
       "TLS_CHACHA20_POLY1305_SHA256"},
      {"TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384"},
  };
  struct conn_spec spec;
  struct conn_result r;
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    server_auth_spec(&spec, &server_p256);
    spec.client_suites = cases[i].offer;
    handshake(&r, &spec);
    assert_true(r.client_ok && r.server_ok);
    assert_int_equal(r.version, TLS1_3_VERSION);
    assert_string_equal(r.cipher, cases[i].want);
  }
}

/* Resumption rests on stateless tickets alone: no server session cache
 * (no lock shared by the workers), one TLS 1.3 ticket, and both versions
 * still resume. */
static void sessions_resume_from_tickets_without_a_cache(void **state) {
  static const int versions[] = {TLS1_2_VERSION, TLS1_3_VERSION};
  struct conn_spec spec;
  struct conn_result first, second;
  soupc_status st;
  size_t i;

  (void)state;
  for (i = 0; i < 2; i++) {
    server_auth_spec(&spec, &server_p256);
    spec.max_version = versions[i];
    spec.sctx = soupc__tls_server_ctx_new(&spec.server, &st);
    assert_non_null(spec.sctx);
    assert_int_equal(SSL_CTX_get_session_cache_mode(spec.sctx),
                     SSL_SESS_CACHE_OFF);
    assert_int_equal(SSL_CTX_get_num_tickets(spec.sctx), 1);
    handshake(&first, &spec);
    assert_true(first.client_ok && first.server_ok);
    assert_false(first.reused);
    assert_non_null(first.session);
    assert_true(SSL_SESSION_has_ticket(first.session));
    spec.resume = first.session;
    handshake(&second, &spec);
    assert_true(second.client_ok && second.server_ok);
    assert_true(second.reused);
    assert_int_equal(SSL_CTX_sess_number(spec.sctx), 0);
    SSL_SESSION_free(first.session);
    SSL_SESSION_free(second.session);
    SSL_CTX_free(spec.sctx);
  }
}

/* A peer that closes without close_notify is an EOF, not an error. */
static void close_without_close_notify_reads_as_eof(void **state) {
  static const int versions[] = {TLS1_2_VERSION, TLS1_3_VERSION};
  struct conn_spec spec;
  struct conn_result r;
  size_t i;

  (void)state;
  for (i = 0; i < 2; i++) {
    server_auth_spec(&spec, &server_p256);
    spec.max_version = versions[i];
    spec.dirty_close = 1;
    handshake(&r, &spec);
    assert_true(r.client_ok && r.server_ok);
    assert_int_equal(r.dirty_eof_err, SSL_ERROR_ZERO_RETURN);
  }
}

static void last_error_reads_and_clears_the_queue(void **state) {
  char buf[128];

  (void)state;
  ERR_clear_error();
  assert_string_equal(soupc__tls_last_error(buf, sizeof(buf)),
                      "no OpenSSL error");
  ERR_raise(ERR_LIB_SSL, SSL_R_NO_SHARED_CIPHER);
  soupc__tls_last_error(buf, sizeof(buf));
  assert_non_null(strstr(buf, "no shared cipher"));
  assert_int_equal(ERR_peek_error(), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(right_roots_handshake_negotiates_h2),
      cmocka_unit_test(rsa_server_cert_handshakes),
      cmocka_unit_test(wrong_roots_are_refused),
      cmocka_unit_test(ip_san_verifies_and_other_names_do_not),
      cmocka_unit_test(mtls_with_right_client_cert_succeeds),
      cmocka_unit_test(mtls_without_client_cert_is_refused),
      cmocka_unit_test(mtls_client_cert_from_other_ca_is_refused),
      cmocka_unit_test(goplugin_host_p521_client_cert_is_accepted),
      cmocka_unit_test(client_offering_no_h2_is_refused),
      cmocka_unit_test(check_alpn_message_names_the_problem),
      cmocka_unit_test(bad_material_gives_clear_messages),
      cmocka_unit_test(multiple_ca_certs_are_all_trusted),
      cmocka_unit_test(default_roots_do_not_trust_self_signed),
      cmocka_unit_test(mtls_sessions_resume),
      cmocka_unit_test(sessions_resume_from_tickets_without_a_cache),
      cmocka_unit_test(server_orders_tls13_suites_aes128_first),
      cmocka_unit_test(close_without_close_notify_reads_as_eof),
      cmocka_unit_test(last_error_reads_and_clears_the_queue),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
