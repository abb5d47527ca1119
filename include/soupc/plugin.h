/**
 * @file plugin.h
 * HashiCorp go-plugin (gRPC protocol) for C: serve gRPC services as a plugin
 * that any go-plugin host can launch, and launch or reattach to plugins as a
 * host. The wire contract is docs go-plugin-protocol.md; the lifecycle and
 * the kill sequence are described in docs/internals/plugin.md.
 *
 * Plugin side: soupc_plugin_serve() does the whole lifecycle (cookie,
 * version, TLS, listener, side services, handshake line, signals, stop).
 * Host side: soupc_plugin_host_launch() / soupc_plugin_host_reattach() give
 * a connected soupc_channel for the app's RPCs; soupc_plugin_host_kill()
 * ends the plugin and frees everything.
 */
#ifndef SOUPC_PLUGIN_H
#define SOUPC_PLUGIN_H

#include <sys/types.h>

#include "soupc/rpc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* The handshake line                                                  */
/* ------------------------------------------------------------------ */

/**
 * A parsed handshake line
 * ("CORE|APP|NETWORK|ADDR|PROTOCOL[|CERT[|MUX]]"). Allocated by the
 * library, never by the caller, so that fields can be added at the end
 * (docs/api/abi.md): from soupc_plugin_handshake_parse() (owned by the
 * caller, released with soupc_plugin_handshake_free()) or
 * soupc_plugin_host_handshake() (borrowed).
 */
typedef struct soupc_plugin_handshake {
  int core_version; /**< always 1 after a successful parse */
  int app_version;  /**< field 2, >= 0 */
  char network[8];  /**< "unix" or "tcp" */
  char *address;    /**< socket path, or "HOST:PORT" */
  /** A soupc_channel_open() address: "unix:/path" or "HOST:PORT". */
  char *dial_address;
  char protocol[8];    /**< "grpc" (netrpc is rejected) */
  uint8_t *cert_der;   /**< field 6 decoded, or NULL when empty/short */
  size_t cert_der_len; /**< bytes in @c cert_der */
  char *cert_pem;      /**< @c cert_der as PEM, or NULL */
  /** Field 7: -1 absent, 0 "false", 1 "true" (the plugin can multiplex;
   * soupc_plugin_host_options.multiplex uses it). */
  int mux;
} soupc_plugin_handshake;

/**
 * Parses a handshake line the way a tolerant host does
 * (go-plugin-protocol.md §2.4, §6.2.4): surrounding whitespace is trimmed;
 * 5 to 7 '|'-separated fields; field 1 must be "1"; field 3 "unix" or "tcp";
 * field 5 "grpc"; field 6, if longer than 50 characters (go-plugin's rule),
 * is standard base64 with or without '=' padding and must hold one DER
 * certificate.
 *
 * @param out  on success, a new handshake; free it with
 *             soupc_plugin_handshake_free(). Untouched on error.
 * @param line the line, not necessarily NUL-terminated
 * @param len  its length in bytes
 * @param st   may be NULL; on error, which field is wrong and why
 * @return 0, SOUPC_ERR_HANDSHAKE (the line is malformed; @p st says which
 *         field and why, e.g. "garbled handshake line: field 1 (core
 *         version) is \"2\"; expected 1"), SOUPC_ERR_UNSUPPORTED (protocol
 *         netrpc), SOUPC_ERR_NOMEM.
 */
SOUPC_EXTERN int soupc_plugin_handshake_parse(soupc_plugin_handshake **out,
                                              const char *line, size_t len,
                                              soupc_status *st);

/** Frees a handshake from soupc_plugin_handshake_parse() and everything it
 * holds. Accepts NULL. */
SOUPC_EXTERN void soupc_plugin_handshake_free(soupc_plugin_handshake *hs);

/* ------------------------------------------------------------------ */
/* The broker (both sides)                                             */
/* ------------------------------------------------------------------ */

/**
 * go-plugin's GRPCBroker: more gRPC connections between a host and its
 * plugin, each named by a 32-bit id that the two sides agree on in an app
 * RPC. One side serves services on an id (AcceptAndServe), the other dials
 * that id (Dial). Borrowed: the plugin's from soupc_plugin_info (valid until
 * soupc_plugin_serve() returns), the host's from soupc_plugin_host_broker()
 * (valid until the host is freed). Every function is thread-safe.
 *
 * Brokered connections use TLS exactly when the main one does, with the same
 * certificates (ours presented, the peer's as the only root and the required
 * client CA), and unix sockets or TCP like the main one. All of them end
 * when the broker does: at plugin stop, or host kill/close.
 */
typedef struct soupc_plugin_broker soupc_plugin_broker;

/** @return a new id, unique for this broker (go-plugin's NextId: 1, 2, ...).
 * Ids the peer picks are its own business; pick yours from here. */
SOUPC_EXTERN uint32_t soupc_plugin_broker_next_id(soupc_plugin_broker *broker);

/** Registers the services of one brokered server (runs once, on the caller's
 * thread, inside soupc_plugin_broker_accept_and_serve()). @return 0 or a
 * soupc_err to abandon the id. */
typedef int (*soupc_plugin_broker_register_fn)(soupc_server *srv,
                                               void *user_data);

/**
 * go-plugin's AcceptAndServe(id, services): listens on a fresh socket,
 * serves what @p register_services registers there, and sends the peer a
 * ConnInfo {id, network, address} on the broker stream. Returns once the
 * server runs; it serves until the broker closes. May be called from a
 * handler.
 * @param broker            the broker: soupc_plugin_host_broker() on a
 *                          host, soupc_plugin_info.broker in a plugin
 * @param id                the id to serve under
 *                          (soupc_plugin_broker_next_id())
 * @param register_services registers the brokered server's services
 * @param user_data passed to @p register_services; never freed
 * @param st may be NULL
 * @return 0; SOUPC_ERR_IO (no socket); SOUPC_ERR_TLS; SOUPC_ERR_CLOSED
 *         ("broker closed": the stream is gone); SOUPC_ERR_NOMEM; or the
 *         error @p register_services returned. Nothing is left on error.
 */
SOUPC_EXTERN int soupc_plugin_broker_accept_and_serve(
    soupc_plugin_broker *broker, uint32_t id,
    soupc_plugin_broker_register_fn register_services, void *user_data,
    soupc_status *st);

/**
 * Stops the server soupc_plugin_broker_accept_and_serve() started for @p id
 * and removes its socket (go-plugin closes the listener when AcceptAndServe
 * returns; here the caller decides when). Not from a handler of that server.
 * @return 0, or SOUPC_ERR_NOT_FOUND (no server for @p id).
 */
SOUPC_EXTERN int soupc_plugin_broker_close_id(soupc_plugin_broker *broker,
                                              uint32_t id);

/**
 * go-plugin's Dial(id): waits up to 5 s for the peer's ConnInfo for @p id,
 * then connects. Blocking; do not call it from a server handler of the main
 * connection (the ConnInfo may arrive behind the very call that handler
 * serves, on the same thread): use soupc_plugin_broker_dial_async() there.
 * @param broker the broker, as for soupc_plugin_broker_accept_and_serve()
 * @param id     the id the peer serves under (it sends it in a call)
 * @param out on success a connected channel, owned by the caller
 *            (soupc_channel_free())
 * @return 0; SOUPC_ERR_DEADLINE ("timeout waiting for connection info");
 *         SOUPC_ERR_CLOSED ("broker closed"); SOUPC_ERR_INVALID_ARGUMENT
 *         ("unknown address type": the ConnInfo's network is neither unix
 *         nor tcp); SOUPC_ERR_CONNECT, SOUPC_ERR_TLS (dial);
 *         SOUPC_ERR_NOMEM.
 * @param st may be NULL; says why on error
 */
SOUPC_EXTERN int soupc_plugin_broker_dial(soupc_plugin_broker *broker,
                                          uint32_t id, soupc_channel **out,
                                          soupc_status *st);

/** Result of soupc_plugin_broker_dial_async(): @p ch is NULL on failure
 * (@p st says why), else owned by the callback. Runs on a thread of the
 * broker's own, which may block (for example on RPCs over @p ch); the
 * broker joins it when it closes. */
typedef void (*soupc_plugin_broker_dial_fn)(soupc_channel *ch,
                                            const soupc_status *st,
                                            void *user_data);

/**
 * soupc_plugin_broker_dial() on one of the broker's dial threads, so that a
 * handler can dial back and finish its call from @p fn. The threads are
 * pooled and a dial never waits for another dial's callback to return: a
 * new thread starts when every one is inside a callback. @p fn runs exactly
 * once if this returns 0, and never otherwise.
 * @return 0, SOUPC_ERR_CLOSED, SOUPC_ERR_NOMEM.
 */
SOUPC_EXTERN int soupc_plugin_broker_dial_async(soupc_plugin_broker *broker,
                                                uint32_t id,
                                                soupc_plugin_broker_dial_fn fn,
                                                void *user_data);

/* ------------------------------------------------------------------ */
/* Plugin side                                                         */
/* ------------------------------------------------------------------ */

/** How a served plugin secures its listener (see soupc_plugin_info). */
typedef enum {
  SOUPC_PLUGIN_TLS_NONE = 0, /**< plaintext h2c, empty field 6 */
  /** PLUGIN_CLIENT_CERT was set: own cert, client cert required and
   * verified against that PEM (go-plugin AutoMTLS, §3.3). */
  SOUPC_PLUGIN_TLS_AUTOMTLS = 1,
  /** tls_mode "auto" without PLUGIN_CLIENT_CERT: own cert, no client auth */
  SOUPC_PLUGIN_TLS_AUTO = 2,
  /** tls_mode "manual": cert/key from files; client auth only when
   * PLUGIN_CLIENT_CERT is set */
  SOUPC_PLUGIN_TLS_MANUAL = 3
} soupc_plugin_tls;

/**
 * What soupc_plugin_serve() decided, for the application (for example the
 * KV service's JSON enrichment: TLS mode, key type, curve). Every pointer is
 * borrowed and stays valid until soupc_plugin_serve() returns.
 */
typedef struct soupc_plugin_info {
  int app_version;          /**< negotiated, printed in field 2 */
  soupc_plugin_tls tls;     /**< what the listener serves */
  const char *tls_mode;     /**< "disabled", "auto", "manual" or "automtls" */
  const char *tls_key_type; /**< "ec", "rsa", or "" without TLS */
  /** "secp256r1" / "secp384r1" / "secp521r1" for EC, "" otherwise */
  const char *tls_curve;
  int tls_rsa_bits;            /**< RSA only, else 0 */
  const char *server_cert_pem; /**< our certificate, NULL without TLS */
  /** The host's PLUGIN_CLIENT_CERT, NULL when unset */
  const char *client_cert_pem;
  const char *network; /**< "unix" or "tcp" */
  const char *address; /**< socket path or "127.0.0.1:PORT" (field 4) */
  /** The complete handshake line without its '\n' (useful for reattach:
   * soup-c's --address accepts it) */
  const char *handshake_line;
  /** This plugin's end of the GRPCBroker; valid until
   * soupc_plugin_serve() returns. */
  soupc_plugin_broker *broker;
} soupc_plugin_info;

/**
 * Registers the application's services on @p srv. Runs once, on the thread
 * that called soupc_plugin_serve(), after the side services are registered
 * and the listener is bound, and before the server starts and before the
 * handshake is printed.
 * @return 0, or a negative soupc_err to abort serving (no handshake is
 *         printed; soupc_plugin_serve() returns that error).
 */
typedef int (*soupc_plugin_register_fn)(soupc_server *srv,
                                        const soupc_plugin_info *info,
                                        void *user_data);

/** Options for soupc_plugin_serve(). Start from
 * SOUPC_PLUGIN_SERVE_OPTIONS_INIT, then set fields; the strings are
 * borrowed for the duration of the call. */
typedef struct soupc_plugin_serve_options {
  /** sizeof(soupc_plugin_serve_options) as the caller was built; set by
   * SOUPC_PLUGIN_SERVE_OPTIONS_INIT (docs/api/abi.md). */
  size_t struct_size;
  /** The magic cookie's variable name (required), e.g. "BASIC_PLUGIN". */
  const char *cookie_key;
  /** The value it must hold (required), e.g. "hello". */
  const char *cookie_value;
  /** App protocol versions this plugin serves; NULL or 0 = {1}. */
  const int *app_versions;
  size_t n_app_versions; /**< entries in @c app_versions */
  /** NULL, "" or "disabled": plaintext unless PLUGIN_CLIENT_CERT is set
   * (then AutoMTLS); "auto": TLS with a generated cert; "manual": TLS with
   * @c cert_file / @c key_file. Anything else is an error. */
  const char *tls_mode;
  /** "ec" (default) or "rsa", for generated certificates. */
  const char *tls_key_type;
  /** EC curve for generated certificates; NULL, "" or "auto" = secp521r1,
   * go-plugin's own AutoMTLS key (mtls.go). Any name soupc_curve_parse()
   * accepts. */
  const char *tls_curve;
  /** RSA key size: 2048 (default), 3072 or 4096. */
  int tls_rsa_bits;
  /** PEM certificate file for tls_mode "manual". */
  const char *cert_file;
  /** PEM private key file for tls_mode "manual". */
  const char *key_file;
  /** NULL or "unix" (default, like Go plugins), or "tcp" (127.0.0.1 within
   * PLUGIN_MIN_PORT..PLUGIN_MAX_PORT). */
  const char *network;
  /** Passed to soupc_server_new(); 0 = defaults. */
  size_t max_message_size;
  int workers; /**< passed to soupc_server_new(); 0 = one per core */
  /** Log level for the hclog JSON lines on stderr; NULL = "info". */
  const char *log_level;
  /** Non-zero: go-plugin's stdio capture. From just before the server
   * starts until it stops, fd 1 and fd 2 are pipes drained by a thread and
   * forwarded on GRPCStdio (up to 64 KiB is kept until a host subscribes;
   * stderr is also copied to the real stderr, so the host's log parser
   * sees our hclog lines); the handshake line goes to the real stdout.
   * Writes to fd 1/2 never block on the host. Zero (the default): fd 1 and
   * fd 2 are left alone; StreamStdio is still served and ends with OK when
   * the plugin stops. */
  int capture_stdio;
  /** Non-zero: go-plugin's signal behaviour while serving: SIGINT is
   * ignored (logged at trace), SIGPIPE is ignored, SIGTERM stops gracefully;
   * the previous dispositions are restored before soupc_plugin_serve()
   * returns. Zero (the default): no disposition is touched (rpc.h's own
   * SIGPIPE rule still applies). */
  int handle_signals;
  /** Non-zero: GRPCController/Shutdown replies but does not stop the
   * plugin (rpc-spec.md §7.5: reattaching CLIs call it on every exit). */
  int ignore_shutdown;
  /** Called once after the server has stopped and the socket is removed,
   * on the serving thread, before soupc_plugin_serve() returns 0. May be
   * NULL. Receives the user_data given to soupc_plugin_serve(). */
  void (*on_stop)(void *user_data);
  /** Non-zero: do not serve gRPC reflection. By default
   * grpc.reflection.v1 and v1alpha ServerReflection are served (as
   * go-plugin >= 1.5 does), listing every registered service and
   * describing soup-c's own (soupc/reflection.h). */
  int no_reflection;
  /** A serialized google.protobuf.FileDescriptorSet of the application's
   * services (protoc --descriptor_set_out --include_imports), so that
   * reflection describes them too; NULL = none. Borrowed for the call. */
  const uint8_t *reflection_descriptor_set;
  /** Bytes in @c reflection_descriptor_set. */
  size_t reflection_descriptor_set_len;
  /** The server's limits against hostile clients (the fields of
   * soupc_server_options from max_connection_buffer on; its tls, workers
   * and max_message_size are ignored); NULL = the library's defaults.
   * Borrowed for the call. */
  const soupc_server_options *server_limits;
  /** Answers grpc.health.v1.Health/Check for a service name other than ""
   * and "plugin" (which are SERVING while the plugin serves), such as the
   * application's own service, so that a host or `soup-c rpc validate
   * connection` can ask whether it can serve now. Runs on the server
   * worker that owns the call and may block it briefly. @p service is
   * borrowed for the call; @p st is cleared first. @return 0: SERVING;
   * SOUPC_ERR_NOT_FOUND: an unknown name (the call fails with NOT_FOUND,
   * as go-plugin's health server answers); any other soupc_err: the call
   * fails with UNAVAILABLE and @p st->message (or soupc_strerror()).
   * Receives the user_data given to soupc_plugin_serve(). NULL (the
   * default): every other name is unknown. Health/Watch is not affected. */
  int (*health_check)(const char *service, soupc_status *st, void *user_data);
} soupc_plugin_serve_options;

/** Initialiser for soupc_plugin_serve_options: every field at its default. */
#define SOUPC_PLUGIN_SERVE_OPTIONS_INIT                                        \
  { .struct_size = sizeof(soupc_plugin_serve_options) }

/**
 * Serves as a go-plugin gRPC plugin until the host calls
 * GRPCController/Shutdown (or, with @c handle_signals, the process gets
 * SIGTERM) (go-plugin-protocol.md §6.1): checks the cookie, negotiates
 * PLUGIN_PROTOCOL_VERSIONS, decides TLS, listens, registers
 * grpc.health.v1.Health, plugin.GRPCController, plugin.GRPCStdio,
 * plugin.GRPCBroker and (unless @c no_reflection) gRPC reflection, calls
 * @p register_services, starts serving, then
 * prints the handshake line on stdout.
 *
 * Process-wide effects: logs become hclog JSON on stderr
 * (soupc_log_configure()); signals and fds 1/2 only as @c handle_signals
 * and @c capture_stdio ask. Blocks the calling thread; call it once per
 * process (the environment it reads is the process's).
 *
 * @param opts              required; see soupc_plugin_serve_options
 * @param register_services may be NULL (only the side services are served)
 * @param user_data passed to @p register_services and @c opts->on_stop;
 *                  never freed
 * @param st        may be NULL; cleared first
 * @return 0 after a clean stop (the caller exits 0);
 *         SOUPC_ERR_COOKIE: the cookie did not match; go-plugin's text is
 *         already on stderr (the caller exits 1);
 *         SOUPC_ERR_INVALID_ARGUMENT: bad options (mode, curve, key type,
 *         empty cookie, bad PLUGIN_MIN_PORT/MAX_PORT), nothing printed on
 *         stdout; SOUPC_ERR_TLS: certificate generation or files failed;
 *         SOUPC_ERR_IO: no socket could be bound; SOUPC_ERR_NOMEM; any
 *         error returned by @p register_services. @p st has a one-line
 *         reason for all but 0. No handshake line is printed on any error.
 */
SOUPC_EXTERN int soupc_plugin_serve(const soupc_plugin_serve_options *opts,
                                    soupc_plugin_register_fn register_services,
                                    void *user_data, soupc_status *st);

/* ------------------------------------------------------------------ */
/* Host side                                                           */
/* ------------------------------------------------------------------ */

/** A launched or reattached plugin; opaque. Created by
 * soupc_plugin_host_launch() or a reattach function, freed by
 * soupc_plugin_host_kill() or soupc_plugin_host_close(). The accessors may
 * be called from any thread while the host lives. */
typedef struct soupc_plugin_host soupc_plugin_host;

/** Where a piece of plugin output came from. */
typedef enum {
  /** One line of the plugin's stderr pipe (its hclog lines), without the
   * '\n'. */
  SOUPC_PLUGIN_OUTPUT_STDERR_LINE = 0,
  /** Data the plugin wrote to its stdout, via GRPCStdio. */
  SOUPC_PLUGIN_OUTPUT_STDIO_STDOUT = 1,
  /** Data the plugin wrote to its stderr, via GRPCStdio. */
  SOUPC_PLUGIN_OUTPUT_STDIO_STDERR = 2
} soupc_plugin_output;

/**
 * Receives plugin output. Runs on the host's pump thread (stderr lines) or
 * on the channel's I/O thread (GRPCStdio); it must not block or call back
 * into the host. @p data is borrowed for the call.
 */
typedef void (*soupc_plugin_output_fn)(soupc_plugin_output kind,
                                       const char *data, size_t len,
                                       void *user_data);

/** Options for the host. Start from SOUPC_PLUGIN_HOST_OPTIONS_INIT, then
 * set fields. Every pointer is borrowed for the duration of the call that
 * takes the struct (what must outlive it is copied). */
typedef struct soupc_plugin_host_options {
  /** sizeof(soupc_plugin_host_options) as the caller was built; set by
   * SOUPC_PLUGIN_HOST_OPTIONS_INIT (docs/api/abi.md). */
  size_t struct_size;
  /** Launch: the plugin executable (a name without '/' is looked up in
   * PATH). */
  const char *path;
  /** Launch: argv for the plugin, NULL-terminated; NULL = {path, NULL}. */
  const char *const *argv;
  /** Launch: extra "KEY=VALUE" entries, NULL-terminated; they override the
   * inherited environment and ours. */
  const char *const *env;
  /** Launch: the magic cookie's variable name (required). */
  const char *cookie_key;
  /** Launch: the value the plugin expects in it (required). */
  const char *cookie_value;
  /** App versions we speak; NULL or 0 = {1}. The plugin's choice must be
   * one of them. */
  const int *versions;
  size_t n_versions; /**< entries in @c versions */
  /** Non-zero turns AutoMTLS off (launch: no PLUGIN_CLIENT_CERT; reattach:
   * no generated client certificate). AutoMTLS is on by default. */
  int no_automtls;
  /** Curve of the generated host certificate; the zero value is
   * SOUPC_CURVE_P256. go-plugin's host uses P-521, but no plugin
   * constrains the host's key, and every peer (Go, OpenSSL, BoringSSL)
   * handles P-256, which is several times cheaper to make and use. */
  int curve; /* a soupc_curve */
  /** A client certificate and key (PEM text, copied) to present instead of
   * a generated one. Reattaching to an AutoMTLS plugin needs the pair whose
   * certificate was in that plugin's PLUGIN_CLIENT_CERT. */
  const char *client_cert_pem;
  const char *client_key_pem; /**< the key of @c client_cert_pem (PEM) */
  /** Launch: how long to wait for the handshake line; 0 = 60000 ms
   * (go-plugin StartTimeout). */
  int handshake_timeout_ms;
  /** Non-zero: copy each stderr line of the plugin to our fd 2, raw. */
  int forward_stderr;
  /** Non-zero: log each stderr line through soupc_log() the way a go-plugin
   * host does (§2.6), under the module named after the plugin's basename:
   * an hclog JSON line at its "@level" with its "@message" and the other
   * keys as k=v; other lines by their "[LEVEL]" prefix, else at debug. Our
   * own log level filters them. */
  int log_stderr;
  /** Optional sink for plugin output (see soupc_plugin_output_fn). */
  soupc_plugin_output_fn on_output;
  void *output_user_data; /**< passed to @c on_output; never freed */
  /** Passed to soupc_channel_open(); 0 = defaults. */
  size_t max_message_size;
  int connect_timeout_ms; /**< passed to soupc_channel_open(); 0 = 10 s */
  /** Non-zero: do not open GRPCStdio/StreamStdio. */
  int no_stdio_stream;
  /** Launch: non-zero sets PLUGIN_UNIX_SOCKET_DIR to a 0700 directory we
   * create and remove; the zero default does so too. Set to -1 to leave the
   * variable alone (the plugin then uses $TMPDIR or /tmp). */
  int socket_dir;
  /** Launch, for plugins served by soupc_plugin_serve() only: with AutoMTLS
   * and a generated client certificate, hand the certificate over on an
   * inherited pipe named by SOUPC_PLUGIN_CLIENT_CERT_FD instead of in
   * PLUGIN_CLIENT_CERT, so that it is made while the plugin starts (about
   * 2 ms off each launch). A plugin that ignores the pipe would start
   * without TLS; the launch then fails rather than talk in the clear. */
  int client_cert_pipe;
  /** Launch: go-plugin's SecureConfig. When non-NULL, the SHA-256 of the
   * resolved executable must equal these @c secure_checksum_len bytes
   * (32), or nothing is started. */
  const uint8_t *secure_checksum;
  size_t secure_checksum_len; /**< bytes in @c secure_checksum (32) */
  /** Launch: go-plugin's SkipHostEnv: the plugin inherits none of our
   * environment, only go-plugin's variables and @c env. */
  int skip_host_env;
  /** Launch: go-plugin's GRPCBrokerMultiplex (go-plugin >= 1.6): set
   * PLUGIN_MULTIPLEX_GRPC=true and carry the main connection and every
   * brokered one as yamux streams over one connection to the plugin. A
   * plugin whose handshake does not answer "true" is refused ("client
   * requested gRPC broker multiplexing but plugin does not support the
   * feature"). */
  int multiplex;
} soupc_plugin_host_options;

/** Initialiser for soupc_plugin_host_options: every field at its default. */
#define SOUPC_PLUGIN_HOST_OPTIONS_INIT                                         \
  { .struct_size = sizeof(soupc_plugin_host_options) }

/**
 * Launches a plugin and connects to it (go-plugin-protocol.md §6.2): checks
 * the executable (and its SHA-256 with @c secure_checksum) before anything
 * runs, builds the environment, spawns it (stdin /dev/null, stdout and
 * stderr pipes, the child gets SIGKILL if the launching thread dies), reads
 * the handshake line within the timeout, checks it, dials (TLS when the line
 * has a cert), then opens GRPCStdio/StreamStdio and GRPCBroker/StartStream.
 * A pump thread keeps draining stdout and stderr for the life of the plugin.
 *
 * If SIGPIPE still has its default disposition it is set to ignored
 * (process-wide, as gRPC C-core does): a plugin that closes its TLS
 * connection first must not kill the host.
 *
 * On every error the child has been killed and reaped and the socket
 * directory removed before this returns. The child is also SIGKILLed by the
 * kernel if the thread that launched it exits (PR_SET_PDEATHSIG), so launch
 * from a thread that outlives the plugin (normally the main thread).
 * The child's environment (§6.2.1): ours (none with @c skip_host_env), minus
 * PLUGIN_MULTIPLEX_GRPC, plus the cookie, PLUGIN_MIN_PORT=10000,
 * PLUGIN_MAX_PORT=25000, PLUGIN_PROTOCOL_VERSIONS, PLUGIN_CLIENT_CERT
 * (AutoMTLS) and PLUGIN_UNIX_SOCKET_DIR, then @c opts->env, which wins over
 * all of them.
 *
 * @param out  written only on success; free with soupc_plugin_host_kill()
 * @param opts required; borrowed for the call
 * @param st   may be NULL; cleared first
 * @return 0; SOUPC_ERR_NOT_FOUND ("plugin not found: X");
 *         SOUPC_ERR_INVALID_ARGUMENT ("plugin is not executable: X", missing
 *         cookie, empty checksum); SOUPC_ERR_CHECKSUM ("checksums did not
 *         match", nothing was started); SOUPC_ERR_PLUGIN_EXITED ("plugin
 *         exited before we could connect (exit status N); last stderr line:
 *         ..."); SOUPC_ERR_HANDSHAKE ("garbled handshake line: ...",
 *         incompatible core or app version); SOUPC_ERR_UNSUPPORTED (the
 *         plugin speaks netrpc); SOUPC_ERR_DEADLINE ("timeout while waiting
 *         for plugin to start"); SOUPC_ERR_CONNECT, SOUPC_ERR_TLS (dial);
 *         SOUPC_ERR_IO; SOUPC_ERR_NOMEM.
 */
SOUPC_EXTERN int soupc_plugin_host_launch(soupc_plugin_host **out,
                                          const soupc_plugin_host_options *opts,
                                          soupc_status *st);

/**
 * Connects to a plugin that is already running, from its handshake line
 * (5 to 7 fields, cert padded or not). There is no process to manage. If the
 * line has a cert, TLS is used with that cert as the only root, presenting
 * @c opts->client_cert_pem/key if given, else (unless no_automtls) a freshly
 * generated certificate, which a plugin started with PLUGIN_CLIENT_CERT will
 * refuse. Only versions, curve, client cert, output, message size and
 * connect timeout are read from @p opts (which may be NULL).
 *
 * @param out written only on success; free with soupc_plugin_host_close()
 *            (leaves the plugin running) or soupc_plugin_host_kill()
 * @param handshake_line the plugin's handshake line, NUL-terminated
 * @param opts           may be NULL; copied during the call
 * @param st             may be NULL; says why on error
 * @return 0, SOUPC_ERR_HANDSHAKE / SOUPC_ERR_UNSUPPORTED (line),
 *         SOUPC_ERR_CONNECT, SOUPC_ERR_TLS, SOUPC_ERR_NOMEM.
 */
SOUPC_EXTERN int
soupc_plugin_host_reattach(soupc_plugin_host **out, const char *handshake_line,
                           const soupc_plugin_host_options *opts,
                           soupc_status *st);

/** go-plugin's ReattachConfig: what a host needs to connect to a plugin it
 * did not launch (Terraform's unmanaged providers). Start from
 * SOUPC_PLUGIN_REATTACH_INIT; filled by the caller, or by
 * soupc_plugin_host_reattach_info(). */
typedef struct soupc_plugin_reattach {
  /** sizeof(soupc_plugin_reattach) as the caller was built; set by
   * SOUPC_PLUGIN_REATTACH_INIT (docs/api/abi.md). */
  size_t struct_size;
  /** "grpc"; NULL or "" = "grpc". "netrpc" is refused. */
  const char *protocol;
  /** The negotiated app version; 0 = the first of the host's versions. */
  int protocol_version;
  /** "unix" or "tcp". */
  const char *network;
  /** The socket path, or "HOST:PORT". */
  const char *address;
  /** The plugin's process: when > 0 it must exist, and kill() waits for it
   * to exit after Shutdown (SIGKILL after 2 s), as go-plugin does. 0 = no
   * process is managed. */
  pid_t pid;
  /** The plugin's TLS certificate (PEM) for a TLS plugin, NULL for h2c. */
  const char *server_cert_pem;
} soupc_plugin_reattach;

/** Initialiser for soupc_plugin_reattach: every field at its default. */
#define SOUPC_PLUGIN_REATTACH_INIT                                             \
  { .struct_size = sizeof(soupc_plugin_reattach) }

/**
 * Connects to a running plugin described by @p rc (go-plugin's
 * ClientConfig.Reattach). TLS and options as soupc_plugin_host_reattach().
 * @param out  written only on success; free as for
 *             soupc_plugin_host_reattach()
 * @param rc   borrowed for the call
 * @param opts may be NULL; copied during the call
 * @param st   may be NULL; says why on error
 * @return as soupc_plugin_host_reattach(), plus SOUPC_ERR_NOT_FOUND
 *         ("reattachment process not found") when @c rc->pid does not exist
 *         and SOUPC_ERR_INVALID_ARGUMENT for an incomplete @p rc.
 */
SOUPC_EXTERN int soupc_plugin_host_reattach_config(
    soupc_plugin_host **out, const soupc_plugin_reattach *rc,
    const soupc_plugin_host_options *opts, soupc_status *st);

/**
 * Describes @p host as a reattach config (go-plugin's
 * Client.ReattachConfig()), e.g. to hand a launched plugin to another
 * process. @p out must come from SOUPC_PLUGIN_REATTACH_INIT; only the
 * fields its struct_size covers are written. Every pointer in @p out is
 * borrowed from @p host until it is freed.
 * @return 0, or SOUPC_ERR_INVALID_ARGUMENT (struct_size not set).
 */
SOUPC_EXTERN int soupc_plugin_host_reattach_info(const soupc_plugin_host *host,
                                                 soupc_plugin_reattach *out);

/** @return the connected channel for app RPCs; borrowed until the host is
 * killed or closed. Thread-safe like any soupc_channel. */
SOUPC_EXTERN soupc_channel *soupc_plugin_host_channel(soupc_plugin_host *host);

/** @return the host's end of the GRPCBroker; borrowed until the host is
 * freed. */
SOUPC_EXTERN soupc_plugin_broker *
soupc_plugin_host_broker(soupc_plugin_host *host);

/** @return the parsed handshake; borrowed until the host is freed. */
SOUPC_EXTERN const soupc_plugin_handshake *
soupc_plugin_host_handshake(const soupc_plugin_host *host);

/** @return the plugin's pid: launched, or reattached with a pid; else 0. */
SOUPC_EXTERN pid_t soupc_plugin_host_pid(const soupc_plugin_host *host);

/**
 * go-plugin's Ping: grpc.health.v1.Health/Check {service:"plugin"}, blocking
 * up to @p timeout_ms (0 = no deadline). Thread-safe.
 * @param host       a launched or reattached host
 * @param timeout_ms the call's deadline in milliseconds; 0 = none
 * @param st may be NULL; gets the call's gRPC status (code and message)
 * @return 0 (SERVING answered OK); SOUPC_ERR_CONNECT (UNAVAILABLE: the
 *         plugin is gone), SOUPC_ERR_DEADLINE, SOUPC_ERR_NOT_FOUND (the
 *         plugin's health server does not know "plugin"),
 *         SOUPC_ERR_UNSUPPORTED (no health service), SOUPC_ERR_PROTOCOL
 *         (any other gRPC status).
 */
SOUPC_EXTERN int soupc_plugin_host_ping(soupc_plugin_host *host,
                                        int64_t timeout_ms, soupc_status *st);

/**
 * Ends the plugin and frees @p host (go-plugin-protocol.md §6.2.9): closes
 * the broker (its stream, brokered servers and channels), calls
 * GRPCController/Shutdown with a 2 s deadline, waits up to 2 s for the
 * process to exit, then SIGKILLs and reaps it, closes the streams and the
 * channel, drains stdout and stderr to EOF and removes the socket directory.
 * A plugin reattached with a pid is waited for and killed the same way
 * (without reaping); one without a pid only gets Shutdown and the closing
 * steps. Not from a callback of this host. Accepts NULL.
 * @return 0 if the plugin exited with status 0 by itself (or, reattached,
 *         acknowledged Shutdown); SOUPC_ERR_PLUGIN_EXITED otherwise.
 */
SOUPC_EXTERN int soupc_plugin_host_kill(soupc_plugin_host *host);

/**
 * Frees @p host without asking the plugin to shut down. A reattached plugin
 * keeps running; a launched one is still killed as by
 * soupc_plugin_host_kill(), since nothing else could reap it. Accepts NULL.
 */
SOUPC_EXTERN void soupc_plugin_host_close(soupc_plugin_host *host);

#ifdef __cplusplus
}
#endif

#endif /* SOUPC_PLUGIN_H */
