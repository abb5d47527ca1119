/* TofuSoup soup-go's `cty call` protocol (cty_call.go): the
 * {"type":T,"value":V,"unknown":..,"null":..,"marks":[..]} argument, read
 * as Go's encoding/json reads it into soup-go's callArg struct, and the
 * result line, written as Go's json.Marshal writes soup-go's callResult. */
#include "ctyfunc/fn_int.h"

#include "base/alloc.h"

#include <stdio.h>
#include <string.h>

/* ---- the argument ---- */

static const char *node_kind(const struct json_node *n) {
  switch (n->kind) {
  case JN_NULL:
    return "null";
  case JN_BOOL:
    return "bool";
  case JN_NUMBER:
    return "number";
  case JN_STRING:
    return "string";
  case JN_ARRAY:
    return "array";
  case JN_OBJECT:
    return "object";
  }
  return "value";
}

/* encoding/json's field match: the exact name, or equal under Unicode
 * simple folding (for these ASCII names that is ASCII case plus the
 * Kelvin sign for k and the long s for s). */
static bool field_match(const char *key, size_t len, const char *name) {
  size_t i = 0, j = 0;

  while (i < len && name[j] != '\0') {
    uint8_t c = (uint8_t)key[i];
    char want = name[j];
    if (c >= 'A' && c <= 'Z') {
      c = (uint8_t)(c - 'A' + 'a');
    }
    if (c == (uint8_t)want) {
      i++;
      j++;
      continue;
    }
    if (want == 'k' && len - i >= 3 &&
        memcmp(key + i, "\xe2\x84\xaa", 3) == 0) {
      i += 3; /* U+212A KELVIN SIGN */
      j++;
      continue;
    }
    if (want == 's' && len - i >= 2 && memcmp(key + i, "\xc5\xbf", 2) == 0) {
      i += 2; /* U+017F LATIN SMALL LETTER LONG S */
      j++;
      continue;
    }
    return false;
  }
  return i == len && name[j] == '\0';
}

struct call_arg {
  const struct json_node *type, *value, *marks;
  bool unknown, null;
};

static int arg_fail(soupc_cty_call_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int arg_fail(soupc_cty_call_error *err, const char *fmt, ...) {
  struct fn_ctx c = {NULL, NULL, -1, false};
  char *msg;
  va_list ap;
  int n, rv;

  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  msg = n >= 0 ? soupc__malloc((size_t)n + 1) : NULL;
  if (msg == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  va_start(ap, fmt);
  vsnprintf(msg, (size_t)n + 1, fmt, ap);
  va_end(ap);
  rv = soupc__fn_fail(&c, -1, "%s", msg);
  soupc__free(msg);
  if (err != NULL) {
    err->message = c.err;
    err->arg_index = -1;
  } else {
    soupc__free(c.err);
  }
  return rv;
}

#define NOT_OBJECT "argument is not a {type, value} object: "

/* json.Unmarshal(raw, &callArg{}): fields in input order, last one wins;
 * type errors report the first offending field. */
static int read_fields(struct call_arg *a, const struct json_node *n,
                       soupc_cty_call_error *err) {
  size_t i, j;

  for (i = 0; i < n->n; i++) {
    const char *k = n->keys[i];
    size_t kl = n->key_lens[i];
    const struct json_node *x = n->items[i];
    if (field_match(k, kl, "type")) {
      a->type = x;
    } else if (field_match(k, kl, "value")) {
      a->value = x;
    } else if (field_match(k, kl, "unknown") || field_match(k, kl, "null")) {
      bool *dst = field_match(k, kl, "null") ? &a->null : &a->unknown;
      if (x->kind == JN_BOOL) {
        *dst = x->b;
      } else if (x->kind != JN_NULL) {
        return arg_fail(err,
                        NOT_OBJECT "json: cannot unmarshal %s into Go struct "
                                   "field callArg.%s of type bool",
                        node_kind(x), dst == &a->null ? "null" : "unknown");
      }
    } else if (field_match(k, kl, "marks")) {
      if (x->kind == JN_NULL) {
        a->marks = NULL;
        continue;
      }
      if (x->kind != JN_ARRAY) {
        return arg_fail(err,
                        NOT_OBJECT "json: cannot unmarshal %s into Go struct "
                                   "field callArg.marks of type []string",
                        node_kind(x));
      }
      for (j = 0; j < x->n; j++) {
        if (x->items[j]->kind != JN_STRING && x->items[j]->kind != JN_NULL) {
          return arg_fail(err,
                          NOT_OBJECT "json: cannot unmarshal %s into Go "
                                     "struct field callArg.marks of type "
                                     "string",
                          node_kind(x->items[j]));
        }
      }
      a->marks = x;
    }
  }
  return 0;
}

int soupc_cty_call_arg_from_json(soupc_cty_value **out, const char *json,
                                 size_t len, soupc_cty_call_error *err) {
  struct json_node *n = NULL;
  struct call_arg a = {NULL, NULL, NULL, false, false};
  struct soupc_cty_type *ty = NULL;
  struct soupc_cty_value *v = NULL;
  soupc_status st;
  size_t i;
  int rv;

  if (err != NULL) {
    err->message = NULL;
    err->arg_index = -1;
  }
  soupc_status_clear(&st);
  /* json.Unmarshal(raw, &callArg{}), with Go's syntax error texts */
  rv = soupc__json_parse_go(&n, json, len, JSON_UNMARSHAL, NULL, &st);
  if (rv == SOUPC_ERR_NOMEM) {
    return rv;
  }
  if (rv != 0) {
    soupc__json_free(n);
    return arg_fail(err, NOT_OBJECT "%s", st.message);
  }
  if (n->kind != JN_OBJECT && n->kind != JN_NULL) {
    rv = arg_fail(err,
                  NOT_OBJECT "json: cannot unmarshal %s into Go value of type "
                             "main.callArg",
                  node_kind(n));
    soupc__json_free(n);
    return rv;
  }
  if (n->kind == JN_OBJECT) {
    rv = read_fields(&a, n, err);
    if (rv != 0) {
      soupc__json_free(n);
      return rv;
    }
  }
  if (a.type == NULL) {
    soupc__json_free(n);
    return arg_fail(err, "argument is missing a type");
  }
  /* parseCtyType and decodeRich read the json.RawMessage bytes */
  rv = soupc_cty_type_parse(&ty, a.type->raw, a.type->raw_len, &st);
  if (rv != 0) {
    soupc__json_free(n);
    return rv == SOUPC_ERR_NOMEM
               ? rv
               : arg_fail(err, "failed to parse argument type: %s", st.message);
  }
  if (a.unknown) {
    rv = soupc__fn_unknown(&v, ty);
  } else if (a.null) {
    rv = soupc_cty_value_null(&v, ty);
  } else {
    rv = soupc_cty_value_from_rich_json(
        &v, ty, a.value != NULL ? a.value->raw : "",
        a.value != NULL ? a.value->raw_len : 0, &st);
    if (rv != 0 && rv != SOUPC_ERR_NOMEM) {
      rv = arg_fail(err, "failed to build argument value: %s", st.message);
    }
  }
  soupc_cty_type_free(ty);
  for (i = 0; rv == 0 && a.marks != NULL && i < a.marks->n; i++) {
    /* val.Mark(name) for each, in order (a JSON null is "") */
    const struct json_node *m = a.marks->items[i];
    struct soupc_cty_value *mv = NULL;
    rv = soupc_cty_value_mark(&mv, v, m->kind == JN_STRING ? m->s : "",
                              m->kind == JN_STRING ? m->len : 0);
    soupc_cty_value_free(v);
    v = rv == 0 ? mv : NULL;
  }
  soupc__json_free(n);
  if (rv == 0) {
    *out = v;
  } else {
    soupc_cty_value_free(v);
  }
  return rv;
}

/* ---- the result line ---- */

static void put_key(struct cty_buf *b, const char *k) {
  soupc__cty_buf_putc(b, ',');
  soupc__cty_buf_putc(b, '"');
  soupc__cty_buf_puts(b, k);
  soupc__cty_buf_puts(b, "\":");
}

/* describeResult's refine map (encodeRefinements, via Value.Range()):
 * keys in json.Marshal's sorted order. */
static void put_refine(struct cty_buf *b, const struct soupc_cty_value *v) {
  const struct cty_refine *r = v->refine;
  soupc_cty_kind k = v->type->kind;
  bool any = false;
  char t[32];

  if (r == NULL) {
    return;
  }
#define SEP()                                                                  \
  do {                                                                         \
    if (!any) {                                                                \
      put_key(b, "refine");                                                    \
      soupc__cty_buf_putc(b, '{');                                             \
    } else {                                                                   \
      soupc__cty_buf_putc(b, ',');                                             \
    }                                                                          \
    any = true;                                                                \
  } while (0)
  if (k == SOUPC_CTY_LIST || k == SOUPC_CTY_SET || k == SOUPC_CTY_MAP) {
    if (r->kind == CTY_RF_COLLECTION && r->min_len != 0) {
      SEP();
      snprintf(t, sizeof(t), "%lld", (long long)r->min_len);
      soupc__cty_buf_puts(b, "\"collection_length_lower_bound\":");
      soupc__cty_buf_puts(b, t);
    }
    if (r->kind == CTY_RF_COLLECTION && r->max_len != INT64_MAX) {
      SEP();
      snprintf(t, sizeof(t), "%lld", (long long)r->max_len);
      soupc__cty_buf_puts(b, "\"collection_length_upper_bound\":");
      soupc__cty_buf_puts(b, t);
    }
  }
  if (r->null == CTY_TRI_FALSE) {
    SEP();
    soupc__cty_buf_puts(b, "\"is_known_null\":false");
  }
  if (k == SOUPC_CTY_NUMBER) {
    if (r->kind == CTY_RF_NUMBER && r->min != NULL &&
        !soupc__cty_num_is_inf(r->min->u.num)) {
      SEP();
      soupc__cty_buf_puts(b, "\"number_lower_bound\":[\"");
      soupc__cty_num_text_f(b, r->min->u.num);
      soupc__cty_buf_puts(b, r->min_inc ? "\",true]" : "\",false]");
    }
    if (r->kind == CTY_RF_NUMBER && r->max != NULL &&
        !soupc__cty_num_is_inf(r->max->u.num)) {
      SEP();
      soupc__cty_buf_puts(b, "\"number_upper_bound\":[\"");
      soupc__cty_num_text_f(b, r->max->u.num);
      soupc__cty_buf_puts(b, r->max_inc ? "\",true]" : "\",false]");
    }
  }
  if (k == SOUPC_CTY_STRING && r->kind == CTY_RF_STRING && r->prefix_len > 0) {
    SEP();
    soupc__cty_buf_puts(b, "\"string_prefix\":");
    soupc__cty_json_quote(b, r->prefix, r->prefix_len);
  }
#undef SEP
  if (any) {
    soupc__cty_buf_putc(b, '}');
  }
}

static void put_head(struct cty_buf *b, const char *name, bool ok) {
  soupc__cty_buf_puts(b, "{\"function\":");
  soupc__cty_json_quote(b, name, strlen(name));
  soupc__cty_buf_puts(b, ok ? ",\"ok\":true" : ",\"ok\":false");
}

static void put_error(struct cty_buf *b, const char *name, const char *msg) {
  put_head(b, name, false);
  put_key(b, "error");
  soupc__cty_json_quote(b, msg, strlen(msg));
  soupc__cty_buf_puts(b, ",\"unknown\":false,\"null\":false}");
}

static void put_tail(struct cty_buf *b, bool unknown, bool null,
                     const struct soupc_cty_marks *marks) {
  size_t i, n = soupc_cty_marks_count(marks);

  soupc__cty_buf_puts(b, unknown ? ",\"unknown\":true" : ",\"unknown\":false");
  soupc__cty_buf_puts(b, null ? ",\"null\":true" : ",\"null\":false");
  if (n > 0) {
    put_key(b, "marks");
    soupc__cty_buf_putc(b, '[');
    for (i = 0; i < n; i++) {
      size_t ml;
      const char *m = soupc_cty_marks_name(marks, i, &ml);
      if (i > 0) {
        soupc__cty_buf_putc(b, ',');
      }
      soupc__cty_json_quote(b, m, ml);
    }
    soupc__cty_buf_putc(b, ']');
  }
}

/* marshalResultType: "bytes" for the bytes capsule, else go-cty's
 * Type.MarshalJSON (which refuses other capsules). */
static int result_type(struct cty_buf *b, const struct soupc_cty_type *t,
                       soupc_status *st) {
  if (t == soupc_cty_type_bytes()) {
    soupc__cty_buf_puts(b, "\"bytes\"");
    return 0;
  }
  return soupc__cty_type_marshal(b, t, st);
}

/* marshalResultValue: base64 for a bytes value, else ctyjson.Marshal. */
static int result_value(char **js, size_t *js_len,
                        const struct soupc_cty_value *v, soupc_status *st) {
  const uint8_t *data;
  size_t dl;
  char *b64 = NULL;
  size_t bl = 0;
  struct cty_buf b;
  int rv;

  if (v->type != soupc_cty_type_bytes()) {
    return soupc_cty_json_encode(js, js_len, v, v->type, st);
  }
  soupc__cty_buf_init(&b);
  if (cty_is_null(v)) {
    soupc__cty_buf_puts(&b, "null");
  } else {
    rv = soupc_cty_value_bytes_get(v, &data, &dl);
    if (rv == 0) {
      rv = soupc_cty_base64_encode(&b64, &bl, data, dl);
    }
    if (rv != 0) {
      soupc__cty_buf_dispose(&b);
      return rv;
    }
    soupc__cty_json_quote(&b, b64, bl);
    soupc_cty_free_bytes(b64);
  }
  return soupc__cty_buf_take(&b, js, js_len);
}

/* unrepresentable(): the call succeeded but cannot be shown. */
static void put_unrepresentable(struct cty_buf *b, const char *name,
                                const char *why) {
  struct cty_buf m;

  b->len = 0;
  soupc__cty_buf_init(&m);
  soupc__cty_buf_puts(&m, "result is not representable as JSON: ");
  soupc__cty_buf_puts(&m, why);
  soupc__cty_buf_putc(&m, 0);
  put_error(b, name, m.oom ? "" : (const char *)m.p);
  soupc__cty_buf_dispose(&m);
}

/* Appends describeResult(name, v) for a successful call: the marks
 * (from UnmarkDeep), then the unmarked value. */
static int put_result(struct cty_buf *b, const char *name,
                      const struct soupc_cty_value *marked) {
  struct soupc_cty_marks *marks = NULL;
  struct soupc_cty_value *v = NULL;
  struct cty_buf tj;
  soupc_status st;
  char *js = NULL;
  size_t js_len = 0;
  int rv;

  soupc_status_clear(&st);
  rv = soupc_cty_value_unmark_deep(&v, &marks, marked);
  if (rv != 0) {
    return rv;
  }
  soupc__cty_buf_init(&tj);
  rv = result_type(&tj, v->type, &st);
  if (rv == SOUPC_ERR_NOMEM || tj.oom) {
    rv = SOUPC_ERR_NOMEM;
    goto out;
  }
  if (rv != 0) {
    put_unrepresentable(b, name, st.message);
    rv = 0;
    goto out;
  }
  if (!cty_is_known(v)) {
    put_head(b, name, true);
    put_key(b, "type");
    soupc__cty_buf_put(b, tj.p, tj.len);
    put_tail(b, true, false, marks);
    put_refine(b, v);
    soupc__cty_buf_putc(b, '}');
    goto out;
  }
  rv = result_value(&js, &js_len, v, &st);
  if (rv == SOUPC_ERR_NOMEM) {
    goto out;
  }
  if (rv == 0) {
    put_head(b, name, true);
    put_key(b, "type");
    soupc__cty_buf_put(b, tj.p, tj.len);
    put_key(b, "value");
    soupc__cty_buf_put(b, js, js_len);
    soupc_cty_free_bytes(js);
    put_tail(b, false, cty_is_null(v), marks);
    soupc__cty_buf_putc(b, '}');
    goto out;
  }
  {
    /* Not expressible as JSON (an unknown inside, an infinity): the wire
     * encoding instead, as soup-go does. */
    char json_err[sizeof(st.message)];
    uint8_t *mp = NULL;
    size_t mp_len = 0;
    char *b64 = NULL;
    size_t bl = 0;

    memcpy(json_err, st.message, sizeof(json_err));
    rv = soupc_cty_msgpack_encode(&mp, &mp_len, v, v->type, &st);
    if (rv == SOUPC_ERR_NOMEM) {
      goto out;
    }
    if (rv != 0) {
      put_unrepresentable(b, name, json_err);
      rv = 0;
      goto out;
    }
    rv = soupc_cty_base64_encode(&b64, &bl, mp, mp_len);
    soupc_cty_free_bytes(mp);
    if (rv != 0) {
      goto out;
    }
    put_head(b, name, true);
    put_key(b, "type");
    soupc__cty_buf_put(b, tj.p, tj.len);
    put_tail(b, false, cty_is_null(v), marks);
    put_key(b, "msgpack");
    soupc__cty_json_quote(b, b64, bl);
    soupc__cty_buf_putc(b, '}');
    soupc_cty_free_bytes(b64);
  }
out:
  soupc__cty_buf_dispose(&tj);
  soupc_cty_marks_free(marks);
  soupc_cty_value_free(v);
  return rv;
}

int soupc_cty_call_result_to_json(char **out, size_t *len_out, const char *name,
                                  const soupc_cty_value *result,
                                  const soupc_cty_call_error *err) {
  struct cty_buf b;
  int rv = 0;

  soupc__cty_buf_init(&b);
  if (result == NULL) {
    put_error(&b, name,
              err != NULL && err->message != NULL ? err->message : "");
  } else {
    rv = put_result(&b, name, result);
  }
  soupc__cty_buf_putc(&b, 0);
  if (rv == 0 && b.oom) {
    rv = SOUPC_ERR_NOMEM;
  }
  if (rv != 0) {
    soupc__cty_buf_dispose(&b);
    return rv;
  }
  *out = (char *)b.p;
  *len_out = b.len - 1;
  return 0;
}
