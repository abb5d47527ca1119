/* soup-c rpc validate connection: soup-go's connectivity check
 * (rpc-spec.md §2.1; soup-go's own version panics, §11.2 #10). Connects the
 * way get/put do (a server address, a handshake line, or a launched plugin)
 * and asks grpc.health.v1.Health/Check for "plugin", then for "proto.KV":
 * a soup-c server answers that one from its store backend (an etcd cluster
 * without quorum fails it with the reason); a server that does not know
 * the name (NOT_FOUND, as go-plugin's health service answers) passes. */
#include "cli/cli_util.h"
#include "cli/client_target.h"
#include "cli/commands.h"

#include "health.pb-c.h"

#include <stdio.h>
#include <stdlib.h>

enum {
  OPT_ADDRESS = 256,
  OPT_PLUGIN,
  OPT_NO_AUTOMTLS,
  OPT_TIMEOUT
};

static const struct option long_options[] = {
    {"address", required_argument, NULL, OPT_ADDRESS},
    {"plugin", required_argument, NULL, OPT_PLUGIN},
    {"no-automtls", no_argument, NULL, OPT_NO_AUTOMTLS},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

/* The store backend's health ("proto.KV"). @return CLI_OK or CLI_FAIL
 * (printed). */
static int check_store(struct client_target *target, soupc_status *st) {
  Grpc__Health__V1__HealthCheckRequest req =
      GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
  static char kv_service[] = "proto.KV";
  uint8_t packed[64], *resp = NULL;
  size_t packed_len, resp_len = 0;
  int rv;

  req.service = kv_service;
  packed_len = grpc__health__v1__health_check_request__pack(&req, packed);
  rv = soupc_channel_unary(target->channel, "/grpc.health.v1.Health/Check",
                           packed, packed_len, &resp, &resp_len,
                           target->timeout_ms, st);
  soupc_free(resp);
  if (rv == 0 ||
      (rv == SOUPC_ERR_STATUS && (st->code == SOUPC_GRPC_NOT_FOUND ||
                                  st->code == SOUPC_GRPC_UNIMPLEMENTED))) {
    return CLI_OK; /* healthy, or a server that does not report its store */
  }
  return cli_fail("store backend: %s: %s", soupc_grpc_code_name(st->code),
                  st->message);
}

int cmd_rpc_validate_connection(int argc, char **argv) {
  const char *cmd = argv[0];
  Grpc__Health__V1__HealthCheckRequest req =
      GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
  Grpc__Health__V1__HealthCheckResponse *resp_msg;
  struct client_options copts;
  struct client_target target;
  uint8_t packed[64], *resp = NULL;
  size_t packed_len, resp_len = 0;
  static char plugin_service[] = "plugin";
  soupc_status st;
  int c, rv;

  client_options_init(&copts);
  optind = 1;
  while ((c = cli_getopt(argc, argv, "h", long_options, cmd)) != -1) {
    switch (c) {
    case 'h':
      printf("Usage: %s [--address ADDR | --plugin PATH] [--no-automtls] "
             "[--timeout S]\n\n"
             "Connect to a KV server or plugin (as 'rpc kv get' does) and "
             "check that\n"
             "grpc.health.v1.Health reports \"plugin\" SERVING and, on a "
             "soup-c\n"
             "server or plugin, that its store backend (\"proto.KV\": "
             "LMDB or etcd)\n"
             "can serve. Prints \"RPC connection validated successfully.\" "
             "and exits 0,\n"
             "or exits 1 with the reason.\n",
             cmd);
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
    case OPT_TIMEOUT:
      if (cli_parse_timeout_ms(&copts.timeout_ms, optarg) != 0) {
        return cli_usage_error(
            cmd, "invalid --timeout \"%s\": want a number of seconds > 0",
            optarg);
      }
      break;
    default:
      return CLI_USAGE;
    }
  }
  if (optind < argc) {
    return cli_usage_error(cmd, "unexpected argument \"%s\"", argv[optind]);
  }
  if (cli_set_log_level(NULL, 0) != 0) {
    return cli_usage_error(cmd, "invalid $LOG_LEVEL");
  }
  if (client_target_open(&target, &copts, &st) != 0) {
    return cli_fail("%s", st.message);
  }
  req.service = plugin_service;
  packed_len = grpc__health__v1__health_check_request__pack(&req, packed);
  if (soupc_channel_unary(target.channel, "/grpc.health.v1.Health/Check",
                          packed, packed_len, &resp, &resp_len,
                          target.timeout_ms, &st) != 0) {
    rv = cli_fail("health check: %s: %s", soupc_grpc_code_name(st.code),
                  st.message);
    goto done;
  }
  resp_msg =
      grpc__health__v1__health_check_response__unpack(NULL, resp_len, resp);
  if (resp_msg == NULL ||
      resp_msg->status !=
          GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING) {
    rv = cli_fail("health check: \"plugin\" is not SERVING");
  } else {
    rv = check_store(&target, &st);
  }
  grpc__health__v1__health_check_response__free_unpacked(resp_msg, NULL);
  if (rv == CLI_OK) {
    printf("RPC connection validated successfully.\n");
  }

done:
  soupc_free(resp);
  client_target_close(&target);
  return rv;
}
