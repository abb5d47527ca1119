/* The host side of go-plugin (go-plugin-protocol.md §6.2): launch or
 * reattach, handshake, dial, side streams, and the kill sequence.
 *
 * Invariant for every path out of soupc_plugin_host_launch(): either the
 * caller gets a host whose kill/close reaps the child and removes the socket
 * directory, or this file has already done both (teardown()). */
#include "plugin/plugin_int.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

#include "base/alloc.h"
#include "base/options.h"
#include "health.pb-c.h"
#include "plugin.pb-c.h"
#include "soupc/cert.h"

extern char **environ;

/* §2.6: go-plugin's Scanner and Reader buffers are 64 KiB. */
#define MAX_LINE (64 * 1024)
/* §6.2.9: Kill's grace period, and our deadline on Shutdown. */
#define KILL_GRACE_MS 2000
/* After the child is reaped, how long grandchildren may hold the pipes. */
#define DRAIN_MS 500

struct soupc_plugin_host {
  soupc_plugin_handshake hs;
  soupc_channel *ch;
  soupc_client_stream *stdio_stream;
  soupc_client_stream *broker_stream;
  struct plugin_process proc;
  int launched;
  char *socket_dir; /* created by us, removed at teardown; or NULL */
  char *client_cert_pem;
  char *client_key_pem;
  soupc_plugin_output_fn on_output;
  void *output_user_data;
  int forward_stderr;
  int log_stderr;
  char module[64]; /* plugin basename, for log_stderr */

  /* The pump thread drains stdout and stderr after the handshake. */
  pthread_t pump;
  int pump_started;
  int wake[2];      /* wake[1] written at teardown: drain briefly, then exit */
  int stdio_end[2]; /* stdio_end[1] written when StreamStdio ends */
  char *errline;    /* partial stderr line; MAX_LINE bytes */
  size_t errlen;
  char last_err[256]; /* last complete stderr line, for error messages */
};

/* Appends @p v as the value of a k=v pair (strings verbatim, numbers as
 * written, true/false/null by name). */
static size_t append_value(char *buf, size_t cap, size_t used, yajl_val v) {
  const char *text = YAJL_IS_STRING(v)   ? v->u.string
                     : YAJL_IS_NUMBER(v) ? v->u.number.r
                     : YAJL_IS_TRUE(v)   ? "true"
                     : YAJL_IS_FALSE(v)  ? "false"
                     : YAJL_IS_NULL(v)   ? "null"
                                         : "...";
  int n = snprintf(buf + used, cap - used, "%s", text);

  return n < 0 ? used : used + (size_t)n >= cap ? cap - 1 : used + (size_t)n;
}

/* §2.6: how go-plugin's host logs a plugin's stderr line. */
static void relog(struct soupc_plugin_host *h, const char *line, size_t len) {
  static const struct {
    const char *prefix;
    soupc_log_level level;
  } prefixes[] = {{"[TRACE]", SOUPC_LOG_TRACE},
                  {"[DEBUG]", SOUPC_LOG_DEBUG},
                  {"[INFO]", SOUPC_LOG_INFO},
                  {"[WARN]", SOUPC_LOG_WARN},
                  {"[ERROR]", SOUPC_LOG_ERROR}};
  soupc_log_level level = SOUPC_LOG_DEBUG;
  char *copy;
  size_t i;

  if (len == 0) {
    return;
  }
  if (line[0] == '{') {
    const char *lk[] = {"@level", NULL}, *mk[] = {"@message", NULL};
    yajl_val root, lv, mv;

    copy = soupc__strndup(line, len);
    if (copy == NULL) {
      return;
    }
    root = yajl_tree_parse(copy, NULL, 0);
    lv = yajl_tree_get(root, lk, yajl_t_string);
    mv = yajl_tree_get(root, mk, yajl_t_string);
    /* Only string @level/@message count (Go panics on anything else; we
     * log the line verbatim instead). */
    if (YAJL_IS_OBJECT(root) && lv != NULL && mv != NULL &&
        soupc_log_level_parse(&level, lv->u.string) == 0) {
      char msg[4096];
      size_t used = 0;
      int pairs = 0;
      int n = snprintf(msg, sizeof(msg), "%s", mv->u.string);

      used = n < 0 ? 0 : (size_t)n >= sizeof(msg) ? sizeof(msg) - 1 : (size_t)n;
      for (i = 0; i < root->u.object.len; i++) {
        const char *k = root->u.object.keys[i];

        if (strcmp(k, "@level") == 0 || strcmp(k, "@message") == 0 ||
            strcmp(k, "@timestamp") == 0 || used + 4 >= sizeof(msg)) {
          continue;
        }
        /* hclog's text form: "message: k=v k2=v2" */
        n = snprintf(msg + used, sizeof(msg) - used,
                     "%s%s=", pairs == 0 ? ": " : " ", k);
        pairs++;
        if (n > 0 && used + (size_t)n < sizeof(msg)) {
          used += (size_t)n;
          used = append_value(msg, sizeof(msg), used, root->u.object.values[i]);
        }
      }
      soupc_log(level, h->module, "%s", msg);
      yajl_tree_free(root);
      soupc__free(copy);
      return;
    }
    yajl_tree_free(root);
    soupc__free(copy);
    soupc_log(SOUPC_LOG_DEBUG, h->module, "%.*s", (int)len, line);
    return;
  }
  for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
    size_t plen = strlen(prefixes[i].prefix);

    if (len >= plen && memcmp(line, prefixes[i].prefix, plen) == 0) {
      level = prefixes[i].level;
      break;
    }
  }
  soupc_log(level, h->module, "%.*s", (int)len, line);
}

/* ---- stderr lines ---- */

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
    (void)!write(STDERR_FILENO, line, len);
    (void)!write(STDERR_FILENO, "\n", 1);
  }
  if (h->log_stderr) {
    relog(h, line, len);
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
      if (h->errlen == MAX_LINE) {
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

/* ---- the pump thread ---- */

static void *pump(void *arg) {
  struct soupc_plugin_host *h = arg;
  char buf[4096];
  int64_t deadline = -1;

  /* §6.2.5: keep draining stdout (discarded) and stderr (lines) for the
   * life of the process, so the plugin never blocks on a full pipe. */
  while (h->proc.stdout_fd >= 0 || h->proc.stderr_fd >= 0) {
    struct pollfd pfd[3];
    int timeout = -1, i, r;

    if (deadline >= 0) {
      int64_t left = deadline - soupc__plugin_now_ms();
      if (left <= 0) {
        break;
      }
      timeout = (int)left;
    }
    pfd[0].fd = h->proc.stdout_fd;
    pfd[1].fd = h->proc.stderr_fd;
    pfd[2].fd = deadline >= 0 ? -1 : h->wake[0];
    for (i = 0; i < 3; i++) {
      pfd[i].events = POLLIN;
      pfd[i].revents = 0;
    }
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
    for (i = 0; i < 2; i++) {
      int *fdp = i == 0 ? &h->proc.stdout_fd : &h->proc.stderr_fd;
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
        stderr_feed(h, buf, (size_t)n);
      }
    }
  }
  stderr_flush(h);
  return NULL;
}

/* ---- GRPCStdio stream ---- */

static void stdio_message(soupc_client_stream *stream, const uint8_t *msg,
                          size_t len, void *user_data) {
  struct soupc_plugin_host *h = user_data;
  Plugin__StdioData *d;

  (void)stream;
  d = plugin__stdio_data__unpack(&soupc__plugin_pb_allocator, len, msg);
  if (d == NULL) {
    return;
  }
  /* §4.4: go-plugin hosts drop INVALID channels and empty data. */
  if (h->on_output != NULL && d->data.len > 0 &&
      (d->channel == PLUGIN__STDIO_DATA__CHANNEL__STDOUT ||
       d->channel == PLUGIN__STDIO_DATA__CHANNEL__STDERR)) {
    h->on_output(d->channel == PLUGIN__STDIO_DATA__CHANNEL__STDOUT
                     ? SOUPC_PLUGIN_OUTPUT_STDIO_STDOUT
                     : SOUPC_PLUGIN_OUTPUT_STDIO_STDERR,
                 (const char *)d->data.data, d->data.len, h->output_user_data);
  }
  plugin__stdio_data__free_unpacked(d, &soupc__plugin_pb_allocator);
}

static void stream_closed(soupc_client_stream *stream,
                          const soupc_status *status, void *user_data) {
  (void)stream;
  (void)user_data;
  /* §6.2.7: UNIMPLEMENTED/UNAVAILABLE mean "no stdio"; nothing to do. */
  if (status->code != SOUPC_GRPC_OK && status->code != SOUPC_GRPC_CANCELLED &&
      status->code != SOUPC_GRPC_UNIMPLEMENTED &&
      status->code != SOUPC_GRPC_UNAVAILABLE) {
    soupc_log(SOUPC_LOG_DEBUG, "plugin", "plugin side stream ended: %s: %s",
              soupc_grpc_code_name(status->code), status->message);
  }
}

/* The plugin ends StreamStdio once it has flushed its output (at Shutdown);
 * the kill sequence waits for that instead of the process exit. */
static void stdio_closed(soupc_client_stream *stream,
                         const soupc_status *status, void *user_data) {
  struct soupc_plugin_host *h = user_data;

  stream_closed(stream, status, user_data);
  (void)!write(h->stdio_end[1], "e", 1);
}

static void ignore_stream_message(soupc_client_stream *stream,
                                  const uint8_t *msg, size_t len,
                                  void *user_data) {
  (void)stream;
  (void)msg;
  (void)len;
  (void)user_data;
}

/* ---- teardown ---- */

static void remove_socket_dir(struct soupc_plugin_host *h) {
  DIR *d;
  struct dirent *e;

  if (h->socket_dir == NULL) {
    return;
  }
  if (rmdir(h->socket_dir) != 0 && errno != ENOENT) {
    /* The plugin's sockets (main and, from go-plugin v1.5.1, broker) are
     * the only things in it. */
    d = opendir(h->socket_dir);
    if (d != NULL) {
      while ((e = readdir(d)) != NULL) {
        char path[4096];

        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
          continue;
        }
        snprintf(path, sizeof(path), "%s/%s", h->socket_dir, e->d_name);
        unlink(path);
      }
      closedir(d);
    }
    rmdir(h->socket_dir);
  }
  soupc__free(h->socket_dir);
  h->socket_dir = NULL;
}

/* Ends everything. @p shutdown: ask the plugin first (GRPCController).
 * @return 0 if the plugin stopped by itself with status 0 (reattached:
 * acknowledged Shutdown), SOUPC_ERR_PLUGIN_EXITED otherwise. */
static int teardown(struct soupc_plugin_host *h, int shutdown) {
  int graceful = 0, acked = 0;
  int64_t deadline;

  /* §6.2.9 step 1: cancel the broker stream. */
  soupc_client_stream_free(h->broker_stream);
  h->broker_stream = NULL;
  if (shutdown && h->ch != NULL) {
    soupc_status st;
    int code;

    /* Step 2: Shutdown with a deadline (Go has none and can hang). */
    code = soupc_channel_unary(h->ch, "/plugin.GRPCController/Shutdown", NULL,
                               0, NULL, NULL, KILL_GRACE_MS, &st);
    acked = code == SOUPC_GRPC_OK;
  }
  deadline = soupc__plugin_now_ms() + KILL_GRACE_MS;
  if (h->launched && shutdown && h->stdio_stream != NULL) {
    /* The plugin ends StreamStdio with its last output before it stops
     * serving; once that arrived (or the plugin is gone) nothing more comes
     * on the channel. A plugin that still has our connection open waits
     * for it to close, so close it now, as go-plugin does right after
     * Shutdown, rather than after the process exit. */
    soupc__process_wait_or(&h->proc, KILL_GRACE_MS, h->stdio_end[0]);
  }
  /* Step 3: close the streams and the channel. */
  soupc_client_stream_free(h->stdio_stream);
  h->stdio_stream = NULL;
  soupc_channel_free(h->ch);
  h->ch = NULL;
  if (h->launched && shutdown) {
    /* Step 4: up to 2 s for the process to exit on its own. */
    int64_t left = deadline - soupc__plugin_now_ms();

    graceful = soupc__process_wait(&h->proc, left > 0 ? (int)left : 0);
  }
  if (h->launched) {
    /* Then SIGKILL and reap if it is still there. */
    if (!soupc__process_wait(&h->proc, 0)) {
      kill(h->proc.pid, SIGKILL);
      soupc__process_wait(&h->proc, 60 * 1000);
      graceful = 0;
    }
    /* Step 5: drain the pipes to EOF (bounded: a grandchild may hold
     * them). */
    if (h->pump_started) {
      (void)!write(h->wake[1], "d", 1);
      pthread_join(h->pump, NULL);
      h->pump_started = 0;
    }
    soupc__process_kill(&h->proc);
    if (graceful && (!WIFEXITED(h->proc.wait_status) ||
                     WEXITSTATUS(h->proc.wait_status) != 0)) {
      graceful = 0;
    }
  } else {
    graceful = acked;
  }
  /* Step 6: remove the socket directory we created. */
  remove_socket_dir(h);
  return graceful ? 0 : SOUPC_ERR_PLUGIN_EXITED;
}

static void host_free(struct soupc_plugin_host *h) {
  if (h->wake[0] >= 0) {
    close(h->wake[0]);
  }
  if (h->wake[1] >= 0) {
    close(h->wake[1]);
  }
  if (h->stdio_end[0] >= 0) {
    close(h->stdio_end[0]);
  }
  if (h->stdio_end[1] >= 0) {
    close(h->stdio_end[1]);
  }
  soupc__plugin_handshake_dispose(&h->hs);
  if (h->client_key_pem != NULL) {
    explicit_bzero(h->client_key_pem, strlen(h->client_key_pem));
  }
  soupc__free(h->client_cert_pem);
  soupc__free(h->client_key_pem);
  soupc__free(h->errline);
  soupc__free(h);
}

static struct soupc_plugin_host *host_new(const soupc_plugin_host_options *o) {
  struct soupc_plugin_host *h = soupc__calloc(1, sizeof(*h));

  if (h == NULL) {
    return NULL;
  }
  h->wake[0] = h->wake[1] = -1;
  h->stdio_end[0] = h->stdio_end[1] = -1;
  h->proc.stdout_fd = h->proc.stderr_fd = -1;
  h->hs.mux = -1;
  h->errline = soupc__malloc(MAX_LINE);
  if (h->errline == NULL || pipe2(h->wake, O_CLOEXEC) != 0 ||
      pipe2(h->stdio_end, O_CLOEXEC | O_NONBLOCK) != 0) {
    host_free(h);
    return NULL;
  }
  if (o != NULL) {
    h->on_output = o->on_output;
    h->output_user_data = o->output_user_data;
    h->forward_stderr = o->forward_stderr;
    h->log_stderr = o->log_stderr;
  }
  snprintf(h->module, sizeof(h->module), "plugin");
  if (o != NULL && o->path != NULL) {
    const char *base = strrchr(o->path, '/');

    snprintf(h->module, sizeof(h->module), "%s",
             base != NULL ? base + 1 : o->path);
  }
  return h;
}

/* Our client certificate: the caller's, or a generated one (§3.2). */
static int client_cert(struct soupc_plugin_host *h,
                       const soupc_plugin_host_options *o, soupc_status *st) {
  soupc_cert_options co;
  char *cert = NULL, *key = NULL;
  int rv;

  if (o != NULL && o->client_cert_pem != NULL && o->client_key_pem != NULL) {
    h->client_cert_pem = soupc__strdup(o->client_cert_pem);
    h->client_key_pem = soupc__strdup(o->client_key_pem);
    return h->client_cert_pem == NULL || h->client_key_pem == NULL
               ? SOUPC_ERR_NOMEM
               : 0;
  }
  if (o != NULL && o->no_automtls) {
    return 0;
  }
  co = (soupc_cert_options)SOUPC_CERT_OPTIONS_INIT;
  co.key_type = SOUPC_KEY_EC;
  co.curve = o != NULL ? (soupc_curve)o->curve : SOUPC_CURVE_P256;
  /* §3.1: like go-plugin's, the cert is its own CA (the plugin pins it as
   * its only root) and carries clientAuth + serverAuth. */
  co.is_ca = 1;
  co.validity_days = 3650;
  rv = soupc_cert_generate(&cert, &key, &co, st);
  if (rv != 0) {
    return rv;
  }
  h->client_cert_pem = soupc__strdup(cert);
  h->client_key_pem = soupc__strdup(key);
  explicit_bzero(key, strlen(key));
  free(cert);
  free(key);
  return h->client_cert_pem == NULL || h->client_key_pem == NULL
             ? SOUPC_ERR_NOMEM
             : 0;
}

/* §6.2.6-§6.2.7: dial, then open GRPCStdio and GRPCBroker streams. */
static int connect_plugin(struct soupc_plugin_host *h,
                          const soupc_plugin_host_options *o,
                          soupc_status *st) {
  soupc_channel_options co;
  soupc_tls_options to;
  int rv;

  co = (soupc_channel_options)SOUPC_CHANNEL_OPTIONS_INIT;
  to = (soupc_tls_options)SOUPC_TLS_OPTIONS_INIT;
  if (o != NULL) {
    co.max_message_size = o->max_message_size;
    co.connect_timeout_ms = o->connect_timeout_ms;
  }
  if (h->hs.cert_pem != NULL) {
    /* §3.2: the plugin's cert is the only root; the name is "localhost". */
    to.ca_pem = h->hs.cert_pem;
    to.server_name = "localhost";
    to.cert_pem = h->client_cert_pem;
    to.key_pem = h->client_key_pem;
    co.tls = &to;
  }
  rv = soupc_channel_open(&h->ch, h->hs.dial_address, &co, st);
  if (rv != 0) {
    return rv;
  }
  if (o == NULL || !o->no_stdio_stream) {
    if (soupc_client_stream_open(&h->stdio_stream, h->ch,
                                 "/plugin.GRPCStdio/StreamStdio", stdio_message,
                                 stdio_closed, h) == 0) {
      soupc_client_stream_send(h->stdio_stream, NULL, 0);
      soupc_client_stream_close_send(h->stdio_stream);
    }
  }
  /* Held open, like go-plugin's background StartStream; never used. */
  (void)soupc_client_stream_open(&h->broker_stream, h->ch,
                                 "/plugin.GRPCBroker/StartStream",
                                 ignore_stream_message, stream_closed, h);
  return 0;
}

static int version_ok(const soupc_plugin_host_options *o, int v,
                      soupc_status *st) {
  static const int def[] = {1};
  const int *vs = def;
  size_t n = 1, i, used = 0;
  char list[256];

  if (o != NULL && o->versions != NULL && o->n_versions > 0) {
    vs = o->versions;
    n = o->n_versions;
  }
  list[0] = '\0';
  for (i = 0; i < n; i++) {
    if (vs[i] == v) {
      return 0;
    }
    if (used < sizeof(list)) {
      int w = snprintf(list + used, sizeof(list) - used, "%s%d",
                       i == 0 ? "" : " ", vs[i]);
      used += w > 0 ? (size_t)w : 0;
    }
  }
  /* go-plugin's client.go wording. */
  soupc_status_set(st, SOUPC_GRPC_FAILED_PRECONDITION,
                   "incompatible API version with plugin. Plugin version: "
                   "%d, Client versions: [%s]",
                   v, list);
  return SOUPC_ERR_HANDSHAKE;
}

/* ---- environment ---- */

static int key_matches(const char *entry, const char *key, size_t klen) {
  return strncmp(entry, key, klen) == 0 && entry[klen] == '=';
}

static int overridden(const char *entry, char *const *ours, size_t n_ours,
                      const char *const *extra) {
  const char *eq = strchr(entry, '=');
  size_t klen = eq == NULL ? strlen(entry) : (size_t)(eq - entry);
  size_t i;

  for (i = 0; i < n_ours; i++) {
    if (ours[i] != NULL && key_matches(ours[i], entry, klen)) {
      return 1;
    }
  }
  for (i = 0; extra != NULL && extra[i] != NULL; i++) {
    if (key_matches(extra[i], entry, klen)) {
      return 1;
    }
  }
  /* §6.2.1: never pass PLUGIN_MULTIPLEX_GRPC on (it would need yamux). */
  return klen == strlen("PLUGIN_MULTIPLEX_GRPC") &&
         strncmp(entry, "PLUGIN_MULTIPLEX_GRPC", klen) == 0;
}

static char *kv(const char *k, const char *v) {
  size_t cap = strlen(k) + strlen(v) + 2;
  char *s = soupc__malloc(cap);

  if (s != NULL) {
    snprintf(s, cap, "%s=%s", k, v);
  }
  return s;
}

/* Builds envp: inherited (minus what we set), ours, then opts->env. The
 * strings we allocate are in @p ours (freed by the caller). */
static char **build_env(char **ours, size_t n_ours, const char *const *extra) {
  size_t n_env = 0, n_extra = 0, i, k = 0;
  char **envp;

  while (environ != NULL && environ[n_env] != NULL) {
    n_env++;
  }
  while (extra != NULL && extra[n_extra] != NULL) {
    n_extra++;
  }
  envp = soupc__calloc(n_env + n_ours + n_extra + 1, sizeof(char *));
  if (envp == NULL) {
    return NULL;
  }
  for (i = 0; i < n_env; i++) {
    /* A fd number from our own host means nothing to our plugin. */
    if (!overridden(environ[i], ours, n_ours, extra) &&
        !key_matches(environ[i], "SOUPC_PLUGIN_CLIENT_CERT_FD",
                     strlen("SOUPC_PLUGIN_CLIENT_CERT_FD"))) {
      envp[k++] = environ[i];
    }
  }
  for (i = 0; i < n_ours; i++) {
    if (ours[i] != NULL && !overridden(ours[i], NULL, 0, extra)) {
      envp[k++] = ours[i];
    }
  }
  for (i = 0; i < n_extra; i++) {
    envp[k++] = (char *)extra[i];
  }
  envp[k] = NULL;
  return envp;
}

static int write_all(int fd, const char *p, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, p, len);

    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return -1;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

/* ---- handshake read ---- */

/* Reads the first stdout line within the deadline, feeding stderr lines
 * meanwhile. @p rest gets stdout bytes after the line (discarded later).
 * @return 0 with *line_out malloc'd, or an error with @p st set. */
static int read_handshake(struct soupc_plugin_host *h, char **line_out,
                          int timeout_ms, soupc_status *st) {
  int64_t deadline = soupc__plugin_now_ms() + timeout_ms;
  char *buf;
  size_t len = 0;
  char status_text[64];
  int rv;

  buf = soupc__malloc(MAX_LINE + 1);
  if (buf == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  for (;;) {
    struct pollfd pfd[2];
    int64_t left = deadline - soupc__plugin_now_ms();
    char *nl;
    int r;

    if (h->proc.stdout_fd < 0) {
      break; /* EOF before a line */
    }
    if (left <= 0) {
      soupc_status_set(st, SOUPC_GRPC_DEADLINE_EXCEEDED,
                       "timed out after %d ms waiting for the plugin's "
                       "handshake",
                       timeout_ms);
      rv = SOUPC_ERR_DEADLINE;
      goto fail;
    }
    pfd[0].fd = h->proc.stdout_fd;
    pfd[1].fd = h->proc.stderr_fd;
    pfd[0].events = pfd[1].events = POLLIN;
    pfd[0].revents = pfd[1].revents = 0;
    r = poll(pfd, 2, (int)left);
    if (r < 0 && errno != EINTR) {
      soupc_status_set(st, SOUPC_GRPC_INTERNAL, "poll: %s", strerror(errno));
      rv = SOUPC_ERR_IO;
      goto fail;
    }
    if (r <= 0) {
      continue;
    }
    if (pfd[1].revents != 0) {
      char eb[4096];
      ssize_t n = read(h->proc.stderr_fd, eb, sizeof(eb));

      if (n > 0) {
        stderr_feed(h, eb, (size_t)n);
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        close(h->proc.stderr_fd);
        h->proc.stderr_fd = -1;
      }
    }
    if (pfd[0].revents != 0) {
      ssize_t n = read(h->proc.stdout_fd, buf + len, MAX_LINE - len);

      if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
        close(h->proc.stdout_fd);
        h->proc.stdout_fd = -1;
        continue;
      }
      if (n < 0) {
        continue;
      }
      len += (size_t)n;
      buf[len] = '\0';
      nl = memchr(buf, '\n', len);
      if (nl != NULL) {
        *nl = '\0';
        *line_out = buf;
        return 0;
      }
      if (len == MAX_LINE) {
        soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                         "garbled handshake line: no newline in the first %d "
                         "bytes of stdout",
                         MAX_LINE);
        rv = SOUPC_ERR_HANDSHAKE;
        goto fail;
      }
    }
  }

  /* stdout closed without a line: collect the rest of stderr briefly, so
   * the message can quote the plugin's last words. */
  while (h->proc.stderr_fd >= 0) {
    struct pollfd pfd = {h->proc.stderr_fd, POLLIN, 0};
    char eb[4096];
    ssize_t n;

    if (poll(&pfd, 1, 1000) <= 0) {
      break;
    }
    n = read(h->proc.stderr_fd, eb, sizeof(eb));
    if (n <= 0) {
      break;
    }
    stderr_feed(h, eb, (size_t)n);
  }
  stderr_flush(h);
  if (soupc__process_wait(&h->proc, 1000)) {
    soupc__process_status_text(status_text, sizeof(status_text),
                               h->proc.wait_status);
  } else {
    snprintf(status_text, sizeof(status_text), "stdout closed");
  }
  if (len > 0) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "garbled handshake line: \"%.60s\" has no newline (%s)",
                     buf, status_text);
    rv = SOUPC_ERR_HANDSHAKE;
  } else {
    soupc_status_set(st, SOUPC_GRPC_UNAVAILABLE,
                     "plugin exited before its handshake (%s)%s%s", status_text,
                     h->last_err[0] != '\0' ? ": " : "", h->last_err);
    rv = SOUPC_ERR_PLUGIN_EXITED;
  }

fail:
  soupc__free(buf);
  return rv;
}

/* A peer that closes its TLS connection first (a Go plugin after
 * Shutdown) makes OpenSSL's write(2) raise SIGPIPE, which would kill the
 * host. gRPC C-core ignores SIGPIPE process-wide for the same reason; we do
 * it only when the disposition is still the default. */
static void ignore_sigpipe(void) {
  struct sigaction old, sa;

  if (sigaction(SIGPIPE, NULL, &old) == 0 && old.sa_handler == SIG_DFL &&
      (old.sa_flags & SA_SIGINFO) == 0) {
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
  }
}

/* ---- public ---- */

int soupc_plugin_host_launch(soupc_plugin_host **out,
                             const soupc_plugin_host_options *user_opts,
                             soupc_status *st) {
  soupc_plugin_host_options o;
  const soupc_plugin_host_options *opts = &o;
  struct soupc_plugin_host *h = NULL;
  char *exe = NULL, *line = NULL;
  char **envp = NULL;
  char *ours[7] = {NULL};
  char fd_text[16];
  int cert_pipe[2] = {-1, -1};
  int late_cert;
  char versions[256];
  const char *default_argv[2];
  const char *const *argv;
  int rv, timeout;

  assert(out != NULL && user_opts != NULL);
  soupc_status_clear(st);
  /* docs/api/abi.md: read the caller's struct at its own size. */
  rv = soupc__options_copy(&o, sizeof(o), user_opts,
                           "soupc_plugin_host_options", st);
  if (rv != 0) {
    return rv;
  }
  ignore_sigpipe();
  if (opts->cookie_key == NULL || opts->cookie_key[0] == '\0' ||
      opts->cookie_value == NULL) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "no magic cookie key or value was set");
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  rv = soupc__process_resolve(&exe, opts->path, st);
  if (rv != 0) {
    return rv;
  }
  h = host_new(opts);
  if (h == NULL) {
    rv = SOUPC_ERR_NOMEM;
    goto fail;
  }
  h->launched = 1;
  /* client_cert_pipe: our certificate goes to the plugin on a pipe after
   * the spawn, so the key is made while the plugin starts. */
  late_cert = opts->client_cert_pipe && !opts->no_automtls &&
              (opts->client_cert_pem == NULL || opts->client_key_pem == NULL);
  if (!late_cert) {
    rv = client_cert(h, opts, st);
    if (rv != 0) {
      goto fail;
    }
  }
  if (opts->socket_dir >= 0) {
    const char *tmp = getenv("TMPDIR");
    size_t cap;

    tmp = tmp == NULL || tmp[0] == '\0' ? "/tmp" : tmp;
    cap = strlen(tmp) + sizeof("/plugin-dirXXXXXX");
    h->socket_dir = soupc__malloc(cap);
    if (h->socket_dir == NULL) {
      rv = SOUPC_ERR_NOMEM;
      goto fail;
    }
    snprintf(h->socket_dir, cap, "%s/plugin-dirXXXXXX", tmp);
    /* §1: a 0700 directory (mkdtemp's mode), removed at Kill. */
    if (mkdtemp(h->socket_dir) == NULL) {
      soupc_status_set(st, SOUPC_GRPC_INTERNAL,
                       "cannot create a socket directory in %s: %s", tmp,
                       strerror(errno));
      soupc__free(h->socket_dir);
      h->socket_dir = NULL;
      rv = SOUPC_ERR_IO;
      goto fail;
    }
  }

  /* §6.2.1: the environment. */
  {
    static const int def[] = {1};
    const int *vs =
        opts->versions != NULL && opts->n_versions > 0 ? opts->versions : def;
    size_t n =
        opts->versions != NULL && opts->n_versions > 0 ? opts->n_versions : 1;
    size_t used = 0, i;

    versions[0] = '\0';
    for (i = 0; i < n && used < sizeof(versions); i++) {
      int w = snprintf(versions + used, sizeof(versions) - used, "%s%d",
                       i == 0 ? "" : ",", vs[i]);
      used += w > 0 ? (size_t)w : 0;
    }
  }
  ours[0] = kv(opts->cookie_key, opts->cookie_value);
  ours[1] = kv("PLUGIN_MIN_PORT", "10000");
  ours[2] = kv("PLUGIN_MAX_PORT", "25000");
  ours[3] = kv("PLUGIN_PROTOCOL_VERSIONS", versions);
  if (ours[0] == NULL || ours[1] == NULL || ours[2] == NULL ||
      ours[3] == NULL) {
    rv = SOUPC_ERR_NOMEM;
    goto fail;
  }
  if (h->client_cert_pem != NULL && !opts->no_automtls) {
    ours[4] = kv("PLUGIN_CLIENT_CERT", h->client_cert_pem);
    if (ours[4] == NULL) {
      rv = SOUPC_ERR_NOMEM;
      goto fail;
    }
  }
  if (h->socket_dir != NULL) {
    ours[5] = kv("PLUGIN_UNIX_SOCKET_DIR", h->socket_dir);
    if (ours[5] == NULL) {
      rv = SOUPC_ERR_NOMEM;
      goto fail;
    }
  }
  if (late_cert) {
    /* The read end must not land on fds 0-2, which the child replaces. */
    if (pipe2(cert_pipe, O_CLOEXEC) != 0) {
      soupc_status_set(st, SOUPC_GRPC_INTERNAL, "pipe: %s", strerror(errno));
      rv = SOUPC_ERR_IO;
      goto fail;
    }
    if (cert_pipe[0] <= STDERR_FILENO) {
      int fd = fcntl(cert_pipe[0], F_DUPFD_CLOEXEC, STDERR_FILENO + 1);

      close(cert_pipe[0]);
      cert_pipe[0] = fd;
      if (fd < 0) {
        soupc_status_set(st, SOUPC_GRPC_INTERNAL, "fcntl: %s", strerror(errno));
        rv = SOUPC_ERR_IO;
        goto fail;
      }
    }
    snprintf(fd_text, sizeof(fd_text), "%d", cert_pipe[0]);
    /* An inherited PLUGIN_CLIENT_CERT would win over the pipe. */
    ours[4] = kv("PLUGIN_CLIENT_CERT", "");
    ours[6] = kv("SOUPC_PLUGIN_CLIENT_CERT_FD", fd_text);
    if (ours[4] == NULL || ours[6] == NULL) {
      rv = SOUPC_ERR_NOMEM;
      goto fail;
    }
  }
  envp = build_env(ours, 7, opts->env);
  if (envp == NULL) {
    rv = SOUPC_ERR_NOMEM;
    goto fail;
  }
  default_argv[0] = opts->path;
  default_argv[1] = NULL;
  argv = opts->argv != NULL ? opts->argv : default_argv;

  rv = soupc__process_spawn(&h->proc, exe, (char *const *)argv, envp,
                            cert_pipe[0], st);
  if (rv != 0) {
    goto fail;
  }
  if (late_cert) {
    close(cert_pipe[0]);
    cert_pipe[0] = -1;
    rv = client_cert(h, opts, st);
    if (rv != 0) {
      goto fail;
    }
    /* A PEM certificate is far below the pipe's capacity: this does not
     * block. If the plugin is gone, its handshake read reports it. */
    (void)write_all(cert_pipe[1], h->client_cert_pem,
                    strlen(h->client_cert_pem));
    close(cert_pipe[1]);
    cert_pipe[1] = -1;
  }
  timeout =
      opts->handshake_timeout_ms > 0 ? opts->handshake_timeout_ms : 60 * 1000;
  rv = read_handshake(h, &line, timeout, st);
  if (rv != 0) {
    goto fail;
  }
  rv = soupc__plugin_handshake_parse_into(&h->hs, line, strlen(line), st);
  if (rv != 0) {
    goto fail;
  }
  rv = version_ok(opts, h->hs.app_version, st);
  if (rv != 0) {
    goto fail;
  }
  if (late_cert && h->hs.cert_pem == NULL) {
    /* It did not read the pipe: not a soupc_plugin_serve() plugin. */
    soupc_status_set(st, SOUPC_GRPC_FAILED_PRECONDITION,
                     "the plugin ignored SOUPC_PLUGIN_CLIENT_CERT_FD and "
                     "serves without TLS; launch it without "
                     "client_cert_pipe");
    rv = SOUPC_ERR_HANDSHAKE;
    goto fail;
  }
  if (pthread_create(&h->pump, NULL, pump, h) != 0) {
    rv = SOUPC_ERR_IO;
    soupc_status_set(st, SOUPC_GRPC_INTERNAL, "cannot start a thread");
    goto fail;
  }
  h->pump_started = 1;
  rv = connect_plugin(h, opts, st);
  if (rv != 0) {
    goto fail;
  }
  soupc__free(line);
  soupc__free(exe);
  soupc__free(envp);
  for (size_t i = 0; i < 7; i++) {
    soupc__free(ours[i]);
  }
  *out = h;
  return 0;

fail:
  for (size_t i = 0; i < 2; i++) {
    if (cert_pipe[i] >= 0) {
      close(cert_pipe[i]);
    }
  }
  if (h != NULL) {
    teardown(h, 0);
    host_free(h);
  }
  soupc__free(line);
  soupc__free(exe);
  soupc__free(envp);
  for (size_t i = 0; i < 7; i++) {
    soupc__free(ours[i]);
  }
  return rv;
}

int soupc_plugin_host_reattach(soupc_plugin_host **out,
                               const char *handshake_line,
                               const soupc_plugin_host_options *user_opts,
                               soupc_status *st) {
  soupc_plugin_host_options o;
  const soupc_plugin_host_options *opts = &o;
  struct soupc_plugin_host *h;
  int rv;

  assert(out != NULL && handshake_line != NULL);
  soupc_status_clear(st);
  /* docs/api/abi.md: read the caller's struct at its own size; NULL is all
   * defaults. */
  rv = soupc__options_copy(&o, sizeof(o), user_opts,
                           "soupc_plugin_host_options", st);
  if (rv != 0) {
    return rv;
  }
  ignore_sigpipe();
  h = host_new(opts);
  if (h == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  rv = soupc__plugin_handshake_parse_into(&h->hs, handshake_line,
                                          strlen(handshake_line), st);
  if (rv != 0) {
    goto fail;
  }
  rv = version_ok(opts, h->hs.app_version, st);
  if (rv != 0) {
    goto fail;
  }
  /* rpc-spec.md §7.5: a client cert only matters when the line has a cert;
   * an AutoMTLS plugin trusts only its PLUGIN_CLIENT_CERT, so the caller
   * must pass that pair to get in. */
  if (h->hs.cert_pem != NULL) {
    rv = client_cert(h, opts, st);
    if (rv != 0) {
      goto fail;
    }
  }
  rv = connect_plugin(h, opts, st);
  if (rv != 0) {
    goto fail;
  }
  *out = h;
  return 0;

fail:
  teardown(h, 0);
  host_free(h);
  return rv;
}

soupc_channel *soupc_plugin_host_channel(soupc_plugin_host *host) {
  return host->ch;
}

const soupc_plugin_handshake *
soupc_plugin_host_handshake(const soupc_plugin_host *host) {
  return &host->hs;
}

pid_t soupc_plugin_host_pid(const soupc_plugin_host *host) {
  return host->launched ? host->proc.pid : 0;
}

int soupc_plugin_host_ping(soupc_plugin_host *host, int64_t timeout_ms,
                           soupc_status *st) {
  Grpc__Health__V1__HealthCheckRequest req =
      GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
  uint8_t buf[32];
  uint8_t *resp = NULL;
  size_t resp_len = 0, n;
  int code;

  req.service = (char *)"plugin";
  n = grpc__health__v1__health_check_request__pack(&req, buf);
  code = soupc_channel_unary(host->ch, "/grpc.health.v1.Health/Check", buf, n,
                             &resp, &resp_len, timeout_ms, st);
  free(resp);
  return code;
}

int soupc_plugin_host_kill(soupc_plugin_host *host) {
  int rv;

  if (host == NULL) {
    return 0;
  }
  rv = teardown(host, 1);
  host_free(host);
  return rv;
}

void soupc_plugin_host_close(soupc_plugin_host *host) {
  if (host == NULL) {
    return;
  }
  teardown(host, host->launched);
  host_free(host);
}
