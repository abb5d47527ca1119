/* The HTTP/2 core shared by server connections and client channels. See
 * h2_session.h and docs/internals/transport.md. */
#include "transport/h2_session.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>

#include "base/alloc.h"
#include "base/batch.h"
#include "soupc/soupc.h"
#include "transport/h2_mem.h"

static nghttp2_option *shared_option;
static pthread_once_t shared_option_once = PTHREAD_ONCE_INIT;

static void init_shared_option(void) {
  nghttp2_option *opt;

  if (nghttp2_option_new(&opt) != 0) {
    return;
  }
  /* Queued SETTINGS/PING ACKs for a peer that sends but never reads; past
   * this nghttp2 ends the session (NGHTTP2_ERR_FLOODED). nghttp2's default,
   * stated so the bound is visible here. */
  nghttp2_option_set_max_outbound_ack(opt, 1000);
  /* Entries in one SETTINGS frame (nghttp2's default, stated). */
  nghttp2_option_set_max_settings(opt, 32);
  shared_option = opt;
}

/* nghttp2_session_send()'s output callback: copy the frame into the
 * socket's output. Past the high-water mark, say "would block": nghttp2
 * keeps the frame and the write callback resumes the flush. */
static ssize_t on_send(nghttp2_session *session, const uint8_t *data,
                       size_t length, int flags, void *user_data) {
  struct h2_session *s = user_data;

  (void)session;
  (void)flags;
  if (evbuffer_get_length(s->out) >= SOUPC__H2_OUT_HIGH_WATER) {
    return NGHTTP2_ERR_WOULDBLOCK;
  }
  if (evbuffer_add(s->out, data, length) != 0) {
    return NGHTTP2_ERR_CALLBACK_FAILURE; /* out of memory */
  }
  s->sent_bytes += length;
  return (ssize_t)length;
}

int soupc__h2_callbacks_new(nghttp2_session_callbacks **out,
                            const struct h2_callbacks *role) {
  nghttp2_session_callbacks *cb;

  if (nghttp2_session_callbacks_new(&cb) != 0) {
    return SOUPC_ERR_NOMEM;
  }
  nghttp2_session_callbacks_set_send_callback(cb, on_send);
  if (role->on_begin_headers != NULL) {
    nghttp2_session_callbacks_set_on_begin_headers_callback(
        cb, role->on_begin_headers);
  }
  if (role->on_header != NULL) {
    nghttp2_session_callbacks_set_on_header_callback(cb, role->on_header);
  }
  if (role->on_frame_recv != NULL) {
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb,
                                                         role->on_frame_recv);
  }
  if (role->on_data_chunk_recv != NULL) {
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(
        cb, role->on_data_chunk_recv);
  }
  if (role->on_stream_close != NULL) {
    nghttp2_session_callbacks_set_on_stream_close_callback(
        cb, role->on_stream_close);
  }
  if (role->on_frame_send != NULL) {
    nghttp2_session_callbacks_set_on_frame_send_callback(cb,
                                                         role->on_frame_send);
  }
  if (role->send_data != NULL) {
    nghttp2_session_callbacks_set_send_data_callback(cb, role->send_data);
  }
  *out = cb;
  return 0;
}

/* ------------------------------------------------------------------ */
/* bufferevent callbacks                                               */
/* ------------------------------------------------------------------ */

static void session_readcb(struct bufferevent *bev, void *arg) {
  struct h2_session *s = arg;
  struct evbuffer *in = bufferevent_get_input(bev);
  int rv = 0;

  if (s->draining) {
    evbuffer_drain(in, evbuffer_get_length(in));
    return;
  }
  while (!s->dead && !s->draining) {
    size_t len = evbuffer_get_contiguous_space(in);

    if (len == 0) {
      break;
    }
    rv = soupc__h2_session_recv(s, evbuffer_pullup(in, (ev_ssize_t)len), len);
    evbuffer_drain(in, len);
    if (rv != 0) {
      break;
    }
  }
  if (rv != 0 || s->draining) {
    evbuffer_drain(in, evbuffer_get_length(in));
  }
  s->hooks->on_read(s, rv);
}

static void session_writecb(struct bufferevent *bev, void *arg) {
  struct h2_session *s = arg;

  (void)bev;
  s->hooks->on_write(s);
}

static void session_eventcb(struct bufferevent *bev, short what, void *arg) {
  struct h2_session *s = arg;

  (void)bev;
  s->hooks->on_event(s, what);
}

/* ------------------------------------------------------------------ */
/* Session                                                             */
/* ------------------------------------------------------------------ */

int soupc__h2_session_init(struct h2_session *s, int server,
                           const nghttp2_session_callbacks *cb,
                           struct bufferevent *bev,
                           const struct h2_session_hooks *hooks, void *owner,
                           const nghttp2_settings_entry *extra, size_t nextra) {
  nghttp2_settings_entry iv[8];
  size_t n = 0;
  int rv;

  pthread_once(&shared_option_once, init_shared_option);
  memset(s, 0, sizeof(*s));
  if (shared_option == NULL || nextra + 1 > sizeof(iv) / sizeof(iv[0])) {
    return SOUPC_ERR_NOMEM;
  }
  s->bev = bev;
  s->hooks = hooks;
  s->owner = owner;
  if (server) {
    s->census.preface_left = NGHTTP2_CLIENT_MAGIC_LEN;
  }
  s->by_ref = bev == NULL || bufferevent_openssl_get_ssl(bev) == NULL;
  if (bev != NULL) {
    s->out = bufferevent_get_output(bev);
  } else {
    s->out = evbuffer_new();
    if (s->out == NULL) {
      return SOUPC_ERR_NOMEM;
    }
    s->owns_out = 1;
  }
  rv = server ? nghttp2_session_server_new3(&s->ng, cb, s, shared_option,
                                            soupc__h2_mem())
              : nghttp2_session_client_new3(&s->ng, cb, s, shared_option,
                                            soupc__h2_mem());
  if (rv != 0) {
    goto fail;
  }
  iv[n++] = (nghttp2_settings_entry){NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE,
                                     SOUPC__H2_STREAM_WINDOW};
  memcpy(iv + n, extra, nextra * sizeof(*extra));
  n += nextra;
  if (nghttp2_submit_settings(s->ng, NGHTTP2_FLAG_NONE, iv, n) != 0 ||
      nghttp2_session_set_local_window_size(s->ng, NGHTTP2_FLAG_NONE, 0,
                                            SOUPC__H2_CONN_WINDOW) != 0) {
    goto fail;
  }
  if (bev != NULL) {
    bufferevent_setcb(bev, session_readcb, session_writecb, session_eventcb, s);
    bufferevent_setwatermark(bev, EV_WRITE, SOUPC__H2_OUT_LOW_WATER, 0);
    /* libevent moves at most 16 KiB per read or write call unless told
     * otherwise: one writev and one loop turn per DATA frame of a large
     * response. Let a write take the whole output (it stops at the high
     * water mark anyway) and a read a few frames. */
    bufferevent_set_max_single_write(bev, SOUPC__H2_OUT_HIGH_WATER);
    bufferevent_set_max_single_read(bev, SOUPC__H2_MAX_SINGLE_READ);
  }
  return 0;

fail:
  s->bev = NULL; /* still the caller's */
  soupc__h2_session_dispose(s);
  return SOUPC_ERR_NOMEM;
}

void soupc__h2_session_del(struct h2_session *s) {
  if (s->ng != NULL) {
    nghttp2_session_del(s->ng);
    s->ng = NULL;
  }
}

void soupc__h2_session_dispose(struct h2_session *s) {
  soupc__h2_session_del(s);
  if (s->owns_out) {
    evbuffer_free(s->out);
    s->out = NULL;
    s->owns_out = 0;
  }
}

void soupc__h2_session_free_bev(struct h2_session *s) {
  evutil_socket_t fd;

  if (s->bev == NULL) {
    return;
  }
  /* libevent finalises a freed bufferevent (and closes its fd) from the
   * loop later. */
  fd = bufferevent_getfd(s->bev);
  if (fd >= 0) {
    shutdown(fd, SHUT_WR);
  }
  bufferevent_free(s->bev);
  s->bev = NULL;
  s->out = NULL;
}

/* The frame census: walks frame headers through the bytes (RFC 9113 §4.1:
 * 24 bytes of client magic, then 9-byte headers each followed by its
 * payload) without parsing anything else. */
static void census_feed(struct h2_session *s, const uint8_t *p, size_t len) {
  struct h2_census *k = &s->census;

  while (len > 0 && !s->draining) {
    size_t n;

    if (k->preface_left > 0 || k->skip > 0) {
      size_t *left = k->preface_left > 0 ? &k->preface_left : &k->skip;
      n = len < *left ? len : *left;
      *left -= n;
      p += n;
      len -= n;
      continue;
    }
    if (k->need == 0) {
      k->need = 9;
    }
    n = k->need - k->have < len ? k->need - k->have : len;
    memcpy(k->buf + k->have, p, n);
    k->have += n;
    p += n;
    len -= n;
    if (k->have < k->need) {
      return;
    }
    {
      uint32_t length =
          ((uint32_t)k->buf[0] << 16) | ((uint32_t)k->buf[1] << 8) | k->buf[2];
      size_t peek = 0;
      struct h2_frame_seen f;

      if (k->buf[3] == NGHTTP2_WINDOW_UPDATE && length >= 4) {
        peek = 4;
      } else if (k->buf[3] == NGHTTP2_DATA &&
                 (k->buf[4] & NGHTTP2_FLAG_PADDED) && length >= 1) {
        peek = 1;
      }
      if (k->need == 9 && peek > 0) {
        k->need = 9 + peek; /* read the peeked bytes first */
        continue;
      }
      f.length = length;
      f.type = k->buf[3];
      f.flags = k->buf[4];
      f.stream_id = (int32_t)((((uint32_t)k->buf[5] & 0x7f) << 24) |
                              ((uint32_t)k->buf[6] << 16) |
                              ((uint32_t)k->buf[7] << 8) | k->buf[8]);
      f.npeek = k->need - 9;
      memcpy(f.peek, k->buf + 9, f.npeek);
      k->skip = length - f.npeek;
      k->have = 0;
      k->need = 0;
      s->hooks->on_frame_seen(s, &f);
    }
  }
}

int soupc__h2_session_recv(struct h2_session *s, const uint8_t *data,
                           size_t len) {
  ssize_t rv;

  if (s->hooks->on_frame_seen != NULL) {
    census_feed(s, data, len);
    if (s->draining) {
      return 0; /* a limit ended the connection: nghttp2 sees no more */
    }
  }
  s->in_recv = 1;
  /* Work the handlers start for this input (Puts for the store's commit
   * thread, posts to other loops) is handed on together when the scope
   * ends, still in_recv: calls it finishes here only queue their frames,
   * and the role's on_read flushes them (base/batch.h). */
  soupc__batch_begin();
  rv = nghttp2_session_mem_recv(s->ng, data, len);
  soupc__batch_end();
  s->in_recv = 0;
  return rv < 0 ? (int)rv : 0;
}

int soupc__h2_session_flush(struct h2_session *s) {
  int rv;

  if (s->dead || s->in_send || s->in_recv || s->ng == NULL) {
    return 0;
  }
  s->in_send = 1;
  rv = nghttp2_session_send(s->ng);
  s->in_send = 0;
  if (rv != 0) {
    s->dead = 1;
    return rv == NGHTTP2_ERR_NOMEM || rv == NGHTTP2_ERR_CALLBACK_FAILURE
               ? SOUPC_ERR_NOMEM
               : SOUPC_ERR_PROTOCOL;
  }
  return 0;
}

int soupc__h2_session_want_io(const struct h2_session *s) {
  return nghttp2_session_want_read(s->ng) || nghttp2_session_want_write(s->ng);
}

void soupc__h2_session_close_when_drained(struct h2_session *s) {
  if (s->draining) {
    return;
  }
  s->draining = 1;
  if (s->bev != NULL) {
    bufferevent_disable(s->bev, EV_READ);
    bufferevent_setwatermark(s->bev, EV_WRITE, 0, 0);
  }
}

ssize_t soupc__h2_body_read(struct out_queue *q, const struct out_msg *keep,
                            int done, uint8_t *buf, size_t len,
                            uint32_t *data_flags) {
  size_t n = soupc__out_queue_read(q, buf, len, keep);

  if (q->head == NULL && done) {
    *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
  }
  return n > 0 ? (ssize_t)n : NGHTTP2_ERR_DEFERRED;
}

ssize_t soupc__h2_body_len(const struct out_queue *q, int done, size_t len,
                           uint32_t *data_flags) {
  size_t n = q->bytes < len ? q->bytes : len;

  if (n == q->bytes && done) {
    *data_flags |= NGHTTP2_DATA_FLAG_EOF;
  } else if (n == 0) {
    return NGHTTP2_ERR_DEFERRED;
  }
  if (n > 0) {
    *data_flags |= NGHTTP2_DATA_FLAG_NO_COPY;
  }
  return (ssize_t)n;
}

int soupc__h2_send_data(struct h2_session *s, const uint8_t *framehd,
                        size_t length, size_t padlen, struct out_queue *q,
                        const struct out_msg *keep) {
  if (padlen != 0) {
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  }
  if (evbuffer_get_length(s->out) >= SOUPC__H2_OUT_HIGH_WATER) {
    return NGHTTP2_ERR_WOULDBLOCK;
  }
  if (q->bytes < length) {
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  }
  if (soupc__out_queue_emit_framed(q, s->out, framehd, 9, length, s->by_ref,
                                   keep) != 0) {
    return NGHTTP2_ERR_CALLBACK_FAILURE; /* out of memory: session dead */
  }
  s->sent_bytes += 9 + length; /* as on_send counts its frames */
  return 0;
}

/* ------------------------------------------------------------------ */
/* Operation queue                                                     */
/* ------------------------------------------------------------------ */

int soupc__h2_opq_init(struct h2_opq *q, struct event_base *base,
                       event_callback_fn wake, void *arg) {
  memset(q, 0, sizeof(*q));
  q->wake_ev = event_new(base, -1, 0, wake, arg);
  if (q->wake_ev == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  pthread_mutex_init(&q->mu, NULL);
  return 0;
}

void soupc__h2_opq_dispose(struct h2_opq *q) {
  if (q->wake_ev == NULL) {
    return;
  }
  event_free(q->wake_ev);
  q->wake_ev = NULL;
  pthread_mutex_destroy(&q->mu);
}

static void enqueue(struct h2_opq *q, struct h2_op *op) {
  op->next = NULL;
  if (q->tail != NULL) {
    q->tail->next = op;
  } else {
    q->head = op;
  }
  q->tail = op;
}

int soupc__h2_opq_post(struct h2_opq *q, struct h2_op *op) {
  pthread_mutex_lock(&q->mu);
  if (q->stopped) {
    pthread_mutex_unlock(&q->mu);
    return SOUPC_ERR_CLOSED;
  }
  enqueue(q, op);
  pthread_mutex_unlock(&q->mu);
  event_active(q->wake_ev, EV_READ, 0);
  return 0;
}

/* Appends the list @p head .. @p tail with one lock and one wake-up, or
 * runs it if the queue has stopped. */
static void post_list_or_run(struct h2_opq *q, struct h2_op *head,
                             struct h2_op *tail, soupc__h2_op_fn fn,
                             void *arg) {
  struct h2_op *op, *next;

  pthread_mutex_lock(&q->mu);
  if (q->stopped) {
    for (op = head; op != NULL; op = next) {
      next = op->next;
      fn(op, arg);
    }
    pthread_mutex_unlock(&q->mu);
    return;
  }
  if (q->tail != NULL) {
    q->tail->next = head;
  } else {
    q->head = head;
  }
  q->tail = tail;
  pthread_mutex_unlock(&q->mu);
  event_active(q->wake_ev, EV_READ, 0);
}

/* Posts made inside a batch scope (base/batch.h), per queue and in order,
 * delivered together when the scope ends: the store's commit thread
 * finishing 100 Puts owned by two workers locks and wakes each worker once.
 * Thread-local, so only the posting thread touches them. */
#define DEFERRED_QUEUES 16
static _Thread_local struct deferred_posts {
  struct h2_opq *q;
  soupc__h2_op_fn fn;
  void *arg;
  struct h2_op *head, *tail;
} deferred[DEFERRED_QUEUES];
static _Thread_local size_t ndeferred;

static void flush_deferred(void *unused) {
  size_t i;

  (void)unused;
  for (i = 0; i < ndeferred; i++) {
    post_list_or_run(deferred[i].q, deferred[i].head, deferred[i].tail,
                     deferred[i].fn, deferred[i].arg);
    deferred[i].q = NULL;
  }
  ndeferred = 0;
}

/* @return 1 if @p op was held for the end of the current batch scope. */
static int post_deferred(struct h2_opq *q, struct h2_op *op, soupc__h2_op_fn fn,
                         void *arg) {
  struct deferred_posts *d;
  size_t i;

  for (i = 0; i < ndeferred && deferred[i].q != q; i++) {
  }
  if (i == DEFERRED_QUEUES || !soupc__batch_defer(flush_deferred, NULL)) {
    return 0;
  }
  d = &deferred[i];
  op->next = NULL;
  if (i < ndeferred && (d->fn != fn || d->arg != arg)) {
    /* Another run function for this queue: keep the order by sending what
     * is held first. */
    post_list_or_run(d->q, d->head, d->tail, d->fn, d->arg);
    d->head = NULL;
  }
  if (i == ndeferred) {
    ndeferred++;
    d->head = NULL;
  }
  d->q = q;
  d->fn = fn;
  d->arg = arg;
  if (d->head == NULL) {
    d->head = op;
  } else {
    d->tail->next = op;
  }
  d->tail = op;
  return 1;
}

void soupc__h2_opq_post_or_run(struct h2_opq *q, struct h2_op *op,
                               soupc__h2_op_fn fn, void *arg) {
  if (post_deferred(q, op, fn, arg)) {
    return;
  }
  op->next = NULL;
  post_list_or_run(q, op, op, fn, arg);
}

struct h2_op *soupc__h2_opq_take(struct h2_opq *q) {
  struct h2_op *op;

  pthread_mutex_lock(&q->mu);
  op = q->head;
  q->head = q->tail = NULL;
  pthread_mutex_unlock(&q->mu);
  return op;
}

struct h2_op *soupc__h2_opq_stop(struct h2_opq *q) {
  struct h2_op *op;

  pthread_mutex_lock(&q->mu);
  q->stopped = 1;
  op = q->head;
  q->head = q->tail = NULL;
  pthread_mutex_unlock(&q->mu);
  return op;
}

void soupc__h2_opq_stop_and_run(struct h2_opq *q, soupc__h2_op_fn fn,
                                void *arg) {
  struct h2_op *op;

  pthread_mutex_lock(&q->mu);
  q->stopped = 1;
  op = q->head;
  q->head = q->tail = NULL;
  while (op != NULL) {
    struct h2_op *next = op->next;
    fn(op, arg);
    op = next;
  }
  pthread_mutex_unlock(&q->mu);
}

/* ------------------------------------------------------------------ */
/* Timers                                                              */
/* ------------------------------------------------------------------ */

int soupc__h2_timer_arm(struct event **evp, struct event_base *base,
                        event_callback_fn cb, void *arg, int64_t ms) {
  struct timeval tv;

  if (*evp == NULL) {
    *evp = evtimer_new(base, cb, arg);
    if (*evp == NULL) {
      return SOUPC_ERR_NOMEM;
    }
  }
  if (ms < 0) {
    ms = 0;
  }
  /* libevent counts from the time it cached when the loop woke; callbacks
   * that ran since would make a deadline fire early. */
  event_base_update_cache_time(base);
  tv.tv_sec = (time_t)(ms / 1000);
  tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
  return evtimer_add(*evp, &tv) == 0 ? 0 : SOUPC_ERR_NOMEM;
}

void soupc__h2_timer_free(struct event **evp) {
  if (*evp != NULL) {
    event_free(*evp);
    *evp = NULL;
  }
}

/* ------------------------------------------------------------------ */
/* Status headers                                                      */
/* ------------------------------------------------------------------ */

static nghttp2_nv nv_copy_value(const char *name, size_t namelen,
                                const char *value, size_t valuelen) {
  /* The name is a literal; the value lives in the caller's struct, which
   * nghttp2 copies at submit time. */
  return (nghttp2_nv){(uint8_t *)name, (uint8_t *)value, namelen, valuelen,
                      NGHTTP2_NV_FLAG_NO_COPY_NAME};
}

void soupc__h2_status_hdrs(struct h2_status_hdrs *h, int http_status, int code,
                           const char *msg) {
  h->n = 0;
  if (http_status != 0) {
    snprintf(h->http, sizeof(h->http), "%d", http_status);
    h->nv[h->n++] = nv_copy_value(":status", 7, h->http, strlen(h->http));
    h->nv[h->n++] = (nghttp2_nv){
        (uint8_t *)"content-type", (uint8_t *)"application/grpc", 12, 16,
        NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE};
  }
  snprintf(h->code, sizeof(h->code), "%d", code);
  h->nv[h->n++] = nv_copy_value("grpc-status", 11, h->code, strlen(h->code));
  if (msg != NULL && msg[0] != '\0') {
    size_t len =
        soupc__percent_encode(h->msg, sizeof(h->msg), msg, strlen(msg));
    h->nv[h->n++] = nv_copy_value("grpc-message", 12, h->msg, len);
  }
}
