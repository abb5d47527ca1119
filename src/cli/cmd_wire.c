/* soup-c wire encode|decode: soup-go's `wire` commands (wire.go,
 * wire-cty-spec.md §1.4) on the cty library, in the cli_cmd.h tree. */
#include "cli/cli_cmd.h"
#include "cli/cli_json.h"
#include "cli/cmd_cty_io.h"
#include "cli/commands.h"
#include "soupc/cty.h"

#include <math.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
  W_IN,
  W_OUT,
  W_TYPE
};

struct wire_io {
  const char *input;
  const char *output;
  const char *in_fmt;
  const char *out_fmt;
  const char *type;
  char *data;
  size_t len;
  char err[512];
};

/* Reads the input named by the arguments ("-" = stdin). @return 0 or 1 */
static int wire_begin(struct wire_io *w, const cli_ctx *ctx, int argc,
                      char **argv) {
  memset(w, 0, sizeof(*w));
  w->input = argv[0];
  w->output = argc > 1 ? argv[1] : "-";
  w->in_fmt = ctx->values[W_IN].s;
  w->out_fmt = ctx->values[W_OUT].s;
  w->type = ctx->values[W_TYPE].s;
  if (cty_io_read(&w->data, &w->len, w->input, w->err, sizeof(w->err)) != 0) {
    return cli_command_fail(ctx, "failed to read input: %s", w->err);
  }
  return 0;
}

static int wire_write(struct wire_io *w, const cli_ctx *ctx, const void *p,
                      size_t len) {
  if (cty_io_write(w->output, p, len, w->err, sizeof(w->err)) != 0) {
    return cli_command_fail(ctx, "failed to write output: %s", w->err);
  }
  return 0;
}

/* ---- encode ----------------------------------------------------------- */

/* The typed path: build the value, then Marshal. *out is malloc'd. */
static int encode_typed(struct wire_io *w, const cli_ctx *ctx, uint8_t **out,
                        size_t *out_len) {
  soupc_cty_type *ty = NULL;
  soupc_cty_value *v = NULL;
  soupc_status st;
  int rv = 0;

  soupc_status_clear(&st);
  if (cty_io_parse_type(&ty, w->type, &st) != 0) {
    return cli_command_fail(ctx, "failed to parse type: %s", st.message);
  }
  if (soupc_cty_value_from_json(&v, ty, w->data, w->len, 0, &st) != 0) {
    rv = cli_command_fail(ctx, "failed to build value: %s", st.message);
  } else if (strcmp(w->out_fmt, "msgpack") == 0) {
    if (soupc_cty_msgpack_encode(out, out_len, v, ty, &st) != 0) {
      rv = cli_command_fail(ctx, "failed to encode: %s", st.message);
    }
  } else if (strcmp(w->out_fmt, "json") == 0) {
    if (soupc_cty_json_encode((char **)out, out_len, v, ty, &st) != 0) {
      rv = cli_command_fail(ctx, "failed to encode: %s", st.message);
    }
  } else {
    rv = cli_command_fail(ctx, "unsupported output format: %s", w->out_fmt);
  }
  soupc_cty_value_free(v);
  soupc_cty_type_free(ty);
  return rv;
}

static int run_encode(const cli_ctx *ctx, int argc, char **argv) {
  struct wire_io w;
  uint8_t *out = NULL;
  size_t out_len = 0;
  int rv;

  rv = wire_begin(&w, ctx, argc, argv);
  if (rv != 0) {
    return rv;
  }
  if (w.type[0] != '\0') {
    rv = encode_typed(&w, ctx, &out, &out_len);
  } else {
    soupc_status st;
    soupc_status_clear(&st);
    if (soupc_cty_json_untyped_msgpack(&out, &out_len, w.data, w.len, &st) !=
        0) {
      rv = cli_command_fail(ctx, "failed to parse JSON: %s", st.message);
    }
  }
  if (rv == 0) {
    /* msgpack to stdout is base64 (no newline) so that it is text */
    if (strcmp(w.output, "-") == 0 && strcmp(w.out_fmt, "msgpack") == 0) {
      char *b64 = NULL;
      size_t b64_len = 0;
      if (soupc_cty_base64_encode(&b64, &b64_len, out, out_len) != 0) {
        rv = cli_command_fail(ctx, "out of memory");
      } else {
        rv = wire_write(&w, ctx, b64, b64_len);
      }
      soupc_cty_free_bytes(b64);
    } else {
      rv = wire_write(&w, ctx, out, out_len);
    }
  }
  soupc_cty_free_bytes(out);
  free(w.data);
  return rv;
}

static const cli_flag encode_flags[] = {
    {"input-format", 0, CLI_FLAG_STRING, "json", "Input format (json)", 0},
    {"output-format", 0, CLI_FLAG_STRING, "msgpack",
     "Output format (msgpack, json)", 0},
    {"type", 0, CLI_FLAG_STRING, "", "Type specification as JSON (optional)",
     0}};

static const cli_command wire_cmd_encode = {"encode [input] [output]",
                                            "Encode data to wire format",
                                            NULL,
                                            CLI_ARGS_RANGE,
                                            1,
                                            2,
                                            encode_flags,
                                            3,
                                            run_encode,
                                            NULL,
                                            NULL,
                                            0};

/* ---- decode: the untyped path ----------------------------------------- */

/* Go's encoding/json float: strconv's shortest digits, 'e' form outside
 * [1e-6, 1e21), "e-07" cleaned to "e-7". @p bits is 32 or 64. */
static void put_go_float(cli_jbuf *b, double f, int bits) {
  char t[64], digits[32];
  int p, exp = 0;
  size_t nd = 0, i;
  double a = fabs(f);
  const char *s;

  for (p = 1; p <= 17; p++) {
    snprintf(t, sizeof(t), "%.*e", p - 1, f);
    if (bits == 32 ? (float)strtod(t, NULL) == (float)f
                   : strtod(t, NULL) == f) {
      break;
    }
  }
  for (s = t; *s != 'e'; s++) {
    if (*s >= '0' && *s <= '9') {
      digits[nd++] = *s;
    }
  }
  exp = (int)strtol(s + 1, NULL, 10);
  while (nd > 1 && digits[nd - 1] == '0') {
    nd--;
  }
  if (signbit(f)) {
    cli_jbuf_puts(b, "-");
  }
  if (a != 0 && (bits == 64 ? (a < 1e-6 || a >= 1e21)
                            : ((float)a < 1e-6f || (float)a >= 1e21f))) {
    cli_jbuf_put(b, digits, 1);
    if (nd > 1) {
      cli_jbuf_puts(b, ".");
      cli_jbuf_put(b, digits + 1, nd - 1);
    }
    cli_jbuf_printf(b, "e%c%s%d", exp < 0 ? '-' : '+',
                    exp > -10 && exp < 10 && exp >= 0 ? "0" : "", abs(exp));
    return;
  }
  if (a == 0) {
    cli_jbuf_puts(b, "0");
  } else if (exp >= 0) {
    for (i = 0; i <= (size_t)exp; i++) {
      cli_jbuf_put(b, i < nd ? &digits[i] : "0", 1);
    }
    if (nd > (size_t)exp + 1) {
      cli_jbuf_puts(b, ".");
      cli_jbuf_put(b, digits + exp + 1, nd - (size_t)exp - 1);
    }
  } else {
    cli_jbuf_puts(b, "0.");
    for (i = 0; i < (size_t)(-exp - 1); i++) {
      cli_jbuf_puts(b, "0");
    }
    cli_jbuf_put(b, digits, nd);
  }
}

static void indent(cli_jbuf *b, int depth) {
  int i;

  cli_jbuf_puts(b, "\n");
  for (i = 0; i < depth; i++) {
    cli_jbuf_puts(b, "  ");
  }
}

/* The code byte a minimal encoder writes for @p o: what vmihailenco's
 * "invalid code=%x" names (msgpack-c keeps no encoding details). */
static unsigned guess_code(const msgpack_object *o) {
  switch (o->type) {
  case MSGPACK_OBJECT_NIL:
    return 0xc0;
  case MSGPACK_OBJECT_BOOLEAN:
    return o->via.boolean ? 0xc3 : 0xc2;
  case MSGPACK_OBJECT_POSITIVE_INTEGER:
    return o->via.u64 < 0x80          ? (unsigned)o->via.u64
           : o->via.u64 <= 0xff       ? 0xcc
           : o->via.u64 <= 0xffff     ? 0xcd
           : o->via.u64 <= 0xffffffff ? 0xce
                                      : 0xcf;
  case MSGPACK_OBJECT_NEGATIVE_INTEGER:
    return o->via.i64 >= -32         ? (unsigned)(o->via.i64 & 0xff)
           : o->via.i64 >= -128      ? 0xd0
           : o->via.i64 >= -32768    ? 0xd1
           : o->via.i64 >= INT32_MIN ? 0xd2
                                     : 0xd3;
  case MSGPACK_OBJECT_FLOAT32:
    return 0xca;
  case MSGPACK_OBJECT_FLOAT64:
    return 0xcb;
  case MSGPACK_OBJECT_ARRAY:
    return o->via.array.size < 16        ? 0x90 | o->via.array.size
           : o->via.array.size <= 0xffff ? 0xdc
                                         : 0xdd;
  case MSGPACK_OBJECT_MAP:
    return o->via.map.size < 16        ? 0x80 | o->via.map.size
           : o->via.map.size <= 0xffff ? 0xde
                                       : 0xdf;
  case MSGPACK_OBJECT_EXT: {
    uint32_t n = o->via.ext.size;
    return n == 1        ? 0xd4
           : n == 2      ? 0xd5
           : n == 4      ? 0xd6
           : n == 8      ? 0xd7
           : n == 16     ? 0xd8
           : n <= 0xff   ? 0xc7
           : n <= 0xffff ? 0xc8
                         : 0xc9;
  }
  default:
    return 0;
  }
}

/* vmihailenco's DecodeInterface, in stream order: map keys must be
 * strings (or bytes), and no extension is known. @return 0 or -1 */
static int check_decodable(const msgpack_object *o, char *err,
                           size_t err_size) {
  uint32_t i;

  if (o->type == MSGPACK_OBJECT_EXT) {
    snprintf(err, err_size,
             "failed to decode msgpack: msgpack: unknown ext id=%d",
             (int)o->via.ext.type);
    return -1;
  }
  if (o->type == MSGPACK_OBJECT_ARRAY) {
    for (i = 0; i < o->via.array.size; i++) {
      if (check_decodable(&o->via.array.ptr[i], err, err_size) != 0) {
        return -1;
      }
    }
  }
  if (o->type == MSGPACK_OBJECT_MAP) {
    for (i = 0; i < o->via.map.size; i++) {
      const msgpack_object *k = &o->via.map.ptr[i].key;
      if (k->type != MSGPACK_OBJECT_STR && k->type != MSGPACK_OBJECT_BIN) {
        snprintf(err, err_size,
                 "failed to decode msgpack: msgpack: invalid code=%x "
                 "decoding string/bytes length",
                 guess_code(k));
        return -1;
      }
      if (check_decodable(&o->via.map.ptr[i].val, err, err_size) != 0) {
        return -1;
      }
    }
  }
  return 0;
}

/* Reads @p n bytes at *off as Go's io.ReadFull does: "EOF" when none is
 * left, "unexpected EOF" when only some are. @return NULL or the error */
static const char *take(size_t *off, size_t len, uint64_t n) {
  if (n == 0) {
    return NULL;
  }
  if (*off >= len) {
    return "EOF";
  }
  if (n > len - *off) {
    return "unexpected EOF";
  }
  *off += (size_t)n;
  return NULL;
}

/* Why vmihailenco's decoder stops on an input msgpack-c found truncated:
 * an unknown extension as soon as its type byte is read, else where the
 * input ran out (see take()). Writes the reason to @p msg. */
static void truncation(char *msg, size_t size, const uint8_t *p, size_t len) {
  static const uint8_t size_bytes[] = {1, 2, 4};
  uint64_t pending = 1;
  size_t off = 0;
  const char *why = NULL;

  while (pending > 0 && why == NULL) {
    uint8_t c;
    size_t lenb = 0, i;
    uint64_t body = 0, kids = 0, n = 0;
    why = take(&off, len, 1);
    if (why != NULL) {
      break;
    }
    c = p[off - 1];
    if (c >= 0x80 && c <= 0x9f) {
      kids = (uint64_t)(c & 0x0f) * (c <= 0x8f ? 2 : 1);
    } else if (c >= 0xa0 && c <= 0xbf) {
      body = c & 0x1f;
    } else if (c >= 0xc4 && c <= 0xc9) {
      lenb = size_bytes[(c - 0xc4) % 3];
    } else if (c >= 0xca && c <= 0xd3) {
      static const uint8_t fixed[] = {4, 8, 1, 2, 4, 8, 1, 2, 4, 8};
      body = fixed[c - 0xca];
    } else if (c >= 0xd4 && c <= 0xd8) {
      body = (uint64_t)1 << (c - 0xd4);
    } else if (c >= 0xd9 && c <= 0xdb) {
      lenb = size_bytes[c - 0xd9];
    } else if (c >= 0xdc && c <= 0xdf) {
      lenb = (c & 1) ? 4 : 2;
    }
    why = take(&off, len, lenb);
    for (i = 0; why == NULL && i < lenb; i++) {
      n = n << 8 | p[off - lenb + i];
    }
    if (why == NULL && ((c >= 0xc7 && c <= 0xc9) || (c >= 0xd4 && c <= 0xd8))) {
      why = take(&off, len, 1);
      if (why == NULL) {
        snprintf(msg, size, "msgpack: unknown ext id=%d",
                 (int)(int8_t)p[off - 1]);
        return;
      }
    }
    if (c >= 0xdc && c <= 0xdf) {
      kids = c >= 0xde ? 2 * n : n;
    } else if (lenb > 0) {
      body = n;
    }
    if (why == NULL) {
      why = take(&off, len, body);
    }
    pending += kids;
    pending--;
  }
  snprintf(msg, size, "%s", why != NULL ? why : "unexpected EOF");
}

/* Keys are STR or BIN, whose union members share one layout. */
static int cmp_kv(const void *a, const void *b) {
  const msgpack_object_str *x = &((const msgpack_object_kv *)a)->key.via.str;
  const msgpack_object_str *y = &((const msgpack_object_kv *)b)->key.via.str;
  size_t n = x->size < y->size ? x->size : y->size;
  int c = n > 0 ? memcmp(x->ptr, y->ptr, n) : 0;

  return c != 0 ? c : (x->size > y->size) - (x->size < y->size);
}

/* json.MarshalIndent(v, "", "  ") of what vmihailenco/msgpack decodes
 * into an interface{}. @return 0 or -1 with @p err set. */
static int go_json(cli_jbuf *b, msgpack_object *o, int depth, char *err,
                   size_t err_size) {
  uint32_t i;

  switch (o->type) {
  case MSGPACK_OBJECT_NIL:
    cli_jbuf_puts(b, "null");
    return 0;
  case MSGPACK_OBJECT_BOOLEAN:
    cli_jbuf_puts(b, o->via.boolean ? "true" : "false");
    return 0;
  case MSGPACK_OBJECT_POSITIVE_INTEGER:
    cli_jbuf_printf(b, "%llu", (unsigned long long)o->via.u64);
    return 0;
  case MSGPACK_OBJECT_NEGATIVE_INTEGER:
    cli_jbuf_printf(b, "%lld", (long long)o->via.i64);
    return 0;
  case MSGPACK_OBJECT_FLOAT32:
  case MSGPACK_OBJECT_FLOAT64:
    if (isnan(o->via.f64) || isinf(o->via.f64)) {
      snprintf(err, err_size,
               "failed to encode JSON: json: unsupported value: %s",
               isnan(o->via.f64) ? "NaN"
               : o->via.f64 > 0  ? "+Inf"
                                 : "-Inf");
      return -1;
    }
    put_go_float(b, o->via.f64, o->type == MSGPACK_OBJECT_FLOAT32 ? 32 : 64);
    return 0;
  case MSGPACK_OBJECT_STR:
    cli_jbuf_str(b, o->via.str.ptr, o->via.str.size);
    return 0;
  case MSGPACK_OBJECT_BIN: {
    char *b64 = NULL;
    if (soupc_cty_base64_encode(&b64, NULL, o->via.bin.ptr, o->via.bin.size) !=
        0) {
      b->oom = 1;
      return 0;
    }
    cli_jbuf_str(b, b64, strlen(b64));
    soupc_cty_free_bytes(b64);
    return 0;
  }
  case MSGPACK_OBJECT_ARRAY:
    if (o->via.array.size == 0) {
      cli_jbuf_puts(b, "[]");
      return 0;
    }
    cli_jbuf_puts(b, "[");
    for (i = 0; i < o->via.array.size; i++) {
      cli_jbuf_puts(b, i > 0 ? "," : "");
      indent(b, depth + 1);
      if (go_json(b, &o->via.array.ptr[i], depth + 1, err, err_size) != 0) {
        return -1;
      }
    }
    indent(b, depth);
    cli_jbuf_puts(b, "]");
    return 0;
  case MSGPACK_OBJECT_MAP: {
    msgpack_object_kv *kv = o->via.map.ptr;
    uint32_t n = o->via.map.size, k = 0, j;
    /* a Go map: the last of a repeated key wins; json sorts the keys */
    for (i = 0; i < n; i++) {
      for (j = 0; j < k; j++) {
        if (kv[j].key.via.str.size == kv[i].key.via.str.size &&
            memcmp(kv[j].key.via.str.ptr, kv[i].key.via.str.ptr,
                   kv[i].key.via.str.size) == 0) {
          break;
        }
      }
      kv[j] = kv[i];
      k += j == k;
    }
    qsort(kv, k, sizeof(*kv), cmp_kv);
    if (k == 0) {
      cli_jbuf_puts(b, "{}");
      return 0;
    }
    cli_jbuf_puts(b, "{");
    for (i = 0; i < k; i++) {
      cli_jbuf_puts(b, i > 0 ? "," : "");
      indent(b, depth + 1);
      cli_jbuf_str(b, kv[i].key.via.str.ptr, kv[i].key.via.str.size);
      cli_jbuf_puts(b, ": ");
      if (go_json(b, &kv[i].val, depth + 1, err, err_size) != 0) {
        return -1;
      }
    }
    indent(b, depth);
    cli_jbuf_puts(b, "}");
    return 0;
  }
  case MSGPACK_OBJECT_EXT:
    break; /* refused by check_decodable() */
  }
  snprintf(err, err_size, "failed to decode msgpack: invalid msgpack");
  return -1;
}

static int decode_untyped(struct wire_io *w, const cli_ctx *ctx,
                          const uint8_t *p, size_t len) {
  msgpack_unpacked up;
  size_t off = 0;
  cli_jbuf b;
  int rv;

  msgpack_unpacked_init(&up);
  rv = msgpack_unpack_next(&up, (const char *)p, len, &off);
  if (rv != MSGPACK_UNPACK_SUCCESS && rv != MSGPACK_UNPACK_EXTRA_BYTES) {
    msgpack_unpacked_destroy(&up);
    if (rv == MSGPACK_UNPACK_NOMEM_ERROR) {
      return cli_command_fail(ctx, "out of memory");
    }
    /* msgpack-c's one parse error is the never-used code 0xc1 */
    snprintf(w->err, sizeof(w->err), "%s",
             "msgpack: unknown code c1 decoding interface{}");
    if (rv == MSGPACK_UNPACK_CONTINUE) {
      truncation(w->err, sizeof(w->err), p, len);
    }
    return cli_command_fail(ctx, "failed to decode msgpack: %s", w->err);
  }
  cli_jbuf_init(&b);
  if (check_decodable(&up.data, w->err, sizeof(w->err)) != 0 ||
      go_json(&b, &up.data, 0, w->err, sizeof(w->err)) != 0) {
    rv = cli_command_fail(ctx, "%s", w->err);
  } else if (cli_jbuf_text(&b) == NULL) {
    rv = cli_command_fail(ctx, "out of memory");
  } else {
    rv = wire_write(w, ctx, b.p, b.len);
  }
  cli_jbuf_dispose(&b);
  msgpack_unpacked_destroy(&up);
  return rv;
}

/* ---- decode ----------------------------------------------------------- */

static int decode_typed(struct wire_io *w, const cli_ctx *ctx, const uint8_t *p,
                        size_t len) {
  soupc_cty_type *ty = NULL;
  soupc_cty_value *v = NULL;
  soupc_status st;
  uint8_t *out = NULL;
  size_t out_len = 0;
  int rv = 0;

  soupc_status_clear(&st);
  if (cty_io_parse_type(&ty, w->type, &st) != 0) {
    return cli_command_fail(ctx, "failed to parse type: %s", st.message);
  }
  if (strcmp(w->in_fmt, "msgpack") == 0) {
    rv = soupc_cty_msgpack_decode(&v, ty, p, len, &st);
  } else if (strcmp(w->in_fmt, "json") == 0) {
    rv = soupc_cty_json_decode(&v, ty, (const char *)p, len, &st);
  } else {
    soupc_cty_type_free(ty);
    return cli_command_fail(ctx, "unsupported input format: %s", w->in_fmt);
  }
  if (rv != 0) {
    rv = cli_command_fail(ctx, "failed to decode: %s", st.message);
  } else if (strcmp(w->out_fmt, "json") == 0 ||
             strcmp(w->out_fmt, "msgpack") == 0) {
    rv = strcmp(w->out_fmt, "json") == 0
             ? soupc_cty_json_encode((char **)&out, &out_len, v, ty, &st)
             : soupc_cty_msgpack_encode(&out, &out_len, v, ty, &st);
    /* raw bytes even to stdout: decode never base64-wraps (§1.4) */
    rv = rv != 0
             ? cli_command_fail(ctx, "failed to encode output: %s", st.message)
             : wire_write(w, ctx, out, out_len);
  } else {
    rv = cli_command_fail(ctx, "unsupported output format: %s", w->out_fmt);
  }
  soupc_cty_free_bytes(out);
  soupc_cty_value_free(v);
  soupc_cty_type_free(ty);
  return rv;
}

static int run_decode(const cli_ctx *ctx, int argc, char **argv) {
  struct wire_io w;
  uint8_t *raw = NULL;
  const uint8_t *p;
  size_t len;
  int rv;

  rv = wire_begin(&w, ctx, argc, argv);
  if (rv != 0) {
    return rv;
  }
  p = (const uint8_t *)w.data;
  len = w.len;
  /* msgpack on stdin is taken as base64 when it decodes as base64 */
  if (strcmp(w.in_fmt, "msgpack") == 0 && strcmp(w.input, "-") == 0 &&
      soupc_cty_base64_decode(&raw, &len, w.data, w.len, NULL) == 0) {
    p = raw;
  } else {
    len = w.len;
  }
  rv = w.type[0] != '\0' ? decode_typed(&w, ctx, p, len)
                         : decode_untyped(&w, ctx, p, len);
  soupc_cty_free_bytes(raw);
  free(w.data);
  return rv;
}

static const cli_flag decode_flags[] = {
    {"input-format", 0, CLI_FLAG_STRING, "msgpack", "Input format (msgpack)",
     0},
    {"output-format", 0, CLI_FLAG_STRING, "json", "Output format (json)", 0},
    {"type", 0, CLI_FLAG_STRING, "", "Type specification as JSON (optional)",
     0}};

static const cli_command wire_cmd_decode = {"decode [input] [output]",
                                            "Decode data from wire format",
                                            NULL,
                                            CLI_ARGS_RANGE,
                                            1,
                                            2,
                                            decode_flags,
                                            3,
                                            run_decode,
                                            NULL,
                                            NULL,
                                            0};

static const cli_command *const wire_subs[] = {&wire_cmd_decode,
                                               &wire_cmd_encode};

static const cli_command wire_cmd = {
    "wire",
    "Wire protocol operations",
    "Encode and decode data using the wire protocol format.",
    CLI_ARGS_ANY,
    0,
    0,
    NULL,
    0,
    NULL,
    NULL,
    wire_subs,
    sizeof(wire_subs) / sizeof(wire_subs[0])};

int cmd_wire(int argc, char **argv) {
  return cli_command_execute(&wire_cmd, "soup-c", argc, argv);
}
