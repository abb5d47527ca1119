/* Placeholder until the cty codec lands. */
#include "cli/cli_util.h"
#include "cli/commands.h"

int cmd_wire_encode(int argc, char **argv) {
  (void)argc;
  return cli_fail("%s: not implemented yet", argv[0]);
}

int cmd_wire_decode(int argc, char **argv) {
  (void)argc;
  return cli_fail("%s: not implemented yet", argv[0]);
}
