/* proto.KV end to end in one process: the real transport and store, a
 * temporary directory, and soup-c's own client channel. (Interop with
 * clients nobody here wrote is in tests/interop/.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kv/kv.h"
#include "kv_bytes.pb-c.h"
#include "store/store.h"

struct fixture {
  char dir[64];
  struct store_backend *backend;
  struct kv_service *kv;
  soupc_server *srv;
  soupc_channel *ch;
};

static int start(struct fixture *f, int enrich) {
  struct store_options sopts = {0};
  struct kv_options kopts = {0};
  soupc_server_options srv_opts = SOUPC_SERVER_OPTIONS_INIT;
  struct store *store;
  soupc_status st;

  snprintf(f->dir, sizeof(f->dir), "/tmp/soupc-kvtest-XXXXXX");
  assert_non_null(mkdtemp(f->dir));
  sopts.sync = STORE_SYNC_NONE;
  assert_int_equal(soupc__store_open(&store, f->dir, &sopts, &st), 0);
  assert_int_equal(soupc__backend_lmdb_new(&f->backend, store), 0);
  kopts.max_key_size = 1000;
  kopts.enrich_json = enrich;
  assert_int_equal(soupc__kv_service_new(&f->kv, f->backend, &kopts), 0);
  srv_opts.workers = 2;
  srv_opts.max_message_size = 1 << 20;
  assert_int_equal(soupc_server_new(&f->srv, &srv_opts, &st), 0);
  assert_int_equal(soupc__kv_service_register(f->kv, f->srv), 0);
  assert_int_equal(soupc_server_listen(f->srv, "127.0.0.1:0", &st), 0);
  assert_int_equal(soupc_server_start(f->srv), 0);
  assert_int_equal(
      soupc_channel_open(&f->ch, soupc_server_address(f->srv), NULL, &st), 0);
  return 0;
}

static int setup(void **state) {
  struct fixture *f = calloc(1, sizeof(*f));
  start(f, 0);
  *state = f;
  return 0;
}

static int setup_enrich(void **state) {
  struct fixture *f = calloc(1, sizeof(*f));
  start(f, 1);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fixture *f = *state;
  char cmd[128];

  soupc_channel_free(f->ch);
  soupc_server_free(f->srv);
  soupc__kv_service_free(f->kv);
  soupc__backend_close(f->backend);
  snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
  assert_int_equal(system(cmd), 0);
  free(f);
  return 0;
}

/* soupc_channel_unary() with a 10 s deadline; @return the gRPC code, after
 * checking that the call returned 0 exactly for OK and SOUPC_ERR_STATUS for
 * the server's other answers. */
static int unary_code(soupc_channel *ch, const char *path, const uint8_t *req,
                      size_t len, uint8_t **resp, size_t *resp_len,
                      soupc_status *st) {
  soupc_status local;
  int rv;

  if (st == NULL) {
    st = &local;
  }
  rv = soupc_channel_unary(ch, path, req, len, resp, resp_len, 10000, st);
  assert_int_equal(rv, st->code == SOUPC_GRPC_OK ? 0 : SOUPC_ERR_STATUS);
  return st->code;
}

static int put(soupc_channel *ch, const void *key, size_t klen, const void *val,
               size_t vlen, soupc_status *st) {
  Proto__PutRequest req = PROTO__PUT_REQUEST__INIT;
  uint8_t buf[4096], *resp = NULL;
  size_t resp_len = 0, len;
  int code;

  req.key.data = (uint8_t *)key;
  req.key.len = klen;
  req.value.data = (uint8_t *)val;
  req.value.len = vlen;
  len = proto__put_request__pack(&req, buf);
  code = unary_code(ch, "/proto.KV/Put", buf, len, &resp, &resp_len, st);
  soupc_free(resp);
  return code;
}

/* On OK, *out is a malloc'd NUL-terminated copy of the value. */
static int get(soupc_channel *ch, const void *key, size_t klen, char **out,
               size_t *out_len, soupc_status *st) {
  Proto__GetRequest req = PROTO__GET_REQUEST__INIT;
  Proto__GetResponse *msg;
  uint8_t buf[4096], *resp = NULL;
  size_t resp_len = 0, len;
  int code;

  req.key.data = (uint8_t *)key;
  req.key.len = klen;
  len = proto__get_request__pack(&req, buf);
  code = unary_code(ch, "/proto.KV/Get", buf, len, &resp, &resp_len, st);
  if (code == SOUPC_GRPC_OK) {
    msg = proto__get_response__unpack(NULL, resp_len, resp);
    assert_non_null(msg);
    *out = malloc(msg->value.len + 1);
    if (msg->value.len > 0) {
      memcpy(*out, msg->value.data, msg->value.len);
    }
    (*out)[msg->value.len] = '\0';
    *out_len = msg->value.len;
    proto__get_response__free_unpacked(msg, NULL);
  }
  free(resp);
  return code;
}

static void put_then_get_returns_the_exact_bytes(void **state) {
  struct fixture *f = *state;
  static const char key[] = "nul\0key \xf0\x9f\x98\x80";
  static const char val[] = "\0\x01\xff value";
  soupc_status st;
  char *out = NULL;
  size_t out_len = 0;

  assert_int_equal(put(f->ch, key, sizeof(key) - 1, val, sizeof(val) - 1, &st),
                   SOUPC_GRPC_OK);
  assert_int_equal(get(f->ch, key, sizeof(key) - 1, &out, &out_len, &st),
                   SOUPC_GRPC_OK);
  assert_int_equal(out_len, sizeof(val) - 1);
  assert_memory_equal(out, val, out_len);
  free(out);
  /* The key cut at its NUL is a different key. */
  assert_int_equal(get(f->ch, key, 3, &out, &out_len, &st),
                   SOUPC_GRPC_NOT_FOUND);
}

static void empty_value_is_not_a_missing_key(void **state) {
  struct fixture *f = *state;
  soupc_status st;
  char *out = NULL;
  size_t out_len = 99;

  assert_int_equal(put(f->ch, "e", 1, "", 0, &st), SOUPC_GRPC_OK);
  assert_int_equal(get(f->ch, "e", 1, &out, &out_len, &st), SOUPC_GRPC_OK);
  assert_int_equal(out_len, 0);
  free(out);
}

static void missing_key_is_not_found_with_the_key_in_the_message(void **state) {
  struct fixture *f = *state;
  soupc_status st;
  char *out = NULL;
  size_t out_len;

  assert_int_equal(get(f->ch, "absent", 6, &out, &out_len, &st),
                   SOUPC_GRPC_NOT_FOUND);
  assert_string_equal(st.message, "key not found: absent");
}

static void bad_keys_are_invalid_argument(void **state) {
  struct fixture *f = *state;
  char big[1001];
  soupc_status st;

  memset(big, 'k', sizeof(big));
  assert_int_equal(put(f->ch, "", 0, "v", 1, &st), SOUPC_GRPC_INVALID_ARGUMENT);
  assert_non_null(strstr(st.message, "empty"));
  assert_int_equal(put(f->ch, "\xc3\x28", 2, "v", 1, &st),
                   SOUPC_GRPC_INVALID_ARGUMENT);
  assert_non_null(strstr(st.message, "UTF-8"));
  assert_int_equal(put(f->ch, big, sizeof(big), "v", 1, &st),
                   SOUPC_GRPC_INVALID_ARGUMENT);
  assert_non_null(strstr(st.message, "limit is 1000"));
}

static void garbage_request_is_invalid_argument(void **state) {
  struct fixture *f = *state;
  static const uint8_t junk[] = {0xff, 0xff, 0xff};
  uint8_t *resp = NULL;
  size_t resp_len = 0;
  soupc_status st;

  assert_int_equal(soupc_channel_unary(f->ch, "/proto.KV/Put", junk,
                                       sizeof(junk), &resp, &resp_len, 5000,
                                       &st),
                   SOUPC_ERR_STATUS);
  assert_int_equal(st.code, SOUPC_GRPC_INVALID_ARGUMENT);
  assert_null(resp);
}

struct writer {
  soupc_channel *ch;
  int id;
};

static void *write_same_key(void *arg) {
  struct writer *w = arg;
  soupc_status st;
  char val[32];
  int i;

  for (i = 0; i < 20; i++) {
    snprintf(val, sizeof(val), "writer-%d-%d", w->id, i);
    assert_int_equal(put(w->ch, "shared", 6, val, strlen(val), &st),
                     SOUPC_GRPC_OK);
  }
  return NULL;
}

static void concurrent_puts_leave_one_written_value(void **state) {
  struct fixture *f = *state;
  pthread_t threads[4];
  struct writer w[4];
  soupc_status st;
  char *out = NULL;
  size_t out_len;
  int i, id, n;

  for (i = 0; i < 4; i++) {
    w[i].ch = f->ch;
    w[i].id = i;
    pthread_create(&threads[i], NULL, write_same_key, &w[i]);
  }
  for (i = 0; i < 4; i++) {
    pthread_join(threads[i], NULL);
  }
  assert_int_equal(get(f->ch, "shared", 6, &out, &out_len, &st), SOUPC_GRPC_OK);
  /* Each writer's last Put was its 19th; the survivor is one of those. */
  assert_int_equal(sscanf(out, "writer-%d-%d", &id, &n), 2);
  assert_in_range(id, 0, 3);
  assert_int_equal(n, 19);
  free(out);
}

/* Values from 16 KiB up leave through the zero-copy path (LMDB lends the
 * bytes, the transport sends them by reference): they must arrive intact,
 * also the sizes around the frame and threshold boundaries. */
static void
large_values_arrive_intact_through_the_zero_copy_path(void **state) {
  static const size_t sizes[] = {16383, 16384, 16385, 300000, 1000000};
  struct fixture *f = *state;
  Proto__PutRequest req = PROTO__PUT_REQUEST__INIT;
  uint8_t *val, *buf, *resp;
  size_t i, j, len, resp_len, out_len;
  soupc_status st;
  char *out;

  for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    val = malloc(sizes[i]);
    buf = malloc(sizes[i] + 64);
    assert_non_null(val);
    assert_non_null(buf);
    for (j = 0; j < sizes[i]; j++) {
      val[j] = (uint8_t)(j * 2654435761u >> 11 ^ i);
    }
    req.key.data = (uint8_t *)"big";
    req.key.len = 3;
    req.value.data = val;
    req.value.len = sizes[i];
    len = proto__put_request__pack(&req, buf);
    resp = NULL;
    assert_int_equal(soupc_channel_unary(f->ch, "/proto.KV/Put", buf, len,
                                         &resp, &resp_len, 10000, &st),
                     0);
    free(resp);
    /* Twice: the second Get renews a cached reader released by the first. */
    for (j = 0; j < 2; j++) {
      out = NULL;
      assert_int_equal(get(f->ch, "big", 3, &out, &out_len, &st),
                       SOUPC_GRPC_OK);
      assert_int_equal(out_len, sizes[i]);
      assert_memory_equal(out, val, sizes[i]);
      free(out);
    }
    free(buf);
    free(val);
  }
}

static void enrichment_adds_server_handshake_to_objects_only(void **state) {
  struct fixture *f = *state;
  soupc_status st;
  char *out = NULL;
  size_t out_len;

  assert_int_equal(put(f->ch, "j", 1, "{\"a\":1}", 7, &st), SOUPC_GRPC_OK);
  assert_int_equal(get(f->ch, "j", 1, &out, &out_len, &st), SOUPC_GRPC_OK);
  assert_non_null(
      strstr(out, "\"server_handshake\":{\"endpoint\":\"127.0.0.1:"));
  assert_non_null(strstr(out, "\"server_language\":\"c\""));
  free(out);
  assert_int_equal(put(f->ch, "n", 1, "null", 4, &st), SOUPC_GRPC_OK);
  assert_int_equal(get(f->ch, "n", 1, &out, &out_len, &st), SOUPC_GRPC_OK);
  assert_string_equal(out, "null");
  free(out);
}

static void without_enrichment_json_is_returned_unchanged(void **state) {
  struct fixture *f = *state;
  soupc_status st;
  char *out = NULL;
  size_t out_len;

  assert_int_equal(put(f->ch, "j", 1, "{\"a\":1}", 7, &st), SOUPC_GRPC_OK);
  assert_int_equal(get(f->ch, "j", 1, &out, &out_len, &st), SOUPC_GRPC_OK);
  assert_string_equal(out, "{\"a\":1}");
  free(out);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(put_then_get_returns_the_exact_bytes,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(empty_value_is_not_a_missing_key, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(
          missing_key_is_not_found_with_the_key_in_the_message, setup,
          teardown),
      cmocka_unit_test_setup_teardown(bad_keys_are_invalid_argument, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(garbage_request_is_invalid_argument,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(
          large_values_arrive_intact_through_the_zero_copy_path, setup,
          teardown),
      cmocka_unit_test_setup_teardown(concurrent_puts_leave_one_written_value,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(
          enrichment_adds_server_handshake_to_objects_only, setup_enrich,
          teardown),
      cmocka_unit_test_setup_teardown(
          without_enrichment_json_is_returned_unchanged, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
