/**
 * @file cert.h
 * Self-signed certificates and keys (OpenSSL), key-type and curve names, and
 * the PEM/DER/base64 conversions the go-plugin handshake needs.
 */
#ifndef SOUPC_CERT_H
#define SOUPC_CERT_H

#include "soupc/soupc.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  SOUPC_KEY_EC = 0,
  SOUPC_KEY_RSA = 1
} soupc_key_type;

typedef enum {
  SOUPC_CURVE_P256 = 0,
  SOUPC_CURVE_P384 = 1,
  SOUPC_CURVE_P521 = 2
} soupc_curve;

typedef struct soupc_cert_options {
  /** sizeof(soupc_cert_options) as the caller was built; set by
   * SOUPC_CERT_OPTIONS_INIT (docs/api/abi.md). */
  size_t struct_size;
  soupc_key_type key_type;  /* default SOUPC_KEY_EC */
  soupc_curve curve;        /* EC only */
  int rsa_bits;             /* RSA only: 2048, 3072 or 4096; 0 = 2048 */
  const char *common_name;  /* NULL = "localhost" */
  const char *organization; /* NULL = "soup-c" */
  /** CA:TRUE and keyCertSign, as go-plugin AutoMTLS certificates are. Set it
   * for a self-signed certificate that a peer will use as its own trust root
   * (mTLS, go-plugin). OpenSSL 3 itself accepts a self-signed leaf in the
   * trust store as an anchor with or without it (a one-certificate chain has
   * no issuer key-usage check), but OpenSSL 1.1, BoringSSL (grpcio) and
   * X509_V_FLAG_X509_STRICT (Python >= 3.13's default) check CA and
   * keyCertSign on roots; a CA certificate passes everywhere and is still a
   * valid TLS leaf. */
  int is_ca;
  int validity_days; /* 0 = 365; at most 36500 */
} soupc_cert_options;

/** Initialiser for soupc_cert_options: an EC P-256 certificate for
 * "localhost", valid 365 days, not a CA. */
#define SOUPC_CERT_OPTIONS_INIT                                                \
  { .struct_size = sizeof(soupc_cert_options) }

/** Parses "ec" or "rsa" (case-insensitive). @return 0 or
 * SOUPC_ERR_INVALID_ARGUMENT. */
SOUPC_EXTERN int soupc_key_type_parse(soupc_key_type *out, const char *name);

/** Parses a curve name, case-insensitive: secp256r1|p-256|p256|prime256v1,
 * secp384r1|p-384|p384, secp521r1|p-521|p521. @return 0 or
 * SOUPC_ERR_INVALID_ARGUMENT. */
SOUPC_EXTERN int soupc_curve_parse(soupc_curve *out, const char *name);

/** @return "secp256r1", "secp384r1" or "secp521r1"; static storage. */
SOUPC_EXTERN const char *soupc_curve_name(soupc_curve curve);

/** Checks RSA sizes: 2048, 3072, 4096. @return 0 or
 * SOUPC_ERR_INVALID_ARGUMENT. */
SOUPC_EXTERN int soupc_rsa_bits_check(int bits);

/**
 * Generates a key and a self-signed X.509 v3 certificate: subject and issuer
 * O=<organization>, CN=<common_name>; SAN DNS:localhost, IP:127.0.0.1,
 * IP:::1; EKU serverAuth+clientAuth; KU digitalSignature (+keyEncipherment
 * for RSA, +keyCertSign for a CA), critical; basicConstraints CA:TRUE or
 * CA:FALSE, critical; subject and authority key identifiers; NotBefore
 * now-30s, NotAfter now+validity_days; 128-bit random positive serial.
 * Signed with SHA-256 (RSA, P-256), SHA-384 (P-384) or SHA-512 (P-521).
 * Thread-safe.
 * @param cert_pem_out malloc'd PEM certificate (free()).
 * @param key_pem_out  malloc'd PEM private key, PKCS#8 "PRIVATE KEY"
 *                     (free()). Neither is written on error.
 * @param st           may be NULL; on error, one line naming the step.
 * @return 0, SOUPC_ERR_INVALID_ARGUMENT (bad bits, key type, curve or
 *         days), SOUPC_ERR_TLS (OpenSSL failure, @p st says which step),
 *         SOUPC_ERR_NOMEM.
 */
SOUPC_EXTERN int soupc_cert_generate(char **cert_pem_out, char **key_pem_out,
                                     const soupc_cert_options *opts,
                                     soupc_status *st);

/** Converts the first certificate of a PEM text to DER (malloc'd).
 * @return 0 or SOUPC_ERR_INVALID_ARGUMENT. */
SOUPC_EXTERN int soupc_cert_pem_to_der(uint8_t **der_out, size_t *len_out,
                                       const char *pem);

/** Converts DER to a PEM certificate text (malloc'd). @return 0 or
 * SOUPC_ERR_INVALID_ARGUMENT. */
SOUPC_EXTERN int soupc_cert_der_to_pem(char **pem_out, const uint8_t *der,
                                       size_t len);

/** Standard base64 without '=' padding (what go-plugin's RawStdEncoding
 * reads), malloc'd and NUL-terminated. @return 0 or SOUPC_ERR_NOMEM. */
SOUPC_EXTERN int soupc_base64_encode_unpadded(char **out, const uint8_t *data,
                                              size_t len);

/** Decodes standard base64 with or without '=' padding; '\r' and '\n' are
 * skipped. @return 0 or SOUPC_ERR_INVALID_ARGUMENT. */
SOUPC_EXTERN int soupc_base64_decode(uint8_t **out, size_t *len_out,
                                     const char *text, size_t text_len);

/** Describes the public key of the first certificate in a PEM text:
 * @p key_type_out, for EC @p curve_out, and @p bits_out (the RSA modulus
 * size, or 256/384/521 for EC); any may be NULL and @p curve_out is left
 * alone for RSA. @return 0, SOUPC_ERR_INVALID_ARGUMENT (no certificate) or
 * SOUPC_ERR_UNSUPPORTED (another key type, e.g. Ed25519, or another
 * curve). */
SOUPC_EXTERN int soupc_cert_describe(soupc_key_type *key_type_out,
                                     soupc_curve *curve_out, int *bits_out,
                                     const char *pem);

/** The handshake line's certificate field (go-plugin-protocol.md §3.3):
 * the DER of the first certificate in @p pem as unpadded standard base64,
 * malloc'd and NUL-terminated. @return 0, SOUPC_ERR_INVALID_ARGUMENT (no
 * certificate) or SOUPC_ERR_NOMEM. */
SOUPC_EXTERN int soupc_cert_to_handshake_field(char **out, const char *pem);

/** The reverse: a handshake certificate field, base64 of DER with or
 * without padding, as a PEM certificate (malloc'd). @return 0,
 * SOUPC_ERR_INVALID_ARGUMENT (not base64, or not one DER certificate) or
 * SOUPC_ERR_NOMEM. */
SOUPC_EXTERN int soupc_cert_from_handshake_field(char **pem_out,
                                                 const char *field, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* SOUPC_CERT_H */
