/* Standalone mode (rpc-spec.md §3.2, done right): binds 127.0.0.1 unless
 * told otherwise, serves TLS for auto and manual (never a silent plaintext
 * fallback), prints "Server listening on <addr>" once ready, and stops
 * gracefully on SIGTERM or SIGINT. */
#include "cli/server_config.h"
#include "cli/server_limits.h"

#include "cli/cli_util.h"
#include "cli/server_store.h"
#include "kv/kv.h"
#include "soupc/reflection.h"
#include "soupc/rpc.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Grace period for in-flight calls on SIGTERM/SIGINT. */
#define SHUTDOWN_GRACE_MS 10000

/* Writes @p pem to a fresh private directory; @p dir_out and @p path_out
 * receive malloc'd paths. @return 0 or -1 with @p st set. */
static int write_auto_cert(char **dir_out, char **path_out, const char *pem,
                           soupc_status *st) {
  const char *tmp = getenv("TMPDIR");
  char dir[4096], path[4200];
  FILE *f;

  snprintf(dir, sizeof(dir), "%s/soup-c-tls-XXXXXX",
           tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
  if (mkdtemp(dir) == NULL) {
    soupc_status_set(st, SOUPC_GRPC_INTERNAL, "cannot create %s: %s", dir,
                     strerror(errno));
    return -1;
  }
  snprintf(path, sizeof(path), "%s/server-cert.pem", dir);
  f = fopen(path, "w");
  if (f == NULL || fputs(pem, f) < 0 || fclose(f) != 0) {
    soupc_status_set(st, SOUPC_GRPC_INTERNAL, "cannot write %s: %s", path,
                     strerror(errno));
    rmdir(dir);
    return -1;
  }
  *dir_out = strdup(dir);
  *path_out = strdup(path);
  return 0;
}

int server_run_standalone(const struct server_config *cfg) {
  soupc_server_options sopts = SOUPC_SERVER_OPTIONS_INIT;
  soupc_tls_options tls = SOUPC_TLS_OPTIONS_INIT;
  struct server_store store = {0};
  soupc_server *srv = NULL;
  soupc_reflection *refl = NULL;
  soupc_status st;
  char *cert_pem = NULL, *key_pem = NULL, *ca_pem = NULL;
  char *cert_dir = NULL, *cert_path = NULL;
  char address[300];
  sigset_t sigs;
  int sig, rv = CLI_FAIL;

  /* Signals go to the main thread's sigwait(), never to a worker. */
  signal(SIGPIPE, SIG_IGN);
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL);

  if (strcmp(cfg->tls_mode, "auto") == 0) {
    if (soupc_cert_generate(&cert_pem, &key_pem, &cfg->cert, &st) != 0) {
      cli_fail("generating the TLS certificate: %s", st.message);
      goto done;
    }
    if (write_auto_cert(&cert_dir, &cert_path, cert_pem, &st) != 0) {
      cli_fail("%s", st.message);
      goto done;
    }
    setenv("PLUGIN_SERVER_CERT", cert_path, 0);
  } else if (strcmp(cfg->tls_mode, "manual") == 0) {
    if (server_read_pem(&cert_pem, cfg->cert_file, "--cert-file", &st) != 0 ||
        server_read_pem(&key_pem, cfg->key_file, "--key-file", &st) != 0) {
      cli_fail("%s", st.message);
      goto done;
    }
    setenv("PLUGIN_SERVER_CERT", cfg->cert_file, 0);
  }
  if (cfg->client_ca_file != NULL &&
      server_read_pem(&ca_pem, cfg->client_ca_file, "--client-ca-file", &st) !=
          0) {
    cli_fail("%s", st.message);
    goto done;
  }
  server_export_tls_env(cfg, cfg->tls_mode);

  if (server_store_open(&store, cfg, &st) != 0) {
    cli_fail("%s", st.message);
    goto done;
  }
  sopts.max_message_size = cfg->max_message_size;
  sopts.workers = cfg->workers;
  server_limits_apply(cfg, &sopts);
  if (cert_pem != NULL) {
    tls.cert_pem = cert_pem;
    tls.key_pem = key_pem;
    tls.ca_pem = ca_pem;
    sopts.tls = &tls;
  }
  if (soupc_server_new(&srv, &sopts, &st) != 0) {
    cli_fail("%s", st.message);
    goto done;
  }
  if (server_store_register(&store, srv) != 0 ||
      soupc__kv_health_register(store.kv, srv) != 0) {
    cli_fail("registering proto.KV: out of memory");
    goto done;
  }
  if (!cfg->no_reflection && (soupc_reflection_new(&refl, NULL, &st) != 0 ||
                              soupc_reflection_register(refl, srv) != 0)) {
    cli_fail("registering gRPC reflection: %s",
             st.message[0] != '\0' ? st.message : "out of memory");
    goto done;
  }
  if (cfg->listen != NULL) {
    snprintf(address, sizeof(address), "%s", cfg->listen);
  } else {
    snprintf(address, sizeof(address), "127.0.0.1:%d", cfg->port);
  }
  if (soupc_server_listen(srv, address, &st) != 0) {
    cli_fail("cannot listen on %s: %s", address, st.message);
    goto done;
  }
  if (soupc_server_start(srv) != 0) {
    cli_fail("cannot start the server");
    goto done;
  }
  soupc_log(SOUPC_LOG_INFO, "kv",
            "serving proto.KV from %s (tls %s, max message %zu bytes)",
            store.desc, cfg->tls_mode, cfg->max_message_size);
  if (cert_path != NULL) {
    printf("TLS certificate written to %s\n", cert_path);
  }
  printf("Server listening on %s\n", soupc_server_address(srv));
  fflush(stdout);

  if (sigwait(&sigs, &sig) == 0) {
    soupc_log(SOUPC_LOG_INFO, "kv", "received %s; stopping gracefully",
              sig == SIGINT ? "SIGINT" : "SIGTERM");
  }
  soupc_server_shutdown(srv, SHUTDOWN_GRACE_MS);
  soupc_server_wait(srv);
  rv = CLI_OK;

done:
  /* The store first: after soupc_server_wait() its last callbacks may
   * still finish calls, which is safe until soupc_server_free(). */
  server_store_close(&store);
  soupc_server_free(srv);
  soupc_reflection_free(refl); /* after the server */
  if (cert_path != NULL) {
    unlink(cert_path);
    rmdir(cert_dir);
  }
  free(cert_path);
  free(cert_dir);
  free(cert_pem);
  free(key_pem);
  free(ca_pem);
  return rv;
}
