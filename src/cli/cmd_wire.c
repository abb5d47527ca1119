/* soup-c wire encode|decode: TofuSoup's soup-go `wire` commands
 * (wire-cty-spec.md §1.4), on the cty library. */
#include "cli/cli_util.h"
#include "cli/cmd_cty_io.h"
#include "cli/commands.h"
#include "soupc/cty.h"

#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int cty_io_b64_encode(char **out, size_t *len_out, const uint8_t *p,
                      size_t len) {
  size_t i, o = 0;
  char *s = malloc(len / 3 * 4 + 8);

  if (s == NULL) {
    return -1;
  }
  for (i = 0; i + 2 < len; i += 3) {
    uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
    s[o++] = b64chars[v >> 18];
    s[o++] = b64chars[(v >> 12) & 63];
    s[o++] = b64chars[(v >> 6) & 63];
    s[o++] = b64chars[v & 63];
  }
  if (len - i == 1) {
    uint32_t v = (uint32_t)p[i] << 16;
    s[o++] = b64chars[v >> 18];
    s[o++] = b64chars[(v >> 12) & 63];
    s[o++] = '=';
    s[o++] = '=';
  } else if (len - i == 2) {
    uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
    s[o++] = b64chars[v >> 18];
    s[o++] = b64chars[(v >> 12) & 63];
    s[o++] = b64chars[(v >> 6) & 63];
    s[o++] = '=';
  }
  s[o] = '\0';
  *out = s;
  *len_out = o;
  return 0;
}

static int b64_val(char c) {
  const char *p = c != '\0' ? strchr(b64chars, c) : NULL;

  return p == NULL ? -1 : (int)(p - b64chars);
}

int cty_io_b64_decode(uint8_t **out, size_t *len_out, const char *s,
                      size_t len) {
  uint8_t *d = malloc(len / 4 * 3 + 4);
  size_t i, n = 0, o = 0, pad = 0;
  uint32_t acc = 0;

  if (d == NULL) {
    return -1;
  }
  for (i = 0; i < len; i++) {
    int v;
    if (s[i] == '\r' || s[i] == '\n') {
      continue;
    }
    if (s[i] == '=') {
      pad++;
      n++;
      acc <<= 6;
      continue;
    }
    v = b64_val(s[i]);
    if (v < 0 || pad > 0) {
      goto bad;
    }
    acc = acc << 6 | (uint32_t)v;
    n++;
    if (n % 4 == 0) {
      d[o++] = (uint8_t)(acc >> 16);
      d[o++] = (uint8_t)(acc >> 8);
      d[o++] = (uint8_t)acc;
      acc = 0;
    }
  }
  if (pad > 0) {
    if (n % 4 != 0 || pad > 2) {
      goto bad;
    }
    d[o++] = (uint8_t)(acc >> 16);
    d[o++] = (uint8_t)(acc >> 8);
    d[o++] = (uint8_t)acc;
    o -= pad;
  } else if (n % 4 != 0) {
    goto bad;
  }
  *out = d;
  *len_out = o;
  return 0;
bad:
  free(d);
  return -1;
}

int cty_io_write(const char *path, const void *p, size_t len) {
  FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "wb");
  int rv = 0;

  if (f == NULL) {
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
  return rv;
}

enum {
  OPT_TYPE = 256,
  OPT_IN,
  OPT_OUT,
  OPT_LOG
};

static const struct option wire_opts[] = {
    {"type", required_argument, NULL, OPT_TYPE},
    {"input-format", required_argument, NULL, OPT_IN},
    {"output-format", required_argument, NULL, OPT_OUT},
    {"log-level", required_argument, NULL, OPT_LOG},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

struct wire_args {
  const char *type;
  const char *in_fmt;
  const char *out_fmt;
  const char *input;
  const char *output;
};

/* @return -1 to continue, else an exit code. */
static int parse_wire_args(struct wire_args *a, int argc, char **argv,
                           const char *usage) {
  int c;

  optind = 1;
  while ((c = cli_getopt(argc, argv, "hv", wire_opts, argv[0])) != -1) {
    switch (c) {
    case OPT_TYPE:
      a->type = optarg;
      break;
    case OPT_IN:
      a->in_fmt = optarg;
      break;
    case OPT_OUT:
      a->out_fmt = optarg;
      break;
    case OPT_LOG:
      if (cli_set_log_level(optarg, 0) != 0) {
        return cli_fail("unknown log level %s", optarg);
      }
      break;
    case 'v':
      break;
    case 'h':
      printf("%s", usage);
      return CLI_OK;
    default:
      return CLI_FAIL; /* soup-go (cobra) exits 1 on flag errors */
    }
  }
  if (argc - optind < 1 || argc - optind > 2) {
    fprintf(stderr, "Error: accepts between 1 and 2 arg(s), received %d\n",
            argc - optind);
    return CLI_FAIL;
  }
  a->input = argv[optind];
  a->output = argc - optind == 2 ? argv[optind + 1] : "-";
  return -1;
}

static int parse_type(soupc_cty_type **out, const char *text) {
  soupc_status st;

  soupc_status_clear(&st);
  if (soupc_cty_type_parse(out, text, strlen(text), &st) != 0) {
    return cli_fail("failed to parse type: %s", st.message);
  }
  return 0;
}

/* Generic (untyped) JSON -> msgpack, as soup-go does without --type: every
 * number becomes a float64. Map order follows the input (Go's is random). */
static void generic_pack(msgpack_packer *pk, yajl_val v) {
  size_t i;

  if (YAJL_IS_NULL(v)) {
    msgpack_pack_nil(pk);
  } else if (YAJL_IS_TRUE(v)) {
    msgpack_pack_true(pk);
  } else if (YAJL_IS_FALSE(v)) {
    msgpack_pack_false(pk);
  } else if (YAJL_IS_NUMBER(v)) {
    msgpack_pack_double(pk, strtod(v->u.number.r, NULL));
  } else if (YAJL_IS_STRING(v)) {
    size_t n = strlen(v->u.string);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, v->u.string, n);
  } else if (YAJL_IS_ARRAY(v)) {
    msgpack_pack_array(pk, v->u.array.len);
    for (i = 0; i < v->u.array.len; i++) {
      generic_pack(pk, v->u.array.values[i]);
    }
  } else if (YAJL_IS_OBJECT(v)) {
    msgpack_pack_map(pk, v->u.object.len);
    for (i = 0; i < v->u.object.len; i++) {
      size_t n = strlen(v->u.object.keys[i]);
      msgpack_pack_str(pk, n);
      msgpack_pack_str_body(pk, v->u.object.keys[i], n);
      generic_pack(pk, v->u.object.values[i]);
    }
  }
}

static int emit_msgpack(const char *output, const uint8_t *p, size_t len) {
  if (strcmp(output, "-") == 0) {
    char *b64 = NULL;
    size_t blen = 0;
    int rv;
    /* §1.4: msgpack to stdout is base64 (padded, no newline). */
    if (cty_io_b64_encode(&b64, &blen, p, len) != 0) {
      return cli_fail("out of memory");
    }
    rv = cty_io_write("-", b64, blen);
    free(b64);
    return rv == 0 ? CLI_OK : cli_fail("failed to write output");
  }
  return cty_io_write(output, p, len) == 0
             ? CLI_OK
             : cli_fail("failed to write output: %s", output);
}

static const char encode_usage[] =
    "Usage: soup-c wire encode [input] [output] [flags]\n\n"
    "Encode a JSON value to the wire format (cty msgpack).\n\n"
    "  --type T             go-cty JSON type (e.g. '\"string\"')\n"
    "  --output-format F    msgpack|json (default msgpack)\n"
    "  --input-format F     accepted and ignored; input is JSON\n\n"
    "msgpack written to stdout is base64-encoded.\n";

int cmd_wire_encode(int argc, char **argv) {
  struct wire_args a = {NULL, "json", "msgpack", NULL, NULL};
  soupc_cty_type *ty = NULL;
  soupc_cty_value *v = NULL;
  soupc_status st;
  char *in = NULL;
  size_t in_len = 0;
  int rv;

  rv = parse_wire_args(&a, argc, argv, encode_usage);
  if (rv >= 0) {
    return rv;
  }
  soupc_status_clear(&st);
  if (strcmp(a.out_fmt, "msgpack") != 0 && strcmp(a.out_fmt, "json") != 0) {
    return cli_fail("unsupported output format: %s", a.out_fmt);
  }
  if (cli_read_file(&in, &in_len, a.input) != 0) {
    return cli_fail("failed to read input: %s", a.input);
  }
  if (a.type == NULL) {
    char err[256];
    yajl_val root;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    if (strcmp(a.out_fmt, "json") == 0) {
      rv = cty_io_write(a.output, in, in_len) == 0
               ? CLI_OK
               : cli_fail("failed to write output");
      goto out;
    }
    root = yajl_tree_parse(in, err, sizeof(err));
    if (root == NULL) {
      rv = cli_fail("failed to parse JSON: %s", err);
      goto out;
    }
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    generic_pack(&pk, root);
    yajl_tree_free(root);
    rv = emit_msgpack(a.output, (const uint8_t *)sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    goto out;
  }
  rv = parse_type(&ty, a.type);
  if (rv != 0) {
    goto out;
  }
  if (soupc_cty_value_from_json(&v, ty, in, in_len, 0, &st) != 0) {
    rv = cli_fail("failed to build value: %s", st.message);
    goto out;
  }
  if (strcmp(a.out_fmt, "msgpack") == 0) {
    uint8_t *mp = NULL;
    size_t mp_len = 0;
    if (soupc_cty_msgpack_encode(&mp, &mp_len, v, ty, &st) != 0) {
      rv = cli_fail("failed to encode: %s", st.message);
      goto out;
    }
    rv = emit_msgpack(a.output, mp, mp_len);
    soupc_cty_free_bytes(mp);
  } else {
    char *js = NULL;
    size_t js_len = 0;
    if (soupc_cty_json_encode(&js, &js_len, v, ty, &st) != 0) {
      rv = cli_fail("failed to encode: %s", st.message);
      goto out;
    }
    rv = cty_io_write(a.output, js, js_len) == 0
             ? CLI_OK
             : cli_fail("failed to write output");
    soupc_cty_free_bytes(js);
  }
out:
  soupc_cty_value_free(v);
  soupc_cty_type_free(ty);
  free(in);
  return rv;
}

/* Generic msgpack -> indented JSON, as soup-go does without --type. */
static int generic_json(yajl_gen g, const msgpack_object *o) {
  uint32_t i;
  char num[64];

  switch (o->type) {
  case MSGPACK_OBJECT_NIL:
    return yajl_gen_null(g) == yajl_gen_status_ok ? 0 : -1;
  case MSGPACK_OBJECT_BOOLEAN:
    return yajl_gen_bool(g, o->via.boolean) == yajl_gen_status_ok ? 0 : -1;
  case MSGPACK_OBJECT_POSITIVE_INTEGER:
    snprintf(num, sizeof(num), "%llu", (unsigned long long)o->via.u64);
    return yajl_gen_number(g, num, strlen(num)) == yajl_gen_status_ok ? 0 : -1;
  case MSGPACK_OBJECT_NEGATIVE_INTEGER:
    snprintf(num, sizeof(num), "%lld", (long long)o->via.i64);
    return yajl_gen_number(g, num, strlen(num)) == yajl_gen_status_ok ? 0 : -1;
  case MSGPACK_OBJECT_FLOAT32:
  case MSGPACK_OBJECT_FLOAT64: {
    int prec;
    if (o->via.f64 != o->via.f64 || o->via.f64 - o->via.f64 != 0) {
      return -2; /* Go's encoding/json refuses NaN and Inf */
    }
    for (prec = 1; prec <= 17; prec++) {
      snprintf(num, sizeof(num), "%.*g", prec, o->via.f64);
      if (strtod(num, NULL) == o->via.f64) {
        break;
      }
    }
    return yajl_gen_number(g, num, strlen(num)) == yajl_gen_status_ok ? 0 : -1;
  }
  case MSGPACK_OBJECT_STR:
    return yajl_gen_string(g, (const unsigned char *)o->via.str.ptr,
                           o->via.str.size) == yajl_gen_status_ok
               ? 0
               : -1;
  case MSGPACK_OBJECT_BIN: {
    char *b64 = NULL;
    size_t blen = 0;
    int rv;
    if (cty_io_b64_encode(&b64, &blen, (const uint8_t *)o->via.bin.ptr,
                          o->via.bin.size) != 0) {
      return -1;
    }
    rv = yajl_gen_string(g, (const unsigned char *)b64, blen) ==
                 yajl_gen_status_ok
             ? 0
             : -1;
    free(b64);
    return rv;
  }
  case MSGPACK_OBJECT_ARRAY:
    yajl_gen_array_open(g);
    for (i = 0; i < o->via.array.size; i++) {
      int rv = generic_json(g, &o->via.array.ptr[i]);
      if (rv != 0) {
        return rv;
      }
    }
    return yajl_gen_array_close(g) == yajl_gen_status_ok ? 0 : -1;
  case MSGPACK_OBJECT_MAP:
    yajl_gen_map_open(g);
    for (i = 0; i < o->via.map.size; i++) {
      const msgpack_object *k = &o->via.map.ptr[i].key;
      int rv;
      if (k->type != MSGPACK_OBJECT_STR) {
        return -3;
      }
      yajl_gen_string(g, (const unsigned char *)k->via.str.ptr,
                      k->via.str.size);
      rv = generic_json(g, &o->via.map.ptr[i].val);
      if (rv != 0) {
        return rv;
      }
    }
    return yajl_gen_map_close(g) == yajl_gen_status_ok ? 0 : -1;
  case MSGPACK_OBJECT_EXT:
    return -4;
  }
  return -1;
}

static int generic_decode(const char *output, const uint8_t *p, size_t len) {
  msgpack_unpacked up;
  size_t off = 0;
  yajl_gen g;
  const unsigned char *buf;
  size_t blen;
  int rv;

  msgpack_unpacked_init(&up);
  if (msgpack_unpack_next(&up, (const char *)p, len, &off) < 0) {
    msgpack_unpacked_destroy(&up);
    return cli_fail("failed to decode msgpack: invalid msgpack");
  }
  g = yajl_gen_alloc(NULL);
  yajl_gen_config(g, yajl_gen_beautify, 1);
  yajl_gen_config(g, yajl_gen_indent_string, "  ");
  rv = generic_json(g, &up.data);
  if (rv == -4) {
    rv = cli_fail("failed to decode msgpack: msgpack: unknown ext id=%d",
                  (int)up.data.via.ext.type);
  } else if (rv != 0) {
    rv = cli_fail("failed to encode JSON: unsupported value");
  } else {
    yajl_gen_get_buf(g, &buf, &blen);
    while (blen > 0 && buf[blen - 1] == '\n') {
      blen--; /* json.MarshalIndent has no trailing newline */
    }
    rv = cty_io_write(output, buf, blen) == 0
             ? CLI_OK
             : cli_fail("failed to write output");
  }
  yajl_gen_free(g);
  msgpack_unpacked_destroy(&up);
  return rv;
}

static const char decode_usage[] =
    "Usage: soup-c wire decode [input] [output] [flags]\n\n"
    "Decode a wire-format value (cty msgpack) to JSON.\n\n"
    "  --type T             go-cty JSON type (e.g. '\"string\"')\n"
    "  --input-format F     msgpack|json (default msgpack)\n"
    "  --output-format F    json|msgpack (default json)\n\n"
    "msgpack on stdin may be base64-encoded.\n";

int cmd_wire_decode(int argc, char **argv) {
  struct wire_args a = {NULL, "msgpack", "json", NULL, NULL};
  soupc_cty_type *ty = NULL;
  soupc_cty_value *v = NULL;
  soupc_status st;
  char *in = NULL;
  size_t in_len = 0;
  uint8_t *raw = NULL;
  const uint8_t *data;
  size_t data_len;
  int rv;

  rv = parse_wire_args(&a, argc, argv, decode_usage);
  if (rv >= 0) {
    return rv;
  }
  soupc_status_clear(&st);
  if (strcmp(a.in_fmt, "msgpack") != 0 && strcmp(a.in_fmt, "json") != 0) {
    return cli_fail("unsupported input format: %s", a.in_fmt);
  }
  if (strcmp(a.out_fmt, "msgpack") != 0 && strcmp(a.out_fmt, "json") != 0) {
    return cli_fail("unsupported output format: %s", a.out_fmt);
  }
  if (cli_read_file(&in, &in_len, a.input) != 0) {
    return cli_fail("failed to read input: %s", a.input);
  }
  data = (const uint8_t *)in;
  data_len = in_len;
  /* §1.4: stdin msgpack is base64 if it decodes as base64. */
  if (strcmp(a.in_fmt, "msgpack") == 0 && strcmp(a.input, "-") == 0 &&
      cty_io_b64_decode(&raw, &data_len, in, in_len) == 0) {
    data = raw;
  } else {
    data_len = in_len;
  }
  if (a.type == NULL) {
    rv = strcmp(a.in_fmt, "msgpack") == 0
             ? generic_decode(a.output, data, data_len)
             : (cty_io_write(a.output, data, data_len) == 0
                    ? CLI_OK
                    : cli_fail("failed to write output"));
    goto out;
  }
  rv = parse_type(&ty, a.type);
  if (rv != 0) {
    goto out;
  }
  if (strcmp(a.in_fmt, "msgpack") == 0) {
    rv = soupc_cty_msgpack_decode(&v, ty, data, data_len, &st);
  } else {
    rv = soupc_cty_json_decode(&v, ty, (const char *)data, data_len, &st);
  }
  if (rv != 0) {
    rv = cli_fail("failed to decode: %s", st.message);
    goto out;
  }
  if (strcmp(a.out_fmt, "json") == 0) {
    char *js = NULL;
    size_t js_len = 0;
    if (soupc_cty_json_encode(&js, &js_len, v, ty, &st) != 0) {
      rv = cli_fail("failed to encode output: %s", st.message);
      goto out;
    }
    rv = cty_io_write(a.output, js, js_len) == 0
             ? CLI_OK
             : cli_fail("failed to write output");
    soupc_cty_free_bytes(js);
  } else {
    uint8_t *mp = NULL;
    size_t mp_len = 0;
    if (soupc_cty_msgpack_encode(&mp, &mp_len, v, ty, &st) != 0) {
      rv = cli_fail("failed to encode output: %s", st.message);
      goto out;
    }
    /* Raw bytes even to stdout: decode never base64-wraps (§1.4). */
    rv = cty_io_write(a.output, mp, mp_len) == 0
             ? CLI_OK
             : cli_fail("failed to write output");
    soupc_cty_free_bytes(mp);
  }
out:
  soupc_cty_value_free(v);
  soupc_cty_type_free(ty);
  free(raw);
  free(in);
  return rv;
}
