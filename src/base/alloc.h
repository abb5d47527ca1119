/* Allocation for every soup-c layer. All memory goes through these, so tests
 * can fail allocations one at a time (STYLE.md: allocation-failure sweep). */
#ifndef SOUPC_BASE_ALLOC_H
#define SOUPC_BASE_ALLOC_H

#include <stddef.h>

void *soupc__malloc(size_t size);
void *soupc__calloc(size_t nmemb, size_t size);
void *soupc__realloc(void *ptr, size_t size);
void soupc__free(void *ptr);
char *soupc__strdup(const char *s);
/* Copies @p len bytes and appends a NUL. */
char *soupc__strndup(const char *s, size_t len);

/* Test hook: the @p n-th allocation from now fails (1 = the next one); 0
 * turns failure injection off. Not thread-safe; for single-threaded tests. */
void soupc__alloc_fail_at(long n);
/* Test hook: the @p n-th allocation from now and every one after it fail,
 * on every thread, until soupc__alloc_fail_at(0) (memory has run out). */
void soupc__alloc_fail_from(long n);
/* Test hook: how many allocations have been made since the last reset. */
long soupc__alloc_count(void);
void soupc__alloc_count_reset(void);

#endif
