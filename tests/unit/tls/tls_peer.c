/* A one-connection TLS peer on soup-c's contexts, for the Go interop check
 * (check_go_interop.sh). It runs the handshake, checks ALPN h2, and
 * exchanges "ping"/"pong".
 *
 *   tls_peer server PORTFILE CERT KEY CA [12]  listens on 127.0.0.1:0 and
 *                                              writes the port to PORTFILE
 *   tls_peer client PORT CERT KEY CA [12]      connects to 127.0.0.1:PORT
 *
 * "12" caps the version at TLS 1.2. CA may be "-" (no client certificate
 * check on a server). Prints one line; exit 0 on success. */
#include "cli/cli_util.h"
#include "tls/tls_context.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char *load(const char *path) {
  char *data = NULL;
  size_t len;

  if (strcmp(path, "-") == 0) {
    return NULL;
  }
  if (cli_read_file(&data, &len, path) != 0) {
    perror(path);
    exit(2);
  }
  return data;
}

static int listen_any(const char *port_file) {
  struct sockaddr_in a;
  socklen_t alen = sizeof(a);
  FILE *f;
  int fd, c;

  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
      listen(fd, 1) != 0 ||
      getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
    perror("listen");
    exit(2);
  }
  f = fopen(port_file, "w");
  if (f == NULL) {
    perror(port_file);
    exit(2);
  }
  fprintf(f, "%d\n", ntohs(a.sin_port));
  fclose(f);
  c = accept(fd, NULL, NULL);
  close(fd);
  return c;
}

static int connect_to(const char *port) {
  struct sockaddr_in a;
  int fd;

  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons((unsigned short)strtoul(port, NULL, 10));
  fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
    perror("connect");
    exit(2);
  }
  return fd;
}

int main(int argc, char **argv) {
  soupc_tls_options o;
  soupc_status st;
  SSL_CTX *ctx = NULL;
  SSL *ssl = NULL;
  char err[256], buf[16];
  int server, fd = -1, rv, n, rc = 1;

  if (argc < 6) {
    fprintf(stderr, "usage: tls_peer server|client PORTFILE|PORT CERT KEY "
                    "CA [12]\n");
    return 2;
  }
  /* Line-buffered so the verdict survives a sanitizer's _exit. */
  setvbuf(stdout, NULL, _IOLBF, 0);
  server = strcmp(argv[1], "server") == 0;
  o = (soupc_tls_options)SOUPC_TLS_OPTIONS_INIT;
  o.cert_pem = load(argv[3]);
  o.key_pem = load(argv[4]);
  o.ca_pem = load(argv[5]);
  ctx = server ? soupc__tls_server_ctx_new(&o, &st)
               : soupc__tls_client_ctx_new(&o, &st);
  if (ctx == NULL) {
    printf("context: %s\n", st.message);
    goto done;
  }
  fd = server ? listen_any(argv[2]) : connect_to(argv[2]);
  ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  if (argc > 6 && strcmp(argv[6], "12") == 0) {
    SSL_set_max_proto_version(ssl, TLS1_2_VERSION);
  }
  if (server) {
    rv = SSL_accept(ssl);
  } else {
    soupc__tls_client_prepare(ssl, "localhost");
    rv = SSL_connect(ssl);
  }
  if (rv != 1) {
    printf("handshake: %s\n",
           soupc__tls_describe_failure(ssl, err, sizeof(err)));
    goto done;
  }
  if (soupc__tls_check_alpn(ssl, &st) != 0) {
    printf("alpn: %s\n", st.message);
    goto done;
  }
  if (!server && SSL_write(ssl, "ping", 4) != 4) {
    printf("write: %s\n", soupc__tls_describe_failure(ssl, err, sizeof(err)));
    goto done;
  }
  n = SSL_read(ssl, buf, sizeof(buf) - 1);
  if (n <= 0) {
    /* TLS 1.3: a refused client certificate shows up here. */
    printf("read: %s\n", soupc__tls_describe_failure(ssl, err, sizeof(err)));
    goto done;
  }
  buf[n] = '\0';
  if (server && SSL_write(ssl, "pong", 4) != 4) {
    printf("write: %s\n", soupc__tls_describe_failure(ssl, err, sizeof(err)));
    goto done;
  }
  printf("C %s ok: %s %s got=%s\n", argv[1], SSL_get_version(ssl),
         SSL_get_cipher(ssl), buf);
  SSL_shutdown(ssl);
  rc = 0;

done:
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  if (fd >= 0) {
    close(fd);
  }
  free((char *)o.cert_pem);
  free((char *)o.key_pem);
  free((char *)o.ca_pem);
  return rc;
}
