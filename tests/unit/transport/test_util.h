/* Shared fixtures for the transport tests: an echo server with a few
 * methods, and helpers to wait for background work. */
#ifndef SOUPC_TESTS_TRANSPORT_TEST_UTIL_H
#define SOUPC_TESTS_TRANSPORT_TEST_UTIL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "soupc/rpc.h"

/* Threads started by handlers that have not finished their call yet. A
 * test waits for zero before freeing the server (calls must be finished
 * before soupc_server_free()). */
static atomic_int tu_pending;

static inline int64_t tu_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void tu_sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static inline void tu_wait_pending(void) {
  while (atomic_load(&tu_pending) > 0) {
    tu_sleep_ms(5);
  }
}

/* /test.Echo/Unary: replies with the request. */
static inline void tu_echo(soupc_call *call, const uint8_t *req, size_t len,
                           void *ud) {
  (void)ud;
  soupc_call_reply(call, req, len);
}

/* /test.Echo/Fail: NOT_FOUND with a message that needs percent-encoding. */
static inline void tu_fail(soupc_call *call, const uint8_t *req, size_t len,
                           void *ud) {
  (void)ud;
  soupc_call_fail(call, SOUPC_GRPC_NOT_FOUND, "key not found: %.*s", (int)len,
                  (const char *)req);
}

/* /test.Echo/Big: the request is a decimal size; replies with that many
 * 'x' bytes. */
static inline void tu_big(soupc_call *call, const uint8_t *req, size_t len,
                          void *ud) {
  char num[32];
  size_t n;
  uint8_t *buf;

  (void)ud;
  snprintf(num, sizeof(num), "%.*s", (int)len, (const char *)req);
  n = (size_t)strtoull(num, NULL, 10);
  buf = malloc(n + 1);
  memset(buf, 'x', n);
  soupc_call_reply(call, buf, n);
  free(buf);
}

struct tu_slow {
  soupc_call *call;
  int delay_ms;
  uint8_t data[64];
  size_t len;
};

static inline void *tu_slow_thread(void *arg) {
  struct tu_slow *s = arg;

  tu_sleep_ms(s->delay_ms);
  soupc_call_reply(s->call, s->data, s->len);
  free(s);
  atomic_fetch_sub(&tu_pending, 1);
  return NULL;
}

/* /test.Echo/Slow: the request is a decimal delay in ms; another thread
 * replies with the request after that delay. */
static inline void tu_slow(soupc_call *call, const uint8_t *req, size_t len,
                           void *ud) {
  struct tu_slow *s = calloc(1, sizeof(*s));
  char num[32];
  pthread_t t;

  (void)ud;
  snprintf(num, sizeof(num), "%.*s", (int)len, (const char *)req);
  s->call = call;
  s->delay_ms = (int)strtol(num, NULL, 10);
  s->len = len < sizeof(s->data) ? len : sizeof(s->data);
  memcpy(s->data, req, s->len);
  atomic_fetch_add(&tu_pending, 1);
  pthread_create(&t, NULL, tu_slow_thread, s);
  pthread_detach(t);
}

/* /test.Echo/Shutdown: starts a graceful shutdown from inside a handler. */
static inline void tu_shutdown(soupc_call *call, const uint8_t *req, size_t len,
                               void *ud) {
  (void)ud;
  soupc_call_reply(call, req, len);
  soupc_server_shutdown(soupc_call_server(call), 1000);
}

/* Server-streaming /test.Echo/Count: the request is "N SIZE"; sends N
 * messages of SIZE bytes (byte i of message k is (k + i) & 0xff), then OK. */
static inline void tu_count_msg(soupc_call *call, const uint8_t *msg,
                                size_t len, void *ud) {
  char text[64];
  unsigned long n = 0, size = 0;
  uint8_t *buf;

  (void)ud;
  snprintf(text, sizeof(text), "%.*s", (int)len, (const char *)msg);
  sscanf(text, "%lu %lu", &n, &size);
  buf = malloc(size + 1);
  for (unsigned long k = 0; k < n; k++) {
    for (unsigned long i = 0; i < size; i++) {
      buf[i] = (uint8_t)((k + i) & 0xff);
    }
    if (soupc_call_send(call, buf, size) != 0) {
      break;
    }
  }
  free(buf);
  soupc_call_finish(call, SOUPC_GRPC_OK, NULL);
}

/* Bidi /test.Echo/Bidi: echoes each message; OK on half-close. */
static atomic_int tu_bidi_cancels;

static inline void tu_bidi_msg(soupc_call *call, const uint8_t *msg, size_t len,
                               void *ud) {
  (void)ud;
  soupc_call_send(call, msg, len);
}

static inline void tu_bidi_half_close(soupc_call *call, void *ud) {
  (void)ud;
  soupc_call_finish(call, SOUPC_GRPC_OK, "bye");
}

static inline void tu_bidi_cancel(soupc_call *call, void *ud) {
  (void)ud;
  atomic_fetch_add(&tu_bidi_cancels, 1);
  soupc_call_finish(call, SOUPC_GRPC_CANCELLED, NULL);
}

/* Creates, fills and starts an echo server on @p address. */
static inline soupc_server *tu_server_start(const char *address,
                                            const soupc_server_options *opts) {
  static const soupc_stream_handlers count = {sizeof(soupc_stream_handlers),
                                              NULL, tu_count_msg, NULL, NULL};
  static const soupc_stream_handlers bidi = {
      sizeof(soupc_stream_handlers), NULL, tu_bidi_msg, tu_bidi_half_close,
      tu_bidi_cancel};
  soupc_server *srv = NULL;
  soupc_status st;

  if (soupc_server_new(&srv, opts, &st) != 0) {
    fprintf(stderr, "server_new: %s\n", st.message);
    return NULL;
  }
  soupc_server_add_unary(srv, "/test.Echo/Unary", tu_echo, NULL);
  soupc_server_add_unary(srv, "/test.Echo/Fail", tu_fail, NULL);
  soupc_server_add_unary(srv, "/test.Echo/Big", tu_big, NULL);
  soupc_server_add_unary(srv, "/test.Echo/Slow", tu_slow, NULL);
  soupc_server_add_unary(srv, "/test.Echo/Shutdown", tu_shutdown, NULL);
  soupc_server_add_stream(srv, "/test.Echo/Count", &count, NULL);
  soupc_server_add_stream(srv, "/test.Echo/Bidi", &bidi, NULL);
  if (soupc_server_listen(srv, address, &st) != 0) {
    fprintf(stderr, "listen: %s\n", st.message);
    soupc_server_free(srv);
    return NULL;
  }
  if (soupc_server_start(srv) != 0) {
    soupc_server_free(srv);
    return NULL;
  }
  return srv;
}

static inline soupc_channel *tu_channel(const char *address,
                                        const soupc_channel_options *opts) {
  soupc_channel *ch = NULL;
  soupc_status st;

  if (soupc_channel_open(&ch, address, opts, &st) != 0) {
    fprintf(stderr, "channel_open %s: %s\n", address, st.message);
    return NULL;
  }
  return ch;
}

/* Unary call with a string request; @return the gRPC code (after checking
 * that soupc_channel_unary() returned 0 exactly when the code is OK). */
static inline int tu_call(soupc_channel *ch, const char *path, const char *req,
                          char *resp, size_t cap, int64_t timeout_ms,
                          soupc_status *st) {
  uint8_t *out = NULL;
  size_t out_len = 0;
  soupc_status local;
  int rv, code;

  if (st == NULL) {
    st = &local;
  }
  rv = soupc_channel_unary(ch, path, (const uint8_t *)req, strlen(req), &out,
                           &out_len, timeout_ms, st);
  code = st->code;
  if ((rv == 0) != (code == SOUPC_GRPC_OK) || rv > 0) {
    fprintf(stderr, "soupc_channel_unary returned %d with status %d\n", rv,
            code);
    abort();
  }
  if (resp != NULL && cap > 0) {
    size_t n = code == 0 ? (out_len < cap - 1 ? out_len : cap - 1) : 0;
    if (n > 0) {
      memcpy(resp, out, n);
    }
    resp[n] = '\0';
  }
  free(out);
  return code;
}

#endif
