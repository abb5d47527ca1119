/* Fuzzes the gRPC wire codecs that see untrusted bytes: the 5-byte
 * length-prefixed message deframer (with the input split into chunks the
 * way DATA frames split it), grpc-timeout parsing and grpc-message
 * percent-decoding. Post-conditions are checked with __builtin_trap(). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "soupc/rpc.h"
#include "transport/grpc_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct totals {
  size_t messages;
  size_t bytes;
  size_t limit;
};

static int on_message(void *user_data, const uint8_t *msg, size_t len) {
  struct totals *t = user_data;
  volatile uint8_t sink = 0;

  if (len > t->limit) {
    __builtin_trap();
  }
  /* Touch every byte so ASan sees a bad pointer. */
  for (size_t i = 0; i < len; i++) {
    sink ^= msg[i];
  }
  (void)sink;
  t->messages++;
  t->bytes += len;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct deframer d;
  struct totals t = {0, 0, 0};
  soupc_status st;
  size_t chunk, off = 0, consumed = 0;
  int rv = 0;
  int64_t ms;
  char text[256], enc[800], back[256];

  if (size < 2) {
    return 0;
  }
  /* Byte 0: chunk size; byte 1: limit (small, so limits are hit). */
  chunk = (size_t)data[0] + 1;
  t.limit = (size_t)data[1] * 64;
  data += 2;
  size -= 2;
  soupc__deframer_init(&d, t.limit);
  while (off < size && rv == 0) {
    size_t n = size - off < chunk ? size - off : chunk;
    rv = soupc__deframer_feed(&d, data + off, n, on_message, &t, &st);
    off += n;
    consumed += n;
  }
  if (rv == 0 && t.bytes + t.messages * SOUPC__GRPC_PREFIX_LEN > consumed) {
    __builtin_trap(); /* delivered more than arrived */
  }
  if (rv != 0 &&
      (st.code == 0 || memchr(st.message, '\n', strlen(st.message)) != NULL)) {
    __builtin_trap();
  }
  soupc__deframer_dispose(&d);

  /* grpc-timeout: a parse must never be negative, and formatting what was
   * parsed must parse back to at least the same deadline. */
  if (soupc_grpc_timeout_parse(&ms, (const char *)data,
                               size < 16 ? size : 16) == 0) {
    char buf[16];
    int64_t again;
    if (ms < 0) {
      __builtin_trap();
    }
    soupc_grpc_timeout_format(buf, ms);
    if (soupc_grpc_timeout_parse(&again, buf, strlen(buf)) != 0 ||
        (ms > 0 && again < ms)) {
      __builtin_trap();
    }
  }

  /* grpc-message: decoding an encoding gives the text back. */
  {
    size_t n = size < sizeof(text) - 1 ? size : sizeof(text) - 1;
    size_t elen, blen;
    memcpy(text, data, n);
    text[n] = '\0';
    n = strlen(text);
    elen = soupc__percent_encode(enc, sizeof(enc), text, n);
    blen = soupc__percent_decode(back, sizeof(back), enc, elen);
    if (blen != n || memcmp(back, text, n) != 0) {
      __builtin_trap();
    }
    soupc__percent_decode(back, sizeof(back), (const char *)data,
                          size < 1024 ? size : 1024);
  }
  return 0;
}
