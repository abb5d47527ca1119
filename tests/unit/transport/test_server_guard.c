/* server_guard.c from memory (issue 8): each limit against a client that
 * breaks it, with the clock moved by hand (soupc__mem_conn_sweep), and the
 * same client behaving well for contrast. */
#include "h2c_util.h"

#include "test_util.h"
#include "transport/addr.h"

static soupc_server *srv;

/* /t.S/Big: the request is a decimal size; the reply has that many bytes. */
static void big(soupc_call *call, const uint8_t *req, size_t len, void *ud) {
  char num[32];
  size_t n;
  uint8_t *buf;

  (void)ud;
  snprintf(num, sizeof(num), "%.*s", (int)len, (const char *)req);
  n = (size_t)strtoull(num, NULL, 10);
  buf = calloc(1, n + 1);
  soupc_call_reply(call, buf, n);
  free(buf);
}

static void echo(soupc_call *call, const uint8_t *req, size_t len, void *ud) {
  (void)ud;
  soupc_call_reply(call, req, len);
}

static soupc_call *held;

static void hold(soupc_call *call, const uint8_t *req, size_t len, void *ud) {
  (void)req;
  (void)len;
  (void)ud;
  held = call;
}

static soupc_server *server_with(const soupc_server_options *o) {
  soupc_server *s = NULL;
  soupc_status st;

  assert_int_equal(soupc_server_new(&s, o, &st), 0);
  assert_int_equal(soupc_server_add_unary(s, "/t.S/Echo", echo, NULL), 0);
  assert_int_equal(soupc_server_add_unary(s, "/t.S/Big", big, NULL), 0);
  assert_int_equal(soupc_server_add_unary(s, "/t.S/Hold", hold, NULL), 0);
  return s;
}

static int teardown(void **state) {
  (void)state;
  soupc_server_free(srv);
  srv = NULL;
  return 0;
}

/* Starts a request on the next stream; the body is copied. @return the
 * stream id. */
static struct body bodies[64];
static uint8_t body_bytes[64][256];
static int nbodies;

static int32_t start_call(struct h2c *c, const char *path, const char *msg,
                          const nghttp2_nv *extra, size_t nextra) {
  nghttp2_nv nv[32] = {NV(":method", "POST"), NV(":scheme", "http"),
                       NV(":path", path), NV(":authority", "a"),
                       NV("content-type", "application/grpc")};
  size_t n = 5;
  struct body *b = &bodies[nbodies % 64];
  nghttp2_data_provider prd;
  int32_t id;

  b->len = grpc_frame(body_bytes[nbodies % 64], 0, msg);
  b->p = body_bytes[nbodies % 64];
  b->off = 0;
  nbodies++;
  prd.source.ptr = b;
  prd.read_callback = body_read;
  for (size_t i = 0; i < nextra; i++) {
    nv[n++] = extra[i];
  }
  id = nghttp2_submit_request(c->s, NULL, nv, n, &prd, NULL);
  assert_true(id > 0);
  pump(c);
  return id;
}

/* Feeds @p count copies of a raw 9-byte-header frame. */
static void feed_frames(struct h2c *c, uint8_t type, uint8_t flags,
                        int32_t stream, const uint8_t *payload, size_t len,
                        int count) {
  size_t one = 9 + len;
  uint8_t *buf = malloc(one * (size_t)count);

  for (int i = 0; i < count; i++) {
    uint8_t *p = buf + one * (size_t)i;
    p[0] = (uint8_t)(len >> 16);
    p[1] = (uint8_t)(len >> 8);
    p[2] = (uint8_t)len;
    p[3] = type;
    p[4] = flags;
    p[5] = (uint8_t)((uint32_t)stream >> 24);
    p[6] = (uint8_t)(stream >> 16);
    p[7] = (uint8_t)(stream >> 8);
    p[8] = (uint8_t)stream;
    if (len > 0) {
      memcpy(p + 9, payload, len);
    }
  }
  soupc__mem_conn_feed(c->mc, buf, one * (size_t)count);
  free(buf);
  pump(c);
}

static void connect_default(struct h2c *c) {
  soupc_server_options o = SOUPC_SERVER_OPTIONS_INIT;

  srv = server_with(&o);
  h2c_init_for(c, srv);
  pump(c);
}

/* ------------------------------------------------------------------ */
/* PING policy                                                         */
/* ------------------------------------------------------------------ */

static void
pings_closer_than_the_minimum_interval_get_too_many_pings(void **state) {
  struct h2c c;

  (void)state;
  connect_default(&c);
  for (int i = 0; i < 5; i++) {
    nghttp2_submit_ping(c.s, NGHTTP2_FLAG_NONE, NULL);
    pump(&c);
  }
  /* grpc-go's rule: two strikes are forgiven, the third ends it. */
  assert_true(c.goaway);
  assert_int_equal(c.goaway_code, NGHTTP2_ENHANCE_YOUR_CALM);
  assert_string_equal(c.goaway_data, "too_many_pings");
  assert_int_equal(c.ping_acks, 4);
  h2c_dispose(&c);
}

static void pings_between_calls_are_not_strikes(void **state) {
  struct h2c c;

  (void)state;
  connect_default(&c);
  for (int i = 0; i < 10; i++) {
    c.grpc_status = -1;
    start_call(&c, "/t.S/Echo", "hi", NULL, 0);
    assert_int_equal(c.grpc_status, 0);
    nghttp2_submit_ping(c.s, NGHTTP2_FLAG_NONE, NULL);
    pump(&c);
  }
  assert_int_equal(c.ping_acks, 10);
  assert_false(c.goaway);
  h2c_dispose(&c);
}

/* ------------------------------------------------------------------ */
/* No-work frame budget                                                */
/* ------------------------------------------------------------------ */

static void assert_calm_goaway(struct h2c *c) {
  assert_true(c->goaway);
  assert_int_equal(c->goaway_code, NGHTTP2_ENHANCE_YOUR_CALM);
  assert_non_null(strstr(c->goaway_data, "flood"));
}

static void empty_data_frames_end_in_enhance_your_calm(void **state) {
  struct h2c c;

  (void)state;
  connect_default(&c);
  keep_open = 1;
  start_call(&c, "/t.S/Hold", "x", NULL, 0); /* stream 1 stays open */
  keep_open = 0;
  feed_frames(&c, NGHTTP2_DATA, 0, 1, NULL, 0, 999);
  assert_false(c.goaway); /* the budget is 1000 */
  feed_frames(&c, NGHTTP2_DATA, 0, 1, NULL, 0, 100);
  assert_calm_goaway(&c);
  h2c_dispose(&c);
}

static void tiny_window_updates_end_in_enhance_your_calm(void **state) {
  static const uint8_t plus_one[4] = {0, 0, 0, 1};
  struct h2c c;

  (void)state;
  connect_default(&c);
  feed_frames(&c, NGHTTP2_WINDOW_UPDATE, 0, 0, plus_one, 4, 1200);
  assert_calm_goaway(&c);
  h2c_dispose(&c);
}

/* Some clients (conformance/soupconf/frames.py, older Go http2) return
 * each DATA frame's bytes at once, stream and connection: that is no
 * flood, however small the frames. */
static void acknowledging_each_data_frame_is_not_a_flood(void **state) {
  static const uint8_t plus_12[4] = {0, 0, 0, 12};
  struct h2c c;

  (void)state;
  connect_default(&c);
  for (int i = 0; i < 700; i++) {
    int32_t id = start_call(&c, "/t.S/Echo", "hello", NULL, 0);
    feed_frames(&c, NGHTTP2_WINDOW_UPDATE, 0, 0, plus_12, 4, 1);
    feed_frames(&c, NGHTTP2_WINDOW_UPDATE, 0, id, plus_12, 4, 1);
  }
  assert_false(c.goaway);
  h2c_dispose(&c);
}

static void real_window_updates_are_not_counted(void **state) {
  static const uint8_t plus_64k[4] = {0, 1, 0, 0};
  struct h2c c;

  (void)state;
  connect_default(&c);
  /* 3000 x 64 KiB stays under the 2^31 window limit. */
  feed_frames(&c, NGHTTP2_WINDOW_UPDATE, 0, 0, plus_64k, 4, 3000);
  assert_false(c.goaway);
  c.grpc_status = -1;
  start_call(&c, "/t.S/Echo", "still here", NULL, 0);
  assert_int_equal(c.grpc_status, 0);
  h2c_dispose(&c);
}

static void priority_frames_end_in_enhance_your_calm(void **state) {
  static const uint8_t prio[5] = {0, 0, 0, 0, 16};
  struct h2c c;

  (void)state;
  connect_default(&c);
  feed_frames(&c, NGHTTP2_PRIORITY, 0, 3, prio, 5, 1200);
  assert_calm_goaway(&c);
  h2c_dispose(&c);
}

static void unknown_frame_types_end_in_enhance_your_calm(void **state) {
  struct h2c c;

  (void)state;
  connect_default(&c);
  feed_frames(&c, 0xfa, 0, 0, NULL, 0, 1200);
  assert_calm_goaway(&c);
  h2c_dispose(&c);
}

static void the_budget_refills_with_time(void **state) {
  struct h2c c;

  (void)state;
  connect_default(&c);
  keep_open = 1;
  start_call(&c, "/t.S/Hold", "x", NULL, 0);
  keep_open = 0;
  /* 800 now, 800 more 2.5 s later: the refill (100/s) covers the rest. */
  feed_frames(&c, NGHTTP2_DATA, 0, 1, NULL, 0, 800);
  tu_sleep_ms(2500);
  feed_frames(&c, NGHTTP2_DATA, 0, 1, NULL, 0, 400);
  assert_false(c.goaway);
  h2c_dispose(&c);
}

/* ------------------------------------------------------------------ */
/* Header lists                                                        */
/* ------------------------------------------------------------------ */

/* 20 copies of one 4000-byte header: the encoder sends it once and then
 * 1-byte references to its dynamic table, so a 4 KiB block decodes to an
 * 80 KiB list (an HPACK bomb in miniature). */
static char big_value[4001];
static nghttp2_nv bomb[20];

static void build_bomb(void) {
  memset(big_value, 'a', 4000);
  for (int i = 0; i < 20; i++) {
    bomb[i] = (nghttp2_nv){(uint8_t *)"x-big", (uint8_t *)big_value, 5, 4000,
                           NGHTTP2_NV_FLAG_NONE};
  }
}

static void header_list_over_the_limit_resets_only_its_stream(void **state) {
  struct h2c c;
  int32_t id;

  (void)state;
  build_bomb();
  connect_default(&c);
  id = start_call(&c, "/t.S/Echo", "bomb", bomb, 20);
  assert_int_equal(id, 1);
  assert_true(c.closed);
  assert_int_equal(c.rst_code, NGHTTP2_INTERNAL_ERROR);
  assert_int_equal(c.grpc_status, -1); /* the handler never ran */
  assert_false(c.goaway);
  start_call(&c, "/t.S/Echo", "next", NULL, 0);
  assert_int_equal(c.grpc_status, 0);
  h2c_dispose(&c);
}

static void repeated_oversized_header_lists_end_the_connection(void **state) {
  struct h2c c;

  (void)state;
  build_bomb();
  connect_default(&c);
  for (int i = 0; i < 20 && !c.goaway; i++) {
    start_call(&c, "/t.S/Echo", "bomb", bomb, 20);
  }
  assert_true(c.goaway);
  assert_int_equal(c.goaway_code, NGHTTP2_ENHANCE_YOUR_CALM);
  h2c_dispose(&c);
}

/* ------------------------------------------------------------------ */
/* Timeouts                                                            */
/* ------------------------------------------------------------------ */

static void handshake_deadline_is_absolute(void **state) {
  static const char magic[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  soupc_server_options o = SOUPC_SERVER_OPTIONS_INIT;
  struct soupc__mem_conn *mc;
  int64_t t0;

  (void)state;
  o.handshake_timeout_ms = 1000;
  srv = server_with(&o);
  t0 = soupc__now_ms();
  assert_int_equal(soupc__mem_conn_new(&mc, srv), 0);
  /* A slowloris: one byte at a time, never the SETTINGS. */
  for (int i = 0; i < 10; i++) {
    assert_int_equal(soupc__mem_conn_feed(mc, (const uint8_t *)magic + i, 1),
                     0);
    soupc__mem_conn_sweep(mc, t0 + 100 * i);
  }
  assert_int_equal(soupc__mem_conn_feed(mc, NULL, 0), 0); /* still open */
  soupc__mem_conn_sweep(mc, t0 + 1100);
  assert_int_equal(soupc__mem_conn_feed(mc, NULL, 0), -1); /* closed */
  soupc__mem_conn_free(mc);
}

static void idle_connection_gets_goaway_then_is_closed(void **state) {
  soupc_server_options o = SOUPC_SERVER_OPTIONS_INIT;
  struct h2c c;
  int64_t t0;

  (void)state;
  o.idle_timeout_ms = 1000;
  srv = server_with(&o);
  h2c_init_for(&c, srv);
  pump(&c);
  t0 = soupc__now_ms();
  /* A call in progress is not idle however long it takes. */
  held = NULL;
  start_call(&c, "/t.S/Hold", "x", NULL, 0);
  assert_non_null(held);
  soupc__mem_conn_sweep(c.mc, t0 + 5000);
  pump(&c);
  assert_false(c.goaway);
  soupc_call_reply(held, (const uint8_t *)"ok", 2);
  pump(&c);
  t0 = soupc__now_ms();
  soupc__mem_conn_sweep(c.mc, t0 + 900);
  pump(&c);
  assert_false(c.goaway);
  soupc__mem_conn_sweep(c.mc, t0 + 1001);
  pump(&c);
  assert_true(c.goaway);
  assert_int_equal(c.goaway_code, NGHTTP2_NO_ERROR);
  assert_string_equal(c.goaway_data, "idle timeout");
  /* Our GOAWAY has been read; without a close from the client the
   * connection still ends a second later. */
  soupc__mem_conn_sweep(c.mc, soupc__now_ms() + 1100);
  assert_int_equal(soupc__mem_conn_feed(c.mc, NULL, 0), -1);
  h2c_dispose(&c);
}

static void keepalive_pings_and_closes_a_silent_peer(void **state) {
  soupc_server_options o = SOUPC_SERVER_OPTIONS_INIT;
  struct h2c c;
  uint8_t buf[256];
  int64_t t0;

  (void)state;
  o.keepalive_time_ms = 1000;
  o.keepalive_timeout_ms = 500;
  srv = server_with(&o);
  h2c_init_for(&c, srv);
  pump(&c);
  /* A live peer answers and stays (the next PING follows). */
  t0 = soupc__now_ms();
  soupc__mem_conn_sweep(c.mc, t0 + 1001);
  pump(&c); /* the client reads the PING and ACKs it */
  assert_int_equal(c.pings, 1);
  t0 += 1001 + 501;
  soupc__mem_conn_sweep(c.mc, t0);
  assert_int_equal(soupc__mem_conn_feed(c.mc, NULL, 0), 0);
  pump(&c);
  assert_int_equal(c.pings, 2);
  /* A silent one: the PING goes out, nothing comes back. */
  soupc__mem_conn_sweep(c.mc, t0 + 1001);
  assert_true(soupc__mem_conn_take_output(c.mc, buf, sizeof(buf)) >= 17);
  soupc__mem_conn_sweep(c.mc, t0 + 1001 + 499);
  assert_int_equal(soupc__mem_conn_feed(c.mc, NULL, 0), 0);
  soupc__mem_conn_sweep(c.mc, t0 + 1001 + 501);
  assert_int_equal(soupc__mem_conn_feed(c.mc, NULL, 0), -1);
  h2c_dispose(&c);
}

static void write_timeout_closes_a_peer_that_stops_reading(void **state) {
  soupc_server_options o = SOUPC_SERVER_OPTIONS_INIT;
  struct h2c c;
  uint8_t buf[65536];
  const uint8_t *p;
  ssize_t n;
  int64_t t0;

  (void)state;
  o.write_timeout_ms = 1000;
  srv = server_with(&o);
  h2c_init_for(&c, srv);
  pump(&c);
  /* Ask for 1 MiB and read only a little of it. */
  start_call(&c, "/t.S/Echo", "x", NULL, 0);
  c.grpc_status = -1;
  {
    static struct body b;
    static uint8_t req[16];
    nghttp2_nv nv[] = {NV(":method", "POST"), NV(":scheme", "http"),
                       NV(":path", "/t.S/Big"), NV(":authority", "a"),
                       NV("content-type", "application/grpc")};
    nghttp2_data_provider prd = {{.ptr = &b}, body_read};
    b.len = grpc_frame(req, 0, "1048576");
    b.p = req;
    b.off = 0;
    assert_true(nghttp2_submit_request(c.s, NULL, nv, 5, &prd, NULL) > 0);
    while ((n = nghttp2_session_mem_send(c.s, &p)) > 0) {
      soupc__mem_conn_feed(c.mc, p, (size_t)n);
    }
  }
  t0 = soupc__now_ms();
  soupc__mem_conn_sweep(c.mc, t0 + 600);
  soupc__mem_conn_take_output(c.mc, buf, sizeof(buf)); /* progress */
  soupc__mem_conn_sweep(c.mc, t0 + 1200);
  assert_int_equal(soupc__mem_conn_feed(c.mc, NULL, 0), 0);
  soupc__mem_conn_sweep(c.mc, t0 + 2300); /* no progress since t0 + 1200 */
  assert_int_equal(soupc__mem_conn_feed(c.mc, NULL, 0), -1);
  h2c_dispose(&c);
}

/* ------------------------------------------------------------------ */
/* Response and request buffers                                        */
/* ------------------------------------------------------------------ */

/* The client grants no stream window: replies stay queued on our side. */
static void h2c_init_zero_window(struct h2c *c) {
  static const nghttp2_settings_entry zero[] = {
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 0}};

  h2c_init_for(c, srv);
  nghttp2_submit_settings(c->s, NGHTTP2_FLAG_NONE, zero, 1);
  pump(c);
}

static void full_connection_buffer_refuses_new_calls_then_goaway(void **st_) {
  soupc_server_options o = SOUPC_SERVER_OPTIONS_INIT;
  struct h2c c;
  int64_t t0;

  (void)st_;
  o.max_connection_buffer = 64 * 1024;
  o.buffer_timeout_ms = 1000;
  srv = server_with(&o);
  h2c_init_zero_window(&c);
  start_call(&c, "/t.S/Big", "100000", NULL, 0); /* queued, cannot drain */
  t0 = soupc__now_ms();
  tu_sleep_ms(300); /* nothing taken for 250 ms: the client has stopped */
  c.grpc_status = -1;
  start_call(&c, "/t.S/Echo", "more", NULL, 0);
  assert_int_equal(c.grpc_status, SOUPC_GRPC_RESOURCE_EXHAUSTED);
  assert_non_null(strstr(c.grpc_message, "has 100005 bytes of responses"));
  assert_non_null(strstr(c.grpc_message, "the limit is 65536 bytes"));
  /* The sweep notices the refusal's bytes as progress first. */
  soupc__mem_conn_sweep(c.mc, t0 + 1100);
  pump(&c);
  assert_false(c.goaway);
  soupc__mem_conn_sweep(c.mc, t0 + 2200);
  pump(&c);
  assert_true(c.goaway);
  assert_int_equal(c.goaway_code, NGHTTP2_ENHANCE_YOUR_CALM);
  soupc__mem_conn_sweep(c.mc, soupc__now_ms() + 1100);
  assert_int_equal(soupc__mem_conn_feed(c.mc, NULL, 0), -1);
  h2c_dispose(&c);
}

/* Over the cap while the client still reads: calls wait their turn and
 * are all answered. */
static void a_client_that_reads_is_paced_not_refused(void **state) {
  soupc_server_options o = SOUPC_SERVER_OPTIONS_INIT;
  struct h2c c;
  int ok = 0;

  (void)state;
  o.max_connection_buffer = 64 * 1024;
  srv = server_with(&o);
  h2c_init_for(&c, srv);
  pump(&c);
  /* 20 replies of 100 000 bytes asked for at once: 2 MB against 64 KiB. */
  for (int i = 0; i < 20; i++) {
    static struct body bb[20];
    static uint8_t req[20][16];
    nghttp2_nv nv[] = {NV(":method", "POST"), NV(":scheme", "http"),
                       NV(":path", "/t.S/Big"), NV(":authority", "a"),
                       NV("content-type", "application/grpc")};
    nghttp2_data_provider prd = {{.ptr = &bb[i]}, body_read};
    bb[i] = (struct body){req[i], grpc_frame(req[i], 0, "100000"), 0};
    assert_true(nghttp2_submit_request(c.s, NULL, nv, 5, &prd, NULL) > 0);
  }
  for (int round = 0; round < 50; round++) {
    pump(&c);
    soupc__mem_conn_feed(c.mc, NULL, 0);
  }
  pump(&c);
  ok = (int)c.trailers_ok;
  assert_int_equal(ok, 20);
  assert_false(c.goaway);
  h2c_dispose(&c);
}

static void total_buffer_limit_covers_every_connection(void **state) {
  soupc_server_options o = SOUPC_SERVER_OPTIONS_INIT;
  struct h2c a, b;

  (void)state;
  o.max_total_buffer = 64 * 1024;
  srv = server_with(&o);
  h2c_init_zero_window(&a);
  start_call(&a, "/t.S/Big", "100000", NULL, 0);
  h2c_init_for(&b, srv);
  pump(&b);
  start_call(&b, "/t.S/Echo", "other", NULL, 0);
  assert_int_equal(b.grpc_status, SOUPC_GRPC_RESOURCE_EXHAUSTED);
  assert_non_null(strstr(b.grpc_message, "the server has"));
  /* Freed when the hoarding connection goes. */
  h2c_dispose(&a);
  b.grpc_status = -1;
  start_call(&b, "/t.S/Echo", "again", NULL, 0);
  assert_int_equal(b.grpc_status, 0);
  h2c_dispose(&b);
}

static void unfinished_requests_are_bounded_per_connection(void **state) {
  soupc_server_options o = SOUPC_SERVER_OPTIONS_INIT;
  static uint8_t part[5 + 7000];
  struct h2c c;

  (void)state;
  o.max_message_size = 8192;
  o.max_connection_buffer = 16384;
  srv = server_with(&o);
  h2c_init_for(&c, srv);
  pump(&c);
  /* Three streams each start an 8000-byte message and send 7000 bytes. */
  memset(part, 'r', sizeof(part));
  part[0] = 0;
  part[1] = part[2] = 0;
  part[3] = (uint8_t)(8000 >> 8);
  part[4] = (uint8_t)(8000 & 0xff);
  for (int i = 0; i < 3; i++) {
    static struct body bb[3];
    nghttp2_nv nv[] = {NV(":method", "POST"), NV(":scheme", "http"),
                       NV(":path", "/t.S/Echo"), NV(":authority", "a"),
                       NV("content-type", "application/grpc")};
    nghttp2_data_provider prd = {{.ptr = &bb[i]}, body_read};
    bb[i] = (struct body){part, sizeof(part), 0};
    keep_open = 1;
    assert_true(nghttp2_submit_request(c.s, NULL, nv, 5, &prd, NULL) > 0);
    pump(&c);
    keep_open = 0;
  }
  assert_int_equal(c.grpc_status, SOUPC_GRPC_RESOURCE_EXHAUSTED);
  assert_non_null(strstr(c.grpc_message, "unfinished request messages"));
  h2c_dispose(&c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(
          pings_closer_than_the_minimum_interval_get_too_many_pings, teardown),
      cmocka_unit_test_teardown(pings_between_calls_are_not_strikes, teardown),
      cmocka_unit_test_teardown(empty_data_frames_end_in_enhance_your_calm,
                                teardown),
      cmocka_unit_test_teardown(tiny_window_updates_end_in_enhance_your_calm,
                                teardown),
      cmocka_unit_test_teardown(real_window_updates_are_not_counted, teardown),
      cmocka_unit_test_teardown(acknowledging_each_data_frame_is_not_a_flood,
                                teardown),
      cmocka_unit_test_teardown(priority_frames_end_in_enhance_your_calm,
                                teardown),
      cmocka_unit_test_teardown(unknown_frame_types_end_in_enhance_your_calm,
                                teardown),
      cmocka_unit_test_teardown(the_budget_refills_with_time, teardown),
      cmocka_unit_test_teardown(
          header_list_over_the_limit_resets_only_its_stream, teardown),
      cmocka_unit_test_teardown(
          repeated_oversized_header_lists_end_the_connection, teardown),
      cmocka_unit_test_teardown(handshake_deadline_is_absolute, teardown),
      cmocka_unit_test_teardown(idle_connection_gets_goaway_then_is_closed,
                                teardown),
      cmocka_unit_test_teardown(keepalive_pings_and_closes_a_silent_peer,
                                teardown),
      cmocka_unit_test_teardown(write_timeout_closes_a_peer_that_stops_reading,
                                teardown),
      cmocka_unit_test_teardown(
          full_connection_buffer_refuses_new_calls_then_goaway, teardown),
      cmocka_unit_test_teardown(a_client_that_reads_is_paced_not_refused,
                                teardown),
      cmocka_unit_test_teardown(total_buffer_limit_covers_every_connection,
                                teardown),
      cmocka_unit_test_teardown(unfinished_requests_are_bounded_per_connection,
                                teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
