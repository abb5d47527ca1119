/* addr: parsing "HOST:PORT", "[V6]:PORT", "unix:/path"; listening. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "transport/addr.h"

static void ipv4_address_parses(void **state) {
  struct net_addr a;

  (void)state;
  assert_int_equal(soupc__addr_parse(&a, "127.0.0.1:50051", NULL), 0);
  assert_false(a.is_unix);
  assert_string_equal(a.host, "127.0.0.1");
  assert_int_equal(a.port, 50051);
}

static void bracketed_ipv6_address_parses(void **state) {
  struct net_addr a;

  (void)state;
  assert_int_equal(soupc__addr_parse(&a, "[::1]:0", NULL), 0);
  assert_string_equal(a.host, "::1");
  assert_int_equal(a.port, 0);
}

static void hostname_address_parses(void **state) {
  struct net_addr a;

  (void)state;
  assert_int_equal(soupc__addr_parse(&a, "localhost:8080", NULL), 0);
  assert_string_equal(a.host, "localhost");
  assert_int_equal(a.port, 8080);
  /* ":PORT" means every interface, as in Go's net.Listen. */
  assert_int_equal(soupc__addr_parse(&a, ":9000", NULL), 0);
  assert_string_equal(a.host, "");
}

static void unix_address_parses(void **state) {
  struct net_addr a;

  (void)state;
  assert_int_equal(soupc__addr_parse(&a, "unix:/tmp/x.sock", NULL), 0);
  assert_true(a.is_unix);
  assert_string_equal(a.path, "/tmp/x.sock");
  assert_int_equal(soupc__addr_parse(&a, "unix:///tmp/y.sock", NULL), 0);
  assert_string_equal(a.path, "/tmp/y.sock");
}

static void malformed_addresses_are_invalid_argument(void **state) {
  static const char *bad[] = {
      "",           "localhost", "127.0.0.1:", "127.0.0.1:65536",
      "1.2.3.4:8x", "::1:80",    "[::1]80",    "[nothex]:80",
      "unix:",      "[]:80",     "host:-1",
  };
  char longpath[200];
  struct net_addr a;

  (void)state;
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    assert_int_equal(soupc__addr_parse(&a, bad[i], NULL),
                     SOUPC_ERR_INVALID_ARGUMENT);
  }
  memset(longpath, 'a', sizeof(longpath));
  memcpy(longpath, "unix:/", 6);
  longpath[sizeof(longpath) - 1] = '\0';
  assert_int_equal(soupc__addr_parse(&a, longpath, NULL),
                   SOUPC_ERR_INVALID_ARGUMENT);
  assert_int_equal(soupc__addr_parse(&a, NULL, NULL),
                   SOUPC_ERR_INVALID_ARGUMENT);
}

static void listen_on_port_zero_reports_the_bound_port(void **state) {
  struct net_addr a;
  char text[64];
  soupc_status st;
  int fd;

  (void)state;
  assert_int_equal(soupc__addr_parse(&a, "127.0.0.1:0", NULL), 0);
  fd = soupc__addr_listen(&a, text, sizeof(text), &st);
  assert_true(fd >= 0);
  assert_int_equal(strncmp(text, "127.0.0.1:", 10), 0);
  assert_true((int)strtol(text + 10, NULL, 10) > 0);
  close(fd);
}

static void unix_listen_replaces_a_stale_socket_file(void **state) {
  char dir[] = "/tmp/soupc-addr-XXXXXX";
  char path[128], text[160], addr[160];
  struct net_addr a;
  soupc_status st;
  int fd, fd2;

  (void)state;
  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof(path), "%s/s.sock", dir);
  snprintf(addr, sizeof(addr), "unix:%s", path);
  assert_int_equal(soupc__addr_parse(&a, addr, NULL), 0);
  fd = soupc__addr_listen(&a, text, sizeof(text), &st);
  assert_true(fd >= 0);
  assert_string_equal(text, addr);
  close(fd); /* leaves the socket file behind, like a crash */
  fd2 = soupc__addr_listen(&a, text, sizeof(text), &st);
  assert_true(fd2 >= 0);
  close(fd2);
  unlink(path);
  rmdir(dir);
}

static void unix_listen_never_removes_a_regular_file(void **state) {
  char dir[] = "/tmp/soupc-addr-XXXXXX";
  char path[128], text[160], addr[160];
  struct net_addr a;
  struct stat sb;
  soupc_status st;
  FILE *f;

  (void)state;
  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof(path), "%s/file", dir);
  f = fopen(path, "w");
  assert_non_null(f);
  fclose(f);
  snprintf(addr, sizeof(addr), "unix:%s", path);
  assert_int_equal(soupc__addr_parse(&a, addr, NULL), 0);
  assert_int_equal(soupc__addr_listen(&a, text, sizeof(text), &st),
                   SOUPC_ERR_IO);
  assert_int_equal(stat(path, &sb), 0);
  assert_true(S_ISREG(sb.st_mode));
  unlink(path);
  rmdir(dir);
}

static void connect_to_a_closed_port_fails_fast(void **state) {
  struct net_addr a;
  char text[64];
  soupc_status st;
  int fd, port;

  (void)state;
  /* Bind then close to find a port nobody listens on. */
  assert_int_equal(soupc__addr_parse(&a, "127.0.0.1:0", NULL), 0);
  fd = soupc__addr_listen(&a, text, sizeof(text), &st);
  assert_true(fd >= 0);
  port = (int)strtol(text + 10, NULL, 10);
  close(fd);
  a.port = (uint16_t)port;
  assert_int_equal(soupc__addr_connect(&a, soupc__now_ms() + 2000, &st),
                   SOUPC_ERR_CONNECT);
  assert_int_equal(st.code, 14);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(ipv4_address_parses),
      cmocka_unit_test(bracketed_ipv6_address_parses),
      cmocka_unit_test(hostname_address_parses),
      cmocka_unit_test(unix_address_parses),
      cmocka_unit_test(malformed_addresses_are_invalid_argument),
      cmocka_unit_test(listen_on_port_zero_reports_the_bound_port),
      cmocka_unit_test(unix_listen_replaces_a_stale_socket_file),
      cmocka_unit_test(unix_listen_never_removes_a_regular_file),
      cmocka_unit_test(connect_to_a_closed_port_fails_fast),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
