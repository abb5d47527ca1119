/* transport/ layer header for the other layers, tests and fuzzers. The
 * public API is soupc/rpc.h; this adds plumbing only. */
#ifndef SOUPC_TRANSPORT_TRANSPORT_H
#define SOUPC_TRANSPORT_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "soupc/rpc.h"

/* Calls evthread_use_pthreads() once. Every public entry point that creates
 * an event loop calls it; call it first if you create your own bases. */
void soupc__transport_init(void);

/* Tests: how long a new connection may take for TLS and the HTTP/2 preface
 * (default 10000 ms; 0 = forever). Call before soupc_server_start(). */
void soupc__server_set_handshake_timeout(soupc_server *srv, int ms);

/* A server for few connections (the plugin broker's, one per brokered
 * service): one worker whose event loop also accepts, instead of an
 * acceptor thread and loop handing each connection over. Call before
 * soupc_server_start(). @return 0, or SOUPC_ERR_INVALID_ARGUMENT if the
 * server is started or was made with workers other than 1. */
int soupc__server_set_inline_accept(soupc_server *srv);

/* Tests: non-zero if the channel's TLS handshake resumed a session (a
 * shared soupc_tls_context's ticket). */
int soupc__channel_tls_resumed(const soupc_channel *ch);

/* Finishes @p call with OK and a response message that is @p head (up to
 * 16 bytes, copied: a protobuf field tag and length, say) followed by
 * @p payload, sent without copying it: on a plain connection it reaches the
 * kernel by reference, over TLS it is copied once into the encryption. The
 * payload must stay valid and unchanged until @p release(@p arg) runs,
 * exactly once, on the call's worker or on this thread: after the last
 * byte was written, or when the call ended without sending it. Any thread,
 * like soupc_call_reply(); @p len counts against the message size limit
 * as soupc_call_reply()'s does. */
void soupc__call_reply_ref(soupc_call *call, const uint8_t *head,
                           size_t head_len, const uint8_t *payload, size_t len,
                           void (*release)(void *arg), void *arg);

/* A server-side HTTP/2 connection driven from memory on the calling thread
 * (fuzz_h2_server, tests). Handlers of @p srv run inside feed; @p srv needs
 * methods but no listener and must not be started. */
struct soupc__mem_conn;

int soupc__mem_conn_new(struct soupc__mem_conn **out, soupc_server *srv);
/* Feeds client bytes, runs due timers and posted work, and flushes.
 * @return 0, or -1 once the connection has closed. */
int soupc__mem_conn_feed(struct soupc__mem_conn *mc, const uint8_t *data,
                         size_t len);
/* Moves up to @p cap bytes the server wrote into @p buf. @return bytes. */
size_t soupc__mem_conn_take_output(struct soupc__mem_conn *mc, uint8_t *buf,
                                   size_t cap);
/* Runs the limits' periodic check as if the clock read @p now_ms
 * (CLOCK_MONOTONIC ms, see soupc__now_ms()), then flushes. */
void soupc__mem_conn_sweep(struct soupc__mem_conn *mc, int64_t now_ms);
/* Closes the connection (cancelling its calls) but keeps the worker, so
 * calls the application still holds can be finished afterwards. */
void soupc__mem_conn_close(struct soupc__mem_conn *mc);
/* Closes (cancelling calls) and frees. Calls must be finished before.
 * Accepts NULL. */
void soupc__mem_conn_free(struct soupc__mem_conn *mc);

#endif
