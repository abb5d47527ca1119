/* A yamux session on a thread, each stream joined to a socket
 * (yamux.h, "bridge"). go-plugin carries whole gRPC connections in yamux
 * streams; joining each stream to an ordinary socket lets soup-c's
 * transport serve and dial them unchanged.
 *
 * One thread polls the connection, the wake pipe, the optional dial
 * listener and every stream's socket. Flow control maps onto poll: a
 * stream's socket is read only while its send window is open, and the
 * peer's data stays in the session (counted against the receive window)
 * until the socket takes it. A stream ends when both directions have ended
 * (the socket's EOF became our FIN, the peer's FIN became shutdown(SHUT_WR))
 * or on a reset either way. When the connection ends or breaks the
 * protocol, every stream's socket is closed, so whoever sits on it sees an
 * ordinary disconnect. */
#include "yamux/yamux.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/alloc.h"

#define READ_CHUNK (64u * 1024u)
/* Stop reading the streams' sockets while this much output waits for the
 * connection (a peer that does not read). */
#define MAX_PENDING_OUTPUT ((size_t)4 * 1024 * 1024)
/* On stop, how long the GoAway and the last frames may take to leave. */
#define STOP_FLUSH_MS 200

struct bstream {
  struct bstream *next;
  uint32_t id;
  int fd;
  unsigned fd_eof : 1;  /* the socket said EOF: our FIN is sent */
  unsigned shut_wr : 1; /* the peer's FIN passed on as SHUT_WR */
};

struct yamux_bridge {
  struct yamux *y;
  int conn, dial_fd;
  int wake[2];
  pthread_t thread;
  int started; /* thread is running: join it */
  atomic_int alive;
  int saw_go_away;
  yamux_accept_fn on_accept;
  void *user_data;
  char module[32];
  struct bstream *streams;
  size_t nstreams;
  struct pollfd *pfds;
  size_t pfd_cap;
  uint8_t buf[READ_CHUNK];
};

static int set_nonblock(int fd) {
  int fl = fcntl(fd, F_GETFL);

  return fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ? -1 : 0;
}

static void add_stream(struct yamux_bridge *b, uint32_t id, int fd) {
  struct bstream *s = soupc__calloc(1, sizeof(*s));

  if (s == NULL || set_nonblock(fd) != 0) {
    soupc__free(s);
    close(fd);
    soupc__yamux_reset(b->y, id);
    soupc__yamux_release(b->y, id);
    return;
  }
  s->id = id;
  s->fd = fd;
  s->next = b->streams;
  b->streams = s;
  b->nstreams++;
}

static void drop_stream(struct yamux_bridge *b, struct bstream **pp) {
  struct bstream *s = *pp;

  *pp = s->next;
  b->nstreams--;
  close(s->fd);
  soupc__yamux_release(b->y, s->id);
  soupc__free(s);
}

/* Incoming streams go where on_accept says. */
static void accept_streams(struct yamux_bridge *b) {
  uint32_t id;

  while (soupc__yamux_accept(b->y, &id) == 0) {
    int fd = b->on_accept != NULL ? b->on_accept(id, b->user_data) : -1;

    if (fd < 0) {
      soupc_log(SOUPC_LOG_DEBUG, b->module,
                "yamux: refusing stream %u (nowhere to send it)", id);
      soupc__yamux_reset(b->y, id);
      soupc__yamux_release(b->y, id);
      continue;
    }
    add_stream(b, id, fd);
  }
}

/* A connection on the dial listener becomes an outbound stream. */
static void accept_dial(struct yamux_bridge *b) {
  int fd = accept4(b->dial_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
  uint32_t id;
  int rv;

  if (fd < 0) {
    return;
  }
  rv = soupc__yamux_open(b->y, &id);
  if (rv != 0) {
    soupc_log(SOUPC_LOG_WARN, b->module, "yamux: cannot open a stream: %s",
              soupc_strerror(rv));
    close(fd);
    return;
  }
  add_stream(b, id, fd);
}

/* Moves what the peer sent on @p s into its socket, and the end states
 * along. @return non-zero if the stream is over. */
static int service_stream(struct yamux_bridge *b, struct bstream *s) {
  struct yamux_stream_state st;
  const uint8_t *p;
  size_t n;

  if (soupc__yamux_stream_state(b->y, s->id, &st) != 0 || st.reset) {
    return 1;
  }
  while ((n = soupc__yamux_peek(b->y, s->id, &p)) > 0) {
    ssize_t w = send(s->fd, p, n, MSG_NOSIGNAL);

    if (w < 0) {
      if (errno == EAGAIN || errno == EINTR) {
        break;
      }
      soupc__yamux_reset(b->y, s->id); /* the local side went away */
      return 1;
    }
    soupc__yamux_consume(b->y, s->id, (size_t)w);
  }
  if (st.remote_fin && soupc__yamux_peek(b->y, s->id, &p) == 0 && !s->shut_wr) {
    shutdown(s->fd, SHUT_WR);
    s->shut_wr = 1;
  }
  return s->fd_eof && s->shut_wr;
}

/* The stream's socket is readable: data, EOF (our FIN) or an error (RST). */
static void read_stream(struct yamux_bridge *b, struct bstream *s) {
  struct yamux_stream_state st;
  ssize_t r;
  size_t cap;

  if (soupc__yamux_stream_state(b->y, s->id, &st) != 0 || st.send_window == 0) {
    return;
  }
  cap = st.send_window < sizeof(b->buf) ? st.send_window : sizeof(b->buf);
  r = read(s->fd, b->buf, cap);
  if (r > 0) {
    (void)soupc__yamux_write(b->y, s->id, b->buf, (size_t)r);
  } else if (r == 0) {
    s->fd_eof = 1;
    (void)soupc__yamux_close(b->y, s->id);
  } else if (errno != EAGAIN && errno != EINTR) {
    soupc__yamux_reset(b->y, s->id);
  }
}

/* Writes queued frames. @return 0, or -1 once the connection is broken. */
static int flush_conn(struct yamux_bridge *b) {
  const uint8_t *p;
  size_t n;

  while ((n = soupc__yamux_output(b->y, &p)) > 0) {
    ssize_t w = send(b->conn, p, n, MSG_NOSIGNAL);

    if (w < 0) {
      return errno == EAGAIN || errno == EINTR ? 0 : -1;
    }
    soupc__yamux_output_consume(b->y, (size_t)w);
  }
  return 0;
}

/* Reads from the connection. @return 0, or -1 when the session is over. */
static int read_conn(struct yamux_bridge *b) {
  ssize_t r = read(b->conn, b->buf, sizeof(b->buf));
  uint32_t code;
  int rv;

  if (r < 0) {
    if (errno == EAGAIN || errno == EINTR) {
      return 0;
    }
    soupc_log(SOUPC_LOG_DEBUG, b->module, "yamux: connection error: %s",
              strerror(errno));
    return -1;
  }
  if (r == 0) {
    soupc_log(SOUPC_LOG_DEBUG, b->module,
              "yamux: the peer closed the "
              "connection");
    return -1;
  }
  rv = soupc__yamux_feed(b->y, b->buf, (size_t)r);
  if (rv == SOUPC_ERR_PROTOCOL) {
    soupc_log(SOUPC_LOG_ERROR, b->module,
              "%s; sent GoAway(protocol error), closing the multiplexed "
              "connection",
              soupc__yamux_error(b->y));
    return -1;
  }
  if (rv != 0) {
    soupc_log(SOUPC_LOG_ERROR, b->module, "yamux: %s", soupc_strerror(rv));
    return -1;
  }
  if (soupc__yamux_remote_go_away(b->y, &code) && !b->saw_go_away) {
    b->saw_go_away = 1;
    soupc_log(code == SOUPC_YAMUX_GOAWAY_NORMAL ? SOUPC_LOG_DEBUG
                                                : SOUPC_LOG_WARN,
              b->module, "yamux: the peer sent GoAway(%s)",
              code == SOUPC_YAMUX_GOAWAY_NORMAL     ? "normal"
              : code == SOUPC_YAMUX_GOAWAY_PROTOCOL ? "protocol error"
                                                    : "internal error");
  }
  return 0;
}

static int ensure_pfds(struct yamux_bridge *b, size_t n) {
  struct pollfd *np;

  if (n <= b->pfd_cap) {
    return 0;
  }
  np = soupc__realloc(b->pfds, n * 2 * sizeof(*np));
  if (np == NULL) {
    return -1;
  }
  b->pfds = np;
  b->pfd_cap = n * 2;
  return 0;
}

/* Builds the poll set: wake, connection, dial listener, then the streams
 * in list order. @return the count, or 0 when out of memory. */
static size_t build_pollset(struct yamux_bridge *b) {
  const uint8_t *p;
  struct bstream *s;
  size_t n = 0, pending = soupc__yamux_output(b->y, &p);

  if (ensure_pfds(b, 3 + b->nstreams) != 0) {
    return 0;
  }
  b->pfds[n++] = (struct pollfd){b->wake[0], POLLIN, 0};
  b->pfds[n++] = (struct pollfd){
      b->conn, (short)(POLLIN | (pending > 0 ? POLLOUT : 0)), 0};
  b->pfds[n++] = (struct pollfd){b->dial_fd, POLLIN, 0};
  for (s = b->streams; s != NULL; s = s->next) {
    struct yamux_stream_state st;
    short ev = 0;

    if (soupc__yamux_stream_state(b->y, s->id, &st) == 0) {
      if (!s->fd_eof && st.send_window > 0 && pending < MAX_PENDING_OUTPUT) {
        ev |= POLLIN;
      }
      if (st.readable > 0) {
        ev |= POLLOUT;
      }
    }
    /* Nothing to wait for: leave it out, or a hung-up socket would wake
     * us without end. */
    b->pfds[n++] = (struct pollfd){ev != 0 ? s->fd : -1, ev, 0};
  }
  return n;
}

/* One round: poll, then serve what is ready. @return -1 to end. */
static int run_once(struct yamux_bridge *b) {
  struct bstream **pp, *s;
  size_t n = build_pollset(b), i;

  if (n == 0 || poll(b->pfds, n, -1) < 0) {
    return errno == EINTR ? 0 : -1;
  }
  if (b->pfds[0].revents != 0) {
    return -1; /* stop */
  }
  if ((b->pfds[1].revents & (POLLIN | POLLHUP | POLLERR)) &&
      read_conn(b) != 0) {
    return -1;
  }
  if (b->pfds[2].revents & POLLIN) {
    accept_dial(b);
  }
  accept_streams(b);
  /* Streams in the poll set come first in the list (new ones were pushed
   * on its front after it was built), so index from the end. */
  for (i = n - 1, s = NULL; i >= 3; i--) {
    if (b->pfds[i].fd < 0 || b->pfds[i].revents == 0) {
      continue;
    }
    for (s = b->streams; s != NULL && s->fd != b->pfds[i].fd; s = s->next) {
    }
    if (s != NULL) {
      read_stream(b, s);
    }
  }
  for (pp = &b->streams; *pp != NULL;) {
    if (service_stream(b, *pp)) {
      drop_stream(b, pp);
    } else {
      pp = &(*pp)->next;
    }
  }
  return flush_conn(b);
}

static void *bridge_main(void *arg) {
  struct yamux_bridge *b = arg;
  struct pollfd pfd;
  int64_t waited = 0;

  while (!soupc__yamux_dead(b->y) && run_once(b) == 0) {
  }
  /* Stop or end: say GoAway (a protocol error already did), let the last
   * frames out for a moment, then close every stream's socket. */
  soupc__yamux_go_away(b->y, SOUPC_YAMUX_GOAWAY_NORMAL);
  (void)set_nonblock(b->conn);
  while (waited < STOP_FLUSH_MS) {
    const uint8_t *p;

    if (soupc__yamux_output(b->y, &p) == 0 || flush_conn(b) != 0 ||
        soupc__yamux_output(b->y, &p) == 0) {
      break;
    }
    pfd = (struct pollfd){b->conn, POLLOUT, 0};
    (void)poll(&pfd, 1, 20);
    waited += 20;
  }
  atomic_store(&b->alive, 0);
  shutdown(b->conn, SHUT_RDWR);
  while (b->streams != NULL) {
    drop_stream(b, &b->streams);
  }
  return NULL;
}

int soupc__yamux_bridge_start(struct yamux_bridge **out, int conn_fd,
                              int is_client, int dial_fd,
                              yamux_accept_fn on_accept, void *user_data,
                              const char *module) {
  struct yamux_bridge *b = soupc__calloc(1, sizeof(*b));
  int rv = SOUPC_ERR_NOMEM;

  if (b == NULL) {
    close(conn_fd);
    if (dial_fd >= 0) {
      close(dial_fd);
    }
    return rv;
  }
  b->conn = conn_fd;
  b->dial_fd = dial_fd;
  b->wake[0] = b->wake[1] = -1;
  b->on_accept = on_accept;
  b->user_data = user_data;
  snprintf(b->module, sizeof(b->module), "%s", module);
  if (soupc__yamux_new(&b->y, is_client, NULL) != 0) {
    goto fail;
  }
  rv = SOUPC_ERR_IO;
  if (pipe2(b->wake, O_CLOEXEC) != 0 || set_nonblock(conn_fd) != 0 ||
      (dial_fd >= 0 && set_nonblock(dial_fd) != 0)) {
    goto fail;
  }
  atomic_store(&b->alive, 1);
  if (pthread_create(&b->thread, NULL, bridge_main, b) != 0) {
    rv = SOUPC_ERR_NOMEM;
    goto fail;
  }
  b->started = 1;
  *out = b;
  return 0;

fail:
  atomic_store(&b->alive, 0);
  soupc__yamux_bridge_stop(b);
  return rv;
}

void soupc__yamux_bridge_stop(struct yamux_bridge *b) {
  if (b == NULL) {
    return;
  }
  if (b->wake[1] >= 0 && write(b->wake[1], "s", 1) < 0) {
    /* A full pipe already holds a stop. */
  }
  if (b->started) {
    pthread_join(b->thread, NULL);
  }
  while (b->streams != NULL) {
    drop_stream(b, &b->streams);
  }
  close(b->conn);
  if (b->dial_fd >= 0) {
    close(b->dial_fd);
  }
  for (int i = 0; i < 2; i++) {
    if (b->wake[i] >= 0) {
      close(b->wake[i]);
    }
  }
  soupc__yamux_free(b->y);
  soupc__free(b->pfds);
  soupc__free(b);
}

int soupc__yamux_bridge_alive(struct yamux_bridge *b) {
  return atomic_load(&b->alive);
}
