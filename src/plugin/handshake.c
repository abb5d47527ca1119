/* The go-plugin handshake line: formatting (plugin side) and a tolerant
 * parser (host side, reattach). go-plugin-protocol.md §2.4, §6.2.4;
 * rpc-spec.md §7.2-§7.3. */
#include "plugin/plugin_int.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "soupc/cert.h"

#define MAX_FIELDS 7

/* go-plugin only uses field 6 when it is longer than 50 characters
 * (client.go: "if len(parts) >= 6 && len(parts[5]) > 50"). */
#define MIN_CERT_FIELD_LEN 51

struct field {
  const char *p;
  size_t len;
};

int soupc__plugin_handshake_format(char **out, int app_version,
                                   const char *network, const char *address,
                                   const char *cert_b64, int mux) {
  const char *cert = cert_b64 == NULL ? "" : cert_b64;
  const char *mux_text = mux < 0 ? "" : (mux ? "|true" : "|false");
  size_t cap;
  char *line;

  /* §2.4: Go prints "%d|%d|%s|%s|%s|%s\n"; with no TLS the trailing '|'
   * stays (an empty 6th field), which both v1.0.1 and HEAD hosts expect. */
  cap = strlen(network) + strlen(address) + strlen(cert) + 64;
  line = soupc__malloc(cap);
  if (line == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  snprintf(line, cap, "1|%d|%s|%s|grpc|%s%s\n", app_version, network, address,
           cert, mux_text);
  *out = line;
  return 0;
}

static int is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
         c == '\f';
}

/* Parses a non-negative decimal int with no sign and no spaces. */
static int parse_uint(int *out, const struct field *f) {
  long v = 0;
  size_t i;

  if (f->len == 0 || f->len > 9) {
    return -1;
  }
  for (i = 0; i < f->len; i++) {
    if (f->p[i] < '0' || f->p[i] > '9') {
      return -1;
    }
    v = v * 10 + (f->p[i] - '0');
  }
  *out = (int)v;
  return 0;
}

static int field_is(const struct field *f, const char *s) {
  return f->len == strlen(s) && memcmp(f->p, s, f->len) == 0;
}

/* Quotes a field for an error message, shortened and with control bytes
 * replaced, so the message stays one readable line. */
static void quote(char *buf, size_t cap, const struct field *f) {
  size_t i, n = 0;
  size_t lim = f->len > 40 ? 40 : f->len;

  for (i = 0; i < lim && n + 5 < cap; i++) {
    unsigned char c = (unsigned char)f->p[i];
    buf[n++] = (char)((c < 0x20 || c >= 0x7f) ? '?' : c);
  }
  if (lim < f->len && n + 4 < cap) {
    memcpy(buf + n, "...", 3);
    n += 3;
  }
  buf[n] = '\0';
}

/* A tcp address must be HOST:PORT with a numeric port (Go's
 * net.ResolveTCPAddr); a unix address is any non-empty path. */
static int check_address(const struct field *net, const struct field *addr) {
  const char *colon;
  struct field port;
  int p;

  if (addr->len == 0 || memchr(addr->p, '\0', addr->len) != NULL) {
    return -1;
  }
  if (field_is(net, "unix")) {
    return 0;
  }
  colon = NULL;
  for (size_t i = addr->len; i > 0; i--) {
    if (addr->p[i - 1] == ':') {
      colon = addr->p + i - 1;
      break;
    }
  }
  if (colon == NULL || colon == addr->p) {
    return -1;
  }
  port.p = colon + 1;
  port.len = (size_t)(addr->p + addr->len - port.p);
  if (parse_uint(&p, &port) != 0 || p > 65535) {
    return -1;
  }
  return 0;
}

/* Go: strings.TrimSpace, then strings.Split(line, "|"). @return the number
 * of fields (5..7), or SOUPC_ERR_HANDSHAKE with @p st set. */
static int split_fields(struct field f[MAX_FIELDS], const char *line,
                        size_t len, soupc_status *st) {
  size_t nf = 0, i, start = 0;

  while (len > 0 && is_space(line[0])) {
    line++;
    len--;
  }
  while (len > 0 && is_space(line[len - 1])) {
    len--;
  }
  if (len == 0) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "garbled handshake line: it is empty");
    return SOUPC_ERR_HANDSHAKE;
  }
  for (i = 0; i <= len; i++) {
    if (i == len || line[i] == '|') {
      if (nf == MAX_FIELDS) {
        soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                         "garbled handshake line: more than %d "
                         "'|'-separated fields",
                         MAX_FIELDS);
        return SOUPC_ERR_HANDSHAKE;
      }
      f[nf].p = line + start;
      f[nf].len = i - start;
      nf++;
      start = i + 1;
    }
  }
  if (nf < 5) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "garbled handshake line: %zu '|'-separated field%s; "
                     "expected CORE|APP|NETWORK|ADDR|PROTOCOL[|CERT]",
                     nf, nf == 1 ? "" : "s");
    return SOUPC_ERR_HANDSHAKE;
  }
  return (int)nf;
}

/* Checks fields 1-5 and 7 into @p hs (no allocation). @return 0,
 * SOUPC_ERR_HANDSHAKE or SOUPC_ERR_UNSUPPORTED with @p st set. */
static int check_fields(soupc_plugin_handshake *hs, const struct field *f,
                        size_t nf, soupc_status *st) {
  char q[64];

  if (parse_uint(&hs->core_version, &f[0]) != 0 || hs->core_version != 1) {
    quote(q, sizeof(q), &f[0]);
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "garbled handshake line: field 1 (core protocol version) "
                     "is \"%s\"; expected 1",
                     q);
    return SOUPC_ERR_HANDSHAKE;
  }
  if (parse_uint(&hs->app_version, &f[1]) != 0) {
    quote(q, sizeof(q), &f[1]);
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "garbled handshake line: field 2 (app protocol version) "
                     "is \"%s\"; expected a non-negative integer",
                     q);
    return SOUPC_ERR_HANDSHAKE;
  }
  if (!field_is(&f[2], "unix") && !field_is(&f[2], "tcp")) {
    quote(q, sizeof(q), &f[2]);
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "garbled handshake line: field 3 (network) is \"%s\"; "
                     "expected unix or tcp",
                     q);
    return SOUPC_ERR_HANDSHAKE;
  }
  memcpy(hs->network, f[2].p, f[2].len);
  if (check_address(&f[2], &f[3]) != 0) {
    quote(q, sizeof(q), &f[3]);
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "garbled handshake line: field 4 (address) is \"%s\"; "
                     "expected %s",
                     q, hs->network[0] == 'u' ? "a socket path" : "HOST:PORT");
    return SOUPC_ERR_HANDSHAKE;
  }
  if (field_is(&f[4], "netrpc")) {
    soupc_status_set(st, SOUPC_GRPC_UNIMPLEMENTED,
                     "the plugin speaks netrpc; only grpc is supported");
    return SOUPC_ERR_UNSUPPORTED;
  }
  if (!field_is(&f[4], "grpc")) {
    quote(q, sizeof(q), &f[4]);
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "garbled handshake line: field 5 (protocol) is \"%s\"; "
                     "expected grpc",
                     q);
    return SOUPC_ERR_HANDSHAKE;
  }
  memcpy(hs->protocol, "grpc", 5);
  if (nf == 7) {
    if (field_is(&f[6], "true")) {
      hs->mux = 1;
    } else if (field_is(&f[6], "false")) {
      hs->mux = 0;
    } else {
      quote(q, sizeof(q), &f[6]);
      soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                       "garbled handshake line: field 7 (multiplexing) is "
                       "\"%s\"; expected true or false",
                       q);
      return SOUPC_ERR_HANDSHAKE;
    }
  }

  return 0;
}

/* Field 6 when longer than 50 characters: base64 DER -> hs->cert_der and
 * hs->cert_pem. @return 0, SOUPC_ERR_HANDSHAKE or SOUPC_ERR_NOMEM. */
static int decode_cert(soupc_plugin_handshake *hs, const struct field *f6,
                       soupc_status *st) {
  uint8_t *der = NULL;
  size_t der_len = 0;
  int rv;

  /* §6.2.4: accept padded and unpadded base64 (pyvider re-pads; Go's
   * RawStdEncoding rejects '='), then insist the bytes are a cert. */
  rv = soupc_base64_decode(&der, &der_len, f6->p, f6->len);
  if (rv != 0) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "garbled handshake line: field 6 (server certificate) "
                     "is not base64");
    return SOUPC_ERR_HANDSHAKE;
  }
  hs->cert_der = der;
  hs->cert_der_len = der_len;
  rv = soupc_cert_der_to_pem(&hs->cert_pem, der, der_len);
  if (rv != 0) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "garbled handshake line: field 6 (server certificate) "
                     "is not a DER certificate");
    return rv == SOUPC_ERR_NOMEM ? rv : SOUPC_ERR_HANDSHAKE;
  }
  return 0;
}

int soupc__plugin_handshake_parse_into(soupc_plugin_handshake *out,
                                       const char *line, size_t len,
                                       soupc_status *st) {
  soupc_plugin_handshake hs;
  struct field f[MAX_FIELDS];
  int nf, rv;

  memset(&hs, 0, sizeof(hs));
  hs.mux = -1;
  nf = split_fields(f, line, len, st);
  if (nf < 0) {
    return nf;
  }
  rv = check_fields(&hs, f, (size_t)nf, st);
  if (rv != 0) {
    return rv;
  }
  hs.address = soupc__strndup(f[3].p, f[3].len);
  hs.dial_address = soupc__malloc(f[3].len + 6);
  if (hs.address == NULL || hs.dial_address == NULL) {
    rv = SOUPC_ERR_NOMEM;
    goto fail;
  }
  snprintf(hs.dial_address, f[3].len + 6, "%s%s",
           hs.network[0] == 'u' ? "unix:" : "", hs.address);
  if (nf >= 6 && f[5].len >= MIN_CERT_FIELD_LEN) {
    rv = decode_cert(&hs, &f[5], st);
    if (rv != 0) {
      goto fail;
    }
  }
  *out = hs;
  return 0;

fail:
  soupc__plugin_handshake_dispose(&hs);
  return rv;
}

void soupc__plugin_handshake_dispose(soupc_plugin_handshake *hs) {
  if (hs == NULL) {
    return;
  }
  soupc__free(hs->address);
  soupc__free(hs->dial_address);
  /* cert.h: both come from the tls layer's allocator (free()). */
  free(hs->cert_der);
  free(hs->cert_pem);
  memset(hs, 0, sizeof(*hs));
  hs->mux = -1;
}

/* The public form allocates the struct, so that fields added later never
 * write past a caller's older, smaller struct (docs/api/abi.md). */
int soupc_plugin_handshake_parse(soupc_plugin_handshake **out, const char *line,
                                 size_t len, soupc_status *st) {
  soupc_plugin_handshake *hs;
  int rv;

  assert(out != NULL);
  hs = soupc__calloc(1, sizeof(*hs));
  if (hs == NULL) {
    soupc_status_set(st, SOUPC_GRPC_RESOURCE_EXHAUSTED, "out of memory");
    return SOUPC_ERR_NOMEM;
  }
  rv = soupc__plugin_handshake_parse_into(hs, line, len, st);
  if (rv != 0) {
    soupc__free(hs);
    return rv;
  }
  *out = hs;
  return 0;
}

void soupc_plugin_handshake_free(soupc_plugin_handshake *hs) {
  if (hs == NULL) {
    return;
  }
  soupc__plugin_handshake_dispose(hs);
  soupc__free(hs);
}

int soupc__plugin_reattach_line(char **out, const soupc_plugin_reattach *rc,
                                soupc_status *st) {
  const char *proto =
      rc->protocol == NULL || rc->protocol[0] == '\0' ? "grpc" : rc->protocol;
  char *b64 = NULL;
  int rv;

  if (rc->network == NULL || rc->address == NULL) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "reattach config needs a network and an address");
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  if (strcmp(proto, "grpc") != 0) {
    /* Like go-plugin's "unsupported plugin protocol" for a gRPC-only host. */
    soupc_status_set(st, SOUPC_GRPC_UNIMPLEMENTED,
                     "unsupported plugin protocol \"%s\"; only grpc is "
                     "supported",
                     proto);
    return SOUPC_ERR_UNSUPPORTED;
  }
  if (rc->server_cert_pem != NULL) {
    uint8_t *der = NULL;
    size_t der_len = 0;

    rv = soupc_cert_pem_to_der(&der, &der_len, rc->server_cert_pem);
    if (rv == 0) {
      rv = soupc_base64_encode_unpadded(&b64, der, der_len);
    }
    free(der);
    if (rv != 0) {
      soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                       "reattach config: server_cert_pem is not a PEM "
                       "certificate");
      return rv == SOUPC_ERR_NOMEM ? rv : SOUPC_ERR_INVALID_ARGUMENT;
    }
  }
  rv = soupc__plugin_handshake_format(out, rc->protocol_version, rc->network,
                                      rc->address, b64, -1);
  free(b64);
  return rv;
}
