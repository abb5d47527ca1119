/* soup-c rpc kv get|put: a proto.KV client. With --address it dials a
 * running server (HOST:PORT, unix:PATH, or a whole go-plugin handshake line
 * to reattach); without it, it launches a plugin and talks to it through the
 * go-plugin protocol (go-plugin-protocol.md §6.2). Exit codes: 0 OK, 1
 * NOT_FOUND or any other failure, 2 usage error. */
#include "cli/cli_util.h"
#include "cli/client_target.h"
#include "cli/commands.h"

#include "kv_bytes.pb-c.h"
#include "soupc/rpc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
  OPT_ADDRESS = 256,
  OPT_PLUGIN,
  OPT_NO_AUTOMTLS,
  OPT_HANDSHAKE_TIMEOUT,
  OPT_CA_FILE,
  OPT_CERT_FILE,
  OPT_KEY_FILE,
  OPT_SERVER_NAME,
  OPT_TIMEOUT,
  OPT_TLS_CURVE,
  OPT_VALUE_FILE,
  OPT_MAX_MESSAGE_SIZE,
  OPT_LOG_LEVEL,
  OPT_REATTACH,
  OPT_PLUGIN_SHA256,
  OPT_SKIP_HOST_ENV,
  OPT_MULTIPLEX
};

static const struct option long_options[] = {
    {"address", required_argument, NULL, OPT_ADDRESS},
    {"plugin", required_argument, NULL, OPT_PLUGIN},
    {"no-automtls", no_argument, NULL, OPT_NO_AUTOMTLS},
    {"handshake-timeout", required_argument, NULL, OPT_HANDSHAKE_TIMEOUT},
    {"ca-file", required_argument, NULL, OPT_CA_FILE},
    {"cert-file", required_argument, NULL, OPT_CERT_FILE},
    {"key-file", required_argument, NULL, OPT_KEY_FILE},
    {"server-name", required_argument, NULL, OPT_SERVER_NAME},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"tls-curve", required_argument, NULL, OPT_TLS_CURVE},
    {"value-file", required_argument, NULL, OPT_VALUE_FILE},
    {"max-message-size", required_argument, NULL, OPT_MAX_MESSAGE_SIZE},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"reattach", required_argument, NULL, OPT_REATTACH},
    {"plugin-sha256", required_argument, NULL, OPT_PLUGIN_SHA256},
    {"skip-host-env", no_argument, NULL, OPT_SKIP_HOST_ENV},
    {"multiplex", no_argument, NULL, OPT_MULTIPLEX},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

static void print_help(const char *cmd, int is_put) {
  printf("Usage: %s KEY%s [flags]\n\n", cmd, is_put ? " [VALUE|-]" : "");
  if (is_put) {
    printf("Store VALUE under KEY. VALUE comes from the argument, from\n"
           "--value-file F, or from stdin when it is '-'. Prints\n"
           "\"Key <KEY> put successfully.\"\n\n");
  } else {
    printf("Write KEY's value, byte for byte, to stdout.\n\n");
  }
  printf(
      "Flags:\n"
      "  --address ADDR          a running server: HOST:PORT, unix:PATH, or a\n"
      "                          whole go-plugin handshake line (reattach)\n"
      "  --plugin PATH           without --address: the plugin to launch\n"
      "                          (default $PLUGIN_SERVER_PATH, else soup-c)\n"
      "  --reattach JSON         a running plugin by go-plugin's "
      "ReattachConfig:\n"
      "                          "
      "{\"Protocol\":\"grpc\",\"ProtocolVersion\":1,\n"
      "                          \"Pid\":N,\"Addr\":{\"Network\":\"unix\",\n"
      "                          \"String\":PATH}} (or TF_REATTACH_PROVIDERS'\n"
      "                          one-entry map); --ca-file F is its TLS cert\n"
      "  --plugin-sha256 HEX     go-plugin's SecureConfig: launch the plugin "
      "only\n"
      "                          if its SHA-256 is HEX (64 hex digits)\n"
      "  --skip-host-env         go-plugin's SkipHostEnv: the plugin inherits\n"
      "                          none of our environment\n"
      "  --multiplex             go-plugin >= 1.6 multiplexing\n"
      "                          (PLUGIN_MULTIPLEX_GRPC): one connection,\n"
      "                          every gRPC connection a yamux stream\n"
      "  --no-automtls           launch the plugin without AutoMTLS\n"
      "  --handshake-timeout S   seconds to wait for the plugin's handshake\n"
      "                          (default 60)\n"
      "  --ca-file F             TLS: trust F for the server (--address)\n"
      "  --cert-file F --key-file F  TLS: present this client certificate\n"
      "  --server-name NAME      TLS: name to verify (default: the host, or\n"
      "                          localhost for unix sockets and plugins)\n"
      "  --tls-curve NAME        accepted for soup-go compatibility: curve of\n"
      "                          a generated client certificate (auto)\n"
      "  --timeout SECONDS       call deadline, > 0 (default 30)\n"
      "%s"
      "  --max-message-size N    largest message (default 64M)\n"
      "  --log-level LEVEL       error|warn|info|debug|trace\n"
      "  -h, --help              this help\n"
      "\nExit codes: 0 OK; 1 NOT_FOUND or any other failure; 2 usage error.\n",
      is_put ? "  --value-file F          read the value from F\n" : "");
}

/* Runs one call and reports a failure as "Error: <CODE>: <message>". */
static int call(struct client_target *t, const char *path, const uint8_t *req,
                size_t req_len, uint8_t **resp, size_t *resp_len) {
  soupc_status st;
  int rv;

  rv = soupc_channel_unary(t->channel, path, req, req_len, resp, resp_len,
                           t->timeout_ms, &st);
  if (rv != 0) {
    return cli_fail("%s: %s%s", soupc_grpc_code_name(st.code), st.message,
                    rv == SOUPC_ERR_TOO_LARGE ? " (--max-message-size)" : "");
  }
  return CLI_OK;
}

static int run(int argc, char **argv, int is_put) {
  const char *cmd = argv[0];
  struct client_options copts;
  struct client_target target;
  const char *value_file = NULL, *log_level = NULL;
  char *value_buf = NULL;
  const uint8_t *value = NULL;
  size_t value_len = 0;
  uint8_t *packed = NULL, *resp = NULL;
  size_t packed_len, resp_len = 0;
  soupc_status st;
  int c, rv;

  client_options_init(&copts);
  optind = 1;
  while ((c = cli_getopt(argc, argv, "h", long_options, cmd)) != -1) {
    switch (c) {
    case 'h':
      print_help(cmd, is_put);
      return CLI_OK;
    case OPT_ADDRESS:
      copts.address = optarg;
      break;
    case OPT_PLUGIN:
      copts.plugin_path = optarg;
      break;
    case OPT_NO_AUTOMTLS:
      copts.automtls = 0;
      break;
    case OPT_HANDSHAKE_TIMEOUT:
      if (cli_parse_timeout_ms(&copts.handshake_timeout_ms, optarg) != 0) {
        return cli_usage_error(cmd,
                               "invalid --handshake-timeout \"%s\": want a "
                               "number of seconds > 0",
                               optarg);
      }
      break;
    case OPT_CA_FILE:
      copts.ca_file = optarg;
      break;
    case OPT_CERT_FILE:
      copts.cert_file = optarg;
      break;
    case OPT_KEY_FILE:
      copts.key_file = optarg;
      break;
    case OPT_SERVER_NAME:
      copts.server_name = optarg;
      break;
    case OPT_TIMEOUT:
      if (cli_parse_timeout_ms(&copts.timeout_ms, optarg) != 0) {
        return cli_usage_error(
            cmd, "invalid --timeout \"%s\": want a number of seconds > 0",
            optarg);
      }
      break;
    case OPT_TLS_CURVE:
      copts.tls_curve = optarg;
      break;
    case OPT_VALUE_FILE:
      if (!is_put) {
        return cli_usage_error(cmd, "unknown flag: --value-file");
      }
      value_file = optarg;
      break;
    case OPT_MAX_MESSAGE_SIZE:
      if (cli_parse_size(&copts.max_message_size, optarg) != 0 ||
          copts.max_message_size < 1024) {
        return cli_usage_error(cmd, "invalid --max-message-size \"%s\"",
                               optarg);
      }
      break;
    case OPT_LOG_LEVEL:
      log_level = optarg;
      break;
    case OPT_REATTACH:
      copts.reattach = optarg;
      break;
    case OPT_PLUGIN_SHA256:
      copts.plugin_sha256 = optarg;
      break;
    case OPT_SKIP_HOST_ENV:
      copts.skip_host_env = 1;
      break;
    case OPT_MULTIPLEX:
      copts.multiplex = 1;
      break;
    default:
      return CLI_USAGE;
    }
  }
  if (cli_set_log_level(log_level, 0) != 0) {
    return cli_usage_error(cmd, "invalid --log-level \"%s\"", log_level);
  }
  if (optind >= argc) {
    return cli_usage_error(cmd, "missing KEY");
  }
  if (is_put) {
    int nargs = argc - optind;
    if (value_file != NULL ? nargs != 1 : nargs != 2) {
      return cli_usage_error(cmd, value_file != NULL
                                      ? "want KEY with --value-file"
                                      : "want KEY and VALUE (or - for stdin)");
    }
  } else if (argc - optind != 1) {
    return cli_usage_error(cmd, "want exactly one KEY");
  }
  if (is_put) {
    const char *src = value_file != NULL ? value_file : argv[optind + 1];
    if (value_file != NULL || strcmp(src, "-") == 0) {
      if (cli_read_file(&value_buf, &value_len, src) != 0) {
        return cli_fail("cannot read the value from %s: %s",
                        strcmp(src, "-") == 0 ? "stdin" : src, strerror(errno));
      }
      value = (const uint8_t *)value_buf;
    } else {
      value = (const uint8_t *)src;
      value_len = strlen(src);
    }
  }

  if (client_target_open(&target, &copts, &st) != 0) {
    free(value_buf);
    return cli_fail("%s", st.message);
  }
  if (is_put) {
    Proto__PutRequest req = PROTO__PUT_REQUEST__INIT;
    req.key.data = (uint8_t *)argv[optind];
    req.key.len = strlen(argv[optind]);
    req.value.data = (uint8_t *)value;
    req.value.len = value_len;
    packed_len = proto__put_request__get_packed_size(&req);
    packed = malloc(packed_len + 1);
    if (packed == NULL) {
      rv = cli_fail("out of memory");
      goto done;
    }
    proto__put_request__pack(&req, packed);
    rv = call(&target, "/proto.KV/Put", packed, packed_len, &resp, &resp_len);
    if (rv == CLI_OK) {
      printf("Key %s put successfully.\n", argv[optind]);
    }
  } else {
    Proto__GetRequest req = PROTO__GET_REQUEST__INIT;
    Proto__GetResponse *msg;
    req.key.data = (uint8_t *)argv[optind];
    req.key.len = strlen(argv[optind]);
    packed_len = proto__get_request__get_packed_size(&req);
    packed = malloc(packed_len + 1);
    if (packed == NULL) {
      rv = cli_fail("out of memory");
      goto done;
    }
    proto__get_request__pack(&req, packed);
    rv = call(&target, "/proto.KV/Get", packed, packed_len, &resp, &resp_len);
    if (rv == CLI_OK) {
      msg = proto__get_response__unpack(NULL, resp_len, resp);
      if (msg == NULL) {
        rv = cli_fail("the server's GetResponse is not a valid message");
        goto done;
      }
      if (msg->value.len > 0 && fwrite(msg->value.data, 1, msg->value.len,
                                       stdout) != msg->value.len) {
        rv = cli_fail("writing the value to stdout: %s", strerror(errno));
      }
      proto__get_response__free_unpacked(msg, NULL);
    }
  }
  if (fflush(stdout) != 0 && rv == CLI_OK) {
    rv = cli_fail("writing to stdout: %s", strerror(errno));
  }

done:
  client_target_close(&target);
  soupc_free(resp);
  free(packed);
  free(value_buf);
  return rv;
}

int cmd_rpc_kv_get(int argc, char **argv) {
  return run(argc, argv, 0);
}

int cmd_rpc_kv_put(int argc, char **argv) {
  return run(argc, argv, 1);
}
