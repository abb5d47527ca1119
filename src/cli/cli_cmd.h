/* A command tree that behaves like the cobra/pflag one TofuSoup's soup-go
 * is built on, for the soup-go-compatible `cty` and `wire` commands: the
 * same flag syntax and errors (exact long names only, `--f=v`, `-abc`,
 * `--` ends flags, flags anywhere), the same order of checks (flags, then
 * --help, then argument counts, then required flags), the same help layout
 * ("Available Commands:", "Flags:", "Global Flags:") and the same error
 * report ("Error: <msg>", the usage, a log line, the message; exit 1). */
#ifndef SOUPC_CLI_CMD_H
#define SOUPC_CLI_CMD_H

#include <stddef.h>

typedef enum {
  CLI_FLAG_STRING,
  CLI_FLAG_BOOL,
  CLI_FLAG_INT /* Go int: strconv.ParseInt(s, 0, 64) */
} cli_flag_kind;

typedef struct {
  const char *name; /* the long name, without "--" */
  char shorthand;   /* 0 for none */
  cli_flag_kind kind;
  const char *def;   /* default value as text ("" for a string's none) */
  const char *usage; /* one line for the help */
  int required;      /* cobra MarkFlagRequired */
} cli_flag;

/* A parsed flag. */
typedef struct {
  long long i;   /* int value */
  const char *s; /* string value (the default when not given) */
  int changed;   /* given on the command line */
  int b;         /* bool value */
} cli_flag_value;

typedef enum {
  CLI_ARGS_ANY,   /* no check (cobra ArbitraryArgs) */
  CLI_ARGS_EXACT, /* min_args (ExactArgs) */
  CLI_ARGS_MIN,   /* at least min_args (MinimumNArgs) */
  CLI_ARGS_RANGE  /* min_args..max_args (RangeArgs) */
} cli_args_rule;

typedef struct cli_ctx cli_ctx;
typedef struct cli_command cli_command;

struct cli_command {
  const char *use;        /* "rich [value-json]": the name, then a synopsis */
  const char *short_desc; /* one line, for "Available Commands:" */
  const char *long_desc;  /* the help's opening text (NULL: short_desc) */
  cli_args_rule args;
  int min_args;
  int max_args;
  const cli_flag *flags; /* local flags */
  size_t n_flags;
  /* Runs the command; @p argv holds the positional arguments. */
  int (*run)(const cli_ctx *ctx, int argc, char **argv);
  /* Instead of run: a command that parses its own flags, called with
   * argv[0] = its full name and everything after its name. */
  int (*delegate)(int argc, char **argv);
  const cli_command *const *subs; /* subcommands (a group has no run) */
  size_t n_subs;
};

struct cli_ctx {
  const cli_command *cmd;
  const char *path;             /* "soup-c cty rich" */
  const char *parent_path;      /* "soup-c cty" */
  const cli_flag_value *values; /* one per cmd->flags[i] */
};

/**
 * Runs the command tree under @p top (a child of the program, e.g. `cty`),
 * as cobra's Execute would for `<program> <top> argv[1..]`.
 * @param program  the program's name, e.g. "soup-c"
 * @param argv     argv[0] is ignored; argv[1..argc-1] follow the top word
 * @return the exit code: 0, or 1 for any error
 */
int cli_command_execute(const cli_command *top, const char *program, int argc,
                        char **argv);

/* Reports a command's error as soup-go's main does ("Error: <msg>", the
 * usage, a log line and the message, on stderr). @return 1 */
int cli_command_fail(const cli_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
