/* The etcd backend (etcd_backend.h): backend operations as etcd v3 Range
 * and Put calls through etcd_client.c. Messages are etcd's own, generated
 * by protobuf-c at build time from Debian's golang-etcd-server-dev. */
#include "store/etcd_backend.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "etcd/etcdserver/etcdserverpb/rpc.pb-c.h"
#include "store/etcd_client.h"

#define DEFAULT_MAX_KEY_SIZE ((size_t)65536)
#define RANGE_PATH "/etcdserverpb.KV/Range"
#define PUT_PATH "/etcdserverpb.KV/Put"

struct etcd_backend {
  struct etcd_client *client;
  uint8_t *prefix; /* copied; prefix_len bytes */
  size_t prefix_len;
  size_t max_key_size; /* bytes */
};

/* One get or put in flight. */
struct etcd_op {
  struct etcd_backend *eb;
  store_done_fn done;
  void *user_data;
  int is_put;
  size_t key_len; /* bytes, without the prefix */
  size_t val_len; /* Put: bytes */
};

static void *pb_alloc(void *data, size_t size) {
  (void)data;
  return soupc__malloc(size);
}

static void pb_free(void *data, void *ptr) {
  (void)data;
  soupc__free(ptr);
}

static ProtobufCAllocator pb_allocator = {pb_alloc, pb_free, NULL};

/* prefix ++ key, malloc'd. */
static uint8_t *full_key(const struct etcd_backend *eb, const uint8_t *key,
                         size_t key_len, size_t *len_out) {
  uint8_t *k = soupc__malloc(eb->prefix_len + key_len);

  if (k == NULL) {
    return NULL;
  }
  if (eb->prefix_len > 0) {
    memcpy(k, eb->prefix, eb->prefix_len);
  }
  memcpy(k + eb->prefix_len, key, key_len);
  *len_out = eb->prefix_len + key_len;
  return k;
}

/* Turns a failed call into the result the KV service reports: the rule
 * and the flag for a limit, and for a Put whether it may have happened. */
static void map_failure(struct store_result *res, const struct etcd_op *op,
                        const struct etcd_reply *r) {
  const char *m = r->status.message;
  const char *what = op->is_put ? "Put" : "Get";
  /* "etcd http://h:p: " when a member answered or failed; a message about
   * the whole cluster already says "etcd". */
  char who[300];

  if (r->endpoint[0] != '\0') {
    snprintf(who, sizeof(who), "etcd %s: ", r->endpoint);
  } else {
    who[0] = '\0';
  }

  if (strstr(m, "request is too large") != NULL ||
      (r->status.code == SOUPC_GRPC_RESOURCE_EXHAUSTED &&
       strstr(m, "message larger than max") != NULL)) {
    res->rv = SOUPC_ERR_TOO_LARGE;
    soupc_status_set(&res->status, SOUPC_GRPC_RESOURCE_EXHAUSTED,
                     "a %zu-byte key with a %zu-byte value is over the etcd "
                     "cluster's request limit (etcd --max-request-bytes, "
                     "1.5 MiB by default, raises it on every member): %s",
                     op->key_len, op->val_len, m);
    return;
  }
  if (strstr(m, "database space exceeded") != NULL) {
    res->rv = SOUPC_ERR_STORE_FULL;
    soupc_status_set(&res->status, SOUPC_GRPC_RESOURCE_EXHAUSTED,
                     "the etcd cluster is out of space (etcd "
                     "--quota-backend-bytes; compact, defragment and disarm "
                     "the NOSPACE alarm): %s",
                     m);
    return;
  }
  switch (r->status.code) {
  case SOUPC_GRPC_UNAVAILABLE:
  case SOUPC_GRPC_DEADLINE_EXCEEDED:
  case SOUPC_GRPC_CANCELLED:
    if (op->is_put && r->maybe_applied) {
      res->rv = SOUPC_ERR_DEADLINE;
      soupc_status_set(&res->status, SOUPC_GRPC_UNAVAILABLE,
                       "%s%s; the Put may or may not have been applied", who,
                       m);
    } else {
      res->rv = SOUPC_ERR_CONNECT;
      soupc_status_set(&res->status, SOUPC_GRPC_UNAVAILABLE, "%s%s%s", who, m,
                       op->is_put ? "; the Put was not applied" : "");
    }
    return;
  default:
    res->rv = SOUPC_ERR_STORE;
    soupc_status_set(&res->status, r->status.code, "%s%s: %s",
                     who[0] != '\0' ? who : "etcd: ", what, m);
    return;
  }
}

/* Range's answer: the one key asked for, or nothing. */
static void range_done(const struct etcd_reply *r, void *user_data) {
  struct etcd_op *op = user_data;
  Etcdserverpb__RangeResponse *resp;
  struct store_result res;
  const Mvccpb__KeyValue *kv;

  memset(&res, 0, sizeof(res));
  if (r->status.code != SOUPC_GRPC_OK) {
    map_failure(&res, op, r);
    goto done;
  }
  resp = etcdserverpb__range_response__unpack(&pb_allocator, r->len, r->msg);
  if (resp == NULL) {
    res.rv = SOUPC_ERR_STORE;
    soupc_status_set(&res.status, SOUPC_GRPC_INTERNAL,
                     "etcd %s sent a RangeResponse that does not parse",
                     r->endpoint);
    goto done;
  }
  if (resp->n_kvs == 0) {
    res.rv = SOUPC_ERR_NOT_FOUND;
  } else {
    kv = resp->kvs[0];
    res.value = soupc__malloc(kv->value.len > 0 ? kv->value.len : 1);
    if (res.value == NULL) {
      res.rv = SOUPC_ERR_NOMEM;
    } else {
      if (kv->value.len > 0) {
        memcpy(res.value, kv->value.data, kv->value.len);
      }
      res.value_len = kv->value.len;
    }
  }
  etcdserverpb__range_response__free_unpacked(resp, &pb_allocator);

done:
  op->done(&res, op->user_data);
  soupc__free(res.value);
  soupc__free(op);
}

static void put_done(const struct etcd_reply *r, void *user_data) {
  struct etcd_op *op = user_data;
  struct store_result res;

  memset(&res, 0, sizeof(res));
  if (r->status.code != SOUPC_GRPC_OK) {
    map_failure(&res, op, r);
  }
  op->done(&res, op->user_data);
  soupc__free(op);
}

/* Checks the key and allocates the op and the etcd key (prefix ++ key).
 * @return 0, SOUPC_ERR_INVALID_ARGUMENT or SOUPC_ERR_NOMEM. */
static int op_begin(struct etcd_op **op_out, uint8_t **key_out,
                    size_t *key_len_out, struct etcd_backend *eb,
                    const uint8_t *key, size_t key_len, int is_put,
                    size_t val_len, store_done_fn done, void *user_data) {
  struct etcd_op *op;

  if (key_len == 0 || key_len > eb->max_key_size) {
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  op = soupc__calloc(1, sizeof(*op));
  *key_out = op != NULL ? full_key(eb, key, key_len, key_len_out) : NULL;
  if (*key_out == NULL) {
    soupc__free(op);
    return SOUPC_ERR_NOMEM;
  }
  op->eb = eb;
  op->done = done;
  op->user_data = user_data;
  op->is_put = is_put;
  op->key_len = key_len;
  op->val_len = val_len;
  *op_out = op;
  return 0;
}

/* Packs @p msg and starts the call; frees @p key, and @p op on failure.
 * @return as soupc__etcd_client_call. */
static int start_call(struct etcd_backend *eb, const char *path,
                      const ProtobufCMessage *msg, int idempotent,
                      etcd_reply_fn fn, struct etcd_op *op, uint8_t *key) {
  size_t len = protobuf_c_message_get_packed_size(msg);
  uint8_t *buf = soupc__malloc(len > 0 ? len : 1);
  int rv = SOUPC_ERR_NOMEM;

  if (buf != NULL) {
    protobuf_c_message_pack(msg, buf);
    rv =
        soupc__etcd_client_call(eb->client, path, buf, len, idempotent, fn, op);
  }
  soupc__free(buf);
  soupc__free(key);
  if (rv != 0) {
    soupc__free(op);
  }
  return rv;
}

static int etcd_get(void *impl, const uint8_t *key, size_t key_len,
                    store_done_fn done, void *user_data) {
  Etcdserverpb__RangeRequest req = ETCDSERVERPB__RANGE_REQUEST__INIT;
  struct etcd_op *op;
  uint8_t *k;
  int rv;

  rv = op_begin(&op, &k, &req.key.len, impl, key, key_len, 0, 0, done,
                user_data);
  if (rv != 0) {
    return rv;
  }
  /* No range_end: exactly this key. serializable stays false: a
   * linearizable read, never a member's possibly stale local copy. */
  req.key.data = k;
  req.serializable = 0;
  return start_call(impl, RANGE_PATH, &req.base, 1, range_done, op, k);
}

static int etcd_put(void *impl, const uint8_t *key, size_t key_len,
                    const uint8_t *val, size_t val_len, store_done_fn done,
                    void *user_data) {
  Etcdserverpb__PutRequest req = ETCDSERVERPB__PUT_REQUEST__INIT;
  struct etcd_op *op;
  uint8_t *k;
  int rv;

  rv = op_begin(&op, &k, &req.key.len, impl, key, key_len, 1, val_len, done,
                user_data);
  if (rv != 0) {
    return rv;
  }
  req.key.data = k;
  req.value.data = (uint8_t *)val; /* packed, never written */
  req.value.len = val_len;
  /* Not idempotent: a retried Put could land after a later Put by another
   * client. etcd_client.c retries it only when it never reached etcd. */
  return start_call(impl, PUT_PATH, &req.base, 0, put_done, op, k);
}

/* A blocking health probe: one linearizable Range through the client. */
struct probe {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int done;
  soupc_status status;
  char endpoint[256];
  Etcdserverpb__RangeResponse *resp;
};

static void probe_done(const struct etcd_reply *r, void *user_data) {
  struct probe *p = user_data;

  pthread_mutex_lock(&p->mu);
  p->status = r->status;
  snprintf(p->endpoint, sizeof(p->endpoint), "%s", r->endpoint);
  if (r->status.code == SOUPC_GRPC_OK) {
    p->resp =
        etcdserverpb__range_response__unpack(&pb_allocator, r->len, r->msg);
  }
  p->done = 1;
  pthread_cond_signal(&p->cv);
  pthread_mutex_unlock(&p->mu);
}

static int start_probe(struct etcd_backend *eb, const ProtobufCMessage *msg,
                       struct probe *p) {
  size_t len = protobuf_c_message_get_packed_size(msg);
  uint8_t *buf = soupc__malloc(len > 0 ? len : 1);
  int rv;

  if (buf == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  protobuf_c_message_pack(msg, buf);
  rv = soupc__etcd_client_call(eb->client, RANGE_PATH, buf, len, 1, probe_done,
                               p);
  soupc__free(buf);
  return rv;
}

static int etcd_health(void *impl, soupc_status *st) {
  struct etcd_backend *eb = impl;
  Etcdserverpb__RangeRequest req = ETCDSERVERPB__RANGE_REQUEST__INIT;
  const Etcdserverpb__ResponseHeader *h;
  struct probe p;
  int rv;

  memset(&p, 0, sizeof(p));
  pthread_mutex_init(&p.mu, NULL);
  pthread_cond_init(&p.cv, NULL);
  /* The prefix itself is never a stored key (keys are non-empty); count
   * only, so the probe costs etcd no value copies. */
  req.key.data = eb->prefix;
  req.key.len = eb->prefix_len;
  req.count_only = 1;
  rv = start_probe(eb, &req.base, &p);
  if (rv == 0) {
    pthread_mutex_lock(&p.mu);
    while (!p.done) {
      pthread_cond_wait(&p.cv, &p.mu);
    }
    pthread_mutex_unlock(&p.mu);
    h = p.resp != NULL ? p.resp->header : NULL;
    if (p.status.code != SOUPC_GRPC_OK) {
      rv = SOUPC_ERR_CONNECT;
      soupc_status_set(st, p.status.code, "etcd: %s", p.status.message);
    } else if (h == NULL) {
      rv = SOUPC_ERR_STORE;
      soupc_status_set(st, SOUPC_GRPC_INTERNAL,
                       "etcd %s sent a RangeResponse without a header",
                       p.endpoint);
    } else {
      soupc_status_set(st, SOUPC_GRPC_OK,
                       "etcd: linearizable read through %s (cluster %llx, "
                       "member %llx, revision %lld, raft term %llu)",
                       p.endpoint, (unsigned long long)h->cluster_id,
                       (unsigned long long)h->member_id, (long long)h->revision,
                       (unsigned long long)h->raft_term);
    }
  } else {
    soupc_status_set(st, soupc_err_to_grpc(rv), "etcd: %s", soupc_strerror(rv));
  }
  etcdserverpb__range_response__free_unpacked(p.resp, &pb_allocator);
  pthread_cond_destroy(&p.cv);
  pthread_mutex_destroy(&p.mu);
  return rv;
}

static void etcd_close(void *impl) {
  struct etcd_backend *eb = impl;

  if (eb == NULL) {
    return;
  }
  soupc__etcd_client_free(eb->client);
  soupc__free(eb->prefix);
  soupc__free(eb);
}

static const struct store_backend_ops etcd_ops = {
    "etcd", etcd_get, etcd_put, etcd_health, etcd_close, NULL /* put_take */,
};

int soupc__backend_etcd_new(struct store_backend **out,
                            const struct etcd_backend_options *opts,
                            soupc_status *st) {
  struct etcd_client_options copts = {0};
  const char *prefix =
      opts->prefix != NULL ? opts->prefix : ETCD_DEFAULT_PREFIX;
  struct etcd_backend *eb;
  int rv;

  eb = soupc__calloc(1, sizeof(*eb));
  if (eb == NULL) {
    soupc_status_set(st, SOUPC_GRPC_RESOURCE_EXHAUSTED, "out of memory");
    return SOUPC_ERR_NOMEM;
  }
  eb->prefix_len = strlen(prefix);
  eb->prefix = soupc__malloc(eb->prefix_len + 1);
  if (eb->prefix == NULL) {
    soupc__free(eb);
    soupc_status_set(st, SOUPC_GRPC_RESOURCE_EXHAUSTED, "out of memory");
    return SOUPC_ERR_NOMEM;
  }
  memcpy(eb->prefix, prefix, eb->prefix_len + 1);
  eb->max_key_size =
      opts->max_key_size > 0 ? opts->max_key_size : DEFAULT_MAX_KEY_SIZE;
  copts.endpoints = opts->endpoints;
  copts.ca_pem = opts->ca_pem;
  copts.cert_pem = opts->cert_pem;
  copts.key_pem = opts->key_pem;
  copts.timeout_ms = opts->timeout_ms;
  rv = soupc__etcd_client_new(&eb->client, &copts, st);
  if (rv != 0) {
    soupc__free(eb->prefix);
    soupc__free(eb);
    return rv;
  }
  return soupc__backend_new(out, &etcd_ops, eb);
}
