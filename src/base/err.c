/* Error names, the soup-c -> gRPC code table, and soupc_status. */
#include "soupc/soupc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *soupc_strerror(int err) {
  switch (err) {
  case SOUPC_OK:
    return "ok";
  case SOUPC_ERR_INVALID_ARGUMENT:
    return "invalid argument";
  case SOUPC_ERR_NOT_FOUND:
    return "not found";
  case SOUPC_ERR_TOO_LARGE:
    return "too large";
  case SOUPC_ERR_IO:
    return "I/O error";
  case SOUPC_ERR_UNSUPPORTED:
    return "unsupported";
  case SOUPC_ERR_CLOSED:
    return "closed";
  case SOUPC_ERR_DEADLINE:
    return "deadline exceeded";
  case SOUPC_ERR_CONNECT:
    return "connection failed";
  case SOUPC_ERR_TLS:
    return "TLS error";
  case SOUPC_ERR_PROTOCOL:
    return "protocol error";
  case SOUPC_ERR_STATUS:
    return "call failed with a gRPC status";
  case SOUPC_ERR_HANDSHAKE:
    return "plugin handshake failed";
  case SOUPC_ERR_COOKIE:
    return "plugin magic cookie mismatch";
  case SOUPC_ERR_PLUGIN_EXITED:
    return "plugin exited";
  case SOUPC_ERR_CHECKSUM:
    return "plugin checksum mismatch";
  case SOUPC_ERR_STORE_FULL:
    return "store is full";
  case SOUPC_ERR_STORE:
    return "store error";
  case SOUPC_ERR_CTY_DECODE:
    return "cty decode error";
  case SOUPC_ERR_CTY_TYPE:
    return "cty type error";
  case SOUPC_ERR_CTY_CONVERT:
    return "cty conversion error";
  case SOUPC_ERR_CTY_PANIC:
    return "cty operation not applicable";
  case SOUPC_ERR_NOMEM:
    return "out of memory";
  case SOUPC_ERR_INTERNAL:
    return "internal error";
  default:
    return "unknown error";
  }
}

int soupc_err_is_fatal(int err) {
  return err <= -900 && err > -1000;
}

int soupc_err_to_grpc(int err) {
  switch (err) {
  case SOUPC_OK:
    return SOUPC_GRPC_OK;
  case SOUPC_ERR_INVALID_ARGUMENT:
  case SOUPC_ERR_CTY_DECODE:
  case SOUPC_ERR_CTY_TYPE:
  case SOUPC_ERR_CTY_CONVERT:
  case SOUPC_ERR_CTY_PANIC:
    return SOUPC_GRPC_INVALID_ARGUMENT;
  case SOUPC_ERR_NOT_FOUND:
    return SOUPC_GRPC_NOT_FOUND;
  case SOUPC_ERR_TOO_LARGE:
  case SOUPC_ERR_STORE_FULL:
  case SOUPC_ERR_NOMEM:
    return SOUPC_GRPC_RESOURCE_EXHAUSTED;
  case SOUPC_ERR_UNSUPPORTED:
    return SOUPC_GRPC_UNIMPLEMENTED;
  case SOUPC_ERR_DEADLINE:
    return SOUPC_GRPC_DEADLINE_EXCEEDED;
  case SOUPC_ERR_CLOSED:
  case SOUPC_ERR_CONNECT:
  case SOUPC_ERR_TLS:
    return SOUPC_GRPC_UNAVAILABLE;
  case SOUPC_ERR_CHECKSUM:
    return SOUPC_GRPC_PERMISSION_DENIED;
  default:
    return SOUPC_GRPC_INTERNAL;
  }
}

const char *soupc_grpc_code_name(int code) {
  static const char *const names[] = {
      "OK",
      "CANCELLED",
      "UNKNOWN",
      "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED",
      "NOT_FOUND",
      "ALREADY_EXISTS",
      "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED",
      "FAILED_PRECONDITION",
      "ABORTED",
      "OUT_OF_RANGE",
      "UNIMPLEMENTED",
      "INTERNAL",
      "UNAVAILABLE",
      "DATA_LOSS",
      "UNAUTHENTICATED",
  };
  if (code < 0 || code > 16) {
    return "UNKNOWN";
  }
  return names[code];
}

void soupc_status_set(soupc_status *st, int code, const char *fmt, ...) {
  va_list ap;
  char *p;

  if (st == NULL) {
    return;
  }
  st->code = code;
  va_start(ap, fmt);
  vsnprintf(st->message, sizeof(st->message), fmt, ap);
  va_end(ap);
  /* One line: a message may be a gRPC trailer or a CLI error line. */
  for (p = st->message; *p != '\0'; p++) {
    if (*p == '\n' || *p == '\r') {
      *p = ' ';
    }
  }
}

void soupc_status_clear(soupc_status *st) {
  if (st == NULL) {
    return;
  }
  st->code = SOUPC_GRPC_OK;
  st->message[0] = '\0';
}
