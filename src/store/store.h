/* The durable key-value store: LMDB with group commit (store/ layer header).
 *
 * Keys are arbitrary byte strings of 1..max_key_size bytes (NUL and any
 * other byte allowed); values are arbitrary bytes (0..), and a 0-byte value
 * is distinct from a missing key. No key ever becomes a file name: the
 * store is one LMDB environment (data.mdb, lock.mdb) in the storage dir,
 * with one unnamed database.
 *
 * Key encoding (key_encoding.h): LMDB keys are limited to 511 bytes, so keys
 * of up to 400 bytes are stored as-is and longer keys as
 * key[0..400) ++ 0xFF ++ SHA-256(key). A long key's record also holds the
 * full key and Get compares it, so even a SHA-256 collision can never return
 * another key's value (it reads as NOT_FOUND).
 *
 * Durability: a Put completes only after its write transaction has been
 * committed and (with STORE_SYNC_FULL) fsync'd; concurrent Puts share one
 * transaction and one fsync (group commit, docs/internals/group-commit.md).
 * A Get that starts after a Put's done() sees that Put. */
#ifndef SOUPC_STORE_STORE_H
#define SOUPC_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "soupc/soupc.h"

struct store;

/* FULL: every commit is fdatasync'd before its Puts complete; survives
 * power loss. NONE: LMDB MDB_NOSYNC; commits reach the page cache only, so
 * a killed process loses nothing but an OS crash or power loss may lose the
 * last transactions. The store still fsyncs once in soupc__store_close. */
enum store_sync {
  STORE_SYNC_FULL = 0,
  STORE_SYNC_NONE = 1
};

struct store_options {
  enum store_sync sync; /* FULL: fsync before a Put completes */
  size_t max_key_size;  /* bytes; 0 = 65536 */
  size_t map_size;      /* LMDB map size in bytes; 0 = 64 GiB (sparse) */
  int max_readers;      /* 0 = 1024; concurrent Gets across all threads */
};

/* Opens (creating 0700 if missing, like mkdir -p) the store in @p dir and
 * starts the commit thread. @p opts may be NULL (all defaults). A process
 * must not open the same dir twice at once (LMDB rule); a second open is
 * refused. @return 0, SOUPC_ERR_IO (dir: "storage dir /x is not a
 * directory", "permission denied creating /x"), SOUPC_ERR_STORE (LMDB, or
 * "already open in this process"), SOUPC_ERR_INVALID_ARGUMENT (empty dir),
 * SOUPC_ERR_NOMEM; @p st (may be NULL) says why, as a one-line message. */
int soupc__store_open(struct store **out, const char *dir,
                      const struct store_options *opts, soupc_status *st);

/* Looks up @p key; on success *val_out is a malloc'd copy (free with
 * soupc__free; non-NULL even for a 0-byte value).
 * Any thread, no global lock. @return 0, SOUPC_ERR_NOT_FOUND,
 * SOUPC_ERR_INVALID_ARGUMENT (empty or over-limit key), SOUPC_ERR_STORE,
 * SOUPC_ERR_NOMEM. */
int soupc__store_get(struct store *st, uint8_t **val_out, size_t *len_out,
                     const uint8_t *key, size_t key_len);

/* A snapshot held for a borrowed value (soupc__store_get_pinned). */
struct store_pin;

/* Like soupc__store_get, but a large value (16 KiB and up) is lent from
 * LMDB's map instead of copied: *val_out points into the map and stays
 * valid, unchanged, until soupc__store_unpin(*pin_out). The pin holds a
 * read transaction (a reader slot), and while it lives, pages that later
 * commits free cannot be reused, so data.mdb may grow under overwrites; at
 * most 256 Gets hold pins at once. A small value, or one asked for past
 * that budget, is a malloc'd copy as from soupc__store_get, with
 * *pin_out = NULL. Unpin every pin before soupc__store_close. Any thread.
 * @return as soupc__store_get. */
int soupc__store_get_pinned(struct store *st, const uint8_t **val_out,
                            size_t *len_out, struct store_pin **pin_out,
                            const uint8_t *key, size_t key_len);

/* Ends a pin: the value is gone, its snapshot released. Any thread. */
void soupc__store_unpin(struct store_pin *pin);

/* The filesystem under the store is full (ENOSPC, EDQUOT): a refinement of
 * SOUPC_ERR_STORE_FULL (which means LMDB's map is full) that never leaves
 * the store and kv layers (the backend turns it into a status). */
#define SOUPC__ERR_STORE_DISK_FULL (-1300)

/* Called once per Put after the commit (and fsync): rv is 0,
 * SOUPC_ERR_STORE_FULL (the map is full), SOUPC__ERR_STORE_DISK_FULL,
 * SOUPC_ERR_IO (EIO: the disk failed) or SOUPC_ERR_STORE. The store stays
 * usable after each: once space is freed the next Put can succeed. It runs on
 * the commit thread, which no other Put progresses without, or (sync none, idle
 * store) on the thread that called put_async, before put_async or the caller's
 * batch scope (base/batch.h) returns: keep it short (hand the result to your
 * own thread) and never call soupc__store_close from it. */
typedef void (*store_put_done_fn)(int rv, void *user_data);

/* Queues a Put (key and value are copied) for the next group commit.
 * Puts are applied in the order they were queued, so the last Put to a key
 * wins. Any thread; never blocks on I/O (sync none may commit inline,
 * without an fsync). Inside a batch scope the Put is held by this thread
 * until the scope ends, then queued with the scope's other Puts. @p done may be
 * NULL (nobody is told the outcome).
 * @return 0 (done will be called exactly once), SOUPC_ERR_INVALID_ARGUMENT
 * (empty or over-limit key), SOUPC_ERR_CLOSED (store closing),
 * SOUPC_ERR_NOMEM; done is never called on error. */
int soupc__store_put_async(struct store *st, const uint8_t *key, size_t key_len,
                           const uint8_t *val, size_t val_len,
                           store_put_done_fn done, void *user_data);

/* put_async, but takes @p val (malloc'd with soupc__malloc) instead of
 * copying it: the store frees it after the commit. On error @p val is still
 * the caller's. For large values that arrive in their own buffer. */
int soupc__store_put_async_take(struct store *st, const uint8_t *key,
                                size_t key_len, uint8_t *val, size_t val_len,
                                store_put_done_fn done, void *user_data);

/* Blocking Put: queue and wait. @return as put_async, or the commit result.
 * Never call it from a done callback. */
int soupc__store_put(struct store *st, const uint8_t *key, size_t key_len,
                     const uint8_t *val, size_t val_len);

/* Commits everything queued (every pending done() fires), stops the commit
 * thread, closes LMDB, frees. No Get or Put may run concurrently or start
 * afterwards. Accepts NULL. */
void soupc__store_close(struct store *st);

/* Health check: starts and ends a read transaction. Any thread.
 * @return 0, SOUPC_ERR_STORE or SOUPC_ERR_NOMEM. */
int soupc__store_check(struct store *st);

/* Counters for tests and benchmarks. */
struct store_stats {
  uint64_t puts;    /* Puts committed */
  uint64_t commits; /* write transactions committed (= fsyncs with FULL) */
};
void soupc__store_stats(const struct store *st, struct store_stats *out);

/* Test hook: while @p hold is non-zero the commit thread leaves queued Puts
 * alone, so a test can queue several Puts and see them committed as one
 * batch once it calls this again with 0. soupc__store_close overrides a
 * hold. */
void soupc__store_hold_commits(struct store *st, int hold);

/* Resolves the storage directory (rpc-spec.md §4.1): $KV_STORAGE_DIR, else
 * $TOFUSOUP_CACHE_DIR/kv-store, else $XDG_CACHE_HOME/tofusoup/kv-store, else
 * $HOME/.cache/tofusoup/kv-store, else <tmpdir>/tofusoup/cache/kv-store
 * (<tmpdir> = $TMPDIR or /tmp). Empty variables count as unset.
 * @return 0 with a malloc'd path (soupc__free), or SOUPC_ERR_NOMEM. */
int soupc__store_default_dir(char **out);

#endif
