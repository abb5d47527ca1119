/* Where a KV client command sends its calls: a server at an address, a
 * running plugin (reattach through its handshake line), or a plugin it
 * launches itself. */
#ifndef SOUPC_CLI_CLIENT_TARGET_H
#define SOUPC_CLI_CLIENT_TARGET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

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
  const char *reattach;      /* --reattach JSON (go-plugin ReattachConfig) */
  const char *plugin_sha256; /* --plugin-sha256 HEX (SecureConfig) */
  int skip_host_env;         /* --skip-host-env */
  int multiplex;             /* --multiplex (GRPCBrokerMultiplex) */
};

/* A parsed --reattach (client_reattach.c). */
struct client_reattach {
  char protocol[16];
  int protocol_version;
  char network[8];
  char address[4096];
  pid_t pid;
};

/* Parses go-plugin's ReattachConfig JSON (or a one-entry map of them).
 * @return 0, or -1 with a one-line reason in @p st. */
int client_reattach_parse(struct client_reattach *r, const char *json,
                          soupc_status *st);

/* 64 hex digits to 32 bytes. @return 0, or -1 with @p st set. */
int client_parse_sha256(uint8_t out[32], const char *hex, soupc_status *st);

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
