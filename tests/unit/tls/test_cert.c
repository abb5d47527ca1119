/* Tests for src/tls/cert.c: key and certificate generation, names, and the
 * PEM/DER/base64 conversions (include/soupc/cert.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/alloc.h"
#include "soupc/cert.h"

#include "goplugin_cert.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

static X509 *parse_cert(const char *pem) {
  BIO *bio = BIO_new_mem_buf(pem, -1);
  X509 *x;

  assert_non_null(bio);
  x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
  BIO_free(bio);
  assert_non_null(x);
  return x;
}

static EVP_PKEY *parse_key(const char *pem) {
  BIO *bio = BIO_new_mem_buf(pem, -1);
  EVP_PKEY *k;

  assert_non_null(bio);
  k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
  BIO_free(bio);
  assert_non_null(k);
  return k;
}

/* Seconds from now to an ASN1_TIME (negative: in the past). */
static long seconds_from_now(const ASN1_TIME *t) {
  int days, secs;

  assert_int_equal(ASN1_TIME_diff(&days, &secs, NULL, t), 1);
  return (long)days * 86400 + secs;
}

static int san_has(X509 *x, int type, const char *dns, const uint8_t *ip,
                   size_t ip_len) {
  GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
  int found = 0, i;

  assert_non_null(names);
  for (i = 0; i < sk_GENERAL_NAME_num(names); i++) {
    GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
    if (gn->type != type) {
      continue;
    }
    if (type == GEN_DNS &&
        strcmp((const char *)ASN1_STRING_get0_data(gn->d.dNSName), dns) == 0) {
      found = 1;
    }
    if (type == GEN_IPADD &&
        (size_t)ASN1_STRING_length(gn->d.iPAddress) == ip_len &&
        memcmp(ASN1_STRING_get0_data(gn->d.iPAddress), ip, ip_len) == 0) {
      found = 1;
    }
  }
  GENERAL_NAMES_free(names);
  return found;
}

/* Checks everything cert.h promises about a generated pair. */
static void check_generated(const char *cert_pem, const char *key_pem,
                            const soupc_cert_options *opts) {
  static const uint8_t v4[4] = {127, 0, 0, 1};
  static const uint8_t v6[16] = {0, 0, 0, 0, 0, 0, 0, 0,
                                 0, 0, 0, 0, 0, 0, 0, 1};
  X509 *x = parse_cert(cert_pem);
  EVP_PKEY *key = parse_key(key_pem);
  BIGNUM *serial;
  uint32_t ku, xku;
  long days = opts->validity_days ? opts->validity_days : 365;
  int md_nid = 0, pk_nid = 0;

  assert_non_null(strstr(cert_pem, "-----BEGIN CERTIFICATE-----\n"));
  assert_memory_equal(key_pem, "-----BEGIN PRIVATE KEY-----\n", 28);
  assert_int_equal(X509_check_private_key(x, key), 1);
  assert_int_equal(X509_get_version(x), X509_VERSION_3);

  /* SAN: DNS:localhost, IP:127.0.0.1, IP:::1. */
  assert_true(san_has(x, GEN_DNS, "localhost", NULL, 0));
  assert_true(san_has(x, GEN_IPADD, NULL, v4, sizeof(v4)));
  assert_true(san_has(x, GEN_IPADD, NULL, v6, sizeof(v6)));

  ku = X509_get_key_usage(x);
  xku = X509_get_extended_key_usage(x);
  assert_true(ku & KU_DIGITAL_SIGNATURE);
  assert_int_equal(!!(ku & KU_KEY_ENCIPHERMENT),
                   opts->key_type == SOUPC_KEY_RSA);
  assert_int_equal(!!(ku & KU_KEY_CERT_SIGN), !!opts->is_ca);
  assert_true(xku & XKU_SSL_SERVER);
  assert_true(xku & XKU_SSL_CLIENT);
  assert_int_equal(X509_check_ca(x) != 0, !!opts->is_ca);

  /* NotBefore = now - 30s (a second of slack each way), NotAfter = now +
   * days. */
  assert_in_range(-seconds_from_now(X509_get0_notBefore(x)), 29, 32);
  assert_in_range(seconds_from_now(X509_get0_notAfter(x)), days * 86400 - 5,
                  days * 86400 + 1);

  /* Positive, non-zero, at most 128 bits. */
  serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
  assert_non_null(serial);
  assert_false(BN_is_negative(serial));
  assert_false(BN_is_zero(serial));
  assert_in_range(BN_num_bits(serial), 1, 128);
  BN_free(serial);

  assert_int_equal(X509_get_signature_info(x, &md_nid, &pk_nid, NULL, NULL), 1);
  if (opts->key_type == SOUPC_KEY_RSA) {
    assert_int_equal(md_nid, NID_sha256);
  } else {
    assert_int_equal(md_nid, opts->curve == SOUPC_CURVE_P256   ? NID_sha256
                             : opts->curve == SOUPC_CURVE_P384 ? NID_sha384
                                                               : NID_sha512);
  }
  X509_free(x);
  EVP_PKEY_free(key);
}

static void generate_and_describe(const soupc_cert_options *opts) {
  char *cert = NULL, *key = NULL;
  soupc_status st;
  soupc_key_type kt = (soupc_key_type)-1;
  soupc_curve curve = (soupc_curve)-1;
  int bits = 0;

  assert_int_equal(soupc_cert_generate(&cert, &key, opts, &st), 0);
  check_generated(cert, key, opts);
  assert_int_equal(soupc_cert_describe(&kt, &curve, &bits, cert), 0);
  assert_int_equal(kt, opts->key_type);
  if (opts->key_type == SOUPC_KEY_EC) {
    static const int curve_bits[] = {256, 384, 521};
    assert_int_equal(curve, opts->curve);
    assert_int_equal(bits, curve_bits[opts->curve]);
  } else {
    assert_int_equal(bits, opts->rsa_bits ? opts->rsa_bits : 2048);
  }
  free(cert);
  free(key);
}

static void every_curve_generates_and_describes_back(void **state) {
  soupc_cert_options o = SOUPC_CERT_OPTIONS_INIT;
  int c;

  (void)state;
  o.key_type = SOUPC_KEY_EC;
  for (c = SOUPC_CURVE_P256; c <= SOUPC_CURVE_P521; c++) {
    o.curve = (soupc_curve)c;
    o.is_ca = 0;
    generate_and_describe(&o);
    o.is_ca = 1;
    generate_and_describe(&o);
  }
}

static void every_rsa_size_generates_and_describes_back(void **state) {
  soupc_cert_options o = SOUPC_CERT_OPTIONS_INIT;

  (void)state;
  o.key_type = SOUPC_KEY_RSA;
  o.rsa_bits = 0; /* default 2048 */
  generate_and_describe(&o);
  o.rsa_bits = 2048;
  o.is_ca = 1;
  generate_and_describe(&o);
  o.rsa_bits = 3072;
  o.is_ca = 0;
  generate_and_describe(&o);
  o.rsa_bits = 4096; /* slow: the only 4096-bit key in the suite */
  generate_and_describe(&o);
}

static void subject_and_validity_options_are_applied(void **state) {
  soupc_cert_options o = SOUPC_CERT_OPTIONS_INIT;
  char *cert = NULL, *key = NULL;
  char buf[128];
  X509 *x;

  (void)state;
  o.curve = SOUPC_CURVE_P256;
  o.common_name = "tofusoup.rpc.server";
  o.organization = "TofuSoup";
  o.validity_days = 10950;
  assert_int_equal(soupc_cert_generate(&cert, &key, &o, NULL), 0);
  check_generated(cert, key, &o);
  x = parse_cert(cert);
  assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(x),
                                        NID_commonName, buf, sizeof(buf)) > 0);
  assert_string_equal(buf, "tofusoup.rpc.server");
  assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(x),
                                        NID_organizationName, buf,
                                        sizeof(buf)) > 0);
  assert_string_equal(buf, "TofuSoup");
  assert_int_equal(
      X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)), 0);
  X509_free(x);
  free(cert);
  free(key);

  /* Defaults: CN localhost, O soup-c. */
  o = (soupc_cert_options)SOUPC_CERT_OPTIONS_INIT;
  assert_int_equal(soupc_cert_generate(&cert, &key, &o, NULL), 0);
  x = parse_cert(cert);
  X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, buf,
                            sizeof(buf));
  assert_string_equal(buf, "localhost");
  X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_organizationName, buf,
                            sizeof(buf));
  assert_string_equal(buf, "soup-c");
  X509_free(x);
  free(cert);
  free(key);
}

static int validity_days_of(const char *pem) {
  X509 *x = parse_cert(pem);
  int days = 0, secs = 0;

  assert_true(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x),
                             X509_get0_notAfter(x)));
  X509_free(x);
  return days;
}

/* docs/api/abi.md: options must come from SOUPC_CERT_OPTIONS_INIT. */
static void options_without_init_are_rejected(void **state) {
  soupc_cert_options o;
  char *cert = NULL, *key = NULL;
  soupc_status st;

  (void)state;
  memset(&o, 0, sizeof(o));
  assert_int_equal(soupc_cert_generate(&cert, &key, &o, &st),
                   SOUPC_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(st.message, "soupc_cert_options.struct_size is 0"));
  assert_null(cert);
  assert_null(key);
}

/* NULL options, and a caller built when the struct ended before
 * validity_days, both get the 365-day default. */
static void older_or_null_options_get_defaults(void **state) {
  soupc_cert_options o = SOUPC_CERT_OPTIONS_INIT;
  char *cert = NULL, *key = NULL;

  (void)state;
  assert_int_equal(soupc_cert_generate(&cert, &key, NULL, NULL), 0);
  assert_int_equal(validity_days_of(cert), 365);
  free(cert);
  free(key);
  o.validity_days = 3650; /* beyond the "old" struct: must be ignored */
  o.struct_size = offsetof(soupc_cert_options, validity_days);
  assert_int_equal(soupc_cert_generate(&cert, &key, &o, NULL), 0);
  assert_int_equal(validity_days_of(cert), 365);
  free(cert);
  free(key);
  o.struct_size = sizeof(o);
  assert_int_equal(soupc_cert_generate(&cert, &key, &o, NULL), 0);
  assert_int_equal(validity_days_of(cert), 3650);
  free(cert);
  free(key);
}

/* A self-signed certificate is its own trust root (go-plugin-protocol.md
 * §3.4): OpenSSL 3 verifies it against a store holding only itself, CA or
 * not. */
static void self_signed_cert_verifies_against_itself(void **state) {
  soupc_cert_options o = SOUPC_CERT_OPTIONS_INIT;
  int is_ca;

  (void)state;
  for (is_ca = 0; is_ca <= 1; is_ca++) {
    char *cert = NULL, *key = NULL;
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    X509 *x;

    o.is_ca = is_ca;
    assert_int_equal(soupc_cert_generate(&cert, &key, &o, NULL), 0);
    x = parse_cert(cert);
    assert_int_equal(X509_STORE_add_cert(store, x), 1);
    assert_int_equal(X509_STORE_CTX_init(ctx, store, x, NULL), 1);
    X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
    assert_int_equal(X509_verify_cert(ctx), 1);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    X509_free(x);
    free(cert);
    free(key);
  }
}

static void serials_differ(void **state) {
  soupc_cert_options o = SOUPC_CERT_OPTIONS_INIT;
  char *c1, *k1, *c2, *k2;
  X509 *x1, *x2;

  (void)state;
  o.curve = SOUPC_CURVE_P256;
  assert_int_equal(soupc_cert_generate(&c1, &k1, &o, NULL), 0);
  assert_int_equal(soupc_cert_generate(&c2, &k2, &o, NULL), 0);
  x1 = parse_cert(c1);
  x2 = parse_cert(c2);
  assert_int_not_equal(
      ASN1_INTEGER_cmp(X509_get0_serialNumber(x1), X509_get0_serialNumber(x2)),
      0);
  assert_string_not_equal(k1, k2);
  X509_free(x1);
  X509_free(x2);
  free(c1);
  free(k1);
  free(c2);
  free(k2);
}

static void bad_rsa_size_or_days_is_invalid_argument(void **state) {
  soupc_cert_options o = SOUPC_CERT_OPTIONS_INIT;
  soupc_status st;
  char *cert = (char *)"untouched", *key = (char *)"untouched";

  (void)state;
  o.key_type = SOUPC_KEY_RSA;
  o.rsa_bits = 1024;
  assert_int_equal(soupc_cert_generate(&cert, &key, &o, &st),
                   SOUPC_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(st.message, "1024"));
  assert_string_equal(cert, "untouched");
  assert_string_equal(key, "untouched");

  o.rsa_bits = 2048;
  o.validity_days = -1;
  assert_int_equal(soupc_cert_generate(&cert, &key, &o, &st),
                   SOUPC_ERR_INVALID_ARGUMENT);
  assert_int_equal(soupc_rsa_bits_check(2048), 0);
  assert_int_equal(soupc_rsa_bits_check(3072), 0);
  assert_int_equal(soupc_rsa_bits_check(4096), 0);
  assert_int_equal(soupc_rsa_bits_check(8192), SOUPC_ERR_INVALID_ARGUMENT);
  assert_int_equal(soupc_rsa_bits_check(0), SOUPC_ERR_INVALID_ARGUMENT);
}

static void generate_out_of_memory_frees_everything(void **state) {
  soupc_cert_options o = SOUPC_CERT_OPTIONS_INIT;
  char *cert, *key;
  long n, i;

  (void)state;
  o.curve = SOUPC_CURVE_P256;
  soupc__alloc_count_reset();
  assert_int_equal(soupc_cert_generate(&cert, &key, &o, NULL), 0);
  n = soupc__alloc_count();
  free(cert);
  free(key);
  assert_true(n >= 2);
  for (i = 1; i <= n; i++) {
    soupc__alloc_fail_at(i);
    assert_int_equal(soupc_cert_generate(&cert, &key, &o, NULL),
                     SOUPC_ERR_NOMEM);
  }
  soupc__alloc_fail_at(0);
}

static void curve_names_parse_case_insensitively(void **state) {
  static const struct {
    const char *name;
    soupc_curve curve;
  } ok[] = {
      {"secp256r1", SOUPC_CURVE_P256}, {"P-256", SOUPC_CURVE_P256},
      {"p256", SOUPC_CURVE_P256},      {"PRIME256V1", SOUPC_CURVE_P256},
      {"SECP384R1", SOUPC_CURVE_P384}, {"p-384", SOUPC_CURVE_P384},
      {"P384", SOUPC_CURVE_P384},      {"secp521r1", SOUPC_CURVE_P521},
      {"P-521", SOUPC_CURVE_P521},     {"p521", SOUPC_CURVE_P521},
  };
  static const char *bad[] = {"",        "auto",  "p-224",      "secp256k1",
                              "ed25519", "p 256", "secp384r1 ", "prime384v1"};
  soupc_curve c;
  soupc_key_type kt;
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
    c = (soupc_curve)-1;
    assert_int_equal(soupc_curve_parse(&c, ok[i].name), 0);
    assert_int_equal(c, ok[i].curve);
  }
  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    c = SOUPC_CURVE_P384;
    assert_int_equal(soupc_curve_parse(&c, bad[i]), SOUPC_ERR_INVALID_ARGUMENT);
    assert_int_equal(c, SOUPC_CURVE_P384);
  }
  assert_string_equal(soupc_curve_name(SOUPC_CURVE_P256), "secp256r1");
  assert_string_equal(soupc_curve_name(SOUPC_CURVE_P384), "secp384r1");
  assert_string_equal(soupc_curve_name(SOUPC_CURVE_P521), "secp521r1");

  assert_int_equal(soupc_key_type_parse(&kt, "EC"), 0);
  assert_int_equal(kt, SOUPC_KEY_EC);
  assert_int_equal(soupc_key_type_parse(&kt, "rsa"), 0);
  assert_int_equal(kt, SOUPC_KEY_RSA);
  assert_int_equal(soupc_key_type_parse(&kt, "ecdsa"),
                   SOUPC_ERR_INVALID_ARGUMENT);
  assert_int_equal(soupc_key_type_parse(&kt, ""), SOUPC_ERR_INVALID_ARGUMENT);
}

/* RFC 4648 §10 vectors, without the padding. */
static void base64_encode_drops_padding(void **state) {
  static const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
  static const char *want[] = {"",       "Zg",      "Zm8",     "Zm9v",
                               "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
  size_t i;

  (void)state;
  for (i = 0; i < 7; i++) {
    char *out = NULL;
    assert_int_equal(soupc_base64_encode_unpadded(&out, (const uint8_t *)in[i],
                                                  strlen(in[i])),
                     0);
    assert_string_equal(out, want[i]);
    free(out);
  }
}

static void decode_ok(const char *text, const char *want) {
  uint8_t *out = NULL;
  size_t len = 99;

  assert_int_equal(soupc_base64_decode(&out, &len, text, strlen(text)), 0);
  assert_int_equal(len, strlen(want));
  assert_memory_equal(out, want, len);
  free(out);
}

static void base64_decode_accepts_padded_unpadded_and_crlf(void **state) {
  (void)state;
  decode_ok("", "");
  decode_ok("Zg", "f");
  decode_ok("Zg==", "f");
  decode_ok("Zm8", "fo");
  decode_ok("Zm8=", "fo");
  decode_ok("Zm9v", "foo");
  decode_ok("Zm9vYmFy", "foobar");
  decode_ok("Zm9v\r\nYmE", "fooba");
  decode_ok("Zm9v\nYmE=\n", "fooba");
  decode_ok("\r\n", "");
}

static void base64_decode_rejects_garbage(void **state) {
  static const char *bad[] = {
      "Z",          /* one leftover character */
      "Zm9vY",      /* 5 characters */
      "Zm9v!",      /* not in the alphabet */
      "Zg===",      /* too much padding */
      "Zg==Zg==",   /* data after padding */
      "Z=g",        /* padding in the middle */
      "Zm9v Yg",    /* space */
      "\tZm9v",     /* tab */
      "-----BEGIN", /* PEM armour */
      "====",       /* padding only */
      "Zm9v\xff",   /* high byte */
  };
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    uint8_t *out = (uint8_t *)"untouched";
    size_t len = 7;
    assert_int_equal(soupc_base64_decode(&out, &len, bad[i], strlen(bad[i])),
                     SOUPC_ERR_INVALID_ARGUMENT);
    assert_int_equal(len, 7);
  }
  {
    /* An embedded NUL is not base64 either. */
    uint8_t *out;
    size_t len;
    assert_int_equal(soupc_base64_decode(&out, &len, "Zm\0v", 4),
                     SOUPC_ERR_INVALID_ARGUMENT);
  }
}

static void base64_round_trips_every_length(void **state) {
  uint8_t data[200];
  size_t n, i;

  (void)state;
  for (i = 0; i < sizeof(data); i++) {
    data[i] = (uint8_t)(i * 37 + 11);
  }
  for (n = 0; n <= sizeof(data); n++) {
    char *text = NULL;
    uint8_t *back = NULL;
    size_t len = 0;
    assert_int_equal(soupc_base64_encode_unpadded(&text, data, n), 0);
    assert_null(strchr(text, '='));
    assert_int_equal(strlen(text), (n * 4 + 2) / 3);
    assert_int_equal(soupc_base64_decode(&back, &len, text, strlen(text)), 0);
    assert_int_equal(len, n);
    if (n > 0) {
      assert_memory_equal(back, data, n);
    }
    free(text);
    free(back);
  }
}

/* Random text over the base64 alphabet plus '=', CR, LF and a few
 * strangers: decoding never crashes, and a success decodes exactly
 * 3/4 of the data characters (CR/LF and padding excluded). */
static void base64_decode_random_text_is_consistent(void **state) {
  static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuv"
                              "wxyz0123456789+/=\r\n-_ .";
  unsigned seed = 12345;
  int round, ok = 0;

  (void)state;
  for (round = 0; round < 20000; round++) {
    char text[24];
    size_t n, i, data = 0;
    uint8_t *out = NULL;
    size_t len = 0;

    seed = seed * 1103515245u + 12345u;
    n = (seed >> 16) % sizeof(text);
    for (i = 0; i < n; i++) {
      seed = seed * 1103515245u + 12345u;
      /* Mostly alphabet characters, so that some inputs are valid. */
      text[i] = (seed >> 16) % 8 == 0
                    ? chars[64 + (seed >> 20) % (sizeof(chars) - 65)]
                    : chars[(seed >> 20) % 64];
      if (text[i] != '\r' && text[i] != '\n' && text[i] != '=') {
        data++;
      }
    }
    if (soupc_base64_decode(&out, &len, text, n) == 0) {
      assert_int_equal(len, data * 3 / 4);
      free(out);
      ok++;
    }
  }
  assert_true(ok > 100); /* the generator does produce valid text */
}

static void base64_out_of_memory_is_nomem(void **state) {
  char *text;
  uint8_t *bin;
  size_t len;

  (void)state;
  soupc__alloc_fail_at(1);
  assert_int_equal(
      soupc_base64_encode_unpadded(&text, (const uint8_t *)"abc", 3),
      SOUPC_ERR_NOMEM);
  soupc__alloc_fail_at(1);
  assert_int_equal(soupc_base64_decode(&bin, &len, "YWJj", 4), SOUPC_ERR_NOMEM);
  soupc__alloc_fail_at(2);
  assert_int_equal(soupc_base64_decode(&bin, &len, "YWJj", 4), SOUPC_ERR_NOMEM);
  soupc__alloc_fail_at(0);
}

/* The handshake's cert field is unpadded base64 of the DER
 * (go-plugin-protocol.md §3.3): PEM -> DER -> base64 -> DER -> PEM must
 * give the same certificate back. */
static void pem_der_base64_round_trip(void **state) {
  soupc_cert_options o = SOUPC_CERT_OPTIONS_INIT;
  char *cert, *key, *b64, *pem2;
  uint8_t *der, *der2;
  size_t len, len2;

  (void)state;
  assert_int_equal(soupc_cert_generate(&cert, &key, &o, NULL), 0);
  assert_int_equal(soupc_cert_pem_to_der(&der, &len, cert), 0);
  assert_true(len > 100);
  assert_int_equal(der[0], 0x30); /* SEQUENCE */
  assert_int_equal(soupc_base64_encode_unpadded(&b64, der, len), 0);
  assert_int_equal(soupc_base64_decode(&der2, &len2, b64, strlen(b64)), 0);
  assert_int_equal(len2, len);
  assert_memory_equal(der2, der, len);
  assert_int_equal(soupc_cert_der_to_pem(&pem2, der2, len2), 0);
  assert_string_equal(pem2, cert);
  free(cert);
  free(key);
  free(b64);
  free(pem2);
  free(der);
  free(der2);
}

static void pem_der_reject_garbage(void **state) {
  soupc_cert_options o = SOUPC_CERT_OPTIONS_INIT;
  char *cert, *key, *pem;
  uint8_t *der, *longer;
  size_t len;

  (void)state;
  assert_int_equal(soupc_cert_pem_to_der(&der, &len, "not a cert"),
                   SOUPC_ERR_INVALID_ARGUMENT);
  assert_int_equal(soupc_cert_pem_to_der(&der, &len, ""),
                   SOUPC_ERR_INVALID_ARGUMENT);
  assert_int_equal(soupc_cert_pem_to_der(&der, &len,
                                         "-----BEGIN CERTIFICATE-----\nAAAA\n"
                                         "-----END CERTIFICATE-----\n"),
                   SOUPC_ERR_INVALID_ARGUMENT);
  assert_int_equal(soupc_cert_der_to_pem(&pem, (const uint8_t *)"\x30\x03", 2),
                   SOUPC_ERR_INVALID_ARGUMENT);
  assert_int_equal(soupc_cert_der_to_pem(&pem, (const uint8_t *)"", 0),
                   SOUPC_ERR_INVALID_ARGUMENT);

  /* A key PEM is not a certificate. */
  assert_int_equal(soupc_cert_generate(&cert, &key, &o, NULL), 0);
  assert_int_equal(soupc_cert_pem_to_der(&der, &len, key),
                   SOUPC_ERR_INVALID_ARGUMENT);
  /* DER with trailing bytes is not one certificate. */
  assert_int_equal(soupc_cert_pem_to_der(&der, &len, cert), 0);
  longer = malloc(len + 1);
  assert_non_null(longer);
  memcpy(longer, der, len);
  longer[len] = 0;
  assert_int_equal(soupc_cert_der_to_pem(&pem, longer, len + 1),
                   SOUPC_ERR_INVALID_ARGUMENT);
  /* Truncated DER. */
  assert_int_equal(soupc_cert_der_to_pem(&pem, der, len - 1),
                   SOUPC_ERR_INVALID_ARGUMENT);
  free(longer);
  free(der);
  free(cert);
  free(key);
}

static void describe_rejects_non_certificates(void **state) {
  soupc_key_type kt;

  (void)state;
  assert_int_equal(soupc_cert_describe(&kt, NULL, NULL, "garbage"),
                   SOUPC_ERR_INVALID_ARGUMENT);
  /* NULL outputs are allowed. */
  {
    soupc_cert_options o = SOUPC_CERT_OPTIONS_INIT;
    char *cert, *key;
    assert_int_equal(soupc_cert_generate(&cert, &key, &o, NULL), 0);
    assert_int_equal(soupc_cert_describe(NULL, NULL, NULL, cert), 0);
    free(cert);
    free(key);
  }
}

/* An Ed25519 certificate (Go peers may use one) is not one of ours. */
static void describe_ed25519_is_unsupported(void **state) {
  EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
  X509 *x = X509_new();
  BIO *bio = BIO_new(BIO_s_mem());
  char *data;
  long n;
  char *pem;
  soupc_key_type kt;

  (void)state;
  assert_non_null(k);
  assert_non_null(x);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, k);
  assert_true(X509_sign(x, k, NULL) > 0);
  assert_int_equal(PEM_write_bio_X509(bio, x), 1);
  n = BIO_get_mem_data(bio, &data);
  pem = strndup(data, (size_t)n);
  assert_int_equal(soupc_cert_describe(&kt, NULL, NULL, pem),
                   SOUPC_ERR_UNSUPPORTED);
  free(pem);
  BIO_free(bio);
  X509_free(x);
  EVP_PKEY_free(k);
}

/* go-plugin-protocol.md §3.3: field 6 is RawStdEncoding of the leaf's DER.
 * A go-plugin certificate goes through and comes back unchanged, and a
 * padded field (pyvider, older peers) decodes too. */
static void handshake_field_round_trips_a_goplugin_cert(void **state) {
  char *field = NULL, *pem = NULL, *padded;
  size_t n;

  (void)state;
  assert_int_equal(soupc_cert_to_handshake_field(&field, goplugin_cert_pem), 0);
  n = strlen(field);
  assert_null(strchr(field, '='));
  assert_null(strchr(field, '\n'));
  assert_int_equal(soupc_cert_from_handshake_field(&pem, field, strlen(field)),
                   0);
  assert_string_equal(pem, goplugin_cert_pem);
  free(pem);

  padded = malloc(n + 3);
  assert_non_null(padded);
  memcpy(padded, field, n);
  memcpy(padded + n, "==", 3);
  n += (4 - n % 4) % 4;
  padded[n] = '\0';
  assert_int_equal(soupc_cert_from_handshake_field(&pem, padded, n), 0);
  assert_string_equal(pem, goplugin_cert_pem);
  free(pem);
  free(padded);

  /* Not base64, or base64 of something that is not a certificate. */
  assert_int_equal(soupc_cert_from_handshake_field(&pem, "a|b", 3),
                   SOUPC_ERR_INVALID_ARGUMENT);
  assert_int_equal(soupc_cert_from_handshake_field(&pem, "Zm9vYmFy", 8),
                   SOUPC_ERR_INVALID_ARGUMENT);
  assert_int_equal(soupc_cert_from_handshake_field(&pem, "", 0),
                   SOUPC_ERR_INVALID_ARGUMENT);
  assert_int_equal(soupc_cert_to_handshake_field(&field, goplugin_key_pem) ==
                       SOUPC_ERR_INVALID_ARGUMENT,
                   1);
  free(field);
}

/* The Go-made certificate describes as EC P-521. */
static void describe_reads_a_goplugin_cert(void **state) {
  soupc_key_type kt;
  soupc_curve curve;
  int bits;

  (void)state;
  assert_int_equal(soupc_cert_describe(&kt, &curve, &bits, goplugin_cert_pem),
                   0);
  assert_int_equal(kt, SOUPC_KEY_EC);
  assert_int_equal(curve, SOUPC_CURVE_P521);
  assert_int_equal(bits, 521);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_curve_generates_and_describes_back),
      cmocka_unit_test(every_rsa_size_generates_and_describes_back),
      cmocka_unit_test(subject_and_validity_options_are_applied),
      cmocka_unit_test(self_signed_cert_verifies_against_itself),
      cmocka_unit_test(serials_differ),
      cmocka_unit_test(bad_rsa_size_or_days_is_invalid_argument),
      cmocka_unit_test(generate_out_of_memory_frees_everything),
      cmocka_unit_test(curve_names_parse_case_insensitively),
      cmocka_unit_test(base64_encode_drops_padding),
      cmocka_unit_test(base64_decode_accepts_padded_unpadded_and_crlf),
      cmocka_unit_test(base64_decode_rejects_garbage),
      cmocka_unit_test(base64_round_trips_every_length),
      cmocka_unit_test(base64_decode_random_text_is_consistent),
      cmocka_unit_test(base64_out_of_memory_is_nomem),
      cmocka_unit_test(pem_der_base64_round_trip),
      cmocka_unit_test(pem_der_reject_garbage),
      cmocka_unit_test(describe_rejects_non_certificates),
      cmocka_unit_test(describe_ed25519_is_unsupported),
      cmocka_unit_test(handshake_field_round_trips_a_goplugin_cert),
      cmocka_unit_test(describe_reads_a_goplugin_cert),
      cmocka_unit_test(options_without_init_are_rejected),
      cmocka_unit_test(older_or_null_options_get_defaults),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
