#include "cli/cli_util.h"

#include "soupc/soupc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_usage_error(const char *cmd, const char *fmt, ...) {
  va_list ap;

  fputs("Error: ", stderr);
  va_start(ap, fmt);
  /* clang-analyzer 14 loses va_start across the fputs above */
  vfprintf(stderr, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized)
  va_end(ap);
  fprintf(stderr, "\nRun '%s --help' for usage.\n", cmd);
  return CLI_USAGE;
}

int cli_fail(const char *fmt, ...) {
  va_list ap;

  fputs("Error: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized)
  va_end(ap);
  fputc('\n', stderr);
  return CLI_FAIL;
}

/* The option in @p longopts named exactly @p name (@p len bytes), or NULL:
 * pflag knows no abbreviations, so neither do we (getopt_long accepts any
 * unambiguous prefix, so that "--key" would be read as "--key-file"). */
static const struct option *exact_long(const struct option *longopts,
                                       const char *name, size_t len) {
  const struct option *o;

  for (o = longopts; o != NULL && o->name != NULL; o++) {
    if (strlen(o->name) == len && strncmp(o->name, name, len) == 0) {
      return o;
    }
  }
  return NULL;
}

/* Checks every "--name" of argv[1..] before getopt_long reads any.
 * @return 0, or -1 after printing the error */
static int check_long_flags(int argc, char **argv, const char *shortopts,
                            const struct option *longopts, const char *cmd) {
  int i;

  for (i = 1; i < argc; i++) {
    const char *s = argv[i];
    if (strcmp(s, "--") == 0) {
      break;
    }
    if (s[0] == '-' && s[1] == '-') {
      size_t len = strcspn(s + 2, "=");
      const struct option *o = exact_long(longopts, s + 2, len);
      if (o == NULL) {
        cli_usage_error(cmd, "unknown flag: --%.*s", (int)len, s + 2);
        return -1;
      }
      if (o->has_arg == required_argument && s[2 + len] != '=') {
        i++; /* its value, whatever it looks like */
      }
    } else if (s[0] == '-' && s[1] != '\0') {
      /* a cluster of short options; one taking an argument ends it */
      const char *c;
      for (c = s + 1; *c != '\0'; c++) {
        const char *spec = strchr(shortopts, *c);
        if (spec != NULL && spec[1] == ':') {
          if (c[1] == '\0' && spec[2] != ':') {
            i++;
          }
          break;
        }
      }
    }
  }
  return 0;
}

int cli_getopt(int argc, char **argv, const char *shortopts,
               const struct option *longopts, const char *cmd) {
  static char **checked;
  int prev = optind;
  int c;

  if (argv == NULL || argc < 1) {
    return -1; /* nothing to parse: as getopt at the end of argv */
  }
  if (optind <= 1 || argv != checked) {
    checked = argv;
    if (check_long_flags(argc, argv, shortopts, longopts, cmd) != 0) {
      return '?';
    }
  }
  opterr = 0;
  c = getopt_long(argc, argv, shortopts, longopts, NULL);
  if (c == '?' || c == ':') {
    const char *arg =
        optind - 1 >= 1 && optind - 1 < argc ? argv[optind - 1] : argv[prev];
    if (c == ':' || (optopt != 0 && strchr(shortopts, optopt) != NULL)) {
      cli_usage_error(cmd, "flag needs an argument: %s", arg);
    } else {
      cli_usage_error(cmd, "unknown flag: %s", arg);
    }
    return '?';
  }
  return c;
}

int cli_parse_size(size_t *out, const char *s) {
  char *end;
  unsigned long long v;
  unsigned long long mult = 1;

  if (s == NULL || *s == '\0' || *s == '-') {
    return -1;
  }
  errno = 0;
  v = strtoull(s, &end, 10);
  if (errno != 0 || end == s) {
    return -1;
  }
  if (*end == 'K' || *end == 'k') {
    mult = 1024ULL;
    end++;
  } else if (*end == 'M' || *end == 'm') {
    mult = 1024ULL * 1024;
    end++;
  } else if (*end == 'G' || *end == 'g') {
    mult = 1024ULL * 1024 * 1024;
    end++;
  }
  if (*end == 'i' || *end == 'B') {
    end += (*end == 'i' && end[1] == 'B') ? 2 : 1;
  }
  if (*end != '\0' || v > SIZE_MAX / mult) {
    return -1;
  }
  *out = (size_t)(v * mult);
  return 0;
}

int cli_parse_timeout_ms(int64_t *out, const char *s) {
  char *end;
  double v;

  if (s == NULL || *s == '\0') {
    return -1;
  }
  errno = 0;
  v = strtod(s, &end);
  if (errno != 0 || end == s || *end != '\0' || !(v > 0) || v > 1e9) {
    return -1;
  }
  *out = (int64_t)(v * 1000.0 + 0.999);
  if (*out < 1) {
    *out = 1;
  }
  return 0;
}

int cli_read_file(char **data_out, size_t *len_out, const char *path) {
  FILE *f;
  char *buf = NULL;
  size_t len = 0, cap = 0;
  int saved;

  f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
  if (f == NULL) {
    return -1;
  }
  for (;;) {
    size_t n;
    if (cap - len < 65536) {
      char *nb;
      cap = cap == 0 ? 65536 : cap * 2;
      nb = realloc(buf, cap + 1);
      if (nb == NULL) {
        saved = ENOMEM;
        goto fail;
      }
      buf = nb;
    }
    n = fread(buf + len, 1, cap - len, f);
    len += n;
    if (n == 0) {
      break;
    }
  }
  if (ferror(f)) {
    saved = errno != 0 ? errno : EIO;
    goto fail;
  }
  if (f != stdin) {
    fclose(f);
  }
  if (buf == NULL) {
    buf = malloc(1);
    if (buf == NULL) {
      errno = ENOMEM;
      return -1;
    }
  }
  buf[len] = '\0';
  *data_out = buf;
  *len_out = len;
  return 0;

fail:
  if (f != stdin) {
    fclose(f);
  }
  free(buf);
  errno = saved;
  return -1;
}

int cli_set_log_level(const char *flag_value, int json) {
  soupc_log_level level = SOUPC_LOG_INFO;
  const char *value = flag_value;

  if (value == NULL) {
    value = getenv("LOG_LEVEL");
    if (value != NULL && soupc_log_level_parse(&level, value) != 0) {
      value = NULL; /* an unknown $LOG_LEVEL is ignored, as in soup-go */
    }
  }
  if (value != NULL && soupc_log_level_parse(&level, value) != 0) {
    return -1;
  }
  soupc_log_configure(level, json ? SOUPC_LOG_HCLOG_JSON : SOUPC_LOG_TEXT);
  return 0;
}
