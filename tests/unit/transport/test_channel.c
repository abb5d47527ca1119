/* The client channel's unary calls: the blocking call's soupc_err and
 * status, the asynchronous call (callbacks on the I/O thread, many in
 * flight, deadlines, the end of the channel), and work queued for a stream
 * that is freed on the I/O thread before it runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_util.h"

#define N_ASYNC 200

/* What the asynchronous calls of one test saw (I/O thread). */
struct outcomes {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int done;     /* callbacks run */
  int ok;       /* err 0 with the echoed request */
  int wrong;    /* err 0 with another response */
  int last_err; /* of the last callback */
  soupc_status last_status;
  int off_thread; /* callbacks that ran on the I/O thread, not main */
  pthread_t main;
  soupc_channel *ch; /* for chained calls */
  int chain_left;    /* calls the callback still starts from inside */
};

/* One asynchronous call: its request text, which the echo returns. */
struct one_call {
  struct outcomes *o;
  char req[32];
};

static void outcomes_init(struct outcomes *o) {
  memset(o, 0, sizeof(*o));
  pthread_mutex_init(&o->mu, NULL);
  pthread_cond_init(&o->cv, NULL);
  o->main = pthread_self();
}

static void outcomes_dispose(struct outcomes *o) {
  pthread_mutex_destroy(&o->mu);
  pthread_cond_destroy(&o->cv);
}

static void on_done(int err, const soupc_status *status, const uint8_t *resp,
                    size_t resp_len, void *user_data) {
  struct one_call *c = user_data;
  struct outcomes *o = c->o;

  pthread_mutex_lock(&o->mu);
  o->done++;
  o->last_err = err;
  o->last_status = *status;
  if (!pthread_equal(pthread_self(), o->main)) {
    o->off_thread++;
  }
  if (err == 0) {
    if (resp_len == strlen(c->req) && memcmp(resp, c->req, resp_len) == 0) {
      o->ok++;
    } else {
      o->wrong++;
    }
  }
  pthread_cond_broadcast(&o->cv);
  pthread_mutex_unlock(&o->mu);
}

/* Waits for @p n callbacks. @return 0, or -1 after 10 s. */
static int outcomes_wait(struct outcomes *o, int n) {
  int64_t end = tu_now_ms() + 10000;
  int rv = 0;

  pthread_mutex_lock(&o->mu);
  while (o->done < n) {
    struct timespec ts;
    if (tu_now_ms() > end) {
      rv = -1;
      break;
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 20 * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&o->cv, &o->mu, &ts);
  }
  pthread_mutex_unlock(&o->mu);
  return rv;
}

static void
async_calls_in_flight_together_all_get_their_response(void **state) {
  soupc_server *srv = tu_server_start("127.0.0.1:0", NULL);
  soupc_channel *ch = tu_channel(soupc_server_address(srv), NULL);
  struct one_call *calls = calloc(N_ASYNC, sizeof(*calls));
  struct outcomes o;

  (void)state;
  outcomes_init(&o);
  for (int i = 0; i < N_ASYNC; i++) {
    calls[i].o = &o;
    snprintf(calls[i].req, sizeof(calls[i].req), "request %d", i);
    assert_int_equal(soupc_channel_unary_async(
                         ch, "/test.Echo/Unary", (const uint8_t *)calls[i].req,
                         strlen(calls[i].req), 10000, on_done, &calls[i], NULL),
                     0);
  }
  assert_int_equal(outcomes_wait(&o, N_ASYNC), 0);
  assert_int_equal(o.ok, N_ASYNC);
  assert_int_equal(o.wrong, 0);
  assert_int_equal(o.off_thread, N_ASYNC);
  soupc_channel_free(ch);
  assert_int_equal(o.done, N_ASYNC); /* exactly once each */
  outcomes_dispose(&o);
  free(calls);
  soupc_server_free(srv);
}

static void async_call_copies_its_request(void **state) {
  soupc_server *srv = tu_server_start("127.0.0.1:0", NULL);
  soupc_channel *ch = tu_channel(soupc_server_address(srv), NULL);
  struct one_call c = {0};
  struct outcomes o;
  char buf[32];

  (void)state;
  outcomes_init(&o);
  c.o = &o;
  snprintf(c.req, sizeof(c.req), "kept");
  snprintf(buf, sizeof(buf), "kept");
  assert_int_equal(soupc_channel_unary_async(ch, "/test.Echo/Unary",
                                             (const uint8_t *)buf, 4, 10000,
                                             on_done, &c, NULL),
                   0);
  memset(buf, 'X', sizeof(buf)); /* the caller reuses its buffer at once */
  assert_int_equal(outcomes_wait(&o, 1), 0);
  assert_int_equal(o.ok, 1);
  soupc_channel_free(ch);
  outcomes_dispose(&o);
  soupc_server_free(srv);
}

static void async_call_with_a_server_error_is_err_status(void **state) {
  soupc_server *srv = tu_server_start("127.0.0.1:0", NULL);
  soupc_channel *ch = tu_channel(soupc_server_address(srv), NULL);
  struct one_call c = {0};
  struct outcomes o;

  (void)state;
  outcomes_init(&o);
  c.o = &o;
  snprintf(c.req, sizeof(c.req), "k1");
  assert_int_equal(soupc_channel_unary_async(ch, "/test.Echo/Fail",
                                             (const uint8_t *)"k1", 2, 10000,
                                             on_done, &c, NULL),
                   0);
  assert_int_equal(outcomes_wait(&o, 1), 0);
  assert_int_equal(o.last_err, SOUPC_ERR_STATUS);
  assert_int_equal(o.last_status.code, SOUPC_GRPC_NOT_FOUND);
  assert_string_equal(o.last_status.message, "key not found: k1");
  soupc_channel_free(ch);
  outcomes_dispose(&o);
  soupc_server_free(srv);
}

static void async_call_past_its_deadline_is_err_deadline(void **state) {
  soupc_server *srv = tu_server_start("127.0.0.1:0", NULL);
  soupc_channel *ch = tu_channel(soupc_server_address(srv), NULL);
  struct one_call c = {0};
  struct outcomes o;
  int64_t t0;

  (void)state;
  outcomes_init(&o);
  c.o = &o;
  t0 = tu_now_ms();
  /* /test.Echo/Slow answers after the number of ms it is sent. */
  assert_int_equal(soupc_channel_unary_async(ch, "/test.Echo/Slow",
                                             (const uint8_t *)"600", 3, 100,
                                             on_done, &c, NULL),
                   0);
  assert_int_equal(outcomes_wait(&o, 1), 0);
  assert_true(tu_now_ms() - t0 < 1500);
  /* Ours, or the server's (it is sent grpc-timeout). */
  assert_true(o.last_err == SOUPC_ERR_DEADLINE ||
              o.last_err == SOUPC_ERR_STATUS);
  assert_int_equal(o.last_status.code, SOUPC_GRPC_DEADLINE_EXCEEDED);
  soupc_channel_free(ch);
  tu_wait_pending();
  outcomes_dispose(&o);
  soupc_server_free(srv);
}

static void async_calls_still_open_end_inside_channel_free(void **state) {
  soupc_server *srv = tu_server_start("127.0.0.1:0", NULL);
  soupc_channel *ch = tu_channel(soupc_server_address(srv), NULL);
  struct one_call c[3] = {{0}};
  struct outcomes o;

  (void)state;
  outcomes_init(&o);
  for (int i = 0; i < 3; i++) {
    c[i].o = &o;
    assert_int_equal(soupc_channel_unary_async(ch, "/test.Echo/Slow",
                                               (const uint8_t *)"600", 3, 0,
                                               on_done, &c[i], NULL),
                     0);
  }
  soupc_channel_free(ch);
  assert_int_equal(o.done, 3);
  assert_int_equal(o.last_err, SOUPC_ERR_CLOSED);
  assert_int_equal(o.last_status.code, SOUPC_GRPC_UNAVAILABLE);
  tu_wait_pending();
  outcomes_dispose(&o);
  soupc_server_free(srv);
}

static void async_call_refused_up_front_never_calls_back(void **state) {
  soupc_server *srv = tu_server_start("127.0.0.1:0", NULL);
  soupc_channel_options opts = SOUPC_CHANNEL_OPTIONS_INIT;
  soupc_channel *ch;
  struct one_call c = {0};
  struct outcomes o;
  uint8_t big[2048] = {0};
  soupc_status st;

  (void)state;
  opts.max_message_size = 1024;
  ch = tu_channel(soupc_server_address(srv), &opts);
  outcomes_init(&o);
  c.o = &o;
  assert_int_equal(soupc_channel_unary_async(ch, "/test.Echo/Unary", big,
                                             sizeof(big), 0, on_done, &c, &st),
                   SOUPC_ERR_TOO_LARGE);
  assert_int_equal(st.code, SOUPC_GRPC_RESOURCE_EXHAUSTED);
  assert_string_equal(st.message, "request message is 2048 bytes; the limit "
                                  "is 1024 bytes");
  soupc_server_shutdown(srv, 0);
  soupc_server_wait(srv);
  while (soupc_channel_is_open(ch)) {
    tu_sleep_ms(5);
  }
  assert_int_equal(soupc_channel_unary_async(ch, "/test.Echo/Unary",
                                             (const uint8_t *)"x", 1, 0,
                                             on_done, &c, &st),
                   SOUPC_ERR_CLOSED);
  soupc_channel_free(ch);
  assert_int_equal(o.done, 0);
  outcomes_dispose(&o);
  soupc_server_free(srv);
}

/* Each callback starts the next call from the I/O thread. */
static void on_done_chain(int err, const soupc_status *status,
                          const uint8_t *resp, size_t resp_len,
                          void *user_data) {
  struct one_call *c = user_data;
  struct outcomes *o = c->o;
  int again;

  pthread_mutex_lock(&o->mu);
  again = err == 0 && o->chain_left-- > 0;
  pthread_mutex_unlock(&o->mu);
  if (again && soupc_channel_unary_async(
                   o->ch, "/test.Echo/Unary", (const uint8_t *)c->req,
                   strlen(c->req), 10000, on_done_chain, c, NULL) != 0) {
    again = 0;
  }
  on_done(err, status, resp, resp_len, user_data);
}

static void async_call_started_from_a_callback_runs(void **state) {
  soupc_server *srv = tu_server_start("127.0.0.1:0", NULL);
  struct one_call c = {0};
  struct outcomes o;

  (void)state;
  outcomes_init(&o);
  o.ch = tu_channel(soupc_server_address(srv), NULL);
  o.chain_left = 9;
  c.o = &o;
  snprintf(c.req, sizeof(c.req), "chained");
  assert_int_equal(soupc_channel_unary_async(
                       o.ch, "/test.Echo/Unary", (const uint8_t *)c.req,
                       strlen(c.req), 10000, on_done_chain, &c, NULL),
                   0);
  assert_int_equal(outcomes_wait(&o, 10), 0);
  assert_int_equal(o.ok, 10);
  soupc_channel_free(o.ch);
  outcomes_dispose(&o);
  soupc_server_free(srv);
}

static void blocking_call_errors_say_where_they_came_from(void **state) {
  soupc_server *srv = tu_server_start("127.0.0.1:0", NULL);
  soupc_channel_options opts = SOUPC_CHANNEL_OPTIONS_INIT;
  soupc_channel *ch;
  uint8_t big[2048] = {0};
  soupc_status st;
  int rv;

  (void)state;
  opts.max_message_size = 1024;
  ch = tu_channel(soupc_server_address(srv), &opts);
  assert_int_equal(soupc_channel_unary(ch, "/test.Echo/Unary",
                                       (const uint8_t *)"hi", 2, NULL, NULL,
                                       5000, &st),
                   0);
  assert_int_equal(st.code, SOUPC_GRPC_OK);
  /* Local: too large, never sent. */
  assert_int_equal(soupc_channel_unary(ch, "/test.Echo/Unary", big, sizeof(big),
                                       NULL, NULL, 5000, &st),
                   SOUPC_ERR_TOO_LARGE);
  assert_int_equal(st.code, SOUPC_GRPC_RESOURCE_EXHAUSTED);
  /* The server's answer. */
  assert_int_equal(soupc_channel_unary(ch, "/test.Echo/Fail",
                                       (const uint8_t *)"k", 1, NULL, NULL,
                                       5000, &st),
                   SOUPC_ERR_STATUS);
  assert_int_equal(st.code, SOUPC_GRPC_NOT_FOUND);
  assert_int_equal(soupc_channel_unary(ch, "/no.Such/Method",
                                       (const uint8_t *)"k", 1, NULL, NULL,
                                       5000, &st),
                   SOUPC_ERR_STATUS);
  assert_int_equal(st.code, SOUPC_GRPC_UNIMPLEMENTED);
  /* A response over our limit: the server sent it, we refused it. */
  assert_int_equal(soupc_channel_unary(ch, "/test.Echo/Big",
                                       (const uint8_t *)"4096", 4, NULL, NULL,
                                       5000, &st),
                   SOUPC_ERR_TOO_LARGE);
  assert_int_equal(st.code, SOUPC_GRPC_RESOURCE_EXHAUSTED);
  /* The deadline: ours, or the server's (it is sent grpc-timeout), which
   * ever fires first. */
  rv = soupc_channel_unary(ch, "/test.Echo/Slow", (const uint8_t *)"600", 3,
                           NULL, NULL, 50, &st);
  assert_true(rv == SOUPC_ERR_DEADLINE || rv == SOUPC_ERR_STATUS);
  assert_int_equal(st.code, SOUPC_GRPC_DEADLINE_EXCEEDED);
  soupc_channel_free(ch);
  tu_wait_pending();
  soupc_server_free(srv);
}

/* A stream freed on the I/O thread while sends and a half-close posted by
 * another thread are still queued for it: the queued work holds the stream
 * until it has run (it used to run on freed memory; ASan saw it). */
struct freer {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int queued; /* main has posted its sends */
  int freed;  /* the I/O thread freed the stream */
  int closed; /* on_close ran */
  soupc_client_stream *stream;
};

static void freer_on_msg(soupc_client_stream *stream, const uint8_t *msg,
                         size_t len, void *ud) {
  struct freer *f = ud;

  (void)msg;
  (void)len;
  pthread_mutex_lock(&f->mu);
  if (f->freed) {
    pthread_mutex_unlock(&f->mu);
    return;
  }
  /* Hold the I/O thread until the sends are queued behind this callback. */
  while (!f->queued) {
    pthread_cond_wait(&f->cv, &f->mu);
  }
  f->freed = 1;
  pthread_mutex_unlock(&f->mu);
  soupc_client_stream_free(stream);
  pthread_mutex_lock(&f->mu);
  pthread_cond_broadcast(&f->cv);
  pthread_mutex_unlock(&f->mu);
}

static void freer_on_close(soupc_client_stream *stream, const soupc_status *st,
                           void *ud) {
  struct freer *f = ud;

  (void)stream;
  (void)st;
  pthread_mutex_lock(&f->mu);
  f->closed++;
  pthread_mutex_unlock(&f->mu);
}

static void
stream_freed_on_the_io_thread_outlives_its_queued_sends(void **state) {
  soupc_server *srv = tu_server_start("127.0.0.1:0", NULL);
  soupc_channel *ch = tu_channel(soupc_server_address(srv), NULL);
  struct freer f;
  soupc_client_stream *cs = NULL;

  (void)state;
  memset(&f, 0, sizeof(f));
  pthread_mutex_init(&f.mu, NULL);
  pthread_cond_init(&f.cv, NULL);
  assert_int_equal(soupc_client_stream_open(&cs, ch, "/test.Echo/Bidi",
                                            freer_on_msg, freer_on_close, &f),
                   0);
  assert_int_equal(soupc_client_stream_send(cs, (const uint8_t *)"first", 5),
                   0);
  /* The echo of "first" blocks the I/O thread in freer_on_msg; until it is
   * released, these only queue. */
  for (int i = 0; i < 16; i++) {
    assert_int_equal(soupc_client_stream_send(cs, (const uint8_t *)"more", 4),
                     0);
  }
  assert_int_equal(soupc_client_stream_close_send(cs), 0);
  pthread_mutex_lock(&f.mu);
  f.queued = 1; /* from here on the stream is the I/O thread's to free */
  pthread_cond_broadcast(&f.cv);
  while (!f.freed) {
    pthread_cond_wait(&f.cv, &f.mu);
  }
  pthread_mutex_unlock(&f.mu);
  /* A call on the same channel runs after the queued ops. */
  assert_int_equal(
      tu_call(ch, "/test.Echo/Unary", "after", NULL, 0, 5000, NULL),
      SOUPC_GRPC_OK);
  assert_int_equal(f.closed, 1);
  soupc_channel_free(ch);
  pthread_mutex_destroy(&f.mu);
  pthread_cond_destroy(&f.cv);
  soupc_server_free(srv);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(async_calls_in_flight_together_all_get_their_response),
      cmocka_unit_test(async_call_copies_its_request),
      cmocka_unit_test(async_call_with_a_server_error_is_err_status),
      cmocka_unit_test(async_call_past_its_deadline_is_err_deadline),
      cmocka_unit_test(async_calls_still_open_end_inside_channel_free),
      cmocka_unit_test(async_call_refused_up_front_never_calls_back),
      cmocka_unit_test(async_call_started_from_a_callback_runs),
      cmocka_unit_test(blocking_call_errors_say_where_they_came_from),
      cmocka_unit_test(stream_freed_on_the_io_thread_outlives_its_queued_sends),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
