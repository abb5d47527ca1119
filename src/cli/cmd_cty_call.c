/* soup-c cty call|functions: TofuSoup soup-go's `cty call` and
 * `cty functions` (src/tofusoup/harness/go/soup-go/cty_call.go), on the
 * function library (include/soupc/cty_function.h). A function's refusal is
 * part of the answer (ok:false, exit 0); a bad command is exit 1. */
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "soupc/cty_function.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
  OPT_LOG = 256
};

static const struct option call_opts[] = {
    {"log-level", required_argument, NULL, OPT_LOG},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

static const char call_usage[] =
    "Call a function from go-cty's standard library and print the result as "
    "JSON.\n\n"
    "Exists to be an oracle: a second implementation can be compared against "
    "real\n"
    "go-cty behaviour rather than against a reading of its source.\n\n"
    "Each argument is a JSON object {\"type\": <type-spec>, \"value\": "
    "<json>}, and may\n"
    "instead set \"unknown\": true or \"null\": true, or carry \"marks\": "
    "[\"sensitive\"].\n"
    "The result reports unknown-ness, null-ness and marks separately from the "
    "value,\n"
    "because those are exactly the distinctions a JSON value cannot carry.\n\n"
    "  soup-c cty call upper '{\"type\":\"string\",\"value\":\"hello\"}'\n"
    "  soup-c cty call contains '{\"type\":[\"list\",\"string\"],\"value\":"
    "[\"a\"]}' '{\"type\":\"string\",\"unknown\":true}'\n"
    "  soup-c cty call upper "
    "'{\"type\":\"string\",\"value\":\"hi\",\"marks\":[\"sensitive\"]}'\n\n"
    "Usage:\n"
    "  soup-c cty call [function] [arg-json...] [flags]\n\n"
    "Flags:\n"
    "  -h, --help   help for call\n\n"
    "Global Flags:\n"
    "      --log-level string   Set log level (trace, debug, info, warn, "
    "error) (default \"info\")\n"
    "  -v, --verbose            Enable verbose output\n";

static const char functions_usage[] =
    "List the go-cty stdlib functions available to `cty call`\n\n"
    "Usage:\n"
    "  soup-c cty functions [flags]\n\n"
    "Flags:\n"
    "  -h, --help   help for functions\n\n"
    "Global Flags:\n"
    "      --log-level string   Set log level (trace, debug, info, warn, "
    "error) (default \"info\")\n"
    "  -v, --verbose            Enable verbose output\n";

/* @return -1 to continue, else an exit code. */
static int parse_flags(int argc, char **argv, const char *usage) {
  int c;

  optind = 1;
  while ((c = cli_getopt(argc, argv, "hv", call_opts, argv[0])) != -1) {
    switch (c) {
    case OPT_LOG:
      if (cli_set_log_level(optarg, 0) != 0) {
        return cli_fail("unknown log level %s", optarg);
      }
      break;
    case 'v':
      break;
    case 'h':
      printf("%s", usage);
      return CLI_OK;
    default:
      return CLI_FAIL;
    }
  }
  return -1;
}

/* "unknown function %q; known: a, b, ..." */
static int unknown_function(const char *name) {
  size_t i, n = soupc_cty_function_count();

  fputs("Error: unknown function ", stderr);
  {
    /* %q of the name: quote and backslash-escape as Go does for the
     * printable ASCII a shell usually passes. */
    const char *p;
    fputc('"', stderr);
    for (p = name; *p != '\0'; p++) {
      unsigned char ch = (unsigned char)*p;
      if (ch == '"' || ch == '\\') {
        fputc('\\', stderr);
        fputc(ch, stderr);
      } else if (ch < 0x20 || ch == 0x7f) {
        fprintf(stderr, "\\x%02x", ch);
      } else {
        fputc(ch, stderr);
      }
    }
    fputc('"', stderr);
  }
  fputs("; known: ", stderr);
  for (i = 0; i < n; i++) {
    fprintf(stderr, "%s%s", i > 0 ? ", " : "",
            soupc_cty_function_name(soupc_cty_function_at(i)));
  }
  fputc('\n', stderr);
  return CLI_FAIL;
}

int cmd_cty_call(int argc, char **argv) {
  const soupc_cty_function *f;
  soupc_cty_value **args = NULL;
  soupc_cty_value *result = NULL;
  soupc_cty_call_error err = {NULL, -1};
  char *line = NULL;
  size_t line_len = 0, nargs, i;
  int rv;

  rv = parse_flags(argc, argv, call_usage);
  if (rv >= 0) {
    return rv;
  }
  if (argc - optind < 1) {
    return cli_fail("requires at least 1 arg(s), only received 0");
  }
  f = soupc_cty_function_lookup(argv[optind]);
  if (f == NULL) {
    return unknown_function(argv[optind]);
  }
  nargs = (size_t)(argc - optind - 1);
  args = calloc(nargs + 1, sizeof(void *));
  if (args == NULL) {
    return cli_fail("out of memory");
  }
  for (i = 0; i < nargs; i++) {
    const char *raw = argv[optind + 1 + (int)i];
    rv = soupc_cty_call_arg_from_json(&args[i], raw, strlen(raw), &err);
    if (rv != 0) {
      rv = cli_fail("argument %zu: %s", i,
                    err.message != NULL ? err.message : "out of memory");
      goto out;
    }
  }
  rv = soupc_cty_function_call(&result, f, (const soupc_cty_value *const *)args,
                               nargs, &err);
  if (rv != 0 && rv != SOUPC_ERR_INVALID_ARGUMENT) {
    rv = cli_fail("out of memory");
    goto out;
  }
  rv = soupc_cty_call_result_to_json(&line, &line_len,
                                     soupc_cty_function_name(f),
                                     rv == 0 ? result : NULL, &err);
  if (rv != 0) {
    rv = cli_fail("failed to encode result: out of memory");
    goto out;
  }
  fwrite(line, 1, line_len, stdout);
  fputc('\n', stdout);
  rv = fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
out:
  soupc_cty_free_bytes(line);
  soupc_cty_value_free(result);
  soupc_cty_call_error_dispose(&err);
  for (i = 0; i < nargs; i++) {
    soupc_cty_value_free(args[i]);
  }
  free(args);
  return rv;
}

int cmd_cty_functions(int argc, char **argv) {
  size_t i, n = soupc_cty_function_count();
  int rv;

  rv = parse_flags(argc, argv, functions_usage);
  if (rv >= 0) {
    return rv;
  }
  /* cobra accepts and ignores extra arguments here. */
  putchar('[');
  for (i = 0; i < n; i++) {
    printf("%s\"%s\"", i > 0 ? "," : "",
           soupc_cty_function_name(soupc_cty_function_at(i)));
  }
  puts("]");
  return fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
}
