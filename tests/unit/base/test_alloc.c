#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "base/alloc.h"
#include "soupc/soupc.h"

static void injected_failure_hits_exactly_the_nth_allocation(void **state) {
  void *a, *b, *c;

  (void)state;
  soupc__alloc_fail_at(2);
  a = soupc__malloc(8);
  b = soupc__malloc(8);
  c = soupc__malloc(8);
  assert_non_null(a);
  assert_null(b);
  assert_non_null(c);
  soupc__free(a);
  soupc__free(c);
  soupc__alloc_fail_at(0);
}

static void allocations_are_counted(void **state) {
  char *s;

  (void)state;
  soupc__alloc_count_reset();
  s = soupc__strdup("abc");
  assert_string_equal(s, "abc");
  soupc__free(s);
  s = soupc__strndup("abcdef", 2);
  assert_string_equal(s, "ab");
  soupc__free(s);
  assert_int_equal(soupc__alloc_count(), 2);
}

static void zero_size_allocations_are_usable(void **state) {
  void *p;

  (void)state;
  p = soupc__malloc(0);
  assert_non_null(p);
  p = soupc__realloc(p, 0);
  assert_non_null(p);
  soupc__free(p);
  soupc__free(NULL);
}

/* soupc.h: soupc_free() releases what the library allocated (ASan and
 * LSan would report a mismatch or a leak) and accepts NULL. */
static void soupc_free_releases_library_memory_and_null(void **state) {
  char *s = soupc__strdup("handed out");

  (void)state;
  assert_non_null(s);
  soupc_free(s);
  soupc_free(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(injected_failure_hits_exactly_the_nth_allocation),
      cmocka_unit_test(allocations_are_counted),
      cmocka_unit_test(zero_size_allocations_are_usable),
      cmocka_unit_test(soupc_free_releases_library_memory_and_null),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
