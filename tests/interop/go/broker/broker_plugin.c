/* A soup-c plugin for the GRPCBroker interop tests (proto/callback.proto),
 * built on plugin.h only: AddViaHost dials back into the host's Adder
 * through the broker (asynchronously, so the worker is free for the
 * ConnInfo that may still be on its way) and StartEcho serves Echo on a
 * new broker id. Cookie BASIC_PLUGIN=hello, like the Go peers.
 * BROKER_PLUGIN_NETWORK=tcp serves on TCP, so its brokered services are on
 * TCP too, and a soup-c host then brokers over TCP as well. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callback.pb-c.h"
#include "soupc/plugin.h"

static soupc_plugin_broker *broker;

struct add_job {
  soupc_call *call;
  int64_t a, b;
};

static void echo(soupc_call *call, const uint8_t *req, size_t len, void *ud) {
  (void)ud;
  soupc_call_reply(call, req, len); /* EchoMessage in, the same out */
}

static int register_echo(soupc_server *srv, void *ud) {
  (void)ud;
  return soupc_server_add_unary(srv, "/callback.Echo/Echo", echo, NULL);
}

/* Runs on the broker's dial thread: call the host's Adder, answer. */
static void on_dialed(soupc_channel *ch, const soupc_status *st, void *ud) {
  struct add_job *job = ud;
  Callback__SumRequest sreq = CALLBACK__SUM_REQUEST__INIT;
  Callback__SumReply *srep;
  Callback__AddReply arep = CALLBACK__ADD_REPLY__INIT;
  uint8_t buf[64], *resp = NULL;
  size_t n, resp_len = 0;
  soupc_status cst;

  if (ch == NULL) {
    soupc_call_fail(job->call, SOUPC_GRPC_UNAVAILABLE, "broker dial: %s",
                    st->message);
    free(job);
    return;
  }
  sreq.a = job->a;
  sreq.b = job->b;
  n = callback__sum_request__pack(&sreq, buf);
  if (soupc_channel_unary(ch, "/callback.Adder/Sum", buf, n, &resp, &resp_len,
                          10000, &cst) != 0) {
    soupc_call_fail(job->call, cst.code, "host's Adder: %s", cst.message);
  } else {
    srep = callback__sum_reply__unpack(NULL, resp_len, resp);
    if (srep == NULL) {
      soupc_call_fail(job->call, SOUPC_GRPC_INTERNAL, "bad SumReply");
    } else {
      arep.sum = srep->sum;
      n = callback__add_reply__pack(&arep, buf);
      soupc_call_reply(job->call, buf, n);
      callback__sum_reply__free_unpacked(srep, NULL);
    }
  }
  free(resp);
  soupc_channel_free(ch);
  free(job);
}

static void add_via_host(soupc_call *call, const uint8_t *req, size_t len,
                         void *ud) {
  Callback__AddRequest *r = callback__add_request__unpack(NULL, len, req);
  struct add_job *job;

  (void)ud;
  if (r == NULL) {
    soupc_call_fail(call, SOUPC_GRPC_INVALID_ARGUMENT, "bad AddRequest");
    return;
  }
  job = calloc(1, sizeof(*job));
  if (job == NULL) {
    callback__add_request__free_unpacked(r, NULL);
    soupc_call_fail(call, SOUPC_GRPC_RESOURCE_EXHAUSTED, "out of memory");
    return;
  }
  job->call = call;
  job->a = r->a;
  job->b = r->b;
  if (soupc_plugin_broker_dial_async(broker, r->broker_id, on_dialed, job) !=
      0) {
    soupc_call_fail(call, SOUPC_GRPC_UNAVAILABLE, "broker closed");
    free(job);
  }
  callback__add_request__free_unpacked(r, NULL);
}

static void start_echo(soupc_call *call, const uint8_t *req, size_t len,
                       void *ud) {
  Callback__StartEchoReply rep = CALLBACK__START_ECHO_REPLY__INIT;
  uint8_t buf[16];
  soupc_status st;

  (void)req;
  (void)len;
  (void)ud;
  rep.broker_id = soupc_plugin_broker_next_id(broker);
  if (soupc_plugin_broker_accept_and_serve(broker, rep.broker_id, register_echo,
                                           NULL, &st) != 0) {
    soupc_call_fail(call, SOUPC_GRPC_UNAVAILABLE, "accept: %s", st.message);
    return;
  }
  soupc_call_reply(call, buf, callback__start_echo_reply__pack(&rep, buf));
}

static int register_calculator(soupc_server *srv, const soupc_plugin_info *info,
                               void *ud) {
  int rv;

  (void)ud;
  broker = info->broker;
  rv = soupc_server_add_unary(srv, "/callback.Calculator/AddViaHost",
                              add_via_host, NULL);
  if (rv == 0) {
    rv = soupc_server_add_unary(srv, "/callback.Calculator/StartEcho",
                                start_echo, NULL);
  }
  return rv;
}

int main(void) {
  soupc_plugin_serve_options opts = SOUPC_PLUGIN_SERVE_OPTIONS_INIT;
  soupc_status st;
  int rv;

  opts.cookie_key = "BASIC_PLUGIN";
  opts.cookie_value = "hello";
  opts.capture_stdio = 1;
  opts.handle_signals = 1;
  opts.log_level = getenv("BROKER_PLUGIN_LOG_LEVEL");
  /* "tcp": serve (and broker) on 127.0.0.1 instead of unix sockets. */
  opts.network = getenv("BROKER_PLUGIN_NETWORK");
  rv = soupc_plugin_serve(&opts, register_calculator, NULL, &st);
  if (rv == SOUPC_ERR_COOKIE) {
    return 1;
  }
  if (rv != 0) {
    fprintf(stderr, "broker-plugin: %s\n", st.message);
    return 1;
  }
  return 0;
}
