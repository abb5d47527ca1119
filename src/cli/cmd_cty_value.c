/* soup-c cty rich|unknown-as-null|marks|range|safe-known-prefix|walk|
 * transform|equals: soup-go's value commands (cty_ops.go), each printing
 * one JSON object. go-cty's refusals and panics are answers ({"ok":false,
 * "error"|"panic":...}, exit 0); only a bad command line exits 1. */
#include "cli/cli_cmd.h"
#include "cli/cmd_cty_cmds.h"
#include "cli/cmd_cty_io.h"
#include "soupc/cty_function.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* The --type flag of the value commands (soup-go's typeFlag). */
#define TYPE_FLAG                                                              \
  { "type", 0, CLI_FLAG_STRING, "", "cty type of the value, as JSON", 1 }

static const cli_flag type_flags[] = {TYPE_FLAG};

/* ---- rich ------------------------------------------------------------- */

static int run_rich(const cli_ctx *ctx, int argc, char **argv) {
  soupc_cty_value *v = NULL;
  soupc_status st;
  cli_jbuf b;
  cli_jobj o;
  char *gs = NULL;
  size_t gs_len = 0;
  int rv;

  (void)argc;
  soupc_status_clear(&st);
  rv = cty_io_typed_arg(&v, ctx->values[0].s, argv[0], &st);
  if (rv != 0) {
    return cty_io_emit_failure("error", st.message);
  }
  cli_jbuf_init(&b);
  cli_jobj_init(&o);
  rv = cty_io_put_rich(&b, v, &st);
  if (rv == 0 && soupc_cty_value_gostring(&gs, &gs_len, v) != 0) {
    rv = SOUPC_ERR_NOMEM;
    soupc_status_set(&st, SOUPC_GRPC_RESOURCE_EXHAUSTED, "out of memory");
  }
  if (rv != 0) {
    rv = cty_io_emit_failure("error", st.message);
  } else {
    cli_jobj_bool(&o, "ok", 1);
    cli_jobj_buf(&o, "value", &b);
    cli_jobj_str(&o, "go_string", gs, gs_len);
    rv = cli_jobj_emit(&o);
  }
  soupc_cty_free_bytes(gs);
  cli_jobj_dispose(&o);
  cli_jbuf_dispose(&b);
  soupc_cty_value_free(v);
  return rv;
}

const cli_command cty_cmd_rich = {
    "rich [value-json]",
    "Round-trip a value through the rich JSON dialect",
    "Decode a rich value and encode it again, reporting both halves.\n\n"
    "Exists so the dialect is proven rather than assumed. If decode and "
    "encode\n"
    "disagree, every other command that uses them is comparing against a "
    "value the\n"
    "caller did not send.\n\n"
    "  soup-c cty rich --type '[\"list\",\"string\"]' "
    "'[\"a\",{\"$unknown\":true}]'",
    CLI_ARGS_EXACT,
    1,
    1,
    type_flags,
    1,
    run_rich,
    NULL,
    NULL,
    0};

/* ---- unknown-as-null -------------------------------------------------- */

/* {"ok":true,"value":rich(v),"type":type(t)}, or the failure. */
static int emit_value_and_type(const soupc_cty_value *v,
                               const soupc_cty_type *t) {
  soupc_status st;
  cli_jbuf vb, tb;
  cli_jobj o;
  int rv;

  soupc_status_clear(&st);
  cli_jbuf_init(&vb);
  cli_jbuf_init(&tb);
  rv = cty_io_put_rich(&vb, v, &st);
  if (rv == 0) {
    rv = cty_io_put_type(&tb, t, &st);
  }
  if (rv != 0) {
    cli_jbuf_dispose(&vb);
    cli_jbuf_dispose(&tb);
    return cty_io_emit_failure("error", st.message);
  }
  cli_jobj_init(&o);
  cli_jobj_bool(&o, "ok", 1);
  cli_jobj_buf(&o, "value", &vb);
  cli_jobj_buf(&o, "type", &tb);
  return cli_jobj_emit(&o);
}

static int run_unknown_as_null(const cli_ctx *ctx, int argc, char **argv) {
  soupc_cty_value *v = NULL, *r = NULL;
  soupc_status st;
  int rv;

  (void)argc;
  soupc_status_clear(&st);
  rv = cty_io_typed_arg(&v, ctx->values[0].s, argv[0], &st);
  if (rv != 0) {
    return cty_io_emit_failure("error", st.message);
  }
  rv = soupc_cty_unknown_as_null(&r, v, &st);
  if (rv != 0) {
    rv = cty_io_emit_status(rv, &st);
  } else {
    rv = emit_value_and_type(r, soupc_cty_value_type(r));
  }
  soupc_cty_value_free(r);
  soupc_cty_value_free(v);
  return rv;
}

const cli_command cty_cmd_unknown_as_null = {
    "unknown-as-null [value-json]",
    "Apply cty.UnknownAsNull and report the result",
    "Rewrite every unknown in a value, at any depth, as a null of the same "
    "type.\n\n"
    "  soup-c cty unknown-as-null --type '[\"list\",\"string\"]' "
    "'[\"a\",{\"$unknown\":true}]'",
    CLI_ARGS_EXACT,
    1,
    1,
    type_flags,
    1,
    run_unknown_as_null,
    NULL,
    NULL,
    0};

/* ---- marks ------------------------------------------------------------ */

/* The "paths" array of `cty marks`. */
static int put_path_marks(cli_jbuf *b, const soupc_cty_path_marks *pm,
                          soupc_status *st) {
  size_t i, n = soupc_cty_path_marks_count(pm);

  cli_jbuf_puts(b, "[");
  for (i = 0; i < n; i++) {
    cli_jbuf pb;
    int rv;
    cli_jbuf_init(&pb);
    rv = cty_io_put_path(&pb, soupc_cty_path_marks_path(pm, i), st);
    if (rv != 0) {
      cli_jbuf_dispose(&pb);
      return rv;
    }
    cli_jbuf_puts(b, i > 0 ? ",{\"marks\":" : "{\"marks\":");
    cty_io_put_marks(b, soupc_cty_path_marks_marks(pm, i));
    cli_jbuf_puts(b, ",\"path\":");
    cli_jbuf_put(b, pb.p != NULL ? pb.p : "", pb.len);
    cli_jbuf_puts(b, "}");
    b->oom |= pb.oom;
    cli_jbuf_dispose(&pb);
  }
  cli_jbuf_puts(b, "]");
  return 0;
}

static int run_marks(const cli_ctx *ctx, int argc, char **argv) {
  soupc_cty_value *v = NULL, *unmarked = NULL, *remarked = NULL;
  soupc_cty_path_marks *pm = NULL;
  soupc_status st;
  cli_jbuf paths, ub;
  cli_jobj o;
  int rv;

  (void)argc;
  soupc_status_clear(&st);
  cli_jbuf_init(&paths);
  cli_jbuf_init(&ub);
  cli_jobj_init(&o);
  rv = cty_io_typed_arg(&v, ctx->values[0].s, argv[0], &st);
  if (rv == 0) {
    rv = soupc_cty_value_unmark_deep_with_paths(&unmarked, &pm, v);
  }
  if (rv == 0) {
    rv = put_path_marks(&paths, pm, &st);
  }
  if (rv == 0) {
    rv = cty_io_put_rich(&ub, unmarked, &st);
  }
  if (rv == 0) {
    rv = soupc_cty_value_mark_with_paths(&remarked, unmarked, pm, &st);
  }
  if (rv != 0) {
    rv = cty_io_emit_status(rv, &st);
  } else {
    cli_jobj_bool(&o, "ok", 1);
    cli_jobj_buf(&o, "unmarked", &ub);
    cli_jobj_buf(&o, "paths", &paths);
    cli_jobj_bool(&o, "round_trip_equal",
                  soupc_cty_value_raw_equals(remarked, v));
    rv = cli_jobj_emit(&o);
  }
  cli_jobj_dispose(&o);
  cli_jbuf_dispose(&ub);
  cli_jbuf_dispose(&paths);
  soupc_cty_path_marks_free(pm);
  soupc_cty_value_free(remarked);
  soupc_cty_value_free(unmarked);
  soupc_cty_value_free(v);
  return rv;
}

const cli_command cty_cmd_marks = {
    "marks [value-json]",
    "Report UnmarkDeepWithPaths, then put the marks back",
    "Strip every mark in a value and report where each one was, then "
    "re-apply them.\n\n"
    "The round trip is reported rather than assumed: MarkWithPaths is the "
    "half that\n"
    "a caller depends on when it strips marks, computes, and restores them, "
    "and a\n"
    "path that does not point back at the same place is exactly the failure "
    "that\n"
    "silently loses a sensitivity flag.\n\n"
    "  soup-c cty marks --type '[\"list\",\"string\"]' "
    "'[{\"$marks\":[\"sensitive\"],\"$value\":\"a\"}]'",
    CLI_ARGS_EXACT,
    1,
    1,
    type_flags,
    1,
    run_marks,
    NULL,
    NULL,
    0};

/* ---- range ------------------------------------------------------------ */

/* [rich(bound), inclusive] */
static int put_bound(cli_jbuf *b, const soupc_cty_range *r, int upper,
                     soupc_status *st) {
  soupc_cty_value *bound = NULL;
  int inclusive = 0;
  int rv = upper
               ? soupc_cty_range_number_upper_bound(&bound, &inclusive, r, st)
               : soupc_cty_range_number_lower_bound(&bound, &inclusive, r, st);

  if (rv == 0) {
    cli_jbuf_puts(b, "[");
    rv = cty_io_put_rich(b, bound, st);
    cli_jbuf_puts(b, inclusive ? ",true]" : ",false]");
  }
  soupc_cty_value_free(bound);
  return rv;
}

/* soup-go's describeRange: only the questions the type admits. */
static int describe_range(cli_jobj *o, const soupc_cty_range *r,
                          soupc_status *st) {
  const soupc_cty_type *ty = soupc_cty_range_type(r);
  soupc_cty_kind k = soupc_cty_type_kind(ty);
  int dynamic = k == SOUPC_CTY_DYNAMIC;
  cli_jbuf b;
  int rv;

  cli_jbuf_init(&b);
  rv = cty_io_put_type(&b, ty, st);
  if (rv != 0) {
    cli_jbuf_dispose(&b);
    return rv;
  }
  cli_jobj_buf(o, "type_constraint", &b);
  cli_jobj_bool(o, "could_be_null", soupc_cty_range_could_be_null(r));
  cli_jobj_bool(o, "definitely_not_null",
                soupc_cty_range_definitely_not_null(r));
  if (dynamic || k == SOUPC_CTY_STRING) {
    const char *prefix = NULL;
    size_t len = 0;
    rv = soupc_cty_range_string_prefix(r, &prefix, &len, st);
    if (rv != 0) {
      return rv;
    }
    cli_jobj_str(o, "string_prefix", prefix, len);
  }
  if (dynamic || k == SOUPC_CTY_NUMBER) {
    rv = put_bound(&b, r, 0, st);
    if (rv == 0) {
      cli_jobj_buf(o, "number_lower_bound", &b);
      rv = put_bound(&b, r, 1, st);
    }
    if (rv != 0) {
      cli_jbuf_dispose(&b);
      return rv;
    }
    cli_jobj_buf(o, "number_upper_bound", &b);
  }
  if (dynamic || k == SOUPC_CTY_LIST || k == SOUPC_CTY_SET ||
      k == SOUPC_CTY_MAP) {
    int64_t lo = 0, hi = 0;
    rv = soupc_cty_range_length_lower_bound(r, &lo, st);
    if (rv == 0) {
      rv = soupc_cty_range_length_upper_bound(r, &hi, st);
    }
    if (rv != 0) {
      return rv;
    }
    cli_jobj_int(o, "length_lower_bound", lo);
    cli_jobj_int(o, "length_upper_bound", hi);
    cli_jobj_bool(o, "length_upper_bound_is_maxint", hi == INT64_MAX);
  }
  return 0;
}

/* soup-go's describeIncludes. A panic of Includes is reported next to the
 * range; a candidate that does not decode fails the whole answer. */
static int describe_includes(cli_jobj *o, const soupc_cty_range *r,
                             const char *json, soupc_status *st) {
  soupc_cty_value *cand = NULL, *answer = NULL;
  int rv;

  rv = cty_io_rich_arg(&cand, soupc_cty_range_type(r), json, st);
  if (rv != 0) {
    cty_io_prefix_status(st, "failed to build the candidate: ");
    return rv;
  }
  rv = soupc_cty_range_includes(&answer, r, cand, st);
  if (rv == SOUPC_ERR_CTY_PANIC) {
    cli_jobj_str(o, "includes_panic", st->message, strlen(st->message));
    rv = 0;
  } else if (rv == 0) {
    cli_jobj sub;
    cli_jbuf b;
    cli_jobj_init(&sub);
    cli_jbuf_init(&b);
    cli_jobj_bool(&sub, "known", soupc_cty_value_is_known(answer));
    if (soupc_cty_value_is_known(answer)) {
      int t = 0;
      rv = soupc_cty_value_as_bool(answer, &t, st);
      cli_jobj_bool(&sub, "value", t);
    } else {
      soupc_cty_range *ar = NULL;
      rv = soupc_cty_value_range(&ar, answer, st);
      if (rv == 0) {
        cli_jobj_bool(&sub, "definitely_not_null",
                      soupc_cty_range_definitely_not_null(ar));
      }
      soupc_cty_range_free(ar);
    }
    cli_jobj_render(&sub, &b);
    cli_jobj_buf(o, "includes", &b);
    cli_jobj_dispose(&sub);
  }
  soupc_cty_value_free(answer);
  soupc_cty_value_free(cand);
  return rv;
}

enum {
  RANGE_TYPE,
  RANGE_INCLUDES
};

static const cli_flag range_flags[] = {
    TYPE_FLAG,
    {"includes", 0, CLI_FLAG_STRING, "",
     "a candidate value to test for membership, as a rich value of the same "
     "type",
     0}};

static int run_range(const cli_ctx *ctx, int argc, char **argv) {
  soupc_cty_value *v = NULL;
  soupc_cty_range *r = NULL;
  soupc_status st;
  cli_jobj o;
  const char *includes = ctx->values[RANGE_INCLUDES].s;
  int rv;

  (void)argc;
  soupc_status_clear(&st);
  rv = cty_io_typed_arg(&v, ctx->values[RANGE_TYPE].s, argv[0], &st);
  if (rv != 0) {
    return cty_io_emit_failure("error", st.message);
  }
  rv = soupc_cty_value_range(&r, v, &st);
  soupc_cty_value_free(v);
  if (rv != 0) {
    return cty_io_emit_status(rv, &st);
  }
  cli_jobj_init(&o);
  cli_jobj_bool(&o, "ok", 1);
  rv = describe_range(&o, r, &st);
  if (rv == 0 && includes[0] != '\0') {
    rv = describe_includes(&o, r, includes, &st);
  }
  soupc_cty_range_free(r);
  if (rv != 0) {
    cli_jobj_dispose(&o);
    return cty_io_emit_failure("error", st.message);
  }
  return cli_jobj_emit(&o);
}

const cli_command cty_cmd_range = {
    "range [value-json]",
    "Report Value.Range, and optionally ValueRange.Includes",
    "Report everything go-cty's Value.Range can say about a value.\n\n"
    "Refinements are given as part of the value, so this covers Value.Refine "
    "too:\n\n"
    "  soup-c cty range --type string "
    "'{\"$unknown\":true,\"$refine\":{\"string_prefix\":\"ht\"}}'\n"
    "  soup-c cty range --type number '{\"$unknown\":true}' --includes "
    "'5'\n\n"
    "Bounds are reported exactly as go-cty returns them, infinities "
    "included. The\n"
    "docstrings say an unbounded number range returns an unknown number; the "
    "code\n"
    "returns an infinity, and this reports what the code does.",
    CLI_ARGS_EXACT,
    1,
    1,
    range_flags,
    2,
    run_range,
    NULL,
    NULL,
    0};

/* ---- safe-known-prefix ------------------------------------------------ */

static int run_safe_known_prefix(const cli_ctx *ctx, int argc, char **argv) {
  char *prefix = NULL;
  size_t len = 0;
  cli_jobj o;

  (void)ctx;
  (void)argc;
  if (soupc_cty_safe_known_prefix(&prefix, &len, argv[0], strlen(argv[0])) !=
      0) {
    return cty_io_emit_failure("error", "out of memory");
  }
  cli_jobj_init(&o);
  cli_jobj_bool(&o, "ok", 1);
  cli_jobj_str(&o, "prefix", prefix, len);
  soupc_cty_free_bytes(prefix);
  return cli_jobj_emit(&o);
}

const cli_command cty_cmd_safe_known_prefix = {
    "safe-known-prefix [string]",
    "ctystrings.SafeKnownPrefix for a string prefix",
    "Trim a string prefix back to a point where appending anything is "
    "safe.\n\n"
    "A prefix may end part-way through a grapheme cluster, and a later "
    "append could\n"
    "combine with it -- so the safe prefix is shorter than the given one "
    "whenever\n"
    "the last cluster could still grow.\n\n"
    "  soup-c cty safe-known-prefix 'hello'",
    CLI_ARGS_EXACT,
    1,
    1,
    NULL,
    0,
    run_safe_known_prefix,
    NULL,
    NULL,
    0};

/* ---- walk ------------------------------------------------------------- */

struct walk_state {
  cli_jbuf visits;
  long long prune_depth;
  size_t n;
  soupc_status st;
  int failed;
};

/* soup-go's visitRecord: {"path","type","value"}; the type is the
 * unmarked value's. */
static int visit(const soupc_cty_path *path, const soupc_cty_value *v,
                 void *user_data) {
  struct walk_state *w = user_data;
  soupc_cty_value *unmarked = NULL;
  cli_jbuf pb, vb, tb;
  int rv;

  cli_jbuf_init(&pb);
  cli_jbuf_init(&vb);
  cli_jbuf_init(&tb);
  rv = cty_io_put_path(&pb, path, &w->st);
  if (rv == 0) {
    rv = cty_io_put_rich(&vb, v, &w->st);
  }
  if (rv == 0) {
    rv = soupc_cty_value_unmark(&unmarked, NULL, v);
  }
  if (rv == 0) {
    rv = cty_io_put_type(&tb, soupc_cty_value_type(unmarked), &w->st);
  }
  if (rv == 0 && pb.p != NULL && vb.p != NULL && tb.p != NULL) {
    cli_jbuf_printf(&w->visits, "%s{\"path\":%s,\"type\":%s,\"value\":%s}",
                    w->n++ > 0 ? "," : "", pb.p, tb.p, vb.p);
  }
  rv = rv != 0 ? rv : (pb.oom || vb.oom || tb.oom ? SOUPC_ERR_NOMEM : 0);
  soupc_cty_value_free(unmarked);
  cli_jbuf_dispose(&pb);
  cli_jbuf_dispose(&vb);
  cli_jbuf_dispose(&tb);
  if (rv != 0) {
    w->failed = 1;
    return rv;
  }
  if (w->prune_depth >= 0 &&
      (long long)soupc_cty_path_length(path) >= w->prune_depth) {
    return 0;
  }
  return 1;
}

enum {
  WALK_TYPE,
  WALK_PRUNE
};

static const cli_flag walk_flags[] = {
    TYPE_FLAG,
    {"prune-depth", 0, CLI_FLAG_INT, "-1",
     "decline to descend once the path is this long (-1 never prunes)", 0}};

static int run_walk(const cli_ctx *ctx, int argc, char **argv) {
  soupc_cty_value *v = NULL;
  struct walk_state w;
  cli_jobj o;
  int rv;

  (void)argc;
  memset(&w, 0, sizeof(w));
  soupc_status_clear(&w.st);
  rv = cty_io_typed_arg(&v, ctx->values[WALK_TYPE].s, argv[0], &w.st);
  if (rv != 0) {
    return cty_io_emit_failure("error", w.st.message);
  }
  cli_jbuf_init(&w.visits);
  cli_jbuf_puts(&w.visits, "[");
  w.prune_depth = ctx->values[WALK_PRUNE].i;
  rv = soupc_cty_walk(v, visit, &w);
  soupc_cty_value_free(v);
  if (rv != 0) {
    cli_jbuf_dispose(&w.visits);
    return cty_io_emit_failure("error",
                               w.failed ? w.st.message : "out of memory");
  }
  cli_jbuf_puts(&w.visits, "]");
  cli_jobj_init(&o);
  cli_jobj_bool(&o, "ok", 1);
  cli_jobj_buf(&o, "visits", &w.visits);
  return cli_jobj_emit(&o);
}

const cli_command cty_cmd_walk = {
    "walk [value-json]",
    "Report the (path, value) pairs cty.Walk visits, in order",
    "Walk a value and report every visit: the path, the value, and its "
    "type.\n\n"
    "Order is the contract. Walk sees a container before its children, an "
    "object's\n"
    "attributes come from an iterator, and a set element's path holds the "
    "element\n"
    "itself -- none of which a second implementation can check against a "
    "reading of\n"
    "the source.\n\n"
    "--prune-depth exercises the callback's other answer. Returning false "
    "declines to\n"
    "descend, and a walk that ignores it visits values the caller asked not "
    "to see.\n\n"
    "  soup-c cty walk --type '[\"list\",\"string\"]' '[\"a\",\"b\"]'\n"
    "  soup-c cty walk --type '[\"list\",\"string\"]' '[\"a\"]' "
    "--prune-depth 0",
    CLI_ARGS_EXACT,
    1,
    1,
    walk_flags,
    2,
    run_walk,
    NULL,
    NULL,
    0};

/* ---- transform -------------------------------------------------------- */

/* "upper": every known, non-null string in upper case, marks kept. */
static int op_upper(soupc_cty_value **out, const soupc_cty_path *path,
                    const soupc_cty_value *v, void *user_data) {
  soupc_cty_value *unmarked = NULL, *up = NULL;
  soupc_cty_marks *marks = NULL;
  soupc_cty_call_error err = {NULL, -1};
  const soupc_cty_value *arg;
  int rv;

  (void)path;
  (void)user_data;
  rv = soupc_cty_value_unmark(&unmarked, &marks, v);
  if (rv != 0) {
    return rv;
  }
  if (soupc_cty_type_kind(soupc_cty_value_type(unmarked)) != SOUPC_CTY_STRING ||
      soupc_cty_value_is_null(unmarked) ||
      !soupc_cty_value_is_known(unmarked)) {
    *out = soupc_cty_value_ref(v);
    rv = 0;
  } else {
    /* strings.ToUpper, as go-cty's stdlib upper applies it */
    arg = unmarked;
    rv = soupc_cty_call(&up, "upper", &arg, 1, &err);
    if (rv == 0) {
      rv = soupc_cty_value_with_marks(out, up, marks);
    }
  }
  soupc_cty_call_error_dispose(&err);
  soupc_cty_value_free(up);
  soupc_cty_marks_free(marks);
  soupc_cty_value_free(unmarked);
  return rv;
}

/* "unknown-to-null": an unknown becomes a null of its type, marks kept. */
static int op_unknown_to_null(soupc_cty_value **out, const soupc_cty_path *path,
                              const soupc_cty_value *v, void *user_data) {
  soupc_cty_value *unmarked = NULL, *null = NULL;
  soupc_cty_marks *marks = NULL;
  int rv;

  (void)path;
  (void)user_data;
  rv = soupc_cty_value_unmark(&unmarked, &marks, v);
  if (rv != 0) {
    return rv;
  }
  if (soupc_cty_value_is_known(unmarked)) {
    *out = soupc_cty_value_ref(v);
  } else {
    rv = soupc_cty_value_null(&null, soupc_cty_value_type(unmarked));
    if (rv == 0) {
      rv = soupc_cty_value_with_marks(out, null, marks);
    }
  }
  soupc_cty_value_free(null);
  soupc_cty_marks_free(marks);
  soupc_cty_value_free(unmarked);
  return rv;
}

enum {
  TRANSFORM_TYPE,
  TRANSFORM_OP
};

static const cli_flag transform_flags[] = {
    TYPE_FLAG,
    {"op", 0, CLI_FLAG_STRING, "",
     "the rewrite to apply: upper, unknown-to-null", 1}};

static int run_transform(const cli_ctx *ctx, int argc, char **argv) {
  const char *op = ctx->values[TRANSFORM_OP].s;
  soupc_cty_transform_fn fn;
  soupc_cty_value *v = NULL, *r = NULL, *unmarked = NULL;
  soupc_status st;
  int rv;

  (void)argc;
  if (strcmp(op, "upper") == 0) {
    fn = op_upper;
  } else if (strcmp(op, "unknown-to-null") == 0) {
    fn = op_unknown_to_null;
  } else {
    char *q = NULL;
    rv = soupc_cty_go_quote(&q, NULL, op, strlen(op));
    rv = cli_command_fail(ctx, "unknown op %s; known: unknown-to-null, upper",
                          rv == 0 ? q : op);
    soupc_cty_free_bytes(q);
    return rv;
  }
  soupc_status_clear(&st);
  rv = cty_io_typed_arg(&v, ctx->values[TRANSFORM_TYPE].s, argv[0], &st);
  if (rv != 0) {
    return cty_io_emit_failure("error", st.message);
  }
  rv = soupc_cty_transform(&r, v, fn, NULL, &st);
  if (rv == 0) {
    rv = soupc_cty_value_unmark(&unmarked, NULL, r);
  }
  if (rv != 0) {
    rv = cty_io_emit_status(rv, &st);
  } else {
    rv = emit_value_and_type(r, soupc_cty_value_type(unmarked));
  }
  soupc_cty_value_free(unmarked);
  soupc_cty_value_free(r);
  soupc_cty_value_free(v);
  return rv;
}

const cli_command cty_cmd_transform = {
    "transform [value-json]",
    "Apply a named rewrite with cty.Transform and report the result",
    "Rebuild a value bottom-up, applying one of a small set of named "
    "rewrites.\n\n"
    "Transform visits children first, so a container is rebuilt from values "
    "that have\n"
    "already been rewritten -- which is where the result's *type* comes from, "
    "and the\n"
    "part a second implementation is most likely to get wrong.\n\n"
    "Known rewrites: upper, unknown-to-null.\n\n"
    "  soup-c cty transform --type '[\"list\",\"string\"]' --op upper "
    "'[\"a\",\"b\"]'",
    CLI_ARGS_EXACT,
    1,
    1,
    transform_flags,
    2,
    run_transform,
    NULL,
    NULL,
    0};

/* ---- equals ----------------------------------------------------------- */

enum {
  EQ_LEFT,
  EQ_RIGHT
};

static const cli_flag equals_flags[] = {
    {"left-type", 0, CLI_FLAG_STRING, "", "the left value's type, as JSON", 1},
    {"right-type", 0, CLI_FLAG_STRING, "", "the right value's type, as JSON",
     1}};

/* {"known","value"?,"marks"?} of Value.Equals' answer. */
static int describe_equals(cli_jbuf *b, const soupc_cty_value *answer,
                           soupc_status *st) {
  soupc_cty_value *unmarked = NULL;
  soupc_cty_marks *marks = NULL;
  cli_jobj o;
  int rv = soupc_cty_value_unmark(&unmarked, &marks, answer);

  if (rv != 0) {
    return rv;
  }
  cli_jobj_init(&o);
  cli_jobj_bool(&o, "known", soupc_cty_value_is_known(unmarked));
  if (soupc_cty_value_is_known(unmarked)) {
    int t = 0;
    rv = soupc_cty_value_as_bool(unmarked, &t, st);
    cli_jobj_bool(&o, "value", t);
  }
  if (soupc_cty_marks_count(marks) > 0) {
    cli_jbuf mb;
    cli_jbuf_init(&mb);
    cty_io_put_marks(&mb, marks);
    cli_jobj_buf(&o, "marks", &mb);
  }
  cli_jobj_render(&o, b);
  cli_jobj_dispose(&o);
  soupc_cty_marks_free(marks);
  soupc_cty_value_free(unmarked);
  return rv;
}

static int run_equals(const cli_ctx *ctx, int argc, char **argv) {
  soupc_cty_value *l = NULL, *r = NULL, *answer = NULL;
  soupc_status st;
  cli_jbuf b;
  cli_jobj o;
  int rv;

  (void)argc;
  soupc_status_clear(&st);
  cli_jbuf_init(&b);
  cli_jobj_init(&o);
  rv = cty_io_typed_arg(&l, ctx->values[EQ_LEFT].s, argv[0], &st);
  if (rv != 0) {
    char msg[sizeof(st.message) + 8];
    snprintf(msg, sizeof(msg), "left: %s", st.message);
    rv = cty_io_emit_failure("error", msg);
    goto out;
  }
  rv = cty_io_typed_arg(&r, ctx->values[EQ_RIGHT].s, argv[1], &st);
  if (rv != 0) {
    char msg[sizeof(st.message) + 8];
    snprintf(msg, sizeof(msg), "right: %s", st.message);
    rv = cty_io_emit_failure("error", msg);
    goto out;
  }
  rv = soupc_cty_value_equals(&answer, l, r, &st);
  if (rv == 0) {
    rv = describe_equals(&b, answer, &st);
  }
  if (rv != 0) {
    rv = cty_io_emit_status(rv, &st);
    goto out;
  }
  cli_jobj_bool(&o, "ok", 1);
  cli_jobj_buf(&o, "equals", &b);
  cli_jobj_bool(&o, "raw_equals", soupc_cty_value_raw_equals(l, r));
  rv = cli_jobj_emit(&o);
out:
  cli_jobj_dispose(&o);
  cli_jbuf_dispose(&b);
  soupc_cty_value_free(answer);
  soupc_cty_value_free(r);
  soupc_cty_value_free(l);
  return rv;
}

const cli_command cty_cmd_equals = {
    "equals [left-json] [right-json]",
    "Report Value.Equals and Value.RawEquals",
    "Compare two values the way cty itself does, not the way the stdlib "
    "does.\n\n"
    "`cty call equal` reaches stdlib.EqualFunc, which unifies its arguments\n"
    "first. This is Value.Equals: three-valued, mark-propagating, and willing "
    "to say\n"
    "\"not yet decided\" -- the comparison a provider does when it asks "
    "whether planned\n"
    "state matches prior state.\n\n"
    "RawEquals comes along because the two answer different questions. "
    "Equals is\n"
    "about the values; RawEquals is about the representations, and it is the "
    "one that\n"
    "distinguishes an unknown from a null of the same type.\n\n"
    "  soup-c cty equals --left-type '\"string\"' --right-type '\"string\"' "
    "'\"a\"' '{\"$unknown\":true}'",
    CLI_ARGS_EXACT,
    2,
    2,
    equals_flags,
    2,
    run_equals,
    NULL,
    NULL,
    0};
