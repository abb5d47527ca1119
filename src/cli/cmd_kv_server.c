/* soup-c rpc kv server: proto.KV on the LMDB store, as a go-plugin plugin
 * (default) or as a standalone gRPC server (--standalone). Flag names follow
 * TofuSoup's soup-go harness (rpc-spec.md §2.2). */
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/server_config.h"
#include "cli/server_limits.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_help(const char *cmd) {
  printf(
      "Usage: %s [flags]\n"
      "\n"
      "Serve proto.KV (Get/Put) from a durable LMDB store (default) or an "
      "etcd\n"
      "cluster (--store etcd). Without --standalone it\n"
      "is a go-plugin gRPC plugin: it needs BASIC_PLUGIN=hello and prints the\n"
      "go-plugin handshake line on stdout.\n"
      "\n"
      "Flags:\n"
      "  --standalone              plain gRPC server (no go-plugin handshake)\n"
      "  --port N                  standalone TCP port on 127.0.0.1 (default "
      "50051)\n"
      "  --listen ADDR             standalone address: HOST:PORT or "
      "unix:PATH\n"
      "                            (overrides --port; port 0 = ephemeral)\n"
      "  --transport unix|tcp      plugin listener (default unix)\n"
      "  --tls-mode MODE           disabled|auto|manual (default disabled;\n"
      "                            plugin mode always uses AutoMTLS when the "
      "host\n"
      "                            sets PLUGIN_CLIENT_CERT)\n"
      "  --tls-key-type ec|rsa     key type of a generated certificate "
      "(default ec)\n"
      "  --tls-curve NAME          secp256r1|secp384r1|secp521r1 (aliases "
      "P-256,\n"
      "                            p256, prime256v1...; default secp384r1,\n"
      "                            --standalone: secp256r1; 'auto' = default)\n"
      "  --tls-key-bits N          RSA size: 2048|3072|4096 (default 2048)\n"
      "  --cert-file F --key-file F  certificate and key for --tls-mode "
      "manual\n"
      "  --client-ca-file F        require client certificates signed by F\n"
      "  --storage-dir DIR         store directory (default $KV_STORAGE_DIR,\n"
      "                            else $TOFUSOUP_CACHE_DIR/kv-store, else the "
      "XDG\n"
      "                            cache dir + /tofusoup/kv-store)\n"
      "  --store lmdb|etcd         where keys live (default lmdb: embedded, "
      "one\n"
      "                            machine; etcd: a Raft-replicated cluster)\n"
      "  --etcd-endpoints URLS     etcd members, comma-separated: "
      "http://H:P or\n"
      "                            https://H:P (tried in turn on failure)\n"
      "  --etcd-ca-file F          CA certificates that verify the members "
      "(TLS)\n"
      "  --etcd-cert-file F --etcd-key-file F  client certificate for mTLS\n"
      "  --etcd-prefix P           key prefix in etcd (default soupc/kv/)\n"
      "  --etcd-timeout S          seconds per Get/Put, failover included\n"
      "                            (default 5)\n"
      "                            (plugin hosts pass no flags: $KV_STORE,\n"
      "                            $KV_ETCD_ENDPOINTS, $KV_ETCD_PREFIX,\n"
      "                            $KV_ETCD_CA_FILE, $KV_ETCD_CERT_FILE and\n"
      "                            $KV_ETCD_KEY_FILE set the same; flags "
      "win)\n"
      "  --max-message-size N      largest gRPC message in bytes, K/M/G "
      "suffixes\n"
      "                            (default 64M)\n"
      "  --max-key-size N          largest key in bytes (default 64K)\n"
      "  --sync full|none          full: a Put returns after fsync (default);\n"
      "                            none: faster, but a machine crash can lose\n"
      "                            acknowledged Puts\n"
      "  --enrich-json             add \"server_handshake\" to JSON objects on "
      "Get\n"
      "                            (also KV_ENRICH_JSON=1; off by default)\n"
      "  --workers N               worker threads (default: one per core)\n"
      "  --log-level LEVEL         error|warn|info|debug|trace (default info)\n"
      "  --no-reflection           do not serve gRPC reflection (served by\n"
      "                            default: grpc.reflection.v1 and v1alpha)\n"
      "  -h, --help                this help\n"
      "\n",
      cmd);
  server_limit_help(stdout);
}

enum {
  OPT_STANDALONE = 256,
  OPT_PORT,
  OPT_LISTEN,
  OPT_TRANSPORT,
  OPT_TLS_MODE,
  OPT_TLS_KEY_TYPE,
  OPT_TLS_CURVE,
  OPT_TLS_KEY_BITS,
  OPT_CERT_FILE,
  OPT_KEY_FILE,
  OPT_CLIENT_CA_FILE,
  OPT_STORAGE_DIR,
  OPT_STORE,
  OPT_ETCD_ENDPOINTS,
  OPT_ETCD_CA_FILE,
  OPT_ETCD_CERT_FILE,
  OPT_ETCD_KEY_FILE,
  OPT_ETCD_PREFIX,
  OPT_ETCD_TIMEOUT,
  OPT_MAX_MESSAGE_SIZE,
  OPT_MAX_KEY_SIZE,
  OPT_SYNC,
  OPT_ENRICH_JSON,
  OPT_WORKERS,
  OPT_LOG_LEVEL,
  OPT_NO_REFLECTION
};

static const struct option long_options[] = {
    {"standalone", no_argument, NULL, OPT_STANDALONE},
    {"port", required_argument, NULL, OPT_PORT},
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"transport", required_argument, NULL, OPT_TRANSPORT},
    {"tls-mode", required_argument, NULL, OPT_TLS_MODE},
    {"tls-key-type", required_argument, NULL, OPT_TLS_KEY_TYPE},
    {"tls-curve", required_argument, NULL, OPT_TLS_CURVE},
    {"tls-key-bits", required_argument, NULL, OPT_TLS_KEY_BITS},
    {"cert-file", required_argument, NULL, OPT_CERT_FILE},
    {"key-file", required_argument, NULL, OPT_KEY_FILE},
    {"client-ca-file", required_argument, NULL, OPT_CLIENT_CA_FILE},
    {"storage-dir", required_argument, NULL, OPT_STORAGE_DIR},
    {"store", required_argument, NULL, OPT_STORE},
    {"etcd-endpoints", required_argument, NULL, OPT_ETCD_ENDPOINTS},
    {"etcd-ca-file", required_argument, NULL, OPT_ETCD_CA_FILE},
    {"etcd-cert-file", required_argument, NULL, OPT_ETCD_CERT_FILE},
    {"etcd-key-file", required_argument, NULL, OPT_ETCD_KEY_FILE},
    {"etcd-prefix", required_argument, NULL, OPT_ETCD_PREFIX},
    {"etcd-timeout", required_argument, NULL, OPT_ETCD_TIMEOUT},
    {"max-message-size", required_argument, NULL, OPT_MAX_MESSAGE_SIZE},
    {"max-key-size", required_argument, NULL, OPT_MAX_KEY_SIZE},
    {"sync", required_argument, NULL, OPT_SYNC},
    {"enrich-json", no_argument, NULL, OPT_ENRICH_JSON},
    {"workers", required_argument, NULL, OPT_WORKERS},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"no-reflection", no_argument, NULL, OPT_NO_REFLECTION},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

/* long_options plus the limit flags (server_limits.c). */
static const struct option *all_options(void) {
  static struct option all[sizeof(long_options) / sizeof(long_options[0]) + 32];
  size_t n = 0;

  if (all[0].name == NULL) {
    while (long_options[n].name != NULL) {
      all[n] = long_options[n];
      n++;
    }
    n += server_limit_options(all + n, 31);
    all[n] = (struct option){NULL, 0, NULL, 0};
  }
  return all;
}

/* Parses the flags into @p cfg. @return -1 to continue, or an exit code. */
static int parse_flags(struct server_config *cfg, int argc, char **argv) {
  const char *cmd = argv[0];
  long n;
  char *end;
  int c;

  optind = 1;
  while ((c = cli_getopt(argc, argv, "h", all_options(), cmd)) != -1) {
    switch (c) {
    case 'h':
      print_help(cmd);
      return CLI_OK;
    case OPT_STANDALONE:
      cfg->standalone = 1;
      break;
    case OPT_PORT:
      errno = 0;
      n = strtol(optarg, &end, 10);
      if (errno != 0 || *end != '\0' || n < 0 || n > 65535) {
        return cli_fail("invalid --port \"%s\": want 0..65535", optarg);
      }
      cfg->port = (int)n;
      break;
    case OPT_LISTEN:
      cfg->listen = optarg;
      break;
    case OPT_TRANSPORT:
      if (strcmp(optarg, "tcp") != 0 && strcmp(optarg, "unix") != 0) {
        return cli_fail("invalid --transport \"%s\": want unix or tcp", optarg);
      }
      cfg->transport_tcp = strcmp(optarg, "tcp") == 0;
      break;
    case OPT_TLS_MODE:
      cfg->tls_mode = optarg;
      break;
    case OPT_TLS_KEY_TYPE:
      cfg->tls_key_type = optarg;
      break;
    case OPT_TLS_CURVE:
      cfg->tls_curve = optarg;
      cfg->tls_curve_given = 1;
      break;
    case OPT_TLS_KEY_BITS:
      cfg->tls_key_bits = optarg;
      break;
    case OPT_CERT_FILE:
      cfg->cert_file = optarg;
      break;
    case OPT_KEY_FILE:
      cfg->key_file = optarg;
      break;
    case OPT_CLIENT_CA_FILE:
      cfg->client_ca_file = optarg;
      break;
    case OPT_STORAGE_DIR:
      cfg->storage_dir = optarg;
      break;
    case OPT_STORE:
      cfg->store = optarg;
      break;
    case OPT_ETCD_ENDPOINTS:
      cfg->etcd_endpoints = optarg;
      break;
    case OPT_ETCD_CA_FILE:
      cfg->etcd_ca_file = optarg;
      break;
    case OPT_ETCD_CERT_FILE:
      cfg->etcd_cert_file = optarg;
      break;
    case OPT_ETCD_KEY_FILE:
      cfg->etcd_key_file = optarg;
      break;
    case OPT_ETCD_PREFIX:
      cfg->etcd_prefix = optarg;
      break;
    case OPT_ETCD_TIMEOUT: {
      int64_t ms;
      if (cli_parse_timeout_ms(&ms, optarg) != 0 || ms > (int64_t)3600 * 1000) {
        return cli_fail("invalid --etcd-timeout \"%s\": want seconds, "
                        "0 < S <= 3600",
                        optarg);
      }
      cfg->etcd_timeout_ms = (int)ms;
      break;
    }
    case OPT_MAX_MESSAGE_SIZE:
      if (cli_parse_size(&cfg->max_message_size, optarg) != 0 ||
          cfg->max_message_size < 1024 ||
          cfg->max_message_size > (size_t)2047 * 1024 * 1024) {
        return cli_fail("invalid --max-message-size \"%s\": want 1K..2047M",
                        optarg);
      }
      break;
    case OPT_MAX_KEY_SIZE:
      if (cli_parse_size(&cfg->max_key_size, optarg) != 0 ||
          cfg->max_key_size == 0 || cfg->max_key_size > (size_t)1 << 24) {
        return cli_fail("invalid --max-key-size \"%s\": want 1..16M", optarg);
      }
      break;
    case OPT_SYNC:
      if (strcmp(optarg, "full") != 0 && strcmp(optarg, "none") != 0) {
        return cli_fail("invalid --sync \"%s\": want full or none", optarg);
      }
      cfg->sync_none = strcmp(optarg, "none") == 0;
      break;
    case OPT_ENRICH_JSON:
      cfg->enrich_json = 1;
      break;
    case OPT_WORKERS:
      errno = 0;
      n = strtol(optarg, &end, 10);
      if (errno != 0 || *end != '\0' || n < 1 || n > 256) {
        return cli_fail("invalid --workers \"%s\": want 1..256", optarg);
      }
      cfg->workers = (int)n;
      break;
    case OPT_LOG_LEVEL:
      cfg->log_level = optarg;
      break;
    case OPT_NO_REFLECTION:
      cfg->no_reflection = 1;
      break;
    default: {
      int rv = server_limit_flag(cfg, c, optarg);
      if (rv != 0) {
        return rv < 0 ? CLI_USAGE : rv;
      }
      break;
    }
    }
  }
  if (optind < argc) {
    return cli_usage_error(cmd, "unexpected argument \"%s\"", argv[optind]);
  }
  return -1;
}

int cmd_rpc_kv_server(int argc, char **argv) {
  struct server_config cfg;
  soupc_status st;
  int rv;

  server_config_init(&cfg);
  rv = parse_flags(&cfg, argc, argv);
  if (rv >= 0) {
    return rv;
  }
  if (cli_set_log_level(cfg.log_level, !cfg.standalone) != 0) {
    return cli_fail("invalid --log-level \"%s\": want "
                    "error|warn|info|debug|trace",
                    cfg.log_level);
  }
  /* Every flag is checked before anything listens (issue 2 §6): an invalid
   * mode, curve or key type is one line on stderr and exit 1. */
  if (server_config_check(&cfg, &st) != 0) {
    return cli_fail("%s", st.message);
  }
  if (cfg.standalone) {
    return server_run_standalone(&cfg);
  }
  return server_run_plugin(&cfg);
}
