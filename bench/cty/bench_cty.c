/* cty wire benchmark driver (bench/cty/bench_cty.py builds and runs it).
 * Usage: bench_cty TYPE_FILE VALUE_FILE ITERATIONS
 * Builds the value once (soup-go's reader), then times ITERATIONS each of:
 * msgpack encode; msgpack decode of the encoded bytes; convert.Convert of
 * the value read as plain JSON (objects and tuples, json.ImpliedType) to
 * the schema type, as Terraform converts configuration; and UnifyUnsafe of
 * the implied types of every resource and data source schema. Prints
 * "encode_ns N decode_ns N convert_ns N unify_ns N bytes N" like the Go
 * oracle's bench mode. */
#include <stdint.h>
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

/* The implied types of the members of the object attributes named
 * "resource_schemas" and "data_source_schemas" of @p implied. */
static size_t schema_types(const soupc_cty_type **out, size_t cap,
                           const soupc_cty_type *implied) {
  static const char *const groups[] = {"data_source_schemas",
                                       "resource_schemas"};
  size_t g, i, n = 0;

  for (g = 0; g < 2; g++) {
    long idx =
        soupc_cty_type_attribute_index(implied, groups[g], strlen(groups[g]));
    const soupc_cty_type *grp =
        idx < 0 ? NULL : soupc_cty_type_member(implied, (size_t)idx);
    for (i = 0; grp != NULL && i < soupc_cty_type_length(grp) && n < cap; i++) {
      out[n++] = soupc_cty_type_member(grp, i);
    }
  }
  return n;
}

static void die(const char *what, const soupc_status *st) {
  fprintf(stderr, "bench_cty: %s: %s\n", what, st->message);
  exit(1);
}

int main(int argc, char **argv) {
  soupc_cty_type *ty = NULL, *implied = NULL;
  soupc_cty_value *v = NULL, *jv = NULL;
  const soupc_cty_type *members[4096];
  soupc_status st;
  size_t tl, vl, n = 0, nm;
  char *tj, *vj;
  uint8_t *enc = NULL;
  long i, iters;
  long long t0, t_enc, t_dec, t_conv, t_unify;

  if (argc != 4) {
    fprintf(stderr, "usage: bench_cty TYPE_FILE VALUE_FILE ITERATIONS\n");
    return 2;
  }
  tj = slurp(argv[1], &tl);
  vj = slurp(argv[2], &vl);
  iters = strtol(argv[3], NULL, 10);
  soupc_status_clear(&st);
  if (soupc_cty_type_parse(&ty, tj, tl, &st) != 0 ||
      soupc_cty_value_from_json(&v, ty, vj, vl, 0, &st) != 0 ||
      soupc_cty_msgpack_encode(&enc, &n, v, ty, &st) != 0 ||
      soupc_cty_json_implied_type(&implied, vj, vl, &st) != 0 ||
      soupc_cty_json_decode(&jv, implied, vj, vl, &st) != 0) {
    die("setup", &st);
  }
  nm = schema_types(members, sizeof(members) / sizeof(members[0]), implied);
  t0 = now_ns();
  for (i = 0; i < iters; i++) {
    uint8_t *b = NULL;
    size_t bl = 0;
    if (soupc_cty_msgpack_encode(&b, &bl, v, ty, &st) != 0 || bl != n) {
      die("encode", &st);
    }
    soupc_cty_free_bytes(b);
  }
  t_enc = now_ns() - t0;
  t0 = now_ns();
  for (i = 0; i < iters; i++) {
    soupc_cty_value *d = NULL;
    if (soupc_cty_msgpack_decode(&d, ty, enc, n, &st) != 0) {
      die("decode", &st);
    }
    soupc_cty_value_free(d);
  }
  t_dec = now_ns() - t0;
  t0 = now_ns();
  for (i = 0; i < iters; i++) {
    soupc_cty_value *c = NULL;
    if (soupc_cty_convert(&c, jv, ty, NULL, &st) != 0) {
      die("convert", &st);
    }
    soupc_cty_value_free(c);
  }
  t_conv = now_ns() - t0;
  t0 = now_ns();
  for (i = 0; i < iters; i++) {
    soupc_cty_type *u = NULL;
    if (soupc_cty_unify(&u, NULL, members, nm, 1) != 0 || u == NULL) {
      fprintf(stderr, "bench_cty: unify found no type\n");
      return 1;
    }
    soupc_cty_type_free(u);
  }
  t_unify = now_ns() - t0;
  printf("encode_ns %lld decode_ns %lld convert_ns %lld unify_ns %lld "
         "bytes %zu\n",
         t_enc, t_dec, t_conv, t_unify, n);
  soupc_cty_free_bytes(enc);
  soupc_cty_value_free(jv);
  soupc_cty_value_free(v);
  soupc_cty_type_free(implied);
  soupc_cty_type_free(ty);
  free(tj);
  free(vj);
  return 0;
}
