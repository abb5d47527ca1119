/* soupc_plugin_serve(): the plugin side of go-plugin, in the order of
 * go-plugin-protocol.md §6.1. One function per state, the state in one
 * struct serve: CHECK (cookie, version, options) -> TLS -> LISTEN ->
 * REGISTER -> SERVING (handshake printed) -> STOPPING -> DONE.
 * docs/internals/plugin.md draws them. */
#include "plugin/plugin_int.h"
#include "soupc/reflection.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/io.h"
#include "base/options.h"

/* Bytes of stdout/stderr kept for a host that has not subscribed yet. */
#define STDIO_BUFFER_CAP ((size_t)64 * 1024)
/* How long in-flight calls may run once we stop (the host allows 2 s). */
#define STOP_GRACE_MS 500

/* The stop pipe's write end, for the signal handlers (one serve() per
 * process). */
static volatile sig_atomic_t stop_write_fd = -1;

static void on_signal(int sig) {
  int saved = errno;
  char byte = sig == SIGINT ? 'i' : 't';

  if (stop_write_fd >= 0) {
    (void)!write(stop_write_fd, &byte, 1);
  }
  errno = saved;
}

struct signals {
  struct sigaction old_int, old_term, old_pipe;
  int installed;
};

struct serve {
  const soupc_plugin_serve_options *opts;
  soupc_plugin_register_fn register_services;
  void *user_data;
  soupc_status *st;

  soupc_plugin_info info;
  struct plugin_tls tls;
  struct signals sigs;
  struct side_services *ss;
  struct stdio_capture *cap;
  struct broker *broker;
  soupc_reflection *refl; /* NULL with no_reflection */
  /* PLUGIN_MULTIPLEX_GRPC: the host's one connection on mux_fd carries
   * everything (mux.c); the server listens on inner_path for the bridge. */
  int multiplex;
  struct plugin_mux *mux;
  int mux_fd;
  char *inner_path;
  soupc_server *srv;
  const char *network; /* "unix" or "tcp" */
  char *sock_path;     /* unix: ours, unlinked at stop */
  char *line;          /* the handshake line, without its '\n' */
  char addr[128];      /* field 4 */
  int stop_pipe[2];    /* bytes: 's' Shutdown, 't' SIGTERM, 'i' SIGINT */
  int version;         /* negotiated app version */
  int lo, hi;          /* tcp: PLUGIN_MIN_PORT..PLUGIN_MAX_PORT */
  int out_fd;          /* where the handshake line goes */
};

static void signals_install(struct signals *s, int write_fd) {
  struct sigaction sa;

  stop_write_fd = write_fd;
  memset(&sa, 0, sizeof(sa));
  sigemptyset(&sa.sa_mask);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESTART;
  /* §2.5: SIGINT is ignored (a terminal's Ctrl-C reaches the whole process
   * group; the host decides when plugins end), but logged at trace; SIGTERM
   * stops us gracefully (§6.1.10). Handlers only write a byte. */
  sigaction(SIGINT, &sa, &s->old_int);
  sigaction(SIGTERM, &sa, &s->old_term);
  sa.sa_handler = SIG_IGN;
  /* §6.1.3: the host may die; a write to its socket must not kill us. */
  sigaction(SIGPIPE, &sa, &s->old_pipe);
  s->installed = 1;
}

static void signals_restore(struct signals *s) {
  if (!s->installed) {
    return;
  }
  sigaction(SIGINT, &s->old_int, NULL);
  sigaction(SIGTERM, &s->old_term, NULL);
  sigaction(SIGPIPE, &s->old_pipe, NULL);
  stop_write_fd = -1;
  s->installed = 0;
}

/* CHECK: our own options, the cookie (§2.1), the version (§2.2), the
 * network and port range (§2.3). Nothing is created yet. */
static int serve_check(struct serve *s) {
  const soupc_plugin_serve_options *opts = s->opts;
  const char *env_cookie;
  soupc_log_level level = SOUPC_LOG_INFO;
  int rv;

  /* §2.1: an empty cookie in our own config is a bug in the plugin; Go
   * writes this text and exits 1. */
  if (opts->cookie_key == NULL || opts->cookie_key[0] == '\0' ||
      opts->cookie_value == NULL || opts->cookie_value[0] == '\0') {
    (void)soupc__write_all(STDERR_FILENO,
                           SOUPC__PLUGIN_COOKIE_MISCONFIGURED_TEXT,
                           strlen(SOUPC__PLUGIN_COOKIE_MISCONFIGURED_TEXT));
    soupc_status_set(s->st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "no magic cookie key or value was set");
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  if (opts->log_level != NULL &&
      soupc_log_level_parse(&level, opts->log_level) != 0) {
    soupc_status_set(s->st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "unknown log level \"%s\"", opts->log_level);
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  soupc_log_configure(level, SOUPC_LOG_HCLOG_JSON);
  env_cookie = getenv(opts->cookie_key);
  if (soupc__plugin_cookie_check(opts->cookie_key, opts->cookie_value,
                                 env_cookie) != 0) {
    /* §2.1: exact bytes, stderr only, nothing on stdout. */
    (void)soupc__write_all(STDERR_FILENO, SOUPC__PLUGIN_COOKIE_MISMATCH_TEXT,
                           strlen(SOUPC__PLUGIN_COOKIE_MISMATCH_TEXT));
    soupc_status_set(s->st, SOUPC_GRPC_FAILED_PRECONDITION,
                     "magic cookie %s does not match; this binary is a plugin",
                     opts->cookie_key);
    return SOUPC_ERR_COOKIE;
  }
  if (soupc__plugin_negotiate_version(
          &s->version, getenv("PLUGIN_PROTOCOL_VERSIONS"), opts->app_versions,
          opts->n_app_versions) != 0) {
    soupc_log(SOUPC_LOG_DEBUG, "plugin",
              "no common app protocol version with the host; offering %d",
              s->version);
  }
  s->network = opts->network == NULL || opts->network[0] == '\0'
                   ? "unix"
                   : opts->network;
  if (strcmp(s->network, "unix") != 0 && strcmp(s->network, "tcp") != 0) {
    soupc_status_set(s->st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "unknown network \"%s\"; expected unix or tcp",
                     s->network);
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  if (strcmp(s->network, "tcp") == 0) {
    rv = soupc__plugin_port_range(&s->lo, &s->hi, getenv("PLUGIN_MIN_PORT"),
                                  getenv("PLUGIN_MAX_PORT"), s->st);
    if (rv != 0) {
      return rv;
    }
  }
  return 0;
}

/* strconv.ParseBool, which go-plugin applies to PLUGIN_MULTIPLEX_GRPC. */
static int parse_go_bool(const char *v) {
  static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
  size_t i;

  for (i = 0; v != NULL && i < sizeof(yes) / sizeof(yes[0]); i++) {
    if (strcmp(v, yes[i]) == 0) {
      return 1;
    }
  }
  return 0;
}

/* LISTEN, multiplexed: the handshake's socket @p fd waits for the host's
 * one connection; the server gets a private socket the bridge connects
 * streams to. */
static int serve_listen_mux(struct serve *s, int fd) {
  char text[4200];
  int ifd, rv;

  s->mux_fd = fd;
  ifd = soupc__plugin_listen_unix(&s->inner_path, soupc__plugin_socket_dir(),
                                  NULL, s->st);
  if (ifd < 0) {
    return ifd;
  }
  (void)chmod(s->inner_path, 0600); /* only the bridge connects here */
  snprintf(text, sizeof(text), "unix:%s", s->inner_path);
  rv = soupc_server_listen_fd(s->srv, ifd, text);
  if (rv != 0) {
    close(ifd);
    soupc_status_set(s->st, SOUPC_GRPC_INTERNAL, "cannot serve on %s", text);
    return rv;
  }
  return soupc__mux_new(&s->mux, 0, soupc__plugin_socket_dir(), s->inner_path,
                        s->st);
}

/* LISTEN (§2.3): the stop pipe, signals if asked, the server, and a socket
 * bound and listening before the handshake is printed. */
static int serve_listen(struct serve *s) {
  soupc_server_options so;
  soupc_tls_options to;
  char listen_text[160];
  int fd, port = 0, rv;

  if (pipe2(s->stop_pipe, O_CLOEXEC) != 0 ||
      fcntl(s->stop_pipe[1], F_SETFL, O_NONBLOCK) != 0) {
    soupc_status_set(s->st, SOUPC_GRPC_INTERNAL, "pipe: %s", strerror(errno));
    return SOUPC_ERR_IO;
  }
  if (s->opts->handle_signals) {
    signals_install(&s->sigs, s->stop_pipe[1]);
  }
  to = (soupc_tls_options)SOUPC_TLS_OPTIONS_INIT;
  so = (soupc_server_options)SOUPC_SERVER_OPTIONS_INIT;
  if (s->opts->server_limits != NULL) {
    /* Read at the caller's size (docs/api/abi.md); only the limits count. */
    rv = soupc__options_copy(&so, sizeof(so), s->opts->server_limits,
                             "soupc_server_options", s->st);
    if (rv != 0) {
      return rv;
    }
    so.tls = NULL;
  }
  so.max_message_size = s->opts->max_message_size;
  so.workers = s->opts->workers;
  if (s->tls.kind != SOUPC_PLUGIN_TLS_NONE) {
    to.cert_pem = s->tls.cert_pem;
    to.key_pem = s->tls.key_pem;
    /* §3.3: require and verify the host's cert when it gave us one. */
    to.ca_pem = s->tls.client_cert_pem;
    so.tls = &to;
  }
  rv = soupc_server_new(&s->srv, &so, s->st);
  if (rv != 0) {
    return rv;
  }
  if (strcmp(s->network, "unix") == 0) {
    fd = soupc__plugin_listen_unix(&s->sock_path, soupc__plugin_socket_dir(),
                                   getenv("PLUGIN_UNIX_SOCKET_GROUP"), s->st);
    if (fd < 0) {
      return fd;
    }
    snprintf(s->addr, sizeof(s->addr), "%s", s->sock_path);
    snprintf(listen_text, sizeof(listen_text), "unix:%s", s->sock_path);
  } else {
    fd = soupc__plugin_listen_tcp(&port, s->lo, s->hi, s->st);
    if (fd < 0) {
      return fd;
    }
    snprintf(s->addr, sizeof(s->addr), "127.0.0.1:%d", port);
    snprintf(listen_text, sizeof(listen_text), "127.0.0.1:%d", port);
  }
  if (s->multiplex) {
    return serve_listen_mux(s, fd);
  }
  rv = soupc_server_listen_fd(s->srv, fd, listen_text);
  if (rv != 0) {
    close(fd);
    soupc_status_set(s->st, SOUPC_GRPC_INTERNAL, "cannot serve on %s",
                     listen_text);
  }
  return rv;
}

/* gRPC reflection, as go-plugin registers it (server.go: reflection.Register):
 * our descriptors plus the application's. */
static int serve_reflection(struct serve *s) {
  soupc_reflection_options ro = SOUPC_REFLECTION_OPTIONS_INIT;
  int rv;

  ro.descriptor_set = s->opts->reflection_descriptor_set;
  ro.descriptor_set_len = s->opts->reflection_descriptor_set_len;
  rv = soupc_reflection_new(&s->refl, &ro, s->st);
  if (rv == 0) {
    rv = soupc_reflection_register(s->refl, s->srv);
  }
  if (rv != 0 && s->st != NULL && s->st->message[0] == '\0') {
    soupc_status_set(s->st, soupc_err_to_grpc(rv),
                     "cannot register gRPC reflection: %s", soupc_strerror(rv));
  }
  return rv;
}

/* REGISTER: the side services, the handshake line, what we decided (info),
 * then the application's services. */
static int serve_register(struct serve *s) {
  const char *mux_env = getenv("PLUGIN_MULTIPLEX_GRPC");
  int rv;

  /* go-plugin's GRPCBroker: brokered connections on our network, with our
   * TLS (grpc_broker.go newGRPCBroker(..., s.TLS, ...)). */
  rv = soupc__broker_new_plugin(&s->broker, s->network, s->tls.cert_pem,
                                s->tls.key_pem, s->tls.client_cert_pem, s->lo,
                                s->hi);
  if (rv != 0) {
    return rv;
  }
  if (s->mux != NULL) {
    soupc__broker_set_mux(s->broker, s->mux);
  }
  rv = soupc__side_services_new(&s->ss, s->srv, s->stop_pipe[1],
                                s->opts->ignore_shutdown, s->broker);
  if (rv != 0) {
    soupc_status_set(s->st, SOUPC_GRPC_INTERNAL,
                     "cannot register the go-plugin side services: %s",
                     soupc_strerror(rv));
    return rv;
  }
  soupc__side_services_set_health(s->ss, s->opts->health_check, s->user_data);
  if (!s->opts->no_reflection) {
    rv = serve_reflection(s);
    if (rv != 0) {
      return rv;
    }
  }
  /* §2.4 / §5: six fields; the 7th ("true": we can multiplex, as
   * go-plugin >= 1.6 always says) only when the host sets
   * PLUGIN_MULTIPLEX_GRPC, since go-plugin 1.0.x hosts read a 7th field as
   * part of the certificate. */
  rv = soupc__plugin_handshake_format(
      &s->line, s->version, s->network, s->addr, s->tls.cert_b64,
      mux_env != NULL && mux_env[0] != '\0' ? 1 : -1);
  if (rv != 0) {
    return rv;
  }
  s->line[strlen(s->line) - 1] = '\0';
  s->info.app_version = s->version;
  soupc__plugin_tls_describe(&s->tls, &s->info);
  s->info.network = s->network;
  s->info.address = s->addr;
  s->info.handshake_line = s->line;
  s->info.broker = (soupc_plugin_broker *)s->broker;
  if (s->register_services == NULL) {
    return 0;
  }
  rv = s->register_services(s->srv, &s->info, s->user_data);
  if (rv != 0 && s->st != NULL && s->st->message[0] == '\0') {
    soupc_status_set(s->st, soupc_err_to_grpc(rv),
                     "the application's services failed to register: %s",
                     soupc_strerror(rv));
  }
  return rv;
}

/* SERVING, part 1: capture stdio if asked, start, print the line. */
static int serve_start(struct serve *s) {
  size_t len;
  int rv;

  s->out_fd = STDOUT_FILENO;
  if (s->opts->capture_stdio) {
    /* §2.5: fd 1 and fd 2 feed GRPCStdio. The capture is in place before
     * we serve, because the host opens StreamStdio as soon as it reads the
     * line; the line itself goes to the real stdout. A failure here only
     * costs the forwarding. */
    if (soupc__stdio_capture_start(&s->cap, STDIO_BUFFER_CAP) == 0) {
      soupc__side_services_set_stdio(s->ss, s->cap);
      s->out_fd = soupc__stdio_capture_real_stdout(s->cap);
    } else {
      soupc_log(SOUPC_LOG_WARN, "plugin",
                "cannot capture stdout/stderr; GRPCStdio stays empty");
    }
  }
  rv = soupc_server_start(s->srv);
  if (rv != 0) {
    soupc_status_set(s->st, SOUPC_GRPC_INTERNAL, "cannot start the server: %s",
                     soupc_strerror(rv));
    return rv;
  }
  if (s->mux != NULL) {
    rv = soupc__mux_serve(s->mux, s->mux_fd, s->st);
    s->mux_fd = -1; /* the multiplexer's now */
    if (rv != 0) {
      return rv;
    }
  }
  /* §2.4: serving first, then the line, flushed at once; it must be the
   * first thing on stdout, so it bypasses stdio buffering. */
  len = strlen(s->line);
  s->line[len] = '\n';
  fflush(stdout);
  rv = soupc__write_all(s->out_fd, s->line, len + 1);
  s->line[len] = '\0';
  if (rv != 0) {
    soupc_status_set(s->st, SOUPC_GRPC_UNAVAILABLE,
                     "cannot write the handshake line: %s", strerror(errno));
    return SOUPC_ERR_IO;
  }
  soupc_log(SOUPC_LOG_INFO, "plugin",
            "plugin serving: network=%s address=%s tls=%s version=%d",
            s->network, s->addr, s->tls.mode_name, s->version);
  return 0;
}

/* SERVING, part 2: block until Shutdown or SIGTERM; SIGINT is logged. */
static void serve_wait(struct serve *s) {
  for (;;) {
    struct pollfd pfd = {s->stop_pipe[0], POLLIN, 0};
    char byte;
    ssize_t n;

    if (poll(&pfd, 1, -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      return;
    }
    n = read(s->stop_pipe[0], &byte, 1);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return;
    }
    if (byte == 'i') {
      soupc_log(SOUPC_LOG_TRACE, "plugin",
                "plugin received interrupt signal, ignoring");
      continue;
    }
    soupc_log(SOUPC_LOG_INFO, "plugin", "%s",
              byte == 't' ? "received SIGTERM; stopping"
                          : "stopping on the host's request");
    return;
  }
}

/* STOPPING, and the cleanup of every earlier state: flush stdio to the
 * host, end held streams, stop the server (§4.4: reply, stop, unlink, exit
 * well within 2 s), then free. Safe after a failure in any state. */
static void serve_stop(struct serve *s) {
  if (s->ss != NULL) {
    soupc__side_services_set_stdio(s->ss, NULL);
  }
  soupc__stdio_capture_stop(s->cap);
  s->cap = NULL;
  /* The broker's stream, its dials and its servers end before ours. */
  soupc__broker_close(s->broker);
  if (s->ss != NULL) {
    soupc__side_services_finish_all(s->ss);
  }
  if (s->srv != NULL) {
    soupc_server_shutdown(s->srv, STOP_GRACE_MS);
    soupc_server_wait(s->srv);
    soupc_server_free(s->srv);
    s->srv = NULL;
  }
  /* The server's GOAWAY has gone through the bridge; now the session. */
  soupc__mux_free(s->mux);
  s->mux = NULL;
  if (s->mux_fd >= 0) {
    close(s->mux_fd);
    s->mux_fd = -1;
  }
  if (s->inner_path != NULL) {
    unlink(s->inner_path);
  }
  if (s->sock_path != NULL) {
    unlink(s->sock_path);
  }
  soupc__side_services_free(s->ss);
  s->ss = NULL;
  soupc__broker_free(s->broker);
  s->broker = NULL;
  soupc_reflection_free(s->refl); /* after the server */
  s->refl = NULL;
}

static void serve_dispose(struct serve *s) {
  soupc__free(s->sock_path);
  soupc__free(s->inner_path);
  soupc__free(s->line);
  signals_restore(&s->sigs);
  for (int i = 0; i < 2; i++) {
    if (s->stop_pipe[i] >= 0) {
      close(s->stop_pipe[i]);
    }
  }
  soupc__plugin_tls_dispose(&s->tls);
}

int soupc_plugin_serve(const soupc_plugin_serve_options *user_opts,
                       soupc_plugin_register_fn register_services,
                       void *user_data, soupc_status *st) {
  soupc_plugin_serve_options o;
  const soupc_plugin_serve_options *opts = &o;
  struct serve s;
  int rv;

  assert(user_opts != NULL);
  soupc_status_clear(st);
  /* docs/api/abi.md: read the caller's struct at its own size. */
  rv = soupc__options_copy(&o, sizeof(o), user_opts,
                           "soupc_plugin_serve_options", st);
  if (rv != 0) {
    return rv;
  }
  memset(&s, 0, sizeof(s));
  s.opts = opts;
  s.register_services = register_services;
  s.user_data = user_data;
  s.st = st;
  s.stop_pipe[0] = s.stop_pipe[1] = -1;
  s.tls.late_fd = -1;
  s.mux_fd = -1;
  s.multiplex = parse_go_bool(getenv("PLUGIN_MULTIPLEX_GRPC"));

  rv = serve_check(&s);
  if (rv == 0) {
    rv = soupc__plugin_tls_prepare(&s.tls, opts, st);
  }
  if (rv == 0) {
    rv = serve_listen(&s);
  }
  if (rv == 0) {
    rv = serve_register(&s);
  }
  if (rv == 0) {
    rv = serve_start(&s);
  }
  if (rv == 0) {
    serve_wait(&s);
  }
  serve_stop(&s);
  if (rv == 0) {
    if (opts->on_stop != NULL) {
      opts->on_stop(user_data);
    }
    soupc_log(SOUPC_LOG_DEBUG, "plugin", "plugin stopped");
  }
  serve_dispose(&s);
  return rv;
}
