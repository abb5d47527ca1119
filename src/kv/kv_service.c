/* proto.KV Get/Put on a store backend (store/backend.h), which may be the
 * embedded LMDB store or an etcd cluster: this file never knows which. Both
 * calls are handed to the backend with a callback that finishes the gRPC
 * call: for LMDB a Get finishes on the worker thread that owns the call
 * (before the handler returns) and a Put on the commit thread once it is
 * durable; for etcd both finish on the etcd channel's I/O thread once the
 * cluster answered. */
#include "kv/kv.h"

#include "base/alloc.h"
#include "transport/transport.h"
#include "kv_bytes.pb-c.h"

#include <stdatomic.h>
#include <string.h>
#include <time.h>

/* Bytes of Puts queued for the commit thread at once. The store's queue
 * itself is unbounded; past this budget a Put is refused with
 * RESOURCE_EXHAUSTED (retryable) instead of growing memory without limit. */
#define KV_MAX_INFLIGHT_BYTES ((size_t)1024 * 1024 * 1024)

struct kv_service {
  struct store_backend *backend; /* borrowed */
  size_t max_key_size;           /* bytes */
  int enrich_json;               /* opt-in enrichment */
  struct timespec started;       /* CLOCK_MONOTONIC, for received_at */
  struct kv_enrich_config enrich;
  atomic_size_t inflight_bytes; /* key + value bytes queued, not committed */
};

/* One queued Put: the call to finish and the bytes it holds. */
struct put_op {
  soupc_call *call;
  struct kv_service *kv;
  size_t bytes;
};

/* One Get handed to the backend: the call to finish, and the key for the
 * NOT_FOUND message. */
struct get_op {
  soupc_call *call;
  struct kv_service *kv;
  size_t key_len;
  uint8_t key[];
};

static void *pb_alloc(void *data, size_t size) {
  (void)data;
  return soupc__malloc(size);
}

static void pb_free(void *data, void *ptr) {
  (void)data;
  soupc__free(ptr);
}

/* protobuf-c allocates through soup-c's allocator (STYLE.md). */
static ProtobufCAllocator pb_allocator = {pb_alloc, pb_free, NULL};

int soupc__kv_service_new(struct kv_service **out,
                          struct store_backend *backend,
                          const struct kv_options *opts) {
  struct kv_service *kv = soupc__calloc(1, sizeof(*kv));

  if (kv == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  kv->backend = backend;
  kv->max_key_size = opts != NULL && opts->max_key_size > 0
                         ? opts->max_key_size
                         : KV_DEFAULT_MAX_KEY_SIZE;
  kv->enrich_json = opts != NULL && opts->enrich_json;
  clock_gettime(CLOCK_MONOTONIC, &kv->started);
  if (kv->enrich_json) {
    soupc__kv_enrich_config_load(&kv->enrich);
  }
  *out = kv;
  return 0;
}

void soupc__kv_service_free(struct kv_service *kv) {
  soupc__free(kv);
}

static double seconds_since(const struct timespec *start) {
  struct timespec now;

  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - start->tv_sec) +
         (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* Applies the key rules (key_validation.c) with the service's limit. */
static int check_key(struct kv_service *kv, ProtobufCBinaryData *key,
                     soupc_status *st) {
  return soupc__kv_key_validate(key->data, key->len, kv->max_key_size, st);
}

/* From this size a Get's value goes out without a copy: its GetResponse is
 * a 1-byte field tag and a varint length followed by the value's bytes,
 * handed to the transport by reference (transport.h). A Put's value from
 * this size is handed to the store in the buffer protobuf-c unpacked it
 * into. Below it, a copy is cheaper than tracking the buffer. */
#define KV_REF_MIN_BYTES ((size_t)16 * 1024)
/* A field tag and a 64-bit varint. */
#define KV_PB_HEAD_MAX 11

static void free_value(void *value) {
  soupc__free(value);
}

/* Sends GetResponse{value} without copying the value: the transport owns
 * it (and releases or frees it) from here on. */
static void reply_by_ref(soupc_call *call, struct store_result *res) {
  uint8_t head[KV_PB_HEAD_MAX];
  size_t head_len = 0, n = res->value_len;

  /* protobuf encoding: field 1, wire type 2 (length-delimited). */
  head[head_len++] = (1 << 3) | 2;
  do {
    head[head_len++] = (uint8_t)((n & 0x7F) | (n > 0x7F ? 0x80 : 0));
    n >>= 7;
  } while (n > 0);
  if (res->release != NULL) {
    soupc__call_reply_ref(call, head, head_len, res->value, res->value_len,
                          res->release, res->release_arg);
  } else {
    soupc__call_reply_ref(call, head, head_len, res->value, res->value_len,
                          free_value, res->value);
  }
  res->value = NULL; /* taken */
}

/* Answers a Get from the backend's result. Any thread (backend.h). */
static void get_done(struct store_result *res, void *user_data) {
  struct get_op *op = user_data;
  struct kv_service *kv = op->kv;
  soupc_call *call = op->call;
  Proto__GetResponse resp = PROTO__GET_RESPONSE__INIT;
  uint8_t *enriched = NULL, *packed = NULL;
  size_t enriched_len = 0, packed_len;
  int rv;

  if (res->rv == SOUPC_ERR_NOT_FOUND) {
    char desc[128];
    soupc__kv_key_describe(desc, sizeof(desc), op->key, op->key_len);
    soupc_call_fail(call, SOUPC_GRPC_NOT_FOUND, "key not found: %s", desc);
    goto done;
  }
  if (res->rv != 0) {
    if (res->status.message[0] != '\0') {
      soupc_call_fail(call, res->status.code, "%s", res->status.message);
    } else {
      soupc_call_fail(call, soupc_err_to_grpc(res->rv), "reading the store: %s",
                      soupc_strerror(res->rv));
    }
    goto done;
  }
  if (!kv->enrich_json && res->value_len >= KV_REF_MIN_BYTES) {
    reply_by_ref(call, res);
    goto done;
  }
  resp.value.data = res->value;
  resp.value.len = res->value_len;
  if (kv->enrich_json) {
    struct kv_enrich_info info = {&kv->enrich, soupc_call_peer(call),
                                  seconds_since(&kv->started)};
    rv = soupc__kv_enrich_json(&enriched, &enriched_len, res->value,
                               res->value_len, &info);
    if (rv == 1) {
      resp.value.data = enriched;
      resp.value.len = enriched_len;
    }
  }
  packed_len = proto__get_response__get_packed_size(&resp);
  packed = soupc__malloc(packed_len);
  if (packed == NULL) {
    soupc_call_fail(call, SOUPC_GRPC_RESOURCE_EXHAUSTED,
                    "out of memory packing a %zu-byte value", res->value_len);
    goto done;
  }
  proto__get_response__pack(&resp, packed);
  soupc_call_reply(call, packed, packed_len);

done:
  soupc__free(packed);
  soupc__free(enriched);
  soupc__free(op);
}

static void handle_get(soupc_call *call, const uint8_t *req, size_t req_len,
                       void *user_data) {
  struct kv_service *kv = user_data;
  Proto__GetRequest *msg;
  struct get_op *op;
  soupc_status st;
  int rv;

  msg = proto__get_request__unpack(&pb_allocator, req_len, req);
  if (msg == NULL) {
    soupc_call_fail(call, SOUPC_GRPC_INVALID_ARGUMENT,
                    "GetRequest is not a valid protobuf message");
    return;
  }
  if (check_key(kv, &msg->key, &st) != 0) {
    soupc_call_fail(call, st.code, "%s", st.message);
    goto done;
  }
  op = soupc__malloc(sizeof(*op) + msg->key.len);
  if (op == NULL) {
    soupc_call_fail(call, SOUPC_GRPC_RESOURCE_EXHAUSTED, "out of memory");
    goto done;
  }
  op->call = call;
  op->kv = kv;
  op->key_len = msg->key.len;
  memcpy(op->key, msg->key.data, msg->key.len);
  rv = soupc__backend_get(kv->backend, op->key, op->key_len, get_done, op);
  if (rv != 0) {
    soupc__free(op);
    soupc_call_fail(call, soupc_err_to_grpc(rv), "reading the store: %s",
                    soupc_strerror(rv));
  }

done:
  proto__get_request__free_unpacked(msg, &pb_allocator);
}

/* Runs once the backend has made the Put durable, or failed it (LMDB: on
 * the commit thread; etcd: on its channel's I/O thread). */
static void put_done(struct store_result *res, void *user_data) {
  struct put_op *op = user_data;
  soupc_call *call = op->call;
  int rv = res->rv;

  atomic_fetch_sub(&op->kv->inflight_bytes, op->bytes);
  soupc__free(op);

  if (rv == 0) {
    soupc_call_reply(call, NULL, 0);
  } else if (res->status.message[0] != '\0') {
    soupc_call_fail(call, res->status.code, "%s", res->status.message);
  } else if (rv == SOUPC_ERR_STORE_FULL) {
    soupc_call_fail(call, SOUPC_GRPC_RESOURCE_EXHAUSTED,
                    "the store is full (LMDB map size reached)");
  } else {
    soupc_call_fail(call, SOUPC_GRPC_INTERNAL, "committing the Put: %s",
                    soupc_strerror(rv));
  }
}

static void handle_put(soupc_call *call, const uint8_t *req, size_t req_len,
                       void *user_data) {
  struct kv_service *kv = user_data;
  Proto__PutRequest *msg;
  struct put_op *op;
  soupc_status st;
  size_t value_len, queued;
  int rv;

  msg = proto__put_request__unpack(&pb_allocator, req_len, req);
  if (msg == NULL) {
    soupc_call_fail(call, SOUPC_GRPC_INVALID_ARGUMENT,
                    "PutRequest is not a valid protobuf message");
    return;
  }
  if (check_key(kv, &msg->key, &st) != 0) {
    soupc_call_fail(call, st.code, "%s", st.message);
    goto done;
  }
  value_len = msg->value.len;
  op = soupc__malloc(sizeof(*op));
  if (op == NULL) {
    soupc_call_fail(call, SOUPC_GRPC_RESOURCE_EXHAUSTED, "out of memory");
    goto done;
  }
  op->call = call;
  op->kv = kv;
  op->bytes = msg->key.len + value_len;
  queued = atomic_fetch_add(&kv->inflight_bytes, op->bytes);
  if (queued > 0 && queued + op->bytes > KV_MAX_INFLIGHT_BYTES) {
    atomic_fetch_sub(&kv->inflight_bytes, op->bytes);
    soupc__free(op);
    soupc_call_fail(call, SOUPC_GRPC_RESOURCE_EXHAUSTED,
                    "server busy: %zu bytes of Puts are waiting to commit "
                    "(limit %zu); retry",
                    queued, KV_MAX_INFLIGHT_BYTES);
    goto done;
  }
  if (value_len >= KV_REF_MIN_BYTES && msg->value.data != NULL) {
    /* A large value goes to the store in protobuf-c's own buffer, which
     * the store takes instead of copying (backend.h, put_take). */
    uint8_t *val = msg->value.data;

    msg->value.data = NULL;
    msg->value.len = 0;
    rv = soupc__backend_put_take(kv->backend, msg->key.data, msg->key.len, val,
                                 value_len, put_done, op);
    if (rv != 0) {
      soupc__free(val);
    }
  } else {
    rv = soupc__backend_put(kv->backend, msg->key.data, msg->key.len,
                            msg->value.data, value_len, put_done, op);
  }
  if (rv != 0) {
    atomic_fetch_sub(&kv->inflight_bytes, op->bytes);
    soupc__free(op);
    soupc_call_fail(call, soupc_err_to_grpc(rv), "queueing the Put: %s",
                    soupc_strerror(rv));
  }

done:
  proto__put_request__free_unpacked(msg, &pb_allocator);
}

int soupc__kv_service_health(struct kv_service *kv, soupc_status *st) {
  return soupc__backend_health(kv->backend, st);
}

int soupc__kv_service_register(struct kv_service *kv, soupc_server *srv) {
  int rv;

  rv = soupc_server_add_unary(srv, "/proto.KV/Get", handle_get, kv);
  if (rv != 0) {
    return rv;
  }
  return soupc_server_add_unary(srv, "/proto.KV/Put", handle_put, kv);
}
