/* soup-c: the command tree and dispatch. Each leaf lives in its own
 * cmd_<name>.c and parses its own flags (with --help). */
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "soupc/soupc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct command {
  const char *path; /* words after "soup-c" */
  int (*run)(int argc, char **argv);
  const char *summary;
};

static const struct command commands[] = {
    {"rpc kv server", cmd_rpc_kv_server,
     "Serve proto.KV as a go-plugin plugin, or with --standalone"},
    {"rpc kv get", cmd_rpc_kv_get, "Get a key's value"},
    {"rpc kv put", cmd_rpc_kv_put, "Put a key's value"},
    {"rpc validate connection", cmd_rpc_validate_connection,
     "Check that a KV server or plugin answers its health check"},
    {"rpc cert generate", cmd_rpc_cert_generate,
     "Generate a self-signed certificate and key"},
    {"wire", cmd_wire, "Wire protocol operations (soup-go's `wire`)"},
    {"cty", cmd_cty, "CTY type and value operations (soup-go's `cty`)"},
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

/* The number of words in @p path if argv[1..] starts with all of them,
 * otherwise -1. */
static int match_words(const char *path, int argc, char **argv) {
  int words = 0;
  const char *p = path;

  while (*p != '\0') {
    size_t len = strcspn(p, " ");
    if (1 + words >= argc || strlen(argv[1 + words]) != len ||
        strncmp(argv[1 + words], p, len) != 0) {
      return -1;
    }
    words++;
    p += len;
    if (*p == ' ') {
      p++;
    }
  }
  return words;
}

/* Prints the commands under @p prefix ("" for all). */
static void print_group_help(const char *prefix) {
  size_t i, plen = strlen(prefix);

  printf("Usage: soup-c %s%s<command> [flags]\n\nCommands:\n", prefix,
         plen > 0 ? " " : "");
  for (i = 0; i < N_COMMANDS; i++) {
    if (strncmp(commands[i].path, prefix, plen) == 0 &&
        (plen == 0 || commands[i].path[plen] == ' ')) {
      printf("  %-22s %s\n", commands[i].path, commands[i].summary);
    }
  }
  if (plen == 0) {
    printf("\nGlobal flags:\n"
           "  --log-level LEVEL   error|warn|info|debug|trace (default info;"
           " $LOG_LEVEL)\n"
           "  --version           print the version\n"
           "  -h, --help          this help\n"
           "\nRun 'soup-c <command> --help' for a command's flags.\n");
  }
}

int main(int argc, char **argv) {
  char name[128];
  char prefix[128] = "";
  size_t i;
  int w;

  /* Global flags before the command words. */
  while (argc > 1 && argv[1][0] == '-') {
    if (strcmp(argv[1], "--version") == 0) {
      printf("soup-c %s\n", soupc_version());
      return 0;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
      print_group_help("");
      return 0;
    }
    if (strcmp(argv[1], "-v") == 0 || strcmp(argv[1], "--verbose") == 0) {
      argv[1] = argv[0]; /* soup-go's --verbose changes nothing */
      argv++;
      argc--;
      continue;
    }
    if (strcmp(argv[1], "--log-level") == 0 && argc > 2) {
      setenv("LOG_LEVEL", argv[2], 1);
      argv[2] = argv[0];
      argv += 2;
      argc -= 2;
      continue;
    }
    if (strncmp(argv[1], "--log-level=", 12) == 0) {
      setenv("LOG_LEVEL", argv[1] + 12, 1);
      argv[1] = argv[0];
      argv++;
      argc--;
      continue;
    }
    return cli_usage_error("soup-c", "unknown flag: %s", argv[1]);
  }

  /* A go-plugin host may launch us with no arguments (rpc-spec.md §12: KVClient
   * adds "rpc kv server" only for binaries named soup/soup-go). */
  if (argc == 1) {
    if (getenv("PLUGIN_PROTOCOL_VERSIONS") != NULL ||
        getenv("PLUGIN_MAGIC_COOKIE_KEY") != NULL ||
        getenv("BASIC_PLUGIN") != NULL) {
      static char server_name[] = "soup-c rpc kv server";
      char *args[] = {server_name, NULL};
      return cmd_rpc_kv_server(1, args);
    }
    print_group_help("");
    return CLI_USAGE;
  }

  for (i = 0; i < N_COMMANDS; i++) {
    w = match_words(commands[i].path, argc, argv);
    if (w > 0) {
      snprintf(name, sizeof(name), "soup-c %s", commands[i].path);
      argv[w] = name;
      return commands[i].run(argc - w, argv + w);
    }
  }

  /* A group ("rpc", "rpc kv") or an unknown word. */
  for (w = 1; w < argc && argv[w][0] != '-'; w++) {
    size_t used = strlen(prefix);
    snprintf(prefix + used, sizeof(prefix) - used, "%s%s", used ? " " : "",
             argv[w]);
  }
  for (i = 0; i < N_COMMANDS; i++) {
    size_t plen = strlen(prefix);
    if (strncmp(commands[i].path, prefix, plen) == 0 &&
        commands[i].path[plen] == ' ') {
      print_group_help(prefix);
      return (w < argc &&
              (strcmp(argv[w], "--help") == 0 || strcmp(argv[w], "-h") == 0))
                 ? 0
                 : CLI_USAGE;
    }
  }
  return cli_usage_error("soup-c", "unknown command \"%s\"", prefix);
}
