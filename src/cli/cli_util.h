/* Helpers shared by the subcommands: usage errors, numbers, files. */
#ifndef SOUPC_CLI_UTIL_H
#define SOUPC_CLI_UTIL_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>

/* Exit codes of every client-side command. */
enum {
  CLI_OK = 0,
  CLI_FAIL = 1,
  CLI_USAGE = 2
};

/* Prints "Error: <msg>" and "Run '<cmd> --help' for usage." to stderr and
 * returns CLI_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints "Error: <msg>" to stderr and returns CLI_FAIL. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Runs getopt_long with opterr off. Long flags must be spelt out in full,
 * as pflag (soup-go's parser) wants them: on its first call for an argv it
 * refuses any "--name" that is not exactly one of @p longopts, so that an
 * abbreviation never silently means a longer flag. For an unknown or
 * malformed flag it prints "Error: unknown flag: --x" (the text
 * TofuSoup's tests grep for) and returns '?'; the caller returns
 * CLI_USAGE. */
int cli_getopt(int argc, char **argv, const char *shortopts,
               const struct option *longopts, const char *cmd);

/* Parses a decimal size with an optional K/M/G (binary) suffix.
 * @return 0 or -1. */
int cli_parse_size(size_t *out, const char *s);

/* Parses a positive number of seconds (may have a fraction) into ms.
 * @return 0, or -1 for zero, negative or garbage. */
int cli_parse_timeout_ms(int64_t *out, const char *s);

/* Reads a whole file (or stdin for "-") into a malloc'd buffer with a NUL
 * after the data. @return 0 or -1 with errno set. */
int cli_read_file(char **data_out, size_t *len_out, const char *path);

/* Sets the log level from --log-level (or $LOG_LEVEL if the flag was not
 * given). @return 0 or -1 for an unknown level. */
int cli_set_log_level(const char *flag_value, int json);

#endif
