/* Feeds untrusted bytes to a server-side HTTP/2 connection (nghttp2 + the
 * gRPC layer) driven from memory, with an echo unary method, a bidi stream
 * method and a method that replies from "later" (after the input). The
 * first byte picks how the input is split into reads. Nothing may crash,
 * leak or hang; ASan/UBSan do the checking. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "soupc/rpc.h"
#include "transport/transport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static soupc_server *server;
static soupc_call *held[8];
static size_t nheld;

static void echo(soupc_call *call, const uint8_t *req, size_t len, void *ud) {
  (void)ud;
  soupc_call_reply(call, req, len);
}

static void fail(soupc_call *call, const uint8_t *req, size_t len, void *ud) {
  (void)ud;
  soupc_call_fail(call, SOUPC_GRPC_NOT_FOUND, "no %.*s", (int)len,
                  (const char *)req);
}

/* Finished after the input is consumed, like the KV Put from the commit
 * thread (here: the same thread, after the connection may be gone). */
static void later(soupc_call *call, const uint8_t *req, size_t len, void *ud) {
  (void)req;
  (void)len;
  (void)ud;
  if (nheld < sizeof(held) / sizeof(held[0])) {
    held[nheld++] = call;
  } else {
    soupc_call_reply(call, NULL, 0);
  }
}

static void bidi_msg(soupc_call *call, const uint8_t *msg, size_t len,
                     void *ud) {
  (void)ud;
  if (len > 0 && msg[0] == 'F') {
    soupc_call_finish(call, SOUPC_GRPC_OK, "done");
    return;
  }
  soupc_call_send(call, msg, len);
}

static void bidi_half_close(soupc_call *call, void *ud) {
  (void)ud;
  soupc_call_finish(call, SOUPC_GRPC_OK, NULL);
}

static void bidi_cancel(soupc_call *call, void *ud) {
  (void)ud;
  soupc_call_finish(call, SOUPC_GRPC_CANCELLED, NULL);
}

static soupc_server *get_server(void) {
  static const soupc_stream_handlers bidi = {sizeof(soupc_stream_handlers),
                                             NULL, bidi_msg, bidi_half_close,
                                             bidi_cancel};
  soupc_server_options opts = {.struct_size = sizeof(soupc_server_options),
                               .max_message_size = 1 << 16,
                               .workers = 1};
  soupc_status st;

  if (server == NULL) {
    if (soupc_server_new(&server, &opts, &st) != 0) {
      __builtin_trap();
    }
    soupc_server_add_unary(server, "/test.Echo/Unary", echo, NULL);
    soupc_server_add_unary(server, "/test.Echo/Fail", fail, NULL);
    soupc_server_add_unary(server, "/test.Echo/Later", later, NULL);
    soupc_server_add_stream(server, "/test.Echo/Bidi", &bidi, NULL);
  }
  return server;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct soupc__mem_conn *mc = NULL;
  uint8_t out[65536];
  size_t chunk, off = 0;

  if (size < 1) {
    return 0;
  }
  chunk = data[0] == 0 ? size : (size_t)data[0] * 7;
  data++;
  size--;
  if (soupc__mem_conn_new(&mc, get_server()) != 0) {
    return 0;
  }
  while (off < size) {
    size_t n = size - off < chunk ? size - off : chunk;
    if (soupc__mem_conn_feed(mc, data + off, n) != 0) {
      break;
    }
    off += n;
    while (soupc__mem_conn_take_output(mc, out, sizeof(out)) > 0) {
    }
  }
  /* Half the held calls finish while the connection lives... */
  for (size_t i = 0; i < nheld / 2; i++) {
    soupc_call_reply(held[i], (const uint8_t *)"late", 4);
  }
  soupc__mem_conn_feed(mc, NULL, 0);
  soupc__mem_conn_close(mc);
  /* ...and the rest after it is gone. */
  for (size_t i = nheld / 2; i < nheld; i++) {
    soupc_call_reply(held[i], (const uint8_t *)"late", 4);
  }
  nheld = 0;
  soupc__mem_conn_free(mc);
  return 0;
}
