/* The KV server's configuration, shared by standalone and plugin mode. */
#ifndef SOUPC_CLI_SERVER_CONFIG_H
#define SOUPC_CLI_SERVER_CONFIG_H

#include <stddef.h>

#include "soupc/cert.h"
#include "soupc/rpc.h"
#include "soupc/soupc.h"

/* An environment switch of soup-c's own (KV_ENRICH_JSON,
 * SOUPC_PLUGIN_IGNORE_SHUTDOWN): on for "1" or "true" in any case, off for
 * everything else (unset, empty, 0, false, no, off...).
 * @return 1 if on. */
int server_env_switch(const char *name);

struct server_config {
  int standalone;
  int port;             /* standalone TCP port */
  const char *listen;   /* standalone address; NULL = 127.0.0.1:<port> */
  int transport_tcp;    /* plugin mode: TCP instead of a unix socket */
  const char *tls_mode; /* "disabled", "auto" or "manual" */
  const char *tls_key_type;
  const char *tls_curve;
  int tls_curve_given; /* --tls-curve was on the command line */
  const char *tls_key_bits;
  const char *cert_file;
  const char *key_file;
  const char *client_ca_file;
  const char *storage_dir;    /* NULL = the default rule */
  const char *store;          /* "lmdb" (default) or "etcd" */
  const char *etcd_endpoints; /* --store etcd: "URL[,URL...]" */
  const char *etcd_ca_file;   /* roots for https:// members */
  const char *etcd_cert_file; /* client certificate (mTLS) */
  const char *etcd_key_file;
  const char *etcd_prefix; /* NULL = "soupc/kv/" */
  int etcd_timeout_ms;     /* per operation; 0 = 5000 */
  size_t max_message_size; /* bytes */
  size_t max_key_size;     /* bytes */
  int sync_none;
  int enrich_json;
  int workers; /* 0 = one per core */
  const char *log_level;
  int no_reflection; /* --no-reflection */
  /* The limit flags (server_limits.c): only their fields are used. */
  soupc_server_options limits;
  int idle_timeout_set; /* --idle-timeout given */
  /* Parsed by server_config_check(). */
  soupc_cert_options cert; /* key type, curve, bits for generated certs */
};

void server_config_init(struct server_config *cfg);

/* Validates mode, key type, curve and bits, and that manual-mode files are
 * given. @return 0 or -1 with a one-line message in @p st. */
int server_config_check(struct server_config *cfg, soupc_status *st);

/* Reads a whole text file (PEM) for TLS. @return 0 or -1 with @p st set to
 * a message naming @p what and @p path. */
int server_read_pem(char **out, const char *path, const char *what,
                    soupc_status *st);

/* Exports TLS_MODE / TLS_KEY_TYPE / TLS_CURVE / TLS_KEY_SIZE as soup-go does
 * (rpc-spec.md §3.2); JSON enrichment reports them. */
void server_export_tls_env(const struct server_config *cfg, const char *mode);

int server_run_standalone(const struct server_config *cfg);
int server_run_plugin(const struct server_config *cfg);

#endif
