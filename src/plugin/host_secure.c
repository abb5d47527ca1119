/* go-plugin's SecureConfig (client.go SecureConfig.Check): the SHA-256 of
 * the plugin binary must match what the host expects before it is run. */
#include "plugin/plugin_int.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define SHA256_LEN 32

/* Hashes @p fd to EOF into @p md. @return 0 or SOUPC_ERR_IO. */
static int sha256_fd(uint8_t md[SHA256_LEN], int fd) {
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  unsigned char buf[65536];
  unsigned int mdlen = 0;
  int rv = SOUPC_ERR_IO;

  if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
    goto done;
  }
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));

    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      goto done;
    }
    if (n == 0) {
      break;
    }
    if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1) {
      goto done;
    }
  }
  if (EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == SHA256_LEN) {
    rv = 0;
  }

done:
  EVP_MD_CTX_free(ctx);
  return rv;
}

int soupc__host_secure_check(const char *exe, const uint8_t *checksum,
                             size_t len, soupc_status *st) {
  uint8_t md[SHA256_LEN];
  int fd, rv;

  if (len == 0) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "error verifying checksum: no checksum provided");
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  fd = open(exe, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    soupc_status_set(st, SOUPC_GRPC_FAILED_PRECONDITION,
                     "error verifying checksum: open %s: %s", exe,
                     strerror(errno));
    return SOUPC_ERR_IO;
  }
  rv = sha256_fd(md, fd);
  close(fd);
  if (rv != 0) {
    soupc_status_set(st, SOUPC_GRPC_FAILED_PRECONDITION,
                     "error verifying checksum: cannot read %s", exe);
    return rv;
  }
  if (len != SHA256_LEN || CRYPTO_memcmp(md, checksum, SHA256_LEN) != 0) {
    /* go-plugin's ErrChecksumsDoNotMatch text. */
    soupc_status_set(st, SOUPC_GRPC_PERMISSION_DENIED,
                     "checksums did not match: %s is not the expected "
                     "plugin binary (SHA-256)",
                     exe);
    return SOUPC_ERR_CHECKSUM;
  }
  return 0;
}
