/* A JSON tree read the way Go's encoding/json reads text.
 *
 * soup-go answers malformed input with Go's own messages ("invalid
 * character '}' looking for beginning of value", "unexpected EOF"), and
 * its rich dialect quotes parts of the input verbatim (json.RawMessage).
 * yajl gives neither, so this file is a parser that follows Go's scanner
 * (encoding/json/scanner.go) state by state: the same first error, with
 * the same wording, for every input, and each node's raw span. Numbers
 * keep their exact text (json.Decoder.UseNumber); strings are unquoted as
 * Go does (invalid UTF-8 and lone surrogates become U+FFFD); object
 * members keep input order and duplicates (readers take the last). */
#include "cty/cty_int.h"

#include "base/alloc.h"

#include <stdio.h>
#include <string.h>

struct parser {
  const char *p; /* input */
  size_t len;
  size_t off;
  int depth;
  enum json_mode mode;
  soupc_status *st;
};

enum {
  P_OK = 0,
  P_SYNTAX = 1, /* st set */
  P_EOF = 2,    /* the input ended inside a value */
  P_NOMEM = 3,
  P_DEEP = 4
};

void soupc__json_free(struct json_node *n) {
  size_t i;

  if (n == NULL) {
    return;
  }
  for (i = 0; i < n->n; i++) {
    soupc__json_free(n->items[i]);
    if (n->keys != NULL) {
      soupc__free(n->keys[i]);
    }
  }
  soupc__free(n->items);
  soupc__free(n->keys);
  soupc__free(n->key_lens);
  soupc__free(n->s);
  soupc__free(n);
}

const struct json_node *soupc__json_member(const struct json_node *n,
                                           const char *key) {
  size_t i, kl = strlen(key);

  for (i = n->n; i > 0; i--) {
    if (n->key_lens[i - 1] == kl && memcmp(n->keys[i - 1], key, kl) == 0) {
      return n->items[i - 1];
    }
  }
  return NULL;
}

static bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Go's quoteChar: the byte as a one-character quoted literal. */
static void quote_char(struct cty_buf *b, unsigned char c) {
  char u[4];
  size_t n = 0;
  struct cty_buf q;

  if (c == '\'') {
    soupc__cty_buf_puts(b, "'\\''");
    return;
  }
  if (c == '"') {
    soupc__cty_buf_puts(b, "'\"'");
    return;
  }
  /* string(c) is the rune U+00cc, UTF-8 encoded. */
  if (c < 0x80) {
    u[n++] = (char)c;
  } else {
    u[n++] = (char)(0xc0 | (c >> 6));
    u[n++] = (char)(0x80 | (c & 0x3f));
  }
  soupc__cty_buf_init(&q);
  soupc__cty_go_quote(&q, u, n);
  soupc__cty_buf_putc(b, '\'');
  if (q.len >= 2) {
    soupc__cty_buf_put(b, q.p + 1, q.len - 2);
  }
  soupc__cty_buf_putc(b, '\'');
  soupc__cty_buf_dispose(&q);
}

/* "invalid character 'x' <context>" */
static int syntax(struct parser *ps, const char *context) {
  struct cty_buf b;

  soupc__cty_buf_init(&b);
  soupc__cty_buf_puts(&b, "invalid character ");
  quote_char(&b, (unsigned char)ps->p[ps->off]);
  soupc__cty_buf_putc(&b, ' ');
  soupc__cty_buf_puts(&b, context);
  soupc__cty_buf_putc(&b, 0);
  if (b.oom) {
    return P_NOMEM;
  }
  soupc_status_set(ps->st, SOUPC_GRPC_INVALID_ARGUMENT, "%s", (char *)b.p);
  soupc__cty_buf_dispose(&b);
  return P_SYNTAX;
}

static void skip_ws(struct parser *ps) {
  while (ps->off < ps->len && is_space(ps->p[ps->off])) {
    ps->off++;
  }
}

static struct json_node *node_new(enum json_kind k) {
  struct json_node *n = soupc__calloc(1, sizeof(*n));

  if (n != NULL) {
    n->kind = k;
  }
  return n;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

static void put_rune(struct cty_buf *b, uint32_t r) {
  uint8_t u[4];

  if (r < 0x80) {
    soupc__cty_buf_putc(b, (uint8_t)r);
  } else if (r < 0x800) {
    u[0] = (uint8_t)(0xc0 | (r >> 6));
    u[1] = (uint8_t)(0x80 | (r & 0x3f));
    soupc__cty_buf_put(b, u, 2);
  } else if (r < 0x10000) {
    u[0] = (uint8_t)(0xe0 | (r >> 12));
    u[1] = (uint8_t)(0x80 | ((r >> 6) & 0x3f));
    u[2] = (uint8_t)(0x80 | (r & 0x3f));
    soupc__cty_buf_put(b, u, 3);
  } else {
    u[0] = (uint8_t)(0xf0 | (r >> 18));
    u[1] = (uint8_t)(0x80 | ((r >> 12) & 0x3f));
    u[2] = (uint8_t)(0x80 | ((r >> 6) & 0x3f));
    u[3] = (uint8_t)(0x80 | (r & 0x3f));
    soupc__cty_buf_put(b, u, 4);
  }
}

static uint32_t u4(const char *s) {
  /* callers checked the four digits, so no hexval is -1 here */
  return (uint32_t)hexval(s[0]) << 12 | (uint32_t)hexval(s[1]) << 8 |
         (uint32_t)hexval(s[2]) << 4 | (uint32_t)hexval(s[3]);
}

/* Go's unquote of a validated string body [s, s+len). */
static int unquote(char **out, size_t *len_out, const char *s, size_t len) {
  struct cty_buf b;
  size_t i = 0, start;

  soupc__cty_buf_init(&b);
  while (i < len) {
    if (s[i] != '\\') {
      /* A run of plain bytes: Go replaces invalid UTF-8 per byte. */
      char *fixed;
      size_t fl;
      start = i;
      while (i < len && s[i] != '\\') {
        i++;
      }
      fixed = soupc__cty_go_utf8(s + start, i - start, &fl);
      if (fixed == NULL) {
        soupc__cty_buf_dispose(&b);
        return P_NOMEM;
      }
      soupc__cty_buf_put(&b, fixed, fl);
      soupc__free(fixed);
      continue;
    }
    i++;
    switch (s[i]) {
    case 'b':
      soupc__cty_buf_putc(&b, '\b');
      break;
    case 'f':
      soupc__cty_buf_putc(&b, '\f');
      break;
    case 'n':
      soupc__cty_buf_putc(&b, '\n');
      break;
    case 'r':
      soupc__cty_buf_putc(&b, '\r');
      break;
    case 't':
      soupc__cty_buf_putc(&b, '\t');
      break;
    case 'u': {
      uint32_t r = u4(s + i + 1);
      i += 4;
      if (r >= 0xd800 && r < 0xe000) {
        /* A surrogate: a valid pair becomes one rune, anything else
         * U+FFFD (and the second escape is read on its own). */
        if (r < 0xdc00 && i + 6 < len && s[i + 1] == '\\' && s[i + 2] == 'u') {
          uint32_t r2 = u4(s + i + 3);
          if (r2 >= 0xdc00 && r2 < 0xe000) {
            r = 0x10000 + ((r - 0xd800) << 10) + (r2 - 0xdc00);
            i += 6;
            put_rune(&b, r);
            break;
          }
        }
        r = 0xfffd;
      }
      put_rune(&b, r);
      break;
    }
    default: /* " \ / */
      soupc__cty_buf_putc(&b, (uint8_t)s[i]);
      break;
    }
    i++;
  }
  return soupc__cty_buf_take(&b, out, len_out) == 0 ? P_OK : P_NOMEM;
}

/* Scans a string starting at the opening quote; on success off is past
 * the closing quote and body, body_len delimit its content. */
static int scan_string(struct parser *ps, size_t *body, size_t *body_len) {
  size_t i;

  ps->off++; /* the quote */
  *body = ps->off;
  while (ps->off < ps->len) {
    unsigned char c = (unsigned char)ps->p[ps->off];
    if (c == '"') {
      *body_len = ps->off - *body;
      ps->off++;
      return P_OK;
    }
    if (c < 0x20) {
      return syntax(ps, "in string literal");
    }
    if (c == '\\') {
      ps->off++;
      if (ps->off >= ps->len) {
        return P_EOF;
      }
      c = (unsigned char)ps->p[ps->off];
      if (c == 'u') {
        for (i = 0; i < 4; i++) {
          ps->off++;
          if (ps->off >= ps->len) {
            return P_EOF;
          }
          if (hexval(ps->p[ps->off]) < 0) {
            return syntax(ps, "in \\u hexadecimal character escape");
          }
        }
      } else if (strchr("bfnrt\\/\"", c) == NULL || c == 0) {
        return syntax(ps, "in string escape code");
      }
    }
    ps->off++;
  }
  return P_EOF;
}

static bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

/* Scans a number (the scanner's stateNeg .. stateE0). The character that
 * ends it is left for the caller (stateEndValue). */
static int scan_number(struct parser *ps) {
  if (ps->p[ps->off] == '-') {
    ps->off++;
    if (ps->off >= ps->len) {
      return P_EOF;
    }
    if (!is_digit(ps->p[ps->off])) {
      return syntax(ps, "in numeric literal");
    }
  }
  if (ps->p[ps->off] == '0') {
    ps->off++;
  } else {
    while (ps->off < ps->len && is_digit(ps->p[ps->off])) {
      ps->off++;
    }
  }
  if (ps->off < ps->len && ps->p[ps->off] == '.') {
    ps->off++;
    if (ps->off >= ps->len) {
      return P_EOF;
    }
    if (!is_digit(ps->p[ps->off])) {
      return syntax(ps, "after decimal point in numeric literal");
    }
    while (ps->off < ps->len && is_digit(ps->p[ps->off])) {
      ps->off++;
    }
  }
  if (ps->off < ps->len && (ps->p[ps->off] == 'e' || ps->p[ps->off] == 'E')) {
    ps->off++;
    if (ps->off < ps->len && (ps->p[ps->off] == '+' || ps->p[ps->off] == '-')) {
      ps->off++;
    }
    if (ps->off >= ps->len) {
      return P_EOF;
    }
    if (!is_digit(ps->p[ps->off])) {
      return syntax(ps, "in exponent of numeric literal");
    }
    while (ps->off < ps->len && is_digit(ps->p[ps->off])) {
      ps->off++;
    }
  }
  return P_OK;
}

static int scan_literal(struct parser *ps, const char *word) {
  size_t i;
  char ctx[48];

  for (i = 1; word[i] != '\0'; i++) {
    ps->off++;
    if (ps->off >= ps->len) {
      return P_EOF;
    }
    if (ps->p[ps->off] != word[i]) {
      snprintf(ctx, sizeof(ctx), "in literal %s (expecting '%c')", word,
               word[i]);
      return syntax(ps, ctx);
    }
  }
  ps->off++;
  return P_OK;
}

static int parse_value(struct parser *ps, struct json_node **out);

static int add_item(struct json_node *n, size_t *cap, struct json_node *item,
                    char *key, size_t key_len) {
  if (n->n == *cap) {
    size_t nc = *cap == 0 ? 4 : *cap * 2;
    struct json_node **items = soupc__realloc(n->items, nc * sizeof(*items));
    if (items == NULL) {
      return P_NOMEM;
    }
    n->items = items;
    if (n->kind == JN_OBJECT) {
      char **keys = soupc__realloc(n->keys, nc * sizeof(*keys));
      size_t *lens;
      if (keys == NULL) {
        return P_NOMEM;
      }
      n->keys = keys;
      lens = soupc__realloc(n->key_lens, nc * sizeof(*lens));
      if (lens == NULL) {
        return P_NOMEM;
      }
      n->key_lens = lens;
    }
    *cap = nc;
  }
  if (n->kind == JN_OBJECT) {
    n->keys[n->n] = key;
    n->key_lens[n->n] = key_len;
  }
  n->items[n->n++] = item;
  return P_OK;
}

/* After a value inside a container: the separator or the closing
 * bracket (stateEndValue with a parse state). @return P_OK and *done. */
static int end_value(struct parser *ps, bool object, bool *done) {
  skip_ws(ps);
  if (ps->off >= ps->len) {
    return P_EOF;
  }
  if (ps->p[ps->off] == ',') {
    ps->off++;
    *done = false;
    return P_OK;
  }
  if (ps->p[ps->off] == (object ? '}' : ']')) {
    ps->off++;
    *done = true;
    return P_OK;
  }
  return syntax(ps,
                object ? "after object key:value pair" : "after array element");
}

static int parse_array(struct parser *ps, struct json_node *n) {
  size_t cap = 0;
  bool done = false;
  int rv;

  ps->off++; /* [ */
  skip_ws(ps);
  if (ps->off >= ps->len) {
    return P_EOF;
  }
  if (ps->p[ps->off] == ']') {
    ps->off++;
    return P_OK;
  }
  while (!done) {
    struct json_node *item = NULL;
    rv = parse_value(ps, &item);
    if (rv == P_OK) {
      rv = add_item(n, &cap, item, NULL, 0);
      if (rv != P_OK) {
        soupc__json_free(item);
      }
    }
    if (rv == P_OK) {
      rv = end_value(ps, false, &done);
    }
    if (rv != P_OK) {
      return rv;
    }
  }
  return P_OK;
}

static int parse_object(struct parser *ps, struct json_node *n) {
  size_t cap = 0, body = 0, blen = 0, klen = 0;
  bool done = false;
  int rv;

  ps->off++; /* { */
  skip_ws(ps);
  if (ps->off >= ps->len) {
    return P_EOF;
  }
  if (ps->p[ps->off] == '}') {
    ps->off++;
    return P_OK;
  }
  while (!done) {
    struct json_node *item = NULL;
    char *key = NULL;
    skip_ws(ps);
    if (ps->off >= ps->len) {
      return P_EOF;
    }
    if (ps->p[ps->off] != '"') {
      return syntax(ps, "looking for beginning of object key string");
    }
    rv = scan_string(ps, &body, &blen);
    if (rv != P_OK) {
      return rv;
    }
    skip_ws(ps);
    if (ps->off >= ps->len) {
      return P_EOF;
    }
    if (ps->p[ps->off] != ':') {
      return syntax(ps, "after object key");
    }
    ps->off++;
    rv = parse_value(ps, &item);
    if (rv != P_OK) {
      return rv;
    }
    rv = unquote(&key, &klen, ps->p + body, blen);
    if (rv == P_OK) {
      rv = add_item(n, &cap, item, key, klen);
    }
    if (rv != P_OK) {
      soupc__free(key);
      soupc__json_free(item);
      return rv;
    }
    rv = end_value(ps, true, &done);
    if (rv != P_OK) {
      return rv;
    }
  }
  return P_OK;
}

/* stateBeginValue: whitespace, then one value. */
static int parse_value(struct parser *ps, struct json_node **out) {
  struct json_node *n = NULL;
  size_t start, body = 0, blen = 0;
  char c;
  int rv;

  skip_ws(ps);
  if (ps->off >= ps->len) {
    return P_EOF;
  }
  start = ps->off;
  c = ps->p[ps->off];
  switch (c) {
  case '{':
  case '[':
    if (ps->depth >= CTY_MAX_DEPTH) {
      return P_DEEP;
    }
    n = node_new(c == '{' ? JN_OBJECT : JN_ARRAY);
    if (n == NULL) {
      return P_NOMEM;
    }
    ps->depth++;
    rv = c == '{' ? parse_object(ps, n) : parse_array(ps, n);
    ps->depth--;
    break;
  case '"':
    n = node_new(JN_STRING);
    if (n == NULL) {
      return P_NOMEM;
    }
    rv = scan_string(ps, &body, &blen);
    if (rv == P_OK) {
      rv = unquote(&n->s, &n->len, ps->p + body, blen);
    }
    break;
  case 't':
  case 'f':
  case 'n':
    n = node_new(c == 'n' ? JN_NULL : JN_BOOL);
    if (n == NULL) {
      return P_NOMEM;
    }
    n->b = c == 't';
    rv = scan_literal(ps, c == 't' ? "true" : c == 'f' ? "false" : "null");
    break;
  default:
    if (c != '-' && !is_digit(c)) {
      return syntax(ps, "looking for beginning of value");
    }
    n = node_new(JN_NUMBER);
    if (n == NULL) {
      return P_NOMEM;
    }
    rv = scan_number(ps);
    if (rv == P_OK) {
      n->s = soupc__strndup(ps->p + start, ps->off - start);
      n->len = ps->off - start;
      rv = n->s == NULL ? P_NOMEM : P_OK;
    }
    break;
  }
  if (rv != P_OK) {
    soupc__json_free(n);
    return rv;
  }
  n->raw = ps->p + start;
  n->raw_len = ps->off - start;
  *out = n;
  return P_OK;
}

int soupc__json_parse_go(struct json_node **out, const char *buf, size_t len,
                         enum json_mode mode, bool *trailing_out,
                         soupc_status *st) {
  struct parser ps;
  struct json_node *n = NULL;
  bool only_space = true;
  size_t i;
  int rv;

  if (buf == NULL) {
    buf = ""; /* msgpack-c hands out NULL for empty str/bin */
    len = 0;
  }
  memset(&ps, 0, sizeof(ps));
  ps.p = buf;
  ps.len = len;
  ps.mode = mode;
  ps.st = st;
  rv = parse_value(&ps, &n);
  if (rv == P_OK) {
    skip_ws(&ps);
    if (trailing_out != NULL) {
      *trailing_out = ps.off < ps.len;
    }
    if (mode == JSON_UNMARSHAL && ps.off < ps.len) {
      soupc__json_free(n);
      return syntax(&ps, "after top-level value") == P_NOMEM
                 ? SOUPC_ERR_NOMEM
                 : SOUPC_ERR_CTY_DECODE;
    }
    *out = n;
    return 0;
  }
  switch (rv) {
  case P_NOMEM:
    return SOUPC_ERR_NOMEM;
  case P_DEEP:
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "JSON value nests deeper than %d levels", CTY_MAX_DEPTH);
    return SOUPC_ERR_CTY_DECODE;
  case P_EOF:
    for (i = 0; i < len; i++) {
      if (!is_space(buf[i])) {
        only_space = false;
        break;
      }
    }
    if (mode == JSON_UNMARSHAL) {
      soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                       "unexpected end of JSON input");
    } else {
      soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT, "%s",
                       only_space ? "EOF" : "unexpected EOF");
    }
    return SOUPC_ERR_CTY_DECODE;
  default:
    return SOUPC_ERR_CTY_DECODE;
  }
}

int soupc__json_parse(struct json_node **out, const char *buf, size_t len,
                      bool *trailing_out, soupc_status *st) {
  return soupc__json_parse_go(out, buf, len, JSON_DECODER, trailing_out, st);
}

/* ---- Go's json.Decoder Token API (encoding/json/stream.go) ----
 * go-cty reads JSON token by token (json.Unmarshal, ImpliedType), so its
 * errors on malformed input are the Decoder's: "expected comma after
 * array element", "invalid character ']' after object key", "EOF". */

enum {
  TS_TOP = 0,
  TS_ARRAY_START,
  TS_ARRAY_VALUE,
  TS_ARRAY_COMMA,
  TS_OBJECT_START,
  TS_OBJECT_KEY,
  TS_OBJECT_COLON,
  TS_OBJECT_VALUE,
  TS_OBJECT_COMMA
};

void soupc__godec_init(struct go_dec *d, const char *buf, size_t len,
                       soupc_status *st) {
  memset(d, 0, sizeof(*d));
  d->p = buf != NULL ? buf : "";
  d->len = buf != NULL ? len : 0;
  d->st = st;
  d->state = TS_TOP;
}

static int godec_err(struct go_dec *d, const char *msg) {
  soupc_status_set(d->st, SOUPC_GRPC_INVALID_ARGUMENT, "%s", msg);
  return SOUPC_ERR_CTY_DECODE;
}

/* peek: the next non-space byte, or -1 at the end. */
static int godec_peek(struct go_dec *d) {
  while (d->off < d->len && is_space(d->p[d->off])) {
    d->off++;
  }
  return d->off < d->len ? (unsigned char)d->p[d->off] : -1;
}

static bool value_allowed(const struct go_dec *d) {
  return d->state == TS_TOP || d->state == TS_ARRAY_START ||
         d->state == TS_ARRAY_VALUE || d->state == TS_OBJECT_VALUE;
}

static void value_end(struct go_dec *d) {
  if (d->state == TS_ARRAY_START || d->state == TS_ARRAY_VALUE) {
    d->state = TS_ARRAY_COMMA;
  } else if (d->state == TS_OBJECT_VALUE) {
    d->state = TS_OBJECT_COMMA;
  }
}

static int token_error(struct go_dec *d, unsigned char c) {
  struct parser ps;
  const char *ctx = "";

  switch (d->state) {
  case TS_TOP:
  case TS_ARRAY_START:
  case TS_ARRAY_VALUE:
  case TS_OBJECT_VALUE:
    ctx = "looking for beginning of value";
    break;
  case TS_ARRAY_COMMA:
    ctx = "after array element";
    break;
  case TS_OBJECT_KEY:
    ctx = "looking for beginning of object key string";
    break;
  case TS_OBJECT_COLON:
    ctx = "after object key";
    break;
  case TS_OBJECT_COMMA:
    ctx = "after object key:value pair";
    break;
  default: /* tokenObjectStart has no context in Go */
    break;
  }
  (void)c;
  memset(&ps, 0, sizeof(ps));
  ps.p = d->p;
  ps.len = d->len;
  ps.off = d->off;
  ps.st = d->st;
  if (*ctx == '\0') {
    struct cty_buf b;
    soupc__cty_buf_init(&b);
    soupc__cty_buf_puts(&b, "invalid character ");
    quote_char(&b, (unsigned char)d->p[d->off]);
    soupc__cty_buf_putc(&b, 0);
    if (b.oom) {
      return SOUPC_ERR_NOMEM;
    }
    soupc_status_set(d->st, SOUPC_GRPC_INVALID_ARGUMENT, "%s", (char *)b.p);
    soupc__cty_buf_dispose(&b);
    return SOUPC_ERR_CTY_DECODE;
  }
  return syntax(&ps, ctx) == P_NOMEM ? SOUPC_ERR_NOMEM : SOUPC_ERR_CTY_DECODE;
}

/* readValue + the raw value: one complete JSON value from the current
 * position. */
static int godec_read_value(struct go_dec *d, struct json_node **out) {
  struct parser ps;
  size_t i;
  bool non_space = false;
  int rv;

  memset(&ps, 0, sizeof(ps));
  ps.p = d->p;
  ps.len = d->len;
  ps.off = d->off;
  ps.depth = (int)d->depth;
  ps.mode = JSON_DECODER;
  ps.st = d->st;
  rv = parse_value(&ps, out);
  if (rv == P_OK) {
    d->off = ps.off;
    return 0;
  }
  switch (rv) {
  case P_NOMEM:
    return SOUPC_ERR_NOMEM;
  case P_DEEP:
    return godec_err(d, "JSON value nests too deeply");
  case P_EOF:
    for (i = d->off; i < d->len; i++) {
      non_space = non_space || !is_space(d->p[i]);
    }
    return godec_err(d, non_space ? "unexpected EOF" : "EOF");
  default:
    return SOUPC_ERR_CTY_DECODE;
  }
}

int soupc__godec_decode(struct go_dec *d, struct json_node **out) {
  int c;
  int rv;

  /* tokenPrepareForDecode */
  if (d->state == TS_ARRAY_COMMA || d->state == TS_OBJECT_COLON) {
    bool array = d->state == TS_ARRAY_COMMA;
    c = godec_peek(d);
    if (c < 0) {
      return godec_err(d, "EOF");
    }
    if (c != (array ? ',' : ':')) {
      return godec_err(d, array ? "expected comma after array element"
                                : "expected colon after object key");
    }
    d->off++;
    d->state = array ? TS_ARRAY_VALUE : TS_OBJECT_VALUE;
  }
  if (!value_allowed(d)) {
    return godec_err(d, "not at beginning of value");
  }
  rv = godec_read_value(d, out);
  if (rv != 0) {
    return rv;
  }
  value_end(d);
  return 0;
}

bool soupc__godec_more(struct go_dec *d) {
  int c = godec_peek(d);

  return c >= 0 && c != ']' && c != '}';
}

int soupc__godec_token(struct go_dec *d, struct go_tok *t) {
  int c;
  int rv;

  memset(t, 0, sizeof(*t));
  for (;;) {
    c = godec_peek(d);
    if (c < 0) {
      return godec_err(d, "EOF");
    }
    switch (c) {
    case '[':
    case '{':
      if (!value_allowed(d)) {
        return token_error(d, (unsigned char)c);
      }
      if (d->depth >= CTY_MAX_DEPTH) {
        return godec_err(d, "JSON value nests too deeply");
      }
      d->off++;
      d->stack[d->depth++] = (unsigned char)d->state;
      d->state = c == '[' ? TS_ARRAY_START : TS_OBJECT_START;
      t->delim = (char)c;
      return 0;
    case ']':
    case '}':
      if (c == ']'
              ? (d->state != TS_ARRAY_START && d->state != TS_ARRAY_COMMA)
              : (d->state != TS_OBJECT_START && d->state != TS_OBJECT_COMMA)) {
        return token_error(d, (unsigned char)c);
      }
      d->off++;
      d->state = d->stack[--d->depth];
      value_end(d);
      t->delim = (char)c;
      return 0;
    case ':':
      if (d->state != TS_OBJECT_COLON) {
        return token_error(d, (unsigned char)c);
      }
      d->off++;
      d->state = TS_OBJECT_VALUE;
      continue;
    case ',':
      if (d->state == TS_ARRAY_COMMA) {
        d->off++;
        d->state = TS_ARRAY_VALUE;
        continue;
      }
      if (d->state == TS_OBJECT_COMMA) {
        d->off++;
        d->state = TS_OBJECT_KEY;
        continue;
      }
      return token_error(d, (unsigned char)c);
    case '"':
      if (d->state == TS_OBJECT_START || d->state == TS_OBJECT_KEY) {
        rv = godec_read_value(d, &t->node);
        if (rv != 0) {
          return rv;
        }
        d->state = TS_OBJECT_COLON;
        return 0;
      }
      __attribute__((fallthrough));
    default:
      if (!value_allowed(d)) {
        return token_error(d, (unsigned char)c);
      }
      rv = godec_read_value(d, &t->node);
      if (rv != 0) {
        return rv;
      }
      value_end(d);
      return 0;
    }
  }
}
