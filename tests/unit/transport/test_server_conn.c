/* server_conn driven from memory by an nghttp2 client session: request
 * validation the way grpc-go answers it, message-count rules, and the exact
 * response shape (headers, data, trailers). PINGs and the other limits:
 * test_server_guard.c. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <nghttp2/nghttp2.h>

#include "base/alloc.h"
#include "soupc/rpc.h"
#include "h2c_util.h"
#include "transport/transport.h"

static soupc_server *srv;

static void echo(soupc_call *call, const uint8_t *req, size_t len, void *ud) {
  (void)ud;
  soupc_call_reply(call, req, len);
}

/* /t.S/Hold: keeps the call for the test to finish later. */
static soupc_call *held;

static void hold(soupc_call *call, const uint8_t *req, size_t len, void *ud) {
  (void)req;
  (void)len;
  (void)ud;
  held = call;
}

static int setup(void **state) {
  soupc_status st;
  soupc_server_options o = {.struct_size = sizeof(soupc_server_options),
                            .max_message_size = 4096};

  (void)state;
  if (soupc_server_new(&srv, &o, &st) != 0) {
    return -1;
  }
  if (soupc_server_add_unary(srv, "/t.S/Hold", hold, NULL) != 0) {
    return -1;
  }
  return soupc_server_add_unary(srv, "/t.S/Echo", echo, NULL);
}

static int teardown(void **state) {
  (void)state;
  soupc_server_free(srv);
  return 0;
}

static void h2c_init(struct h2c *c) {
  h2c_init_for(c, srv);
}

static void unary_call_answers_headers_data_and_trailers(void **state) {
  struct h2c c;
  uint8_t body[64];
  size_t n = grpc_frame(body, 0, "ping");

  (void)state;
  h2c_init(&c);
  request(&c, "POST", "/t.S/Echo", "application/grpc+proto", "te", "trailers",
          body, n);
  assert_true(c.closed);
  assert_int_equal(c.rst_code, NGHTTP2_NO_ERROR);
  assert_int_equal(c.http_status, 200);
  assert_int_equal(c.header_frames, 2); /* response headers + trailers */
  assert_int_equal(c.grpc_status, 0);
  assert_int_equal(c.data_len, n);
  assert_memory_equal(c.data, body, n);
  h2c_dispose(&c);
}

static void non_grpc_content_type_gets_415_and_internal(void **state) {
  struct h2c c;
  uint8_t body[16];
  size_t n = grpc_frame(body, 0, "x");

  (void)state;
  h2c_init(&c);
  request(&c, "POST", "/t.S/Echo", "application/json", NULL, NULL, body, n);
  assert_true(c.closed);
  assert_int_equal(c.http_status, 415);
  assert_int_equal(c.grpc_status, SOUPC_GRPC_INTERNAL);
  assert_string_equal(c.grpc_message,
                      "invalid gRPC request content-type \"application/json\"");
  assert_int_equal(c.header_frames, 1); /* trailers-only */
  h2c_dispose(&c);
}

static void missing_content_type_gets_415(void **state) {
  struct h2c c;

  (void)state;
  h2c_init(&c);
  request(&c, "POST", "/t.S/Echo", NULL, NULL, NULL, NULL, 0);
  assert_int_equal(c.http_status, 415);
  assert_int_equal(c.grpc_status, SOUPC_GRPC_INTERNAL);
  h2c_dispose(&c);
}

static void non_post_method_gets_405_and_internal(void **state) {
  struct h2c c;

  (void)state;
  h2c_init(&c);
  request(&c, "GET", "/t.S/Echo", "application/grpc", NULL, NULL, NULL, 0);
  assert_true(c.closed);
  assert_int_equal(c.http_status, 405);
  assert_int_equal(c.grpc_status, SOUPC_GRPC_INTERNAL);
  h2c_dispose(&c);
}

static void grpc_encoding_other_than_identity_is_unimplemented(void **s) {
  struct h2c c;
  uint8_t body[16];
  size_t n = grpc_frame(body, 1, "x");

  (void)s;
  h2c_init(&c);
  request(&c, "POST", "/t.S/Echo", "application/grpc", "grpc-encoding", "gzip",
          body, n);
  assert_int_equal(c.http_status, 200);
  assert_int_equal(c.grpc_status, SOUPC_GRPC_UNIMPLEMENTED);
  assert_non_null(strstr(c.grpc_message, "only identity"));
  h2c_dispose(&c);
}

static void compressed_message_is_unimplemented(void **state) {
  struct h2c c;
  uint8_t body[16];
  size_t n = grpc_frame(body, 1, "x");

  (void)state;
  h2c_init(&c);
  request(&c, "POST", "/t.S/Echo", "application/grpc", NULL, NULL, body, n);
  assert_int_equal(c.grpc_status, SOUPC_GRPC_UNIMPLEMENTED);
  assert_non_null(strstr(c.grpc_message, "identity"));
  h2c_dispose(&c);
}

static void unary_with_two_messages_is_rejected(void **state) {
  struct h2c c;
  uint8_t body[32];
  size_t n = grpc_frame(body, 0, "a");

  (void)state;
  n += grpc_frame(body + n, 0, "b");
  h2c_init(&c);
  request(&c, "POST", "/t.S/Echo", "application/grpc", NULL, NULL, body, n);
  assert_int_equal(c.grpc_status, SOUPC_GRPC_UNIMPLEMENTED);
  assert_string_equal(c.grpc_message,
                      "unary method received more than one request message");
  assert_int_equal(c.data_len, 0);
  h2c_dispose(&c);
}

static void unary_with_no_message_is_rejected(void **state) {
  struct h2c c;

  (void)state;
  h2c_init(&c);
  request(&c, "POST", "/t.S/Echo", "application/grpc", NULL, NULL, NULL, 0);
  assert_int_equal(c.grpc_status, SOUPC_GRPC_UNIMPLEMENTED);
  assert_string_equal(c.grpc_message,
                      "unary method received no request message");
  h2c_dispose(&c);
}

static void truncated_message_at_end_of_stream_is_internal(void **state) {
  struct h2c c;
  uint8_t body[16];
  size_t n = grpc_frame(body, 0, "hello");

  (void)state;
  h2c_init(&c);
  request(&c, "POST", "/t.S/Echo", "application/grpc", NULL, NULL, body, n - 2);
  assert_int_equal(c.grpc_status, SOUPC_GRPC_INTERNAL);
  h2c_dispose(&c);
}

static void over_limit_message_names_the_limit(void **state) {
  struct h2c c;
  static uint8_t body[5000];

  (void)state;
  memset(body, 'q', sizeof(body));
  body[0] = 0;
  body[1] = body[2] = 0;
  body[3] = (uint8_t)((sizeof(body) - 5) >> 8);
  body[4] = (uint8_t)(sizeof(body) - 5);
  h2c_init(&c);
  request(&c, "POST", "/t.S/Echo", "application/grpc", NULL, NULL, body,
          sizeof(body));
  assert_int_equal(c.grpc_status, SOUPC_GRPC_RESOURCE_EXHAUSTED);
  assert_string_equal(c.grpc_message,
                      "received message is 4995 bytes; the limit is 4096 "
                      "bytes");
  h2c_dispose(&c);
}

static void expired_grpc_timeout_is_deadline_exceeded(void **state) {
  struct h2c c;
  uint8_t body[16];
  size_t n = grpc_frame(body, 0, "x");

  (void)state;
  h2c_init(&c);
  /* No END_STREAM: the handler never runs, the deadline (0 ms) fires. */
  keep_open = 1;
  request(&c, "POST", "/t.S/Echo", "application/grpc", "grpc-timeout", "0m",
          body, n);
  keep_open = 0;
  soupc__mem_conn_feed(c.mc, NULL, 0);
  pump(&c);
  assert_int_equal(c.grpc_status, SOUPC_GRPC_DEADLINE_EXCEEDED);
  h2c_dispose(&c);
}

/* STYLE.md allocation-failure sweep: count the allocations of a whole
 * unary call, then fail each one in turn. The call may fail or the
 * connection may close, but nothing may crash or leak (ASan checks). */
static void allocation_failures_never_crash_or_leak(void **state) {
  uint8_t body[64];
  size_t n = grpc_frame(body, 0, "sweep");
  long total;

  (void)state;
  soupc__alloc_count_reset();
  {
    struct h2c c;
    h2c_init(&c);
    request(&c, "POST", "/t.S/Echo", "application/grpc", NULL, NULL, body, n);
    assert_int_equal(c.grpc_status, 0);
    h2c_dispose(&c);
  }
  total = soupc__alloc_count();
  assert_true(total > 5);
  for (long i = 1; i <= total + 5; i++) {
    struct h2c c;
    nghttp2_session_callbacks *cb;

    memset(&c, 0, sizeof(c));
    c.grpc_status = -1;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_close);
    nghttp2_session_client_new(&c.s, cb, &c);
    nghttp2_session_callbacks_del(cb);
    nghttp2_submit_settings(c.s, NGHTTP2_FLAG_NONE, NULL, 0);
    soupc__alloc_fail_at(i);
    if (soupc__mem_conn_new(&c.mc, srv) == 0) {
      struct body b = {body, n, 0};
      nghttp2_data_provider prd = {{.ptr = &b}, body_read};
      nghttp2_nv nv[] = {NV(":method", "POST"), NV(":scheme", "http"),
                         NV(":path", "/t.S/Echo"), NV(":authority", "a"),
                         NV("content-type", "application/grpc")};
      nghttp2_submit_request(c.s, NULL, nv, 5, &prd, NULL);
      for (int round = 0; round < 20; round++) {
        const uint8_t *p;
        uint8_t buf[4096];
        ssize_t k;
        size_t got;
        while ((k = nghttp2_session_mem_send(c.s, &p)) > 0) {
          soupc__mem_conn_feed(c.mc, p, (size_t)k);
        }
        while ((got = soupc__mem_conn_take_output(c.mc, buf, sizeof(buf))) >
               0) {
          if (nghttp2_session_mem_recv(c.s, buf, got) < 0) {
            break;
          }
        }
      }
      soupc__alloc_fail_at(0);
      /* Either the call completed or it failed with a status, or the
       * connection went away; a wrong success is the only bug. */
      assert_true(c.grpc_status != 0 || !c.closed || c.rst_code == 0);
      soupc__mem_conn_free(c.mc);
    }
    soupc__alloc_fail_at(0);
    nghttp2_session_del(c.s);
  }
}

/* A reply or failure from a thread that is not the connection's worker,
 * made while allocation @p fail_at fails (counting from the finish). */
struct foreign_finish {
  long fail_at;
  int fail; /* 0: soupc_call_reply("late"), else soupc_call_fail(fail) */
};

static void *foreign_finish_thread(void *arg) {
  struct foreign_finish *f = arg;

  soupc__alloc_fail_at(f->fail_at);
  if (f->fail == 0) {
    soupc_call_reply(held, (const uint8_t *)"late", 4);
  } else {
    soupc_call_fail(held, f->fail, "gone: %s", "k");
  }
  soupc__alloc_fail_at(0);
  return NULL;
}

static void finish_from_thread(struct h2c *c, struct foreign_finish *f) {
  uint8_t body[16];
  size_t n = grpc_frame(body, 0, "x");
  pthread_t t;

  held = NULL;
  request(c, "POST", "/t.S/Hold", "application/grpc", NULL, NULL, body, n);
  assert_non_null(held);
  /* The worker (this thread) is idle while the other one finishes. */
  pthread_create(&t, NULL, foreign_finish_thread, f);
  pthread_join(t, NULL);
  soupc__mem_conn_feed(c->mc, NULL, 0); /* runs the posted finish */
  pump(c);
}

/* Issue 10: finishing a call from another thread allocated the operation
 * it posts, and on failure leaked the call and never answered. The finish
 * now travels in the call itself. Allocation 2 was that operation's (after
 * the response copy); for a failure, allocation 1 was. */
static void foreign_reply_without_memory_still_answers(void **state) {
  struct foreign_finish f = {2, 0};
  struct h2c c;

  (void)state;
  h2c_init(&c);
  finish_from_thread(&c, &f);
  assert_true(c.closed);
  assert_int_equal(c.grpc_status, SOUPC_GRPC_OK);
  assert_int_equal(c.data_len, 9);
  assert_memory_equal(c.data + 5, "late", 4);
  h2c_dispose(&c);
}

static void foreign_fail_without_memory_still_sends_the_code(void **state) {
  struct foreign_finish f = {1, SOUPC_GRPC_NOT_FOUND};
  struct h2c c;

  (void)state;
  h2c_init(&c);
  finish_from_thread(&c, &f);
  assert_true(c.closed);
  /* No memory for the message text; the code still arrives. */
  assert_int_equal(c.grpc_status, SOUPC_GRPC_NOT_FOUND);
  h2c_dispose(&c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(unary_call_answers_headers_data_and_trailers),
      cmocka_unit_test(non_grpc_content_type_gets_415_and_internal),
      cmocka_unit_test(missing_content_type_gets_415),
      cmocka_unit_test(non_post_method_gets_405_and_internal),
      cmocka_unit_test(grpc_encoding_other_than_identity_is_unimplemented),
      cmocka_unit_test(compressed_message_is_unimplemented),
      cmocka_unit_test(unary_with_two_messages_is_rejected),
      cmocka_unit_test(unary_with_no_message_is_rejected),
      cmocka_unit_test(truncated_message_at_end_of_stream_is_internal),
      cmocka_unit_test(over_limit_message_names_the_limit),
      cmocka_unit_test(expired_grpc_timeout_is_deadline_exceeded),
      cmocka_unit_test(allocation_failures_never_crash_or_leak),
      cmocka_unit_test(foreign_reply_without_memory_still_answers),
      cmocka_unit_test(foreign_fail_without_memory_still_sends_the_code),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
