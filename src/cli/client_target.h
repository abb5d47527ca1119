/* Where a KV client command sends its calls: a server at an address, a
 * running plugin (reattach through its handshake line), or a plugin it
 * launches itself. */
#ifndef SOUPC_CLI_CLIENT_TARGET_H
#define SOUPC_CLI_CLIENT_TARGET_H

#include <stddef.h>
#include <stdint.h>

#include "soupc/rpc.h"

typedef struct soupc_plugin_host soupc_plugin_host;

struct client_options {
  const char *address;     /* NULL = launch a plugin */
  const char *plugin_path; /* NULL = $PLUGIN_SERVER_PATH, else ourselves */
  int automtls;            /* launch with AutoMTLS (default 1) */
  int64_t handshake_timeout_ms;
  const char *ca_file;
  const char *cert_file;
  const char *key_file;
  const char *server_name;
  const char *tls_curve;
  int64_t timeout_ms;
  size_t max_message_size;
};

struct client_target {
  soupc_channel *channel;  /* what calls go through */
  soupc_plugin_host *host; /* a launched or reattached plugin */
  int reattached;          /* host came from a handshake line */
  int channel_borrowed;    /* channel belongs to host */
  int64_t timeout_ms;
};

void client_options_init(struct client_options *opts);

/* @return 0, or -1 with a one-line reason in @p st. */
int client_target_open(struct client_target *t,
                       const struct client_options *opts, soupc_status *st);

/* Closes the channel and, for a launched plugin, runs go-plugin's Kill
 * sequence. Idempotent. */
void client_target_close(struct client_target *t);

/* Plugin paths (client_plugin.c): launch or reattach through plugin.h. */
int client_target_open_plugin(struct client_target *t,
                              const struct client_options *opts,
                              soupc_status *st);
void client_target_close_plugin(struct client_target *t);

#endif
