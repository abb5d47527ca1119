/* go-plugin's GRPCBroker (grpc_broker.go), both ends, over
 * plugin.GRPCBroker/StartStream: the host holds the client end of the
 * stream, the plugin the server end; either side may serve services on a
 * new listener (AcceptAndServe: a ConnInfo {id, network, address} goes to
 * the peer) or dial what the peer announced (Dial: waits for the ConnInfo
 * with that id).
 *
 * Like go-plugin, brokered connections use TLS when the main one does,
 * with the same certificates: ours presented, the peer's as the only root
 * and as the required client CA. Timeouts and texts are go-plugin's: a
 * ConnInfo not picked up within 5 s is dropped, and a Dial that sees none
 * within 5 s fails with "timeout waiting for connection info".
 *
 * Threads: stream callbacks (the channel's I/O thread on the host, a worker
 * on the plugin) only record ConnInfos and wake waiters; dials and servers
 * run on the caller's threads or, for asynchronous dials, on the broker's
 * dial threads: a pool that keeps a thread free for every queued dial (a
 * new one only when all are busy in callbacks) and is joined when the
 * broker closes. mu guards everything below it. */
#include "plugin/plugin_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "plugin.pb-c.h"
#include "transport/transport.h"

/* grpc_broker.go: Dial's and timeoutWait's 5 s. */
#define CONN_INFO_TIMEOUT_MS 5000
/* The address of a brokered listener fits a ConnInfo easily. */
#define MAX_ADDRESS 512

struct pending { /* a ConnInfo (or knock ack) nobody has taken yet */
  struct pending *next;
  uint32_t id;
  int is_ack;   /* multiplexing: a knock's ack; address holds its error */
  int is_knock; /* multiplexing: the peer's knock for an id not served yet */
  char network[8];
  char *address;
  int64_t expires_ms;
};

struct brokered { /* a server we announced */
  struct brokered *next;
  uint32_t id;
  soupc_server *srv;
  char *unix_path;
};

struct dial_job { /* one asynchronous dial, queued for a dial thread */
  struct dial_job *next;
  uint32_t id;
  soupc_plugin_broker_dial_fn fn;
  void *user_data;
};

struct dial_thread { /* one thread of the dial pool */
  struct dial_thread *next;
  pthread_t thread;
};

struct outq { /* ConnInfos to send once the plugin's stream is there */
  struct outq *next;
  size_t len;
  uint8_t data[];
};

struct broker {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int is_host;
  soupc_client_stream *cstream; /* host: our end of StartStream */
  soupc_call *scall;            /* plugin: the host's StartStream, or NULL */
  struct outq *out_head, *out_tail; /* plugin: sends before scall */
  struct pending *pending;
  struct brokered *servers;
  /* The dial pool: jobs in order; free_threads counts threads not inside a
   * callback, kept >= the queued jobs so that no dial waits behind another
   * one's callback. pool_cv wakes them; they exit once closed and drained. */
  struct dial_job *jobs_head, *jobs_tail;
  struct dial_thread *threads;
  int free_threads;
  pthread_cond_t pool_cv;
  uint32_t next_id;
  int closed;           /* no more dials or servers */
  char closed_why[160]; /* why the stream ended, for Dial's error */
  /* Brokered TLS: ours and the peer's PEM, or all NULL for h2c. */
  char *cert_pem, *key_pem, *peer_cert_pem;
  /* Made from them at first use, once per session (mu): every brokered
   * server and dial shares them, so the PEM is parsed once and TLS
   * sessions resume instead of a full handshake per connection. */
  soupc_tls_context *server_tls, *client_tls;
  char network[8]; /* of our listeners: the main connection's */
  char *socket_dir;
  /* Plugin: PLUGIN_UNIX_SOCKET_GROUP, which go-plugin (>= 1.5) applies to
   * brokered listeners as to the main one; NULL when unset. */
  char *socket_group;
  int min_port, max_port;
  /* Multiplexing: brokered connections are yamux streams over the main
   * connection, routed by knocks (go-plugin's muxDial / listenForKnocks). */
  struct plugin_mux *mux;
  pthread_mutex_t dial_mu; /* one knock-and-dial at a time, as Go's */
};

static char *dup_or_null(const char *s, int *failed) {
  char *d;

  if (s == NULL) {
    return NULL;
  }
  d = soupc__strdup(s);
  if (d == NULL) {
    *failed = 1;
  }
  return d;
}

static struct broker *broker_alloc(int is_host, const char *network,
                                   const char *cert, const char *key,
                                   const char *peer_cert,
                                   const char *socket_dir) {
  struct broker *b = soupc__calloc(1, sizeof(*b));
  int failed = 0;

  if (b == NULL) {
    return NULL;
  }
  pthread_mutex_init(&b->mu, NULL);
  pthread_cond_init(&b->cv, NULL);
  pthread_cond_init(&b->pool_cv, NULL);
  pthread_mutex_init(&b->dial_mu, NULL);
  b->is_host = is_host;
  snprintf(b->network, sizeof(b->network), "%s",
           strcmp(network, "tcp") == 0 ? "tcp" : "unix");
  if (cert != NULL && key != NULL) {
    b->cert_pem = dup_or_null(cert, &failed);
    b->key_pem = dup_or_null(key, &failed);
    b->peer_cert_pem = dup_or_null(peer_cert, &failed);
  }
  b->socket_dir = dup_or_null(socket_dir, &failed);
  if (failed) {
    soupc__broker_free(b);
    return NULL;
  }
  return b;
}

/* ---- receiving ConnInfo ---- */

static void drop_expired(struct broker *b, int64_t now) {
  struct pending **pp = &b->pending;

  while (*pp != NULL) {
    struct pending *p = *pp;

    if (p->expires_ms <= now) {
      *pp = p->next;
      soupc__free(p->address);
      soupc__free(p);
    } else {
      pp = &p->next;
    }
  }
}

static int send_conn_info(struct broker *b, uint32_t id, const char *network,
                          const char *address);
static int send_knock(struct broker *b, uint32_t id, int ack,
                      const char *error);

/* Queues @p p (taken by Dial, or by AcceptAndServe for a held knock). */
static void add_pending(struct broker *b, struct pending *p) {
  pthread_mutex_lock(&b->mu);
  drop_expired(b, soupc__plugin_now_ms());
  p->next = b->pending;
  b->pending = p;
  pthread_cond_broadcast(&b->cv);
  pthread_mutex_unlock(&b->mu);
}

static struct pending *pending_new(uint32_t id, const char *text) {
  struct pending *p = soupc__calloc(1, sizeof(*p));

  if (p != NULL) {
    p->address = soupc__strdup(text != NULL ? text : "");
    if (p->address == NULL) {
      soupc__free(p);
      return NULL;
    }
    p->id = id;
    p->expires_ms = soupc__plugin_now_ms() + CONN_INFO_TIMEOUT_MS;
  }
  return p;
}

/* The peer knocked for @p id and we serve it: the next inbound stream is
 * that server's, then the ack lets the peer open it. @return 0, or -1 if
 * nothing serves @p id yet. */
static int answer_knock(struct broker *b, uint32_t id) {
  struct brokered *bs;
  char *path = NULL;
  int rv;

  pthread_mutex_lock(&b->mu);
  for (bs = b->servers; bs != NULL; bs = bs->next) {
    if (bs->id == id) {
      path = soupc__strdup(bs->unix_path);
      break;
    }
  }
  pthread_mutex_unlock(&b->mu);
  if (bs == NULL) {
    return -1;
  }
  rv = path != NULL ? soupc__mux_expect(b->mux, path) : SOUPC_ERR_NOMEM;
  soupc__free(path);
  (void)send_knock(b, id, 1, rv == 0 ? NULL : "out of memory");
  return 0;
}

/* go-plugin >= 1.6 knocks (ConnInfo.knock): a request to dial one of our
 * ids, or the ack of ours. */
static void recv_knock(struct broker *b, const Plugin__ConnInfo *ci) {
  const Plugin__ConnInfo__Knock *k = ci->knock;
  struct pending *p;

  if (b->mux == NULL) {
    soupc_log(SOUPC_LOG_WARN, "plugin.broker",
              "ignoring a multiplexing knock for id %u: this connection "
              "is not multiplexed",
              ci->service_id);
    return;
  }
  if (!k->knock) {
    soupc_log(SOUPC_LOG_WARN, "plugin.broker",
              "ignoring a knock message for id %u with knock=false",
              ci->service_id);
    return;
  }
  if (!k->ack) {
    if (answer_knock(b, ci->service_id) == 0) {
      return;
    }
    /* Not served yet: like go-plugin, hold it for AcceptAndServe (the
     * dialer gives up after 5 s). */
    p = pending_new(ci->service_id, NULL);
    if (p != NULL) {
      p->is_knock = 1;
      add_pending(b, p);
    }
    return;
  }
  p = pending_new(ci->service_id, k->error);
  if (p != NULL) {
    p->is_ack = 1;
    add_pending(b, p);
  }
}

/* Records one ConnInfo. @return 0, or SOUPC_ERR_INVALID_ARGUMENT for bytes
 * that are not a ConnInfo. */
static int recv_conn_info(struct broker *b, const uint8_t *msg, size_t len) {
  Plugin__ConnInfo *ci;
  struct pending *p;

  ci = plugin__conn_info__unpack(&soupc__plugin_pb_allocator, len, msg);
  if (ci == NULL) {
    soupc_log(SOUPC_LOG_WARN, "plugin.broker",
              "malformed plugin.ConnInfo (%zu bytes) on the broker stream",
              len);
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  if (ci->knock != NULL) {
    recv_knock(b, ci);
    plugin__conn_info__free_unpacked(ci, &soupc__plugin_pb_allocator);
    return 0;
  }
  p = pending_new(ci->service_id, ci->address);
  if (p != NULL) {
    snprintf(p->network, sizeof(p->network), "%s",
             ci->network != NULL ? ci->network : "");
    add_pending(b, p);
  }
  plugin__conn_info__free_unpacked(ci, &soupc__plugin_pb_allocator);
  return 0;
}

static void mark_closed(struct broker *b, const char *why) {
  pthread_mutex_lock(&b->mu);
  if (!b->closed) {
    b->closed = 1;
    snprintf(b->closed_why, sizeof(b->closed_why), "%s", why);
  }
  pthread_cond_broadcast(&b->cv);
  pthread_cond_broadcast(&b->pool_cv);
  pthread_mutex_unlock(&b->mu);
}

/* Host: the client stream's callbacks, on the channel's I/O thread. */
static void host_message(soupc_client_stream *stream, const uint8_t *msg,
                         size_t len, void *user_data) {
  (void)stream;
  (void)recv_conn_info(user_data, msg, len);
}

static void host_closed(soupc_client_stream *stream, const soupc_status *status,
                        void *user_data) {
  char why[160];

  (void)stream;
  snprintf(why, sizeof(why), "broker closed (%s%s%.100s)",
           soupc_grpc_code_name(status->code),
           status->message[0] != '\0' ? ": " : "", status->message);
  mark_closed(user_data, why);
}

/* Plugin: StartStream's handlers, on the worker thread of the host's
 * connection. */
static void plugin_start(soupc_call *call, void *user_data) {
  struct broker *b = user_data;
  struct outq *q;
  soupc_call *old;
  int refuse;

  pthread_mutex_lock(&b->mu);
  refuse = b->closed;
  old = refuse ? NULL : b->scall;
  if (!refuse) {
    b->scall = call;
    /* Sends that came before the stream, in order. */
    while ((q = b->out_head) != NULL) {
      b->out_head = q->next;
      (void)soupc_call_send(call, q->data, q->len);
      soupc__free(q);
    }
    b->out_tail = NULL;
  }
  pthread_mutex_unlock(&b->mu);
  if (refuse) {
    soupc_call_finish(call, SOUPC_GRPC_UNAVAILABLE, "plugin is stopping");
  }
  if (old != NULL) {
    /* go-plugin serves one StartStream; a second one takes over. */
    soupc_call_finish(old, SOUPC_GRPC_OK, NULL);
  }
}

/* @return non-zero if @p call was ours (the caller now finishes it). */
static int plugin_release(struct broker *b, soupc_call *call) {
  int mine;

  pthread_mutex_lock(&b->mu);
  mine = b->scall == call;
  if (mine) {
    b->scall = NULL;
  }
  pthread_mutex_unlock(&b->mu);
  return mine;
}

static void plugin_message(soupc_call *call, const uint8_t *msg, size_t len,
                           void *user_data) {
  struct broker *b = user_data;

  if (recv_conn_info(b, msg, len) != 0 && plugin_release(b, call)) {
    /* Go's stream.Recv fails on such bytes and StartStream returns; we
     * say why. Everything else keeps serving. */
    soupc_call_finish(call, SOUPC_GRPC_INVALID_ARGUMENT,
                      "malformed plugin.ConnInfo on the broker stream");
  }
}

static void plugin_half_close(soupc_call *call, void *user_data) {
  if (plugin_release(user_data, call)) {
    soupc_call_finish(call, SOUPC_GRPC_OK, NULL);
  }
}

static void plugin_cancel(soupc_call *call, void *user_data) {
  if (plugin_release(user_data, call)) {
    soupc_call_finish(call, SOUPC_GRPC_CANCELLED, "cancelled");
  }
}

/* ---- sending ConnInfo ---- */

/* Sends one packed ConnInfo on the broker stream (queued on the plugin
 * until the host opens it). */
static int send_packed(struct broker *b, const uint8_t *buf, size_t n) {
  int rv = 0;

  if (b->is_host) {
    return soupc_client_stream_send(b->cstream, buf, n) == 0 ? 0
                                                             : SOUPC_ERR_CLOSED;
  }
  pthread_mutex_lock(&b->mu);
  if (b->closed) {
    rv = SOUPC_ERR_CLOSED;
  } else if (b->scall != NULL) {
    rv = soupc_call_send(b->scall, buf, n) == 0 ? 0 : SOUPC_ERR_CLOSED;
  } else {
    struct outq *q = soupc__malloc(sizeof(*q) + n);

    if (q == NULL) {
      rv = SOUPC_ERR_NOMEM;
    } else {
      q->next = NULL;
      q->len = n;
      memcpy(q->data, buf, n);
      if (b->out_tail != NULL) {
        b->out_tail->next = q;
      } else {
        b->out_head = q;
      }
      b->out_tail = q;
    }
  }
  pthread_mutex_unlock(&b->mu);
  return rv;
}

static int send_conn_info(struct broker *b, uint32_t id, const char *network,
                          const char *address) {
  Plugin__ConnInfo ci = PLUGIN__CONN_INFO__INIT;
  uint8_t buf[MAX_ADDRESS + 64];
  size_t n;

  ci.service_id = id;
  ci.network = (char *)network;
  ci.address = (char *)address;
  if (plugin__conn_info__get_packed_size(&ci) > sizeof(buf)) {
    return SOUPC_ERR_TOO_LARGE;
  }
  n = plugin__conn_info__pack(&ci, buf);
  return send_packed(b, buf, n);
}

static int send_knock(struct broker *b, uint32_t id, int ack,
                      const char *error) {
  Plugin__ConnInfo ci = PLUGIN__CONN_INFO__INIT;
  Plugin__ConnInfo__Knock k = PLUGIN__CONN_INFO__KNOCK__INIT;
  uint8_t buf[MAX_ADDRESS + 64];
  size_t n;

  k.knock = 1;
  k.ack = ack;
  k.error = (char *)(error != NULL ? error : "");
  ci.service_id = id;
  ci.knock = &k;
  if (plugin__conn_info__get_packed_size(&ci) > sizeof(buf)) {
    return SOUPC_ERR_TOO_LARGE;
  }
  n = plugin__conn_info__pack(&ci, buf);
  return send_packed(b, buf, n);
}

/* Takes a held knock for @p id. @return non-zero if there was one. */
static int take_held_knock(struct broker *b, uint32_t id,
                           struct pending **out) {
  struct pending **pp;

  pthread_mutex_lock(&b->mu);
  drop_expired(b, soupc__plugin_now_ms());
  for (pp = &b->pending; *pp != NULL; pp = &(*pp)->next) {
    if ((*pp)->id == id && (*pp)->is_knock) {
      *out = *pp;
      *pp = (*pp)->next;
      pthread_mutex_unlock(&b->mu);
      return 1;
    }
  }
  pthread_mutex_unlock(&b->mu);
  return 0;
}

/* ---- public: ids, AcceptAndServe ---- */

uint32_t soupc_plugin_broker_next_id(soupc_plugin_broker *pb) {
  struct broker *b = (struct broker *)pb;
  uint32_t id;

  pthread_mutex_lock(&b->mu);
  id = ++b->next_id;
  pthread_mutex_unlock(&b->mu);
  return id;
}

/* A fresh listener on the main connection's network (go-plugin's
 * serverListener: unix, in the socket directory, with the socket group). */
static int broker_listen(struct broker *b, struct brokered *bs, char *addr,
                         size_t cap, char *text, size_t text_cap,
                         soupc_status *st) {
  int fd, port = 0;

  /* Multiplexed: only the bridge connects here, on a private socket. */
  if (strcmp(b->network, "unix") == 0 || b->mux != NULL) {
    fd = soupc__plugin_listen_unix(
        &bs->unix_path,
        b->socket_dir != NULL ? b->socket_dir : soupc__plugin_socket_dir(),
        b->mux != NULL ? NULL : b->socket_group, st);
    if (fd >= 0) {
      snprintf(addr, cap, "%s", bs->unix_path);
      snprintf(text, text_cap, "unix:%s", bs->unix_path);
    }
    return fd;
  }
  fd = soupc__plugin_listen_tcp(&port, b->min_port, b->max_port, st);
  if (fd >= 0) {
    snprintf(addr, cap, "127.0.0.1:%d", port);
    snprintf(text, text_cap, "127.0.0.1:%d", port);
  }
  return fd;
}

static void brokered_free(struct brokered *bs) {
  if (bs->srv != NULL) {
    soupc_server_shutdown(bs->srv, 0);
    soupc_server_wait(bs->srv);
    soupc_server_free(bs->srv);
  }
  if (bs->unix_path != NULL) {
    unlink(bs->unix_path);
  }
  soupc__free(bs->unix_path);
  soupc__free(bs);
}

/* The broker's shared TLS context for servers (@p is_server) or dials,
 * made on first use: ours presented, the peer's the only root and the
 * required client CA. @return 0 with *out (borrowed), or an error. */
static int shared_tls(struct broker *b, int is_server,
                      const soupc_tls_context **out, soupc_status *st) {
  soupc_tls_options to = SOUPC_TLS_OPTIONS_INIT;
  soupc_tls_context **slot = is_server ? &b->server_tls : &b->client_tls;
  int rv = 0;

  pthread_mutex_lock(&b->mu);
  if (*slot == NULL) {
    to.cert_pem = b->cert_pem;
    to.key_pem = b->key_pem;
    to.ca_pem = b->peer_cert_pem; /* RequireAndVerifyClientCert / RootCAs */
    rv = soupc_tls_context_new(slot, &to, is_server, st);
  }
  *out = *slot;
  pthread_mutex_unlock(&b->mu);
  return rv;
}

/* The server for one id: TLS as the main connection, one worker that
 * accepts on its own loop (one thread per brokered service, and a new
 * connection is served where it was accepted). */
static int brokered_server_new(struct broker *b, struct brokered *bs,
                               soupc_status *st) {
  soupc_server_options so = SOUPC_SERVER_OPTIONS_INIT;
  int rv;

  so.workers = 1;
  if (b->cert_pem != NULL) {
    rv = shared_tls(b, 1, &so.tls_context, st);
    if (rv != 0) {
      return rv;
    }
  }
  rv = soupc_server_new(&bs->srv, &so, st);
  if (rv == 0) {
    rv = soupc__server_set_inline_accept(bs->srv);
  }
  return rv;
}

int soupc_plugin_broker_accept_and_serve(
    soupc_plugin_broker *pb, uint32_t id,
    soupc_plugin_broker_register_fn register_services, void *user_data,
    soupc_status *st) {
  struct broker *b = (struct broker *)pb;
  struct brokered *bs = soupc__calloc(1, sizeof(*bs));
  char addr[MAX_ADDRESS], text[MAX_ADDRESS + 8];
  int fd, rv;

  soupc_status_clear(st);
  if (bs == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  bs->id = id;
  rv = brokered_server_new(b, bs, st);
  if (rv == 0) {
    fd = broker_listen(b, bs, addr, sizeof(addr), text, sizeof(text), st);
    rv = fd < 0 ? fd : soupc_server_listen_fd(bs->srv, fd, text);
    if (fd >= 0 && rv != 0) {
      close(fd);
    }
  }
  if (rv == 0 && register_services != NULL) {
    rv = register_services(bs->srv, user_data);
    if (rv != 0 && st != NULL && st->message[0] == '\0') {
      soupc_status_set(st, soupc_err_to_grpc(rv),
                       "the brokered services failed to register: %s",
                       soupc_strerror(rv));
    }
  }
  if (rv == 0) {
    rv = soupc_server_start(bs->srv);
  }
  if (rv == 0 && b->mux == NULL) {
    rv = send_conn_info(b, id, b->network, addr);
    if (rv != 0) {
      soupc_status_set(st, SOUPC_GRPC_UNAVAILABLE, "broker closed");
    }
  }
  if (rv == 0) {
    pthread_mutex_lock(&b->mu);
    if (b->closed) {
      rv = SOUPC_ERR_CLOSED;
      soupc_status_set(st, SOUPC_GRPC_UNAVAILABLE, "broker closed");
    } else {
      bs->next = b->servers;
      b->servers = bs;
    }
    pthread_mutex_unlock(&b->mu);
  }
  if (rv == 0 && b->mux != NULL) {
    /* go-plugin's Accept sends nothing when multiplexing: the dialer
     * knocks. Knocks that came before us were held. */
    struct pending *held;

    while (take_held_knock(b, id, &held)) {
      soupc__free(held->address);
      soupc__free(held);
      (void)answer_knock(b, id);
    }
  }
  if (rv != 0) {
    if (st != NULL && st->message[0] == '\0') {
      soupc_status_set(st, soupc_err_to_grpc(rv), "%s", soupc_strerror(rv));
    }
    brokered_free(bs);
  }
  return rv;
}

int soupc_plugin_broker_close_id(soupc_plugin_broker *pb, uint32_t id) {
  struct broker *b = (struct broker *)pb;
  struct brokered **pp, *bs = NULL;

  pthread_mutex_lock(&b->mu);
  for (pp = &b->servers; *pp != NULL; pp = &(*pp)->next) {
    if ((*pp)->id == id) {
      bs = *pp;
      *pp = bs->next;
      break;
    }
  }
  pthread_mutex_unlock(&b->mu);
  if (bs == NULL) {
    return SOUPC_ERR_NOT_FOUND;
  }
  brokered_free(bs);
  return 0;
}

/* ---- public: Dial ---- */

/* Waits for the ConnInfo of @p id and takes it. @return 0 with *out (the
 * caller frees it), SOUPC_ERR_DEADLINE or SOUPC_ERR_CLOSED with @p st set.
 */
static int take_conn_info(struct broker *b, uint32_t id, int want_ack,
                          struct pending **out, soupc_status *st) {
  int64_t deadline = soupc__plugin_now_ms() + CONN_INFO_TIMEOUT_MS;
  int rv = SOUPC_ERR_DEADLINE;

  pthread_mutex_lock(&b->mu);
  for (;;) {
    struct pending **pp;
    struct timespec ts;
    int64_t left;

    drop_expired(b, soupc__plugin_now_ms());
    for (pp = &b->pending; *pp != NULL; pp = &(*pp)->next) {
      if ((*pp)->id == id && (*pp)->is_ack == want_ack && !(*pp)->is_knock) {
        *out = *pp;
        *pp = (*pp)->next;
        rv = 0;
        break;
      }
    }
    if (rv == 0 || b->closed) {
      break;
    }
    left = deadline - soupc__plugin_now_ms();
    if (left <= 0) {
      break;
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)(left / 1000);
    ts.tv_nsec += (long)(left % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&b->cv, &b->mu, &ts);
  }
  if (rv != 0 && b->closed) {
    rv = SOUPC_ERR_CLOSED;
    soupc_status_set(st, SOUPC_GRPC_UNAVAILABLE, "%s", b->closed_why);
  } else if (rv != 0 && want_ack) {
    /* go-plugin's texts. */
    soupc_status_set(st, SOUPC_GRPC_DEADLINE_EXCEEDED,
                     "timeout waiting for multiplexing knock handshake on id "
                     "%u",
                     id);
  } else if (rv != 0) {
    soupc_status_set(st, SOUPC_GRPC_DEADLINE_EXCEEDED,
                     "timeout waiting for connection info (service id %u)", id);
  }
  pthread_mutex_unlock(&b->mu);
  return rv;
}

/* TLS for a brokered dial, as go-plugin: our pair, the peer's cert as the
 * only root, name "localhost". @return 0, or SOUPC_ERR_TLS without the
 * peer's cert. */
static int dial_tls(struct broker *b, soupc_channel_options *co,
                    soupc_tls_options *to, soupc_status *st) {
  if (b->cert_pem == NULL) {
    return 0;
  }
  if (b->peer_cert_pem == NULL) {
    soupc_status_set(st, SOUPC_GRPC_FAILED_PRECONDITION,
                     "a brokered TLS dial needs the peer's certificate "
                     "(AutoMTLS); this plugin serves TLS without one");
    return SOUPC_ERR_TLS;
  }
  to->server_name = "localhost";
  co->tls = to;
  return shared_tls(b, 0, &co->tls_context, st);
}

/* go-plugin's muxDial: knock, wait for the ack, open a stream (our dial
 * listener turns the connection into one), all under dial_mu so that the
 * peer gives the stream to the id it acked. */
static int mux_dial(struct broker *b, uint32_t id, soupc_channel **out,
                    soupc_status *st) {
  soupc_channel_options co = SOUPC_CHANNEL_OPTIONS_INIT;
  soupc_tls_options to = SOUPC_TLS_OPTIONS_INIT;
  struct pending *ack = NULL;
  int rv;

  rv = dial_tls(b, &co, &to, st);
  if (rv != 0) {
    return rv;
  }
  pthread_mutex_lock(&b->dial_mu);
  rv = send_knock(b, id, 0, NULL);
  if (rv != 0) {
    soupc_status_set(st, SOUPC_GRPC_UNAVAILABLE,
                     "failed to knock before dialling id %u: broker closed",
                     id);
  } else {
    rv = take_conn_info(b, id, 1, &ack, st);
  }
  if (rv == 0 && ack->address[0] != '\0') {
    soupc_status_set(st, SOUPC_GRPC_UNAVAILABLE,
                     "failed to knock for id %u: %.300s", id, ack->address);
    rv = SOUPC_ERR_CONNECT;
  }
  if (rv == 0) {
    rv = soupc_channel_open(out, soupc__mux_dial_address(b->mux), &co, st);
  }
  pthread_mutex_unlock(&b->dial_mu);
  if (ack != NULL) {
    soupc__free(ack->address);
    soupc__free(ack);
  }
  return rv;
}

int soupc_plugin_broker_dial(soupc_plugin_broker *pb, uint32_t id,
                             soupc_channel **out, soupc_status *st) {
  struct broker *b = (struct broker *)pb;
  soupc_channel_options co = SOUPC_CHANNEL_OPTIONS_INIT;
  soupc_tls_options to = SOUPC_TLS_OPTIONS_INIT;
  struct pending *p = NULL;
  char *target;
  size_t cap;
  int rv;

  soupc_status_clear(st);
  if (b->mux != NULL) {
    return mux_dial(b, id, out, st);
  }
  rv = take_conn_info(b, id, 0, &p, st);
  if (rv != 0) {
    return rv;
  }
  if (strcmp(p->network, "unix") != 0 && strcmp(p->network, "tcp") != 0) {
    /* go-plugin: "unknown address type". */
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "unknown address type: %.200s (network \"%s\")",
                     p->address, p->network);
    rv = SOUPC_ERR_INVALID_ARGUMENT;
    goto done;
  }
  cap = strlen(p->address) + 6;
  target = soupc__malloc(cap);
  if (target == NULL) {
    rv = SOUPC_ERR_NOMEM;
    goto done;
  }
  snprintf(target, cap, "%s%s", p->network[0] == 'u' ? "unix:" : "",
           p->address);
  rv = dial_tls(b, &co, &to, st);
  if (rv != 0) {
    soupc__free(target);
    goto done;
  }
  rv = soupc_channel_open(out, target, &co, st);
  soupc__free(target);

done:
  soupc__free(p->address);
  soupc__free(p);
  return rv;
}

/* A dial thread: runs queued dials (the application's callbacks may
 * block) until the broker is closed and the queue is empty. */
static void *dial_main(void *arg) {
  struct broker *b = arg;

  pthread_mutex_lock(&b->mu);
  for (;;) {
    struct dial_job *job = b->jobs_head;
    soupc_channel *ch = NULL;
    soupc_status st;

    if (job == NULL) {
      if (b->closed) {
        break;
      }
      pthread_cond_wait(&b->pool_cv, &b->mu);
      continue;
    }
    b->jobs_head = job->next;
    if (b->jobs_head == NULL) {
      b->jobs_tail = NULL;
    }
    b->free_threads--;
    pthread_mutex_unlock(&b->mu);
    if (soupc_plugin_broker_dial((soupc_plugin_broker *)b, job->id, &ch, &st) !=
        0) {
      ch = NULL;
    }
    job->fn(ch, &st, job->user_data);
    soupc__free(job);
    pthread_mutex_lock(&b->mu);
    b->free_threads++;
  }
  pthread_mutex_unlock(&b->mu);
  return NULL;
}

/* Counts the queued jobs. mu held. */
static int queued_jobs(const struct broker *b) {
  const struct dial_job *j;
  int n = 0;

  for (j = b->jobs_head; j != NULL; j = j->next) {
    n++;
  }
  return n;
}

int soupc_plugin_broker_dial_async(soupc_plugin_broker *pb, uint32_t id,
                                   soupc_plugin_broker_dial_fn fn,
                                   void *user_data) {
  struct broker *b = (struct broker *)pb;
  struct dial_job *job = soupc__calloc(1, sizeof(*job));
  struct dial_thread *t = NULL;
  int rv = 0;

  if (job == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  job->id = id;
  job->fn = fn;
  job->user_data = user_data;
  pthread_mutex_lock(&b->mu);
  if (b->closed) {
    rv = SOUPC_ERR_CLOSED;
  } else if (b->free_threads <= queued_jobs(b)) {
    /* Every thread is taken (in a callback, or by a queued job): one more,
     * so this dial never waits behind another dial's callback. */
    t = soupc__calloc(1, sizeof(*t));
    if (t == NULL || pthread_create(&t->thread, NULL, dial_main, b) != 0) {
      soupc__free(t);
      rv = SOUPC_ERR_NOMEM;
    } else {
      t->next = b->threads;
      b->threads = t;
      b->free_threads++;
    }
  }
  if (rv == 0) {
    if (b->jobs_tail != NULL) {
      b->jobs_tail->next = job;
    } else {
      b->jobs_head = job;
    }
    b->jobs_tail = job;
    pthread_cond_signal(&b->pool_cv);
  }
  pthread_mutex_unlock(&b->mu);
  if (rv != 0) {
    soupc__free(job);
  }
  return rv;
}

/* ---- creation and teardown ---- */

int soupc__broker_new_host(struct broker **out, soupc_channel *ch,
                           const soupc_plugin_handshake *hs, const char *cert,
                           const char *key, const char *socket_dir,
                           soupc_status *st) {
  struct broker *b =
      broker_alloc(1, hs->network, cert, key, hs->cert_pem, socket_dir);

  if (b == NULL) {
    soupc_status_set(st, SOUPC_GRPC_RESOURCE_EXHAUSTED, "out of memory");
    return SOUPC_ERR_NOMEM;
  }
  /* go-plugin's background StartStream. A plugin without a broker
   * (UNIMPLEMENTED) only costs brokered features. */
  if (soupc_client_stream_open(&b->cstream, ch,
                               "/plugin.GRPCBroker/StartStream", host_message,
                               host_closed, b) != 0) {
    mark_closed(b, "broker closed (the channel is gone)");
  }
  *out = b;
  return 0;
}

int soupc__broker_new_plugin(struct broker **out, const char *network,
                             const char *cert, const char *key,
                             const char *host_cert, int min_port,
                             int max_port) {
  struct broker *b = broker_alloc(0, network, cert, key, host_cert, NULL);
  const char *group = getenv("PLUGIN_UNIX_SOCKET_GROUP");

  if (b == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  if (group != NULL && group[0] != '\0') {
    b->socket_group = soupc__strdup(group);
    if (b->socket_group == NULL) {
      soupc__broker_free(b);
      return SOUPC_ERR_NOMEM;
    }
  }
  b->min_port = min_port;
  b->max_port = max_port;
  *out = b;
  return 0;
}

void soupc__broker_set_mux(struct broker *b, struct plugin_mux *mux) {
  b->mux = mux;
}

int soupc__broker_register(struct broker *b, soupc_server *srv) {
  soupc_stream_handlers h = SOUPC_STREAM_HANDLERS_INIT;

  h.on_start = plugin_start;
  h.on_message = plugin_message;
  h.on_half_close = plugin_half_close;
  h.on_cancel = plugin_cancel;
  return soupc_server_add_stream(srv, "/plugin.GRPCBroker/StartStream", &h, b);
}

void soupc__broker_close(struct broker *b) {
  struct dial_thread *threads;
  struct brokered *servers;
  soupc_call *call;

  if (b == NULL) {
    return;
  }
  mark_closed(b, "broker closed");
  if (b->cstream != NULL) {
    soupc_client_stream_free(b->cstream);
    b->cstream = NULL;
  }
  pthread_mutex_lock(&b->mu);
  call = b->scall;
  b->scall = NULL;
  threads = b->threads;
  b->threads = NULL;
  servers = b->servers;
  b->servers = NULL;
  pthread_mutex_unlock(&b->mu);
  if (call != NULL) {
    soupc_call_finish(call, SOUPC_GRPC_OK, NULL);
  }
  /* Queued and running asynchronous dials see "broker closed" at once;
   * their callbacks are the application's and finish on their own, then
   * the dial threads, woken by mark_closed(), leave. */
  while (threads != NULL) {
    struct dial_thread *next = threads->next;

    pthread_join(threads->thread, NULL);
    soupc__free(threads);
    threads = next;
  }
  while (servers != NULL) {
    struct brokered *next = servers->next;

    brokered_free(servers);
    servers = next;
  }
}

void soupc__broker_free(struct broker *b) {
  if (b == NULL) {
    return;
  }
  soupc__broker_close(b);
  while (b->pending != NULL) {
    struct pending *next = b->pending->next;

    soupc__free(b->pending->address);
    soupc__free(b->pending);
    b->pending = next;
  }
  while (b->out_head != NULL) {
    struct outq *next = b->out_head->next;

    soupc__free(b->out_head);
    b->out_head = next;
  }
  if (b->key_pem != NULL) {
    explicit_bzero(b->key_pem, strlen(b->key_pem));
  }
  soupc_tls_context_free(b->server_tls);
  soupc_tls_context_free(b->client_tls);
  soupc__free(b->cert_pem);
  soupc__free(b->key_pem);
  soupc__free(b->peer_cert_pem);
  soupc__free(b->socket_dir);
  soupc__free(b->socket_group);
  pthread_cond_destroy(&b->cv);
  pthread_cond_destroy(&b->pool_cv);
  pthread_mutex_destroy(&b->mu);
  pthread_mutex_destroy(&b->dial_mu);
  soupc__free(b);
}
