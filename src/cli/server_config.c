#include "cli/server_config.h"

#include "cli/cli_util.h"
#include "cli/server_limits.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* $name if set and non-empty, else @p dflt. */
static const char *env_or(const char *name, const char *dflt) {
  const char *v = getenv(name);

  return v != NULL && v[0] != '\0' ? v : dflt;
}

int server_env_switch(const char *name) {
  const char *v = getenv(name);

  return v != NULL && (strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0);
}

void server_config_init(struct server_config *cfg) {
  memset(cfg, 0, sizeof(*cfg));
  cfg->port = 50051;
  cfg->tls_mode = "disabled";
  /* Plugin hosts (go-plugin) launch a plugin with a fixed command line but
   * pass their environment: the backend can be chosen there too. */
  cfg->store = env_or("KV_STORE", "lmdb");
  if (strcmp(cfg->store, "etcd") == 0) {
    cfg->etcd_endpoints = env_or("KV_ETCD_ENDPOINTS", NULL);
    cfg->etcd_ca_file = env_or("KV_ETCD_CA_FILE", NULL);
    cfg->etcd_cert_file = env_or("KV_ETCD_CERT_FILE", NULL);
    cfg->etcd_key_file = env_or("KV_ETCD_KEY_FILE", NULL);
    cfg->etcd_prefix = env_or("KV_ETCD_PREFIX", NULL);
  }
  cfg->tls_key_type = "ec";
  cfg->tls_curve = "secp384r1"; /* soup-go's default, "for Python" */
  cfg->max_message_size = (size_t)64 * 1024 * 1024;
  cfg->max_key_size = (size_t)64 * 1024;
  cfg->enrich_json = server_env_switch("KV_ENRICH_JSON");
  cfg->cert = (soupc_cert_options)SOUPC_CERT_OPTIONS_INIT;
  cfg->cert.key_type = SOUPC_KEY_EC;
  cfg->cert.curve = SOUPC_CURVE_P384;
  cfg->cert.rsa_bits = 2048;
  server_limits_init(cfg);
}

/* The backend flags: --store etcd needs endpoints, and each backend's own
 * flags are refused with the other, so a typo never goes unnoticed. */
static int check_store(const struct server_config *cfg, soupc_status *st) {
  const char *etcd_flag = cfg->etcd_endpoints != NULL   ? "--etcd-endpoints"
                          : cfg->etcd_ca_file != NULL   ? "--etcd-ca-file"
                          : cfg->etcd_cert_file != NULL ? "--etcd-cert-file"
                          : cfg->etcd_key_file != NULL  ? "--etcd-key-file"
                          : cfg->etcd_prefix != NULL    ? "--etcd-prefix"
                          : cfg->etcd_timeout_ms > 0    ? "--etcd-timeout"
                                                        : NULL;

  if (strcmp(cfg->store, "lmdb") == 0) {
    if (etcd_flag != NULL) {
      soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT, "%s needs --store etcd",
                       etcd_flag);
      return -1;
    }
    return 0;
  }
  if (strcmp(cfg->store, "etcd") != 0) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "invalid --store \"%s\": want lmdb or etcd", cfg->store);
    return -1;
  }
#ifndef SOUPC_HAVE_ETCD
  soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                   "--store etcd: this soup-c was built without the etcd "
                   "backend (install golang-etcd-server-dev and rebuild)");
  return -1;
#else
  if (cfg->etcd_endpoints == NULL || cfg->etcd_endpoints[0] == '\0') {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "--store etcd needs --etcd-endpoints URL[,URL...]");
    return -1;
  }
  if (cfg->storage_dir != NULL || cfg->sync_none) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "%s applies to --store lmdb only (etcd members keep "
                     "their own data and fsync every commit)",
                     cfg->storage_dir != NULL ? "--storage-dir" : "--sync");
    return -1;
  }
  if ((cfg->etcd_cert_file == NULL) != (cfg->etcd_key_file == NULL)) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "--etcd-cert-file and --etcd-key-file go together");
    return -1;
  }
  return 0;
#endif
}

int server_config_check(struct server_config *cfg, soupc_status *st) {
  if (check_store(cfg, st) != 0) {
    return -1;
  }
  if (strcmp(cfg->tls_mode, "disabled") != 0 &&
      strcmp(cfg->tls_mode, "auto") != 0 &&
      strcmp(cfg->tls_mode, "manual") != 0) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "invalid --tls-mode \"%s\": want disabled, auto or manual",
                     cfg->tls_mode);
    return -1;
  }
  if (soupc_key_type_parse(&cfg->cert.key_type, cfg->tls_key_type) != 0) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "invalid --tls-key-type \"%s\": want ec or rsa",
                     cfg->tls_key_type);
    return -1;
  }
  /* "auto" is soup-go's "let the protocol choose". A standalone server's
   * own certificate is constrained by no peer, so it gets P-256 there, as
   * soup-go's standalone auto does (rpc-spec.md §12): every TLS stack has
   * fast constant-time P-256 code, and its signatures cost a handshake a
   * fraction of P-384's. Plugin mode keeps its default (secp384r1, or what
   * the plugin layer makes of "auto"). */
  if (cfg->standalone &&
      (!cfg->tls_curve_given || strcasecmp(cfg->tls_curve, "auto") == 0)) {
    cfg->cert.curve = SOUPC_CURVE_P256;
  } else if (strcasecmp(cfg->tls_curve, "auto") != 0 &&
             soupc_curve_parse(&cfg->cert.curve, cfg->tls_curve) != 0) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "invalid --tls-curve \"%s\": want secp256r1, secp384r1 or "
                     "secp521r1 (or P-256, P-384, P-521)",
                     cfg->tls_curve);
    return -1;
  }
  if (cfg->tls_key_bits != NULL) {
    char *end;
    long bits;
    errno = 0;
    bits = strtol(cfg->tls_key_bits, &end, 10);
    if (errno != 0 || *end != '\0' || soupc_rsa_bits_check((int)bits) != 0) {
      soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                       "invalid --tls-key-bits \"%s\": want 2048, 3072 or 4096",
                       cfg->tls_key_bits);
      return -1;
    }
    cfg->cert.rsa_bits = (int)bits;
  }
  if (strcmp(cfg->tls_mode, "manual") == 0 &&
      (cfg->cert_file == NULL || cfg->key_file == NULL)) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "--tls-mode manual needs --cert-file and --key-file");
    return -1;
  }
  if (strcmp(cfg->tls_mode, "manual") != 0 &&
      (cfg->cert_file != NULL || cfg->key_file != NULL)) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "--cert-file and --key-file need --tls-mode manual");
    return -1;
  }
  if (strcmp(cfg->tls_mode, "disabled") == 0 && cfg->client_ca_file != NULL &&
      cfg->standalone) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "--client-ca-file needs --tls-mode auto or manual");
    return -1;
  }
  return 0;
}

int server_read_pem(char **out, const char *path, const char *what,
                    soupc_status *st) {
  size_t len;

  if (cli_read_file(out, &len, path) != 0) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT, "cannot read %s %s: %s",
                     what, path, strerror(errno));
    return -1;
  }
  if (strstr(*out, "-----BEGIN ") == NULL) {
    free(*out);
    *out = NULL;
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT, "%s %s is not PEM", what,
                     path);
    return -1;
  }
  return 0;
}

void server_export_tls_env(const struct server_config *cfg, const char *mode) {
  char bits[16];

  setenv("TLS_MODE", mode, 1);
  if (strcmp(mode, "disabled") == 0) {
    return;
  }
  if (cfg->cert.key_type == SOUPC_KEY_RSA) {
    setenv("TLS_KEY_TYPE", "rsa", 1);
    snprintf(bits, sizeof(bits), "%d", cfg->cert.rsa_bits);
    setenv("TLS_KEY_SIZE", bits, 1);
  } else {
    setenv("TLS_KEY_TYPE", "ec", 1);
    setenv("TLS_CURVE", soupc_curve_name(cfg->cert.curve), 1);
  }
}
