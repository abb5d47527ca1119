/* Fuzzes the yamux session's framing (src/yamux/yamux.c): the bytes a
 * multiplexing host or plugin sends are untrusted. The first input byte
 * picks the side and how the rest is split into feeds; between feeds the
 * application accepts, reads, writes, half-closes and resets streams as a
 * bridge would. Post-conditions: a dead session says why, and everything
 * the session writes is well-formed yamux (version 0, a known type, a
 * data frame's payload present in full). */
#include <stdlib.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "yamux/yamux.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checks that the output is a sequence of whole, valid frames. */
static void check_output(const uint8_t *p, size_t n) {
  size_t off = 0;

  while (off < n) {
    uint32_t len;

    if (n - off < 12 || p[off] != 0 || p[off + 1] > 3) {
      abort();
    }
    len = (uint32_t)p[off + 8] << 24 | (uint32_t)p[off + 9] << 16 |
          (uint32_t)p[off + 10] << 8 | p[off + 11];
    off += 12;
    if (p[off - 11] == 0) { /* data */
      if (len > n - off) {
        abort();
      }
      off += len;
    }
  }
}

static void drive(struct yamux *y, uint8_t op) {
  static const uint8_t reply[32] = "reply bytes for the fuzzed peer";
  uint32_t id;
  const uint8_t *p;
  size_t i, n;

  while (soupc__yamux_accept(y, &id) == 0) {
    n = soupc__yamux_peek(y, id, &p);
    soupc__yamux_consume(y, id, (op & 1) ? n : n / 2);
    (void)soupc__yamux_write(y, id, reply, (op >> 1) & 31);
    if (op & 0x40) {
      (void)soupc__yamux_close(y, id);
    }
    if (op & 0x80) {
      soupc__yamux_reset(y, id);
      soupc__yamux_release(y, id);
    }
  }
  for (i = 1; i < 8; i++) { /* streams accepted earlier */
    n = soupc__yamux_peek(y, (uint32_t)i, &p);
    soupc__yamux_consume(y, (uint32_t)i, n);
  }
  if (op == 0x7f) {
    (void)soupc__yamux_open(y, &id);
    (void)soupc__yamux_ping(y, 7);
  }
  n = soupc__yamux_output(y, &p);
  check_output(p, n);
  soupc__yamux_output_consume(y, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct yamux_limits lim = {8, 4};
  struct yamux *y;
  size_t off = 1, chunk;
  int rv = 0;

  if (size < 1 || soupc__yamux_new(&y, data[0] & 1, &lim) != 0) {
    return 0;
  }
  chunk = (size_t)(data[0] >> 1) + 1;
  while (off < size && rv == 0) {
    size_t n = size - off < chunk ? size - off : chunk;

    rv = soupc__yamux_feed(y, data + off, n);
    drive(y, data[off]);
    off += n;
  }
  if (rv != 0 && rv != SOUPC_ERR_NOMEM &&
      (!soupc__yamux_dead(y) || soupc__yamux_error(y)[0] == '\0')) {
    abort();
  }
  drive(y, 0);
  soupc__yamux_free(y);
  return 0;
}
