/* Key rules (issue 2 §4): any proto3 string, so valid UTF-8 (NUL included),
 * non-empty, and at most --max-key-size bytes. No key becomes a file name, so
 * "/", ".." and control characters are ordinary data. */
#include "kv/kv.h"

#include <stdio.h>
#include <utf8proc.h>

int soupc__kv_key_validate(const uint8_t *key, size_t len, size_t max_key_size,
                           soupc_status *st) {
  size_t off = 0;

  if (len == 0) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT, "key is empty");
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  if (len > max_key_size) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "key is %zu bytes; the limit is %zu bytes", len,
                     max_key_size);
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  while (off < len) {
    utf8proc_int32_t cp;
    utf8proc_ssize_t n =
        utf8proc_iterate(key + off, (utf8proc_ssize_t)(len - off), &cp);
    if (n <= 0) {
      soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                       "key is not valid UTF-8 (bad byte 0x%02x at offset %zu)",
                       key[off], off);
      return SOUPC_ERR_INVALID_ARGUMENT;
    }
    off += (size_t)n;
  }
  return 0;
}

void soupc__kv_key_describe(char *buf, size_t cap, const uint8_t *key,
                            size_t len) {
  size_t used = 0, i;

  if (cap == 0) {
    return;
  }
  for (i = 0; i < len; i++) {
    int n;
    if (used + 8 >= cap) {
      if (used + 4 <= cap) {
        buf[used++] = '.';
        buf[used++] = '.';
        buf[used++] = '.';
      }
      break;
    }
    if (key[i] >= 0x20 && key[i] != 0x7f && key[i] != '\\') {
      buf[used++] = (char)key[i];
      continue;
    }
    n = snprintf(buf + used, cap - used, "\\x%02x", key[i]);
    used += n > 0 ? (size_t)n : 0;
  }
  buf[used < cap ? used : cap - 1] = '\0';
}
