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
  WOP_FD,      /* a new connection from the acceptor */
  WOP_SEND,    /* soupc_call_send() from a foreign thread */
  WOP_FINISH,  /* reply/fail/finish from a foreign thread */
  WOP_SHUTDOWN /* soupc_server_shutdown() */
};

/* Work posted to a worker from another thread. A call's finish op lives in
 * the call itself (a reply never needs memory to be posted). */
struct wop {
  struct h2_op link; /* first: the queue's view of the op */
  enum wop_kind kind;
  struct soupc_call *call;
  struct out_msg *msg; /* owned */
  int code;
  char *message; /* owned; may be NULL */
  int grace_ms;
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
  int started;
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
  unsigned next_worker;
  int64_t last_accept_warn_ms; /* acceptor thread: EMFILE log rate limit */
  int handshake_timeout_ms;    /* TLS + HTTP/2 preface must finish by then */
  pthread_mutex_t mu;          /* guards joined */
  int joined;
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

/* Initialises @p w for @p srv with a fresh event_base owned by the calling
 * thread (used by the workers and by memory connections). */
int soupc__worker_init(struct worker *w, struct soupc_server *srv);
void soupc__worker_dispose(struct worker *w);

#endif
