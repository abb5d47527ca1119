/* struct store and the functions its modules share (private to src/store/).
 * store.c owns the LMDB environment and Gets, group_commit.c the Put queue
 * and the commit thread, storage_dir.c the directory. */
#ifndef SOUPC_STORE_STORE_INT_H
#define SOUPC_STORE_STORE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <lmdb.h>

#include "store/key_encoding.h"
#include "store/store.h"

/* Reset read transactions kept for reuse; each keeps an LMDB reader slot,
 * so this is also the number of slots idle Gets may hold. */
#define STORE_READER_CACHE 32

/* Pinned Gets (soupc__store_get_pinned): values from this size up are lent
 * from the map, with at most STORE_MAX_PINS read txns pinned at once (Gets
 * between two commits share one); the rest are copied. Below 16 KiB a copy
 * costs less than holding a snapshot open. */
#define STORE_PIN_MIN_BYTES ((size_t)16 * 1024)
#define STORE_MAX_PINS 256

/* One queued Put, one allocation: the header, then key_len bytes of key and
 * (unless the value was taken, soupc__store_put_async_take) val_len bytes
 * of value in data[]. */
struct put_op {
  struct put_op *next; /* queue order = commit order */
  store_put_done_fn done;
  void *user_data;
  size_t key_len;                 /* bytes in data[] before the value */
  size_t val_len;                 /* bytes */
  size_t rec_len;                 /* LMDB record size (key_encoding.h) */
  size_t enc_len;                 /* bytes used in enc */
  int rv;                         /* commit result, set by the commit thread */
  const uint8_t *val;             /* val_len bytes: in data[] or val_owned */
  uint8_t *val_owned;             /* a value taken, not copied; or NULL */
  uint8_t enc[STORE_KEY_ENC_MAX]; /* LMDB key */
  uint8_t data[];
};

struct store {
  MDB_env *env; /* NULL until created */
  MDB_dbi dbi;  /* the unnamed database */
  int env_open; /* mdb_env_open succeeded */
  enum store_sync sync;
  size_t max_key_size; /* bytes */

  /* Reset read txns for reuse (MDB_NOTLS makes them thread-free): a Get
   * takes one with atomic_exchange and puts it back with a CAS into an
   * empty slot, so the read path has no lock. */
  _Atomic(MDB_txn *) readers[STORE_READER_CACHE];

  /* Group commit (group_commit.c, docs/internals/group-commit.md).
   * Producers push onto inbox, a lock-free LIFO, with one CAS and take no
   * lock; the commit thread takes the whole inbox with one exchange. mu
   * and cv serve only to put the commit thread to sleep and to wake it. */
  _Atomic(struct put_op *) inbox;
  struct put_op *pending;      /* commit thread only: taken, FIFO, not yet */
  struct put_op *pending_tail; /* committed (a batch stops at its caps) */
  atomic_size_t queued;        /* accepted Puts whose commit has not ended */
  atomic_int producers;        /* put_async calls between check and push */
  atomic_int sleeping;         /* the commit thread waits (or is about to) */
  atomic_int writer;           /* 1 while a thread owns LMDB's write side */
  atomic_int closing; /* no new Puts; the thread drains the queue, exits */
  atomic_int hold;    /* test hook: leave the queue alone */
  pthread_mutex_t mu;
  pthread_cond_t cv; /* the commit thread sleeps on it while idle */
  int sync_init;     /* mu and cv initialised */
  int thread_started;
  pthread_t thread;

  dev_t dir_dev; /* identity of the storage dir, for the open registry */
  ino_t dir_ino;
  int registered; /* in the process-wide list of open dirs */

  /* Pinned Gets (store.c, soupc__store_get_pinned). */
  atomic_int pins;           /* read txns held for borrowed values */
  pthread_mutex_t pin_mu;    /* guards pin_cur and every pin's refs */
  struct store_pin *pin_cur; /* the newest pin, shared by new Gets */
  int pin_mu_init;

  atomic_uint_fast64_t puts;    /* Puts committed */
  atomic_uint_fast64_t commits; /* write txns committed */
};

/* MDB_* or errno code -> soupc_err (STYLE.md: translate once). */
int soupc__store_err_from_mdb(int rv);
/* soupc__store_err_from_mdb() for a failed commit: LMDB reports a short
 * write ("filesystem full?") as EIO, so an EIO on a filesystem with next to
 * no space left is SOUPC__ERR_STORE_DISK_FULL. */
int soupc__store_err_from_commit(struct store *st, int rv);

/* group_commit.c: start the commit thread / drain the queue and join it.
 * stop is idempotent and safe if start never ran. */
int soupc__store_commit_start(struct store *st);
void soupc__store_commit_stop(struct store *st);

/* storage_dir.c: mkdir -p @p dir with mode 0700 for created components.
 * @return 0 or SOUPC_ERR_IO / SOUPC_ERR_NOMEM with @p status set. */
int soupc__store_mkdirs(const char *dir, soupc_status *status);

#endif
