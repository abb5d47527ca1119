/* Batch scopes (batch.h): a per-thread depth and a small table of flushes. */
#include "base/batch.h"

#include <stddef.h>

/* Distinct flushes one scope can hold. A flush usually stands for one
 * receiving thread (a server worker), and servers have a few. */
#define BATCH_MAX_FLUSHES 32

struct batch_flush {
  soupc_batch_flush_fn fn;
  void *arg;
};

static _Thread_local int depth;
static _Thread_local size_t nflushes;
static _Thread_local struct batch_flush flushes[BATCH_MAX_FLUSHES];
static _Thread_local int flushing;

void soupc__batch_begin(void) {
  depth++;
}

void soupc__batch_end(void) {
  size_t i;

  /* A scope opened and closed by a flush itself ends nothing. */
  if (depth <= 0 || --depth > 0 || flushing) {
    return;
  }
  flushing = 1;
  for (i = 0; i < nflushes; i++) {
    flushes[i].fn(flushes[i].arg);
  }
  nflushes = 0;
  flushing = 0;
}

int soupc__batch_defer(soupc_batch_flush_fn flush, void *arg) {
  size_t i;

  if (depth == 0 || flushing) {
    return 0;
  }
  for (i = 0; i < nflushes; i++) {
    if (flushes[i].fn == flush && flushes[i].arg == arg) {
      return 1;
    }
  }
  if (nflushes == BATCH_MAX_FLUSHES) {
    return 0;
  }
  flushes[nflushes].fn = flush;
  flushes[nflushes].arg = arg;
  nflushes++;
  return 1;
}
