#include "cli/cmd_cty_io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cty_io_parse_type(soupc_cty_type **out, const char *json,
                      soupc_status *st) {
  return soupc_cty_type_parse(out, json, strlen(json), st);
}

int cty_io_rich_arg(soupc_cty_value **out, const soupc_cty_type *ty,
                    const char *json, soupc_status *st) {
  return soupc_cty_value_from_rich_json(out, ty, json, strlen(json), st);
}

void cty_io_prefix_status(soupc_status *st, const char *prefix) {
  char msg[sizeof(st->message) + 64];

  snprintf(msg, sizeof(msg), "%s%s", prefix, st->message);
  memcpy(st->message, msg, sizeof(st->message) - 1);
  st->message[sizeof(st->message) - 1] = '\0';
}

int cty_io_typed_arg(soupc_cty_value **out, const char *type_json,
                     const char *value_json, soupc_status *st) {
  soupc_cty_type *ty = NULL;
  int rv;

  rv = cty_io_parse_type(&ty, type_json, st);
  if (rv != 0) {
    cty_io_prefix_status(st, "failed to parse type: ");
    return rv;
  }
  rv = cty_io_rich_arg(out, ty, value_json, st);
  if (rv != 0) {
    cty_io_prefix_status(st, "failed to build value: ");
  }
  soupc_cty_type_free(ty);
  return rv;
}

int cty_io_put_rich(cli_jbuf *b, const soupc_cty_value *v, soupc_status *st) {
  char *js = NULL;
  size_t len = 0;
  int rv = soupc_cty_value_to_rich_json(&js, &len, v, st);

  if (rv == 0) {
    cli_jbuf_put(b, js, len);
    soupc_cty_free_bytes(js);
  }
  return rv;
}

int cty_io_put_type(cli_jbuf *b, const soupc_cty_type *ty, soupc_status *st) {
  char *js = NULL;
  size_t len = 0;
  int rv;

  if (soupc_cty_type_kind(ty) == SOUPC_CTY_CAPSULE &&
      soupc_cty_type_equals(ty, soupc_cty_type_bytes())) {
    cli_jbuf_puts(b, "\"bytes\"");
    return 0;
  }
  rv = soupc_cty_type_marshal_json(&js, &len, ty, st);
  if (rv == 0) {
    cli_jbuf_put(b, js, len);
    soupc_cty_free_bytes(js);
  }
  return rv;
}

int cty_io_put_path(cli_jbuf *b, const soupc_cty_path *p, soupc_status *st) {
  size_t i, n = soupc_cty_path_length(p);

  cli_jbuf_puts(b, "[");
  for (i = 0; i < n; i++) {
    if (i > 0) {
      cli_jbuf_puts(b, ",");
    }
    if (soupc_cty_path_step_kind(p, i) == SOUPC_CTY_STEP_ATTR) {
      size_t len = 0;
      const char *name = soupc_cty_path_step_attr(p, i, &len);
      cli_jbuf_puts(b, "{\"attr\":");
      cli_jbuf_str(b, name, len);
    } else {
      int rv;
      cli_jbuf_puts(b, "{\"index\":");
      rv = cty_io_put_rich(b, soupc_cty_path_step_key(p, i), st);
      if (rv != 0) {
        return rv;
      }
    }
    cli_jbuf_puts(b, "}");
  }
  cli_jbuf_puts(b, "]");
  return 0;
}

void cty_io_put_marks(cli_jbuf *b, const soupc_cty_marks *m) {
  size_t i, n = soupc_cty_marks_count(m);

  cli_jbuf_puts(b, "[");
  for (i = 0; i < n; i++) {
    size_t len = 0;
    const char *name = soupc_cty_marks_name(m, i, &len);
    if (i > 0) {
      cli_jbuf_puts(b, ",");
    }
    cli_jbuf_str(b, name, len);
  }
  cli_jbuf_puts(b, "]");
}

int cty_io_emit_failure(const char *key, const char *msg) {
  cli_jobj o;

  cli_jobj_init(&o);
  cli_jobj_bool(&o, "ok", 0);
  cli_jobj_str(&o, key, msg, strlen(msg));
  return cli_jobj_emit(&o);
}

int cty_io_emit_status(int rv, const soupc_status *st) {
  return cty_io_emit_failure(rv == SOUPC_ERR_CTY_PANIC ? "panic" : "error",
                             st->message);
}

/* Go's syscall error text: strerror with a lower-case first letter. */
static void go_errno(char *err, size_t size, const char *op, const char *path,
                     int e) {
  const char *msg = strerror(e);

  snprintf(err, size, "%s %s: %c%s", op, path,
           msg[0] >= 'A' && msg[0] <= 'Z' ? msg[0] - 'A' + 'a' : msg[0],
           msg + 1);
}

int cty_io_read(char **data_out, size_t *len_out, const char *path, char *err,
                size_t err_size) {
  FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
  char *buf = NULL;
  size_t len = 0, cap = 0;

  if (f == NULL) {
    go_errno(err, err_size, "open", path, errno);
    return -1;
  }
  for (;;) {
    size_t n;
    if (cap - len < 65536) {
      char *nb;
      cap = cap == 0 ? 65536 : cap * 2;
      nb = realloc(buf, cap + 1);
      if (nb == NULL) {
        snprintf(err, err_size, "out of memory");
        goto fail;
      }
      buf = nb;
    }
    n = fread(buf + len, 1, cap - len, f);
    len += n;
    if (n == 0) {
      break;
    }
  }
  if (ferror(f)) {
    go_errno(err, err_size, "read", f == stdin ? "/dev/stdin" : path,
             errno != 0 ? errno : EIO);
    goto fail;
  }
  if (f != stdin) {
    fclose(f);
  }
  buf[len] = '\0';
  *data_out = buf;
  *len_out = len;
  return 0;
fail:
  if (f != stdin) {
    fclose(f);
  }
  free(buf);
  return -1;
}

int cty_io_write(const char *path, const void *p, size_t len, char *err,
                 size_t err_size) {
  FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "wb");
  int rv = 0;

  if (f == NULL) {
    go_errno(err, err_size, "open", path, errno);
    return -1;
  }
  if (len > 0 && fwrite(p, 1, len, f) != len) {
    rv = -1;
  }
  if (f == stdout) {
    rv |= fflush(f) != 0 ? -1 : 0;
  } else if (fclose(f) != 0) {
    rv = -1;
  }
  if (rv != 0) {
    go_errno(err, err_size, "write", f == stdout ? "/dev/stdout" : path,
             errno != 0 ? errno : EIO);
  }
  return rv;
}
