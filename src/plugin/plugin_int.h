/* Internal plugin-layer interfaces shared between src/plugin/ modules and
 * their unit tests. Other layers use include/soupc/plugin.h only. */
#ifndef SOUPC_PLUGIN_PLUGIN_INT_H
#define SOUPC_PLUGIN_PLUGIN_INT_H

#include <stdint.h>
#include <sys/types.h>

#include <protobuf-c/protobuf-c.h>

#include "soupc/cert.h"
#include "soupc/plugin.h"

/* broker.c; soupc_plugin_broker is the public name of this struct. */
struct broker;
struct plugin_mux;

/* go-plugin-protocol.md §2.1: the exact texts go-plugin writes to stderr. */
#define SOUPC__PLUGIN_COOKIE_MISMATCH_TEXT                                     \
  "This binary is a plugin. These are not meant to be executed directly.\n"    \
  "Please execute the program that consumes these plugins, which will\n"       \
  "load any plugins automatically\n"
#define SOUPC__PLUGIN_COOKIE_MISCONFIGURED_TEXT                                \
  "Misconfigured ServeConfig given to serve this plugin: no magic cookie\n"    \
  "key or value was set. Please notify the plugin author and report\n"         \
  "this as a bug.\n"

/* ---- handshake.c ---- */

/* Formats "1|<ver>|<net>|<addr>|grpc|<cert_b64>" plus "|true"/"|false" when
 * @p mux >= 0, and a final '\n'. @p cert_b64 may be NULL (empty field 6).
 * @return 0 or SOUPC_ERR_NOMEM; *out is malloc'd (soupc__free). */
int soupc__plugin_handshake_format(char **out, int app_version,
                                   const char *network, const char *address,
                                   const char *cert_b64, int mux);

/* Builds the handshake line go-plugin would have printed for @p rc, for the
 * handshake parser (reattach by config). @return 0, SOUPC_ERR_INVALID_ARGUMENT
 * or SOUPC_ERR_UNSUPPORTED (netrpc) with @p st set, SOUPC_ERR_NOMEM. */
int soupc__plugin_reattach_line(char **out, const soupc_plugin_reattach *rc,
                                soupc_status *st);

/* soupc_plugin_handshake_parse() into a struct the caller provides (the
 * host embeds one); same contract otherwise. Release with
 * soupc__plugin_handshake_dispose(), which zeroes it (mux = -1). */
int soupc__plugin_handshake_parse_into(soupc_plugin_handshake *out,
                                       const char *line, size_t len,
                                       soupc_status *st);
void soupc__plugin_handshake_dispose(soupc_plugin_handshake *hs);

/* ---- plugin_env.c ---- */

/* go-plugin-protocol.md §2.1. @return 0 (match), SOUPC_ERR_COOKIE
 * (mismatch or unset), SOUPC_ERR_INVALID_ARGUMENT (our key or value empty).
 */
int soupc__plugin_cookie_check(const char *key, const char *value,
                               const char *env_value);

/* go-plugin-protocol.md §2.2: the highest of @p mine that is in the
 * comma-separated @p env_value, else the lowest of @p mine. Each bad entry
 * is reported through soupc_log (warn). @return 0 on a match,
 * SOUPC_ERR_NOT_FOUND when falling back (*out is set either way). */
int soupc__plugin_negotiate_version(int *out, const char *env_value,
                                    const int *mine, size_t n_mine);

/* Parses PLUGIN_MIN_PORT/PLUGIN_MAX_PORT (either may be NULL or "").
 * Both empty gives 0..0 (any port). @return 0 or SOUPC_ERR_INVALID_ARGUMENT
 * with @p st set. */
int soupc__plugin_port_range(int *min_out, int *max_out, const char *min_s,
                             const char *max_s, soupc_status *st);

/* The directory for our unix socket: PLUGIN_UNIX_SOCKET_DIR, else TMPDIR,
 * else /tmp (go-plugin-protocol.md §2.3). Borrowed from the environment. */
const char *soupc__plugin_socket_dir(void);

/* Resolves PLUGIN_UNIX_SOCKET_GROUP (a name or a numeric gid). @return 0,
 * SOUPC_ERR_NOT_FOUND with @p st set. */
int soupc__plugin_group_parse(gid_t *out, const char *group, soupc_status *st);

/* Binds and listens on a fresh unix socket "<dir>/pluginXXXXXX" (Go:
 * os.CreateTemp + remove + listen), applying the group and mode 0660 when
 * @p group is non-empty. @p path_out gets the malloc'd path. @return the
 * listening fd, or a negative soupc_err with @p st set. */
int soupc__plugin_listen_unix(char **path_out, const char *dir,
                              const char *group, soupc_status *st);

/* Binds and listens on 127.0.0.1 at the first free port in [min, max]
 * (0..0 = any). @p port_out gets the port. @return the fd or a negative
 * soupc_err with @p st set ("couldn't bind plugin TCP listener"). */
int soupc__plugin_listen_tcp(int *port_out, int min, int max, soupc_status *st);

/* ---- serve_tls.c ---- */

/* What the plugin side serves (go-plugin-protocol.md §3, rpc-spec.md §3.1).
 */
struct plugin_tls {
  soupc_plugin_tls kind;
  const char *mode_name; /* "disabled", "automtls", "auto", "manual" */
  const char *cert_pem;  /* ours: gen_cert or file_cert; NULL without TLS */
  const char *key_pem;   /* gen_key or file_key */
  char *gen_cert;        /* generated (cert.h: free()) */
  char *gen_key;
  char *file_cert; /* tls_mode manual (soupc__free) */
  char *file_key;
  char *cert_b64;              /* field 6 (cert.h: free()) */
  const char *client_cert_pem; /* the host's PEM, or NULL */
  char *client_cert_buf;       /* read from SOUPC_PLUGIN_CLIENT_CERT_FD */
  int late_fd;                 /* that fd until read, else -1 */
  soupc_key_type key_type;
  soupc_curve curve;
  int rsa_bits;
};

/* Decides the mode, makes or reads our certificate and encodes field 6.
 * @return 0, SOUPC_ERR_INVALID_ARGUMENT (options), SOUPC_ERR_TLS,
 * SOUPC_ERR_NOMEM, with @p st set. @p t is disposable in every case. */
int soupc__plugin_tls_prepare(struct plugin_tls *t,
                              const soupc_plugin_serve_options *opts,
                              soupc_status *st);
void soupc__plugin_tls_dispose(struct plugin_tls *t);
/* Fills the TLS fields of @p info (pointers borrowed from @p t). */
void soupc__plugin_tls_describe(const struct plugin_tls *t,
                                soupc_plugin_info *info);

/* ---- stdio_capture.c ---- */

struct stdio_capture;

/* Replaces fd 1 and fd 2 by pipes drained by a thread. Stderr data is also
 * copied to the original stderr. Until a StreamStdio call is attached, up to
 * @p buffer_cap bytes are kept (the oldest are dropped). @return 0,
 * SOUPC_ERR_IO, SOUPC_ERR_NOMEM. */
int soupc__stdio_capture_start(struct stdio_capture **out, size_t buffer_cap);

/* The original fd 1 (for the handshake line, which must not be captured).
 */
int soupc__stdio_capture_real_stdout(const struct stdio_capture *cap);

/* Attaches a StreamStdio call: buffered data is sent, then live data. A
 * previously attached call is finished with OK. */
void soupc__stdio_capture_attach(struct stdio_capture *cap, soupc_call *call);

/* The call was cancelled: forget it if attached. @return non-zero if it was
 * attached (the caller then finishes it). */
int soupc__stdio_capture_detach(struct stdio_capture *cap, soupc_call *call);

/* Restores fd 1 and fd 2, drains the pipes to EOF (forwarding what is left),
 * finishes the attached call with OK, joins the thread and frees. Accepts
 * NULL. */
void soupc__stdio_capture_stop(struct stdio_capture *cap);

/* ---- side_services.c ---- */

/* protobuf-c allocations go through src/base/alloc.h (STYLE.md). */
extern ProtobufCAllocator soupc__plugin_pb_allocator;

struct side_services;

/* Registers Health (Check, Watch), GRPCController, GRPCStdio and
 * GRPCBroker (served by @p broker) on @p srv. @p stop_fd is written one byte
 * 's' on Shutdown (unless @p ignore_shutdown). @return 0 or a soupc_err. */
int soupc__side_services_new(struct side_services **out, soupc_server *srv,
                             int stop_fd, int ignore_shutdown,
                             struct broker *broker);

/* Asks @p fn (with @p arg) about Health/Check service names other than
 * "" and "plugin" (soupc_plugin_serve_options.health_check); NULL = they
 * are unknown. Before the server starts. */
void soupc__side_services_set_health(struct side_services *ss,
                                     int (*fn)(const char *service,
                                               soupc_status *st, void *arg),
                                     void *arg);

/* Uses @p cap for StreamStdio (may be NULL: the stream stays open, empty).
 */
void soupc__side_services_set_stdio(struct side_services *ss,
                                    struct stdio_capture *cap);

/* Finishes every held stream (Watch, StreamStdio, StartStream) with OK so
 * the server can stop promptly. */
void soupc__side_services_finish_all(struct side_services *ss);

void soupc__side_services_free(struct side_services *ss);

/* ---- process.c ---- */

struct plugin_process {
  pid_t pid;     /* 0 once reaped */
  int stdout_fd; /* read ends, -1 when closed */
  int stderr_fd;
  int exited;      /* non-zero once reaped */
  int wait_status; /* waitpid() status when exited */
};

/* Resolves @p path (PATH lookup when it has no '/'). @return 0 with a
 * malloc'd *out, SOUPC_ERR_NOT_FOUND ("plugin not found: X"),
 * SOUPC_ERR_INVALID_ARGUMENT ("plugin is not executable: X"). */
int soupc__process_resolve(char **out, const char *path, soupc_status *st);

/* vfork+exec with stdin /dev/null, stdout/stderr pipes, PR_SET_PDEATHSIG
 * SIGKILL, default signal dispositions and an empty signal mask.
 * @p argv and @p envp are NULL-terminated. @p keep_fd (> 2, or -1) is
 * inherited by the plugin; every other fd must be O_CLOEXEC. @return 0,
 * SOUPC_ERR_NOT_FOUND, SOUPC_ERR_INVALID_ARGUMENT (exec refused),
 * SOUPC_ERR_IO. */
int soupc__process_spawn(struct plugin_process *proc, const char *exe,
                         char *const *argv, char *const *envp, int keep_fd,
                         soupc_status *st);

/* Reaps if exited, waiting up to @p timeout_ms (0 = just poll). @return
 * non-zero once the process has been reaped. */
int soupc__process_wait(struct plugin_process *proc, int timeout_ms);

/* Like soupc__process_wait(), but also returns once @p wake_fd (may be -1)
 * is readable. @return non-zero once the process has been reaped. */
int soupc__process_wait_or(struct plugin_process *proc, int timeout_ms,
                           int wake_fd);

/* Waits up to @p timeout_ms for a process that is not necessarily our
 * child to exit. @return non-zero once it has. */
int soupc__process_wait_pid(pid_t pid, int timeout_ms);

/* SIGKILL (if still running) and reap; closes both pipes. Idempotent. */
void soupc__process_kill(struct plugin_process *proc);

/* Describes a wait status: "exit status 3", "signal 9". */
void soupc__process_status_text(char *buf, size_t cap, int wait_status);

/* ---- relog.c ---- */

/* §2.6: logs one line of a plugin's stderr through soupc_log() the way a
 * go-plugin host does, under @p module. */
void soupc__plugin_relog(const char *module, const char *line, size_t len);

/* ---- host_env.c ---- */

/* What the host puts in a plugin's environment (§1, §6.2.1). */
struct host_env_params {
  const char *cookie_key;
  const char *cookie_value;
  const int *versions; /* NULL or 0 = {1} */
  size_t n_versions;
  const char *client_cert_pem; /* PLUGIN_CLIENT_CERT, or NULL */
  const char *socket_dir;      /* PLUGIN_UNIX_SOCKET_DIR, or NULL */
  int cert_fd;                 /* SOUPC_PLUGIN_CLIENT_CERT_FD, or -1 */
  int multiplex;               /* PLUGIN_MULTIPLEX_GRPC=true */
  int skip_host_env;           /* go-plugin SkipHostEnv: inherit nothing */
  const char *const *extra;    /* the caller's "K=V" entries; they win */
};

#define HOST_ENV_OURS 8

struct host_env {
  char **envp;               /* NULL-terminated (soupc__free) */
  char *ours[HOST_ENV_OURS]; /* the entries we allocated */
};

/* Builds the child's environment. @return 0 or SOUPC_ERR_NOMEM; @p env is
 * disposable either way. */
int soupc__host_env_build(struct host_env *env,
                          const struct host_env_params *p);
void soupc__host_env_dispose(struct host_env *env);

/* ---- host_secure.c ---- */

/* go-plugin SecureConfig: the SHA-256 of @p exe must be @p checksum.
 * @return 0, SOUPC_ERR_INVALID_ARGUMENT (empty checksum), SOUPC_ERR_IO,
 * SOUPC_ERR_CHECKSUM ("checksums did not match"), with @p st set. */
int soupc__host_secure_check(const char *exe, const uint8_t *checksum,
                             size_t len, soupc_status *st);

/* ---- broker.c ---- */

/* The host's end of plugin.GRPCBroker/StartStream on @p ch. @p cert and
 * @p key (PEM, may be NULL) are ours for brokered TLS; @p hs gives the
 * plugin's certificate and network; @p socket_dir (may be NULL) is where
 * brokered unix sockets go. @return 0 or SOUPC_ERR_NOMEM. */
int soupc__broker_new_host(struct broker **out, soupc_channel *ch,
                           const soupc_plugin_handshake *hs, const char *cert,
                           const char *key, const char *socket_dir,
                           soupc_status *st);

/* The plugin's end; @p cert/@p key are ours, @p host_cert the host's
 * PLUGIN_CLIENT_CERT (NULL without TLS); brokered listeners use @p network
 * ("unix" in the socket directory, with PLUGIN_UNIX_SOCKET_GROUP as the
 * main socket; or "tcp" in [min_port, max_port]).
 * @return 0 or SOUPC_ERR_NOMEM. */
int soupc__broker_new_plugin(struct broker **out, const char *network,
                             const char *cert, const char *key,
                             const char *host_cert, int min_port, int max_port);

/* Multiplexing (go-plugin >= 1.6): brokered connections become yamux
 * streams over @p mux with go-plugin's knocks; no ConnInfo is sent for
 * them. Call before any broker traffic. */
void soupc__broker_set_mux(struct broker *b, struct plugin_mux *mux);

/* ---- mux.c: go-plugin's grpcmux over src/yamux ---- */

/* A multiplexer whose dial listener is a fresh socket in @p dir.
 * @param default_target plugin: the main server's socket path, where
 *        streams nobody knocked for go; host: NULL (they are refused)
 * @return 0, SOUPC_ERR_IO (socket), SOUPC_ERR_NOMEM. */
int soupc__mux_new(struct plugin_mux **out, int is_client, const char *dir,
                   const char *default_target, soupc_status *st);
/* Plugin: takes the host's one connection on @p listen_fd (owned) on a
 * thread and runs the session on it. @return 0 or SOUPC_ERR_IO. */
int soupc__mux_serve(struct plugin_mux *m, int listen_fd, soupc_status *st);
/* Host: connects to the plugin's address and runs the session.
 * @return 0, SOUPC_ERR_CONNECT, SOUPC_ERR_IO. */
int soupc__mux_connect(struct plugin_mux *m, const char *network,
                       const char *address, soupc_status *st);
/* "unix:PATH": connecting there opens a new stream to the peer. */
const char *soupc__mux_dial_address(const struct plugin_mux *m);
/* The next inbound stream is for the server listening at @p target_path
 * (a knock was acked). @return 0 or SOUPC_ERR_NOMEM. */
int soupc__mux_expect(struct plugin_mux *m, const char *target_path);
/* Ends the session and every stream, removes the dial socket, frees.
 * Accepts NULL. */
void soupc__mux_free(struct plugin_mux *m);

/* Plugin: registers plugin.GRPCBroker/StartStream on @p srv. */
int soupc__broker_register(struct broker *b, soupc_server *srv);

/* Ends the stream (the plugin's with OK), fails waiting dials with "broker
 * closed", joins asynchronous dials and stops every brokered server.
 * Idempotent; accepts NULL. */
void soupc__broker_close(struct broker *b);

/* soupc__broker_close(), then frees. Accepts NULL. */
void soupc__broker_free(struct broker *b);

/* ---- small helpers (plugin_env.c) ---- */

/* Maps a non-OK gRPC code to the soupc_err a plugin.h function returns:
 * UNAVAILABLE -> SOUPC_ERR_CONNECT, DEADLINE_EXCEEDED -> SOUPC_ERR_DEADLINE,
 * NOT_FOUND -> SOUPC_ERR_NOT_FOUND, UNIMPLEMENTED -> SOUPC_ERR_UNSUPPORTED,
 * anything else -> SOUPC_ERR_PROTOCOL. */
int soupc__plugin_err_from_grpc(int code);

/* Monotonic milliseconds. */
int64_t soupc__plugin_now_ms(void);

#endif
