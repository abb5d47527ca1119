/* server + channel end to end over h2c (TCP and unix sockets): unary calls,
 * errors, limits, deadlines, concurrency, shutdown and hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <poll.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <nghttp2/nghttp2.h>

#include "test_util.h"
#include "transport/transport.h"

static void unary_echo_over_tcp_returns_the_request(void **state) {
  soupc_server *srv = tu_server_start("127.0.0.1:0", NULL);
  soupc_channel *ch;
  soupc_status st;
  char resp[64];

  (void)state;
  assert_non_null(srv);
  ch = tu_channel(soupc_server_address(srv), NULL);
  assert_non_null(ch);
  assert_true(soupc_channel_is_open(ch));
  assert_int_equal(
      tu_call(ch, "/test.Echo/Unary", "hello", resp, sizeof(resp), 0, &st),
      SOUPC_GRPC_OK);
  assert_string_equal(resp, "hello");
  /* An empty request and response are legal protobuf messages. */
  assert_int_equal(
      tu_call(ch, "/test.Echo/Unary", "", resp, sizeof(resp), 0, &st), 0);
  assert_string_equal(resp, "");
  soupc_channel_free(ch);
  /* A hostname: every resolved address is tried (::1 may refuse). */
  {
    char addr[64];
    snprintf(addr, sizeof(addr), "localhost:%s",
             strrchr(soupc_server_address(srv), ':') + 1);
    ch = tu_channel(addr, NULL);
    assert_non_null(ch);
    assert_int_equal(
        tu_call(ch, "/test.Echo/Unary", "by name", resp, sizeof(resp), 0, &st),
        0);
    soupc_channel_free(ch);
  }
  soupc_server_free(srv);
}

static void
unary_echo_over_a_unix_socket_works_and_the_file_is_removed(void **state) {
  char dir[] = "/tmp/soupc-srv-XXXXXX";
  char addr[128], resp[64];
  soupc_server *srv;
  soupc_channel *ch;
  soupc_status st;
  struct stat sb;

  (void)state;
  assert_non_null(mkdtemp(dir));
  snprintf(addr, sizeof(addr), "unix:%s/grpc.sock", dir);
  srv = tu_server_start(addr, NULL);
  assert_non_null(srv);
  assert_string_equal(soupc_server_address(srv), addr);
  ch = tu_channel(addr, NULL);
  assert_non_null(ch);
  assert_int_equal(
      tu_call(ch, "/test.Echo/Unary", "over unix", resp, sizeof(resp), 0, &st),
      0);
  assert_string_equal(resp, "over unix");
  soupc_channel_free(ch);
  soupc_server_free(srv);
  assert_int_not_equal(stat(addr + 5, &sb), 0);
  rmdir(dir);
}

static void unary_echo_over_ipv6_loopback_works(void **state) {
  soupc_server *srv = NULL;
  soupc_channel *ch;
  soupc_status st;
  char out[16];

  (void)state;
  if (soupc_server_new(&srv, NULL, &st) != 0 ||
      soupc_server_add_unary(srv, "/test.Echo/Unary", tu_echo, NULL) != 0 ||
      soupc_server_listen(srv, "[::1]:0", &st) != 0) {
    soupc_server_free(srv);
    skip(); /* no IPv6 loopback here */
  }
  assert_int_equal(soupc_server_start(srv), 0);
  assert_int_equal(strncmp(soupc_server_address(srv), "[::1]:", 6), 0);
  ch = tu_channel(soupc_server_address(srv), NULL);
  assert_non_null(ch);
  assert_int_equal(
      tu_call(ch, "/test.Echo/Unary", "v6", out, sizeof(out), 0, &st), 0);
  assert_string_equal(out, "v6");
  soupc_channel_free(ch);
  soupc_server_free(srv);
}

static void unknown_method_is_unimplemented(void **state) {
  soupc_server *srv = tu_server_start("127.0.0.1:0", NULL);
  soupc_channel *ch = tu_channel(soupc_server_address(srv), NULL);
  soupc_status st;

  (void)state;
  assert_int_equal(tu_call(ch, "/test.Echo/Nope", "x", NULL, 0, 0, &st),
                   SOUPC_GRPC_UNIMPLEMENTED);
  assert_int_equal(st.code, SOUPC_GRPC_UNIMPLEMENTED);
  assert_string_equal(st.message, "unknown method /test.Echo/Nope");
  soupc_channel_free(ch);
  soupc_server_free(srv);
}

static void handler_status_and_encoded_message_reach_the_client(void **st_) {
  soupc_server *srv = tu_server_start("127.0.0.1:0", NULL);
  soupc_channel *ch = tu_channel(soupc_server_address(srv), NULL);
  soupc_status st;

  (void)st_;
  assert_int_equal(
      tu_call(ch, "/test.Echo/Fail", "100% caf\xc3\xa9", NULL, 0, 0, &st),
      SOUPC_GRPC_NOT_FOUND);
  assert_string_equal(st.message, "key not found: 100% caf\xc3\xa9");
  soupc_channel_free(ch);
  soupc_server_free(srv);
}

static void
over_limit_request_is_resource_exhausted_and_next_call_works(void **state) {
  soupc_server_options so = {.struct_size = sizeof(soupc_server_options),
                             .max_message_size = 1024 * 1024};
  soupc_server *srv = tu_server_start("127.0.0.1:0", &so);
  soupc_channel *ch = tu_channel(soupc_server_address(srv), NULL);
  size_t big = 3 * 1024 * 1024;
  uint8_t *req = calloc(1, big);
  uint8_t *resp = NULL;
  size_t resp_len = 0;
  soupc_status st;
  char out[16];

  (void)state;
  assert_int_equal(soupc_channel_unary(ch, "/test.Echo/Unary", req, big, &resp,
                                       &resp_len, 0, &st),
                   SOUPC_ERR_STATUS);
  assert_int_equal(st.code, SOUPC_GRPC_RESOURCE_EXHAUSTED);
  assert_string_equal(st.message, "received message is 3145728 bytes; the "
                                  "limit is 1048576 bytes");
  assert_null(resp);
  assert_int_equal(
      tu_call(ch, "/test.Echo/Unary", "next", out, sizeof(out), 0, &st), 0);
  assert_string_equal(out, "next");
  /* Exactly at the limit is fine. */
  assert_int_equal(soupc_channel_unary(ch, "/test.Echo/Unary", req, 1024 * 1024,
                                       &resp, &resp_len, 0, &st),
                   0);
  assert_int_equal(resp_len, 1024 * 1024);
  free(resp);
  free(req);
  soupc_channel_free(ch);
  soupc_server_free(srv);
}

static void over_limit_responses_are_resource_exhausted(void **state) {
  soupc_server_options so = {.struct_size = sizeof(soupc_server_options),
                             .max_message_size = 1024 * 1024};
  soupc_channel_options co = {.struct_size = sizeof(soupc_channel_options),
                              .max_message_size = 64 * 1024};
  soupc_server *srv = tu_server_start("127.0.0.1:0", &so);
  soupc_channel *ch = tu_channel(soupc_server_address(srv), NULL);
  soupc_channel *small = tu_channel(soupc_server_address(srv), &co);
  soupc_status st;
  char out[16];

  (void)state;
  /* The server refuses to send more than its limit. */
  assert_int_equal(tu_call(ch, "/test.Echo/Big", "2000000", NULL, 0, 0, &st),
                   SOUPC_GRPC_RESOURCE_EXHAUSTED);
  assert_non_null(strstr(st.message, "the limit is 1048576 bytes"));
  /* The client refuses to receive more than its own. */
  assert_int_equal(tu_call(small, "/test.Echo/Big", "100000", NULL, 0, 0, &st),
                   SOUPC_GRPC_RESOURCE_EXHAUSTED);
  assert_non_null(strstr(st.message, "the limit is 65536 bytes"));
  assert_int_equal(
      tu_call(small, "/test.Echo/Unary", "ok", out, sizeof(out), 0, &st), 0);
  soupc_channel_free(small);
  soupc_channel_free(ch);
  soupc_server_free(srv);
}

static void ten_mib_message_round_trips(void **state) {
  soupc_server *srv = tu_server_start("127.0.0.1:0", NULL);
  soupc_channel *ch = tu_channel(soupc_server_address(srv), NULL);
  size_t n = 10 * 1024 * 1024;
  uint8_t *req = malloc(n), *resp = NULL;
  size_t resp_len = 0;
  soupc_status st;

  (void)state;
  for (size_t i = 0; i < n; i++) {
    req[i] = (uint8_t)(i * 7);
  }
  assert_int_equal(soupc_channel_unary(ch, "/test.Echo/Unary", req, n, &resp,
                                       &resp_len, 10000, &st),
                   0);
  assert_int_equal(resp_len, n);
  assert_memory_equal(resp, req, n);
  free(resp);
  free(req);
  soupc_channel_free(ch);
  soupc_server_free(srv);
}

static void
deadline_exceeded_with_a_slow_handler_and_late_reply_dropped(void **state) {
  soupc_server *srv = tu_server_start("127.0.0.1:0", NULL);
  soupc_channel *ch = tu_channel(soupc_server_address(srv), NULL);
  soupc_status st;
  int64_t t0 = tu_now_ms();
  char out[16];

  (void)state;
  assert_int_equal(tu_call(ch, "/test.Echo/Slow", "400", NULL, 0, 100, &st),
                   SOUPC_GRPC_DEADLINE_EXCEEDED);
  assert_true(tu_now_ms() - t0 < 350);
  /* The late reply from the handler thread is dropped quietly. */
  tu_wait_pending();
  assert_int_equal(
      tu_call(ch, "/test.Echo/Unary", "after", out, sizeof(out), 0, &st), 0);
  assert_string_equal(out, "after");
  soupc_channel_free(ch);
  soupc_server_free(srv);
}

static void reply_finished_from_a_foreign_thread_arrives(void **state) {
  soupc_server *srv = tu_server_start("127.0.0.1:0", NULL);
  soupc_channel *ch = tu_channel(soupc_server_address(srv), NULL);
  soupc_status st;
  char out[16];

  (void)state;
  assert_int_equal(
      tu_call(ch, "/test.Echo/Slow", "30", out, sizeof(out), 5000, &st), 0);
  assert_string_equal(out, "30");
  tu_wait_pending();
  soupc_channel_free(ch);
  soupc_server_free(srv);
}

struct hammer {
  soupc_channel *ch;
  int id;
  int ok;
};

static void *hammer_thread(void *arg) {
  struct hammer *h = arg;

  for (int i = 0; i < 300; i++) {
    char req[64], resp[64];
    soupc_status st;
    snprintf(req, sizeof(req), "thread %d call %d", h->id, i);
    if (tu_call(h->ch, i % 10 == 0 ? "/test.Echo/Slow" : "/test.Echo/Unary",
                i % 10 == 0 ? "1" : req, resp, sizeof(resp), 10000, &st) == 0 &&
        strcmp(resp, i % 10 == 0 ? "1" : req) == 0) {
      h->ok++;
    } else {
      fprintf(stderr, "call %d failed: %d %s\n", i, st.code, st.message);
    }
  }
  return NULL;
}

static void many_concurrent_calls_from_several_threads_succeed(void **state) {
  soupc_server_options so = {.struct_size = sizeof(soupc_server_options),
                             .workers = 3};
  soupc_server *srv = tu_server_start("127.0.0.1:0", &so);
  soupc_channel *chans[2];
  struct hammer h[8];
  pthread_t t[8];

  (void)state;
  chans[0] = tu_channel(soupc_server_address(srv), NULL);
  chans[1] = tu_channel(soupc_server_address(srv), NULL);
  for (int i = 0; i < 8; i++) {
    h[i] = (struct hammer){chans[i % 2], i, 0};
    pthread_create(&t[i], NULL, hammer_thread, &h[i]);
  }
  for (int i = 0; i < 8; i++) {
    pthread_join(t[i], NULL);
    assert_int_equal(h[i].ok, 300);
  }
  tu_wait_pending();
  soupc_channel_free(chans[0]);
  soupc_channel_free(chans[1]);
  soupc_server_free(srv);
}

struct bg_call {
  soupc_channel *ch;
  const char *path;
  const char *req;
  int code;
  char resp[128];
};

static void *bg_call_thread(void *arg) {
  struct bg_call *b = arg;
  soupc_status st;

  b->code =
      tu_call(b->ch, b->path, b->req, b->resp, sizeof(b->resp), 10000, &st);
  if (b->code != 0) {
    snprintf(b->resp, sizeof(b->resp), "%.100s", st.message);
  }
  return NULL;
}

static void graceful_shutdown_finishes_an_in_flight_call(void **state) {
  soupc_server *srv = tu_server_start("127.0.0.1:0", NULL);
  char addr[64];
  soupc_channel *ch, *late = NULL;
  struct bg_call b;
  pthread_t t;
  soupc_status st;

  (void)state;
  snprintf(addr, sizeof(addr), "%s", soupc_server_address(srv));
  ch = tu_channel(addr, NULL);
  b = (struct bg_call){ch, "/test.Echo/Slow", "300", -1, {0}};
  pthread_create(&t, NULL, bg_call_thread, &b);
  tu_sleep_ms(100);
  soupc_server_shutdown(srv, 5000);
  pthread_join(t, NULL);
  assert_int_equal(b.code, 0);
  assert_string_equal(b.resp, "300");
  soupc_server_wait(srv);
  /* Not accepting any more. */
  {
    soupc_channel_options co = {.struct_size = sizeof(soupc_channel_options),
                                .connect_timeout_ms = 500};
    assert_int_not_equal(soupc_channel_open(&late, addr, &co, &st), 0);
  }
  assert_false(soupc_channel_is_open(ch));
  tu_wait_pending();
  soupc_channel_free(ch);
  soupc_server_free(srv);
}

static void shutdown_grace_expiry_cancels_a_stuck_call(void **state) {
  soupc_server *srv = tu_server_start("127.0.0.1:0", NULL);
  soupc_channel *ch = tu_channel(soupc_server_address(srv), NULL);
  struct bg_call b = {ch, "/test.Echo/Slow", "1500", -1, {0}};
  pthread_t t;
  int64_t t0;

  (void)state;
  pthread_create(&t, NULL, bg_call_thread, &b);
  tu_sleep_ms(100);
  t0 = tu_now_ms();
  soupc_server_shutdown(srv, 200);
  soupc_server_wait(srv);
  assert_true(tu_now_ms() - t0 < 1000);
  pthread_join(t, NULL);
  assert_int_equal(b.code, SOUPC_GRPC_UNAVAILABLE);
  /* The handler thread still finishes its call after the workers exited. */
  tu_wait_pending();
  soupc_channel_free(ch);
  soupc_server_free(srv);
}

static void
shutdown_with_only_idle_connections_does_not_wait_for_grace(void **state) {
  soupc_server *srv = tu_server_start("127.0.0.1:0", NULL);
  soupc_channel *ch = tu_channel(soupc_server_address(srv), NULL);
  soupc_status st;
  int64_t t0;

  (void)state;
  assert_int_equal(tu_call(ch, "/test.Echo/Unary", "x", NULL, 0, 0, &st), 0);
  t0 = tu_now_ms();
  soupc_server_shutdown(srv, 10000);
  soupc_server_wait(srv);
  /* GOAWAY notice, final GOAWAY ~100 ms later, then the idle connection
   * closes at once. */
  assert_true(tu_now_ms() - t0 < 2000);
  assert_int_equal(tu_call(ch, "/test.Echo/Unary", "x", NULL, 0, 0, &st),
                   SOUPC_GRPC_UNAVAILABLE);
  soupc_channel_free(ch);
  soupc_server_free(srv);
}

static void shutdown_from_a_handler_works(void **state) {
  soupc_server *srv = tu_server_start("127.0.0.1:0", NULL);
  soupc_channel *ch = tu_channel(soupc_server_address(srv), NULL);
  soupc_status st;
  char out[16];

  (void)state;
  assert_int_equal(
      tu_call(ch, "/test.Echo/Shutdown", "bye", out, sizeof(out), 0, &st), 0);
  assert_string_equal(out, "bye");
  soupc_server_wait(srv);
  soupc_channel_free(ch);
  soupc_server_free(srv);
}

static int raw_connect(const char *address) {
  struct sockaddr_in sin;
  const char *colon = strrchr(address, ':');
  int fd = socket(AF_INET, SOCK_STREAM, 0);

  memset(&sin, 0, sizeof(sin));
  sin.sin_family = AF_INET;
  sin.sin_port = htons((uint16_t)(int)strtol(colon + 1, NULL, 10));
  inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
  if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Reads until EOF or @p ms pass. @return bytes read, -1 on timeout. */
static long read_to_eof(int fd, int ms) {
  char buf[4096];
  long total = 0;
  int64_t end = tu_now_ms() + ms;

  for (;;) {
    struct pollfd p = {fd, POLLIN, 0};
    int64_t left = end - tu_now_ms();
    ssize_t n;
    if (left <= 0 || poll(&p, 1, (int)left) <= 0) {
      return -1;
    }
    n = read(fd, buf, sizeof(buf));
    if (n <= 0) {
      return total;
    }
    total += n;
  }
}

static void
garbage_bytes_close_the_connection_and_the_server_keeps_serving(void **state) {
  static const char *garbage[] = {
      "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
      /* A valid preface, then a frame header claiming 16 MiB. */
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\xff\xff\xff\x00\x00\x00\x00\x00\x00",
      /* A preface then a truncated SETTINGS frame and disconnect. */
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x06\x04",
  };
  soupc_server *srv = tu_server_start("127.0.0.1:0", NULL);
  soupc_channel *ch;
  soupc_status st;
  char out[16];

  (void)state;
  for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
    int fd = raw_connect(soupc_server_address(srv));
    size_t len = i == 1 ? 24 + 9 : strlen(garbage[i]) + (i == 2 ? 4 : 0);
    assert_true(fd >= 0);
    if (i == 2) {
      len = 24 + 4;
    }
    assert_int_equal(write(fd, garbage[i], len), (ssize_t)len);
    if (i == 2) {
      close(fd); /* abrupt disconnect mid-frame */
      continue;
    }
    /* The server answers (SETTINGS, GOAWAY) and closes. */
    assert_true(read_to_eof(fd, 3000) >= 0);
    close(fd);
  }
  ch = tu_channel(soupc_server_address(srv), NULL);
  assert_non_null(ch);
  assert_int_equal(
      tu_call(ch, "/test.Echo/Unary", "good", out, sizeof(out), 0, &st), 0);
  assert_string_equal(out, "good");
  soupc_channel_free(ch);
  soupc_server_free(srv);
}

static void
a_silent_client_is_dropped_after_the_handshake_timeout(void **state) {
  soupc_server *srv = NULL;
  soupc_status st;
  char out[16];
  soupc_channel *ch;
  int fd;

  (void)state;
  assert_int_equal(soupc_server_new(&srv, NULL, &st), 0);
  assert_int_equal(
      soupc_server_add_unary(srv, "/test.Echo/Unary", tu_echo, NULL), 0);
  soupc__server_set_handshake_timeout(srv, 200);
  assert_int_equal(soupc_server_listen(srv, "127.0.0.1:0", &st), 0);
  assert_int_equal(soupc_server_start(srv), 0);
  fd = raw_connect(soupc_server_address(srv));
  assert_true(fd >= 0);
  /* Says nothing: the server closes it (after writing its SETTINGS). */
  assert_true(read_to_eof(fd, 3000) >= 0);
  close(fd);
  /* A real client, idle for longer than the timeout, stays connected. */
  ch = tu_channel(soupc_server_address(srv), NULL);
  tu_sleep_ms(400);
  assert_true(soupc_channel_is_open(ch));
  assert_int_equal(
      tu_call(ch, "/test.Echo/Unary", "idle", out, sizeof(out), 0, &st), 0);
  soupc_channel_free(ch);
  soupc_server_free(srv);
}

static void five_hundred_simultaneous_connections_are_served(void **state) {
  static const char preface[] =
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00";
  enum {
    N = 520
  };
  soupc_server *srv;
  soupc_channel *ch;
  soupc_status st;
  struct rlimit rl;
  int fds[N];
  char out[16];
  int served = 0;

  (void)state;
  /* The test process needs the fds too (the server raises its own limit,
   * which is the same process's, when it starts). */
  srv = tu_server_start("127.0.0.1:0", NULL);
  getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < 2 * N + 64) {
    skip();
  }
  for (int i = 0; i < N; i++) {
    fds[i] = raw_connect(soupc_server_address(srv));
    assert_true(fds[i] >= 0);
    assert_int_equal(write(fds[i], preface, 24 + 9), 24 + 9);
  }
  /* Every connection gets the server's SETTINGS frame. */
  for (int i = 0; i < N; i++) {
    struct pollfd p = {fds[i], POLLIN, 0};
    char buf[256];
    if (poll(&p, 1, 5000) == 1 && read(fds[i], buf, sizeof(buf)) >= 9 &&
        buf[3] == 0x04) {
      served++;
    }
  }
  assert_int_equal(served, N);
  ch = tu_channel(soupc_server_address(srv), NULL);
  assert_int_equal(
      tu_call(ch, "/test.Echo/Unary", "501st", out, sizeof(out), 0, &st), 0);
  for (int i = 0; i < N; i++) {
    close(fds[i]);
  }
  soupc_channel_free(ch);
  soupc_server_free(srv);
}

static long cpu_ms(void) {
  struct rusage ru;

  getrusage(RUSAGE_SELF, &ru);
  return (long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
         (long)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
}

/* Runs in a child with 64 fds: fills the table with client sockets so the
 * server's accept4() fails with EMFILE, checks the acceptor does not spin,
 * then frees fds and checks a new client is served. @return exit status. */
static int emfile_child(void) {
  struct rlimit rl = {64, 64};
  soupc_server_options so = {.struct_size = sizeof(soupc_server_options),
                             .workers = 1};
  soupc_server *srv;
  soupc_channel *ch;
  soupc_status st;
  int fds[64], n = 0;
  long cpu0;
  char out[16];

  if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
    return 10;
  }
  srv = tu_server_start("127.0.0.1:0", &so);
  if (srv == NULL) {
    return 11;
  }
  while (n < 64) {
    int fd = raw_connect(soupc_server_address(srv));
    if (fd < 0) {
      break;
    }
    fds[n++] = fd;
  }
  tu_sleep_ms(200);
  cpu0 = cpu_ms();
  tu_sleep_ms(500);
  if (cpu_ms() - cpu0 > 250) {
    return 12; /* spinning on a readable listener */
  }
  while (n > 0) {
    close(fds[--n]);
  }
  ch = tu_channel(soupc_server_address(srv), NULL);
  if (ch == NULL) {
    return 13;
  }
  if (tu_call(ch, "/test.Echo/Unary", "fd", out, sizeof(out), 5000, &st) != 0) {
    return 14;
  }
  soupc_channel_free(ch);
  soupc_server_free(srv);
  return 0;
}

static void emfile_on_accept_pauses_instead_of_spinning(void **state) {
  pid_t pid;
  int status = 0;

  (void)state;
  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    _exit(emfile_child());
  }
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
}

static void connection_loss_fails_calls_with_unavailable(void **state) {
  soupc_server *srv = tu_server_start("127.0.0.1:0", NULL);
  soupc_channel *ch = tu_channel(soupc_server_address(srv), NULL);
  struct bg_call b = {ch, "/test.Echo/Slow", "2000", -1, {0}};
  soupc_status st;
  pthread_t t;

  (void)state;
  pthread_create(&t, NULL, bg_call_thread, &b);
  tu_sleep_ms(100);
  soupc_server_shutdown(srv, 0);
  pthread_join(t, NULL);
  assert_int_equal(b.code, SOUPC_GRPC_UNAVAILABLE);
  soupc_server_wait(srv);
  assert_int_equal(tu_call(ch, "/test.Echo/Unary", "x", NULL, 0, 0, &st),
                   SOUPC_GRPC_UNAVAILABLE);
  tu_wait_pending();
  soupc_channel_free(ch);
  soupc_server_free(srv);
}

static void
channel_free_fails_outstanding_calls_with_unavailable(void **state) {
  soupc_server *srv = tu_server_start("127.0.0.1:0", NULL);
  soupc_channel *ch = tu_channel(soupc_server_address(srv), NULL);
  struct bg_call b = {ch, "/test.Echo/Slow", "1000", -1, {0}};
  pthread_t t;

  (void)state;
  pthread_create(&t, NULL, bg_call_thread, &b);
  tu_sleep_ms(100);
  soupc_channel_free(ch);
  pthread_join(t, NULL);
  assert_int_equal(b.code, SOUPC_GRPC_UNAVAILABLE);
  tu_wait_pending();
  soupc_server_free(srv);
}

/* A bare HTTP/2 server (not gRPC): answers every request with the HTTP
 * status named by the last path segment ("/x/503") and no grpc-status. */
struct plain_h2 {
  int lfd;
  int fd;
  char paths[8][32];
};

static int plain_on_header(nghttp2_session *s, const nghttp2_frame *f,
                           const uint8_t *name, size_t namelen,
                           const uint8_t *value, size_t valuelen, uint8_t flags,
                           void *ud) {
  struct plain_h2 *p = ud;

  (void)s;
  (void)flags;
  if (namelen == 5 && memcmp(name, ":path", 5) == 0 &&
      f->hd.stream_id / 2 < 8) {
    snprintf(p->paths[f->hd.stream_id / 2], 32, "%.*s", (int)valuelen,
             (const char *)value);
  }
  return 0;
}

static int plain_on_frame(nghttp2_session *s, const nghttp2_frame *f,
                          void *ud) {
  struct plain_h2 *p = ud;

  if ((f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA) &&
      (f->hd.flags & NGHTTP2_FLAG_END_STREAM) && f->hd.stream_id / 2 < 8) {
    const char *code = strrchr(p->paths[f->hd.stream_id / 2], '/');
    nghttp2_nv nv[] = {
        {(uint8_t *)":status", (uint8_t *)(code + 1), 7, strlen(code + 1), 0}};
    nghttp2_submit_response(s, f->hd.stream_id, nv, 1, NULL);
  }
  return 0;
}

static void *plain_h2_thread(void *arg) {
  struct plain_h2 *p = arg;
  nghttp2_session_callbacks *cb;
  nghttp2_session *s;

  p->fd = accept(p->lfd, NULL, NULL);
  nghttp2_session_callbacks_new(&cb);
  nghttp2_session_callbacks_set_on_header_callback(cb, plain_on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cb, plain_on_frame);
  nghttp2_session_server_new(&s, cb, p);
  nghttp2_session_callbacks_del(cb);
  nghttp2_submit_settings(s, NGHTTP2_FLAG_NONE, NULL, 0);
  for (;;) {
    const uint8_t *out;
    uint8_t buf[16384];
    ssize_t n;
    while ((n = nghttp2_session_mem_send(s, &out)) > 0) {
      if (write(p->fd, out, (size_t)n) != n) {
        break;
      }
    }
    n = read(p->fd, buf, sizeof(buf));
    if (n <= 0 || nghttp2_session_mem_recv(s, buf, (size_t)n) < 0) {
      break;
    }
  }
  nghttp2_session_del(s);
  close(p->fd);
  return NULL;
}

static void non_grpc_http_status_maps_like_grpc_go(void **state) {
  struct plain_h2 p;
  struct sockaddr_in sin;
  socklen_t sl = sizeof(sin);
  char addr[64];
  soupc_channel *ch;
  soupc_status st;
  pthread_t t;

  (void)state;
  memset(&p, 0, sizeof(p));
  memset(&sin, 0, sizeof(sin));
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  p.lfd = socket(AF_INET, SOCK_STREAM, 0);
  assert_int_equal(bind(p.lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
  assert_int_equal(listen(p.lfd, 1), 0);
  getsockname(p.lfd, (struct sockaddr *)&sin, &sl);
  snprintf(addr, sizeof(addr), "127.0.0.1:%u", (unsigned)ntohs(sin.sin_port));
  pthread_create(&t, NULL, plain_h2_thread, &p);
  ch = tu_channel(addr, NULL);
  assert_non_null(ch);
  assert_int_equal(tu_call(ch, "/x/503", "a", NULL, 0, 2000, &st),
                   SOUPC_GRPC_UNAVAILABLE);
  assert_string_equal(st.message,
                      "unexpected HTTP status code received from server: 503");
  assert_int_equal(tu_call(ch, "/x/404", "a", NULL, 0, 2000, &st),
                   SOUPC_GRPC_UNIMPLEMENTED);
  assert_int_equal(tu_call(ch, "/x/401", "a", NULL, 0, 2000, &st),
                   SOUPC_GRPC_UNAUTHENTICATED);
  /* 200 without grpc-status is a broken server. */
  assert_int_equal(tu_call(ch, "/x/200", "a", NULL, 0, 2000, &st),
                   SOUPC_GRPC_INTERNAL);
  soupc_channel_free(ch);
  pthread_join(t, NULL);
  close(p.lfd);
}

static void connect_to_nothing_fails_with_connect(void **state) {
  soupc_channel *ch = NULL;
  soupc_status st;
  char addr[64];
  soupc_server *srv = tu_server_start("127.0.0.1:0", NULL);

  (void)state;
  snprintf(addr, sizeof(addr), "%s", soupc_server_address(srv));
  soupc_server_free(srv);
  assert_int_equal(soupc_channel_open(&ch, addr, NULL, &st), SOUPC_ERR_CONNECT);
  assert_int_equal(st.code, SOUPC_GRPC_UNAVAILABLE);
  assert_int_equal(soupc_channel_open(&ch, "nonsense", NULL, &st),
                   SOUPC_ERR_INVALID_ARGUMENT);
}

static void registration_rules_are_enforced(void **state) {
  soupc_server *srv = NULL;
  soupc_status st;

  (void)state;
  assert_int_equal(soupc_server_new(&srv, NULL, &st), 0);
  assert_int_equal(soupc_server_add_unary(srv, "/a/B", tu_echo, NULL), 0);
  assert_int_equal(soupc_server_add_unary(srv, "/a/B", tu_echo, NULL),
                   SOUPC_ERR_INVALID_ARGUMENT);
  assert_int_equal(soupc_server_add_unary(srv, "noslash", tu_echo, NULL),
                   SOUPC_ERR_INVALID_ARGUMENT);
  assert_int_equal(soupc_server_start(srv), SOUPC_ERR_INVALID_ARGUMENT);
  assert_int_equal(soupc_server_listen(srv, "bad", &st),
                   SOUPC_ERR_INVALID_ARGUMENT);
  assert_null(soupc_server_address(srv));
  soupc_server_free(srv);
  soupc_server_free(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(unary_echo_over_tcp_returns_the_request),
      cmocka_unit_test(
          unary_echo_over_a_unix_socket_works_and_the_file_is_removed),
      cmocka_unit_test(unary_echo_over_ipv6_loopback_works),
      cmocka_unit_test(unknown_method_is_unimplemented),
      cmocka_unit_test(handler_status_and_encoded_message_reach_the_client),
      cmocka_unit_test(
          over_limit_request_is_resource_exhausted_and_next_call_works),
      cmocka_unit_test(over_limit_responses_are_resource_exhausted),
      cmocka_unit_test(ten_mib_message_round_trips),
      cmocka_unit_test(
          deadline_exceeded_with_a_slow_handler_and_late_reply_dropped),
      cmocka_unit_test(reply_finished_from_a_foreign_thread_arrives),
      cmocka_unit_test(many_concurrent_calls_from_several_threads_succeed),
      cmocka_unit_test(graceful_shutdown_finishes_an_in_flight_call),
      cmocka_unit_test(shutdown_grace_expiry_cancels_a_stuck_call),
      cmocka_unit_test(
          shutdown_with_only_idle_connections_does_not_wait_for_grace),
      cmocka_unit_test(shutdown_from_a_handler_works),
      cmocka_unit_test(
          garbage_bytes_close_the_connection_and_the_server_keeps_serving),
      cmocka_unit_test(a_silent_client_is_dropped_after_the_handshake_timeout),
      cmocka_unit_test(five_hundred_simultaneous_connections_are_served),
      cmocka_unit_test(emfile_on_accept_pauses_instead_of_spinning),
      cmocka_unit_test(connection_loss_fails_calls_with_unavailable),
      cmocka_unit_test(channel_free_fails_outstanding_calls_with_unavailable),
      cmocka_unit_test(non_grpc_http_status_maps_like_grpc_go),
      cmocka_unit_test(connect_to_nothing_fails_with_connect),
      cmocka_unit_test(registration_rules_are_enforced),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
