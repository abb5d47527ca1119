/* Every verified go-cty vector in wire-cty-vectors.txt (spec §0): C bytes
 * must equal go-cty's for msgpack and JSON, errors must be errors, and
 * decoded values must equal the value the vector prints. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "soupc/cty.h"

static int failures, checked;

static void fail_line(int lineno, const char *line, const char *why,
                      const char *got) {
  failures++;
  fprintf(stderr, "line %d: %s\n  %s\n  got: %s\n", lineno, why, line,
          got != NULL ? got : "(none)");
}

static char *hex_of(const uint8_t *p, size_t n) {
  char *s = malloc(n * 2 + 1);
  size_t i;

  for (i = 0; i < n; i++) {
    snprintf(s + i * 2, 3, "%02x", p[i]);
  }
  s[n * 2] = '\0';
  return s;
}

static uint8_t *unhex(const char *h, size_t *n) {
  size_t len = strlen(h), i;
  uint8_t *p = malloc(len / 2 + 1);

  for (i = 0; i < len / 2; i++) {
    unsigned v;
    sscanf(h + i * 2, "%2x", &v);
    p[i] = (uint8_t)v;
  }
  *n = len / 2;
  return p;
}

/* The vectors were made with Go 1.19, which spells \b and \f as
 * \u0008/\u000c; soup-go (Go 1.25) and soup-c write \b and \f (spec §3.1). */
static void modern_json(char *s) {
  char *p;

  while ((p = strstr(s, "\\u0008")) != NULL) {
    p[1] = 'b';
    memmove(p + 2, p + 6, strlen(p + 6) + 1);
  }
  while ((p = strstr(s, "\\u000c")) != NULL) {
    p[1] = 'f';
    memmove(p + 2, p + 6, strlen(p + 6) + 1);
  }
}

/* Checks "MP=<hex> JSON=<json>" / "MPERR=" / "JSONERR=" against @p v. */
static void check_encodings(int lineno, const char *line,
                            const soupc_cty_value *v, const soupc_cty_type *ty,
                            const char *expect) {
  soupc_status st;
  const char *mp = strstr(expect, "MP=");
  const char *js = strstr(expect, " JSON=");
  const char *jserr = strstr(expect, "JSONERR=");
  uint8_t *bytes = NULL;
  size_t n = 0;
  int rv;

  rv = soupc_cty_msgpack_encode(&bytes, &n, v, ty, &st);
  if (mp != NULL && mp[3] != ' ' && mp[3] != '\0') {
    char want[4096];
    sscanf(mp + 3, "%4095s", want);
    if (rv != 0) {
      fail_line(lineno, line, "msgpack encode failed", st.message);
    } else {
      char *got = hex_of(bytes, n);
      if (strcmp(got, want) != 0) {
        fail_line(lineno, line, "msgpack bytes differ", got);
      }
      free(got);
    }
  } else if (rv == 0) {
    char *got = hex_of(bytes, n);
    fail_line(lineno, line, "msgpack encode should fail", got);
    free(got);
  }
  soupc_cty_free_bytes(bytes);
  checked++;

  {
    char *out = NULL;
    size_t olen = 0;
    rv = soupc_cty_json_encode(&out, &olen, v, ty, &st);
    if (js != NULL) {
      char *want = strdup(js + 6);
      modern_json(want);
      if (rv != 0) {
        fail_line(lineno, line, "JSON encode failed", st.message);
      } else if (strcmp(out, want) != 0) {
        fail_line(lineno, line, "JSON differs", out);
      }
      free(want);
    } else if (jserr != NULL && rv == 0) {
      fail_line(lineno, line, "JSON encode should fail", out);
    }
    soupc_cty_free_bytes(out);
    checked++;
  }
}

static void run_line(int lineno, char *line) {
  char *mode = line, *tyj, *input, *rest;
  soupc_cty_type *ty = NULL;
  soupc_cty_value *v = NULL;
  soupc_status st;
  char *orig = strdup(line);
  int rv;

  tyj = strchr(mode, '\t');
  *tyj++ = '\0';
  input = strchr(tyj, '\t');
  *input++ = '\0';
  rest = strchr(input, '\t');
  *rest++ = '\0';

  if (soupc_cty_type_parse(&ty, tyj, strlen(tyj), &st) != 0) {
    fail_line(lineno, orig, "type does not parse", st.message);
    goto out;
  }
  if (strcmp(mode, "wire") == 0 &&
      strcmp(input, "{\"a\":1,\"a\":\"x\"}") == 0) {
    /* Made with go-cty 1.14.4; since 1.16.2 (soup-go pins 1.19) ImpliedType
     * refuses a repeated key with a different type (spec §3.3). */
    checked++;
    if (soupc_cty_value_from_json(&v, ty, input, strlen(input), 0, &st) == 0 ||
        strstr(st.message, "duplicate \"a\" property") == NULL) {
      fail_line(lineno, orig, "want go-cty >= 1.16.2 duplicate-key error",
                NULL);
    }
    goto out;
  }
  if (strcmp(mode, "wire") == 0 || strcmp(mode, "rich") == 0 ||
      strcmp(mode, "json") == 0) {
    if (mode[0] == 'j') {
      rv = soupc_cty_json_decode(&v, ty, input, strlen(input), &st);
    } else if (mode[0] == 'w') {
      rv = soupc_cty_value_from_json(&v, ty, input, strlen(input), 0, &st);
    } else {
      rv = soupc_cty_value_from_rich_json(&v, ty, input, strlen(input), &st);
    }
    if (strncmp(rest, "BUILDERR", 8) == 0 || strncmp(rest, "PANIC", 5) == 0) {
      checked++;
      if (rv == 0) {
        fail_line(lineno, orig, "build should fail", NULL);
      }
      goto out;
    }
    if (rv != 0) {
      /* go-cty reports some of these only at Marshal time. */
      checked++;
      if (strstr(rest, "MPERR=") == NULL) {
        fail_line(lineno, orig, "build failed", st.message);
      }
      goto out;
    }
    check_encodings(lineno, orig, v, ty, rest);
  } else if (strcmp(mode, "dec") == 0) {
    size_t n;
    uint8_t *bytes = unhex(input, &n);
    rv = soupc_cty_msgpack_decode(&v, ty, bytes, n, &st);
    free(bytes);
    checked++;
    if (strncmp(rest, "DECERR", 6) == 0 || strncmp(rest, "PANIC", 5) == 0) {
      if (rv == 0) {
        fail_line(lineno, orig, "decode should fail", NULL);
      }
      goto out;
    }
    if (rv != 0) {
      fail_line(lineno, orig, "decode failed", st.message);
      goto out;
    }
    {
      /* "=> <rich JSON> <GoString> <error>": the decoded value must read
       * back from the rich form, write the same rich form, and print the
       * same GoString as go-cty. */
      soupc_cty_value *want = NULL;
      const char *rich = rest + 3; /* after "=> " */
      const char *gs = strstr(rich, " cty.");
      const char *end = gs != NULL ? strstr(gs, " <nil>") : NULL;
      size_t rich_len = gs != NULL ? (size_t)(gs - rich) : strlen(rich);
      char *mine = NULL;
      size_t mine_len = 0;
      if (soupc_cty_value_from_rich_json(&want, soupc_cty_value_type(v), rich,
                                         rich_len, &st) != 0) {
        fail_line(lineno, orig, "expected value does not build", st.message);
      } else if (!soupc_cty_value_raw_equals(v, want)) {
        fail_line(lineno, orig, "decoded value differs", NULL);
      }
      soupc_cty_value_free(want);
      checked++;
      if (soupc_cty_value_to_rich_json(&mine, &mine_len, v, &st) != 0 ||
          mine_len != rich_len || memcmp(mine, rich, rich_len) != 0) {
        fail_line(lineno, orig, "rich form differs", mine);
      }
      soupc_cty_free_bytes(mine);
      mine = NULL;
      if (gs != NULL && end != NULL) {
        checked++;
        if (soupc_cty_value_gostring(&mine, &mine_len, v) != 0 ||
            mine_len != (size_t)(end - gs - 1) ||
            memcmp(mine, gs + 1, mine_len) != 0) {
          fail_line(lineno, orig, "GoString differs", mine);
        }
        soupc_cty_free_bytes(mine);
      }
    }
  } else {
    fail_line(lineno, orig, "unknown mode", mode);
  }
out:
  soupc_cty_value_free(v);
  soupc_cty_type_free(ty);
  free(orig);
}

static void every_verified_vector_matches_go_cty(void **state) {
  FILE *f = fopen(CTY_VECTORS, "r");
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  int lineno = 0;

  (void)state;
  assert_non_null(f);
  while ((n = getline(&line, &cap, f)) > 0) {
    lineno++;
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) {
      line[--n] = '\0';
    }
    if (n == 0 || line[0] == '#') {
      continue;
    }
    run_line(lineno, line);
  }
  free(line);
  fclose(f);
  fprintf(stderr, "vectors: %d checks, %d failures\n", checked, failures);
  assert_true(checked > 200);
  assert_int_equal(failures, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_verified_vector_matches_go_cty),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
