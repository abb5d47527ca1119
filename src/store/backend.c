/* The backend handle: a table of operations and the engine behind it
 * (backend.h). The wrappers are the only callers of the table. */
#include "store/backend.h"

#include <assert.h>

#include "base/alloc.h"

struct store_backend {
  const struct store_backend_ops *ops; /* borrowed */
  void *impl;                          /* owned; freed by ops->close */
};

int soupc__backend_new(struct store_backend **out,
                       const struct store_backend_ops *ops, void *impl) {
  struct store_backend *b;

  assert(ops != NULL && ops->get != NULL && ops->put != NULL &&
         ops->health != NULL && ops->close != NULL);
  b = soupc__calloc(1, sizeof(*b));
  if (b == NULL) {
    ops->close(impl);
    return SOUPC_ERR_NOMEM;
  }
  b->ops = ops;
  b->impl = impl;
  *out = b;
  return 0;
}

int soupc__backend_get(struct store_backend *b, const uint8_t *key,
                       size_t key_len, store_done_fn done, void *user_data) {
  return b->ops->get(b->impl, key, key_len, done, user_data);
}

int soupc__backend_put(struct store_backend *b, const uint8_t *key,
                       size_t key_len, const uint8_t *val, size_t val_len,
                       store_done_fn done, void *user_data) {
  return b->ops->put(b->impl, key, key_len, val, val_len, done, user_data);
}

int soupc__backend_put_take(struct store_backend *b, const uint8_t *key,
                            size_t key_len, uint8_t *val, size_t val_len,
                            store_done_fn done, void *user_data) {
  int rv;

  if (b->ops->put_take != NULL) {
    return b->ops->put_take(b->impl, key, key_len, val, val_len, done,
                            user_data);
  }
  rv = b->ops->put(b->impl, key, key_len, val, val_len, done, user_data);
  if (rv == 0) {
    soupc__free(val); /* copied by put */
  }
  return rv;
}

int soupc__backend_health(struct store_backend *b, soupc_status *st) {
  soupc_status_clear(st);
  return b->ops->health(b->impl, st);
}

const char *soupc__backend_name(const struct store_backend *b) {
  return b->ops->name;
}

void soupc__backend_close(struct store_backend *b) {
  if (b == NULL) {
    return;
  }
  b->ops->close(b->impl);
  soupc__free(b);
}
