/* src/base/mem_trim.c: freed memory goes back to the kernel after a burst,
 * and nothing happens while memory is in use. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/mem_trim.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZED 1
#endif
#endif

#define BLOCK ((size_t)64 * 1024) /* below glibc's mmap threshold */
#define NBLOCKS 1024              /* 64 MiB */

#ifndef SANITIZED
/* Anonymous resident bytes of this process (RssAnon, /proc). */
static size_t rss_anon(void) {
  char line[128];
  size_t kib = 0;
  FILE *f = fopen("/proc/self/status", "r");

  assert_non_null(f);
  while (fgets(line, sizeof(line), f) != NULL) {
    if (sscanf(line, "RssAnon: %zu kB", &kib) == 1) {
      break;
    }
  }
  fclose(f);
  return kib * 1024;
}
#endif

static void *blocks[NBLOCKS];

static void fill(void) {
  size_t i;

  for (i = 0; i < NBLOCKS; i++) {
    blocks[i] = malloc(BLOCK);
    assert_non_null(blocks[i]);
    memset(blocks[i], (int)i, BLOCK); /* resident */
  }
}

static void a_burst_is_given_back_once_freed(void **state) {
  size_t i;

  (void)state;
#ifdef SANITIZED
  /* The sanitizer's allocator replaces glibc's: there is nothing to trim,
   * and the call must say so rather than break. */
  fill();
  for (i = 0; i < NBLOCKS; i++) {
    free(blocks[i]);
  }
  assert_int_equal(soupc__mem_trim_if_slack((size_t)4 << 20), 0);
  skip();
#else
  size_t before, after;

  fill();
  /* Keep one block at the top of the heap, so glibc's own top trim at
   * free() cannot return the rest: only a trim can. */
  for (i = 0; i + 1 < NBLOCKS; i++) {
    free(blocks[i]);
  }
  before = rss_anon();
  assert_int_equal(soupc__mem_trim_if_slack((size_t)4 << 20), 1);
  after = rss_anon();
  print_message("    RssAnon %zu KiB -> %zu KiB\n", before / 1024,
                after / 1024);
  assert_true(before - after > (size_t)32 << 20);
  free(blocks[NBLOCKS - 1]);
#endif
}

static void memory_in_use_is_left_alone(void **state) {
  size_t i;

  (void)state;
  fill();
  /* Free a quarter of the blocks: less free than in use, which is what
   * steady load looks like; nothing to give back yet. */
  for (i = 0; i < NBLOCKS; i += 4) {
    free(blocks[i]);
    blocks[i] = NULL;
  }
  assert_int_equal(soupc__mem_trim_if_slack((size_t)4 << 20), 0);
  for (i = 0; i < NBLOCKS; i++) {
    free(blocks[i]);
  }
}

static void a_small_slack_is_left_alone(void **state) {
  void *p;

  (void)state;
  p = malloc(BLOCK);
  assert_non_null(p);
  free(p);
  assert_int_equal(soupc__mem_trim_if_slack((size_t)1 << 30), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_burst_is_given_back_once_freed),
      cmocka_unit_test(memory_in_use_is_left_alone),
      cmocka_unit_test(a_small_slack_is_left_alone),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
