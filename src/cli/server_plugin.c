/* Plugin mode: proto.KV served through plugin.h (go-plugin-protocol.md
 * §6.1). The store is opened only once the cookie and TLS checks have
 * passed, so running the binary by hand creates nothing. */
#include "cli/server_config.h"
#include "cli/server_limits.h"

#include "cli/cli_util.h"
#include "cli/server_store.h"
#include "kv/kv.h"
#include "soupc/plugin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

struct plugin_ctx {
  const struct server_config *cfg;
  struct server_store store;
};

/* soup-go leaves TLS_MODE & co. to the parent in plugin mode, so its
 * enrichment often says "unknown" (rpc-spec.md §3.1); we know the truth. */
static void export_plugin_tls_env(const soupc_plugin_info *info) {
  char bits[16];

  setenv("TLS_MODE", info->tls_mode, 1);
  if (info->tls_key_type[0] != '\0') {
    setenv("TLS_KEY_TYPE", info->tls_key_type, 1);
  }
  if (info->tls_curve[0] != '\0') {
    setenv("TLS_CURVE", info->tls_curve, 1);
  }
  if (info->tls_rsa_bits > 0) {
    snprintf(bits, sizeof(bits), "%d", info->tls_rsa_bits);
    setenv("TLS_KEY_SIZE", bits, 1);
  }
}

static int register_kv(soupc_server *srv, const soupc_plugin_info *info,
                       void *user_data) {
  struct plugin_ctx *ctx = user_data;
  soupc_status st;
  int rv;

  export_plugin_tls_env(info);
  if (server_store_open(&ctx->store, ctx->cfg, &st) != 0) {
    soupc_log(SOUPC_LOG_ERROR, "kv", "%s", st.message);
    return SOUPC_ERR_STORE;
  }
  rv = server_store_register(&ctx->store, srv);
  if (rv != 0) {
    return rv;
  }
  soupc_log(SOUPC_LOG_INFO, "kv", "serving proto.KV from %s", ctx->store.desc);
  return 0;
}

/* Health/Check "proto.KV": the store backend, as on a standalone server
 * (kv_health.c), so that `rpc validate connection` reports an etcd
 * cluster without quorum in plugin mode too. */
static int check_store(const char *service, soupc_status *st, void *user_data) {
  struct plugin_ctx *ctx = user_data;

  if (strcmp(service, "proto.KV") != 0 || ctx->store.kv == NULL) {
    return SOUPC_ERR_NOT_FOUND;
  }
  return soupc__kv_service_health(ctx->store.kv, st);
}

static void close_store(void *user_data) {
  struct plugin_ctx *ctx = user_data;

  server_store_close(&ctx->store);
}

/* $LOG_LEVEL when it names a level; an empty or unknown value is ignored,
 * as in soup-go and the other commands (cli_set_log_level). */
static const char *env_log_level(void) {
  const char *v = getenv("LOG_LEVEL");
  soupc_log_level level;

  return v != NULL && soupc_log_level_parse(&level, v) == 0 ? v : NULL;
}

int server_run_plugin(const struct server_config *cfg) {
  soupc_plugin_serve_options opts = SOUPC_PLUGIN_SERVE_OPTIONS_INIT;
  soupc_server_options limits = SOUPC_SERVER_OPTIONS_INIT;
  struct plugin_ctx ctx = {0};
  const char *cookie_key = getenv("PLUGIN_MAGIC_COOKIE_KEY");
  soupc_status st;
  int rv;

  /* The plugin process ends right after serve() returns, and the host
   * waits for that exit: skip OpenSSL's atexit cleanup, which only frees
   * memory (about 0.3 ms). Before any other OpenSSL call. */
  OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
  ctx.cfg = cfg;
  /* TofuSoup's handshake config: BASIC_PLUGIN=hello (rpc-spec.md §7.1). */
  opts.cookie_key =
      cookie_key != NULL && *cookie_key != '\0' ? cookie_key : "BASIC_PLUGIN";
  opts.cookie_value = "hello";
  opts.tls_mode = cfg->tls_mode;
  opts.tls_key_type = cfg->tls_key_type;
  opts.tls_curve = cfg->tls_curve;
  opts.tls_rsa_bits = cfg->cert.rsa_bits;
  opts.cert_file = cfg->cert_file;
  opts.key_file = cfg->key_file;
  opts.network = cfg->transport_tcp ? "tcp" : "unix";
  opts.max_message_size = cfg->max_message_size;
  opts.workers = cfg->workers;
  server_limits_apply(cfg, &limits);
  opts.server_limits = &limits;
  opts.log_level = cfg->log_level != NULL ? cfg->log_level : env_log_level();
  /* rpc-spec.md §7.5: a reattaching CLI calls Shutdown on every exit; this
   * opt-out keeps one plugin alive across many CLI calls. */
  opts.ignore_shutdown = server_env_switch("SOUPC_PLUGIN_IGNORE_SHUTDOWN");
  opts.on_stop = close_store;
  opts.health_check = check_store;
  opts.no_reflection = cfg->no_reflection;
  /* The soup-c binary is a go-plugin plugin process: GRPCStdio capture and
   * go-plugin's signal rules (§2.5). */
  opts.capture_stdio = 1;
  opts.handle_signals = 1;

  rv = soupc_plugin_serve(&opts, register_kv, &ctx, &st);
  server_store_close(&ctx.store);
  if (rv == 0) {
    return CLI_OK;
  }
  if (rv == SOUPC_ERR_COOKIE) {
    return CLI_FAIL; /* go-plugin's message is already on stderr */
  }
  return cli_fail("%s", st.message);
}
