/* The LMDB environment: open, close and the lock-free read path.
 * Puts live in group_commit.c. LMDB contracts: lmdb.h (0.9.x). */
#include "store/store_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "base/alloc.h"

#define DEFAULT_MAX_KEY_SIZE ((size_t)65536)
#define DEFAULT_MAX_READERS 1024
/* 64 GiB: the map is only address space; data.mdb grows as pages are
 * written, so a large default costs nothing and avoids MDB_MAP_FULL. */
#define DEFAULT_MAP_SIZE ((size_t)64 << 30)
/* Less free space than this after a failed write: the disk is full. */
#define DISK_FULL_BELOW ((uint64_t)1 << 20)

int soupc__store_err_from_mdb(int rv) {
  switch (rv) {
  case 0:
    return 0;
  case MDB_NOTFOUND:
    return SOUPC_ERR_NOT_FOUND;
  case MDB_MAP_FULL:
    return SOUPC_ERR_STORE_FULL;
  case ENOSPC:
  case EDQUOT:
    return SOUPC__ERR_STORE_DISK_FULL;
  case EIO:
    return SOUPC_ERR_IO;
  case ENOMEM:
    return SOUPC_ERR_NOMEM;
  default:
    return SOUPC_ERR_STORE;
  }
}

int soupc__store_err_from_commit(struct store *st, int rv) {
  struct statvfs vfs;
  mdb_filehandle_t fd;

  /* mdb_page_flush() turns a short write into EIO (lmdb 0.9: "short write,
   * filesystem full?"); tell a full disk from a failing one. */
  if (rv == EIO && mdb_env_get_fd(st->env, &fd) == 0 &&
      fstatvfs(fd, &vfs) == 0 &&
      (uint64_t)vfs.f_bavail * vfs.f_frsize < DISK_FULL_BELOW) {
    return SOUPC__ERR_STORE_DISK_FULL;
  }
  return soupc__store_err_from_mdb(rv);
}

/* LMDB (lmdb.h, "Caveats"): a process must not open one environment
 * twice, because closing either copy drops the other's POSIX locks. So the
 * process keeps a list of the dirs it has open (by device and inode). */
#define MAX_OPEN_STORES 64
static pthread_mutex_t open_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
  dev_t dev;
  ino_t ino;
} open_dirs[MAX_OPEN_STORES];
static int n_open_dirs;

static int register_dir(struct store *st, const char *dir,
                        soupc_status *status) {
  struct stat sb;
  int i, rv = 0;

  if (stat(dir, &sb) != 0) {
    soupc_status_set(status, soupc_err_to_grpc(SOUPC_ERR_IO),
                     "cannot stat storage dir %s: %s", dir, strerror(errno));
    return SOUPC_ERR_IO;
  }
  pthread_mutex_lock(&open_mu);
  for (i = 0; i < n_open_dirs; i++) {
    if (open_dirs[i].dev == sb.st_dev && open_dirs[i].ino == sb.st_ino) {
      soupc_status_set(status, soupc_err_to_grpc(SOUPC_ERR_STORE),
                       "storage dir %s is already open in this process", dir);
      rv = SOUPC_ERR_STORE;
      goto done;
    }
  }
  if (n_open_dirs == MAX_OPEN_STORES) {
    soupc_status_set(status, soupc_err_to_grpc(SOUPC_ERR_STORE),
                     "too many stores open; the limit is %d", MAX_OPEN_STORES);
    rv = SOUPC_ERR_STORE;
    goto done;
  }
  open_dirs[n_open_dirs].dev = sb.st_dev;
  open_dirs[n_open_dirs].ino = sb.st_ino;
  n_open_dirs++;
  st->dir_dev = sb.st_dev;
  st->dir_ino = sb.st_ino;
  st->registered = 1;

done:
  pthread_mutex_unlock(&open_mu);
  return rv;
}

static void unregister_dir(struct store *st) {
  int i;

  if (!st->registered) {
    return;
  }
  pthread_mutex_lock(&open_mu);
  for (i = 0; i < n_open_dirs; i++) {
    if (open_dirs[i].dev == st->dir_dev && open_dirs[i].ino == st->dir_ino) {
      open_dirs[i] = open_dirs[--n_open_dirs];
      break;
    }
  }
  pthread_mutex_unlock(&open_mu);
  st->registered = 0;
}

static void store_free(struct store *st) {
  MDB_txn *txn;
  int i;

  if (st == NULL) {
    return;
  }
  soupc__store_commit_stop(st);
  if (atomic_load(&st->pins) != 0) {
    /* store.h: every pin ends before close; a live one reads freed map. */
    soupc_log(SOUPC_LOG_ERROR, "store", "closing with %d pinned Gets",
              atomic_load(&st->pins));
  }
  for (i = 0; i < STORE_READER_CACHE; i++) {
    txn = atomic_exchange(&st->readers[i], NULL);
    if (txn != NULL) {
      mdb_txn_abort(txn);
    }
  }
  if (st->env != NULL) {
    /* With MDB_NOSYNC the commits so far are only in the page cache; one
     * fsync here makes a clean shutdown durable in every sync mode. */
    if (st->env_open && st->sync == STORE_SYNC_NONE) {
      mdb_env_sync(st->env, 1);
    }
    mdb_env_close(st->env);
  }
  unregister_dir(st); /* only once LMDB has let go of its locks */
  if (st->sync_init) {
    pthread_cond_destroy(&st->cv);
    pthread_mutex_destroy(&st->mu);
  }
  if (st->pin_mu_init) {
    pthread_mutex_destroy(&st->pin_mu);
  }
  soupc__free(st);
}

static int open_env(struct store *st, const char *dir,
                    const struct store_options *opts, soupc_status *status) {
  unsigned int flags;
  size_t map_size;
  int max_readers;
  MDB_txn *txn = NULL;
  int dead = 0;
  int rv;

  map_size = opts->map_size != 0 ? opts->map_size : DEFAULT_MAP_SIZE;
  max_readers = opts->max_readers > 0 ? opts->max_readers : DEFAULT_MAX_READERS;

  rv = mdb_env_create(&st->env);
  if (rv != 0) {
    st->env = NULL;
    goto fail;
  }
  rv = mdb_env_set_mapsize(st->env, map_size);
  if (rv != 0) {
    goto fail;
  }
  /* Every concurrent Get holds a reader slot, and so does every cached
   * reset txn; leave room for both. */
  if (max_readers < 2 * STORE_READER_CACHE) {
    max_readers = 2 * STORE_READER_CACHE;
  }
  rv = mdb_env_set_maxreaders(st->env, (unsigned int)max_readers);
  if (rv != 0) {
    goto fail;
  }
  /* MDB_NOTLS: Gets run on many worker threads and a read txn (and its
   * reader slot) belongs to the txn, not the thread, so reset txns can be
   * reused by any thread. */
  flags = MDB_NOTLS;
  if (st->sync == STORE_SYNC_NONE) {
    /* NOSYNC keeps atomicity and consistency (no MDB_WRITEMAP) and loses
     * only durability on an OS crash; a killed process loses nothing. */
    flags |= MDB_NOSYNC | MDB_NOMETASYNC;
  }
  rv = mdb_env_open(st->env, dir, flags, 0600);
  if (rv != 0) {
    goto fail; /* the caller's mdb_env_close discards the handle */
  }
  st->env_open = 1;
  /* A process killed mid-Get leaves its reader slot behind; clear it so
   * it does not pin old pages forever. */
  mdb_reader_check(st->env, &dead);
  if (dead > 0) {
    soupc_log(SOUPC_LOG_INFO, "store", "cleared %d stale LMDB reader slots",
              dead);
  }
  rv = mdb_txn_begin(st->env, NULL, 0, &txn);
  if (rv != 0) {
    goto fail;
  }
  rv = mdb_dbi_open(txn, NULL, 0, &st->dbi);
  if (rv != 0) {
    mdb_txn_abort(txn);
    goto fail;
  }
  rv = mdb_txn_commit(txn);
  if (rv != 0) {
    goto fail;
  }
  return 0;

fail:
  if (rv == EACCES || rv == EPERM) {
    soupc_status_set(status, soupc_err_to_grpc(SOUPC_ERR_STORE),
                     "permission denied opening the store in %s", dir);
  } else {
    soupc_status_set(status, soupc_err_to_grpc(SOUPC_ERR_STORE),
                     "cannot open the store in %s: %s", dir, mdb_strerror(rv));
  }
  return rv == ENOMEM ? SOUPC_ERR_NOMEM : SOUPC_ERR_STORE;
}

int soupc__store_open(struct store **out, const char *dir,
                      const struct store_options *opts, soupc_status *status) {
  static const struct store_options defaults;
  struct store *st;
  int rv;

  if (opts == NULL) {
    opts = &defaults;
  }
  if (dir == NULL || dir[0] == '\0') {
    soupc_status_set(status, soupc_err_to_grpc(SOUPC_ERR_INVALID_ARGUMENT),
                     "storage dir is empty");
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  st = soupc__calloc(1, sizeof(*st));
  if (st == NULL) {
    soupc_status_set(status, soupc_err_to_grpc(SOUPC_ERR_NOMEM),
                     "out of memory opening the store");
    return SOUPC_ERR_NOMEM;
  }
  st->sync = opts->sync;
  st->max_key_size =
      opts->max_key_size != 0 ? opts->max_key_size : DEFAULT_MAX_KEY_SIZE;
  for (int i = 0; i < STORE_READER_CACHE; i++) {
    atomic_init(&st->readers[i], NULL);
  }
  atomic_init(&st->puts, 0);
  atomic_init(&st->commits, 0);
  if (pthread_mutex_init(&st->pin_mu, NULL) != 0) {
    rv = SOUPC_ERR_NOMEM;
    soupc_status_set(status, soupc_err_to_grpc(rv),
                     "out of memory opening the store");
    goto fail;
  }
  st->pin_mu_init = 1;

  rv = soupc__store_mkdirs(dir, status);
  if (rv != 0) {
    goto fail;
  }
  rv = register_dir(st, dir, status);
  if (rv != 0) {
    goto fail;
  }
  rv = open_env(st, dir, opts, status);
  if (rv != 0) {
    goto fail;
  }
  rv = soupc__store_commit_start(st);
  if (rv != 0) {
    soupc_status_set(status, soupc_err_to_grpc(rv),
                     "cannot start the commit thread: %s", soupc_strerror(rv));
    goto fail;
  }
  *out = st;
  return 0;

fail:
  store_free(st);
  return rv;
}

void soupc__store_close(struct store *st) {
  store_free(st);
}

/* Takes a cached reset read txn, or NULL. Start at a per-thread slot so
 * threads rarely contend on the same cache line. */
static MDB_txn *reader_take(struct store *st, unsigned start) {
  MDB_txn *txn;
  unsigned i, slot;

  for (i = 0; i < STORE_READER_CACHE; i++) {
    slot = (start + i) % STORE_READER_CACHE;
    if (atomic_load_explicit(&st->readers[slot], memory_order_relaxed) ==
        NULL) {
      continue;
    }
    txn = atomic_exchange(&st->readers[slot], NULL);
    if (txn != NULL) {
      return txn;
    }
  }
  return NULL;
}

/* Resets @p txn and caches it, or aborts it if the cache is full. */
static void reader_give(struct store *st, MDB_txn *txn, unsigned start) {
  MDB_txn *expected;
  unsigned i, slot;

  mdb_txn_reset(txn);
  for (i = 0; i < STORE_READER_CACHE; i++) {
    slot = (start + i) % STORE_READER_CACHE;
    expected = NULL;
    if (atomic_compare_exchange_strong(&st->readers[slot], &expected, txn)) {
      return;
    }
  }
  mdb_txn_abort(txn);
}

static unsigned thread_slot(void) {
  static atomic_uint next;
  static _Thread_local unsigned mine;
  static _Thread_local int assigned;

  if (!assigned) {
    mine = atomic_fetch_add(&next, 1);
    assigned = 1;
  }
  return mine;
}

/* A read txn with a fresh snapshot: a renewed cached one, or a new one.
 * renew takes a fresh snapshot too: it sees every commit acknowledged
 * before this Get started (store.h linearizability). */
static int reader_open(struct store *st, unsigned start, MDB_txn **out) {
  MDB_txn *txn = reader_take(st, start);
  int rv;

  if (txn != NULL) {
    rv = mdb_txn_renew(txn);
    if (rv == 0) {
      *out = txn;
      return 0;
    }
    mdb_txn_abort(txn);
  }
  rv = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn);
  if (rv != 0) {
    return soupc__store_err_from_mdb(rv);
  }
  *out = txn;
  return 0;
}

/* Looks @p key up in @p txn; *val_out points into the map. */
static int lookup(struct store *st, MDB_txn *txn, const uint8_t **val_out,
                  size_t *len_out, const uint8_t *key, size_t key_len) {
  uint8_t enc[STORE_KEY_ENC_MAX];
  MDB_val k, d;
  int rv;

  k.mv_size = soupc__store_key_encode(enc, key, key_len);
  k.mv_data = enc;
  rv = mdb_get(txn, st->dbi, &k, &d);
  if (rv != 0) {
    return soupc__store_err_from_mdb(rv);
  }
  return soupc__store_record_value(val_out, len_out, d.mv_data, d.mv_size, key,
                                   key_len);
}

/* Copies @p len bytes into a new allocation (non-NULL even for 0). */
static int copy_value(uint8_t **out, const uint8_t *val, size_t len) {
  uint8_t *copy = soupc__malloc(len > 0 ? len : 1);

  if (copy == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  if (len > 0) {
    memcpy(copy, val, len);
  }
  *out = copy;
  return 0;
}

int soupc__store_get(struct store *st, uint8_t **val_out, size_t *len_out,
                     const uint8_t *key, size_t key_len) {
  const uint8_t *val;
  size_t val_len;
  MDB_txn *txn;
  unsigned start;
  int rv;

  if (key_len == 0 || key_len > st->max_key_size) {
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  start = thread_slot();
  rv = reader_open(st, start, &txn);
  if (rv != 0) {
    return rv;
  }
  rv = lookup(st, txn, &val, &val_len, key, key_len);
  /* Copy while the snapshot is live: the pages may be reused after reset. */
  if (rv == 0) {
    rv = copy_value(val_out, val, val_len);
  }
  if (rv == 0) {
    *len_out = val_len;
  }
  reader_give(st, txn, start);
  return rv;
}

/* A pinned snapshot: a read txn whose pages hold borrowed values. Gets
 * that start while no commit has completed since it was opened share it
 * (store->pin_cur), so 1000 concurrent Gets of large values between two
 * commits hold one reader slot, not 1000. */
struct store_pin {
  struct store *st;
  MDB_txn *txn;
  unsigned start;    /* reader cache slot hint */
  uint_fast64_t seq; /* st->commits read before txn began */
  int refs;          /* borrowed values; guarded by st->pin_mu */
};

/* The current shared pin, with a reference for the caller, if it has the
 * snapshot a Get starting now may use: no commit counted since it began.
 * A commit acknowledged before this Get was counted first (group_commit.c
 * counts before done()), so the shared snapshot holds it: linearizable. */
static struct store_pin *pin_share(struct store *st, uint_fast64_t seq) {
  struct store_pin *pin;

  pthread_mutex_lock(&st->pin_mu);
  pin = st->pin_cur;
  if (pin != NULL && pin->seq == seq) {
    pin->refs++;
  } else {
    pin = NULL;
  }
  pthread_mutex_unlock(&st->pin_mu);
  return pin;
}

/* Makes @p txn a pin of its own (one reference) and the current shared one.
 * @return NULL past the budget or without memory: then @p txn is still the
 * caller's. */
static struct store_pin *pin_new(struct store *st, MDB_txn *txn, unsigned start,
                                 uint_fast64_t seq) {
  struct store_pin *pin;

  if (atomic_fetch_add(&st->pins, 1) >= STORE_MAX_PINS) {
    atomic_fetch_sub(&st->pins, 1);
    return NULL;
  }
  pin = soupc__malloc(sizeof(*pin));
  if (pin == NULL) {
    atomic_fetch_sub(&st->pins, 1);
    return NULL;
  }
  pin->st = st;
  pin->txn = txn;
  pin->start = start;
  pin->seq = seq;
  pin->refs = 1;
  pthread_mutex_lock(&st->pin_mu);
  if (st->pin_cur == NULL || st->pin_cur->seq <= seq) {
    st->pin_cur = pin; /* a weak pointer: cleared when pin ends */
  }
  pthread_mutex_unlock(&st->pin_mu);
  return pin;
}

void soupc__store_unpin(struct store_pin *pin) {
  struct store *st = pin->st;
  int last;

  pthread_mutex_lock(&st->pin_mu);
  last = --pin->refs == 0;
  if (last && st->pin_cur == pin) {
    st->pin_cur = NULL;
  }
  pthread_mutex_unlock(&st->pin_mu);
  if (!last) {
    return;
  }
  reader_give(st, pin->txn, pin->start);
  atomic_fetch_sub(&st->pins, 1);
  soupc__free(pin);
}

/* Lends the value from @p pin's snapshot (a second lookup, ~1 µs next to
 * the value it saves copying). @return as lookup(); unpins on error. */
static int lend_from(struct store_pin *pin, const uint8_t **val_out,
                     size_t *len_out, const uint8_t *key, size_t key_len) {
  int rv = lookup(pin->st, pin->txn, val_out, len_out, key, key_len);

  if (rv != 0) {
    soupc__store_unpin(pin);
  }
  return rv;
}

int soupc__store_get_pinned(struct store *st, const uint8_t **val_out,
                            size_t *len_out, struct store_pin **pin_out,
                            const uint8_t *key, size_t key_len) {
  struct store_pin *pin;
  const uint8_t *val;
  uint8_t *copy;
  size_t val_len;
  uint_fast64_t seq;
  MDB_txn *txn;
  unsigned start;
  int rv;

  if (key_len == 0 || key_len > st->max_key_size) {
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  seq = atomic_load(&st->commits);
  start = thread_slot();
  rv = reader_open(st, start, &txn);
  if (rv != 0) {
    return rv;
  }
  rv = lookup(st, txn, &val, &val_len, key, key_len);
  /* Only values worth it are lent (docs/internals/group-commit.md,
   * "Pinned Gets"); the rest are copied as by soupc__store_get. */
  if (rv == 0 && val_len >= STORE_PIN_MIN_BYTES) {
    pin = pin_share(st, seq);
    if (pin != NULL) {
      reader_give(st, txn, start);
      rv = lend_from(pin, val_out, len_out, key, key_len);
      *pin_out = rv == 0 ? pin : NULL;
      return rv;
    }
    pin = pin_new(st, txn, start, seq);
    if (pin != NULL) {
      *val_out = val;
      *len_out = val_len;
      *pin_out = pin;
      return 0;
    }
  }
  if (rv == 0) {
    rv = copy_value(&copy, val, val_len);
  }
  if (rv == 0) {
    *val_out = copy;
    *len_out = val_len;
    *pin_out = NULL;
  }
  reader_give(st, txn, start);
  return rv;
}

void soupc__store_stats(const struct store *st, struct store_stats *out) {
  /* The counters are atomics; the cast only drops the const qualifier the
   * atomic loads do not accept in C11. */
  struct store *s = (struct store *)st;

  out->puts = atomic_load(&s->puts);
  out->commits = atomic_load(&s->commits);
}

int soupc__store_check(struct store *st) {
  MDB_txn *txn;
  int rv;

  rv = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn);
  if (rv != 0) {
    return soupc__store_err_from_mdb(rv);
  }
  mdb_txn_abort(txn);
  return 0;
}
