/* What a plugin reads from its environment: the magic cookie, the app
 * version list, the port range and the unix socket directory and group
 * (go-plugin-protocol.md §1, §2.1-§2.3), and the listeners built from them. */
#include "plugin/plugin_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"

int64_t soupc__plugin_now_ms(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int soupc__plugin_cookie_check(const char *key, const char *value,
                               const char *env_value) {
  if (key == NULL || key[0] == '\0' || value == NULL || value[0] == '\0') {
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  /* §2.1: an unset variable counts as a mismatch. */
  if (env_value == NULL || strcmp(env_value, value) != 0) {
    return SOUPC_ERR_COOKIE;
  }
  return 0;
}

/* Go's strconv.Atoi: optional sign, decimal digits, no spaces. */
static int atoi_strict(int *out, const char *s, size_t len) {
  long v = 0;
  size_t i = 0;
  int neg = 0;

  if (len > 0 && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    i = 1;
  }
  if (i == len || len - i > 9) {
    return -1;
  }
  for (; i < len; i++) {
    if (s[i] < '0' || s[i] > '9') {
      return -1;
    }
    v = v * 10 + (s[i] - '0');
  }
  *out = (int)(neg ? -v : v);
  return 0;
}

int soupc__plugin_negotiate_version(int *out, const char *env_value,
                                    const int *mine, size_t n_mine) {
  static const int default_versions[] = {1};
  int best = 0, have_best = 0, lowest;
  size_t i;

  if (mine == NULL || n_mine == 0) {
    mine = default_versions;
    n_mine = 1;
  }
  lowest = mine[0];
  for (i = 1; i < n_mine; i++) {
    if (mine[i] < lowest) {
      lowest = mine[i];
    }
  }
  if (env_value != NULL) {
    const char *p = env_value;

    for (;;) {
      const char *comma = strchr(p, ',');
      size_t len = comma == NULL ? strlen(p) : (size_t)(comma - p);
      int v;

      if (atoi_strict(&v, p, len) != 0) {
        /* §2.2: Go reports the entry and skips it. */
        soupc_log(SOUPC_LOG_WARN, "plugin",
                  "server sent invalid plugin version \"%.*s\"", (int)len, p);
      } else {
        for (i = 0; i < n_mine; i++) {
          if (mine[i] == v && (!have_best || v > best)) {
            best = v;
            have_best = 1;
          }
        }
      }
      if (comma == NULL) {
        break;
      }
      p = comma + 1;
    }
  }
  /* §2.2.3: no match (or no variable) falls back to our lowest version; the
   * host then reports the mismatch itself. */
  *out = have_best ? best : lowest;
  return have_best ? 0 : SOUPC_ERR_NOT_FOUND;
}

static int parse_port(int *out, const char *s) {
  int v;

  if (atoi_strict(&v, s, strlen(s)) != 0 || v < 0 || v > 65535) {
    return -1;
  }
  *out = v;
  return 0;
}

int soupc__plugin_port_range(int *min_out, int *max_out, const char *min_s,
                             const char *max_s, soupc_status *st) {
  int lo = 0, hi = 0;

  if (min_s == NULL) {
    min_s = "";
  }
  if (max_s == NULL) {
    max_s = "";
  }
  if (min_s[0] != '\0' && parse_port(&lo, min_s) != 0) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "PLUGIN_MIN_PORT is \"%s\"; expected a port 0..65535",
                     min_s);
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  if (max_s[0] != '\0' && parse_port(&hi, max_s) != 0) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "PLUGIN_MAX_PORT is \"%s\"; expected a port 0..65535",
                     max_s);
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  /* Go: only one given means the other is 0; min > max is an error. */
  if (lo > hi) {
    soupc_status_set(
        st, SOUPC_GRPC_INVALID_ARGUMENT,
        "PLUGIN_MIN_PORT (%d) is greater than PLUGIN_MAX_PORT (%d)", lo, hi);
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  *min_out = lo;
  *max_out = hi;
  return 0;
}

const char *soupc__plugin_socket_dir(void) {
  const char *d = getenv("PLUGIN_UNIX_SOCKET_DIR");

  if (d != NULL && d[0] != '\0') {
    return d;
  }
  d = getenv("TMPDIR");
  if (d != NULL && d[0] != '\0') {
    return d;
  }
  return "/tmp";
}

int soupc__plugin_group_parse(gid_t *out, const char *group, soupc_status *st) {
  struct group gr, *res = NULL;
  char buf[4096];
  char *end;
  unsigned long id;

  /* go-plugin (server.go): a name is looked up first, then a numeric gid. */
  if (getgrnam_r(group, &gr, buf, sizeof(buf), &res) == 0 && res != NULL) {
    *out = res->gr_gid;
    return 0;
  }
  errno = 0;
  id = strtoul(group, &end, 10);
  if (group[0] != '\0' && *end == '\0' && errno == 0 && id < 0x7fffffffUL) {
    *out = (gid_t)id;
    return 0;
  }
  soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                   "PLUGIN_UNIX_SOCKET_GROUP \"%s\" is neither a group name "
                   "nor a numeric gid",
                   group);
  return SOUPC_ERR_NOT_FOUND;
}

int soupc__plugin_listen_unix(char **path_out, const char *dir,
                              const char *group, soupc_status *st) {
  struct sockaddr_un sa;
  char *path = NULL;
  size_t cap;
  int fd = -1, tmp, rv;
  gid_t gid = 0;

  if (group != NULL && group[0] != '\0') {
    rv = soupc__plugin_group_parse(&gid, group, st);
    if (rv != 0) {
      return rv;
    }
  }
  cap = strlen(dir) + sizeof("/pluginXXXXXX");
  /* §2.3: sun_path holds 108 bytes on Linux, NUL included. */
  if (cap > sizeof(sa.sun_path)) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "unix socket directory %s is too long: socket paths "
                     "are limited to %zu bytes",
                     dir, sizeof(sa.sun_path) - 1);
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  path = soupc__malloc(cap);
  if (path == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  snprintf(path, cap, "%s/pluginXXXXXX", dir);
  /* Go: os.CreateTemp(dir, "plugin"), close, remove, listen on the name. */
  tmp = mkstemp(path);
  if (tmp < 0) {
    soupc_status_set(st, SOUPC_GRPC_UNAVAILABLE,
                     "cannot create a socket in %s: %s", dir, strerror(errno));
    rv = SOUPC_ERR_IO;
    goto fail;
  }
  close(tmp);
  unlink(path);

  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    soupc_status_set(st, SOUPC_GRPC_UNAVAILABLE, "socket: %s", strerror(errno));
    rv = SOUPC_ERR_IO;
    goto fail;
  }
  memset(&sa, 0, sizeof(sa));
  sa.sun_family = AF_UNIX;
  memcpy(sa.sun_path, path, strlen(path) + 1);
  if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
      listen(fd, 128) != 0) {
    soupc_status_set(st, SOUPC_GRPC_UNAVAILABLE, "listen on unix:%s: %s", path,
                     strerror(errno));
    rv = SOUPC_ERR_IO;
    goto fail;
  }
  if (group != NULL && group[0] != '\0') {
    if (chown(path, (uid_t)-1, gid) != 0 || chmod(path, 0660) != 0) {
      soupc_status_set(st, SOUPC_GRPC_UNAVAILABLE,
                       "cannot give socket %s to group %s: %s", path, group,
                       strerror(errno));
      rv = SOUPC_ERR_IO;
      goto fail;
    }
  }
  *path_out = path;
  return fd;

fail:
  if (fd >= 0) {
    close(fd);
    unlink(path);
  }
  soupc__free(path);
  return rv;
}

int soupc__plugin_listen_tcp(int *port_out, int min, int max,
                             soupc_status *st) {
  struct sockaddr_in sa;
  socklen_t salen = sizeof(sa);
  int port, fd;

  /* §2.3: the first port in [min, max] that binds, on 127.0.0.1 only. */
  for (port = min; port <= max; port++) {
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      break;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)port);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
        listen(fd, 128) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &salen) == 0) {
      *port_out = ntohs(sa.sin_port);
      return fd;
    }
    close(fd);
  }
  soupc_status_set(st, SOUPC_GRPC_UNAVAILABLE,
                   "couldn't bind plugin TCP listener on 127.0.0.1 ports "
                   "%d..%d",
                   min, max);
  return SOUPC_ERR_IO;
}

int soupc__plugin_err_from_grpc(int code) {
  switch (code) {
  case SOUPC_GRPC_OK:
    return 0;
  case SOUPC_GRPC_UNAVAILABLE:
    return SOUPC_ERR_CONNECT;
  case SOUPC_GRPC_DEADLINE_EXCEEDED:
    return SOUPC_ERR_DEADLINE;
  case SOUPC_GRPC_NOT_FOUND:
    return SOUPC_ERR_NOT_FOUND;
  case SOUPC_GRPC_UNIMPLEMENTED:
    return SOUPC_ERR_UNSUPPORTED;
  default:
    return SOUPC_ERR_PROTOCOL;
  }
}
