/* Addresses and sockets (the net layer under h2): "HOST:PORT", "[V6]:PORT",
 * "unix:/path". */
#ifndef SOUPC_TRANSPORT_ADDR_H
#define SOUPC_TRANSPORT_ADDR_H

#include <stdint.h>
#include <sys/un.h>

#include "soupc/soupc.h"

struct net_addr {
  int is_unix;
  char host[256]; /* TCP: host without brackets ("::1", "localhost") */
  uint16_t port;  /* TCP */
  char path[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* unix */
};

/* Parses @p text. @return 0 or SOUPC_ERR_INVALID_ARGUMENT (@p st, which may
 * be NULL, then says what an address looks like). */
int soupc__addr_parse(struct net_addr *out, const char *text, soupc_status *st);

/* Creates a non-blocking listening socket for @p a (SO_REUSEADDR; a unix
 * path that exists as a socket is removed first).
 * @param text_out the bound address ("127.0.0.1:43211", "unix:/p"); @p cap
 *        bytes. @return the fd, or SOUPC_ERR_IO with @p st set. */
int soupc__addr_listen(const struct net_addr *a, char *text_out, size_t cap,
                       soupc_status *st);

/* Connects a blocking-free TCP or unix socket to @p a before @p deadline_ms
 * (CLOCK_MONOTONIC ms), trying every resolved address. TCP_NODELAY is set.
 * @return the non-blocking fd, SOUPC_ERR_CONNECT or SOUPC_ERR_DEADLINE with
 *         @p st set. */
int soupc__addr_connect(const struct net_addr *a, int64_t deadline_ms,
                        soupc_status *st);

/* Formats a peer sockaddr as "1.2.3.4:5", "[::1]:5" or "unix:". */
void soupc__addr_format(char *out, size_t cap, const void *sa, unsigned salen);

/* O_NONBLOCK + FD_CLOEXEC. @return 0 or -1 (errno). */
int soupc__set_nonblock_cloexec(int fd);

/* CLOCK_MONOTONIC in milliseconds. */
int64_t soupc__now_ms(void);

#endif
