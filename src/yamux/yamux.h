/* yamux (hashicorp/yamux spec.md): many byte streams over one connection,
 * as go-plugin >= 1.6 multiplexes its gRPC connections
 * (PLUGIN_MULTIPLEX_GRPC). The layer's header for other layers.
 *
 * Two parts, neither knowing the other's insides:
 * - the session (yamux.c): the protocol without I/O. Bytes from the
 *   connection go in with soupc__yamux_feed(); frames to write come out of
 *   soupc__yamux_output(). Streams are opened, accepted, written, read,
 *   half-closed and reset by id. Not thread-safe: one owner.
 * - the bridge (bridge.c): a thread that runs a session over a socket and
 *   joins each stream to a socket of its own (a connection accepted on a
 *   local "dial" listener, or one the accept callback connects), so that
 *   gRPC code sees ordinary sockets.
 *
 * Limits and errors: a frame with a version other than 0, an unknown type,
 * a data frame longer than the stream's receive window, a window update
 * that would overflow, a SYN for a stream that exists or has the wrong
 * parity, or an id 0 data frame is a protocol error: the session sends
 * GoAway(protocol error), says why in its error text, and is dead. Frames
 * for a stream that is gone are dropped; data after the peer's FIN resets
 * that stream only. Past the stream limit or the accept backlog a new
 * stream is refused with RST, as Go's yamux does. */
#ifndef SOUPC_YAMUX_H
#define SOUPC_YAMUX_H

#include <stddef.h>
#include <stdint.h>

#include "soupc/soupc.h"

/* spec.md: every stream starts with a 256 KiB window. */
#define SOUPC_YAMUX_INITIAL_WINDOW ((uint32_t)262144)
/* GoAway codes (spec.md). */
#define SOUPC_YAMUX_GOAWAY_NORMAL 0u
#define SOUPC_YAMUX_GOAWAY_PROTOCOL 1u
#define SOUPC_YAMUX_GOAWAY_INTERNAL 2u

struct yamux;

struct yamux_limits {
  size_t max_streams;    /* open streams at once; 0 = 1024 */
  size_t accept_backlog; /* incoming streams not yet accepted; 0 = 256 */
};

/* What one stream can do now (soupc__yamux_stream_state()). */
struct yamux_stream_state {
  size_t readable;      /* received bytes not yet consumed */
  uint32_t send_window; /* bytes we may send now */
  int remote_fin;       /* the peer half-closed (more reads may remain) */
  int local_fin;        /* we half-closed */
  int reset;            /* reset by either side: the stream is over */
};

/* @param is_client non-zero: odd stream ids (go-plugin's host); zero:
 * even ids (the plugin). @p limits may be NULL.
 * @return 0 or SOUPC_ERR_NOMEM. */
int soupc__yamux_new(struct yamux **out, int is_client,
                     const struct yamux_limits *limits);
void soupc__yamux_free(struct yamux *y);

/* Feeds bytes read from the connection.
 * @return 0, or SOUPC_ERR_PROTOCOL once the session is dead (protocol
 *         error: a GoAway is queued; soupc__yamux_error() says why),
 *         SOUPC_ERR_NOMEM. */
int soupc__yamux_feed(struct yamux *y, const uint8_t *data, size_t len);

/* The frames waiting to be written: *data and the byte count, until the
 * next call on @p y. */
size_t soupc__yamux_output(struct yamux *y, const uint8_t **data);
/* Drops @p n written bytes from the front of the output. */
void soupc__yamux_output_consume(struct yamux *y, size_t n);

/* Opens a stream (SYN). @return 0 with *id, SOUPC_ERR_CLOSED (the session
 * is dead or the peer sent GoAway), SOUPC_ERR_TOO_LARGE (ids or the stream
 * limit are used up), SOUPC_ERR_NOMEM. */
int soupc__yamux_open(struct yamux *y, uint32_t *id);
/* Takes the oldest incoming stream (and ACKs it).
 * @return 0 with *id, or SOUPC_ERR_NOT_FOUND when none is waiting. */
int soupc__yamux_accept(struct yamux *y, uint32_t *id);

/* Queues up to @p len bytes, as far as the send window allows.
 * @return the bytes taken (0 with a closed window), SOUPC_ERR_CLOSED (we
 *         half-closed, or the stream was reset), SOUPC_ERR_NOT_FOUND,
 *         SOUPC_ERR_NOMEM. */
long soupc__yamux_write(struct yamux *y, uint32_t id, const uint8_t *data,
                        size_t len);
/* The received bytes of @p id, without consuming them. @return the count. */
size_t soupc__yamux_peek(struct yamux *y, uint32_t id, const uint8_t **data);
/* Consumes @p n received bytes, giving the peer window back as Go does
 * (an update once half the window is free). */
void soupc__yamux_consume(struct yamux *y, uint32_t id, size_t n);

/* @return 0 with @p st filled, or SOUPC_ERR_NOT_FOUND. */
int soupc__yamux_stream_state(const struct yamux *y, uint32_t id,
                              struct yamux_stream_state *st);
/* Half-closes @p id (FIN). @return 0, SOUPC_ERR_NOT_FOUND. */
int soupc__yamux_close(struct yamux *y, uint32_t id);
/* Resets @p id (RST) unless it is over already. */
void soupc__yamux_reset(struct yamux *y, uint32_t id);
/* Forgets @p id; resets it first unless both sides closed it. */
void soupc__yamux_release(struct yamux *y, uint32_t id);

/* Sends a ping with @p opaque; the peer echoes it (soupc__yamux_pongs()). */
int soupc__yamux_ping(struct yamux *y, uint32_t opaque);
/* @return how many ping answers have arrived. */
unsigned long soupc__yamux_pongs(const struct yamux *y);
/* Queues GoAway(@p code); no new streams either way afterwards. */
void soupc__yamux_go_away(struct yamux *y, uint32_t code);

/* @return non-zero once the session is dead (protocol error). */
int soupc__yamux_dead(const struct yamux *y);
/* @return non-zero once the peer sent GoAway; *code gets its code. */
int soupc__yamux_remote_go_away(const struct yamux *y, uint32_t *code);
/* @return why the session died, or "" */
const char *soupc__yamux_error(const struct yamux *y);
/* @return the number of streams the session holds. */
size_t soupc__yamux_stream_count(const struct yamux *y);

/* ---- bridge.c ---- */

struct yamux_bridge;

/* An incoming stream: connect it somewhere and return the connected fd
 * (the bridge owns it), or -1 to refuse the stream (RST). Runs on the
 * bridge's thread. */
typedef int (*yamux_accept_fn)(uint32_t id, void *user_data);

/* Runs a session over @p conn_fd (owned from now on, even on error) on a
 * thread of its own. With @p dial_fd (a listening unix socket, owned), each
 * connection accepted there becomes a new outbound stream; -1 = none.
 * @p module names the log lines ("plugin.mux").
 * @return 0, SOUPC_ERR_NOMEM, SOUPC_ERR_IO. */
int soupc__yamux_bridge_start(struct yamux_bridge **out, int conn_fd,
                              int is_client, int dial_fd,
                              yamux_accept_fn on_accept, void *user_data,
                              const char *module);
/* Sends GoAway(normal), closes the connection and every stream, joins the
 * thread and frees. Accepts NULL. Not from @p on_accept. */
void soupc__yamux_bridge_stop(struct yamux_bridge *b);
/* @return non-zero while the session is up. Thread-safe. */
int soupc__yamux_bridge_alive(struct yamux_bridge *b);

#endif
