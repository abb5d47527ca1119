/* A soup-c host for the GRPCBroker interop tests and bench/plugin_broker.py
 * (proto/callback.proto), built on plugin.h only. It launches the plugin
 * given after "--" and, in one session:
 *   1. serves Adder on a new broker id and asks the plugin (AddViaHost) to
 *      dial back into it: prints "add 2+3=5 (host Adder calls: 1)";
 *   2. asks the plugin to serve Echo on a broker id (StartEcho) and dials
 *      it: prints "echo: hello broker";
 *   3. with --dial-unknown, dials an id nobody serves: prints the error;
 * --multiplex asks for go-plugin's GRPCBrokerMultiplex (one connection,
 * yamux streams, knocks).
 *   4. with BROKER_HOST_LIST_SOCKETS set and a unix plugin, lists the
 *      sockets in the plugin's socket directory (its own and the brokered
 *      Echo's): "socket mode=660 gid=0";
 *   5. kills the plugin: prints "kill: 0".
 * --bench N times N brokered round trips (step 1) and prints
 * "summary n=N median_us=.. p90_us=.. min_us=.. max_us=..".
 * Exit 0 when every step gave the expected answer. */
#include <dirent.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "callback.pb-c.h"
#include "soupc/plugin.h"

static atomic_int sum_calls;

static void sum(soupc_call *call, const uint8_t *req, size_t len, void *ud) {
  Callback__SumRequest *r = callback__sum_request__unpack(NULL, len, req);
  Callback__SumReply rep = CALLBACK__SUM_REPLY__INIT;
  uint8_t buf[32];

  (void)ud;
  if (r == NULL) {
    soupc_call_fail(call, SOUPC_GRPC_INVALID_ARGUMENT, "bad SumRequest");
    return;
  }
  atomic_fetch_add(&sum_calls, 1);
  rep.sum = r->a + r->b;
  callback__sum_request__free_unpacked(r, NULL);
  soupc_call_reply(call, buf, callback__sum_reply__pack(&rep, buf));
}

static int register_adder(soupc_server *srv, void *ud) {
  (void)ud;
  return soupc_server_add_unary(srv, "/callback.Adder/Sum", sum, NULL);
}

static int64_t now_us(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* One brokered round trip: serve Adder on a new id, AddViaHost(id, a, b).
 * The caller closes *id_out (soupc_plugin_broker_close_id) when done with
 * it. @return the sum, or -1 (message printed). */
static int64_t add_via_host(soupc_plugin_host *h, int64_t a, int64_t b,
                            uint32_t *id_out) {
  soupc_plugin_broker *br = soupc_plugin_host_broker(h);
  Callback__AddRequest req = CALLBACK__ADD_REQUEST__INIT;
  Callback__AddReply *rep;
  uint8_t buf[64], *resp = NULL;
  size_t n, resp_len = 0;
  soupc_status st;
  int64_t result = -1;

  req.broker_id = soupc_plugin_broker_next_id(br);
  *id_out = req.broker_id;
  req.a = a;
  req.b = b;
  if (soupc_plugin_broker_accept_and_serve(br, req.broker_id, register_adder,
                                           NULL, &st) != 0) {
    fprintf(stderr, "accept_and_serve: %s\n", st.message);
    return -1;
  }
  n = callback__add_request__pack(&req, buf);
  if (soupc_channel_unary(soupc_plugin_host_channel(h),
                          "/callback.Calculator/AddViaHost", buf, n, &resp,
                          &resp_len, 10000, &st) != 0) {
    fprintf(stderr, "AddViaHost: %s: %s\n", soupc_grpc_code_name(st.code),
            st.message);
  } else if ((rep = callback__add_reply__unpack(NULL, resp_len, resp)) !=
             NULL) {
    result = rep->sum;
    callback__add_reply__free_unpacked(rep, NULL);
  }
  free(resp);
  return result;
}

static int echo_via_plugin(soupc_plugin_host *h) {
  Callback__StartEchoReply *rep;
  Callback__EchoMessage msg = CALLBACK__ECHO_MESSAGE__INIT;
  Callback__EchoMessage *back;
  soupc_channel *ch = NULL;
  uint8_t buf[64], *resp = NULL;
  size_t n, resp_len = 0;
  soupc_status st;
  uint32_t id;
  int ok = 0;

  if (soupc_channel_unary(soupc_plugin_host_channel(h),
                          "/callback.Calculator/StartEcho", NULL, 0, &resp,
                          &resp_len, 10000, &st) != 0) {
    fprintf(stderr, "StartEcho: %s\n", st.message);
    return 0;
  }
  rep = callback__start_echo_reply__unpack(NULL, resp_len, resp);
  free(resp);
  resp = NULL;
  if (rep == NULL) {
    return 0;
  }
  id = rep->broker_id;
  callback__start_echo_reply__free_unpacked(rep, NULL);
  if (soupc_plugin_broker_dial(soupc_plugin_host_broker(h), id, &ch, &st) !=
      0) {
    fprintf(stderr, "dial %u: %s\n", id, st.message);
    return 0;
  }
  msg.text = (char *)"hello broker";
  n = callback__echo_message__pack(&msg, buf);
  if (soupc_channel_unary(ch, "/callback.Echo/Echo", buf, n, &resp, &resp_len,
                          10000, &st) == 0 &&
      (back = callback__echo_message__unpack(NULL, resp_len, resp)) != NULL) {
    printf("echo: %s\n", back->text);
    ok = strcmp(back->text, "hello broker") == 0;
    callback__echo_message__free_unpacked(back, NULL);
  } else {
    fprintf(stderr, "Echo: %s\n", st.message);
  }
  free(resp);
  soupc_channel_free(ch);
  return ok;
}

/* Step 4: every socket in the directory of the plugin's socket. */
static void list_sockets(const soupc_plugin_handshake *hs) {
  char dir[512], path[1024];
  char *slash;
  struct dirent *e;
  struct stat sb;
  DIR *d;

  snprintf(dir, sizeof(dir), "%s", hs->address);
  slash = strrchr(dir, '/');
  if (strcmp(hs->network, "unix") != 0 || slash == NULL) {
    return;
  }
  *slash = '\0';
  d = opendir(dir);
  if (d == NULL) {
    return;
  }
  while ((e = readdir(d)) != NULL) {
    snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
    if (lstat(path, &sb) == 0 && S_ISSOCK(sb.st_mode)) {
      printf("socket mode=%03o gid=%u\n", (unsigned)(sb.st_mode & 0777),
             (unsigned)sb.st_gid);
    }
  }
  closedir(d);
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

  return x < y ? -1 : x > y;
}

static int bench(soupc_plugin_host *h, int count) {
  int64_t *t = calloc((size_t)count, sizeof(*t));

  for (int i = 0; i < count; i++) {
    int64_t t0 = now_us(), sum;
    uint32_t id;

    sum = add_via_host(h, i, 1, &id);
    /* The round trip ends with the answer. The brokered server is stopped
     * after the clock (go-plugin's host, like broker-host, leaves its
     * AcceptAndServe running until the broker closes). */
    t[i] = now_us() - t0;
    soupc_plugin_broker_close_id(soupc_plugin_host_broker(h), id);
    if (sum != i + 1) {
      free(t);
      return 0;
    }
  }
  qsort(t, (size_t)count, sizeof(*t), cmp_i64);
  printf("summary n=%d median_us=%lld p90_us=%lld min_us=%lld max_us=%lld\n",
         count, (long long)t[count / 2], (long long)t[count * 9 / 10],
         (long long)t[0], (long long)t[count - 1]);
  free(t);
  return 1;
}

int main(int argc, char **argv) {
  soupc_plugin_host_options o = SOUPC_PLUGIN_HOST_OPTIONS_INIT;
  soupc_plugin_host *h = NULL;
  soupc_status st;
  int i, ok = 1, dial_unknown = 0, bench_n = 0, krv;
  int64_t s;

  for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
    if (strcmp(argv[i], "--no-automtls") == 0) {
      o.no_automtls = 1;
    } else if (strcmp(argv[i], "--dial-unknown") == 0) {
      dial_unknown = 1;
    } else if (strcmp(argv[i], "--multiplex") == 0) {
      o.multiplex = 1; /* go-plugin's GRPCBrokerMultiplex */
    } else if (strcmp(argv[i], "--bench") == 0 && i + 1 < argc) {
      bench_n = (int)strtol(argv[++i], NULL, 10);
    } else {
      fprintf(stderr, "usage: broker-host-c [--no-automtls] [--multiplex] "
                      "[--dial-unknown] [--bench N] -- PLUGIN [ARGS]\n");
      return 2;
    }
  }
  if (i + 1 >= argc) {
    fprintf(stderr, "broker-host-c: no plugin after --\n");
    return 2;
  }
  o.path = argv[i + 1];
  o.argv = (const char *const *)&argv[i + 1];
  o.cookie_key = "BASIC_PLUGIN";
  o.cookie_value = "hello";
  o.forward_stderr = getenv("BROKER_HOST_VERBOSE") != NULL;
  if (soupc_plugin_host_launch(&h, &o, &st) != 0) {
    fprintf(stderr, "launch: %s\n", st.message);
    return 1;
  }
  printf("plugin pid=%d tls=%s mux=%s net=%s\n", (int)soupc_plugin_host_pid(h),
         soupc_plugin_host_handshake(h)->cert_pem != NULL ? "yes" : "no",
         o.multiplex ? "yes" : "no", soupc_plugin_host_handshake(h)->network);
  if (bench_n > 0) {
    ok = bench(h, bench_n);
  } else {
    uint32_t id;

    s = add_via_host(h, 2, 3, &id);
    soupc_plugin_broker_close_id(soupc_plugin_host_broker(h), id);
    printf("add 2+3=%lld (host Adder calls: %d)\n", (long long)s,
           atomic_load(&sum_calls));
    ok = s == 5 && atomic_load(&sum_calls) == 1;
    ok = echo_via_plugin(h) && ok;
    if (dial_unknown) {
      soupc_channel *ch = NULL;
      int rv =
          soupc_plugin_broker_dial(soupc_plugin_host_broker(h), 4242, &ch, &st);

      printf("dial unknown id: %s: %s\n", soupc_strerror(rv), st.message);
      ok = ok && rv == SOUPC_ERR_DEADLINE;
      soupc_channel_free(ch);
      /* The plugin still serves. */
      ok = ok && soupc_plugin_host_ping(h, 5000, &st) == 0;
    }
    if (getenv("BROKER_HOST_LIST_SOCKETS") != NULL) {
      list_sockets(soupc_plugin_host_handshake(h));
    }
  }
  krv = soupc_plugin_host_kill(h);
  printf("kill: %d\n", krv);
  fflush(stdout);
  return ok && krv == 0 ? 0 : 1;
}
