/* Captures the plugin's fd 1 and fd 2 after the handshake and forwards them
 * as plugin.StdioData on GRPCStdio/StreamStdio (go-plugin-protocol.md §2.5,
 * §4.4).
 *
 * Unlike Go, writes never block on the host: one thread always drains both
 * pipes. Until a host subscribes, a bounded amount is kept (oldest dropped),
 * because a v1.0.x host never subscribes. Stderr is also copied to the
 * original stderr, so hclog lines still reach the host's stderr reader
 * (§2.5: Go's logger keeps the real fd 2).
 *
 * Ownership rule for the attached call: whoever clears cap->call finishes
 * the call. Sends happen under the mutex, so a concurrent on_cancel cannot
 * release the call while it is being used. */
#include "plugin/plugin_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "plugin.pb-c.h"

/* §4.4: Go sends chunks of at most 1 KiB. */
#define CHUNK_SIZE 1024

struct chunk {
  struct chunk *next;
  int channel; /* Plugin__StdioData__Channel */
  size_t len;  /* bytes in data; 0 < len <= CHUNK_SIZE */
  uint8_t data[];
};

struct stdio_capture {
  pthread_mutex_t mu;
  soupc_call *call;          /* attached StreamStdio call, or NULL; mu */
  struct chunk *head, *tail; /* kept until a host subscribes; mu */
  size_t buffered;           /* bytes in the queue; <= cap (+ one chunk) */
  size_t cap;
  int out_r, err_r; /* pipe read ends, -1 at EOF */
  int saved_out;    /* the original fd 1 and fd 2 */
  int saved_err;
  pthread_t thread;
  int thread_started;
  int redirected; /* fd 1 and fd 2 are our pipes */
};

/* Sends one chunk on @p call. @return 0 or SOUPC_ERR_CLOSED. mu held. */
static int send_chunk(soupc_call *call, int channel, const uint8_t *data,
                      size_t len) {
  Plugin__StdioData msg = PLUGIN__STDIO_DATA__INIT;
  uint8_t buf[CHUNK_SIZE + 16];
  size_t n;

  msg.channel = (Plugin__StdioData__Channel)channel;
  msg.data.data = (uint8_t *)data;
  msg.data.len = len;
  n = plugin__stdio_data__pack(&msg, buf);
  return soupc_call_send(call, buf, n) == 0 ? 0 : SOUPC_ERR_CLOSED;
}

static void queue_drop_oldest(struct stdio_capture *cap) {
  struct chunk *c = cap->head;

  cap->head = c->next;
  if (cap->head == NULL) {
    cap->tail = NULL;
  }
  cap->buffered -= c->len;
  soupc__free(c);
}

/* Forwards or keeps one chunk. */
static void deliver(struct stdio_capture *cap, int channel, const uint8_t *data,
                    size_t len) {
  soupc_call *dead = NULL;
  struct chunk *c;

  pthread_mutex_lock(&cap->mu);
  if (cap->call != NULL) {
    if (send_chunk(cap->call, channel, data, len) != 0) {
      dead = cap->call;
      cap->call = NULL;
    } else {
      pthread_mutex_unlock(&cap->mu);
      return;
    }
  }
  c = soupc__malloc(sizeof(*c) + len);
  if (c != NULL) {
    c->next = NULL;
    c->channel = channel;
    c->len = len;
    memcpy(c->data, data, len);
    if (cap->tail == NULL) {
      cap->head = c;
    } else {
      cap->tail->next = c;
    }
    cap->tail = c;
    cap->buffered += len;
    while (cap->buffered > cap->cap && cap->head != c) {
      queue_drop_oldest(cap);
    }
  }
  pthread_mutex_unlock(&cap->mu);
  if (dead != NULL) {
    soupc_call_finish(dead, SOUPC_GRPC_CANCELLED, "stdio stream closed");
  }
}

static void write_all(int fd, const uint8_t *p, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, p, len);

    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return; /* the host closed our stderr; nothing else to do */
    }
    p += n;
    len -= (size_t)n;
  }
}

static void *pump(void *arg) {
  struct stdio_capture *cap = arg;
  uint8_t buf[CHUNK_SIZE];

  while (cap->out_r >= 0 || cap->err_r >= 0) {
    struct pollfd pfd[2];
    int i;

    pfd[0].fd = cap->out_r;
    pfd[0].events = POLLIN;
    pfd[1].fd = cap->err_r;
    pfd[1].events = POLLIN;
    if (poll(pfd, 2, -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      break;
    }
    for (i = 0; i < 2; i++) {
      int *fdp = i == 0 ? &cap->out_r : &cap->err_r;
      ssize_t n;

      if (*fdp < 0 || pfd[i].revents == 0) {
        continue;
      }
      n = read(*fdp, buf, sizeof(buf));
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
        continue;
      }
      if (n <= 0) {
        close(*fdp);
        *fdp = -1;
        continue;
      }
      if (i == 1) {
        write_all(cap->saved_err, buf, (size_t)n);
      }
      deliver(cap,
              i == 0 ? PLUGIN__STDIO_DATA__CHANNEL__STDOUT
                     : PLUGIN__STDIO_DATA__CHANNEL__STDERR,
              buf, (size_t)n);
    }
  }
  return NULL;
}

int soupc__stdio_capture_start(struct stdio_capture **out, size_t buffer_cap) {
  struct stdio_capture *cap;
  int po[2] = {-1, -1}, pe[2] = {-1, -1};
  int rv;

  cap = soupc__calloc(1, sizeof(*cap));
  if (cap == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  pthread_mutex_init(&cap->mu, NULL);
  cap->cap = buffer_cap;
  cap->out_r = cap->err_r = cap->saved_out = cap->saved_err = -1;
  if (pipe2(po, O_CLOEXEC) != 0 || pipe2(pe, O_CLOEXEC) != 0) {
    rv = SOUPC_ERR_IO;
    goto fail;
  }
  cap->saved_out = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
  cap->saved_err = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
  if (cap->saved_out < 0 || cap->saved_err < 0) {
    rv = SOUPC_ERR_IO;
    goto fail;
  }
  cap->out_r = po[0];
  cap->err_r = pe[0];
  po[0] = pe[0] = -1;
  fflush(stdout);
  fflush(stderr);
  cap->redirected = 1;
  if (dup2(po[1], STDOUT_FILENO) < 0 || dup2(pe[1], STDERR_FILENO) < 0) {
    rv = SOUPC_ERR_IO;
    goto fail;
  }
  close(po[1]);
  close(pe[1]);
  po[1] = pe[1] = -1;
  if (pthread_create(&cap->thread, NULL, pump, cap) != 0) {
    rv = SOUPC_ERR_IO;
    goto fail;
  }
  cap->thread_started = 1;
  *out = cap;
  return 0;

fail:
  if (po[0] >= 0) {
    close(po[0]);
  }
  if (po[1] >= 0) {
    close(po[1]);
  }
  if (pe[0] >= 0) {
    close(pe[0]);
  }
  if (pe[1] >= 0) {
    close(pe[1]);
  }
  soupc__stdio_capture_stop(cap);
  return rv;
}

void soupc__stdio_capture_attach(struct stdio_capture *cap, soupc_call *call) {
  soupc_call *old, *dead = NULL;

  pthread_mutex_lock(&cap->mu);
  old = cap->call;
  cap->call = call;
  while (cap->head != NULL) {
    struct chunk *c = cap->head;

    if (send_chunk(call, c->channel, c->data, c->len) != 0) {
      dead = call;
      cap->call = NULL;
      break;
    }
    queue_drop_oldest(cap);
  }
  pthread_mutex_unlock(&cap->mu);
  /* §4.1: StreamStdio "must only be called ONCE"; a second caller takes
   * over and the first one sees a clean end of stream. */
  if (old != NULL) {
    soupc_call_finish(old, SOUPC_GRPC_OK, NULL);
  }
  if (dead != NULL) {
    soupc_call_finish(dead, SOUPC_GRPC_CANCELLED, "stdio stream closed");
  }
}

int soupc__stdio_capture_real_stdout(const struct stdio_capture *cap) {
  return cap->saved_out;
}

int soupc__stdio_capture_detach(struct stdio_capture *cap, soupc_call *call) {
  int was = 0;

  pthread_mutex_lock(&cap->mu);
  if (cap->call == call) {
    cap->call = NULL;
    was = 1;
  }
  pthread_mutex_unlock(&cap->mu);
  return was;
}

void soupc__stdio_capture_stop(struct stdio_capture *cap) {
  soupc_call *call;

  if (cap == NULL) {
    return;
  }
  if (cap->redirected) {
    fflush(stdout);
    fflush(stderr);
    /* Putting the original fds back closes the last write ends of the
     * pipes, so the pump sees EOF once it has forwarded everything. */
    dup2(cap->saved_out, STDOUT_FILENO);
    dup2(cap->saved_err, STDERR_FILENO);
  }
  if (cap->thread_started) {
    pthread_join(cap->thread, NULL);
  }
  pthread_mutex_lock(&cap->mu);
  call = cap->call;
  cap->call = NULL;
  while (cap->head != NULL) {
    queue_drop_oldest(cap);
  }
  pthread_mutex_unlock(&cap->mu);
  if (call != NULL) {
    soupc_call_finish(call, SOUPC_GRPC_OK, NULL);
  }
  if (cap->out_r >= 0) {
    close(cap->out_r);
  }
  if (cap->err_r >= 0) {
    close(cap->err_r);
  }
  if (cap->saved_out >= 0) {
    close(cap->saved_out);
  }
  if (cap->saved_err >= 0) {
    close(cap->saved_err);
  }
  pthread_mutex_destroy(&cap->mu);
  soupc__free(cap);
}
