/* Server internals shared by server.c (workers, acceptor, public API) and
 * server_conn.c (one HTTP/2 connection and its calls). Private to
 * transport/. */
#ifndef SOUPC_TRANSPORT_SERVER_INT_H
#define SOUPC_TRANSPORT_SERVER_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <event2/bufferevent.h>
#include <nghttp2/nghttp2.h>
#include <openssl/ssl.h>

#include "soupc/rpc.h"
#include "transport/grpc_wire.h"
#include "transport/h2_session.h"

#define SERVER_MAX_LISTENERS 8
#define PEER_TEXT_MAX 64

struct method {
  char *path;
  size_t path_len;
  int streaming;
  soupc_unary_fn unary;
  soupc_stream_handlers sh;
  void *user_data;
};

struct listener {
  int fd;
  struct event *ev;
  char *unix_path; /* bound by us: unlinked by soupc_server_free() */
};

enum wop_kind {
  WOP_FD,       /* a new connection from the acceptor */
  WOP_SEND,     /* soupc_call_send() from a foreign thread */
  WOP_FINISH,   /* reply/fail/finish from a foreign thread */
  WOP_SHUTDOWN, /* soupc_server_shutdown() */
  WOP_SHED      /* acceptor at the connection limit: close idle ones */
};

/* Work posted to a worker from another thread. A call's finish op lives in
 * the call itself (a reply never needs memory to be posted). */
struct wop {
  struct h2_op link; /* first: the queue's view of the op */
  enum wop_kind kind;
  int code; /* WOP_FINISH: the gRPC code; SHUTDOWN: grace ms; SHED: count */
  struct soupc_call *call;
  struct out_msg *msg; /* owned */
  char *message;       /* owned; may be NULL */
};

/* WOP_FD: a new connection and its peer address. */
struct wop_fd {
  struct wop base; /* first: posted as a wop */
  int fd;
  struct sockaddr_storage peer;
  socklen_t peer_len;
};

struct conn;

struct worker {
  struct soupc_server *srv;
  pthread_t tid;    /* the thread running base; set by it before any call */
  pthread_t thread; /* for pthread_join() */
  struct event_base *base;
  /* Posted work. Once stopped (the loop has gone), call ops run inline on
   * the posting thread, under the queue's lock. */
  struct h2_opq q;
  /* Owner thread only: */
  struct conn *conns;
  size_t nconns;
  int shutting_down;
  struct event *grace_ev;
  struct event *final_ev; /* graceful shutdown: the final GOAWAY */
  struct event *sweep_ev; /* the limits' periodic check (server_guard.c) */
  int started;
};

/* The limits, resolved from soupc_server_options (defaults applied; -1 and
 * 0 in the durations mean "never"). */
struct server_limits {
  size_t conn_buffer;  /* bytes */
  size_t total_buffer; /* bytes */
  int buffer_timeout_ms;
  int handshake_timeout_ms;
  int idle_timeout_ms;
  int write_timeout_ms;
  int keepalive_time_ms;
  int keepalive_timeout_ms;
  int ping_min_interval_ms;
  int flood_budget; /* frames; refills at flood_budget / 10 per second */
  int max_connections;
};

struct soupc_server {
  size_t max_msg;
  int nworkers;
  SSL_CTX *ssl_ctx;
  struct method *methods;
  size_t nmethods;
  struct listener listeners[SERVER_MAX_LISTENERS];
  size_t nlisteners;
  char *address;
  struct worker *workers;
  int started;
  atomic_int shutdown_requested;
  pthread_t acceptor_tid;
  struct event_base *acceptor_base;
  struct event *acceptor_wake;
  struct event *accept_pause_ev;
  struct event *trim_ev; /* acceptor: memory back to the kernel, 1/s */
  unsigned next_worker;
  struct server_limits limits;
  int max_conns;              /* limits.max_connections resolved at start */
  atomic_size_t total_queued; /* response bytes queued, all connections */
  /* Socket connections: counted by the acceptor when it hands an fd over,
   * uncounted by the worker when it closes it. */
  atomic_int nconns;
  int64_t last_accept_warn_ms; /* acceptor thread: ENOBUFS log rate limit */
  /* Acceptor thread only: when the connection limit was last hit (it is
   * logged once per episode). */
  int64_t limit_hit_ms;
  pthread_mutex_t mu; /* guards joined */
  int joined;
  /* soupc__server_set_inline_accept(): one worker, whose loop also runs
   * the listeners (acceptor_base is then that worker's). */
  int inline_accept;
};

/* What the limits track per connection (server_guard.c). Times are
 * CLOCK_MONOTONIC ms. */
struct conn_guard {
  int64_t accepted_ms;
  int64_t idle_since_ms; /* the last stream ended; valid when calls == NULL */
  int64_t last_read_ms;
  int64_t ping_sent_ms; /* our keepalive PING; 0 = none outstanding */
  int64_t peer_ping_ms; /* the peer's last PING */
  int ping_strikes;
  int reset_strikes;        /* we sent HEADERS or DATA since the last PING */
  int settings_seen;        /* SETTINGS frames from the client (not ACKs) */
  int update_credit;        /* small WINDOW_UPDATEs our DATA frames justify */
  int64_t over_since_ms;    /* queued >= the cap since then; 0 = under */
  size_t nparked;           /* unary calls waiting for the queue to drain */
  int64_t close_by_ms;      /* after our GOAWAY: closed by then; 0 = none */
  int64_t progress_ms;      /* the write callback last ran (the socket took
                             * bytes and drained to the low-water mark) */
  uint64_t progress;        /* bytes the socket had taken at the last sweep */
  int64_t progress_seen_ms; /* the sweep last saw that number change */
  int64_t flood_milli;      /* no-work budget left, in thousandths of a frame */
  int64_t flood_ms;         /* when flood_milli was last refilled */
  size_t queued;            /* response bytes in the calls' queues */
  size_t published;         /* the part of queued added to srv->total_queued */
  size_t req_buffered;      /* bytes the calls' deframers hold */
};

/* One server-side HTTP/2 connection. Owner thread only. */
struct conn {
  struct h2_session h2; /* nghttp2, socket, flush (h2.draining: closing) */
  struct worker *w;
  struct conn *prev, *next;
  struct soupc_call *calls; /* calls whose stream is open */
  char peer[PEER_TEXT_MAX];
  int goaway;       /* graceful GOAWAY submitted */
  int closed;       /* memory mode: torn down but not freed */
  int got_settings; /* the client's first SETTINGS arrived */
  int unparking;    /* inside conn_unpark(): no re-entry */
  /* Unary calls whose handler waits until the connection's response queue
   * is under its cap (a client that reads is paced, not refused). */
  struct soupc_call *parked_head, *parked_tail;
  struct conn_guard g;
};

/* Creates a connection around @p bev (or, if NULL, an in-memory one whose
 * output collects in conn->out) and queues the server SETTINGS.
 * @return 0 or SOUPC_ERR_NOMEM. */
int soupc__conn_new(struct conn **out, struct worker *w,
                    struct bufferevent *bev, const char *peer);
/* Feeds received bytes and flushes. @return 0, or -1 once the connection
 * is finished (it has then been closed). */
int soupc__conn_feed(struct conn *c, const uint8_t *data, size_t len);
/* Flushes pending frames and closes the connection if it is done. */
void soupc__conn_after_io(struct conn *c);
/* Closes at once: cancels calls, frees the session and the bufferevent
 * (and the connection, unless it is a memory one). */
void soupc__conn_close(struct conn *c);
/* Closes a memory connection if needed and frees it. */
void soupc__conn_free_memory(struct conn *c);
/* Graceful shutdown: GOAWAY with the last processed stream. */
void soupc__conn_goaway(struct conn *c);
/* Graceful shutdown, phase 1: GOAWAY notice (largest stream id). */
void soupc__conn_shutdown_notice(struct conn *c);

/* Runs one posted call operation on the owner thread (or inline once the
 * worker has stopped). Consumes the op's msg/message. */
void soupc__call_run_op(struct wop *op);

/* Called by conn code when a connection is gone (for shutdown accounting). */
void soupc__worker_conn_gone(struct worker *w);

/* ------------------------------------------------------------------ */
/* Limits (server_guard.c)                                             */
/* ------------------------------------------------------------------ */

/* SETTINGS_MAX_HEADER_LIST_SIZE we advertise and enforce as we decode. */
#define SOUPC__MAX_HEADER_LIST 65536

/* Fills @p l from @p o (defaults for 0). */
void soupc__limits_init(struct server_limits *l, const soupc_server_options *o);

/* A new connection at @p now. */
void soupc__guard_conn_init(struct conn *c, int64_t now);

/* Bytes arrived (any): keepalive and the idle clock. */
void soupc__guard_on_read(struct conn *c, int64_t now);

/* Every frame header the client sends (the census, before nghttp2), every
 * whole frame nghttp2 hands us, every frame we sent. They may end the
 * connection with GOAWAY(ENHANCE_YOUR_CALM). */
void soupc__guard_frame_seen(struct conn *c, const struct h2_frame_seen *f);
void soupc__guard_frame_recv(struct conn *c, const nghttp2_frame *frame);
void soupc__guard_frame_sent(struct conn *c, const nghttp2_frame *frame);

/* Takes @p frames from the no-work budget; @p why names them in the log
 * and the GOAWAY once it is spent. */
void soupc__guard_charge(struct conn *c, int frames, const char *why);

/* Response bytes queued (+) or gone (-) on @p c (NULL: the call's stream
 * has closed and gave its bytes back then: nothing to count). */
void soupc__guard_queued(struct soupc_server *srv, struct conn *c, size_t bytes,
                         int add);

enum guard_admit {
  GUARD_GO = 0,     /* the call may start */
  GUARD_WAIT = 1,   /* over the connection's cap but draining: wait */
  GUARD_REFUSE = -1 /* RESOURCE_EXHAUSTED, message in text */
};

/* Whether a new call may start on @p c. Over the connection's cap a call
 * that @p can_wait waits while the client is still taking bytes and is
 * refused once it has stopped (no progress for 250 ms); over the server's
 * cap every call is refused. @p text (of @p cap bytes) gets the message. */
enum guard_admit soupc__guard_admit(struct conn *c, int can_wait, char *text,
                                    size_t cap);

/* The socket took bytes (the write callback ran, or a memory connection's
 * output was read). */
void soupc__guard_progress(struct conn *c, int64_t now);

/* @return non-zero while @p c's response queue is under both caps. */
int soupc__guard_room(const struct conn *c);

/* Ends the connection for breaking a limit: GOAWAY with @p error_code and
 * @p why as debug data, no more reading, closed once the GOAWAY is out or
 * a second later at the latest. */
void soupc__guard_violation(struct conn *c, uint32_t error_code,
                            const char *why);

/* The periodic check of one connection at @p now (handshake, idle, write
 * progress, buffer cap, keepalive). May close it. */
void soupc__guard_check(struct conn *c, int64_t now);

/* Checks every connection of @p w at @p now. */
void soupc__worker_sweep(struct worker *w, int64_t now);

/* Starts @p w's periodic check (socket workers only). @return 0 or
 * SOUPC_ERR_NOMEM. */
int soupc__worker_sweep_start(struct worker *w);

/* Closes up to @p n of @p w's oldest connections that have no open
 * stream. @return how many. */
int soupc__worker_shed(struct worker *w, int n);

/* The connection limit: max_connections, or the fd limit minus a reserve
 * (read when called: call after the fd limit has been raised). */
int soupc__server_max_connections(const struct soupc_server *srv);

/* Initialises @p w for @p srv with a fresh event_base owned by the calling
 * thread (used by the workers and by memory connections). */
int soupc__worker_init(struct worker *w, struct soupc_server *srv);
void soupc__worker_dispose(struct worker *w);

#endif
