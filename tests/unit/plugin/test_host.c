/* src/plugin/host.c, process.c, serve.c, side_services.c and
 * stdio_capture.c, end to end: this binary re-executes itself as a plugin
 * (SOUPC_TEST_AS_PLUGIN=1) and small shell scripts play broken plugins.
 * Every test checks that no process, socket or socket directory survives
 * (go-plugin-protocol.md §6.2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "health.pb-c.h"
#include "plugin/plugin_int.h"
#include "soupc/cert.h"

#define COOKIE_KEY "SOUPC_TEST_PLUGIN_COOKIE"
#define COOKIE_VALUE "d602bf8f"

static char self_exe[4096];
static char tmp_root[] = "/tmp/test-plugin-host-XXXXXX";

/* ------------------------------------------------------------------ */
/* The plugin side: this binary with SOUPC_TEST_AS_PLUGIN=1             */
/* ------------------------------------------------------------------ */

static void echo(soupc_call *call, const uint8_t *req, size_t len, void *ud) {
  (void)ud;
  soupc_call_reply(call, req, len);
}

/* Writes its request to stdout and "to-stderr" to stderr: both must reach
 * the host through GRPCStdio. */
static void print(soupc_call *call, const uint8_t *req, size_t len, void *ud) {
  (void)ud;
  (void)!write(STDOUT_FILENO, req, len);
  (void)!write(STDERR_FILENO, "to-stderr\n", 10);
  soupc_call_reply(call, NULL, 0);
}

static int register_test(soupc_server *srv, const soupc_plugin_info *info,
                         void *ud) {
  int rv;

  (void)ud;
  /* The info must describe what is served. */
  if (info->handshake_line == NULL || info->address == NULL ||
      (info->tls == SOUPC_PLUGIN_TLS_NONE) != (info->server_cert_pem == NULL)) {
    return SOUPC_ERR_INTERNAL;
  }
  rv = soupc_server_add_unary(srv, "/test.Test/Echo", echo, NULL);
  if (rv == 0) {
    rv = soupc_server_add_unary(srv, "/test.Test/Print", print, NULL);
  }
  return rv;
}

static int run_as_plugin(void) {
  soupc_plugin_serve_options o;
  soupc_status st;
  int rv;

  o = (soupc_plugin_serve_options)SOUPC_PLUGIN_SERVE_OPTIONS_INIT;
  o.cookie_key = COOKIE_KEY;
  o.cookie_value = COOKIE_VALUE;
  o.tls_mode = getenv("TEST_TLS_MODE");
  o.tls_curve = getenv("TEST_TLS_CURVE");
  o.network = getenv("TEST_NETWORK");
  o.tls_key_type = getenv("TEST_TLS_KEY_TYPE");
  o.cert_file = getenv("TEST_CERT_FILE");
  o.key_file = getenv("TEST_KEY_FILE");
  o.log_level = "debug";
  o.workers = 1;
  /* TEST_EMBEDDED: the library's defaults (signals and fds 1/2 left
   * alone); otherwise go-plugin's process behaviour. */
  o.capture_stdio = getenv("TEST_EMBEDDED") == NULL;
  o.handle_signals = getenv("TEST_EMBEDDED") == NULL;
  rv = soupc_plugin_serve(&o, register_test, NULL, &st);
  if (rv == SOUPC_ERR_COOKIE) {
    return 1;
  }
  if (rv != 0) {
    fprintf(stderr, "test plugin: %s\n", st.message);
    return 1;
  }
  return 0;
}

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static int dir_is_empty(const char *path) {
  DIR *d = opendir(path);
  struct dirent *e;
  int n = 0;

  assert_non_null(d);
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
      fprintf(stderr, "left behind: %s/%s\n", path, e->d_name);
      n++;
    }
  }
  closedir(d);
  return n == 0;
}

static void write_script(const char *name, const char *body, mode_t mode,
                         char *path, size_t cap) {
  FILE *f;

  snprintf(path, cap, "%s/%s", tmp_root, name);
  f = fopen(path, "w");
  assert_non_null(f);
  fputs(body, f);
  fclose(f);
  assert_int_equal(chmod(path, mode), 0);
}

static pid_t read_pid(const char *pidfile) {
  FILE *f = fopen(pidfile, "r");
  int pid = 0;

  if (f == NULL) {
    return 0;
  }
  if (fscanf(f, "%d", &pid) != 1) {
    pid = 0;
  }
  fclose(f);
  return (pid_t)pid;
}

/* The pid is gone: not running, not a zombie. */
static void assert_process_gone(pid_t pid) {
  assert_true(pid > 0);
  assert_int_equal(kill(pid, 0), -1);
  assert_int_equal(errno, ESRCH);
}

/* @return 1 once @p pid has exited (zombie or gone) within @p ms. */
static int exits_within(pid_t pid, int ms) {
  char path[64], buf[512];
  int64_t end = soupc__plugin_now_ms() + ms;

  snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
  while (soupc__plugin_now_ms() < end) {
    FILE *f = fopen(path, "r");
    char *rp;

    if (f == NULL) {
      return 1;
    }
    rp = fgets(buf, sizeof(buf), f) == NULL ? NULL : strrchr(buf, ')');
    fclose(f);
    if (rp != NULL && rp[1] == ' ' && rp[2] == 'Z') {
      return 1;
    }
    nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
  }
  return 0;
}

static int count_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  int n = 0;

  assert_non_null(d);
  while (readdir(d) != NULL) {
    n++;
  }
  closedir(d);
  return n;
}

static void base_options(soupc_plugin_host_options *o, const char *path) {
  *o = (soupc_plugin_host_options)SOUPC_PLUGIN_HOST_OPTIONS_INIT;
  o->path = path;
  o->cookie_key = COOKIE_KEY;
  o->cookie_value = COOKIE_VALUE;
  o->handshake_timeout_ms = 20000;
}

/* Launch must fail with @p err and a message containing @p needle. */
static void expect_launch_error(const soupc_plugin_host_options *o, int err,
                                const char *needle) {
  soupc_plugin_host *h = NULL;
  soupc_status st;
  int rv;

  rv = soupc_plugin_host_launch(&h, o, &st);
  if (rv != err || strstr(st.message, needle) == NULL) {
    fail_msg("launch gave %d \"%s\"; expected %d with \"%s\"", rv, st.message,
             err, needle);
  }
  assert_null(h);
}

/* The socket directories live in TMPDIR=<tmp_root>/sock; it must be empty
 * after every test. */
static char sock_root[4200];

static int setup(void **state) {
  (void)state;
  assert_true(dir_is_empty(sock_root));
  return 0;
}

/* A round trip that fails an assertion leaves its host here, so the
 * teardown can still kill it and check that nothing survives. */
static soupc_plugin_host *live_host;

static int teardown(void **state) {
  (void)state;
  soupc_plugin_host_kill(live_host);
  live_host = NULL;
  assert_true(dir_is_empty(sock_root));
  return 0;
}

/* ------------------------------------------------------------------ */
/* Error paths                                                         */
/* ------------------------------------------------------------------ */

static void missing_binary_is_not_found(void **state) {
  soupc_plugin_host_options o;

  (void)state;
  base_options(&o, "/nonexistent/dir/plugin");
  expect_launch_error(&o, SOUPC_ERR_NOT_FOUND,
                      "plugin not found: /nonexistent/dir/plugin");
  base_options(&o, "soupc-no-such-plugin-in-path");
  expect_launch_error(&o, SOUPC_ERR_NOT_FOUND,
                      "plugin not found: soupc-no-such-plugin-in-path");
}

static void non_executable_file_is_rejected(void **state) {
  soupc_plugin_host_options o;
  char path[4200];

  (void)state;
  write_script("not-exec", "#!/bin/sh\nexit 0\n", 0644, path, sizeof(path));
  base_options(&o, path);
  expect_launch_error(&o, SOUPC_ERR_INVALID_ARGUMENT,
                      "plugin is not executable: ");
  base_options(&o, tmp_root); /* a directory */
  expect_launch_error(&o, SOUPC_ERR_INVALID_ARGUMENT,
                      "plugin is not executable: ");
  unlink(path);
}

static void
exit_before_handshake_reports_status_and_last_stderr_line(void **state) {
  soupc_plugin_host_options o;
  char path[4200];

  (void)state;
  write_script("exits",
               "#!/bin/sh\necho 'first line' >&2\necho 'boom: bad config' "
               ">&2\nexit 3\n",
               0755, path, sizeof(path));
  base_options(&o, path);
  expect_launch_error(&o, SOUPC_ERR_PLUGIN_EXITED,
                      "plugin exited before we could connect (exit status 3); "
                      "last stderr line: "
                      "boom: bad config");
  unlink(path);
}

static void garbled_handshake_line_kills_the_plugin(void **state) {
  soupc_plugin_host_options o;
  char path[4200], pidfile[4200], body[8600];

  (void)state;
  snprintf(pidfile, sizeof(pidfile), "%s/garbled.pid", tmp_root);
  snprintf(body, sizeof(body),
           "#!/bin/sh\necho $$ > %s\necho 'hello world'\nexec sleep 30\n",
           pidfile);
  write_script("garbled", body, 0755, path, sizeof(path));
  base_options(&o, path);
  expect_launch_error(&o, SOUPC_ERR_HANDSHAKE, "garbled handshake line: ");
  assert_process_gone(read_pid(pidfile));
  unlink(pidfile);
  unlink(path);
}

static void wrong_app_version_is_incompatible(void **state) {
  soupc_plugin_host_options o;
  char path[4200], pidfile[4200], body[8600];
  const int versions[] = {1, 2};

  (void)state;
  snprintf(pidfile, sizeof(pidfile), "%s/version.pid", tmp_root);
  snprintf(body, sizeof(body),
           "#!/bin/sh\necho $$ > %s\necho '1|7|unix|/tmp/x|grpc|'\n"
           "exec sleep 30\n",
           pidfile);
  write_script("version", body, 0755, path, sizeof(path));
  base_options(&o, path);
  o.versions = versions;
  o.n_versions = 2;
  expect_launch_error(&o, SOUPC_ERR_HANDSHAKE,
                      "incompatible API version with plugin. Plugin version: "
                      "7, Client versions: [1 2]");
  assert_process_gone(read_pid(pidfile));
  unlink(pidfile);
  unlink(path);
}

static void silent_plugin_times_out_and_is_killed(void **state) {
  soupc_plugin_host_options o;
  char path[4200], pidfile[4200], body[8600];
  int64_t t0;

  (void)state;
  snprintf(pidfile, sizeof(pidfile), "%s/silent.pid", tmp_root);
  snprintf(body, sizeof(body), "#!/bin/sh\necho $$ > %s\nexec sleep 30\n",
           pidfile);
  write_script("silent", body, 0755, path, sizeof(path));
  base_options(&o, path);
  o.handshake_timeout_ms = 300;
  t0 = soupc__plugin_now_ms();
  expect_launch_error(&o, SOUPC_ERR_DEADLINE,
                      "timeout while waiting for plugin to start (300 ms)");
  assert_true(soupc__plugin_now_ms() - t0 < 5000);
  assert_process_gone(read_pid(pidfile));
  unlink(pidfile);
  unlink(path);
}

/* Collects GRPCStdio data and stderr lines. */
struct output {
  pthread_mutex_t mu;
  char stdio_out[4096];
  char stdio_err[4096];
  char lines[8192];
};

static void append(char *buf, size_t cap, const char *data, size_t len) {
  size_t used = strlen(buf);

  if (len > cap - 1 - used) {
    len = cap - 1 - used;
  }
  memcpy(buf + used, data, len);
  buf[used + len] = '\0';
}

static void on_output(soupc_plugin_output kind, const char *data, size_t len,
                      void *ud) {
  struct output *out = ud;

  pthread_mutex_lock(&out->mu);
  if (kind == SOUPC_PLUGIN_OUTPUT_STDIO_STDOUT) {
    append(out->stdio_out, sizeof(out->stdio_out), data, len);
  } else if (kind == SOUPC_PLUGIN_OUTPUT_STDIO_STDERR) {
    append(out->stdio_err, sizeof(out->stdio_err), data, len);
  } else {
    append(out->lines, sizeof(out->lines), data, len);
    append(out->lines, sizeof(out->lines), "\n", 1);
  }
  pthread_mutex_unlock(&out->mu);
}

static int output_has(struct output *out, int which, const char *needle) {
  int i, found = 0;

  for (i = 0; i < 300 && !found; i++) {
    pthread_mutex_lock(&out->mu);
    found = strstr(which == 0   ? out->stdio_out
                   : which == 1 ? out->stdio_err
                                : out->lines,
                   needle) != NULL;
    pthread_mutex_unlock(&out->mu);
    if (!found) {
      nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
  }
  return found;
}

static void cookie_mismatch_prints_go_plugins_text_and_exits_1(void **state) {
  soupc_plugin_host_options o;
  struct output out;

  (void)state;
  memset(&out, 0, sizeof(out));
  pthread_mutex_init(&out.mu, NULL);
  base_options(&o, self_exe);
  o.cookie_value = "wrong";
  o.on_output = on_output;
  o.output_user_data = &out;
  {
    const char *env[] = {"SOUPC_TEST_AS_PLUGIN=1", NULL};
    o.env = env;
    expect_launch_error(
        &o, SOUPC_ERR_PLUGIN_EXITED,
        "(exit status 1); last stderr line: load any plugins automatically");
  }
  assert_string_equal(out.lines, SOUPC__PLUGIN_COOKIE_MISMATCH_TEXT);
  pthread_mutex_destroy(&out.mu);
}

static void invalid_tls_options_fail_before_the_handshake(void **state) {
  soupc_plugin_host_options o;
  const char *env1[] = {"SOUPC_TEST_AS_PLUGIN=1", "TEST_TLS_MODE=bogus", NULL};
  const char *env2[] = {"SOUPC_TEST_AS_PLUGIN=1", "TEST_TLS_MODE=auto",
                        "TEST_TLS_CURVE=secp999r1", NULL};

  (void)state;
  base_options(&o, self_exe);
  o.env = env1;
  expect_launch_error(
      &o, SOUPC_ERR_PLUGIN_EXITED,
      "(exit status 1); last stderr line: test plugin: unknown TLS mode "
      "\"bogus\"");
  o.env = env2;
  expect_launch_error(&o, SOUPC_ERR_PLUGIN_EXITED,
                      "unsupported curve: secp999r1");
}

/* ------------------------------------------------------------------ */
/* Round trips                                                         */
/* ------------------------------------------------------------------ */

static const char *extra_env[4]; /* more "K=V" for the next launch_self */

/* Non-zero: launch_self() asks for multiplexing (GRPCBrokerMultiplex). */
static int launch_multiplex;

static soupc_plugin_host *launch_self(struct output *out, const char *tls_mode,
                                      int automtls, const char *network) {
  soupc_plugin_host_options o;
  soupc_plugin_host *h = NULL;
  soupc_status st;
  char mode_env[64], net_env[64];
  const char *env[8] = {"SOUPC_TEST_AS_PLUGIN=1", NULL};
  int n = 1;

  for (int i = 0; i < 4 && extra_env[i] != NULL; i++) {
    env[n++] = extra_env[i];
  }
  if (tls_mode != NULL) {
    snprintf(mode_env, sizeof(mode_env), "TEST_TLS_MODE=%s", tls_mode);
    env[n++] = mode_env;
  }
  if (network != NULL) {
    snprintf(net_env, sizeof(net_env), "TEST_NETWORK=%s", network);
    env[n++] = net_env;
  }
  base_options(&o, self_exe);
  o.env = env;
  o.no_automtls = !automtls;
  o.on_output = on_output;
  o.output_user_data = out;
  o.multiplex = launch_multiplex;
  if (soupc_plugin_host_launch(&h, &o, &st) != 0) {
    fail_msg("launch: %s", st.message);
  }
  live_host = h;
  return h;
}

static void call_echo(soupc_plugin_host *h) {
  uint8_t *resp = NULL;
  size_t len = 0;
  soupc_status st;
  int code;

  code =
      soupc_channel_unary(soupc_plugin_host_channel(h), "/test.Test/Echo",
                          (const uint8_t *)"ping", 4, &resp, &len, 5000, &st);
  if (code != 0) {
    fail_msg("Echo: %s", st.message);
  }
  assert_int_equal(len, 4);
  assert_memory_equal(resp, "ping", 4);
  free(resp);
}

static void round_trip(const char *tls_mode, int automtls, const char *network,
                       int expect_cert) {
  struct output out;
  soupc_plugin_host *h;
  soupc_status st;
  char *sock = NULL;
  struct stat sb;
  pid_t pid;
  int code, fds;

  memset(&out, 0, sizeof(out));
  pthread_mutex_init(&out.mu, NULL);
  fds = count_fds();
  h = launch_self(&out, tls_mode, automtls, network);
  pid = soupc_plugin_host_pid(h);
  assert_true(pid > 0);
  assert_int_equal(soupc_plugin_host_handshake(h)->cert_pem != NULL,
                   expect_cert);
  if (strcmp(soupc_plugin_host_handshake(h)->network, "tcp") == 0) {
    /* §2.3: inside the PLUGIN_MIN_PORT..PLUGIN_MAX_PORT the host set */
    int port = (int)strtol(
        strrchr(soupc_plugin_host_handshake(h)->address, ':') + 1, NULL, 10);

    assert_true(port >= 10000 && port <= 25000);
  }
  if (strcmp(soupc_plugin_host_handshake(h)->network, "unix") == 0) {
    sock = strdup(soupc_plugin_host_handshake(h)->address);
    assert_int_equal(stat(sock, &sb), 0);
    assert_true(S_ISSOCK(sb.st_mode));
  }
  assert_int_equal(soupc_plugin_host_ping(h, 5000, &st), 0);
  call_echo(h);
  code = soupc_channel_unary(soupc_plugin_host_channel(h), "/test.Test/Print",
                             (const uint8_t *)"hello from the plugin\n", 22,
                             NULL, NULL, 5000, &st);
  assert_int_equal(code, 0);
  assert_true(output_has(&out, 0, "hello from the plugin\n"));
  assert_true(output_has(&out, 1, "to-stderr\n"));
  /* hclog JSON lines on the real stderr (§2.6) */
  assert_true(output_has(&out, 2, "\"@message\":\"plugin serving: "));
  /* an unknown health service is NOT_FOUND */
  {
    Grpc__Health__V1__HealthCheckRequest req =
        GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    uint8_t buf[64];
    size_t n;

    req.service = (char *)"nope";
    n = grpc__health__v1__health_check_request__pack(&req, buf);
    assert_int_equal(soupc_channel_unary(soupc_plugin_host_channel(h),
                                         "/grpc.health.v1.Health/Check", buf, n,
                                         NULL, NULL, 5000, &st),
                     SOUPC_ERR_STATUS);
    assert_int_equal(st.code, SOUPC_GRPC_NOT_FOUND);
  }
  live_host = NULL;
  assert_int_equal(soupc_plugin_host_kill(h), 0);
  assert_process_gone(pid);
  if (sock != NULL) {
    assert_int_equal(stat(sock, &sb), -1);
    free(sock);
  }
  /* no pipe, socket or eventfd of the session stays open */
  assert_int_equal(count_fds(), fds);
  pthread_mutex_destroy(&out.mu);
}

static void plaintext_round_trip_leaves_nothing_behind(void **state) {
  (void)state;
  round_trip(NULL, 0, NULL, 0);
}

static void automtls_round_trip_leaves_nothing_behind(void **state) {
  (void)state;
  round_trip(NULL, 1, NULL, 1);
}

static void auto_tls_without_client_cert_round_trips_over_tcp(void **state) {
  (void)state;
  round_trip("auto", 0, "tcp", 1);
}

static void rsa_auto_tls_round_trips(void **state) {
  (void)state;
  extra_env[0] = "TEST_TLS_KEY_TYPE=rsa";
  round_trip("auto", 0, NULL, 1);
  extra_env[0] = NULL;
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");

  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static void manual_tls_serves_the_given_certificate(void **state) {
  struct output out;
  soupc_plugin_host *h;
  soupc_cert_options co;
  soupc_status st;
  char *cert = NULL, *key = NULL;
  uint8_t *der = NULL;
  size_t der_len = 0;
  char cert_path[4200], key_path[4200];
  char cert_env[4300], key_env[4300];
  pid_t pid;

  (void)state;
  memset(&out, 0, sizeof(out));
  pthread_mutex_init(&out.mu, NULL);
  co = (soupc_cert_options)SOUPC_CERT_OPTIONS_INIT;
  co.curve = SOUPC_CURVE_P256;
  assert_int_equal(soupc_cert_generate(&cert, &key, &co, &st), 0);
  snprintf(cert_path, sizeof(cert_path), "%s/manual.crt", tmp_root);
  snprintf(key_path, sizeof(key_path), "%s/manual.key", tmp_root);
  write_file(cert_path, cert);
  write_file(key_path, key);
  snprintf(cert_env, sizeof(cert_env), "TEST_CERT_FILE=%s", cert_path);
  snprintf(key_env, sizeof(key_env), "TEST_KEY_FILE=%s", key_path);
  extra_env[0] = cert_env;
  extra_env[1] = key_env;
  h = launch_self(&out, "manual", 0, NULL);
  extra_env[0] = extra_env[1] = NULL;
  pid = soupc_plugin_host_pid(h);
  /* rpc-spec.md §3.1: unlike soup-go, the served cert is published */
  assert_int_equal(soupc_cert_pem_to_der(&der, &der_len, cert), 0);
  assert_int_equal(soupc_plugin_host_handshake(h)->cert_der_len, der_len);
  assert_memory_equal(soupc_plugin_host_handshake(h)->cert_der, der, der_len);
  call_echo(h);
  live_host = NULL;
  assert_int_equal(soupc_plugin_host_kill(h), 0);
  assert_process_gone(pid);
  unlink(cert_path);
  unlink(key_path);
  free(der);
  free(cert);
  free(key);
  pthread_mutex_destroy(&out.mu);
}

static void
manual_tls_with_unreadable_file_fails_before_the_handshake(void **state) {
  soupc_plugin_host_options o;
  const char *env[] = {"SOUPC_TEST_AS_PLUGIN=1", "TEST_TLS_MODE=manual",
                       "TEST_CERT_FILE=/nonexistent/c.pem",
                       "TEST_KEY_FILE=/nonexistent/k.pem", NULL};

  (void)state;
  base_options(&o, self_exe);
  o.env = env;
  expect_launch_error(&o, SOUPC_ERR_PLUGIN_EXITED,
                      "cannot read /nonexistent/c.pem");
}

struct watch {
  pthread_mutex_t mu;
  int status; /* last HealthCheckResponse status, or -1 */
};

static void watch_message(soupc_client_stream *stream, const uint8_t *msg,
                          size_t len, void *ud) {
  struct watch *w = ud;
  Grpc__Health__V1__HealthCheckResponse *r;

  (void)stream;
  r = grpc__health__v1__health_check_response__unpack(NULL, len, msg);
  if (r != NULL) {
    pthread_mutex_lock(&w->mu);
    w->status = (int)r->status;
    pthread_mutex_unlock(&w->mu);
    grpc__health__v1__health_check_response__free_unpacked(r, NULL);
  }
}

static void watch_closed(soupc_client_stream *stream,
                         const soupc_status *status, void *ud) {
  (void)stream;
  (void)status;
  (void)ud;
}

static void health_watch_reports_serving_then_holds_the_stream(void **state) {
  Grpc__Health__V1__HealthCheckRequest req =
      GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
  struct output out;
  struct watch w = {PTHREAD_MUTEX_INITIALIZER, -1};
  soupc_client_stream *stream = NULL;
  soupc_plugin_host *h;
  uint8_t buf[32];
  size_t n;
  int i, status = -1;

  (void)state;
  memset(&out, 0, sizeof(out));
  pthread_mutex_init(&out.mu, NULL);
  h = launch_self(&out, NULL, 0, NULL);
  req.service = (char *)"plugin";
  n = grpc__health__v1__health_check_request__pack(&req, buf);
  assert_int_equal(soupc_client_stream_open(&stream,
                                            soupc_plugin_host_channel(h),
                                            "/grpc.health.v1.Health/Watch",
                                            watch_message, watch_closed, &w),
                   0);
  assert_int_equal(soupc_client_stream_send(stream, buf, n), 0);
  assert_int_equal(soupc_client_stream_close_send(stream), 0);
  for (i = 0; i < 300 && status < 0; i++) {
    pthread_mutex_lock(&w.mu);
    status = w.status;
    pthread_mutex_unlock(&w.mu);
    nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
  }
  assert_int_equal(
      status, GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING);
  soupc_client_stream_free(stream);
  live_host = NULL;
  assert_int_equal(soupc_plugin_host_kill(h), 0);
  pthread_mutex_destroy(&out.mu);
}

/* §2.4/§5: asked for multiplexing (GRPCBrokerMultiplex), the plugin
 * answers "|true" and every gRPC connection is a yamux stream over the
 * host's one connection: app calls, Health, StreamStdio and Shutdown all go
 * through it, with and without AutoMTLS. A plugin that cannot multiplex is
 * refused with go-plugin's text. */
static void multiplexed_session_carries_every_call(void **state) {
  struct output out;
  soupc_plugin_host *h;
  soupc_plugin_host_options o;
  soupc_status st;
  char script[4200];

  (void)state;
  for (int automtls = 0; automtls < 2; automtls++) {
    memset(&out, 0, sizeof(out));
    pthread_mutex_init(&out.mu, NULL);
    launch_multiplex = 1;
    h = launch_self(&out, NULL, automtls, NULL);
    launch_multiplex = 0;
    assert_int_equal(soupc_plugin_host_handshake(h)->mux, 1);
    call_echo(h);
    assert_int_equal(soupc_plugin_host_ping(h, 5000, &st), 0);
    call_echo(h);
    live_host = NULL;
    assert_int_equal(soupc_plugin_host_kill(h), 0);
    pthread_mutex_destroy(&out.mu);
  }
  /* Six fields: no multiplexing. */
  write_script("nomux", "#!/bin/sh\necho '1|1|unix|/nonexistent|grpc|'\n", 0700,
               script, sizeof(script));
  base_options(&o, script);
  o.multiplex = 1;
  expect_launch_error(&o, SOUPC_ERR_UNSUPPORTED,
                      "plugin does not support the feature");
}

/* §2.6: with log_stderr the plugin's hclog JSON lines are logged through
 * our logger at their level, module = the plugin's basename. */
static void log_stderr_relogs_hclog_lines_at_their_level(void **state) {
  soupc_plugin_host_options o;
  soupc_plugin_host *h = NULL;
  soupc_status st;
  const char *env[] = {"SOUPC_TEST_AS_PLUGIN=1", NULL};
  const char *base = strrchr(self_exe, '/') + 1;
  char path[4200], expect[512], buf[16384];
  int saved, fd;
  ssize_t n;

  (void)state;
  snprintf(path, sizeof(path), "%s/relog.txt", tmp_root);
  fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  assert_true(fd >= 0);
  saved = dup(STDERR_FILENO);
  dup2(fd, STDERR_FILENO);
  soupc_log_configure(SOUPC_LOG_INFO, SOUPC_LOG_TEXT);
  base_options(&o, self_exe);
  o.env = env;
  o.no_automtls = 1;
  o.log_stderr = 1;
  if (soupc_plugin_host_launch(&h, &o, &st) == 0) {
    soupc_plugin_host_kill(h);
  }
  soupc_log_configure(SOUPC_LOG_WARN, SOUPC_LOG_TEXT);
  dup2(saved, STDERR_FILENO);
  close(saved);
  n = pread(fd, buf, sizeof(buf) - 1, 0);
  close(fd);
  unlink(path);
  assert_true(n > 0);
  buf[n] = '\0';
  snprintf(expect, sizeof(expect),
           "[INFO] %s: plugin serving: network=unix address=", base);
  if (strstr(buf, expect) == NULL || strstr(buf, ": @module=plugin") == NULL) {
    fail_msg("relogged lines lack \"%s\": %s", expect, buf);
  }
  /* debug lines of the plugin stay below our level */
  assert_null(strstr(buf, "plugin stopped"));
}

static void controller_shutdown_exits_0_within_2_seconds(void **state) {
  struct output out;
  soupc_plugin_host *h;
  soupc_status st;
  pid_t pid;

  (void)state;
  memset(&out, 0, sizeof(out));
  pthread_mutex_init(&out.mu, NULL);
  h = launch_self(&out, NULL, 1, NULL);
  pid = soupc_plugin_host_pid(h);
  assert_int_equal(soupc_channel_unary(soupc_plugin_host_channel(h),
                                       "/plugin.GRPCController/Shutdown", NULL,
                                       0, NULL, NULL, 2000, &st),
                   0);
  assert_true(exits_within(pid, 2000));
  /* exited by itself with status 0 */
  live_host = NULL;
  assert_int_equal(soupc_plugin_host_kill(h), 0);
  assert_process_gone(pid);
  pthread_mutex_destroy(&out.mu);
}

static void sigint_is_ignored_and_sigterm_stops_cleanly(void **state) {
  struct output out;
  soupc_plugin_host *h;
  soupc_status st;
  pid_t pid;

  (void)state;
  memset(&out, 0, sizeof(out));
  pthread_mutex_init(&out.mu, NULL);
  h = launch_self(&out, NULL, 0, NULL);
  pid = soupc_plugin_host_pid(h);
  assert_int_equal(kill(pid, SIGINT), 0);
  assert_false(exits_within(pid, 200));
  assert_int_equal(soupc_plugin_host_ping(h, 5000, &st), 0);
  assert_int_equal(kill(pid, SIGTERM), 0);
  assert_true(exits_within(pid, 2000));
  live_host = NULL;
  assert_int_equal(soupc_plugin_host_kill(h), 0);
  assert_process_gone(pid);
  pthread_mutex_destroy(&out.mu);
}

/* An AutoMTLS plugin trusts only the PLUGIN_CLIENT_CERT it was started
 * with: reattaching works with that pair and is refused without it. */
static void
reattach_to_automtls_plugin_needs_the_launch_client_cert(void **state) {
  soupc_plugin_host_options o, ro;
  soupc_plugin_host *again = NULL;
  const soupc_plugin_handshake *hs;
  soupc_cert_options co;
  soupc_status st;
  char *cert = NULL, *key = NULL, *b64 = NULL;
  char line[4096];
  const char *env[] = {"SOUPC_TEST_AS_PLUGIN=1", NULL};
  pid_t pid;

  (void)state;
  co = (soupc_cert_options)SOUPC_CERT_OPTIONS_INIT;
  co.curve = SOUPC_CURVE_P384;
  co.is_ca = 1;
  assert_int_equal(soupc_cert_generate(&cert, &key, &co, &st), 0);
  base_options(&o, self_exe);
  o.env = env;
  o.client_cert_pem = cert;
  o.client_key_pem = key;
  if (soupc_plugin_host_launch(&live_host, &o, &st) != 0) {
    fail_msg("launch: %s", st.message);
  }
  pid = soupc_plugin_host_pid(live_host);
  hs = soupc_plugin_host_handshake(live_host);
  assert_non_null(hs->cert_der);
  assert_int_equal(
      soupc_base64_encode_unpadded(&b64, hs->cert_der, hs->cert_der_len), 0);
  snprintf(line, sizeof(line), "1|%d|%s|%s|grpc|%s", hs->app_version,
           hs->network, hs->address, b64);

  /* with the launch pair */
  ro = (soupc_plugin_host_options)SOUPC_PLUGIN_HOST_OPTIONS_INIT;
  ro.client_cert_pem = cert;
  ro.client_key_pem = key;
  ro.no_stdio_stream = 1;
  if (soupc_plugin_host_reattach(&again, line, &ro, &st) != 0) {
    fail_msg("reattach: %s", st.message);
  }
  assert_int_equal(soupc_plugin_host_pid(again), 0);
  call_echo(again);
  soupc_plugin_host_close(again); /* no Shutdown: the plugin lives on */
  again = NULL;
  call_echo(live_host);

  /* with a fresh generated cert the plugin refuses us */
  ro = (soupc_plugin_host_options)SOUPC_PLUGIN_HOST_OPTIONS_INIT;
  ro.no_stdio_stream = 1;
  ro.connect_timeout_ms = 3000;
  if (soupc_plugin_host_reattach(&again, line, &ro, &st) == 0) {
    int code =
        soupc_channel_unary(soupc_plugin_host_channel(again), "/test.Test/Echo",
                            (const uint8_t *)"x", 1, NULL, NULL, 3000, &st);
    soupc_plugin_host_close(again);
    assert_int_not_equal(code, 0);
  }

  assert_int_equal(soupc_plugin_host_kill(live_host), 0);
  live_host = NULL;
  assert_process_gone(pid);
  free(b64);
  free(cert);
  free(key);
}

/* ------------------------------------------------------------------ */
/* Embedding, SecureConfig, SkipHostEnv, ReattachConfig                */
/* ------------------------------------------------------------------ */

/* plugin.h defaults: fd 1/2 and the signal dispositions stay the
 * process's own. */
static void embedded_serve_leaves_signals_and_stdio_alone(void **state) {
  struct output out;
  soupc_plugin_host *h;
  soupc_status st;
  pid_t pid;

  (void)state;
  memset(&out, 0, sizeof(out));
  pthread_mutex_init(&out.mu, NULL);
  extra_env[0] = "TEST_EMBEDDED=1";
  h = launch_self(&out, NULL, 0, NULL);
  extra_env[0] = NULL;
  pid = soupc_plugin_host_pid(h);
  assert_int_equal(
      soupc_channel_unary(soupc_plugin_host_channel(h), "/test.Test/Print",
                          (const uint8_t *)"raw\n", 4, NULL, NULL, 5000, &st),
      0);
  /* fd 2 is still the stderr pipe: the line arrives as a stderr line, not
   * on GRPCStdio. */
  assert_true(output_has(&out, 2, "to-stderr\n"));
  assert_false(output_has(&out, 1, "to-stderr"));
  /* SIGINT keeps its default action: the plugin dies of it. */
  assert_int_equal(kill(pid, SIGINT), 0);
  assert_true(exits_within(pid, 2000));
  live_host = NULL;
  assert_int_equal(soupc_plugin_host_kill(h), SOUPC_ERR_PLUGIN_EXITED);
  assert_process_gone(pid);
  pthread_mutex_destroy(&out.mu);
}

static void sha256_file(uint8_t md[32], const char *path) {
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  unsigned char buf[65536];
  unsigned int len = 0;
  FILE *f = fopen(path, "rb");
  size_t n;

  assert_non_null(f);
  EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
    EVP_DigestUpdate(ctx, buf, n);
  }
  fclose(f);
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  assert_int_equal(len, 32);
}

/* go-plugin SecureConfig: the right SHA-256 launches; a wrong one refuses
 * before exec, so the plugin never runs. */
static void
secure_checksum_launches_right_binary_and_refuses_wrong(void **state) {
  soupc_plugin_host_options o;
  soupc_plugin_host *h = NULL;
  const char *env[] = {"SOUPC_TEST_AS_PLUGIN=1", NULL};
  char path[4200], marker[4200], body[4400];
  uint8_t md[32];
  soupc_status st;
  struct stat sb;
  pid_t pid;

  (void)state;
  sha256_file(md, self_exe);
  base_options(&o, self_exe);
  o.env = env;
  o.no_automtls = 1;
  o.secure_checksum = md;
  o.secure_checksum_len = sizeof(md);
  if (soupc_plugin_host_launch(&h, &o, &st) != 0) {
    fail_msg("launch: %s", st.message);
  }
  pid = soupc_plugin_host_pid(h);
  assert_int_equal(soupc_plugin_host_kill(h), 0);
  assert_process_gone(pid);

  /* a script that would leave a marker if it ever ran */
  snprintf(marker, sizeof(marker), "%s/ran", tmp_root);
  snprintf(body, sizeof(body), "#!/bin/sh\ntouch %s\nexit 3\n", marker);
  write_script("checked", body, 0755, path, sizeof(path));
  base_options(&o, path);
  o.secure_checksum = md; /* the test binary's, not the script's */
  o.secure_checksum_len = sizeof(md);
  expect_launch_error(&o, SOUPC_ERR_CHECKSUM, "checksums did not match");
  o.secure_checksum_len = 0;
  expect_launch_error(&o, SOUPC_ERR_INVALID_ARGUMENT, "no checksum provided");
  assert_int_equal(stat(marker, &sb), -1);
  unlink(path);
}

/* go-plugin SkipHostEnv: our variables stay ours; go-plugin's and the
 * caller's still reach the plugin. */
static void skip_host_env_passes_only_plugin_variables(void **state) {
  soupc_plugin_host_options o;
  const char *env[] = {"EXTRA_FOR_PLUGIN=yes", NULL};
  char path[4200], dump[4200], body[4400], *text = NULL;
  size_t len = 0;
  FILE *f;

  (void)state;
  setenv("SOUPC_TEST_HOST_ONLY", "secret", 1);
  snprintf(dump, sizeof(dump), "%s/env.txt", tmp_root);
  snprintf(body, sizeof(body), "#!/bin/sh\nexport -p > %s\nexit 3\n", dump);
  write_script("envdump", body, 0755, path, sizeof(path));
  for (int skip = 0; skip < 2; skip++) {
    base_options(&o, path);
    o.env = env;
    o.skip_host_env = skip;
    o.no_automtls = 1;
    expect_launch_error(&o, SOUPC_ERR_PLUGIN_EXITED, "exit status 3");
    f = fopen(dump, "r");
    assert_non_null(f);
    assert_true(getdelim(&text, &len, '\0', f) > 0);
    fclose(f);
    assert_int_equal(strstr(text, "SOUPC_TEST_HOST_ONLY") != NULL, !skip);
    assert_non_null(strstr(text, "PLUGIN_PROTOCOL_VERSIONS"));
    assert_non_null(strstr(text, COOKIE_KEY));
    assert_non_null(strstr(text, "EXTRA_FOR_PLUGIN"));
    unlink(dump);
  }
  free(text);
  unsetenv("SOUPC_TEST_HOST_ONLY");
  unlink(path);
}

/* go-plugin ReattachConfig: by pid + network + address; kill() then waits
 * for that pid (not our child) to exit. */
static void reattach_by_config_manages_the_pid(void **state) {
  soupc_plugin_host_options o;
  soupc_plugin_host *again = NULL;
  soupc_plugin_reattach rc = SOUPC_PLUGIN_REATTACH_INIT;
  struct output out;
  soupc_status st;
  pid_t pid;

  (void)state;
  memset(&out, 0, sizeof(out));
  pthread_mutex_init(&out.mu, NULL);
  launch_self(&out, NULL, 0, NULL);
  pid = soupc_plugin_host_pid(live_host);
  assert_int_equal(soupc_plugin_host_reattach_info(live_host, &rc), 0);
  assert_int_equal(rc.pid, pid);
  assert_string_equal(rc.protocol, "grpc");
  assert_null(rc.server_cert_pem);

  o = (soupc_plugin_host_options)SOUPC_PLUGIN_HOST_OPTIONS_INIT;
  o.no_stdio_stream = 1;
  /* a pid that does not exist */
  {
    soupc_plugin_reattach bad = rc;

    bad.pid = 0x3ffffff0;
    assert_int_equal(soupc_plugin_host_reattach_config(&again, &bad, &o, &st),
                     SOUPC_ERR_NOT_FOUND);
    assert_non_null(strstr(st.message, "reattachment process not found"));
    bad.pid = pid;
    bad.protocol = "netrpc";
    assert_int_equal(soupc_plugin_host_reattach_config(&again, &bad, &o, &st),
                     SOUPC_ERR_UNSUPPORTED);
  }
  if (soupc_plugin_host_reattach_config(&again, &rc, &o, &st) != 0) {
    fail_msg("reattach: %s", st.message);
  }
  assert_int_equal(soupc_plugin_host_pid(again), pid);
  call_echo(again);
  /* Shutdown, then the pid exits within the grace period. */
  assert_int_equal(soupc_plugin_host_kill(again), 0);
  assert_true(exits_within(pid, 100));
  /* the launching host's ping now fails with a soupc_err */
  {
    int rv = soupc_plugin_host_ping(live_host, 2000, &st);

    assert_int_not_equal(st.code, SOUPC_GRPC_OK);
    assert_int_equal(rv, soupc__plugin_err_from_grpc(st.code));
    assert_int_not_equal(rv, 0);
  }
  soupc_plugin_host_kill(live_host);
  live_host = NULL;
  assert_process_gone(pid);
  pthread_mutex_destroy(&out.mu);
}

/* ------------------------------------------------------------------ */
/* Broker: bad input                                                   */
/* ------------------------------------------------------------------ */

struct stream_end {
  pthread_mutex_t mu;
  int done;
  soupc_status st;
};

static void ignore_msg(soupc_client_stream *s, const uint8_t *m, size_t n,
                       void *ud) {
  (void)s;
  (void)m;
  (void)n;
  (void)ud;
}

static void record_end(soupc_client_stream *s, const soupc_status *st,
                       void *ud) {
  struct stream_end *e = ud;

  (void)s;
  pthread_mutex_lock(&e->mu);
  e->st = *st;
  e->done = 1;
  pthread_mutex_unlock(&e->mu);
}

/* Two asynchronous dials whose first callback blocks until the second one
 * has run: the broker's dial threads must not queue a dial behind another
 * one's callback. */
struct dial_probe {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int done[2];
  int failed_in_time[2]; /* NULL channel, "timeout waiting ..." */
  int first_saw_second;
};

static void probe_record(struct dial_probe *p, int i, soupc_channel *ch,
                         const soupc_status *st) {
  p->failed_in_time[i] =
      ch == NULL &&
      strstr(st->message, "timeout waiting for connection info") != NULL;
  soupc_channel_free(ch);
}

static void probe_first(soupc_channel *ch, const soupc_status *st, void *ud) {
  struct dial_probe *p = ud;
  struct timespec ts;

  pthread_mutex_lock(&p->mu);
  probe_record(p, 0, ch, st);
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += 8;
  while (!p->done[1]) {
    if (pthread_cond_timedwait(&p->cv, &p->mu, &ts) != 0) {
      break;
    }
  }
  p->first_saw_second = p->done[1];
  p->done[0] = 1;
  pthread_cond_broadcast(&p->cv);
  pthread_mutex_unlock(&p->mu);
}

static void probe_second(soupc_channel *ch, const soupc_status *st, void *ud) {
  struct dial_probe *p = ud;

  pthread_mutex_lock(&p->mu);
  probe_record(p, 1, ch, st);
  p->done[1] = 1;
  pthread_cond_broadcast(&p->cv);
  pthread_mutex_unlock(&p->mu);
}

/* An id nobody announced fails after go-plugin's 5 s, asynchronous dials
 * each on a thread of their own (two at once here). A ConnInfo that does
 * not decode ends its broker stream with a clear INVALID_ARGUMENT; as in
 * go-plugin, a second StartStream replaces the first, so the host's own
 * broker now reports "broker closed" at once. The plugin keeps serving
 * throughout. */
static void
broker_bad_input_gets_clear_errors_and_serving_goes_on(void **state) {
  static const uint8_t garbage[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f};
  struct stream_end end = {PTHREAD_MUTEX_INITIALIZER, 0, {0, ""}};
  soupc_client_stream *stream = NULL;
  soupc_channel *ch = NULL;
  soupc_plugin_broker *br;
  struct output out;
  soupc_status st;
  int64_t t0;
  int done = 0;

  (void)state;
  memset(&out, 0, sizeof(out));
  pthread_mutex_init(&out.mu, NULL);
  launch_self(&out, NULL, 0, NULL);
  br = soupc_plugin_host_broker(live_host);
  t0 = soupc__plugin_now_ms();
  {
    struct dial_probe p = {
        PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, {0, 0}, {0, 0}, 0};
    struct timespec ts;

    assert_int_equal(soupc_plugin_broker_dial_async(br, 79, probe_first, &p),
                     0);
    assert_int_equal(soupc_plugin_broker_dial_async(br, 80, probe_second, &p),
                     0);
    assert_int_equal(soupc_plugin_broker_dial(br, 77, &ch, &st),
                     SOUPC_ERR_DEADLINE);
    assert_true(soupc__plugin_now_ms() - t0 >= 4900);
    assert_non_null(strstr(st.message, "timeout waiting for connection info"));
    assert_null(ch);
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 10;
    pthread_mutex_lock(&p.mu);
    while (!(p.done[0] && p.done[1])) {
      if (pthread_cond_timedwait(&p.cv, &p.mu, &ts) != 0) {
        break;
      }
    }
    pthread_mutex_unlock(&p.mu);
    assert_true(p.done[0] && p.done[1]);
    assert_true(p.failed_in_time[0] && p.failed_in_time[1]);
    assert_true(p.first_saw_second);
    /* All three waited at once. */
    assert_true(soupc__plugin_now_ms() - t0 < 8000);
  }
  assert_int_equal(soupc_plugin_broker_close_id(br, 77), SOUPC_ERR_NOT_FOUND);

  assert_int_equal(
      soupc_client_stream_open(&stream, soupc_plugin_host_channel(live_host),
                               "/plugin.GRPCBroker/StartStream", ignore_msg,
                               record_end, &end),
      0);
  assert_int_equal(soupc_client_stream_send(stream, garbage, sizeof(garbage)),
                   0);
  for (int i = 0; i < 500 && !done; i++) {
    pthread_mutex_lock(&end.mu);
    done = end.done;
    pthread_mutex_unlock(&end.mu);
    if (!done) {
      nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
  }
  assert_true(done);
  assert_int_equal(end.st.code, SOUPC_GRPC_INVALID_ARGUMENT);
  assert_non_null(strstr(end.st.message, "malformed plugin.ConnInfo"));
  soupc_client_stream_free(stream);
  t0 = soupc__plugin_now_ms();
  assert_int_equal(soupc_plugin_broker_dial(br, 78, &ch, &st),
                   SOUPC_ERR_CLOSED);
  assert_true(soupc__plugin_now_ms() - t0 < 1000);
  assert_non_null(strstr(st.message, "broker closed"));
  assert_int_equal(soupc_plugin_host_ping(live_host, 5000, &st), 0);
  call_echo(live_host);
  assert_int_equal(soupc_plugin_host_kill(live_host), 0);
  live_host = NULL;
  pthread_mutex_destroy(&out.mu);
}

int main(int argc, char **argv) {
  ssize_t n;
  int rv;

  (void)argc;
  (void)argv;
  if (getenv("SOUPC_TEST_AS_PLUGIN") != NULL) {
    return run_as_plugin();
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(missing_binary_is_not_found, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(non_executable_file_is_rejected, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(
          exit_before_handshake_reports_status_and_last_stderr_line, setup,
          teardown),
      cmocka_unit_test_setup_teardown(garbled_handshake_line_kills_the_plugin,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(wrong_app_version_is_incompatible, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(silent_plugin_times_out_and_is_killed,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(
          cookie_mismatch_prints_go_plugins_text_and_exits_1, setup, teardown),
      cmocka_unit_test_setup_teardown(
          invalid_tls_options_fail_before_the_handshake, setup, teardown),
      cmocka_unit_test_setup_teardown(
          plaintext_round_trip_leaves_nothing_behind, setup, teardown),
      cmocka_unit_test_setup_teardown(automtls_round_trip_leaves_nothing_behind,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(
          auto_tls_without_client_cert_round_trips_over_tcp, setup, teardown),
      cmocka_unit_test_setup_teardown(rsa_auto_tls_round_trips, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(manual_tls_serves_the_given_certificate,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(
          manual_tls_with_unreadable_file_fails_before_the_handshake, setup,
          teardown),
      cmocka_unit_test_setup_teardown(
          health_watch_reports_serving_then_holds_the_stream, setup, teardown),
      cmocka_unit_test_setup_teardown(multiplexed_session_carries_every_call,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(
          log_stderr_relogs_hclog_lines_at_their_level, setup, teardown),
      cmocka_unit_test_setup_teardown(
          controller_shutdown_exits_0_within_2_seconds, setup, teardown),
      cmocka_unit_test_setup_teardown(
          sigint_is_ignored_and_sigterm_stops_cleanly, setup, teardown),
      cmocka_unit_test_setup_teardown(
          reattach_to_automtls_plugin_needs_the_launch_client_cert, setup,
          teardown),
      cmocka_unit_test_setup_teardown(
          embedded_serve_leaves_signals_and_stdio_alone, setup, teardown),
      cmocka_unit_test_setup_teardown(
          secure_checksum_launches_right_binary_and_refuses_wrong, setup,
          teardown),
      cmocka_unit_test_setup_teardown(
          skip_host_env_passes_only_plugin_variables, setup, teardown),
      cmocka_unit_test_setup_teardown(reattach_by_config_manages_the_pid, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(
          broker_bad_input_gets_clear_errors_and_serving_goes_on, setup,
          teardown),
  };

  n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
  assert_true(n > 0);
  self_exe[n] = '\0';
  if (mkdtemp(tmp_root) == NULL) {
    return 1;
  }
  snprintf(sock_root, sizeof(sock_root), "%s/sock", tmp_root);
  mkdir(sock_root, 0700);
  /* The host makes its socket directories under TMPDIR; the plugin it
   * launches inherits this too. */
  setenv("TMPDIR", sock_root, 1);
  soupc_log_configure(SOUPC_LOG_WARN, SOUPC_LOG_TEXT);
  rv = cmocka_run_group_tests(tests, NULL, NULL);
  rmdir(sock_root);
  rmdir(tmp_root);
  return rv;
}
