/* A client for server connections driven from memory (soupc__mem_conn):
 * an nghttp2 client session that records what the server sent, and a pump
 * that moves bytes both ways. Shared by test_server_conn and
 * test_server_guard. */
#ifndef SOUPC_TESTS_TRANSPORT_H2C_UTIL_H
#define SOUPC_TESTS_TRANSPORT_H2C_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <nghttp2/nghttp2.h>

#include "soupc/rpc.h"
#include "transport/transport.h"

struct h2c {
  nghttp2_session *s;
  struct soupc__mem_conn *mc;
  int http_status;
  int grpc_status; /* -1 until seen */
  char grpc_message[256];
  int header_frames; /* HEADERS frames received on the stream */
  uint8_t data[8192];
  size_t data_len;
  int closed;
  uint32_t rst_code;
  int ping_acks;
  int pings; /* PINGs from the server (not ACKs) */
  int goaway;
  uint32_t goaway_code;
  char goaway_data[64];
  size_t trailers_ok; /* grpc-status 0 seen, any stream */
};

static inline int on_header(nghttp2_session *s, const nghttp2_frame *f,
                            const uint8_t *name, size_t namelen,
                            const uint8_t *value, size_t valuelen,
                            uint8_t flags, void *ud) {
  struct h2c *c = ud;
  char v[256];

  (void)s;
  (void)f;
  (void)flags;
  snprintf(v, sizeof(v), "%.*s", (int)valuelen, (const char *)value);
  if (namelen == 7 && memcmp(name, ":status", 7) == 0) {
    c->http_status = (int)strtol(v, NULL, 10);
  } else if (namelen == 11 && memcmp(name, "grpc-status", 11) == 0) {
    c->grpc_status = (int)strtol(v, NULL, 10);
    c->trailers_ok += c->grpc_status == 0;
  } else if (namelen == 12 && memcmp(name, "grpc-message", 12) == 0) {
    snprintf(c->grpc_message, sizeof(c->grpc_message), "%s", v);
  }
  return 0;
}

static inline int on_frame_recv(nghttp2_session *s, const nghttp2_frame *f,
                                void *ud) {
  struct h2c *c = ud;

  (void)s;
  if (f->hd.type == NGHTTP2_HEADERS && f->hd.stream_id == 1) {
    c->header_frames++;
  } else if (f->hd.type == NGHTTP2_PING && (f->hd.flags & NGHTTP2_FLAG_ACK)) {
    c->ping_acks++;
  } else if (f->hd.type == NGHTTP2_PING) {
    c->pings++;
  } else if (f->hd.type == NGHTTP2_GOAWAY) {
    size_t n = f->goaway.opaque_data_len;
    c->goaway = 1;
    c->goaway_code = f->goaway.error_code;
    n = n < sizeof(c->goaway_data) - 1 ? n : sizeof(c->goaway_data) - 1;
    memcpy(c->goaway_data, f->goaway.opaque_data, n);
    c->goaway_data[n] = '\0';
  }
  return 0;
}

static inline int on_data(nghttp2_session *s, uint8_t flags, int32_t id,
                          const uint8_t *data, size_t len, void *ud) {
  struct h2c *c = ud;

  (void)s;
  (void)flags;
  (void)id;
  if (c->data_len + len <= sizeof(c->data)) {
    memcpy(c->data + c->data_len, data, len);
    c->data_len += len;
  }
  return 0;
}

static inline int on_close(nghttp2_session *s, int32_t id, uint32_t code,
                           void *ud) {
  struct h2c *c = ud;

  (void)s;
  if (id == 1) {
    c->closed = 1;
    c->rst_code = code;
  }
  return 0;
}

static inline void h2c_init_for(struct h2c *c, soupc_server *srv) {
  nghttp2_session_callbacks *cb;
  nghttp2_option *opt;

  memset(c, 0, sizeof(*c));
  c->grpc_status = -1;
  nghttp2_session_callbacks_new(&cb);
  nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
  nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_close);
  /* Let the tests send header blocks over the server's limit. */
  nghttp2_option_new(&opt);
  nghttp2_option_set_max_send_header_block_length(opt, 1 << 24);
  assert_int_equal(nghttp2_session_client_new2(&c->s, cb, c, opt), 0);
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cb);
  nghttp2_submit_settings(c->s, NGHTTP2_FLAG_NONE, NULL, 0);
  assert_int_equal(soupc__mem_conn_new(&c->mc, srv), 0);
}

static inline void h2c_dispose(struct h2c *c) {
  soupc__mem_conn_free(c->mc);
  nghttp2_session_del(c->s);
}

/* Moves bytes both ways until neither side has anything to say. */
static inline void pump(struct h2c *c) {
  for (int round = 0; round < 100; round++) {
    const uint8_t *p;
    uint8_t buf[16384];
    ssize_t n;
    size_t got, moved = 0;

    while ((n = nghttp2_session_mem_send(c->s, &p)) > 0) {
      soupc__mem_conn_feed(c->mc, p, (size_t)n);
      moved += (size_t)n;
    }
    while ((got = soupc__mem_conn_take_output(c->mc, buf, sizeof(buf))) > 0) {
      assert_true(nghttp2_session_mem_recv(c->s, buf, got) >= 0);
      moved += got;
    }
    if (moved == 0) {
      return;
    }
  }
}

/* Set: the request body never ends (no END_STREAM). */
static int keep_open;

struct body {
  const uint8_t *p;
  size_t len, off;
};

static inline ssize_t body_read(nghttp2_session *s, int32_t id, uint8_t *buf,
                                size_t len, uint32_t *flags,
                                nghttp2_data_source *src, void *ud) {
  struct body *b = src->ptr;
  size_t n = b->len - b->off < len ? b->len - b->off : len;

  (void)s;
  (void)id;
  (void)ud;
  memcpy(buf, b->p + b->off, n);
  b->off += n;
  if (b->off == b->len) {
    if (keep_open) {
      return n > 0 ? (ssize_t)n : NGHTTP2_ERR_DEFERRED;
    }
    *flags |= NGHTTP2_DATA_FLAG_EOF;
  }
  return (ssize_t)n;
}

#define NV(N, V)                                                               \
  { (uint8_t *)(N), (uint8_t *)(V), strlen(N), strlen(V), 0 }

/* Sends one request on stream 1 and pumps. @p ctype/@p extra may be NULL. */
static inline void request(struct h2c *c, const char *method, const char *path,
                           const char *ctype, const char *extra_name,
                           const char *extra_value, const uint8_t *body,
                           size_t body_len) {
  nghttp2_nv nv[7] = {NV(":method", method), NV(":scheme", "http"),
                      NV(":path", path), NV(":authority", "anything:1")};
  size_t n = 4;
  struct body b = {body, body_len, 0};
  nghttp2_data_provider prd = {{.ptr = &b}, body_read};

  if (ctype != NULL) {
    nv[n++] = (nghttp2_nv)NV("content-type", ctype);
  }
  if (extra_name != NULL) {
    nv[n++] = (nghttp2_nv)NV(extra_name, extra_value);
  }
  assert_int_equal(nghttp2_submit_request(c->s, NULL, nv, n,
                                          body != NULL ? &prd : NULL, NULL),
                   1);
  pump(c);
}

static inline size_t grpc_frame(uint8_t *out, int flag, const char *msg) {
  size_t len = strlen(msg);

  out[0] = (uint8_t)flag;
  out[1] = out[2] = 0;
  out[3] = (uint8_t)(len >> 8);
  out[4] = (uint8_t)len;
  memcpy(out + 5, msg, len);
  return len + 5;
}

#endif
