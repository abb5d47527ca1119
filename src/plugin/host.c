/* The host side of go-plugin (go-plugin-protocol.md §6.2): launch or
 * reattach, handshake, dial, side streams, and the kill sequence.
 *
 * soupc_plugin_host_launch() walks one small function per state, the state
 * in one struct launch: CHECK (options, path, checksum) -> TLS (our client
 * certificate) -> ENV (socket directory, environment) -> SPAWN -> HANDSHAKE
 * (read, parse, versions) -> CONNECT (pump, dial, side streams).
 *
 * Invariant for every path out of launch: either the caller gets a host
 * whose kill/close reaps the child and removes the socket directory, or
 * this file has already done both (teardown()). */
#include "plugin/host_int.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/io.h"
#include "base/options.h"
#include "health.pb-c.h"
#include "plugin.pb-c.h"

/* §6.2.9: Kill's grace period, and our deadline on Shutdown. */
#define KILL_GRACE_MS 2000
/* §2.6: go-plugin's StartTimeout. */
#define DEFAULT_START_TIMEOUT_MS (60 * 1000)

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

/* The plugin ends StreamStdio once it has flushed its output (at Shutdown);
 * the kill sequence waits for that instead of the process exit. §6.2.7:
 * UNIMPLEMENTED/UNAVAILABLE mean "no stdio". */
static void stdio_closed(soupc_client_stream *stream,
                         const soupc_status *status, void *user_data) {
  struct soupc_plugin_host *h = user_data;

  (void)stream;
  if (status->code != SOUPC_GRPC_OK && status->code != SOUPC_GRPC_CANCELLED &&
      status->code != SOUPC_GRPC_UNIMPLEMENTED &&
      status->code != SOUPC_GRPC_UNAVAILABLE) {
    soupc_log(SOUPC_LOG_DEBUG, "plugin", "plugin stdio stream ended: %s: %s",
              soupc_grpc_code_name(status->code), status->message);
  }
  (void)!write(h->stdio_end[1], "e", 1);
}

/* ---- teardown ---- */

static void remove_socket_dir(struct soupc_plugin_host *h) {
  DIR *d;
  struct dirent *e;

  if (h->socket_dir == NULL) {
    return;
  }
  if (rmdir(h->socket_dir) != 0 && errno != ENOENT) {
    /* The plugin's sockets (main and broker) are the only things in it. */
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

/* A launched plugin: up to the deadline for its own exit (when @p shutdown),
 * then SIGKILL and reap, then drain the pipes. @return non-zero if it exited
 * by itself with status 0. */
static int reap_launched(struct soupc_plugin_host *h, int shutdown,
                         int64_t deadline) {
  int graceful = 0;

  if (shutdown) {
    int64_t left = deadline - soupc__plugin_now_ms();

    graceful = soupc__process_wait(&h->proc, left > 0 ? (int)left : 0);
  }
  if (!soupc__process_wait(&h->proc, 0)) {
    kill(h->proc.pid, SIGKILL);
    soupc__process_wait(&h->proc, 60 * 1000);
    graceful = 0;
  }
  /* Step 5: drain the pipes to EOF (bounded: a grandchild may hold them).
   */
  soupc__host_pump_stop(h);
  soupc__process_kill(&h->proc);
  return graceful && WIFEXITED(h->proc.wait_status) &&
         WEXITSTATUS(h->proc.wait_status) == 0;
}

/* Ends everything. @p shutdown: ask the plugin first (GRPCController).
 * @return 0 if the plugin stopped by itself with status 0 (reattached:
 * acknowledged Shutdown, and a known pid is gone), SOUPC_ERR_PLUGIN_EXITED
 * otherwise. */
static int teardown(struct soupc_plugin_host *h, int shutdown) {
  int graceful, acked = 0;
  int64_t deadline;

  /* §6.2.9 step 1: close the broker (its stream and brokered servers). */
  soupc__broker_free(h->broker);
  h->broker = NULL;
  if (shutdown && h->ch != NULL) {
    soupc_status st;

    /* Step 2: Shutdown with a deadline (Go has none and can hang). */
    acked = soupc_channel_unary(h->ch, "/plugin.GRPCController/Shutdown", NULL,
                                0, NULL, NULL, KILL_GRACE_MS, &st) == 0;
  }
  deadline = soupc__plugin_now_ms() + KILL_GRACE_MS;
  if (h->launched && shutdown && h->stdio_stream != NULL) {
    /* The plugin ends StreamStdio with its last output before it stops
     * serving; once that arrived (or the plugin is gone) nothing more comes
     * on the channel. Close the channel then, as go-plugin does right after
     * Shutdown: a plugin that still has our connection open waits for it. */
    soupc__process_wait_or(&h->proc, KILL_GRACE_MS, h->stdio_end[0]);
  }
  /* Step 3: close the streams and the channel. */
  soupc_client_stream_free(h->stdio_stream);
  h->stdio_stream = NULL;
  soupc_channel_free(h->ch);
  h->ch = NULL;
  soupc__mux_free(h->mux); /* the multiplexed session, after its streams */
  h->mux = NULL;
  if (h->launched) {
    graceful = reap_launched(h, shutdown, deadline);
  } else if (h->attached_pid > 0) {
    /* go-plugin's reattached runner: wait for the pid, then kill it. */
    graceful = acked && shutdown &&
               soupc__process_wait_pid(h->attached_pid, KILL_GRACE_MS);
    if (shutdown && !graceful) {
      kill(h->attached_pid, SIGKILL);
    }
  } else {
    graceful = acked;
  }
  /* Step 6: remove the socket directory we created. */
  remove_socket_dir(h);
  return graceful ? 0 : SOUPC_ERR_PLUGIN_EXITED;
}

static void host_free(struct soupc_plugin_host *h) {
  int *fds[] = {h->wake, h->stdio_end};

  for (size_t i = 0; i < 2; i++) {
    for (size_t j = 0; j < 2; j++) {
      if (fds[i][j] >= 0) {
        close(fds[i][j]);
      }
    }
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
  const char *base;

  if (h == NULL) {
    return NULL;
  }
  h->wake[0] = h->wake[1] = -1;
  h->stdio_end[0] = h->stdio_end[1] = -1;
  h->proc.stdout_fd = h->proc.stderr_fd = -1;
  h->hs.mux = -1;
  h->errline = soupc__malloc(HOST_MAX_LINE);
  if (h->errline == NULL || pipe2(h->wake, O_CLOEXEC) != 0 ||
      pipe2(h->stdio_end, O_CLOEXEC | O_NONBLOCK) != 0) {
    host_free(h);
    return NULL;
  }
  snprintf(h->module, sizeof(h->module), "plugin");
  if (o == NULL) {
    return h;
  }
  h->on_output = o->on_output;
  h->output_user_data = o->output_user_data;
  h->forward_stderr = o->forward_stderr;
  h->log_stderr = o->log_stderr;
  if (o->path != NULL) {
    base = strrchr(o->path, '/');
    snprintf(h->module, sizeof(h->module), "%s",
             base != NULL ? base + 1 : o->path);
  }
  return h;
}

/* Our client certificate: the caller's, or a generated one (§3.2). The
 * zero curve is P-256: go-plugin's host uses P-521, but no plugin
 * constrains the host's key, and P-256 costs a tenth to make and use. */
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

/* §6.2.6-§6.2.7: dial, then open GRPCStdio and start the broker. */
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
  if (h->multiplex) {
    /* go-plugin's GRPCClientMuxer: one connection, every gRPC connection a
     * yamux stream over it, the main one first. */
    rv = soupc__mux_new(&h->mux, 1,
                        h->socket_dir != NULL ? h->socket_dir
                                              : soupc__plugin_socket_dir(),
                        NULL, st);
    if (rv == 0) {
      rv = soupc__mux_connect(h->mux, h->hs.network, h->hs.address, st);
    }
    if (rv != 0) {
      return rv;
    }
  }
  rv = soupc_channel_open(&h->ch,
                          h->mux != NULL ? soupc__mux_dial_address(h->mux)
                                         : h->hs.dial_address,
                          &co, st);
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
  /* go-plugin's background StartStream: the host's end of the broker. */
  rv = soupc__broker_new_host(&h->broker, h->ch, &h->hs, h->client_cert_pem,
                              h->client_key_pem, h->socket_dir, st);
  if (rv == 0 && h->mux != NULL) {
    soupc__broker_set_mux(h->broker, h->mux);
  }
  return rv;
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

/* ---- launch, one function per state ---- */

struct launch {
  const soupc_plugin_host_options *opts;
  soupc_status *st;
  struct soupc_plugin_host *h;
  char *exe;           /* resolved path */
  struct host_env env; /* the child's environment */
  int cert_pipe[2];    /* client_cert_pipe: our cert goes here */
  int late_cert;       /* the cert is made after the spawn */
  char *line;          /* the handshake line */
};

/* CHECK: options, the executable, and SecureConfig before anything runs. */
static int launch_check(struct launch *l) {
  const soupc_plugin_host_options *o = l->opts;
  int rv;

  if (o->cookie_key == NULL || o->cookie_key[0] == '\0' ||
      o->cookie_value == NULL) {
    soupc_status_set(l->st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "no magic cookie key or value was set");
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  rv = soupc__process_resolve(&l->exe, o->path, l->st);
  if (rv != 0) {
    return rv;
  }
  if (o->secure_checksum != NULL) {
    /* go-plugin checks cmd.Path before starting it; a mismatch starts
     * nothing. */
    rv = soupc__host_secure_check(l->exe, o->secure_checksum,
                                  o->secure_checksum_len, l->st);
    if (rv != 0) {
      return rv;
    }
  }
  l->h = host_new(o);
  if (l->h == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  l->h->launched = 1;
  return 0;
}

/* TLS: our client certificate now, or after the spawn with
 * client_cert_pipe (the key is then made while the plugin starts). */
static int launch_tls(struct launch *l) {
  const soupc_plugin_host_options *o = l->opts;

  l->late_cert = o->client_cert_pipe && !o->no_automtls &&
                 (o->client_cert_pem == NULL || o->client_key_pem == NULL);
  return l->late_cert ? 0 : client_cert(l->h, o, l->st);
}

static int make_socket_dir(struct soupc_plugin_host *h, soupc_status *st) {
  const char *tmp = getenv("TMPDIR");
  size_t cap;

  tmp = tmp == NULL || tmp[0] == '\0' ? "/tmp" : tmp;
  cap = strlen(tmp) + sizeof("/plugin-dirXXXXXX");
  h->socket_dir = soupc__malloc(cap);
  if (h->socket_dir == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  snprintf(h->socket_dir, cap, "%s/plugin-dirXXXXXX", tmp);
  /* §1: a 0700 directory (mkdtemp's mode), removed at Kill. */
  if (mkdtemp(h->socket_dir) == NULL) {
    soupc_status_set(st, SOUPC_GRPC_INTERNAL,
                     "cannot create a socket directory in %s: %s", tmp,
                     strerror(errno));
    soupc__free(h->socket_dir);
    h->socket_dir = NULL;
    return SOUPC_ERR_IO;
  }
  return 0;
}

/* The read end of the certificate pipe must not land on fds 0-2, which the
 * child replaces. */
static int make_cert_pipe(int p[2], soupc_status *st) {
  if (pipe2(p, O_CLOEXEC) != 0) {
    soupc_status_set(st, SOUPC_GRPC_INTERNAL, "pipe: %s", strerror(errno));
    return SOUPC_ERR_IO;
  }
  if (p[0] <= STDERR_FILENO) {
    int fd = fcntl(p[0], F_DUPFD_CLOEXEC, STDERR_FILENO + 1);

    close(p[0]);
    p[0] = fd;
    if (fd < 0) {
      soupc_status_set(st, SOUPC_GRPC_INTERNAL, "fcntl: %s", strerror(errno));
      return SOUPC_ERR_IO;
    }
  }
  return 0;
}

/* ENV (§6.2.1): the socket directory, the certificate pipe, the env. */
static int launch_env(struct launch *l) {
  const soupc_plugin_host_options *o = l->opts;
  struct host_env_params p;
  int rv;

  if (o->socket_dir >= 0) {
    rv = make_socket_dir(l->h, l->st);
    if (rv != 0) {
      return rv;
    }
  }
  if (l->late_cert) {
    rv = make_cert_pipe(l->cert_pipe, l->st);
    if (rv != 0) {
      return rv;
    }
  }
  memset(&p, 0, sizeof(p));
  p.cookie_key = o->cookie_key;
  p.cookie_value = o->cookie_value;
  p.versions = o->versions;
  p.n_versions = o->n_versions;
  p.client_cert_pem = o->no_automtls ? NULL : l->h->client_cert_pem;
  p.socket_dir = l->h->socket_dir;
  p.cert_fd = l->late_cert ? l->cert_pipe[0] : -1;
  p.skip_host_env = o->skip_host_env;
  p.multiplex = o->multiplex;
  p.extra = o->env;
  return soupc__host_env_build(&l->env, &p);
}

/* SPAWN, then hand over the late certificate. */
static int launch_spawn(struct launch *l) {
  const char *default_argv[2] = {l->opts->path, NULL};
  const char *const *argv =
      l->opts->argv != NULL ? l->opts->argv : default_argv;
  int rv;

  rv = soupc__process_spawn(&l->h->proc, l->exe, (char *const *)argv,
                            l->env.envp, l->cert_pipe[0], l->st);
  if (rv != 0 || !l->late_cert) {
    return rv;
  }
  close(l->cert_pipe[0]);
  l->cert_pipe[0] = -1;
  rv = client_cert(l->h, l->opts, l->st);
  if (rv != 0) {
    return rv;
  }
  /* A PEM certificate is far below the pipe's capacity: this does not
   * block. If the plugin is gone, its handshake read reports it. */
  (void)soupc__write_all(l->cert_pipe[1], l->h->client_cert_pem,
                         strlen(l->h->client_cert_pem));
  close(l->cert_pipe[1]);
  l->cert_pipe[1] = -1;
  return 0;
}

/* HANDSHAKE: the line within the start timeout, parsed and checked. */
static int launch_handshake(struct launch *l) {
  int timeout = l->opts->handshake_timeout_ms > 0
                    ? l->opts->handshake_timeout_ms
                    : DEFAULT_START_TIMEOUT_MS;
  int rv;

  rv = soupc__host_read_handshake(l->h, &l->line, timeout, l->st);
  if (rv == 0) {
    rv = soupc__plugin_handshake_parse_into(&l->h->hs, l->line, strlen(l->line),
                                            l->st);
  }
  if (rv == 0) {
    rv = version_ok(l->opts, l->h->hs.app_version, l->st);
  }
  if (rv == 0 && l->opts->multiplex && l->h->hs.mux != 1) {
    /* go-plugin's ErrGRPCBrokerMuxNotSupported. */
    soupc_status_set(l->st, SOUPC_GRPC_FAILED_PRECONDITION,
                     "client requested gRPC broker multiplexing but plugin "
                     "does not support the feature%s",
                     l->h->hs.mux < 0 ? " (its handshake has no 7th field)"
                                      : "");
    rv = SOUPC_ERR_UNSUPPORTED;
  }
  l->h->multiplex = l->opts->multiplex;
  if (rv == 0 && l->late_cert && l->h->hs.cert_pem == NULL) {
    /* It did not read the pipe: not a soupc_plugin_serve() plugin. */
    soupc_status_set(l->st, SOUPC_GRPC_FAILED_PRECONDITION,
                     "the plugin ignored SOUPC_PLUGIN_CLIENT_CERT_FD and "
                     "serves without TLS; launch it without "
                     "client_cert_pipe");
    rv = SOUPC_ERR_HANDSHAKE;
  }
  return rv;
}

/* CONNECT: the pump first (stderr must keep flowing), then the dial. */
static int launch_connect(struct launch *l) {
  int rv = soupc__host_pump_start(l->h);

  if (rv != 0) {
    soupc_status_set(l->st, SOUPC_GRPC_INTERNAL, "cannot start a thread");
    return rv;
  }
  return connect_plugin(l->h, l->opts, l->st);
}

int soupc_plugin_host_launch(soupc_plugin_host **out,
                             const soupc_plugin_host_options *user_opts,
                             soupc_status *st) {
  soupc_plugin_host_options o;
  const soupc_plugin_host_options *opts = &o;
  struct launch l;
  int rv;

  assert(out != NULL && user_opts != NULL);
  soupc_status_clear(st);
  /* docs/api/abi.md: read the caller's struct at its own size. */
  rv = soupc__options_copy(&o, sizeof(o), user_opts,
                           "soupc_plugin_host_options", st);
  if (rv != 0) {
    return rv;
  }
  ignore_sigpipe();
  memset(&l, 0, sizeof(l));
  l.opts = opts;
  l.st = st;
  l.cert_pipe[0] = l.cert_pipe[1] = -1;
  rv = launch_check(&l);
  if (rv == 0) {
    rv = launch_tls(&l);
  }
  if (rv == 0) {
    rv = launch_env(&l);
  }
  if (rv == 0) {
    rv = launch_spawn(&l);
  }
  if (rv == 0) {
    rv = launch_handshake(&l);
  }
  if (rv == 0) {
    rv = launch_connect(&l);
  }
  for (size_t i = 0; i < 2; i++) {
    if (l.cert_pipe[i] >= 0) {
      close(l.cert_pipe[i]);
    }
  }
  soupc__host_env_dispose(&l.env);
  soupc__free(l.line);
  soupc__free(l.exe);
  if (rv == 0) {
    *out = l.h;
  } else if (l.h != NULL) {
    teardown(l.h, 0);
    host_free(l.h);
  }
  return rv;
}

/* ---- reattach ---- */

static int reattach_line(soupc_plugin_host **out, const char *line, pid_t pid,
                         const soupc_plugin_host_options *user_opts,
                         soupc_status *st) {
  soupc_plugin_host_options o;
  const soupc_plugin_host_options *opts = &o;
  struct soupc_plugin_host *h;
  int rv;

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
  rv = soupc__plugin_handshake_parse_into(&h->hs, line, strlen(line), st);
  if (rv == 0) {
    rv = version_ok(opts, h->hs.app_version, st);
  }
  /* rpc-spec.md §7.5: a client cert only matters when the line has a cert;
   * an AutoMTLS plugin trusts only its PLUGIN_CLIENT_CERT, so the caller
   * must pass that pair to get in. */
  if (rv == 0 && h->hs.cert_pem != NULL) {
    rv = client_cert(h, opts, st);
  }
  if (rv == 0 && pid > 0 && kill(pid, 0) != 0 && errno == ESRCH) {
    soupc_status_set(st, SOUPC_GRPC_NOT_FOUND,
                     "reattachment process not found: no process %d", (int)pid);
    rv = SOUPC_ERR_NOT_FOUND;
  }
  if (rv == 0) {
    rv = connect_plugin(h, opts, st);
  }
  if (rv != 0) {
    teardown(h, 0);
    host_free(h);
    return rv;
  }
  h->attached_pid = pid;
  *out = h;
  return 0;
}

int soupc_plugin_host_reattach(soupc_plugin_host **out,
                               const char *handshake_line,
                               const soupc_plugin_host_options *opts,
                               soupc_status *st) {
  assert(out != NULL && handshake_line != NULL);
  soupc_status_clear(st);
  return reattach_line(out, handshake_line, 0, opts, st);
}

int soupc_plugin_host_reattach_config(soupc_plugin_host **out,
                                      const soupc_plugin_reattach *rc,
                                      const soupc_plugin_host_options *opts,
                                      soupc_status *st) {
  soupc_plugin_host_options o;
  soupc_plugin_reattach copy;
  char *line = NULL;
  int rv;

  assert(out != NULL && rc != NULL);
  soupc_status_clear(st);
  /* docs/api/abi.md: both structs at the caller's size. */
  rv =
      soupc__options_copy(&copy, sizeof(copy), rc, "soupc_plugin_reattach", st);
  if (rv == 0) {
    rv = soupc__options_copy(&o, sizeof(o), opts, "soupc_plugin_host_options",
                             st);
  }
  if (rv != 0) {
    return rv;
  }
  if (copy.protocol_version <= 0) {
    /* go-plugin only uses ProtocolVersion in test mode: unknown means
     * "ours". */
    copy.protocol_version =
        o.versions != NULL && o.n_versions > 0 ? o.versions[0] : 1;
  }
  rv = soupc__plugin_reattach_line(&line, &copy, st);
  if (rv == 0) {
    rv = reattach_line(out, line, copy.pid, &o, st);
  }
  soupc__free(line);
  return rv;
}

/* ---- accessors and the kill sequence ---- */

soupc_channel *soupc_plugin_host_channel(soupc_plugin_host *host) {
  return host->ch;
}

soupc_plugin_broker *soupc_plugin_host_broker(soupc_plugin_host *host) {
  return (soupc_plugin_broker *)host->broker;
}

const soupc_plugin_handshake *
soupc_plugin_host_handshake(const soupc_plugin_host *host) {
  return &host->hs;
}

pid_t soupc_plugin_host_pid(const soupc_plugin_host *host) {
  return host->launched ? host->proc.pid : host->attached_pid;
}

int soupc_plugin_host_reattach_info(const soupc_plugin_host *host,
                                    soupc_plugin_reattach *out) {
  soupc_plugin_reattach rc = SOUPC_PLUGIN_REATTACH_INIT;
  size_t n = out->struct_size;

  /* docs/api/abi.md: write no further than the caller's struct. */
  if (n < sizeof(size_t) || n > SOUPC__OPTIONS_MAX_SIZE) {
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  rc.protocol = host->hs.protocol;
  rc.protocol_version = host->hs.app_version;
  rc.network = host->hs.network;
  rc.address = host->hs.address;
  rc.pid = soupc_plugin_host_pid(host);
  rc.server_cert_pem = host->hs.cert_pem;
  memcpy(out, &rc, n < sizeof(rc) ? n : sizeof(rc));
  out->struct_size = n;
  return 0;
}

int soupc_plugin_host_ping(soupc_plugin_host *host, int64_t timeout_ms,
                           soupc_status *st) {
  Grpc__Health__V1__HealthCheckRequest req =
      GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
  uint8_t buf[32];
  uint8_t *resp = NULL;
  size_t resp_len = 0, n;
  soupc_status local;
  int rv;

  if (st == NULL) {
    st = &local;
  }
  req.service = (char *)"plugin";
  n = grpc__health__v1__health_check_request__pack(&req, buf);
  rv = soupc_channel_unary(host->ch, "/grpc.health.v1.Health/Check", buf, n,
                           &resp, &resp_len, timeout_ms, st);
  soupc_free(resp);
  if (rv == 0) {
    return 0;
  }
  return soupc__plugin_err_from_grpc(st->code);
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
