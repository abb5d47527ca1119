/* The gRPC client channel: one HTTP/2 connection (nghttp2) run by its own
 * I/O thread. Public functions post operations to that thread and, for
 * unary calls, wait for the result. See docs/internals/transport.md. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <nghttp2/nghttp2.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>

#include "base/alloc.h"
#include "base/options.h"
#include "tls/tls_context.h"
#include "transport/tls_shared.h"
#include "transport/addr.h"
#include "transport/grpc_wire.h"
#include "transport/h2_session.h"
#include "transport/transport.h"

#define DEFAULT_CONNECT_TIMEOUT_MS 10000

enum cop_kind {
  COP_SUBMIT,
  COP_SEND,
  COP_CLOSE_SEND,
  COP_FREE,
  COP_STOP
};

struct sync_wait {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int done;
};

/* Work posted to the I/O thread. SUBMIT, FREE and STOP happen once per
 * call or channel and live inside it (embedded: they need no memory, so
 * freeing a stream or a channel cannot fail); SEND and CLOSE_SEND are
 * allocated. */
struct cop {
  struct h2_op link; /* first: the queue's view of the op */
  enum cop_kind kind;
  unsigned embedded : 1;
  struct soupc_client_stream *call;
  struct out_msg *msg;
  struct sync_wait *sync;
};

/* A client call: a unary call (blocking, or asynchronous with @c done) or
 * a soupc_client_stream. */
struct soupc_client_stream {
  soupc_channel *ch;
  struct soupc_client_stream *prev, *next; /* ch->calls, I/O thread */
  int32_t stream_id;                       /* 0 until submitted */
  int unary;
  char *path;
  int64_t deadline_ms; /* absolute CLOCK_MONOTONIC ms, or 0 */
  struct event *deadline_ev;
  /* Request side (I/O thread). */
  struct out_queue outq;
  struct out_msg borrowed; /* unary: the caller's buffer, no copy */
  unsigned half_close : 1; /* END_STREAM once outq drains */
  unsigned deferred : 1;
  unsigned finalized : 1;
  unsigned have_override : 1;
  atomic_int closed; /* finalized, for soupc_client_stream_send() */
  /* Streams: the user's, the in-flight one, and one per queued SEND or
   * CLOSE_SEND op (taken by the posting thread, so a stream freed inside
   * on_close outlives the ops still queued for it). */
  atomic_int refs;
  /* Response side (I/O thread). */
  struct deframer df;
  int http_status;
  int grpc_status; /* -1 until seen */
  char grpc_message[512];
  soupc_status override; /* a local error that beats the trailers */
  int override_err;      /* its soupc_err */
  int err;               /* the outcome's soupc_err, set by call_finalize */
  uint8_t *resp;
  size_t resp_len;
  size_t nresp;
  /* Asynchronous unary: runs on the I/O thread instead of waking a
   * waiter; the request is the call's own copy (borrowed.data). */
  soupc_unary_done_fn done_fn;
  uint8_t *req_copy;
  /* Unary waiter. */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int done;
  soupc_status status;
  /* Streams. */
  soupc_stream_message_fn on_message;
  soupc_stream_close_fn on_close;
  void *user_data;
  struct cop submit_op;
  struct cop free_op;
};

struct soupc_channel {
  struct h2_session h2; /* nghttp2, bufferevent, flush */
  size_t max_msg;
  SSL_CTX *ssl_ctx;
  int is_tls;
  int tls_resumed; /* the handshake resumed a session (tests) */
  char authority[300];
  struct event_base *base;
  struct h2_opq q; /* posted ops; stopped once the I/O thread is done */
  struct cop stop_op;
  pthread_t thread;
  pthread_t tid;      /* I/O thread id, set before it runs anything else */
  pthread_mutex_t mu; /* guards ready, failed */
  pthread_cond_t ready_cv;
  int ready;
  int failed;
  int fail_err;
  soupc_status fail_st;
  atomic_int open;
  /* I/O thread only. */
  int lost; /* the connection is unusable; calls fail with lost_msg */
  char lost_msg[200];
  struct soupc_client_stream *calls;
};

static nghttp2_session_callbacks *client_callbacks;
static pthread_once_t client_callbacks_once = PTHREAD_ONCE_INIT;

static int on_io_thread(const soupc_channel *ch) {
  return pthread_equal(pthread_self(), ch->tid);
}

/* ------------------------------------------------------------------ */
/* Calls                                                                */
/* ------------------------------------------------------------------ */

static void op_init_embedded(struct cop *op, enum cop_kind kind,
                             struct soupc_client_stream *c) {
  memset(op, 0, sizeof(*op));
  op->kind = kind;
  op->embedded = 1;
  op->call = c;
}

static void call_free(struct soupc_client_stream *c) {
  soupc__h2_timer_free(&c->deadline_ev);
  soupc__deframer_dispose(&c->df);
  soupc__out_queue_clear(&c->outq, &c->borrowed);
  soupc__free(c->resp);
  soupc__free(c->req_copy);
  soupc__free(c->path);
  pthread_mutex_destroy(&c->mu);
  pthread_cond_destroy(&c->cv);
  soupc__free(c);
}

static void call_ref(struct soupc_client_stream *c) {
  atomic_fetch_add(&c->refs, 1);
}

static void call_unref(struct soupc_client_stream *c) {
  if (atomic_fetch_sub(&c->refs, 1) == 1) {
    call_free(c);
  }
}

static struct soupc_client_stream *call_new(soupc_channel *ch,
                                            const char *path) {
  struct soupc_client_stream *c = soupc__calloc(1, sizeof(*c));

  if (c == NULL) {
    return NULL;
  }
  c->path = soupc__strdup(path);
  if (c->path == NULL) {
    soupc__free(c);
    return NULL;
  }
  c->ch = ch;
  c->grpc_status = -1;
  op_init_embedded(&c->submit_op, COP_SUBMIT, c);
  op_init_embedded(&c->free_op, COP_FREE, c);
  atomic_init(&c->closed, 0);
  atomic_init(&c->refs, 0);
  soupc__deframer_init(&c->df, ch->max_msg);
  pthread_mutex_init(&c->mu, NULL);
  pthread_cond_init(&c->cv, NULL);
  return c;
}

/* The final status from what the server sent (gRPC HTTP/2 spec,
 * "Responses"; grpc-go http2_client.go operateHeaders). @return its
 * soupc_err: 0 for OK, SOUPC_ERR_STATUS for the server's non-OK status or
 * reset, SOUPC_ERR_PROTOCOL for an answer that breaks gRPC's rules, or the
 * local error that overrode it. */
static int compute_status(struct soupc_client_stream *c, uint32_t h2_error,
                          soupc_status *st) {
  if (c->have_override) {
    *st = c->override;
    return c->override_err;
  }
  if (c->grpc_status >= 0) {
    soupc_status_set(st, c->grpc_status, "%s", c->grpc_message);
  } else if (c->http_status != 0 && c->http_status != 200) {
    soupc_status_set(st, soupc__grpc_code_from_http(c->http_status),
                     "unexpected HTTP status code received from server: %d",
                     c->http_status);
    return SOUPC_ERR_PROTOCOL;
  } else if (h2_error == NGHTTP2_REFUSED_STREAM) {
    soupc_status_set(st, SOUPC_GRPC_UNAVAILABLE,
                     "the server refused the stream (REFUSED_STREAM)");
    return SOUPC_ERR_STATUS;
  } else if (h2_error == NGHTTP2_CANCEL) {
    soupc_status_set(st, SOUPC_GRPC_CANCELLED,
                     "stream cancelled by the "
                     "server");
    return SOUPC_ERR_STATUS;
  } else if (h2_error != NGHTTP2_NO_ERROR) {
    soupc_status_set(st, SOUPC_GRPC_INTERNAL,
                     "stream reset by the server (HTTP/2 error %u: %s)",
                     (unsigned)h2_error, nghttp2_http2_strerror(h2_error));
    return SOUPC_ERR_STATUS;
  } else {
    soupc_status_set(st, SOUPC_GRPC_INTERNAL,
                     "the server closed the stream without a grpc-status");
    return SOUPC_ERR_PROTOCOL;
  }
  if (c->unary && st->code == SOUPC_GRPC_OK && c->nresp != 1) {
    soupc_status_set(st, SOUPC_GRPC_INTERNAL,
                     "the server sent %zu response messages to a unary call",
                     c->nresp);
    return SOUPC_ERR_PROTOCOL;
  }
  return st->code == SOUPC_GRPC_OK ? 0 : SOUPC_ERR_STATUS;
}

/* Ends a call once with @p st (and @p err, its soupc_err): detaches it from
 * the session (RST_STREAM CANCEL if @p reset and the stream may still be
 * open), then wakes the unary waiter, runs the asynchronous unary callback
 * (and frees the call) or runs on_close. The I/O thread does not touch a
 * unary call after this. */
static void call_finalize(struct soupc_client_stream *c, int err,
                          const soupc_status *st, int reset) {
  soupc_channel *ch = c->ch;

  if (c->finalized) {
    return;
  }
  c->finalized = 1;
  c->err = err;
  atomic_store(&c->closed, 1);
  if (c->deadline_ev != NULL) {
    event_del(c->deadline_ev);
  }
  if (c->stream_id > 0 && ch->h2.ng != NULL) {
    nghttp2_session_set_stream_user_data(ch->h2.ng, c->stream_id, NULL);
    if (reset && !ch->lost) {
      nghttp2_submit_rst_stream(ch->h2.ng, NGHTTP2_FLAG_NONE, c->stream_id,
                                NGHTTP2_CANCEL);
    }
  }
  if (c->prev != NULL) {
    c->prev->next = c->next;
  } else if (ch->calls == c) {
    ch->calls = c->next;
  }
  if (c->next != NULL) {
    c->next->prev = c->prev;
  }
  c->prev = c->next = NULL;
  if (c->done_fn != NULL) {
    int ok = st->code == SOUPC_GRPC_OK;
    c->done_fn(err, st, ok ? c->resp : NULL, ok ? c->resp_len : 0,
               c->user_data);
    call_free(c);
    return;
  }
  if (c->unary) {
    /* The waiter frees the call, maybe after soupc_channel_free() has freed
     * the event_base: release the timer here, on the loop's thread. */
    soupc__h2_timer_free(&c->deadline_ev);
    pthread_mutex_lock(&c->mu);
    c->status = *st;
    c->done = 1;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    return;
  }
  if (c->on_close != NULL) {
    call_ref(c);
    c->on_close(c, st, c->user_data);
    call_unref(c);
  }
  call_unref(c); /* the in-flight reference */
}

/* Ends a call with a local error @p err (a soupc_err) and a status. */
static void call_fail(struct soupc_client_stream *c, int err, int code,
                      const char *msg, int reset) {
  soupc_status st;

  soupc_status_set(&st, code, "%s", msg);
  call_finalize(c, err, &st, reset);
}

/* ------------------------------------------------------------------ */
/* Connection                                                           */
/* ------------------------------------------------------------------ */

/* The connection is unusable: every call fails with UNAVAILABLE. */
static void chan_lost(soupc_channel *ch, int err, const char *why) {
  if (ch->lost) {
    return;
  }
  ch->lost = 1;
  atomic_store(&ch->open, 0);
  snprintf(ch->lost_msg, sizeof(ch->lost_msg), "%s", why);
  pthread_mutex_lock(&ch->mu);
  if (!ch->ready && !ch->failed) {
    ch->failed = 1;
    ch->fail_err = err;
    soupc_status_set(&ch->fail_st, SOUPC_GRPC_UNAVAILABLE, "%s", why);
    pthread_cond_broadcast(&ch->ready_cv);
  }
  pthread_mutex_unlock(&ch->mu);
  if (ch->h2.bev != NULL) {
    bufferevent_disable(ch->h2.bev, EV_READ | EV_WRITE);
  }
  while (ch->calls != NULL) {
    call_fail(ch->calls, err, SOUPC_GRPC_UNAVAILABLE, why, 0);
  }
}

static void chan_flush(soupc_channel *ch) {
  if (ch->lost) {
    return;
  }
  if (soupc__h2_session_flush(&ch->h2) != 0) {
    chan_lost(ch, SOUPC_ERR_NOMEM,
              "out of memory writing to the connection (HTTP/2 send)");
  }
}

static void chan_after_io(soupc_channel *ch) {
  /* Inside nghttp2 (a callback of recv or send): the outer caller flushes. */
  if (ch->lost || ch->h2.in_recv || ch->h2.in_send) {
    return;
  }
  chan_flush(ch);
  if (!ch->lost && !soupc__h2_session_want_io(&ch->h2)) {
    chan_lost(ch, SOUPC_ERR_CONNECT, "the connection was closed (GOAWAY)");
  }
}

static void chan_on_read(struct h2_session *s, int rv) {
  soupc_channel *ch = s->owner;

  if (rv != 0 && !ch->lost) {
    char why[160];
    snprintf(why, sizeof(why), "HTTP/2 error from the server: %s",
             nghttp2_strerror(rv));
    nghttp2_session_terminate_session(s->ng, NGHTTP2_PROTOCOL_ERROR);
    chan_flush(ch);
    chan_lost(ch, SOUPC_ERR_PROTOCOL, why);
    return;
  }
  chan_after_io(ch);
}

static void chan_on_write(struct h2_session *s) {
  chan_after_io(s->owner);
}

static void chan_on_event(struct h2_session *s, short what) {
  soupc_channel *ch = s->owner;
  char why[200];
  unsigned long e;

  if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))) {
    return;
  }
  e = ch->is_tls ? bufferevent_get_openssl_error(s->bev) : 0;
  if (e != 0) {
    char text[160];
    ERR_error_string_n(e, text, sizeof(text));
    snprintf(why, sizeof(why), "TLS error: %s", text);
    chan_lost(ch, SOUPC_ERR_TLS, why);
  } else if (what & BEV_EVENT_EOF) {
    chan_lost(ch, ch->is_tls ? SOUPC_ERR_TLS : SOUPC_ERR_CONNECT,
              "the server closed the connection");
  } else {
    snprintf(why, sizeof(why), "connection error: %s",
             evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
    chan_lost(ch, SOUPC_ERR_CONNECT, why);
  }
}

static const struct h2_session_hooks chan_hooks = {chan_on_read, chan_on_write,
                                                   chan_on_event, NULL};

/* ------------------------------------------------------------------ */
/* nghttp2 callbacks                                                    */
/* ------------------------------------------------------------------ */

static int on_header(nghttp2_session *session, const nghttp2_frame *frame,
                     const uint8_t *name, size_t namelen, const uint8_t *value,
                     size_t valuelen, uint8_t flags, void *user_data) {
  struct soupc_client_stream *c;

  (void)flags;
  (void)user_data;
  if (frame->hd.type != NGHTTP2_HEADERS) {
    return 0;
  }
  c = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
  if (c == NULL) {
    return 0;
  }
  if (namelen == 7 && memcmp(name, ":status", 7) == 0) {
    int v = 0;
    for (size_t i = 0; i < valuelen && i < 3; i++) {
      v = v * 10 + (value[i] - '0');
    }
    c->http_status = v;
  } else if (namelen == 11 && memcmp(name, "grpc-status", 11) == 0) {
    int v = 0;
    for (size_t i = 0; i < valuelen && i < 4; i++) {
      if (value[i] < '0' || value[i] > '9') {
        v = SOUPC_GRPC_UNKNOWN;
        break;
      }
      v = v * 10 + (value[i] - '0');
    }
    c->grpc_status = v;
  } else if (namelen == 12 && memcmp(name, "grpc-message", 12) == 0) {
    soupc__percent_decode(c->grpc_message, sizeof(c->grpc_message),
                          (const char *)value, valuelen);
  }
  return 0;
}

static int on_response_message(void *user_data, const uint8_t *msg,
                               size_t len) {
  struct soupc_client_stream *c = user_data;

  c->nresp++;
  if (c->unary) {
    if (c->nresp > 1) {
      return 0; /* reported by compute_status() */
    }
    if (len > 0) {
      c->resp = soupc__malloc(len);
      if (c->resp == NULL) {
        c->have_override = 1;
        c->override_err = SOUPC_ERR_NOMEM;
        soupc_status_set(&c->override, SOUPC_GRPC_RESOURCE_EXHAUSTED,
                         "out of memory for a %zu-byte response", len);
        return 1;
      }
      memcpy(c->resp, msg, len);
    }
    c->resp_len = len;
    return 0;
  }
  if (!c->finalized && c->on_message != NULL) {
    c->on_message(c, msg, len, c->user_data);
  }
  return c->finalized ? 1 : 0;
}

static int on_data_chunk(nghttp2_session *session, uint8_t flags,
                         int32_t stream_id, const uint8_t *data, size_t len,
                         void *user_data) {
  struct soupc_client_stream *c;
  soupc_status st;
  int rv, unary;

  (void)flags;
  (void)user_data;
  c = nghttp2_session_get_stream_user_data(session, stream_id);
  if (c == NULL || c->finalized || c->have_override) {
    return 0;
  }
  unary = c->unary;
  if (!unary) {
    call_ref(c); /* on_message may free the stream */
  }
  rv = soupc__deframer_feed(&c->df, data, len, on_response_message, c, &st);
  if (rv != 0 && !c->finalized) {
    /* A unary call may be freed by its waiter inside call_finalize(): do
     * not touch it afterwards. */
    if (rv < 0) {
      call_finalize(c, rv, &st, 1);
    } else {
      call_finalize(c, c->override_err, &c->override, 1);
    }
  }
  if (!unary) {
    call_unref(c);
  }
  return 0;
}

static int on_stream_close(nghttp2_session *session, int32_t stream_id,
                           uint32_t error_code, void *user_data) {
  struct soupc_client_stream *c;
  soupc_status st;

  (void)user_data;
  c = nghttp2_session_get_stream_user_data(session, stream_id);
  if (c == NULL) {
    return 0;
  }
  call_finalize(c, compute_status(c, error_code, &st), &st, 0);
  return 0;
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame,
                         void *user_data) {
  soupc_channel *ch = soupc__h2_owner(user_data);

  (void)session;
  if (frame->hd.type == NGHTTP2_SETTINGS &&
      !(frame->hd.flags & NGHTTP2_FLAG_ACK)) {
    pthread_mutex_lock(&ch->mu);
    if (!ch->ready && !ch->failed) {
      ch->ready = 1;
      atomic_store(&ch->open, 1);
      pthread_cond_broadcast(&ch->ready_cv);
    }
    pthread_mutex_unlock(&ch->mu);
  } else if (frame->hd.type == NGHTTP2_GOAWAY) {
    /* No new calls; streams above last_stream_id are closed by nghttp2
     * with REFUSED_STREAM (UNAVAILABLE, safe to retry). */
    atomic_store(&ch->open, 0);
  }
  return 0;
}

static void init_client_callbacks(void) {
  static const struct h2_callbacks role = {
      .on_header = on_header,
      .on_frame_recv = on_frame_recv,
      .on_data_chunk_recv = on_data_chunk,
      .on_stream_close = on_stream_close,
  };

  soupc__h2_callbacks_new(&client_callbacks, &role);
}

/* ------------------------------------------------------------------ */
/* Operations on the I/O thread                                         */
/* ------------------------------------------------------------------ */

static ssize_t call_data_read(nghttp2_session *session, int32_t stream_id,
                              uint8_t *buf, size_t length, uint32_t *data_flags,
                              nghttp2_data_source *source, void *user_data) {
  struct soupc_client_stream *c =
      nghttp2_session_get_stream_user_data(session, stream_id);
  ssize_t n;

  (void)source;
  (void)user_data;
  if (c == NULL) {
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  }
  n = soupc__h2_body_read(&c->outq, &c->borrowed, c->half_close, buf, length,
                          data_flags);
  if (n == NGHTTP2_ERR_DEFERRED) {
    c->deferred = 1;
  }
  return n;
}

static void call_resume(struct soupc_client_stream *c) {
  if (c->deferred && c->stream_id > 0 && !c->finalized) {
    c->deferred = 0;
    nghttp2_session_resume_data(c->ch->h2.ng, c->stream_id);
  }
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg) {
  struct soupc_client_stream *c = arg;
  soupc_channel *ch = c->ch;

  (void)fd;
  (void)what;
  call_fail(c, SOUPC_ERR_DEADLINE, SOUPC_GRPC_DEADLINE_EXCEEDED,
            "deadline exceeded", 1);
  chan_after_io(ch);
}

#define NV(NAME, VALUE, VLEN)                                                  \
  {                                                                            \
    (uint8_t *)(NAME), (uint8_t *)(VALUE), sizeof(NAME) - 1, (VLEN),           \
        NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE           \
  }

static void op_submit(soupc_channel *ch, struct soupc_client_stream *c) {
  char timeout[16];
  nghttp2_nv nv[8] = {
      NV(":method", "POST", 4),
      NV(":scheme", ch->is_tls ? "https" : "http", ch->is_tls ? 5u : 4u),
      NV(":path", c->path, strlen(c->path)),
      NV(":authority", ch->authority, strlen(ch->authority)),
      NV("content-type", "application/grpc", 16),
      NV("te", "trailers", 8),
      NV("user-agent", "soup-c/" SOUPC_VERSION,
         sizeof("soup-c/" SOUPC_VERSION) - 1),
  };
  size_t nnv = 7;
  nghttp2_data_provider prd;
  int32_t id;

  if (ch->lost || !atomic_load(&ch->open)) {
    call_fail(c, SOUPC_ERR_CLOSED, SOUPC_GRPC_UNAVAILABLE,
              ch->lost ? ch->lost_msg : "the channel is closing (GOAWAY)", 0);
    return;
  }
  if (c->deadline_ms > 0) {
    int64_t left = c->deadline_ms - soupc__now_ms();
    if (left <= 0) {
      call_fail(c, SOUPC_ERR_DEADLINE, SOUPC_GRPC_DEADLINE_EXCEEDED,
                "deadline exceeded", 0);
      return;
    }
    soupc_grpc_timeout_format(timeout, left);
    /* A stack buffer: nghttp2 must copy it (no NO_COPY_VALUE). */
    nv[nnv++] = (nghttp2_nv){(uint8_t *)"grpc-timeout", (uint8_t *)timeout, 12,
                             strlen(timeout), NGHTTP2_NV_FLAG_NO_COPY_NAME};
    if (soupc__h2_timer_arm(&c->deadline_ev, ch->base, deadline_cb, c, left) !=
        0) {
      call_fail(c, SOUPC_ERR_NOMEM, SOUPC_GRPC_RESOURCE_EXHAUSTED,
                "out of memory", 0);
      return;
    }
  }
  prd.source.ptr = NULL;
  prd.read_callback = call_data_read;
  id = nghttp2_submit_request(ch->h2.ng, NULL, nv, nnv, &prd, c);
  if (id < 0) {
    call_fail(c, id == NGHTTP2_ERR_NOMEM ? SOUPC_ERR_NOMEM : SOUPC_ERR_CLOSED,
              SOUPC_GRPC_UNAVAILABLE, nghttp2_strerror(id), 0);
    return;
  }
  c->stream_id = id;
  c->next = ch->calls;
  if (ch->calls != NULL) {
    ch->calls->prev = c;
  }
  ch->calls = c;
}

static void free_local(struct soupc_client_stream *c) {
  if (!c->finalized) {
    call_fail(c, SOUPC_ERR_CLOSED, SOUPC_GRPC_CANCELLED,
              "cancelled by the client", 1);
  }
  call_unref(c); /* the user's reference */
}

static void sync_done(struct sync_wait *s) {
  pthread_mutex_lock(&s->mu);
  s->done = 1;
  pthread_cond_signal(&s->cv);
  pthread_mutex_unlock(&s->mu);
}

static void op_stop(soupc_channel *ch) {
  if (!ch->lost) {
    /* Before the GOAWAY, which closes the streams as if the server had
     * cancelled them: the calls end because we close the channel. */
    while (ch->calls != NULL) {
      call_fail(ch->calls, SOUPC_ERR_CLOSED, SOUPC_GRPC_UNAVAILABLE,
                "the channel was closed", 1);
    }
    nghttp2_session_terminate_session(ch->h2.ng, NGHTTP2_NO_ERROR);
    chan_flush(ch);
    /* Best effort: get the GOAWAY out before the socket closes. */
    if (!ch->is_tls && ch->h2.bev != NULL) {
      evbuffer_write(ch->h2.out, bufferevent_getfd(ch->h2.bev));
    }
    chan_lost(ch, SOUPC_ERR_CLOSED, "the channel was closed");
  }
  event_base_loopbreak(ch->base);
}

/* Runs one op on the I/O thread and releases it. An embedded op may live in
 * a call that running it frees: nothing touches it afterwards. */
static void run_op(soupc_channel *ch, struct cop *op) {
  struct soupc_client_stream *c = op->call;
  struct sync_wait *sync = op->sync;
  int embedded = op->embedded;

  switch (op->kind) {
  case COP_SUBMIT:
    op_submit(ch, c);
    break;
  case COP_SEND:
    if (c->finalized || c->half_close) {
      soupc__out_msg_free(op->msg);
    } else {
      soupc__out_queue_push(&c->outq, op->msg);
      call_resume(c);
    }
    call_unref(c); /* the op's reference (op_new) */
    break;
  case COP_CLOSE_SEND:
    if (!c->finalized && !c->half_close) {
      c->half_close = 1;
      call_resume(c);
    }
    call_unref(c);
    break;
  case COP_FREE:
    free_local(c);
    sync_done(sync);
    break;
  case COP_STOP:
    op_stop(ch);
    break;
  }
  if (!embedded) {
    soupc__free(op);
  }
}

static void run_ops(soupc_channel *ch, struct h2_op *op) {
  while (op != NULL) {
    struct h2_op *next = op->next;
    run_op(ch, (struct cop *)op);
    op = next;
  }
}

static void wake_cb(evutil_socket_t fd, short what, void *arg) {
  soupc_channel *ch = arg;

  (void)fd;
  (void)what;
  run_ops(ch, soupc__h2_opq_take(&ch->q));
  chan_after_io(ch);
}

/* Posts to the I/O thread. @return 0, or SOUPC_ERR_CLOSED if it has gone
 * (an allocated op is then freed, with its message and its reference to
 * the call; the caller holds another, so the call itself stays). */
static int post(soupc_channel *ch, struct cop *op) {
  if (soupc__h2_opq_post(&ch->q, &op->link) == 0) {
    return 0;
  }
  if (!op->embedded) {
    soupc__out_msg_free(op->msg);
    call_unref(op->call);
    soupc__free(op);
  }
  return SOUPC_ERR_CLOSED;
}

/* An allocated op (SEND, CLOSE_SEND) on stream @p c; it holds a reference
 * to @p c until run_op() has run it. */
static struct cop *op_new(enum cop_kind kind, struct soupc_client_stream *c) {
  struct cop *op = soupc__calloc(1, sizeof(*op));

  if (op != NULL) {
    op->kind = kind;
    op->call = c;
    call_ref(c);
  }
  return op;
}

static void *io_main(void *arg) {
  soupc_channel *ch = arg;

  ch->tid = pthread_self();
  event_base_loop(ch->base, EVLOOP_NO_EXIT_ON_EMPTY);
  if (!ch->lost) {
    chan_lost(ch, SOUPC_ERR_CLOSED, "the channel was closed");
  }
  /* Work posted before the queue stopped still runs (and fails). */
  run_ops(ch, soupc__h2_opq_stop(&ch->q));
  /* Free the bufferevent on its own loop and let the loop run its
   * finaliser: libevent 2.1 frees an OpenSSL bufferevent (and its SSL)
   * from a deferred callback, which event_base_free() on another thread
   * did not always run, leaking them. */
  if (ch->h2.bev != NULL) {
    soupc__h2_session_free_bev(&ch->h2);
    event_base_loop(ch->base, EVLOOP_NONBLOCK);
  }
  return NULL;
}

/* ------------------------------------------------------------------ */
/* Opening, state by state                                              */
/* ------------------------------------------------------------------ */

/* TLS handshake on the blocking path of soupc_channel_open(). */
static int tls_handshake(SSL *ssl, int fd, int64_t deadline_ms,
                         soupc_status *st) {
  for (;;) {
    int rv = SSL_connect(ssl), err;
    struct pollfd pfd = {.fd = fd};
    int64_t left;
    char text[200];

    if (rv == 1) {
      return soupc__tls_check_alpn(ssl, st);
    }
    err = SSL_get_error(ssl, rv);
    if (err == SSL_ERROR_WANT_READ) {
      pfd.events = POLLIN;
    } else if (err == SSL_ERROR_WANT_WRITE) {
      pfd.events = POLLOUT;
    } else {
      soupc_status_set(st, SOUPC_GRPC_UNAVAILABLE, "TLS handshake: %s",
                       soupc__tls_last_error(text, sizeof(text)));
      return SOUPC_ERR_TLS;
    }
    left = deadline_ms - soupc__now_ms();
    if (left <= 0 || poll(&pfd, 1, (int)left) == 0) {
      soupc_status_set(st, SOUPC_GRPC_DEADLINE_EXCEEDED,
                       "TLS handshake: timed out");
      return SOUPC_ERR_DEADLINE;
    }
  }
}

/* Frees what the open states built; the I/O thread has been joined. */
static void channel_destroy(soupc_channel *ch) {
  if (ch->h2.bev != NULL) {
    bufferevent_free(ch->h2.bev);
    ch->h2.bev = NULL;
  }
  soupc__h2_session_dispose(&ch->h2);
  soupc__h2_opq_dispose(&ch->q);
  if (ch->base != NULL) {
    event_base_free(ch->base);
  }
  if (ch->ssl_ctx != NULL) {
    SSL_CTX_free(ch->ssl_ctx);
  }
  pthread_mutex_destroy(&ch->mu);
  pthread_cond_destroy(&ch->ready_cv);
  soupc__free(ch);
}

/* State 1: the channel struct, its limits and :authority. */
static soupc_channel *channel_new(const struct net_addr *a,
                                  const soupc_channel_options *opts) {
  soupc_channel *ch = soupc__calloc(1, sizeof(*ch));

  if (ch == NULL) {
    return NULL;
  }
  pthread_mutex_init(&ch->mu, NULL);
  pthread_cond_init(&ch->ready_cv, NULL);
  atomic_init(&ch->open, 0);
  op_init_embedded(&ch->stop_op, COP_STOP, NULL);
  ch->max_msg = opts->max_message_size > 0 ? opts->max_message_size
                                           : SOUPC_DEFAULT_MAX_MESSAGE_SIZE;
  /* The 4-byte length prefix cannot describe more. */
  if (ch->max_msg > UINT32_MAX) {
    ch->max_msg = UINT32_MAX;
  }
  if (a->is_unix) {
    snprintf(ch->authority, sizeof(ch->authority), "localhost");
  } else if (strchr(a->host, ':') != NULL) {
    snprintf(ch->authority, sizeof(ch->authority), "[%s]:%u", a->host,
             (unsigned)a->port);
  } else {
    snprintf(ch->authority, sizeof(ch->authority), "%s:%u", a->host,
             (unsigned)a->port);
  }
  ch->is_tls = opts->tls != NULL || opts->tls_context != NULL;
  return ch;
}

/* State 2: the connected socket @p fd becomes a bufferevent, after the TLS
 * handshake (blocking, against @p deadline) and the ALPN check if TLS is
 * on. The fd is the bufferevent's on success and closed on failure. */
static int channel_wrap_socket(soupc_channel *ch, int fd,
                               const struct net_addr *a,
                               const soupc_channel_options *opts,
                               int64_t deadline, soupc_status *st) {
  SSL *ssl;
  const char *name;
  int rv;

  if (!ch->is_tls) {
    ch->h2.bev = bufferevent_socket_new(ch->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (ch->h2.bev == NULL) {
      close(fd);
      soupc_status_set(st, SOUPC_GRPC_RESOURCE_EXHAUSTED, "out of memory");
      return SOUPC_ERR_NOMEM;
    }
    return 0;
  }
  name = opts->tls != NULL ? opts->tls->server_name : NULL;
  if (name == NULL) {
    name = a->is_unix ? "localhost" : a->host;
  }
  ssl = SSL_new(ch->ssl_ctx);
  if (ssl != NULL) {
    soupc__tls_context_resume(ssl); /* shared contexts only */
  }
  if (ssl == NULL || soupc__tls_client_prepare(ssl, name) != 0 ||
      SSL_set_fd(ssl, fd) != 1) {
    soupc_status_set(st, SOUPC_GRPC_UNAVAILABLE, "TLS setup failed");
    rv = SOUPC_ERR_TLS;
    goto fail;
  }
  rv = tls_handshake(ssl, fd, deadline, st);
  ch->tls_resumed = rv == 0 && SSL_session_reused(ssl);
  if (rv != 0) {
    goto fail;
  }
  ch->h2.bev = bufferevent_openssl_socket_new(
      ch->base, fd, ssl, BUFFEREVENT_SSL_OPEN, BEV_OPT_CLOSE_ON_FREE);
  if (ch->h2.bev == NULL) {
    soupc_status_set(st, SOUPC_GRPC_RESOURCE_EXHAUSTED, "out of memory");
    rv = SOUPC_ERR_NOMEM;
    goto fail;
  }
  bufferevent_openssl_set_allow_dirty_shutdown(ch->h2.bev, 1);
  return 0;

fail:
  SSL_free(ssl);
  close(fd);
  return rv;
}

/* State 3: the nghttp2 session and our SETTINGS, then the I/O thread. */
static int channel_start_session(soupc_channel *ch, soupc_status *st) {
  static const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
  };
  struct bufferevent *bev = ch->h2.bev;

  if (soupc__h2_opq_init(&ch->q, ch->base, wake_cb, ch) != 0 ||
      soupc__h2_session_init(&ch->h2, 0, client_callbacks, bev, &chan_hooks, ch,
                             settings,
                             sizeof(settings) / sizeof(settings[0])) != 0) {
    ch->h2.bev = bev; /* still ours to free */
    soupc_status_set(st, SOUPC_GRPC_RESOURCE_EXHAUSTED, "out of memory");
    return SOUPC_ERR_NOMEM;
  }
  chan_flush(ch);
  bufferevent_enable(bev, EV_READ | EV_WRITE);
  if (pthread_create(&ch->thread, NULL, io_main, ch) != 0) {
    soupc_status_set(st, SOUPC_GRPC_RESOURCE_EXHAUSTED,
                     "cannot start the I/O thread");
    return SOUPC_ERR_NOMEM;
  }
  return 0;
}

/* State 4: the HTTP/2 preface, that is the server's first SETTINGS
 * (RFC 9113 §3.4), by @p deadline. */
static int channel_wait_preface(soupc_channel *ch, int64_t deadline,
                                const char *address, int timeout_ms,
                                soupc_status *st) {
  int rv = 0;

  pthread_mutex_lock(&ch->mu);
  while (!ch->ready && !ch->failed) {
    struct timespec ts;
    int64_t ms;
    clock_gettime(CLOCK_REALTIME, &ts);
    ms = deadline - soupc__now_ms();
    if (ms <= 0) {
      break;
    }
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&ch->ready_cv, &ch->mu, &ts);
  }
  if (ch->ready) {
    rv = 0;
  } else if (ch->failed) {
    rv = ch->fail_err == SOUPC_ERR_TLS ? SOUPC_ERR_TLS : SOUPC_ERR_CONNECT;
    if (st != NULL) {
      *st = ch->fail_st;
    }
  } else {
    rv = SOUPC_ERR_DEADLINE;
    soupc_status_set(st, SOUPC_GRPC_DEADLINE_EXCEEDED,
                     "no HTTP/2 SETTINGS from %s within %d ms", address,
                     timeout_ms);
  }
  pthread_mutex_unlock(&ch->mu);
  return rv;
}

/* Stops the I/O thread (if it runs) and frees everything. */
static void channel_stop(soupc_channel *ch, int thread_started) {
  if (thread_started) {
    post(ch, &ch->stop_op);
    pthread_join(ch->thread, NULL);
  }
  channel_destroy(ch);
}

/* Resolve, connect, TLS, session, thread, preface: one state each, all on
 * the caller's thread except the preface, which the I/O thread reads. */
int soupc_channel_open(soupc_channel **out, const char *address,
                       const soupc_channel_options *user_opts,
                       soupc_status *st) {
  soupc_channel_options o;
  soupc_tls_options tls;
  const soupc_channel_options *opts = &o;
  soupc_channel *ch;
  struct net_addr a;
  int64_t deadline;
  int fd, rv, timeout_ms;

  /* docs/api/abi.md: read the caller's structs at their own size. */
  rv = soupc__options_copy(&o, sizeof(o), user_opts, "soupc_channel_options",
                           st);
  if (rv == 0 && o.tls != NULL) {
    rv = soupc__options_copy(&tls, sizeof(tls), o.tls, "soupc_tls_options", st);
    o.tls = &tls;
  }
  if (rv != 0) {
    return rv;
  }
  soupc__transport_init();
  pthread_once(&client_callbacks_once, init_client_callbacks);
  if (soupc__addr_parse(&a, address, st) != 0) {
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  timeout_ms = opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms
                                            : DEFAULT_CONNECT_TIMEOUT_MS;
  deadline = soupc__now_ms() + timeout_ms;
  ch = client_callbacks != NULL ? channel_new(&a, opts) : NULL;
  if (ch == NULL) {
    soupc_status_set(st, SOUPC_GRPC_RESOURCE_EXHAUSTED, "out of memory");
    return SOUPC_ERR_NOMEM;
  }
  if (opts->tls_context != NULL) {
    ch->ssl_ctx = soupc__tls_context_ref(opts->tls_context, 0);
    if (ch->ssl_ctx == NULL) {
      soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                       "tls_context was not made for a channel");
      channel_stop(ch, 0);
      return SOUPC_ERR_TLS;
    }
  } else if (ch->is_tls) {
    ch->ssl_ctx = soupc__tls_client_ctx_new(opts->tls, st);
    if (ch->ssl_ctx == NULL) {
      channel_stop(ch, 0);
      return SOUPC_ERR_TLS;
    }
  }
  fd = soupc__addr_connect(&a, deadline, st);
  if (fd < 0) {
    channel_stop(ch, 0);
    return fd;
  }
  ch->base = event_base_new();
  if (ch->base == NULL) {
    close(fd);
    soupc_status_set(st, SOUPC_GRPC_RESOURCE_EXHAUSTED, "out of memory");
    channel_stop(ch, 0);
    return SOUPC_ERR_NOMEM;
  }
  rv = channel_wrap_socket(ch, fd, &a, opts, deadline, st);
  if (rv == 0) {
    rv = channel_start_session(ch, st);
    if (rv == 0) {
      rv = channel_wait_preface(ch, deadline, address, timeout_ms, st);
      if (rv == 0) {
        *out = ch;
        return 0;
      }
      channel_stop(ch, 1);
      return rv;
    }
  }
  channel_stop(ch, 0);
  return rv;
}

int soupc__channel_tls_resumed(const soupc_channel *ch) {
  return ch->tls_resumed;
}

int soupc_channel_is_open(const soupc_channel *ch) {
  return atomic_load(&((soupc_channel *)ch)->open);
}

void soupc_channel_free(soupc_channel *ch) {
  if (ch == NULL) {
    return;
  }
  channel_stop(ch, 1);
}

/* What both unary calls check before a call exists. @return 0, or the
 * soupc_err with @p st set. */
static int unary_check(soupc_channel *ch, size_t req_len, soupc_status *st) {
  if (req_len > ch->max_msg) {
    soupc_status_set(st, SOUPC_GRPC_RESOURCE_EXHAUSTED,
                     "request message is %zu bytes; the limit is %zu bytes",
                     req_len, ch->max_msg);
    return SOUPC_ERR_TOO_LARGE;
  }
  if (!atomic_load(&ch->open)) {
    soupc_status_set(st, SOUPC_GRPC_UNAVAILABLE, "the channel is closed");
    return SOUPC_ERR_CLOSED;
  }
  return 0;
}

/* A unary call whose request is already in its output queue. */
static struct soupc_client_stream *unary_new(soupc_channel *ch,
                                             const char *path,
                                             const uint8_t *req, size_t len,
                                             int64_t timeout_ms) {
  struct soupc_client_stream *c = call_new(ch, path);

  if (c == NULL) {
    return NULL;
  }
  c->unary = 1;
  if (timeout_ms > 0) {
    c->deadline_ms = soupc__now_ms() + timeout_ms;
  }
  soupc__out_msg_init_borrowed(&c->borrowed, req, len);
  soupc__out_queue_push(&c->outq, &c->borrowed);
  c->half_close = 1;
  return c;
}

int soupc_channel_unary(soupc_channel *ch, const char *path, const uint8_t *req,
                        size_t req_len, uint8_t **resp_out,
                        size_t *resp_len_out, int64_t timeout_ms,
                        soupc_status *st) {
  struct soupc_client_stream *c;
  int rv;

  rv = unary_check(ch, req_len, st);
  if (rv != 0) {
    return rv;
  }
  if (on_io_thread(ch)) {
    /* It would wait for the thread that has to do the work. */
    soupc_status_set(
        st, SOUPC_GRPC_INTERNAL,
        "soupc_channel_unary() called from the channel's own "
        "I/O thread (a callback); use soupc_channel_unary_async()");
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  /* The caller blocks until the call ends, so the request is borrowed. */
  c = unary_new(ch, path, req, req_len, timeout_ms);
  if (c == NULL) {
    soupc_status_set(st, SOUPC_GRPC_RESOURCE_EXHAUSTED, "out of memory");
    return SOUPC_ERR_NOMEM;
  }
  if (post(ch, &c->submit_op) != 0) {
    call_free(c);
    soupc_status_set(st, SOUPC_GRPC_UNAVAILABLE, "the channel is closed");
    return SOUPC_ERR_CLOSED;
  }
  pthread_mutex_lock(&c->mu);
  while (!c->done) {
    pthread_cond_wait(&c->cv, &c->mu);
  }
  pthread_mutex_unlock(&c->mu);
  rv = c->err;
  if (st != NULL) {
    *st = c->status;
  }
  if (rv == 0) {
    if (resp_out != NULL) {
      *resp_out = c->resp;
      c->resp = NULL;
    }
    if (resp_len_out != NULL) {
      *resp_len_out = c->resp_len;
    }
  }
  call_free(c);
  return rv;
}

int soupc_channel_unary_async(soupc_channel *ch, const char *path,
                              const uint8_t *req, size_t req_len,
                              int64_t timeout_ms, soupc_unary_done_fn done,
                              void *user_data, soupc_status *st) {
  struct soupc_client_stream *c;
  uint8_t *copy;
  int rv;

  rv = unary_check(ch, req_len, st);
  if (rv != 0) {
    return rv;
  }
  /* The caller goes on at once: the call keeps its own copy. */
  copy = soupc__malloc(req_len > 0 ? req_len : 1);
  c = copy != NULL ? unary_new(ch, path, copy, req_len, timeout_ms) : NULL;
  if (c == NULL) {
    soupc__free(copy);
    soupc_status_set(st, SOUPC_GRPC_RESOURCE_EXHAUSTED, "out of memory");
    return SOUPC_ERR_NOMEM;
  }
  if (req_len > 0) {
    memcpy(copy, req, req_len);
  }
  c->req_copy = copy;
  c->done_fn = done;
  c->user_data = user_data;
  /* Posted even from the I/O thread, so that @p done never runs before
   * this returns. */
  if (post(ch, &c->submit_op) != 0) {
    call_free(c);
    soupc_status_set(st, SOUPC_GRPC_UNAVAILABLE, "the channel is closed");
    return SOUPC_ERR_CLOSED;
  }
  return 0;
}

int soupc_client_stream_open(soupc_client_stream **out, soupc_channel *ch,
                             const char *path,
                             soupc_stream_message_fn on_message,
                             soupc_stream_close_fn on_close, void *user_data) {
  struct soupc_client_stream *c;

  if (!atomic_load(&ch->open)) {
    return SOUPC_ERR_CLOSED;
  }
  c = call_new(ch, path);
  if (c == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  atomic_store(&c->refs, 2); /* the user's and the in-flight one */
  c->on_message = on_message;
  c->on_close = on_close;
  c->user_data = user_data;
  if (on_io_thread(ch)) {
    op_submit(ch, c);
    chan_after_io(ch);
  } else if (post(ch, &c->submit_op) != 0) {
    call_free(c);
    return SOUPC_ERR_CLOSED;
  }
  *out = c;
  return 0;
}

/* Runs @p op at once on the I/O thread (flushing unless inside nghttp2),
 * or posts it. */
static int stream_op(soupc_client_stream *stream, struct cop *op) {
  soupc_channel *ch = stream->ch;

  if (on_io_thread(ch)) {
    run_op(ch, op);
    if (!ch->h2.in_recv) {
      chan_after_io(ch);
    }
    return 0;
  }
  return post(ch, op);
}

int soupc_client_stream_send(soupc_client_stream *stream, const uint8_t *msg,
                             size_t len) {
  struct cop *op;

  if (len > stream->ch->max_msg) {
    return SOUPC_ERR_TOO_LARGE;
  }
  if (atomic_load(&stream->closed)) {
    return SOUPC_ERR_CLOSED;
  }
  op = op_new(COP_SEND, stream);
  if (op == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  op->msg = soupc__out_msg_new(msg, len);
  if (op->msg == NULL) {
    call_unref(stream);
    soupc__free(op);
    return SOUPC_ERR_NOMEM;
  }
  return stream_op(stream, op);
}

int soupc_client_stream_close_send(soupc_client_stream *stream) {
  struct cop *op;

  if (atomic_load(&stream->closed)) {
    return SOUPC_ERR_CLOSED;
  }
  op = op_new(COP_CLOSE_SEND, stream);
  if (op == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  return stream_op(stream, op);
}

void soupc_client_stream_free(soupc_client_stream *stream) {
  soupc_channel *ch;
  struct sync_wait sw;

  if (stream == NULL) {
    return;
  }
  ch = stream->ch;
  if (on_io_thread(ch)) {
    free_local(stream);
    if (!ch->h2.in_recv) {
      chan_after_io(ch);
    }
    return;
  }
  /* The FREE op lives in the stream: freeing needs no memory. */
  pthread_mutex_init(&sw.mu, NULL);
  pthread_cond_init(&sw.cv, NULL);
  sw.done = 0;
  stream->free_op.sync = &sw;
  if (post(ch, &stream->free_op) != 0) {
    /* The I/O thread has gone: the stream was finalized by then. */
    free_local(stream);
  } else {
    pthread_mutex_lock(&sw.mu);
    while (!sw.done) {
      pthread_cond_wait(&sw.cv, &sw.mu);
    }
    pthread_mutex_unlock(&sw.mu);
  }
  pthread_mutex_destroy(&sw.mu);
  pthread_cond_destroy(&sw.cv);
}
