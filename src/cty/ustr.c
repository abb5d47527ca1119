/* Byte buffers and the string rules cty depends on: NFC normalisation
 * (spec §2.3, utf8proc), Go's JSON string escaping (spec §3.1), Go's %q
 * quoting and CRC-32 for set hash bytes (spec §2.5). */
#include "cty/cty_int.h"

#include "base/alloc.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

void soupc__cty_buf_init(struct cty_buf *b) {
  b->p = NULL;
  b->len = 0;
  b->cap = 0;
  b->oom = false;
}

void soupc__cty_buf_dispose(struct cty_buf *b) {
  soupc__free(b->p);
  soupc__cty_buf_init(b);
}

static bool buf_grow(struct cty_buf *b, size_t more) {
  size_t cap;
  uint8_t *np;

  if (b->oom) {
    return false;
  }
  if (b->cap - b->len > more) { /* keep one byte for a NUL */
    return true;
  }
  cap = b->cap == 0 ? 256 : b->cap;
  while (cap - b->len <= more) {
    if (cap > SIZE_MAX / 2) {
      b->oom = true;
      return false;
    }
    cap *= 2;
  }
  np = soupc__realloc(b->p, cap);
  if (np == NULL) {
    b->oom = true;
    return false;
  }
  b->p = np;
  b->cap = cap;
  return true;
}

void soupc__cty_buf_put(struct cty_buf *b, const void *data, size_t len) {
  if (len == 0 || !buf_grow(b, len)) {
    return;
  }
  memcpy(b->p + b->len, data, len);
  b->len += len;
}

void soupc__cty_buf_putc(struct cty_buf *b, uint8_t c) {
  if (!buf_grow(b, 1)) {
    return;
  }
  b->p[b->len++] = c;
}

void soupc__cty_buf_puts(struct cty_buf *b, const char *s) {
  soupc__cty_buf_put(b, s, strlen(s));
}

void soupc__cty_buf_printf(struct cty_buf *b, const char *fmt, ...) {
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0 || !buf_grow(b, (size_t)n + 1)) {
    b->oom = true;
    return;
  }
  va_start(ap, fmt);
  vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

int soupc__cty_buf_take(struct cty_buf *b, char **out, size_t *len_out) {
  size_t len = b->len;

  soupc__cty_buf_putc(b, 0);
  if (b->oom) {
    soupc__cty_buf_dispose(b);
    return SOUPC_ERR_NOMEM;
  }
  *out = (char *)b->p;
  if (len_out != NULL) {
    *len_out = len;
  }
  soupc__cty_buf_init(b);
  return 0;
}

/* Go's utf8.DecodeRune: @return the rune, or -1 for an invalid byte (the
 * caller then consumes exactly one byte, as Go does). */
static int32_t decode_rune(const uint8_t *p, size_t len, size_t *size) {
  uint8_t c = p[0];
  int32_t r;
  size_t n, i;
  uint8_t lo = 0x80, hi = 0xBF;

  *size = 1;
  if (c < 0x80) {
    return c;
  }
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    r = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    r = c & 0x0F;
    if (c == 0xE0) {
      lo = 0xA0;
    } else if (c == 0xED) {
      hi = 0x9F; /* no surrogates */
    }
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    r = c & 0x07;
    if (c == 0xF0) {
      lo = 0x90;
    } else if (c == 0xF4) {
      hi = 0x8F;
    }
  } else {
    return -1;
  }
  if (len < n) {
    return -1;
  }
  for (i = 1; i < n; i++) {
    uint8_t cc = p[i];
    if (cc < (i == 1 ? lo : 0x80) || cc > (i == 1 ? hi : 0xBF)) {
      return -1;
    }
    r = (r << 6) | (cc & 0x3F);
  }
  *size = n;
  return r;
}

/* Appends NFC(valid UTF-8 run). */
static bool nfc_run(struct cty_buf *b, const uint8_t *p, size_t len) {
  utf8proc_uint8_t *dst = NULL;
  utf8proc_ssize_t n;

  if (len == 0) {
    return true;
  }
  n = utf8proc_map(p, (utf8proc_ssize_t)len, &dst,
                   UTF8PROC_STABLE | UTF8PROC_COMPOSE);
  if (n < 0) {
    return false;
  }
  soupc__cty_buf_put(b, dst, (size_t)n);
  free(dst); /* utf8proc allocates with malloc */
  return true;
}

bool soupc__cty_nfc_trivial(const char *s, size_t len) {
  const uint8_t *p = (const uint8_t *)s;
  size_t i, sz;

  for (i = 0; i < len; i += sz) {
    int32_t r;
    if (p[i] < 0x80) {
      sz = 1;
      continue;
    }
    r = decode_rune(p + i, len - i, &sz);
    if (r < 0 || r >= 0x300) {
      return false;
    }
  }
  return true;
}

char *soupc__cty_nfc(const char *s, size_t len, size_t *len_out) {
  const uint8_t *p = (const uint8_t *)s;
  struct cty_buf b;
  size_t i = 0, run = 0, sz;
  char *out;

  /* Fast path: every code point below U+0300 is NFC-stable and none of
   * them combines, so such a string is already NFC. */
  if (soupc__cty_nfc_trivial(s, len)) {
    out = soupc__malloc(len + 1);
    if (out == NULL) {
      return NULL;
    }
    if (len > 0) {
      memcpy(out, s, len);
    }
    out[len] = '\0';
    *len_out = len;
    return out;
  }
  soupc__cty_buf_init(&b);
  for (i = 0; i < len;) {
    int32_t r = decode_rune(p + i, len - i, &sz);
    if (r < 0) {
      /* Go's norm keeps invalid bytes as they are. */
      if (!nfc_run(&b, p + run, i - run)) {
        b.oom = true;
      }
      soupc__cty_buf_putc(&b, p[i]);
      i++;
      run = i;
    } else {
      i += sz;
    }
  }
  if (!nfc_run(&b, p + run, len - run)) {
    b.oom = true;
  }
  soupc__cty_buf_putc(&b, 0);
  if (b.oom) {
    soupc__cty_buf_dispose(&b);
    return NULL;
  }
  *len_out = b.len - 1;
  return (char *)b.p;
}

char *soupc__cty_go_utf8(const char *s, size_t len, size_t *len_out) {
  const uint8_t *p = (const uint8_t *)s;
  struct cty_buf b;
  size_t i, sz;

  soupc__cty_buf_init(&b);
  for (i = 0; i < len; i += sz) {
    if (decode_rune(p + i, len - i, &sz) < 0) {
      soupc__cty_buf_put(&b, "\xef\xbf\xbd", 3); /* U+FFFD per byte */
    } else {
      soupc__cty_buf_put(&b, p + i, sz);
    }
  }
  soupc__cty_buf_putc(&b, 0);
  if (b.oom) {
    soupc__cty_buf_dispose(&b);
    return NULL;
  }
  *len_out = b.len - 1;
  return (char *)b.p;
}

static const char hexd[] = "0123456789abcdef";

void soupc__cty_json_quote(struct cty_buf *b, const char *s, size_t len) {
  const uint8_t *p = (const uint8_t *)s;
  size_t i = 0, start = 0, sz;

  soupc__cty_buf_putc(b, '"');
  while (i < len) {
    uint8_t c = p[i];
    const char *esc = NULL;
    char u[6];
    if (c < 0x80) {
      if (c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' &&
          c != '&') {
        i++;
        continue;
      }
      soupc__cty_buf_put(b, p + start, i - start);
      switch (c) {
      case '"':
        esc = "\\\"";
        break;
      case '\\':
        esc = "\\\\";
        break;
      case '\n':
        esc = "\\n";
        break;
      case '\r':
        esc = "\\r";
        break;
      case '\t':
        esc = "\\t";
        break;
      case '\b': /* Go >= 1.22 (soup-go builds with Go 1.25) */
        esc = "\\b";
        break;
      case '\f':
        esc = "\\f";
        break;
      default:
        break;
      }
      if (esc != NULL) {
        soupc__cty_buf_puts(b, esc);
      } else {
        u[0] = '\\';
        u[1] = 'u';
        u[2] = '0';
        u[3] = '0';
        u[4] = hexd[c >> 4];
        u[5] = hexd[c & 0xF];
        soupc__cty_buf_put(b, u, 6);
      }
      i++;
      start = i;
      continue;
    }
    {
      int32_t r = decode_rune(p + i, len - i, &sz);
      if (r < 0) {
        soupc__cty_buf_put(b, p + start, i - start);
        soupc__cty_buf_puts(b, "\\ufffd");
        i++;
        start = i;
        continue;
      }
      if (r == 0x2028 || r == 0x2029) {
        soupc__cty_buf_put(b, p + start, i - start);
        soupc__cty_buf_puts(b, r == 0x2028 ? "\\u2028" : "\\u2029");
        i += sz;
        start = i;
        continue;
      }
      i += sz;
    }
  }
  soupc__cty_buf_put(b, p + start, len - start);
  soupc__cty_buf_putc(b, '"');
}

/* strconv.IsPrint: letters, marks, numbers, punctuation, symbols and the
 * ASCII space. */
static bool go_is_print(int32_t r) {
  if (r == ' ') {
    return true;
  }
  switch (utf8proc_category(r)) {
  case UTF8PROC_CATEGORY_LU:
  case UTF8PROC_CATEGORY_LL:
  case UTF8PROC_CATEGORY_LT:
  case UTF8PROC_CATEGORY_LM:
  case UTF8PROC_CATEGORY_LO:
  case UTF8PROC_CATEGORY_MN:
  case UTF8PROC_CATEGORY_MC:
  case UTF8PROC_CATEGORY_ME:
  case UTF8PROC_CATEGORY_ND:
  case UTF8PROC_CATEGORY_NL:
  case UTF8PROC_CATEGORY_NO:
  case UTF8PROC_CATEGORY_PC:
  case UTF8PROC_CATEGORY_PD:
  case UTF8PROC_CATEGORY_PS:
  case UTF8PROC_CATEGORY_PE:
  case UTF8PROC_CATEGORY_PI:
  case UTF8PROC_CATEGORY_PF:
  case UTF8PROC_CATEGORY_PO:
  case UTF8PROC_CATEGORY_SM:
  case UTF8PROC_CATEGORY_SC:
  case UTF8PROC_CATEGORY_SK:
  case UTF8PROC_CATEGORY_SO:
    return true;
  default:
    return false;
  }
}

void soupc__cty_go_quote(struct cty_buf *b, const char *s, size_t len) {
  const uint8_t *p = (const uint8_t *)s;
  size_t i = 0, sz;
  char t[12];

  soupc__cty_buf_putc(b, '"');
  while (i < len) {
    int32_t r = decode_rune(p + i, len - i, &sz);
    if (r < 0) {
      t[0] = '\\';
      t[1] = 'x';
      t[2] = hexd[p[i] >> 4];
      t[3] = hexd[p[i] & 0xF];
      soupc__cty_buf_put(b, t, 4);
      i++;
      continue;
    }
    if (r == '"' || r == '\\') {
      soupc__cty_buf_putc(b, '\\');
      soupc__cty_buf_putc(b, (uint8_t)r);
    } else if (r < 0x80 ? (r >= 0x20 && r < 0x7f) : go_is_print(r)) {
      soupc__cty_buf_put(b, p + i, sz);
    } else {
      switch (r) {
      case '\a':
        soupc__cty_buf_puts(b, "\\a");
        break;
      case '\b':
        soupc__cty_buf_puts(b, "\\b");
        break;
      case '\f':
        soupc__cty_buf_puts(b, "\\f");
        break;
      case '\n':
        soupc__cty_buf_puts(b, "\\n");
        break;
      case '\r':
        soupc__cty_buf_puts(b, "\\r");
        break;
      case '\t':
        soupc__cty_buf_puts(b, "\\t");
        break;
      case '\v':
        soupc__cty_buf_puts(b, "\\v");
        break;
      default:
        if (r < ' ' || r == 0x7f) {
          snprintf(t, sizeof(t), "\\x%02x", (unsigned)r);
        } else if (r < 0x10000) {
          snprintf(t, sizeof(t), "\\u%04x", (unsigned)r);
        } else {
          snprintf(t, sizeof(t), "\\U%08x", (unsigned)r);
        }
        soupc__cty_buf_puts(b, t);
        break;
      }
    }
    i += sz;
  }
  soupc__cty_buf_putc(b, '"');
}

static uint32_t table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void) {
  uint32_t n, k, v;

  for (n = 0; n < 256; n++) {
    v = n;
    for (k = 0; k < 8; k++) {
      v = (v & 1) ? 0xEDB88320u ^ (v >> 1) : v >> 1;
    }
    table[n] = v;
  }
}

uint32_t soupc__cty_crc32(const uint8_t *p, size_t len) {
  uint32_t c = 0xFFFFFFFFu;
  size_t i;

  pthread_once(&crc_once, crc_init);
  for (i = 0; i < len; i++) {
    c = table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
  }
  return c ^ 0xFFFFFFFFu;
}

/* For the function library (src/ctyfunc/): Go's utf8.DecodeRune and
 * strconv.IsPrint, as used above. */
int32_t soupc__cty_utf8_decode(const uint8_t *p, size_t len, size_t *size) {
  return decode_rune(p, len, size);
}

bool soupc__cty_go_is_print(int32_t r) {
  return go_is_print(r);
}

int soupc_cty_json_quote(char **out, size_t *len_out, const char *s,
                         size_t len) {
  struct cty_buf b;

  soupc__cty_buf_init(&b);
  soupc__cty_json_quote(&b, s, len);
  return soupc__cty_buf_take(&b, out, len_out);
}

int soupc_cty_go_quote(char **out, size_t *len_out, const char *s, size_t len) {
  struct cty_buf b;

  soupc__cty_buf_init(&b);
  soupc__cty_go_quote(&b, s, len);
  return soupc__cty_buf_take(&b, out, len_out);
}
