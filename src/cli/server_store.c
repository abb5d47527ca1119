#include "cli/server_store.h"

#include "base/alloc.h"
#include "kv/kv.h"
#include "store/backend.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

int server_store_open(struct server_store *ss, const struct server_config *cfg,
                      soupc_status *st) {
  struct store_options sopts = {0};
  struct kv_options kopts = {0};
  struct store *store = NULL;
  int rv;

  memset(ss, 0, sizeof(*ss));
  if (cfg->storage_dir != NULL) {
    ss->dir = soupc__strdup(cfg->storage_dir);
    rv = ss->dir == NULL ? SOUPC_ERR_NOMEM : 0;
  } else {
    rv = soupc__store_default_dir(&ss->dir);
  }
  if (rv != 0) {
    soupc_status_set(st, SOUPC_GRPC_INTERNAL, "resolving the storage dir: %s",
                     soupc_strerror(rv));
    return -1;
  }
  sopts.sync = cfg->sync_none ? STORE_SYNC_NONE : STORE_SYNC_FULL;
  sopts.max_key_size = cfg->max_key_size;
  soupc_status_clear(st);
  rv = soupc__store_open(&store, ss->dir, &sopts, st);
  if (rv == 0) {
    rv = soupc__backend_lmdb_new(&ss->backend, store);
  }
  if (rv != 0) {
    if (st != NULL && st->message[0] == '\0') {
      soupc_status_set(st, SOUPC_GRPC_INTERNAL, "opening the store in %s: %s",
                       ss->dir, soupc_strerror(rv));
    }
    server_store_close(ss);
    return -1;
  }
  kopts.max_key_size = cfg->max_key_size;
  kopts.enrich_json = cfg->enrich_json;
  if (soupc__kv_service_new(&ss->kv, ss->backend, &kopts) != 0) {
    soupc_status_set(st, SOUPC_GRPC_INTERNAL, "out of memory");
    server_store_close(ss);
    return -1;
  }
  return 0;
}

int server_store_register(struct server_store *ss, soupc_server *srv) {
  return soupc__kv_service_register(ss->kv, srv);
}

void server_store_close(struct server_store *ss) {
  soupc__kv_service_free(ss->kv);
  ss->kv = NULL;
  soupc__backend_close(ss->backend);
  ss->backend = NULL;
  soupc__free(ss->dir);
  ss->dir = NULL;
}
