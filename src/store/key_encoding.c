/* Key encoding and record layout; see key_encoding.h for the format. */
#include "store/key_encoding.h"

#include <stdint.h>
#include <string.h>

#include <openssl/sha.h>

#include "soupc/soupc.h"

size_t soupc__store_key_encode(uint8_t out[STORE_KEY_ENC_MAX],
                               const uint8_t *key, size_t key_len) {
  if (key_len <= STORE_KEY_INLINE_MAX) {
    memcpy(out, key, key_len);
    return key_len;
  }
  /* Keep a 400-byte prefix so related long keys still sort together, then
   * a 0xFF marker and the digest of the whole key. */
  memcpy(out, key, STORE_KEY_INLINE_MAX);
  out[STORE_KEY_INLINE_MAX] = 0xFF;
  SHA256(key, key_len, out + STORE_KEY_INLINE_MAX + 1);
  return STORE_KEY_ENC_MAX;
}

int soupc__store_record_size(size_t *out, size_t key_len, size_t val_len) {
  size_t hdr = 0;

  if (key_len > STORE_KEY_INLINE_MAX) {
    if (key_len > SIZE_MAX - STORE_RECORD_HDR) {
      return SOUPC_ERR_TOO_LARGE;
    }
    hdr = STORE_RECORD_HDR + key_len;
  }
  if (val_len > SIZE_MAX - hdr) {
    return SOUPC_ERR_TOO_LARGE;
  }
  *out = hdr + val_len;
  return 0;
}

void soupc__store_record_write(uint8_t *dst, const uint8_t *key, size_t key_len,
                               const uint8_t *val, size_t val_len) {
  uint64_t n = key_len;
  int i;

  if (key_len > STORE_KEY_INLINE_MAX) {
    for (i = 0; i < STORE_RECORD_HDR; i++) {
      *dst++ = (uint8_t)(n >> (8 * i));
    }
    memcpy(dst, key, key_len);
    dst += key_len;
  }
  if (val_len > 0) {
    memcpy(dst, val, val_len);
  }
}

int soupc__store_record_value(const uint8_t **val_out, size_t *len_out,
                              const uint8_t *rec, size_t rec_len,
                              const uint8_t *key, size_t key_len) {
  uint64_t n = 0;
  int i;

  if (key_len <= STORE_KEY_INLINE_MAX) {
    *val_out = rec;
    *len_out = rec_len;
    return 0;
  }
  if (rec_len < STORE_RECORD_HDR) {
    return SOUPC_ERR_STORE;
  }
  for (i = 0; i < STORE_RECORD_HDR; i++) {
    n |= (uint64_t)rec[i] << (8 * i);
  }
  if (n > rec_len - STORE_RECORD_HDR) {
    return SOUPC_ERR_STORE;
  }
  /* Same 433-byte LMDB key but another full key: a SHA-256 collision.
   * Never hand out another key's value. */
  if (n != key_len || memcmp(rec + STORE_RECORD_HDR, key, key_len) != 0) {
    return SOUPC_ERR_NOT_FOUND;
  }
  *val_out = rec + STORE_RECORD_HDR + key_len;
  *len_out = rec_len - STORE_RECORD_HDR - key_len;
  return 0;
}
