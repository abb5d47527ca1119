/* One server-side HTTP/2 connection (nghttp2) and the gRPC calls on it.
 * Everything here runs on the connection's worker thread; other threads
 * reach a call only through soupc__call_run_op() posted to that worker. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>

#include "base/alloc.h"
#include "transport/addr.h"
#include "transport/server_int.h"
#include "transport/transport.h"

/* Small unary requests are stored inside the call, saving a malloc. */
#define REQ_INLINE 256
/* SETTINGS_MAX_CONCURRENT_STREAMS we advertise. */
#define MAX_CONCURRENT_STREAMS 1024

struct soupc_call {
  struct worker *w;
  struct conn *conn;              /* NULL once the stream is closed */
  struct soupc_call *prev, *next; /* conn->calls while the stream is open */
  int32_t stream_id;
  uint32_t header_bytes; /* header list so far, as RFC 7541 §4.1 counts */
  const struct method *method;
  int refs; /* stream (until closed) + app (from dispatch until finish) */
  /* Request headers, validated when they are complete. */
  unsigned saw_post : 1, ctype_ok : 1, bad_timeout : 1;
  char *unknown_path; /* :path that matched no method, for the error */
  char *bad_ctype;    /* content-type that is not gRPC, for the error */
  char *bad_encoding; /* grpc-encoding other than identity */
  int64_t timeout_ms; /* grpc-timeout, or -1 */
  /* State. */
  unsigned dispatched : 1;    /* the app has seen the call */
  unsigned app_done : 1;      /* the app has finished it */
  unsigned stream_closed : 1; /* nghttp2 closed the stream */
  unsigned half_closed : 1;   /* the client sent END_STREAM */
  unsigned headers_sent : 1;  /* response HEADERS submitted */
  unsigned status_queued : 1; /* final status decided */
  unsigned deferred : 1;      /* data provider returned DEFERRED */
  unsigned cancel_notified : 1;
  unsigned parked : 1;      /* in conn->parked_*, waiting for its handler */
  unsigned req_counted : 1; /* req (req_len bytes) is in g.req_buffered */
  atomic_int cancelled;     /* read by foreign threads in soupc_call_send() */
  struct deframer df;
  uint8_t *req; /* unary request: req_inline or malloc'd */
  size_t req_len;
  struct soupc_call *park_prev, *park_next;
  uint8_t req_inline[REQ_INLINE];
  struct out_queue outq;
  int final_code;
  char *final_msg;
  struct event *deadline_ev;
  char peer[PEER_TEXT_MAX];
  /* Finishing from a foreign thread posts this, so it needs no memory;
   * finish_posted makes a second finish a no-op instead of a corrupt
   * queue. */
  struct wop finish_op;
  atomic_int finish_posted;
};

#define NV_CONST(NAME, VALUE)                                                  \
  {                                                                            \
    (uint8_t *)(NAME), (uint8_t *)(VALUE), sizeof(NAME) - 1,                   \
        sizeof(VALUE) - 1,                                                     \
        NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE           \
  }

static nghttp2_session_callbacks *server_callbacks;
static pthread_once_t server_callbacks_once = PTHREAD_ONCE_INIT;

/* ------------------------------------------------------------------ */
/* Call lifetime                                                       */
/* ------------------------------------------------------------------ */

/* The call's response queue, counted against its connection's and the
 * server's buffer limits (server_guard.c). */
static void call_queue_push(struct soupc_call *c, struct out_msg *m) {
  size_t before = c->outq.bytes;

  soupc__out_queue_push(&c->outq, m);
  soupc__guard_queued(c->w->srv, c->conn, c->outq.bytes - before, 1);
}

static void call_queue_clear(struct soupc_call *c) {
  soupc__guard_queued(c->w->srv, c->conn, c->outq.bytes, 0);
  soupc__out_queue_clear(&c->outq, NULL);
}

static void call_free(struct soupc_call *c) {
  soupc__h2_timer_free(&c->deadline_ev);
  soupc__deframer_dispose(&c->df);
  if (c->req != NULL && c->req != c->req_inline) {
    soupc__free(c->req);
  }
  call_queue_clear(c);
  soupc__free(c->unknown_path);
  soupc__free(c->bad_ctype);
  soupc__free(c->bad_encoding);
  soupc__free(c->final_msg);
  soupc__free(c);
}

static void call_unref(struct soupc_call *c) {
  if (--c->refs == 0) {
    call_free(c);
  }
}

/* Flushes the call's connection unless nghttp2 is on the stack (then the
 * reader flushes when mem_recv returns). */
static void call_flush(struct soupc_call *c) {
  if (c->conn != NULL && !c->conn->h2.in_recv && !c->conn->h2.in_send) {
    soupc__conn_after_io(c->conn);
  }
}

/* ------------------------------------------------------------------ */
/* Responses                                                           */
/* ------------------------------------------------------------------ */

static int submit_trailers(struct soupc_call *c) {
  struct h2_status_hdrs h;

  soupc__h2_status_hdrs(&h, 0, c->final_code, c->final_msg);
  return nghttp2_submit_trailer(c->conn->h2.ng, c->stream_id, h.nv, h.n);
}

/* An nghttp2_data_source_read_callback, whose signature fixes buf's type;
 * with NGHTTP2_DATA_FLAG_NO_COPY it is never written. */
/* NOLINTBEGIN(readability-non-const-parameter) */
static ssize_t call_data_read(nghttp2_session *session, int32_t stream_id,
                              uint8_t *buf, size_t length, uint32_t *data_flags,
                              nghttp2_data_source *source, void *user_data) {
  /* NOLINTEND(readability-non-const-parameter) */
  struct soupc_call *c =
      nghttp2_session_get_stream_user_data(session, stream_id);
  ssize_t n;

  (void)source;
  (void)user_data;
  if (c == NULL) {
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  }
  (void)buf; /* NGHTTP2_DATA_FLAG_NO_COPY: on_send_data writes the bytes */
  n = soupc__h2_body_len(&c->outq, c->status_queued, length, data_flags);
  if (n == NGHTTP2_ERR_DEFERRED) {
    c->deferred = 1;
  } else if (*data_flags & NGHTTP2_DATA_FLAG_EOF) {
    /* gRPC HTTP/2 spec: the status travels in trailers after the data. */
    *data_flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
    if (submit_trailers(c) != 0) {
      return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
  }
  return n;
}

/* nghttp2 writes a DATA frame that call_data_read sized: the frame header
 * and the queued bytes go to the output, large payloads by reference. */
static int on_send_data(nghttp2_session *session, nghttp2_frame *frame,
                        const uint8_t *framehd, size_t length,
                        nghttp2_data_source *source, void *user_data) {
  struct soupc_call *c =
      nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);

  size_t before;
  int rv;

  (void)source;
  if (c == NULL) {
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  }
  before = c->outq.bytes;
  rv = soupc__h2_send_data(user_data, framehd, length, frame->data.padlen,
                           &c->outq, NULL);
  /* The bytes left the call's queue for the socket's output. */
  soupc__guard_queued(c->w->srv, c->conn, before - c->outq.bytes, 0);
  return rv;
}

/* Sends HEADERS :status 200 with a data provider (data and trailers follow),
 * or resumes the provider if it is waiting. */
static void call_kick(struct soupc_call *c) {
  if (c->conn == NULL) {
    return;
  }
  if (!c->headers_sent) {
    static const nghttp2_nv nv[] = {
        NV_CONST(":status", "200"),
        NV_CONST("content-type", "application/grpc"),
    };
    nghttp2_data_provider prd;

    prd.source.ptr = NULL;
    prd.read_callback = call_data_read;
    c->headers_sent = 1;
    if (nghttp2_submit_response(c->conn->h2.ng, c->stream_id, nv, 2, &prd) !=
        0) {
      nghttp2_submit_rst_stream(c->conn->h2.ng, NGHTTP2_FLAG_NONE, c->stream_id,
                                NGHTTP2_INTERNAL_ERROR);
    }
    return;
  }
  if (c->deferred) {
    c->deferred = 0;
    nghttp2_session_resume_data(c->conn->h2.ng, c->stream_id);
  }
}

/* Trailers-only response (gRPC HTTP/2 spec): one HEADERS frame with
 * END_STREAM carrying :status, content-type and the status. */
static void call_trailers_only(struct soupc_call *c, int http_status) {
  struct h2_status_hdrs h;

  soupc__h2_status_hdrs(&h, http_status, c->final_code, c->final_msg);
  c->headers_sent = 1;
  if (nghttp2_submit_response(c->conn->h2.ng, c->stream_id, h.nv, h.n, NULL) !=
      0) {
    nghttp2_submit_rst_stream(c->conn->h2.ng, NGHTTP2_FLAG_NONE, c->stream_id,
                              NGHTTP2_INTERNAL_ERROR);
  }
}

/* Decides the final status and gets it onto the wire. @p msg is copied. */
static void call_set_status(struct soupc_call *c, int http_status, int code,
                            const char *msg) {
  if (c->status_queued || c->stream_closed || c->conn == NULL) {
    return;
  }
  c->status_queued = 1;
  c->final_code = code;
  soupc__free(c->final_msg);
  c->final_msg = msg != NULL ? soupc__strdup(msg) : NULL;
  if (c->deadline_ev != NULL) {
    event_del(c->deadline_ev);
  }
  if (!c->headers_sent && (c->outq.head == NULL || code != SOUPC_GRPC_OK)) {
    call_queue_clear(c);
    call_trailers_only(c, http_status);
  } else {
    call_kick(c);
  }
}

/* The transport ends a call the app may hold (deadline, bad message, ...):
 * the status goes out now, queued data is dropped, streams get on_cancel,
 * and whatever the app does later is discarded. */
static void call_abort(struct soupc_call *c, int code, const char *msg) {
  atomic_store(&c->cancelled, 1);
  if (!c->status_queued) {
    call_queue_clear(c);
    call_set_status(c, 200, code, msg);
  }
  if (c->dispatched && !c->app_done && !c->cancel_notified &&
      c->method->streaming) {
    c->cancel_notified = 1;
    if (c->method->sh.on_cancel != NULL) {
      c->refs++;
      c->method->sh.on_cancel(c, c->method->user_data);
      call_unref(c);
    }
  }
}

static void call_abort_status(struct soupc_call *c, const soupc_status *st) {
  call_abort(c, st->code, st->message);
}

/* ------------------------------------------------------------------ */
/* App operations, on the owner thread                                  */
/* ------------------------------------------------------------------ */

static void call_finish_local(struct soupc_call *c, struct out_msg *m, int code,
                              const char *message) {
  if (c->app_done) {
    soupc__out_msg_free(m);
    return;
  }
  c->app_done = 1;
  if (atomic_load(&c->cancelled) || c->stream_closed || c->status_queued) {
    soupc__out_msg_free(m); /* late reply after a deadline or a reset */
  } else {
    if (m != NULL) {
      size_t len = m->hdr_len - SOUPC__GRPC_PREFIX_LEN + m->len;
      if (len > c->w->srv->max_msg) {
        char text[160];
        snprintf(text, sizeof(text),
                 "response message is %zu bytes; the limit is %zu bytes", len,
                 c->w->srv->max_msg);
        soupc__out_msg_free(m);
        call_set_status(c, 200, SOUPC_GRPC_RESOURCE_EXHAUSTED, text);
        goto done;
      }
      call_queue_push(c, m);
    }
    call_set_status(c, 200, code, message);
  }
done:
  call_flush(c);
  call_unref(c);
}

static int call_send_local(struct soupc_call *c, struct out_msg *m) {
  if (c->app_done || c->status_queued || c->stream_closed ||
      atomic_load(&c->cancelled)) {
    soupc__out_msg_free(m);
    return SOUPC_ERR_CLOSED;
  }
  call_queue_push(c, m);
  call_kick(c);
  call_flush(c);
  return 0;
}

/* The queue's stopped flag is written by the owner thread itself (or after
 * it has been joined), so the owner can read it without the lock. */
static int on_owner_thread(const struct worker *w) {
  return pthread_equal(pthread_self(), w->tid) && !w->q.stopped;
}

static void run_op_cb(struct h2_op *op, void *arg) {
  (void)arg;
  soupc__call_run_op((struct wop *)op);
}

/* Posts @p op to the call's worker, or runs it inline if that worker's loop
 * has gone (then no connection is left and nothing else touches calls). */
static void post_op(struct worker *w, struct wop *op) {
  soupc__h2_opq_post_or_run(&w->q, &op->link, run_op_cb, NULL);
}

void soupc__call_run_op(struct wop *op) {
  struct soupc_call *call = op->call;
  char *message = op->message;

  switch (op->kind) {
  case WOP_SEND:
    call_send_local(call, op->msg);
    soupc__free(op);
    break;
  case WOP_FINISH:
    /* The op lives in the call, which finishing may free. */
    op->message = NULL;
    call_finish_local(call, op->msg, op->code, message);
    soupc__free(message);
    break;
  default:
    soupc__free(message);
    soupc__free(op);
    break;
  }
}

static void call_finish(struct soupc_call *c, struct out_msg *m, int code,
                        const char *message) {
  struct wop *op = &c->finish_op;

  if (on_owner_thread(c->w)) {
    call_finish_local(c, m, code, message);
    return;
  }
  if (atomic_exchange(&c->finish_posted, 1)) {
    soupc__out_msg_free(m); /* finished twice: the first counts */
    return;
  }
  op->kind = WOP_FINISH;
  op->call = c;
  op->msg = m;
  op->code = code;
  /* Without memory for the text the code still goes out. */
  op->message = message != NULL ? soupc__strdup(message) : NULL;
  post_op(c->w, op);
}

void soupc_call_reply(soupc_call *call, const uint8_t *resp, size_t resp_len) {
  struct out_msg *m = soupc__out_msg_new(resp, resp_len);

  if (m == NULL) {
    call_finish(call, NULL, SOUPC_GRPC_RESOURCE_EXHAUSTED,
                "out of memory copying the response");
    return;
  }
  call_finish(call, m, SOUPC_GRPC_OK, NULL);
}

void soupc__call_reply_ref(soupc_call *call, const uint8_t *head,
                           size_t head_len, const uint8_t *payload, size_t len,
                           void (*release)(void *arg), void *arg) {
  struct out_msg *m =
      soupc__out_msg_new_ref(head, head_len, payload, len, release, arg);

  if (m == NULL) {
    release(arg);
    call_finish(call, NULL, SOUPC_GRPC_RESOURCE_EXHAUSTED,
                "out of memory queueing the response");
    return;
  }
  call_finish(call, m, SOUPC_GRPC_OK, NULL);
}

void soupc_call_fail(soupc_call *call, int code, const char *fmt, ...) {
  char msg[512];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  if (code == SOUPC_GRPC_OK) {
    code = SOUPC_GRPC_UNKNOWN; /* OK with no message would be a lie */
  }
  call_finish(call, NULL, code, msg);
}

void soupc_call_finish(soupc_call *call, int code, const char *message) {
  call_finish(call, NULL, code, message);
}

int soupc_call_send(soupc_call *call, const uint8_t *msg, size_t len) {
  struct out_msg *m;
  struct wop *op;

  if (len > call->w->srv->max_msg) {
    return SOUPC_ERR_TOO_LARGE;
  }
  if (atomic_load(&call->cancelled)) {
    return SOUPC_ERR_CLOSED;
  }
  m = soupc__out_msg_new(msg, len);
  if (m == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  if (on_owner_thread(call->w)) {
    return call_send_local(call, m);
  }
  op = soupc__calloc(1, sizeof(*op));
  if (op == NULL) {
    soupc__out_msg_free(m);
    return SOUPC_ERR_NOMEM;
  }
  op->kind = WOP_SEND;
  op->call = call;
  op->msg = m;
  post_op(call->w, op);
  return 0;
}

const char *soupc_call_peer(const soupc_call *call) {
  return call->peer;
}

soupc_server *soupc_call_server(const soupc_call *call) {
  return call->w->srv;
}

/* ------------------------------------------------------------------ */
/* Request side                                                         */
/* ------------------------------------------------------------------ */

static void deadline_cb(evutil_socket_t fd, short what, void *arg) {
  struct soupc_call *c = arg;

  (void)fd;
  (void)what;
  c->refs++;
  call_abort(c, SOUPC_GRPC_DEADLINE_EXCEEDED, "deadline exceeded");
  call_flush(c);
  call_unref(c);
}

static const struct method *find_method(const struct soupc_server *srv,
                                        const uint8_t *path, size_t len) {
  size_t i;

  for (i = 0; i < srv->nmethods; i++) {
    const struct method *m = &srv->methods[i];
    if (m->path_len == len && memcmp(m->path, path, len) == 0) {
      return m;
    }
  }
  return NULL;
}

/* The request HEADERS are complete: validate them the way grpc-go does
 * (internal/transport/http2_server.go operateHeaders), then start the call. */
static void call_headers_done(struct soupc_call *c) {
  char text[400];

  if (!c->saw_post) {
    call_set_status(c, 405, SOUPC_GRPC_INTERNAL,
                    "invalid HTTP method; gRPC requires POST");
    return;
  }
  if (!c->ctype_ok) {
    snprintf(text, sizeof(text), "invalid gRPC request content-type \"%s\"",
             c->bad_ctype != NULL ? c->bad_ctype : "");
    call_set_status(c, 415, SOUPC_GRPC_INTERNAL, text);
    return;
  }
  if (c->method == NULL) {
    snprintf(text, sizeof(text), "unknown method %s",
             c->unknown_path != NULL ? c->unknown_path : "(none)");
    call_set_status(c, 200, SOUPC_GRPC_UNIMPLEMENTED, text);
    return;
  }
  if (c->bad_encoding != NULL) {
    snprintf(text, sizeof(text),
             "grpc-encoding \"%s\" is not supported; only identity is "
             "supported",
             c->bad_encoding);
    call_set_status(c, 200, SOUPC_GRPC_UNIMPLEMENTED, text);
    return;
  }
  if (c->bad_timeout) {
    call_set_status(c, 200, SOUPC_GRPC_INTERNAL, "malformed grpc-timeout");
    return;
  }
  /* Issue 8: a connection whose client does not read its responses gets
   * no new work (unary calls are checked when they are complete). */
  if (c->method->streaming &&
      soupc__guard_admit(c->conn, 0, text, sizeof(text)) == GUARD_REFUSE) {
    call_set_status(c, 200, SOUPC_GRPC_RESOURCE_EXHAUSTED, text);
    return;
  }
  if (c->timeout_ms >= 0 &&
      soupc__h2_timer_arm(&c->deadline_ev, c->w->base, deadline_cb, c,
                          c->timeout_ms) != 0) {
    call_set_status(c, 200, SOUPC_GRPC_RESOURCE_EXHAUSTED,
                    "out of memory for the deadline timer");
    return;
  }
  if (c->method->streaming) {
    c->dispatched = 1;
    c->refs++; /* the app's reference, dropped by soupc_call_finish() */
    if (c->method->sh.on_start != NULL) {
      c->method->sh.on_start(c, c->method->user_data);
    }
  }
}

static int on_request_message(void *user_data, const uint8_t *msg, size_t len) {
  struct soupc_call *c = user_data;

  if (c->method->streaming) {
    if (!c->app_done && !atomic_load(&c->cancelled) &&
        c->method->sh.on_message != NULL) {
      c->method->sh.on_message(c, msg, len, c->method->user_data);
    }
    return 0;
  }
  if (c->req != NULL) {
    call_abort(c, SOUPC_GRPC_UNIMPLEMENTED,
               "unary method received more than one request message");
    return 1;
  }
  if (len <= REQ_INLINE) {
    c->req = c->req_inline;
  } else {
    /* A large message put together by the deframer: take its buffer
     * instead of copying it (a 1 MiB Put arrives in 64 DATA frames). */
    c->req = soupc__deframer_take(&c->df, msg);
    if (c->req != NULL) {
      c->req_len = len;
      return 0;
    }
    c->req = soupc__malloc(len);
  }
  if (c->req == NULL) {
    call_abort(c, SOUPC_GRPC_RESOURCE_EXHAUSTED,
               "out of memory copying the request");
    return 1;
  }
  if (c->req != c->req_inline) {
    /* Held until the handler runs, which may wait: counted like a
     * deframer's buffer (call_feed checks the limit). */
    c->req_counted = 1;
    c->conn->g.req_buffered += len;
  }
  if (len > 0) {
    memcpy(c->req, msg, len);
  }
  c->req_len = len;
  return 0;
}

/* The request's copy is no longer needed (or counted). */
static void call_drop_request(struct soupc_call *c) {
  if (c->req_counted && c->conn != NULL) {
    struct conn_guard *g = &c->conn->g;
    g->req_buffered =
        c->req_len > g->req_buffered ? 0 : g->req_buffered - c->req_len;
  }
  c->req_counted = 0;
  if (c->req != c->req_inline) {
    soupc__free(c->req);
  }
  c->req = c->req_inline;
}

static void call_dispatch_unary(struct soupc_call *c) {
  c->dispatched = 1;
  c->refs++; /* the app's reference, dropped when it finishes the call */
  c->method->unary(c, c->req, c->req_len, c->method->user_data);
  /* The request was borrowed for the handler's duration only. */
  call_drop_request(c);
}

/* Issue 8, "a handler whose stream cannot drain stops being fed": the call
 * waits, in order, until the connection's queue is under its cap. */
static void call_park(struct soupc_call *c) {
  struct conn *conn = c->conn;

  c->parked = 1;
  c->park_next = NULL;
  c->park_prev = conn->parked_tail;
  if (conn->parked_tail != NULL) {
    conn->parked_tail->park_next = c;
  } else {
    conn->parked_head = c;
  }
  conn->parked_tail = c;
  conn->g.nparked++;
}

static void call_unpark(struct soupc_call *c) {
  struct conn *conn = c->conn;

  if (!c->parked || conn == NULL) {
    return;
  }
  if (c->park_prev != NULL) {
    c->park_prev->park_next = c->park_next;
  } else {
    conn->parked_head = c->park_next;
  }
  if (c->park_next != NULL) {
    c->park_next->park_prev = c->park_prev;
  } else {
    conn->parked_tail = c->park_prev;
  }
  c->park_prev = c->park_next = NULL;
  c->parked = 0;
  conn->g.nparked--;
}

/* Runs waiting handlers while the queue has room (after a flush). */
static void conn_unpark(struct conn *conn) {
  if (conn->unparking) {
    return;
  }
  conn->unparking = 1;
  while (conn->parked_head != NULL && !conn->closed &&
         soupc__guard_room(conn)) {
    struct soupc_call *c = conn->parked_head;
    call_unpark(c);
    if (!c->status_queued && !c->stream_closed && !atomic_load(&c->cancelled)) {
      call_dispatch_unary(c);
    }
  }
  conn->unparking = 0;
}

/* The client sent END_STREAM. */
static void call_half_close(struct soupc_call *c) {
  char text[200];

  if (c->half_closed) {
    return;
  }
  c->half_closed = 1;
  if (c->status_queued || c->method == NULL) {
    return;
  }
  if (soupc__deframer_partial(&c->df)) {
    call_abort(c, SOUPC_GRPC_INTERNAL,
               "the client ended the stream inside a message");
    return;
  }
  if (c->method->streaming) {
    if (!c->app_done && !atomic_load(&c->cancelled) &&
        c->method->sh.on_half_close != NULL) {
      c->method->sh.on_half_close(c, c->method->user_data);
    }
    return;
  }
  if (c->req == NULL) {
    call_set_status(c, 200, SOUPC_GRPC_UNIMPLEMENTED,
                    "unary method received no request message");
    return;
  }
  /* Responses may have piled up since the headers arrived. */
  switch (soupc__guard_admit(c->conn, 1, text, sizeof(text))) {
  case GUARD_REFUSE:
    call_set_status(c, 200, SOUPC_GRPC_RESOURCE_EXHAUSTED, text);
    return;
  case GUARD_WAIT:
    call_park(c);
    return;
  case GUARD_GO:
    break;
  }
  call_dispatch_unary(c);
}

/* The stream is gone (closed normally, reset, or the connection ended). */
static void call_stream_closed(struct soupc_call *c) {
  struct conn *conn = c->conn;

  /* While the connection is still known: give back its buffer counts. */
  call_queue_clear(c);
  call_unpark(c);
  call_drop_request(c);
  if (conn != NULL) {
    size_t held = c->df.cap;
    conn->g.req_buffered =
        held > conn->g.req_buffered ? 0 : conn->g.req_buffered - held;
  }
  soupc__deframer_dispose(&c->df);
  if (conn != NULL) {
    if (c->prev != NULL) {
      c->prev->next = c->next;
    } else {
      conn->calls = c->next;
    }
    if (c->next != NULL) {
      c->next->prev = c->prev;
    }
    c->prev = c->next = NULL;
    if (conn->calls == NULL) {
      conn->g.idle_since_ms = soupc__now_ms();
    }
  }
  c->stream_closed = 1;
  /* Detach first: on_cancel may finish the call, and that must not flush a
   * connection that is inside mem_send or being closed. */
  c->conn = NULL;
  if (c->deadline_ev != NULL) {
    event_del(c->deadline_ev);
  }
  if (c->dispatched && !c->app_done) {
    atomic_store(&c->cancelled, 1);
    if (c->method->streaming && !c->cancel_notified) {
      c->cancel_notified = 1;
      if (c->method->sh.on_cancel != NULL) {
        c->refs++;
        c->method->sh.on_cancel(c, c->method->user_data);
        c->refs--; /* the stream reference below keeps it alive */
      }
    }
  }
  call_unref(c);
}

/* ------------------------------------------------------------------ */
/* nghttp2 callbacks                                                    */
/* ------------------------------------------------------------------ */

static int on_begin_headers(nghttp2_session *session,
                            const nghttp2_frame *frame, void *user_data) {
  struct conn *conn = soupc__h2_owner(user_data);
  struct soupc_call *c;

  if (frame->hd.type != NGHTTP2_HEADERS ||
      frame->headers.cat != NGHTTP2_HCAT_REQUEST) {
    return 0;
  }
  c = soupc__calloc(1, sizeof(*c));
  if (c == NULL) {
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  }
  c->w = conn->w;
  c->conn = conn;
  c->stream_id = frame->hd.stream_id;
  c->refs = 1;
  c->timeout_ms = -1;
  atomic_init(&c->cancelled, 0);
  atomic_init(&c->finish_posted, 0);
  soupc__deframer_init(&c->df, conn->w->srv->max_msg);
  memcpy(c->peer, conn->peer, sizeof(c->peer));
  if (nghttp2_session_set_stream_user_data(session, c->stream_id, c) != 0) {
    soupc__free(c);
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  }
  c->next = conn->calls;
  if (conn->calls != NULL) {
    conn->calls->prev = c;
  }
  conn->calls = c;
  return 0;
}

static int name_is(const uint8_t *name, size_t len, const char *lit) {
  size_t n = strlen(lit);
  return len == n && memcmp(name, lit, n) == 0;
}

static char *dup_capped(const uint8_t *v, size_t len, size_t cap) {
  return soupc__strndup((const char *)v, len < cap ? len : cap);
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame,
                     const uint8_t *name, size_t namelen, const uint8_t *value,
                     size_t valuelen, uint8_t flags, void *user_data) {
  struct soupc_call *c;

  (void)flags;
  (void)user_data;
  if (frame->hd.type != NGHTTP2_HEADERS ||
      frame->headers.cat != NGHTTP2_HCAT_REQUEST) {
    return 0; /* request trailers carry nothing gRPC uses */
  }
  c = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
  if (c == NULL) {
    return 0;
  }
  /* Issue 8: enforce the MAX_HEADER_LIST_SIZE we advertised while the list
   * is decoded. Failing here resets the stream and stops nghttp2 from
   * validating (and us from seeing) the rest of the block. */
  if (namelen + valuelen + 32 > SOUPC__MAX_HEADER_LIST - c->header_bytes) {
    soupc__guard_charge(c->conn, 100, "header lists over the limit");
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  }
  c->header_bytes += (uint32_t)(namelen + valuelen + 32);
  if (namelen > 0 && name[0] == ':') {
    if (name_is(name, namelen, ":method")) {
      c->saw_post = name_is(value, valuelen, "POST") ? 1u : 0u;
    } else if (name_is(name, namelen, ":path")) {
      c->method = find_method(c->w->srv, value, valuelen);
      if (c->method == NULL && c->unknown_path == NULL) {
        c->unknown_path = dup_capped(value, valuelen, 256);
      }
    }
    return 0;
  }
  if (name_is(name, namelen, "content-type")) {
    c->ctype_ok =
        soupc__grpc_content_type_ok((const char *)value, valuelen) ? 1u : 0u;
    if (!c->ctype_ok && c->bad_ctype == NULL) {
      c->bad_ctype = dup_capped(value, valuelen, 64);
    }
  } else if (name_is(name, namelen, "grpc-encoding")) {
    if (!name_is(value, valuelen, "identity") && c->bad_encoding == NULL) {
      c->bad_encoding = dup_capped(value, valuelen, 64);
    }
  } else if (name_is(name, namelen, "grpc-timeout")) {
    if (soupc_grpc_timeout_parse(&c->timeout_ms, (const char *)value,
                                 valuelen) != 0) {
      c->bad_timeout = 1;
    }
  }
  return 0;
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame,
                         void *user_data) {
  struct conn *conn = soupc__h2_owner(user_data);
  struct soupc_call *c;

  soupc__guard_frame_recv(conn, frame);
  if (frame->hd.type == NGHTTP2_SETTINGS && !conn->got_settings) {
    /* The preface is done (the handshake deadline no longer applies). */
    conn->got_settings = 1;
    conn->g.idle_since_ms = soupc__now_ms();
  }
  if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) {
    return 0;
  }
  c = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
  if (c == NULL) {
    return 0;
  }
  if (frame->hd.type == NGHTTP2_HEADERS &&
      frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
    call_headers_done(c);
  }
  if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) && !c->stream_closed) {
    call_half_close(c);
  }
  return 0;
}

/* Feeds request bytes to the call's deframer. What it buffers for split
 * messages counts against the connection: past max(connection buffer,
 * message limit), the call fails with RESOURCE_EXHAUSTED. */
static int call_feed(struct soupc_call *c, const uint8_t *data, size_t len,
                     soupc_status *st) {
  struct conn *conn = c->conn;
  const struct soupc_server *srv = c->w->srv;
  size_t before = c->df.cap, limit;
  int rv;

  rv = soupc__deframer_feed(&c->df, data, len, on_request_message, c, st);
  if (c->conn == NULL || c->stream_closed) {
    return rv; /* the stream closed meanwhile and took its count along */
  }
  conn->g.req_buffered += c->df.cap - before; /* the buffer only grows */
  limit = srv->limits.conn_buffer > srv->max_msg ? srv->limits.conn_buffer
                                                 : srv->max_msg;
  if (rv >= 0 && conn->g.req_buffered > limit) {
    soupc_status_set(st, SOUPC_GRPC_RESOURCE_EXHAUSTED,
                     "this connection's unfinished request messages take %zu "
                     "bytes; the limit is %zu bytes",
                     conn->g.req_buffered, limit);
    return SOUPC_ERR_TOO_LARGE;
  }
  return rv;
}

static int on_data_chunk(nghttp2_session *session, uint8_t flags,
                         int32_t stream_id, const uint8_t *data, size_t len,
                         void *user_data) {
  struct soupc_call *c;
  soupc_status st;
  int rv;

  (void)flags;
  (void)user_data;
  c = nghttp2_session_get_stream_user_data(session, stream_id);
  if (c == NULL || c->status_queued || c->method == NULL || c->app_done ||
      atomic_load(&c->cancelled)) {
    return 0; /* flow control still counts it as consumed */
  }
  c->refs++;
  rv = call_feed(c, data, len, &st);
  if (rv < 0) {
    call_abort_status(c, &st);
  }
  call_unref(c);
  return 0;
}

static int on_stream_close(nghttp2_session *session, int32_t stream_id,
                           uint32_t error_code, void *user_data) {
  struct soupc_call *c;

  (void)error_code;
  (void)user_data;
  c = nghttp2_session_get_stream_user_data(session, stream_id);
  if (c != NULL) {
    nghttp2_session_set_stream_user_data(session, stream_id, NULL);
    call_stream_closed(c);
  }
  return 0;
}

static int on_frame_send(nghttp2_session *session, const nghttp2_frame *frame,
                         void *user_data) {
  soupc__guard_frame_sent(soupc__h2_owner(user_data), frame);
  /* Like grpc-go: once our END_STREAM is out, a client that has not
   * finished sending gets RST_STREAM(NO_ERROR) so the stream is released. */
  if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
      (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) &&
      nghttp2_session_get_stream_remote_close(session, frame->hd.stream_id) ==
          0) {
    nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id,
                              NGHTTP2_NO_ERROR);
  }
  return 0;
}

static void init_callbacks(void) {
  static const struct h2_callbacks role = {
      .on_begin_headers = on_begin_headers,
      .on_header = on_header,
      .on_frame_recv = on_frame_recv,
      .on_data_chunk_recv = on_data_chunk,
      .on_stream_close = on_stream_close,
      .on_frame_send = on_frame_send,
      .send_data = on_send_data,
  };

  soupc__h2_callbacks_new(&server_callbacks, &role);
  /* Keepalive: nghttp2 answers every client PING; server_guard.c applies
   * grpc-go's ping policy (pyvider pings every 30 s, well inside it), and
   * nghttp2 caps queued ACKs (max_outbound_ack) against a peer that does
   * not read them. */
}

/* ------------------------------------------------------------------ */
/* Connection                                                           */
/* ------------------------------------------------------------------ */

/* A recv error: garbage, a bad preface or a fatal nghttp2 error. GOAWAY if
 * we still can, then close once it is written. */
static void conn_recv_failed(struct conn *c, int rv) {
  if (nghttp2_is_fatal(rv) && rv != NGHTTP2_ERR_BAD_CLIENT_MAGIC &&
      rv != NGHTTP2_ERR_FLOODED) {
    c->h2.dead = 1;
  } else {
    nghttp2_session_terminate_session(c->h2.ng, NGHTTP2_PROTOCOL_ERROR);
  }
}

static void conn_on_read(struct h2_session *s, int rv) {
  struct conn *c = s->owner;

  soupc__guard_on_read(c, soupc__now_ms());
  if (rv != 0) {
    conn_recv_failed(c, rv);
  }
  /* One flush per read: responses to every request in this read go out
   * together. */
  soupc__conn_after_io(c);
}

static void conn_on_write(struct h2_session *s) {
  struct conn *c = s->owner;

  soupc__guard_progress(c, soupc__now_ms());
  if (s->draining) {
    if (evbuffer_get_length(s->out) == 0) {
      soupc__conn_close(c);
    }
    return;
  }
  soupc__conn_after_io(c);
}

static void conn_on_event(struct h2_session *s, short what) {
  if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
    soupc__conn_close(s->owner);
  }
}

static void conn_on_frame_seen(struct h2_session *s,
                               const struct h2_frame_seen *f) {
  soupc__guard_frame_seen(s->owner, f);
}

static const struct h2_session_hooks conn_hooks = {
    conn_on_read, conn_on_write, conn_on_event, conn_on_frame_seen};

int soupc__conn_new(struct conn **out, struct worker *w,
                    struct bufferevent *bev, const char *peer) {
  static const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, MAX_CONCURRENT_STREAMS},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, SOUPC__MAX_HEADER_LIST},
  };
  struct conn *c;

  pthread_once(&server_callbacks_once, init_callbacks);
  if (server_callbacks == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  c = soupc__calloc(1, sizeof(*c));
  if (c == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  if (soupc__h2_session_init(&c->h2, 1, server_callbacks, bev, &conn_hooks, c,
                             settings,
                             sizeof(settings) / sizeof(settings[0])) != 0) {
    soupc__free(c);
    return SOUPC_ERR_NOMEM;
  }
  c->w = w;
  snprintf(c->peer, sizeof(c->peer), "%s", peer);
  soupc__guard_conn_init(c, soupc__now_ms());
  c->next = w->conns;
  if (w->conns != NULL) {
    w->conns->prev = c;
  }
  w->conns = c;
  w->nconns++;
  *out = c;
  return 0;
}

void soupc__conn_close(struct conn *c) {
  struct worker *w = c->w;

  if (c->closed) {
    return;
  }
  c->closed = 1;
  /* nghttp2_session_del() does not call on_stream_close: end the calls. */
  while (c->calls != NULL) {
    struct soupc_call *call = c->calls;
    nghttp2_session_set_stream_user_data(c->h2.ng, call->stream_id, NULL);
    call_stream_closed(call);
  }
  soupc__h2_session_del(&c->h2);
  if (c->prev != NULL) {
    c->prev->next = c->next;
  } else {
    w->conns = c->next;
  }
  if (c->next != NULL) {
    c->next->prev = c->prev;
  }
  w->nconns--;
  if (c->h2.bev != NULL) {
    atomic_fetch_sub(&w->srv->nconns, 1); /* the acceptor counted it */
    soupc__h2_session_free_bev(&c->h2);
    soupc__free(c);
  } else {
    /* Memory mode: the driver frees it (it still reads the output). */
  }
  soupc__worker_conn_gone(w);
}

void soupc__conn_free_memory(struct conn *c) {
  soupc__conn_close(c);
  soupc__h2_session_dispose(&c->h2);
  soupc__free(c);
}

void soupc__conn_after_io(struct conn *c) {
  if (c->closed || c->h2.in_send || c->h2.in_recv) {
    return;
  }
  soupc__h2_session_flush(&c->h2);
  if (c->parked_head != NULL && !c->h2.dead && soupc__guard_room(c)) {
    conn_unpark(c); /* their replies may queue more: flush again */
    if (c->closed) {
      return;
    }
    soupc__h2_session_flush(&c->h2);
  }
  if (c->h2.dead) {
    soupc__conn_close(c);
    return;
  }
  if (!soupc__h2_session_want_io(&c->h2)) {
    if (c->h2.bev == NULL || evbuffer_get_length(c->h2.out) == 0) {
      soupc__conn_close(c);
      return;
    }
    /* The GOAWAY is on its way out: close once it is written. */
    soupc__h2_session_close_when_drained(&c->h2);
  }
}

int soupc__conn_feed(struct conn *c, const uint8_t *data, size_t len) {
  int rv;

  if (c->closed) {
    return -1;
  }
  if (c->h2.draining || c->h2.dead) {
    return 0;
  }
  rv = soupc__h2_session_recv(&c->h2, data, len);
  if (rv != 0) {
    conn_recv_failed(c, rv);
  }
  soupc__conn_after_io(c);
  return c->closed ? -1 : 0;
}

void soupc__conn_shutdown_notice(struct conn *c) {
  if (c->closed || c->goaway) {
    return;
  }
  nghttp2_submit_shutdown_notice(c->h2.ng);
  soupc__conn_after_io(c);
}

void soupc__conn_goaway(struct conn *c) {
  if (c->closed || c->goaway) {
    return;
  }
  c->goaway = 1;
  nghttp2_submit_goaway(c->h2.ng, NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(c->h2.ng),
                        NGHTTP2_NO_ERROR, NULL, 0);
  soupc__conn_after_io(c);
}
