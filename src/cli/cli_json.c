#include "cli/cli_json.h"

#include "soupc/cty.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cli_jbuf_init(cli_jbuf *b) {
  memset(b, 0, sizeof(*b));
}

void cli_jbuf_dispose(cli_jbuf *b) {
  free(b->p);
  cli_jbuf_init(b);
}

static int reserve(cli_jbuf *b, size_t n) {
  size_t cap;
  char *np;

  if (b->oom) {
    return -1;
  }
  if (b->len + n + 1 <= b->cap) {
    return 0;
  }
  cap = b->cap == 0 ? 256 : b->cap;
  while (cap < b->len + n + 1) {
    cap *= 2;
  }
  np = realloc(b->p, cap);
  if (np == NULL) {
    b->oom = 1;
    return -1;
  }
  b->p = np;
  b->cap = cap;
  return 0;
}

void cli_jbuf_put(cli_jbuf *b, const char *s, size_t n) {
  if (reserve(b, n) != 0) {
    return;
  }
  if (n > 0) {
    memcpy(b->p + b->len, s, n);
  }
  b->len += n;
  b->p[b->len] = '\0';
}

void cli_jbuf_puts(cli_jbuf *b, const char *s) {
  cli_jbuf_put(b, s, strlen(s));
}

void cli_jbuf_printf(cli_jbuf *b, const char *fmt, ...) {
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0 || reserve(b, (size_t)n) != 0) {
    b->oom = 1;
    return;
  }
  va_start(ap, fmt);
  vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

void cli_jbuf_str(cli_jbuf *b, const char *s, size_t n) {
  char *q = NULL;
  size_t qlen = 0;

  if (soupc_cty_json_quote(&q, &qlen, s, n) != 0) {
    b->oom = 1;
    return;
  }
  cli_jbuf_put(b, q, qlen);
  soupc_cty_free_bytes(q);
}

const char *cli_jbuf_text(cli_jbuf *b) {
  if (b->oom) {
    return NULL;
  }
  if (b->p == NULL) {
    reserve(b, 0);
    if (b->p != NULL) {
      b->p[0] = '\0';
    }
  }
  return b->oom ? NULL : b->p;
}

void cli_jobj_init(cli_jobj *o) {
  memset(o, 0, sizeof(*o));
}

void cli_jobj_dispose(cli_jobj *o) {
  size_t i;

  for (i = 0; i < o->n; i++) {
    free(o->f[i].key);
    free(o->f[i].val);
  }
  free(o->f);
  cli_jobj_init(o);
}

/* Takes ownership of @p val (may be NULL after an OOM). */
static void set_owned(cli_jobj *o, const char *key, char *val) {
  size_t i;
  char *k;

  if (val == NULL) {
    o->oom = 1;
    return;
  }
  for (i = 0; i < o->n; i++) {
    if (strcmp(o->f[i].key, key) == 0) {
      free(o->f[i].val);
      o->f[i].val = val;
      return;
    }
  }
  if (o->n == o->cap) {
    size_t cap = o->cap == 0 ? 8 : o->cap * 2;
    struct cli_jfield *nf = realloc(o->f, cap * sizeof(*nf));
    if (nf == NULL) {
      free(val);
      o->oom = 1;
      return;
    }
    o->f = nf;
    o->cap = cap;
  }
  k = strdup(key);
  if (k == NULL) {
    free(val);
    o->oom = 1;
    return;
  }
  o->f[o->n].key = k;
  o->f[o->n].val = val;
  o->n++;
}

void cli_jobj_raw(cli_jobj *o, const char *key, const char *json, size_t len) {
  char *v = malloc(len + 1);

  if (v != NULL) {
    memcpy(v, json, len);
    v[len] = '\0';
  }
  set_owned(o, key, v);
}

void cli_jobj_str(cli_jobj *o, const char *key, const char *s, size_t len) {
  char *q = NULL;

  if (soupc_cty_json_quote(&q, NULL, s, len) != 0) {
    o->oom = 1;
    return;
  }
  cli_jobj_raw(o, key, q, strlen(q));
  soupc_cty_free_bytes(q);
}

void cli_jobj_bool(cli_jobj *o, const char *key, int b) {
  cli_jobj_raw(o, key, b ? "true" : "false", b ? 4 : 5);
}

void cli_jobj_int(cli_jobj *o, const char *key, long long v) {
  char t[32];
  int n = snprintf(t, sizeof(t), "%lld", v);

  cli_jobj_raw(o, key, t, (size_t)n);
}

void cli_jobj_buf(cli_jobj *o, const char *key, cli_jbuf *b) {
  const char *t = cli_jbuf_text(b);

  if (t == NULL) {
    o->oom = 1;
  } else {
    cli_jobj_raw(o, key, t, b->len);
  }
  cli_jbuf_dispose(b);
}

static int cmp_field(const void *a, const void *b) {
  return strcmp(((const struct cli_jfield *)a)->key,
                ((const struct cli_jfield *)b)->key);
}

void cli_jobj_render(cli_jobj *o, cli_jbuf *out) {
  size_t i;

  if (o->oom) {
    out->oom = 1;
    return;
  }
  qsort(o->f, o->n, sizeof(*o->f), cmp_field);
  cli_jbuf_put(out, "{", 1);
  for (i = 0; i < o->n; i++) {
    if (i > 0) {
      cli_jbuf_put(out, ",", 1);
    }
    cli_jbuf_str(out, o->f[i].key, strlen(o->f[i].key));
    cli_jbuf_put(out, ":", 1);
    cli_jbuf_puts(out, o->f[i].val);
  }
  cli_jbuf_put(out, "}", 1);
}

int cli_jobj_emit(cli_jobj *o) {
  cli_jbuf b;
  const char *t;
  int rv = 0;

  cli_jbuf_init(&b);
  cli_jobj_render(o, &b);
  cli_jbuf_put(&b, "\n", 1);
  t = cli_jbuf_text(&b);
  if (t == NULL) {
    fputs("Error: out of memory\n", stderr);
    rv = 1;
  } else if (fwrite(t, 1, b.len, stdout) != b.len || fflush(stdout) != 0) {
    fputs("Error: failed to write output\n", stderr);
    rv = 1;
  }
  cli_jbuf_dispose(&b);
  cli_jobj_dispose(o);
  return rv;
}
