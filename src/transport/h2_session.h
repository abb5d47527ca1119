/* The HTTP/2 core shared by the server connection (server_conn.c) and the
 * client channel (channel.c): nghttp2 session setup and options, the
 * window settings, the flush loop with its back-pressure, the read loop,
 * the cross-thread operation queue, timers, and the one builder of gRPC
 * status headers. The role files keep only what differs between a server
 * and a client (their nghttp2 callbacks, calls and lifecycles). Private to
 * transport/. See docs/internals/transport.md. */
#ifndef SOUPC_TRANSPORT_H2_SESSION_H
#define SOUPC_TRANSPORT_H2_SESSION_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <nghttp2/nghttp2.h>

#include "transport/grpc_wire.h"

/* Flow-control windows we grant, both roles: big enough that a 10 MiB
 * message needs only a few WINDOW_UPDATE round trips (RFC 9113 §6.9.2's
 * default is 65535). */
#define SOUPC__H2_STREAM_WINDOW (8 * 1024 * 1024)
#define SOUPC__H2_CONN_WINDOW (64 * 1024 * 1024)
/* Bytes queued on the socket before we stop producing frames and wait for
 * the write callback (back-pressure from a slow reader), and the level at
 * which the write callback asks for more. */
#define SOUPC__H2_OUT_HIGH_WATER ((size_t)512 * 1024)
#define SOUPC__H2_OUT_LOW_WATER ((size_t)64 * 1024)
/* Bytes one socket read may take (libevent's default is 16 KiB). */
#define SOUPC__H2_MAX_SINGLE_READ ((size_t)128 * 1024)

struct h2_session;

/* A frame header from the peer (see h2_session_hooks.on_frame_seen). */
struct h2_frame_seen {
  uint32_t length;
  uint8_t type;
  uint8_t flags;
  int32_t stream_id;
  uint8_t peek[4];
  size_t npeek;
};

/* Where the frame census is in the byte stream. */
struct h2_census {
  size_t preface_left; /* client magic still to skip (a server: 24) */
  uint8_t buf[9 + 4];  /* a frame header and its peeked payload bytes */
  size_t have;         /* bytes in buf */
  size_t need;         /* bytes buf must reach: 9, then 9 + peek */
  size_t skip;         /* payload bytes still to pass over */
};

/* What the role does when the socket has news. Called on the loop thread
 * that owns the session. */
struct h2_session_hooks {
  /* Input was fed to nghttp2; @p rv is 0 or the nghttp2 error that stopped
   * nghttp2_session_mem_recv() (the rest of the input has been dropped). */
  void (*on_read)(struct h2_session *s, int rv);
  /* The output fell to the low-water mark (or to zero, see
   * soupc__h2_session_close_when_drained()). */
  void (*on_write)(struct h2_session *s);
  /* BEV_EVENT_EOF, _ERROR or _TIMEOUT (and the other bits libevent set). */
  void (*on_event)(struct h2_session *s, short what);
  /* May be NULL. Every frame header the peer sends, seen in the byte
   * stream before nghttp2 parses it, so that frames nghttp2 drops without
   * a callback (unknown types, DATA for a forgotten stream) are seen too.
   * @p peek holds the payload's first bytes: 4 for WINDOW_UPDATE (the
   * increment), 1 for a padded DATA frame (the pad length), else none. */
  void (*on_frame_seen)(struct h2_session *s, const struct h2_frame_seen *f);
};

/* One HTTP/2 connection, embedded in its owner (struct conn, soupc_channel).
 * nghttp2 callbacks get the session as user_data; owner leads back. */
struct h2_session {
  nghttp2_session *ng;
  struct bufferevent *bev; /* NULL for a memory connection */
  struct evbuffer *out;    /* bev's output, or our own in memory mode */
  const struct h2_session_hooks *hooks;
  void *owner;
  uint64_t sent_bytes; /* frames handed to the output so far */
  struct h2_census census;
  unsigned in_recv : 1;  /* inside mem_recv: no send, no close */
  unsigned in_send : 1;  /* inside nghttp2_session_send: no re-entry */
  unsigned dead : 1;     /* fatal error (nghttp2, out of memory): close now */
  unsigned draining : 1; /* reads dropped; on_write once the output is empty */
  unsigned owns_out : 1;
  /* DATA payloads may go to out as references (a plain socket or memory:
   * the kernel copies them); over TLS they are copied once, since OpenSSL
   * encrypts from one buffer into another anyway. */
  unsigned by_ref : 1;
};

/* A role's nghttp2 callbacks; NULL ones are not set. */
struct h2_callbacks {
  nghttp2_on_begin_headers_callback on_begin_headers;
  nghttp2_on_header_callback on_header;
  nghttp2_on_frame_recv_callback on_frame_recv;
  nghttp2_on_data_chunk_recv_callback on_data_chunk_recv;
  nghttp2_on_stream_close_callback on_stream_close;
  nghttp2_on_frame_send_callback on_frame_send;
  /* For data providers that set NGHTTP2_DATA_FLAG_NO_COPY; usually a
   * lookup of the stream's queue and soupc__h2_send_data(). */
  nghttp2_send_data_callback send_data;
};

/* Creates nghttp2's callback table from @p role plus the shared send
 * callback. @return 0 or SOUPC_ERR_NOMEM. */
int soupc__h2_callbacks_new(nghttp2_session_callbacks **out,
                            const struct h2_callbacks *role);

/* Creates the nghttp2 session (our allocator, the shared options) around
 * @p bev (its callbacks and write watermark are installed, nothing is
 * enabled), or with bev NULL, a memory session whose output collects in
 * s->out. Queues our SETTINGS: INITIAL_WINDOW_SIZE plus @p extra, and
 * raises the connection window. @return 0 or SOUPC_ERR_NOMEM (then
 * nothing is left to free; @p bev stays the caller's). */
int soupc__h2_session_init(struct h2_session *s, int server,
                           const nghttp2_session_callbacks *cb,
                           struct bufferevent *bev,
                           const struct h2_session_hooks *hooks, void *owner,
                           const nghttp2_settings_entry *extra, size_t nextra);

/* Frees the nghttp2 session (not the output). Idempotent. */
void soupc__h2_session_del(struct h2_session *s);

/* soupc__h2_session_del() and frees a memory session's output. The
 * bufferevent is left alone (see soupc__h2_session_free_bev()).
 * Idempotent. */
void soupc__h2_session_dispose(struct h2_session *s);

/* Shuts the socket for writing (the peer sees the end now, even if the
 * loop that would finalise the bufferevent is about to exit) and frees the
 * bufferevent, which closes the fd. Accepts a session without one. */
void soupc__h2_session_free_bev(struct h2_session *s);

/* The owner (conn or channel) of the session nghttp2 passes as user_data. */
static inline void *soupc__h2_owner(void *user_data) {
  return ((struct h2_session *)user_data)->owner;
}

/* Feeds @p len bytes to nghttp2. @return 0 or the nghttp2 error. */
int soupc__h2_session_recv(struct h2_session *s, const uint8_t *data,
                           size_t len);

/* Writes frames until the output holds SOUPC__H2_OUT_HIGH_WATER bytes (the
 * write callback continues) or nghttp2 has nothing more. Does nothing
 * inside nghttp2 (in_recv/in_send) or once dead. @return 0, or
 * SOUPC_ERR_NOMEM / SOUPC_ERR_PROTOCOL: s->dead is then set. */
int soupc__h2_session_flush(struct h2_session *s);

/* @return non-zero if nghttp2 still wants to read or write. */
int soupc__h2_session_want_io(const struct h2_session *s);

/* Stops reading (input still buffered is dropped) and asks for on_write
 * once the last queued byte has gone (a GOAWAY on its way out). A memory
 * session only notes it. */
void soupc__h2_session_close_when_drained(struct h2_session *s);

/* The body of a data provider, both roles: copies queued messages into
 * nghttp2's frame buffer (soupc__out_queue_read(); @p keep as there). When
 * the queue is empty and @p done, sets NGHTTP2_DATA_FLAG_EOF; when it is
 * empty and not done, returns NGHTTP2_ERR_DEFERRED (the caller notes it
 * and resumes the stream once there is more). @return bytes or DEFERRED. */
ssize_t soupc__h2_body_read(struct out_queue *q, const struct out_msg *keep,
                            int done, uint8_t *buf, size_t len,
                            uint32_t *data_flags);

/* The body of a zero-copy data provider: like soupc__h2_body_read() but
 * copies nothing; it sets NGHTTP2_DATA_FLAG_NO_COPY and returns how many
 * queued bytes the frame will carry, and nghttp2 then asks the role's
 * send_data callback to write them (soupc__h2_send_data()). */
ssize_t soupc__h2_body_len(const struct out_queue *q, int done, size_t len,
                           uint32_t *data_flags);

/* A send_data callback's body: writes the 9-byte DATA frame header and the
 * next @p length bytes of @p q (zero-copy payloads as references when
 * s->by_ref) to the output. @return 0, NGHTTP2_ERR_WOULDBLOCK past the
 * high-water mark (nghttp2 calls again later), TEMPORAL_CALLBACK_FAILURE
 * if the queue no longer holds @p length bytes (it was cleared under a
 * pending frame: the stream is reset), or CALLBACK_FAILURE when out of
 * memory or asked for padding (we never set a padding callback). */
int soupc__h2_send_data(struct h2_session *s, const uint8_t *framehd,
                        size_t length, size_t padlen, struct out_queue *q,
                        const struct out_msg *keep);

/* ------------------------------------------------------------------ */
/* Cross-thread operation queue                                        */
/* ------------------------------------------------------------------ */

/* Embedded as the first member of each role's operation struct. */
struct h2_op {
  struct h2_op *next;
};

typedef void (*soupc__h2_op_fn)(struct h2_op *op, void *arg);

/* Work posted to a loop thread from other threads, in order. */
struct h2_opq {
  pthread_mutex_t mu; /* guards head, tail, stopped */
  struct h2_op *head, *tail;
  /* The loop has gone. Written under mu by the loop thread itself (or
   * after it has been joined), so that thread may read it without mu. */
  int stopped;
  struct event *wake_ev; /* runs on the loop; takes the queued ops */
};

/* @return 0 or SOUPC_ERR_NOMEM. @p wake runs on @p base's thread. */
int soupc__h2_opq_init(struct h2_opq *q, struct event_base *base,
                       event_callback_fn wake, void *arg);
void soupc__h2_opq_dispose(struct h2_opq *q);

/* Queues @p op and wakes the loop. @return 0, or SOUPC_ERR_CLOSED if the
 * queue has stopped (@p op is then untouched and still the caller's). */
int soupc__h2_opq_post(struct h2_opq *q, struct h2_op *op);

/* Queues @p op, or if the queue has stopped runs @p fn(op, arg) at once
 * under the queue's lock (so late operations from several threads still
 * run one at a time). Inside a batch scope (base/batch.h) the op is held
 * by this thread and queued, in order, when the scope ends. */
void soupc__h2_opq_post_or_run(struct h2_opq *q, struct h2_op *op,
                               soupc__h2_op_fn fn, void *arg);

/* Takes every queued op, oldest first, for the loop thread to run. */
struct h2_op *soupc__h2_opq_take(struct h2_opq *q);

/* Marks the queue stopped and takes what was still queued. */
struct h2_op *soupc__h2_opq_stop(struct h2_opq *q);

/* Marks the queue stopped and runs what was still queued, under the lock
 * (the counterpart of soupc__h2_opq_post_or_run()). */
void soupc__h2_opq_stop_and_run(struct h2_opq *q, soupc__h2_op_fn fn,
                                void *arg);

/* ------------------------------------------------------------------ */
/* Timers                                                              */
/* ------------------------------------------------------------------ */

/* (Re)arms *@p evp to fire once after @p ms milliseconds (0: on the next
 * loop iteration), creating it on @p base first if it is NULL.
 * @return 0 or SOUPC_ERR_NOMEM. */
int soupc__h2_timer_arm(struct event **evp, struct event_base *base,
                        event_callback_fn cb, void *arg, int64_t ms);

/* Frees *@p evp if set and clears it. */
void soupc__h2_timer_free(struct event **evp);

/* ------------------------------------------------------------------ */
/* gRPC status headers                                                 */
/* ------------------------------------------------------------------ */

/* The headers that carry a gRPC status; the strings they point to live in
 * the struct. */
struct h2_status_hdrs {
  nghttp2_nv nv[4];
  size_t n;
  char http[8];
  char code[12];
  char msg[1024]; /* percent-encoded grpc-message */
};

/* Builds the status headers (gRPC HTTP/2 spec, "Responses"): trailers
 * (grpc-status, grpc-message) when @p http_status is 0, otherwise a
 * Trailers-Only response that starts with :status and content-type. An
 * empty or NULL @p msg sends no grpc-message. */
void soupc__h2_status_hdrs(struct h2_status_hdrs *h, int http_status, int code,
                           const char *msg);

#endif
