/* The KV server's transport limits as command-line flags (issue 8). */
#ifndef SOUPC_CLI_SERVER_LIMITS_H
#define SOUPC_CLI_SERVER_LIMITS_H

#include <getopt.h>
#include <stdio.h>

#include "cli/cli_util.h"
#include "cli/server_config.h"

/* getopt codes of the limit flags: BASE + their index. */
#define SERVER_LIMIT_OPT_BASE 1000
/* --idle-timeout's default for a standalone server (plugin mode: never). */
#define SERVER_STANDALONE_IDLE_MS (5 * 60 * 1000)

/* Every limit at its default. */
void server_limits_init(struct server_config *cfg);

/* Writes the limit flags' getopt entries into @p out (@p cap slots).
 * @return how many. */
size_t server_limit_options(struct option *out, size_t cap);

/* Parses one limit flag into cfg->limits. @return 0, -1 if @p opt is not
 * a limit flag, or a CLI exit code (the error is printed). */
int server_limit_flag(struct server_config *cfg, int opt, const char *arg);

/* The limit flags for --help. */
void server_limit_help(FILE *out);

/* Copies the limits into the server options (standalone: the idle timeout
 * defaults to five minutes). */
void server_limits_apply(const struct server_config *cfg,
                         soupc_server_options *so);

#endif
