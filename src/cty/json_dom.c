/* A small JSON tree built with yajl's callback parser. Numbers keep their
 * exact text (go-cty reads them with json.Decoder.UseNumber, spec §1.3),
 * object members keep input order and duplicates (last one wins later). */
#include "cty/cty_int.h"

#include "base/alloc.h"

#include <string.h>
#include <yajl/yajl_parse.h>

struct frame {
  struct json_node *node;
  size_t cap; /* allocated items (and keys) */
  char *key;  /* pending object key, owned */
  size_t key_len;
};

struct dom {
  struct frame stack[CTY_MAX_DEPTH + 2];
  int depth; /* frames in use */
  struct json_node *root;
  bool nomem;
  bool too_deep;
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

/* Attaches @p n to the open container (or makes it the root). */
static int attach(struct dom *d, struct json_node *n) {
  struct frame *f;

  if (n == NULL) {
    d->nomem = true;
    return 0;
  }
  if (d->depth == 0) {
    d->root = n;
    return 1;
  }
  f = &d->stack[d->depth - 1];
  if (f->node->n == f->cap) {
    size_t cap = f->cap == 0 ? 4 : f->cap * 2;
    struct json_node **items =
        soupc__realloc(f->node->items, cap * sizeof(*items));
    if (items == NULL) {
      goto nomem;
    }
    f->node->items = items;
    if (f->node->kind == JN_OBJECT) {
      char **keys = soupc__realloc(f->node->keys, cap * sizeof(*keys));
      size_t *lens;
      if (keys == NULL) {
        goto nomem;
      }
      f->node->keys = keys;
      lens = soupc__realloc(f->node->key_lens, cap * sizeof(*lens));
      if (lens == NULL) {
        goto nomem;
      }
      f->node->key_lens = lens;
    }
    f->cap = cap;
  }
  if (f->node->kind == JN_OBJECT) {
    f->node->keys[f->node->n] = f->key;
    f->node->key_lens[f->node->n] = f->key_len;
    f->key = NULL;
  }
  f->node->items[f->node->n++] = n;
  return 1;
nomem:
  soupc__json_free(n);
  d->nomem = true;
  return 0;
}

static struct json_node *new_node(enum json_kind k) {
  struct json_node *n = soupc__calloc(1, sizeof(*n));

  if (n != NULL) {
    n->kind = k;
  }
  return n;
}

static int cb_null(void *ctx) {
  return attach(ctx, new_node(JN_NULL));
}

static int cb_bool(void *ctx, int b) {
  struct json_node *n = new_node(JN_BOOL);

  if (n != NULL) {
    n->b = b != 0;
  }
  return attach(ctx, n);
}

static struct json_node *text_node(enum json_kind k, const char *s,
                                   size_t len) {
  struct json_node *n = new_node(k);

  if (n == NULL) {
    return NULL;
  }
  n->s = soupc__strndup(s, len);
  if (n->s == NULL) {
    soupc__free(n);
    return NULL;
  }
  n->len = len;
  return n;
}

static int cb_number(void *ctx, const char *s, size_t len) {
  return attach(ctx, text_node(JN_NUMBER, s, len));
}

static int cb_string(void *ctx, const unsigned char *s, size_t len) {
  struct json_node *n = new_node(JN_STRING);

  /* Go's decoder turns invalid UTF-8 into U+FFFD; yajl lets overlong
   * forms through. */
  if (n != NULL) {
    n->s = soupc__cty_go_utf8((const char *)s, len, &n->len);
    if (n->s == NULL) {
      soupc__free(n);
      n = NULL;
    }
  }
  return attach(ctx, n);
}

static int open_container(struct dom *d, enum json_kind k) {
  struct json_node *n;

  if (d->depth > CTY_MAX_DEPTH) {
    d->too_deep = true;
    return 0;
  }
  n = new_node(k);
  if (!attach(d, n)) {
    return 0;
  }
  d->stack[d->depth].node = n;
  d->stack[d->depth].cap = 0;
  d->stack[d->depth].key = NULL;
  d->depth++;
  return 1;
}

static int cb_start_map(void *ctx) {
  return open_container(ctx, JN_OBJECT);
}

static int cb_start_array(void *ctx) {
  return open_container(ctx, JN_ARRAY);
}

static int cb_end(void *ctx) {
  struct dom *d = ctx;

  d->depth--;
  return 1;
}

static int cb_key(void *ctx, const unsigned char *s, size_t len) {
  struct dom *d = ctx;
  struct frame *f = &d->stack[d->depth - 1];

  soupc__free(f->key);
  f->key = soupc__cty_go_utf8((const char *)s, len, &f->key_len);
  if (f->key == NULL) {
    d->nomem = true;
    return 0;
  }
  return 1;
}

static const yajl_callbacks callbacks = {
    cb_null,      cb_bool, NULL,   NULL,           cb_number, cb_string,
    cb_start_map, cb_key,  cb_end, cb_start_array, cb_end};

int soupc__json_parse(struct json_node **out, const char *buf, size_t len,
                      bool *trailing_out, soupc_status *st) {
  struct dom *d;
  yajl_handle h;
  yajl_status ys;
  size_t used, i;
  int rv = SOUPC_ERR_CTY_DECODE;

  if (buf == NULL) {
    buf = ""; /* msgpack-c hands out NULL for empty str/bin */
    len = 0;
  }
  d = soupc__calloc(1, sizeof(*d));
  if (d == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  /* yajl's own allocations keep the system allocator: yajl_alloc does not
   * check them, so the failure-injection hook would crash it. */
  h = yajl_alloc(&callbacks, NULL, d);
  if (h == NULL) {
    soupc__free(d);
    return SOUPC_ERR_NOMEM;
  }
  yajl_config(h, yajl_allow_trailing_garbage, 1);
  ys = yajl_parse(h, (const unsigned char *)buf, len);
  used = yajl_get_bytes_consumed(h);
  if (ys == yajl_status_ok) {
    ys = yajl_complete_parse(h);
  }
  if (ys != yajl_status_ok || d->root == NULL || d->depth != 0) {
    if (d->nomem) {
      rv = SOUPC_ERR_NOMEM;
    } else if (d->too_deep) {
      soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                       "invalid JSON: nested deeper than %d levels",
                       CTY_MAX_DEPTH);
    } else {
      unsigned char *msg = yajl_get_error(h, 0, NULL, 0);
      size_t ml = msg != NULL ? strlen((const char *)msg) : 0;
      while (ml > 0 && (msg[ml - 1] == '\n' || msg[ml - 1] == ' ')) {
        msg[--ml] = '\0'; /* yajl ends its message with a newline */
      }
      soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT, "invalid JSON: %s",
                       msg != NULL ? (const char *)msg : "parse error");
      if (msg != NULL) {
        yajl_free_error(h, msg);
      }
    }
    goto fail;
  }
  *trailing_out = false;
  for (i = used; i < len; i++) {
    if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\n' && buf[i] != '\r') {
      *trailing_out = true;
      break;
    }
  }
  yajl_free(h);
  *out = d->root;
  soupc__free(d);
  return 0;

fail:
  yajl_free(h);
  for (i = 0; i < (size_t)CTY_MAX_DEPTH + 2; i++) {
    soupc__free(d->stack[i].key);
  }
  soupc__json_free(d->root);
  soupc__free(d);
  return rv;
}
