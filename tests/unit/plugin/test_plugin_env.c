/* src/plugin/plugin_env.c: cookie, version negotiation, port range, socket
 * directory and listeners (go-plugin-protocol.md §2.1-§2.3). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/alloc.h"
#include "plugin/plugin_int.h"

static void cookie_must_match_exactly(void **state) {
  (void)state;
  assert_int_equal(soupc__plugin_cookie_check("BASIC_PLUGIN", "hello", "hello"),
                   0);
  assert_int_equal(soupc__plugin_cookie_check("BASIC_PLUGIN", "hello", "Hello"),
                   SOUPC_ERR_COOKIE);
  assert_int_equal(soupc__plugin_cookie_check("BASIC_PLUGIN", "hello", NULL),
                   SOUPC_ERR_COOKIE);
  assert_int_equal(soupc__plugin_cookie_check("BASIC_PLUGIN", "hello", ""),
                   SOUPC_ERR_COOKIE);
  assert_int_equal(soupc__plugin_cookie_check("", "hello", "hello"),
                   SOUPC_ERR_INVALID_ARGUMENT);
  assert_int_equal(soupc__plugin_cookie_check("K", "", ""),
                   SOUPC_ERR_INVALID_ARGUMENT);
}

static void cookie_mismatch_text_is_go_plugins_exact_bytes(void **state) {
  (void)state;
  assert_string_equal(
      SOUPC__PLUGIN_COOKIE_MISMATCH_TEXT,
      "This binary is a plugin. These are not meant to be executed "
      "directly.\nPlease execute the program that consumes these plugins, "
      "which will\nload any plugins automatically\n");
}

static void negotiation_picks_highest_common_version(void **state) {
  const int mine[] = {2, 5, 3};
  int v = -1;

  (void)state;
  assert_int_equal(soupc__plugin_negotiate_version(&v, "1,3,5", mine, 3), 0);
  assert_int_equal(v, 5);
  /* unordered, as Go's map iteration prints it */
  assert_int_equal(soupc__plugin_negotiate_version(&v, "3,1,2", mine, 3), 0);
  assert_int_equal(v, 3);
}

static void negotiation_falls_back_to_lowest_version(void **state) {
  const int mine[] = {4, 2, 3};
  int v = -1;

  (void)state;
  assert_int_equal(soupc__plugin_negotiate_version(&v, "7,8", mine, 3),
                   SOUPC_ERR_NOT_FOUND);
  assert_int_equal(v, 2);
  assert_int_equal(soupc__plugin_negotiate_version(&v, NULL, mine, 3),
                   SOUPC_ERR_NOT_FOUND);
  assert_int_equal(v, 2);
  /* no versions of our own means {1} */
  assert_int_equal(soupc__plugin_negotiate_version(&v, "1", NULL, 0), 0);
  assert_int_equal(v, 1);
}

static void negotiation_skips_invalid_entries(void **state) {
  const int mine[] = {1, 2};
  int v = -1;

  (void)state;
  soupc_log_configure(SOUPC_LOG_ERROR, SOUPC_LOG_TEXT);
  assert_int_equal(soupc__plugin_negotiate_version(&v, "x, 2,,1", mine, 2), 0);
  assert_int_equal(v, 1);
  assert_int_equal(soupc__plugin_negotiate_version(&v, "2,x", mine, 2), 0);
  assert_int_equal(v, 2);
}

static void port_range_parses_and_rejects_nonsense(void **state) {
  soupc_status st;
  int lo = -1, hi = -1;

  (void)state;
  assert_int_equal(soupc__plugin_port_range(&lo, &hi, "10000", "25000", &st),
                   0);
  assert_int_equal(lo, 10000);
  assert_int_equal(hi, 25000);
  assert_int_equal(soupc__plugin_port_range(&lo, &hi, NULL, "", &st), 0);
  assert_int_equal(lo, 0);
  assert_int_equal(hi, 0);
  assert_int_equal(soupc__plugin_port_range(&lo, &hi, "20", "10", &st),
                   SOUPC_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(st.message, "greater than"));
  assert_int_equal(soupc__plugin_port_range(&lo, &hi, "abc", "10", &st),
                   SOUPC_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(st.message, "PLUGIN_MIN_PORT"));
  assert_int_equal(soupc__plugin_port_range(&lo, &hi, "1", "70000", &st),
                   SOUPC_ERR_INVALID_ARGUMENT);
}

static void socket_dir_prefers_plugin_unix_socket_dir(void **state) {
  (void)state;
  setenv("PLUGIN_UNIX_SOCKET_DIR", "/run/x", 1);
  setenv("TMPDIR", "/var/tmp", 1);
  assert_string_equal(soupc__plugin_socket_dir(), "/run/x");
  unsetenv("PLUGIN_UNIX_SOCKET_DIR");
  assert_string_equal(soupc__plugin_socket_dir(), "/var/tmp");
  unsetenv("TMPDIR");
  assert_string_equal(soupc__plugin_socket_dir(), "/tmp");
}

static void unix_listener_creates_socket_with_group_mode(void **state) {
  char dir[] = "/tmp/test-plugin-env-XXXXXX";
  soupc_status st;
  struct stat sb;
  char *path = NULL;
  char gid[32];
  int fd;

  (void)state;
  assert_non_null(mkdtemp(dir));
  snprintf(gid, sizeof(gid), "%d", (int)getgid());
  fd = soupc__plugin_listen_unix(&path, dir, gid, &st);
  assert_true(fd >= 0);
  assert_int_equal(strncmp(path, dir, strlen(dir)), 0);
  assert_non_null(strstr(path, "/plugin"));
  assert_int_equal(stat(path, &sb), 0);
  assert_true(S_ISSOCK(sb.st_mode));
  assert_int_equal(sb.st_mode & 0777, 0660);
  close(fd);
  unlink(path);
  soupc__free(path);
  assert_int_equal(rmdir(dir), 0);
}

static void unix_listener_rejects_overlong_directory(void **state) {
  char dir[200];
  soupc_status st;
  char *path = NULL;

  (void)state;
  memset(dir, 'd', sizeof(dir));
  dir[0] = '/';
  dir[sizeof(dir) - 1] = '\0';
  assert_int_equal(soupc__plugin_listen_unix(&path, dir, NULL, &st),
                   SOUPC_ERR_INVALID_ARGUMENT);
  assert_null(path);
  assert_int_equal(
      soupc__plugin_group_parse(&(gid_t){0}, "no-such-group-soupc", &st),
      SOUPC_ERR_NOT_FOUND);
}

static void tcp_listener_takes_a_port_inside_the_range(void **state) {
  soupc_status st;
  int port = 0, fd, fd2, port2 = 0;

  (void)state;
  fd = soupc__plugin_listen_tcp(&port, 0, 0, &st);
  assert_true(fd >= 0);
  assert_true(port > 0);
  /* the same single-port range is now busy */
  fd2 = soupc__plugin_listen_tcp(&port2, port, port, &st);
  assert_int_equal(fd2, SOUPC_ERR_IO);
  assert_non_null(strstr(st.message, "couldn't bind plugin TCP listener"));
  close(fd);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(cookie_must_match_exactly),
      cmocka_unit_test(cookie_mismatch_text_is_go_plugins_exact_bytes),
      cmocka_unit_test(negotiation_picks_highest_common_version),
      cmocka_unit_test(negotiation_falls_back_to_lowest_version),
      cmocka_unit_test(negotiation_skips_invalid_entries),
      cmocka_unit_test(port_range_parses_and_rejects_nonsense),
      cmocka_unit_test(socket_dir_prefers_plugin_unix_socket_dir),
      cmocka_unit_test(unix_listener_creates_socket_with_group_mode),
      cmocka_unit_test(unix_listener_rejects_overlong_directory),
      cmocka_unit_test(tcp_listener_takes_a_port_inside_the_range),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
