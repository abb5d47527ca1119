/* soup-c cty convert|validate-value: TofuSoup's soup-go `cty` commands
 * (wire-cty-spec.md §1.4), on the cty library. */
#include "cli/cli_util.h"
#include "cli/cmd_cty_io.h"
#include "cli/commands.h"
#include "soupc/cty.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
  OPT_TYPE = 256,
  OPT_IN,
  OPT_OUT,
  OPT_LOG
};

static const struct option cty_opts[] = {
    {"type", required_argument, NULL, OPT_TYPE},
    {"input-format", required_argument, NULL, OPT_IN},
    {"output-format", required_argument, NULL, OPT_OUT},
    {"log-level", required_argument, NULL, OPT_LOG},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

struct cty_args {
  const char *type;
  const char *in_fmt;
  const char *out_fmt;
};

/* @return -1 to continue, else an exit code. */
static int parse_args(struct cty_args *a, int argc, char **argv,
                      const char *usage, int nargs) {
  int c;

  optind = 1;
  while ((c = cli_getopt(argc, argv, "hv", cty_opts, argv[0])) != -1) {
    switch (c) {
    case OPT_TYPE:
      a->type = optarg;
      break;
    case OPT_IN:
      a->in_fmt = optarg;
      break;
    case OPT_OUT:
      a->out_fmt = optarg;
      break;
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
  if (argc - optind != nargs) {
    fprintf(stderr, "Error: accepts %d arg(s), received %d\n", nargs,
            argc - optind);
    return CLI_FAIL;
  }
  if (a->type == NULL) {
    return cli_fail("required flag(s) \"type\" not set");
  }
  return -1;
}

static const char convert_usage[] =
    "Usage: soup-c cty convert <input> <output> --type T [flags]\n\n"
    "Convert a cty value between JSON and msgpack ('-' = stdin/stdout).\n\n"
    "  --type T             go-cty JSON type (required)\n"
    "  --input-format F     json|msgpack (default json)\n"
    "  --output-format F    json|msgpack (default json)\n";

int cmd_cty_convert(int argc, char **argv) {
  struct cty_args a = {NULL, "json", "json"};
  soupc_cty_type *ty = NULL;
  soupc_cty_value *v = NULL;
  soupc_status st;
  char *in = NULL;
  size_t in_len = 0;
  int rv;

  rv = parse_args(&a, argc, argv, convert_usage, 2);
  if (rv >= 0) {
    return rv;
  }
  soupc_status_clear(&st);
  if (strcmp(a.in_fmt, "msgpack") != 0 && strcmp(a.in_fmt, "json") != 0) {
    return cli_fail("unsupported input format: %s", a.in_fmt);
  }
  if (strcmp(a.out_fmt, "msgpack") != 0 && strcmp(a.out_fmt, "json") != 0) {
    return cli_fail("unsupported output format: %s", a.out_fmt);
  }
  if (soupc_cty_type_parse(&ty, a.type, strlen(a.type), &st) != 0) {
    return cli_fail("failed to parse type: %s", st.message);
  }
  if (cli_read_file(&in, &in_len, argv[optind]) != 0) {
    rv = cli_fail(strcmp(argv[optind], "-") == 0 ? "failed to read stdin"
                                                 : "failed to read input file");
    goto out;
  }
  if (strcmp(a.in_fmt, "json") == 0) {
    rv = soupc_cty_value_from_json(&v, ty, in, in_len, 0, &st);
    if (rv != 0) {
      rv = cli_fail("failed to parse JSON input: %s", st.message);
      goto out;
    }
  } else {
    rv = soupc_cty_msgpack_decode(&v, ty, (const uint8_t *)in, in_len, &st);
    if (rv != 0) {
      rv = cli_fail("failed to unmarshal msgpack: %s", st.message);
      goto out;
    }
  }
  if (strcmp(a.out_fmt, "json") == 0) {
    char *js = NULL;
    size_t js_len = 0;
    if (soupc_cty_json_encode(&js, &js_len, v, ty, &st) != 0) {
      rv = cli_fail("failed to marshal to JSON: %s", st.message);
      goto out;
    }
    rv = cty_io_write(argv[optind + 1], js, js_len) == 0
             ? CLI_OK
             : cli_fail("failed to write output");
    soupc_cty_free_bytes(js);
  } else {
    uint8_t *mp = NULL;
    size_t mp_len = 0;
    if (soupc_cty_msgpack_encode(&mp, &mp_len, v, ty, &st) != 0) {
      rv = cli_fail("failed to marshal to msgpack: %s", st.message);
      goto out;
    }
    rv = cty_io_write(argv[optind + 1], mp, mp_len) == 0
             ? CLI_OK
             : cli_fail("failed to write output");
    soupc_cty_free_bytes(mp);
  }
out:
  soupc_cty_value_free(v);
  soupc_cty_type_free(ty);
  free(in);
  return rv;
}

static const char validate_usage[] =
    "Usage: soup-c cty validate-value <value> --type T\n\n"
    "Check that a JSON value builds as a cty value of type T.\n"
    "Use -- before a value that starts with '-'.\n";

int cmd_cty_validate_value(int argc, char **argv) {
  struct cty_args a = {NULL, "json", "json"};
  soupc_cty_type *ty = NULL;
  soupc_cty_value *v = NULL;
  soupc_status st;
  const char *value;
  int rv;

  rv = parse_args(&a, argc, argv, validate_usage, 1);
  if (rv >= 0) {
    return rv;
  }
  soupc_status_clear(&st);
  value = argv[optind];
  if (soupc_cty_type_parse(&ty, a.type, strlen(a.type), &st) != 0) {
    return cli_fail("failed to parse type: %s", st.message);
  }
  /* soup-go only builds the value (never Marshals), so missing object
   * attributes still validate (spec §1.4). */
  if (soupc_cty_value_from_json(&v, ty, value, strlen(value), 1, &st) != 0) {
    rv = cli_fail("validation failed: %s", st.message);
  } else {
    printf("Validation Succeeded\n");
    rv = CLI_OK;
  }
  soupc_cty_value_free(v);
  soupc_cty_type_free(ty);
  return rv;
}
