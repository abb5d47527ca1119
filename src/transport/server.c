/* The gRPC server: method table, listeners, one acceptor thread and N worker
 * threads, each with its own event_base and connections. See
 * docs/internals/transport.md. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/thread.h>

#include "base/alloc.h"
#include "base/mem_trim.h"
#include "base/options.h"
#include "tls/tls_context.h"
#include "transport/tls_shared.h"
#include "transport/addr.h"
#include "transport/server_int.h"
#include "transport/transport.h"

/* Accepts per readable event, so one busy listener cannot starve the
 * acceptor loop. */
#define ACCEPT_BATCH 64
/* After EMFILE/ENFILE, listening pauses this long instead of spinning. */
#define ACCEPT_PAUSE_MS 100
/* Graceful shutdown: time between the GOAWAY notice and the final GOAWAY
 * (comfortably more than a round trip on loopback and LANs). */
#define SHUTDOWN_NOTICE_MS 100
/* At the connection limit: accepting pauses this long while workers shed
 * idle connections, each up to SHED_PER_WORKER at a time. */
#define LIMIT_PAUSE_MS 20
#define SHED_PER_WORKER 8
/* The limit is logged again only after this long without hitting it. */
#define LIMIT_QUIET_MS 60000

static pthread_once_t evthread_once = PTHREAD_ONCE_INIT;

static void init_evthread(void) {
  struct sigaction sa;

  evthread_use_pthreads();
  /* A peer that disconnects makes write(2) raise SIGPIPE, which kills the
   * process by default; OpenSSL and libevent write without MSG_NOSIGNAL.
   * Like grpc-core, ignore it unless the application installed a handler. */
  if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
  }
}

void soupc__transport_init(void) {
  pthread_once(&evthread_once, init_evthread);
}

/* ------------------------------------------------------------------ */
/* Workers                                                              */
/* ------------------------------------------------------------------ */

/* An fd the acceptor counted that never became a connection. */
static void drop_fd(struct soupc_server *srv, int fd) {
  close(fd);
  atomic_fetch_sub(&srv->nconns, 1);
}

static void worker_accept_fd(struct worker *w, struct wop_fd *op) {
  struct soupc_server *srv = w->srv;
  struct bufferevent *bev;
  struct conn *c;
  char peer[PEER_TEXT_MAX];
  int one = 1;

  if (w->shutting_down) {
    drop_fd(srv, op->fd);
    return;
  }
  soupc__addr_format(peer, sizeof(peer), &op->peer, (unsigned)op->peer_len);
  if (op->peer.ss_family != AF_UNIX) {
    setsockopt(op->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  if (srv->ssl_ctx != NULL) {
    SSL *ssl = SSL_new(srv->ssl_ctx);
    if (ssl == NULL) {
      drop_fd(srv, op->fd);
      return;
    }
    bev = bufferevent_openssl_socket_new(
        w->base, op->fd, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
    if (bev == NULL) {
      SSL_free(ssl);
      drop_fd(srv, op->fd);
      return;
    }
    bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
  } else {
    bev = bufferevent_socket_new(w->base, op->fd, BEV_OPT_CLOSE_ON_FREE);
    if (bev == NULL) {
      drop_fd(srv, op->fd);
      return;
    }
  }
  if (soupc__conn_new(&c, w, bev, peer) != 0) {
    bufferevent_free(bev); /* closes the fd */
    atomic_fetch_sub(&srv->nconns, 1);
    return;
  }
  /* The handshake deadline (TLS + preface + first SETTINGS) is absolute:
   * the worker's sweep checks it (server_guard.c), however slowly the
   * client dribbles its bytes. */
  bufferevent_enable(bev, EV_READ | EV_WRITE);
  soupc__conn_after_io(c);
}

static void worker_maybe_exit(struct worker *w) {
  if (w->shutting_down && w->nconns == 0 && w->started) {
    event_base_loopbreak(w->base);
  }
}

void soupc__worker_conn_gone(struct worker *w) {
  worker_maybe_exit(w);
}

static void grace_cb(evutil_socket_t fd, short what, void *arg) {
  struct worker *w = arg;

  (void)fd;
  (void)what;
  while (w->conns != NULL) {
    soupc__conn_close(w->conns);
  }
  worker_maybe_exit(w);
}

/* Phase 2 of a graceful shutdown: the real GOAWAY (last processed stream);
 * connections without open streams close now, the rest when their last
 * stream ends or the grace timer fires. */
static void final_goaway_cb(evutil_socket_t fd, short what, void *arg) {
  struct worker *w = arg;
  struct conn *c, *next;

  (void)fd;
  (void)what;
  for (c = w->conns; c != NULL; c = next) {
    next = c->next;
    soupc__conn_goaway(c); /* may close c */
  }
  worker_maybe_exit(w);
}

static void worker_shutdown(struct worker *w, int grace_ms) {
  struct conn *c, *next;
  int notice_ms;

  if (w->shutting_down) {
    return;
  }
  w->shutting_down = 1;
  if (grace_ms <= 0) {
    grace_cb(-1, 0, w);
    return;
  }
  /* No connection to warn: exit now rather than after the notice timer
   * (a go-plugin host has closed its connection by the time it waits for
   * the plugin to exit; the timer cost every plugin stop 100 ms). */
  if (w->nconns == 0) {
    worker_maybe_exit(w);
    return;
  }
  /* RFC 9113 §6.8: first a GOAWAY with the largest stream id (nghttp2's
   * shutdown notice), so requests already on the wire are still served,
   * then after about a round trip the GOAWAY with the real last id. */
  for (c = w->conns; c != NULL; c = next) {
    next = c->next;
    soupc__conn_shutdown_notice(c);
  }
  notice_ms = grace_ms < SHUTDOWN_NOTICE_MS ? grace_ms / 2 : SHUTDOWN_NOTICE_MS;
  if (soupc__h2_timer_arm(&w->final_ev, w->base, final_goaway_cb, w,
                          notice_ms) != 0 ||
      soupc__h2_timer_arm(&w->grace_ev, w->base, grace_cb, w, grace_ms) != 0) {
    grace_cb(-1, 0, w);
  }
}

static void run_op(struct worker *w, struct wop *op) {
  switch (op->kind) {
  case WOP_FD:
    worker_accept_fd(w, (struct wop_fd *)op);
    soupc__free(op);
    break;
  case WOP_SHUTDOWN:
    worker_shutdown(w, op->code);
    soupc__free(op);
    break;
  case WOP_SHED:
    soupc__worker_shed(w, op->code);
    soupc__free(op);
    break;
  default:
    soupc__call_run_op(op);
    break;
  }
}

static void wake_cb(evutil_socket_t fd, short what, void *arg) {
  struct worker *w = arg;
  struct h2_op *op;

  (void)fd;
  (void)what;
  op = soupc__h2_opq_take(&w->q);
  while (op != NULL) {
    struct h2_op *next = op->next;
    run_op(w, (struct wop *)op);
    op = next;
  }
}
/* Call deadlines (grpc-timeout) are timers on the worker's base. By
 * default libevent reads CLOCK_MONOTONIC_COARSE, one kernel tick (4 ms at
 * HZ=250) behind, and a deadline then fires up to that much early. */
static struct event_base *new_precise_base(void) {
  struct event_config *cfg = event_config_new();
  struct event_base *base;

  if (cfg == NULL) {
    return NULL;
  }
  event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
  base = event_base_new_with_config(cfg);
  event_config_free(cfg);
  return base;
}

int soupc__worker_init(struct worker *w, struct soupc_server *srv) {
  soupc__transport_init();
  memset(w, 0, sizeof(*w));
  w->srv = srv;
  w->tid = pthread_self();
  w->base = new_precise_base();
  if (w->base == NULL || soupc__h2_opq_init(&w->q, w->base, wake_cb, w) != 0) {
    soupc__worker_dispose(w);
    return SOUPC_ERR_NOMEM;
  }
  return 0;
}

/* Once the loop has gone: a new connection is closed, a shutdown dropped,
 * and a call op (a late soupc_call_reply() from another thread) runs
 * inline, under the queue's lock, instead of waiting for a loop that will
 * never run again. */
static void run_op_stopped(struct h2_op *link, void *arg) {
  struct wop *op = (struct wop *)link;
  struct worker *w = arg;

  if (op->kind == WOP_FD) {
    drop_fd(w->srv, ((struct wop_fd *)op)->fd);
    soupc__free(op);
  } else if (op->kind == WOP_SHUTDOWN || op->kind == WOP_SHED) {
    soupc__free(op);
  } else {
    soupc__call_run_op(op);
  }
}

void soupc__worker_dispose(struct worker *w) {
  if (w->srv == NULL) {
    return;
  }
  if (w->q.wake_ev != NULL) {
    soupc__h2_opq_stop_and_run(&w->q, run_op_stopped, w);
  }
  while (w->conns != NULL) {
    struct conn *c = w->conns;
    if (c->h2.bev == NULL) {
      soupc__conn_free_memory(c);
    } else {
      soupc__conn_close(c);
    }
  }
  soupc__h2_timer_free(&w->grace_ev);
  soupc__h2_timer_free(&w->final_ev);
  soupc__h2_timer_free(&w->sweep_ev);
  soupc__h2_opq_dispose(&w->q);
  if (w->base != NULL) {
    event_base_free(w->base);
    w->base = NULL;
  }
  w->srv = NULL;
}

static void *worker_main(void *arg) {
  struct worker *w = arg;

  w->tid = pthread_self();
  event_base_loop(w->base, EVLOOP_NO_EXIT_ON_EMPTY);
  /* Anything still open (a grace timer that never ran) is closed here. */
  while (w->conns != NULL) {
    soupc__conn_close(w->conns);
  }
  /* Run the finalizers of the freed bufferevents: they close the fds. */
  event_base_loop(w->base, EVLOOP_NONBLOCK);
  soupc__h2_opq_stop_and_run(&w->q, run_op_stopped, w);
  return NULL;
}

/* Posts a new connection or a shutdown; once the worker has stopped, the
 * fd is closed and the op dropped. */
static void post_worker(struct worker *w, struct wop *op) {
  soupc__h2_opq_post_or_run(&w->q, &op->link, run_op_stopped, w);
}

/* ------------------------------------------------------------------ */
/* Acceptor                                                             */
/* ------------------------------------------------------------------ */

static void pause_accepting(struct soupc_server *srv, int ms) {
  struct timeval tv = {0, (suseconds_t)ms * 1000};
  size_t i;

  for (i = 0; i < srv->nlisteners; i++) {
    event_del(srv->listeners[i].ev);
  }
  evtimer_add(srv->accept_pause_ev, &tv);
}

static void resume_cb(evutil_socket_t fd, short what, void *arg) {
  struct soupc_server *srv = arg;
  size_t i;

  (void)fd;
  (void)what;
  if (atomic_load(&srv->shutdown_requested)) {
    return;
  }
  for (i = 0; i < srv->nlisteners; i++) {
    event_add(srv->listeners[i].ev, NULL);
  }
}

/* At the connection limit (or out of fds): ask every worker to close its
 * oldest idle connections and retry shortly; new clients wait in the
 * backlog meanwhile. Logged once per episode, not per attempt. */
static void at_connection_limit(struct soupc_server *srv, const char *why) {
  int64_t now = soupc__now_ms();

  /* An episode ends after a quiet minute. */
  if (srv->limit_hit_ms == 0 || now - srv->limit_hit_ms > LIMIT_QUIET_MS) {
    soupc_log(SOUPC_LOG_WARN, "transport",
              "%s (%d connections, limit %d): closing the oldest idle "
              "connections to make room (logged once per episode)",
              why, atomic_load(&srv->nconns), srv->max_conns);
  }
  srv->limit_hit_ms = now;
  for (int i = 0; i < srv->nworkers; i++) {
    struct wop *op = soupc__calloc(1, sizeof(*op));
    if (op != NULL) {
      op->kind = WOP_SHED;
      op->code = SHED_PER_WORKER; /* how many */
      post_worker(&srv->workers[i], op);
    }
  }
  pause_accepting(srv, LIMIT_PAUSE_MS);
}

static void accept_cb(evutil_socket_t lfd, short what, void *arg) {
  struct soupc_server *srv = arg;
  int i;

  (void)what;
  for (i = 0; i < ACCEPT_BATCH; i++) {
    struct wop_fd *op;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    int fd, n = atomic_load(&srv->nconns);

    if (n >= srv->max_conns) {
      at_connection_limit(srv, "connection limit reached");
      return;
    }
    fd =
        accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) {
        continue;
      }
      if (errno == EMFILE || errno == ENFILE) {
        at_connection_limit(srv, "accept: out of file descriptors");
        return;
      }
      if (errno == ENOBUFS || errno == ENOMEM) {
        /* The pending connection stays in the backlog; retry later rather
         * than spin on a level-triggered readable listener. */
        int64_t now = soupc__now_ms();
        if (now - srv->last_accept_warn_ms >= 10000) {
          /* Once per 10 s: the condition usually lasts a while. */
          srv->last_accept_warn_ms = now;
          soupc_log(SOUPC_LOG_WARN, "transport",
                    "accept: %s; pausing accepts for %d ms", strerror(errno),
                    ACCEPT_PAUSE_MS);
        }
        pause_accepting(srv, ACCEPT_PAUSE_MS);
      }
      return;
    }
    op = soupc__calloc(1, sizeof(*op));
    if (op == NULL) {
      close(fd);
      return;
    }
    atomic_fetch_add(&srv->nconns, 1); /* the worker uncounts it */
    op->base.kind = WOP_FD;
    op->fd = fd;
    memcpy(&op->peer, &ss, sizeof(ss));
    op->peer_len = sl;
    if (srv->inline_accept) {
      run_op(&srv->workers[0], &op->base); /* we are that worker */
      continue;
    }
    post_worker(&srv->workers[srv->next_worker++ % (unsigned)srv->nworkers],
                &op->base);
  }
}

/* After a burst (1000 x 1 MiB responses) the freed buffers stay in malloc's
 * arenas; once a second the acceptor checks whether the allocator holds
 * more free memory than it uses and, if so, hands it back
 * (base/mem_trim.h), so RSS falls back near idle within seconds. */
#define TRIM_INTERVAL_MS 1000
#define TRIM_FLOOR_BYTES ((size_t)4 << 20)

static void trim_cb(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  (void)arg;
  soupc__mem_trim_if_slack(TRIM_FLOOR_BYTES);
}

static void acceptor_wake_cb(evutil_socket_t fd, short what, void *arg) {
  struct soupc_server *srv = arg;
  size_t i;

  (void)fd;
  (void)what;
  if (!atomic_load(&srv->shutdown_requested)) {
    return;
  }
  /* Stop accepting: close the listening sockets so new clients are refused
   * at once instead of waiting in the backlog. */
  for (i = 0; i < srv->nlisteners; i++) {
    struct listener *l = &srv->listeners[i];
    if (l->ev != NULL) {
      event_free(l->ev);
      l->ev = NULL;
    }
    if (l->fd >= 0) {
      close(l->fd);
      l->fd = -1;
    }
  }
  if (!srv->inline_accept) {
    event_base_loopbreak(srv->acceptor_base);
  }
}

static void *acceptor_main(void *arg) {
  struct soupc_server *srv = arg;

  event_base_loop(srv->acceptor_base, EVLOOP_NO_EXIT_ON_EMPTY);
  return NULL;
}

/* ------------------------------------------------------------------ */
/* Public API                                                           */
/* ------------------------------------------------------------------ */

int soupc_server_new(soupc_server **out, const soupc_server_options *user_opts,
                     soupc_status *st) {
  soupc_server_options o;
  soupc_tls_options tls;
  const soupc_server_options *opts = &o;
  soupc_server *srv;
  int rv;

  /* docs/api/abi.md: read the caller's structs at their own size. */
  rv =
      soupc__options_copy(&o, sizeof(o), user_opts, "soupc_server_options", st);
  if (rv == 0 && o.tls != NULL) {
    rv = soupc__options_copy(&tls, sizeof(tls), o.tls, "soupc_tls_options", st);
    o.tls = &tls;
  }
  if (rv != 0) {
    return rv;
  }
  soupc__transport_init();
  srv = soupc__calloc(1, sizeof(*srv));
  if (srv == NULL) {
    soupc_status_set(st, SOUPC_GRPC_RESOURCE_EXHAUSTED, "out of memory");
    return SOUPC_ERR_NOMEM;
  }
  pthread_mutex_init(&srv->mu, NULL);
  atomic_init(&srv->shutdown_requested, 0);
  srv->last_accept_warn_ms = -100000;
  atomic_init(&srv->total_queued, 0);
  atomic_init(&srv->nconns, 0);
  soupc__limits_init(&srv->limits, opts);
  srv->max_msg = opts->max_message_size > 0 ? opts->max_message_size
                                            : SOUPC_DEFAULT_MAX_MESSAGE_SIZE;
  /* The 4-byte length prefix cannot describe more. */
  if (srv->max_msg > UINT32_MAX) {
    srv->max_msg = UINT32_MAX;
  }
  srv->nworkers = opts->workers > 0 ? opts->workers : 0;
  if (srv->nworkers == 0) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    srv->nworkers = n > 0 ? (int)n : 1;
  }
  if (opts->tls_context != NULL) {
    srv->ssl_ctx = soupc__tls_context_ref(opts->tls_context, 1);
    if (srv->ssl_ctx == NULL) {
      soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                       "tls_context was not made for a server");
      rv = SOUPC_ERR_TLS;
      goto fail;
    }
  } else if (opts->tls != NULL) {
    srv->ssl_ctx = soupc__tls_server_ctx_new(opts->tls, st);
    if (srv->ssl_ctx == NULL) {
      rv = SOUPC_ERR_TLS;
      goto fail;
    }
  }
  *out = srv;
  return 0;

fail:
  soupc_server_free(srv);
  return rv;
}

static int add_method(soupc_server *srv, const char *path, int streaming,
                      soupc_unary_fn fn, const soupc_stream_handlers *h,
                      void *user_data) {
  struct method *nm, *m;
  size_t i;

  if (srv->started || path == NULL || path[0] != '/') {
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  for (i = 0; i < srv->nmethods; i++) {
    if (strcmp(srv->methods[i].path, path) == 0) {
      return SOUPC_ERR_INVALID_ARGUMENT;
    }
  }
  nm = soupc__realloc(srv->methods, (srv->nmethods + 1) * sizeof(*nm));
  if (nm == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  srv->methods = nm;
  m = &nm[srv->nmethods];
  memset(m, 0, sizeof(*m));
  m->path = soupc__strdup(path);
  if (m->path == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  m->path_len = strlen(path);
  m->streaming = streaming;
  m->unary = fn;
  if (h != NULL) {
    m->sh = *h;
  }
  m->user_data = user_data;
  srv->nmethods++;
  return 0;
}

int soupc_server_add_unary(soupc_server *srv, const char *path,
                           soupc_unary_fn fn, void *user_data) {
  if (fn == NULL) {
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  return add_method(srv, path, 0, fn, NULL, user_data);
}

int soupc_server_add_stream(soupc_server *srv, const char *path,
                            const soupc_stream_handlers *handlers,
                            void *user_data) {
  soupc_stream_handlers h;
  int rv;

  if (handlers == NULL) {
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  rv = soupc__options_copy(&h, sizeof(h), handlers, "soupc_stream_handlers",
                           NULL);
  if (rv != 0) {
    return rv;
  }
  return add_method(srv, path, 1, NULL, &h, user_data);
}

static int add_listener(soupc_server *srv, int fd, const char *text,
                        const char *unix_path) {
  struct listener *l;

  if (srv->nlisteners == SERVER_MAX_LISTENERS || srv->started) {
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  l = &srv->listeners[srv->nlisteners];
  memset(l, 0, sizeof(*l));
  l->fd = fd;
  if (unix_path != NULL) {
    l->unix_path = soupc__strdup(unix_path);
    if (l->unix_path == NULL) {
      return SOUPC_ERR_NOMEM;
    }
  }
  if (srv->address == NULL) {
    srv->address = soupc__strdup(text);
    if (srv->address == NULL) {
      soupc__free(l->unix_path);
      return SOUPC_ERR_NOMEM;
    }
  }
  srv->nlisteners++;
  return 0;
}

int soupc_server_listen(soupc_server *srv, const char *address,
                        soupc_status *st) {
  struct net_addr a;
  char text[300];
  int fd, rv;

  if (soupc__addr_parse(&a, address, st) != 0) {
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  if (srv->started || srv->nlisteners == SERVER_MAX_LISTENERS) {
    soupc_status_set(st, SOUPC_GRPC_FAILED_PRECONDITION,
                     "the server is already started or has too many "
                     "listeners");
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  fd = soupc__addr_listen(&a, text, sizeof(text), st);
  if (fd < 0) {
    return fd;
  }
  rv = add_listener(srv, fd, text, a.is_unix ? a.path : NULL);
  if (rv != 0) {
    close(fd);
    if (a.is_unix) {
      unlink(a.path);
    }
    soupc_status_set(st, SOUPC_GRPC_RESOURCE_EXHAUSTED, "%s",
                     soupc_strerror(rv));
  }
  return rv;
}

int soupc_server_listen_fd(soupc_server *srv, int fd,
                           const char *address_text) {
  if (fd < 0 || soupc__set_nonblock_cloexec(fd) != 0) {
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  return add_listener(srv, fd, address_text != NULL ? address_text : "", NULL);
}

const char *soupc_server_address(const soupc_server *srv) {
  return srv->address;
}

const char *soupc_server_method(const soupc_server *srv, size_t i) {
  return i < srv->nmethods ? srv->methods[i].path : NULL;
}

/* 500+ connections need more than the usual soft limit of 1024 fds once
 * the application's own files are counted; the hard limit is ours to take. */
static void raise_nofile(void) {
  struct rlimit rl;

  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

int soupc_server_start(soupc_server *srv) {
  int i, rv = SOUPC_ERR_NOMEM;
  size_t k;

  if (srv->started || srv->nlisteners == 0 ||
      atomic_load(&srv->shutdown_requested)) {
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  raise_nofile();
  srv->workers = soupc__calloc((size_t)srv->nworkers, sizeof(*srv->workers));
  if (srv->workers == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  srv->max_conns = soupc__server_max_connections(srv);
  for (i = 0; i < srv->nworkers; i++) {
    if (soupc__worker_init(&srv->workers[i], srv) != 0 ||
        soupc__worker_sweep_start(&srv->workers[i]) != 0) {
      goto fail;
    }
    srv->workers[i].started = 1;
  }
  /* Inline: the one worker's loop accepts too (no thread, no loop, no
   * hand-over of each new connection). */
  srv->acceptor_base =
      srv->inline_accept ? srv->workers[0].base : event_base_new();
  if (srv->acceptor_base == NULL) {
    goto fail;
  }
  srv->acceptor_wake =
      event_new(srv->acceptor_base, -1, 0, acceptor_wake_cb, srv);
  srv->accept_pause_ev = evtimer_new(srv->acceptor_base, resume_cb, srv);
  srv->trim_ev = event_new(srv->acceptor_base, -1, EV_PERSIST, trim_cb, srv);
  if (srv->acceptor_wake == NULL || srv->accept_pause_ev == NULL ||
      srv->trim_ev == NULL) {
    goto fail;
  }
  {
    struct timeval tv = {TRIM_INTERVAL_MS / 1000,
                         (suseconds_t)(TRIM_INTERVAL_MS % 1000) * 1000};
    event_add(srv->trim_ev, &tv);
  }
  for (k = 0; k < srv->nlisteners; k++) {
    struct listener *l = &srv->listeners[k];
    l->ev = event_new(srv->acceptor_base, l->fd, EV_READ | EV_PERSIST,
                      accept_cb, srv);
    if (l->ev == NULL || event_add(l->ev, NULL) != 0) {
      goto fail;
    }
  }
  for (i = 0; i < srv->nworkers; i++) {
    if (pthread_create(&srv->workers[i].thread, NULL, worker_main,
                       &srv->workers[i]) != 0) {
      /* Threads already running are stopped by the shutdown below. */
      srv->nworkers = i;
      rv = SOUPC_ERR_NOMEM;
      goto fail_running;
    }
  }
  if (!srv->inline_accept &&
      pthread_create(&srv->acceptor_tid, NULL, acceptor_main, srv) != 0) {
    goto fail_running;
  }
  srv->started = 1;
  return 0;

fail_running:
  /* Not reachable in practice (thread creation failed); stop what runs. */
  for (int j = 0; j < srv->nworkers; j++) {
    struct wop *op = soupc__calloc(1, sizeof(*op));
    if (op != NULL) {
      op->kind = WOP_SHUTDOWN;
      post_worker(&srv->workers[j], op);
    }
    pthread_join(srv->workers[j].thread, NULL);
  }
  return rv;

fail:
  for (k = 0; k < srv->nlisteners; k++) {
    if (srv->listeners[k].ev != NULL) {
      event_free(srv->listeners[k].ev);
      srv->listeners[k].ev = NULL;
    }
  }
  return rv;
}

void soupc_server_shutdown(soupc_server *srv, int grace_ms) {
  int i;

  if (atomic_exchange(&srv->shutdown_requested, 1)) {
    return;
  }
  if (!srv->started) {
    return;
  }
  event_active(srv->acceptor_wake, EV_READ, 0);
  for (i = 0; i < srv->nworkers; i++) {
    struct wop *op = soupc__calloc(1, sizeof(*op));
    if (op == NULL) {
      continue; /* that worker then only stops in soupc_server_free() */
    }
    op->kind = WOP_SHUTDOWN;
    op->code = grace_ms;
    post_worker(&srv->workers[i], op);
  }
}

void soupc_server_wait(soupc_server *srv) {
  int i;

  pthread_mutex_lock(&srv->mu);
  if (srv->started && !srv->joined) {
    if (!srv->inline_accept) {
      pthread_join(srv->acceptor_tid, NULL);
    }
    for (i = 0; i < srv->nworkers; i++) {
      pthread_join(srv->workers[i].thread, NULL);
    }
    srv->joined = 1;
  }
  pthread_mutex_unlock(&srv->mu);
}

void soupc_server_free(soupc_server *srv) {
  size_t k;
  int i;

  if (srv == NULL) {
    return;
  }
  if (srv->started) {
    soupc_server_shutdown(srv, 0);
    soupc_server_wait(srv);
  }
  for (k = 0; k < srv->nlisteners; k++) {
    struct listener *l = &srv->listeners[k];
    if (l->ev != NULL) {
      event_free(l->ev);
    }
    if (l->fd >= 0) {
      close(l->fd);
    }
    if (l->unix_path != NULL) {
      unlink(l->unix_path);
      soupc__free(l->unix_path);
    }
  }
  if (srv->acceptor_wake != NULL) {
    event_free(srv->acceptor_wake);
  }
  if (srv->accept_pause_ev != NULL) {
    event_free(srv->accept_pause_ev);
  }
  if (srv->trim_ev != NULL) {
    event_free(srv->trim_ev);
  }
  if (srv->acceptor_base != NULL && !srv->inline_accept) {
    event_base_free(srv->acceptor_base);
  }
  /* After the acceptor's events: inline, they are on worker 0's loop. */
  if (srv->workers != NULL) {
    for (i = 0; i < srv->nworkers; i++) {
      soupc__worker_dispose(&srv->workers[i]);
    }
    soupc__free(srv->workers);
  }
  for (k = 0; k < srv->nmethods; k++) {
    soupc__free(srv->methods[k].path);
  }
  soupc__free(srv->methods);
  soupc__free(srv->address);
  if (srv->ssl_ctx != NULL) {
    SSL_CTX_free(srv->ssl_ctx);
  }
  pthread_mutex_destroy(&srv->mu);
  soupc__free(srv);
}

/* ------------------------------------------------------------------ */
/* In-memory connections (fuzzing, tests)                               */
/* ------------------------------------------------------------------ */

struct soupc__mem_conn {
  struct worker w;
  struct conn *conn;
};

int soupc__mem_conn_new(struct soupc__mem_conn **out, soupc_server *srv) {
  struct soupc__mem_conn *mc = soupc__calloc(1, sizeof(*mc));
  int rv;

  if (mc == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  rv = soupc__worker_init(&mc->w, srv);
  if (rv != 0) {
    soupc__free(mc);
    return rv;
  }
  rv = soupc__conn_new(&mc->conn, &mc->w, NULL, "memory");
  if (rv != 0) {
    soupc__worker_dispose(&mc->w);
    soupc__free(mc);
    return rv;
  }
  soupc__conn_after_io(mc->conn);
  *out = mc;
  return 0;
}

int soupc__mem_conn_feed(struct soupc__mem_conn *mc, const uint8_t *data,
                         size_t len) {
  int rv = soupc__conn_feed(mc->conn, data, len);

  /* Timers due now (zero grpc-timeout) and posted work. */
  event_base_loop(mc->w.base, EVLOOP_NONBLOCK);
  if (!mc->conn->closed) {
    soupc__conn_after_io(mc->conn);
  }
  return mc->conn->closed ? -1 : rv;
}

size_t soupc__mem_conn_take_output(struct soupc__mem_conn *mc, uint8_t *buf,
                                   size_t cap) {
  int n = evbuffer_remove(mc->conn->h2.out, buf, cap);

  if (n > 0) {
    soupc__guard_progress(mc->conn, soupc__now_ms());
  }
  return n > 0 ? (size_t)n : 0;
}

void soupc__server_set_handshake_timeout(soupc_server *srv, int ms) {
  srv->limits.handshake_timeout_ms = ms;
}

int soupc__server_set_inline_accept(soupc_server *srv) {
  if (srv->started || srv->nworkers != 1) {
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  srv->inline_accept = 1;
  return 0;
}

void soupc__mem_conn_sweep(struct soupc__mem_conn *mc, int64_t now_ms) {
  soupc__worker_sweep(&mc->w, now_ms);
  if (!mc->conn->closed) {
    soupc__conn_after_io(mc->conn);
  }
}

void soupc__mem_conn_close(struct soupc__mem_conn *mc) {
  if (!mc->conn->closed) {
    soupc__conn_close(mc->conn);
  }
}

void soupc__mem_conn_free(struct soupc__mem_conn *mc) {
  if (mc == NULL) {
    return;
  }
  soupc__conn_free_memory(mc->conn);
  /* Calls the test kept open are finished inline from now on. */
  soupc__worker_dispose(&mc->w);
  soupc__free(mc);
}
