/* The KV server's limits against hostile clients as flags (issue 8): one
 * table gives each flag, its field in soupc_server_options, its kind, range
 * and default, and serves parsing, --help and the README's list. */
#include "cli/server_limits.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

enum limit_kind {
  LIMIT_SIZE,     /* bytes, K/M/G suffixes */
  LIMIT_DURATION, /* 500ms, 10s, 5m, 2h; a bare number is seconds */
  LIMIT_COUNT
};

struct limit_flag {
  const char *name;
  size_t offset;    /* in soupc_server_options */
  const char *def;  /* for --help */
  const char *help; /* one line */
  enum limit_kind kind;
  int zero_means_never;
};

#define OFF(f) offsetof(soupc_server_options, f)
#define FLAG(name, kind, off, zero, def, help)                                 \
  { name, off, def, help, kind, zero }

static const struct limit_flag flags[] = {
    FLAG("max-connection-buffer", LIMIT_SIZE, OFF(max_connection_buffer), 0,
         "16M",
         "responses one connection may hold unread; past it new calls get "
         "RESOURCE_EXHAUSTED"),
    FLAG("max-total-buffer", LIMIT_SIZE, OFF(max_total_buffer), 0, "1G",
         "the same over all connections"),
    FLAG("buffer-timeout", LIMIT_DURATION, OFF(buffer_timeout_ms), 0, "10s",
         "a connection over its buffer this long gets GOAWAY and is closed"),
    FLAG("handshake-timeout", LIMIT_DURATION, OFF(handshake_timeout_ms), 1,
         "10s",
         "TLS + HTTP/2 preface + first SETTINGS, from accept (0 = never)"),
    FLAG("idle-timeout", LIMIT_DURATION, OFF(idle_timeout_ms), 1,
         "5m standalone, 0 plugin",
         "close connections with no open stream "
         "after this (0 = never)"),
    FLAG("write-timeout", LIMIT_DURATION, OFF(write_timeout_ms), 1, "30s",
         "close when queued output makes no progress this long (0 = never)"),
    FLAG("keepalive-time", LIMIT_DURATION, OFF(keepalive_time_ms), 1, "2h",
         "PING a client we have heard nothing from this long (0 = never)"),
    FLAG("keepalive-timeout", LIMIT_DURATION, OFF(keepalive_timeout_ms), 0,
         "20s", "close if the PING gets no answer this soon"),
    FLAG("keepalive-min-time", LIMIT_DURATION,
         OFF(keepalive_min_ping_interval_ms), 1, "10s",
         "client PINGs closer than this are strikes; the third gets GOAWAY"),
    FLAG("flood-budget", LIMIT_COUNT, OFF(flood_budget), 0, "1000",
         "no-work frames (empty DATA, tiny WINDOW_UPDATE, PRIORITY...) per "
         "connection, refilled at a tenth per second"),
    FLAG("max-connections", LIMIT_COUNT, OFF(max_connections), 0,
         "fd limit - 64",
         "at the limit the oldest idle connections are closed"),
};

#define NFLAGS (sizeof(flags) / sizeof(flags[0]))

void server_limits_init(struct server_config *cfg) {
  cfg->limits = (soupc_server_options)SOUPC_SERVER_OPTIONS_INIT;
  cfg->idle_timeout_set = 0;
}

size_t server_limit_options(struct option *out, size_t cap) {
  size_t i;

  for (i = 0; i < NFLAGS && i < cap; i++) {
    out[i] = (struct option){flags[i].name, required_argument, NULL,
                             SERVER_LIMIT_OPT_BASE + (int)i};
  }
  return i;
}

/* "500ms", "10s", "5m", "2h", or seconds. @return 0 or -1. */
static int parse_duration_ms(long long *out, const char *s) {
  char *end;
  double v;
  double mult = 1000;

  if (s == NULL || *s == '\0' || *s == '-') {
    return -1;
  }
  errno = 0;
  v = strtod(s, &end);
  if (errno != 0 || end == s || !(v >= 0)) {
    return -1;
  }
  if (strcmp(end, "ms") == 0) {
    mult = 1;
  } else if (strcmp(end, "s") == 0 || *end == '\0') {
    mult = 1000;
  } else if (strcmp(end, "m") == 0) {
    mult = 60000;
  } else if (strcmp(end, "h") == 0) {
    mult = 3600000;
  } else {
    return -1;
  }
  if (v * mult > 2147483647.0) {
    return -1;
  }
  *out = (long long)(v * mult + 0.5);
  return 0;
}

int server_limit_flag(struct server_config *cfg, int opt, const char *arg) {
  const struct limit_flag *f;
  char *field;
  long long v = 0;

  if (opt < SERVER_LIMIT_OPT_BASE ||
      opt >= SERVER_LIMIT_OPT_BASE + (int)NFLAGS) {
    return -1;
  }
  f = &flags[opt - SERVER_LIMIT_OPT_BASE];
  field = (char *)&cfg->limits + f->offset;
  switch (f->kind) {
  case LIMIT_SIZE: {
    size_t n;
    if (cli_parse_size(&n, arg) != 0 || n < 1024) {
      return cli_fail("invalid --%s \"%s\": want a size of at least 1K "
                      "(K/M/G suffixes)",
                      f->name, arg);
    }
    memcpy(field, &n, sizeof(n));
    return 0;
  }
  case LIMIT_DURATION:
    if (parse_duration_ms(&v, arg) != 0 || (v == 0 && !f->zero_means_never)) {
      return cli_fail("invalid --%s \"%s\": want a duration such as 500ms, "
                      "10s, 5m or 2h%s",
                      f->name, arg, f->zero_means_never ? " (0 = never)" : "");
    }
    if (v == 0) {
      v = -1; /* soupc_server_options: -1 = never, 0 = the default */
    }
    break;
  case LIMIT_COUNT: {
    char *end;
    errno = 0;
    v = strtoll(arg, &end, 10);
    if (errno != 0 || *end != '\0' || v < 1 || v > 1 << 24) {
      return cli_fail("invalid --%s \"%s\": want 1..16777216", f->name, arg);
    }
    break;
  }
  }
  {
    int iv = (int)v;
    memcpy(field, &iv, sizeof(iv));
  }
  if (f->offset == OFF(idle_timeout_ms)) {
    cfg->idle_timeout_set = 1;
  }
  return 0;
}

/* Prints @p text wrapped at 78 columns, each line indented by 8. */
static void print_wrapped(FILE *out, const char *text) {
  const char *p = text;

  while (*p != '\0') {
    size_t n = strlen(p);
    if (n > 70) {
      n = 70;
      while (n > 0 && p[n] != ' ') {
        n--;
      }
      if (n == 0) {
        n = 70;
      }
    }
    fprintf(out, "        %.*s\n", (int)n, p);
    p += n;
    while (*p == ' ') {
      p++;
    }
  }
}

void server_limit_help(FILE *out) {
  static const char *arg[] = {"N", "DURATION", "N"};
  size_t i;

  fputs("Limits (README \"Limits\"; DURATION: 500ms, 10s, 5m, 2h):\n", out);
  for (i = 0; i < NFLAGS; i++) {
    char text[256];
    fprintf(out, "  --%s %s\n", flags[i].name, arg[flags[i].kind]);
    snprintf(text, sizeof(text), "%s (default %s)", flags[i].help,
             flags[i].def);
    print_wrapped(out, text);
  }
}

void server_limits_apply(const struct server_config *cfg,
                         soupc_server_options *so) {
  const soupc_server_options *l = &cfg->limits;

  so->max_connection_buffer = l->max_connection_buffer;
  so->max_total_buffer = l->max_total_buffer;
  so->buffer_timeout_ms = l->buffer_timeout_ms;
  so->handshake_timeout_ms = l->handshake_timeout_ms;
  so->idle_timeout_ms = l->idle_timeout_ms;
  /* A standalone server is not a go-plugin session: idle clients go after
   * five minutes unless told otherwise. */
  if (cfg->standalone && !cfg->idle_timeout_set) {
    so->idle_timeout_ms = SERVER_STANDALONE_IDLE_MS;
  }
  so->write_timeout_ms = l->write_timeout_ms;
  so->keepalive_time_ms = l->keepalive_time_ms;
  so->keepalive_timeout_ms = l->keepalive_timeout_ms;
  so->keepalive_min_ping_interval_ms = l->keepalive_min_ping_interval_ms;
  so->flood_budget = l->flood_budget;
  so->max_connections = l->max_connections;
}
