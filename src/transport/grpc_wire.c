#include "transport/grpc_wire.h"

#include <event2/buffer.h>

#include <string.h>

#include "base/alloc.h"
#include "soupc/rpc.h"

/* First allocation for a split message; it then doubles as bytes arrive. */
#define DEFRAMER_MIN_CAP ((size_t)16 * 1024)

void soupc__deframer_init(struct deframer *d, size_t limit) {
  memset(d, 0, sizeof(*d));
  d->limit = limit;
}

void soupc__deframer_dispose(struct deframer *d) {
  soupc__free(d->buf);
  d->buf = NULL;
  d->have = d->cap = 0;
}

int soupc__deframer_partial(const struct deframer *d) {
  return d->hdr_have > 0;
}

uint8_t *soupc__deframer_take(struct deframer *d, const uint8_t *msg) {
  uint8_t *buf = d->buf;

  if (buf == NULL || msg != buf) {
    return NULL;
  }
  d->buf = NULL;
  d->have = d->cap = 0;
  return buf;
}

/* Validates a complete prefix. */
static int check_prefix(struct deframer *d, soupc_status *st) {
  uint32_t n = ((uint32_t)d->hdr[1] << 24) | ((uint32_t)d->hdr[2] << 16) |
               ((uint32_t)d->hdr[3] << 8) | (uint32_t)d->hdr[4];

  if (d->hdr[0] == 1) {
    soupc_status_set(st, SOUPC_GRPC_UNIMPLEMENTED,
                     "received a compressed message; only identity "
                     "encoding is supported");
    return SOUPC_ERR_UNSUPPORTED;
  }
  if (d->hdr[0] != 0) {
    soupc_status_set(st, SOUPC_GRPC_INTERNAL,
                     "invalid message flag byte 0x%02x", d->hdr[0]);
    return SOUPC_ERR_PROTOCOL;
  }
  if ((size_t)n > d->limit) {
    soupc_status_set(st, SOUPC_GRPC_RESOURCE_EXHAUSTED,
                     "received message is %lu bytes; the limit is %zu bytes",
                     (unsigned long)n, d->limit);
    return SOUPC_ERR_TOO_LARGE;
  }
  d->msg_len = n;
  return 0;
}

static int grow(struct deframer *d, size_t need) {
  size_t cap = d->cap == 0 ? DEFRAMER_MIN_CAP : d->cap;
  uint8_t *nb;

  while (cap < need) {
    cap *= 2;
  }
  if (cap > d->msg_len) {
    cap = d->msg_len;
  }
  nb = soupc__realloc(d->buf, cap);
  if (nb == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  d->buf = nb;
  d->cap = cap;
  return 0;
}

int soupc__deframer_feed(struct deframer *d, const uint8_t *data, size_t len,
                         soupc__deframer_msg_fn fn, void *user_data,
                         soupc_status *st) {
  int rv;

  while (len > 0) {
    size_t take;

    if (d->hdr_have < SOUPC__GRPC_PREFIX_LEN) {
      take = SOUPC__GRPC_PREFIX_LEN - d->hdr_have;
      if (take > len) {
        take = len;
      }
      memcpy(d->hdr + d->hdr_have, data, take);
      d->hdr_have += take;
      data += take;
      len -= take;
      if (d->hdr_have < SOUPC__GRPC_PREFIX_LEN) {
        return 0;
      }
      rv = check_prefix(d, st);
      if (rv != 0) {
        return rv;
      }
      d->have = 0;
    }
    if (len == 0 && d->msg_len > 0) {
      return 0; /* the prefix ended this chunk */
    }
    if (d->have == 0 && len >= d->msg_len) {
      /* The whole message is in this chunk: no copy. */
      d->hdr_have = 0;
      d->messages++;
      rv = fn(user_data, data, d->msg_len);
      data += d->msg_len;
      len -= d->msg_len;
      if (rv != 0) {
        return rv;
      }
      continue;
    }
    take = d->msg_len - d->have;
    if (take > len) {
      take = len;
    }
    if (d->have + take > d->cap) {
      rv = grow(d, d->have + take);
      if (rv != 0) {
        soupc_status_set(st, SOUPC_GRPC_RESOURCE_EXHAUSTED,
                         "out of memory buffering a %zu-byte message",
                         d->msg_len);
        return rv;
      }
    }
    memcpy(d->buf + d->have, data, take);
    d->have += take;
    data += take;
    len -= take;
    if (d->have == d->msg_len) {
      d->hdr_have = 0;
      d->have = 0;
      d->messages++;
      rv = fn(user_data, d->buf, d->msg_len);
      /* Keep small buffers for the next message; drop big ones so an idle
       * stream does not pin megabytes. */
      if (d->cap > (size_t)1024 * 1024) {
        soupc__deframer_dispose(d);
      }
      if (rv != 0) {
        return rv;
      }
    }
  }
  return 0;
}

static void set_prefix(uint8_t hdr[SOUPC__GRPC_PREFIX_LEN], size_t len) {
  hdr[0] = 0;
  hdr[1] = (uint8_t)(len >> 24);
  hdr[2] = (uint8_t)(len >> 16);
  hdr[3] = (uint8_t)(len >> 8);
  hdr[4] = (uint8_t)len;
}

struct out_msg *soupc__out_msg_new(const uint8_t *data, size_t len) {
  struct out_msg *m = soupc__malloc(sizeof(*m) + len);

  if (m == NULL) {
    return NULL;
  }
  m->next = NULL;
  m->payload = (const uint8_t *)(m + 1);
  m->len = len;
  m->off = 0;
  m->ref = NULL;
  m->hdr_len = SOUPC__GRPC_PREFIX_LEN;
  set_prefix(m->hdr, len);
  if (len > 0) {
    memcpy(m + 1, data, len);
  }
  return m;
}

/* Frame headers sent by reference ahead of a zero-copy payload (see
 * soupc__out_queue_emit_framed); they live as long as the message block. */
#define HDR_SLAB_BYTES 1008
struct hdr_slab {
  struct hdr_slab *next;
  size_t used; /* bytes of b handed out */
  uint8_t b[HDR_SLAB_BYTES];
};

/* A message and its payload's owner, in one allocation. */
struct out_msg_ref {
  struct out_msg m;
  struct out_ref ref;
  struct hdr_slab *slabs; /* newest first */
};

struct out_msg *soupc__out_msg_new_ref(const uint8_t *head, size_t head_len,
                                       const uint8_t *payload, size_t len,
                                       void (*release)(void *arg), void *arg) {
  struct out_msg_ref *r;

  if (head_len > SOUPC__OUT_MSG_HEAD_MAX || len > SIZE_MAX - head_len) {
    return NULL;
  }
  r = soupc__malloc(sizeof(*r));
  if (r == NULL) {
    return NULL;
  }
  atomic_init(&r->ref.refs, 1); /* the message's */
  r->slabs = NULL;
  r->ref.release = release;
  r->ref.arg = arg;
  r->m.next = NULL;
  r->m.payload = payload;
  r->m.len = len;
  r->m.off = 0;
  r->m.ref = &r->ref;
  r->m.hdr_len = (uint8_t)(SOUPC__GRPC_PREFIX_LEN + head_len);
  set_prefix(r->m.hdr, head_len + len);
  if (head_len > 0) {
    memcpy(r->m.hdr + SOUPC__GRPC_PREFIX_LEN, head, head_len);
  }
  return &r->m;
}

void soupc__out_msg_init_borrowed(struct out_msg *m, const uint8_t *data,
                                  size_t len) {
  m->next = NULL;
  m->payload = data;
  m->len = len;
  m->off = 0;
  m->ref = NULL;
  m->hdr_len = SOUPC__GRPC_PREFIX_LEN;
  set_prefix(m->hdr, len);
}

/* Drops one reference to a zero-copy payload; the last one releases it and
 * frees the block holding it. */
static void out_ref_drop(struct out_ref *ref) {
  struct out_msg_ref *r;

  if (atomic_fetch_sub(&ref->refs, 1) != 1) {
    return;
  }
  if (ref->release != NULL) {
    ref->release(ref->arg);
  }
  r = (struct out_msg_ref *)((char *)ref - offsetof(struct out_msg_ref, ref));
  while (r->slabs != NULL) {
    struct hdr_slab *next = r->slabs->next;
    soupc__free(r->slabs);
    r->slabs = next;
  }
  soupc__free(r);
}

void soupc__out_msg_free(struct out_msg *m) {
  if (m == NULL) {
    return;
  }
  if (m->ref != NULL) {
    out_ref_drop(m->ref); /* the block lives on while output refers to it */
    return;
  }
  soupc__free(m);
}

void soupc__out_queue_push(struct out_queue *q, struct out_msg *m) {
  m->next = NULL;
  if (q->tail != NULL) {
    q->tail->next = m;
  } else {
    q->head = m;
  }
  q->tail = m;
  q->bytes += m->hdr_len + m->len - m->off;
}

/* Unlinks the finished head message and frees it unless it is @p keep. */
static void pop_finished(struct out_queue *q, const struct out_msg *keep) {
  struct out_msg *m = q->head;

  q->head = m->next;
  if (q->head == NULL) {
    q->tail = NULL;
  }
  if (m != keep) {
    soupc__out_msg_free(m);
  }
}

size_t soupc__out_queue_read(struct out_queue *q, uint8_t *buf, size_t cap,
                             const struct out_msg *keep) {
  size_t done = 0;

  while (done < cap && q->head != NULL) {
    struct out_msg *m = q->head;
    size_t total = m->hdr_len + m->len;
    size_t n;

    if (m->off < m->hdr_len) {
      n = m->hdr_len - m->off;
      if (n > cap - done) {
        n = cap - done;
      }
      memcpy(buf + done, m->hdr + m->off, n);
      m->off += n;
      done += n;
    }
    if (m->off >= m->hdr_len && m->off < total && done < cap) {
      n = total - m->off;
      if (n > cap - done) {
        n = cap - done;
      }
      memcpy(buf + done, m->payload + (m->off - m->hdr_len), n);
      m->off += n;
      done += n;
    }
    if (m->off == total) {
      pop_finished(q, keep);
    }
  }
  q->bytes -= done;
  return done;
}

void soupc__out_queue_clear(struct out_queue *q, const struct out_msg *keep) {
  struct out_msg *m = q->head;

  while (m != NULL) {
    struct out_msg *next = m->next;
    if (m != keep) {
      soupc__out_msg_free(m);
    }
    m = next;
  }
  q->head = q->tail = NULL;
  q->bytes = 0;
}

static void ref_chain_done(const void *data, size_t len, void *arg) {
  (void)data;
  (void)len;
  out_ref_drop(arg);
}

/* Adds @p n bytes at @p src, which @p ref keeps alive, as a reference. */
static int add_ref(struct evbuffer *out, const uint8_t *src, size_t n,
                   struct out_ref *ref) {
  atomic_fetch_add(&ref->refs, 1); /* the output chain's */
  if (evbuffer_add_reference(out, src, n, ref_chain_done, ref) != 0) {
    atomic_fetch_sub(&ref->refs, 1); /* not the last: the msg has one */
    return -1;
  }
  return 0;
}

/* Moves @p n bytes of @p m's hdr or payload (from m->off, not crossing
 * from one into the other) to @p out. Zero-copy messages go by reference,
 * the small hdr too: copied after a reference chain, even 5 bytes would
 * make evbuffer_add allocate a chain as large as that reference. */
static int emit_piece(struct out_msg *m, struct evbuffer *out, size_t n,
                      int by_ref) {
  const uint8_t *src = m->off < m->hdr_len ? m->hdr + m->off
                                           : m->payload + (m->off - m->hdr_len);

  if (!by_ref || m->ref == NULL) {
    return evbuffer_add(out, src, n);
  }
  return add_ref(out, src, n, m->ref);
}

int soupc__out_queue_emit_framed(struct out_queue *q, struct evbuffer *out,
                                 const uint8_t *framehd, size_t hd_len,
                                 size_t n, int by_ref,
                                 const struct out_msg *keep) {
  struct out_msg *m = q->head;
  struct out_msg_ref *r;
  struct hdr_slab *slab;

  if (!by_ref || m == NULL || m->ref == NULL || hd_len > HDR_SLAB_BYTES) {
    if (evbuffer_add(out, framehd, hd_len) != 0) {
      return -1;
    }
    return soupc__out_queue_emit(q, out, n, by_ref, keep);
  }
  /* The frame header goes by reference too, from a slab that lives as
   * long as the zero-copy message it precedes. */
  r = (struct out_msg_ref *)m;
  slab = r->slabs;
  if (slab == NULL || HDR_SLAB_BYTES - slab->used < hd_len) {
    slab = soupc__malloc(sizeof(*slab));
    if (slab == NULL) {
      return -1;
    }
    slab->used = 0;
    slab->next = r->slabs;
    r->slabs = slab;
  }
  memcpy(slab->b + slab->used, framehd, hd_len);
  if (add_ref(out, slab->b + slab->used, hd_len, m->ref) != 0) {
    return -1;
  }
  slab->used += hd_len;
  return soupc__out_queue_emit(q, out, n, by_ref, keep);
}

int soupc__out_queue_emit(struct out_queue *q, struct evbuffer *out, size_t n,
                          int by_ref, const struct out_msg *keep) {
  while (n > 0 && q->head != NULL) {
    struct out_msg *m = q->head;
    size_t total = m->hdr_len + m->len;
    size_t k;

    k = m->off < m->hdr_len ? m->hdr_len - m->off : total - m->off;
    k = k < n ? k : n;
    if (emit_piece(m, out, k, by_ref) != 0) {
      return -1;
    }
    m->off += k;
    q->bytes -= k;
    n -= k;
    if (m->off == total) {
      pop_finished(q, keep);
    }
  }
  return 0;
}

/* gRPC HTTP/2 spec: TimeoutValue is at most 8 ASCII digits. */
#define TIMEOUT_MAX_VALUE 99999999LL

void soupc_grpc_timeout_format(char *buf, int64_t ms) {
  static const struct {
    int64_t ms_per_unit;
    char unit;
  } units[] = {{1, 'm'}, {1000, 'S'}, {60000, 'M'}, {3600000, 'H'}};
  size_t i;

  if (ms <= 0) {
    memcpy(buf, "0m", 3);
    return;
  }
  for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
    /* Round up: never send a shorter deadline than asked for. */
    int64_t v =
        ms / units[i].ms_per_unit + (ms % units[i].ms_per_unit != 0 ? 1 : 0);
    if (v <= TIMEOUT_MAX_VALUE) {
      int n = 0;
      char digits[24];
      while (v > 0) {
        digits[n++] = (char)('0' + (v % 10));
        v /= 10;
      }
      for (int k = 0; k < n; k++) {
        buf[k] = digits[n - 1 - k];
      }
      buf[n] = units[i].unit;
      buf[n + 1] = '\0';
      return;
    }
  }
  memcpy(buf, "99999999H", 10);
}

int soupc_grpc_timeout_parse(int64_t *out, const char *value, size_t len) {
  int64_t v = 0;
  size_t i;

  if (len < 2 || len > 9) {
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  for (i = 0; i + 1 < len; i++) {
    if (value[i] < '0' || value[i] > '9') {
      return SOUPC_ERR_INVALID_ARGUMENT;
    }
    v = v * 10 + (value[i] - '0');
  }
  switch (value[len - 1]) {
  case 'H':
    v *= 3600000;
    break;
  case 'M':
    v *= 60000;
    break;
  case 'S':
    v *= 1000;
    break;
  case 'm':
    break;
  case 'u':
    v = (v + 999) / 1000;
    break;
  case 'n':
    v = (v + 999999) / 1000000;
    break;
  default:
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  *out = v;
  return 0;
}

static const char hex_digits[] = "0123456789ABCDEF";

size_t soupc__percent_encode(char *out, size_t cap, const char *in,
                             size_t len) {
  size_t o = 0, i;

  if (cap == 0) {
    return 0;
  }
  for (i = 0; i < len; i++) {
    unsigned char c = (unsigned char)in[i];
    if (c >= 0x20 && c <= 0x7e && c != '%') {
      if (o + 1 >= cap) {
        break;
      }
      out[o++] = (char)c;
    } else {
      if (o + 3 >= cap) {
        break;
      }
      out[o++] = '%';
      out[o++] = hex_digits[c >> 4];
      out[o++] = hex_digits[c & 15];
    }
  }
  out[o] = '\0';
  return o;
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

size_t soupc__percent_decode(char *out, size_t cap, const char *in,
                             size_t len) {
  size_t o = 0, i = 0;

  if (cap == 0) {
    return 0;
  }
  while (i < len && o + 1 < cap) {
    if (in[i] == '%' && i + 2 < len && hex_value(in[i + 1]) >= 0 &&
        hex_value(in[i + 2]) >= 0) {
      out[o++] = (char)(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]));
      i += 3;
    } else {
      out[o++] = in[i++];
    }
  }
  out[o] = '\0';
  return o;
}

int soupc__grpc_code_from_http(int http_status) {
  switch (http_status) {
  case 400:
    return SOUPC_GRPC_INTERNAL;
  case 401:
    return SOUPC_GRPC_UNAUTHENTICATED;
  case 403:
    return SOUPC_GRPC_PERMISSION_DENIED;
  case 404:
    return SOUPC_GRPC_UNIMPLEMENTED;
  case 429:
  case 502:
  case 503:
  case 504:
    return SOUPC_GRPC_UNAVAILABLE;
  default:
    return SOUPC_GRPC_UNKNOWN;
  }
}

int soupc__grpc_content_type_ok(const char *v, size_t len) {
  static const char base[] = "application/grpc";
  const size_t n = sizeof(base) - 1;

  if (len < n || strncmp(v, base, n) != 0) {
    return 0;
  }
  return len == n || v[n] == '+' || v[n] == ';';
}
