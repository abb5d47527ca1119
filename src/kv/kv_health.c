/* grpc.health.v1.Health/Check for the KV service's store backend. "" and
 * "plugin" are SERVING while the process serves (go-plugin's meaning);
 * "proto.KV" is SERVING only when the backend can serve now (LMDB: a read
 * transaction; etcd: a linearizable read through a member), and otherwise
 * fails with UNAVAILABLE and the backend's reason, so that `soup-c rpc
 * validate connection` can print it. Plugin mode serves go-plugin's own
 * health service (src/plugin/side_services.c), which asks the same
 * backend check for "proto.KV" (soupc_plugin_serve_options.health_check,
 * src/cli/server_plugin.c). */
#include "kv/kv.h"

#include "base/alloc.h"
#include "health.pb-c.h"

#include <string.h>

#define SERVING GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING

static void reply_serving(soupc_call *call) {
  Grpc__Health__V1__HealthCheckResponse resp =
      GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
  uint8_t buf[16];

  resp.status = SERVING;
  soupc_call_reply(call, buf,
                   grpc__health__v1__health_check_response__pack(&resp, buf));
}

/* Runs on the worker that owns the call; the backend check blocks it for
 * at most the backend's timeout (health checks are rare). */
static void handle_check(soupc_call *call, const uint8_t *req, size_t req_len,
                         void *user_data) {
  struct kv_service *kv = user_data;
  Grpc__Health__V1__HealthCheckRequest *msg;
  soupc_status st;
  int known_process, known_store;

  msg = grpc__health__v1__health_check_request__unpack(NULL, req_len, req);
  if (msg == NULL) {
    soupc_call_fail(call, SOUPC_GRPC_INVALID_ARGUMENT,
                    "malformed HealthCheckRequest");
    return;
  }
  known_process = msg->service == NULL || msg->service[0] == '\0' ||
                  strcmp(msg->service, "plugin") == 0;
  known_store = msg->service != NULL && strcmp(msg->service, "proto.KV") == 0;
  grpc__health__v1__health_check_request__free_unpacked(msg, NULL);
  if (!known_process && !known_store) {
    /* grpc-go's health server: Check on an unknown service is NOT_FOUND. */
    soupc_call_fail(call, SOUPC_GRPC_NOT_FOUND, "unknown service");
  } else if (known_store && soupc__kv_service_health(kv, &st) != 0) {
    soupc_call_fail(call, SOUPC_GRPC_UNAVAILABLE, "%s", st.message);
  } else {
    reply_serving(call);
  }
}

int soupc__kv_health_register(struct kv_service *kv, soupc_server *srv) {
  return soupc_server_add_unary(srv, "/grpc.health.v1.Health/Check",
                                handle_check, kv);
}
