/* The store backend + KV service pair behind both server modes: LMDB in a
 * storage directory (default) or an etcd cluster (--store etcd). */
#include "cli/server_store.h"

#include "base/alloc.h"
#include "kv/kv.h"
#include "store/backend.h"
#include "store/store.h"
#ifdef SOUPC_HAVE_ETCD
#include "store/etcd_backend.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int open_lmdb(struct server_store *ss, const struct server_config *cfg,
                     soupc_status *st) {
  struct store_options sopts = {0};
  struct store *store = NULL;
  int rv;

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
    return -1;
  }
  snprintf(ss->desc, sizeof(ss->desc), "the LMDB store in %s (sync %s)",
           ss->dir, cfg->sync_none ? "none" : "full");
  return 0;
}

#ifdef SOUPC_HAVE_ETCD
static int open_etcd(struct server_store *ss, const struct server_config *cfg,
                     soupc_status *st) {
  struct etcd_backend_options eopts = {0};
  char *ca = NULL, *cert = NULL, *key = NULL;
  int rv = -1;

  if ((cfg->etcd_ca_file != NULL &&
       server_read_pem(&ca, cfg->etcd_ca_file, "--etcd-ca-file", st) != 0) ||
      (cfg->etcd_cert_file != NULL &&
       server_read_pem(&cert, cfg->etcd_cert_file, "--etcd-cert-file", st) !=
           0) ||
      (cfg->etcd_key_file != NULL &&
       server_read_pem(&key, cfg->etcd_key_file, "--etcd-key-file", st) != 0)) {
    goto done;
  }
  eopts.endpoints = cfg->etcd_endpoints;
  eopts.ca_pem = ca;
  eopts.cert_pem = cert;
  eopts.key_pem = key;
  eopts.prefix = cfg->etcd_prefix;
  eopts.max_key_size = cfg->max_key_size;
  eopts.timeout_ms = cfg->etcd_timeout_ms;
  if (soupc__backend_etcd_new(&ss->backend, &eopts, st) != 0) {
    goto done;
  }
  snprintf(ss->desc, sizeof(ss->desc), "the etcd cluster at %s (prefix \"%s\")",
           cfg->etcd_endpoints,
           cfg->etcd_prefix != NULL ? cfg->etcd_prefix : ETCD_DEFAULT_PREFIX);
  rv = 0;

done:
  free(ca);
  free(cert);
  free(key);
  return rv;
}
#endif

int server_store_open(struct server_store *ss, const struct server_config *cfg,
                      soupc_status *st) {
  struct kv_options kopts = {0};
  int rv;

  memset(ss, 0, sizeof(*ss));
#ifdef SOUPC_HAVE_ETCD
  rv = strcmp(cfg->store, "etcd") == 0 ? open_etcd(ss, cfg, st)
                                       : open_lmdb(ss, cfg, st);
#else
  rv = open_lmdb(ss, cfg, st);
#endif
  if (rv != 0) {
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
