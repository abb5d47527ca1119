/* The etcd backend (store/ layer): proto.KV keys on an etcd v3 cluster,
 * through etcd's gRPC API (etcdserverpb.KV Range and Put) on soup-c's own
 * transport client. See backend.h for the contract both backends keep.
 *
 * Mapping: a key K is stored as the etcd key prefix ++ K (raw bytes, so
 * NUL and any other byte survive; etcd keys have no length limit of their
 * own, so no long-key scheme is needed), its value as the etcd value.
 * Get = Range of exactly that key, linearizable (serializable = false):
 * etcd confirms with a quorum that the member is current (ReadIndex)
 * before it answers. Put = Put, acknowledged by etcd only once the entry
 * is committed on a quorum and applied. Each operation is one key, so no
 * Txn is needed for atomicity.
 *
 * Limits and errors: a request over the cluster's --max-request-bytes
 * (1.5 MiB by default) gets RESOURCE_EXHAUSTED naming that flag; a full
 * cluster (NOSPACE alarm) RESOURCE_EXHAUSTED naming --quota-backend-bytes;
 * an unreachable cluster or a member that fails mid-call UNAVAILABLE, and
 * a Put whose outcome is unknown says so and is never reported OK. */
#ifndef SOUPC_STORE_ETCD_BACKEND_H
#define SOUPC_STORE_ETCD_BACKEND_H

#include <stddef.h>

#include "store/backend.h"

#define ETCD_DEFAULT_PREFIX "soupc/kv/"

struct etcd_backend_options {
  const char *endpoints; /* "URL[,URL...]" (etcd_client.h) */
  const char *ca_pem;    /* PEM text, or NULL */
  const char *cert_pem;
  const char *key_pem;
  const char *prefix;  /* NULL = ETCD_DEFAULT_PREFIX; "" allowed */
  size_t max_key_size; /* bytes; 0 = 65536 */
  int timeout_ms;      /* per operation, retries included; 0 = 5000 */
};

/* Starts the etcd client and wraps it as a backend. Succeeds even when no
 * member is reachable yet (operations then fail with UNAVAILABLE until
 * one is). @return 0, SOUPC_ERR_INVALID_ARGUMENT (endpoints, TLS
 * material; @p st says which), SOUPC_ERR_NOMEM. */
int soupc__backend_etcd_new(struct store_backend **out,
                            const struct etcd_backend_options *opts,
                            soupc_status *st);

#endif
