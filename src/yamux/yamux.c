/* The yamux session without I/O (yamux.h; hashicorp/yamux spec.md).
 *
 * Input is parsed in place: a 12-byte header collects first, then a data
 * frame's payload goes straight into its stream's receive buffer, however
 * the bytes are split. Output is one growing buffer of whole frames.
 * Streams sit on a list (a session carries a handful: go-plugin's main
 * connection plus one per brokered connection). Flow control follows Go's
 * yamux: a stream's receive window starts at 256 KiB, a window update goes
 * out once half of it is free again, and a peer that sends past the window
 * has broken the protocol. */
#include "yamux/yamux.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"

#define HEADER_LEN 12
#define VERSION 0
enum {
  T_DATA = 0,
  T_WINDOW = 1,
  T_PING = 2,
  T_GOAWAY = 3
};
enum {
  F_SYN = 1,
  F_ACK = 2,
  F_FIN = 4,
  F_RST = 8
};
/* The largest data frame we write: a slice of the window, like Go's. */
#define MAX_FRAME_DATA ((size_t)64 * 1024)

struct ybuf {
  uint8_t *data;
  size_t off, len, cap; /* bytes live in data[off .. off+len) */
};

struct ystream {
  struct ystream *next;
  uint32_t id;
  uint32_t send_window; /* what we may still send */
  uint32_t recv_window; /* what the peer may still send */
  struct ybuf recv;
  unsigned local_fin : 1, remote_fin : 1, reset : 1;
  unsigned incoming : 1, accepted : 1;
};

struct yamux {
  int is_client;
  uint32_t next_id;
  struct yamux_limits lim;
  struct ystream *streams;
  size_t nstreams;
  uint32_t *backlog; /* incoming ids not yet accepted, FIFO */
  size_t nbacklog;
  /* Input. */
  uint8_t hdr[HEADER_LEN];
  size_t hdr_len;
  uint32_t payload_left;   /* of the current data frame */
  uint32_t payload_stream; /* its stream, 0 = discard */
  uint16_t payload_flags;  /* FIN/RST to apply after the payload */
  struct ybuf out;
  int dead, local_go_away, remote_go_away;
  uint32_t remote_code;
  unsigned long pongs;
  char err[200];
};

/* ---- buffers ---- */

static int buf_reserve(struct ybuf *b, size_t more) {
  uint8_t *nd;
  size_t cap;

  if (b->off > 0 && b->off + b->len + more > b->cap) {
    memmove(b->data, b->data + b->off, b->len);
    b->off = 0;
  }
  if (b->len + more <= b->cap) {
    return 0;
  }
  cap = b->cap > 0 ? b->cap : 256;
  while (cap < b->len + more) {
    cap *= 2;
  }
  nd = soupc__realloc(b->data, cap);
  if (nd == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  b->data = nd;
  b->cap = cap;
  return 0;
}

static int buf_append(struct ybuf *b, const uint8_t *p, size_t n) {
  if (n == 0) {
    return 0;
  }
  if (buf_reserve(b, n) != 0) {
    return SOUPC_ERR_NOMEM;
  }
  memcpy(b->data + b->off + b->len, p, n);
  b->len += n;
  return 0;
}

static void buf_consume(struct ybuf *b, size_t n) {
  if (n >= b->len) {
    b->off = b->len = 0;
  } else {
    b->off += n;
    b->len -= n;
  }
}

static void buf_dispose(struct ybuf *b) {
  soupc__free(b->data);
  memset(b, 0, sizeof(*b));
}

/* ---- frames ---- */

static void put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
         p[3];
}

static int emit(struct yamux *y, uint8_t type, uint16_t flags, uint32_t id,
                uint32_t length, const uint8_t *payload, size_t n) {
  uint8_t h[HEADER_LEN];

  h[0] = VERSION;
  h[1] = type;
  h[2] = (uint8_t)(flags >> 8);
  h[3] = (uint8_t)flags;
  put32(h + 4, id);
  put32(h + 8, length);
  if (buf_reserve(&y->out, HEADER_LEN + n) != 0) {
    return SOUPC_ERR_NOMEM;
  }
  (void)buf_append(&y->out, h, HEADER_LEN);
  (void)buf_append(&y->out, payload, n);
  return 0;
}

static int fail(struct yamux *y, const char *fmt, ...) SOUPC_PRINTF(2, 3);

/* A protocol error: GoAway(protocol error) and the session is dead. */
static int fail(struct yamux *y, const char *fmt, ...) {
  va_list ap;

  va_start(ap, fmt);
  if (!y->dead) {
    vsnprintf(y->err, sizeof(y->err), fmt, ap);
    y->dead = 1;
    if (!y->local_go_away) {
      y->local_go_away = 1;
      (void)emit(y, T_GOAWAY, 0, 0, SOUPC_YAMUX_GOAWAY_PROTOCOL, NULL, 0);
    }
  }
  va_end(ap);
  return SOUPC_ERR_PROTOCOL;
}

/* ---- streams ---- */

static struct ystream *find(const struct yamux *y, uint32_t id) {
  struct ystream *s;

  for (s = y->streams; s != NULL; s = s->next) {
    if (s->id == id) {
      return s;
    }
  }
  return NULL;
}

static struct ystream *stream_new(struct yamux *y, uint32_t id) {
  struct ystream *s = soupc__calloc(1, sizeof(*s));

  if (s == NULL) {
    return NULL;
  }
  s->id = id;
  s->send_window = SOUPC_YAMUX_INITIAL_WINDOW;
  s->recv_window = SOUPC_YAMUX_INITIAL_WINDOW;
  s->next = y->streams;
  y->streams = s;
  y->nstreams++;
  return s;
}

static void stream_unlink(struct yamux *y, struct ystream *s) {
  struct ystream **pp;
  size_t i;

  for (pp = &y->streams; *pp != NULL; pp = &(*pp)->next) {
    if (*pp == s) {
      *pp = s->next;
      y->nstreams--;
      break;
    }
  }
  for (i = 0; i < y->nbacklog; i++) {
    if (y->backlog[i] == s->id) {
      memmove(&y->backlog[i], &y->backlog[i + 1],
              (y->nbacklog - i - 1) * sizeof(*y->backlog));
      y->nbacklog--;
      break;
    }
  }
  buf_dispose(&s->recv);
  soupc__free(s);
}

/* A SYN from the peer. @return 0 or a protocol error. */
static int incoming(struct yamux *y, uint32_t id, struct ystream **out) {
  struct ystream *s;

  *out = NULL;
  if (id == 0 || (id % 2 == 1) != !y->is_client) {
    return fail(y, "yamux: the peer opened stream %u, which has our parity",
                id);
  }
  if (find(y, id) != NULL) {
    return fail(y, "yamux: the peer opened stream %u twice", id);
  }
  if (y->local_go_away || y->nstreams >= y->lim.max_streams ||
      y->nbacklog >= y->lim.accept_backlog) {
    /* Go's yamux: backlog full -> RST; after GoAway too. */
    return emit(y, T_WINDOW, F_RST, id, 0, NULL, 0);
  }
  s = stream_new(y, id);
  if (s == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  s->incoming = 1;
  y->backlog[y->nbacklog++] = id;
  *out = s;
  return 0;
}

/* FIN and RST flags on a data or window update frame. */
static void apply_flags(struct ystream *s, uint16_t flags) {
  if (flags & F_FIN) {
    s->remote_fin = 1;
  }
  if (flags & F_RST) {
    s->reset = 1;
  }
}

/* ---- input ---- */

/* The header is complete: act on it, or set up the payload.
 * @return 0 or an error. */
static int on_header(struct yamux *y) {
  uint8_t version = y->hdr[0], type = y->hdr[1];
  uint16_t flags = (uint16_t)(y->hdr[2] << 8 | y->hdr[3]);
  uint32_t id = get32(y->hdr + 4), length = get32(y->hdr + 8);
  struct ystream *s = NULL;
  int rv;

  if (version != VERSION) {
    return fail(y, "yamux: frame version %u, want %u", version, VERSION);
  }
  switch (type) {
  case T_PING:
    if (flags & F_SYN) {
      return emit(y, T_PING, F_ACK, 0, length, NULL, 0);
    }
    if (flags & F_ACK) {
      y->pongs++;
    }
    return 0;
  case T_GOAWAY:
    y->remote_go_away = 1;
    y->remote_code = length;
    return 0;
  case T_DATA:
  case T_WINDOW:
    break;
  default:
    return fail(y, "yamux: frame type %u is unknown", type);
  }
  if (id == 0) {
    return fail(y, "yamux: %s frame for stream 0",
                type == T_DATA ? "data" : "window update");
  }
  if (flags & F_SYN) {
    rv = incoming(y, id, &s);
    if (rv != 0) {
      return rv;
    }
  } else {
    s = find(y, id);
  }
  if (type == T_WINDOW) {
    if (s != NULL && !s->reset) {
      if ((uint64_t)s->send_window + length > UINT32_MAX) {
        return fail(y,
                    "yamux: window update of %u overflows stream %u's "
                    "window of %u",
                    length, id, s->send_window);
      }
      s->send_window += length;
      apply_flags(s, flags);
    }
    return 0;
  }
  /* Data: the payload follows. */
  if (s != NULL && !s->reset && length > s->recv_window) {
    return fail(y,
                "yamux: %u bytes of data on stream %u exceed its "
                "receive window of %u",
                length, id, s->recv_window);
  }
  y->payload_left = length;
  y->payload_flags = flags;
  y->payload_stream = s != NULL && !s->reset ? id : 0;
  if (s != NULL && !s->reset && s->remote_fin && length > 0) {
    /* Data after the peer's own FIN: that stream only is broken. */
    s->reset = 1;
    y->payload_stream = 0;
    return emit(y, T_WINDOW, F_RST, id, 0, NULL, 0);
  }
  if (length == 0) {
    if (s != NULL) {
      apply_flags(s, flags);
    }
  }
  return 0;
}

static int on_payload(struct yamux *y, const uint8_t *p, size_t n) {
  struct ystream *s =
      y->payload_stream != 0 ? find(y, y->payload_stream) : NULL;

  y->payload_left -= (uint32_t)n;
  if (s != NULL) {
    if (buf_append(&s->recv, p, n) != 0) {
      return SOUPC_ERR_NOMEM;
    }
    s->recv_window -= (uint32_t)n;
    if (y->payload_left == 0) {
      apply_flags(s, y->payload_flags);
    }
  }
  return 0;
}

int soupc__yamux_feed(struct yamux *y, const uint8_t *data, size_t len) {
  int rv;

  while (len > 0) {
    if (y->dead) {
      return SOUPC_ERR_PROTOCOL;
    }
    if (y->payload_left > 0) {
      size_t n = len < y->payload_left ? len : y->payload_left;

      rv = on_payload(y, data, n);
      data += n;
      len -= n;
    } else {
      size_t n = HEADER_LEN - y->hdr_len;

      if (n > len) {
        n = len;
      }
      memcpy(y->hdr + y->hdr_len, data, n);
      y->hdr_len += n;
      data += n;
      len -= n;
      if (y->hdr_len < HEADER_LEN) {
        return 0;
      }
      y->hdr_len = 0;
      rv = on_header(y);
    }
    if (rv != 0) {
      return rv;
    }
  }
  return y->dead ? SOUPC_ERR_PROTOCOL : 0;
}

/* ---- the application's side ---- */

int soupc__yamux_new(struct yamux **out, int is_client,
                     const struct yamux_limits *limits) {
  struct yamux *y = soupc__calloc(1, sizeof(*y));

  if (y == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  y->is_client = is_client;
  y->next_id = is_client ? 1 : 2;
  if (limits != NULL) {
    y->lim = *limits;
  }
  if (y->lim.max_streams == 0) {
    y->lim.max_streams = 1024;
  }
  if (y->lim.accept_backlog == 0) {
    y->lim.accept_backlog = 256;
  }
  y->backlog = soupc__calloc(y->lim.accept_backlog, sizeof(*y->backlog));
  if (y->backlog == NULL) {
    soupc__free(y);
    return SOUPC_ERR_NOMEM;
  }
  *out = y;
  return 0;
}

void soupc__yamux_free(struct yamux *y) {
  if (y == NULL) {
    return;
  }
  while (y->streams != NULL) {
    stream_unlink(y, y->streams);
  }
  buf_dispose(&y->out);
  soupc__free(y->backlog);
  soupc__free(y);
}

size_t soupc__yamux_output(struct yamux *y, const uint8_t **data) {
  *data = y->out.data != NULL ? y->out.data + y->out.off : NULL;
  return y->out.len;
}

void soupc__yamux_output_consume(struct yamux *y, size_t n) {
  buf_consume(&y->out, n);
}

int soupc__yamux_open(struct yamux *y, uint32_t *id) {
  struct ystream *s;

  if (y->dead || y->remote_go_away || y->local_go_away) {
    return SOUPC_ERR_CLOSED;
  }
  if (y->next_id > UINT32_MAX - 2 || y->nstreams >= y->lim.max_streams) {
    return SOUPC_ERR_TOO_LARGE;
  }
  s = stream_new(y, y->next_id);
  if (s == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  /* Go's yamux opens with a window update carrying SYN. */
  if (emit(y, T_WINDOW, F_SYN, s->id, 0, NULL, 0) != 0) {
    stream_unlink(y, s);
    return SOUPC_ERR_NOMEM;
  }
  y->next_id += 2;
  *id = s->id;
  return 0;
}

int soupc__yamux_accept(struct yamux *y, uint32_t *id) {
  struct ystream *s;

  while (y->nbacklog > 0) {
    uint32_t first = y->backlog[0];

    memmove(&y->backlog[0], &y->backlog[1],
            (y->nbacklog - 1) * sizeof(*y->backlog));
    y->nbacklog--;
    s = find(y, first);
    if (s == NULL) {
      continue;
    }
    s->accepted = 1;
    if (!s->reset) {
      (void)emit(y, T_WINDOW, F_ACK, s->id, 0, NULL, 0);
    }
    *id = first;
    return 0;
  }
  return SOUPC_ERR_NOT_FOUND;
}

long soupc__yamux_write(struct yamux *y, uint32_t id, const uint8_t *data,
                        size_t len) {
  struct ystream *s = find(y, id);
  size_t done = 0;

  if (s == NULL) {
    return SOUPC_ERR_NOT_FOUND;
  }
  if (s->reset || s->local_fin || y->dead) {
    return SOUPC_ERR_CLOSED;
  }
  while (done < len && s->send_window > 0) {
    size_t n = len - done;

    if (n > s->send_window) {
      n = s->send_window;
    }
    if (n > MAX_FRAME_DATA) {
      n = MAX_FRAME_DATA;
    }
    if (emit(y, T_DATA, 0, id, (uint32_t)n, data + done, n) != 0) {
      return done > 0 ? (long)done : SOUPC_ERR_NOMEM;
    }
    s->send_window -= (uint32_t)n;
    done += n;
  }
  return (long)done;
}

size_t soupc__yamux_peek(struct yamux *y, uint32_t id, const uint8_t **data) {
  struct ystream *s = find(y, id);

  if (s == NULL || s->recv.len == 0) {
    *data = NULL;
    return 0;
  }
  *data = s->recv.data + s->recv.off;
  return s->recv.len;
}

void soupc__yamux_consume(struct yamux *y, uint32_t id, size_t n) {
  struct ystream *s = find(y, id);
  uint32_t delta;

  if (s == NULL) {
    return;
  }
  buf_consume(&s->recv, n);
  if (s->reset || s->remote_fin || y->dead) {
    return;
  }
  /* Go's sendWindowUpdate: (max - buffered) - recvWindow, sent once it
   * reaches half the window. */
  delta = (uint32_t)(SOUPC_YAMUX_INITIAL_WINDOW - s->recv.len) - s->recv_window;
  if (delta >= SOUPC_YAMUX_INITIAL_WINDOW / 2 &&
      emit(y, T_WINDOW, 0, id, delta, NULL, 0) == 0) {
    s->recv_window += delta;
  }
}

int soupc__yamux_stream_state(const struct yamux *y, uint32_t id,
                              struct yamux_stream_state *st) {
  const struct ystream *s = find(y, id);

  if (s == NULL) {
    return SOUPC_ERR_NOT_FOUND;
  }
  st->readable = s->recv.len;
  st->send_window = s->send_window;
  st->remote_fin = s->remote_fin;
  st->local_fin = s->local_fin;
  st->reset = s->reset || y->dead;
  return 0;
}

int soupc__yamux_close(struct yamux *y, uint32_t id) {
  struct ystream *s = find(y, id);

  if (s == NULL) {
    return SOUPC_ERR_NOT_FOUND;
  }
  if (!s->local_fin && !s->reset) {
    s->local_fin = 1;
    return emit(y, T_WINDOW, F_FIN, id, 0, NULL, 0);
  }
  return 0;
}

void soupc__yamux_reset(struct yamux *y, uint32_t id) {
  struct ystream *s = find(y, id);

  if (s != NULL && !s->reset) {
    s->reset = 1;
    if (!(s->local_fin && s->remote_fin)) {
      (void)emit(y, T_WINDOW, F_RST, id, 0, NULL, 0);
    }
  }
}

void soupc__yamux_release(struct yamux *y, uint32_t id) {
  struct ystream *s = find(y, id);

  if (s == NULL) {
    return;
  }
  if (!s->reset && !(s->local_fin && s->remote_fin) && !y->dead) {
    (void)emit(y, T_WINDOW, F_RST, id, 0, NULL, 0);
  }
  stream_unlink(y, s);
}

int soupc__yamux_ping(struct yamux *y, uint32_t opaque) {
  return y->dead ? SOUPC_ERR_CLOSED
                 : emit(y, T_PING, F_SYN, 0, opaque, NULL, 0);
}

unsigned long soupc__yamux_pongs(const struct yamux *y) {
  return y->pongs;
}

void soupc__yamux_go_away(struct yamux *y, uint32_t code) {
  if (!y->local_go_away) {
    y->local_go_away = 1;
    (void)emit(y, T_GOAWAY, 0, 0, code, NULL, 0);
  }
}

int soupc__yamux_dead(const struct yamux *y) {
  return y->dead;
}

int soupc__yamux_remote_go_away(const struct yamux *y, uint32_t *code) {
  if (y->remote_go_away && code != NULL) {
    *code = y->remote_code;
  }
  return y->remote_go_away;
}

const char *soupc__yamux_error(const struct yamux *y) {
  return y->err;
}

size_t soupc__yamux_stream_count(const struct yamux *y) {
  return y->nstreams;
}
