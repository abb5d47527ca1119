/* Blocking file-descriptor helpers shared by every layer: a write that
 * survives short writes and EINTR, and bounded reads of a whole fd or file
 * into memory from src/base/alloc.h. */
#ifndef SOUPC_BASE_IO_H
#define SOUPC_BASE_IO_H

#include <stddef.h>

/* Writes all @p len bytes of @p buf to @p fd, retrying short writes and
 * EINTR. @return 0, or SOUPC_ERR_IO with errno set (a write returned an
 * error, or 0 bytes). */
int soupc__write_all(int fd, const void *buf, size_t len);

/* Reads @p fd to EOF into a soupc__malloc'd buffer with a NUL appended (not
 * counted in *len_out). Does not close @p fd. @p len_out may be NULL.
 * @return 0; SOUPC_ERR_TOO_LARGE (more than @p max bytes); SOUPC_ERR_IO
 * (errno set); SOUPC_ERR_NOMEM. *out is written only on success. */
int soupc__read_fd(char **out, size_t *len_out, int fd, size_t max);

/* soupc__read_fd() on @p path. @return as soupc__read_fd(), plus
 * SOUPC_ERR_NOT_FOUND when the file does not exist (errno set). */
int soupc__read_file(char **out, size_t *len_out, const char *path, size_t max);

#endif
