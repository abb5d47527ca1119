/* Streaming calls end to end: server-streaming, bidi, cancellation, flow
 * control with large messages, and streams across threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/alloc.h"
#include "test_util.h"

/* What a client stream saw, filled on the channel's I/O thread. */
struct seen {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  size_t messages;
  size_t bytes;
  int bad_content; /* a message did not match the expected pattern */
  int closed;
  soupc_status status;
  char last[64];
};

static void seen_init(struct seen *s) {
  memset(s, 0, sizeof(*s));
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cv, NULL);
}

static void seen_dispose(struct seen *s) {
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cv);
}

static void on_msg(soupc_client_stream *stream, const uint8_t *msg, size_t len,
                   void *ud) {
  struct seen *s = ud;

  (void)stream;
  pthread_mutex_lock(&s->mu);
  /* tu_count_msg: byte i of message k is (k + i) & 0xff. */
  for (size_t i = 0; i < len; i++) {
    if (msg[i] != (uint8_t)((s->messages + i) & 0xff)) {
      s->bad_content = 1;
      break;
    }
  }
  snprintf(s->last, sizeof(s->last), "%.*s", (int)(len < 63 ? len : 63),
           (const char *)msg);
  s->messages++;
  s->bytes += len;
  pthread_cond_broadcast(&s->cv);
  pthread_mutex_unlock(&s->mu);
}

static void on_close(soupc_client_stream *stream, const soupc_status *st,
                     void *ud) {
  struct seen *s = ud;

  (void)stream;
  pthread_mutex_lock(&s->mu);
  s->closed++;
  s->status = *st;
  pthread_cond_broadcast(&s->cv);
  pthread_mutex_unlock(&s->mu);
}

/* Waits until @p messages arrived or the stream closed. @return 0 or -1 on
 * a 10 s timeout. */
static int seen_wait(struct seen *s, size_t messages, int want_close) {
  int64_t end = tu_now_ms() + 10000;
  int rv = 0;

  pthread_mutex_lock(&s->mu);
  while (want_close ? !s->closed : s->messages < messages) {
    struct timespec ts;
    if (tu_now_ms() > end) {
      rv = -1;
      break;
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 50 * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&s->cv, &s->mu, &ts);
  }
  pthread_mutex_unlock(&s->mu);
  return rv;
}

/* close_send on a call the server may already have finished. */
static int half_close_ok(int rv) {
  return rv == 0 || rv == SOUPC_ERR_CLOSED;
}

static void server_streaming_delivers_every_message_then_ok(void **state) {
  soupc_server *srv = tu_server_start("127.0.0.1:0", NULL);
  soupc_channel *ch = tu_channel(soupc_server_address(srv), NULL);
  soupc_client_stream *cs = NULL;
  struct seen s;

  (void)state;
  seen_init(&s);
  assert_int_equal(soupc_client_stream_open(&cs, ch, "/test.Echo/Count", on_msg,
                                            on_close, &s),
                   0);
  assert_int_equal(soupc_client_stream_send(cs, (const uint8_t *)"50 100", 6),
                   0);
  /* /test.Echo/Count finishes on its request, so on a loaded machine the
   * call may have ended before the half-close (then CLOSED). */
  assert_true(half_close_ok(soupc_client_stream_close_send(cs)));
  assert_int_equal(seen_wait(&s, 0, 1), 0);
  assert_int_equal(s.status.code, SOUPC_GRPC_OK);
  assert_int_equal(s.messages, 50);
  assert_int_equal(s.bytes, 5000);
  assert_false(s.bad_content);
  assert_int_equal(s.closed, 1);
  soupc_client_stream_free(cs);
  seen_dispose(&s);
  soupc_channel_free(ch);
  soupc_server_free(srv);
}

/* The server may end a server-streaming call before the client
 * half-closes: the messages and OK still arrive, and the late half-close
 * says CLOSED instead of failing the call (the cause of an old flake). */
static void half_close_after_the_server_finished_is_closed(void **state) {
  soupc_server *srv = tu_server_start("127.0.0.1:0", NULL);
  soupc_channel *ch = tu_channel(soupc_server_address(srv), NULL);
  soupc_client_stream *cs = NULL;
  struct seen s;

  (void)state;
  seen_init(&s);
  assert_int_equal(soupc_client_stream_open(&cs, ch, "/test.Echo/Count", on_msg,
                                            on_close, &s),
                   0);
  assert_int_equal(soupc_client_stream_send(cs, (const uint8_t *)"3 10", 4), 0);
  assert_int_equal(seen_wait(&s, 0, 1), 0);
  assert_int_equal(soupc_client_stream_close_send(cs), SOUPC_ERR_CLOSED);
  assert_int_equal(s.status.code, SOUPC_GRPC_OK);
  assert_int_equal(s.messages, 3);
  soupc_client_stream_free(cs);
  seen_dispose(&s);
  soupc_channel_free(ch);
  soupc_server_free(srv);
}

static void large_streamed_messages_respect_flow_control(void **state) {
  soupc_server *srv = tu_server_start("127.0.0.1:0", NULL);
  soupc_channel *ch = tu_channel(soupc_server_address(srv), NULL);
  soupc_client_stream *cs = NULL;
  struct seen s;

  (void)state;
  seen_init(&s);
  /* 24 MiB in total: far beyond every flow-control window, so the server
   * must defer and resume its data provider. */
  assert_int_equal(soupc_client_stream_open(&cs, ch, "/test.Echo/Count", on_msg,
                                            on_close, &s),
                   0);
  assert_int_equal(
      soupc_client_stream_send(cs, (const uint8_t *)"12 2097152", 10), 0);
  assert_true(half_close_ok(soupc_client_stream_close_send(cs)));
  assert_int_equal(seen_wait(&s, 0, 1), 0);
  assert_int_equal(s.status.code, SOUPC_GRPC_OK);
  assert_int_equal(s.messages, 12);
  assert_int_equal(s.bytes, 12 * 2097152);
  assert_false(s.bad_content);
  soupc_client_stream_free(cs);
  seen_dispose(&s);
  soupc_channel_free(ch);
  soupc_server_free(srv);
}

static void bidi_stream_echoes_each_message_in_order(void **state) {
  soupc_server *srv = tu_server_start("127.0.0.1:0", NULL);
  soupc_channel *ch = tu_channel(soupc_server_address(srv), NULL);
  soupc_client_stream *cs = NULL;
  struct seen s;

  (void)state;
  seen_init(&s);
  assert_int_equal(
      soupc_client_stream_open(&cs, ch, "/test.Echo/Bidi", NULL, on_close, &s),
      0);
  soupc_client_stream_free(cs); /* freeing before any message is fine */
  assert_int_equal(seen_wait(&s, 0, 1), 0);
  assert_int_equal(s.status.code, SOUPC_GRPC_CANCELLED);
  seen_dispose(&s);

  seen_init(&s);
  assert_int_equal(soupc_client_stream_open(&cs, ch, "/test.Echo/Bidi", on_msg,
                                            on_close, &s),
                   0);
  for (int i = 0; i < 20; i++) {
    char msg[32];
    snprintf(msg, sizeof(msg), "ping %d", i);
    assert_int_equal(
        soupc_client_stream_send(cs, (const uint8_t *)msg, strlen(msg)), 0);
    /* Ping-pong: each reply arrives before the next send. */
    assert_int_equal(seen_wait(&s, (size_t)i + 1, 0), 0);
    assert_string_equal(s.last, msg);
  }
  assert_int_equal(soupc_client_stream_close_send(cs), 0);
  assert_int_equal(seen_wait(&s, 0, 1), 0);
  assert_int_equal(s.status.code, SOUPC_GRPC_OK);
  assert_string_equal(s.status.message, "bye");
  assert_int_equal(s.messages, 20);
  assert_int_equal(soupc_client_stream_send(cs, (const uint8_t *)"x", 1),
                   SOUPC_ERR_CLOSED);
  soupc_client_stream_free(cs);
  seen_dispose(&s);
  soupc_channel_free(ch);
  soupc_server_free(srv);
}

static void client_cancel_fires_on_cancel_on_the_server(void **state) {
  soupc_server *srv = tu_server_start("127.0.0.1:0", NULL);
  soupc_channel *ch = tu_channel(soupc_server_address(srv), NULL);
  soupc_client_stream *cs = NULL;
  int before = atomic_load(&tu_bidi_cancels);
  int64_t end;
  struct seen s;

  (void)state;
  seen_init(&s);
  assert_int_equal(soupc_client_stream_open(&cs, ch, "/test.Echo/Bidi", on_msg,
                                            on_close, &s),
                   0);
  assert_int_equal(soupc_client_stream_send(cs, (const uint8_t *)"a", 1), 0);
  assert_int_equal(seen_wait(&s, 1, 0), 0);
  soupc_client_stream_free(cs); /* RST_STREAM CANCEL */
  assert_int_equal(s.closed, 1);
  assert_int_equal(s.status.code, SOUPC_GRPC_CANCELLED);
  end = tu_now_ms() + 5000;
  while (atomic_load(&tu_bidi_cancels) == before && tu_now_ms() < end) {
    tu_sleep_ms(5);
  }
  assert_int_equal(atomic_load(&tu_bidi_cancels), before + 1);
  seen_dispose(&s);
  soupc_channel_free(ch);
  soupc_server_free(srv);
}

static void streams_on_unknown_methods_close_with_unimplemented(void **st_) {
  soupc_server *srv = tu_server_start("127.0.0.1:0", NULL);
  soupc_channel *ch = tu_channel(soupc_server_address(srv), NULL);
  soupc_client_stream *cs = NULL;
  struct seen s;

  (void)st_;
  seen_init(&s);
  assert_int_equal(soupc_client_stream_open(&cs, ch, "/no.Such/Stream", on_msg,
                                            on_close, &s),
                   0);
  assert_int_equal(seen_wait(&s, 0, 1), 0);
  assert_int_equal(s.status.code, SOUPC_GRPC_UNIMPLEMENTED);
  soupc_client_stream_free(cs);
  seen_dispose(&s);
  soupc_channel_free(ch);
  soupc_server_free(srv);
}

struct stream_worker {
  soupc_channel *ch;
  int ok;
};

static void *stream_thread(void *arg) {
  struct stream_worker *w = arg;

  for (int i = 0; i < 20; i++) {
    soupc_client_stream *cs = NULL;
    struct seen s;
    seen_init(&s);
    if (soupc_client_stream_open(&cs, w->ch, "/test.Echo/Count", on_msg,
                                 on_close, &s) == 0) {
      soupc_client_stream_send(cs, (const uint8_t *)"10 1000", 7);
      soupc_client_stream_close_send(cs);
      if (seen_wait(&s, 0, 1) == 0 && s.status.code == 0 && s.messages == 10 &&
          !s.bad_content) {
        w->ok++;
      }
      soupc_client_stream_free(cs);
    }
    seen_dispose(&s);
  }
  return NULL;
}

static void many_streams_from_several_threads_complete(void **state) {
  soupc_server *srv = tu_server_start("127.0.0.1:0", NULL);
  soupc_channel *ch = tu_channel(soupc_server_address(srv), NULL);
  struct stream_worker w[4];
  pthread_t t[4];

  (void)state;
  for (int i = 0; i < 4; i++) {
    w[i] = (struct stream_worker){ch, 0};
    pthread_create(&t[i], NULL, stream_thread, &w[i]);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(t[i], NULL);
    assert_int_equal(w[i].ok, 20);
  }
  soupc_channel_free(ch);
  soupc_server_free(srv);
}

static void server_shutdown_closes_open_streams(void **state) {
  soupc_server *srv = tu_server_start("127.0.0.1:0", NULL);
  soupc_channel *ch = tu_channel(soupc_server_address(srv), NULL);
  soupc_client_stream *cs = NULL;
  int before = atomic_load(&tu_bidi_cancels);
  struct seen s;

  (void)state;
  seen_init(&s);
  assert_int_equal(soupc_client_stream_open(&cs, ch, "/test.Echo/Bidi", on_msg,
                                            on_close, &s),
                   0);
  assert_int_equal(soupc_client_stream_send(cs, (const uint8_t *)"a", 1), 0);
  assert_int_equal(seen_wait(&s, 1, 0), 0);
  soupc_server_shutdown(srv, 100);
  soupc_server_wait(srv);
  assert_int_equal(seen_wait(&s, 0, 1), 0);
  assert_int_equal(s.status.code, SOUPC_GRPC_UNAVAILABLE);
  assert_int_equal(atomic_load(&tu_bidi_cancels), before + 1);
  soupc_client_stream_free(cs);
  seen_dispose(&s);
  soupc_channel_free(ch);
  soupc_server_free(srv);
}

struct free_job {
  soupc_client_stream *cs;
  atomic_int done;
};

static void *free_thread(void *arg) {
  struct free_job *j = arg;

  soupc_client_stream_free(j->cs);
  atomic_store(&j->done, 1);
  return NULL;
}

/* Issue 10: soupc_client_stream_free() used to spin on usleep() until an
 * allocation for its FREE operation succeeded. With every allocation
 * failing it must still return, at once, with on_close run. */
static void stream_free_needs_no_memory(void **state) {
  soupc_server *srv = tu_server_start("127.0.0.1:0", NULL);
  soupc_channel *ch = tu_channel(soupc_server_address(srv), NULL);
  struct free_job job = {NULL, 0};
  struct seen s;
  pthread_t t;
  int64_t end;

  (void)state;
  seen_init(&s);
  assert_int_equal(soupc_client_stream_open(&job.cs, ch, "/test.Echo/Bidi",
                                            on_msg, on_close, &s),
                   0);
  assert_int_equal(soupc_client_stream_send(job.cs, (const uint8_t *)"a", 1),
                   0);
  assert_int_equal(seen_wait(&s, 1, 0), 0);
  soupc__alloc_fail_from(1); /* out of memory, on every thread */
  pthread_create(&t, NULL, free_thread, &job);
  end = tu_now_ms() + 2000;
  while (!atomic_load(&job.done) && tu_now_ms() < end) {
    tu_sleep_ms(1);
  }
  soupc__alloc_fail_at(0);
  pthread_join(t, NULL); /* the old code only gets here now */
  assert_true(atomic_load(&job.done) && tu_now_ms() < end);
  assert_int_equal(s.closed, 1);
  assert_int_equal(s.status.code, SOUPC_GRPC_CANCELLED);
  seen_dispose(&s);
  soupc_channel_free(ch);
  soupc_server_free(srv);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(server_streaming_delivers_every_message_then_ok),
      cmocka_unit_test(half_close_after_the_server_finished_is_closed),
      cmocka_unit_test(large_streamed_messages_respect_flow_control),
      cmocka_unit_test(bidi_stream_echoes_each_message_in_order),
      cmocka_unit_test(client_cancel_fires_on_cancel_on_the_server),
      cmocka_unit_test(streams_on_unknown_methods_close_with_unimplemented),
      cmocka_unit_test(many_streams_from_several_threads_complete),
      cmocka_unit_test(server_shutdown_closes_open_streams),
      cmocka_unit_test(stream_free_needs_no_memory),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
