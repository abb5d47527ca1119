/* gRPC server reflection (include/soupc/reflection.h): the
 * ServerReflectionInfo bidirectional stream of grpc.reflection.v1 and
 * v1alpha (wire-identical; one set of protobuf-c messages serves both).
 * Every request gets one response on the worker thread that owns the call;
 * there is no per-stream state. Services are listed from the server's own
 * method table at request time, so whatever was registered is listed,
 * described or not. */
#include "soupc/reflection.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/options.h"
#include "reflection.pb-c.h"
#include "reflection/descriptor_pool.h"

/* The embedded descriptor set of soup-c's own .proto files
 * (src/reflection/CMakeLists.txt). */
extern const unsigned char soupc__reflection_builtin_set[];
extern const size_t soupc__reflection_builtin_set_len;

#define V1_PATH "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
#define V1ALPHA_PATH                                                           \
  "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"
/* Longest service name we list; gRPC paths are far shorter. */
#define MAX_SERVICE_NAME 256

typedef Grpc__Reflection__V1__ServerReflectionRequest request;
typedef Grpc__Reflection__V1__ServerReflectionResponse response;

struct soupc_reflection {
  struct dpool pool;
};

/* ---- building responses ---- */

/* Sends @p resp on @p call, then forgets its message_response (the caller's
 * stack). @return 0, or -1 after finishing the call. */
static int send_response(soupc_call *call, response *resp) {
  size_t n =
      grpc__reflection__v1__server_reflection_response__get_packed_size(resp);
  uint8_t *buf = soupc__malloc(n > 0 ? n : 1);
  int rv;

  if (buf != NULL) {
    grpc__reflection__v1__server_reflection_response__pack(resp, buf);
  }
  resp->message_response_case =
      GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE__NOT_SET;
  resp->error_response = NULL;
  if (buf == NULL) {
    soupc_call_finish(call, SOUPC_GRPC_RESOURCE_EXHAUSTED,
                      "out of memory building a reflection response");
    return -1;
  }
  rv = soupc_call_send(call, buf, n);
  soupc__free(buf);
  if (rv == SOUPC_ERR_TOO_LARGE) {
    soupc_call_fail(call, SOUPC_GRPC_RESOURCE_EXHAUSTED,
                    "the reflection response (%zu bytes) is over the "
                    "message size limit",
                    n);
    return -1;
  }
  return rv == 0 ? 0 : -1;
}

static int send_error(soupc_call *call, response *resp, int code,
                      const char *what, const char *name) {
  Grpc__Reflection__V1__ErrorResponse er =
      GRPC__REFLECTION__V1__ERROR_RESPONSE__INIT;
  char msg[400];

  snprintf(msg, sizeof(msg), "%s not found: %.300s", what, name);
  er.error_code = code;
  er.error_message = msg;
  resp->message_response_case =
      GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ERROR_RESPONSE;
  resp->error_response = &er;
  return send_response(call, resp);
}

/* The file @p root, then the files it imports (breadth first), each once.
 * @return how many were written to @p out (at most p->nfiles). */
static size_t collect_files(const struct dpool *p, size_t root, uint8_t *seen,
                            ProtobufCBinaryData *out, size_t *idx) {
  size_t n = 0, k, j;

  seen[root] = 1;
  idx[n++] = root;
  for (k = 0; k < n; k++) {
    const struct dpool_file *f = &p->files[idx[k]];

    out[k].data = f->bytes;
    out[k].len = f->len;
    for (j = 0; j < f->ndeps; j++) {
      if (!seen[f->deps[j]]) {
        seen[f->deps[j]] = 1;
        idx[n++] = f->deps[j];
      }
    }
  }
  return n;
}

/* The file and everything it imports (go-plugin's Go server sends the
 * same: the file first, then its dependencies). */
static int send_files(soupc_call *call, const struct soupc_reflection *r,
                      response *resp, size_t file) {
  Grpc__Reflection__V1__FileDescriptorResponse fr =
      GRPC__REFLECTION__V1__FILE_DESCRIPTOR_RESPONSE__INIT;
  size_t nfiles = r->pool.nfiles;
  uint8_t *seen = soupc__calloc(nfiles, 1);
  ProtobufCBinaryData *files = soupc__calloc(nfiles, sizeof(*files));
  size_t *idx = soupc__calloc(nfiles, sizeof(*idx));
  int rv = -1;

  if (seen == NULL || files == NULL || idx == NULL) {
    soupc_call_finish(call, SOUPC_GRPC_RESOURCE_EXHAUSTED,
                      "out of memory building a reflection response");
  } else {
    fr.n_file_descriptor_proto =
        collect_files(&r->pool, file, seen, files, idx);
    fr.file_descriptor_proto = files;
    resp->message_response_case =
        GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_FILE_DESCRIPTOR_RESPONSE;
    resp->file_descriptor_response = &fr;
    rv = send_response(call, resp);
  }
  soupc__free(seen);
  soupc__free(files);
  soupc__free(idx);
  return rv;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* @return the service names of the server's methods, sorted and unique;
 * the caller frees each and the array. NULL with *n 0 when out of memory
 * or empty. */
static char **service_names(const soupc_server *srv, size_t *n_out) {
  const char *path;
  char **names = NULL;
  size_t i, n = 0, k;

  for (i = 0; (path = soupc_server_method(srv, i)) != NULL; i++) {
    const char *slash = strchr(path + 1, '/');
    size_t len = slash != NULL ? (size_t)(slash - path - 1) : 0;
    char **nn;

    if (len == 0 || len > MAX_SERVICE_NAME) {
      continue;
    }
    for (k = 0; k < n; k++) {
      if (strncmp(names[k], path + 1, len) == 0 && names[k][len] == '\0') {
        break;
      }
    }
    if (k < n) {
      continue;
    }
    nn = soupc__realloc(names, (n + 1) * sizeof(*names));
    if (nn == NULL || (nn[n] = soupc__strndup(path + 1, len)) == NULL) {
      names = nn != NULL ? nn : names;
      break;
    }
    names = nn;
    n++;
  }
  if (n > 1) {
    qsort(names, n, sizeof(*names), cmp_str);
  }
  *n_out = n;
  return names;
}

static int send_services(soupc_call *call, response *resp) {
  Grpc__Reflection__V1__ListServiceResponse lr =
      GRPC__REFLECTION__V1__LIST_SERVICE_RESPONSE__INIT;
  Grpc__Reflection__V1__ServiceResponse *items = NULL, **ptrs = NULL;
  size_t n = 0, i;
  char **names = service_names(soupc_call_server(call), &n);
  int rv = -1;

  if (n > 0) {
    items = soupc__calloc(n, sizeof(*items));
    ptrs = soupc__calloc(n, sizeof(Grpc__Reflection__V1__ServiceResponse *));
  }
  if (n > 0 && (items == NULL || ptrs == NULL)) {
    soupc_call_finish(call, SOUPC_GRPC_RESOURCE_EXHAUSTED,
                      "out of memory listing services");
  } else {
    for (i = 0; i < n; i++) {
      grpc__reflection__v1__service_response__init(&items[i]);
      items[i].name = names[i];
      ptrs[i] = &items[i];
    }
    lr.n_service = n;
    lr.service = ptrs;
    resp->message_response_case =
        GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_LIST_SERVICES_RESPONSE;
    resp->list_services_response = &lr;
    rv = send_response(call, resp);
  }
  for (i = 0; i < n; i++) {
    soupc__free(names[i]);
  }
  soupc__free(names);
  soupc__free(items);
  soupc__free(ptrs);
  return rv;
}

/* A symbol as a client writes it: grpcurl sends no leading dot, some
 * clients do. */
static const char *strip_dot(const char *s) {
  return s != NULL && s[0] == '.' ? s + 1 : (s != NULL ? s : "");
}

static int send_extension_numbers(soupc_call *call,
                                  const struct soupc_reflection *r,
                                  response *resp, const char *type) {
  Grpc__Reflection__V1__ExtensionNumberResponse er =
      GRPC__REFLECTION__V1__EXTENSION_NUMBER_RESPONSE__INIT;
  const struct dpool_symbol *sym = soupc__dpool_find_symbol(&r->pool, type);
  size_t n;
  int32_t *nums;
  int rv;

  if (sym == NULL || !sym->is_message) {
    return send_error(call, resp, SOUPC_GRPC_NOT_FOUND, "message type", type);
  }
  n = soupc__dpool_extension_numbers(&r->pool, type, NULL, 0);
  nums = soupc__calloc(n > 0 ? n : 1, sizeof(*nums));
  if (nums == NULL) {
    soupc_call_finish(call, SOUPC_GRPC_RESOURCE_EXHAUSTED, "out of memory");
    return -1;
  }
  soupc__dpool_extension_numbers(&r->pool, type, nums, n);
  er.base_type_name = (char *)type;
  er.n_extension_number = n;
  er.extension_number = nums;
  resp->message_response_case =
      GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ALL_EXTENSION_NUMBERS_RESPONSE;
  resp->all_extension_numbers_response = &er;
  rv = send_response(call, resp);
  soupc__free(nums);
  return rv;
}

/* One request, one response. @return 0, or -1 once the call is finished. */
static int answer(soupc_call *call, const struct soupc_reflection *r,
                  request *req) {
  response resp = GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__INIT;
  const struct dpool_symbol *sym;
  const char *name;
  long file;

  resp.valid_host = req->host;
  resp.original_request = req;
  switch (req->message_request_case) {
  case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_BY_FILENAME:
    file = soupc__dpool_find_file(&r->pool, req->file_by_filename);
    return file < 0 ? send_error(call, &resp, SOUPC_GRPC_NOT_FOUND, "file",
                                 req->file_by_filename)
                    : send_files(call, r, &resp, (size_t)file);
  case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_SYMBOL:
    name = strip_dot(req->file_containing_symbol);
    sym = soupc__dpool_find_symbol(&r->pool, name);
    return sym == NULL
               ? send_error(call, &resp, SOUPC_GRPC_NOT_FOUND, "symbol", name)
               : send_files(call, r, &resp, sym->file);
  case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_EXTENSION:
    name = strip_dot(req->file_containing_extension->containing_type);
    file = soupc__dpool_find_extension(
        &r->pool, name, req->file_containing_extension->extension_number);
    return file < 0 ? send_error(call, &resp, SOUPC_GRPC_NOT_FOUND,
                                 "extension of", name)
                    : send_files(call, r, &resp, (size_t)file);
  case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_ALL_EXTENSION_NUMBERS_OF_TYPE:
    return send_extension_numbers(
        call, r, &resp, strip_dot(req->all_extension_numbers_of_type));
  case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_LIST_SERVICES:
    return send_services(call, &resp);
  default:
    /* grpc-go ends the stream the same way. */
    soupc_call_finish(call, SOUPC_GRPC_INVALID_ARGUMENT,
                      "ServerReflectionRequest asks nothing (no "
                      "message_request field set)");
    return -1;
  }
}

/* ---- the stream ---- */

static void on_message(soupc_call *call, const uint8_t *msg, size_t len,
                       void *user_data) {
  request *req = grpc__reflection__v1__server_reflection_request__unpack(
      &soupc__reflection_pb_allocator, len, msg);

  if (req == NULL) {
    soupc_call_fail(call, SOUPC_GRPC_INVALID_ARGUMENT,
                    "malformed ServerReflectionRequest (%zu bytes)", len);
    return;
  }
  (void)answer(call, user_data, req);
  grpc__reflection__v1__server_reflection_request__free_unpacked(
      req, &soupc__reflection_pb_allocator);
}

static void on_half_close(soupc_call *call, void *user_data) {
  (void)user_data;
  soupc_call_finish(call, SOUPC_GRPC_OK, NULL);
}

static void on_cancel(soupc_call *call, void *user_data) {
  (void)user_data;
  soupc_call_finish(call, SOUPC_GRPC_CANCELLED, "cancelled");
}

/* ---- public ---- */

int soupc_reflection_new(soupc_reflection **out,
                         const soupc_reflection_options *user_opts,
                         soupc_status *st) {
  soupc_reflection_options opts = SOUPC_REFLECTION_OPTIONS_INIT;
  soupc_reflection *r;
  int rv;

  soupc_status_clear(st);
  if (user_opts != NULL) {
    rv = soupc__options_copy(&opts, sizeof(opts), user_opts,
                             "soupc_reflection_options", st);
    if (rv != 0) {
      return rv;
    }
  }
  r = soupc__calloc(1, sizeof(*r));
  if (r == NULL) {
    soupc_status_set(st, SOUPC_GRPC_RESOURCE_EXHAUSTED, "out of memory");
    return SOUPC_ERR_NOMEM;
  }
  rv = soupc__dpool_add_set(&r->pool, soupc__reflection_builtin_set,
                            soupc__reflection_builtin_set_len, st);
  if (rv == 0 && opts.descriptor_set != NULL) {
    rv = soupc__dpool_add_set(&r->pool, opts.descriptor_set,
                              opts.descriptor_set_len, st);
  }
  if (rv == 0) {
    rv = soupc__dpool_link(&r->pool, st);
  }
  if (rv != 0) {
    soupc_reflection_free(r);
    return rv;
  }
  *out = r;
  return 0;
}

int soupc_reflection_register(soupc_reflection *refl, soupc_server *srv) {
  soupc_stream_handlers h = SOUPC_STREAM_HANDLERS_INIT;
  int rv;

  h.on_message = on_message;
  h.on_half_close = on_half_close;
  h.on_cancel = on_cancel;
  rv = soupc_server_add_stream(srv, V1_PATH, &h, refl);
  if (rv == 0) {
    rv = soupc_server_add_stream(srv, V1ALPHA_PATH, &h, refl);
  }
  return rv;
}

void soupc_reflection_free(soupc_reflection *refl) {
  if (refl == NULL) {
    return;
  }
  soupc__dpool_dispose(&refl->pool);
  soupc__free(refl);
}
