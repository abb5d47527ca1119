/* Group commit: Puts from any thread are queued; one commit thread writes
 * everything queued in ONE LMDB write txn, commits it (one fdatasync with
 * STORE_SYNC_FULL), and only then calls each Put's done(). The queue is a
 * lock-free stack, so a Put costs its producer one CAS and, only when the
 * commit thread sleeps, one wake-up. See docs/internals/group-commit.md. */
#include "store/store_int.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#include "base/alloc.h"
#include "base/batch.h"

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
  soupc__store_record_write(d.mv_data, op->data, op->key_len, op->val,
                            op->val_len);
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
      op->rv = soupc__store_err_from_commit(st, commit_batch(st, op, 1));
      op->next = next;
    }
  } else {
    int err = soupc__store_err_from_commit(st, rv);
    for (op = batch; op != NULL; op = op->next) {
      op->rv = err;
    }
  }
  if (rv != 0) {
    int err = soupc__store_err_from_commit(st, rv);
    /* Full (map or disk) is an operator's matter, not a store fault. */
    soupc_log(err == SOUPC_ERR_STORE_FULL || err == SOUPC__ERR_STORE_DISK_FULL
                  ? SOUPC_LOG_WARN
                  : SOUPC_LOG_ERROR,
              "store", "commit of %zu Puts: %s", n,
              err == SOUPC__ERR_STORE_DISK_FULL ? "the disk is full (ENOSPC)"
                                                : mdb_strerror(rv));
  }
  /* Every Put of the batch has its outcome: a producer may now commit
   * inline without overtaking any of them (try_commit_inline). */
  atomic_fetch_sub(&st->queued, n);
  /* Only now, after the commit returned, may anyone learn of the Put. The
   * batch scope lets the callbacks' cross-thread hand-offs go out together
   * (one wake-up per worker, base/batch.h). */
  soupc__batch_begin();
  for (op = batch; op != NULL; op = next) {
    next = op->next;
    if (op->rv == SOUPC_ERR_NOMEM || op->rv == SOUPC_ERR_NOT_FOUND) {
      op->rv = SOUPC_ERR_STORE; /* outside what done() promises (store.h) */
    }
    if (op->done != NULL) {
      op->done(op->rv, op->user_data);
    }
    soupc__free(op->val_owned);
    soupc__free(op);
  }
  soupc__batch_end();
}

/* ------------------------------------------------------------------ */
/* The writer token and the queue                                      */
/* ------------------------------------------------------------------ */

/* LMDB has one writer at a time. The token says who: the commit thread, or
 * (sync none, idle store) a producer committing its own Put inline. It is
 * held only for one batch, microseconds to an fsync, so a waiter yields. */
static int writer_try(struct store *st) {
  int expected = 0;

  return atomic_compare_exchange_strong(&st->writer, &expected, 1);
}

static void writer_lock(struct store *st) {
  while (!writer_try(st)) {
    sched_yield();
  }
}

static void writer_unlock(struct store *st) {
  atomic_store(&st->writer, 0);
}

/* Moves everything pushed so far to the end of pending, oldest first. */
static void take_inbox(struct store *st) {
  struct put_op *op = atomic_exchange(&st->inbox, NULL);
  struct put_op *fifo = NULL, *last = op, *next;

  while (op != NULL) {
    next = op->next;
    op->next = fifo;
    fifo = op;
    op = next;
  }
  if (fifo == NULL) {
    return;
  }
  if (st->pending_tail != NULL) {
    st->pending_tail->next = fifo;
  } else {
    st->pending = fifo;
  }
  st->pending_tail = last;
}

/* Wakes the commit thread. Taking and dropping mu first means it is
 * either inside pthread_cond_wait (and gets the signal) or has not yet
 * checked for work under mu (and will find it); signalling after the
 * unlock spares it from waking only to block on mu. */
static void wake(struct store *st) {
  pthread_mutex_lock(&st->mu);
  pthread_mutex_unlock(&st->mu);
  pthread_cond_signal(&st->cv);
}

static int has_work(struct store *st) {
  int closing = atomic_load(&st->closing);
  int held = atomic_load(&st->hold) && !closing;

  return closing || atomic_load(&st->inbox) != NULL ||
         (st->pending != NULL && !held);
}

static void sleep_until_work(struct store *st) {
  pthread_mutex_lock(&st->mu);
  for (;;) {
    atomic_store(&st->sleeping, 1);
    if (has_work(st)) {
      break;
    }
    pthread_cond_wait(&st->cv, &st->mu);
  }
  atomic_store(&st->sleeping, 0);
  pthread_mutex_unlock(&st->mu);
}

/* Cuts the next batch off pending, up to the caps (at least one Put). */
static struct put_op *cut_batch(struct store *st, size_t *n_out) {
  struct put_op *batch = st->pending, *last = batch;
  size_t n = 1, bytes = batch->rec_len;

  while (last->next != NULL && n < BATCH_MAX_PUTS &&
         bytes + last->next->rec_len <= BATCH_MAX_BYTES) {
    last = last->next;
    bytes += last->rec_len;
    n++;
  }
  st->pending = last->next;
  if (st->pending == NULL) {
    st->pending_tail = NULL;
  }
  last->next = NULL;
  *n_out = n;
  return batch;
}

static void *commit_main(void *arg) {
  struct store *st = arg;
  struct put_op *batch;
  size_t n;

  for (;;) {
    take_inbox(st);
    if (atomic_load(&st->closing)) {
      if (st->pending == NULL) {
        /* A producer that got past the closing check still pushes. */
        if (atomic_load(&st->producers) == 0 &&
            atomic_load(&st->inbox) == NULL) {
          break;
        }
        sched_yield();
        continue;
      }
    } else if (st->pending == NULL || atomic_load(&st->hold)) {
      sleep_until_work(st);
      continue;
    }
    /* Everything queued while the last commit ran goes into this one, up
     * to the caps; that is what amortises the fsync. */
    batch = cut_batch(st, &n);
    writer_lock(st);
    process_batch(st, batch, n);
    writer_unlock(st);
  }
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
  atomic_store(&st->closing, 1);
  wake(st);
  if (st->thread_started) {
    pthread_join(st->thread, NULL);
    st->thread_started = 0;
  }
}

/* sync none, nothing queued, nobody writing: commit the @p n Puts from
 * @p head on the calling thread. Without an fsync a small commit costs a
 * few microseconds, less than the two thread hand-offs it saves. Queue
 * order still holds: every Put accepted before these has been committed
 * (queued == 0 while we hold the writer token), and later ones wait for
 * the token. @return 1 if done, 0 if the caller must queue them. */
static int try_commit_inline(struct store *st, struct put_op *head, size_t n,
                             size_t bytes) {
  if (st->sync != STORE_SYNC_NONE || n > BATCH_MAX_PUTS ||
      bytes > BATCH_MAX_BYTES || atomic_load(&st->hold) ||
      atomic_load(&st->queued) != 0 || !writer_try(st)) {
    return 0;
  }
  if (atomic_load(&st->queued) != 0) {
    writer_unlock(st);
    return 0;
  }
  atomic_fetch_add(&st->queued, n);
  process_batch(st, head, n);
  writer_unlock(st);
  return 1;
}

/* Hands the FIFO list @p head .. @p tail (@p n Puts, @p bytes of records)
 * to the store: inline, or onto the inbox with one CAS and at most one
 * wake-up. The caller counts in st->producers. */
static void submit(struct store *st, struct put_op *head, struct put_op *tail,
                   size_t n, size_t bytes) {
  struct put_op *top, *op, *prev, *next;

  if (try_commit_inline(st, head, n, bytes)) {
    return;
  }
  /* The inbox is newest-first: push the list reversed, in one CAS. */
  prev = NULL;
  for (op = head; op != NULL; op = next) {
    next = op->next;
    op->next = prev;
    prev = op;
  }
  atomic_fetch_add(&st->queued, n);
  /* seq_cst: pairs with the commit thread's store to sleeping followed by
   * its load of inbox (sleep_until_work): either it sees these Puts, or we
   * see it sleeping and wake it. */
  top = atomic_load_explicit(&st->inbox, memory_order_relaxed);
  do {
    head->next = top; /* head is now the oldest, at the bottom */
  } while (!atomic_compare_exchange_weak(&st->inbox, &top, tail));
  /* Only a sleeping thread needs a wake-up, and only one producer (the one
   * that clears the flag) sends it. */
  if (atomic_load(&st->sleeping) && atomic_exchange(&st->sleeping, 0)) {
    wake(st);
  }
}

/* Puts made inside a batch scope (base/batch.h) are held per thread and
 * store and submitted together when the scope ends: a worker that reads
 * 25 pipelined Puts wakes the commit thread once, or (sync none, idle)
 * commits them in one inline transaction. */
#define DEFERRED_STORES 4
static _Thread_local struct deferred_puts {
  struct store *st;
  struct put_op *head, *tail;
  size_t n, bytes;
} deferred[DEFERRED_STORES];

static void flush_deferred(void *arg) {
  struct deferred_puts *d = arg;
  struct store *st = d->st;

  d->st = NULL;
  submit(st, d->head, d->tail, d->n, d->bytes);
  /* Held since the first deferral, so the store cannot finish closing
   * while these Puts were accepted but not queued. */
  atomic_fetch_sub(&st->producers, 1);
}

/* @return 1 if @p op was held for the end of the current batch scope. */
static int defer_put(struct store *st, struct put_op *op) {
  struct deferred_puts *d = NULL;
  size_t i;

  for (i = 0; i < DEFERRED_STORES; i++) {
    if (deferred[i].st == st) {
      d = &deferred[i];
      break;
    }
    if (deferred[i].st == NULL && d == NULL) {
      d = &deferred[i];
    }
  }
  if (d == NULL || !soupc__batch_defer(flush_deferred, d)) {
    return 0;
  }
  op->next = NULL;
  if (d->st == st) {
    d->tail->next = op;
    d->tail = op;
    d->n++;
    d->bytes += op->rec_len;
    return 1;
  }
  d->st = st;
  d->head = d->tail = op;
  d->n = 1;
  d->bytes = op->rec_len;
  atomic_fetch_add(&st->producers, 1);
  return 1;
}

/* put_async; @p may_defer is 0 for a caller that waits for done() on this
 * thread (it would wait for its own scope's end). With @p owned the value
 * is @p owned itself (taken, freed after the commit); else it is copied. */
static int put_async(struct store *st, const uint8_t *key, size_t key_len,
                     const uint8_t *val, size_t val_len, uint8_t *owned,
                     store_put_done_fn done, void *user_data, int may_defer) {
  struct put_op *op;
  size_t rec_len, copied = owned != NULL ? 0 : val_len;
  int rv;

  if (key_len == 0 || key_len > st->max_key_size) {
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  /* key_len <= max_key_size, so only val_len can overflow here. */
  rv = soupc__store_record_size(&rec_len, key_len, val_len);
  if (rv != 0 || copied > SIZE_MAX - sizeof(*op) - key_len) {
    return SOUPC_ERR_NOMEM;
  }
  op = soupc__malloc(sizeof(*op) + key_len + copied);
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
  op->val_owned = NULL;
  op->val = op->data + key_len;
  if (copied > 0) {
    memcpy(op->data + key_len, val, copied);
  }

  /* seq_cst: pairs with soupc__store_commit_stop's store to closing and
   * the commit thread's load of producers; either we see closing, or the
   * thread waits for our push before it exits. */
  atomic_fetch_add(&st->producers, 1);
  if (atomic_load(&st->closing)) {
    atomic_fetch_sub(&st->producers, 1);
    soupc__free(op); /* an owned value stays the caller's on error */
    return SOUPC_ERR_CLOSED;
  }
  if (owned != NULL) {
    op->val_owned = owned;
    op->val = owned;
  }
  if (!may_defer || !defer_put(st, op)) {
    submit(st, op, op, 1, rec_len);
  }
  atomic_fetch_sub(&st->producers, 1);
  return 0;
}

int soupc__store_put_async(struct store *st, const uint8_t *key, size_t key_len,
                           const uint8_t *val, size_t val_len,
                           store_put_done_fn done, void *user_data) {
  return put_async(st, key, key_len, val, val_len, NULL, done, user_data, 1);
}

int soupc__store_put_async_take(struct store *st, const uint8_t *key,
                                size_t key_len, uint8_t *val, size_t val_len,
                                store_put_done_fn done, void *user_data) {
  if (val == NULL) {
    return put_async(st, key, key_len, NULL, 0, NULL, done, user_data, 1);
  }
  return put_async(st, key, key_len, val, val_len, val, done, user_data, 1);
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
  rv = put_async(st, key, key_len, val, val_len, NULL, put_wake, &w, 0);
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
  atomic_store(&st->hold, hold);
  wake(st);
}
