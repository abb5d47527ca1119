/* src/base/batch.c: batch scopes and their flushes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>

#include "base/batch.h"

static int flushed_a, flushed_b;

static void flush_a(void *arg) {
  (void)arg;
  flushed_a++;
}

static void flush_b(void *arg) {
  flushed_b += *(int *)arg;
}

static void reset(void) {
  flushed_a = 0;
  flushed_b = 0;
}

static void defer_outside_a_scope_is_refused(void **state) {
  (void)state;
  reset();
  assert_int_equal(soupc__batch_defer(flush_a, NULL), 0);
  soupc__batch_end(); /* unbalanced: ignored */
  assert_int_equal(flushed_a, 0);
}

static void flush_runs_once_when_the_scope_ends(void **state) {
  int one = 1;

  (void)state;
  reset();
  soupc__batch_begin();
  assert_int_equal(soupc__batch_defer(flush_a, NULL), 1);
  assert_int_equal(soupc__batch_defer(flush_a, NULL), 1);
  assert_int_equal(soupc__batch_defer(flush_b, &one), 1);
  assert_int_equal(flushed_a, 0);
  soupc__batch_end();
  assert_int_equal(flushed_a, 1);
  assert_int_equal(flushed_b, 1);
  /* The table is empty again. */
  soupc__batch_begin();
  soupc__batch_end();
  assert_int_equal(flushed_a, 1);
}

static void nested_scopes_flush_at_the_outermost_end(void **state) {
  (void)state;
  reset();
  soupc__batch_begin();
  soupc__batch_begin();
  assert_int_equal(soupc__batch_defer(flush_a, NULL), 1);
  soupc__batch_end();
  assert_int_equal(flushed_a, 0);
  soupc__batch_end();
  assert_int_equal(flushed_a, 1);
}

static void same_function_with_other_args_are_distinct(void **state) {
  int two = 2, three = 3;

  (void)state;
  reset();
  soupc__batch_begin();
  assert_int_equal(soupc__batch_defer(flush_b, &two), 1);
  assert_int_equal(soupc__batch_defer(flush_b, &three), 1);
  soupc__batch_end();
  assert_int_equal(flushed_b, 5);
}

/* A flush that itself opens and closes a scope (the store committing
 * inline) neither reruns the flushes nor may defer. */
static int reentered;
static void flush_reenters(void *arg) {
  (void)arg;
  reentered++;
  soupc__batch_begin();
  assert_int_equal(soupc__batch_defer(flush_a, NULL), 0);
  soupc__batch_end();
}

static void a_scope_inside_a_flush_ends_nothing(void **state) {
  (void)state;
  reset();
  reentered = 0;
  soupc__batch_begin();
  assert_int_equal(soupc__batch_defer(flush_reenters, NULL), 1);
  soupc__batch_end();
  assert_int_equal(reentered, 1);
  assert_int_equal(flushed_a, 0);
}

static void *other_thread(void *arg) {
  (void)arg;
  /* Scopes are per thread: the main thread's open scope is not ours. */
  return (void *)(intptr_t)soupc__batch_defer(flush_a, NULL);
}

static void scopes_are_per_thread(void **state) {
  pthread_t th;
  void *res;

  (void)state;
  reset();
  soupc__batch_begin();
  assert_int_equal(pthread_create(&th, NULL, other_thread, NULL), 0);
  pthread_join(th, &res);
  assert_int_equal((intptr_t)res, 0);
  soupc__batch_end();
  assert_int_equal(flushed_a, 0);
}

static void a_full_table_refuses_more(void **state) {
  int args[40], i, accepted = 0;

  (void)state;
  reset();
  soupc__batch_begin();
  for (i = 0; i < 40; i++) {
    args[i] = 1;
    accepted += soupc__batch_defer(flush_b, &args[i]);
  }
  soupc__batch_end();
  /* Every accepted flush ran; the rest were refused (the caller posts at
   * once instead). */
  assert_true(accepted > 0 && accepted < 40);
  assert_int_equal(flushed_b, accepted);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(defer_outside_a_scope_is_refused),
      cmocka_unit_test(flush_runs_once_when_the_scope_ends),
      cmocka_unit_test(nested_scopes_flush_at_the_outermost_end),
      cmocka_unit_test(same_function_with_other_args_are_distinct),
      cmocka_unit_test(a_scope_inside_a_flush_ends_nothing),
      cmocka_unit_test(scopes_are_per_thread),
      cmocka_unit_test(a_full_table_refuses_more),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
