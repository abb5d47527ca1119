/* The cobra/pflag-like command tree of cli_cmd.h. Each piece follows the
 * Go code it stands in for (spf13/cobra command.go and args.go, spf13/pflag
 * flag.go, strconv's ParseBool/ParseInt), so that help, errors and exit
 * codes are soup-go's byte for byte. */
#include "cli/cli_cmd.h"

#include "cli/cli_json.h"
#include "soupc/cty.h"
#include "soupc/soupc.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FLAGS 16

/* soup-go's root command's persistent flags, inherited by every command. */
static const cli_flag persistent_flags[] = {
    {"log-level", 0, CLI_FLAG_STRING, "info",
     "Set log level (trace, debug, info, warn, error)", 0},
    {"verbose", 'v', CLI_FLAG_BOOL, "false", "Enable verbose output", 0},
};
#define N_PERSISTENT (sizeof(persistent_flags) / sizeof(persistent_flags[0]))
enum {
  PF_LOG_LEVEL = 0
};

/* The flags a command parses: its own, -h/--help, then the inherited. */
struct fset {
  const cli_flag *f[MAX_FLAGS];
  cli_flag_value *v[MAX_FLAGS];
  int inherited[MAX_FLAGS];
  size_t n;
  cli_flag help;
  char help_usage[96];
  cli_flag_value help_value;
  cli_flag_value pvalues[N_PERSISTENT];
};

/* The length of the command's name (the first word of its Use). */
static size_t name_len(const cli_command *c) {
  return strcspn(c->use, " ");
}

static void value_init(cli_flag_value *v, const cli_flag *f) {
  memset(v, 0, sizeof(*v));
  v->s = f->def;
  v->b = strcmp(f->def, "true") == 0;
  v->i = strtoll(f->def, NULL, 10);
}

static void fset_add(struct fset *fs, const cli_flag *f, cli_flag_value *v,
                     int inherited) {
  if (fs->n < MAX_FLAGS) {
    fs->f[fs->n] = f;
    fs->v[fs->n] = v;
    fs->inherited[fs->n] = inherited;
    fs->n++;
  }
}

/* @p values gets one entry per local flag of @p c. */
static void fset_build(struct fset *fs, const cli_command *c,
                       cli_flag_value *values) {
  size_t i;

  memset(fs, 0, sizeof(*fs));
  for (i = 0; i < c->n_flags; i++) {
    value_init(&values[i], &c->flags[i]);
    fset_add(fs, &c->flags[i], &values[i], 0);
  }
  snprintf(fs->help_usage, sizeof(fs->help_usage), "help for %.*s",
           (int)name_len(c), c->use);
  fs->help.name = "help";
  fs->help.shorthand = 'h';
  fs->help.kind = CLI_FLAG_BOOL;
  fs->help.def = "false";
  fs->help.usage = fs->help_usage;
  value_init(&fs->help_value, &fs->help);
  fset_add(fs, &fs->help, &fs->help_value, 0);
  for (i = 0; i < N_PERSISTENT; i++) {
    value_init(&fs->pvalues[i], &persistent_flags[i]);
    fset_add(fs, &persistent_flags[i], &fs->pvalues[i], 1);
  }
}

static long fset_long(const struct fset *fs, const char *name, size_t len) {
  size_t i;

  for (i = 0; i < fs->n; i++) {
    if (strlen(fs->f[i]->name) == len &&
        memcmp(fs->f[i]->name, name, len) == 0) {
      return (long)i;
    }
  }
  return -1;
}

static long fset_short(const struct fset *fs, char c) {
  size_t i;

  for (i = 0; i < fs->n; i++) {
    if (fs->f[i]->shorthand == c) {
      return (long)i;
    }
  }
  return -1;
}

/* ---- strconv ---------------------------------------------------------- */

static void put_quoted(cli_jbuf *b, const char *s, size_t len) {
  char *q = NULL;
  size_t qlen = 0;

  if (soupc_cty_go_quote(&q, &qlen, s, len) != 0) {
    b->oom = 1;
    return;
  }
  cli_jbuf_put(b, q, qlen);
  soupc_cty_free_bytes(q);
}

/* fmt's %q of a byte: strconv.QuoteRune(rune(c)). */
static void put_quoted_rune(cli_jbuf *b, unsigned char c) {
  char utf8[2];
  char *q = NULL;
  size_t qlen = 0;
  size_t n = 1;

  if (c == '\'') {
    cli_jbuf_puts(b, "'\\''");
    return;
  }
  if (c == '"') {
    cli_jbuf_puts(b, "'\"'");
    return;
  }
  utf8[0] = (char)c;
  if (c >= 0x80) { /* the rune U+0080..U+00FF */
    utf8[0] = (char)(0xC0 | (c >> 6));
    utf8[1] = (char)(0x80 | (c & 0x3F));
    n = 2;
  }
  if (soupc_cty_go_quote(&q, &qlen, utf8, n) != 0) {
    b->oom = 1;
    return;
  }
  cli_jbuf_puts(b, "'");
  cli_jbuf_put(b, q + 1, qlen - 2);
  cli_jbuf_puts(b, "'");
  soupc_cty_free_bytes(q);
}

/* strconv.ParseBool. @return 0/1, or -1 for invalid syntax. */
static int go_parse_bool(const char *s) {
  static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
  static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
  size_t i;

  for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
    if (strcmp(s, yes[i]) == 0) {
      return 1;
    }
    if (strcmp(s, no[i]) == 0) {
      return 0;
    }
  }
  return -1;
}

static char lower(char c) {
  return (char)(c | ('x' - 'X'));
}

/* strconv's underscoreOK: underscores only between digits (or after a
 * base prefix). */
static int underscore_ok(const char *s) {
  char saw = '^';
  size_t i = 0, len;
  int hex = 0;

  if (*s == '-' || *s == '+') {
    s++;
  }
  len = strlen(s);
  if (len >= 2 && s[0] == '0' &&
      (lower(s[1]) == 'b' || lower(s[1]) == 'o' || lower(s[1]) == 'x')) {
    i = 2;
    saw = '0';
    hex = lower(s[1]) == 'x';
  }
  for (; i < len; i++) {
    if ((s[i] >= '0' && s[i] <= '9') ||
        (hex && lower(s[i]) >= 'a' && lower(s[i]) <= 'f')) {
      saw = '0';
      continue;
    }
    if (s[i] == '_') {
      if (saw != '0') {
        return 0;
      }
      saw = '_';
      continue;
    }
    if (saw == '_') {
      return 0;
    }
    saw = '!';
  }
  return saw != '_';
}

/* strconv.ParseInt(s, 0, 64). @return 0, -1 (invalid syntax) or -2 (value
 * out of range), in the order Go finds them. */
static int go_parse_int(const char *s0, long long *out) {
  const char *s = s0;
  uint64_t n = 0, cutoff, base = 10;
  int neg = 0, underscores = 0;

  if (*s == '+' || *s == '-') {
    neg = *s == '-';
    s++;
  }
  if (*s == '\0') {
    return -1;
  }
  if (s[0] == '0') {
    size_t len = strlen(s);
    char c1 = '\0';
    if (len >= 3) {
      c1 = lower(s[1]);
    }
    if (c1 == 'b') {
      base = 2;
      s += 2;
    } else if (c1 == 'o') {
      base = 8;
      s += 2;
    } else if (c1 == 'x') {
      base = 16;
      s += 2;
    } else {
      base = 8;
      s++;
    }
  }
  cutoff = UINT64_MAX / base + 1;
  for (; *s != '\0'; s++) {
    uint64_t d, n1;
    char c = *s;
    if (c == '_') {
      underscores = 1;
      continue;
    }
    if (c >= '0' && c <= '9') {
      d = (uint64_t)(c - '0');
    } else if (lower(c) >= 'a' && lower(c) <= 'z') {
      d = (uint64_t)(lower(c) - 'a') + 10;
    } else {
      return -1;
    }
    if (d >= base) {
      return -1;
    }
    if (n >= cutoff) {
      return -2;
    }
    n *= base;
    n1 = n + d;
    if (n1 < n) {
      return -2;
    }
    n = n1;
  }
  if (underscores && !underscore_ok(s0)) {
    return -1;
  }
  if ((!neg && n >= (uint64_t)1 << 63) || (neg && n > (uint64_t)1 << 63)) {
    return -2;
  }
  *out = neg ? (long long)(0 - n) : (long long)n;
  return 0;
}

/* ---- pflag ------------------------------------------------------------ */

/* pflag's "-v, --verbose" or "--type", as its Set errors name a flag. */
static void put_flag_name(cli_jbuf *b, const cli_flag *f) {
  if (f->shorthand != 0) {
    cli_jbuf_printf(b, "-%c, --%s", f->shorthand, f->name);
  } else {
    cli_jbuf_printf(b, "--%s", f->name);
  }
}

/* FlagSet.Set. @return 0, or -1 with the message in @p err. */
static int flag_set(struct fset *fs, size_t i, const char *value,
                    cli_jbuf *err) {
  const cli_flag *f = fs->f[i];
  cli_flag_value *v = fs->v[i];
  const char *why = NULL;
  const char *fn = NULL;

  if (f->kind == CLI_FLAG_BOOL) {
    int b = go_parse_bool(value);
    if (b < 0) {
      fn = "ParseBool";
      why = "invalid syntax";
    } else {
      v->b = b;
    }
  } else if (f->kind == CLI_FLAG_INT) {
    long long n = 0;
    int rv = go_parse_int(value, &n);
    if (rv != 0) {
      fn = "ParseInt";
      why = rv == -1 ? "invalid syntax" : "value out of range";
    } else {
      v->i = n;
    }
  } else {
    v->s = value;
  }
  if (why != NULL) {
    char name[64];
    cli_jbuf nb;
    cli_jbuf_init(&nb);
    put_flag_name(&nb, f);
    snprintf(name, sizeof(name), "%s", nb.p != NULL ? nb.p : "");
    cli_jbuf_dispose(&nb);
    cli_jbuf_puts(err, "invalid argument ");
    put_quoted(err, value, strlen(value));
    cli_jbuf_puts(err, " for ");
    put_quoted(err, name, strlen(name));
    cli_jbuf_printf(err, " flag: strconv.%s: parsing ", fn);
    put_quoted(err, value, strlen(value));
    cli_jbuf_printf(err, ": %s", why);
    return -1;
  }
  v->changed = 1;
  return 0;
}

/* FlagSet.parseLongArg for argv[*ip] = "--...". */
static int parse_long(struct fset *fs, int argc, char **argv, int *ip,
                      cli_jbuf *err) {
  const char *s = argv[*ip];
  const char *name = s + 2;
  const char *eq;
  size_t nlen;
  long fi;
  const char *value;

  if (*name == '\0' || *name == '-' || *name == '=') {
    cli_jbuf_printf(err, "bad flag syntax: %s", s);
    return -1;
  }
  eq = strchr(name, '=');
  nlen = eq != NULL ? (size_t)(eq - name) : strlen(name);
  fi = fset_long(fs, name, nlen);
  if (fi < 0) {
    cli_jbuf_printf(err, "unknown flag: --%.*s", (int)nlen, name);
    return -1;
  }
  if (eq != NULL) {
    value = eq + 1;
  } else if (fs->f[fi]->kind == CLI_FLAG_BOOL) {
    value = "true";
  } else if (*ip + 1 < argc) {
    value = argv[++*ip];
  } else {
    cli_jbuf_printf(err, "flag needs an argument: %s", s);
    return -1;
  }
  return flag_set(fs, (size_t)fi, value, err);
}

/* FlagSet.parseShortArg for argv[*ip] = "-abc". */
static int parse_short(struct fset *fs, int argc, char **argv, int *ip,
                       cli_jbuf *err) {
  const char *shorthands = argv[*ip] + 1;

  while (*shorthands != '\0') {
    long fi = fset_short(fs, *shorthands);
    const char *value;
    const char *next = shorthands + 1;
    if (fi < 0) {
      cli_jbuf_puts(err, "unknown shorthand flag: ");
      put_quoted_rune(err, (unsigned char)*shorthands);
      cli_jbuf_printf(err, " in -%s", shorthands);
      return -1;
    }
    if (strlen(shorthands) > 2 && shorthands[1] == '=') {
      value = shorthands + 2;
      next = "";
    } else if (fs->f[fi]->kind == CLI_FLAG_BOOL) {
      value = "true";
    } else if (shorthands[1] != '\0') {
      value = shorthands + 1;
      next = "";
    } else if (*ip + 1 < argc) {
      value = argv[++*ip];
    } else {
      cli_jbuf_puts(err, "flag needs an argument: ");
      put_quoted_rune(err, (unsigned char)*shorthands);
      cli_jbuf_printf(err, " in -%s", shorthands);
      return -1;
    }
    if (flag_set(fs, (size_t)fi, value, err) != 0) {
      return -1;
    }
    shorthands = next;
  }
  return 0;
}

/* FlagSet.Parse: flags anywhere, "--" ends them; the rest go to @p pos
 * (room for argc entries). @return 0, or -1 with the error in @p err. */
static int parse_flags(struct fset *fs, int argc, char **argv, char **pos,
                       int *npos, cli_jbuf *err) {
  int i;

  *npos = 0;
  for (i = 0; i < argc; i++) {
    const char *s = argv[i];
    int rv;
    if (s[0] != '-' || s[1] == '\0') {
      pos[(*npos)++] = argv[i];
      continue;
    }
    if (s[1] == '-' && s[2] == '\0') {
      for (i++; i < argc; i++) {
        pos[(*npos)++] = argv[i];
      }
      break;
    }
    rv = s[1] == '-' ? parse_long(fs, argc, argv, &i, err)
                     : parse_short(fs, argc, argv, &i, err);
    if (rv != 0) {
      return -1;
    }
  }
  return 0;
}

/* ---- help ------------------------------------------------------------- */

static int cmp_flag(const void *a, const void *b) {
  return strcmp((*(const cli_flag *const *)a)->name,
                (*(const cli_flag *const *)b)->name);
}

/* pflag's FlagUsages for the local (@p inherited 0) or inherited flags,
 * sorted by name, usage column aligned; no trailing newline. */
static void flag_usages(cli_jbuf *b, const struct fset *fs, int inherited) {
  const cli_flag *sorted[MAX_FLAGS];
  char lines[MAX_FLAGS][96];
  size_t i, n = 0, maxlen = 0;

  for (i = 0; i < fs->n; i++) {
    if (fs->inherited[i] == inherited) {
      sorted[n++] = fs->f[i];
    }
  }
  qsort(sorted, n, sizeof(sorted[0]), cmp_flag);
  for (i = 0; i < n; i++) {
    const cli_flag *f = sorted[i];
    size_t len;
    if (f->shorthand != 0) {
      snprintf(lines[i], sizeof(lines[i]), "  -%c, --%s", f->shorthand,
               f->name);
    } else {
      snprintf(lines[i], sizeof(lines[i]), "      --%s", f->name);
    }
    len = strlen(lines[i]);
    if (f->kind != CLI_FLAG_BOOL) {
      snprintf(lines[i] + len, sizeof(lines[i]) - len, " %s",
               f->kind == CLI_FLAG_INT ? "int" : "string");
    }
    /* pflag counts the separator it puts after the name in the width */
    len = strlen(lines[i]) + 1;
    if (len > maxlen) {
      maxlen = len;
    }
  }
  for (i = 0; i < n; i++) {
    const cli_flag *f = sorted[i];
    size_t len = strlen(lines[i]);
    if (i > 0) {
      cli_jbuf_puts(b, "\n");
    }
    cli_jbuf_printf(b, "%s %*s %s", lines[i], (int)(maxlen - len), "",
                    f->usage);
    if (f->kind == CLI_FLAG_STRING && f->def[0] != '\0') {
      cli_jbuf_puts(b, " (default ");
      put_quoted(b, f->def, strlen(f->def));
      cli_jbuf_puts(b, ")");
    } else if ((f->kind == CLI_FLAG_INT && strcmp(f->def, "0") != 0) ||
               (f->kind == CLI_FLAG_BOOL && strcmp(f->def, "false") != 0)) {
      cli_jbuf_printf(b, " (default %s)", f->def);
    }
  }
}

/* cobra's UsageString: "Usage:", the commands, the flags; ends in "\n". */
static void usage_string(cli_jbuf *b, const cli_command *c, const char *path,
                         const char *parent_path) {
  struct fset fs;
  cli_flag_value values[MAX_FLAGS];
  size_t i, pad = 11; /* cobra's minNamePadding */

  fset_build(&fs, c, values);
  cli_jbuf_puts(b, "Usage:");
  if (c->run != NULL || c->delegate != NULL) {
    cli_jbuf_printf(b, "\n  %s %s", parent_path, c->use);
    if (strstr(c->use, "[flags]") == NULL) {
      cli_jbuf_puts(b, " [flags]");
    }
  }
  if (c->n_subs > 0) {
    cli_jbuf_printf(b, "\n  %s [command]\n\nAvailable Commands:", path);
    for (i = 0; i < c->n_subs; i++) {
      if (name_len(c->subs[i]) > pad) {
        pad = name_len(c->subs[i]);
      }
    }
    for (i = 0; i < c->n_subs; i++) {
      const cli_command *s = c->subs[i];
      cli_jbuf_printf(b, "\n  %-*.*s %s", (int)pad, (int)name_len(s), s->use,
                      s->short_desc);
    }
  }
  cli_jbuf_puts(b, "\n\nFlags:\n");
  flag_usages(b, &fs, 0);
  cli_jbuf_puts(b, "\n\nGlobal Flags:\n");
  flag_usages(b, &fs, 1);
  if (c->n_subs > 0) {
    cli_jbuf_printf(b,
                    "\n\nUse \"%s [command] --help\" for more information "
                    "about a command.",
                    path);
  }
  cli_jbuf_puts(b, "\n");
}

static void print_help(const cli_command *c, const char *path,
                       const char *parent_path) {
  const char *text = c->long_desc != NULL ? c->long_desc : c->short_desc;
  size_t len = strlen(text);
  cli_jbuf b;

  while (len > 0 && strchr(" \t\r\n", text[len - 1]) != NULL) {
    len--;
  }
  cli_jbuf_init(&b);
  cli_jbuf_put(&b, text, len);
  cli_jbuf_puts(&b, "\n\n");
  usage_string(&b, c, path, parent_path);
  if (cli_jbuf_text(&b) != NULL) {
    fputs(b.p, stdout);
  }
  fflush(stdout);
  cli_jbuf_dispose(&b);
}

/* ---- errors and logging ----------------------------------------------- */

static void report_error(const cli_command *c, const char *path,
                         const char *parent_path, const char *msg) {
  cli_jbuf b;

  cli_jbuf_init(&b);
  usage_string(&b, c, path, parent_path);
  fprintf(stderr, "Error: %s\n%s\n", msg, b.p != NULL ? b.p : "");
  cli_jbuf_dispose(&b);
  /* soup-go's main: logger.Error("command execution failed", "error", err),
   * then the error itself */
  if (strpbrk(msg, " =\"") != NULL) {
    soupc_log(SOUPC_LOG_ERROR, "soup-c",
              "command execution failed: error=\"%s\"", msg);
  } else {
    soupc_log(SOUPC_LOG_ERROR, "soup-c", "command execution failed: error=%s",
              msg);
  }
  fprintf(stderr, "%s\n", msg);
}

int cli_command_fail(const cli_ctx *ctx, const char *fmt, ...) {
  va_list ap;
  char *msg = NULL;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n >= 0) {
    msg = malloc((size_t)n + 1);
  }
  if (msg == NULL) {
    fputs("Error: out of memory\n", stderr);
    return 1;
  }
  va_start(ap, fmt);
  vsnprintf(msg, (size_t)n + 1, fmt, ap);
  va_end(ap);
  report_error(ctx->cmd, ctx->path, ctx->parent_path, msg);
  free(msg);
  return 1;
}

/* soup-go's initLogger: $LOG_LEVEL, else a given --log-level, else info;
 * an unknown name is info. Then PersistentPreRun's debug line. */
static void init_logger(const cli_flag_value *log_level, const char *name,
                        int argc, char **argv) {
  static const char *const names[] = {"error", "warn", "info", "debug",
                                      "trace"};
  const char *want = getenv("LOG_LEVEL");
  soupc_log_level level = SOUPC_LOG_INFO;
  size_t i;
  cli_jbuf b;

  if (want == NULL || *want == '\0') {
    want = log_level->changed ? log_level->s : "info";
  }
  for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    if (strcmp(want, names[i]) == 0) {
      level = (soupc_log_level)i;
    }
  }
  soupc_log_configure(level, SOUPC_LOG_TEXT);
  if (!soupc_log_enabled(SOUPC_LOG_DEBUG)) {
    return;
  }
  cli_jbuf_init(&b);
  for (i = 0; i < (size_t)argc; i++) {
    cli_jbuf_printf(&b, "%s%s", i > 0 ? ", " : "", argv[i]);
  }
  soupc_log(SOUPC_LOG_DEBUG, "soup-c", "executing command: cmd=%s args=[%s]",
            name, b.p != NULL ? b.p : "");
  cli_jbuf_dispose(&b);
}

/* ---- execution -------------------------------------------------------- */

/* A bool flag that Find knows of: cobra adds -h/--help only after Find,
 * so "--help x" there still reads x as the flag's value. */
static int find_bool(const struct fset *fs, long i) {
  return i >= 0 && fs->f[i] != &fs->help && fs->f[i]->kind == CLI_FLAG_BOOL;
}

/* cobra's stripFlags: the first word of @p args that is neither a flag nor
 * a flag's value, or NULL. */
static const char *first_word(const struct fset *fs, int argc, char **args) {
  int i;

  for (i = 0; i < argc; i++) {
    const char *s = args[i];
    if (strcmp(s, "--") == 0) {
      return NULL;
    }
    if (s[0] == '-' && strchr(s, '=') == NULL &&
        ((s[1] == '-' && !find_bool(fs, fset_long(fs, s + 2, strlen(s + 2)))) ||
         (s[1] != '\0' && s[2] == '\0' &&
          !find_bool(fs, fset_short(fs, s[1]))))) {
      if (i + 2 >= argc) {
        return NULL;
      }
      i++; /* "--flag value" or "-f value" */
      continue;
    }
    if (s[0] != '\0' && s[0] != '-') {
      return s;
    }
  }
  return NULL;
}

static int check_args(const cli_command *c, int n, cli_jbuf *err) {
  switch (c->args) {
  case CLI_ARGS_EXACT:
    if (n != c->min_args) {
      cli_jbuf_printf(err, "accepts %d arg(s), received %d", c->min_args, n);
      return -1;
    }
    break;
  case CLI_ARGS_MIN:
    if (n < c->min_args) {
      cli_jbuf_printf(err, "requires at least %d arg(s), only received %d",
                      c->min_args, n);
      return -1;
    }
    break;
  case CLI_ARGS_RANGE:
    if (n < c->min_args || n > c->max_args) {
      cli_jbuf_printf(err, "accepts between %d and %d arg(s), received %d",
                      c->min_args, c->max_args, n);
      return -1;
    }
    break;
  case CLI_ARGS_ANY:
    break;
  }
  return 0;
}

static int check_required(const cli_command *c, const cli_flag_value *values,
                          cli_jbuf *err) {
  const cli_flag *sorted[MAX_FLAGS];
  size_t i, n = 0, missing = 0;

  for (i = 0; i < c->n_flags && n < MAX_FLAGS; i++) {
    if (c->flags[i].required && !values[i].changed) {
      sorted[n++] = &c->flags[i];
    }
  }
  qsort(sorted, n, sizeof(sorted[0]), cmp_flag);
  for (i = 0; i < n; i++) {
    cli_jbuf_printf(err, "%s\"%s\"",
                    missing++ == 0 ? "required flag(s) " : ", ",
                    sorted[i]->name);
  }
  if (missing > 0) {
    cli_jbuf_puts(err, " not set");
    return -1;
  }
  return 0;
}

/* The leaf's part of cobra's Command.execute, once Find chose @p c. */
static int execute_found(const cli_command *c, const char *path,
                         const char *parent_path, int argc, char **args) {
  struct fset fs;
  cli_flag_value values[MAX_FLAGS];
  char **pos;
  int npos = 0, rv;
  cli_jbuf err;
  cli_ctx ctx;

  pos = calloc((size_t)argc + 1, sizeof(*pos));
  if (pos == NULL) {
    fputs("Error: out of memory\n", stderr);
    return 1;
  }
  cli_jbuf_init(&err);
  fset_build(&fs, c, values);
  if (parse_flags(&fs, argc, args, pos, &npos, &err) != 0) {
    goto fail;
  }
  /* a delegating command never gets here: cli_command_execute hands it argv */
  if (fs.help_value.b || c->run == NULL) {
    print_help(c, path, parent_path);
    rv = 0;
    goto out;
  }
  if (check_args(c, npos, &err) != 0) {
    goto fail;
  }
  init_logger(&fs.pvalues[PF_LOG_LEVEL], path + strlen(parent_path) + 1, npos,
              pos);
  if (check_required(c, values, &err) != 0) {
    goto fail;
  }
  ctx.cmd = c;
  ctx.path = path;
  ctx.parent_path = parent_path;
  ctx.values = values;
  rv = c->run(&ctx, npos, pos);
  goto out;

fail:
  report_error(c, path, parent_path,
               cli_jbuf_text(&err) != NULL ? err.p : "out of memory");
  rv = 1;
out:
  cli_jbuf_dispose(&err);
  free(pos);
  return rv;
}

int cli_command_execute(const cli_command *top, const char *program, int argc,
                        char **argv) {
  const cli_command *c = top;
  char path[256], parent[256];
  char **args;
  int nargs = argc - 1, rv;

  args = calloc((size_t)argc + 1, sizeof(*args));
  if (args == NULL) {
    fputs("Error: out of memory\n", stderr);
    return 1;
  }
  memcpy(args, argv + 1, (size_t)nargs * sizeof(*args));
  snprintf(parent, sizeof(parent), "%s", program);
  snprintf(path, sizeof(path), "%s %.*s", program, (int)name_len(c), c->use);
  /* cobra's Find: descend while the first non-flag word names a child */
  for (;;) {
    struct fset fs;
    cli_flag_value values[MAX_FLAGS];
    const char *word;
    const cli_command *next = NULL;
    size_t i;
    int j;
    fset_build(&fs, c, values);
    word = first_word(&fs, nargs, args);
    for (i = 0; word != NULL && i < c->n_subs; i++) {
      if (name_len(c->subs[i]) == strlen(word) &&
          strncmp(c->subs[i]->use, word, strlen(word)) == 0) {
        next = c->subs[i];
      }
    }
    if (next == NULL) {
      break;
    }
    /* argsMinusFirstX: drop the first argument equal to the word */
    for (j = 0; j < nargs && strcmp(args[j], word) != 0; j++) {
    }
    memmove(args + j, args + j + 1, (size_t)(nargs - j - 1) * sizeof(*args));
    nargs--;
    snprintf(parent, sizeof(parent), "%s", path);
    snprintf(path + strlen(path), sizeof(path) - strlen(path), " %s", word);
    c = next;
  }
  if (c->delegate != NULL) {
    memmove(args + 1, args, (size_t)nargs * sizeof(*args));
    args[0] = path;
    rv = c->delegate(nargs + 1, args);
  } else {
    rv = execute_found(c, path, parent, nargs, args);
  }
  free(args);
  return rv;
}
