/* Leveled logging to fd 2, as text or as hclog JSON lines
 * (go-plugin-protocol.md §2.6: @level, @message, @module, @timestamp with
 * exactly 6 fractional digits). One write(2) per line, so lines from
 * several threads never interleave. */
#include "soupc/soupc.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static atomic_int log_level = SOUPC_LOG_INFO;
static atomic_int log_format = SOUPC_LOG_TEXT;

static const char *const level_names[] = {"error", "warn", "info", "debug",
                                          "trace"};

int soupc_log_level_parse(soupc_log_level *out, const char *s) {
  int i;

  if (s == NULL) {
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  for (i = 0; i <= SOUPC_LOG_TRACE; i++) {
    if (strcasecmp(s, level_names[i]) == 0) {
      *out = (soupc_log_level)i;
      return 0;
    }
  }
  if (strcasecmp(s, "warning") == 0) {
    *out = SOUPC_LOG_WARN;
    return 0;
  }
  return SOUPC_ERR_INVALID_ARGUMENT;
}

void soupc_log_configure(soupc_log_level level, soupc_log_format format) {
  atomic_store(&log_level, (int)level);
  atomic_store(&log_format, (int)format);
}

int soupc_log_enabled(soupc_log_level level) {
  return (int)level <= atomic_load(&log_level);
}

/* Appends @p s to @p buf as the inside of a JSON string. */
static size_t json_escape(char *buf, size_t cap, size_t used, const char *s) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *p;

  for (p = (const unsigned char *)s; *p != '\0' && used + 7 < cap; p++) {
    if (*p == '"' || *p == '\\') {
      buf[used++] = '\\';
      buf[used++] = (char)*p;
    } else if (*p < 0x20) {
      buf[used++] = '\\';
      buf[used++] = 'u';
      buf[used++] = '0';
      buf[used++] = '0';
      buf[used++] = hex[*p >> 4];
      buf[used++] = hex[*p & 0xf];
    } else {
      buf[used++] = (char)*p;
    }
  }
  return used;
}

void soupc_log(soupc_log_level level, const char *module, const char *fmt,
               ...) {
  char msg[2048];
  char line[4608];
  char stamp[80];
  struct timespec ts;
  struct tm tm;
  size_t used;
  va_list ap;
  int n;

  if (!soupc_log_enabled(level)) {
    return;
  }
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  /* Not strftime(): glibc's strftime calls tzset(), which reads
   * /etc/localtime on the first log line of every process. */
  snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d",
           tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
           tm.tm_sec);

  if (atomic_load(&log_format) == SOUPC_LOG_HCLOG_JSON) {
    n = snprintf(line, sizeof(line),
                 "{\"@level\":\"%s\",\"@module\":\"%s\",\"@timestamp\":\"%s.%06"
                 "ldZ\",\"@message\":\"",
                 level_names[level], module, stamp, ts.tv_nsec / 1000);
    used = n < 0 ? 0 : (size_t)n;
    used = json_escape(line, sizeof(line) - 4, used, msg);
    line[used++] = '"';
    line[used++] = '}';
    line[used++] = '\n';
  } else {
    char upper[8];
    size_t i;

    for (i = 0; level_names[level][i] != '\0' && i < sizeof(upper) - 1; i++) {
      upper[i] = (char)toupper((unsigned char)level_names[level][i]);
    }
    upper[i] = '\0';
    n = snprintf(line, sizeof(line), "%s.%03ldZ [%s] %s: %s\n", stamp,
                 ts.tv_nsec / 1000000, upper, module, msg);
    used = n < 0 ? 0 : (size_t)n;
    if (used >= sizeof(line)) {
      used = sizeof(line) - 1;
      line[used - 1] = '\n';
    }
  }
  /* A failed log write has nowhere to be reported. */
  if (write(STDERR_FILENO, line, used) < 0) {
    return;
  }
}
