/* --reattach JSON and --plugin-sha256 HEX for the KV client (go-plugin's
 * ClientConfig.Reattach and SecureConfig, as their users write them).
 *
 * --reattach takes go-plugin's ReattachConfig the way Terraform's
 * TF_REATTACH_PROVIDERS spells it:
 *   {"Protocol":"grpc","ProtocolVersion":1,"Pid":1234,
 *    "Addr":{"Network":"unix","String":"/tmp/plugin123"}}
 * or that map itself ({"<provider address>": {...}}) with one entry. The
 * address may also be Go's encoding of a net.UnixAddr or net.TCPAddr
 * ({"Net":"unix","Name":"/tmp/p"}, {"IP":"127.0.0.1","Port":1234}). */
#include "cli/client_target.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

static const char *str_at(yajl_val obj, const char *key) {
  const char *path[] = {key, NULL};
  yajl_val v = yajl_tree_get(obj, path, yajl_t_string);

  return v != NULL ? YAJL_GET_STRING(v) : NULL;
}

static int int_at(yajl_val obj, const char *key, long long *out) {
  const char *path[] = {key, NULL};
  yajl_val v = yajl_tree_get(obj, path, yajl_t_number);

  if (v == NULL || !YAJL_IS_INTEGER(v)) {
    return -1;
  }
  *out = YAJL_GET_INTEGER(v);
  return 0;
}

/* The ReattachConfig object: @p root itself, or the one value of a
 * Terraform-style map. */
static yajl_val config_object(yajl_val root, soupc_status *st) {
  const char *path[] = {"Addr", NULL};

  if (!YAJL_IS_OBJECT(root)) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "--reattach: want a JSON object");
    return NULL;
  }
  if (yajl_tree_get(root, path, yajl_t_any) != NULL) {
    return root;
  }
  if (root->u.object.len == 1 && YAJL_IS_OBJECT(root->u.object.values[0])) {
    return root->u.object.values[0];
  }
  soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                   "--reattach: no \"Addr\" (want go-plugin's ReattachConfig, "
                   "or a map with exactly one)");
  return NULL;
}

/* Network and address from "Addr". @return 0 or -1 with @p st set. */
static int parse_addr(struct client_reattach *r, yajl_val cfg,
                      soupc_status *st) {
  const char *path[] = {"Addr", NULL};
  yajl_val addr = yajl_tree_get(cfg, path, yajl_t_object);
  const char *net, *where;
  long long port;

  if (addr == NULL) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "--reattach: \"Addr\" must be an object");
    return -1;
  }
  net = str_at(addr, "Network");
  where = str_at(addr, "String");
  if (net == NULL) { /* Go's net.UnixAddr */
    net = str_at(addr, "Net");
    where = str_at(addr, "Name");
  }
  if (net == NULL && str_at(addr, "IP") != NULL &&
      int_at(addr, "Port", &port) == 0 && port > 0 && port < 65536) {
    snprintf(r->address, sizeof(r->address), "%s:%lld", str_at(addr, "IP"),
             port); /* Go's net.TCPAddr */
    snprintf(r->network, sizeof(r->network), "tcp");
    return 0;
  }
  if (net == NULL || where == NULL || where[0] == '\0' ||
      (strcmp(net, "unix") != 0 && strcmp(net, "tcp") != 0)) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "--reattach: \"Addr\" needs \"Network\" (unix or tcp) "
                     "and \"String\" (the address)");
    return -1;
  }
  if (strlen(where) >= sizeof(r->address)) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "--reattach: the address is over %zu bytes",
                     sizeof(r->address) - 1);
    return -1;
  }
  snprintf(r->network, sizeof(r->network), "%s", net);
  snprintf(r->address, sizeof(r->address), "%s", where);
  return 0;
}

int client_reattach_parse(struct client_reattach *r, const char *json,
                          soupc_status *st) {
  char err[200] = "";
  yajl_val root = yajl_tree_parse(json, err, sizeof(err));
  yajl_val cfg;
  const char *proto;
  long long n = 0;
  int rv = -1;

  memset(r, 0, sizeof(*r));
  if (root == NULL) {
    char *nl = strchr(err, '\n');

    if (nl != NULL) {
      *nl = '\0';
    }
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "--reattach: not JSON: %s", err);
    return -1;
  }
  cfg = config_object(root, st);
  if (cfg == NULL || parse_addr(r, cfg, st) != 0) {
    goto done;
  }
  proto = str_at(cfg, "Protocol");
  snprintf(r->protocol, sizeof(r->protocol), "%s",
           proto != NULL && proto[0] != '\0' ? proto : "grpc");
  if (int_at(cfg, "ProtocolVersion", &n) == 0 && (n < 0 || n > 1000000)) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "--reattach: \"ProtocolVersion\" %lld is out of range", n);
    goto done;
  }
  r->protocol_version = (int)n;
  n = 0;
  if (int_at(cfg, "Pid", &n) == 0 && (n < 0 || n > 0x3fffffff)) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "--reattach: \"Pid\" %lld is out of range", n);
    goto done;
  }
  r->pid = (pid_t)n;
  rv = 0;

done:
  yajl_tree_free(root);
  return rv;
}

int client_parse_sha256(uint8_t out[32], const char *hex, soupc_status *st) {
  size_t i, len = strlen(hex);

  if (len != 64) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "--plugin-sha256: want 64 hex digits, got %zu characters",
                     len);
    return -1;
  }
  for (i = 0; i < 32; i++) {
    char pair[3] = {hex[2 * i], hex[2 * i + 1], '\0'};

    if (!isxdigit((unsigned char)pair[0]) ||
        !isxdigit((unsigned char)pair[1])) {
      soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                       "--plugin-sha256: \"%s\" is not hex", pair);
      return -1;
    }
    out[i] = (uint8_t)strtoul(pair, NULL, 16);
  }
  return 0;
}
