/* cty function benchmark driver (bench/cty/bench_func.py builds and runs
 * it): the C half of the Go oracle's `callbench FILE ROUNDS`.
 * Usage: bench_func FILE ROUNDS
 *        bench_func --check FILE
 * FILE holds one call per line: the function name, then each argument in
 * `cty call`'s JSON form, separated by tabs (compact JSON has no raw tab).
 * The arguments are decoded once; then each call runs ROUNDS times in a
 * tight loop, and "fn rounds total_ns" is printed per line, as the oracle
 * prints it. --check calls each line once and prints the `cty call` result
 * line instead, so the runner can compare results with go-cty's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "soupc/cty.h"
#include "soupc/cty_function.h"

#define MAX_ARGS 16

static long long now_ns(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what, const char *detail) {
  fprintf(stderr, "Error: %s: %s\n", what, detail);
  exit(1);
}

/* Splits @p line at tabs in place: the name, then the arguments. */
static size_t split_line(char **fields, size_t cap, char *line) {
  size_t n = 0;
  char *p = line;

  while (n < cap) {
    char *tab = strchr(p, '\t');
    fields[n++] = p;
    if (tab == NULL) {
      break;
    }
    *tab = '\0';
    p = tab + 1;
  }
  return n;
}

static void run_line(char *line, long rounds, int check) {
  char *fields[MAX_ARGS + 1];
  soupc_cty_value *args[MAX_ARGS];
  soupc_cty_value *out = NULL;
  soupc_cty_call_error err = {NULL, -1};
  const soupc_cty_function *f;
  size_t n = split_line(fields, MAX_ARGS + 1, line), i;
  long r;
  long long start, total;

  f = soupc_cty_function_lookup(fields[0]);
  if (f == NULL) {
    die("unknown function", fields[0]);
  }
  for (i = 1; i < n; i++) {
    if (soupc_cty_call_arg_from_json(&args[i - 1], fields[i], strlen(fields[i]),
                                     &err) != 0) {
      die(fields[0], err.message != NULL ? err.message : "bad argument");
    }
  }
  if (soupc_cty_function_call(&out, f, (const soupc_cty_value *const *)args,
                              n - 1, &err) != 0 &&
      !check) {
    die(fields[0], err.message != NULL ? err.message : "call failed");
  }
  if (check) {
    char *json = NULL;
    size_t len = 0;
    if (soupc_cty_call_result_to_json(&json, &len, fields[0], out, &err) != 0) {
      die(fields[0], "out of memory");
    }
    printf("%s\n", json);
    soupc_cty_free_bytes(json);
    soupc_cty_call_error_dispose(&err);
    soupc_cty_value_free(out);
  } else {
    soupc_cty_value_free(out);
    start = now_ns();
    for (r = 0; r < rounds; r++) {
      out = NULL;
      (void)soupc_cty_function_call(
          &out, f, (const soupc_cty_value *const *)args, n - 1, NULL);
      soupc_cty_value_free(out);
    }
    total = now_ns() - start;
    printf("%s %ld %lld\n", fields[0], rounds, total);
  }
  for (i = 1; i < n; i++) {
    soupc_cty_value_free(args[i - 1]);
  }
}

int main(int argc, char **argv) {
  static char line[1 << 20];
  const char *path;
  long rounds = 1;
  int check = argc == 3 && strcmp(argv[1], "--check") == 0;
  FILE *fp;

  if (argc != 3) {
    fprintf(stderr, "Error: usage: bench_func FILE ROUNDS | --check FILE\n");
    return 1;
  }
  path = argv[check ? 2 : 1];
  if (!check && (rounds = strtol(argv[2], NULL, 10)) < 1) {
    fprintf(stderr, "Error: ROUNDS must be a positive integer\n");
    return 1;
  }
  fp = fopen(path, "r");
  if (fp == NULL) {
    perror(path);
    return 1;
  }
  while (fgets(line, sizeof line, fp) != NULL) {
    size_t len = strlen(line);
    if (len > 0 && line[len - 1] == '\n') {
      line[--len] = '\0';
    }
    if (len == 0 || line[0] == '#') {
      continue;
    }
    run_line(line, rounds, check);
  }
  fclose(fp);
  return 0;
}
