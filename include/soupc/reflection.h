/**
 * @file reflection.h
 * gRPC server reflection (grpc.reflection.v1.ServerReflection and
 * grpc.reflection.v1alpha.ServerReflection) for a soupc_server, so that
 * tools such as grpcurl can list its services and fetch their descriptors.
 *
 * It lists the services registered on the server it is added to (at the
 * time of each request) and answers file_by_filename,
 * file_containing_symbol, file_containing_extension and
 * all_extension_numbers_of_type from descriptor sets: soup-c's own (every
 * .proto file soup-c serves: proto.KV, plugin.*, grpc.health.v1, the
 * reflection services, the examples' services) and, optionally, the
 * application's (protoc --descriptor_set_out=F --include_imports). A name it
 * does not know gets an ErrorResponse with NOT_FOUND; a request that does
 * not decode or asks nothing ends the stream with INVALID_ARGUMENT.
 *
 * soupc_plugin_serve() adds it unless told not to (no_reflection).
 */
#ifndef SOUPC_REFLECTION_H
#define SOUPC_REFLECTION_H

#include "soupc/rpc.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The descriptors and the handlers; opaque. Immutable once made, so one
 * may serve several servers. */
typedef struct soupc_reflection soupc_reflection;

/** Options for soupc_reflection_new(). Start from
 * SOUPC_REFLECTION_OPTIONS_INIT, then set fields. */
typedef struct soupc_reflection_options {
  /** sizeof(soupc_reflection_options) as the caller was built; set by
   * SOUPC_REFLECTION_OPTIONS_INIT (docs/api/abi.md). */
  size_t struct_size;
  /** A serialized google.protobuf.FileDescriptorSet describing the
   * application's own services (made with protoc --descriptor_set_out
   * --include_imports), or NULL. Copied. Where a file name is in both,
   * soup-c's own file wins. */
  const uint8_t *descriptor_set;
  /** Bytes in @c descriptor_set. */
  size_t descriptor_set_len;
} soupc_reflection_options;

/** Initialiser for soupc_reflection_options: every field at its default. */
#define SOUPC_REFLECTION_OPTIONS_INIT                                          \
  { .struct_size = sizeof(soupc_reflection_options) }

/**
 * Builds the descriptor index. @p opts may be NULL (soup-c's files only).
 * @return 0; SOUPC_ERR_INVALID_ARGUMENT (the set does not decode, or a file
 *         imports one no set holds; @p st says which); SOUPC_ERR_NOMEM.
 */
SOUPC_EXTERN int soupc_reflection_new(soupc_reflection **out,
                                      const soupc_reflection_options *opts,
                                      soupc_status *st);

/**
 * Registers both reflection services on @p srv (before
 * soupc_server_start()). @p refl must outlive @p srv.
 * @return 0, or the error of soupc_server_add_stream().
 */
SOUPC_EXTERN int soupc_reflection_register(soupc_reflection *refl,
                                           soupc_server *srv);

/** Frees @p refl; every server it was registered on must be freed first.
 * Accepts NULL. */
SOUPC_EXTERN void soupc_reflection_free(soupc_reflection *refl);

#ifdef __cplusplus
}
#endif

#endif /* SOUPC_REFLECTION_H */
