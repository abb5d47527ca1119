/* Group commit: Puts from any thread are queued; one commit thread writes
 * everything queued in ONE LMDB write txn, commits it (one fdatasync with
 * STORE_SYNC_FULL), and only then calls each Put's done(). See
 * docs/internals/group-commit.md. */
#include "store/store_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "base/alloc.h"

/* A batch stops at whichever cap it reaches first (but always holds at
 * least one Put), so one huge burst cannot hold back every done() behind a
 * single giant transaction, and LMDB's dirty-page list stays bounded. */
#define BATCH_MAX_PUTS 1024
#define BATCH_MAX_BYTES ((size_t)32 << 20)

/* Writes one Put into @p txn. MDB_RESERVE lets the record (header, key,
 * value) be built in place instead of copied twice. */
static int put_one(struct store *st, MDB_txn *txn, struct put_op *op) {
  MDB_val k, d;
  int rv;

  k.mv_data = op->enc;
  k.mv_size = op->enc_len;
  d.mv_data = NULL;
  d.mv_size = op->rec_len;
  rv = mdb_put(txn, st->dbi, &k, &d, MDB_RESERVE);
  if (rv != 0) {
    return rv;
  }
  soupc__store_record_write(d.mv_data, op->data, op->key_len,
                            op->data + op->key_len, op->val_len);
  return 0;
}

/* Writes @p batch (@p n Puts) in one txn and commits it. @return MDB code. */
static int commit_batch(struct store *st, struct put_op *batch, size_t n) {
  struct put_op *op;
  MDB_txn *txn;
  int rv;

  rv = mdb_txn_begin(st->env, NULL, 0, &txn);
  if (rv != 0) {
    return rv;
  }
  for (op = batch; op != NULL; op = op->next) {
    rv = put_one(st, txn, op);
    if (rv != 0) {
      mdb_txn_abort(txn);
      return rv;
    }
  }
  /* mdb_txn_commit writes the pages and, unless MDB_NOSYNC, fdatasyncs
   * before it returns: the durability point of every Put in the batch. */
  rv = mdb_txn_commit(txn);
  if (rv == 0) {
    atomic_fetch_add(&st->commits, 1);
    atomic_fetch_add(&st->puts, n);
  }
  return rv;
}

/* Commits @p batch and sets each op->rv. If the shared txn fails (say
 * MDB_MAP_FULL because of one huge value), retry each Put in its own txn
 * so one bad Put does not fail its neighbours. */
static void process_batch(struct store *st, struct put_op *batch, size_t n) {
  struct put_op *op, *next;
  int rv;

  rv = commit_batch(st, batch, n);
  if (rv != 0 && n > 1) {
    for (op = batch; op != NULL; op = op->next) {
      next = op->next;
      op->next = NULL;
      op->rv = soupc__store_err_from_mdb(commit_batch(st, op, 1));
      op->next = next;
    }
  } else {
    for (op = batch; op != NULL; op = op->next) {
      op->rv = soupc__store_err_from_mdb(rv);
    }
  }
  if (rv != 0) {
    soupc_log(rv == MDB_MAP_FULL ? SOUPC_LOG_WARN : SOUPC_LOG_ERROR, "store",
              "commit of %zu Puts: %s", n, mdb_strerror(rv));
  }
  /* Only now, after the commit returned, may anyone learn of the Put. */
  for (op = batch; op != NULL; op = next) {
    next = op->next;
    if (op->rv == SOUPC_ERR_NOMEM || op->rv == SOUPC_ERR_NOT_FOUND) {
      op->rv = SOUPC_ERR_STORE; /* done() promises STORE_FULL or STORE */
    }
    if (op->done != NULL) {
      op->done(op->rv, op->user_data);
    }
    soupc__free(op);
  }
}

static void *commit_main(void *arg) {
  struct store *st = arg;
  struct put_op *batch, *last;
  size_t n, bytes;

  pthread_mutex_lock(&st->mu);
  for (;;) {
    while ((st->head == NULL || st->hold) && !st->closing) {
      pthread_cond_wait(&st->cv, &st->mu);
    }
    if (st->head == NULL) {
      break; /* closing and drained */
    }
    /* Everything queued while the last commit ran goes into this one, up
     * to the caps; that is what amortises the fsync. */
    batch = st->head;
    last = batch;
    n = 1;
    bytes = batch->rec_len;
    while (last->next != NULL && n < BATCH_MAX_PUTS &&
           bytes + last->next->rec_len <= BATCH_MAX_BYTES) {
      last = last->next;
      bytes += last->rec_len;
      n++;
    }
    st->head = last->next;
    if (st->head == NULL) {
      st->tail = NULL;
    }
    last->next = NULL;
    pthread_mutex_unlock(&st->mu);

    process_batch(st, batch, n);

    pthread_mutex_lock(&st->mu);
  }
  pthread_mutex_unlock(&st->mu);
  return NULL;
}

int soupc__store_commit_start(struct store *st) {
  int rv;

  rv = pthread_mutex_init(&st->mu, NULL);
  if (rv != 0) {
    return SOUPC_ERR_NOMEM;
  }
  rv = pthread_cond_init(&st->cv, NULL);
  if (rv != 0) {
    pthread_mutex_destroy(&st->mu);
    return SOUPC_ERR_NOMEM;
  }
  st->sync_init = 1;
  rv = pthread_create(&st->thread, NULL, commit_main, st);
  if (rv != 0) {
    return rv == EAGAIN ? SOUPC_ERR_NOMEM : SOUPC_ERR_INTERNAL;
  }
  st->thread_started = 1;
  return 0;
}

void soupc__store_commit_stop(struct store *st) {
  if (!st->sync_init) {
    return;
  }
  pthread_mutex_lock(&st->mu);
  st->closing = 1;
  pthread_cond_signal(&st->cv);
  pthread_mutex_unlock(&st->mu);
  if (st->thread_started) {
    pthread_join(st->thread, NULL);
    st->thread_started = 0;
  }
}

int soupc__store_put_async(struct store *st, const uint8_t *key, size_t key_len,
                           const uint8_t *val, size_t val_len,
                           store_put_done_fn done, void *user_data) {
  struct put_op *op;
  size_t rec_len;
  int rv;

  if (key_len == 0 || key_len > st->max_key_size) {
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  /* key_len <= max_key_size, so only val_len can overflow here. */
  rv = soupc__store_record_size(&rec_len, key_len, val_len);
  if (rv != 0 || val_len > SIZE_MAX - sizeof(*op) - key_len) {
    return SOUPC_ERR_NOMEM;
  }
  op = soupc__malloc(sizeof(*op) + key_len + val_len);
  if (op == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  op->next = NULL;
  op->done = done;
  op->user_data = user_data;
  op->key_len = key_len;
  op->val_len = val_len;
  op->rec_len = rec_len;
  op->rv = 0;
  /* Hashing long keys here spreads the SHA-256 work over the callers. */
  op->enc_len = soupc__store_key_encode(op->enc, key, key_len);
  memcpy(op->data, key, key_len);
  if (val_len > 0) {
    memcpy(op->data + key_len, val, val_len);
  }

  pthread_mutex_lock(&st->mu);
  if (st->closing) {
    pthread_mutex_unlock(&st->mu);
    soupc__free(op);
    return SOUPC_ERR_CLOSED;
  }
  if (st->tail == NULL) {
    st->head = op;
    pthread_cond_signal(&st->cv); /* the thread only sleeps on empty */
  } else {
    st->tail->next = op;
  }
  st->tail = op;
  pthread_mutex_unlock(&st->mu);
  return 0;
}

struct put_waiter {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int finished; /* guarded by mu */
  int rv;
};

static void put_wake(int rv, void *user_data) {
  struct put_waiter *w = user_data;

  pthread_mutex_lock(&w->mu);
  w->rv = rv;
  w->finished = 1;
  pthread_cond_signal(&w->cv);
  /* The waiter cannot return (and free w) before this unlock. */
  pthread_mutex_unlock(&w->mu);
}

int soupc__store_put(struct store *st, const uint8_t *key, size_t key_len,
                     const uint8_t *val, size_t val_len) {
  struct put_waiter w;
  int rv;

  memset(&w, 0, sizeof(w));
  if (pthread_mutex_init(&w.mu, NULL) != 0) {
    return SOUPC_ERR_NOMEM;
  }
  if (pthread_cond_init(&w.cv, NULL) != 0) {
    pthread_mutex_destroy(&w.mu);
    return SOUPC_ERR_NOMEM;
  }
  rv = soupc__store_put_async(st, key, key_len, val, val_len, put_wake, &w);
  if (rv == 0) {
    pthread_mutex_lock(&w.mu);
    while (!w.finished) {
      pthread_cond_wait(&w.cv, &w.mu);
    }
    rv = w.rv;
    pthread_mutex_unlock(&w.mu);
  }
  pthread_cond_destroy(&w.cv);
  pthread_mutex_destroy(&w.mu);
  return rv;
}

void soupc__store_hold_commits(struct store *st, int hold) {
  pthread_mutex_lock(&st->mu);
  st->hold = hold;
  pthread_cond_signal(&st->cv);
  pthread_mutex_unlock(&st->mu);
}
