/* The soup-go-compatible `cty` commands (cli_cmd.h trees), one object per
 * command, defined in cmd_cty.c, cmd_cty_value.c and cmd_cty_codec.c. */
#ifndef SOUPC_CLI_CMD_CTY_CMDS_H
#define SOUPC_CLI_CMD_CTY_CMDS_H

#include "cli/cli_cmd.h"

extern const cli_command cty_cmd_rich;
extern const cli_command cty_cmd_unknown_as_null;
extern const cli_command cty_cmd_marks;
extern const cli_command cty_cmd_range;
extern const cli_command cty_cmd_safe_known_prefix;
extern const cli_command cty_cmd_walk;
extern const cli_command cty_cmd_transform;
extern const cli_command cty_cmd_equals;
extern const cli_command cty_cmd_conformance;
extern const cli_command cty_cmd_json;
extern const cli_command cty_cmd_msgpack;
extern const cli_command cty_cmd_convert_value;
extern const cli_command cty_cmd_unify;

#endif
