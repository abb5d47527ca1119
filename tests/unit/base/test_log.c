#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <regex.h>
#include <string.h>
#include <unistd.h>

#include "soupc/soupc.h"

/* Runs one soupc_log() call with fd 2 redirected to a pipe; returns what
 * was written. */
static void capture(char *buf, size_t cap, soupc_log_level level,
                    const char *msg) {
  int fds[2], saved;
  ssize_t n;

  assert_int_equal(pipe(fds), 0);
  saved = dup(STDERR_FILENO);
  dup2(fds[1], STDERR_FILENO);
  soupc_log(level, "kv", "%s", msg);
  dup2(saved, STDERR_FILENO);
  close(saved);
  close(fds[1]);
  fcntl(fds[0], F_SETFL, O_NONBLOCK);
  n = read(fds[0], buf, cap - 1);
  buf[n > 0 ? n : 0] = '\0';
  close(fds[0]);
}

static void levels_parse_case_insensitively(void **state) {
  soupc_log_level level = SOUPC_LOG_INFO;

  (void)state;
  assert_int_equal(soupc_log_level_parse(&level, "TRACE"), 0);
  assert_int_equal(level, SOUPC_LOG_TRACE);
  assert_int_equal(soupc_log_level_parse(&level, "warn"), 0);
  assert_int_equal(level, SOUPC_LOG_WARN);
  assert_int_equal(soupc_log_level_parse(&level, "verbose"),
                   SOUPC_ERR_INVALID_ARGUMENT);
  assert_int_equal(level, SOUPC_LOG_WARN);
  assert_int_equal(soupc_log_level_parse(&level, NULL),
                   SOUPC_ERR_INVALID_ARGUMENT);
}

static void hclog_json_line_has_the_fields_go_plugin_parses(void **state) {
  char out[1024];
  regex_t re;

  (void)state;
  soupc_log_configure(SOUPC_LOG_INFO, SOUPC_LOG_HCLOG_JSON);
  capture(out, sizeof(out), SOUPC_LOG_WARN, "quote \" and\nnewline");
  /* go-plugin-protocol.md §2.6: string @level/@message/@timestamp, and a
   * timestamp with exactly 6 fractional digits. */
  assert_int_equal(
      regcomp(&re,
              "^\\{\"@level\":\"warn\",\"@module\":\"kv\",\"@timestamp\":\""
              "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}"
              "Z\",\"@message\":\"quote \\\\\" and\\\\u000anewline\"\\}\n$",
              REG_EXTENDED),
      0);
  assert_int_equal(regexec(&re, out, 0, NULL, 0), 0);
  regfree(&re);
}

static void text_line_names_level_and_module(void **state) {
  char out[1024];

  (void)state;
  soupc_log_configure(SOUPC_LOG_DEBUG, SOUPC_LOG_TEXT);
  capture(out, sizeof(out), SOUPC_LOG_DEBUG, "hello");
  assert_non_null(strstr(out, " [DEBUG] kv: hello\n"));
}

static void messages_below_the_level_are_dropped(void **state) {
  char out[256];

  (void)state;
  soupc_log_configure(SOUPC_LOG_ERROR, SOUPC_LOG_TEXT);
  assert_false(soupc_log_enabled(SOUPC_LOG_INFO));
  assert_true(soupc_log_enabled(SOUPC_LOG_ERROR));
  capture(out, sizeof(out), SOUPC_LOG_INFO, "quiet");
  assert_string_equal(out, "");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(levels_parse_case_insensitively),
      cmocka_unit_test(hclog_json_line_has_the_fields_go_plugin_parses),
      cmocka_unit_test(text_line_names_level_and_module),
      cmocka_unit_test(messages_below_the_level_are_dropped),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
