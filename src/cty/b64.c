/* Go's encoding/base64 StdEncoding: soup-go carries bytes capsules and
 * msgpack as base64 and reports Go's decoding errors ("illegal base64 data
 * at input byte 4"), whose offsets OpenSSL's decoder does not give. This
 * follows base64.go decodeQuantum: padded, '\r' and '\n' skipped, trailing
 * bits not checked. */
#include "cty/cty_int.h"

#include "base/alloc.h"

#include <string.h>

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int dec_val(unsigned char c) {
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a' + 26;
  }
  if (c >= '0' && c <= '9') {
    return c - '0' + 52;
  }
  if (c == '+') {
    return 62;
  }
  if (c == '/') {
    return 63;
  }
  return -1;
}

int soupc_cty_base64_encode(char **out, size_t *len_out, const void *data,
                            size_t len) {
  const uint8_t *p = data;
  struct cty_buf b;
  size_t i;

  soupc__cty_buf_init(&b);
  for (i = 0; i + 2 < len; i += 3) {
    uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
    soupc__cty_buf_putc(&b, (uint8_t)alphabet[v >> 18]);
    soupc__cty_buf_putc(&b, (uint8_t)alphabet[(v >> 12) & 63]);
    soupc__cty_buf_putc(&b, (uint8_t)alphabet[(v >> 6) & 63]);
    soupc__cty_buf_putc(&b, (uint8_t)alphabet[v & 63]);
  }
  if (len - i == 1) {
    uint32_t v = (uint32_t)p[i] << 16;
    soupc__cty_buf_putc(&b, (uint8_t)alphabet[v >> 18]);
    soupc__cty_buf_putc(&b, (uint8_t)alphabet[(v >> 12) & 63]);
    soupc__cty_buf_puts(&b, "==");
  } else if (len - i == 2) {
    uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
    soupc__cty_buf_putc(&b, (uint8_t)alphabet[v >> 18]);
    soupc__cty_buf_putc(&b, (uint8_t)alphabet[(v >> 12) & 63]);
    soupc__cty_buf_putc(&b, (uint8_t)alphabet[(v >> 6) & 63]);
    soupc__cty_buf_putc(&b, '=');
  }
  return soupc__cty_buf_take(&b, out, len_out);
}

static bool nl(char c) {
  return c == '\n' || c == '\r';
}

/* decodeQuantum: @return 0 (with *n bytes in dst, *done at the end) or
 * the offset of the illegal byte + 1 (so 0 can mean success). */
static size_t quantum(uint8_t *dst, size_t *n, bool *done, const char *src,
                      size_t len, size_t *si_io) {
  uint8_t d[4] = {0, 0, 0, 0};
  size_t si = *si_io, dlen = 4;
  int j;

  *n = 0;
  *done = false;
  for (j = 0; j < 4; j++) {
    unsigned char in;
    int v;
    if (si == len) {
      if (j == 0) {
        *done = true;
        *si_io = si;
        return 0;
      }
      return si - (size_t)j + 1; /* padding is required */
    }
    in = (unsigned char)src[si++];
    v = dec_val(in);
    if (v >= 0) {
      d[j] = (uint8_t)v;
      continue;
    }
    if (nl((char)in)) {
      j--;
      continue;
    }
    if (in != '=') {
      return si; /* si - 1, plus one */
    }
    if (j < 2) {
      return si;
    }
    if (j == 2) {
      while (si < len && nl(src[si])) {
        si++;
      }
      if (si == len) {
        return len + 1;
      }
      if (src[si] != '=') {
        return si; /* (si - 1) + 1 */
      }
      si++;
    }
    while (si < len && nl(src[si])) {
      si++;
    }
    if (si < len) {
      return si + 1; /* trailing garbage */
    }
    dlen = (size_t)j;
    *done = true;
    break;
  }
  {
    uint32_t val = (uint32_t)d[0] << 18 | (uint32_t)d[1] << 12 |
                   (uint32_t)d[2] << 6 | d[3];
    dst[0] = (uint8_t)(val >> 16);
    dst[1] = (uint8_t)(val >> 8);
    dst[2] = (uint8_t)val;
  }
  *n = dlen - 1;
  *si_io = si;
  return 0;
}

int soupc_cty_base64_decode(uint8_t **out, size_t *len_out, const char *s,
                            size_t len, soupc_status *st) {
  uint8_t *d = soupc__malloc(len / 4 * 3 + 4);
  size_t si = 0, o = 0, n, bad;
  bool done = false;

  if (d == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  while (!done) {
    bad = quantum(d + o, &n, &done, s, len, &si);
    if (bad != 0) {
      soupc__free(d);
      soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                       "illegal base64 data at input byte %zu", bad - 1);
      return SOUPC_ERR_CTY_DECODE;
    }
    o += n;
  }
  *out = d;
  *len_out = o;
  return 0;
}
