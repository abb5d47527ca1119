/* The durable key-value store: LMDB with group commit (store/ layer header).
 *
 * Keys are arbitrary byte strings of 1..max_key_size bytes; values are
 * arbitrary bytes (0..). No key ever becomes a file name. A Put completes
 * only after its transaction is committed and (with sync full) fsync'd;
 * concurrent Puts share one transaction and one fsync. */
#ifndef SOUPC_STORE_STORE_H
#define SOUPC_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "soupc/soupc.h"

struct store;

enum store_sync { STORE_SYNC_FULL = 0, STORE_SYNC_NONE = 1 };

struct store_options {
  enum store_sync sync;  /* FULL: fsync before a Put completes */
  size_t max_key_size;   /* bytes; 0 = 65536 */
  size_t map_size;       /* LMDB map size in bytes; 0 = 64 GiB (sparse) */
  int max_readers;       /* 0 = 1024 */
};

/* Opens (creating 0700 if missing) the store in @p dir and starts the commit
 * thread. @return 0, SOUPC_ERR_IO (dir), SOUPC_ERR_STORE, SOUPC_ERR_NOMEM;
 * @p st says why. */
int soupc__store_open(struct store **out, const char *dir,
                      const struct store_options *opts, soupc_status *st);

/* Looks up @p key; on success *val_out is a malloc'd copy (free with
 * soupc__free; non-NULL even for a 0-byte value).
 * Any thread, no global lock. @return 0, SOUPC_ERR_NOT_FOUND,
 * SOUPC_ERR_STORE, SOUPC_ERR_NOMEM. */
int soupc__store_get(struct store *st, uint8_t **val_out, size_t *len_out,
                     const uint8_t *key, size_t key_len);

/* Called once per Put from the commit thread after the commit (and fsync):
 * rv is 0, SOUPC_ERR_STORE_FULL or SOUPC_ERR_STORE. */
typedef void (*store_put_done_fn)(int rv, void *user_data);

/* Queues a Put (key and value are copied) for the next group commit.
 * @return 0 (done will be called exactly once), SOUPC_ERR_INVALID_ARGUMENT
 * (empty or over-limit key), SOUPC_ERR_CLOSED (store closing),
 * SOUPC_ERR_NOMEM; done is never called on error. */
int soupc__store_put_async(struct store *st, const uint8_t *key,
                           size_t key_len, const uint8_t *val, size_t val_len,
                           store_put_done_fn done, void *user_data);

/* Blocking Put: queue and wait. @return as put_async, or the commit result. */
int soupc__store_put(struct store *st, const uint8_t *key, size_t key_len,
                     const uint8_t *val, size_t val_len);

/* Commits everything queued, stops the commit thread, closes LMDB, frees.
 * Accepts NULL. */
void soupc__store_close(struct store *st);

/* Counters for tests and benchmarks. */
struct store_stats {
  uint64_t puts;    /* Puts committed */
  uint64_t commits; /* write transactions committed (= fsyncs with FULL) */
};
void soupc__store_stats(const struct store *st, struct store_stats *out);

/* Resolves the storage directory (rpc-spec.md §4.1): $KV_STORAGE_DIR, else
 * $TOFUSOUP_CACHE_DIR/kv-store, else $XDG_CACHE_HOME/tofusoup/kv-store, else
 * $HOME/.cache/tofusoup/kv-store, else <tmpdir>/tofusoup/cache/kv-store.
 * @return 0 with a malloc'd path, or SOUPC_ERR_NOMEM. */
int soupc__store_default_dir(char **out);

#endif
