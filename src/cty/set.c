/* go-cty set semantics (spec §2.5): hash bytes, equivalence, ordering.
 *
 * set.Set keeps elements in crc32 buckets of their hash bytes; Values()
 * walks the buckets in ascending id (insertion order inside) and then
 * stable-sorts by setRules.Less. Reproducing both steps is what makes the
 * wire bytes of a set identical to go-cty's. */
#include "cty/cty_int.h"

#include "base/alloc.h"

#include <string.h>

void soupc__cty_set_hash(struct cty_buf *b, const struct soupc_cty_value *v) {
  size_t i;

  v = cty_unmarked(v); /* marks do not take part in hashing */
  if ((v->flags & CTY_V_UNKNOWN) != 0) {
    soupc__cty_buf_putc(b, '?');
    return;
  }
  if ((v->flags & CTY_V_NULL) != 0) {
    soupc__cty_buf_putc(b, '~');
    return;
  }
  switch (v->type->kind) {
  case SOUPC_CTY_NUMBER:
    soupc__cty_num_text_g10(b, v->u.num); /* big.Float.String() */
    return;
  case SOUPC_CTY_BOOL:
    soupc__cty_buf_putc(b, v->u.b ? 'T' : 'F');
    return;
  case SOUPC_CTY_STRING:
    soupc__cty_go_quote(b, v->u.str.s, v->u.str.len);
    return;
  case SOUPC_CTY_MAP:
    soupc__cty_buf_putc(b, '{');
    for (i = 0; i < v->u.c.n; i++) {
      soupc__cty_go_quote(b, v->u.c.keys[i], v->u.c.key_lens[i]);
      soupc__cty_buf_putc(b, ':');
      soupc__cty_set_hash(b, v->u.c.items[i]);
      soupc__cty_buf_putc(b, ';');
    }
    soupc__cty_buf_putc(b, '}');
    return;
  case SOUPC_CTY_LIST:
  case SOUPC_CTY_SET:
    soupc__cty_buf_putc(b, '[');
    for (i = 0; i < v->u.c.n; i++) {
      soupc__cty_set_hash(b, v->u.c.items[i]);
      soupc__cty_buf_putc(b, ';');
    }
    soupc__cty_buf_putc(b, ']');
    return;
  case SOUPC_CTY_OBJECT:
  case SOUPC_CTY_TUPLE:
    soupc__cty_buf_putc(b, '<');
    for (i = 0; i < v->u.c.n; i++) {
      soupc__cty_set_hash(b, v->u.c.items[i]);
      soupc__cty_buf_putc(b, ';');
    }
    soupc__cty_buf_putc(b, '>');
    return;
  case SOUPC_CTY_CAPSULE: {
    const struct cty_capsule *c = v->type->cap;
    soupc__cty_buf_puts(b, "\xc2\xab"); /* U+00AB */
    if (c != NULL && c->ops.hash_key != NULL) {
      char *k = c->ops.hash_key(v->u.payload, c->type_data);
      if (k == NULL) {
        b->oom = true;
      } else {
        soupc__cty_go_quote(b, k, strlen(k));
        soupc__free(k);
      }
    } else {
      soupc__cty_buf_putc(b, '?');
    }
    soupc__cty_buf_puts(b, "\xc2\xbb"); /* U+00BB */
    return;
  }
  case SOUPC_CTY_DYNAMIC:
    return;
  }
}

static int capsule_raw_equal(const struct soupc_cty_value *a,
                             const struct soupc_cty_value *b) {
  const struct cty_capsule *c = a->type->cap;

  if (a->type != b->type) {
    return 0;
  }
  if (c != NULL && c->ops.raw_equals != NULL) {
    return c->ops.raw_equals(a->u.payload, b->u.payload, c->type_data) != 0;
  }
  return a->u.payload == b->u.payload;
}

/* Equals(...) == True for two wholly known, unmarked values of one type.
 * @return 1 equal, 0 not, -1 out of memory. */
static int deep_equal(const struct soupc_cty_value *a,
                      const struct soupc_cty_value *b) {
  size_t i, j;
  int eq = 0;

  a = cty_unmarked(a);
  b = cty_unmarked(b);
  if ((a->flags & CTY_V_NULL) || (b->flags & CTY_V_NULL)) {
    return (a->flags & CTY_V_NULL) && (b->flags & CTY_V_NULL);
  }
  if (a->type->kind != b->type->kind) {
    return 0;
  }
  switch (a->type->kind) {
  case SOUPC_CTY_STRING:
    return a->u.str.len == b->u.str.len &&
           memcmp(a->u.str.s, b->u.str.s, a->u.str.len) == 0;
  case SOUPC_CTY_NUMBER:
    return soupc__cty_num_equal(a->u.num, b->u.num);
  case SOUPC_CTY_BOOL:
    return a->u.b == b->u.b;
  case SOUPC_CTY_CAPSULE:
    return capsule_raw_equal(a, b);
  case SOUPC_CTY_DYNAMIC:
    return 1;
  default:
    break;
  }
  if (a->u.c.n != b->u.c.n) {
    return 0;
  }
  if (a->type->kind == SOUPC_CTY_SET) {
    for (i = 0; i < a->u.c.n; i++) {
      for (j = 0; j < b->u.c.n; j++) {
        eq = deep_equal(a->u.c.items[i], b->u.c.items[j]);
        if (eq != 0) {
          break;
        }
      }
      if (j < b->u.c.n && eq < 0) {
        return -1;
      }
      if (j == b->u.c.n) {
        return 0;
      }
    }
    return 1;
  }
  for (i = 0; i < a->u.c.n; i++) {
    if (a->u.c.keys != NULL &&
        (a->u.c.key_lens[i] != b->u.c.key_lens[i] ||
         memcmp(a->u.c.keys[i], b->u.c.keys[i], a->u.c.key_lens[i]) != 0)) {
      return 0;
    }
    eq = deep_equal(a->u.c.items[i], b->u.c.items[i]);
    if (eq != 1) {
      return eq;
    }
  }
  return 1;
}

/* setRules.Equivalent: Equals(...) == True, so any unknown inside makes two
 * values distinct. */
int soupc__cty_val_equivalent(const struct soupc_cty_value *a,
                              const struct soupc_cty_value *b) {
  if (!soupc__cty_wholly_known(a) || !soupc__cty_wholly_known(b)) {
    return 0;
  }
  return deep_equal(a, b);
}

struct set_elem {
  struct soupc_cty_value *v;
  uint8_t *hash; /* set hash bytes (non-primitive and number elements) */
  size_t hash_len;
  uint32_t bucket;
  size_t order; /* insertion index */
};

static int str_cmp(const struct soupc_cty_value *a,
                   const struct soupc_cty_value *b) {
  size_t n = a->u.str.len < b->u.str.len ? a->u.str.len : b->u.str.len;
  int c = n > 0 ? memcmp(a->u.str.s, b->u.str.s, n) : 0;

  if (c != 0) {
    return c;
  }
  return a->u.str.len < b->u.str.len ? -1 : (a->u.str.len > b->u.str.len);
}

/* setRules.Less (RawEquals first: equal elements are never less; they
 * only meet here when unknowns keep them apart, and those compare as
 * "not less" either way). */
static bool set_less(const struct set_elem *x, const struct set_elem *y) {
  const struct soupc_cty_value *a = x->v, *b = y->v;
  bool an = (a->flags & CTY_V_NULL) != 0, bn = (b->flags & CTY_V_NULL) != 0;
  bool ak = (a->flags & CTY_V_UNKNOWN) == 0,
       bk = (b->flags & CTY_V_UNKNOWN) == 0;

  if (bn && !an) {
    return true;
  }
  if (an) {
    return false;
  }
  if (ak && !bk) {
    return true;
  }
  if (!ak) {
    return false;
  }
  switch (a->type->kind) {
  case SOUPC_CTY_STRING:
    return str_cmp(a, b) < 0;
  case SOUPC_CTY_BOOL:
    return !a->u.b && b->u.b;
  case SOUPC_CTY_NUMBER:
    return soupc__cty_num_cmp(a->u.num, b->u.num) < 0;
  default: {
    size_t n = x->hash_len < y->hash_len ? x->hash_len : y->hash_len;
    int c;
    /* RawEquals first: [0] and [-0] are RawEqual (number Equals) but
     * hash apart, so neither is less and the buckets decide. */
    if (soupc__cty_raw_equals(a, b)) {
      return false;
    }
    c = n > 0 ? memcmp(x->hash, y->hash, n) : 0;
    if (c != 0) {
      return c < 0;
    }
    return x->hash_len < y->hash_len;
  }
  }
}

static bool bucket_less(const struct set_elem *x, const struct set_elem *y) {
  if (x->bucket != y->bucket) {
    return x->bucket < y->bucket;
  }
  return x->order < y->order;
}

/* Stable merge sort; @p tmp has room for n elements. */
static void merge_sort(struct set_elem *a, struct set_elem *tmp, size_t n,
                       bool (*less)(const struct set_elem *,
                                    const struct set_elem *)) {
  size_t mid = n / 2, i = 0, j, k = 0;

  if (n < 2) {
    return;
  }
  merge_sort(a, tmp, mid, less);
  merge_sort(a + mid, tmp, n - mid, less);
  j = mid;
  while (i < mid && j < n) {
    if (less(&a[j], &a[i])) {
      tmp[k++] = a[j++];
    } else {
      tmp[k++] = a[i++];
    }
  }
  while (i < mid) {
    tmp[k++] = a[i++];
  }
  while (j < n) {
    tmp[k++] = a[j++];
  }
  memcpy(a, tmp, n * sizeof(*a));
}

/* Dedupe within a crc32 bucket, walk buckets in ascending id with
 * insertion order inside, then a stable sort by Less. */
int soupc__cty_set_canonical(struct soupc_cty_value **items, size_t *n_io) {
  size_t n = *n_io, i, j, kept = 0;
  struct set_elem *e = NULL, *tmp = NULL;
  soupc_cty_kind k;
  bool hashed;
  int rv = SOUPC_ERR_NOMEM;

  if (n == 0) {
    return 0;
  }
  k = items[0]->type->kind;
  /* Strings and bools have a total order in which equivalent values are
   * adjacent, so their buckets never show; everything else needs the hash
   * bytes (numbers too: -0 and 0 land in different buckets and both stay,
   * as in go-cty). */
  hashed = k != SOUPC_CTY_STRING && k != SOUPC_CTY_BOOL;
  e = soupc__calloc(n, sizeof(*e));
  tmp = soupc__calloc(n, sizeof(*tmp));
  if (e == NULL || tmp == NULL) {
    goto out;
  }
  for (i = 0; i < n; i++) {
    e[i].v = items[i];
    e[i].order = i;
    if (hashed) {
      struct cty_buf b;
      soupc__cty_buf_init(&b);
      soupc__cty_set_hash(&b, items[i]);
      if (b.oom) {
        soupc__cty_buf_dispose(&b);
        goto out;
      }
      e[i].hash = b.p;
      e[i].hash_len = b.len;
      e[i].bucket = soupc__cty_crc32(b.p, b.len);
    }
  }
  if (hashed) {
    merge_sort(e, tmp, n, bucket_less);
    for (i = 0; i < n; i++) {
      bool dup = false;
      for (j = kept; j > 0 && e[j - 1].bucket == e[i].bucket; j--) {
        int eq = soupc__cty_val_equivalent(e[j - 1].v, e[i].v);
        if (eq < 0) {
          goto out_partial;
        }
        if (eq > 0) {
          dup = true;
          break;
        }
      }
      if (dup) {
        soupc_cty_value_free(e[i].v);
        soupc__free(e[i].hash);
      } else {
        e[kept++] = e[i];
      }
    }
    merge_sort(e, tmp, kept, set_less);
  } else {
    merge_sort(e, tmp, n, set_less);
    for (i = 0; i < n; i++) {
      int eq = kept > 0 ? soupc__cty_val_equivalent(e[kept - 1].v, e[i].v) : 0;
      if (eq < 0) {
        goto out_partial;
      }
      if (eq > 0) {
        soupc_cty_value_free(e[i].v);
      } else {
        e[kept++] = e[i];
      }
    }
  }
  for (i = 0; i < kept; i++) {
    items[i] = e[i].v;
    soupc__free(e[i].hash);
  }
  *n_io = kept;
  rv = 0;
  goto out;
out_partial:
  /* Out of memory mid-dedupe: hand every surviving value back so the
   * caller frees each exactly once. */
  for (j = 0; j < kept; j++) {
    items[j] = e[j].v;
    soupc__free(e[j].hash);
    e[j].hash = NULL;
  }
  for (; i < n; i++) {
    items[kept++] = e[i].v;
    soupc__free(e[i].hash);
    e[i].hash = NULL;
  }
  *n_io = kept;
  soupc__free(e);
  soupc__free(tmp);
  return SOUPC_ERR_NOMEM;
out:
  if (rv != 0 && e != NULL) {
    for (i = 0; i < n; i++) {
      soupc__free(e[i].hash);
    }
  }
  soupc__free(e);
  soupc__free(tmp);
  return rv;
}
