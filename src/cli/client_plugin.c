/* The KV client as a go-plugin host: launch a plugin (--plugin,
 * $PLUGIN_SERVER_PATH, or soup-c itself) or reattach to a running one from
 * its handshake line (rpc-spec.md §2.3, §7.5). */
#include "cli/client_target.h"

#include "cli/server_config.h"
#include "soupc/cert.h"
#include "soupc/plugin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

/* The hclog level of a plugin's stderr line; non-JSON lines are debug, as
 * go-plugin logs them (go-plugin-protocol.md §2.6). */
static soupc_log_level line_level(const char *line, size_t len) {
  static const char key[] = "\"@level\":\"";
  static const struct {
    const char *name;
    soupc_log_level level;
  } levels[] = {{"error", SOUPC_LOG_ERROR},
                {"warn", SOUPC_LOG_WARN},
                {"info", SOUPC_LOG_INFO},
                {"debug", SOUPC_LOG_DEBUG},
                {"trace", SOUPC_LOG_TRACE}};
  const char *p;
  size_t i;

  p = memmem(line, len, key, sizeof(key) - 1);
  if (p == NULL) {
    return SOUPC_LOG_DEBUG;
  }
  p += sizeof(key) - 1;
  for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
    size_t n = strlen(levels[i].name);
    if ((size_t)(line + len - p) > n &&
        strncasecmp(p, levels[i].name, n) == 0) {
      return levels[i].level;
    }
  }
  return SOUPC_LOG_DEBUG;
}

/* Forwards the plugin's logs at the level they were written, and whatever
 * it writes to stdout/stderr after the handshake (GRPCStdio) to our stderr,
 * so our stdout stays the value alone. */
static void on_plugin_output(soupc_plugin_output kind, const char *data,
                             size_t len, void *user_data) {
  (void)user_data;
  if (kind == SOUPC_PLUGIN_OUTPUT_STDERR_LINE) {
    soupc_log_level level = line_level(data, len);
    /* The plugin's own info chatter is debug detail for a CLI user; its
     * warnings and errors are shown at the default level. */
    if (level == SOUPC_LOG_INFO) {
      level = SOUPC_LOG_DEBUG;
    }
    if (soupc_log_enabled(level)) {
      soupc_log(level, "plugin", "%.*s", (int)len, data);
    }
    return;
  }
  if (soupc_log_enabled(SOUPC_LOG_DEBUG)) {
    soupc_log(SOUPC_LOG_DEBUG, "plugin.stdio", "%.*s", (int)len, data);
  }
}

/* The plugin's argv, as soup-go builds it: "rpc kv server", plus the TLS
 * flags from $TLS_MODE/$TLS_KEY_TYPE/$TLS_CURVE when a mode is set. When
 * the plugin is soup-c itself and nobody chose its key, it is asked for a
 * P-256 one: only we verify it, and a P-384 key costs the session about
 * 2.5 ms of CPU more (keygen, the certificate's and the handshake's
 * signatures, our two verifications; OpenSSL 3.0 has no fast P-384 code).
 * Another plugin gets soup-go's argv unchanged. */
static void build_argv(const char **argv, size_t cap, const char *path,
                       int self) {
  const char *mode = getenv("TLS_MODE");
  const char *key_type = getenv("TLS_KEY_TYPE");
  const char *curve = getenv("TLS_CURVE");
  size_t n = 0;

  argv[n++] = path;
  argv[n++] = "rpc";
  argv[n++] = "kv";
  argv[n++] = "server";
  if (self && (mode == NULL || *mode == '\0') &&
      (curve == NULL || *curve == '\0')) {
    argv[n++] = "--tls-curve";
    argv[n++] = "secp256r1";
  }
  if (mode != NULL && *mode != '\0' && strcmp(mode, "disabled") != 0) {
    argv[n++] = "--tls-mode";
    argv[n++] = mode;
    if (key_type != NULL && *key_type != '\0') {
      argv[n++] = "--tls-key-type";
      argv[n++] = key_type;
    }
    if (curve != NULL && *curve != '\0' &&
        (key_type == NULL || strcmp(key_type, "ec") == 0)) {
      argv[n++] = "--tls-curve";
      argv[n++] = curve;
    }
  }
  argv[n < cap ? n : cap - 1] = NULL;
}

/* Non-zero if @p path is this very executable: then the plugin is served
 * by soupc_plugin_serve() and takes our certificate on a pipe. */
static int is_self(const char *path) {
  struct stat a, b;

  return strchr(path, '/') != NULL && stat(path, &a) == 0 &&
         stat("/proc/self/exe", &b) == 0 && a.st_dev == b.st_dev &&
         a.st_ino == b.st_ino;
}

/* --reattach: go-plugin's ReattachConfig; --ca-file is the plugin's
 * certificate when it serves TLS (a ReattachConfig carries none). */
static int reattach_by_config(struct client_target *t,
                              const struct client_options *opts,
                              const soupc_plugin_host_options *hopts,
                              soupc_status *st) {
  soupc_plugin_reattach rc = SOUPC_PLUGIN_REATTACH_INIT;
  struct client_reattach *r = malloc(sizeof(*r));
  char *ca = NULL;
  int rv = -1;

  if (r == NULL) {
    soupc_status_set(st, SOUPC_GRPC_RESOURCE_EXHAUSTED, "out of memory");
    return -1;
  }
  if (client_reattach_parse(r, opts->reattach, st) == 0 &&
      (opts->ca_file == NULL ||
       server_read_pem(&ca, opts->ca_file, "--ca-file", st) == 0)) {
    rc.protocol = r->protocol;
    rc.protocol_version = r->protocol_version;
    rc.network = r->network;
    rc.address = r->address;
    rc.pid = r->pid;
    rc.server_cert_pem = ca;
    rv = soupc_plugin_host_reattach_config(&t->host, &rc, hopts, st) == 0 ? 0
                                                                          : -1;
  }
  free(ca);
  free(r);
  return rv;
}

int client_target_open_plugin(struct client_target *t,
                              const struct client_options *opts,
                              soupc_status *st) {
  soupc_plugin_host_options hopts = SOUPC_PLUGIN_HOST_OPTIONS_INIT;
  char *cert = NULL, *key = NULL;
  char self[4096];
  const char *argv[16];
  const char *path = opts->plugin_path;
  soupc_curve curve = SOUPC_CURVE_P256;
  uint8_t sum[32];
  int rv = -1;

  /* A plugin session is short and the process exits right after it:
   * OpenSSL's atexit cleanup only frees memory (about 0.3 ms per process,
   * paid after the result is known). Must come before any other OpenSSL
   * call to take effect; harmless otherwise. */
  OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
  if (opts->tls_curve != NULL && strcasecmp(opts->tls_curve, "auto") != 0 &&
      soupc_curve_parse(&curve, opts->tls_curve) != 0) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "invalid --tls-curve \"%s\"", opts->tls_curve);
    return -1;
  }
  if ((opts->cert_file == NULL) != (opts->key_file == NULL)) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "--cert-file and --key-file go together");
    return -1;
  }
  if (opts->cert_file != NULL &&
      (server_read_pem(&cert, opts->cert_file, "--cert-file", st) != 0 ||
       server_read_pem(&key, opts->key_file, "--key-file", st) != 0)) {
    goto done;
  }
  hopts.cookie_key = "BASIC_PLUGIN";
  hopts.cookie_value = "hello";
  hopts.no_automtls = !opts->automtls;
  hopts.curve = (int)curve;
  hopts.client_cert_pem = cert;
  hopts.client_key_pem = key;
  hopts.handshake_timeout_ms = (int)opts->handshake_timeout_ms;
  hopts.on_output = on_plugin_output;
  hopts.max_message_size = opts->max_message_size;

  if (opts->reattach != NULL) {
    if (reattach_by_config(t, opts, &hopts, st) != 0) {
      goto done;
    }
    t->reattached = 1;
  } else if (opts->address != NULL) {
    if (soupc_plugin_host_reattach(&t->host, opts->address, &hopts, st) != 0) {
      goto done;
    }
    t->reattached = 1;
  } else {
    if (path == NULL || *path == '\0') {
      path = getenv("PLUGIN_SERVER_PATH");
    }
    if (path == NULL || *path == '\0') {
      ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
      if (n <= 0) {
        soupc_status_set(st, SOUPC_GRPC_INTERNAL,
                         "cannot find our own executable; use --plugin");
        goto done;
      }
      self[n] = '\0';
      path = self;
    }
    hopts.client_cert_pipe = is_self(path);
    build_argv(argv, sizeof(argv) / sizeof(argv[0]), path,
               hopts.client_cert_pipe);
    hopts.path = path;
    hopts.argv = argv;
    /* soup-c driving soup-c: make our key while the plugin starts. */
    hopts.skip_host_env = opts->skip_host_env;
    hopts.multiplex = opts->multiplex;
    if (opts->plugin_sha256 != NULL) {
      if (client_parse_sha256(sum, opts->plugin_sha256, st) != 0) {
        goto done;
      }
      hopts.secure_checksum = sum;
      hopts.secure_checksum_len = sizeof(sum);
    }
    if (soupc_plugin_host_launch(&t->host, &hopts, st) != 0) {
      goto done;
    }
  }
  t->channel = soupc_plugin_host_channel(t->host);
  t->channel_borrowed = 1;
  rv = 0;

done:
  free(cert);
  free(key);
  return rv;
}

void client_target_close_plugin(struct client_target *t) {
  /* A launched plugin gets go-plugin's Kill sequence. A reattached one keeps
   * running: its Shutdown would stop a server other clients use (rpc-spec.md
   * §7.5, the "terminates after first request" bug). */
  if (t->reattached) {
    soupc_plugin_host_close(t->host);
  } else {
    soupc_plugin_host_kill(t->host);
  }
  t->host = NULL;
  t->channel = NULL;
}
