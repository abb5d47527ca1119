/* cty wire benchmark driver (bench/cty/bench_cty.py builds and runs it).
 * Usage: bench_cty TYPE_FILE VALUE_FILE ITERATIONS
 * Builds the value once (soup-go's reader), then times ITERATIONS msgpack
 * encodes and ITERATIONS decodes of the encoded bytes, and prints
 * "encode_ns N decode_ns N bytes N" like the Go oracle's bench mode. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "soupc/cty.h"

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *buf;
  long n;

  if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0) {
    perror(path);
    exit(1);
  }
  rewind(f);
  buf = malloc((size_t)n + 1);
  if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
    perror(path);
    exit(1);
  }
  fclose(f);
  buf[n] = '\0';
  *len = (size_t)n;
  return buf;
}

static long long now_ns(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
  soupc_cty_type *ty = NULL;
  soupc_cty_value *v = NULL;
  soupc_status st;
  size_t tl, vl, n = 0;
  char *tj, *vj;
  uint8_t *enc = NULL;
  long i, iters;
  long long t0, t_enc, t_dec;

  if (argc != 4) {
    fprintf(stderr, "usage: bench_cty TYPE_FILE VALUE_FILE ITERATIONS\n");
    return 2;
  }
  tj = slurp(argv[1], &tl);
  vj = slurp(argv[2], &vl);
  iters = strtol(argv[3], NULL, 10);
  if (soupc_cty_type_parse(&ty, tj, tl, &st) != 0 ||
      soupc_cty_value_from_json(&v, ty, vj, vl, 0, &st) != 0 ||
      soupc_cty_msgpack_encode(&enc, &n, v, ty, &st) != 0) {
    fprintf(stderr, "bench_cty: %s\n", st.message);
    return 1;
  }
  t0 = now_ns();
  for (i = 0; i < iters; i++) {
    uint8_t *b = NULL;
    size_t bl = 0;
    if (soupc_cty_msgpack_encode(&b, &bl, v, ty, &st) != 0 || bl != n) {
      fprintf(stderr, "bench_cty: encode: %s\n", st.message);
      return 1;
    }
    soupc_cty_free_bytes(b);
  }
  t_enc = now_ns() - t0;
  t0 = now_ns();
  for (i = 0; i < iters; i++) {
    soupc_cty_value *d = NULL;
    if (soupc_cty_msgpack_decode(&d, ty, enc, n, &st) != 0) {
      fprintf(stderr, "bench_cty: decode: %s\n", st.message);
      return 1;
    }
    soupc_cty_value_free(d);
  }
  t_dec = now_ns() - t0;
  printf("encode_ns %lld decode_ns %lld bytes %zu\n", t_enc, t_dec, n);
  soupc_cty_free_bytes(enc);
  soupc_cty_value_free(v);
  soupc_cty_type_free(ty);
  free(tj);
  free(vj);
  return 0;
}
