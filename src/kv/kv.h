/* The proto.KV service (rpc-spec.md §1.1) on a store backend and the
 * transport/ layer (kv/ layer header). */
#ifndef SOUPC_KV_KV_H
#define SOUPC_KV_KV_H

#include <stddef.h>
#include <stdint.h>

#include "soupc/rpc.h"
#include "store/backend.h"

#define KV_DEFAULT_MAX_KEY_SIZE ((size_t)64 * 1024)

struct kv_service;

struct kv_options {
  size_t max_key_size; /* bytes; 0 = 64 KiB */
  int enrich_json;     /* add "server_handshake" to JSON objects on Get */
};

/* Creates the service on an open @p backend (borrowed; it must outlive the
 * service). @return 0 or SOUPC_ERR_NOMEM. */
int soupc__kv_service_new(struct kv_service **out,
                          struct store_backend *backend,
                          const struct kv_options *opts);

/* Registers /proto.KV/Get and /proto.KV/Put on @p srv. */
int soupc__kv_service_register(struct kv_service *kv, soupc_server *srv);

/* Checks the store backend (backend.h health). @return 0 with a one-line
 * description in @p st, or a soupc_err with the reason in @p st. Blocks for
 * at most the backend's timeout. */
int soupc__kv_service_health(struct kv_service *kv, soupc_status *st);

/* Registers grpc.health.v1.Health/Check on @p srv (standalone mode; plugin
 * mode has go-plugin's): "" and "plugin" SERVING, "proto.KV" SERVING when
 * the backend is healthy, else UNAVAILABLE with its reason. */
int soupc__kv_health_register(struct kv_service *kv, soupc_server *srv);

/* Accepts NULL. Every call must have finished (the server is freed). */
void soupc__kv_service_free(struct kv_service *kv);

/* Checks a key: non-empty, at most @p max_key_size bytes, valid UTF-8.
 * @return 0, or SOUPC_ERR_INVALID_ARGUMENT with a message in @p st that says
 * which rule failed. */
int soupc__kv_key_validate(const uint8_t *key, size_t len, size_t max_key_size,
                           soupc_status *st);

/* Writes a printable, truncated form of @p key into @p buf (for messages):
 * non-printable bytes become \xNN, and a long key ends with "...". */
void soupc__kv_key_describe(char *buf, size_t cap, const uint8_t *key,
                            size_t len);

/* What a Get of a JSON object reports about the server (rpc-spec.md §5.1),
 * read from the environment once when the service starts. */
struct kv_enrich_config {
  char protocol_version[32]; /* $PLUGIN_PROTOCOL_VERSIONS or "1" */
  char tls_mode[32];         /* $TLS_MODE or "unknown" */
  char server_language[32];  /* $SERVER_LANGUAGE or "c" */
  char client_language[32];  /* $CLIENT_LANGUAGE or "unknown" */
  char combo_id[128];        /* $COMBO_ID or "unknown" */
  char key_type[16];         /* $TLS_KEY_TYPE; "" = no crypto_config */
  char curve[32];            /* $TLS_CURVE (ec only) */
  long key_size;             /* from $TLS_KEY_SIZE or the curve; -1 = none */
  char cert_fingerprint[65]; /* sha256 hex of $PLUGIN_SERVER_CERT's file; "" =
                                null */
};

/* Fills @p cfg from the environment. */
void soupc__kv_enrich_config_load(struct kv_enrich_config *cfg);

/* One Get's facts. */
struct kv_enrich_info {
  const struct kv_enrich_config *config;
  const char *endpoint; /* the peer address, or NULL for "unknown" */
  double received_at;   /* seconds since the service started */
};

/* If @p value is a JSON object, returns 1 and a malloc'd copy (free with
 * soupc__free) with a "server_handshake" object added (or replaced) as its
 * last member; member order and number text are otherwise kept. Every other
 * value (arrays, scalars, null, invalid JSON) returns 0 and *out is
 * untouched: it passes through unchanged. @return 1, 0 or SOUPC_ERR_NOMEM. */
int soupc__kv_enrich_json(uint8_t **out, size_t *out_len, const uint8_t *value,
                          size_t len, const struct kv_enrich_info *info);

#endif
