/* The descriptors gRPC reflection serves: serialized
 * google.protobuf.FileDescriptorProto messages from one or more
 * FileDescriptorSets, indexed by file name, by fully qualified symbol
 * (messages, fields, enums, enum values, services, methods, extensions) and
 * by extension (extendee, number). Immutable once built; safe to read from
 * any thread. Private to reflection/. */
#ifndef SOUPC_REFLECTION_DESCRIPTOR_POOL_H
#define SOUPC_REFLECTION_DESCRIPTOR_POOL_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "soupc/soupc.h"

/* protobuf-c's allocations through soupc__malloc (descriptor_pool.c). */
extern ProtobufCAllocator soupc__reflection_pb_allocator;

struct dpool_file {
  char *name;     /* "kv.proto" */
  uint8_t *bytes; /* the serialized FileDescriptorProto */
  size_t len;
  size_t *deps; /* indexes of the files it imports */
  size_t ndeps;
  char **dep_names; /* as written in the file, until linked */
};

struct dpool_symbol {
  char *name; /* "proto.KV.Get", no leading dot */
  size_t file;
  int is_message; /* a message type (all_extension_numbers_of_type) */
};

struct dpool_extension {
  char *extendee; /* no leading dot */
  int32_t number;
  size_t file;
};

struct dpool {
  struct dpool_file *files;
  size_t nfiles;
  struct dpool_symbol *syms; /* sorted by name after link */
  size_t nsyms;
  struct dpool_extension *exts;
  size_t nexts;
};

/* Adds every file of the FileDescriptorSet @p set (protoc
 * --descriptor_set_out --include_imports). A file whose name is already in
 * the pool is skipped (the first set wins).
 * @return 0, SOUPC_ERR_INVALID_ARGUMENT (not a FileDescriptorSet; @p st
 *         says so), SOUPC_ERR_NOMEM. */
int soupc__dpool_add_set(struct dpool *p, const uint8_t *set, size_t len,
                         soupc_status *st);

/* Sorts the symbols and resolves imports. Call once after the last add.
 * @return 0, SOUPC_ERR_INVALID_ARGUMENT (a file imports one the pool does
 *         not hold; @p st names both), SOUPC_ERR_NOMEM. */
int soupc__dpool_link(struct dpool *p, soupc_status *st);

/* @return the index of the file named @p name, or -1. */
long soupc__dpool_find_file(const struct dpool *p, const char *name);

/* @return the symbol named @p name (no leading dot), or NULL. */
const struct dpool_symbol *soupc__dpool_find_symbol(const struct dpool *p,
                                                    const char *name);

/* @return the file declaring extension @p number of @p extendee, or -1. */
long soupc__dpool_find_extension(const struct dpool *p, const char *extendee,
                                 int32_t number);

/* Writes up to @p cap extension numbers of @p extendee to @p out.
 * @return how many there are (may exceed @p cap). */
size_t soupc__dpool_extension_numbers(const struct dpool *p,
                                      const char *extendee, int32_t *out,
                                      size_t cap);

/* Frees everything the pool holds (not @p p itself). */
void soupc__dpool_dispose(struct dpool *p);

#endif
