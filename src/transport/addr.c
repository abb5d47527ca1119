#include "transport/addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int64_t soupc__now_ms(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int parse_port(const char *s, uint16_t *out) {
  unsigned long v = 0;

  if (*s == '\0') {
    return -1;
  }
  for (; *s != '\0'; s++) {
    if (*s < '0' || *s > '9') {
      return -1;
    }
    v = v * 10 + (unsigned long)(*s - '0');
    if (v > 65535) {
      return -1;
    }
  }
  *out = (uint16_t)v;
  return 0;
}

static int addr_parse(struct net_addr *out, const char *text) {
  struct net_addr a;
  const char *colon;
  size_t hlen;

  memset(&a, 0, sizeof(a));
  if (text == NULL) {
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  if (strncmp(text, "unix:", 5) == 0) {
    size_t plen = strlen(text + 5);
    /* "unix://path" is how grpc-go spells an absolute unix target too. */
    const char *p = text + 5;
    if (strncmp(p, "//", 2) == 0) {
      p += 2;
      plen -= 2;
    }
    if (plen == 0 || plen >= sizeof(a.path)) {
      return SOUPC_ERR_INVALID_ARGUMENT;
    }
    a.is_unix = 1;
    memcpy(a.path, p, plen + 1);
    *out = a;
    return 0;
  }
  if (text[0] == '[') {
    const char *close = strchr(text, ']');
    if (close == NULL || close[1] != ':') {
      return SOUPC_ERR_INVALID_ARGUMENT;
    }
    hlen = (size_t)(close - text - 1);
    if (hlen == 0 || hlen >= sizeof(a.host)) {
      return SOUPC_ERR_INVALID_ARGUMENT;
    }
    memcpy(a.host, text + 1, hlen);
    colon = close + 1;
    {
      struct in6_addr tmp;
      if (inet_pton(AF_INET6, a.host, &tmp) != 1) {
        return SOUPC_ERR_INVALID_ARGUMENT;
      }
    }
  } else {
    colon = strrchr(text, ':');
    if (colon == NULL) {
      return SOUPC_ERR_INVALID_ARGUMENT;
    }
    hlen = (size_t)(colon - text);
    if (hlen >= sizeof(a.host) || memchr(text, ':', hlen) != NULL) {
      /* A bare IPv6 address needs brackets. */
      return SOUPC_ERR_INVALID_ARGUMENT;
    }
    memcpy(a.host, text, hlen);
  }
  if (parse_port(colon + 1, &a.port) != 0) {
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  *out = a;
  return 0;
}

int soupc__addr_parse(struct net_addr *out, const char *text,
                      soupc_status *st) {
  if (addr_parse(out, text) != 0) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "invalid address \"%s\"; want HOST:PORT, [IPV6]:PORT or "
                     "unix:PATH",
                     text != NULL ? text : "");
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  return 0;
}

void soupc__addr_format(char *out, size_t cap, const void *sa_in,
                        unsigned salen) {
  const struct sockaddr *sa = sa_in;
  char host[INET6_ADDRSTRLEN];

  (void)salen;
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *in = sa_in;
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
    snprintf(out, cap, "%s:%u", host, (unsigned)ntohs(in->sin_port));
  } else if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = sa_in;
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
    snprintf(out, cap, "[%s]:%u", host, (unsigned)ntohs(in6->sin6_port));
  } else {
    snprintf(out, cap, "unix:");
  }
}

int soupc__set_nonblock_cloexec(int fd) {
  int fl = fcntl(fd, F_GETFL);

  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
    return -1;
  }
  return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static int listen_unix(const struct net_addr *a, char *text_out, size_t cap,
                       soupc_status *st) {
  struct sockaddr_un sun;
  struct stat sb;
  int fd;

  memset(&sun, 0, sizeof(sun));
  sun.sun_family = AF_UNIX;
  memcpy(sun.sun_path, a->path, strlen(a->path) + 1);
  /* A socket file left by a crashed server makes bind fail with EADDRINUSE;
   * replace it, but never remove anything that is not a socket. */
  if (lstat(a->path, &sb) == 0 && S_ISSOCK(sb.st_mode)) {
    unlink(a->path);
  }
  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    soupc_status_set(st, SOUPC_GRPC_UNAVAILABLE, "socket: %s", strerror(errno));
    return SOUPC_ERR_IO;
  }
  if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
      listen(fd, SOMAXCONN) != 0) {
    soupc_status_set(st, SOUPC_GRPC_UNAVAILABLE, "listen on unix:%s: %s",
                     a->path, strerror(errno));
    close(fd);
    return SOUPC_ERR_IO;
  }
  snprintf(text_out, cap, "unix:%s", a->path);
  return fd;
}

int soupc__addr_listen(const struct net_addr *a, char *text_out, size_t cap,
                       soupc_status *st) {
  struct addrinfo hints, *res = NULL, *ai;
  char port[8];
  int fd = -1, err = 0, one = 1;

  if (a->is_unix) {
    return listen_unix(a, text_out, cap, st);
  }
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  snprintf(port, sizeof(port), "%u", (unsigned)a->port);
  err = getaddrinfo(a->host[0] != '\0' ? a->host : NULL, port, &hints, &res);
  if (err != 0) {
    soupc_status_set(st, SOUPC_GRPC_UNAVAILABLE, "resolve %s: %s", a->host,
                     gai_strerror(err));
    return SOUPC_ERR_IO;
  }
  err = 0;
  for (ai = res; ai != NULL; ai = ai->ai_next) {
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);

    memset(&ss, 0, sizeof(ss));
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                ai->ai_protocol);
    if (fd < 0) {
      err = errno;
      continue;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
        listen(fd, SOMAXCONN) == 0 &&
        getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
      soupc__addr_format(text_out, cap, &ss, (unsigned)sl);
      break;
    }
    err = errno;
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) {
    soupc_status_set(st, SOUPC_GRPC_UNAVAILABLE, "listen on %s:%u: %s", a->host,
                     (unsigned)a->port, strerror(err));
    return SOUPC_ERR_IO;
  }
  return fd;
}

/* Waits for a non-blocking connect on @p fd. @return 0, or an errno. */
static int wait_connect(int fd, int64_t deadline_ms) {
  for (;;) {
    struct pollfd pfd = {.fd = fd, .events = POLLOUT};
    int64_t left = deadline_ms - soupc__now_ms();
    int err = 0, rv;
    socklen_t el = sizeof(err);

    if (left <= 0) {
      return ETIMEDOUT;
    }
    rv = poll(&pfd, 1, left > 1000000 ? 1000000 : (int)left);
    if (rv < 0 && errno == EINTR) {
      continue;
    }
    if (rv < 0) {
      return errno;
    }
    if (rv == 0) {
      return ETIMEDOUT;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0) {
      return errno;
    }
    return err;
  }
}

static int connect_one(int family, const struct sockaddr *sa, socklen_t sl,
                       int64_t deadline_ms, int *err_out) {
  int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1, err;

  if (fd < 0) {
    *err_out = errno;
    return -1;
  }
  if (family != AF_UNIX) {
    /* Small gRPC frames must not wait for Nagle. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  if (connect(fd, sa, sl) == 0) {
    return fd;
  }
  err = errno;
  if (err == EINPROGRESS || err == EAGAIN) {
    err = wait_connect(fd, deadline_ms);
    if (err == 0) {
      return fd;
    }
  }
  close(fd);
  *err_out = err;
  return -1;
}

int soupc__addr_connect(const struct net_addr *a, int64_t deadline_ms,
                        soupc_status *st) {
  struct addrinfo hints, *res = NULL, *ai;
  char port[8];
  int fd = -1, err = 0, gerr;

  if (a->is_unix) {
    struct sockaddr_un sun;
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, a->path, strlen(a->path) + 1);
    fd = connect_one(AF_UNIX, (struct sockaddr *)&sun, sizeof(sun), deadline_ms,
                     &err);
    if (fd < 0) {
      goto fail;
    }
    return fd;
  }
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  snprintf(port, sizeof(port), "%u", (unsigned)a->port);
  gerr = getaddrinfo(a->host, port, &hints, &res);
  if (gerr != 0) {
    soupc_status_set(st, SOUPC_GRPC_UNAVAILABLE, "resolve %s: %s", a->host,
                     gai_strerror(gerr));
    return SOUPC_ERR_CONNECT;
  }
  for (ai = res; ai != NULL; ai = ai->ai_next) {
    fd = connect_one(ai->ai_family, ai->ai_addr, ai->ai_addrlen, deadline_ms,
                     &err);
    if (fd >= 0 || err == ETIMEDOUT) {
      break;
    }
  }
  freeaddrinfo(res);
  if (fd < 0) {
    goto fail;
  }
  return fd;

fail:
  if (err == ETIMEDOUT) {
    soupc_status_set(st, SOUPC_GRPC_DEADLINE_EXCEEDED,
                     "connect to %s: timed out",
                     a->is_unix ? a->path : a->host);
    return SOUPC_ERR_DEADLINE;
  }
  soupc_status_set(st, SOUPC_GRPC_UNAVAILABLE, "connect to %s%s: %s",
                   a->is_unix ? "unix:" : "", a->is_unix ? a->path : a->host,
                   strerror(err));
  return SOUPC_ERR_CONNECT;
}
