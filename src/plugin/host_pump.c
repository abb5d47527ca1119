/* A launched plugin's stdout and stderr (go-plugin-protocol.md §2.6,
 * §6.2.3-§6.2.5): the handshake line, then a pump thread that drains both
 * pipes for the life of the process, so the plugin never blocks on a full
 * pipe. Each stderr line goes to the caller's sink, our fd 2 and/or our
 * logger. */
#include "plugin/host_int.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/io.h"

/* After the child is reaped, how long grandchildren may hold the pipes. */
#define DRAIN_MS 500
/* How long to collect a dead plugin's last stderr lines for the message. */
#define LAST_WORDS_MS 1000

static void stderr_line(struct soupc_plugin_host *h, const char *line,
                        size_t len) {
  size_t keep = len < sizeof(h->last_err) - 1 ? len : sizeof(h->last_err) - 1;

  while (keep > 0 && (line[keep - 1] == '\r' || line[keep - 1] == ' ')) {
    keep--;
  }
  if (keep > 0) {
    memcpy(h->last_err, line, keep);
    h->last_err[keep] = '\0';
  }
  if (h->forward_stderr) {
    (void)soupc__write_all(STDERR_FILENO, line, len);
    (void)soupc__write_all(STDERR_FILENO, "\n", 1);
  }
  if (h->log_stderr) {
    soupc__plugin_relog(h->module, line, len);
  }
  if (h->on_output != NULL) {
    h->on_output(SOUPC_PLUGIN_OUTPUT_STDERR_LINE, line, len,
                 h->output_user_data);
  }
}

/* Splits stderr bytes into lines; §2.6: over-long lines are cut. */
static void stderr_feed(struct soupc_plugin_host *h, const char *p, size_t n) {
  size_t i;

  for (i = 0; i < n; i++) {
    if (p[i] == '\n') {
      stderr_line(h, h->errline, h->errlen);
      h->errlen = 0;
    } else {
      if (h->errlen == HOST_MAX_LINE) {
        stderr_line(h, h->errline, h->errlen);
        h->errlen = 0;
      }
      h->errline[h->errlen++] = p[i];
    }
  }
}

static void stderr_flush(struct soupc_plugin_host *h) {
  if (h->errlen > 0) {
    stderr_line(h, h->errline, h->errlen);
    h->errlen = 0;
  }
}

/* Reads once from *fdp; closes it and sets -1 at EOF or on an error.
 * @return bytes read (0 for nothing). */
static size_t read_some(int *fdp, char *buf, size_t cap) {
  ssize_t n = read(*fdp, buf, cap);

  if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
    return 0;
  }
  if (n <= 0) {
    close(*fdp);
    *fdp = -1;
    return 0;
  }
  return (size_t)n;
}

static void *pump(void *arg) {
  struct soupc_plugin_host *h = arg;
  char buf[4096];
  int64_t deadline = -1;

  /* §6.2.5: keep draining stdout (discarded) and stderr (lines) for the
   * life of the process. */
  while (h->proc.stdout_fd >= 0 || h->proc.stderr_fd >= 0) {
    struct pollfd pfd[3];
    int timeout = -1, r;
    size_t n;

    if (deadline >= 0) {
      int64_t left = deadline - soupc__plugin_now_ms();
      if (left <= 0) {
        break;
      }
      timeout = (int)left;
    }
    pfd[0] = (struct pollfd){h->proc.stdout_fd, POLLIN, 0};
    pfd[1] = (struct pollfd){h->proc.stderr_fd, POLLIN, 0};
    pfd[2] = (struct pollfd){deadline >= 0 ? -1 : h->wake[0], POLLIN, 0};
    r = poll(pfd, 3, timeout);
    if (r < 0 && errno == EINTR) {
      continue;
    }
    if (r < 0) {
      break;
    }
    if (pfd[2].revents != 0) {
      deadline = soupc__plugin_now_ms() + DRAIN_MS;
    }
    if (h->proc.stdout_fd >= 0 && pfd[0].revents != 0) {
      (void)read_some(&h->proc.stdout_fd, buf, sizeof(buf));
    }
    if (h->proc.stderr_fd >= 0 && pfd[1].revents != 0) {
      n = read_some(&h->proc.stderr_fd, buf, sizeof(buf));
      stderr_feed(h, buf, n);
    }
  }
  stderr_flush(h);
  return NULL;
}

int soupc__host_pump_start(struct soupc_plugin_host *h) {
  if (pthread_create(&h->pump, NULL, pump, h) != 0) {
    return SOUPC_ERR_IO;
  }
  h->pump_started = 1;
  return 0;
}

void soupc__host_pump_stop(struct soupc_plugin_host *h) {
  if (h->pump_started) {
    (void)soupc__write_all(h->wake[1], "d", 1);
    pthread_join(h->pump, NULL);
    h->pump_started = 0;
  }
}

/* stdout closed without a line: collect the rest of stderr briefly, so the
 * message can quote the plugin's last words, and its exit status. */
static int report_early_exit(struct soupc_plugin_host *h, const char *partial,
                             size_t partial_len, soupc_status *st) {
  char status_text[64];

  while (h->proc.stderr_fd >= 0) {
    struct pollfd pfd = {h->proc.stderr_fd, POLLIN, 0};
    char eb[4096];
    size_t n;

    if (poll(&pfd, 1, LAST_WORDS_MS) <= 0) {
      break;
    }
    n = read_some(&h->proc.stderr_fd, eb, sizeof(eb));
    stderr_feed(h, eb, n);
  }
  stderr_flush(h);
  if (soupc__process_wait(&h->proc, LAST_WORDS_MS)) {
    soupc__process_status_text(status_text, sizeof(status_text),
                               h->proc.wait_status);
  } else {
    snprintf(status_text, sizeof(status_text), "stdout closed");
  }
  if (partial_len > 0) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "garbled handshake line: \"%.60s\" has no newline (%s)",
                     partial, status_text);
    return SOUPC_ERR_HANDSHAKE;
  }
  /* go-plugin's text (client.go), plus what its log lines would add. */
  soupc_status_set(
      st, SOUPC_GRPC_UNAVAILABLE,
      "plugin exited before we could connect (%s)%s%s", status_text,
      h->last_err[0] != '\0' ? "; last stderr line: " : "", h->last_err);
  return SOUPC_ERR_PLUGIN_EXITED;
}

/* One poll round of the handshake read. @return 1 once a full line is in
 * @p buf, 0 to go on, or a negative soupc_err with @p st set. */
static int handshake_step(struct soupc_plugin_host *h, char *buf, size_t *len,
                          int left_ms, soupc_status *st) {
  struct pollfd pfd[2] = {{h->proc.stdout_fd, POLLIN, 0},
                          {h->proc.stderr_fd, POLLIN, 0}};
  char eb[4096];
  int r = poll(pfd, 2, left_ms);
  size_t n;

  if (r < 0 && errno != EINTR) {
    soupc_status_set(st, SOUPC_GRPC_INTERNAL, "poll: %s", strerror(errno));
    return SOUPC_ERR_IO;
  }
  if (r <= 0) {
    return 0;
  }
  if (h->proc.stderr_fd >= 0 && pfd[1].revents != 0) {
    n = read_some(&h->proc.stderr_fd, eb, sizeof(eb));
    stderr_feed(h, eb, n);
  }
  if (pfd[0].revents == 0) {
    return 0;
  }
  n = read_some(&h->proc.stdout_fd, buf + *len, HOST_MAX_LINE - *len);
  *len += n;
  buf[*len] = '\0';
  if (memchr(buf, '\n', *len) != NULL) {
    return 1;
  }
  if (*len == HOST_MAX_LINE) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "garbled handshake line: no newline in the first %zu "
                     "bytes of stdout",
                     HOST_MAX_LINE);
    return SOUPC_ERR_HANDSHAKE;
  }
  return 0;
}

int soupc__host_read_handshake(struct soupc_plugin_host *h, char **line_out,
                               int timeout_ms, soupc_status *st) {
  int64_t deadline = soupc__plugin_now_ms() + timeout_ms;
  char *buf = soupc__malloc(HOST_MAX_LINE + 1);
  size_t len = 0;
  int rv = 0;

  if (buf == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  while (rv == 0 && h->proc.stdout_fd >= 0) {
    int64_t left = deadline - soupc__plugin_now_ms();

    if (left <= 0) {
      /* go-plugin: "timeout while waiting for plugin to start". */
      soupc_status_set(st, SOUPC_GRPC_DEADLINE_EXCEEDED,
                       "timeout while waiting for plugin to start (%d ms)",
                       timeout_ms);
      rv = SOUPC_ERR_DEADLINE;
      break;
    }
    rv = handshake_step(h, buf, &len, (int)left, st);
  }
  if (rv == 1) {
    *strchr(buf, '\n') = '\0';
    *line_out = buf;
    return 0;
  }
  if (rv == 0) {
    rv = report_early_exit(h, buf, len, st);
  }
  soupc__free(buf);
  return rv;
}
