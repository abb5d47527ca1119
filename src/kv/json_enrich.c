/* Opt-in JSON enrichment on Get (rpc-spec.md §5). Unlike soup-go, a value of
 * `null`, an array or a scalar passes through unchanged (§5.3: soup-go
 * panics on `null`), member order and number text are kept (§5.2: soup-go
 * rewrites numbers through float64), and nothing is HTML-escaped. yajl
 * parses and generates; numbers stay as their source text. */
#include "kv/kv.h"

#include "base/alloc.h"

#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

static void copy_env(char *dst, size_t cap, const char *name,
                     const char *fallback) {
  const char *v = getenv(name);

  snprintf(dst, cap, "%s", v != NULL && *v != '\0' ? v : fallback);
}

/* sha256 hex of a file's bytes, as soup-go's enrichment computes it. */
static void file_sha256_hex(char out[65], const char *path) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  unsigned char buf[8192];
  EVP_MD_CTX *ctx;
  FILE *f;
  size_t n;
  unsigned int i;

  out[0] = '\0';
  f = fopen(path, "rb");
  if (f == NULL) {
    return;
  }
  ctx = EVP_MD_CTX_new();
  if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
    goto done;
  }
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
    EVP_DigestUpdate(ctx, buf, n);
  }
  if (!ferror(f) && EVP_DigestFinal_ex(ctx, md, &md_len) == 1) {
    for (i = 0; i < md_len && i < 32; i++) {
      snprintf(out + 2 * (size_t)i, 3, "%02x", md[i]);
    }
  }
done:
  EVP_MD_CTX_free(ctx);
  fclose(f);
}

void soupc__kv_enrich_config_load(struct kv_enrich_config *cfg) {
  const char *size, *cert;

  memset(cfg, 0, sizeof(*cfg));
  copy_env(cfg->protocol_version, sizeof(cfg->protocol_version),
           "PLUGIN_PROTOCOL_VERSIONS", "1");
  copy_env(cfg->tls_mode, sizeof(cfg->tls_mode), "TLS_MODE", "unknown");
  copy_env(cfg->server_language, sizeof(cfg->server_language),
           "SERVER_LANGUAGE", "c");
  copy_env(cfg->client_language, sizeof(cfg->client_language),
           "CLIENT_LANGUAGE", "unknown");
  copy_env(cfg->combo_id, sizeof(cfg->combo_id), "COMBO_ID", "unknown");
  copy_env(cfg->key_type, sizeof(cfg->key_type), "TLS_KEY_TYPE", "");
  cfg->key_size = -1;
  if (strcmp(cfg->key_type, "rsa") == 0) {
    size = getenv("TLS_KEY_SIZE");
    if (size != NULL && *size != '\0') {
      cfg->key_size = strtol(size, NULL, 10); /* garbage gives 0, as Go */
    }
  } else if (strcmp(cfg->key_type, "ec") == 0) {
    copy_env(cfg->curve, sizeof(cfg->curve), "TLS_CURVE", "");
    if (strcmp(cfg->curve, "secp256r1") == 0) {
      cfg->key_size = 256;
    } else if (strcmp(cfg->curve, "secp384r1") == 0) {
      cfg->key_size = 384;
    } else if (strcmp(cfg->curve, "secp521r1") == 0) {
      cfg->key_size = 521;
    }
  }
  cert = getenv("PLUGIN_SERVER_CERT");
  if (cert != NULL && *cert != '\0') {
    file_sha256_hex(cfg->cert_fingerprint, cert);
  }
}

static void gen_cstr(yajl_gen g, const char *s) {
  yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

static void gen_handshake(yajl_gen g, const struct kv_enrich_info *info) {
  const struct kv_enrich_config *cfg = info->config;
  char stamp[32], num[64];
  struct tm tm;
  time_t now = time(NULL);

  gmtime_r(&now, &tm);
  strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
  yajl_gen_map_open(g);
  gen_cstr(g, "endpoint");
  gen_cstr(g, info->endpoint != NULL && *info->endpoint != '\0' ? info->endpoint
                                                                : "unknown");
  gen_cstr(g, "protocol_version");
  gen_cstr(g, cfg->protocol_version);
  gen_cstr(g, "tls_mode");
  gen_cstr(g, cfg->tls_mode);
  gen_cstr(g, "timestamp");
  gen_cstr(g, stamp);
  gen_cstr(g, "received_at");
  snprintf(num, sizeof(num), "%.6f", info->received_at);
  yajl_gen_number(g, num, strlen(num));
  gen_cstr(g, "server_language");
  gen_cstr(g, cfg->server_language);
  gen_cstr(g, "client_language");
  gen_cstr(g, cfg->client_language);
  gen_cstr(g, "combo_id");
  gen_cstr(g, cfg->combo_id);
  if (cfg->key_type[0] != '\0') {
    gen_cstr(g, "crypto_config");
    yajl_gen_map_open(g);
    gen_cstr(g, "key_type");
    gen_cstr(g, cfg->key_type);
    if (cfg->curve[0] != '\0') {
      gen_cstr(g, "curve");
      gen_cstr(g, cfg->curve);
    }
    if (cfg->key_size >= 0) {
      gen_cstr(g, "key_size");
      yajl_gen_integer(g, cfg->key_size);
    }
    yajl_gen_map_close(g);
  }
  gen_cstr(g, "cert_fingerprint");
  if (cfg->cert_fingerprint[0] != '\0') {
    gen_cstr(g, cfg->cert_fingerprint);
  } else {
    yajl_gen_null(g);
  }
  yajl_gen_map_close(g);
}

/* Re-emits a parsed value; @p top adds the handshake to the top object. */
static void gen_value(yajl_gen g, yajl_val v,
                      const struct kv_enrich_info *top) {
  size_t i;

  switch (v->type) {
  case yajl_t_string:
    gen_cstr(g, v->u.string);
    break;
  case yajl_t_number:
    yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r));
    break;
  case yajl_t_object:
    yajl_gen_map_open(g);
    for (i = 0; i < v->u.object.len; i++) {
      if (top != NULL && strcmp(v->u.object.keys[i], "server_handshake") == 0) {
        continue;
      }
      gen_cstr(g, v->u.object.keys[i]);
      gen_value(g, v->u.object.values[i], NULL);
    }
    if (top != NULL) {
      gen_cstr(g, "server_handshake");
      gen_handshake(g, top);
    }
    yajl_gen_map_close(g);
    break;
  case yajl_t_array:
    yajl_gen_array_open(g);
    for (i = 0; i < v->u.array.len; i++) {
      gen_value(g, v->u.array.values[i], NULL);
    }
    yajl_gen_array_close(g);
    break;
  case yajl_t_true:
    yajl_gen_bool(g, 1);
    break;
  case yajl_t_false:
    yajl_gen_bool(g, 0);
    break;
  default:
    yajl_gen_null(g);
    break;
  }
}

/* yajl_gen refuses to open a container YAJL_MAX_DEPTH (128) deep and then
 * writes broken JSON, and yajl_tree_parse and yajl_tree_free recurse once
 * per level (a million levels overflow the stack). So a value nested deeper
 * than yajl_gen allows passes through as stored. soup-go's encoding/json
 * would enrich up to 10,000 levels: a documented difference (README). */
#define ENRICH_MAX_NESTING (YAJL_MAX_DEPTH - 1)

/* @return true when @p value opens more than ENRICH_MAX_NESTING arrays and
 * objects at once (brackets inside strings do not count). */
static bool nests_too_deeply(const uint8_t *value, size_t len) {
  size_t i, depth = 0;
  bool in_string = false;

  for (i = 0; i < len; i++) {
    uint8_t c = value[i];
    if (in_string) {
      if (c == '\\') {
        i++; /* the escaped byte cannot end the string */
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > ENRICH_MAX_NESTING) {
        return true;
      }
    } else if ((c == '}' || c == ']') && depth > 0) {
      depth--;
    }
  }
  return false;
}

int soupc__kv_enrich_json(uint8_t **out, size_t *out_len, const uint8_t *value,
                          size_t len, const struct kv_enrich_info *info) {
  const unsigned char *buf;
  size_t buf_len, i = 0;
  char *text;
  yajl_val tree;
  yajl_gen g;
  uint8_t *copy;
  int rv = 0;

  /* Cheap filter first: only something that starts like an object is
   * parsed, and a NUL byte can't be in JSON text. */
  while (i < len && (value[i] == ' ' || value[i] == '\t' || value[i] == '\n' ||
                     value[i] == '\r')) {
    i++;
  }
  if (i == len || value[i] != '{' || memchr(value, '\0', len) != NULL ||
      nests_too_deeply(value + i, len - i)) {
    return 0;
  }
  text = soupc__strndup((const char *)value, len);
  if (text == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  tree = yajl_tree_parse(text, NULL, 0);
  soupc__free(text);
  if (tree == NULL || tree->type != yajl_t_object) {
    yajl_tree_free(tree);
    return 0;
  }
  g = yajl_gen_alloc(NULL);
  if (g == NULL) {
    yajl_tree_free(tree);
    return SOUPC_ERR_NOMEM;
  }
  gen_value(g, tree, info);
  if (yajl_gen_get_buf(g, &buf, &buf_len) == yajl_gen_status_ok) {
    copy = soupc__malloc(buf_len);
    if (copy == NULL) {
      rv = SOUPC_ERR_NOMEM;
    } else {
      memcpy(copy, buf, buf_len);
      *out = copy;
      *out_len = buf_len;
      rv = 1;
    }
  }
  yajl_gen_free(g);
  yajl_tree_free(tree);
  return rv;
}
