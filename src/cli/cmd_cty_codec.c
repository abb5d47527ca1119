/* soup-c cty conformance|json|msgpack|convert-value|unify: soup-go's type
 * and codec commands (cty_ops.go, cty_unify.go), each printing one JSON
 * object. go-cty's refusals are answers (exit 0); `unify` alone fails on a
 * bad type (exit 1), as soup-go's does. */
#include "cli/cli_cmd.h"
#include "cli/cmd_cty_cmds.h"
#include "cli/cmd_cty_io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TYPE_FLAG                                                              \
  { "type", 0, CLI_FLAG_STRING, "", "cty type of the value, as JSON", 1 }

static const cli_flag type_flags[] = {TYPE_FLAG};

/* "<prefix>: <message>" as the error answer. */
static int emit_prefixed(const char *prefix, const soupc_status *st) {
  char msg[sizeof(st->message) + 16];

  snprintf(msg, sizeof(msg), "%s: %s", prefix, st->message);
  return cty_io_emit_failure("error", msg);
}

/* ---- conformance ------------------------------------------------------ */

enum {
  CONF_GIVEN,
  CONF_WANT
};

static const cli_flag conformance_flags[] = {
    {"given", 0, CLI_FLAG_STRING, "", "the type being tested, as JSON", 1},
    {"want", 0, CLI_FLAG_STRING, "", "the type constraint, as JSON", 1}};

static int run_conformance(const cli_ctx *ctx, int argc, char **argv) {
  soupc_cty_type *given = NULL, *want = NULL;
  soupc_cty_path_errors *errs = NULL;
  soupc_status st;
  cli_jbuf b;
  cli_jobj o;
  size_t i, n;
  int rv;

  (void)argc;
  (void)argv;
  soupc_status_clear(&st);
  if (cty_io_parse_type(&given, ctx->values[CONF_GIVEN].s, &st) != 0) {
    return emit_prefixed("given", &st);
  }
  if (cty_io_parse_type(&want, ctx->values[CONF_WANT].s, &st) != 0) {
    soupc_cty_type_free(given);
    return emit_prefixed("want", &st);
  }
  rv = soupc_cty_type_test_conformance(&errs, given, want);
  soupc_cty_type_free(given);
  soupc_cty_type_free(want);
  if (rv != 0) {
    return cty_io_emit_failure("error", "out of memory");
  }
  cli_jbuf_init(&b);
  cli_jbuf_puts(&b, "[");
  n = soupc_cty_path_errors_count(errs);
  for (i = 0; i < n && rv == 0; i++) {
    const char *msg = soupc_cty_path_errors_message(errs, i);
    cli_jbuf_puts(&b, i > 0 ? ",{\"message\":" : "{\"message\":");
    cli_jbuf_str(&b, msg, strlen(msg));
    cli_jbuf_puts(&b, ",\"path\":");
    rv = cty_io_put_path(&b, soupc_cty_path_errors_path(errs, i), &st);
    cli_jbuf_puts(&b, "}");
  }
  cli_jbuf_puts(&b, "]");
  soupc_cty_path_errors_free(errs);
  if (rv != 0) {
    cli_jbuf_dispose(&b);
    return cty_io_emit_failure("error", st.message);
  }
  cli_jobj_init(&o);
  cli_jobj_bool(&o, "ok", 1);
  cli_jobj_bool(&o, "conforms", n == 0);
  cli_jobj_buf(&o, "errors", &b);
  return cli_jobj_emit(&o);
}

const cli_command cty_cmd_conformance = {
    "conformance",
    "Report Type.TestConformance errors",
    "Test whether one type conforms to another, reporting every "
    "non-conformity.\n\n"
    "Conformance is not type equality: cty.DynamicPseudoType in the wanted "
    "type\n"
    "accepts anything, and that asymmetry is the whole point of the "
    "operation.\n\n"
    "  soup-c cty conformance --given '[\"object\",{\"a\":\"string\"}]' "
    "--want '[\"object\",{\"a\":\"number\"}]'",
    CLI_ARGS_ANY,
    0,
    0,
    conformance_flags,
    2,
    run_conformance,
    NULL,
    NULL,
    0};

/* ---- json ------------------------------------------------------------- */

/* The type and rich value of `json marshal` and `msgpack encode`, whose
 * errors carry no prefix. @return 0, or the exit code of the answer */
static int type_and_value(soupc_cty_type **ty, soupc_cty_value **v,
                          const char *type_json, const char *value_json,
                          int *exit_code) {
  soupc_status st;

  soupc_status_clear(&st);
  if (cty_io_parse_type(ty, type_json, &st) != 0 ||
      cty_io_rich_arg(v, *ty, value_json, &st) != 0) {
    *exit_code = cty_io_emit_failure("error", st.message);
    return -1;
  }
  return 0;
}

static int run_json_marshal(const cli_ctx *ctx, int argc, char **argv) {
  soupc_cty_type *ty = NULL;
  soupc_cty_value *v = NULL;
  soupc_status st;
  char *js = NULL;
  size_t len = 0;
  int rv = 0;

  (void)argc;
  if (type_and_value(&ty, &v, ctx->values[0].s, argv[0], &rv) == 0) {
    soupc_status_clear(&st);
    rv = soupc_cty_json_encode(&js, &len, v, ty, &st);
    if (rv != 0) {
      rv = cty_io_emit_status(rv, &st);
    } else {
      cli_jobj o;
      cli_jobj_init(&o);
      cli_jobj_bool(&o, "ok", 1);
      /* both the parsed form and the exact bytes, as soup-go reports */
      cli_jobj_raw(&o, "json", js, len);
      cli_jobj_str(&o, "text", js, len);
      rv = cli_jobj_emit(&o);
    }
  }
  soupc_cty_free_bytes(js);
  soupc_cty_value_free(v);
  soupc_cty_type_free(ty);
  return rv;
}

static const cli_command cty_cmd_json_marshal = {"marshal [value-json]",
                                                 "ctyjson.Marshal a value",
                                                 NULL,
                                                 CLI_ARGS_EXACT,
                                                 1,
                                                 1,
                                                 type_flags,
                                                 1,
                                                 run_json_marshal,
                                                 NULL,
                                                 NULL,
                                                 0};

/* {"ok":true,"value":rich,"type":type} of a decoded value. */
static int emit_decoded(const soupc_cty_value *v, int with_type) {
  soupc_status st;
  cli_jbuf vb, tb;
  cli_jobj o;
  int rv;

  soupc_status_clear(&st);
  cli_jbuf_init(&vb);
  cli_jbuf_init(&tb);
  rv = cty_io_put_rich(&vb, v, &st);
  if (rv == 0 && with_type) {
    rv = cty_io_put_type(&tb, soupc_cty_value_type(v), &st);
  }
  if (rv != 0) {
    cli_jbuf_dispose(&vb);
    cli_jbuf_dispose(&tb);
    return cty_io_emit_failure("error", st.message);
  }
  cli_jobj_init(&o);
  cli_jobj_bool(&o, "ok", 1);
  cli_jobj_buf(&o, "value", &vb);
  if (with_type) {
    cli_jobj_buf(&o, "type", &tb);
  }
  cli_jbuf_dispose(&tb);
  return cli_jobj_emit(&o);
}

static int run_json_unmarshal(const cli_ctx *ctx, int argc, char **argv) {
  soupc_cty_type *ty = NULL;
  soupc_cty_value *v = NULL;
  soupc_status st;
  int rv;

  (void)argc;
  soupc_status_clear(&st);
  if (cty_io_parse_type(&ty, ctx->values[0].s, &st) != 0) {
    return cty_io_emit_failure("error", st.message);
  }
  rv = soupc_cty_json_decode(&v, ty, argv[0], strlen(argv[0]), &st);
  rv = rv != 0 ? cty_io_emit_status(rv, &st) : emit_decoded(v, 1);
  soupc_cty_value_free(v);
  soupc_cty_type_free(ty);
  return rv;
}

static const cli_command cty_cmd_json_unmarshal = {
    "unmarshal [json]",
    "ctyjson.Unmarshal into a type",
    NULL,
    CLI_ARGS_EXACT,
    1,
    1,
    type_flags,
    1,
    run_json_unmarshal,
    NULL,
    NULL,
    0};

static int run_json_implied_type(const cli_ctx *ctx, int argc, char **argv) {
  soupc_cty_type *ty = NULL;
  soupc_status st;
  cli_jbuf b;
  cli_jobj o;
  int rv;

  (void)ctx;
  (void)argc;
  soupc_status_clear(&st);
  rv = soupc_cty_json_implied_type(&ty, argv[0], strlen(argv[0]), &st);
  if (rv != 0) {
    return cty_io_emit_status(rv, &st);
  }
  cli_jbuf_init(&b);
  rv = cty_io_put_type(&b, ty, &st);
  soupc_cty_type_free(ty);
  if (rv != 0) {
    cli_jbuf_dispose(&b);
    return cty_io_emit_failure("error", st.message);
  }
  cli_jobj_init(&o);
  cli_jobj_bool(&o, "ok", 1);
  cli_jobj_buf(&o, "type", &b);
  return cli_jobj_emit(&o);
}

static const cli_command cty_cmd_json_implied_type = {
    "implied-type [json]",
    "ctyjson.ImpliedType for a JSON document",
    NULL,
    CLI_ARGS_EXACT,
    1,
    1,
    NULL,
    0,
    run_json_implied_type,
    NULL,
    NULL,
    0};

static const cli_command *const json_subs[] = {
    &cty_cmd_json_implied_type, &cty_cmd_json_marshal, &cty_cmd_json_unmarshal};

const cli_command cty_cmd_json = {
    "json",
    "The cty/json value codec",
    "Marshal and unmarshal values with cty/json.\n\n"
    "Distinct from the jsonencode and jsondecode stdlib functions, which "
    "produce a\n"
    "string value inside cty. This codec is how a value crosses a process "
    "boundary\n"
    "as JSON, and it makes different choices: a dynamic-typed position is "
    "wrapped in\n"
    "a {\"value\":..., \"type\":...} envelope so the type survives the trip.",
    CLI_ARGS_ANY,
    0,
    0,
    NULL,
    0,
    NULL,
    NULL,
    json_subs,
    sizeof(json_subs) / sizeof(json_subs[0])};

/* ---- msgpack ---------------------------------------------------------- */

static int run_msgpack_encode(const cli_ctx *ctx, int argc, char **argv) {
  soupc_cty_type *ty = NULL;
  soupc_cty_value *v = NULL;
  soupc_status st;
  uint8_t *mp = NULL;
  size_t len = 0;
  int rv = 0;

  (void)argc;
  if (type_and_value(&ty, &v, ctx->values[0].s, argv[0], &rv) == 0) {
    soupc_status_clear(&st);
    rv = soupc_cty_msgpack_encode(&mp, &len, v, ty, &st);
    if (rv != 0) {
      rv = cty_io_emit_status(rv, &st);
    } else {
      char *b64 = NULL;
      cli_jbuf hex;
      cli_jobj o;
      size_t i;
      cli_jbuf_init(&hex);
      for (i = 0; i < len; i++) {
        cli_jbuf_printf(&hex, "%02x", mp[i]);
      }
      cli_jobj_init(&o);
      cli_jobj_bool(&o, "ok", 1);
      if (soupc_cty_base64_encode(&b64, NULL, mp, len) != 0) {
        o.oom = 1;
      } else {
        cli_jobj_str(&o, "base64", b64, strlen(b64));
      }
      cli_jobj_str(&o, "hex", hex.p != NULL ? hex.p : "", hex.len);
      o.oom |= hex.oom;
      cli_jbuf_dispose(&hex);
      soupc_cty_free_bytes(b64);
      rv = cli_jobj_emit(&o);
    }
  }
  soupc_cty_free_bytes(mp);
  soupc_cty_value_free(v);
  soupc_cty_type_free(ty);
  return rv;
}

static const cli_command cty_cmd_msgpack_encode = {
    "encode [value-json]",
    "msgpack.Marshal a value, reported as base64",
    NULL,
    CLI_ARGS_EXACT,
    1,
    1,
    type_flags,
    1,
    run_msgpack_encode,
    NULL,
    NULL,
    0};

static int run_msgpack_decode(const cli_ctx *ctx, int argc, char **argv) {
  soupc_cty_type *ty = NULL;
  soupc_cty_value *v = NULL;
  soupc_status st;
  uint8_t *raw = NULL;
  size_t len = 0;
  int rv;

  (void)argc;
  soupc_status_clear(&st);
  if (cty_io_parse_type(&ty, ctx->values[0].s, &st) != 0) {
    return cty_io_emit_failure("error", st.message);
  }
  rv = soupc_cty_base64_decode(&raw, &len, argv[0], strlen(argv[0]), &st);
  if (rv != 0) {
    rv = emit_prefixed("not base64", &st);
  } else {
    rv = soupc_cty_msgpack_decode(&v, ty, raw, len, &st);
    rv = rv != 0 ? cty_io_emit_status(rv, &st) : emit_decoded(v, 0);
  }
  soupc_cty_free_bytes(raw);
  soupc_cty_value_free(v);
  soupc_cty_type_free(ty);
  return rv;
}

static const cli_command cty_cmd_msgpack_decode = {
    "decode [base64]",
    "msgpack.Unmarshal into a type, reported as a rich value",
    NULL,
    CLI_ARGS_EXACT,
    1,
    1,
    type_flags,
    1,
    run_msgpack_decode,
    NULL,
    NULL,
    0};

static const cli_command *const msgpack_subs[] = {&cty_cmd_msgpack_decode,
                                                  &cty_cmd_msgpack_encode};

const cli_command cty_cmd_msgpack = {
    "msgpack",
    "The cty/msgpack codec, including unknowns and refinements",
    "Encode and decode values with cty/msgpack, as the Terraform wire "
    "protocol does.\n\n"
    "`wire encode` already round-trips values through this codec, but it "
    "builds\n"
    "them from plain JSON and so cannot express an unknown -- which is "
    "exactly what\n"
    "Terraform puts on the wire for an attribute it has not decided yet, "
    "refinements\n"
    "and all. These take the rich dialect instead.",
    CLI_ARGS_ANY,
    0,
    0,
    NULL,
    0,
    NULL,
    NULL,
    msgpack_subs,
    sizeof(msgpack_subs) / sizeof(msgpack_subs[0])};

/* ---- convert-value ---------------------------------------------------- */

enum {
  CV_FROM,
  CV_TO
};

static const cli_flag convert_value_flags[] = {
    {"from", 0, CLI_FLAG_STRING, "", "the value's type, as JSON", 1},
    {"to", 0, CLI_FLAG_STRING, "", "the target type, as JSON", 1}};

/* safe, unsafe and mismatch_message: soup-go counts identical types
 * (after dropping optional markers from the target) as convertible. */
static int describe_conversion(cli_jobj *o, const soupc_cty_type *from,
                               const soupc_cty_type *to) {
  soupc_cty_type *plain = NULL;
  soupc_cty_conversion *safe = NULL, *unsafe = NULL;
  char *msg = NULL;
  size_t len = 0;
  int identical, rv;

  rv = soupc_cty_type_without_optional_attributes(&plain, to);
  if (rv != 0) {
    return rv;
  }
  identical = soupc_cty_type_equals(from, plain);
  soupc_cty_type_free(plain);
  rv = soupc_cty_get_conversion(&safe, from, to);
  if (rv == 0) {
    rv = soupc_cty_get_conversion_unsafe(&unsafe, from, to);
  }
  if (rv == 0) {
    rv = soupc_cty_mismatch_message(&msg, &len, from, to);
  }
  if (rv == 0) {
    cli_jobj_bool(o, "safe", identical || safe != NULL);
    cli_jobj_bool(o, "unsafe", identical || unsafe != NULL);
    cli_jobj_str(o, "mismatch_message", msg, len);
  }
  soupc_cty_free_bytes(msg);
  soupc_cty_conversion_free(safe);
  soupc_cty_conversion_free(unsafe);
  return rv;
}

static int run_convert_value(const cli_ctx *ctx, int argc, char **argv) {
  soupc_cty_type *from = NULL, *to = NULL;
  soupc_cty_value *v = NULL, *r = NULL;
  soupc_status st;
  cli_jbuf vb, tb;
  cli_jobj o;
  int rv;

  (void)argc;
  soupc_status_clear(&st);
  if (cty_io_parse_type(&from, ctx->values[CV_FROM].s, &st) != 0) {
    return emit_prefixed("from", &st);
  }
  if (cty_io_parse_type(&to, ctx->values[CV_TO].s, &st) != 0) {
    soupc_cty_type_free(from);
    return emit_prefixed("to", &st);
  }
  cli_jbuf_init(&vb);
  cli_jbuf_init(&tb);
  cli_jobj_init(&o);
  rv = cty_io_rich_arg(&v, from, argv[0], &st);
  if (rv != 0) {
    rv = cty_io_emit_failure("error", st.message);
    goto out;
  }
  if (describe_conversion(&o, from, to) != 0) {
    o.oom = 1;
  }
  rv = soupc_cty_convert(&r, v, to, NULL, &st);
  if (rv == 0) {
    rv = cty_io_put_rich(&vb, r, &st);
    if (rv == 0) {
      rv = cty_io_put_type(&tb, soupc_cty_value_type(r), &st);
    }
    if (rv != 0) {
      rv = SOUPC_ERR_CTY_DECODE; /* reported as an error, not a panic */
    }
  }
  cli_jobj_bool(&o, "ok", rv == 0);
  if (rv != 0) {
    const char *key = rv == SOUPC_ERR_CTY_PANIC ? "panic" : "error";
    cli_jobj_str(&o, key, st.message, strlen(st.message));
  } else {
    cli_jobj_buf(&o, "value", &vb);
    cli_jobj_buf(&o, "type", &tb);
  }
  rv = cli_jobj_emit(&o);
out:
  cli_jobj_dispose(&o);
  cli_jbuf_dispose(&vb);
  cli_jbuf_dispose(&tb);
  soupc_cty_value_free(r);
  soupc_cty_value_free(v);
  soupc_cty_type_free(to);
  soupc_cty_type_free(from);
  return rv;
}

const cli_command cty_cmd_convert_value = {
    "convert-value [value-json]",
    "Report convert.Convert, and whether the conversion is safe",
    "Convert a value to another type, the way go-cty's convert package "
    "does.\n\n"
    "Distinct from `cty convert`, which converts between *serialization "
    "formats*.\n"
    "This is type conversion: the thing Terraform does when a practitioner "
    "writes a\n"
    "number where a string is wanted.\n\n"
    "Three answers, because they are three different questions. "
    "GetConversion finds\n"
    "only the safe conversions -- ones that cannot lose information -- "
    "while\n"
    "GetConversionUnsafe also allows those that can fail at runtime, and "
    "Convert\n"
    "itself uses the unsafe set. MismatchMessage is the sentence a "
    "practitioner sees\n"
    "when none of them applies.\n\n"
    "  soup-c cty convert-value --from '\"number\"' --to '\"string\"' '5'",
    CLI_ARGS_EXACT,
    1,
    1,
    convert_value_flags,
    2,
    run_convert_value,
    NULL,
    NULL,
    0};

/* ---- unify ------------------------------------------------------------ */

static const cli_flag unify_flags[] = {
    {"safe", 0, CLI_FLAG_BOOL, "false",
     "use convert.Unify rather than convert.UnifyUnsafe", 0}};

static int run_unify(const cli_ctx *ctx, int argc, char **argv) {
  soupc_cty_type **types;
  soupc_cty_type *unified = NULL;
  soupc_status st;
  cli_jbuf b, tb;
  int safe = ctx->values[0].b;
  int i, n = 0, rv = 0, ok = 1;
  char err[sizeof(st.message) + 64] = "";

  types = calloc((size_t)argc, sizeof(*types));
  if (types == NULL) {
    return cli_command_fail(ctx, "out of memory");
  }
  soupc_status_clear(&st);
  for (i = 0; i < argc; i++) {
    if (cty_io_parse_type(&types[i], argv[i], &st) != 0) {
      rv = cli_command_fail(ctx, "type %d: %s", i, st.message);
      goto out;
    }
    n++;
  }
  if (soupc_cty_unify(&unified, NULL, (const soupc_cty_type *const *)types,
                      (size_t)n, !safe) != 0) {
    rv = cli_command_fail(ctx, "out of memory");
    goto out;
  }
  cli_jbuf_init(&tb);
  if (unified != NULL && cty_io_put_type(&tb, unified, &st) != 0) {
    ok = 0;
    snprintf(err, sizeof(err), "unified type is not representable as JSON: %s",
             st.message);
  }
  /* a Go struct: fields in declaration order, two of them omitempty */
  cli_jbuf_init(&b);
  cli_jbuf_puts(&b, "{");
  if (unified != NULL && ok) {
    cli_jbuf_printf(&b, "\"unified\":%s,", tb.p != NULL ? tb.p : "null");
  }
  cli_jbuf_printf(&b, "\"unsafe\":%s,\"ok\":%s", safe ? "false" : "true",
                  ok ? "true" : "false");
  if (err[0] != '\0') {
    cli_jbuf_puts(&b, ",\"error\":");
    cli_jbuf_str(&b, err, strlen(err));
  }
  cli_jbuf_puts(&b, "}\n");
  if (cli_jbuf_text(&b) == NULL || tb.oom) {
    rv = cli_command_fail(ctx, "out of memory");
  } else if (fwrite(b.p, 1, b.len, stdout) != b.len || fflush(stdout) != 0) {
    rv = cli_command_fail(ctx, "failed to write output");
  }
  cli_jbuf_dispose(&b);
  cli_jbuf_dispose(&tb);
out:
  for (i = 0; i < n; i++) {
    soupc_cty_type_free(types[i]);
  }
  free(types);
  soupc_cty_type_free(unified);
  return rv;
}

const cli_command cty_cmd_unify = {
    "unify [type-json...]",
    "Unify types the way go-cty's convert.UnifyUnsafe does",
    "Report the single type that all of the given types can convert to.\n\n"
    "Type unification decides the element type of a set operation, of "
    "concat, and of\n"
    "any function whose result type is derived from more than one argument, "
    "so a\n"
    "second implementation that unifies differently disagrees with go-cty "
    "across a\n"
    "whole family of functions at once rather than in one place. It has no "
    "value\n"
    "arguments and so cannot be reached through `cty call`.\n\n"
    "  soup-c cty unify '\"string\"' '\"number\"'\n"
    "  soup-c cty unify '[\"list\",\"string\"]' "
    "'[\"tuple\",[\"string\",\"string\"]]'\n"
    "  soup-c cty unify --safe '\"string\"' '\"number\"'",
    CLI_ARGS_MIN,
    1,
    0,
    unify_flags,
    1,
    run_unify,
    NULL,
    NULL,
    0};
