/**
 * @file soupc.h
 * soup-c: version, error codes, gRPC status and logging.
 *
 * Every function that can fail returns int: 0, or a negative soupc_err.
 * A message meant for a person travels in a soupc_status owned by the caller.
 */
#ifndef SOUPC_SOUPC_H
#define SOUPC_SOUPC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define SOUPC_EXTERN __attribute__((visibility("default")))
#define SOUPC_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define SOUPC_EXTERN
#define SOUPC_PRINTF(fmt, args)
#endif

#include "soupc/version.h"

/** Error codes; one range per layer, so a code in a log says where it came
 * from. */
typedef enum {
  SOUPC_OK = 0,
  SOUPC_ERR_INVALID_ARGUMENT = -1, /* -1..-99: expected, any layer */
  SOUPC_ERR_NOT_FOUND = -2,
  SOUPC_ERR_TOO_LARGE = -3,
  SOUPC_ERR_IO = -4,
  SOUPC_ERR_UNSUPPORTED = -5,
  SOUPC_ERR_CLOSED = -6,
  SOUPC_ERR_DEADLINE = -100, /* -100..-199: transport */
  SOUPC_ERR_CONNECT = -101,
  SOUPC_ERR_TLS = -102,
  SOUPC_ERR_PROTOCOL = -103,
  SOUPC_ERR_HANDSHAKE = -200, /* -200..-299: plugin */
  SOUPC_ERR_COOKIE = -201,
  SOUPC_ERR_PLUGIN_EXITED = -202,
  SOUPC_ERR_CHECKSUM = -203,   /* the plugin binary is not the expected one */
  SOUPC_ERR_STORE_FULL = -300, /* -300..-399: store */
  SOUPC_ERR_STORE = -301,
  SOUPC_ERR_CTY_DECODE = -400, /* -400..-499: cty */
  SOUPC_ERR_CTY_TYPE = -401,
  SOUPC_ERR_NOMEM = -900, /* -900..-999: fatal; free the object */
  SOUPC_ERR_INTERNAL = -901
} soupc_err;

/** gRPC status codes (grpc/doc/statuscodes.md). */
typedef enum {
  SOUPC_GRPC_OK = 0,
  SOUPC_GRPC_CANCELLED = 1,
  SOUPC_GRPC_UNKNOWN = 2,
  SOUPC_GRPC_INVALID_ARGUMENT = 3,
  SOUPC_GRPC_DEADLINE_EXCEEDED = 4,
  SOUPC_GRPC_NOT_FOUND = 5,
  SOUPC_GRPC_ALREADY_EXISTS = 6,
  SOUPC_GRPC_PERMISSION_DENIED = 7,
  SOUPC_GRPC_RESOURCE_EXHAUSTED = 8,
  SOUPC_GRPC_FAILED_PRECONDITION = 9,
  SOUPC_GRPC_ABORTED = 10,
  SOUPC_GRPC_OUT_OF_RANGE = 11,
  SOUPC_GRPC_UNIMPLEMENTED = 12,
  SOUPC_GRPC_INTERNAL = 13,
  SOUPC_GRPC_UNAVAILABLE = 14,
  SOUPC_GRPC_DATA_LOSS = 15,
  SOUPC_GRPC_UNAUTHENTICATED = 16
} soupc_grpc_code;

/** A status for a person: a gRPC code and a one-line message. The caller
 * owns it; it is a plain struct so it can cross threads by value. */
typedef struct soupc_status {
  int code;          /* a soupc_grpc_code */
  char message[512]; /* NUL-terminated, one line */
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

/** @return a static name for any soupc_err ("invalid argument", ...). */
SOUPC_EXTERN const char *soupc_strerror(int err);

/** @return non-zero if @p err means the object must be freed, not retried. */
SOUPC_EXTERN int soupc_err_is_fatal(int err);

/** Maps a soupc_err to the gRPC status code a server sends for it. */
SOUPC_EXTERN int soupc_err_to_grpc(int err);

/** @return the canonical upper-case name of a gRPC code ("NOT_FOUND"), or
 * "UNKNOWN" for a code outside 0..16; static storage. */
SOUPC_EXTERN const char *soupc_grpc_code_name(int code);

/** Sets @p st to @p code and a formatted message; newlines are replaced by
 * spaces and long messages are truncated. @p st may be NULL (no-op). */
SOUPC_EXTERN void soupc_status_set(soupc_status *st, int code, const char *fmt,
                                   ...) SOUPC_PRINTF(3, 4);

/** Sets @p st to OK with an empty message. @p st may be NULL. */
SOUPC_EXTERN void soupc_status_clear(soupc_status *st);

/** Log levels, most severe first. */
typedef enum {
  SOUPC_LOG_ERROR = 0,
  SOUPC_LOG_WARN = 1,
  SOUPC_LOG_INFO = 2,
  SOUPC_LOG_DEBUG = 3,
  SOUPC_LOG_TRACE = 4
} soupc_log_level;

/** Log line formats. */
typedef enum {
  SOUPC_LOG_TEXT = 0,      /* "2026-01-02T03:04:05.123Z [INFO]  kv: msg" */
  SOUPC_LOG_HCLOG_JSON = 1 /* go-plugin-protocol.md §2.6: one JSON object */
} soupc_log_format;

/**
 * Parses "error|warn|info|debug|trace" (case-insensitive).
 * @return 0, or SOUPC_ERR_INVALID_ARGUMENT with *out unchanged.
 */
SOUPC_EXTERN int soupc_log_level_parse(soupc_log_level *out, const char *s);

/** Sets the process-wide level and format. Logs always go to fd 2, one
 * write(2) per line. Call before starting threads. */
SOUPC_EXTERN void soupc_log_configure(soupc_log_level level,
                                      soupc_log_format format);

/** @return non-zero if a message at @p level would be written. */
SOUPC_EXTERN int soupc_log_enabled(soupc_log_level level);

/** Writes one log line at @p level for @p module (e.g. "kv"). Thread-safe. */
SOUPC_EXTERN void soupc_log(soupc_log_level level, const char *module,
                            const char *fmt, ...) SOUPC_PRINTF(3, 4);

#ifdef __cplusplus
}
#endif

#endif /* SOUPC_SOUPC_H */
