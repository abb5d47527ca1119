/* The bits of Go's unicode, unicode/utf8 and strconv that the stdlib
 * functions lean on, on utf8proc (Unicode 15.0, the tables Go 1.25 and
 * go-textseg v15 use), and grapheme clusters as go-textseg scans them
 * (UAX #29, utf8proc_grapheme_break_stateful). */
#include "ctyfunc/fn_int.h"

#include <stdio.h>
#include <utf8proc.h>

int32_t soupc__fn_rune(const char *s, size_t len, size_t *size) {
  int32_t r = soupc__cty_utf8_decode((const uint8_t *)s, len, size);

  return r < 0 ? 0xFFFD : r;
}

void soupc__fn_put_rune(struct cty_buf *b, int32_t r) {
  utf8proc_uint8_t tmp[4];
  utf8proc_ssize_t n;

  if (r < 0 || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) {
    r = 0xFFFD; /* utf8.EncodeRune */
  }
  n = utf8proc_encode_char(r, tmp);
  soupc__cty_buf_put(b, tmp, (size_t)n);
}

size_t soupc__fn_grapheme(const char *s, size_t len) {
  utf8proc_int32_t state = 0;
  size_t sz, i;
  int32_t prev, r;

  if (len == 0) {
    return 0;
  }
  prev = soupc__cty_utf8_decode((const uint8_t *)s, len, &sz);
  if (prev < 0) {
    return 1; /* an invalid byte is a cluster of its own */
  }
  for (i = sz; i < len; i += sz) {
    r = soupc__cty_utf8_decode((const uint8_t *)s + i, len - i, &sz);
    if (r < 0 || utf8proc_grapheme_break_stateful(prev, r, &state)) {
      return i;
    }
    prev = r;
  }
  return len;
}

size_t soupc__fn_grapheme_count(const char *s, size_t len) {
  size_t n = 0, i = 0;

  while (i < len) {
    i += soupc__fn_grapheme(s + i, len - i);
    n++;
  }
  return n;
}

/* utf8proc maps U+00DF (sharp s) to U+1E9E for upper and title case;
 * UnicodeData.txt, and so Go's unicode package, has no mapping for it. */
int32_t soupc__fn_to_upper(int32_t r) {
  return r == 0xDF ? r : utf8proc_toupper(r);
}

int32_t soupc__fn_to_lower(int32_t r) {
  return utf8proc_tolower(r);
}

int32_t soupc__fn_to_title(int32_t r) {
  return r == 0xDF ? r : utf8proc_totitle(r);
}

bool soupc__fn_is_space(int32_t r) {
  if (r <= 0xFF) {
    return r == '\t' || r == '\n' || r == '\v' || r == '\f' || r == '\r' ||
           r == ' ' || r == 0x85 || r == 0xA0;
  }
  /* White_Space (PropList.txt) above Latin-1. */
  return r == 0x1680 || (r >= 0x2000 && r <= 0x200A) || r == 0x2028 ||
         r == 0x2029 || r == 0x202F || r == 0x205F || r == 0x3000;
}

void soupc__fn_quote_rune(struct cty_buf *b, int32_t r) {
  char t[16];

  soupc__cty_buf_putc(b, '\'');
  if (r == '\'' || r == '\\') {
    soupc__cty_buf_putc(b, '\\');
    soupc__cty_buf_putc(b, (uint8_t)r);
  } else if (r < 0x80 ? (r >= 0x20 && r < 0x7f) : soupc__cty_go_is_print(r)) {
    soupc__fn_put_rune(b, r);
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
  soupc__cty_buf_putc(b, '\'');
}
