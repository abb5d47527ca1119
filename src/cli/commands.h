/* The soup-c command table: one cmd_<name>.c per subcommand. Each command
 * gets argv with argv[0] set to its full name ("soup-c rpc kv get") and
 * returns the process exit code: 0 OK, 1 failure, 2 usage error. */
#ifndef SOUPC_CLI_COMMANDS_H
#define SOUPC_CLI_COMMANDS_H

int cmd_rpc_kv_server(int argc, char **argv);
int cmd_rpc_kv_get(int argc, char **argv);
int cmd_rpc_kv_put(int argc, char **argv);
int cmd_rpc_cert_generate(int argc, char **argv);
int cmd_rpc_validate_connection(int argc, char **argv);
/* The soup-go-compatible trees (cli_cmd.h): argv[0] is "soup-c cty". */
int cmd_wire(int argc, char **argv);
int cmd_cty(int argc, char **argv);
int cmd_cty_call(int argc, char **argv);
int cmd_cty_functions(int argc, char **argv);

#endif
