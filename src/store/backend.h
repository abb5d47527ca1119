/* The store backend interface (store/ layer): one set of operations (get,
 * put, health, close) behind which the KV service finds either the
 * embedded LMDB store (backend_lmdb.c, the default) or an etcd cluster
 * (etcd_backend.c). The KV service holds a struct store_backend and never
 * learns which engine it has.
 *
 * Both operations complete through a callback so that a backend on the
 * network (etcd) never blocks a server worker: LMDB calls it before
 * get()/put() return (Get) or from its commit thread (Put; with sync none
 * an idle store commits inline, before put() returns), etcd from its
 * channel's I/O thread. The callback must be short and must not call back
 * into the backend's close().
 *
 * Key and value rules are the same for every backend: a key is 1 ..
 * max_key_size arbitrary bytes (NUL and any other byte allowed), a value
 * is 0 or more bytes, and a 0-byte value is distinct from a missing key.
 * A Put's callback reports success only once the backend has made the Put
 * durable (LMDB: committed and fsync'd; etcd: committed on a quorum). A Get
 * that starts after a Put's callback reported success sees that Put (or a
 * later one): both backends are linearizable. */
#ifndef SOUPC_STORE_BACKEND_H
#define SOUPC_STORE_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "soupc/soupc.h"

struct store_backend;

/* The outcome of one get or put, handed to the callback. */
struct store_result {
  /* 0, SOUPC_ERR_NOT_FOUND (Get), or a soupc_err: SOUPC_ERR_STORE_FULL,
   * SOUPC_ERR_TOO_LARGE, SOUPC_ERR_STORE, SOUPC_ERR_CONNECT (backend
   * unreachable: the Put did not happen), SOUPC_ERR_DEADLINE (the outcome
   * of a Put is unknown), SOUPC_ERR_NOMEM. */
  int rv;
  /* Get with rv == 0: the value, non-NULL even for a 0-byte value: with
   * release NULL it is malloc'd (soupc__free); otherwise it is borrowed,
   * read-only (LMDB lends large values from its map) and valid until
   * release(release_arg) runs, exactly once, on any thread. The callback
   * may take it (keep value, release and release_arg, set value to NULL);
   * otherwise it is freed or released after the callback returns. */
  uint8_t *value;
  size_t value_len; /* bytes */
  void (*release)(void *arg);
  void *release_arg;
  /* rv != 0: a gRPC code and a one-line message for the client when the
   * backend has a better one than soupc_err_to_grpc(rv) and
   * soupc_strerror(rv); message[0] == '\0' when it has none. */
  soupc_status status;
};

/* Runs once per accepted get/put. @p res is borrowed for the call. */
typedef void (*store_done_fn)(struct store_result *res, void *user_data);

/* What a backend implements. All functions may be called from any thread
 * concurrently, except close. */
struct store_backend_ops {
  const char *name; /* "lmdb", "etcd": for logs and health messages */
  /* Looks up @p key (borrowed until return). @return 0 (done runs exactly
   * once, possibly before this returns), or SOUPC_ERR_INVALID_ARGUMENT /
   * SOUPC_ERR_CLOSED / SOUPC_ERR_NOMEM (done never runs). */
  int (*get)(void *impl, const uint8_t *key, size_t key_len, store_done_fn done,
             void *user_data);
  /* Stores @p val under @p key (both borrowed until return; copied).
   * Returns as get. Puts accepted from one thread are applied in order. */
  int (*put)(void *impl, const uint8_t *key, size_t key_len, const uint8_t *val,
             size_t val_len, store_done_fn done, void *user_data);
  /* Checks that the backend can serve now (LMDB: a read transaction;
   * etcd: a linearizable read through a member). Blocks for at most the
   * backend's timeout. @return 0 with a description of what serves in
   * @p st->message, or a soupc_err with @p st saying why not. */
  int (*health)(void *impl, soupc_status *st);
  /* Completes every accepted operation (each done runs), then frees. */
  void (*close)(void *impl);
  /* Optional: put, but takes @p val (soupc__malloc'd) instead of copying
   * it, and frees it once done; on error @p val is still the caller's. */
  int (*put_take)(void *impl, const uint8_t *key, size_t key_len, uint8_t *val,
                  size_t val_len, store_done_fn done, void *user_data);
};

/* Wraps @p impl (owned: freed through ops->close by
 * soupc__backend_close). @p ops is borrowed for the backend's lifetime.
 * @return 0 or SOUPC_ERR_NOMEM (then @p impl is closed). */
int soupc__backend_new(struct store_backend **out,
                       const struct store_backend_ops *ops, void *impl);

/* The operations, as described in struct store_backend_ops. */
int soupc__backend_get(struct store_backend *b, const uint8_t *key,
                       size_t key_len, store_done_fn done, void *user_data);
int soupc__backend_put(struct store_backend *b, const uint8_t *key,
                       size_t key_len, const uint8_t *val, size_t val_len,
                       store_done_fn done, void *user_data);
/* put for a value in a buffer of its own (soupc__malloc'd): @p val is taken
 * on success (the backend frees it; LMDB writes it without another copy)
 * and stays the caller's on error. */
int soupc__backend_put_take(struct store_backend *b, const uint8_t *key,
                            size_t key_len, uint8_t *val, size_t val_len,
                            store_done_fn done, void *user_data);
int soupc__backend_health(struct store_backend *b, soupc_status *st);
const char *soupc__backend_name(const struct store_backend *b);

/* Closes and frees. Accepts NULL. No get/put may run concurrently or
 * start afterwards. */
void soupc__backend_close(struct store_backend *b);

struct store;

/* The LMDB backend on an open store (backend_lmdb.c). @p store is owned by
 * the backend from now on (closed by soupc__backend_close), also when this
 * fails. @return 0 or SOUPC_ERR_NOMEM. */
int soupc__backend_lmdb_new(struct store_backend **out, struct store *store);

#endif
