/* OpenSSL contexts for the gRPC server and client (tls/ layer header, used by transport/).
 * TLS >= 1.2, ALPN "h2" only. */
#ifndef SOUPC_TLS_TLS_CONTEXT_H
#define SOUPC_TLS_TLS_CONTEXT_H

#include <openssl/ssl.h>

#include "soupc/rpc.h"

/* Builds a server context from PEM text: our cert+key; if opts->ca_pem is set,
 * client certificates are required and verified against it
 * (SSL_VERIFY_PEER|SSL_VERIFY_FAIL_IF_NO_PEER_CERT). ALPN selects "h2" and
 * refuses a client that offers no h2. P-521 client certificates (go-plugin
 * hosts) are accepted. @return the context, or NULL with @p st set. */
SSL_CTX *soupc__tls_server_ctx_new(const soupc_tls_options *opts,
                                   soupc_status *st);

/* Builds a client context: roots from opts->ca_pem (or the system store),
 * optional client cert+key, ALPN "h2". @return the context or NULL. */
SSL_CTX *soupc__tls_client_ctx_new(const soupc_tls_options *opts,
                                   soupc_status *st);

/* Prepares a client SSL for one connection: SNI and hostname (or IP)
 * verification against @p server_name. @return 0 or SOUPC_ERR_TLS. */
int soupc__tls_client_prepare(SSL *ssl, const char *server_name);

/* After the handshake: @return 0 if ALPN chose "h2", SOUPC_ERR_TLS otherwise
 * with @p st set. */
int soupc__tls_check_alpn(SSL *ssl, soupc_status *st);

/* The last OpenSSL error queue entry as text (clears the queue), for status
 * messages; @p buf of @p cap bytes. */
const char *soupc__tls_last_error(char *buf, size_t cap);

#endif
