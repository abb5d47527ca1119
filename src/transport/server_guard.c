/* The server's limits against clients that do not play fair (issue 8):
 * bounded response buffers, the handshake, idle, write and keepalive
 * timeouts, the no-work frame budget, PING enforcement and shedding idle
 * connections at the connection limit. Everything runs on the worker that
 * owns the connection; one timer per worker checks its connections (a
 * sweep), so a connection costs no timer of its own. See
 * docs/internals/transport.md, "Limits". */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include <event2/buffer.h>

#include "transport/addr.h"
#include "transport/server_int.h"

#define DEFAULT_CONN_BUFFER ((size_t)16 * 1024 * 1024)
#define DEFAULT_TOTAL_BUFFER ((size_t)1024 * 1024 * 1024)
#define DEFAULT_BUFFER_TIMEOUT_MS 10000
#define DEFAULT_HANDSHAKE_TIMEOUT_MS 10000
#define DEFAULT_WRITE_TIMEOUT_MS 30000
#define DEFAULT_KEEPALIVE_TIME_MS 7200000 /* grpc-go's 2 h */
#define DEFAULT_KEEPALIVE_TIMEOUT_MS 20000
#define DEFAULT_PING_MIN_INTERVAL_MS 10000 /* grpc-go clients' minimum */
#define DEFAULT_FLOOD_BUDGET 1000
/* fds kept for everything else (store, logs, plugin pipes). */
#define FD_RESERVE 64
/* grpc-go's maxPingStrikes: the third early PING ends the connection. */
#define MAX_PING_STRIKES 2
/* A WINDOW_UPDATE smaller than this opens no useful window. */
#define TINY_WINDOW_UPDATE 1024
/* What a header list over the advertised limit costs, in frames. */
#define HEADER_LIST_COST 100
/* Over its cap, a connection whose socket took nothing for this long has
 * stopped reading: its new calls are refused rather than made to wait. */
#define STALL_MS 250
/* The server-wide response count moves in steps of at most this (and of
 * a 64th of the limit), per connection. */
#define PUBLISH_STEP ((size_t)256 * 1024)
/* Calls one connection may have waiting (MAX_CONCURRENT_STREAMS). */
#define MAX_PARKED 1024
/* After one of our GOAWAYs a peer that does not read it is cut off. */
#define GOAWAY_DRAIN_MS 1000

static int pick_ms(int v, int def) {
  return v == 0 ? def : v < 0 ? 0 : v;
}

static int default_max_connections(void) {
  struct rlimit rl;
  rlim_t n;

  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) {
    return 1 << 20;
  }
  n = rl.rlim_cur > FD_RESERVE + 16 ? rl.rlim_cur - FD_RESERVE : 16;
  return n > (1 << 20) ? 1 << 20 : (int)n;
}

void soupc__limits_init(struct server_limits *l,
                        const soupc_server_options *o) {
  l->conn_buffer = o->max_connection_buffer > 0 ? o->max_connection_buffer
                                                : DEFAULT_CONN_BUFFER;
  l->total_buffer =
      o->max_total_buffer > 0 ? o->max_total_buffer : DEFAULT_TOTAL_BUFFER;
  l->buffer_timeout_ms =
      pick_ms(o->buffer_timeout_ms, DEFAULT_BUFFER_TIMEOUT_MS);
  l->handshake_timeout_ms =
      pick_ms(o->handshake_timeout_ms, DEFAULT_HANDSHAKE_TIMEOUT_MS);
  l->idle_timeout_ms = o->idle_timeout_ms > 0 ? o->idle_timeout_ms : 0;
  l->write_timeout_ms = pick_ms(o->write_timeout_ms, DEFAULT_WRITE_TIMEOUT_MS);
  l->keepalive_time_ms =
      pick_ms(o->keepalive_time_ms, DEFAULT_KEEPALIVE_TIME_MS);
  l->keepalive_timeout_ms =
      pick_ms(o->keepalive_timeout_ms, DEFAULT_KEEPALIVE_TIMEOUT_MS);
  l->ping_min_interval_ms =
      pick_ms(o->keepalive_min_ping_interval_ms, DEFAULT_PING_MIN_INTERVAL_MS);
  l->flood_budget =
      o->flood_budget > 0 ? o->flood_budget : DEFAULT_FLOOD_BUDGET;
  l->max_connections = o->max_connections > 0 ? o->max_connections : 0;
}

/* The default connection limit depends on the fd limit, which
 * soupc_server_start() raises first. */
static int max_connections(const struct server_limits *l) {
  return l->max_connections > 0 ? l->max_connections
                                : default_max_connections();
}

void soupc__guard_conn_init(struct conn *c, int64_t now) {
  struct conn_guard *g = &c->g;

  memset(g, 0, sizeof(*g));
  g->accepted_ms = now;
  g->idle_since_ms = now;
  g->last_read_ms = now;
  g->progress_ms = now;
  g->progress_seen_ms = now;
  g->flood_ms = now;
  g->flood_milli = (int64_t)c->w->srv->limits.flood_budget * 1000;
}

void soupc__guard_on_read(struct conn *c, int64_t now) {
  c->g.last_read_ms = now;
  c->g.ping_sent_ms = 0; /* the peer is alive: no keepalive ACK needed */
}

/* ------------------------------------------------------------------ */
/* Violations                                                          */
/* ------------------------------------------------------------------ */

void soupc__guard_violation(struct conn *c, uint32_t error_code,
                            const char *why) {
  if (c->closed || c->g.close_by_ms != 0) {
    return;
  }
  soupc_log(SOUPC_LOG_DEBUG, "transport", "closing connection from %s: %s",
            c->peer, why);
  c->g.close_by_ms = soupc__now_ms() + GOAWAY_DRAIN_MS;
  /* The debug data matters: grpc-go clients back off their keepalive on
   * ENHANCE_YOUR_CALM "too_many_pings". */
  nghttp2_submit_goaway(c->h2.ng, NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(c->h2.ng),
                        error_code, (const uint8_t *)why, strlen(why));
  /* Nothing more from this peer is read: the rest of the current chunk
   * at most (the read loop stops at draining). */
  soupc__h2_session_close_when_drained(&c->h2);
}

void soupc__guard_charge(struct conn *c, int frames, const char *why) {
  struct conn_guard *g = &c->g;
  int64_t budget = (int64_t)c->w->srv->limits.flood_budget * 1000;
  int64_t now = soupc__now_ms();

  /* Refill: budget/10 frames per second = budget/10000 per ms, in
   * thousandths: budget/10 per ms. */
  if (now > g->flood_ms) {
    g->flood_milli += (now - g->flood_ms) * (budget / 10000);
    if (g->flood_milli > budget) {
      g->flood_milli = budget;
    }
    g->flood_ms = now;
  }
  g->flood_milli -= (int64_t)frames * 1000;
  if (g->flood_milli < 0) {
    char text[96];
    snprintf(text, sizeof(text), "flood: too many %s", why);
    soupc__guard_violation(c, NGHTTP2_ENHANCE_YOUR_CALM, text);
  }
}

/* ------------------------------------------------------------------ */
/* Frames                                                              */
/* ------------------------------------------------------------------ */

/* Classified from the census (h2_session.c), which sees every frame
 * header before nghttp2 does, also those nghttp2 drops without telling us
 * (unknown types, DATA for a stream it has forgotten). */
void soupc__guard_frame_seen(struct conn *c, const struct h2_frame_seen *f) {
  switch (f->type) {
  case NGHTTP2_DATA: {
    size_t pad = f->npeek == 1 ? 1u + f->peek[0] : 0;
    if (f->length <= pad && !(f->flags & NGHTTP2_FLAG_END_STREAM)) {
      soupc__guard_charge(c, 1, "empty DATA frames");
    }
    break;
  }
  case NGHTTP2_WINDOW_UPDATE: {
    uint32_t inc = f->npeek == 4 ? (((uint32_t)f->peek[0] & 0x7f) << 24) |
                                       ((uint32_t)f->peek[1] << 16) |
                                       ((uint32_t)f->peek[2] << 8) | f->peek[3]
                                 : 0;
    /* A client may acknowledge each DATA frame we send, however small
     * (stream and connection): that is work we did, not a flood. */
    if (inc >= TINY_WINDOW_UPDATE) {
      break;
    }
    if (c->g.update_credit > 0) {
      c->g.update_credit--;
    } else {
      soupc__guard_charge(c, 1, "WINDOW_UPDATE frames that change nothing");
    }
    break;
  }
  case NGHTTP2_PRIORITY:
    soupc__guard_charge(c, 1, "PRIORITY frames");
    break;
  case NGHTTP2_SETTINGS:
    /* The first one is the preface. */
    if (!(f->flags & NGHTTP2_FLAG_ACK) && c->g.settings_seen++ > 0) {
      soupc__guard_charge(c, 1, "SETTINGS frames");
    }
    break;
  case NGHTTP2_PING:
    if ((f->flags & NGHTTP2_FLAG_ACK) && c->g.ping_sent_ms == 0) {
      soupc__guard_charge(c, 1, "unsolicited PING ACKs");
    }
    break;
  case NGHTTP2_HEADERS:
  case NGHTTP2_RST_STREAM: /* nghttp2's own rate limit (rapid reset) */
  case NGHTTP2_PUSH_PROMISE:
  case NGHTTP2_GOAWAY:
  case NGHTTP2_CONTINUATION: /* nghttp2 caps them per header block */
    break;
  default:
    soupc__guard_charge(c, 1, "frames of unknown types");
    break;
  }
}

/* grpc-go's keepalive enforcement (http2_server.go handlePing): a PING
 * closer than the minimum interval to the previous one is a strike unless
 * we have sent HEADERS or DATA since; the third strike ends the
 * connection. */
static void peer_ping(struct conn *c) {
  struct conn_guard *g = &c->g;
  int64_t now = soupc__now_ms();
  int min_ms = c->w->srv->limits.ping_min_interval_ms;

  if (g->reset_strikes) {
    g->reset_strikes = 0;
    g->ping_strikes = 0;
  } else if (g->peer_ping_ms != 0 && min_ms > 0 &&
             now - g->peer_ping_ms < min_ms) {
    g->ping_strikes++;
  }
  g->peer_ping_ms = now;
  if (g->ping_strikes > MAX_PING_STRIKES) {
    soupc__guard_violation(c, NGHTTP2_ENHANCE_YOUR_CALM, "too_many_pings");
  }
}

void soupc__guard_frame_recv(struct conn *c, const nghttp2_frame *frame) {
  if (frame->hd.type != NGHTTP2_PING) {
    return;
  }
  if (frame->hd.flags & NGHTTP2_FLAG_ACK) {
    c->g.ping_sent_ms = 0; /* the answer to our keepalive PING */
  } else {
    peer_ping(c);
  }
}

void soupc__guard_frame_sent(struct conn *c, const nghttp2_frame *frame) {
  if (frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) {
    c->g.reset_strikes = 1;
  }
  if (frame->hd.type == NGHTTP2_DATA && frame->hd.length > 0 &&
      c->g.update_credit < 4 * c->w->srv->limits.flood_budget) {
    c->g.update_credit += 2; /* one stream, one connection WINDOW_UPDATE */
  }
}

/* ------------------------------------------------------------------ */
/* Response buffers                                                    */
/* ------------------------------------------------------------------ */

void soupc__guard_queued(struct soupc_server *srv, struct conn *c, size_t bytes,
                         int add) {
  struct conn_guard *g;
  size_t step;

  if (bytes == 0 || c == NULL) {
    return; /* a detached call's queue was given back when it closed */
  }
  g = &c->g;
  if (add) {
    g->queued += bytes;
  } else {
    g->queued = bytes > g->queued ? 0 : g->queued - bytes;
  }
  /* The server-wide count is one atomic that every worker writes: touch it
   * only in steps (and back to zero), not for every small reply; it is
   * then exact to within a step per connection. */
  step = srv->limits.total_buffer / 64;
  if (step > PUBLISH_STEP) {
    step = PUBLISH_STEP;
  }
  if (g->queued >= g->published + step || g->queued + step <= g->published ||
      (g->queued == 0 && g->published != 0)) {
    if (g->queued > g->published) {
      atomic_fetch_add_explicit(&srv->total_queued, g->queued - g->published,
                                memory_order_relaxed);
    } else {
      atomic_fetch_sub_explicit(&srv->total_queued, g->published - g->queued,
                                memory_order_relaxed);
    }
    g->published = g->queued;
  }
  if (g->queued >= srv->limits.conn_buffer) {
    if (g->over_since_ms == 0) {
      g->over_since_ms = soupc__now_ms();
    }
  } else {
    g->over_since_ms = 0;
  }
}

void soupc__guard_progress(struct conn *c, int64_t now) {
  c->g.progress_ms = now;
}

/* The sweep's look at progress: bytes the socket took since its last look
 * (nghttp2's output minus what still waits in the bufferevent) count as
 * progress seen now; the write callback's time counts too. @return ms
 * since the latest. Only the sweep may move progress_seen_ms: it knows
 * progress only to within one of its intervals. */
static int64_t since_progress(struct conn *c, int64_t now) {
  struct conn_guard *g = &c->g;
  uint64_t taken = c->h2.sent_bytes - evbuffer_get_length(c->h2.out);

  if (taken != g->progress) {
    g->progress = taken;
    g->progress_seen_ms = now;
  }
  return now - (g->progress_seen_ms > g->progress_ms ? g->progress_seen_ms
                                                     : g->progress_ms);
}

static size_t total_queued(const struct soupc_server *srv) {
  return atomic_load_explicit(&((struct soupc_server *)srv)->total_queued,
                              memory_order_relaxed);
}

int soupc__guard_room(const struct conn *c) {
  const struct soupc_server *srv = c->w->srv;

  return c->g.queued < srv->limits.conn_buffer &&
         total_queued(srv) < srv->limits.total_buffer;
}

enum guard_admit soupc__guard_admit(struct conn *c, int can_wait, char *text,
                                    size_t cap) {
  const struct soupc_server *srv = c->w->srv;
  size_t total = total_queued(srv);

  if (total >= srv->limits.total_buffer) {
    snprintf(text, cap,
             "the server has %zu bytes of responses clients have not read; "
             "the limit is %zu bytes",
             total, srv->limits.total_buffer);
    return GUARD_REFUSE;
  }
  if (c->g.queued < srv->limits.conn_buffer) {
    return GUARD_GO;
  }
  /* progress_ms is fresh: the write callback sets it each time the socket
   * drains below the low-water mark. */
  if (can_wait && soupc__now_ms() - c->g.progress_ms < STALL_MS &&
      c->g.nparked < MAX_PARKED) {
    return GUARD_WAIT;
  }
  snprintf(text, cap,
           "this connection has %zu bytes of responses the client has not "
           "read; the limit is %zu bytes",
           c->g.queued, srv->limits.conn_buffer);
  return GUARD_REFUSE;
}

/* ------------------------------------------------------------------ */
/* The sweep                                                           */
/* ------------------------------------------------------------------ */

/* @return non-zero if output is waiting and has made no progress for the
 * write timeout. Progress: the socket took bytes (nghttp2's bytes minus
 * what is still in the output buffer). */
static int write_stalled(struct conn *c, int64_t now, int timeout_ms) {
  int pending = evbuffer_get_length(c->h2.out) > 0 || c->g.queued > 0;
  int64_t idle = since_progress(c, now);

  if (!pending) {
    c->g.progress_seen_ms = now; /* nothing to write is no stall */
    return 0;
  }
  return timeout_ms > 0 && idle >= timeout_ms;
}

static void close_now(struct conn *c, const char *why) {
  soupc_log(SOUPC_LOG_DEBUG, "transport", "closing connection from %s: %s",
            c->peer, why);
  soupc__conn_close(c);
}

/* The checks that take more than a glance; one function so that their
 * order (a dead peer first, then our own limits) reads top to bottom. */
void soupc__guard_check(struct conn *c, int64_t now) {
  const struct server_limits *l = &c->w->srv->limits;
  struct conn_guard *g = &c->g;

  if (c->closed) {
    return;
  }
  if (!c->got_settings) {
    if (l->handshake_timeout_ms > 0 &&
        now - g->accepted_ms >= l->handshake_timeout_ms) {
      close_now(c, "handshake timeout (TLS, preface and SETTINGS)");
    }
    return;
  }
  if (write_stalled(c, now, l->write_timeout_ms)) {
    close_now(c, "write timeout: the client stopped reading");
    return;
  }
  if (g->close_by_ms != 0) {
    if (now >= g->close_by_ms) {
      close_now(c, "the client did not read our GOAWAY");
    }
    return;
  }
  /* Over the cap and not draining: a client that reads, however much it
   * asks for, is only paced (soupc__guard_admit). */
  if (g->over_since_ms != 0 && l->buffer_timeout_ms > 0 &&
      now - g->over_since_ms >= l->buffer_timeout_ms &&
      since_progress(c, now) >= l->buffer_timeout_ms) {
    soupc__guard_violation(c, NGHTTP2_ENHANCE_YOUR_CALM,
                           "response buffer over its limit for too long");
    soupc__conn_after_io(c);
    return;
  }
  if (c->calls == NULL && l->idle_timeout_ms > 0 &&
      now - g->idle_since_ms >= l->idle_timeout_ms) {
    soupc__guard_violation(c, NGHTTP2_NO_ERROR, "idle timeout");
    soupc__conn_after_io(c);
    return;
  }
  if (l->keepalive_time_ms > 0) {
    if (g->ping_sent_ms != 0) {
      if (now - g->ping_sent_ms >= l->keepalive_timeout_ms) {
        close_now(c, "keepalive timeout: no answer to our PING");
      }
    } else if (now - g->last_read_ms >= l->keepalive_time_ms) {
      g->ping_sent_ms = now;
      nghttp2_submit_ping(c->h2.ng, NGHTTP2_FLAG_NONE, NULL);
      soupc__conn_after_io(c);
    }
  }
}

void soupc__worker_sweep(struct worker *w, int64_t now) {
  struct conn *c, *next;

  for (c = w->conns; c != NULL; c = next) {
    next = c->next;
    soupc__guard_check(c, now);
  }
}

static void sweep_cb(evutil_socket_t fd, short what, void *arg) {
  struct worker *w = arg;

  (void)fd;
  (void)what;
  soupc__worker_sweep(w, soupc__now_ms());
}

/* Often enough that each timeout fires within a quarter of itself (and at
 * most a second late), rarely enough to cost nothing. */
static int sweep_interval_ms(const struct server_limits *l) {
  int ms = 1000;
  int t[] = {l->buffer_timeout_ms, l->handshake_timeout_ms,
             l->idle_timeout_ms,   l->write_timeout_ms,
             l->keepalive_time_ms, l->keepalive_timeout_ms};

  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    if (t[i] > 0 && t[i] / 4 < ms) {
      ms = t[i] / 4;
    }
  }
  return ms < 20 ? 20 : ms;
}

int soupc__worker_sweep_start(struct worker *w) {
  struct timeval tv;
  int ms = sweep_interval_ms(&w->srv->limits);

  w->sweep_ev = event_new(w->base, -1, EV_PERSIST, sweep_cb, w);
  if (w->sweep_ev == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  tv.tv_sec = ms / 1000;
  tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
  return event_add(w->sweep_ev, &tv) == 0 ? 0 : SOUPC_ERR_NOMEM;
}

/* ------------------------------------------------------------------ */
/* Connection limit                                                    */
/* ------------------------------------------------------------------ */

int soupc__worker_shed(struct worker *w, int n) {
  struct conn *c, *oldest_first = NULL;
  int done = 0;

  /* New connections are pushed at the head: the oldest is the tail. */
  for (c = w->conns; c != NULL && c->next != NULL; c = c->next) {
  }
  oldest_first = c;
  while (oldest_first != NULL && done < n) {
    struct conn *prev = oldest_first->prev;
    if (oldest_first->calls == NULL && oldest_first->h2.bev != NULL) {
      close_now(oldest_first, "shed at the connection limit (idle)");
      done++;
    }
    oldest_first = prev;
  }
  return done;
}

int soupc__server_max_connections(const struct soupc_server *srv) {
  return max_connections(&srv->limits);
}
