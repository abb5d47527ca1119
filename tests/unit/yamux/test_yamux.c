/* The yamux session (src/yamux/yamux.c): two sessions wired back to back
 * in memory, and hand-made frames for every bad-input rule; the bridge
 * (bridge.c) over a socketpair, with socketpairs as the streams' ends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/alloc.h"
#include "yamux/yamux.h"

/* Moves every pending output of @p from into @p to. @return feed's rv. */
static int pump(struct yamux *from, struct yamux *to) {
  const uint8_t *p;
  size_t n = soupc__yamux_output(from, &p);
  int rv = 0;

  if (n > 0) {
    rv = soupc__yamux_feed(to, p, n);
    soupc__yamux_output_consume(from, n);
  }
  return rv;
}

static void pump_both(struct yamux *a, struct yamux *b) {
  for (int i = 0; i < 4; i++) {
    assert_int_equal(pump(a, b), 0);
    assert_int_equal(pump(b, a), 0);
  }
}

static void frame(uint8_t *h, uint8_t ver, uint8_t type, uint16_t flags,
                  uint32_t id, uint32_t len) {
  h[0] = ver;
  h[1] = type;
  h[2] = (uint8_t)(flags >> 8);
  h[3] = (uint8_t)flags;
  h[4] = (uint8_t)(id >> 24);
  h[5] = (uint8_t)(id >> 16);
  h[6] = (uint8_t)(id >> 8);
  h[7] = (uint8_t)id;
  h[8] = (uint8_t)(len >> 24);
  h[9] = (uint8_t)(len >> 16);
  h[10] = (uint8_t)(len >> 8);
  h[11] = (uint8_t)len;
}

/* The last frame in @p y's output is GoAway with @p code. */
static void assert_go_away(struct yamux *y, uint32_t code) {
  const uint8_t *p;
  size_t n = soupc__yamux_output(y, &p);

  assert_true(n >= 12);
  p += n - 12;
  assert_int_equal(p[1], 3);
  assert_int_equal((uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 |
                       (uint32_t)p[10] << 8 | p[11],
                   code);
}

static void open_accept_write_read_fin(void **state) {
  struct yamux *c, *s;
  struct yamux_stream_state st;
  const uint8_t *p;
  uint32_t cid, sid;

  (void)state;
  assert_int_equal(soupc__yamux_new(&c, 1, NULL), 0);
  assert_int_equal(soupc__yamux_new(&s, 0, NULL), 0);
  assert_int_equal(soupc__yamux_open(c, &cid), 0);
  assert_int_equal(cid, 1); /* the client's ids are odd */
  assert_int_equal(soupc__yamux_write(c, cid, (const uint8_t *)"hello", 5), 5);
  pump_both(c, s);
  assert_int_equal(soupc__yamux_accept(s, &sid), 0);
  assert_int_equal(sid, 1);
  assert_int_equal(soupc__yamux_accept(s, &sid), SOUPC_ERR_NOT_FOUND);
  assert_int_equal(soupc__yamux_peek(s, 1, &p), 5);
  assert_memory_equal(p, "hello", 5);
  soupc__yamux_consume(s, 1, 5);
  assert_int_equal(soupc__yamux_write(s, 1, (const uint8_t *)"world", 5), 5);
  assert_int_equal(soupc__yamux_close(s, 1), 0);
  pump_both(c, s);
  assert_int_equal(soupc__yamux_peek(c, 1, &p), 5);
  assert_memory_equal(p, "world", 5);
  assert_int_equal(soupc__yamux_stream_state(c, 1, &st), 0);
  assert_true(st.remote_fin);
  assert_false(st.reset);
  assert_int_equal(soupc__yamux_write(s, 1, (const uint8_t *)"x", 1),
                   SOUPC_ERR_CLOSED);
  /* The server's ids are even. */
  assert_int_equal(soupc__yamux_open(s, &sid), 0);
  assert_int_equal(sid, 2);
  soupc__yamux_free(c);
  soupc__yamux_free(s);
}

static void flow_control_blocks_at_the_window_and_resumes(void **state) {
  static uint8_t big[300 * 1024];
  struct yamux *c, *s;
  struct yamux_stream_state st;
  const uint8_t *p;
  uint32_t id;
  long n;
  size_t got;

  (void)state;
  assert_int_equal(soupc__yamux_new(&c, 1, NULL), 0);
  assert_int_equal(soupc__yamux_new(&s, 0, NULL), 0);
  assert_int_equal(soupc__yamux_open(c, &id), 0);
  n = soupc__yamux_write(c, id, big, sizeof(big));
  assert_int_equal(n, SOUPC_YAMUX_INITIAL_WINDOW); /* 256 KiB and no more */
  assert_int_equal(soupc__yamux_write(c, id, big, 1), 0);
  pump_both(c, s);
  assert_int_equal(soupc__yamux_accept(s, &id), 0);
  got = soupc__yamux_peek(s, id, &p);
  assert_int_equal(got, SOUPC_YAMUX_INITIAL_WINDOW);
  /* Less than half consumed: no update yet (Go's rule). */
  soupc__yamux_consume(s, id, 1000);
  pump_both(c, s);
  assert_int_equal(soupc__yamux_stream_state(c, id, &st), 0);
  assert_int_equal(st.send_window, 0);
  soupc__yamux_consume(s, id, SOUPC_YAMUX_INITIAL_WINDOW - 1000);
  pump_both(c, s);
  assert_int_equal(soupc__yamux_stream_state(c, id, &st), 0);
  assert_int_equal(st.send_window, SOUPC_YAMUX_INITIAL_WINDOW);
  soupc__yamux_free(c);
  soupc__yamux_free(s);
}

static void reset_and_release(void **state) {
  struct yamux *c, *s;
  struct yamux_stream_state st;
  uint32_t a, b, id;

  (void)state;
  assert_int_equal(soupc__yamux_new(&c, 1, NULL), 0);
  assert_int_equal(soupc__yamux_new(&s, 0, NULL), 0);
  assert_int_equal(soupc__yamux_open(c, &a), 0);
  assert_int_equal(soupc__yamux_open(c, &b), 0);
  pump_both(c, s);
  assert_int_equal(soupc__yamux_accept(s, &id), 0);
  assert_int_equal(soupc__yamux_accept(s, &id), 0);
  soupc__yamux_reset(c, a);
  pump_both(c, s);
  assert_int_equal(soupc__yamux_stream_state(s, a, &st), 0);
  assert_true(st.reset);
  /* The other stream is untouched. */
  assert_int_equal(soupc__yamux_stream_state(s, b, &st), 0);
  assert_false(st.reset);
  assert_int_equal(soupc__yamux_write(s, b, (const uint8_t *)"ok", 2), 2);
  soupc__yamux_release(s, a);
  assert_int_equal(soupc__yamux_stream_count(s), 1);
  /* A frame for the released stream is dropped, not an error. */
  assert_int_equal(soupc__yamux_write(c, b, (const uint8_t *)"z", 1), 1);
  pump_both(c, s);
  assert_false(soupc__yamux_dead(s));
  soupc__yamux_free(c);
  soupc__yamux_free(s);
}

static void ping_is_answered_and_go_away_is_seen(void **state) {
  struct yamux *c, *s;
  uint32_t code = 99, id;

  (void)state;
  assert_int_equal(soupc__yamux_new(&c, 1, NULL), 0);
  assert_int_equal(soupc__yamux_new(&s, 0, NULL), 0);
  assert_int_equal(soupc__yamux_ping(c, 42), 0);
  pump_both(c, s);
  assert_int_equal(soupc__yamux_pongs(c), 1);
  soupc__yamux_go_away(s, SOUPC_YAMUX_GOAWAY_NORMAL);
  pump_both(c, s);
  assert_true(soupc__yamux_remote_go_away(c, &code));
  assert_int_equal(code, 0);
  assert_int_equal(soupc__yamux_open(c, &id), SOUPC_ERR_CLOSED);
  soupc__yamux_free(c);
  soupc__yamux_free(s);
}

/* One bad frame into a fresh server session: protocol error, GoAway(1),
 * and the message. */
static void expect_protocol_error(const uint8_t *bytes, size_t n,
                                  const char *needle) {
  struct yamux *s;

  assert_int_equal(soupc__yamux_new(&s, 0, NULL), 0);
  assert_int_equal(soupc__yamux_feed(s, bytes, n), SOUPC_ERR_PROTOCOL);
  assert_true(soupc__yamux_dead(s));
  assert_non_null(strstr(soupc__yamux_error(s), needle));
  assert_go_away(s, SOUPC_YAMUX_GOAWAY_PROTOCOL);
  /* Dead stays dead. */
  assert_int_equal(soupc__yamux_feed(s, bytes, 1), SOUPC_ERR_PROTOCOL);
  soupc__yamux_free(s);
}

static void bad_frames_are_protocol_errors(void **state) {
  uint8_t f[2 * 12 + 8];

  (void)state;
  frame(f, 1, 1, 1, 1, 0);
  expect_protocol_error(f, 12, "frame version 1, want 0");
  frame(f, 0, 9, 0, 0, 0);
  expect_protocol_error(f, 12, "frame type 9 is unknown");
  frame(f, 0, 0, 0, 0, 4);
  expect_protocol_error(f, 12, "data frame for stream 0");
  frame(f, 0, 1, 1, 2, 0); /* even id from the client */
  expect_protocol_error(f, 12, "has our parity");
  frame(f, 0, 1, 1, 1, 0);
  frame(f + 12, 0, 1, 1, 1, 0);
  expect_protocol_error(f, 24, "opened stream 1 twice");
  frame(f, 0, 0, 1, 1, SOUPC_YAMUX_INITIAL_WINDOW + 1);
  expect_protocol_error(f, 12, "exceed its receive window");
  frame(f, 0, 1, 1, 1, 0xffffffffu);
  expect_protocol_error(f, 12, "overflows");
}

static void data_after_fin_resets_only_that_stream(void **state) {
  struct yamux *s;
  struct yamux_stream_state st;
  uint8_t f[12 * 4 + 2];
  uint32_t id;

  (void)state;
  assert_int_equal(soupc__yamux_new(&s, 0, NULL), 0);
  frame(f, 0, 1, 1, 1, 0);      /* open 1 */
  frame(f + 12, 0, 1, 1, 3, 0); /* open 3 */
  frame(f + 24, 0, 1, 4, 1, 0); /* FIN 1 */
  frame(f + 36, 0, 0, 0, 1, 2); /* data on 1 after FIN */
  f[48] = (uint8_t)'n';
  f[49] = (uint8_t)'o';
  assert_int_equal(soupc__yamux_feed(s, f, sizeof(f)), 0);
  assert_false(soupc__yamux_dead(s));
  assert_int_equal(soupc__yamux_stream_state(s, 1, &st), 0);
  assert_true(st.reset);
  assert_int_equal(soupc__yamux_stream_state(s, 3, &st), 0);
  assert_false(st.reset);
  assert_int_equal(soupc__yamux_accept(s, &id), 0);
  soupc__yamux_free(s);
}

static void limits_refuse_new_streams_with_rst(void **state) {
  struct yamux_limits lim = {2, 2};
  struct yamux *s;
  uint8_t f[36];
  const uint8_t *p;
  size_t n;

  (void)state;
  assert_int_equal(soupc__yamux_new(&s, 0, &lim), 0);
  frame(f, 0, 1, 1, 1, 0);
  frame(f + 12, 0, 1, 1, 3, 0);
  frame(f + 24, 0, 1, 1, 5, 0); /* the third: over the limit */
  assert_int_equal(soupc__yamux_feed(s, f, sizeof(f)), 0);
  assert_int_equal(soupc__yamux_stream_count(s), 2);
  n = soupc__yamux_output(s, &p);
  assert_int_equal(n, 12);
  assert_int_equal(p[3], 8); /* RST */
  assert_int_equal(p[7], 5); /* on stream 5 */
  assert_false(soupc__yamux_dead(s));
  soupc__yamux_free(s);
}

static void frames_split_at_every_byte(void **state) {
  struct yamux *c, *s;
  const uint8_t *p;
  uint8_t copy[256];
  size_t n, i;
  uint32_t id;

  (void)state;
  assert_int_equal(soupc__yamux_new(&c, 1, NULL), 0);
  assert_int_equal(soupc__yamux_new(&s, 0, NULL), 0);
  assert_int_equal(soupc__yamux_open(c, &id), 0);
  assert_int_equal(soupc__yamux_write(c, id, (const uint8_t *)"split me", 8),
                   8);
  assert_int_equal(soupc__yamux_close(c, id), 0);
  n = soupc__yamux_output(c, &p);
  assert_true(n < sizeof(copy));
  memcpy(copy, p, n);
  for (i = 0; i < n; i++) {
    assert_int_equal(soupc__yamux_feed(s, copy + i, 1), 0);
  }
  assert_int_equal(soupc__yamux_accept(s, &id), 0);
  assert_int_equal(soupc__yamux_peek(s, id, &p), 8);
  assert_memory_equal(p, "split me", 8);
  soupc__yamux_free(c);
  soupc__yamux_free(s);
}

static void allocation_failures_are_clean(void **state) {
  (void)state;
  for (long k = 1; k < 40; k++) {
    struct yamux *c = NULL, *s = NULL;
    uint32_t id;

    soupc__alloc_fail_at(k);
    if (soupc__yamux_new(&c, 1, NULL) == 0 &&
        soupc__yamux_new(&s, 0, NULL) == 0 && soupc__yamux_open(c, &id) == 0) {
      (void)soupc__yamux_write(c, id, (const uint8_t *)"abc", 3);
      (void)pump(c, s);
      (void)soupc__yamux_accept(s, &id);
      (void)pump(s, c);
    }
    soupc__alloc_fail_at(0);
    soupc__yamux_free(c);
    soupc__yamux_free(s);
  }
}

/* ---- the bridge ---- */

static int accept_target = -1;

static int give_target(uint32_t id, void *user_data) {
  (void)id;
  (void)user_data;
  return accept_target;
}

static void read_exactly(int fd, char *buf, size_t n) {
  size_t got = 0;

  while (got < n) {
    struct pollfd pfd = {fd, POLLIN, 0};
    ssize_t r;

    assert_true(poll(&pfd, 1, 5000) == 1);
    r = read(fd, buf + got, n - got);
    assert_true(r > 0);
    got += (size_t)r;
  }
}

static void bridges_carry_a_stream_both_ways(void **state) {
  struct yamux_bridge *cb, *sb;
  int conn[2], target[2];
  char buf[16];
  int lfd;

  (void)state;
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, conn), 0);
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, target), 0);
  accept_target = target[0];
  /* The client's dial point: an abstract-namespace listener. */
  lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_true(lfd >= 0);
  {
    struct sockaddr_un a;
    socklen_t len;
    int cfd;

    memset(&a, 0, sizeof(a));
    a.sun_family = AF_UNIX;
    snprintf(a.sun_path + 1, sizeof(a.sun_path) - 1, "soupc-yamux-test-%d",
             (int)getpid());
    len = (socklen_t)(sizeof(sa_family_t) + 1 + strlen(a.sun_path + 1));
    assert_int_equal(bind(lfd, (struct sockaddr *)&a, len), 0);
    assert_int_equal(listen(lfd, 4), 0);
    assert_int_equal(soupc__yamux_bridge_start(&sb, conn[1], 0, -1, give_target,
                                               NULL, "test.s"),
                     0);
    assert_int_equal(
        soupc__yamux_bridge_start(&cb, conn[0], 1, lfd, NULL, NULL, "test.c"),
        0);
    cfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_int_equal(connect(cfd, (struct sockaddr *)&a, len), 0);
    assert_int_equal(write(cfd, "ping", 4), 4);
    read_exactly(target[1], buf, 4);
    assert_memory_equal(buf, "ping", 4);
    assert_int_equal(write(target[1], "pong!", 5), 5);
    read_exactly(cfd, buf, 5);
    assert_memory_equal(buf, "pong!", 5);
    /* Our EOF travels as FIN and comes out as EOF. */
    shutdown(cfd, SHUT_WR);
    {
      struct pollfd pfd = {target[1], POLLIN, 0};

      assert_true(poll(&pfd, 1, 5000) == 1);
      assert_int_equal(read(target[1], buf, 1), 0);
    }
    assert_true(soupc__yamux_bridge_alive(cb));
    soupc__yamux_bridge_stop(cb);
    /* The server side sees the connection end and closes its streams. */
    {
      struct pollfd pfd = {target[1], POLLIN, 0};

      assert_true(poll(&pfd, 1, 5000) == 1);
    }
    soupc__yamux_bridge_stop(sb);
    close(cfd);
  }
  close(target[1]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(open_accept_write_read_fin),
      cmocka_unit_test(flow_control_blocks_at_the_window_and_resumes),
      cmocka_unit_test(reset_and_release),
      cmocka_unit_test(ping_is_answered_and_go_away_is_seen),
      cmocka_unit_test(bad_frames_are_protocol_errors),
      cmocka_unit_test(data_after_fin_resets_only_that_stream),
      cmocka_unit_test(limits_refuse_new_streams_with_rst),
      cmocka_unit_test(frames_split_at_every_byte),
      cmocka_unit_test(allocation_failures_are_clean),
      cmocka_unit_test(bridges_carry_a_stream_both_ways),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
