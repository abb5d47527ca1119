/* Shared TLS contexts (tls_shared.c), for server.c and channel.c. Private
 * to transport/. */
#ifndef SOUPC_TRANSPORT_TLS_SHARED_H
#define SOUPC_TRANSPORT_TLS_SHARED_H

#include <openssl/ssl.h>

#include "soupc/rpc.h"

/* A new reference to @p c's SSL_CTX, or NULL if @p c is NULL or made for
 * the other side. */
SSL_CTX *soupc__tls_context_ref(const soupc_tls_context *c, int is_server);

/* Client, before the handshake: offers the newest ticket of a shared
 * context (nothing for any other context). */
void soupc__tls_context_resume(SSL *ssl);

#endif
