/* The store + KV service pair behind both server modes. */
#ifndef SOUPC_CLI_SERVER_STORE_H
#define SOUPC_CLI_SERVER_STORE_H

#include "cli/server_config.h"
#include "soupc/rpc.h"

struct server_store {
  char *dir;                     /* resolved storage directory (malloc'd) */
  struct store_backend *backend; /* the open store backend */
  struct kv_service *kv;         /* proto.KV on it */
  char desc[512]; /* "the LMDB store in DIR (sync full)", for logs */
};

/* Opens the backend --store names (LMDB: resolves the directory,
 * --storage-dir else the default rule; etcd: reads the TLS files and starts
 * the client) and creates the service. @return 0 or -1 with @p st set. */
int server_store_open(struct server_store *ss, const struct server_config *cfg,
                      soupc_status *st);

/* Registers proto.KV on @p srv. @return 0 or a soupc_err. */
int server_store_register(struct server_store *ss, soupc_server *srv);

/* Frees the service, closes the store (pending Puts complete). Idempotent. */
void server_store_close(struct server_store *ss);

#endif
