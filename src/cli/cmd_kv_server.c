/* Placeholder until the KV server lands. */
#include "cli/cli_util.h"
#include "cli/commands.h"

int cmd_rpc_kv_server(int argc, char **argv) {
  (void)argc;
  return cli_fail("%s: not implemented yet", argv[0]);
}
