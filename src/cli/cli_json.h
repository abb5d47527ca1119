/* Go encoding/json output for the soup-go-compatible cty commands: a
 * growable text buffer, and objects whose keys come out sorted, as
 * json.Marshal writes a map[string]any. */
#ifndef SOUPC_CLI_JSON_H
#define SOUPC_CLI_JSON_H

#include <stddef.h>

/* A growable buffer; @c oom sticks once an allocation failed. */
typedef struct {
  char *p;
  size_t len;
  size_t cap;
  int oom;
} cli_jbuf;

void cli_jbuf_init(cli_jbuf *b);
void cli_jbuf_dispose(cli_jbuf *b);
void cli_jbuf_put(cli_jbuf *b, const char *s, size_t n);
void cli_jbuf_puts(cli_jbuf *b, const char *s);
void cli_jbuf_printf(cli_jbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A JSON string literal with Go's escaping (soupc_cty_json_quote). */
void cli_jbuf_str(cli_jbuf *b, const char *s, size_t n);
/* @return the NUL-terminated text (owned by @p b), or NULL after OOM. */
const char *cli_jbuf_text(cli_jbuf *b);

/* An object under construction; setting a key twice keeps the last value. */
typedef struct {
  struct cli_jfield {
    char *key;
    char *val;
  } * f;
  size_t n;
  size_t cap;
  int oom;
} cli_jobj;

void cli_jobj_init(cli_jobj *o);
void cli_jobj_dispose(cli_jobj *o);
/* Sets @p key to JSON text @p json (@p len bytes). */
void cli_jobj_raw(cli_jobj *o, const char *key, const char *json, size_t len);
void cli_jobj_str(cli_jobj *o, const char *key, const char *s, size_t len);
void cli_jobj_bool(cli_jobj *o, const char *key, int b);
void cli_jobj_int(cli_jobj *o, const char *key, long long v);
/* Sets @p key to the text of @p b (which is then empty). */
void cli_jobj_buf(cli_jobj *o, const char *key, cli_jbuf *b);
/* Appends the object, keys sorted bytewise, to @p out. */
void cli_jobj_render(cli_jobj *o, cli_jbuf *out);
/* Prints the object and a newline to stdout and disposes of it.
 * @return 0, or 1 (with a message on stderr) when out of memory or the
 *         write failed */
int cli_jobj_emit(cli_jobj *o);

#endif
