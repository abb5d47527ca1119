/* OpenSSL contexts for the gRPC server and client (tls_context.h).
 *
 * go-plugin-protocol.md §3.4: TLS 1.2 and 1.3, ALPN "h2" required (grpc-go
 * >= 1.67 refuses TLS without it), P-521 client certificates from go-plugin
 * hosts accepted, the peer's self-signed certificate used directly as the
 * trust root. */
#include "tls/tls_context.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

/* ALPN wire format: one length-prefixed protocol id (RFC 7301 §3.1). */
static const unsigned char alpn_h2[] = {2, 'h', '2'};

/* RFC 7540 §9.2.2: HTTP/2 over TLS 1.2 needs an ephemeral key exchange and
 * an AEAD cipher. This is the TLS 1.2 list Go and grpcio offer; TLS 1.3
 * suites are all AEAD and keep OpenSSL's defaults. */
static const char tls12_ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

/* TLS 1.3 suites, server's order: AES-128-GCM first, as Go's server
 * orders them on AES-NI hardware. OpenSSL's default puts AES-256-GCM
 * first and a server honouring an OpenSSL client's order (h2load, grpcio)
 * then pays for 14 AES rounds instead of 10 on every byte, and for
 * SHA-384 in every HKDF step of the handshake. AES-128 keeps the 128-bit
 * security level of the P-256 and X25519 key exchange. With
 * SSL_OP_PRIORITIZE_CHACHA a client that lists ChaCha20 first (no AES
 * hardware) still gets it. */
static const char tls13_server_suites[] =
    "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:"
    "TLS_AES_256_GCM_SHA384";

/* Key exchange groups: every group Go offers, and P-256 for grpcio, whose
 * BoringSSL group list is fixed. */
static const char groups[] = "X25519:P-256:P-384:P-521";

/* Sent in the server's session state; it must be set when the server asks
 * for client certificates, or OpenSSL fails every resumed session. */
static const unsigned char session_id_context[] = "soup-c";

const char *soupc__tls_last_error(char *buf, size_t cap) {
  unsigned long e = ERR_peek_last_error();

  if (cap == 0) {
    ERR_clear_error();
    return buf;
  }
  if (e == 0) {
    snprintf(buf, cap, "no OpenSSL error");
  } else {
    const char *reason = ERR_reason_error_string(e);
    const char *lib = ERR_lib_error_string(e);
    if (reason != NULL) {
      snprintf(buf, cap, "%s%s%s", lib != NULL ? lib : "",
               lib != NULL ? ": " : "", reason);
    } else {
      ERR_error_string_n(e, buf, cap);
    }
  }
  ERR_clear_error();
  return buf;
}

const char *soupc__tls_describe_failure(SSL *ssl, char *buf, size_t cap) {
  long vr = ssl != NULL ? SSL_get_verify_result(ssl) : X509_V_OK;

  /* A failed chain check is the common case (wrong roots, expired or
   * unnamed certificate) and the verify result says far more than the
   * generic "certificate verify failed" at the top of the queue. */
  if (vr != X509_V_OK && cap > 0) {
    snprintf(buf, cap, "certificate verify failed: %s",
             X509_verify_cert_error_string(vr));
    ERR_clear_error();
    return buf;
  }
  return soupc__tls_last_error(buf, cap);
}

/* Settings both sides share: TLS >= 1.2, AEAD ciphers, no renegotiation
 * (RFC 7540 §9.2.1 forbids it under HTTP/2).
 * SSL_OP_IGNORE_UNEXPECTED_EOF: a peer that closes TCP without
 * close_notify reads as a clean EOF (SSL_ERROR_ZERO_RETURN) instead of
 * OpenSSL 3's SSL_ERROR_SSL "unexpected eof while reading", which
 * libevent's dirty-shutdown allowance does not cover. Truncation is still
 * caught one layer up: HTTP/2 frames carry their lengths and a gRPC call
 * ends only with END_STREAM and trailers. */
static int ctx_common(SSL_CTX *ctx) {
  if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
      !SSL_CTX_set_cipher_list(ctx, tls12_ciphers) ||
      !SSL_CTX_set1_groups_list(ctx, groups)) {
    return 0;
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                               SSL_OP_IGNORE_UNEXPECTED_EOF);
  return 1;
}

static int pem_has(const char *pem, const char *label) {
  return pem != NULL && strstr(pem, label) != NULL;
}

/* Loads our certificate chain and key (PEM text). @return 1 or 0 with
 * @p st set. */
static int use_cert_and_key(SSL_CTX *ctx, const char *cert_pem,
                            const char *key_pem, soupc_status *st) {
  BIO *bio = NULL;
  X509 *leaf = NULL, *extra = NULL;
  EVP_PKEY *pkey = NULL;
  char why[256];
  int ok = 0;

  if (key_pem == NULL) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "a certificate was given without its private key");
    return 0;
  }
  bio = BIO_new_mem_buf(cert_pem, -1);
  if (bio == NULL) {
    goto fail_ossl;
  }
  leaf = PEM_read_bio_X509(bio, NULL, NULL, NULL);
  if (leaf == NULL) {
    ERR_clear_error();
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     pem_has(cert_pem, "-----BEGIN CERTIFICATE-----")
                         ? "certificate PEM does not parse"
                         : "certificate file is not PEM (no BEGIN "
                           "CERTIFICATE block)");
    goto done;
  }
  if (SSL_CTX_use_certificate(ctx, leaf) != 1) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "certificate is not usable: %s",
                     soupc__tls_last_error(why, sizeof(why)));
    goto done;
  }
  /* Any further certificates are the chain to send after the leaf. */
  for (;;) {
    extra = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    if (extra == NULL) {
      ERR_clear_error(); /* end of input */
      break;
    }
    if (SSL_CTX_add0_chain_cert(ctx, extra) != 1) {
      X509_free(extra);
      goto fail_ossl;
    }
  }
  BIO_free(bio);

  bio = BIO_new_mem_buf(key_pem, -1);
  if (bio == NULL) {
    goto fail_ossl;
  }
  /* PKCS#8, SEC1 "EC PRIVATE KEY" (go-plugin) and PKCS#1 "RSA PRIVATE
   * KEY" all load here; encrypted keys are refused (no passphrase). */
  pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *)"");
  if (pkey == NULL) {
    ERR_clear_error();
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     pem_has(key_pem, "PRIVATE KEY-----")
                         ? "private key PEM does not parse (encrypted keys "
                           "are not supported)"
                         : "private key file is not PEM (no BEGIN PRIVATE "
                           "KEY block)");
    goto done;
  }
  if (SSL_CTX_use_PrivateKey(ctx, pkey) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "private key does not match certificate");
    goto done;
  }
  ok = 1;
  goto done;

fail_ossl:
  soupc_status_set(st, SOUPC_GRPC_INTERNAL, "loading certificate: %s",
                   soupc__tls_last_error(why, sizeof(why)));
done:
  EVP_PKEY_free(pkey);
  X509_free(leaf);
  BIO_free(bio);
  return ok;
}

/* Puts every certificate of @p ca_pem into a new store. Each one is a
 * trust anchor, even a leaf that is not self-signed
 * (X509_V_FLAG_PARTIAL_CHAIN), because that is what Go does with a
 * CertPool and what go-plugin relies on: the peer's own certificate is the
 * whole trust store (go-plugin-protocol.md §3.2-§3.4). */
static X509_STORE *store_from_pem(const char *ca_pem, soupc_status *st) {
  X509_STORE *store = NULL;
  BIO *bio = NULL;
  X509 *x;
  char why[256];
  int n = 0;

  store = X509_STORE_new();
  bio = BIO_new_mem_buf(ca_pem, -1);
  if (store == NULL || bio == NULL) {
    soupc_status_set(st, SOUPC_GRPC_INTERNAL, "CA store: %s",
                     soupc__tls_last_error(why, sizeof(why)));
    goto fail;
  }
  for (;;) {
    x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    if (x == NULL) {
      ERR_clear_error();
      break;
    }
    if (X509_STORE_add_cert(store, x) != 1) {
      unsigned long e = ERR_peek_last_error();
      /* A repeated certificate is harmless. */
      if (ERR_GET_REASON(e) != X509_R_CERT_ALREADY_IN_HASH_TABLE) {
        X509_free(x);
        soupc_status_set(st, SOUPC_GRPC_INTERNAL, "CA store: %s",
                         soupc__tls_last_error(why, sizeof(why)));
        goto fail;
      }
      ERR_clear_error();
    }
    X509_free(x);
    n++;
  }
  if (n == 0) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "CA certificates are not PEM (no BEGIN CERTIFICATE "
                     "block parses)");
    goto fail;
  }
  X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
  BIO_free(bio);
  return store;

fail:
  BIO_free(bio);
  X509_STORE_free(store);
  return NULL;
}

/* Chooses "h2" from the client's ALPN list, or ends the handshake with a
 * no_application_protocol alert (RFC 7301 §3.2): a gRPC server has nothing
 * else to speak. */
static int alpn_select(SSL *ssl, const unsigned char **out,
                       unsigned char *outlen, const unsigned char *in,
                       unsigned int inlen, void *arg) {
  unsigned int i = 0;

  (void)ssl;
  (void)arg;
  while (i < inlen) {
    unsigned int len = in[i];
    if (len == 0 || len > inlen - i - 1) {
      break; /* malformed list */
    }
    if (len == 2 && memcmp(in + i + 1, "h2", 2) == 0) {
      *out = in + i + 1;
      *outlen = 2;
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + len;
  }
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

/* Server session resumption: stateless tickets only (RFC 8446 §4.6.1,
 * RFC 5077 for TLS 1.2), sealed with keys OpenSSL draws at random for this
 * context, so they are worth nothing after a restart or to another server.
 * No server-side session cache: with tickets it would only cost every full
 * TLS 1.2 handshake a write lock on the context shared by all workers, and
 * a walk of the cache every 255 sessions. One TLS 1.3 ticket instead of
 * OpenSSL's two: a client resumes with one, and each costs the handshake a
 * session encoding, an encryption and a record. */
static void set_resumption(SSL_CTX *ctx) {
  SSL_CTX_clear_options(ctx, SSL_OP_NO_TICKET);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(ctx, 1);
}

SSL_CTX *soupc__tls_server_ctx_new(const soupc_tls_options *opts,
                                   soupc_status *st) {
  SSL_CTX *ctx = NULL;
  X509_STORE *store;
  char why[256];

  if (opts == NULL || opts->cert_pem == NULL) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "a TLS server needs a certificate and key");
    return NULL;
  }
  ERR_clear_error();
  ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == NULL || !ctx_common(ctx) ||
      !SSL_CTX_set_session_id_context(ctx, session_id_context,
                                      sizeof(session_id_context) - 1)) {
    soupc_status_set(st, SOUPC_GRPC_INTERNAL, "TLS server context: %s",
                     soupc__tls_last_error(why, sizeof(why)));
    goto fail;
  }
  if (!use_cert_and_key(ctx, opts->cert_pem, opts->key_pem, st)) {
    goto fail;
  }
  if (opts->ca_pem != NULL) {
    store = store_from_pem(opts->ca_pem, st);
    if (store == NULL) {
      goto fail;
    }
    SSL_CTX_set_cert_store(ctx, store); /* ctx owns it now */
    /* go-plugin's tls.RequireAndVerifyClientCert (go-plugin-protocol.md
     * §3.3). OpenSSL's default signature algorithms include
     * ecdsa_secp521r1_sha512, which a go-plugin host's P-521 certificate
     * signs with; do not narrow them. */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                       NULL);
  }
  if (!SSL_CTX_set_ciphersuites(ctx, tls13_server_suites)) {
    soupc_status_set(st, SOUPC_GRPC_INTERNAL, "TLS server suites: %s",
                     soupc__tls_last_error(why, sizeof(why)));
    goto fail;
  }
  SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE |
                               SSL_OP_PRIORITIZE_CHACHA);
  SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
  set_resumption(ctx);
  ERR_clear_error();
  return ctx;

fail:
  SSL_CTX_free(ctx);
  return NULL;
}

SSL_CTX *soupc__tls_client_ctx_new(const soupc_tls_options *opts,
                                   soupc_status *st) {
  SSL_CTX *ctx = NULL;
  X509_STORE *store;
  char why[256];

  ERR_clear_error();
  ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == NULL || !ctx_common(ctx)) {
    soupc_status_set(st, SOUPC_GRPC_INTERNAL, "TLS client context: %s",
                     soupc__tls_last_error(why, sizeof(why)));
    goto fail;
  }
  /* SSL_CTX_set_alpn_protos returns 0 on success. */
  if (SSL_CTX_set_alpn_protos(ctx, alpn_h2, sizeof(alpn_h2)) != 0) {
    soupc_status_set(st, SOUPC_GRPC_INTERNAL, "ALPN: %s",
                     soupc__tls_last_error(why, sizeof(why)));
    goto fail;
  }
  if (opts != NULL && opts->ca_pem != NULL) {
    store = store_from_pem(opts->ca_pem, st);
    if (store == NULL) {
      goto fail;
    }
    SSL_CTX_set_cert_store(ctx, store);
  } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
    soupc_status_set(st, SOUPC_GRPC_INTERNAL, "system CA roots: %s",
                     soupc__tls_last_error(why, sizeof(why)));
    goto fail;
  }
  if (opts != NULL && opts->cert_pem != NULL &&
      !use_cert_and_key(ctx, opts->cert_pem, opts->key_pem, st)) {
    goto fail;
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
  ERR_clear_error(); /* e.g. a missing default CA file */
  return ctx;

fail:
  SSL_CTX_free(ctx);
  return NULL;
}

/* Strips the brackets of "[::1]" into @p buf. @return @p name or @p buf. */
static const char *unbracket(const char *name, char *buf, size_t cap) {
  size_t len = strlen(name);

  if (len >= 2 && name[0] == '[' && name[len - 1] == ']' && len - 2 < cap) {
    memcpy(buf, name + 1, len - 2);
    buf[len - 2] = '\0';
    return buf;
  }
  return name;
}

int soupc__tls_client_prepare(SSL *ssl, const char *server_name) {
  unsigned char addr[16];
  char buf[64];
  const char *name;

  name =
      server_name != NULL && server_name[0] != '\0' ? server_name : "localhost";
  name = unbracket(name, buf, sizeof(buf));
  if (inet_pton(AF_INET, name, addr) == 1 ||
      inet_pton(AF_INET6, name, addr) == 1) {
    /* RFC 6066 §3: no IP literals in SNI. Match an IP SAN instead. */
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) != 1) {
      ERR_clear_error();
      return SOUPC_ERR_TLS;
    }
    return 0;
  }
  SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (SSL_set_tlsext_host_name(ssl, name) != 1 ||
      SSL_set1_host(ssl, name) != 1) {
    ERR_clear_error();
    return SOUPC_ERR_TLS;
  }
  return 0;
}

int soupc__tls_check_alpn(SSL *ssl, soupc_status *st) {
  const unsigned char *proto = NULL;
  unsigned int len = 0;

  SSL_get0_alpn_selected(ssl, &proto, &len);
  if (len == 2 && memcmp(proto, "h2", 2) == 0) {
    return 0;
  }
  /* go-plugin-protocol.md §3.4: gRPC needs h2 negotiated by ALPN. */
  if (len == 0) {
    soupc_status_set(st, SOUPC_GRPC_UNAVAILABLE,
                     "TLS peer did not negotiate ALPN \"h2\" (no ALPN)");
  } else {
    soupc_status_set(st, SOUPC_GRPC_UNAVAILABLE,
                     "TLS peer negotiated ALPN \"%.*s\", not \"h2\"", (int)len,
                     (const char *)proto);
  }
  return SOUPC_ERR_TLS;
}
