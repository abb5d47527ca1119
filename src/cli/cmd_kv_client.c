/* Placeholder until the KV client lands. */
#include "cli/cli_util.h"
#include "cli/commands.h"

int cmd_rpc_kv_get(int argc, char **argv) {
  (void)argc;
  return cli_fail("%s: not implemented yet", argv[0]);
}

int cmd_rpc_kv_put(int argc, char **argv) {
  (void)argc;
  return cli_fail("%s: not implemented yet", argv[0]);
}
