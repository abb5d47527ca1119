/* grpc_wire: grpc-timeout, grpc-message percent-encoding, the message
 * deframer and its limits, outbound queues. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <event2/buffer.h>

#include "base/alloc.h"
#include "soupc/rpc.h"
#include "transport/grpc_wire.h"

static void timeout_format_uses_the_smallest_exact_unit(void **state) {
  char buf[16];

  (void)state;
  soupc_grpc_timeout_format(buf, 100);
  assert_string_equal(buf, "100m");
  soupc_grpc_timeout_format(buf, 1);
  assert_string_equal(buf, "1m");
  soupc_grpc_timeout_format(buf, 99999999);
  assert_string_equal(buf, "99999999m");
  /* 10^8 ms needs 9 digits: seconds, rounded up. */
  soupc_grpc_timeout_format(buf, 100000001);
  assert_string_equal(buf, "100001S");
  soupc_grpc_timeout_format(buf, INT64_MAX);
  assert_string_equal(buf, "99999999H");
  soupc_grpc_timeout_format(buf, 0);
  assert_string_equal(buf, "0m");
}

static void timeout_parse_accepts_every_unit_and_rounds_up(void **state) {
  int64_t ms = -1;

  (void)state;
  assert_int_equal(soupc_grpc_timeout_parse(&ms, "1H", 2), 0);
  assert_int_equal(ms, 3600000);
  assert_int_equal(soupc_grpc_timeout_parse(&ms, "2M", 2), 0);
  assert_int_equal(ms, 120000);
  assert_int_equal(soupc_grpc_timeout_parse(&ms, "5S", 2), 0);
  assert_int_equal(ms, 5000);
  assert_int_equal(soupc_grpc_timeout_parse(&ms, "250m", 4), 0);
  assert_int_equal(ms, 250);
  assert_int_equal(soupc_grpc_timeout_parse(&ms, "1500u", 5), 0);
  assert_int_equal(ms, 2);
  assert_int_equal(soupc_grpc_timeout_parse(&ms, "1n", 2), 0);
  assert_int_equal(ms, 1);
  assert_int_equal(soupc_grpc_timeout_parse(&ms, "99999999H", 9), 0);
  assert_int_equal(ms, 99999999LL * 3600000LL);
}

static void timeout_parse_rejects_malformed_values(void **state) {
  int64_t ms = 7;

  (void)state;
  assert_int_equal(soupc_grpc_timeout_parse(&ms, "", 0),
                   SOUPC_ERR_INVALID_ARGUMENT);
  assert_int_equal(soupc_grpc_timeout_parse(&ms, "S", 1),
                   SOUPC_ERR_INVALID_ARGUMENT);
  assert_int_equal(soupc_grpc_timeout_parse(&ms, "123456789S", 10),
                   SOUPC_ERR_INVALID_ARGUMENT);
  assert_int_equal(soupc_grpc_timeout_parse(&ms, "10x", 3),
                   SOUPC_ERR_INVALID_ARGUMENT);
  assert_int_equal(soupc_grpc_timeout_parse(&ms, "-1S", 3),
                   SOUPC_ERR_INVALID_ARGUMENT);
  assert_int_equal(soupc_grpc_timeout_parse(&ms, "1 S", 3),
                   SOUPC_ERR_INVALID_ARGUMENT);
  assert_int_equal(ms, 7);
}

static void timeout_format_then_parse_never_shortens(void **state) {
  static const int64_t values[] = {1,        999,       1000,          12345,
                                   99999999, 100000000, 123456789012LL};
  char buf[16];
  int64_t back;

  (void)state;
  for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
    soupc_grpc_timeout_format(buf, values[i]);
    assert_int_equal(soupc_grpc_timeout_parse(&back, buf, strlen(buf)), 0);
    assert_true(back >= values[i]);
  }
}

static void percent_encoding_round_trips_non_ascii(void **state) {
  const char *in = "50% off\xc3\xa9\t!";
  char enc[64], dec[64];

  (void)state;
  soupc__percent_encode(enc, sizeof(enc), in, strlen(in));
  assert_string_equal(enc, "50%25 off%C3%A9%09!");
  soupc__percent_decode(dec, sizeof(dec), enc, strlen(enc));
  assert_string_equal(dec, in);
}

static void percent_decoding_keeps_malformed_escapes(void **state) {
  char dec[32];

  (void)state;
  soupc__percent_decode(dec, sizeof(dec), "a%zzb%4", 7);
  assert_string_equal(dec, "a%zzb%4");
}

static void percent_encoding_truncates_without_splitting_escapes(void **st) {
  char enc[6];

  (void)st;
  /* "ab%25" needs 6 bytes with the NUL; "ab" then '%' would not fit. */
  soupc__percent_encode(enc, sizeof(enc), "ab%%", 4);
  assert_string_equal(enc, "ab%25");
}

struct collected {
  size_t count;
  size_t total;
  uint8_t last[64];
  size_t last_len;
};

static int collect(void *ud, const uint8_t *msg, size_t len) {
  struct collected *c = ud;

  c->count++;
  c->total += len;
  c->last_len = len < sizeof(c->last) ? len : sizeof(c->last);
  memcpy(c->last, msg, c->last_len);
  return 0;
}

static size_t frame(uint8_t *out, const char *payload, size_t len) {
  out[0] = 0;
  out[1] = (uint8_t)(len >> 24);
  out[2] = (uint8_t)(len >> 16);
  out[3] = (uint8_t)(len >> 8);
  out[4] = (uint8_t)len;
  memcpy(out + 5, payload, len);
  return len + 5;
}

static void deframer_reassembles_messages_split_at_every_byte(void **state) {
  uint8_t wire[64];
  size_t n = frame(wire, "hello", 5);
  struct deframer d;
  struct collected c = {0};
  soupc_status st;

  (void)state;
  n += frame(wire + n, "", 0);
  n += frame(wire + n, "world!", 6);
  soupc__deframer_init(&d, 1024);
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(soupc__deframer_feed(&d, wire + i, 1, collect, &c, &st),
                     0);
  }
  assert_int_equal(c.count, 3);
  assert_int_equal(c.total, 11);
  assert_memory_equal(c.last, "world!", 6);
  assert_false(soupc__deframer_partial(&d));
  soupc__deframer_dispose(&d);
}

static void
deframer_rejects_a_message_over_the_limit_from_its_prefix(void **state) {
  /* Only the prefix: the limit is enforced before any payload arrives. */
  uint8_t prefix[5] = {0, 0, 0x10, 0, 1}; /* 1048577 bytes */
  struct deframer d;
  struct collected c = {0};
  soupc_status st;

  (void)state;
  soupc__deframer_init(&d, 1024 * 1024);
  assert_int_equal(soupc__deframer_feed(&d, prefix, 5, collect, &c, &st),
                   SOUPC_ERR_TOO_LARGE);
  assert_int_equal(st.code, SOUPC_GRPC_RESOURCE_EXHAUSTED);
  assert_string_equal(st.message,
                      "received message is 1048577 bytes; the limit is "
                      "1048576 bytes");
  assert_int_equal(c.count, 0);
  soupc__deframer_dispose(&d);
}

static void deframer_accepts_a_message_exactly_at_the_limit(void **state) {
  size_t limit = 100000;
  uint8_t *wire = calloc(1, limit + 5);
  struct deframer d;
  struct collected c = {0};
  soupc_status st;

  (void)state;
  wire[1] = (uint8_t)(limit >> 24);
  wire[2] = (uint8_t)(limit >> 16);
  wire[3] = (uint8_t)(limit >> 8);
  wire[4] = (uint8_t)limit;
  soupc__deframer_init(&d, limit);
  /* In two pieces, so the buffered path is used. */
  assert_int_equal(soupc__deframer_feed(&d, wire, 70000, collect, &c, &st), 0);
  assert_true(soupc__deframer_partial(&d));
  assert_int_equal(soupc__deframer_feed(&d, wire + 70000, limit + 5 - 70000,
                                        collect, &c, &st),
                   0);
  assert_int_equal(c.count, 1);
  assert_int_equal(c.total, limit);
  soupc__deframer_dispose(&d);
  free(wire);
}

static void deframer_rejects_compressed_and_bad_flags(void **state) {
  uint8_t compressed[6] = {1, 0, 0, 0, 1, 'x'};
  uint8_t bad[6] = {7, 0, 0, 0, 1, 'x'};
  struct deframer d;
  struct collected c = {0};
  soupc_status st;

  (void)state;
  soupc__deframer_init(&d, 1024);
  assert_int_equal(soupc__deframer_feed(&d, compressed, 6, collect, &c, &st),
                   SOUPC_ERR_UNSUPPORTED);
  assert_int_equal(st.code, SOUPC_GRPC_UNIMPLEMENTED);
  assert_non_null(strstr(st.message, "identity"));
  soupc__deframer_dispose(&d);
  soupc__deframer_init(&d, 1024);
  assert_int_equal(soupc__deframer_feed(&d, bad, 6, collect, &c, &st),
                   SOUPC_ERR_PROTOCOL);
  assert_int_equal(st.code, SOUPC_GRPC_INTERNAL);
  soupc__deframer_dispose(&d);
}

static void out_queue_emits_prefix_and_payload_in_any_chunk_size(void **st) {
  struct out_queue q = {0};
  uint8_t buf[64];
  size_t n = 0, got;

  (void)st;
  soupc__out_queue_push(&q, soupc__out_msg_new((const uint8_t *)"abc", 3));
  soupc__out_queue_push(&q, soupc__out_msg_new((const uint8_t *)"", 0));
  assert_int_equal(q.bytes, 13);
  while ((got = soupc__out_queue_read(&q, buf + n, 2, NULL)) > 0) {
    n += got;
  }
  assert_int_equal(n, 13);
  assert_memory_equal(buf, "\0\0\0\0\3abc\0\0\0\0\0", 13);
  assert_null(q.head);
  assert_int_equal(q.bytes, 0);
}

static int released;
static void count_release(void *arg) {
  (void)arg;
  released++;
}

/* A zero-copy message goes out as head copy + payload reference; its owner
 * is released only once the output has let go of the last byte. */
static void
zero_copy_message_is_released_after_its_bytes_are_written(void **st) {
  static const uint8_t head[] = {0x0a, 0x06};
  static const uint8_t value[] = "ABCDEF";
  struct out_queue q = {0};
  struct evbuffer *out = evbuffer_new();
  uint8_t buf[64];
  struct out_msg *m;

  (void)st;
  released = 0;
  m = soupc__out_msg_new_ref(head, sizeof(head), value, 6, count_release, NULL);
  assert_non_null(m);
  soupc__out_queue_push(&q, m);
  assert_int_equal(q.bytes, 5 + 2 + 6);
  /* Two frames' worth: 4 bytes, then the rest. */
  assert_int_equal(soupc__out_queue_emit(&q, out, 4, 1, NULL), 0);
  assert_int_equal(soupc__out_queue_emit(&q, out, 9, 1, NULL), 0);
  assert_null(q.head); /* the message is done and freed ... */
  assert_int_equal(q.bytes, 0);
  assert_int_equal(released, 0); /* ... but the output still refers to it */
  assert_int_equal(evbuffer_get_length(out), 13);
  assert_int_equal(evbuffer_remove(out, buf, 10), 10);
  assert_int_equal(released, 0);
  assert_int_equal(evbuffer_remove(out, buf + 10, sizeof(buf) - 10), 3);
  assert_int_equal(released, 1);
  assert_memory_equal(buf,
                      "\0\0\0\0\x08\x0a\x06"
                      "ABCDEF",
                      13);
  evbuffer_free(out);
}

/* Copied out (TLS) or dropped unsent, the owner is released at once. */
static void zero_copy_message_copied_or_dropped_is_released_once(void **st) {
  struct out_queue q = {0};
  struct evbuffer *out = evbuffer_new();

  (void)st;
  released = 0;
  soupc__out_queue_push(&q,
                        soupc__out_msg_new_ref(NULL, 0, (const uint8_t *)"xyz",
                                               3, count_release, NULL));
  assert_int_equal(soupc__out_queue_emit(&q, out, 8, 0, NULL), 0);
  assert_int_equal(released, 1);
  evbuffer_free(out);
  soupc__out_queue_push(&q,
                        soupc__out_msg_new_ref(NULL, 0, (const uint8_t *)"xyz",
                                               3, count_release, NULL));
  soupc__out_queue_clear(&q, NULL);
  assert_int_equal(released, 2);
}

/* Freeing the output before it was written releases the owner too. */
static void zero_copy_reference_freed_unwritten_is_released(void **st) {
  struct out_queue q = {0};
  struct evbuffer *out = evbuffer_new();

  (void)st;
  released = 0;
  soupc__out_queue_push(&q,
                        soupc__out_msg_new_ref(NULL, 0, (const uint8_t *)"xyz",
                                               3, count_release, NULL));
  assert_int_equal(soupc__out_queue_emit(&q, out, 8, 1, NULL), 0);
  assert_int_equal(released, 0);
  evbuffer_free(out);
  assert_int_equal(released, 1);
}

static uint8_t *taken;
static size_t taken_len;
static struct deframer *taking_from;

static int take_message(void *user_data, const uint8_t *msg, size_t len) {
  (void)user_data;
  taken = soupc__deframer_take(taking_from, msg);
  taken_len = len;
  return 0;
}

/* A message put together from pieces can be taken without a copy; one that
 * arrived whole is borrowed from the input and cannot. */
static void deframer_hands_over_a_message_it_assembled(void **state) {
  struct deframer d;
  soupc_status st;
  uint8_t frame[5 + 40000];
  size_t i;

  (void)state;
  frame[0] = 0;
  frame[1] = 0;
  frame[2] = (uint8_t)(40000 >> 16);
  frame[3] = (uint8_t)(40000 >> 8);
  frame[4] = (uint8_t)40000;
  for (i = 0; i < 40000; i++) {
    frame[5 + i] = (uint8_t)i;
  }
  soupc__deframer_init(&d, 1 << 20);
  taking_from = &d;
  taken = NULL;
  for (i = 0; i < sizeof(frame); i += 16384) {
    size_t n = sizeof(frame) - i < 16384 ? sizeof(frame) - i : 16384;
    assert_int_equal(
        soupc__deframer_feed(&d, frame + i, n, take_message, NULL, &st), 0);
  }
  assert_non_null(taken);
  assert_int_equal(taken_len, 40000);
  assert_memory_equal(taken, frame + 5, 40000);
  soupc__free(taken);
  /* The deframer goes on with a fresh buffer. */
  taken = (uint8_t *)1;
  assert_int_equal(
      soupc__deframer_feed(&d, frame, sizeof(frame), take_message, NULL, &st),
      0);
  assert_null(taken); /* whole in one chunk: borrowed, nothing to take */
  assert_int_equal(taken_len, 40000);
  soupc__deframer_dispose(&d);
}

static void content_type_check_follows_the_grpc_spec(void **state) {
  (void)state;
  assert_true(soupc__grpc_content_type_ok("application/grpc", 16));
  assert_true(soupc__grpc_content_type_ok("application/grpc+proto", 22));
  assert_true(soupc__grpc_content_type_ok("application/grpc;x=y", 20));
  assert_false(soupc__grpc_content_type_ok("application/grpcx", 17));
  assert_false(soupc__grpc_content_type_ok("application/json", 16));
}

static void http_status_maps_like_grpc_go(void **state) {
  (void)state;
  assert_int_equal(soupc__grpc_code_from_http(400), SOUPC_GRPC_INTERNAL);
  assert_int_equal(soupc__grpc_code_from_http(401), SOUPC_GRPC_UNAUTHENTICATED);
  assert_int_equal(soupc__grpc_code_from_http(403),
                   SOUPC_GRPC_PERMISSION_DENIED);
  assert_int_equal(soupc__grpc_code_from_http(404), SOUPC_GRPC_UNIMPLEMENTED);
  assert_int_equal(soupc__grpc_code_from_http(429), SOUPC_GRPC_UNAVAILABLE);
  assert_int_equal(soupc__grpc_code_from_http(503), SOUPC_GRPC_UNAVAILABLE);
  assert_int_equal(soupc__grpc_code_from_http(500), SOUPC_GRPC_UNKNOWN);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(timeout_format_uses_the_smallest_exact_unit),
      cmocka_unit_test(timeout_parse_accepts_every_unit_and_rounds_up),
      cmocka_unit_test(timeout_parse_rejects_malformed_values),
      cmocka_unit_test(timeout_format_then_parse_never_shortens),
      cmocka_unit_test(percent_encoding_round_trips_non_ascii),
      cmocka_unit_test(percent_decoding_keeps_malformed_escapes),
      cmocka_unit_test(percent_encoding_truncates_without_splitting_escapes),
      cmocka_unit_test(deframer_reassembles_messages_split_at_every_byte),
      cmocka_unit_test(
          deframer_rejects_a_message_over_the_limit_from_its_prefix),
      cmocka_unit_test(deframer_accepts_a_message_exactly_at_the_limit),
      cmocka_unit_test(deframer_rejects_compressed_and_bad_flags),
      cmocka_unit_test(out_queue_emits_prefix_and_payload_in_any_chunk_size),
      cmocka_unit_test(
          zero_copy_message_is_released_after_its_bytes_are_written),
      cmocka_unit_test(zero_copy_message_copied_or_dropped_is_released_once),
      cmocka_unit_test(zero_copy_reference_freed_unwritten_is_released),
      cmocka_unit_test(deframer_hands_over_a_message_it_assembled),
      cmocka_unit_test(content_type_check_follows_the_grpc_spec),
      cmocka_unit_test(http_status_maps_like_grpc_go),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
