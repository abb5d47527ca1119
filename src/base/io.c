#include "base/io.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "base/alloc.h"
#include "soupc/soupc.h"

int soupc__write_all(int fd, const void *buf, size_t len) {
  const char *p = buf;

  while (len > 0) {
    ssize_t n = write(fd, p, len);

    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      if (n == 0) {
        errno = EIO;
      }
      return SOUPC_ERR_IO;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

int soupc__read_fd(char **out, size_t *len_out, int fd, size_t max) {
  size_t len = 0, cap = 4096;
  char *buf = soupc__malloc(cap + 1);

  if (buf == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  for (;;) {
    ssize_t n;

    if (len == cap) {
      char *nb;

      if (cap > max) {
        soupc__free(buf);
        return SOUPC_ERR_TOO_LARGE;
      }
      nb = soupc__realloc(buf, cap * 2 + 1);
      if (nb == NULL) {
        soupc__free(buf);
        return SOUPC_ERR_NOMEM;
      }
      buf = nb;
      cap *= 2;
    }
    n = read(fd, buf + len, cap - len);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      int e = errno;

      soupc__free(buf);
      errno = e;
      return SOUPC_ERR_IO;
    }
    if (n == 0) {
      break;
    }
    len += (size_t)n;
  }
  if (len > max) {
    soupc__free(buf);
    return SOUPC_ERR_TOO_LARGE;
  }
  buf[len] = '\0';
  if (len_out != NULL) {
    *len_out = len;
  }
  *out = buf;
  return 0;
}

int soupc__read_file(char **out, size_t *len_out, const char *path,
                     size_t max) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  int rv, e;

  if (fd < 0) {
    return errno == ENOENT ? SOUPC_ERR_NOT_FOUND : SOUPC_ERR_IO;
  }
  rv = soupc__read_fd(out, len_out, fd, max);
  e = errno;
  close(fd);
  errno = e;
  return rv;
}
