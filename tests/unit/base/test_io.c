#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/io.h"
#include "soupc/soupc.h"

static void write_all_then_read_fd_round_trips_a_large_buffer(void **state) {
  size_t n = 300 * 1024, got = 0;
  char *data = malloc(n), *back = NULL;
  int p[2];
  pid_t pid;

  (void)state;
  for (size_t i = 0; i < n; i++) {
    data[i] = (char)('a' + i % 26);
  }
  assert_int_equal(pipe(p), 0);
  /* More than a pipe holds: a child writes while we read. */
  pid = fork();
  if (pid == 0) {
    close(p[0]);
    _exit(soupc__write_all(p[1], data, n) == 0 ? 0 : 1);
  }
  close(p[1]);
  assert_int_equal(soupc__read_fd(&back, &got, p[0], n), 0);
  close(p[0]);
  assert_int_equal(got, n);
  assert_memory_equal(back, data, n);
  assert_int_equal(back[n], '\0');
  soupc__free(back);
  free(data);
}

static void read_fd_over_the_limit_is_too_large(void **state) {
  char *out = (char *)1;
  int p[2];

  (void)state;
  assert_int_equal(pipe(p), 0);
  assert_int_equal(soupc__write_all(p[1], "0123456789", 10), 0);
  close(p[1]);
  assert_int_equal(soupc__read_fd(&out, NULL, p[0], 9), SOUPC_ERR_TOO_LARGE);
  assert_ptr_equal(out, (char *)1);
  close(p[0]);
}

static void write_to_a_closed_pipe_is_io_error(void **state) {
  int p[2];

  (void)state;
  signal(SIGPIPE, SIG_IGN);
  assert_int_equal(pipe(p), 0);
  close(p[0]);
  assert_int_equal(soupc__write_all(p[1], "x", 1), SOUPC_ERR_IO);
  assert_int_equal(errno, EPIPE);
  close(p[1]);
}

static void read_file_missing_is_not_found(void **state) {
  char *out = NULL;

  (void)state;
  assert_int_equal(soupc__read_file(&out, NULL, "/nonexistent/soupc", 100),
                   SOUPC_ERR_NOT_FOUND);
  assert_null(out);
  assert_int_equal(soupc__read_file(&out, NULL, "/", 100), SOUPC_ERR_IO);
}

static void read_fd_fails_cleanly_on_allocation_failure(void **state) {
  char *out = NULL;
  int p[2];

  (void)state;
  assert_int_equal(pipe(p), 0);
  assert_int_equal(soupc__write_all(p[1], "abc", 3), 0);
  close(p[1]);
  soupc__alloc_fail_at(1);
  assert_int_equal(soupc__read_fd(&out, NULL, p[0], 100), SOUPC_ERR_NOMEM);
  soupc__alloc_fail_at(0);
  assert_null(out);
  close(p[0]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(write_all_then_read_fd_round_trips_a_large_buffer),
      cmocka_unit_test(read_fd_over_the_limit_is_too_large),
      cmocka_unit_test(write_to_a_closed_pipe_is_io_error),
      cmocka_unit_test(read_file_missing_is_not_found),
      cmocka_unit_test(read_fd_fails_cleanly_on_allocation_failure),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
