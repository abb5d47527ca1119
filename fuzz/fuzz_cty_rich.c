/* libFuzzer target: soup-go's rich JSON dialect, read and written back,
 * and the value operations that take any value: Walk, Transform,
 * UnknownAsNull, UnmarkDeepWithPaths / MarkWithPaths, Equals, GoString,
 * Range and msgpack. Input: a soup-go type description, '\n', a rich value.
 * Invariants: what is written reads back to what is written the same way
 * (for types with no dynamic inside: the dialect does not write those
 * types); stripping marks
 * and putting them back gives the value again; Walk and an identity
 * Transform see every value. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "soupc/cty.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count_visit(const soupc_cty_path *path, const soupc_cty_value *v,
                       void *user_data) {
  (void)path;
  (void)v;
  ++*(size_t *)user_data;
  return 1;
}

static int identity(soupc_cty_value **out, const soupc_cty_path *path,
                    const soupc_cty_value *v, void *user_data) {
  (void)path;
  ++*(size_t *)user_data;
  *out = soupc_cty_value_ref(v);
  return 0;
}

/* What the dialect writes reads back to a value it writes the same way
 * (not always a RawEqual one: an empty refinement, which RawEquals sees,
 * has no spelling). */
static void check_round_trip(const soupc_cty_value *v,
                             const soupc_cty_type *ty) {
  soupc_cty_value *back = NULL;
  soupc_status st;
  char *js = NULL, *js2 = NULL;
  size_t len = 0, len2 = 0;

  /* the dialect writes a dynamic-typed value without its type, so only a
   * type with no dynamic inside reads back the same */
  if (soupc_cty_type_has_dynamic(ty) ||
      soupc_cty_value_to_rich_json(&js, &len, v, &st) != 0) {
    return; /* (or a '$' key, which has no rich spelling) */
  }
  if (soupc_cty_value_from_rich_json(&back, ty, js, len, &st) == 0 &&
      soupc_cty_value_to_rich_json(&js2, &len2, back, &st) == 0) {
    assert(len == len2 && memcmp(js, js2, len) == 0);
  }
  soupc_cty_free_bytes(js2);
  soupc_cty_value_free(back);
  soupc_cty_free_bytes(js);
}

static void check_marks(const soupc_cty_value *v) {
  soupc_cty_value *plain = NULL, *again = NULL;
  soupc_cty_path_marks *pm = NULL;
  soupc_status st;

  if (soupc_cty_value_unmark_deep_with_paths(&plain, &pm, v) != 0) {
    return;
  }
  assert(!soupc_cty_value_contains_marked(plain));
  if (soupc_cty_value_mark_with_paths(&again, plain, pm, &st) == 0) {
    assert(soupc_cty_value_raw_equals(again, v));
  }
  soupc_cty_value_free(again);
  soupc_cty_path_marks_free(pm);
  soupc_cty_value_free(plain);
}

static void check_operations(const soupc_cty_value *v,
                             const soupc_cty_type *ty) {
  soupc_cty_value *r = NULL;
  soupc_cty_range *rng = NULL;
  soupc_status st;
  size_t walked = 0, transformed = 0;
  char *gs = NULL;
  uint8_t *mp = NULL;
  size_t ml = 0;

  if (soupc_cty_walk(v, count_visit, &walked) == 0 &&
      soupc_cty_transform(&r, v, identity, &transformed, &st) == 0) {
    assert(walked == transformed && soupc_cty_value_raw_equals(r, v));
  }
  soupc_cty_value_free(r);
  r = NULL;
  if (soupc_cty_unknown_as_null(&r, v, &st) == 0) {
    assert(soupc_cty_value_is_wholly_known(r));
  }
  soupc_cty_value_free(r);
  r = NULL;
  if (soupc_cty_value_equals(&r, v, v, &st) == 0) {
    soupc_cty_value_free(r);
  }
  if (soupc_cty_value_gostring(&gs, NULL, v) == 0) {
    soupc_cty_free_bytes(gs);
  }
  if (soupc_cty_value_range(&rng, v, &st) == 0) {
    soupc_cty_range_free(rng);
  }
  if (soupc_cty_msgpack_encode(&mp, &ml, v, ty, &st) == 0) {
    soupc_cty_value *back = NULL;
    if (soupc_cty_msgpack_decode(&back, ty, mp, ml, &st) == 0) {
      soupc_cty_value_free(back);
    }
    soupc_cty_free_bytes(mp);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *nl = memchr(data, '\n', size);
  soupc_cty_type *ty = NULL;
  soupc_cty_value *v = NULL;
  soupc_status st;
  size_t tlen;

  if (nl == NULL) {
    return 0;
  }
  tlen = (size_t)(nl - data);
  if (soupc_cty_type_parse(&ty, (const char *)data, tlen, &st) != 0) {
    return 0;
  }
  if (soupc_cty_value_from_rich_json(&v, ty, (const char *)nl + 1,
                                     size - tlen - 1, &st) == 0) {
    check_round_trip(v, ty);
    check_marks(v);
    check_operations(v, ty);
    soupc_cty_value_free(v);
  }
  soupc_cty_type_free(ty);
  return 0;
}
