/* How a soup-c key becomes an LMDB key, and what an LMDB record holds
 * (private to src/store/; the format is described in
 * docs/internals/group-commit.md, "On-disk format").
 *
 * LMDB keys are at most 511 bytes (mdb_env_get_maxkeysize), soup-c keys up
 * to max_key_size (65536 by default), so:
 *   - a key of 1..STORE_KEY_INLINE_MAX bytes is its own LMDB key, and its
 *     record is the raw value;
 *   - a longer key becomes key[0..400) ++ 0xFF ++ SHA-256(key), always
 *     STORE_KEY_ENC_MAX (433) bytes, and its record is
 *     u64le(key_len) ++ key ++ value, so a Get can check that the record
 *     belongs to this key and a hash collision reads as "not found".
 * An inline key is at most 400 bytes and a hashed one exactly 433, so the
 * two forms never collide. */
#ifndef SOUPC_STORE_KEY_ENCODING_H
#define SOUPC_STORE_KEY_ENCODING_H

#include <stddef.h>
#include <stdint.h>

#include "soupc/soupc.h"

#define STORE_KEY_INLINE_MAX 400
#define STORE_KEY_HASH_LEN 32 /* SHA-256 */
#define STORE_KEY_ENC_MAX (STORE_KEY_INLINE_MAX + 1 + STORE_KEY_HASH_LEN)
#define STORE_RECORD_HDR 8 /* u64le key length, hashed keys only */

/* Writes the LMDB key for @p key (1 or more bytes) into @p out.
 * @return its length, 1..STORE_KEY_ENC_MAX. */
size_t soupc__store_key_encode(uint8_t out[STORE_KEY_ENC_MAX],
                               const uint8_t *key, size_t key_len);

/* Size of the record for this key and value.
 * @return 0, or SOUPC_ERR_TOO_LARGE if it would overflow size_t. */
int soupc__store_record_size(size_t *out, size_t key_len, size_t val_len);

/* Fills @p dst (soupc__store_record_size bytes) with the record. */
void soupc__store_record_write(uint8_t *dst, const uint8_t *key, size_t key_len,
                               const uint8_t *val, size_t val_len);

/* Finds the value inside a record read for @p key. *val_out points into
 * @p rec. @return 0, SOUPC_ERR_NOT_FOUND (the record belongs to another key
 * with the same hash) or SOUPC_ERR_STORE (malformed record). */
int soupc__store_record_value(const uint8_t **val_out, size_t *len_out,
                              const uint8_t *rec, size_t rec_len,
                              const uint8_t *key, size_t key_len);

#endif
