/* counter-plugin: counter.proto's Counter service served as a
 * go-plugin plugin through plugin.h.
 *
 *   COUNTER_PLUGIN=counter ./counter-host ./counter-plugin
 *
 * Any go-plugin host with the cookie COUNTER_PLUGIN=counter can launch it.
 * Each Add also prints a line on stdout, which reaches the host through
 * GRPCStdio. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "counter.pb-c.h"
#include "soupc/plugin.h"

static atomic_llong total;

static void reply_count(soupc_call *call, long long value) {
  Counter__CountReply reply = COUNTER__COUNT_REPLY__INIT;
  uint8_t buf[16];

  reply.value = value;
  soupc_call_reply(call, buf, counter__count_reply__pack(&reply, buf));
}

static void add(soupc_call *call, const uint8_t *req, size_t len, void *ud) {
  Counter__AddRequest *msg = counter__add_request__unpack(NULL, len, req);
  long long value;

  (void)ud;
  if (msg == NULL) {
    soupc_call_fail(call, SOUPC_GRPC_INVALID_ARGUMENT, "bad AddRequest");
    return;
  }
  value = atomic_fetch_add(&total, (long long)msg->delta) + msg->delta;
  counter__add_request__free_unpacked(msg, NULL);
  printf("added, total is now %lld\n", value);
  fflush(stdout);
  reply_count(call, value);
}

static void get(soupc_call *call, const uint8_t *req, size_t len, void *ud) {
  (void)req;
  (void)len;
  (void)ud;
  reply_count(call, atomic_load(&total));
}

static int register_counter(soupc_server *srv, const soupc_plugin_info *info,
                            void *ud) {
  int rv;

  (void)info;
  (void)ud;
  rv = soupc_server_add_unary(srv, "/counter.Counter/Add", add, NULL);
  if (rv == 0) {
    rv = soupc_server_add_unary(srv, "/counter.Counter/Get", get, NULL);
  }
  return rv;
}

int main(void) {
  soupc_plugin_serve_options opts = SOUPC_PLUGIN_SERVE_OPTIONS_INIT;
  soupc_status st;
  int rv;

  opts.cookie_key = "COUNTER_PLUGIN";
  opts.cookie_value = "counter";
  opts.tls_mode = getenv("COUNTER_TLS_MODE"); /* NULL: AutoMTLS or h2c */
  opts.network = getenv("COUNTER_NETWORK");   /* NULL: unix */
  /* Behave like a Go plugin: stdout/stderr go to the host over GRPCStdio,
   * SIGINT is ignored and SIGTERM stops us. */
  opts.capture_stdio = 1;
  opts.handle_signals = 1;
  rv = soupc_plugin_serve(&opts, register_counter, NULL, &st);
  if (rv == SOUPC_ERR_COOKIE) {
    return 1; /* go-plugin's message is already on stderr */
  }
  if (rv != 0) {
    fprintf(stderr, "counter-plugin: %s\n", st.message);
    return 1;
  }
  return 0;
}
