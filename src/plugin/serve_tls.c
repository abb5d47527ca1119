/* The plugin side's TLS decision (go-plugin-protocol.md §3; rpc-spec.md
 * §3.1 table, with the fix that a C server always publishes the
 * certificate it serves): which mode, which key, whose client certificate
 * to require, and field 6 of the handshake line. */
#include "plugin/plugin_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/io.h"

/* PEM files and the host's certificate are small; this bounds a mistake
 * such as --cert-file /dev/zero. */
#define MAX_PEM_BYTES ((size_t)1024 * 1024)

/* A soup-c host with client_cert_pipe passes its certificate on this
 * inherited fd rather than in PLUGIN_CLIENT_CERT, and writes it while we
 * start. @return the fd (now close-on-exec, the variable removed) or -1. */
static int client_cert_fd(void) {
  const char *text = getenv("SOUPC_PLUGIN_CLIENT_CERT_FD");
  char *end;
  long fd;

  if (text == NULL) {
    return -1;
  }
  fd = strtol(text, &end, 10);
  unsetenv("SOUPC_PLUGIN_CLIENT_CERT_FD");
  if (end == text || *end != '\0' || fd <= STDERR_FILENO || fd > 65535 ||
      fcntl((int)fd, F_SETFD, FD_CLOEXEC) != 0) {
    return -1;
  }
  return (int)fd;
}

static int is_pem_cert(const char *pem) {
  uint8_t *der = NULL;
  size_t der_len = 0;
  int rv = soupc_cert_pem_to_der(&der, &der_len, pem);

  free(der); /* cert.h: the tls layer's malloc */
  return rv == 0;
}

/* Parses key type, curve and RSA size. go-plugin's own AutoMTLS key is
 * ECDSA P-521 (mtls.go generateCert); "auto" and no curve mean exactly
 * that. */
static int parse_key_options(struct plugin_tls *t,
                             const soupc_plugin_serve_options *opts,
                             soupc_status *st) {
  t->key_type = SOUPC_KEY_EC;
  t->curve = SOUPC_CURVE_P521;
  t->rsa_bits = opts->tls_rsa_bits == 0 ? 2048 : opts->tls_rsa_bits;
  if (opts->tls_key_type != NULL && opts->tls_key_type[0] != '\0' &&
      soupc_key_type_parse(&t->key_type, opts->tls_key_type) != 0) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "unsupported TLS key type \"%s\"; expected ec or rsa",
                     opts->tls_key_type);
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  if (opts->tls_curve != NULL && opts->tls_curve[0] != '\0' &&
      strcasecmp(opts->tls_curve, "auto") != 0 &&
      soupc_curve_parse(&t->curve, opts->tls_curve) != 0) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "unsupported curve: %s; expected secp256r1, secp384r1 "
                     "or secp521r1",
                     opts->tls_curve);
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  if (t->key_type == SOUPC_KEY_RSA && soupc_rsa_bits_check(t->rsa_bits) != 0) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "unsupported RSA key size %d; expected 2048, 3072 or "
                     "4096",
                     t->rsa_bits);
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  return 0;
}

/* Picks the mode from tls_mode and whether the host sent a certificate. */
static int pick_mode(struct plugin_tls *t, const char *mode, int have_client,
                     soupc_status *st) {
  static const char *const names[] = {"disabled", "automtls", "auto", "manual"};

  if (mode[0] == '\0' || strcmp(mode, "disabled") == 0) {
    t->kind = have_client ? SOUPC_PLUGIN_TLS_AUTOMTLS : SOUPC_PLUGIN_TLS_NONE;
  } else if (strcmp(mode, "auto") == 0) {
    t->kind = have_client ? SOUPC_PLUGIN_TLS_AUTOMTLS : SOUPC_PLUGIN_TLS_AUTO;
  } else if (strcmp(mode, "manual") == 0) {
    t->kind = SOUPC_PLUGIN_TLS_MANUAL;
  } else {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "unknown TLS mode \"%s\"; expected disabled, auto or "
                     "manual",
                     mode);
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  t->mode_name = names[t->kind];
  return 0;
}

static int read_pem(char **out, const char *path, soupc_status *st) {
  int rv = soupc__read_file(out, NULL, path, MAX_PEM_BYTES);

  if (rv != 0) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT, "cannot read %s: %s",
                     path,
                     rv == SOUPC_ERR_TOO_LARGE ? "larger than 1 MiB"
                     : rv == SOUPC_ERR_NOMEM   ? "out of memory"
                                               : strerror(errno));
    return rv == SOUPC_ERR_NOMEM ? rv : SOUPC_ERR_TLS;
  }
  return 0;
}

/* Our certificate: from the files (manual) or generated like go-plugin's. */
static int make_own_cert(struct plugin_tls *t,
                         const soupc_plugin_serve_options *opts,
                         soupc_status *st) {
  soupc_cert_options co;
  int rv;

  if (t->kind == SOUPC_PLUGIN_TLS_MANUAL) {
    if (opts->cert_file == NULL || opts->key_file == NULL) {
      soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                       "TLS mode manual needs a certificate file and a key "
                       "file");
      return SOUPC_ERR_INVALID_ARGUMENT;
    }
    rv = read_pem(&t->file_cert, opts->cert_file, st);
    if (rv == 0) {
      rv = read_pem(&t->file_key, opts->key_file, st);
    }
    if (rv != 0) {
      return rv;
    }
    t->cert_pem = t->file_cert;
    t->key_pem = t->file_key;
    if (soupc_cert_describe(&t->key_type, &t->curve, &t->rsa_bits,
                            t->cert_pem) != 0) {
      soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                       "%s holds no PEM certificate", opts->cert_file);
      return SOUPC_ERR_TLS;
    }
    return 0;
  }
  co = (soupc_cert_options)SOUPC_CERT_OPTIONS_INIT;
  co.key_type = t->key_type;
  co.curve = t->curve;
  co.rsa_bits = t->rsa_bits;
  /* §3.1: go-plugin's AutoMTLS cert is a CA (IsCA + CertSign), because
   * each side pins the other's cert as its only root. */
  co.is_ca = 1;
  co.validity_days = 3650;
  rv = soupc_cert_generate(&t->gen_cert, &t->gen_key, &co, st);
  if (rv != 0) {
    return rv == SOUPC_ERR_NOMEM ? rv : SOUPC_ERR_TLS;
  }
  t->cert_pem = t->gen_cert;
  t->key_pem = t->gen_key;
  return 0;
}

/* The host wrote its certificate to the pipe while we made our key. */
static int read_late_client_cert(struct plugin_tls *t, soupc_status *st) {
  int rv =
      soupc__read_fd(&t->client_cert_buf, NULL, t->late_fd, (size_t)64 * 1024);

  close(t->late_fd);
  t->late_fd = -1;
  if (rv != 0 || t->client_cert_buf[0] == '\0') {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "cannot read the host's certificate from "
                     "SOUPC_PLUGIN_CLIENT_CERT_FD");
    return rv == SOUPC_ERR_NOMEM ? rv : SOUPC_ERR_TLS;
  }
  t->client_cert_pem = t->client_cert_buf;
  if (!is_pem_cert(t->client_cert_pem)) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "SOUPC_PLUGIN_CLIENT_CERT_FD did not carry a PEM "
                     "certificate");
    return SOUPC_ERR_TLS;
  }
  return 0;
}

/* §2.4 field 6: RawStd base64 of the leaf's DER; rpc-spec.md §3.1: a C
 * server publishes it whenever it serves TLS. */
static int encode_field6(struct plugin_tls *t, soupc_status *st) {
  uint8_t *der = NULL;
  size_t der_len = 0;
  int rv = soupc_cert_pem_to_der(&der, &der_len, t->cert_pem);

  if (rv == 0) {
    rv = soupc_base64_encode_unpadded(&t->cert_b64, der, der_len);
  }
  free(der);
  if (rv != 0) {
    soupc_status_set(st, SOUPC_GRPC_INTERNAL,
                     "cannot encode our certificate for the handshake");
    return SOUPC_ERR_TLS;
  }
  return 0;
}

int soupc__plugin_tls_prepare(struct plugin_tls *t,
                              const soupc_plugin_serve_options *opts,
                              soupc_status *st) {
  const char *client = getenv("PLUGIN_CLIENT_CERT");
  int rv;

  memset(t, 0, sizeof(*t));
  t->late_fd = -1;
  rv = parse_key_options(t, opts, st);
  if (rv != 0) {
    return rv;
  }
  if (client != NULL && client[0] == '\0') {
    client = NULL;
  }
  if (client == NULL) {
    t->late_fd = client_cert_fd();
  }
  rv = pick_mode(t, opts->tls_mode == NULL ? "" : opts->tls_mode,
                 client != NULL || t->late_fd >= 0, st);
  if (rv != 0 || t->kind == SOUPC_PLUGIN_TLS_NONE) {
    return rv;
  }
  t->client_cert_pem = client;
  /* §3.3: Go only logs a bad PEM and then rejects every connection; an
   * error before the handshake is clearer. */
  if (client != NULL && !is_pem_cert(client)) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "PLUGIN_CLIENT_CERT is not a PEM certificate");
    return SOUPC_ERR_TLS;
  }
  rv = make_own_cert(t, opts, st);
  if (rv == 0 && t->late_fd >= 0) {
    rv = read_late_client_cert(t, st);
  }
  if (rv == 0) {
    rv = encode_field6(t, st);
  }
  return rv;
}

void soupc__plugin_tls_dispose(struct plugin_tls *t) {
  if (t->late_fd >= 0) {
    close(t->late_fd);
    t->late_fd = -1;
  }
  soupc__free(t->client_cert_buf);
  soupc__free(t->file_cert);
  if (t->file_key != NULL) {
    explicit_bzero(t->file_key, strlen(t->file_key));
  }
  soupc__free(t->file_key);
  /* cert.h: generated PEMs and the base64 text come from malloc. */
  free(t->gen_cert);
  if (t->gen_key != NULL) {
    explicit_bzero(t->gen_key, strlen(t->gen_key));
  }
  free(t->gen_key);
  free(t->cert_b64);
  memset(t, 0, sizeof(*t));
  t->late_fd = -1;
}

void soupc__plugin_tls_describe(const struct plugin_tls *t,
                                soupc_plugin_info *info) {
  int tls = t->kind != SOUPC_PLUGIN_TLS_NONE;

  info->tls = t->kind;
  info->tls_mode = t->mode_name;
  info->tls_key_type = !tls ? "" : t->key_type == SOUPC_KEY_RSA ? "rsa" : "ec";
  info->tls_curve =
      !tls || t->key_type != SOUPC_KEY_EC ? "" : soupc_curve_name(t->curve);
  info->tls_rsa_bits = tls && t->key_type == SOUPC_KEY_RSA ? t->rsa_bits : 0;
  info->server_cert_pem = t->cert_pem;
  info->client_cert_pem = t->client_cert_pem;
}
