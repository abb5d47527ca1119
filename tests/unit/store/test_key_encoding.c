/* src/store/key_encoding.c: LMDB key form and record layout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include <openssl/sha.h>

#include "store/key_encoding.h"

static void short_keys_are_their_own_lmdb_key(void **state) {
  uint8_t key[STORE_KEY_INLINE_MAX], out[STORE_KEY_ENC_MAX];
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(key); i++) {
    key[i] = (uint8_t)(i ^ 0xA5);
  }
  assert_int_equal(soupc__store_key_encode(out, key, 1), 1);
  assert_int_equal(out[0], key[0]);
  assert_int_equal(soupc__store_key_encode(out, key, sizeof(key)),
                   STORE_KEY_INLINE_MAX);
  assert_memory_equal(out, key, sizeof(key));
}

static void long_keys_become_prefix_marker_and_sha256(void **state) {
  uint8_t key[5000], out[STORE_KEY_ENC_MAX], digest[SHA256_DIGEST_LENGTH];

  (void)state;
  memset(key, 'z', sizeof(key));
  key[4999] = 'y';
  assert_int_equal(soupc__store_key_encode(out, key, sizeof(key)), 433);
  assert_memory_equal(out, key, 400);
  assert_int_equal(out[400], 0xFF);
  SHA256(key, sizeof(key), digest);
  assert_memory_equal(out + 401, digest, 32);
  /* 433 bytes fits LMDB's default 511-byte key limit. */
  assert_true(STORE_KEY_ENC_MAX <= 511);
}

static void inline_record_is_the_raw_value(void **state) {
  const uint8_t *val;
  size_t len, size;

  (void)state;
  assert_int_equal(soupc__store_record_size(&size, 10, 5), 0);
  assert_int_equal(size, 5);
  assert_int_equal(soupc__store_record_size(&size, 10, 0), 0);
  assert_int_equal(size, 0);
  assert_int_equal(soupc__store_record_value(&val, &len,
                                             (const uint8_t *)"hello", 5,
                                             (const uint8_t *)"k", 1),
                   0);
  assert_int_equal(len, 5);
  assert_memory_equal(val, "hello", 5);
}

static void hashed_record_carries_the_full_key(void **state) {
  uint8_t key[401], rec[8 + 401 + 3];
  const uint8_t *val;
  size_t size, len;

  (void)state;
  memset(key, 'k', sizeof(key));
  assert_int_equal(soupc__store_record_size(&size, sizeof(key), 3), 0);
  assert_int_equal(size, sizeof(rec));
  soupc__store_record_write(rec, key, sizeof(key), (const uint8_t *)"abc", 3);
  assert_int_equal(rec[0], 401 & 0xFF);
  assert_int_equal(rec[1], 401 >> 8);
  assert_int_equal(
      soupc__store_record_value(&val, &len, rec, sizeof(rec), key, sizeof(key)),
      0);
  assert_int_equal(len, 3);
  assert_memory_equal(val, "abc", 3);
}

static void record_of_another_key_reads_as_not_found(void **state) {
  uint8_t key[401], other[401], rec[8 + 401];
  const uint8_t *val;
  size_t len;

  (void)state;
  memset(key, 'k', sizeof(key));
  memcpy(other, key, sizeof(other));
  other[400] = 'X';
  /* As if SHA-256(other) == SHA-256(key): same LMDB key, other record. */
  soupc__store_record_write(rec, other, sizeof(other), NULL, 0);
  assert_int_equal(
      soupc__store_record_value(&val, &len, rec, sizeof(rec), key, sizeof(key)),
      SOUPC_ERR_NOT_FOUND);
}

static void truncated_record_is_a_store_error(void **state) {
  uint8_t key[401], rec[8 + 401];
  const uint8_t *val;
  size_t len;

  (void)state;
  memset(key, 'k', sizeof(key));
  soupc__store_record_write(rec, key, sizeof(key), NULL, 0);
  assert_int_equal(
      soupc__store_record_value(&val, &len, rec, 7, key, sizeof(key)),
      SOUPC_ERR_STORE);
  assert_int_equal(
      soupc__store_record_value(&val, &len, rec, 100, key, sizeof(key)),
      SOUPC_ERR_STORE);
}

static void absurd_lengths_are_too_large(void **state) {
  size_t size;

  (void)state;
  assert_int_equal(soupc__store_record_size(&size, 1000, SIZE_MAX - 100),
                   SOUPC_ERR_TOO_LARGE);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(short_keys_are_their_own_lmdb_key),
      cmocka_unit_test(long_keys_become_prefix_marker_and_sha256),
      cmocka_unit_test(inline_record_is_the_raw_value),
      cmocka_unit_test(hashed_record_carries_the_full_key),
      cmocka_unit_test(record_of_another_key_reads_as_not_found),
      cmocka_unit_test(truncated_record_is_a_store_error),
      cmocka_unit_test(absurd_lengths_are_too_large),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
