/* soupc_plugin_serve(): the plugin side of go-plugin, in the order of
 * go-plugin-protocol.md §6.1. States: CHECK (cookie, version, options) ->
 * TLS -> LISTEN -> REGISTER -> SERVING (handshake printed) -> STOPPING ->
 * DONE. docs/internals/plugin.md draws them. */
#include "plugin/plugin_int.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/options.h"
#include "soupc/cert.h"

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

struct tls_setup {
  soupc_plugin_tls kind;
  const char *mode_name;
  char *cert_pem; /* ours; malloc'd (cert.h: free()) */
  char *key_pem;
  char *cert_b64; /* field 6 */
  const char *client_cert_pem;
  char *client_cert_buf; /* read from SOUPC_PLUGIN_CLIENT_CERT_FD; malloc'd */
  int late_fd;           /* that fd until read, else -1 */
  soupc_key_type key_type;
  soupc_curve curve;
  int rsa_bits;
};

static char *read_file(const char *path, soupc_status *st) {
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  size_t len = 0, cap = 0, n;

  if (f == NULL) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT, "cannot read %s: %s",
                     path, strerror(errno));
    return NULL;
  }
  for (;;) {
    if (cap - len < 4096) {
      char *nb = realloc(buf, cap + 65536);

      if (nb == NULL) {
        free(buf);
        fclose(f);
        soupc_status_set(st, SOUPC_GRPC_RESOURCE_EXHAUSTED, "out of memory");
        return NULL;
      }
      buf = nb;
      cap += 65536;
    }
    n = fread(buf + len, 1, cap - len - 1, f);
    len += n;
    if (n == 0) {
      break;
    }
  }
  fclose(f);
  buf[len] = '\0';
  return buf;
}

/* A soup-c host with client_cert_pipe passes its certificate on this
 * inherited fd rather than in PLUGIN_CLIENT_CERT, and writes it while we
 * start. @return the fd (now close-on-exec, the variable removed) or -1. */
static int client_cert_fd(void) {
  const char *text = getenv("SOUPC_PLUGIN_CLIENT_CERT_FD");
  char *end;
  long fd;

  if (text == NULL) {
    return -1;
  }
  fd = strtol(text, &end, 10);
  unsetenv("SOUPC_PLUGIN_CLIENT_CERT_FD");
  if (end == text || *end != '\0' || fd <= STDERR_FILENO || fd > 65535 ||
      fcntl((int)fd, F_SETFD, FD_CLOEXEC) != 0) {
    return -1;
  }
  return (int)fd;
}

/* Reads @p fd to EOF (at most 64 KiB) and closes it. @return malloc'd text
 * or NULL. */
static char *read_client_cert(int fd) {
  size_t cap = 64 * 1024, len = 0;
  char *buf = malloc(cap + 1);

  while (buf != NULL && len < cap) {
    ssize_t n = read(fd, buf + len, cap - len);

    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      free(buf);
      buf = NULL;
      break;
    }
    if (n == 0) {
      break;
    }
    len += (size_t)n;
  }
  close(fd);
  if (buf != NULL) {
    buf[len] = '\0';
  }
  return buf;
}

/* Decides and prepares TLS (rpc-spec.md §3.1 table, with the fix that a C
 * server always publishes the certificate it serves). */
static int tls_prepare(struct tls_setup *t,
                       const soupc_plugin_serve_options *opts,
                       soupc_status *st) {
  const char *mode = opts->tls_mode == NULL ? "" : opts->tls_mode;
  const char *client = getenv("PLUGIN_CLIENT_CERT");
  soupc_cert_options co;
  uint8_t *der = NULL;
  size_t der_len = 0;
  int rv;

  memset(t, 0, sizeof(*t));
  t->late_fd = -1;
  t->key_type = SOUPC_KEY_EC;
  t->curve = SOUPC_CURVE_P384;
  t->rsa_bits = opts->tls_rsa_bits == 0 ? 2048 : opts->tls_rsa_bits;
  if (opts->tls_key_type != NULL && opts->tls_key_type[0] != '\0' &&
      soupc_key_type_parse(&t->key_type, opts->tls_key_type) != 0) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "unsupported TLS key type \"%s\"; expected ec or rsa",
                     opts->tls_key_type);
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  if (opts->tls_curve != NULL && opts->tls_curve[0] != '\0' &&
      strcasecmp(opts->tls_curve, "auto") != 0 &&
      soupc_curve_parse(&t->curve, opts->tls_curve) != 0) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "unsupported curve: %s; expected secp256r1, secp384r1 "
                     "or secp521r1",
                     opts->tls_curve);
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  if (t->key_type == SOUPC_KEY_RSA && soupc_rsa_bits_check(t->rsa_bits) != 0) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "unsupported RSA key size %d; expected 2048, 3072 or "
                     "4096",
                     t->rsa_bits);
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  if (client != NULL && client[0] == '\0') {
    client = NULL;
  }
  if (client == NULL) {
    t->late_fd = client_cert_fd();
  }
  if (mode[0] == '\0' || strcmp(mode, "disabled") == 0) {
    t->kind = client != NULL || t->late_fd >= 0 ? SOUPC_PLUGIN_TLS_AUTOMTLS
                                                : SOUPC_PLUGIN_TLS_NONE;
  } else if (strcmp(mode, "auto") == 0) {
    t->kind = client != NULL || t->late_fd >= 0 ? SOUPC_PLUGIN_TLS_AUTOMTLS
                                                : SOUPC_PLUGIN_TLS_AUTO;
  } else if (strcmp(mode, "manual") == 0) {
    t->kind = SOUPC_PLUGIN_TLS_MANUAL;
  } else {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "unknown TLS mode \"%s\"; expected disabled, auto or "
                     "manual",
                     mode);
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  static const char *const names[] = {"disabled", "automtls", "auto", "manual"};
  t->mode_name = names[t->kind];
  if (t->kind == SOUPC_PLUGIN_TLS_NONE) {
    return 0;
  }
  t->client_cert_pem = client;
  if (client != NULL) {
    /* §3.3: Go only logs a bad PEM and then rejects every connection; an
     * error before the handshake is clearer. */
    rv = soupc_cert_pem_to_der(&der, &der_len, client);
    free(der);
    der = NULL;
    if (rv != 0) {
      soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                       "PLUGIN_CLIENT_CERT is not a PEM certificate");
      return SOUPC_ERR_TLS;
    }
  }
  if (t->kind == SOUPC_PLUGIN_TLS_MANUAL) {
    if (opts->cert_file == NULL || opts->key_file == NULL) {
      soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                       "TLS mode manual needs a certificate file and a key "
                       "file");
      return SOUPC_ERR_INVALID_ARGUMENT;
    }
    t->cert_pem = read_file(opts->cert_file, st);
    if (t->cert_pem == NULL) {
      return SOUPC_ERR_TLS;
    }
    t->key_pem = read_file(opts->key_file, st);
    if (t->key_pem == NULL) {
      return SOUPC_ERR_TLS;
    }
    if (soupc_cert_describe(&t->key_type, &t->curve, &t->rsa_bits,
                            t->cert_pem) != 0) {
      soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                       "%s holds no PEM certificate", opts->cert_file);
      return SOUPC_ERR_TLS;
    }
  } else {
    co = (soupc_cert_options)SOUPC_CERT_OPTIONS_INIT;
    co.key_type = t->key_type;
    co.curve = t->curve;
    co.rsa_bits = t->rsa_bits;
    /* §3.1: go-plugin's AutoMTLS cert is a CA (IsCA + CertSign), because
     * each side pins the other's cert as its only root. */
    co.is_ca = 1;
    co.validity_days = 3650;
    rv = soupc_cert_generate(&t->cert_pem, &t->key_pem, &co, st);
    if (rv != 0) {
      return rv == SOUPC_ERR_NOMEM ? rv : SOUPC_ERR_TLS;
    }
  }
  if (t->late_fd >= 0) {
    /* The host wrote it while we made our key. */
    t->client_cert_buf = read_client_cert(t->late_fd);
    t->late_fd = -1;
    if (t->client_cert_buf == NULL || t->client_cert_buf[0] == '\0') {
      soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                       "cannot read the host's certificate from "
                       "SOUPC_PLUGIN_CLIENT_CERT_FD");
      return SOUPC_ERR_TLS;
    }
    t->client_cert_pem = t->client_cert_buf;
    rv = soupc_cert_pem_to_der(&der, &der_len, t->client_cert_pem);
    free(der);
    der = NULL;
    if (rv != 0) {
      soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                       "SOUPC_PLUGIN_CLIENT_CERT_FD did not carry a PEM "
                       "certificate");
      return SOUPC_ERR_TLS;
    }
  }
  /* §2.4 field 6: RawStd base64 of the leaf's DER; rpc-spec.md §3.1: a C
   * server publishes it whenever it serves TLS. */
  rv = soupc_cert_pem_to_der(&der, &der_len, t->cert_pem);
  if (rv == 0) {
    rv = soupc_base64_encode_unpadded(&t->cert_b64, der, der_len);
  }
  free(der);
  if (rv != 0) {
    soupc_status_set(st, SOUPC_GRPC_INTERNAL,
                     "cannot encode our certificate for the handshake");
    return SOUPC_ERR_TLS;
  }
  return 0;
}

static void tls_dispose(struct tls_setup *t) {
  if (t->late_fd >= 0) {
    close(t->late_fd);
    t->late_fd = -1;
  }
  free(t->client_cert_buf);
  free(t->cert_pem);
  if (t->key_pem != NULL) {
    explicit_bzero(t->key_pem, strlen(t->key_pem));
  }
  free(t->key_pem);
  free(t->cert_b64);
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

struct signals {
  struct sigaction old_int, old_term, old_pipe;
  int installed;
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

int soupc_plugin_serve(const soupc_plugin_serve_options *user_opts,
                       soupc_plugin_register_fn register_services,
                       void *user_data, soupc_status *st) {
  soupc_plugin_serve_options o;
  const soupc_plugin_serve_options *opts = &o;
  soupc_server_options so;
  soupc_tls_options to;
  soupc_plugin_info info;
  struct tls_setup tls;
  struct signals sigs;
  struct side_services *ss = NULL;
  struct stdio_capture *cap = NULL;
  soupc_server *srv = NULL;
  soupc_log_level level = SOUPC_LOG_INFO;
  const char *network;
  char *sock_path = NULL;
  char *line = NULL;
  char addr[128];
  char listen_text[160];
  int stop_pipe[2] = {-1, -1};
  int version, fd, rv, port = 0, lo = 0, hi = 0;
  int out_fd = STDOUT_FILENO;

  assert(user_opts != NULL);
  /* docs/api/abi.md: read the caller's struct at its own size. */
  rv = soupc__options_copy(&o, sizeof(o), user_opts,
                           "soupc_plugin_serve_options", st);
  if (rv != 0) {
    return rv;
  }
  memset(&tls, 0, sizeof(tls));
  tls.late_fd = -1;
  memset(&sigs, 0, sizeof(sigs));
  memset(&info, 0, sizeof(info));

  /* CHECK. §2.1: an empty cookie in our own config is a bug in the plugin;
   * Go writes this text and exits 1. */
  if (opts->cookie_key == NULL || opts->cookie_key[0] == '\0' ||
      opts->cookie_value == NULL || opts->cookie_value[0] == '\0') {
    (void)!write_all(STDERR_FILENO, SOUPC__PLUGIN_COOKIE_MISCONFIGURED_TEXT,
                     strlen(SOUPC__PLUGIN_COOKIE_MISCONFIGURED_TEXT));
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "no magic cookie key or value was set");
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  if (opts->log_level != NULL &&
      soupc_log_level_parse(&level, opts->log_level) != 0) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "unknown log level \"%s\"", opts->log_level);
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  soupc_log_configure(level, SOUPC_LOG_HCLOG_JSON);
  rv = soupc__plugin_cookie_check(opts->cookie_key, opts->cookie_value,
                                  getenv(opts->cookie_key));
  if (rv != 0) {
    /* §2.1: exact bytes, stderr only, nothing on stdout. */
    (void)!write_all(STDERR_FILENO, SOUPC__PLUGIN_COOKIE_MISMATCH_TEXT,
                     strlen(SOUPC__PLUGIN_COOKIE_MISMATCH_TEXT));
    soupc_status_set(st, SOUPC_GRPC_FAILED_PRECONDITION,
                     "magic cookie %s does not match; this binary is a plugin",
                     opts->cookie_key);
    return SOUPC_ERR_COOKIE;
  }
  if (soupc__plugin_negotiate_version(
          &version, getenv("PLUGIN_PROTOCOL_VERSIONS"), opts->app_versions,
          opts->n_app_versions) != 0) {
    soupc_log(SOUPC_LOG_DEBUG, "plugin",
              "no common app protocol version with the host; offering %d",
              version);
  }
  network = opts->network == NULL || opts->network[0] == '\0' ? "unix"
                                                              : opts->network;
  if (strcmp(network, "unix") != 0 && strcmp(network, "tcp") != 0) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "unknown network \"%s\"; expected unix or tcp", network);
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  if (strcmp(network, "tcp") == 0) {
    rv = soupc__plugin_port_range(&lo, &hi, getenv("PLUGIN_MIN_PORT"),
                                  getenv("PLUGIN_MAX_PORT"), st);
    if (rv != 0) {
      return rv;
    }
  }

  /* TLS */
  rv = tls_prepare(&tls, opts, st);
  if (rv != 0) {
    goto fail;
  }

  if (pipe2(stop_pipe, O_CLOEXEC) != 0 ||
      fcntl(stop_pipe[1], F_SETFL, O_NONBLOCK) != 0) {
    soupc_status_set(st, SOUPC_GRPC_INTERNAL, "pipe: %s", strerror(errno));
    rv = SOUPC_ERR_IO;
    goto fail;
  }
  signals_install(&sigs, stop_pipe[1]);

  to = (soupc_tls_options)SOUPC_TLS_OPTIONS_INIT;
  so = (soupc_server_options)SOUPC_SERVER_OPTIONS_INIT;
  so.max_message_size = opts->max_message_size;
  so.workers = opts->workers;
  if (tls.kind != SOUPC_PLUGIN_TLS_NONE) {
    to.cert_pem = tls.cert_pem;
    to.key_pem = tls.key_pem;
    /* §3.3: require and verify the host's cert when it gave us one. */
    to.ca_pem = tls.client_cert_pem;
    so.tls = &to;
  }
  rv = soupc_server_new(&srv, &so, st);
  if (rv != 0) {
    goto fail;
  }

  /* LISTEN (§2.3): bound and listening before the handshake is printed. */
  if (strcmp(network, "unix") == 0) {
    fd = soupc__plugin_listen_unix(&sock_path, soupc__plugin_socket_dir(),
                                   getenv("PLUGIN_UNIX_SOCKET_GROUP"), st);
    if (fd < 0) {
      rv = fd;
      goto fail;
    }
    snprintf(addr, sizeof(addr), "%s", sock_path);
    snprintf(listen_text, sizeof(listen_text), "unix:%s", sock_path);
  } else {
    fd = soupc__plugin_listen_tcp(&port, lo, hi, st);
    if (fd < 0) {
      rv = fd;
      goto fail;
    }
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
    snprintf(listen_text, sizeof(listen_text), "127.0.0.1:%d", port);
  }
  rv = soupc_server_listen_fd(srv, fd, listen_text);
  if (rv != 0) {
    close(fd);
    soupc_status_set(st, SOUPC_GRPC_INTERNAL, "cannot serve on %s",
                     listen_text);
    goto fail;
  }

  /* REGISTER */
  rv = soupc__side_services_new(&ss, srv, stop_pipe[1], opts->ignore_shutdown);
  if (rv != 0) {
    soupc_status_set(st, SOUPC_GRPC_INTERNAL,
                     "cannot register the go-plugin side services: %s",
                     soupc_strerror(rv));
    goto fail;
  }
  /* §2.4 / §5: six fields; a 7th only when PLUGIN_MULTIPLEX_GRPC asks for
   * it, and then "false" (soup-c has no yamux; a >= v1.6 host reports it).
   * "true" would make the host speak yamux at us. */
  rv = soupc__plugin_handshake_format(
      &line, version, network, addr, tls.cert_b64,
      getenv("PLUGIN_MULTIPLEX_GRPC") != NULL &&
              getenv("PLUGIN_MULTIPLEX_GRPC")[0] != '\0'
          ? 0
          : -1);
  if (rv != 0) {
    goto fail;
  }
  info.app_version = version;
  info.tls = tls.kind;
  info.tls_mode = tls.mode_name;
  info.tls_key_type = tls.kind == SOUPC_PLUGIN_TLS_NONE ? ""
                      : tls.key_type == SOUPC_KEY_RSA   ? "rsa"
                                                        : "ec";
  info.tls_curve =
      tls.kind == SOUPC_PLUGIN_TLS_NONE || tls.key_type != SOUPC_KEY_EC
          ? ""
          : soupc_curve_name(tls.curve);
  info.tls_rsa_bits =
      tls.kind != SOUPC_PLUGIN_TLS_NONE && tls.key_type == SOUPC_KEY_RSA
          ? tls.rsa_bits
          : 0;
  info.server_cert_pem = tls.cert_pem;
  info.client_cert_pem = tls.client_cert_pem;
  info.network = network;
  info.address = addr;
  line[strlen(line) - 1] = '\0';
  info.handshake_line = line;
  if (register_services != NULL) {
    rv = register_services(srv, &info, user_data);
    if (rv != 0) {
      if (st != NULL && st->message[0] == '\0') {
        soupc_status_set(st, soupc_err_to_grpc(rv),
                         "the application's services failed to register: %s",
                         soupc_strerror(rv));
      }
      goto fail;
    }
  }
  if (!opts->no_stdio_capture) {
    /* §2.5: fd 1 and fd 2 feed GRPCStdio. The capture is in place before
     * we serve, because the host opens StreamStdio as soon as it reads the
     * line; the line itself goes to the real stdout. A failure here only
     * costs the forwarding. */
    if (soupc__stdio_capture_start(&cap, STDIO_BUFFER_CAP) == 0) {
      soupc__side_services_set_stdio(ss, cap);
      out_fd = soupc__stdio_capture_real_stdout(cap);
    } else {
      soupc_log(SOUPC_LOG_WARN, "plugin",
                "cannot capture stdout/stderr; GRPCStdio stays empty");
    }
  }
  rv = soupc_server_start(srv);
  if (rv != 0) {
    soupc_status_set(st, SOUPC_GRPC_INTERNAL, "cannot start the server: %s",
                     soupc_strerror(rv));
    goto fail;
  }

  /* SERVING. §2.4: serving first, then the line, flushed at once; it must
   * be the first thing on stdout, so it bypasses stdio buffering. */
  line[strlen(line)] = '\n';
  fflush(stdout);
  rv = write_all(out_fd, line, strlen(line));
  line[strlen(line) - 1] = '\0';
  if (rv != 0) {
    soupc_status_set(st, SOUPC_GRPC_UNAVAILABLE,
                     "cannot write the handshake line: %s", strerror(errno));
    rv = SOUPC_ERR_IO;
    goto fail;
  }
  soupc_log(SOUPC_LOG_INFO, "plugin",
            "plugin serving: network=%s address=%s tls=%s version=%d", network,
            addr, tls.mode_name, version);

  for (;;) {
    struct pollfd pfd = {stop_pipe[0], POLLIN, 0};
    char byte;
    ssize_t n;

    if (poll(&pfd, 1, -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      break;
    }
    n = read(stop_pipe[0], &byte, 1);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    if (byte == 'i') {
      soupc_log(SOUPC_LOG_TRACE, "plugin",
                "plugin received interrupt signal, ignoring");
      continue;
    }
    soupc_log(SOUPC_LOG_INFO, "plugin", "%s",
              byte == 't' ? "received SIGTERM; stopping"
                          : "stopping on the host's request");
    break;
  }

  /* STOPPING: flush stdio to the host, end held streams, stop the server
   * (§4.4: reply, stop, unlink, exit well within 2 s). */
  soupc__side_services_set_stdio(ss, NULL);
  soupc__stdio_capture_stop(cap);
  cap = NULL;
  soupc__side_services_finish_all(ss);
  soupc_server_shutdown(srv, STOP_GRACE_MS);
  soupc_server_wait(srv);
  soupc_server_free(srv);
  srv = NULL;
  if (sock_path != NULL) {
    unlink(sock_path);
  }
  soupc__side_services_free(ss);
  ss = NULL;
  if (opts->on_stop != NULL) {
    opts->on_stop(user_data);
  }
  soupc_log(SOUPC_LOG_DEBUG, "plugin", "plugin stopped");
  rv = 0;

fail:
  if (ss != NULL) {
    soupc__side_services_set_stdio(ss, NULL);
  }
  soupc__stdio_capture_stop(cap);
  if (ss != NULL) {
    soupc__side_services_finish_all(ss);
  }
  soupc_server_free(srv);
  soupc__side_services_free(ss);
  if (sock_path != NULL) {
    unlink(sock_path);
  }
  soupc__free(sock_path);
  soupc__free(line);
  signals_restore(&sigs);
  if (stop_pipe[0] >= 0) {
    close(stop_pipe[0]);
  }
  if (stop_pipe[1] >= 0) {
    close(stop_pipe[1]);
  }
  tls_dispose(&tls);
  return rv;
}
