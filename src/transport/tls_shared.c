/* Shared TLS contexts (rpc.h: soupc_tls_context): one OpenSSL context built
 * once and used by many servers or channels, so that the certificate, key
 * and trust store are parsed once (OpenSSL 3 spends about a millisecond in
 * SSL_CTX_new and PEM decoding) and TLS sessions resume across them.
 *
 * Servers resume from stateless tickets already (tls_context.c); sharing
 * the context shares the ticket key. A client context keeps the newest
 * ticket it received in a box hung on the SSL_CTX (ex_data), freed with
 * the SSL_CTX itself, so a channel that outlives soupc_tls_context_free()
 * still finds valid memory. */
#include "transport/tls_shared.h"

#include <pthread.h>

#include <openssl/ssl.h>

#include "base/alloc.h"
#include "tls/tls_context.h"

struct soupc_tls_context {
  SSL_CTX *ctx;
  int is_server;
};

struct session_box {
  pthread_mutex_t mu;
  SSL_SESSION *session; /* the newest ticket, or NULL */
};

static int box_index = -1;
static pthread_once_t box_once = PTHREAD_ONCE_INIT;

static void box_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
                     long argl, void *argp) {
  struct session_box *box = ptr;

  (void)parent;
  (void)ad;
  (void)idx;
  (void)argl;
  (void)argp;
  if (box != NULL) {
    SSL_SESSION_free(box->session);
    pthread_mutex_destroy(&box->mu);
    soupc__free(box);
  }
}

static void init_box_index(void) {
  box_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, box_free);
}

static struct session_box *box_of(SSL_CTX *ctx) {
  pthread_once(&box_once, init_box_index);
  return box_index >= 0 ? SSL_CTX_get_ex_data(ctx, box_index) : NULL;
}

/* A new ticket (TLS 1.3: after the handshake, while reading). We keep a
 * copy: OpenSSL marks the connection's own session not resumable when the
 * connection is freed without close_notify, which is how channels end. */
static int on_new_session(SSL *ssl, SSL_SESSION *session) {
  struct session_box *box = box_of(SSL_get_SSL_CTX(ssl));
  SSL_SESSION *copy;

  if (box == NULL || (copy = SSL_SESSION_dup(session)) == NULL) {
    return 0;
  }
  pthread_mutex_lock(&box->mu);
  SSL_SESSION_free(box->session);
  box->session = copy;
  pthread_mutex_unlock(&box->mu);
  return 0; /* OpenSSL keeps (and frees) the original */
}

int soupc_tls_context_new(soupc_tls_context **out,
                          const soupc_tls_options *opts, int is_server,
                          soupc_status *st) {
  soupc_tls_context *c;
  struct session_box *box;

  c = soupc__calloc(1, sizeof(*c));
  if (c == NULL) {
    soupc_status_set(st, SOUPC_GRPC_RESOURCE_EXHAUSTED, "out of memory");
    return SOUPC_ERR_NOMEM;
  }
  c->is_server = is_server;
  c->ctx = is_server ? soupc__tls_server_ctx_new(opts, st)
                     : soupc__tls_client_ctx_new(opts, st);
  if (c->ctx == NULL) {
    soupc__free(c);
    return SOUPC_ERR_TLS;
  }
  if (!is_server) {
    pthread_once(&box_once, init_box_index);
    box = soupc__calloc(1, sizeof(*box));
    if (box == NULL || box_index < 0 ||
        !SSL_CTX_set_ex_data(c->ctx, box_index, box)) {
      soupc__free(box);
      SSL_CTX_free(c->ctx);
      soupc__free(c);
      soupc_status_set(st, SOUPC_GRPC_RESOURCE_EXHAUSTED, "out of memory");
      return SOUPC_ERR_NOMEM;
    }
    pthread_mutex_init(&box->mu, NULL);
    SSL_CTX_set_session_cache_mode(
        c->ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(c->ctx, on_new_session);
  }
  *out = c;
  return 0;
}

void soupc_tls_context_free(soupc_tls_context *c) {
  if (c == NULL) {
    return;
  }
  SSL_CTX_free(c->ctx); /* servers and channels hold their own references */
  soupc__free(c);
}

SSL_CTX *soupc__tls_context_ref(const soupc_tls_context *c, int is_server) {
  if (c == NULL || c->is_server != is_server || !SSL_CTX_up_ref(c->ctx)) {
    return NULL;
  }
  return c->ctx;
}

void soupc__tls_context_resume(SSL *ssl) {
  struct session_box *box = box_of(SSL_get_SSL_CTX(ssl));

  if (box == NULL) {
    return;
  }
  pthread_mutex_lock(&box->mu);
  if (box->session != NULL && SSL_SESSION_is_resumable(box->session)) {
    (void)SSL_set_session(ssl, box->session);
  }
  pthread_mutex_unlock(&box->mu);
}
