/**
 * @file soupc.h
 * soup-c: version, error codes, gRPC status codes, statuses, memory and
 * logging; the base every other public header includes.
 *
 * Conventions for the whole API:
 * - A function that can fail returns int: 0, or a negative ::soupc_err. Its
 *   documentation lists every code it returns. A programming error (NULL
 *   where a handle is required) is an assert, not a return code.
 * - A message meant for a person travels in a ::soupc_status the caller
 *   owns (a parameter named @c st, which may be NULL), never in a global.
 * - Output parameters come first and are written only on success.
 * - Buffers and strings the library hands out through an @c out parameter
 *   are released with soupc_free() unless the function names another
 *   release function (objects have their own @c _free).
 * - Option structs start with @c struct_size and are initialised with their
 *   @c SOUPC_..._INIT macro (docs/api/abi.md).
 */
#ifndef SOUPC_SOUPC_H
#define SOUPC_SOUPC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
/** Marks a function exported from the shared libraries; everything else is
 * built with -fvisibility=hidden and stays inside. */
#define SOUPC_EXTERN __attribute__((visibility("default")))
/** Lets the compiler check a printf-style format (argument @p fmt) against
 * the arguments from position @p args on. */
#define SOUPC_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define SOUPC_EXTERN
#define SOUPC_PRINTF(fmt, args)
#endif

#include "soupc/version.h"

/**
 * Error codes, returned negated (0 is success). There is one range per
 * layer, so a code in a log says where it came from; soupc_strerror() names
 * each, soupc_err_is_fatal() tells fatal ones apart and soupc_err_to_grpc()
 * maps them to gRPC status codes. New codes may be added in any release:
 * treat an unknown code as a failure of its range.
 */
typedef enum {
  SOUPC_OK = 0, /**< success */
  /** -1..-99, any layer: an argument or input is not acceptable; the
   * status message says which and why. */
  SOUPC_ERR_INVALID_ARGUMENT = -1,
  SOUPC_ERR_NOT_FOUND = -2,   /**< the named thing does not exist */
  SOUPC_ERR_TOO_LARGE = -3,   /**< over a size limit (message, key, ...) */
  SOUPC_ERR_IO = -4,          /**< a system call failed; see the message */
  SOUPC_ERR_UNSUPPORTED = -5, /**< valid, but not something soup-c does */
  SOUPC_ERR_CLOSED = -6,      /**< the call, stream or channel has ended */
  SOUPC_ERR_DEADLINE = -100,  /**< -100..-199, transport: a deadline passed */
  SOUPC_ERR_CONNECT = -101,   /**< the connection could not be made */
  SOUPC_ERR_TLS = -102,       /**< TLS setup, handshake or certificate */
  SOUPC_ERR_PROTOCOL = -103,  /**< the peer broke HTTP/2 or gRPC rules */
  /** the peer answered a call with a non-OK gRPC status (or reset its
   * stream); the ::soupc_status holds the code and the peer's message */
  SOUPC_ERR_STATUS = -104,
  /** -200..-299, plugin: the handshake line is missing or malformed, or
   * the versions do not match */
  SOUPC_ERR_HANDSHAKE = -200,
  SOUPC_ERR_COOKIE = -201,        /**< go-plugin's magic cookie mismatch */
  SOUPC_ERR_PLUGIN_EXITED = -202, /**< the plugin process ended */
  /** the plugin executable's checksum is not the expected one
   * (go-plugin's SecureConfig) */
  SOUPC_ERR_CHECKSUM = -203,
  SOUPC_ERR_STORE_FULL = -300,  /**< -300..-399, store: no space left */
  SOUPC_ERR_STORE = -301,       /**< any other store failure */
  SOUPC_ERR_CTY_DECODE = -400,  /**< -400..-499, cty: bad encoded value */
  SOUPC_ERR_CTY_TYPE = -401,    /**< a bad type or a type mismatch */
  SOUPC_ERR_CTY_CONVERT = -402, /**< a value go-cty's convert refuses */
  SOUPC_ERR_CTY_PANIC = -403,   /**< an operation go-cty panics on */
  /** -900..-999, fatal: out of memory. The object the call was made on may
   * be inconsistent; free it rather than retry. */
  SOUPC_ERR_NOMEM = -900,
  SOUPC_ERR_INTERNAL = -901 /**< a bug in soup-c; fatal like NOMEM */
} soupc_err;

/** gRPC status codes (grpc/doc/statuscodes.md), as sent in grpc-status. */
typedef enum {
  SOUPC_GRPC_OK = 0,                  /**< not an error */
  SOUPC_GRPC_CANCELLED = 1,           /**< cancelled, usually by the caller */
  SOUPC_GRPC_UNKNOWN = 2,             /**< an error without a better code */
  SOUPC_GRPC_INVALID_ARGUMENT = 3,    /**< the request is invalid */
  SOUPC_GRPC_DEADLINE_EXCEEDED = 4,   /**< the deadline passed */
  SOUPC_GRPC_NOT_FOUND = 5,           /**< the entity does not exist */
  SOUPC_GRPC_ALREADY_EXISTS = 6,      /**< the entity exists already */
  SOUPC_GRPC_PERMISSION_DENIED = 7,   /**< not allowed */
  SOUPC_GRPC_RESOURCE_EXHAUSTED = 8,  /**< a limit or quota was hit */
  SOUPC_GRPC_FAILED_PRECONDITION = 9, /**< the system is not in the state */
  SOUPC_GRPC_ABORTED = 10,            /**< aborted (a conflict) */
  SOUPC_GRPC_OUT_OF_RANGE = 11,       /**< past the valid range */
  SOUPC_GRPC_UNIMPLEMENTED = 12,      /**< no such method, or not supported */
  SOUPC_GRPC_INTERNAL = 13,           /**< an invariant broke */
  SOUPC_GRPC_UNAVAILABLE = 14,        /**< transient: retry may succeed */
  SOUPC_GRPC_DATA_LOSS = 15,          /**< unrecoverable data loss */
  SOUPC_GRPC_UNAUTHENTICATED = 16     /**< no valid credentials */
} soupc_grpc_code;

/**
 * A status for a person: a gRPC code and a one-line message. The caller
 * owns it (usually on its stack) and passes it to calls that can fail; it
 * is a plain struct, so it can be copied across threads by value. Its
 * layout is frozen for the life of soname 0 (docs/api/abi.md).
 */
typedef struct soupc_status {
  int code;          /**< a ::soupc_grpc_code; SOUPC_GRPC_OK when cleared */
  char message[512]; /**< NUL-terminated, one line, no newline */
} soupc_status;

/**
 * The version of the library loaded at run time, which may be newer than the
 * headers a program was built with (SOUPC_VERSION).
 * @return "MAJOR.MINOR.PATCH", e.g. "0.1.0"; static storage, never NULL.
 *         Thread-safe.
 */
SOUPC_EXTERN const char *soupc_version(void);

/**
 * The loaded library's version as 0xMMmmpp, to compare with
 * SOUPC_VERSION_NUM: a program that needs an API added in 0.2.0 checks
 * `soupc_version_num() >= 0x000200` before calling it.
 * @return the number; never fails. Thread-safe.
 */
SOUPC_EXTERN unsigned int soupc_version_num(void);

/**
 * Names an error code.
 * @param err a ::soupc_err (0 or negative)
 * @return a static, lower-case name ("invalid argument", "TLS error"), or
 *         "unknown error" for a code this version does not know; never
 *         NULL. Thread-safe.
 */
SOUPC_EXTERN const char *soupc_strerror(int err);

/**
 * Tells whether an error leaves the object it came from unusable.
 * @param err a ::soupc_err
 * @return non-zero for the fatal range (-900..-999: SOUPC_ERR_NOMEM,
 *         SOUPC_ERR_INTERNAL): free the object instead of retrying; 0 for
 *         every other code, including 0. Thread-safe.
 */
SOUPC_EXTERN int soupc_err_is_fatal(int err);

/**
 * Maps an error code to the gRPC status code a server sends for it:
 * INVALID_ARGUMENT for invalid arguments and cty errors, NOT_FOUND,
 * RESOURCE_EXHAUSTED for TOO_LARGE, STORE_FULL and NOMEM, UNIMPLEMENTED for
 * UNSUPPORTED, DEADLINE_EXCEEDED, UNAVAILABLE for CLOSED, CONNECT and TLS,
 * PERMISSION_DENIED for CHECKSUM, and INTERNAL for everything else.
 * @param err a ::soupc_err; 0 maps to SOUPC_GRPC_OK
 * @return a ::soupc_grpc_code. Thread-safe.
 */
SOUPC_EXTERN int soupc_err_to_grpc(int err);

/**
 * Names a gRPC status code.
 * @param code a ::soupc_grpc_code
 * @return the canonical upper-case name ("NOT_FOUND"), or "UNKNOWN" for a
 *         code outside 0..16; static storage, never NULL. Thread-safe.
 */
SOUPC_EXTERN const char *soupc_grpc_code_name(int code);

/**
 * Sets a status to a code and a printf-formatted message. Newlines and
 * carriage returns in the result become spaces, and a message longer than
 * the buffer is truncated.
 * @param st   the status to write; NULL makes the call a no-op
 * @param code a ::soupc_grpc_code
 * @param fmt  a printf format for the message
 * Thread-safe on distinct statuses.
 */
SOUPC_EXTERN void soupc_status_set(soupc_status *st, int code, const char *fmt,
                                   ...) SOUPC_PRINTF(3, 4);

/**
 * Sets a status to SOUPC_GRPC_OK with an empty message.
 * @param st the status; NULL makes the call a no-op
 */
SOUPC_EXTERN void soupc_status_clear(soupc_status *st);

/**
 * Releases a buffer or string the library returned through an @c out
 * parameter (certificates and keys from cert.h, response bytes from
 * rpc.h, ...), whenever its documentation does not name another function.
 * Use it rather than free(): it is the allocator the library used.
 * @param p what the library returned; NULL is a no-op
 * Thread-safe.
 */
SOUPC_EXTERN void soupc_free(void *p);

/** Log levels, most severe first. */
typedef enum {
  SOUPC_LOG_ERROR = 0, /**< errors only */
  SOUPC_LOG_WARN = 1,  /**< and warnings */
  SOUPC_LOG_INFO = 2,  /**< and lifecycle events (the default) */
  SOUPC_LOG_DEBUG = 3, /**< and per-connection detail */
  SOUPC_LOG_TRACE = 4  /**< and per-call detail */
} soupc_log_level;

/** Log line formats. */
typedef enum {
  /** "2026-01-02T03:04:05.123Z [INFO] kv: message" */
  SOUPC_LOG_TEXT = 0,
  /** One hclog JSON object per line (go-plugin-protocol.md §2.6), with
   * "@level", "@module", "@timestamp" and "@message": what go-plugin hosts
   * parse from a plugin's stderr. */
  SOUPC_LOG_HCLOG_JSON = 1
} soupc_log_format;

/**
 * Parses a log level name: "error", "warn" (or "warning"), "info", "debug"
 * or "trace", case-insensitive.
 * @param out  the level; written only on success
 * @param s    the name; NULL is invalid
 * @return 0, or SOUPC_ERR_INVALID_ARGUMENT (NULL or unknown name).
 *         Thread-safe.
 */
SOUPC_EXTERN int soupc_log_level_parse(soupc_log_level *out, const char *s);

/**
 * Sets the process-wide log level and line format used by soupc_log() and
 * by the library's own messages. Logs always go to fd 2, one write(2) per
 * line. The default is SOUPC_LOG_INFO and SOUPC_LOG_TEXT.
 * soupc_plugin_serve() switches to SOUPC_LOG_HCLOG_JSON while it runs.
 * @param level  lines above this level are dropped
 * @param format the line format
 * Safe from any thread (the values are atomic); a line being written
 * concurrently may use either setting.
 */
SOUPC_EXTERN void soupc_log_configure(soupc_log_level level,
                                      soupc_log_format format);

/**
 * Tells whether soupc_log() would write at a level, so that a caller can skip
 * building an expensive message.
 * @param level the level to test
 * @return non-zero if a line at @p level would be written. Thread-safe.
 */
SOUPC_EXTERN int soupc_log_enabled(soupc_log_level level);

/**
 * Writes one log line to fd 2, if @p level is enabled. The formatted
 * message is cut at 2 KiB; in SOUPC_LOG_HCLOG_JSON it is JSON-escaped. A
 * failed write is ignored (there is nowhere to report it).
 * @param level  the line's level
 * @param module the subsystem, e.g. "kv" (hclog's "@module"); not escaped,
 *               so use a plain word
 * @param fmt    a printf format for the message
 * Thread-safe: lines from different threads never interleave.
 */
SOUPC_EXTERN void soupc_log(soupc_log_level level, const char *module,
                            const char *fmt, ...) SOUPC_PRINTF(3, 4);

#ifdef __cplusplus
}
#endif

#endif /* SOUPC_SOUPC_H */
