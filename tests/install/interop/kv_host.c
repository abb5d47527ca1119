/* kv_host: a go-plugin host written on plugin.h alone, built out of tree
 * against the installed library (see run_interop_installed.sh). It launches
 * a proto.KV plugin (peers/go goplugin-kv: go-plugin 1.0.1's plugin.Serve),
 * runs the operations in order on one connection, then stops it with
 * go-plugin's Kill sequence.
 *
 *   kv_host [--no-automtls] PLUGIN (put KEY VALUE | get KEY)...
 *
 * Put uses the blocking soupc_channel_unary(), Get the asynchronous
 * soupc_channel_unary_async(). stdout: "Key K put successfully." and each
 * value got, one per line; stderr: "tls=yes|no network=N", then one line per
 * failure. Exit 0 when every operation succeeded and the plugin exited 0 by
 * itself after Shutdown; 1 otherwise; 2 on usage. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv.pb-c.h"
#include "soupc/plugin.h"

struct pending {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int done;
  int err;
  soupc_status st;
  uint8_t *resp;
  size_t len;
};

/* Runs on the channel's I/O thread: copy what we keep, then signal. */
static void on_done(int err, const soupc_status *status, const uint8_t *resp,
                    size_t resp_len, void *ud) {
  struct pending *p = ud;

  pthread_mutex_lock(&p->mu);
  p->err = err;
  if (status != NULL) {
    p->st = *status;
  }
  if (err == 0 && resp_len > 0) {
    p->resp = malloc(resp_len);
    if (p->resp == NULL) {
      p->err = SOUPC_ERR_NOMEM;
    } else {
      memcpy(p->resp, resp, resp_len);
      p->len = resp_len;
    }
  }
  p->done = 1;
  pthread_cond_signal(&p->cv);
  pthread_mutex_unlock(&p->mu);
}

static int do_put(soupc_channel *ch, const char *key, const char *value) {
  Proto__PutRequest req = PROTO__PUT_REQUEST__INIT;
  uint8_t *buf, *resp = NULL;
  size_t n, resp_len = 0;
  soupc_status st;
  int rv;

  req.key = (char *)key;
  req.value.data = (uint8_t *)value;
  req.value.len = strlen(value);
  n = proto__put_request__get_packed_size(&req);
  buf = malloc(n + 1);
  if (buf == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  proto__put_request__pack(&req, buf);
  rv = soupc_channel_unary(ch, "/proto.KV/Put", buf, n, &resp, &resp_len, 10000,
                           &st);
  free(buf);
  soupc_free(resp);
  if (rv != 0) {
    fprintf(stderr, "kv_host: put %s: %s: %s\n", key,
            soupc_grpc_code_name(st.code), st.message);
    return rv;
  }
  printf("Key %s put successfully.\n", key);
  return 0;
}

static int do_get(soupc_channel *ch, const char *key) {
  Proto__GetRequest req = PROTO__GET_REQUEST__INIT;
  Proto__GetResponse *msg;
  struct pending p;
  uint8_t *buf;
  size_t n;
  soupc_status st;
  int rv;

  memset(&p, 0, sizeof(p));
  pthread_mutex_init(&p.mu, NULL);
  pthread_cond_init(&p.cv, NULL);
  req.key = (char *)key;
  n = proto__get_request__get_packed_size(&req);
  buf = malloc(n + 1);
  if (buf == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  proto__get_request__pack(&req, buf);
  rv = soupc_channel_unary_async(ch, "/proto.KV/Get", buf, n, 10000, on_done,
                                 &p, &st);
  free(buf); /* copied by the call */
  if (rv != 0) {
    fprintf(stderr, "kv_host: get %s: %s\n", key, st.message);
  } else {
    pthread_mutex_lock(&p.mu);
    while (!p.done) {
      pthread_cond_wait(&p.cv, &p.mu);
    }
    pthread_mutex_unlock(&p.mu);
    rv = p.err;
    if (rv != 0) {
      fprintf(stderr, "kv_host: get %s: %s: %s\n", key,
              soupc_grpc_code_name(p.st.code), p.st.message);
    } else if ((msg = proto__get_response__unpack(NULL, p.len, p.resp)) ==
               NULL) {
      fprintf(stderr, "kv_host: get %s: bad GetResponse\n", key);
      rv = SOUPC_ERR_PROTOCOL;
    } else {
      fwrite(msg->value.data, 1, msg->value.len, stdout);
      putchar('\n');
      proto__get_response__free_unpacked(msg, NULL);
    }
  }
  free(p.resp);
  pthread_cond_destroy(&p.cv);
  pthread_mutex_destroy(&p.mu);
  return rv;
}

int main(int argc, char **argv) {
  soupc_plugin_host_options o = SOUPC_PLUGIN_HOST_OPTIONS_INIT;
  const soupc_plugin_handshake *hs;
  soupc_plugin_host *host = NULL;
  soupc_status st;
  int i = 1, rv = 0, krv;

  if (i < argc && strcmp(argv[i], "--no-automtls") == 0) {
    o.no_automtls = 1;
    i++;
  }
  if (i >= argc) {
    fprintf(stderr, "usage: kv_host [--no-automtls] PLUGIN "
                    "(put KEY VALUE | get KEY)...\n");
    return 2;
  }
  o.path = argv[i++];
  o.cookie_key = "BASIC_PLUGIN";
  o.cookie_value = "hello";
  o.handshake_timeout_ms = 20000;
  if (soupc_plugin_host_launch(&host, &o, &st) != 0) {
    fprintf(stderr, "kv_host: launch: %s\n", st.message);
    return 1;
  }
  hs = soupc_plugin_host_handshake(host);
  fprintf(stderr, "tls=%s network=%s\n", hs->cert_pem != NULL ? "yes" : "no",
          hs->network);
  while (rv == 0 && i < argc) {
    soupc_channel *ch = soupc_plugin_host_channel(host);

    if (strcmp(argv[i], "put") == 0 && i + 2 < argc) {
      rv = do_put(ch, argv[i + 1], argv[i + 2]);
      i += 3;
    } else if (strcmp(argv[i], "get") == 0 && i + 1 < argc) {
      rv = do_get(ch, argv[i + 1]);
      i += 2;
    } else {
      fprintf(stderr, "kv_host: bad operation \"%s\"\n", argv[i]);
      soupc_plugin_host_kill(host);
      return 2;
    }
  }
  fflush(stdout);
  krv = soupc_plugin_host_kill(host);
  if (krv != 0) {
    fprintf(stderr, "kv_host: kill: %s\n", soupc_strerror(krv));
  }
  return rv == 0 && krv == 0 ? 0 : 1;
}
