#include "cli/client_target.h"

#include "cli/cli_util.h"
#include "cli/server_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Default per-call deadline: generous, so a 10 MiB durable Put on a slow
 * disk does not time out, but a hung server does not hang a script. */
#define DEFAULT_TIMEOUT_MS 30000

void client_options_init(struct client_options *opts) {
  memset(opts, 0, sizeof(*opts));
  opts->automtls = 1;
  opts->handshake_timeout_ms = 60000; /* go-plugin's StartTimeout */
  opts->timeout_ms = DEFAULT_TIMEOUT_MS;
  opts->max_message_size = SOUPC_DEFAULT_MAX_MESSAGE_SIZE;
}

/* Dials HOST:PORT or unix:PATH, with TLS when any TLS file is given. */
static int open_address(struct client_target *t,
                        const struct client_options *opts, soupc_status *st) {
  soupc_channel_options copts = SOUPC_CHANNEL_OPTIONS_INIT;
  soupc_tls_options tls = SOUPC_TLS_OPTIONS_INIT;
  char *ca = NULL, *cert = NULL, *key = NULL;
  int rv = -1;

  if ((opts->cert_file == NULL) != (opts->key_file == NULL)) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "--cert-file and --key-file go together");
    return -1;
  }
  if (opts->ca_file != NULL &&
      server_read_pem(&ca, opts->ca_file, "--ca-file", st) != 0) {
    goto done;
  }
  if (opts->cert_file != NULL &&
      (server_read_pem(&cert, opts->cert_file, "--cert-file", st) != 0 ||
       server_read_pem(&key, opts->key_file, "--key-file", st) != 0)) {
    goto done;
  }
  copts.max_message_size = opts->max_message_size;
  if (ca != NULL || cert != NULL || opts->server_name != NULL) {
    tls.ca_pem = ca;
    tls.cert_pem = cert;
    tls.key_pem = key;
    tls.server_name = opts->server_name;
    copts.tls = &tls;
  }
  if (soupc_channel_open(&t->channel, opts->address, &copts, st) != 0) {
    goto done;
  }
  rv = 0;

done:
  free(ca);
  free(cert);
  free(key);
  return rv;
}

int client_target_open(struct client_target *t,
                       const struct client_options *opts, soupc_status *st) {
  memset(t, 0, sizeof(*t));
  t->timeout_ms = opts->timeout_ms;
  soupc_status_clear(st);
  if (opts->address != NULL && opts->reattach != NULL) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "--address and --reattach are two ways to say where the "
                     "plugin is; give one");
    return -1;
  }
  if ((opts->address != NULL || opts->reattach != NULL) &&
      (opts->plugin_sha256 != NULL || opts->skip_host_env || opts->multiplex)) {
    /* go-plugin: ErrSecureConfigAndReattach. */
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "--plugin-sha256, --skip-host-env and --multiplex are for "
                     "launching a plugin, not for reattaching to one");
    return -1;
  }
  if (opts->address != NULL && strchr(opts->address, '|') == NULL) {
    return open_address(t, opts, st);
  }
  return client_target_open_plugin(t, opts, st);
}

void client_target_close(struct client_target *t) {
  if (t->host != NULL) {
    client_target_close_plugin(t);
  }
  if (!t->channel_borrowed) {
    soupc_channel_free(t->channel);
  }
  t->channel = NULL;
}
