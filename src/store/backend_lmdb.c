/* The LMDB backend (backend.h): the embedded store of store.c and
 * group_commit.c behind the backend operations. A Get completes before
 * get() returns; a Put completes on the commit thread once it is durable. */
#include "store/backend.h"

#include <string.h>

#include "base/alloc.h"
#include "store/store.h"

/* Says which resource ran out or failed (issue 8): the caller learns
 * whether to free disk space, raise the map size or look at the disk. */
static void status_for(struct store_result *res) {
  switch (res->rv) {
  case SOUPC_ERR_STORE_FULL:
    soupc_status_set(&res->status, SOUPC_GRPC_RESOURCE_EXHAUSTED,
                     "the store is full (LMDB map size reached)");
    break;
  case SOUPC__ERR_STORE_DISK_FULL:
    soupc_status_set(&res->status, SOUPC_GRPC_RESOURCE_EXHAUSTED,
                     "the disk under the store is full (ENOSPC); free space "
                     "and retry");
    break;
  case SOUPC_ERR_IO:
    soupc_status_set(&res->status, SOUPC_GRPC_UNAVAILABLE,
                     "disk I/O error in the store (EIO)");
    break;
  default:
    break;
  }
}

/* A queued Put's callback, carried through the store's group commit. */
struct lmdb_put {
  store_done_fn done;
  void *user_data;
};

static void lmdb_unpin(void *arg) {
  soupc__store_unpin(arg);
}

static int lmdb_get(void *impl, const uint8_t *key, size_t key_len,
                    store_done_fn done, void *user_data) {
  struct store_result res;
  struct store_pin *pin = NULL;
  const uint8_t *val = NULL;

  memset(&res, 0, sizeof(res));
  /* Large values are lent from the map, so a Get of 1 MiB copies nothing
   * until the kernel does (store.h: soupc__store_get_pinned). */
  res.rv =
      soupc__store_get_pinned(impl, &val, &res.value_len, &pin, key, key_len);
  res.value = (uint8_t *)val; /* borrowed when pinned: read-only */
  if (pin != NULL) {
    res.release = lmdb_unpin;
    res.release_arg = pin;
  }
  if (res.rv == SOUPC_ERR_INVALID_ARGUMENT) {
    return res.rv; /* done never runs on a refused call */
  }
  status_for(&res);
  done(&res, user_data);
  if (res.value != NULL && res.release != NULL) {
    res.release(res.release_arg);
  } else {
    soupc__free(res.value);
  }
  return 0;
}

/* Runs on the commit thread once the Put is committed (or failed). */
static void lmdb_put_done(int rv, void *user_data) {
  struct lmdb_put *p = user_data;
  struct store_result res;

  memset(&res, 0, sizeof(res));
  res.rv = rv;
  status_for(&res);
  p->done(&res, p->user_data);
  soupc__free(p);
}

static int lmdb_put(void *impl, const uint8_t *key, size_t key_len,
                    const uint8_t *val, size_t val_len, store_done_fn done,
                    void *user_data) {
  struct lmdb_put *p = soupc__malloc(sizeof(*p));
  int rv;

  if (p == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  p->done = done;
  p->user_data = user_data;
  rv = soupc__store_put_async(impl, key, key_len, val, val_len, lmdb_put_done,
                              p);
  if (rv != 0) {
    soupc__free(p);
  }
  return rv;
}

static int lmdb_put_take(void *impl, const uint8_t *key, size_t key_len,
                         uint8_t *val, size_t val_len, store_done_fn done,
                         void *user_data) {
  struct lmdb_put *p = soupc__malloc(sizeof(*p));
  int rv;

  if (p == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  p->done = done;
  p->user_data = user_data;
  rv = soupc__store_put_async_take(impl, key, key_len, val, val_len,
                                   lmdb_put_done, p);
  if (rv != 0) {
    soupc__free(p);
  }
  return rv;
}

static int lmdb_health(void *impl, soupc_status *st) {
  int rv = soupc__store_check(impl);

  if (rv != 0) {
    soupc_status_set(st, soupc_err_to_grpc(rv), "lmdb: %s", soupc_strerror(rv));
    return rv;
  }
  soupc_status_set(st, SOUPC_GRPC_OK, "lmdb: the store is open");
  return 0;
}

static void lmdb_close(void *impl) {
  soupc__store_close(impl);
}

static const struct store_backend_ops lmdb_ops = {
    "lmdb", lmdb_get, lmdb_put, lmdb_health, lmdb_close, lmdb_put_take,
};

int soupc__backend_lmdb_new(struct store_backend **out, struct store *store) {
  return soupc__backend_new(out, &lmdb_ops, store);
}
