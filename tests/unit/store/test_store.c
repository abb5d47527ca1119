/* src/store/store.c: open, Get and the Put/Get contract of store.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/alloc.h"
#include "store/store.h"
#include "store/store_int.h"
#include "store_test_util.h"

struct fixture {
  char dir[256];
  struct store *store;
};

static int setup(void **state) {
  struct fixture *f = calloc(1, sizeof(*f));
  soupc_status status;

  if (f == NULL || make_temp_dir(f->dir, sizeof(f->dir)) == NULL) {
    free(f);
    return -1;
  }
  if (soupc__store_open(&f->store, f->dir, NULL, &status) != 0) {
    print_error("open: %s\n", status.message);
    rm_rf(f->dir);
    free(f);
    return -1;
  }
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fixture *f = *state;

  soupc__store_close(f->store);
  rm_rf(f->dir);
  free(f);
  return 0;
}

/* Puts @p key=@p val, then asserts Get returns exactly @p val. */
static void assert_round_trip(struct store *st, const uint8_t *key,
                              size_t key_len, const uint8_t *val,
                              size_t val_len) {
  uint8_t *got = NULL;
  size_t got_len = 0;

  assert_int_equal(soupc__store_put(st, key, key_len, val, val_len), 0);
  assert_int_equal(soupc__store_get(st, &got, &got_len, key, key_len), 0);
  assert_non_null(got);
  assert_int_equal(got_len, val_len);
  if (val_len > 0) {
    assert_memory_equal(got, val, val_len);
  }
  soupc__free(got);
}

static void assert_value(struct store *st, const uint8_t *key, size_t key_len,
                         const uint8_t *val, size_t val_len) {
  uint8_t *got = NULL;
  size_t got_len = 0;

  assert_int_equal(soupc__store_get(st, &got, &got_len, key, key_len), 0);
  assert_int_equal(got_len, val_len);
  if (val_len > 0) {
    assert_memory_equal(got, val, val_len);
  }
  soupc__free(got);
}

static void put_then_get_returns_the_value(void **state) {
  struct fixture *f = *state;

  assert_round_trip(f->store, (const uint8_t *)"hello", 5,
                    (const uint8_t *)"world", 5);
}

static void get_of_missing_key_is_not_found(void **state) {
  struct fixture *f = *state;
  uint8_t *got = (uint8_t *)"untouched";
  size_t len = 7;

  assert_int_equal(
      soupc__store_get(f->store, &got, &len, (const uint8_t *)"nope", 4),
      SOUPC_ERR_NOT_FOUND);
  /* Outputs are written only on success. */
  assert_string_equal((const char *)got, "untouched");
  assert_int_equal(len, 7);
}

static void empty_value_is_found_and_distinct_from_missing(void **state) {
  struct fixture *f = *state;
  uint8_t *got = NULL;
  size_t len = 99;

  assert_int_equal(
      soupc__store_put(f->store, (const uint8_t *)"empty", 5, NULL, 0), 0);
  assert_int_equal(
      soupc__store_get(f->store, &got, &len, (const uint8_t *)"empty", 5), 0);
  assert_non_null(got);
  assert_int_equal(len, 0);
  soupc__free(got);
  assert_int_equal(
      soupc__store_get(f->store, &got, &len, (const uint8_t *)"empt", 4),
      SOUPC_ERR_NOT_FOUND);
}

static void keys_with_nul_and_arbitrary_bytes_round_trip(void **state) {
  struct fixture *f = *state;
  uint8_t key[256];
  uint8_t val[256];
  int i;

  for (i = 0; i < 256; i++) {
    key[i] = (uint8_t)(255 - i);
    val[i] = (uint8_t)i;
  }
  assert_round_trip(f->store, (const uint8_t *)"a\0b", 3,
                    (const uint8_t *)"nul-middle", 10);
  assert_round_trip(f->store, (const uint8_t *)"a\0c", 3,
                    (const uint8_t *)"other", 5);
  assert_round_trip(f->store, (const uint8_t *)"\0", 1, (const uint8_t *)"\0\0",
                    2);
  assert_round_trip(f->store, key, sizeof(key), val, sizeof(val));
  assert_round_trip(f->store, (const uint8_t *)"../../etc/passwd", 16,
                    (const uint8_t *)"not a file", 10);
  /* "a\0b" was not clobbered by "a\0c": NUL does not end the key. */
  assert_value(f->store, (const uint8_t *)"a\0b", 3,
               (const uint8_t *)"nul-middle", 10);
}

static void long_keys_round_trip(void **state) {
  static const size_t lens[] = {400, 401, 5000, 65536};
  struct fixture *f = *state;
  uint8_t *key = malloc(65536);
  char val[32];
  size_t i, j;

  assert_non_null(key);
  for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
    for (j = 0; j < lens[i]; j++) {
      key[j] = (uint8_t)(j * 7 + i);
    }
    snprintf(val, sizeof(val), "len-%zu", lens[i]);
    assert_round_trip(f->store, key, lens[i], (const uint8_t *)val,
                      strlen(val));
  }
  free(key);
}

static void long_keys_sharing_a_400_byte_prefix_stay_distinct(void **state) {
  struct fixture *f = *state;
  uint8_t a[1000], b[1000];
  uint8_t *got;
  size_t len;

  memset(a, 'k', sizeof(a));
  memcpy(b, a, sizeof(b));
  b[999] = 'X'; /* differs only past the prefix */
  assert_int_equal(
      soupc__store_put(f->store, a, sizeof(a), (const uint8_t *)"A", 1), 0);
  assert_int_equal(
      soupc__store_put(f->store, b, sizeof(b), (const uint8_t *)"B", 1), 0);
  assert_value(f->store, a, sizeof(a), (const uint8_t *)"A", 1);
  assert_value(f->store, b, sizeof(b), (const uint8_t *)"B", 1);
  /* A prefix of a long key (401 bytes) is another key. */
  assert_int_equal(soupc__store_get(f->store, &got, &len, a, 401),
                   SOUPC_ERR_NOT_FOUND);
  /* The 400-byte prefix itself is a short key, also absent. */
  assert_int_equal(soupc__store_get(f->store, &got, &len, a, 400),
                   SOUPC_ERR_NOT_FOUND);
}

static void empty_and_over_limit_keys_are_invalid_argument(void **state) {
  struct fixture *f = *state;
  uint8_t *big = calloc(1, 65537);
  uint8_t *got;
  size_t len;

  assert_non_null(big);
  assert_int_equal(soupc__store_put(f->store, (const uint8_t *)"", 0,
                                    (const uint8_t *)"v", 1),
                   SOUPC_ERR_INVALID_ARGUMENT);
  assert_int_equal(
      soupc__store_put(f->store, big, 65537, (const uint8_t *)"v", 1),
      SOUPC_ERR_INVALID_ARGUMENT);
  assert_int_equal(soupc__store_get(f->store, &got, &len, big, 0),
                   SOUPC_ERR_INVALID_ARGUMENT);
  assert_int_equal(soupc__store_get(f->store, &got, &len, big, 65537),
                   SOUPC_ERR_INVALID_ARGUMENT);
  free(big);
}

static void max_key_size_option_sets_the_limit(void **state) {
  struct fixture *f = *state;
  struct store_options opts = {0};
  struct store *st;
  uint8_t key[11];

  /* A second store in another dir (one dir per process at a time). */
  char dir[300];
  snprintf(dir, sizeof(dir), "%s/small", f->dir);
  memset(key, 'k', sizeof(key));
  opts.max_key_size = 10;
  assert_int_equal(soupc__store_open(&st, dir, &opts, NULL), 0);
  assert_int_equal(soupc__store_put(st, key, 10, key, 1), 0);
  assert_int_equal(soupc__store_put(st, key, 11, key, 1),
                   SOUPC_ERR_INVALID_ARGUMENT);
  soupc__store_close(st);
}

static void ten_mib_value_round_trips(void **state) {
  struct fixture *f = *state;
  size_t n = (size_t)10 << 20;
  uint8_t *val = malloc(n);
  size_t i;

  assert_non_null(val);
  for (i = 0; i < n; i++) {
    val[i] = (uint8_t)(i * 2654435761u >> 13);
  }
  assert_round_trip(f->store, (const uint8_t *)"big", 3, val, n);
  /* Also under a hashed key, where the record carries the key too. */
  {
    uint8_t key[500];
    memset(key, 'L', sizeof(key));
    assert_round_trip(f->store, key, sizeof(key), val, n);
  }
  free(val);
}

/* A large value is lent from the map and stays intact while later Puts
 * overwrite its key; a small one is a plain copy. */
static void pinned_get_lends_a_stable_snapshot(void **state) {
  struct fixture *f = *state;
  size_t n = (size_t)256 << 10;
  uint8_t *v1 = malloc(n), *v2 = malloc(n), *small;
  const uint8_t *got;
  struct store_pin *pin;
  size_t len;

  assert_non_null(v1);
  assert_non_null(v2);
  memset(v1, 'a', n);
  memset(v2, 'b', n);
  assert_int_equal(soupc__store_put(f->store, (const uint8_t *)"big", 3, v1, n),
                   0);
  assert_int_equal(soupc__store_get_pinned(f->store, &got, &len, &pin,
                                           (const uint8_t *)"big", 3),
                   0);
  assert_non_null(pin);
  assert_int_equal(len, n);
  /* Overwrite it twice: LMDB must not reuse the pinned pages. */
  assert_int_equal(soupc__store_put(f->store, (const uint8_t *)"big", 3, v2, n),
                   0);
  assert_int_equal(soupc__store_put(f->store, (const uint8_t *)"big", 3, v2, n),
                   0);
  assert_memory_equal(got, v1, n);
  soupc__store_unpin(pin);
  assert_value(f->store, (const uint8_t *)"big", 3, v2, n);

  assert_int_equal(soupc__store_put(f->store, (const uint8_t *)"s", 1,
                                    (const uint8_t *)"tiny", 4),
                   0);
  assert_int_equal(soupc__store_get_pinned(f->store, &got, &len, &pin,
                                           (const uint8_t *)"s", 1),
                   0);
  assert_null(pin); /* copied */
  assert_int_equal(len, 4);
  small = (uint8_t *)got;
  assert_memory_equal(small, "tiny", 4);
  soupc__free(small);
  assert_int_equal(soupc__store_get_pinned(f->store, &got, &len, &pin,
                                           (const uint8_t *)"nope", 4),
                   SOUPC_ERR_NOT_FOUND);
  free(v1);
  free(v2);
}

/* Gets that start while no commit has completed share one snapshot; after
 * a commit a Get takes a fresh one and sees it, and the older borrowed
 * value stays intact. */
static void gets_between_commits_share_one_pin(void **state) {
  struct fixture *f = *state;
  size_t n = (size_t)64 << 10, len, i;
  uint8_t *v1 = malloc(n), *v2 = malloc(n);
  struct store_pin *pins[10], *later;
  const uint8_t *got[10], *now;

  assert_non_null(v1);
  assert_non_null(v2);
  memset(v1, 1, n);
  memset(v2, 2, n);
  assert_int_equal(soupc__store_put(f->store, (const uint8_t *)"k", 1, v1, n),
                   0);
  for (i = 0; i < 10; i++) {
    assert_int_equal(soupc__store_get_pinned(f->store, &got[i], &len, &pins[i],
                                             (const uint8_t *)"k", 1),
                     0);
    assert_ptr_equal(pins[i], pins[0]);
  }
  assert_int_equal(soupc__store_put(f->store, (const uint8_t *)"k", 1, v2, n),
                   0);
  assert_int_equal(soupc__store_get_pinned(f->store, &now, &len, &later,
                                           (const uint8_t *)"k", 1),
                   0);
  assert_non_null(later);
  assert_ptr_not_equal(later, pins[0]);
  assert_memory_equal(now, v2, n); /* linearizable: sees the acked Put */
  for (i = 0; i < 10; i++) {
    assert_memory_equal(got[i], v1, n);
    soupc__store_unpin(pins[i]);
  }
  soupc__store_unpin(later);
  free(v1);
  free(v2);
}

/* Past the budget of pinned snapshots a large value is copied, not
 * refused. A commit between Gets makes each one need a snapshot of its
 * own. */
static void pins_past_the_budget_are_copies(void **state) {
  struct fixture *f = *state;
  size_t n = (size_t)32 << 10, i, pinned = 0;
  uint8_t *v = calloc(1, n);
  struct store_pin *pins[300];
  const uint8_t *got[300];
  size_t len;

  assert_non_null(v);
  assert_int_equal(soupc__store_put(f->store, (const uint8_t *)"k", 1, v, n),
                   0);
  for (i = 0; i < 300; i++) {
    assert_int_equal(soupc__store_put(f->store, (const uint8_t *)"tick", 4,
                                      (const uint8_t *)"t", 1),
                     0);
    assert_int_equal(soupc__store_get_pinned(f->store, &got[i], &len, &pins[i],
                                             (const uint8_t *)"k", 1),
                     0);
    assert_int_equal(len, n);
    pinned += pins[i] != NULL;
  }
  assert_int_equal(pinned, 256);
  for (i = 0; i < 300; i++) {
    assert_memory_equal(got[i], v, n);
    if (pins[i] != NULL) {
      soupc__store_unpin(pins[i]);
    } else {
      soupc__free((void *)got[i]);
    }
  }
  free(v);
}

static void overwrite_replaces_the_value(void **state) {
  struct fixture *f = *state;

  assert_round_trip(f->store, (const uint8_t *)"k", 1,
                    (const uint8_t *)"first-longer", 12);
  assert_round_trip(f->store, (const uint8_t *)"k", 1, (const uint8_t *)"2nd",
                    3);
  assert_round_trip(f->store, (const uint8_t *)"k", 1, NULL, 0);
}

static void data_survives_close_and_reopen(void **state) {
  struct fixture *f = *state;
  uint8_t longkey[3000];
  soupc_status status;
  int i;

  memset(longkey, 'q', sizeof(longkey));
  assert_int_equal(soupc__store_put(f->store, (const uint8_t *)"persist", 7,
                                    (const uint8_t *)"yes", 3),
                   0);
  assert_int_equal(soupc__store_put(f->store, longkey, sizeof(longkey),
                                    (const uint8_t *)"long", 4),
                   0);
  assert_int_equal(
      soupc__store_put(f->store, (const uint8_t *)"zero", 4, NULL, 0), 0);
  soupc__store_close(f->store);
  f->store = NULL;

  /* Both sync modes must keep data across a clean close. */
  for (i = 0; i < 2; i++) {
    struct store_options opts = {0};
    opts.sync = i == 0 ? STORE_SYNC_NONE : STORE_SYNC_FULL;
    assert_int_equal(soupc__store_open(&f->store, f->dir, &opts, &status), 0);
    assert_value(f->store, (const uint8_t *)"persist", 7,
                 (const uint8_t *)"yes", 3);
    assert_value(f->store, longkey, sizeof(longkey), (const uint8_t *)"long",
                 4);
    assert_value(f->store, (const uint8_t *)"zero", 4, NULL, 0);
    if (i == 0) {
      assert_int_equal(soupc__store_put(f->store, (const uint8_t *)"nosync", 6,
                                        (const uint8_t *)"kept", 4),
                       0);
      soupc__store_close(f->store);
      f->store = NULL;
    }
  }
  assert_value(f->store, (const uint8_t *)"nosync", 6, (const uint8_t *)"kept",
               4);
}

static void open_on_a_file_says_not_a_directory(void **state) {
  struct fixture *f = *state;
  char path[300];
  soupc_status status;
  struct store *st = NULL;
  FILE *fp;

  snprintf(path, sizeof(path), "%s/plainfile", f->dir);
  fp = fopen(path, "w");
  assert_non_null(fp);
  fclose(fp);
  assert_int_equal(soupc__store_open(&st, path, NULL, &status), SOUPC_ERR_IO);
  assert_null(st);
  assert_non_null(strstr(status.message, "is not a directory"));
  assert_non_null(strstr(status.message, path));

  /* A file in the middle of the path too. */
  snprintf(path, sizeof(path), "%s/plainfile/sub", f->dir);
  assert_int_equal(soupc__store_open(&st, path, NULL, &status), SOUPC_ERR_IO);
  assert_non_null(strstr(status.message, "is not a directory"));
}

static void second_open_of_an_open_dir_is_refused(void **state) {
  struct fixture *f = *state;
  char alias[300];
  soupc_status status;
  struct store *st = NULL;

  /* LMDB forbids two envs on one dir in one process; a trailing slash or
   * another spelling of the path must not sneak past. */
  assert_int_equal(soupc__store_open(&st, f->dir, NULL, &status),
                   SOUPC_ERR_STORE);
  assert_null(st);
  assert_non_null(strstr(status.message, "already open"));
  snprintf(alias, sizeof(alias), "%s/./", f->dir);
  assert_int_equal(soupc__store_open(&st, alias, NULL, &status),
                   SOUPC_ERR_STORE);
  /* The refused open did not disturb the open store. */
  assert_round_trip(f->store, (const uint8_t *)"still", 5,
                    (const uint8_t *)"works", 5);
}

/* open, Put, Get, close; @return the first error. */
static int open_put_get_close(const char *dir) {
  struct store *st;
  uint8_t *got = NULL;
  size_t len;
  int rv;

  rv = soupc__store_open(&st, dir, NULL, NULL);
  if (rv != 0) {
    return rv;
  }
  rv = soupc__store_put(st, (const uint8_t *)"k", 1, (const uint8_t *)"v", 1);
  if (rv == 0) {
    rv = soupc__store_get(st, &got, &len, (const uint8_t *)"k", 1);
  }
  if (rv == 0 && (len != 1 || got[0] != 'v')) {
    rv = SOUPC_ERR_INTERNAL;
  }
  soupc__free(got);
  soupc__store_close(st);
  return rv;
}

/* STYLE.md allocation-failure sweep: fail allocation 1, 2, 3, ... until the
 * scenario passes; every failure must be NOMEM and leak nothing (ASan). */
static void each_allocation_failure_is_nomem(void **state) {
  struct fixture *f = *state;
  char dir[300];
  long n;
  int rv;

  snprintf(dir, sizeof(dir), "%s/sweep", f->dir);
  for (n = 1; n < 50; n++) {
    soupc__alloc_fail_at(n);
    rv = open_put_get_close(dir);
    soupc__alloc_fail_at(0);
    if (rv == 0) {
      break;
    }
    assert_int_equal(rv, SOUPC_ERR_NOMEM);
  }
  assert_true(n > 1 && n < 50);
}

static void empty_dir_name_is_invalid_argument(void **state) {
  struct store *st = NULL;

  (void)state;
  assert_int_equal(soupc__store_open(&st, "", NULL, NULL),
                   SOUPC_ERR_INVALID_ARGUMENT);
  assert_null(st);
}

/* Issue 8: each failure says what ran out (map or disk) or that the disk
 * failed, so the caller gets RESOURCE_EXHAUSTED or UNAVAILABLE. */
static void lmdb_errors_say_what_ran_out(void **state) {
  (void)state;
  assert_int_equal(soupc__store_err_from_mdb(MDB_MAP_FULL),
                   SOUPC_ERR_STORE_FULL);
  assert_int_equal(soupc__store_err_from_mdb(ENOSPC),
                   SOUPC__ERR_STORE_DISK_FULL);
  assert_int_equal(soupc__store_err_from_mdb(EDQUOT),
                   SOUPC__ERR_STORE_DISK_FULL);
  assert_int_equal(soupc__store_err_from_mdb(EIO), SOUPC_ERR_IO);
  assert_int_equal(soupc__store_err_from_mdb(MDB_CORRUPTED), SOUPC_ERR_STORE);
}

/* A short write is EIO in LMDB; with space left on the disk it stays EIO. */
static void eio_with_free_space_stays_eio(void **state) {
  struct fixture *f = *state;

  assert_int_equal(soupc__store_err_from_commit(f->store, EIO), SOUPC_ERR_IO);
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
      T(put_then_get_returns_the_value),
      T(get_of_missing_key_is_not_found),
      T(empty_value_is_found_and_distinct_from_missing),
      T(keys_with_nul_and_arbitrary_bytes_round_trip),
      T(long_keys_round_trip),
      T(long_keys_sharing_a_400_byte_prefix_stay_distinct),
      T(empty_and_over_limit_keys_are_invalid_argument),
      T(max_key_size_option_sets_the_limit),
      T(ten_mib_value_round_trips),
      T(overwrite_replaces_the_value),
      T(pinned_get_lends_a_stable_snapshot),
      T(gets_between_commits_share_one_pin),
      T(pins_past_the_budget_are_copies),
      T(data_survives_close_and_reopen),
      T(open_on_a_file_says_not_a_directory),
      T(second_open_of_an_open_dir_is_refused),
      T(each_allocation_failure_is_nomem),
      cmocka_unit_test(empty_dir_name_is_invalid_argument),
      cmocka_unit_test(lmdb_errors_say_what_ran_out),
      T(eio_with_free_space_stays_eio),
#undef T
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
