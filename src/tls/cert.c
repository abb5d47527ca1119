/* Self-signed certificates, key/curve names and the PEM/DER/base64
 * conversions of the go-plugin handshake (include/soupc/cert.h).
 *
 * Templates: go-plugin-protocol.md §3.1 (AutoMTLS) and rpc-spec.md §6.2,
 * §12 ("Server cert"). Everything goes through OpenSSL 3's EVP and X509v3
 * APIs; nothing here parses ASN.1 or base64 by hand. */
#include "soupc/cert.h"

#include "base/alloc.h"
#include "base/options.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <assert.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_VALIDITY_DAYS 365
/* go-plugin mtls.go: NotBefore = now - 30s, for peers with a slightly slow
 * clock. */
#define NOT_BEFORE_SKEW_SECONDS 30
#define SERIAL_BYTES 16 /* 128-bit serial, as go-plugin and soup-go */

struct curve_alias {
  const char *name;
  soupc_curve curve;
};

/* rpc-spec.md §6.1: Go's getCurve names plus Python's prime256v1. */
static const struct curve_alias curve_aliases[] = {
    {"secp256r1", SOUPC_CURVE_P256}, {"p-256", SOUPC_CURVE_P256},
    {"p256", SOUPC_CURVE_P256},      {"prime256v1", SOUPC_CURVE_P256},
    {"secp384r1", SOUPC_CURVE_P384}, {"p-384", SOUPC_CURVE_P384},
    {"p384", SOUPC_CURVE_P384},      {"secp521r1", SOUPC_CURVE_P521},
    {"p-521", SOUPC_CURVE_P521},     {"p521", SOUPC_CURVE_P521},
};

int soupc_key_type_parse(soupc_key_type *out, const char *name) {
  if (name == NULL) {
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  if (strcasecmp(name, "ec") == 0) {
    *out = SOUPC_KEY_EC;
    return 0;
  }
  if (strcasecmp(name, "rsa") == 0) {
    *out = SOUPC_KEY_RSA;
    return 0;
  }
  return SOUPC_ERR_INVALID_ARGUMENT;
}

int soupc_curve_parse(soupc_curve *out, const char *name) {
  size_t i;

  if (name == NULL) {
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  for (i = 0; i < sizeof(curve_aliases) / sizeof(curve_aliases[0]); i++) {
    if (strcasecmp(name, curve_aliases[i].name) == 0) {
      *out = curve_aliases[i].curve;
      return 0;
    }
  }
  return SOUPC_ERR_INVALID_ARGUMENT;
}

const char *soupc_curve_name(soupc_curve curve) {
  switch (curve) {
  case SOUPC_CURVE_P256:
    return "secp256r1";
  case SOUPC_CURVE_P384:
    return "secp384r1";
  case SOUPC_CURVE_P521:
    return "secp521r1";
  }
  return "unknown";
}

int soupc_rsa_bits_check(int bits) {
  return bits == 2048 || bits == 3072 || bits == 4096
             ? 0
             : SOUPC_ERR_INVALID_ARGUMENT;
}

/* OpenSSL's own group names (OSSL_PKEY_PARAM_GROUP_NAME values). */
static const char *curve_group_name(soupc_curve curve) {
  switch (curve) {
  case SOUPC_CURVE_P256:
    return "prime256v1";
  case SOUPC_CURVE_P384:
    return "secp384r1";
  case SOUPC_CURVE_P521:
    return "secp521r1";
  }
  return NULL;
}

/* The OpenSSL error queue's newest entry as a reason string, then clears
 * the queue so a later failure does not report a stale entry. */
static const char *ossl_reason(char *buf, size_t cap) {
  unsigned long e = ERR_peek_last_error();

  if (e == 0) {
    snprintf(buf, cap, "no OpenSSL error");
  } else {
    const char *r = ERR_reason_error_string(e);
    if (r != NULL) {
      snprintf(buf, cap, "%s", r);
    } else {
      ERR_error_string_n(e, buf, cap);
    }
  }
  ERR_clear_error();
  return buf;
}

/* Copies a memory BIO's contents into a soupc__malloc'd NUL-terminated
 * string (free() compatible, as cert.h promises). */
static int bio_take_string(char **out, BIO *bio) {
  char *data;
  long len;
  char *copy;

  len = BIO_get_mem_data(bio, &data);
  if (len < 0) {
    return SOUPC_ERR_INTERNAL;
  }
  copy = soupc__strndup(data, (size_t)len);
  if (copy == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  *out = copy;
  return 0;
}

static EVP_PKEY *generate_key(const soupc_cert_options *opts, int bits) {
  if (opts->key_type == SOUPC_KEY_RSA) {
    return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
  }
  return EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve_group_name(opts->curve));
}

/* An ECDSA signature hash matched to the curve's strength (FIPS 186-4 /
 * RFC 5480 §4), as Go does for its own certificates; SHA-256 for RSA. */
static const EVP_MD *signature_digest(const soupc_cert_options *opts) {
  if (opts->key_type == SOUPC_KEY_EC) {
    if (opts->curve == SOUPC_CURVE_P384) {
      return EVP_sha384();
    }
    if (opts->curve == SOUPC_CURVE_P521) {
      return EVP_sha512();
    }
  }
  return EVP_sha256();
}

/* A random serial in [1, 2^128): positive and non-zero, as RFC 5280 §4.1.2.2
 * and Go's parser require (go-plugin-protocol.md §3.4). */
static int set_random_serial(X509 *x) {
  unsigned char raw[SERIAL_BYTES];
  BIGNUM *bn = NULL;
  int ok = 0;

  do {
    if (RAND_bytes(raw, sizeof(raw)) != 1) {
      return 0;
    }
    BN_free(bn);
    bn = BN_bin2bn(raw, sizeof(raw), NULL);
    if (bn == NULL) {
      return 0;
    }
  } while (BN_is_zero(bn));
  ok = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
  BN_free(bn);
  return ok;
}

static int add_ext(X509 *x, X509V3_CTX *v3, int nid, const char *value) {
  X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, v3, nid, value);
  int ok;

  if (ext == NULL) {
    return 0;
  }
  ok = X509_add_ext(x, ext, -1);
  X509_EXTENSION_free(ext);
  return ok;
}

/* The v3 extensions of rpc-spec.md §12 and go-plugin-protocol.md §3.1.
 * Why keyCertSign with is_ca: OpenSSL 3 takes a self-signed certificate in
 * the trust store as an anchor with or without CA:TRUE (a chain of length
 * one has no issuer key-usage check), but 1.1.x, BoringSSL and OpenSSL's
 * X509_STRICT mode look at CA/keyCertSign on anchors, so a certificate that
 * a peer will trust as its own root should be a CA, as go-plugin's are. SKI
 * and AKI are what X509_STRICT asks of a CA. */
static int add_extensions(X509 *x, const soupc_cert_options *opts,
                          const char **step) {
  X509V3_CTX v3;
  char ku[96];

  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);

  *step = "basicConstraints";
  if (!add_ext(x, &v3, NID_basic_constraints,
               opts->is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE")) {
    return 0;
  }
  /* RSA key exchange (TLS 1.2 RSA kx) encrypts to the key; ECDSA only
   * signs. */
  snprintf(ku, sizeof(ku), "critical,digitalSignature%s%s",
           opts->key_type == SOUPC_KEY_RSA ? ",keyEncipherment" : "",
           opts->is_ca ? ",keyCertSign" : "");
  *step = "keyUsage";
  if (!add_ext(x, &v3, NID_key_usage, ku)) {
    return 0;
  }
  *step = "extendedKeyUsage";
  if (!add_ext(x, &v3, NID_ext_key_usage, "serverAuth,clientAuth")) {
    return 0;
  }
  /* Go (>= 1.15) checks only the SAN; 127.0.0.1 and ::1 let a client
   * connect by address (rpc-spec.md §12). */
  *step = "subjectAltName";
  if (!add_ext(x, &v3, NID_subject_alt_name,
               "DNS:localhost,IP:127.0.0.1,IP:::1")) {
    return 0;
  }
  *step = "subjectKeyIdentifier";
  if (!add_ext(x, &v3, NID_subject_key_identifier, "hash")) {
    return 0;
  }
  *step = "authorityKeyIdentifier";
  if (!add_ext(x, &v3, NID_authority_key_identifier, "keyid:always")) {
    return 0;
  }
  return 1;
}

int soupc_cert_generate(char **cert_pem_out, char **key_pem_out,
                        const soupc_cert_options *user_opts, soupc_status *st) {
  soupc_cert_options o;
  const soupc_cert_options *opts = &o;
  EVP_PKEY *pkey = NULL;
  X509 *x = NULL;
  X509_NAME *name;
  BIO *cert_bio = NULL, *key_bio = NULL;
  char *cert_pem = NULL, *key_pem = NULL;
  const char *step = "";
  char why[256];
  int bits = 0, days;
  int rv;

  assert(cert_pem_out != NULL && key_pem_out != NULL);
  /* docs/api/abi.md: read the caller's struct at its own size. */
  rv = soupc__options_copy(&o, sizeof(o), user_opts, "soupc_cert_options", st);
  if (rv != 0) {
    return rv;
  }
  if (opts->key_type == SOUPC_KEY_RSA) {
    bits = opts->rsa_bits == 0 ? 2048 : opts->rsa_bits;
    if (soupc_rsa_bits_check(bits) != 0) {
      soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                       "RSA key size %d is not supported; use 2048, 3072 or "
                       "4096",
                       opts->rsa_bits);
      return SOUPC_ERR_INVALID_ARGUMENT;
    }
  } else if (opts->key_type != SOUPC_KEY_EC ||
             curve_group_name(opts->curve) == NULL) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "unknown key type %d or curve %d", (int)opts->key_type,
                     (int)opts->curve);
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  days = opts->validity_days == 0 ? DEFAULT_VALIDITY_DAYS : opts->validity_days;
  /* 100 years is plenty, and keeps days * 86400 far from overflow. */
  if (days < 0 || days > 36500) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "validity of %d days is out of range 1..36500",
                     opts->validity_days);
    return SOUPC_ERR_INVALID_ARGUMENT;
  }

  ERR_clear_error();
  rv = SOUPC_ERR_TLS;
  step = "key generation";
  pkey = generate_key(opts, bits);
  if (pkey == NULL) {
    goto fail_ossl;
  }

  step = "certificate";
  x = X509_new();
  if (x == NULL || !X509_set_version(x, X509_VERSION_3) ||
      !X509_set_pubkey(x, pkey)) {
    goto fail_ossl;
  }
  step = "serial";
  if (!set_random_serial(x)) {
    goto fail_ossl;
  }
  step = "validity";
  if (X509_gmtime_adj(X509_getm_notBefore(x), -NOT_BEFORE_SKEW_SECONDS) ==
          NULL ||
      X509_time_adj_ex(X509_getm_notAfter(x), days, 0, NULL) == NULL) {
    goto fail_ossl;
  }
  step = "subject";
  name = X509_get_subject_name(x);
  if (!X509_NAME_add_entry_by_txt(
          name, "O", MBSTRING_UTF8,
          (const unsigned char *)(opts->organization ? opts->organization
                                                     : "soup-c"),
          -1, -1, 0) ||
      !X509_NAME_add_entry_by_txt(
          name, "CN", MBSTRING_UTF8,
          (const unsigned char *)(opts->common_name ? opts->common_name
                                                    : "localhost"),
          -1, -1, 0) ||
      !X509_set_issuer_name(x, name)) {
    goto fail_ossl;
  }
  if (!add_extensions(x, opts, &step)) {
    goto fail_ossl;
  }
  step = "signing";
  if (X509_sign(x, pkey, signature_digest(opts)) <= 0) {
    goto fail_ossl;
  }

  step = "PEM encoding";
  cert_bio = BIO_new(BIO_s_mem());
  key_bio = BIO_new(BIO_s_mem());
  if (cert_bio == NULL || key_bio == NULL || !PEM_write_bio_X509(cert_bio, x) ||
      /* PKCS#8 "PRIVATE KEY": readable by Go, Python and OpenSSL alike. */
      !PEM_write_bio_PrivateKey(key_bio, pkey, NULL, NULL, 0, NULL, NULL)) {
    goto fail_ossl;
  }
  rv = bio_take_string(&cert_pem, cert_bio);
  if (rv == 0) {
    rv = bio_take_string(&key_pem, key_bio);
  }
  if (rv != 0) {
    soupc_status_set(st, SOUPC_GRPC_RESOURCE_EXHAUSTED, "out of memory");
    goto fail;
  }
  *cert_pem_out = cert_pem;
  *key_pem_out = key_pem;
  BIO_free(cert_bio);
  /* The key PEM stays in freed heap otherwise. */
  {
    char *kd;
    long kl = BIO_get_mem_data(key_bio, &kd);
    if (kl > 0) {
      OPENSSL_cleanse(kd, (size_t)kl);
    }
  }
  BIO_free(key_bio);
  X509_free(x);
  EVP_PKEY_free(pkey);
  return 0;

fail_ossl:
  soupc_status_set(st, SOUPC_GRPC_INTERNAL, "certificate %s: %s", step,
                   ossl_reason(why, sizeof(why)));
fail:
  soupc__free(cert_pem);
  soupc__free(key_pem);
  BIO_free(cert_bio);
  BIO_free(key_bio);
  X509_free(x);
  EVP_PKEY_free(pkey);
  return rv;
}

static X509 *read_pem_cert(const char *pem) {
  BIO *bio;
  X509 *x;

  if (pem == NULL) {
    return NULL;
  }
  bio = BIO_new_mem_buf(pem, -1);
  if (bio == NULL) {
    return NULL;
  }
  x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
  BIO_free(bio);
  ERR_clear_error();
  return x;
}

int soupc_cert_pem_to_der(uint8_t **der_out, size_t *len_out, const char *pem) {
  X509 *x = read_pem_cert(pem);
  unsigned char *der = NULL, *p;
  int len;
  int rv = SOUPC_ERR_INVALID_ARGUMENT;

  if (x == NULL) {
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  len = i2d_X509(x, NULL);
  if (len <= 0) {
    goto done;
  }
  der = soupc__malloc((size_t)len);
  if (der == NULL) {
    rv = SOUPC_ERR_NOMEM;
    goto done;
  }
  p = der;
  if (i2d_X509(x, &p) != len) {
    soupc__free(der);
    goto done;
  }
  *der_out = der;
  *len_out = (size_t)len;
  rv = 0;

done:
  X509_free(x);
  ERR_clear_error();
  return rv;
}

int soupc_cert_der_to_pem(char **pem_out, const uint8_t *der, size_t len) {
  const unsigned char *p = der;
  X509 *x = NULL;
  BIO *bio = NULL;
  int rv = SOUPC_ERR_INVALID_ARGUMENT;

  if (der == NULL || len == 0 || len > LONG_MAX) {
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  x = d2i_X509(NULL, &p, (long)len);
  /* Trailing bytes would mean the input was not one certificate. */
  if (x == NULL || p != der + len) {
    goto done;
  }
  bio = BIO_new(BIO_s_mem());
  if (bio == NULL || !PEM_write_bio_X509(bio, x)) {
    rv = SOUPC_ERR_NOMEM;
    goto done;
  }
  rv = bio_take_string(pem_out, bio);

done:
  BIO_free(bio);
  X509_free(x);
  ERR_clear_error();
  return rv;
}

int soupc_base64_encode_unpadded(char **out, const uint8_t *data, size_t len) {
  size_t cap, n;
  char *text;
  int wrote;

  /* EVP_EncodeBlock takes an int length. */
  if (len > (size_t)INT_MAX / 4 * 3 - 3) {
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  cap = (len + 2) / 3 * 4 + 1;
  text = soupc__malloc(cap);
  if (text == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  wrote = len == 0 ? 0 : EVP_EncodeBlock((unsigned char *)text, data, (int)len);
  n = (size_t)wrote;
  /* go-plugin decodes field 6 with RawStdEncoding, which rejects '='
   * (go-plugin-protocol.md §3.3, rpc-spec.md §12). */
  while (n > 0 && text[n - 1] == '=') {
    n--;
  }
  text[n] = '\0';
  *out = text;
  return 0;
}

int soupc_base64_decode(uint8_t **out, size_t *len_out, const char *text,
                        size_t text_len) {
  EVP_ENCODE_CTX *ctx = NULL;
  unsigned char *clean = NULL, *bin = NULL;
  size_t n = 0, i, pad = 0;
  int got = 0, fin = 0;
  int rv = SOUPC_ERR_INVALID_ARGUMENT;

  if (text == NULL || text_len > (size_t)INT_MAX - 4) {
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  /* Copy without CR/LF and with the padding normalised to what the EVP
   * decoder expects: Go's RawStdEncoding drops it, StdEncoding keeps it. */
  clean = soupc__malloc(text_len + 4);
  if (clean == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  for (i = 0; i < text_len; i++) {
    unsigned char c = (unsigned char)text[i];
    if (c == '\r' || c == '\n') {
      continue;
    }
    /* The EVP decoder would skip other whitespace and stop at '-' (a PEM
     * armour line); neither is base64, so refuse them here. */
    if (c == ' ' || c == '\t' || c == '\f' || c == '\v' || c == '-' ||
        c == '\0') {
      goto done;
    }
    clean[n++] = c;
  }
  while (n > 0 && clean[n - 1] == '=' && pad < 2) {
    n--;
    pad++;
  }
  /* One leftover character cannot encode a byte. */
  if (n % 4 == 1 || memchr(clean, '=', n) != NULL) {
    goto done;
  }
  pad = (4 - n % 4) % 4;
  for (i = 0; i < pad; i++) {
    clean[n++] = '=';
  }
  bin = soupc__malloc(n / 4 * 3 + 1);
  if (bin == NULL) {
    rv = SOUPC_ERR_NOMEM;
    goto done;
  }
  if (n > 0) {
    ctx = EVP_ENCODE_CTX_new();
    if (ctx == NULL) {
      rv = SOUPC_ERR_NOMEM;
      goto done;
    }
    EVP_DecodeInit(ctx);
    if (EVP_DecodeUpdate(ctx, bin, &got, clean, (int)n) < 0 ||
        EVP_DecodeFinal(ctx, bin + got, &fin) != 1) {
      goto done;
    }
  }
  *out = bin;
  *len_out = (size_t)got + (size_t)fin;
  bin = NULL;
  rv = 0;

done:
  EVP_ENCODE_CTX_free(ctx);
  soupc__free(clean);
  soupc__free(bin);
  return rv;
}

int soupc_cert_describe(soupc_key_type *key_type_out, soupc_curve *curve_out,
                        int *bits_out, const char *pem) {
  X509 *x = read_pem_cert(pem);
  EVP_PKEY *pkey;
  char group[64];
  int rv = SOUPC_ERR_INVALID_ARGUMENT;

  if (x == NULL) {
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  pkey = X509_get0_pubkey(x);
  if (pkey == NULL) {
    goto done;
  }
  if (EVP_PKEY_is_a(pkey, "EC")) {
    soupc_curve curve;
    if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                        sizeof(group), NULL) ||
        soupc_curve_parse(&curve, group) != 0) {
      rv = SOUPC_ERR_UNSUPPORTED;
      goto done;
    }
    if (key_type_out != NULL) {
      *key_type_out = SOUPC_KEY_EC;
    }
    if (curve_out != NULL) {
      *curve_out = curve;
    }
    if (bits_out != NULL) {
      *bits_out = EVP_PKEY_get_bits(pkey);
    }
    rv = 0;
  } else if (EVP_PKEY_is_a(pkey, "RSA")) {
    if (key_type_out != NULL) {
      *key_type_out = SOUPC_KEY_RSA;
    }
    if (bits_out != NULL) {
      *bits_out = EVP_PKEY_get_bits(pkey);
    }
    rv = 0;
  } else {
    rv = SOUPC_ERR_UNSUPPORTED; /* Ed25519, DSA, ... */
  }

done:
  X509_free(x);
  ERR_clear_error();
  return rv;
}

int soupc_cert_to_handshake_field(char **out, const char *pem) {
  uint8_t *der = NULL;
  size_t len = 0;
  int rv;

  rv = soupc_cert_pem_to_der(&der, &len, pem);
  if (rv != 0) {
    return rv;
  }
  rv = soupc_base64_encode_unpadded(out, der, len);
  soupc__free(der);
  return rv;
}

int soupc_cert_from_handshake_field(char **pem_out, const char *field,
                                    size_t len) {
  uint8_t *der = NULL;
  size_t der_len = 0;
  int rv;

  rv = soupc_base64_decode(&der, &der_len, field, len);
  if (rv != 0) {
    return rv;
  }
  rv = soupc_cert_der_to_pem(pem_out, der, der_len);
  soupc__free(der);
  return rv;
}
