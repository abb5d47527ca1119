#include "transport/h2_mem.h"

#include "base/alloc.h"

static void *mem_malloc(size_t size, void *ud) {
  (void)ud;
  return soupc__malloc(size);
}

static void mem_free(void *ptr, void *ud) {
  (void)ud;
  soupc__free(ptr);
}

static void *mem_calloc(size_t n, size_t size, void *ud) {
  (void)ud;
  return soupc__calloc(n, size);
}

static void *mem_realloc(void *ptr, size_t size, void *ud) {
  (void)ud;
  return soupc__realloc(ptr, size);
}

static nghttp2_mem soupc_h2_mem = {NULL, mem_malloc, mem_free, mem_calloc,
                                   mem_realloc};

nghttp2_mem *soupc__h2_mem(void) {
  return &soupc_h2_mem;
}
