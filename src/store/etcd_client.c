/* The etcd cluster client (etcd_client.h): endpoints, one connection at a
 * time, asynchronous unary calls (soupc_channel_unary_async), deadlines,
 * failover and safe retries.
 *
 * Threads: calls start on any thread and complete on the I/O thread of the
 * channel that carried them (the unary call's callback), or on the
 * client's supervisor thread, which connects, fails queued calls past
 * their deadline and frees retired connections. A call costs one post to
 * the channel's I/O thread and its answer is delivered there, without a
 * copy. One mutex (cl->mu) guards the lists and the connection state; it
 * is never held across a call into the channel or a user callback. */
#include "store/etcd_client.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "soupc/rpc.h"

#define DEFAULT_TIMEOUT_MS 5000
#define DEFAULT_CONNECT_TIMEOUT_MS 2000
#define MAX_ENDPOINTS 16
#define TICK_MS 50          /* deadline resolution for queued calls */
#define IDLE_TICK_MS 1000   /* supervisor wake-up when nothing is queued */
#define BACKOFF_MIN_MS 100  /* reconnect delay after a failed round... */
#define BACKOFF_MAX_MS 1000 /* ...doubling up to this */
/* etcd answers at most max-request-bytes (1.5 MiB by default) plus gRPC
 * framing; leave room for clusters configured far above the default. */
#define CHANNEL_MAX_MESSAGE ((size_t)256 * 1024 * 1024)

struct endpoint {
  char url[256];     /* as given, for messages */
  char address[256]; /* HOST:PORT for soupc_channel_open */
  char host[256];    /* TLS server name */
  int tls;
  char last_error[256];
};

/* One connection to one member. */
struct conn {
  soupc_channel *ch;
  int ep;            /* index into cl->ep */
  int streams;       /* calls sent on ch that have not ended yet */
  int retired;       /* no new calls; freed once streams == 0 */
  struct conn *next; /* cl->retired */
};

struct call {
  struct etcd_client *cl;
  struct call *prev, *next; /* cl->pending while queued */
  int queued;
  struct conn *conn; /* this attempt's connection */
  int idempotent;
  int attempts;
  int maybe_applied;   /* an earlier attempt may have reached etcd */
  int64_t deadline_ms; /* CLOCK_MONOTONIC */
  char path[64];
  uint8_t *req;
  size_t req_len;
  char endpoint[256]; /* this attempt's member */
  etcd_reply_fn fn;
  void *user_data;
};

struct etcd_client {
  struct endpoint ep[MAX_ENDPOINTS];
  int n_ep;
  char *ca_pem, *cert_pem, *key_pem; /* copies, or NULL */
  int timeout_ms;
  int connect_timeout_ms;

  pthread_mutex_t mu;
  pthread_cond_t cv; /* wakes the supervisor, new() after a round, free() */
  struct conn *current;
  struct conn *retired;
  int next_ep; /* where the next connect round starts */
  struct call *pending;
  int submitting; /* threads between picking a conn and handing it a call */
  int stopping;
  int connecting;
  int rounds; /* connect rounds finished */
  int down;   /* the last round reached no member */
  int64_t next_try_ms;
  int backoff_ms;
  char down_msg[1024];
  pthread_t thread;
  int thread_started;
};

/* Copies @p src into @p dst (cap bytes), truncating. */
static void copy_str(char *dst, size_t cap, const char *src) {
  size_t n = strnlen(src, cap - 1);

  memcpy(dst, src, n);
  dst[n] = '\0';
}

static int64_t now_ms(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void pending_add(struct etcd_client *cl, struct call *c) {
  c->prev = NULL;
  c->next = cl->pending;
  if (cl->pending != NULL) {
    cl->pending->prev = c;
  }
  cl->pending = c;
  c->queued = 1;
}

static void pending_del(struct etcd_client *cl, struct call *c) {
  if (!c->queued) {
    return;
  }
  if (c->prev != NULL) {
    c->prev->next = c->next;
  } else {
    cl->pending = c->next;
  }
  if (c->next != NULL) {
    c->next->prev = c->prev;
  }
  c->prev = c->next = NULL;
  c->queued = 0;
}

/* The connection goes out of use: new calls go to the next endpoint. */
static void retire_locked(struct etcd_client *cl, struct conn *cn) {
  if (cn == NULL || cl->current != cn) {
    return;
  }
  cl->current = NULL;
  cn->retired = 1;
  cn->next = cl->retired;
  cl->retired = cn;
  cl->next_ep = (cn->ep + 1) % cl->n_ep;
  cl->down = 0; /* reconnect at once, not after a backoff */
  pthread_cond_broadcast(&cl->cv);
}

static void release_locked(struct etcd_client *cl, struct conn *cn) {
  cn->streams--;
  if (cn->retired && cn->streams == 0) {
    pthread_cond_broadcast(&cl->cv);
  }
}

static void call_free(struct call *c) {
  soupc__free(c->req);
  soupc__free(c);
}

/* Ends the call: one callback, then the call is freed. @p msg (OK only)
 * is borrowed for the callback. */
static void deliver(struct call *c, const soupc_status *st, const uint8_t *msg,
                    size_t len) {
  static const uint8_t empty[1];
  struct etcd_reply r;

  memset(&r, 0, sizeof(r));
  r.status = *st;
  r.endpoint = c->endpoint;
  if (st->code == SOUPC_GRPC_OK) {
    r.msg = msg != NULL ? msg : empty;
    r.len = msg != NULL ? len : 0;
  } else {
    r.maybe_applied = c->maybe_applied;
  }
  c->fn(&r, c->user_data);
  call_free(c);
}

static void deliver_code(struct call *c, int code, const char *msg) {
  soupc_status st;

  soupc_status_set(&st, code, "%s", msg);
  deliver(c, &st, NULL, 0);
}

static void attempt(struct call *c);

/* The channel's answer to one attempt, on its I/O thread: releases the
 * connection (retiring it when the member cannot serve), then delivers
 * the outcome or retries where that is safe. */
static void on_done(int err, const soupc_status *status, const uint8_t *resp,
                    size_t resp_len, void *user_data) {
  struct call *c = user_data;
  struct etcd_client *cl = c->cl;
  soupc_status st = *status;
  int refused, retry, late;

  /* The local deadline (the remaining time of the call's one deadline,
   * also sent to etcd as grpc-timeout) or etcd's own answer to it, which
   * etcd 3.4 sends as UNKNOWN "context deadline exceeded". */
  late = err == SOUPC_ERR_DEADLINE || st.code == SOUPC_GRPC_DEADLINE_EXCEEDED ||
         strstr(st.message, "context deadline exceeded") != NULL;
  if (late) {
    soupc_status_set(&st, SOUPC_GRPC_UNAVAILABLE, "no answer within %d ms",
                     cl->timeout_ms);
  }
  /* The connection stays referenced until here, so it cannot be freed
   * (and its address reused) while this decides whether to retire it. */
  pthread_mutex_lock(&cl->mu);
  if (st.code == SOUPC_GRPC_UNAVAILABLE) {
    /* The member cannot serve (it died, lost its leader, timed out, or is
     * hung or partitioned away): move new calls to the next endpoint. */
    retire_locked(cl, c->conn);
  }
  release_locked(cl, c->conn);
  c->conn = NULL;
  pthread_mutex_unlock(&cl->mu);

  if (st.code == SOUPC_GRPC_OK) {
    deliver(c, &st, resp, resp_len);
    return;
  }
  /* The transport's text for RST_STREAM REFUSED_STREAM (and GOAWAY past
   * the stream): the member did not process the request (RFC 9113
   * §8.7). Any other failure may have happened after etcd applied it. */
  refused = st.code == SOUPC_GRPC_UNAVAILABLE &&
            strstr(st.message, "REFUSED_STREAM") != NULL;
  if (!refused) {
    c->maybe_applied = 1;
  }
  retry = st.code == SOUPC_GRPC_UNAVAILABLE && !late &&
          (c->idempotent || !c->maybe_applied) && c->attempts <= cl->n_ep &&
          now_ms() < c->deadline_ms;
  if (retry) {
    attempt(c);
    return;
  }
  deliver(c, &st, NULL, 0);
}

/* Sends one attempt on the current connection, or queues the call for the
 * supervisor's next connect round. Called without cl->mu. */
static void attempt(struct call *c) {
  struct etcd_client *cl = c->cl;
  struct conn *cn;
  char msg[sizeof(cl->down_msg)];
  soupc_status st;
  int64_t left;
  int rv;

  for (;;) {
    pthread_mutex_lock(&cl->mu);
    if (cl->stopping) {
      pthread_mutex_unlock(&cl->mu);
      deliver_code(c, SOUPC_GRPC_CANCELLED, "the etcd client is closing");
      return;
    }
    cn = cl->current;
    if (cn != NULL && !soupc_channel_is_open(cn->ch)) {
      retire_locked(cl, cn);
      cn = NULL;
    }
    if (cn == NULL) {
      if (cl->down && !cl->connecting && now_ms() < cl->next_try_ms) {
        /* Every member was unreachable a moment ago: answer now. */
        copy_str(msg, sizeof(msg), cl->down_msg);
        pthread_mutex_unlock(&cl->mu);
        deliver_code(c, SOUPC_GRPC_UNAVAILABLE, msg);
        return;
      }
      pending_add(cl, c);
      pthread_cond_broadcast(&cl->cv);
      pthread_mutex_unlock(&cl->mu);
      return;
    }
    left = c->deadline_ms - now_ms();
    if (left <= 0) {
      pthread_mutex_unlock(&cl->mu);
      snprintf(msg, sizeof(msg), "no answer within %d ms", cl->timeout_ms);
      deliver_code(c, SOUPC_GRPC_UNAVAILABLE, msg);
      return;
    }
    cn->streams++;
    cl->submitting++;
    c->conn = cn;
    c->attempts++;
    copy_str(c->endpoint, sizeof(c->endpoint), cl->ep[cn->ep].url);
    pthread_mutex_unlock(&cl->mu);

    /* On success on_done runs once, on the I/O thread, maybe already
     * running: c is not ours any more. */
    soupc_status_clear(&st);
    rv = soupc_channel_unary_async(cn->ch, c->path, c->req, c->req_len, left,
                                   on_done, c, &st);
    pthread_mutex_lock(&cl->mu);
    cl->submitting--;
    if (cl->stopping) {
      pthread_cond_broadcast(&cl->cv);
    }
    if (rv == 0) {
      pthread_mutex_unlock(&cl->mu);
      return;
    }
    c->conn = NULL;
    if (rv == SOUPC_ERR_CLOSED) {
      /* The channel closed before the request left: safe to try
       * elsewhere. */
      retire_locked(cl, cn);
      release_locked(cl, cn);
      pthread_mutex_unlock(&cl->mu);
      continue;
    }
    release_locked(cl, cn);
    pthread_mutex_unlock(&cl->mu);
    deliver(c, &st, NULL, 0); /* too large, out of memory: not sent */
    return;
  }
}

int soupc__etcd_client_call(struct etcd_client *cl, const char *path,
                            const uint8_t *req, size_t len, int idempotent,
                            etcd_reply_fn fn, void *user_data) {
  struct call *c;

  if (strlen(path) >= sizeof(c->path)) {
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  c = soupc__calloc(1, sizeof(*c));
  if (c == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  c->req = soupc__malloc(len > 0 ? len : 1);
  if (c->req == NULL) {
    soupc__free(c);
    return SOUPC_ERR_NOMEM;
  }
  if (len > 0) {
    memcpy(c->req, req, len);
  }
  c->req_len = len;
  c->cl = cl;
  c->idempotent = idempotent;
  c->fn = fn;
  c->user_data = user_data;
  c->deadline_ms = now_ms() + cl->timeout_ms;
  snprintf(c->path, sizeof(c->path), "%s", path);
  pthread_mutex_lock(&cl->mu);
  if (cl->stopping) {
    pthread_mutex_unlock(&cl->mu);
    call_free(c);
    return SOUPC_ERR_CLOSED;
  }
  pthread_mutex_unlock(&cl->mu);
  attempt(c);
  return 0;
}

/* ------------------------------------------------------------------ */
/* Supervisor: connect rounds, deadlines, retired connections           */
/* ------------------------------------------------------------------ */

static void open_conn(struct etcd_client *cl, int e, soupc_channel **out,
                      soupc_status *st) {
  soupc_channel_options o = SOUPC_CHANNEL_OPTIONS_INIT;
  soupc_tls_options tls = SOUPC_TLS_OPTIONS_INIT;

  o.max_message_size = CHANNEL_MAX_MESSAGE;
  o.connect_timeout_ms = cl->connect_timeout_ms;
  if (cl->ep[e].tls) {
    tls.ca_pem = cl->ca_pem;
    tls.cert_pem = cl->cert_pem;
    tls.key_pem = cl->key_pem;
    tls.server_name = cl->ep[e].host;
    o.tls = &tls;
  }
  *out = NULL;
  if (soupc_channel_open(out, cl->ep[e].address, &o, st) != 0) {
    *out = NULL;
  }
}

/* Moves the pending calls out; the caller attempts or fails them. */
static struct call *take_pending(struct etcd_client *cl) {
  struct call *list = cl->pending, *c;

  cl->pending = NULL;
  for (c = list; c != NULL; c = c->next) {
    c->queued = 0;
  }
  return list;
}

static void down_message(struct etcd_client *cl) {
  size_t used;
  int i;

  used = (size_t)snprintf(cl->down_msg, sizeof(cl->down_msg),
                          "no etcd member reachable:");
  for (i = 0; i < cl->n_ep && used < sizeof(cl->down_msg); i++) {
    used += (size_t)snprintf(cl->down_msg + used, sizeof(cl->down_msg) - used,
                             "%s %s: %s", i > 0 ? ";" : "", cl->ep[i].url,
                             cl->ep[i].last_error);
  }
}

/* Tries each endpoint in turn from cl->next_ep. Called and returns with
 * cl->mu held; drops it while connecting and while running calls. */
static void connect_round(struct etcd_client *cl) {
  struct call *list, *c, *next;
  soupc_channel *ch = NULL;
  struct conn *cn;
  soupc_status st;
  int i, e, ok = 0;

  cl->connecting = 1;
  for (i = 0; i < cl->n_ep && !cl->stopping && !ok; i++) {
    e = (cl->next_ep + i) % cl->n_ep;
    pthread_mutex_unlock(&cl->mu);
    soupc_status_clear(&st);
    open_conn(cl, e, &ch, &st);
    cn = ch != NULL ? soupc__calloc(1, sizeof(*cn)) : NULL;
    if (ch != NULL && cn == NULL) {
      soupc_channel_free(ch);
      snprintf(st.message, sizeof(st.message), "out of memory");
    }
    pthread_mutex_lock(&cl->mu);
    if (cn != NULL) {
      cn->ch = ch;
      cn->ep = e;
      cl->current = cn;
      cl->next_ep = e;
      ok = 1;
    } else {
      copy_str(cl->ep[e].last_error, sizeof(cl->ep[e].last_error),
               st.message[0] != '\0' ? st.message : "connection failed");
    }
  }
  cl->connecting = 0;
  cl->rounds++;
  if (ok) {
    cl->down = 0;
    cl->backoff_ms = BACKOFF_MIN_MS;
    soupc_log(SOUPC_LOG_INFO, "etcd", "connected to %s",
              cl->ep[cl->next_ep].url);
  } else {
    down_message(cl);
    cl->down = 1;
    cl->next_try_ms = now_ms() + cl->backoff_ms;
    cl->backoff_ms = cl->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
                                                         : cl->backoff_ms * 2;
    if (cl->rounds == 1 || cl->backoff_ms < BACKOFF_MAX_MS) {
      soupc_log(SOUPC_LOG_WARN, "etcd", "%s", cl->down_msg);
    }
  }
  pthread_cond_broadcast(&cl->cv);
  list = take_pending(cl);
  if (list == NULL) {
    return;
  }
  copy_str(st.message, sizeof(st.message), cl->down_msg);
  pthread_mutex_unlock(&cl->mu);
  for (c = list; c != NULL; c = next) {
    next = c->next;
    if (ok) {
      attempt(c);
    } else {
      deliver_code(c, SOUPC_GRPC_UNAVAILABLE, st.message);
    }
  }
  pthread_mutex_lock(&cl->mu);
}

/* Fails the queued calls past their deadline (all of them, CANCELLED,
 * when @p all). Calls sent to a member end at their deadline on the
 * channel's own timer. Called and returns with cl->mu held. @return the
 * number failed. */
static int reap(struct etcd_client *cl, int all) {
  struct call *c, *next, *list = NULL;
  int64_t now = now_ms();
  int n = 0;

  for (c = cl->pending; c != NULL; c = next) {
    next = c->next;
    if (all || c->deadline_ms <= now) {
      pending_del(cl, c);
      c->next = list;
      list = c;
    }
  }
  if (list == NULL) {
    return 0;
  }
  pthread_mutex_unlock(&cl->mu);
  for (c = list; c != NULL; c = next) {
    next = c->next;
    n++;
    deliver_code(c, all ? SOUPC_GRPC_CANCELLED : SOUPC_GRPC_UNAVAILABLE,
                 all ? "the etcd client is closing"
                     : "no etcd member became reachable in time");
  }
  pthread_mutex_lock(&cl->mu);
  return n;
}

/* Frees retired connections that no call uses any more. Called and
 * returns with cl->mu held. @return the number freed. */
static int free_retired(struct etcd_client *cl) {
  struct conn **pp = &cl->retired, *cn, *list = NULL;
  int n = 0;

  while (*pp != NULL) {
    cn = *pp;
    if (cn->streams == 0) {
      *pp = cn->next;
      cn->next = list;
      list = cn;
    } else {
      pp = &cn->next;
    }
  }
  if (list == NULL) {
    return 0;
  }
  pthread_mutex_unlock(&cl->mu);
  while (list != NULL) {
    cn = list;
    list = cn->next;
    soupc_channel_free(cn->ch);
    soupc__free(cn);
    n++;
  }
  pthread_mutex_lock(&cl->mu);
  return n;
}

static void *supervise(void *arg) {
  struct etcd_client *cl = arg;
  struct timespec ts;
  int64_t wait_ms;

  pthread_mutex_lock(&cl->mu);
  while (!cl->stopping) {
    if (cl->current != NULL && !soupc_channel_is_open(cl->current->ch)) {
      retire_locked(cl, cl->current);
    }
    if (reap(cl, 0) > 0 || free_retired(cl) > 0) {
      continue;
    }
    if (cl->current == NULL &&
        (cl->pending != NULL || !cl->down || now_ms() >= cl->next_try_ms)) {
      connect_round(cl);
      continue;
    }
    wait_ms =
        cl->pending != NULL || cl->retired != NULL ? TICK_MS : IDLE_TICK_MS;
    if (cl->current == NULL && cl->down) {
      int64_t left = cl->next_try_ms - now_ms();
      wait_ms = left < wait_ms ? (left > 0 ? left : 1) : wait_ms;
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)(wait_ms / 1000);
    ts.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&cl->cv, &cl->mu, &ts);
  }
  pthread_mutex_unlock(&cl->mu);
  return NULL;
}

/* ------------------------------------------------------------------ */
/* Endpoints, lifecycle                                                 */
/* ------------------------------------------------------------------ */

/* Parses one endpoint URL of @p len bytes. @return 0 or -1 with @p st. */
static int parse_endpoint(struct endpoint *ep, const char *s, size_t len,
                          int have_tls, soupc_status *st) {
  const char *hostport = s, *colon;
  size_t hlen, start;

  if (len == 0 || len >= sizeof(ep->url)) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "etcd endpoint \"%.*s\" is empty or too long", (int)len,
                     s);
    return -1;
  }
  memcpy(ep->url, s, len);
  ep->url[len] = '\0';
  ep->tls = have_tls;
  if (strncmp(ep->url, "http://", 7) == 0) {
    ep->tls = 0;
    hostport = ep->url + 7;
  } else if (strncmp(ep->url, "https://", 8) == 0) {
    ep->tls = 1;
    hostport = ep->url + 8;
  } else if (strstr(ep->url, "://") != NULL) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "etcd endpoint \"%s\": want http://HOST:PORT or "
                     "https://HOST:PORT",
                     ep->url);
    return -1;
  } else {
    hostport = ep->url;
  }
  hlen = strcspn(hostport, "/");
  if (hostport[hlen] == '/' && hostport[hlen + 1] != '\0') {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "etcd endpoint \"%s\" has a path; want HOST:PORT",
                     ep->url);
    return -1;
  }
  snprintf(ep->address, sizeof(ep->address), "%.*s", (int)hlen, hostport);
  colon = strrchr(ep->address, ':');
  if (colon == NULL || colon == ep->address || colon[1] == '\0' ||
      strspn(colon + 1, "0123456789") != strlen(colon + 1)) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "etcd endpoint \"%s\" has no port; want HOST:PORT",
                     ep->url);
    return -1;
  }
  hlen = (size_t)(colon - ep->address);
  start = 0;
  if (ep->address[0] == '[' && hlen > 2 && ep->address[hlen - 1] == ']') {
    start = 1; /* [v6]:port: the name to verify has no brackets */
    hlen -= 2;
  }
  memcpy(ep->host, ep->address + start, hlen); /* hlen < sizeof(host) */
  ep->host[hlen] = '\0';
  snprintf(ep->last_error, sizeof(ep->last_error), "not tried yet");
  return 0;
}

static int parse_endpoints(struct etcd_client *cl, const char *list,
                           int have_tls, soupc_status *st) {
  const char *p = list;
  size_t len;

  if (list == NULL || list[0] == '\0') {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "no etcd endpoints given");
    return -1;
  }
  for (;;) {
    len = strcspn(p, ",");
    if (cl->n_ep == MAX_ENDPOINTS) {
      soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                       "too many etcd endpoints; the limit is %d",
                       MAX_ENDPOINTS);
      return -1;
    }
    if (parse_endpoint(&cl->ep[cl->n_ep], p, len, have_tls, st) != 0) {
      return -1;
    }
    cl->n_ep++;
    if (p[len] == '\0') {
      return 0;
    }
    p += len + 1;
  }
}

static int copy_pem(char **out, const char *pem) {
  *out = NULL;
  if (pem == NULL) {
    return 0;
  }
  *out = soupc__strdup(pem);
  return *out == NULL ? SOUPC_ERR_NOMEM : 0;
}

static void client_destroy(struct etcd_client *cl) {
  soupc__free(cl->ca_pem);
  soupc__free(cl->cert_pem);
  soupc__free(cl->key_pem);
  pthread_cond_destroy(&cl->cv);
  pthread_mutex_destroy(&cl->mu);
  soupc__free(cl);
}

int soupc__etcd_client_new(struct etcd_client **out,
                           const struct etcd_client_options *opts,
                           soupc_status *st) {
  struct etcd_client *cl;
  int have_tls, rv, i;

  cl = soupc__calloc(1, sizeof(*cl));
  if (cl == NULL) {
    soupc_status_set(st, SOUPC_GRPC_RESOURCE_EXHAUSTED, "out of memory");
    return SOUPC_ERR_NOMEM;
  }
  pthread_mutex_init(&cl->mu, NULL);
  pthread_cond_init(&cl->cv, NULL);
  cl->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : DEFAULT_TIMEOUT_MS;
  cl->connect_timeout_ms = opts->connect_timeout_ms > 0
                               ? opts->connect_timeout_ms
                               : DEFAULT_CONNECT_TIMEOUT_MS;
  cl->backoff_ms = BACKOFF_MIN_MS;
  have_tls = opts->ca_pem != NULL || opts->cert_pem != NULL;
  if ((opts->cert_pem == NULL) != (opts->key_pem == NULL)) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "an etcd client certificate needs its key, and a key "
                     "its certificate");
    client_destroy(cl);
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  if (parse_endpoints(cl, opts->endpoints, have_tls, st) != 0) {
    client_destroy(cl);
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  for (i = 0; i < cl->n_ep; i++) {
    if (!cl->ep[i].tls && have_tls) {
      soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                       "etcd endpoint %s is plaintext (http://) but TLS "
                       "material is given; use https://",
                       cl->ep[i].url);
      client_destroy(cl);
      return SOUPC_ERR_INVALID_ARGUMENT;
    }
  }
  rv = copy_pem(&cl->ca_pem, opts->ca_pem);
  rv = rv == 0 ? copy_pem(&cl->cert_pem, opts->cert_pem) : rv;
  rv = rv == 0 ? copy_pem(&cl->key_pem, opts->key_pem) : rv;
  if (rv == 0 && pthread_create(&cl->thread, NULL, supervise, cl) != 0) {
    rv = SOUPC_ERR_NOMEM;
  }
  if (rv != 0) {
    soupc_status_set(st, SOUPC_GRPC_RESOURCE_EXHAUSTED, "out of memory");
    client_destroy(cl);
    return rv;
  }
  cl->thread_started = 1;
  /* Wait for the first connect round, so the first calls find a member
   * (or fail at once with the reason) instead of queueing. */
  pthread_mutex_lock(&cl->mu);
  while (cl->rounds == 0) {
    pthread_cond_wait(&cl->cv, &cl->mu);
  }
  pthread_mutex_unlock(&cl->mu);
  *out = cl;
  return 0;
}

void soupc__etcd_client_current(struct etcd_client *cl, char *buf, size_t cap) {
  pthread_mutex_lock(&cl->mu);
  snprintf(buf, cap, "%s",
           cl->current != NULL ? cl->ep[cl->current->ep].url : "none");
  pthread_mutex_unlock(&cl->mu);
}

int soupc__etcd_client_endpoint_count(const struct etcd_client *cl) {
  return cl->n_ep;
}

void soupc__etcd_client_free(struct etcd_client *cl) {
  struct conn *list, *cn;

  if (cl == NULL) {
    return;
  }
  pthread_mutex_lock(&cl->mu);
  cl->stopping = 1;
  pthread_cond_broadcast(&cl->cv);
  pthread_mutex_unlock(&cl->mu);
  if (cl->thread_started) {
    pthread_join(cl->thread, NULL);
  }
  /* From now on attempt() only delivers CANCELLED. Fail what is queued,
   * wait for calls being handed to a channel, then free every channel:
   * that fails what is still open (its callbacks run inside). */
  pthread_mutex_lock(&cl->mu);
  reap(cl, 1);
  while (cl->submitting > 0) {
    pthread_cond_wait(&cl->cv, &cl->mu);
  }
  retire_locked(cl, cl->current);
  list = cl->retired;
  cl->retired = NULL;
  pthread_mutex_unlock(&cl->mu);
  for (cn = list; cn != NULL; cn = cn->next) {
    soupc_channel_free(cn->ch);
  }
  while (list != NULL) {
    cn = list;
    list = cn->next;
    soupc__free(cn);
  }
  client_destroy(cl);
}
