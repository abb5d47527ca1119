/**
 * @file rpc.h
 * gRPC over HTTP/2 (nghttp2), plaintext (h2c) or TLS (OpenSSL, ALPN h2), over
 * TCP or Unix sockets: a multi-threaded server and a client channel.
 *
 * Messages are opaque bytes here (serialised protobuf); the 5-byte gRPC
 * length prefix, trailers, grpc-timeout and message limits are handled by
 * this layer.
 *
 * Addresses: "HOST:PORT" ("127.0.0.1:50051", "[::1]:0", "localhost:8080"),
 * or "unix:/path/to/socket". Port 0 binds an ephemeral port.
 *
 * Process-wide effects: the first server or channel calls
 * evthread_use_pthreads() and, if SIGPIPE still has its default action,
 * ignores SIGPIPE (a peer that disconnects must not kill the process).
 * Server and channel threads inherit the caller's signal mask: block the
 * signals you sigwait() for before creating them.
 */
#ifndef SOUPC_RPC_H
#define SOUPC_RPC_H

#include "soupc/soupc.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Default maximum message size: 64 MiB. */
#define SOUPC_DEFAULT_MAX_MESSAGE_SIZE ((size_t)64 * 1024 * 1024)

/**
 * TLS material, as PEM text in memory. All pointers are borrowed for the
 * duration of the call that takes the struct (the contents are copied).
 */
typedef struct soupc_tls_options {
  /** sizeof(soupc_tls_options) as the caller was built; set by
   * SOUPC_TLS_OPTIONS_INIT (docs/api/abi.md). */
  size_t struct_size;
  /** Our certificate chain (PEM). Required for a server; optional for a
   * client (then it presents no certificate). */
  const char *cert_pem;
  /** Our private key (PEM), matching @c cert_pem. */
  const char *key_pem;
  /** Server: if set, clients must present a certificate that verifies
   * against these CA certificates (require and verify).
   * Client: the roots that verify the server; if NULL the system roots. */
  const char *ca_pem;
  /** Client: the name to verify and to send as SNI (e.g. "localhost"). If
   * NULL, the host part of the address (or "localhost" for unix:). */
  const char *server_name;
} soupc_tls_options;

/** Initialiser for soupc_tls_options: every field at its default. */
#define SOUPC_TLS_OPTIONS_INIT                                                 \
  { .struct_size = sizeof(soupc_tls_options) }

/**
 * A TLS context built once and shared by many servers (or many channels):
 * the certificate, key and trust are parsed once, and connections resume
 * TLS sessions (servers share the ticket key; a client context offers the
 * newest ticket it was given). For connections that come and go between
 * the same two peers, such as go-plugin's brokered connections.
 * Immutable and thread-safe once made.
 */
typedef struct soupc_tls_context soupc_tls_context;

/**
 * Builds a shared context from @p opts (as soupc_server_options.tls or
 * soupc_channel_options.tls would be; server_name is not used: channels
 * take it from their own tls options, else the address's host or
 * "localhost").
 * @param out       on success, the context; release with
 *                  soupc_tls_context_free()
 * @param opts      the TLS material, copied during the call
 * @param is_server non-zero for servers, zero for channels
 * @param st        may be NULL; says which material is bad
 * @return 0, SOUPC_ERR_TLS (bad material; @p st says which),
 *         SOUPC_ERR_NOMEM.
 */
SOUPC_EXTERN int soupc_tls_context_new(soupc_tls_context **out,
                                       const soupc_tls_options *opts,
                                       int is_server, soupc_status *st);

/** Releases @p ctx; servers and channels made with it keep what they need.
 * Accepts NULL. */
SOUPC_EXTERN void soupc_tls_context_free(soupc_tls_context *ctx);

/* ------------------------------------------------------------------ */
/* Server                                                              */
/* ------------------------------------------------------------------ */

/** A gRPC server (opaque): soupc_server_new() to soupc_server_free(). */
typedef struct soupc_server soupc_server;
/** One call a server is handling (opaque); valid from its handler until it
 * is finished with soupc_call_reply(), soupc_call_fail() or
 * soupc_call_finish(). */
typedef struct soupc_call soupc_call;

/** Options for soupc_server_new(). Start from SOUPC_SERVER_OPTIONS_INIT. */
typedef struct soupc_server_options {
  /** sizeof(soupc_server_options) as the caller was built; set by
   * SOUPC_SERVER_OPTIONS_INIT (docs/api/abi.md). */
  size_t struct_size;
  /** Largest message accepted or sent, in bytes; 0 = 64 MiB. A bigger
   * request gets RESOURCE_EXHAUSTED naming the limit. */
  size_t max_message_size;
  /** Worker threads, each with its own event loop; 0 = one per core. */
  int workers;
  /** NULL = plaintext h2c; otherwise TLS >= 1.2 with ALPN h2. */
  const soupc_tls_options *tls;

  /* Limits against clients that do not play fair (docs/internals/
   * transport.md, "Limits"). For each: 0 = the default given; the
   * durations take -1 for "never". */

  /** Response bytes one connection may hold queued for a client that does
   * not read them (all its calls together); 0 = 16 MiB. While a connection
   * is over it, new calls on it get RESOURCE_EXHAUSTED. */
  size_t max_connection_buffer;
  /** The same, over all connections together; 0 = 1 GiB. */
  size_t max_total_buffer;
  /** How long a connection may stay over max_connection_buffer before it
   * gets GOAWAY (ENHANCE_YOUR_CALM) and is closed, in ms; 0 = 10000. */
  int buffer_timeout_ms;
  /** TLS handshake + HTTP/2 preface + the client's first SETTINGS must be
   * done this long after accept (absolute, not per byte), in ms;
   * 0 = 10000. */
  int handshake_timeout_ms;
  /** A connection without open streams is closed (GOAWAY NO_ERROR) after
   * this long, in ms; 0 = never (go-plugin hosts keep one connection for a
   * whole session). */
  int idle_timeout_ms;
  /** Output that makes no progress for this long (the peer stopped reading,
   * or keeps its flow-control window shut) closes the connection, in ms;
   * 0 = 30000. */
  int write_timeout_ms;
  /** Keepalive: after this long without reading anything we send a PING,
   * in ms; 0 = 7200000 (2 h, as grpc-go). */
  int keepalive_time_ms;
  /** ...and close the connection if nothing arrives within this, in ms;
   * 0 = 20000. */
  int keepalive_timeout_ms;
  /** Client PINGs closer together than this are strikes; the third strike
   * gets GOAWAY (ENHANCE_YOUR_CALM, "too_many_pings"), as grpc-go's
   * keepalive enforcement; sending HEADERS or DATA clears the strikes. In
   * ms; 0 = 10000. */
  int keepalive_min_ping_interval_ms;
  /** Frames that cost work but carry none (empty DATA, WINDOW_UPDATE under
   * 1 KiB, PRIORITY, SETTINGS, unsolicited PING ACKs, unknown types) a
   * connection may send in a burst; the budget refills at a tenth of this
   * per second; past it, GOAWAY (ENHANCE_YOUR_CALM). A header list over
   * the advertised 64 KiB costs 100. 0 = 1000. */
  int flood_budget;
  /** Connections at once; at the limit (or when accept(2) runs out of
   * fds) the oldest connections without open streams are closed to make
   * room. 0 = the fd limit (RLIMIT_NOFILE, raised to its hard limit) minus
   * 64. */
  int max_connections;
  /** A shared server context (soupc_tls_context_new() with is_server);
   * when set, TLS uses it and @c tls is ignored. Borrowed for the call. */
  const soupc_tls_context *tls_context;
} soupc_server_options;

/** Initialiser for soupc_server_options: every field at its default. */
#define SOUPC_SERVER_OPTIONS_INIT                                              \
  { .struct_size = sizeof(soupc_server_options) }

/**
 * A unary handler. It runs on the worker thread that owns the call. It must
 * eventually finish the call exactly once, with soupc_call_reply() or
 * soupc_call_fail(), from any thread (now or later, e.g. after an fsync).
 *
 * @param call      the call; valid until it is finished
 * @param req       the request message; borrowed for the handler's duration
 * @param req_len   bytes in @p req
 * @param user_data what soupc_server_add_unary() was given
 */
typedef void (*soupc_unary_fn)(soupc_call *call, const uint8_t *req,
                               size_t req_len, void *user_data);

/**
 * Handlers for a streaming method (server-streaming or bidirectional). All
 * run on the worker thread that owns the call. The application finishes the
 * call exactly once with soupc_call_finish() (or soupc_call_fail()), also
 * after on_cancel.
 */
typedef struct soupc_stream_handlers {
  /** sizeof(soupc_stream_handlers) as the caller was built; set by
   * SOUPC_STREAM_HANDLERS_INIT (docs/api/abi.md). */
  size_t struct_size;
  /** The call has started (headers received). May be NULL. */
  void (*on_start)(soupc_call *call, void *user_data);
  /** A whole request message arrived; borrowed for the callback. */
  void (*on_message)(soupc_call *call, const uint8_t *msg, size_t len,
                     void *user_data);
  /** The client half-closed its side. May be NULL. */
  void (*on_half_close)(soupc_call *call, void *user_data);
  /** The stream was reset, the deadline passed or the connection closed.
   * After this, sends fail with SOUPC_ERR_CLOSED; the application must still
   * call soupc_call_finish() to release the call. May be NULL. */
  void (*on_cancel)(soupc_call *call, void *user_data);
} soupc_stream_handlers;

/** Initialiser for soupc_stream_handlers: every callback NULL. */
#define SOUPC_STREAM_HANDLERS_INIT                                             \
  { .struct_size = sizeof(soupc_stream_handlers) }

/**
 * Creates a server. @p opts may be NULL for defaults. Nothing listens yet.
 * @return 0, SOUPC_ERR_TLS (bad certificate or key; @p st says which),
 *         SOUPC_ERR_NOMEM.
 */
SOUPC_EXTERN int soupc_server_new(soupc_server **out,
                                  const soupc_server_options *opts,
                                  soupc_status *st);

/**
 * Registers a handler for one unary method.
 * @param srv       a server that is not started yet
 * @param path      full gRPC path such as "/proto.KV/Get"; copied
 * @param fn        runs on the worker thread that owns each call
 * @param user_data passed to @p fn as its last argument; never freed
 * @return 0, SOUPC_ERR_INVALID_ARGUMENT (bad or duplicate path, or the server
 *         is already started) or SOUPC_ERR_NOMEM.
 */
SOUPC_EXTERN int soupc_server_add_unary(soupc_server *srv, const char *path,
                                        soupc_unary_fn fn, void *user_data);

/** Registers a streaming method; @p handlers is copied (it starts from
 * SOUPC_STREAM_HANDLERS_INIT).
 * @return as soupc_server_add_unary(), plus SOUPC_ERR_INVALID_ARGUMENT or
 *         SOUPC_ERR_UNSUPPORTED for @p handlers not initialised with its
 *         INIT macro or setting a callback newer than this library. */
SOUPC_EXTERN int soupc_server_add_stream(soupc_server *srv, const char *path,
                                         const soupc_stream_handlers *handlers,
                                         void *user_data);

/**
 * Binds and listens on @p address. A unix: path that exists as a socket is
 * replaced; the socket file is removed by soupc_server_free().
 * @return 0, SOUPC_ERR_INVALID_ARGUMENT (unparsable address), SOUPC_ERR_IO
 *         (bind/listen failed; @p st has the errno text).
 */
SOUPC_EXTERN int soupc_server_listen(soupc_server *srv, const char *address,
                                     soupc_status *st);

/**
 * Listens on an already-bound listening socket; the server owns @p fd.
 * @p address_text is what soupc_server_address() will report.
 * @return 0; SOUPC_ERR_INVALID_ARGUMENT (@p fd negative or not usable, the
 *         server already started, or too many listeners); SOUPC_ERR_NOMEM.
 */
SOUPC_EXTERN int soupc_server_listen_fd(soupc_server *srv, int fd,
                                        const char *address_text);

/** @return the bound address, e.g. "127.0.0.1:43211" or "unix:/tmp/s";
 * borrowed until soupc_server_free(). NULL before listen. */
SOUPC_EXTERN const char *soupc_server_address(const soupc_server *srv);

/** @return the full path of the @p i-th registered method ("/proto.KV/Get"),
 * in registration order, or NULL when @p i is past the last one; borrowed
 * until soupc_server_free(). Methods are only added before
 * soupc_server_start(), so a handler may walk them (gRPC reflection lists
 * services this way). */
SOUPC_EXTERN const char *soupc_server_method(const soupc_server *srv, size_t i);

/** Starts the worker threads and accepting. Non-blocking.
 * @return 0, SOUPC_ERR_INVALID_ARGUMENT (not listening), SOUPC_ERR_NOMEM. */
SOUPC_EXTERN int soupc_server_start(soupc_server *srv);

/**
 * Stops accepting and sends GOAWAY. In-flight calls may finish for up to
 * @p grace_ms milliseconds, then connections are closed. Thread-safe; may be
 * called from a handler. Returns at once; soupc_server_wait() blocks.
 */
SOUPC_EXTERN void soupc_server_shutdown(soupc_server *srv, int grace_ms);

/** Blocks until the server has shut down and every worker has exited. Not
 * from a handler (it would wait for its own thread). */
SOUPC_EXTERN void soupc_server_wait(soupc_server *srv);

/** Shuts down (grace 0) if needed, waits, and frees. Accepts NULL. Not
 * from a handler.
 * Every call must have been finished (reply/fail/finish) before this;
 * after soupc_server_wait() a late finish is still fine (it only releases
 * the call), after soupc_server_free() it is a use-after-free. */
SOUPC_EXTERN void soupc_server_free(soupc_server *srv);

/** Finishes a unary call with OK and @p resp (copied). Thread-safe. A
 * response over the size limit becomes RESOURCE_EXHAUSTED. After a deadline
 * or a client cancel the reply is dropped (the call is still released). */
SOUPC_EXTERN void soupc_call_reply(soupc_call *call, const uint8_t *resp,
                                   size_t resp_len);

/** Finishes a call with a non-OK gRPC @p code and a message. Thread-safe. */
SOUPC_EXTERN void soupc_call_fail(soupc_call *call, int code, const char *fmt,
                                  ...) SOUPC_PRINTF(3, 4);

/**
 * Sends one message on a streaming call (copied). Thread-safe. Messages are
 * queued and written as HTTP/2 flow control allows; there is no bound on
 * the queue, so a producer should pace itself. Not for unary calls.
 * @return 0, SOUPC_ERR_CLOSED (cancelled or finished), SOUPC_ERR_TOO_LARGE,
 *         SOUPC_ERR_NOMEM.
 */
SOUPC_EXTERN int soupc_call_send(soupc_call *call, const uint8_t *msg,
                                 size_t len);

/** Finishes a streaming call with @p code and @p message (may be NULL).
 * Thread-safe. After this the call must not be used. */
SOUPC_EXTERN void soupc_call_finish(soupc_call *call, int code,
                                    const char *message);

/** @return the peer address ("127.0.0.1:54321", "unix:") ; borrowed until the
 * call is finished. */
SOUPC_EXTERN const char *soupc_call_peer(const soupc_call *call);

/** @return the server that owns the call. */
SOUPC_EXTERN soupc_server *soupc_call_server(const soupc_call *call);

/* ------------------------------------------------------------------ */
/* Client channel                                                      */
/* ------------------------------------------------------------------ */

/** A client connection to one server (opaque): soupc_channel_open() to
 * soupc_channel_free(); thread-safe. */
typedef struct soupc_channel soupc_channel;
/** One streaming call on a channel (opaque): soupc_client_stream_open() to
 * soupc_client_stream_free(). */
typedef struct soupc_client_stream soupc_client_stream;

/** Options for soupc_channel_open(). Start from
 * SOUPC_CHANNEL_OPTIONS_INIT. */
typedef struct soupc_channel_options {
  /** sizeof(soupc_channel_options) as the caller was built; set by
   * SOUPC_CHANNEL_OPTIONS_INIT (docs/api/abi.md). */
  size_t struct_size;
  /** Largest message sent or accepted; 0 = 64 MiB. */
  size_t max_message_size;
  /** NULL = plaintext h2c. */
  const soupc_tls_options *tls;
  /** Connect + TLS + HTTP/2 preface timeout in ms; 0 = 10000. */
  int connect_timeout_ms;
  /** A shared client context (soupc_tls_context_new(), is_server 0): when
   * set, TLS uses it (its certificates and session tickets) and @c tls
   * gives only the server name. Borrowed for the call. */
  const soupc_tls_context *tls_context;
} soupc_channel_options;

/** Initialiser for soupc_channel_options: every field at its default. */
#define SOUPC_CHANNEL_OPTIONS_INIT                                             \
  { .struct_size = sizeof(soupc_channel_options) }

/**
 * Connects to @p address (TCP, TLS and the HTTP/2 preface), blocking. The
 * channel runs its own I/O thread; every function below is thread-safe.
 * @return 0, SOUPC_ERR_INVALID_ARGUMENT (address), SOUPC_ERR_CONNECT,
 *         SOUPC_ERR_TLS, SOUPC_ERR_DEADLINE; @p st has a one-line reason.
 */
SOUPC_EXTERN int soupc_channel_open(soupc_channel **out, const char *address,
                                    const soupc_channel_options *opts,
                                    soupc_status *st);

/**
 * One unary call, blocking. @p req is borrowed (not copied) until return.
 * Not from the channel's I/O thread (a stream or async callback): use
 * soupc_channel_unary_async() there.
 * @param ch         an open channel
 * @param path       the full method path, e.g. "/proto.KV/Get"
 * @param req        the request message
 * @param req_len    bytes in @p req
 * @param resp_out   on success, a copy of the response (release with
 *                   soupc_free()); NULL for a 0-byte response. Untouched
 *                   otherwise; may be NULL to drop the response.
 * @param resp_len_out bytes in @p resp_out, on success; may be NULL
 * @param timeout_ms deadline sent as grpc-timeout and also enforced locally
 *                   (RST_STREAM CANCEL, DEADLINE_EXCEEDED); 0 = none
 * @param st         may be NULL; the call's gRPC status: code and message,
 *                   SOUPC_GRPC_OK on success
 * @return 0 when the server answered OK with one message;
 *         SOUPC_ERR_STATUS when it answered (or reset the stream) with a
 *         non-OK status, which @p st holds; or a local failure, with a
 *         matching gRPC code in @p st: SOUPC_ERR_TOO_LARGE (@p req over
 *         max_message_size, or a response over it: RESOURCE_EXHAUSTED),
 *         SOUPC_ERR_CLOSED (the channel is closed or closing, or the call
 *         was cancelled: UNAVAILABLE), SOUPC_ERR_CONNECT / SOUPC_ERR_TLS
 *         (the connection was lost: UNAVAILABLE), SOUPC_ERR_DEADLINE
 *         (@p timeout_ms passed here first: DEADLINE_EXCEEDED; the server,
 *         which is sent the deadline, may end the call first, then it is
 *         SOUPC_ERR_STATUS with DEADLINE_EXCEEDED), SOUPC_ERR_PROTOCOL (an
 *         answer that breaks gRPC's rules: INTERNAL),
 * SOUPC_ERR_INVALID_ARGUMENT (called from the I/O thread) or SOUPC_ERR_NOMEM.
 */
SOUPC_EXTERN int soupc_channel_unary(soupc_channel *ch, const char *path,
                                     const uint8_t *req, size_t req_len,
                                     uint8_t **resp_out, size_t *resp_len_out,
                                     int64_t timeout_ms, soupc_status *st);

/**
 * The end of an asynchronous unary call. It runs once per call that
 * soupc_channel_unary_async() accepted, on the channel's I/O thread, never
 * before that function has returned, and at the latest inside
 * soupc_channel_free() (then with SOUPC_ERR_CLOSED, UNAVAILABLE).
 * It must not block on the channel (no soupc_channel_unary(), no
 * soupc_channel_free()); it may start new asynchronous calls or streams.
 * @param err       0, or the soupc_err soupc_channel_unary() would return
 * @param status    the call's gRPC status (code and message); borrowed for
 *                  the callback
 * @param resp      on success (@p err 0) the response message, borrowed for
 *                  the callback (copy what you keep); NULL otherwise, or
 *                  for a 0-byte response
 * @param resp_len  bytes in @p resp
 * @param user_data what soupc_channel_unary_async() was given
 */
typedef void (*soupc_unary_done_fn)(int err, const soupc_status *status,
                                    const uint8_t *resp, size_t resp_len,
                                    void *user_data);

/**
 * One unary call, asynchronous: returns as soon as the call is queued to
 * the channel's I/O thread; @p done reports its end. Many calls may be in
 * flight on one channel at once (they share the HTTP/2 connection).
 * Thread-safe, also from the I/O thread (inside a callback).
 * @param ch         an open channel
 * @param path       the full method path, e.g. "/proto.KV/Get"; copied
 * @param req        the request message; copied, so the caller may reuse it
 *                   at once
 * @param req_len    bytes in @p req
 * @param timeout_ms deadline as for soupc_channel_unary(); 0 = none
 * @param done       runs once on the I/O thread when the call ends
 * @param user_data  passed to @p done; never freed
 * @param st         may be NULL; on failure, why
 * @return 0 (then @p done will run exactly once), or SOUPC_ERR_TOO_LARGE
 *         (@p req over max_message_size), SOUPC_ERR_CLOSED (the channel is
 *         closed or closing) or SOUPC_ERR_NOMEM; on failure @p done never
 *         runs.
 */
SOUPC_EXTERN int soupc_channel_unary_async(soupc_channel *ch, const char *path,
                                           const uint8_t *req, size_t req_len,
                                           int64_t timeout_ms,
                                           soupc_unary_done_fn done,
                                           void *user_data, soupc_status *st);

/** Called on the channel's I/O thread for each message of a stream. */
typedef void (*soupc_stream_message_fn)(soupc_client_stream *stream,
                                        const uint8_t *msg, size_t len,
                                        void *user_data);
/** Called once on the channel's I/O thread when the stream ends, with its
 * final status. The stream may be freed from inside this callback. */
typedef void (*soupc_stream_close_fn)(soupc_client_stream *stream,
                                      const soupc_status *status,
                                      void *user_data);

/**
 * Opens a streaming call. Send with soupc_client_stream_send(); a
 * server-streaming call sends its one request and then
 * soupc_client_stream_close_send().
 * @return 0, SOUPC_ERR_CLOSED (channel gone), SOUPC_ERR_NOMEM.
 */
SOUPC_EXTERN int soupc_client_stream_open(soupc_client_stream **out,
                                          soupc_channel *ch, const char *path,
                                          soupc_stream_message_fn on_message,
                                          soupc_stream_close_fn on_close,
                                          void *user_data);

/** Sends one message (copied). @return 0, SOUPC_ERR_CLOSED,
 * SOUPC_ERR_TOO_LARGE. */
SOUPC_EXTERN int soupc_client_stream_send(soupc_client_stream *stream,
                                          const uint8_t *msg, size_t len);

/** Half-closes our side (END_STREAM).
 * @return 0; SOUPC_ERR_CLOSED (the stream or channel has ended);
 *         SOUPC_ERR_NOMEM. */
SOUPC_EXTERN int soupc_client_stream_close_send(soupc_client_stream *stream);

/** Cancels the stream (RST_STREAM CANCEL) if still open and frees it once
 * on_close has run; no callback runs after this returns unless called from
 * the I/O thread itself. If on_close has not run yet it runs now (on the I/O
 * thread; this call waits for it) with CANCELLED. Accepts NULL. */
SOUPC_EXTERN void soupc_client_stream_free(soupc_client_stream *stream);

/** @return non-zero while the connection is up (no GOAWAY, no error). */
SOUPC_EXTERN int soupc_channel_is_open(const soupc_channel *ch);

/** Closes the connection, fails outstanding calls with UNAVAILABLE (an
 * asynchronous unary call's callback runs before this returns), stops
 * the I/O thread and frees. Every client stream must be freed first. Not
 * from the I/O thread. Accepts NULL. */
SOUPC_EXTERN void soupc_channel_free(soupc_channel *ch);

/** Encodes a grpc-timeout header value ("100m", "5S"...) for @p ms, rounded
 * up to the coarser unit when 8 digits do not suffice; "0m" for @p ms <= 0.
 * @p buf has at least 16 bytes. Exposed for tests and tools. */
SOUPC_EXTERN void soupc_grpc_timeout_format(char *buf, int64_t ms);

/** Parses a grpc-timeout header value into milliseconds (rounded up).
 * @return 0 or SOUPC_ERR_INVALID_ARGUMENT. */
SOUPC_EXTERN int soupc_grpc_timeout_parse(int64_t *out, const char *value,
                                          size_t len);

#ifdef __cplusplus
}
#endif

#endif /* SOUPC_RPC_H */
