/**
 * @file cert.h
 * Self-signed certificates and keys (OpenSSL), key-type and curve names, and
 * the PEM/DER/base64 conversions the go-plugin handshake needs.
 *
 * Every function here is thread-safe and keeps no state between calls.
 * Strings and buffers returned through @c out parameters belong to the
 * caller, who releases them with soupc_free(); they are written only on
 * success.
 */
#ifndef SOUPC_CERT_H
#define SOUPC_CERT_H

#include "soupc/soupc.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Public key algorithms for generated certificates. */
typedef enum {
  SOUPC_KEY_EC = 0, /**< ECDSA on a ::soupc_curve (the default) */
  SOUPC_KEY_RSA = 1 /**< RSA, 2048, 3072 or 4096 bits */
} soupc_key_type;

/** The NIST curves go-plugin, grpc-go and grpcio all accept. */
typedef enum {
  SOUPC_CURVE_P256 = 0, /**< secp256r1 (prime256v1), signed with SHA-256 */
  SOUPC_CURVE_P384 = 1, /**< secp384r1, signed with SHA-384 */
  SOUPC_CURVE_P521 = 2  /**< secp521r1, signed with SHA-512 */
} soupc_curve;

/** What soupc_cert_generate() makes. Start from SOUPC_CERT_OPTIONS_INIT;
 * every field's zero value is its default. */
typedef struct soupc_cert_options {
  /** sizeof(soupc_cert_options) as the caller was built; set by
   * SOUPC_CERT_OPTIONS_INIT (docs/api/abi.md). */
  size_t struct_size;
  soupc_key_type key_type; /**< default SOUPC_KEY_EC */
  soupc_curve curve;       /**< EC only; default SOUPC_CURVE_P256 */
  /** RSA only: 2048, 3072 or 4096; 0 means 2048. */
  int rsa_bits;
  /** Subject and issuer CN, copied; NULL means "localhost". */
  const char *common_name;
  /** Subject and issuer O, copied; NULL means "soup-c". */
  const char *organization;
  /** Non-zero: CA:TRUE and keyCertSign, as go-plugin AutoMTLS certificates
   * are. Set it for a self-signed certificate that a peer will use as its
   * own trust root (mTLS, go-plugin). OpenSSL 3 itself accepts a
   * self-signed leaf in the trust store as an anchor with or without it (a
   * one-certificate chain has no issuer key-usage check), but OpenSSL 1.1,
   * BoringSSL (grpcio) and X509_V_FLAG_X509_STRICT (Python >= 3.13's
   * default) check CA and keyCertSign on roots; a CA certificate passes
   * everywhere and is still a valid TLS leaf. */
  int is_ca;
  /** Days from now to NotAfter, 1..36500; 0 means 365. */
  int validity_days;
} soupc_cert_options;

/** Initialiser for soupc_cert_options: an EC P-256 certificate for
 * "localhost", valid 365 days, not a CA. */
#define SOUPC_CERT_OPTIONS_INIT                                                \
  { .struct_size = sizeof(soupc_cert_options) }

/**
 * Parses a key type name.
 * @param out  the key type; written only on success
 * @param name "ec" or "rsa", case-insensitive; NULL is invalid
 * @return 0, or SOUPC_ERR_INVALID_ARGUMENT (NULL or another name).
 */
SOUPC_EXTERN int soupc_key_type_parse(soupc_key_type *out, const char *name);

/**
 * Parses a curve name, case-insensitive: secp256r1, p-256, p256 or
 * prime256v1; secp384r1, p-384 or p384; secp521r1, p-521 or p521.
 * @param out  the curve; written only on success
 * @param name the name; NULL is invalid
 * @return 0, or SOUPC_ERR_INVALID_ARGUMENT (NULL or another name).
 */
SOUPC_EXTERN int soupc_curve_parse(soupc_curve *out, const char *name);

/**
 * Names a curve the way OpenSSL and go-plugin's logs do.
 * @param curve the curve
 * @return "secp256r1", "secp384r1" or "secp521r1", or "unknown" for a value
 *         outside ::soupc_curve; static storage, never NULL.
 */
SOUPC_EXTERN const char *soupc_curve_name(soupc_curve curve);

/**
 * Checks an RSA key size.
 * @param bits the size in bits
 * @return 0 for 2048, 3072 and 4096; SOUPC_ERR_INVALID_ARGUMENT otherwise.
 */
SOUPC_EXTERN int soupc_rsa_bits_check(int bits);

/**
 * Generates a key and a self-signed X.509 v3 certificate: subject and issuer
 * O=organization, CN=common_name; SAN DNS:localhost, IP:127.0.0.1,
 * IP:::1; EKU serverAuth+clientAuth; KU digitalSignature (+keyEncipherment
 * for RSA, +keyCertSign for a CA), critical; basicConstraints CA:TRUE or
 * CA:FALSE, critical; subject and authority key identifiers; NotBefore
 * now-30s, NotAfter now+validity_days; 128-bit random positive serial.
 * Signed with SHA-256 (RSA, P-256), SHA-384 (P-384) or SHA-512 (P-521).
 * A 4096-bit RSA key takes about a second; EC keys a millisecond.
 *
 * @param cert_pem_out the PEM certificate, NUL-terminated; release with
 *                     soupc_free()
 * @param key_pem_out  the PEM private key, PKCS#8 "PRIVATE KEY",
 *                     NUL-terminated; release with soupc_free(). Neither
 *                     output is written on error.
 * @param opts         what to generate, copied during the call; NULL means
 *                     SOUPC_CERT_OPTIONS_INIT's defaults
 * @param st           may be NULL; on error, one line naming the step
 * @return 0;
 *         SOUPC_ERR_INVALID_ARGUMENT: bad RSA size, key type, curve or
 *         validity, or @p opts not initialised with its INIT macro;
 *         SOUPC_ERR_UNSUPPORTED: @p opts sets a field newer than this
 *         library;
 *         SOUPC_ERR_TLS: an OpenSSL step failed (@p st names it);
 *         SOUPC_ERR_NOMEM;
 *         SOUPC_ERR_INTERNAL: OpenSSL returned no PEM text.
 */
SOUPC_EXTERN int soupc_cert_generate(char **cert_pem_out, char **key_pem_out,
                                     const soupc_cert_options *opts,
                                     soupc_status *st);

/**
 * Converts the first certificate of a PEM text to DER.
 * @param der_out the DER bytes; release with soupc_free()
 * @param len_out their length
 * @param pem     NUL-terminated PEM text; NULL is invalid
 * @return 0; SOUPC_ERR_INVALID_ARGUMENT (no PEM certificate in @p pem);
 *         SOUPC_ERR_NOMEM.
 */
SOUPC_EXTERN int soupc_cert_pem_to_der(uint8_t **der_out, size_t *len_out,
                                       const char *pem);

/**
 * Converts one DER certificate to PEM text.
 * @param pem_out the PEM text, NUL-terminated; release with soupc_free()
 * @param der     the DER bytes
 * @param len     their length; the bytes must be exactly one certificate
 * @return 0; SOUPC_ERR_INVALID_ARGUMENT (not one DER certificate, trailing
 *         bytes, or @p len 0); SOUPC_ERR_NOMEM; SOUPC_ERR_INTERNAL (OpenSSL
 *         returned no PEM text).
 */
SOUPC_EXTERN int soupc_cert_der_to_pem(char **pem_out, const uint8_t *der,
                                       size_t len);

/**
 * Encodes bytes as standard base64 without '=' padding, which is what
 * go-plugin's RawStdEncoding reads.
 * @param out  the text, NUL-terminated; release with soupc_free()
 * @param data the bytes; may be NULL when @p len is 0 (the result is "")
 * @param len  their length, below 1.5 GiB
 * @return 0; SOUPC_ERR_INVALID_ARGUMENT (@p len too large);
 *         SOUPC_ERR_NOMEM.
 */
SOUPC_EXTERN int soupc_base64_encode_unpadded(char **out, const uint8_t *data,
                                              size_t len);

/**
 * Decodes standard base64, with or without '=' padding; CR and LF are
 * skipped, any other character outside the alphabet is an error.
 * @param out      the bytes; release with soupc_free()
 * @param len_out  their length
 * @param text     the text; need not be NUL-terminated
 * @param text_len its length
 * @return 0; SOUPC_ERR_INVALID_ARGUMENT (not base64, or @p text NULL);
 *         SOUPC_ERR_NOMEM.
 */
SOUPC_EXTERN int soupc_base64_decode(uint8_t **out, size_t *len_out,
                                     const char *text, size_t text_len);

/**
 * Describes the public key of the first certificate in a PEM text.
 * @param key_type_out its ::soupc_key_type; may be NULL
 * @param curve_out    for EC, its curve; may be NULL; left alone for RSA
 * @param bits_out     the RSA modulus size, or 256/384/521 for EC; may be
 *                     NULL
 * @param pem          NUL-terminated PEM text
 * Outputs are written only on success.
 * @return 0; SOUPC_ERR_INVALID_ARGUMENT (no certificate in @p pem);
 *         SOUPC_ERR_UNSUPPORTED (another key type, e.g. Ed25519, or
 *         another curve).
 */
SOUPC_EXTERN int soupc_cert_describe(soupc_key_type *key_type_out,
                                     soupc_curve *curve_out, int *bits_out,
                                     const char *pem);

/**
 * Makes the handshake line's certificate field (go-plugin-protocol.md
 * §3.3): the DER of the first certificate in a PEM text as unpadded
 * standard base64.
 * @param out the field, NUL-terminated; release with soupc_free()
 * @param pem NUL-terminated PEM text
 * @return 0; SOUPC_ERR_INVALID_ARGUMENT (no certificate in @p pem);
 *         SOUPC_ERR_NOMEM.
 */
SOUPC_EXTERN int soupc_cert_to_handshake_field(char **out, const char *pem);

/**
 * The reverse of soupc_cert_to_handshake_field(): a handshake certificate
 * field, base64 of DER with or without padding, as a PEM certificate.
 * @param pem_out the PEM text, NUL-terminated; release with soupc_free()
 * @param field   the field; need not be NUL-terminated
 * @param len     its length
 * @return 0; SOUPC_ERR_INVALID_ARGUMENT (not base64, or not one DER
 *         certificate); SOUPC_ERR_NOMEM; SOUPC_ERR_INTERNAL (OpenSSL
 *         returned no PEM text).
 */
SOUPC_EXTERN int soupc_cert_from_handshake_field(char **pem_out,
                                                 const char *field, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* SOUPC_CERT_H */
