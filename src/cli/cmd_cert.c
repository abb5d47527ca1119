/* soup-c rpc cert generate: a self-signed certificate and key as PEM files
 * (rpc-spec.md §6, §12), for --cert-file/--key-file and for tests. */
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "soupc/cert.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void print_help(const char *cmd) {
  printf("Usage: %s --out-cert FILE --out-key FILE [flags]\n"
         "\n"
         "Generates a private key and a self-signed X.509 certificate (PEM)\n"
         "with SAN DNS:localhost, IP:127.0.0.1, IP:::1 and extended key\n"
         "usage serverAuth + clientAuth.\n"
         "\n"
         "Flags:\n"
         "  --key-type ec|rsa     key type (default ec)\n"
         "  --curve NAME          EC curve: secp256r1|p-256|p256|prime256v1,\n"
         "                        secp384r1|p-384|p384, secp521r1|p-521|p521\n"
         "                        (default secp384r1)\n"
         "  --bits N              RSA key size: 2048, 3072 or 4096 (default "
         "2048)\n"
         "  --out-cert FILE       where to write the certificate (mode 0644)\n"
         "  --out-key FILE        where to write the PKCS#8 key (mode 0600)\n"
         "  --common-name CN      subject CN (default localhost)\n"
         "  --days N              validity in days (default 365)\n"
         "  --ca                  make it a CA (CA:TRUE, keyCertSign), as\n"
         "                        go-plugin AutoMTLS certificates are; use it\n"
         "                        when peers trust this certificate as a root\n"
         "  -h, --help            this help\n",
         cmd);
}

/* Writes @p text to @p path with @p mode, replacing the file. An existing
 * file keeps its inode but gets @p mode, so an old 0644 key file does not
 * stay readable. @return 0 or -1 with errno set. */
static int write_file(const char *path, const char *text, mode_t mode) {
  size_t len = strlen(text), off = 0;
  int fd, saved;

  fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    return -1;
  }
  if (fchmod(fd, mode) != 0) {
    goto fail;
  }
  while (off < len) {
    ssize_t n = write(fd, text + off, len - off);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      goto fail;
    }
    off += (size_t)n;
  }
  if (close(fd) != 0) {
    return -1;
  }
  return 0;

fail:
  saved = errno;
  close(fd);
  errno = saved;
  return -1;
}

static int parse_int(int *out, const char *s) {
  char *end;
  long v;

  errno = 0;
  v = strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < INT_MIN || v > INT_MAX) {
    return -1;
  }
  *out = (int)v;
  return 0;
}

enum {
  OPT_KEY_TYPE = 256,
  OPT_CURVE,
  OPT_BITS,
  OPT_OUT_CERT,
  OPT_OUT_KEY,
  OPT_CN,
  OPT_DAYS,
  OPT_CA
};

int cmd_rpc_cert_generate(int argc, char **argv) {
  static const struct option longopts[] = {
      {"key-type", required_argument, NULL, OPT_KEY_TYPE},
      {"curve", required_argument, NULL, OPT_CURVE},
      {"bits", required_argument, NULL, OPT_BITS},
      {"out-cert", required_argument, NULL, OPT_OUT_CERT},
      {"out-key", required_argument, NULL, OPT_OUT_KEY},
      {"common-name", required_argument, NULL, OPT_CN},
      {"days", required_argument, NULL, OPT_DAYS},
      {"ca", no_argument, NULL, OPT_CA},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *cmd = argv[0];
  const char *curve_arg = NULL, *bits_arg = NULL;
  const char *out_cert = NULL, *out_key = NULL;
  soupc_cert_options opts;
  soupc_status st;
  char *cert_pem = NULL, *key_pem = NULL;
  int c, rc;

  opts = (soupc_cert_options)SOUPC_CERT_OPTIONS_INIT;
  opts.key_type = SOUPC_KEY_EC;
  opts.curve = SOUPC_CURVE_P384; /* rpc-spec.md §12: --tls-curve default */
  optind = 1;
  while ((c = cli_getopt(argc, argv, ":h", longopts, cmd)) != -1) {
    switch (c) {
    case 'h':
      print_help(cmd);
      return CLI_OK;
    case OPT_KEY_TYPE:
      if (soupc_key_type_parse(&opts.key_type, optarg) != 0) {
        return cli_usage_error(cmd, "unsupported key type: %s (use ec or rsa)",
                               optarg);
      }
      break;
    case OPT_CURVE:
      curve_arg = optarg;
      if (soupc_curve_parse(&opts.curve, optarg) != 0) {
        return cli_usage_error(
            cmd,
            "unsupported curve: %s (use secp256r1, secp384r1 or secp521r1)",
            optarg);
      }
      break;
    case OPT_BITS:
      bits_arg = optarg;
      if (parse_int(&opts.rsa_bits, optarg) != 0 ||
          soupc_rsa_bits_check(opts.rsa_bits) != 0) {
        return cli_usage_error(
            cmd, "unsupported RSA key size: %s (use 2048, 3072 or 4096)",
            optarg);
      }
      break;
    case OPT_OUT_CERT:
      out_cert = optarg;
      break;
    case OPT_OUT_KEY:
      out_key = optarg;
      break;
    case OPT_CN:
      /* RFC 5280 ub-common-name: 64 characters. */
      if (optarg[0] == '\0' || strlen(optarg) > 64) {
        return cli_usage_error(cmd, "--common-name must be 1 to 64 bytes");
      }
      opts.common_name = optarg;
      break;
    case OPT_DAYS:
      if (parse_int(&opts.validity_days, optarg) != 0 ||
          opts.validity_days < 1 || opts.validity_days > 36500) {
        return cli_usage_error(cmd, "invalid --days: %s (use 1..36500)",
                               optarg);
      }
      break;
    case OPT_CA:
      opts.is_ca = 1;
      break;
    default:
      return CLI_USAGE;
    }
  }
  if (optind < argc) {
    return cli_usage_error(cmd, "unexpected argument: %s", argv[optind]);
  }
  if (out_cert == NULL || out_key == NULL) {
    return cli_usage_error(cmd, "--out-cert and --out-key are required");
  }
  if (strcmp(out_cert, out_key) == 0) {
    return cli_usage_error(cmd, "--out-cert and --out-key must differ");
  }
  if (opts.key_type == SOUPC_KEY_RSA && curve_arg != NULL) {
    return cli_usage_error(cmd, "--curve applies to --key-type ec only");
  }
  if (opts.key_type == SOUPC_KEY_EC && bits_arg != NULL) {
    return cli_usage_error(cmd, "--bits applies to --key-type rsa only");
  }

  if (soupc_cert_generate(&cert_pem, &key_pem, &opts, &st) != 0) {
    return cli_fail("generating the certificate: %s", st.message);
  }
  rc = CLI_OK;
  if (write_file(out_key, key_pem, 0600) != 0) {
    rc = cli_fail("writing key %s: %s", out_key, strerror(errno));
    goto done;
  }
  if (write_file(out_cert, cert_pem, 0644) != 0) {
    rc = cli_fail("writing certificate %s: %s", out_cert, strerror(errno));
    unlink(out_key); /* a key without its certificate is of no use */
    goto done;
  }
  if (opts.key_type == SOUPC_KEY_RSA) {
    printf("Generated RSA %d-bit key and self-signed%s certificate.\n",
           opts.rsa_bits == 0 ? 2048 : opts.rsa_bits, opts.is_ca ? " CA" : "");
  } else {
    printf("Generated EC %s key and self-signed%s certificate.\n",
           soupc_curve_name(opts.curve), opts.is_ca ? " CA" : "");
  }
  printf("Certificate: %s\nPrivate key: %s\n", out_cert, out_key);

done:
  free(cert_pem);
  if (key_pem != NULL) {
    /* Do not leave the key in freed heap. */
    volatile char *p = key_pem;
    size_t i, n = strlen(key_pem);
    for (i = 0; i < n; i++) {
      p[i] = 0;
    }
    free(key_pem);
  }
  return rc;
}
