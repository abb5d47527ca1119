/* soup-c cty: soup-go's `cty` command tree (main.go, cty.go), with
 * convert and validate-value here and the other commands in
 * cmd_cty_value.c and cmd_cty_codec.c; `call` and `functions` parse their
 * own flags (cmd_cty_call.c). */
#include "cli/cli_cmd.h"
#include "cli/cmd_cty_cmds.h"
#include "cli/cmd_cty_io.h"
#include "cli/commands.h"
#include "soupc/cty.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- convert ---------------------------------------------------------- */

enum {
  CONV_IN,
  CONV_OUT,
  CONV_TYPE
};

static const cli_flag convert_flags[] = {
    {"input-format", 0, CLI_FLAG_STRING, "json", "Input format (json, msgpack)",
     0},
    {"output-format", 0, CLI_FLAG_STRING, "json",
     "Output format (json, msgpack)", 0},
    {"type", 0, CLI_FLAG_STRING, "", "CTY type specification as JSON", 1}};

/* Decodes the input per --input-format. @return 0 or the exit code */
static int convert_decode(soupc_cty_value **v, const cli_ctx *ctx,
                          const soupc_cty_type *ty, const char *in_fmt,
                          const char *in, size_t in_len) {
  soupc_status st;

  soupc_status_clear(&st);
  if (strcmp(in_fmt, "json") == 0) {
    if (soupc_cty_value_from_json(v, ty, in, in_len, 0, &st) != 0) {
      return cli_command_fail(ctx, "failed to parse JSON input: %s",
                              st.message);
    }
  } else if (strcmp(in_fmt, "msgpack") == 0) {
    if (soupc_cty_msgpack_decode(v, ty, (const uint8_t *)in, in_len, &st) !=
        0) {
      return cli_command_fail(ctx, "failed to unmarshal msgpack: %s",
                              st.message);
    }
  } else {
    return cli_command_fail(ctx, "unsupported input format: %s", in_fmt);
  }
  return 0;
}

static int run_convert(const cli_ctx *ctx, int argc, char **argv) {
  const char *out_fmt = ctx->values[CONV_OUT].s;
  soupc_cty_type *ty = NULL;
  soupc_cty_value *v = NULL;
  soupc_status st;
  char *in = NULL, *out = NULL;
  size_t in_len = 0, out_len = 0;
  char err[512];
  int rv;

  (void)argc;
  soupc_status_clear(&st);
  if (cty_io_parse_type(&ty, ctx->values[CONV_TYPE].s, &st) != 0) {
    return cli_command_fail(ctx, "failed to parse type: %s", st.message);
  }
  if (cty_io_read(&in, &in_len, argv[0], err, sizeof(err)) != 0) {
    rv = cli_command_fail(ctx, "failed to read %s: %s",
                          strcmp(argv[0], "-") == 0 ? "stdin" : "input file",
                          err);
    goto out;
  }
  rv = convert_decode(&v, ctx, ty, ctx->values[CONV_IN].s, in, in_len);
  if (rv != 0) {
    goto out;
  }
  if (strcmp(out_fmt, "json") == 0) {
    if (soupc_cty_json_encode(&out, &out_len, v, ty, &st) != 0) {
      rv = cli_command_fail(ctx, "failed to marshal to JSON: %s", st.message);
      goto out;
    }
  } else if (strcmp(out_fmt, "msgpack") == 0) {
    if (soupc_cty_msgpack_encode((uint8_t **)&out, &out_len, v, ty, &st) != 0) {
      rv =
          cli_command_fail(ctx, "failed to marshal to msgpack: %s", st.message);
      goto out;
    }
  } else {
    rv = cli_command_fail(ctx, "unsupported output format: %s", out_fmt);
    goto out;
  }
  if (cty_io_write(argv[1], out, out_len, err, sizeof(err)) != 0) {
    rv = cli_command_fail(ctx, "failed to write output: %s", err);
  }
out:
  soupc_cty_free_bytes(out);
  soupc_cty_value_free(v);
  soupc_cty_type_free(ty);
  free(in);
  return rv;
}

static const cli_command cty_cmd_convert = {
    "convert [input] [output]",
    "Convert CTY values between formats",
    NULL,
    CLI_ARGS_EXACT,
    2,
    2,
    convert_flags,
    3,
    run_convert,
    NULL,
    NULL,
    0};

/* ---- validate-value --------------------------------------------------- */

static const cli_flag validate_flags[] = {
    {"type", 0, CLI_FLAG_STRING, "", "CTY type specification as JSON", 1}};

static int run_validate(const cli_ctx *ctx, int argc, char **argv) {
  soupc_cty_type *ty = NULL;
  soupc_cty_value *v = NULL;
  soupc_status st;
  int rv = 0;

  (void)argc;
  soupc_status_clear(&st);
  if (cty_io_parse_type(&ty, ctx->values[0].s, &st) != 0) {
    return cli_command_fail(ctx, "failed to parse type: %s", st.message);
  }
  /* soup-go only builds the value (never Marshals), so missing object
   * attributes still validate (spec §1.4) */
  if (soupc_cty_value_from_json(&v, ty, argv[0], strlen(argv[0]), 1, &st) !=
      0) {
    rv = cli_command_fail(ctx, "validation failed: %s", st.message);
  } else {
    printf("Validation Succeeded\n");
    fflush(stdout);
  }
  soupc_cty_value_free(v);
  soupc_cty_type_free(ty);
  return rv;
}

static const cli_command cty_cmd_validate = {"validate-value [value]",
                                             "Validate a CTY value",
                                             NULL,
                                             CLI_ARGS_EXACT,
                                             1,
                                             1,
                                             validate_flags,
                                             1,
                                             run_validate,
                                             NULL,
                                             NULL,
                                             0};

/* ---- call, functions (cmd_cty_call.c) --------------------------------- */

static const cli_command cty_cmd_call = {
    "call [function] [arg-json...]",
    "Call a go-cty stdlib function and report its exact result",
    NULL,
    CLI_ARGS_ANY,
    0,
    0,
    NULL,
    0,
    NULL,
    cmd_cty_call,
    NULL,
    0};

static const cli_command cty_cmd_functions = {
    "functions", "List the go-cty stdlib functions available to `cty call`",
    NULL,        CLI_ARGS_ANY,
    0,           0,
    NULL,        0,
    NULL,        cmd_cty_functions,
    NULL,        0};

/* ---- the group -------------------------------------------------------- */

/* In the order of soup-go's help (cobra sorts by name). */
static const cli_command *const cty_subs[] = {
    &cty_cmd_call,          &cty_cmd_conformance, &cty_cmd_convert,
    &cty_cmd_convert_value, &cty_cmd_equals,      &cty_cmd_functions,
    &cty_cmd_json,          &cty_cmd_marks,       &cty_cmd_msgpack,
    &cty_cmd_range,         &cty_cmd_rich,        &cty_cmd_safe_known_prefix,
    &cty_cmd_transform,     &cty_cmd_unify,       &cty_cmd_unknown_as_null,
    &cty_cmd_validate,      &cty_cmd_walk};

static const cli_command cty_cmd = {
    "cty",
    "CTY type and value operations",
    "Perform CTY (Complex Type) operations including validation and "
    "conversion.",
    CLI_ARGS_ANY,
    0,
    0,
    NULL,
    0,
    NULL,
    NULL,
    cty_subs,
    sizeof(cty_subs) / sizeof(cty_subs[0])};

int cmd_cty(int argc, char **argv) {
  return cli_command_execute(&cty_cmd, "soup-c", argc, argv);
}
