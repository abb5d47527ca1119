/* gRPC-over-HTTP/2 wire pieces shared by the server and the client: the
 * 5-byte length-prefixed message deframer, outbound message queues, header
 * value codecs (grpc-timeout, grpc-message) and HTTP -> gRPC status mapping.
 * No I/O and no threads here, so all of it can be fuzzed from memory. */
#ifndef SOUPC_TRANSPORT_GRPC_WIRE_H
#define SOUPC_TRANSPORT_GRPC_WIRE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "soupc/soupc.h"

struct evbuffer;

/* gRPC HTTP/2 spec, "Length-Prefixed-Message": 1 byte compressed flag and a
 * 4-byte big-endian length. */
#define SOUPC__GRPC_PREFIX_LEN 5

/* Called once per complete message. @p msg is borrowed for the call. Return
 * 0 to continue, non-zero to stop the deframer (it returns that value). */
typedef int (*soupc__deframer_msg_fn)(void *user_data, const uint8_t *msg,
                                      size_t len);

struct deframer {
  size_t limit; /* bytes; largest message accepted */
  uint8_t hdr[SOUPC__GRPC_PREFIX_LEN];
  size_t hdr_have; /* bytes of hdr filled; < 5 while reading a prefix */
  size_t msg_len;  /* bytes of the current message (valid once hdr full) */
  uint8_t *buf;    /* partial message; NULL when none */
  size_t have;     /* bytes in buf; have <= msg_len */
  size_t cap;      /* bytes allocated in buf */
  size_t messages; /* complete messages delivered so far */
};

void soupc__deframer_init(struct deframer *d, size_t limit);
void soupc__deframer_dispose(struct deframer *d);

/* Feeds bytes. Whole messages inside @p data are delivered without a copy;
 * split ones are buffered, growing with the bytes that really arrived (so a
 * peer that only announces a big message cannot make us allocate it).
 * @return 0; SOUPC_ERR_TOO_LARGE (RESOURCE_EXHAUSTED in @p st, naming the
 * limit), SOUPC_ERR_UNSUPPORTED (compressed message: UNIMPLEMENTED),
 * SOUPC_ERR_PROTOCOL (bad flag byte: INTERNAL), SOUPC_ERR_NOMEM, or the
 * callback's non-zero return. After an error the deframer must not be fed
 * again. */
int soupc__deframer_feed(struct deframer *d, const uint8_t *data, size_t len,
                         soupc__deframer_msg_fn fn, void *user_data,
                         soupc_status *st);

/* @return non-zero if a message has started but not finished. */
int soupc__deframer_partial(const struct deframer *d);

/* From inside the message callback: if @p msg is the deframer's own buffer
 * (the message arrived in pieces and was put together there), hands that
 * buffer over, malloc'd, instead of the caller copying it: @return it (free
 * with soupc__free) and the deframer starts a new one. Otherwise (the
 * message is borrowed from the input) @return NULL. */
uint8_t *soupc__deframer_take(struct deframer *d, const uint8_t *msg);

/* Head bytes a zero-copy message may carry before its payload (a protobuf
 * field tag and length). */
#define SOUPC__OUT_MSG_HEAD_MAX 16

/* The owner of a zero-copy payload: released once neither a queued
 * message nor an output buffer refers to it (soupc__out_msg_new_ref). */
struct out_ref {
  atomic_int refs;
  void (*release)(void *arg);
  void *arg;
};

/* One outbound message: hdr (the 5-byte prefix, and for a zero-copy one
 * the caller's head bytes) then the payload, which is stored right after
 * the struct (one allocation), borrowed, or owned by ref. */
struct out_msg {
  struct out_msg *next;
  const uint8_t *payload; /* (m + 1) for a copy, or the borrowed bytes */
  size_t len;             /* payload bytes */
  size_t off;             /* bytes of hdr+payload already taken */
  struct out_ref *ref;    /* zero-copy payload's owner, or NULL */
  uint8_t hdr_len;        /* bytes in hdr */
  uint8_t hdr[SOUPC__GRPC_PREFIX_LEN + SOUPC__OUT_MSG_HEAD_MAX];
};

/* Allocates a message holding a copy of @p data. @return NULL on ENOMEM. */
struct out_msg *soupc__out_msg_new(const uint8_t *data, size_t len);
/* A zero-copy message: the gRPC message is @p head (copied, at most
 * SOUPC__OUT_MSG_HEAD_MAX bytes) followed by @p payload, which is borrowed
 * until @p release(@p arg) runs, exactly once, on whichever thread lets go
 * of it last (the message freed, or the last output byte written).
 * @return NULL on ENOMEM (then @p release has not run). */
struct out_msg *soupc__out_msg_new_ref(const uint8_t *head, size_t head_len,
                                       const uint8_t *payload, size_t len,
                                       void (*release)(void *arg), void *arg);
/* Initialises @p m (caller-owned) to borrow @p data. */
void soupc__out_msg_init_borrowed(struct out_msg *m, const uint8_t *data,
                                  size_t len);
/* Frees a message from soupc__out_msg_new(_ref) (not a caller-owned
 * borrowed one). Accepts NULL. */
void soupc__out_msg_free(struct out_msg *m);

/* A FIFO of out_msg; only the owning thread touches it. */
struct out_queue {
  struct out_msg *head;
  struct out_msg *tail;
  size_t bytes; /* unsent bytes, prefixes included */
};

void soupc__out_queue_push(struct out_queue *q, struct out_msg *m);
/* Copies up to @p cap bytes into @p buf, freeing finished messages (except
 * the borrowed one at @p keep, which is unlinked but not freed).
 * @return bytes copied. */
size_t soupc__out_queue_read(struct out_queue *q, uint8_t *buf, size_t cap,
                             const struct out_msg *keep);
/* Frees every queued message except @p keep. */
void soupc__out_queue_clear(struct out_queue *q, const struct out_msg *keep);
/* Moves the next @p n queued bytes (n <= q->bytes) to @p out, freeing
 * finished messages except @p keep. With @p by_ref, zero-copy payloads go
 * in as evbuffer references (no copy; each holds the payload's owner until
 * it has been written), everything else is copied. @return 0, or -1 when
 * @p out cannot grow (then nothing of the failed piece was taken). */
int soupc__out_queue_emit(struct out_queue *q, struct evbuffer *out, size_t n,
                          int by_ref, const struct out_msg *keep);
/* The same, preceded by a frame header of @p hd_len bytes (copied; ahead
 * of a zero-copy payload it too goes by reference). */
int soupc__out_queue_emit_framed(struct out_queue *q, struct evbuffer *out,
                                 const uint8_t *framehd, size_t hd_len,
                                 size_t n, int by_ref,
                                 const struct out_msg *keep);

/* grpc-timeout: soupc_grpc_timeout_format()/_parse() in soupc/rpc.h. */

/* grpc-message percent-encoding (gRPC HTTP/2 spec, "Status-Message"): bytes
 * outside 0x20..0x7E and '%' become %XX. @p out of @p cap bytes, always
 * NUL-terminated; a truncated encoding never splits an escape.
 * @return the length written. */
size_t soupc__percent_encode(char *out, size_t cap, const char *in, size_t len);
/* Decodes %XX; malformed escapes are kept literally (the spec asks receivers
 * not to fail). @p out of @p cap bytes, NUL-terminated. */
size_t soupc__percent_decode(char *out, size_t cap, const char *in, size_t len);

/* Maps a non-200 HTTP :status to a gRPC code the way grpc-go does
 * (internal/transport/http_util.go HTTPStatusConvTab). */
int soupc__grpc_code_from_http(int http_status);

/* @return non-zero if @p v (of @p len bytes) is a gRPC content-type:
 * "application/grpc" optionally followed by "+..." or ";...". */
int soupc__grpc_content_type_ok(const char *v, size_t len);

#endif
