/* src/store/etcd_client.c against fake members (soup-c's own gRPC server
 * with handlers that answer, fail or never answer): endpoint parsing,
 * failover in turn, safe retries, deadlines, and the maybe_applied rule.
 * The real cluster is in tests/etcd/. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include "soupc/rpc.h"
#include "store/etcd_client.h"

/* A fake member: answers OK with "pong", fails UNAVAILABLE, or holds. */
enum behaviour {
  ANSWER,
  FAIL_UNAVAILABLE,
  FAIL_LATE, /* etcd 3.4's answer past the grpc-timeout it was sent */
  HOLD
};

struct fake {
  soupc_server *srv;
  enum behaviour how;
  pthread_mutex_t mu;
  soupc_call *held[64];
  int nheld;
  int calls;
  char url[64];
};

static void handle(soupc_call *call, const uint8_t *req, size_t len,
                   void *user_data) {
  struct fake *f = user_data;

  (void)req;
  (void)len;
  pthread_mutex_lock(&f->mu);
  f->calls++;
  if (f->how == HOLD && f->nheld < 64) {
    f->held[f->nheld++] = call;
    pthread_mutex_unlock(&f->mu);
    return;
  }
  pthread_mutex_unlock(&f->mu);
  if (f->how == FAIL_UNAVAILABLE) {
    soupc_call_fail(call, SOUPC_GRPC_UNAVAILABLE, "etcdserver: leader changed");
  } else if (f->how == FAIL_LATE) {
    soupc_call_fail(call, SOUPC_GRPC_UNKNOWN, "context deadline exceeded");
  } else {
    soupc_call_reply(call, (const uint8_t *)"pong", 4);
  }
}

static void fake_start(struct fake *f, enum behaviour how) {
  soupc_server_options o = SOUPC_SERVER_OPTIONS_INIT;
  soupc_status st;

  memset(f, 0, sizeof(*f));
  pthread_mutex_init(&f->mu, NULL);
  f->how = how;
  o.workers = 1;
  assert_int_equal(soupc_server_new(&f->srv, &o, &st), 0);
  assert_int_equal(
      soupc_server_add_unary(f->srv, "/etcdserverpb.KV/Put", handle, f), 0);
  assert_int_equal(
      soupc_server_add_unary(f->srv, "/etcdserverpb.KV/Range", handle, f), 0);
  assert_int_equal(soupc_server_listen(f->srv, "127.0.0.1:0", &st), 0);
  assert_int_equal(soupc_server_start(f->srv), 0);
  snprintf(f->url, sizeof(f->url), "http://%s", soupc_server_address(f->srv));
}

static void fake_stop(struct fake *f) {
  int i;

  soupc_server_shutdown(f->srv, 0);
  soupc_server_wait(f->srv);
  for (i = 0; i < f->nheld; i++) {
    soupc_call_fail(f->held[i], SOUPC_GRPC_CANCELLED, "test over");
  }
  soupc_server_free(f->srv);
  pthread_mutex_destroy(&f->mu);
}

static void closed_url(char *buf, size_t cap) {
  struct sockaddr_in a;
  socklen_t alen = sizeof(a);
  int fd = socket(AF_INET, SOCK_STREAM, 0);

  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
  assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
  close(fd); /* nothing listens there now */
  snprintf(buf, cap, "http://127.0.0.1:%d", ntohs(a.sin_port));
}

/* One call's outcome. */
struct outcome {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int done;
  soupc_status status;
  int maybe_applied;
  char msg[16];
  char endpoint[128];
};

static void on_reply(const struct etcd_reply *r, void *user_data) {
  struct outcome *o = user_data;

  pthread_mutex_lock(&o->mu);
  o->status = r->status;
  o->maybe_applied = r->maybe_applied;
  snprintf(o->endpoint, sizeof(o->endpoint), "%s", r->endpoint);
  if (r->status.code == SOUPC_GRPC_OK) {
    snprintf(o->msg, sizeof(o->msg), "%.*s", (int)r->len, (const char *)r->msg);
  }
  o->done++;
  pthread_cond_signal(&o->cv);
  pthread_mutex_unlock(&o->mu);
}

/* Makes a call and waits for its one callback. */
static void call_and_wait(struct etcd_client *cl, const char *path,
                          int idempotent, struct outcome *o) {
  memset(o, 0, sizeof(*o));
  pthread_mutex_init(&o->mu, NULL);
  pthread_cond_init(&o->cv, NULL);
  assert_int_equal(soupc__etcd_client_call(cl, path, (const uint8_t *)"req", 3,
                                           idempotent, on_reply, o),
                   0);
  pthread_mutex_lock(&o->mu);
  while (!o->done) {
    pthread_cond_wait(&o->cv, &o->mu);
  }
  pthread_mutex_unlock(&o->mu);
  assert_int_equal(o->done, 1);
  pthread_cond_destroy(&o->cv);
  pthread_mutex_destroy(&o->mu);
}

static struct etcd_client *client_on(const char *endpoints, int timeout_ms) {
  struct etcd_client_options opts = {0};
  struct etcd_client *cl = NULL;
  soupc_status st;

  opts.endpoints = endpoints;
  opts.timeout_ms = timeout_ms;
  assert_int_equal(soupc__etcd_client_new(&cl, &opts, &st), 0);
  return cl;
}

static void bad_endpoint_lists_are_invalid_argument(void **state) {
  static const char *const bad[] = {
      "",         "ftp://h:1", "http://h", "http://h:x", "http://h:1/v3",
      "h:1,,h:2", ":1",
  };
  struct etcd_client_options opts = {0};
  struct etcd_client *cl;
  soupc_status st;
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    opts.endpoints = bad[i];
    soupc_status_clear(&st);
    assert_int_equal(soupc__etcd_client_new(&cl, &opts, &st),
                     SOUPC_ERR_INVALID_ARGUMENT);
    assert_true(st.message[0] != '\0');
  }
  opts.endpoints = "http://127.0.0.1:1";
  opts.ca_pem = "-----BEGIN CERTIFICATE-----\n";
  assert_int_equal(soupc__etcd_client_new(&cl, &opts, &st),
                   SOUPC_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(st.message, "https://"));
}

static void unreachable_cluster_fails_at_once_not_applied(void **state) {
  char url[64];
  struct etcd_client *cl;
  struct outcome o;

  (void)state;
  closed_url(url, sizeof(url));
  cl = client_on(url, 2000);
  call_and_wait(cl, "/etcdserverpb.KV/Put", 0, &o);
  assert_int_equal(o.status.code, SOUPC_GRPC_UNAVAILABLE);
  assert_non_null(strstr(o.status.message, "no etcd member reachable"));
  assert_non_null(strstr(o.status.message, url));
  assert_int_equal(o.maybe_applied, 0);
  soupc__etcd_client_free(cl);
}

static void endpoints_are_tried_in_turn(void **state) {
  char url[64], list[160];
  struct etcd_client *cl;
  struct fake f;
  struct outcome o;

  (void)state;
  closed_url(url, sizeof(url));
  fake_start(&f, ANSWER);
  snprintf(list, sizeof(list), "%s,%s", url, f.url);
  cl = client_on(list, 2000);
  call_and_wait(cl, "/etcdserverpb.KV/Put", 0, &o);
  assert_int_equal(o.status.code, SOUPC_GRPC_OK);
  assert_string_equal(o.msg, "pong");
  assert_string_equal(o.endpoint, f.url);
  soupc__etcd_client_free(cl);
  fake_stop(&f);
}

/* A member that answers UNAVAILABLE: a Range moves on to the next member
 * and succeeds; a Put is not retried (etcd may have applied it). */
static void only_idempotent_calls_are_retried_elsewhere(void **state) {
  struct fake bad, good;
  struct etcd_client *cl;
  struct outcome o;
  char list[160];

  (void)state;
  fake_start(&bad, FAIL_UNAVAILABLE);
  fake_start(&good, ANSWER);
  snprintf(list, sizeof(list), "%s,%s", bad.url, good.url);
  cl = client_on(list, 3000);
  call_and_wait(cl, "/etcdserverpb.KV/Range", 1, &o);
  assert_int_equal(o.status.code, SOUPC_GRPC_OK);
  assert_string_equal(o.endpoint, good.url);
  soupc__etcd_client_free(cl);

  cl = client_on(list, 3000); /* starts on bad again */
  call_and_wait(cl, "/etcdserverpb.KV/Put", 0, &o);
  assert_int_equal(o.status.code, SOUPC_GRPC_UNAVAILABLE);
  assert_non_null(strstr(o.status.message, "leader changed"));
  assert_int_equal(o.maybe_applied, 1);
  assert_int_equal(good.calls, 1); /* only the Range reached it */
  /* The failure moved new calls to the next member. */
  call_and_wait(cl, "/etcdserverpb.KV/Put", 0, &o);
  assert_int_equal(o.status.code, SOUPC_GRPC_OK);
  soupc__etcd_client_free(cl);
  fake_stop(&bad);
  fake_stop(&good);
}

static void a_call_without_an_answer_ends_at_its_deadline(void **state) {
  struct etcd_client *cl;
  struct fake f;
  struct outcome o;

  (void)state;
  fake_start(&f, HOLD);
  cl = client_on(f.url, 300);
  call_and_wait(cl, "/etcdserverpb.KV/Put", 0, &o);
  assert_int_equal(o.status.code, SOUPC_GRPC_UNAVAILABLE);
  assert_non_null(strstr(o.status.message, "no answer within 300 ms"));
  assert_int_equal(o.maybe_applied, 1);
  soupc__etcd_client_free(cl);
  fake_stop(&f);
}

/* etcd ends a call past the deadline it was sent with UNKNOWN "context
 * deadline exceeded": no answer in time. Not retried (a Range neither: the
 * deadline is the call's own), a Put may have been applied, and the member
 * is retired. */
static void etcds_own_deadline_answer_counts_as_no_answer(void **state) {
  struct fake late, good;
  struct etcd_client *cl;
  struct outcome o;
  char list[160];

  (void)state;
  fake_start(&late, FAIL_LATE);
  fake_start(&good, ANSWER);
  snprintf(list, sizeof(list), "%s,%s", late.url, good.url);
  cl = client_on(list, 3000);
  call_and_wait(cl, "/etcdserverpb.KV/Put", 0, &o);
  assert_int_equal(o.status.code, SOUPC_GRPC_UNAVAILABLE);
  assert_non_null(strstr(o.status.message, "no answer within 3000 ms"));
  assert_int_equal(o.maybe_applied, 1);
  assert_int_equal(good.calls, 0);
  call_and_wait(cl, "/etcdserverpb.KV/Range", 1, &o);
  assert_int_equal(o.status.code, SOUPC_GRPC_OK);
  assert_string_equal(o.endpoint, good.url);
  soupc__etcd_client_free(cl);
  fake_stop(&late);
  fake_stop(&good);
}

/* Closing with calls in flight runs each callback once (CANCELLED). */
static void free_completes_calls_in_flight(void **state) {
  struct etcd_client *cl;
  struct fake f;
  struct outcome o[4];
  int i;

  (void)state;
  fake_start(&f, HOLD);
  cl = client_on(f.url, 60000);
  for (i = 0; i < 4; i++) {
    memset(&o[i], 0, sizeof(o[i]));
    pthread_mutex_init(&o[i].mu, NULL);
    pthread_cond_init(&o[i].cv, NULL);
    assert_int_equal(soupc__etcd_client_call(cl, "/etcdserverpb.KV/Put",
                                             (const uint8_t *)"r", 1, 0,
                                             on_reply, &o[i]),
                     0);
  }
  while (1) {
    pthread_mutex_lock(&f.mu);
    i = f.nheld;
    pthread_mutex_unlock(&f.mu);
    if (i == 4) {
      break;
    }
    usleep(1000);
  }
  soupc__etcd_client_free(cl);
  for (i = 0; i < 4; i++) {
    assert_int_equal(o[i].done, 1);
    assert_int_not_equal(o[i].status.code, SOUPC_GRPC_OK);
    pthread_cond_destroy(&o[i].cv);
    pthread_mutex_destroy(&o[i].mu);
  }
  fake_stop(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(bad_endpoint_lists_are_invalid_argument),
      cmocka_unit_test(unreachable_cluster_fails_at_once_not_applied),
      cmocka_unit_test(endpoints_are_tried_in_turn),
      cmocka_unit_test(only_idempotent_calls_are_retried_elsewhere),
      cmocka_unit_test(a_call_without_an_answer_ends_at_its_deadline),
      cmocka_unit_test(etcds_own_deadline_answer_counts_as_no_answer),
      cmocka_unit_test(free_completes_calls_in_flight),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
