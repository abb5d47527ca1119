/* kv_plugin: proto.KV (proto/kv.proto) served as a go-plugin plugin through
 * plugin.h alone, built out of tree against the installed library (see
 * run_interop_installed.sh). The store is an in-memory list: what is under
 * test is the library's go-plugin side, driven by go-plugin 1.0.1's own host
 * (peers/go goplugin-host), not a storage engine.
 *
 * Cookie BASIC_PLUGIN=hello, as goplugin-host expects. $KV_PLUGIN_NETWORK
 * ("unix" or "tcp") and $KV_PLUGIN_TLS_MODE are passed to
 * soupc_plugin_serve(); unset, AutoMTLS follows the host. Like a Go plugin,
 * it captures stdio and handles signals. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv.pb-c.h"
#include "soupc/plugin.h"

struct entry {
  struct entry *next;
  char *key;
  uint8_t *value;
  size_t len;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct entry *entries;

static struct entry *find(const char *key) {
  struct entry *e;

  for (e = entries; e != NULL; e = e->next) {
    if (strcmp(e->key, key) == 0) {
      return e;
    }
  }
  return NULL;
}

static void put(soupc_call *call, const uint8_t *req, size_t len, void *ud) {
  Proto__PutRequest *msg = proto__put_request__unpack(NULL, len, req);
  struct entry *e;
  uint8_t *copy;
  int ok = 0;

  (void)ud;
  if (msg == NULL) {
    soupc_call_fail(call, SOUPC_GRPC_INVALID_ARGUMENT, "bad PutRequest");
    return;
  }
  copy = malloc(msg->value.len + 1);
  pthread_mutex_lock(&mu);
  e = find(msg->key);
  if (e == NULL && copy != NULL && (e = calloc(1, sizeof(*e))) != NULL) {
    e->key = strdup(msg->key);
    if (e->key == NULL) {
      free(e);
      e = NULL;
    } else {
      e->next = entries;
      entries = e;
    }
  }
  if (e != NULL && copy != NULL) {
    if (msg->value.len > 0) {
      memcpy(copy, msg->value.data, msg->value.len);
    }
    free(e->value);
    e->value = copy;
    e->len = msg->value.len;
    copy = NULL;
    ok = 1;
  }
  pthread_mutex_unlock(&mu);
  free(copy);
  proto__put_request__free_unpacked(msg, NULL);
  if (!ok) {
    soupc_call_fail(call, SOUPC_GRPC_RESOURCE_EXHAUSTED, "out of memory");
    return;
  }
  soupc_call_reply(call, NULL, 0); /* proto.Empty */
}

static void get(soupc_call *call, const uint8_t *req, size_t len, void *ud) {
  Proto__GetRequest *msg = proto__get_request__unpack(NULL, len, req);
  Proto__GetResponse resp = PROTO__GET_RESPONSE__INIT;
  struct entry *e;
  uint8_t *buf = NULL;
  size_t n = 0;
  int found;

  (void)ud;
  if (msg == NULL) {
    soupc_call_fail(call, SOUPC_GRPC_INVALID_ARGUMENT, "bad GetRequest");
    return;
  }
  pthread_mutex_lock(&mu);
  e = find(msg->key);
  found = e != NULL;
  if (found) {
    resp.value.data = e->value;
    resp.value.len = e->len;
    n = proto__get_response__get_packed_size(&resp);
    buf = malloc(n + 1);
    if (buf != NULL) {
      proto__get_response__pack(&resp, buf);
    }
  }
  pthread_mutex_unlock(&mu);
  if (!found) {
    soupc_call_fail(call, SOUPC_GRPC_NOT_FOUND, "key not found: %s", msg->key);
  } else if (buf == NULL) {
    soupc_call_fail(call, SOUPC_GRPC_RESOURCE_EXHAUSTED, "out of memory");
  } else {
    soupc_call_reply(call, buf, n);
  }
  free(buf);
  proto__get_request__free_unpacked(msg, NULL);
}

static int register_kv(soupc_server *srv, const soupc_plugin_info *info,
                       void *ud) {
  int rv;

  (void)info;
  (void)ud;
  rv = soupc_server_add_unary(srv, "/proto.KV/Put", put, NULL);
  if (rv == 0) {
    rv = soupc_server_add_unary(srv, "/proto.KV/Get", get, NULL);
  }
  return rv;
}

int main(void) {
  soupc_plugin_serve_options opts = SOUPC_PLUGIN_SERVE_OPTIONS_INIT;
  soupc_status st;
  struct entry *e;
  int rv;

  opts.cookie_key = "BASIC_PLUGIN";
  opts.cookie_value = "hello";
  opts.network = getenv("KV_PLUGIN_NETWORK");
  opts.tls_mode = getenv("KV_PLUGIN_TLS_MODE");
  opts.capture_stdio = 1;
  opts.handle_signals = 1;
  rv = soupc_plugin_serve(&opts, register_kv, NULL, &st);
  while ((e = entries) != NULL) {
    entries = e->next;
    free(e->key);
    free(e->value);
    free(e);
  }
  if (rv == SOUPC_ERR_COOKIE) {
    return 1; /* go-plugin's message is already on stderr */
  }
  if (rv != 0) {
    fprintf(stderr, "kv_plugin: %s: %s\n", soupc_strerror(rv), st.message);
    return 1;
  }
  return 0;
}
