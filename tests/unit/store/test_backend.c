/* src/store/backend.c and backend_lmdb.c: the backend operations on the
 * LMDB store, as the KV service uses them (callbacks, ownership, errors). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "store/backend.h"
#include "store/store.h"
#include "store_test_util.h"

struct fixture {
  char dir[256];
  struct store_backend *backend;
  struct store *store; /* owned by backend */
};

/* What one callback saw. Put callbacks run on the commit thread. */
struct outcome {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int calls;
  int rv;
  uint8_t *value; /* taken from the result */
  size_t value_len;
  soupc_status status;
};

static void outcome_init(struct outcome *o) {
  memset(o, 0, sizeof(*o));
  pthread_mutex_init(&o->mu, NULL);
  pthread_cond_init(&o->cv, NULL);
}

static void outcome_dispose(struct outcome *o) {
  soupc__free(o->value);
  pthread_cond_destroy(&o->cv);
  pthread_mutex_destroy(&o->mu);
}

static void record(struct store_result *res, void *user_data) {
  struct outcome *o = user_data;

  pthread_mutex_lock(&o->mu);
  o->calls++;
  o->rv = res->rv;
  o->value = res->value;
  o->value_len = res->value_len;
  res->value = NULL; /* taken */
  o->status = res->status;
  pthread_cond_signal(&o->cv);
  pthread_mutex_unlock(&o->mu);
}

static void wait_for(struct outcome *o) {
  pthread_mutex_lock(&o->mu);
  while (o->calls == 0) {
    pthread_cond_wait(&o->cv, &o->mu);
  }
  pthread_mutex_unlock(&o->mu);
}

static int setup(void **state) {
  struct fixture *f = calloc(1, sizeof(*f));
  struct store_options opts = {0};
  struct store *store;
  soupc_status status;

  if (f == NULL || make_temp_dir(f->dir, sizeof(f->dir)) == NULL) {
    free(f);
    return -1;
  }
  opts.max_key_size = 100;
  if (soupc__store_open(&store, f->dir, &opts, &status) != 0) {
    rm_rf(f->dir);
    free(f);
    return -1;
  }
  f->store = store;
  if (soupc__backend_lmdb_new(&f->backend, store) != 0) {
    rm_rf(f->dir);
    free(f);
    return -1;
  }
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fixture *f = *state;

  soupc__backend_close(f->backend);
  rm_rf(f->dir);
  free(f);
  return 0;
}

static void put_then_get_returns_the_value_through_callbacks(void **state) {
  struct fixture *f = *state;
  static const uint8_t key[] = {'k', 0, 'y'};
  struct outcome put, get;

  outcome_init(&put);
  outcome_init(&get);
  assert_int_equal(soupc__backend_put(f->backend, key, sizeof(key),
                                      (const uint8_t *)"v\0w", 3, record, &put),
                   0);
  wait_for(&put);
  assert_int_equal(put.calls, 1);
  assert_int_equal(put.rv, 0);
  assert_int_equal(
      soupc__backend_get(f->backend, key, sizeof(key), record, &get), 0);
  /* LMDB answers a Get before get() returns. */
  assert_int_equal(get.calls, 1);
  assert_int_equal(get.rv, 0);
  assert_int_equal(get.value_len, 3);
  assert_memory_equal(get.value, "v\0w", 3);
  outcome_dispose(&put);
  outcome_dispose(&get);
}

static void get_of_a_missing_key_is_not_found(void **state) {
  struct fixture *f = *state;
  struct outcome get;

  outcome_init(&get);
  assert_int_equal(
      soupc__backend_get(f->backend, (const uint8_t *)"nope", 4, record, &get),
      0);
  assert_int_equal(get.calls, 1);
  assert_int_equal(get.rv, SOUPC_ERR_NOT_FOUND);
  assert_null(get.value);
  outcome_dispose(&get);
}

static void zero_byte_value_is_not_a_missing_key(void **state) {
  struct fixture *f = *state;
  struct outcome put, get;

  outcome_init(&put);
  outcome_init(&get);
  assert_int_equal(soupc__backend_put(f->backend, (const uint8_t *)"e", 1, NULL,
                                      0, record, &put),
                   0);
  wait_for(&put);
  assert_int_equal(
      soupc__backend_get(f->backend, (const uint8_t *)"e", 1, record, &get), 0);
  assert_int_equal(get.rv, 0);
  assert_non_null(get.value);
  assert_int_equal(get.value_len, 0);
  outcome_dispose(&put);
  outcome_dispose(&get);
}

static void over_limit_key_is_refused_without_a_callback(void **state) {
  struct fixture *f = *state;
  uint8_t big[101];
  struct outcome o;

  memset(big, 'k', sizeof(big));
  outcome_init(&o);
  assert_int_equal(soupc__backend_get(f->backend, big, sizeof(big), record, &o),
                   SOUPC_ERR_INVALID_ARGUMENT);
  assert_int_equal(
      soupc__backend_put(f->backend, big, sizeof(big), big, 1, record, &o),
      SOUPC_ERR_INVALID_ARGUMENT);
  assert_int_equal(o.calls, 0);
  outcome_dispose(&o);
}

static void health_reports_the_lmdb_backend(void **state) {
  struct fixture *f = *state;
  soupc_status st;

  assert_string_equal(soupc__backend_name(f->backend), "lmdb");
  assert_int_equal(soupc__backend_health(f->backend, &st), 0);
  assert_non_null(strstr(st.message, "lmdb"));
}

/* Close completes every accepted Put: each callback runs exactly once. */
static void close_completes_queued_puts(void **state) {
  struct fixture *f = *state;
  struct outcome o[8];
  char key[16];
  int i;

  /* Held commits: all eight are still queued when close starts. */
  soupc__store_hold_commits(f->store, 1);
  for (i = 0; i < 8; i++) {
    outcome_init(&o[i]);
    snprintf(key, sizeof(key), "q%d", i);
    assert_int_equal(soupc__backend_put(f->backend, (const uint8_t *)key,
                                        strlen(key), (const uint8_t *)"v", 1,
                                        record, &o[i]),
                     0);
  }
  soupc__backend_close(f->backend);
  f->backend = NULL;
  for (i = 0; i < 8; i++) {
    assert_int_equal(o[i].calls, 1);
    assert_int_equal(o[i].rv, 0);
    outcome_dispose(&o[i]);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(
          put_then_get_returns_the_value_through_callbacks, setup, teardown),
      cmocka_unit_test_setup_teardown(get_of_a_missing_key_is_not_found, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(zero_byte_value_is_not_a_missing_key,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(
          over_limit_key_is_refused_without_a_callback, setup, teardown),
      cmocka_unit_test_setup_teardown(health_reports_the_lmdb_backend, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(close_completes_queued_puts, setup,
                                      teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
