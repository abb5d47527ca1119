/* go-plugin's side services on the plugin's server
 * (go-plugin-protocol.md §4): grpc.health.v1.Health, plugin.GRPCController,
 * plugin.GRPCStdio and plugin.GRPCBroker.
 *
 * Streams that stay open (Health/Watch, GRPCBroker/StartStream and a
 * StreamStdio without capture) are kept on a list so the plugin can end
 * them with OK when it stops, instead of waiting for the host to cancel.
 * Whoever takes a call off the list (or off the capture) finishes it. */
#include "plugin/plugin_int.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "health.pb-c.h"
#include "plugin.pb-c.h"

static void *pb_alloc(void *ud, size_t size) {
  (void)ud;
  return soupc__malloc(size);
}

static void pb_free(void *ud, void *ptr) {
  (void)ud;
  soupc__free(ptr);
}

ProtobufCAllocator soupc__plugin_pb_allocator = {pb_alloc, pb_free, NULL};

struct held {
  struct held *next;
  soupc_call *call;
};

struct side_services {
  pthread_mutex_t mu;
  struct held *held;         /* open streams we must finish; mu */
  struct stdio_capture *cap; /* may be NULL; mu */
  int stopping;              /* finish_all ran; mu */
  int stop_fd;               /* write end of serve()'s stop pipe */
  int ignore_shutdown;
  /* The application's Check for other service names, or NULL. */
  int (*health_fn)(const char *service, soupc_status *st, void *arg);
  void *health_arg;
};

static void hold(struct side_services *ss, soupc_call *call) {
  struct held *h = soupc__malloc(sizeof(*h));
  int refuse;

  pthread_mutex_lock(&ss->mu);
  refuse = ss->stopping || h == NULL;
  if (!refuse) {
    h->call = call;
    h->next = ss->held;
    ss->held = h;
  }
  pthread_mutex_unlock(&ss->mu);
  if (refuse) {
    soupc__free(h);
    soupc_call_finish(call, SOUPC_GRPC_UNAVAILABLE, "plugin is stopping");
  }
}

/* @return non-zero if @p call was held (the caller now finishes it). */
static int release(struct side_services *ss, soupc_call *call) {
  struct held **pp, *h = NULL;

  pthread_mutex_lock(&ss->mu);
  for (pp = &ss->held; *pp != NULL; pp = &(*pp)->next) {
    if ((*pp)->call == call) {
      h = *pp;
      *pp = h->next;
      break;
    }
  }
  pthread_mutex_unlock(&ss->mu);
  soupc__free(h);
  return h != NULL;
}

/* §4: Go's health server knows "plugin" (set SERVING) and "" (SERVING by
 * default); any other name is unknown. */
static int health_status(const uint8_t *req, size_t len, int *status_out) {
  Grpc__Health__V1__HealthCheckRequest *msg;
  int known;

  msg = grpc__health__v1__health_check_request__unpack(
      &soupc__plugin_pb_allocator, len, req);
  if (msg == NULL) {
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  known = msg->service == NULL || msg->service[0] == '\0' ||
          strcmp(msg->service, "plugin") == 0;
  grpc__health__v1__health_check_request__free_unpacked(
      msg, &soupc__plugin_pb_allocator);
  *status_out =
      known
          ? GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING
          : GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN;
  return 0;
}

static size_t health_pack(uint8_t *buf, int status) {
  Grpc__Health__V1__HealthCheckResponse resp =
      GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;

  resp.status = (Grpc__Health__V1__HealthCheckResponse__ServingStatus)status;
  return grpc__health__v1__health_check_response__pack(&resp, buf);
}

/* The application's answer for @p service (health_fn). */
static void health_ask_app(struct side_services *ss, soupc_call *call,
                           const char *service) {
  uint8_t buf[16];
  soupc_status st;
  int rv;

  soupc_status_clear(&st);
  rv = ss->health_fn(service, &st, ss->health_arg);
  if (rv == 0) {
    soupc_call_reply(
        call, buf,
        health_pack(
            buf,
            GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING));
  } else if (rv == SOUPC_ERR_NOT_FOUND) {
    soupc_call_fail(call, SOUPC_GRPC_NOT_FOUND, "unknown service");
  } else {
    soupc_call_fail(call, SOUPC_GRPC_UNAVAILABLE, "%s",
                    st.message[0] != '\0' ? st.message : soupc_strerror(rv));
  }
}

static void health_check(soupc_call *call, const uint8_t *req, size_t len,
                         void *user_data) {
  struct side_services *ss = user_data;
  Grpc__Health__V1__HealthCheckRequest *msg;
  uint8_t buf[16];
  int status;

  if (health_status(req, len, &status) != 0) {
    soupc_call_fail(call, SOUPC_GRPC_INVALID_ARGUMENT,
                    "malformed HealthCheckRequest");
    return;
  }
  if (status ==
          GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN &&
      ss->health_fn != NULL) {
    msg = grpc__health__v1__health_check_request__unpack(
        &soupc__plugin_pb_allocator, len, req);
    if (msg == NULL) { /* parsed a moment ago: out of memory */
      soupc_call_fail(call, SOUPC_GRPC_RESOURCE_EXHAUSTED, "out of memory");
      return;
    }
    health_ask_app(ss, call, msg->service != NULL ? msg->service : "");
    grpc__health__v1__health_check_request__free_unpacked(
        msg, &soupc__plugin_pb_allocator);
    return;
  }
  if (status ==
      GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN) {
    /* grpc-go health server: Check on an unknown service is NOT_FOUND. */
    soupc_call_fail(call, SOUPC_GRPC_NOT_FOUND, "unknown service");
    return;
  }
  soupc_call_reply(call, buf, health_pack(buf, status));
}

static void held_start(soupc_call *call, void *user_data) {
  hold(user_data, call);
}

static void held_cancel(soupc_call *call, void *user_data) {
  if (release(user_data, call)) {
    soupc_call_finish(call, SOUPC_GRPC_CANCELLED, "cancelled");
  }
}

/* Watch: one status now (SERVICE_UNKNOWN rather than an error, as grpc-go
 * does), then the stream stays open; the status never changes. */
static void health_watch_message(soupc_call *call, const uint8_t *msg,
                                 size_t len, void *user_data) {
  uint8_t buf[16];
  int status;

  (void)user_data;
  if (health_status(msg, len, &status) != 0) {
    status =
        GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN;
  }
  soupc_call_send(call, buf, health_pack(buf, status));
}

static void controller_shutdown(soupc_call *call, const uint8_t *req,
                                size_t len, void *user_data) {
  struct side_services *ss = user_data;
  char byte = 's';

  (void)req;
  (void)len;
  /* §4.4: reply first, then stop; the host gives us 2 s to exit. */
  soupc_call_reply(call, NULL, 0);
  if (ss->ignore_shutdown) {
    soupc_log(SOUPC_LOG_INFO, "plugin",
              "shutdown requested; ignored (ignore_shutdown is set)");
    return;
  }
  soupc_log(SOUPC_LOG_DEBUG, "plugin", "shutdown requested by the host");
  while (write(ss->stop_fd, &byte, 1) < 0 && errno == EINTR) {
  }
}

static void stdio_start(soupc_call *call, void *user_data) {
  struct side_services *ss = user_data;
  int attached = 0;

  pthread_mutex_lock(&ss->mu);
  if (ss->cap != NULL) {
    soupc__stdio_capture_attach(ss->cap, call);
    attached = 1;
  }
  pthread_mutex_unlock(&ss->mu);
  if (!attached) {
    /* No capture: hold the stream open and end it with OK at stop, never
     * with an error (§4.3: some hosts loop forever on errors). */
    hold(ss, call);
  }
}

static void stdio_cancel(soupc_call *call, void *user_data) {
  struct side_services *ss = user_data;
  int mine = 0;

  pthread_mutex_lock(&ss->mu);
  if (ss->cap != NULL) {
    mine = soupc__stdio_capture_detach(ss->cap, call);
  }
  pthread_mutex_unlock(&ss->mu);
  if (!mine) {
    mine = release(ss, call);
  }
  if (mine) {
    soupc_call_finish(call, SOUPC_GRPC_CANCELLED, "cancelled");
  }
}

static void ignore_message(soupc_call *call, const uint8_t *msg, size_t len,
                           void *user_data) {
  (void)call;
  (void)msg;
  (void)len;
  (void)user_data;
}

int soupc__side_services_new(struct side_services **out, soupc_server *srv,
                             int stop_fd, int ignore_shutdown,
                             struct broker *broker) {
  soupc_stream_handlers watch = {sizeof(soupc_stream_handlers), held_start,
                                 health_watch_message, NULL, held_cancel};
  soupc_stream_handlers stdio = {sizeof(soupc_stream_handlers), stdio_start,
                                 ignore_message, NULL, stdio_cancel};
  struct side_services *ss;
  int rv;

  ss = soupc__calloc(1, sizeof(*ss));
  if (ss == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  pthread_mutex_init(&ss->mu, NULL);
  ss->stop_fd = stop_fd;
  ss->ignore_shutdown = ignore_shutdown;

  rv = soupc_server_add_unary(srv, "/grpc.health.v1.Health/Check", health_check,
                              ss);
  if (rv == 0) {
    rv = soupc_server_add_stream(srv, "/grpc.health.v1.Health/Watch", &watch,
                                 ss);
  }
  if (rv == 0) {
    rv = soupc_server_add_unary(srv, "/plugin.GRPCController/Shutdown",
                                controller_shutdown, ss);
  }
  if (rv == 0) {
    rv = soupc_server_add_stream(srv, "/plugin.GRPCStdio/StreamStdio", &stdio,
                                 ss);
  }
  if (rv == 0) {
    rv = soupc__broker_register(broker, srv);
  }
  if (rv != 0) {
    soupc__side_services_free(ss);
    return rv;
  }
  *out = ss;
  return 0;
}

void soupc__side_services_set_health(struct side_services *ss,
                                     int (*fn)(const char *service,
                                               soupc_status *st, void *arg),
                                     void *arg) {
  ss->health_fn = fn;
  ss->health_arg = arg;
}

void soupc__side_services_set_stdio(struct side_services *ss,
                                    struct stdio_capture *cap) {
  pthread_mutex_lock(&ss->mu);
  ss->cap = cap;
  pthread_mutex_unlock(&ss->mu);
}

void soupc__side_services_finish_all(struct side_services *ss) {
  struct held *list;

  pthread_mutex_lock(&ss->mu);
  list = ss->held;
  ss->held = NULL;
  ss->stopping = 1;
  pthread_mutex_unlock(&ss->mu);
  while (list != NULL) {
    struct held *next = list->next;

    soupc_call_finish(list->call, SOUPC_GRPC_OK, NULL);
    soupc__free(list);
    list = next;
  }
}

void soupc__side_services_free(struct side_services *ss) {
  if (ss == NULL) {
    return;
  }
  while (ss->held != NULL) {
    struct held *next = ss->held->next;

    soupc__free(ss->held);
    ss->held = next;
  }
  pthread_mutex_destroy(&ss->mu);
  soupc__free(ss);
}
