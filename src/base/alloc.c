#include "base/alloc.h"

#include "soupc/soupc.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static atomic_long fail_countdown; /* 0 = off; n = the n-th next call fails */
static atomic_int fail_sticky;     /* countdown reached: all the rest fail */
static atomic_int fail_all;        /* set by a sticky countdown */
static atomic_long alloc_count;
/* Set once a test uses a hook. Until then allocation pays one relaxed load
 * (a plain load on x86), not two atomic read-modify-writes: the counter
 * cost the cty decoder 7% of its time. */
static atomic_int hooks_on;

static int should_fail(void) {
  long left;

  if (!atomic_load_explicit(&hooks_on, memory_order_relaxed)) {
    return 0;
  }
  atomic_fetch_add(&alloc_count, 1);
  if (atomic_load(&fail_all)) {
    return 1;
  }
  left = atomic_load(&fail_countdown);
  if (left == 0) {
    return 0;
  }
  left = atomic_fetch_sub(&fail_countdown, 1);
  if (left == 1) {
    if (atomic_load(&fail_sticky)) {
      atomic_store(&fail_all, 1);
    }
    return 1;
  }
  return 0;
}

void *soupc__malloc(size_t size) {
  if (should_fail()) {
    return NULL;
  }
  return malloc(size == 0 ? 1 : size);
}

void *soupc__calloc(size_t nmemb, size_t size) {
  if (should_fail()) {
    return NULL;
  }
  return calloc(nmemb == 0 ? 1 : nmemb, size == 0 ? 1 : size);
}

void *soupc__realloc(void *ptr, size_t size) {
  if (should_fail()) {
    return NULL;
  }
  return realloc(ptr, size == 0 ? 1 : size);
}

void soupc__free(void *ptr) {
  free(ptr);
}

/* soupc.h: the one way callers release what the library hands out. */
void soupc_free(void *p) {
  soupc__free(p);
}

char *soupc__strndup(const char *s, size_t len) {
  char *copy = soupc__malloc(len + 1);

  if (copy == NULL) {
    return NULL;
  }
  if (len > 0) {
    memcpy(copy, s, len);
  }
  copy[len] = '\0';
  return copy;
}

char *soupc__strdup(const char *s) {
  return soupc__strndup(s, strlen(s));
}

void soupc__alloc_fail_at(long n) {
  atomic_store(&hooks_on, 1);
  atomic_store(&fail_all, 0);
  atomic_store(&fail_sticky, 0);
  atomic_store(&fail_countdown, n < 0 ? 0 : n);
}

void soupc__alloc_fail_from(long n) {
  atomic_store(&hooks_on, 1);
  atomic_store(&fail_all, 0);
  atomic_store(&fail_sticky, n > 0);
  atomic_store(&fail_countdown, n < 0 ? 0 : n);
}

long soupc__alloc_count(void) {
  return atomic_load(&alloc_count);
}

void soupc__alloc_count_reset(void) {
  atomic_store(&hooks_on, 1);
  atomic_store(&alloc_count, 0);
}
