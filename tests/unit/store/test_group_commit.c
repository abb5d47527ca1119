/* src/store/group_commit.c: batching, ordering, ack-after-commit, close. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/batch.h"
#include "store/store.h"
#include "store_test_util.h"

/* Counts LMDB's syncs. liblmdb.so calls fdatasync and fsync through its
 * PLT, so these definitions in the executable interpose libc's (default
 * visibility: the build hides symbols, and hidden ones are not exported). */
static atomic_int sync_calls;

#define EXPORTED __attribute__((visibility("default")))

EXPORTED int fdatasync(int fd) {
  atomic_fetch_add(&sync_calls, 1);
  return (int)syscall(SYS_fdatasync, fd);
}

EXPORTED int fsync(int fd) {
  atomic_fetch_add(&sync_calls, 1);
  return (int)syscall(SYS_fsync, fd);
}

struct fixture {
  char dir[256];
  struct store *store;
};

static int open_fixture(void **state, const struct store_options *opts) {
  struct fixture *f = calloc(1, sizeof(*f));
  soupc_status status;

  if (f == NULL || make_temp_dir(f->dir, sizeof(f->dir)) == NULL) {
    free(f);
    return -1;
  }
  if (soupc__store_open(&f->store, f->dir, opts, &status) != 0) {
    print_error("open: %s\n", status.message);
    rm_rf(f->dir);
    free(f);
    return -1;
  }
  *state = f;
  return 0;
}

static int setup(void **state) {
  return open_fixture(state, NULL);
}

/* 1 MiB map: small enough to fill from a test. */
static int setup_small_map(void **state) {
  struct store_options opts = {0};

  opts.map_size = (size_t)1 << 20;
  return open_fixture(state, &opts);
}

static int teardown(void **state) {
  struct fixture *f = *state;

  soupc__store_close(f->store);
  rm_rf(f->dir);
  free(f);
  return 0;
}

/* One async Put's completion, as a test sees it. */
struct ack {
  struct store *store;
  atomic_int calls;
  int rv;
  int seen_by_get;   /* a Get from done() found the value */
  int syncs_at_done; /* sync_calls when done() ran */
  const char *key;
  const char *val;
};

static void on_done(int rv, void *user_data) {
  struct ack *a = user_data;
  uint8_t *got = NULL;
  size_t len = 0;

  a->rv = rv;
  a->syncs_at_done = atomic_load(&sync_calls);
  /* store.h: done() runs only after the commit, so the value must already
   * be visible to a new read txn. */
  if (a->key != NULL && rv == 0 &&
      soupc__store_get(a->store, &got, &len, (const uint8_t *)a->key,
                       strlen(a->key)) == 0) {
    a->seen_by_get = len == strlen(a->val) && memcmp(got, a->val, len) == 0;
    soupc__free(got);
  }
  atomic_fetch_add(&a->calls, 1);
}

static void get_string(struct store *st, const char *key, char *buf,
                       size_t cap) {
  uint8_t *got = NULL;
  size_t len = 0;

  assert_int_equal(
      soupc__store_get(st, &got, &len, (const uint8_t *)key, strlen(key)), 0);
  assert_true(len < cap);
  memcpy(buf, got, len);
  buf[len] = '\0';
  soupc__free(got);
}

static void done_fires_only_after_the_value_is_readable(void **state) {
  struct fixture *f = *state;
  struct ack a;

  memset(&a, 0, sizeof(a));
  a.store = f->store;
  a.key = "visible";
  a.val = "after-commit";
  assert_int_equal(soupc__store_put_async(f->store, (const uint8_t *)a.key, 7,
                                          (const uint8_t *)a.val, 12, on_done,
                                          &a),
                   0);
  soupc__store_close(f->store); /* drains: done has fired */
  f->store = NULL;
  assert_int_equal(atomic_load(&a.calls), 1);
  assert_int_equal(a.rv, 0);
  assert_true(a.seen_by_get);
}

static void last_put_to_a_key_wins_within_one_batch(void **state) {
  struct fixture *f = *state;
  struct store_stats before, after;
  struct ack acks[5];
  char val[16], got[16];
  int i;

  soupc__store_stats(f->store, &before);
  soupc__store_hold_commits(f->store, 1);
  for (i = 0; i < 5; i++) {
    memset(&acks[i], 0, sizeof(acks[i]));
    snprintf(val, sizeof(val), "v%d", i);
    assert_int_equal(soupc__store_put_async(f->store, (const uint8_t *)"same",
                                            4, (const uint8_t *)val,
                                            strlen(val), on_done, &acks[i]),
                     0);
  }
  /* Another key in the same batch, queued after all of them. */
  assert_int_equal(soupc__store_put_async(f->store, (const uint8_t *)"other", 5,
                                          (const uint8_t *)"o", 1, NULL, NULL),
                   SOUPC_OK);
  soupc__store_hold_commits(f->store, 0);
  /* A blocking Put queued behind them completes after them. */
  assert_int_equal(soupc__store_put(f->store, (const uint8_t *)"fence", 5,
                                    (const uint8_t *)"f", 1),
                   0);
  for (i = 0; i < 5; i++) {
    assert_int_equal(atomic_load(&acks[i].calls), 1);
    assert_int_equal(acks[i].rv, 0);
  }
  get_string(f->store, "same", got, sizeof(got));
  assert_string_equal(got, "v4");
  get_string(f->store, "other", got, sizeof(got));
  assert_string_equal(got, "o");
  get_string(f->store, "fence", got, sizeof(got));
  assert_string_equal(got, "f");
  soupc__store_stats(f->store, &after);
  assert_int_equal(after.puts - before.puts, 7);
  /* The six held Puts went in one txn; the fence may have joined it. */
  assert_true(after.commits - before.commits <= 2);
}

struct writer_arg {
  struct store *store;
  int id;
  int puts;
  int failures;
};

#define WRITERS 16
#define PUTS_PER_WRITER 50

static void *writer_main(void *p) {
  struct writer_arg *w = p;
  char key[32], val[32];
  int i;

  for (i = 0; i < w->puts; i++) {
    snprintf(key, sizeof(key), "w%d-k%d", w->id, i);
    snprintf(val, sizeof(val), "value-%d-%d", w->id, i);
    if (soupc__store_put(w->store, (const uint8_t *)key, strlen(key),
                         (const uint8_t *)val, strlen(val)) != 0) {
      w->failures++;
    }
  }
  return NULL;
}

static void concurrent_writers_share_commits_and_all_land(void **state) {
  struct fixture *f = *state;
  struct writer_arg args[WRITERS];
  pthread_t th[WRITERS];
  struct store_stats stats;
  char key[32], want[32], got[32];
  int i, j;

  for (i = 0; i < WRITERS; i++) {
    args[i].store = f->store;
    args[i].id = i;
    args[i].puts = PUTS_PER_WRITER;
    args[i].failures = 0;
    assert_int_equal(pthread_create(&th[i], NULL, writer_main, &args[i]), 0);
  }
  for (i = 0; i < WRITERS; i++) {
    pthread_join(th[i], NULL);
    assert_int_equal(args[i].failures, 0);
  }
  soupc__store_stats(f->store, &stats);
  assert_int_equal(stats.puts, WRITERS * PUTS_PER_WRITER);
  /* Group commit: while one txn fsyncs, other writers' Puts queue up and
   * share the next one. */
  assert_true(stats.commits < stats.puts);
  print_message("    %llu puts in %llu commits\n",
                (unsigned long long)stats.puts,
                (unsigned long long)stats.commits);
  for (i = 0; i < WRITERS; i++) {
    for (j = 0; j < PUTS_PER_WRITER; j++) {
      snprintf(key, sizeof(key), "w%d-k%d", i, j);
      snprintf(want, sizeof(want), "value-%d-%d", i, j);
      get_string(f->store, key, got, sizeof(got));
      assert_string_equal(got, want);
    }
  }
}

static void *reader_main(void *p) {
  struct fixture *f = p;
  uint8_t *got;
  size_t len;
  long i;

  for (i = 0; i < 2000; i++) {
    got = NULL;
    if (soupc__store_get(f->store, &got, &len, (const uint8_t *)"hot", 3) ==
        0) {
      if (len != 4) {
        return (void *)1;
      }
      soupc__free(got);
    }
  }
  return NULL;
}

static void gets_run_concurrently_with_puts(void **state) {
  struct fixture *f = *state;
  struct writer_arg w = {f->store, 99, 100, 0};
  pthread_t readers[8], writer;
  void *res;
  int i;

  assert_int_equal(soupc__store_put(f->store, (const uint8_t *)"hot", 3,
                                    (const uint8_t *)"1234", 4),
                   0);
  pthread_create(&writer, NULL, writer_main, &w);
  for (i = 0; i < 8; i++) {
    pthread_create(&readers[i], NULL, reader_main, f);
  }
  for (i = 0; i < 8; i++) {
    pthread_join(readers[i], &res);
    assert_null(res);
  }
  pthread_join(writer, NULL);
  assert_int_equal(w.failures, 0);
}

static void close_completes_every_queued_put(void **state) {
  struct fixture *f = *state;
  struct ack acks[100];
  soupc_status status;
  char key[16];
  int i;

  soupc__store_hold_commits(f->store, 1);
  for (i = 0; i < 100; i++) {
    memset(&acks[i], 0, sizeof(acks[i]));
    snprintf(key, sizeof(key), "q%d", i);
    assert_int_equal(soupc__store_put_async(f->store, (const uint8_t *)key,
                                            strlen(key), (const uint8_t *)key,
                                            strlen(key), on_done, &acks[i]),
                     0);
  }
  soupc__store_close(f->store); /* overrides the hold */
  f->store = NULL;
  for (i = 0; i < 100; i++) {
    assert_int_equal(atomic_load(&acks[i].calls), 1);
    assert_int_equal(acks[i].rv, 0);
  }
  assert_int_equal(soupc__store_open(&f->store, f->dir, NULL, &status), 0);
  for (i = 0; i < 100; i++) {
    char got[16];
    snprintf(key, sizeof(key), "q%d", i);
    get_string(f->store, key, got, sizeof(got));
    assert_string_equal(got, key);
  }
}

static void map_full_fails_only_the_put_that_does_not_fit(void **state) {
  struct fixture *f = *state;
  size_t huge_len = (size_t)2 << 20; /* 2 MiB in a 1 MiB map */
  uint8_t *huge = calloc(1, huge_len);
  struct ack small1, big, small2;
  char got[8];

  assert_non_null(huge);
  memset(&small1, 0, sizeof(small1));
  memset(&big, 0, sizeof(big));
  memset(&small2, 0, sizeof(small2));
  soupc__store_hold_commits(f->store, 1);
  assert_int_equal(soupc__store_put_async(f->store, (const uint8_t *)"s1", 2,
                                          (const uint8_t *)"a", 1, on_done,
                                          &small1),
                   0);
  assert_int_equal(soupc__store_put_async(f->store, (const uint8_t *)"big", 3,
                                          huge, huge_len, on_done, &big),
                   0);
  assert_int_equal(soupc__store_put_async(f->store, (const uint8_t *)"s2", 2,
                                          (const uint8_t *)"b", 1, on_done,
                                          &small2),
                   0);
  soupc__store_hold_commits(f->store, 0);
  assert_int_equal(soupc__store_put(f->store, huge, 1, huge, huge_len),
                   SOUPC_ERR_STORE_FULL);
  assert_int_equal(small1.rv, 0);
  assert_int_equal(big.rv, SOUPC_ERR_STORE_FULL);
  assert_int_equal(small2.rv, 0);
  get_string(f->store, "s1", got, sizeof(got));
  assert_string_equal(got, "a");
  get_string(f->store, "s2", got, sizeof(got));
  assert_string_equal(got, "b");
  {
    uint8_t *v;
    size_t len;
    assert_int_equal(
        soupc__store_get(f->store, &v, &len, (const uint8_t *)"big", 3),
        SOUPC_ERR_NOT_FOUND);
  }
  free(huge);
}

static void sync_full_fsyncs_before_done(void **state) {
  struct fixture *f = *state;
  struct ack a;
  int before;

  memset(&a, 0, sizeof(a));
  before = atomic_load(&sync_calls);
  assert_int_equal(soupc__store_put_async(f->store, (const uint8_t *)"d", 1,
                                          (const uint8_t *)"v", 1, on_done, &a),
                   0);
  assert_int_equal(
      soupc__store_put(f->store, (const uint8_t *)"fence", 5, NULL, 0), 0);
  assert_int_equal(atomic_load(&a.calls), 1);
  assert_true(a.syncs_at_done > before);
}

static void put_with_sync_none_is_readable_at_once(void **state) {
  struct fixture *f = *state;
  struct store_options opts = {0};
  struct store *st;
  char dir[300], got[8];
  int before;

  snprintf(dir, sizeof(dir), "%s/nosync", f->dir);
  opts.sync = STORE_SYNC_NONE;
  assert_int_equal(soupc__store_open(&st, dir, &opts, NULL), 0);
  before = atomic_load(&sync_calls);
  assert_int_equal(
      soupc__store_put(st, (const uint8_t *)"k", 1, (const uint8_t *)"v", 1),
      0);
  get_string(st, "k", got, sizeof(got));
  assert_string_equal(got, "v");
  /* MDB_NOSYNC: the commit did not fsync; close does once. */
  assert_int_equal(atomic_load(&sync_calls), before);
  soupc__store_close(st);
  assert_true(atomic_load(&sync_calls) > before);
}

/* A sync none store of its own, under the fixture's dir. */
static struct store *open_nosync(struct fixture *f, const char *name) {
  struct store_options opts = {0};
  struct store *st;
  char dir[300];

  snprintf(dir, sizeof(dir), "%s/%s", f->dir, name);
  opts.sync = STORE_SYNC_NONE;
  assert_int_equal(soupc__store_open(&st, dir, &opts, NULL), 0);
  return st;
}

struct thread_ack {
  atomic_int calls;
  pthread_t thread; /* where done() ran */
};

static void on_done_thread(int rv, void *user_data) {
  struct thread_ack *a = user_data;

  assert_int_equal(rv, 0);
  a->thread = pthread_self();
  atomic_fetch_add(&a->calls, 1);
}

static void
puts_in_a_batch_scope_reach_the_commit_thread_together(void **state) {
  struct fixture *f = *state;
  struct store_stats before, after;
  struct ack acks[10];
  char key[16];
  int i;

  soupc__store_stats(f->store, &before);
  soupc__batch_begin();
  for (i = 0; i < 10; i++) {
    memset(&acks[i], 0, sizeof(acks[i]));
    snprintf(key, sizeof(key), "b%d", i);
    assert_int_equal(soupc__store_put_async(f->store, (const uint8_t *)key,
                                            strlen(key), (const uint8_t *)"v",
                                            1, on_done, &acks[i]),
                     0);
  }
  /* Held by this thread until the scope ends: the commit thread cannot
   * have seen them, however long it had. */
  usleep(20000);
  soupc__store_stats(f->store, &after);
  assert_int_equal(after.puts, before.puts);
  for (i = 0; i < 10; i++) {
    assert_int_equal(atomic_load(&acks[i].calls), 0);
  }
  soupc__batch_end();
  /* A blocking Put (never held) queued behind them completes after them. */
  assert_int_equal(
      soupc__store_put(f->store, (const uint8_t *)"fence", 5, NULL, 0), 0);
  soupc__store_stats(f->store, &after);
  for (i = 0; i < 10; i++) {
    assert_int_equal(atomic_load(&acks[i].calls), 1);
    assert_int_equal(acks[i].rv, 0);
  }
  assert_int_equal(after.puts - before.puts, 11);
  /* One push, so one txn for the ten (the fence may have joined it). */
  assert_true(after.commits - before.commits <= 2);
}

static void
sync_none_put_on_an_idle_store_commits_on_the_calling_thread(void **state) {
  struct fixture *f = *state;
  struct store *st = open_nosync(f, "inline");
  struct thread_ack a;
  char got[8];

  memset(&a, 0, sizeof(a));
  assert_int_equal(soupc__store_put_async(st, (const uint8_t *)"k", 1,
                                          (const uint8_t *)"v", 1,
                                          on_done_thread, &a),
                   0);
  /* No hand-off: done() has run, here, before put_async returned. */
  assert_int_equal(atomic_load(&a.calls), 1);
  assert_true(pthread_equal(a.thread, pthread_self()));
  get_string(st, "k", got, sizeof(got));
  assert_string_equal(got, "v");
  soupc__store_close(st);
}

static void
sync_none_puts_in_a_scope_commit_in_one_txn_at_its_end(void **state) {
  struct fixture *f = *state;
  struct store *st = open_nosync(f, "scope");
  struct store_stats before, after;
  struct thread_ack acks[10];
  char key[16], got[16];
  int i;

  soupc__store_stats(st, &before);
  soupc__batch_begin();
  for (i = 0; i < 10; i++) {
    memset(&acks[i], 0, sizeof(acks[i]));
    snprintf(key, sizeof(key), "s%d", i);
    assert_int_equal(soupc__store_put_async(st, (const uint8_t *)key,
                                            strlen(key), (const uint8_t *)key,
                                            strlen(key), on_done_thread,
                                            &acks[i]),
                     0);
    assert_int_equal(atomic_load(&acks[i].calls), 0);
  }
  soupc__batch_end();
  soupc__store_stats(st, &after);
  assert_int_equal(after.puts - before.puts, 10);
  assert_int_equal(after.commits - before.commits, 1);
  for (i = 0; i < 10; i++) {
    assert_int_equal(atomic_load(&acks[i].calls), 1);
    assert_true(pthread_equal(acks[i].thread, pthread_self()));
    snprintf(key, sizeof(key), "s%d", i);
    get_string(st, key, got, sizeof(got));
    assert_string_equal(got, key);
  }
  soupc__store_close(st);
}

static void sync_none_keeps_queue_order_with_inline_commits(void **state) {
  struct fixture *f = *state;
  struct store *st = open_nosync(f, "order");
  char got[8];

  /* Held in the queue, so the next Put must not overtake it inline. */
  soupc__store_hold_commits(st, 1);
  assert_int_equal(soupc__store_put_async(st, (const uint8_t *)"k", 1,
                                          (const uint8_t *)"1", 1, NULL, NULL),
                   0);
  soupc__store_hold_commits(st, 0);
  assert_int_equal(soupc__store_put_async(st, (const uint8_t *)"k", 1,
                                          (const uint8_t *)"2", 1, NULL, NULL),
                   0);
  assert_int_equal(soupc__store_put(st, (const uint8_t *)"fence", 5, NULL, 0),
                   0);
  get_string(st, "k", got, sizeof(got));
  assert_string_equal(got, "2");
  soupc__store_close(st);
}

/* A taken value is committed from the caller's buffer, which the store
 * frees (ASan/LSan would report a leak or a double free otherwise). */
static void put_async_take_commits_the_buffer_it_took(void **state) {
  struct fixture *f = *state;
  size_t n = (size_t)100 << 10;
  uint8_t *val = soupc__malloc(n), *got = NULL;
  struct ack a;
  size_t len = 0;

  assert_non_null(val);
  memset(val, 'T', n);
  memset(&a, 0, sizeof(a));
  assert_int_equal(soupc__store_put_async_take(f->store, (const uint8_t *)"t",
                                               1, val, n, on_done, &a),
                   0);
  val = NULL; /* the store's now */
  assert_int_equal(
      soupc__store_put(f->store, (const uint8_t *)"fence", 5, NULL, 0), 0);
  assert_int_equal(atomic_load(&a.calls), 1);
  assert_int_equal(a.rv, 0);
  assert_int_equal(
      soupc__store_get(f->store, &got, &len, (const uint8_t *)"t", 1), 0);
  assert_int_equal(len, n);
  for (size_t i = 0; i < n; i++) {
    if (got[i] != 'T') {
      fail_msg("byte %zu is %d", i, got[i]);
    }
  }
  soupc__free(got);
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
      T(done_fires_only_after_the_value_is_readable),
      T(last_put_to_a_key_wins_within_one_batch),
      T(concurrent_writers_share_commits_and_all_land),
      T(gets_run_concurrently_with_puts),
      T(close_completes_every_queued_put),
      cmocka_unit_test_setup_teardown(
          map_full_fails_only_the_put_that_does_not_fit, setup_small_map,
          teardown),
      T(sync_full_fsyncs_before_done),
      T(put_with_sync_none_is_readable_at_once),
      T(puts_in_a_batch_scope_reach_the_commit_thread_together),
      T(sync_none_put_on_an_idle_store_commits_on_the_calling_thread),
      T(sync_none_puts_in_a_scope_commit_in_one_txn_at_its_end),
      T(sync_none_keeps_queue_order_with_inline_commits),
      T(put_async_take_commits_the_buffer_it_took),
#undef T
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
