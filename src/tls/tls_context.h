/* OpenSSL contexts for the gRPC server and client (tls/ layer header, used by
 * transport/). TLS >= 1.2, ALPN "h2" only.
 *
 * Both contexts: TLS 1.2 (ECDHE + AEAD ciphers only, RFC 7540 §9.2.2) and
 * TLS 1.3; groups X25519, P-256, P-384, P-521; no renegotiation; a TCP
 * close without close_notify reads as a clean EOF (SSL_ERROR_ZERO_RETURN,
 * SSL_OP_IGNORE_UNEXPECTED_EOF; HTTP/2 framing detects truncation); OpenSSL's
 * default signature algorithms (they include ecdsa_secp521r1_sha512, which
 * go-plugin's P-521 certificates need). A context is immutable once built:
 * SSL_new() on it from any thread is safe; free it with SSL_CTX_free()
 * (each SSL holds a reference).
 *
 * Trust: every certificate in ca_pem is a trust anchor, including a leaf
 * that is not self-signed (X509_V_FLAG_PARTIAL_CHAIN), which is how Go's
 * CertPool behaves and what go-plugin relies on: each side's self-signed
 * certificate is the other side's whole trust store
 * (go-plugin-protocol.md §3.2-§3.4). CA:TRUE is not required by OpenSSL 3.
 *
 * Failures set a one-line soupc_status with code SOUPC_GRPC_INVALID_ARGUMENT
 * for bad material ("certificate file is not PEM (no BEGIN CERTIFICATE
 * block)", "private key does not match certificate", "CA certificates are
 * not PEM ...") and SOUPC_GRPC_INTERNAL for OpenSSL failures. The
 * constructors and soupc__tls_client_prepare leave the thread's OpenSSL
 * error queue empty. */
#ifndef SOUPC_TLS_TLS_CONTEXT_H
#define SOUPC_TLS_TLS_CONTEXT_H

#include <openssl/ssl.h>

#include "soupc/rpc.h"

/* Builds a server context from PEM text: our cert (a chain: the leaf
 * first) + key (PKCS#8, SEC1 or PKCS#1; not encrypted); if opts->ca_pem is
 * set, client certificates are required and verified against it
 * (SSL_VERIFY_PEER|SSL_VERIFY_FAIL_IF_NO_PEER_CERT, go-plugin's
 * RequireAndVerifyClientCert). No CA list is sent in the CertificateRequest,
 * so a Go client always offers its one certificate. ALPN selects "h2" and
 * ends the handshake with a no_application_protocol alert if the client's
 * ALPN list has no h2. A client that sends no ALPN extension at all still
 * completes the handshake: call soupc__tls_check_alpn() after it on the
 * server side too. P-521 client certificates (go-plugin hosts) are
 * accepted. Sessions resume from stateless tickets (one per TLS 1.3
 * handshake; no server session cache). opts->server_name is ignored.
 * @return the context, or NULL with @p st set. */
SSL_CTX *soupc__tls_server_ctx_new(const soupc_tls_options *opts,
                                   soupc_status *st);

/* Builds a client context: roots from opts->ca_pem (or the system default
 * paths if it is NULL), optional client cert+key (opts->cert_pem NULL = no
 * client certificate), ALPN "h2", SSL_VERIFY_PEER. The server name is set
 * per connection by soupc__tls_client_prepare(). @p opts may be NULL.
 * @return the context or NULL with @p st set. */
SSL_CTX *soupc__tls_client_ctx_new(const soupc_tls_options *opts,
                                   soupc_status *st);

/* Prepares a client SSL for one connection, before SSL_connect: a DNS name
 * is sent as SNI and checked against the certificate's SAN (SSL_set1_host;
 * case-insensitive, no partial wildcards); an IP literal ("127.0.0.1",
 * "::1" or "[::1]") is matched against an IP SAN and sends no SNI (RFC
 * 6066 §3). NULL or "" means "localhost" (go-plugin's ServerName). A
 * mismatch fails the handshake with "certificate verify failed: hostname
 * mismatch" / "IP address mismatch". @return 0 or SOUPC_ERR_TLS. */
int soupc__tls_client_prepare(SSL *ssl, const char *server_name);

/* After the handshake (client or server side): @return 0 if ALPN chose
 * "h2", SOUPC_ERR_TLS otherwise with @p st set (code UNAVAILABLE). */
int soupc__tls_check_alpn(SSL *ssl, soupc_status *st);

/* The last OpenSSL error queue entry as text ("SSL routines: peer did not
 * return a certificate"), then clears the queue; "no OpenSSL error" if it
 * was empty. For status messages; @p buf of @p cap bytes. @return buf. */
const char *soupc__tls_last_error(char *buf, size_t cap);

/* After a failed SSL_do_handshake/SSL_read/SSL_write: the certificate
 * verification result as text if our chain check failed (e.g.
 * "certificate verify failed: self-signed certificate", "... hostname
 * mismatch"), otherwise soupc__tls_last_error() (e.g. "SSL routines: tlsv1
 * alert unknown ca" when the peer refused ours). Clears the error queue.
 * @p ssl may be NULL. @return buf. */
const char *soupc__tls_describe_failure(SSL *ssl, char *buf, size_t cap);

#endif
