/* counter-host: launches counter-plugin through plugin.h's host API, calls
 * Counter.Add and Counter.Get, checks the plugin's stdout arrived through
 * GRPCStdio, and kills it; with AutoMTLS, without it, and over TCP. Also
 * reattaches to the plaintext plugin from its handshake line.
 * Exit status 0 when every check passed (it is the example's ctest). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "counter.pb-c.h"
#include "soupc/plugin.h"

static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;
static char out_buf[8192];
static size_t out_len;

static void on_output(soupc_plugin_output kind, const char *data, size_t len,
                      void *ud) {
  (void)ud;
  if (kind != SOUPC_PLUGIN_OUTPUT_STDIO_STDOUT) {
    return;
  }
  pthread_mutex_lock(&out_mu);
  if (len > sizeof(out_buf) - 1 - out_len) {
    len = sizeof(out_buf) - 1 - out_len;
  }
  memcpy(out_buf + out_len, data, len);
  out_len += len;
  out_buf[out_len] = '\0';
  pthread_mutex_unlock(&out_mu);
}

static int saw_output(const char *needle) {
  int i, found = 0;

  for (i = 0; i < 200 && !found; i++) {
    pthread_mutex_lock(&out_mu);
    found = strstr(out_buf, needle) != NULL;
    pthread_mutex_unlock(&out_mu);
    if (!found) {
      nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
  }
  return found;
}

/* On failure the plugin is still killed: no process or socket survives. */
#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "counter-host: %s:%d: check failed: %s (%s)\n",          \
              __FILE__, __LINE__, #cond, st.message);                          \
      soupc_plugin_host_kill(host);                                            \
      return 1;                                                                \
    }                                                                          \
  } while (0)

static int call(soupc_channel *ch, const char *method, long long delta,
                long long *value_out) {
  Counter__AddRequest add = COUNTER__ADD_REQUEST__INIT;
  Counter__CountReply *reply;
  uint8_t req[16], *resp = NULL;
  size_t req_len = 0, resp_len = 0;
  soupc_status st;
  int rv;

  if (strcmp(method, "/counter.Counter/Add") == 0) {
    add.delta = delta;
    req_len = counter__add_request__pack(&add, req);
  }
  rv = soupc_channel_unary(ch, method, req, req_len, &resp, &resp_len, 5000,
                           &st);
  if (rv != 0) {
    fprintf(stderr, "counter-host: %s: %s: %s\n", method,
            soupc_grpc_code_name(st.code), st.message);
    return -1;
  }
  reply = counter__count_reply__unpack(NULL, resp_len, resp);
  soupc_free(resp);
  if (reply == NULL) {
    return -1;
  }
  *value_out = reply->value;
  counter__count_reply__free_unpacked(reply, NULL);
  return 0;
}

static int session(const char *plugin, int automtls, const char *network) {
  const char *env[3] = {NULL, NULL, NULL};
  char net_env[64];
  soupc_plugin_host_options o;
  soupc_plugin_host *host = NULL, *again = NULL;
  const soupc_plugin_handshake *hs;
  soupc_status st = {0, ""};
  long long v = 0;
  char line[512];
  struct stat sb;
  char *sock = NULL;
  pid_t pid;

  o = (soupc_plugin_host_options)SOUPC_PLUGIN_HOST_OPTIONS_INIT;
  o.path = plugin;
  o.cookie_key = "COUNTER_PLUGIN";
  o.cookie_value = "counter";
  o.no_automtls = !automtls;
  o.on_output = on_output;
  o.forward_stderr = getenv("COUNTER_HOST_VERBOSE") != NULL;
  o.no_stdio_stream = getenv("COUNTER_HOST_NOSTDIO") != NULL;
  o.handshake_timeout_ms = 20000;
  if (network != NULL) {
    snprintf(net_env, sizeof(net_env), "COUNTER_NETWORK=%s", network);
    env[0] = net_env;
  }
  o.env = env;
  out_len = 0;
  out_buf[0] = '\0';
  if (soupc_plugin_host_launch(&host, &o, &st) != 0) {
    fprintf(stderr, "counter-host: launch: %s\n", st.message);
    return 1;
  }
  hs = soupc_plugin_host_handshake(host);
  pid = soupc_plugin_host_pid(host);
  CHECK(pid > 0);
  CHECK((hs->cert_pem != NULL) == (automtls != 0));
  CHECK(soupc_plugin_host_ping(host, 5000, &st) == 0);
  CHECK(call(soupc_plugin_host_channel(host), "/counter.Counter/Add", 2, &v) ==
        0);
  CHECK(v == 2);
  CHECK(call(soupc_plugin_host_channel(host), "/counter.Counter/Add", 3, &v) ==
        0);
  CHECK(call(soupc_plugin_host_channel(host), "/counter.Counter/Get", 0, &v) ==
        0);
  CHECK(v == 5);
  CHECK(saw_output("added, total is now 5"));

  if (!automtls) {
    /* Reattach from the handshake line; close leaves the plugin running. */
    snprintf(line, sizeof(line), "1|%d|%s|%s|grpc|", hs->app_version,
             hs->network, hs->address);
    CHECK(soupc_plugin_host_reattach(&again, line, &o, &st) == 0);
    CHECK(call(soupc_plugin_host_channel(again), "/counter.Counter/Get", 0,
               &v) == 0);
    CHECK(v == 5);
    soupc_plugin_host_close(again);
    CHECK(soupc_plugin_host_ping(host, 5000, &st) == 0);
  }

  if (strcmp(hs->network, "unix") == 0) {
    sock = strdup(hs->address);
    CHECK(sock != NULL);
    CHECK(stat(sock, &sb) == 0);
  }
  /* GRPCController/Shutdown: the plugin exits 0 within the 2 s grace. */
  {
    int krv = soupc_plugin_host_kill(host);

    host = NULL;
    CHECK(krv == 0);
  }
  CHECK(kill(pid, 0) == -1 && errno == ESRCH);
  if (sock != NULL) {
    CHECK(stat(sock, &sb) == -1 && errno == ENOENT);
    free(sock);
  }
  printf("counter-host: %s%s: ok\n", automtls ? "AutoMTLS" : "plaintext",
         network != NULL ? " over tcp" : "");
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3) {
    /* one session: automtls | plain | tcp */
    return session(argv[1], strcmp(argv[2], "plain") != 0,
                   strcmp(argv[2], "tcp") == 0 ? "tcp" : NULL);
  }
  if (argc != 2) {
    fprintf(stderr, "usage: counter-host PATH-TO-counter-plugin [automtls|"
                    "plain|tcp]\n");
    return 2;
  }
  if (session(argv[1], 1, NULL) != 0 || session(argv[1], 0, NULL) != 0 ||
      session(argv[1], 1, "tcp") != 0) {
    return 1;
  }
  return 0;
}
