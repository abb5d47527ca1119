/* Helpers shared by the store unit tests: a temporary directory that is
 * removed afterwards, so no test leaves anything behind. */
#ifndef SOUPC_TESTS_STORE_TEST_UTIL_H
#define SOUPC_TESTS_STORE_TEST_UTIL_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline int rm_entry(const char *path, const struct stat *sb, int flag,
                           struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(path);
}

/* Removes @p dir and everything below it. */
static inline void rm_rf(const char *dir) {
  nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Makes a fresh directory under $TMPDIR (or /tmp) in @p buf. */
static inline char *make_temp_dir(char *buf, size_t cap) {
  const char *tmp = getenv("TMPDIR");

  snprintf(buf, cap, "%s/soupc-store-test.XXXXXX",
           tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
  return mkdtemp(buf);
}

#endif
