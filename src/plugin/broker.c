/* go-plugin's GRPCBroker (grpc_broker.go). */
#include "plugin/plugin_int.h"

#include "base/alloc.h"

struct broker {
  soupc_client_stream *stream;
};

static void ignore_message(soupc_client_stream *stream, const uint8_t *msg,
                           size_t len, void *user_data) {
  (void)stream;
  (void)msg;
  (void)len;
  (void)user_data;
}

static void stream_closed(soupc_client_stream *stream,
                          const soupc_status *status, void *user_data) {
  (void)stream;
  (void)status;
  (void)user_data;
}

int soupc__broker_new_host(struct broker **out, soupc_channel *ch,
                           const soupc_plugin_handshake *hs, const char *cert,
                           const char *key, const char *socket_dir,
                           soupc_status *st) {
  struct broker *b = soupc__calloc(1, sizeof(*b));

  (void)hs;
  (void)cert;
  (void)key;
  (void)socket_dir;
  (void)st;
  if (b == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  /* Held open, like go-plugin's background StartStream. */
  (void)soupc_client_stream_open(&b->stream, ch,
                                 "/plugin.GRPCBroker/StartStream",
                                 ignore_message, stream_closed, b);
  *out = b;
  return 0;
}

void soupc__broker_free(struct broker *b) {
  if (b == NULL) {
    return;
  }
  soupc_client_stream_free(b->stream);
  soupc__free(b);
}
