/* go-plugin's gRPC multiplexing (PLUGIN_MULTIPLEX_GRPC, go-plugin >= 1.6,
 * internal/grpcmux): every gRPC connection between host and plugin is a
 * yamux stream over the one connection the host makes to the plugin's
 * address. The host is the yamux client, the plugin the server.
 *
 * Streams are joined to sockets by src/yamux's bridge:
 * - outbound: a dial listener (a private unix socket) of ours; whatever
 *   connects to it (soupc_channel_open() on soupc__mux_dial_address())
 *   gets a new stream;
 * - inbound: a stream is connected to the socket of the server it is meant
 *   for. go-plugin routes by "knocks" on the broker stream: a dialer
 *   knocks with the service id, the other side acks, then the dialer opens
 *   the stream, so the next inbound stream belongs to the id acked first
 *   (soupc__mux_expect()). A stream nobody knocked for goes to the main
 *   server (plugin side; go-plugin's default listener) or is refused (host
 *   side, which has none). */
#include "plugin/plugin_int.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/alloc.h"
#include "yamux/yamux.h"

/* Inbound streams waiting for their target: a FIFO of socket paths. */
struct expect {
  struct expect *next;
  char *path;
};

struct plugin_mux {
  int is_client;
  char *dial_path; /* our dial listener */
  char dial_address[160];
  char *default_target; /* plugin: the main server's socket */
  pthread_mutex_t mu;
  struct expect *head, *tail;
  struct yamux_bridge *bridge;
  int listen_fd; /* the dial listener, until the bridge owns it */
  /* Plugin: the thread that takes the host's one connection on main_fd. */
  int main_fd, stop_pipe[2];
  pthread_t acceptor;
  int acceptor_started;
};

static int connect_unix(const char *path) {
  struct sockaddr_un a;
  int fd;

  if (strlen(path) >= sizeof(a.sun_path)) {
    return -1;
  }
  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return -1;
  }
  memset(&a, 0, sizeof(a));
  a.sun_family = AF_UNIX;
  memcpy(a.sun_path, path, strlen(path) + 1);
  if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* "HOST:PORT" (a go-plugin TCP address is always numeric). */
static int connect_tcp(const char *address) {
  struct addrinfo hints, *res = NULL;
  const char *colon = strrchr(address, ':');
  char host[128];
  int fd = -1;

  if (colon == NULL || (size_t)(colon - address) >= sizeof(host)) {
    errno = EINVAL;
    return -1;
  }
  memcpy(host, address, (size_t)(colon - address));
  host[colon - address] = '\0';
  memset(&hints, 0, sizeof(hints));
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  if (getaddrinfo(host[0] == '[' ? host + 1 : host, colon + 1, &hints, &res) !=
      0) {
    errno = EINVAL;
    return -1;
  }
  fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  return fd;
}

/* The bridge's accept callback: the oldest knocked target, else the
 * default one. */
static int route(uint32_t id, void *user_data) {
  struct plugin_mux *m = user_data;
  struct expect *e;
  int fd = -1;

  pthread_mutex_lock(&m->mu);
  e = m->head;
  if (e != NULL) {
    m->head = e->next;
    if (m->head == NULL) {
      m->tail = NULL;
    }
  }
  pthread_mutex_unlock(&m->mu);
  if (e != NULL) {
    fd = connect_unix(e->path);
    if (fd < 0) {
      soupc_log(SOUPC_LOG_WARN, "plugin.mux",
                "multiplexed stream %u: cannot reach its brokered server "
                "at %s: %s",
                id, e->path, strerror(errno));
    }
    soupc__free(e->path);
    soupc__free(e);
  } else if (m->default_target != NULL) {
    fd = connect_unix(m->default_target);
  } else {
    soupc_log(SOUPC_LOG_WARN, "plugin.mux",
              "multiplexed stream %u arrived without a knock; refused", id);
  }
  return fd;
}

int soupc__mux_new(struct plugin_mux **out, int is_client, const char *dir,
                   const char *default_target, soupc_status *st) {
  struct plugin_mux *m = soupc__calloc(1, sizeof(*m));
  int fd;

  if (m == NULL) {
    soupc_status_set(st, SOUPC_GRPC_RESOURCE_EXHAUSTED, "out of memory");
    return SOUPC_ERR_NOMEM;
  }
  pthread_mutex_init(&m->mu, NULL);
  m->is_client = is_client;
  m->listen_fd = -1;
  m->main_fd = -1;
  m->stop_pipe[0] = m->stop_pipe[1] = -1;
  if (default_target != NULL) {
    m->default_target = soupc__strdup(default_target);
    if (m->default_target == NULL) {
      soupc__mux_free(m);
      soupc_status_set(st, SOUPC_GRPC_RESOURCE_EXHAUSTED, "out of memory");
      return SOUPC_ERR_NOMEM;
    }
  }
  fd = soupc__plugin_listen_unix(&m->dial_path, dir, NULL, st);
  if (fd < 0) {
    soupc__mux_free(m);
    return fd;
  }
  /* Only we connect here: nobody else may open streams to the peer. */
  (void)chmod(m->dial_path, 0600);
  snprintf(m->dial_address, sizeof(m->dial_address), "unix:%s", m->dial_path);
  /* Until the bridge owns it. */
  m->listen_fd = fd;
  *out = m;
  return 0;
}

const char *soupc__mux_dial_address(const struct plugin_mux *m) {
  return m->dial_address;
}

static int start_bridge(struct plugin_mux *m, int conn) {
  int dial_fd = m->listen_fd, rv;

  m->listen_fd = -1;
  rv = soupc__yamux_bridge_start(&m->bridge, conn, m->is_client, dial_fd, route,
                                 m, "plugin.mux");
  if (rv != 0) {
    m->bridge = NULL;
  }
  return rv;
}

/* Plugin: go-plugin's GRPCServerMuxer takes exactly one connection, the
 * host's; it carries everything. */
static void *acceptor_main(void *arg) {
  struct plugin_mux *m = arg;

  for (;;) {
    struct pollfd pfd[2] = {{m->stop_pipe[0], POLLIN, 0},
                            {m->main_fd, POLLIN, 0}};
    int conn;

    if (poll(pfd, 2, -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      return NULL;
    }
    if (pfd[0].revents != 0) {
      return NULL;
    }
    conn = accept4(m->main_fd, NULL, NULL, SOCK_CLOEXEC);
    if (conn < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == ECONNABORTED) {
        continue;
      }
      return NULL;
    }
    /* One connection, as go-plugin's muxer: later ones are refused at
     * once instead of waiting in the backlog. */
    close(m->main_fd);
    m->main_fd = -1;
    if (start_bridge(m, conn) != 0) {
      soupc_log(SOUPC_LOG_ERROR, "plugin.mux",
                "cannot start the multiplexed session");
    } else {
      soupc_log(SOUPC_LOG_DEBUG, "plugin.mux",
                "the host connected; multiplexing its gRPC connections");
    }
    return NULL;
  }
}

int soupc__mux_serve(struct plugin_mux *m, int listen_fd, soupc_status *st) {
  m->main_fd = listen_fd;
  if (pipe2(m->stop_pipe, O_CLOEXEC) != 0 ||
      pthread_create(&m->acceptor, NULL, acceptor_main, m) != 0) {
    soupc_status_set(st, SOUPC_GRPC_INTERNAL,
                     "cannot start the multiplexing acceptor: %s",
                     strerror(errno));
    return SOUPC_ERR_IO;
  }
  m->acceptor_started = 1;
  return 0;
}

int soupc__mux_connect(struct plugin_mux *m, const char *network,
                       const char *address, soupc_status *st) {
  int fd;

  if (strcmp(network, "unix") == 0) {
    fd = connect_unix(address);
  } else {
    fd = connect_tcp(address);
  }
  if (fd < 0) {
    soupc_status_set(st, SOUPC_GRPC_UNAVAILABLE,
                     "cannot connect to the plugin at %.200s: %s", address,
                     strerror(errno));
    return SOUPC_ERR_CONNECT;
  }
  if (start_bridge(m, fd) != 0) {
    soupc_status_set(st, SOUPC_GRPC_INTERNAL,
                     "cannot start the multiplexed session");
    return SOUPC_ERR_IO;
  }
  return 0;
}

int soupc__mux_expect(struct plugin_mux *m, const char *target_path) {
  struct expect *e = soupc__calloc(1, sizeof(*e));

  if (e == NULL || (e->path = soupc__strdup(target_path)) == NULL) {
    soupc__free(e);
    return SOUPC_ERR_NOMEM;
  }
  pthread_mutex_lock(&m->mu);
  if (m->tail != NULL) {
    m->tail->next = e;
  } else {
    m->head = e;
  }
  m->tail = e;
  pthread_mutex_unlock(&m->mu);
  return 0;
}

void soupc__mux_free(struct plugin_mux *m) {
  if (m == NULL) {
    return;
  }
  if (m->acceptor_started) {
    if (write(m->stop_pipe[1], "s", 1) < 0) {
      /* the acceptor is gone already */
    }
    pthread_join(m->acceptor, NULL);
  }
  soupc__yamux_bridge_stop(m->bridge);
  for (int i = 0; i < 2; i++) {
    if (m->stop_pipe[i] >= 0) {
      close(m->stop_pipe[i]);
    }
  }
  if (m->listen_fd >= 0) {
    close(m->listen_fd);
  }
  if (m->main_fd >= 0) {
    close(m->main_fd);
  }
  if (m->dial_path != NULL) {
    unlink(m->dial_path);
  }
  while (m->head != NULL) {
    struct expect *next = m->head->next;

    soupc__free(m->head->path);
    soupc__free(m->head);
    m->head = next;
  }
  soupc__free(m->dial_path);
  soupc__free(m->default_target);
  pthread_mutex_destroy(&m->mu);
  soupc__free(m);
}
