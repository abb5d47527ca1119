/* src/store/storage_dir.c: rpc-spec.md §4.1 resolution and mkdir -p 0700. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/alloc.h"
#include "store/store.h"
#include "store_test_util.h"

static const char *const env_names[] = {"KV_STORAGE_DIR", "TOFUSOUP_CACHE_DIR",
                                        "XDG_CACHE_HOME", "HOME", "TMPDIR"};
#define N_ENV (sizeof(env_names) / sizeof(env_names[0]))

/* Saves the variables the resolver reads and clears them. */
static int save_env(void **state) {
  char **saved = calloc(N_ENV, sizeof(char *));
  const char *v;
  size_t i;

  if (saved == NULL) {
    return -1;
  }
  for (i = 0; i < N_ENV; i++) {
    v = getenv(env_names[i]);
    saved[i] = v != NULL ? strdup(v) : NULL;
    unsetenv(env_names[i]);
  }
  *state = saved;
  return 0;
}

static int restore_env(void **state) {
  char **saved = *state;
  size_t i;

  for (i = 0; i < N_ENV; i++) {
    if (saved[i] != NULL) {
      setenv(env_names[i], saved[i], 1);
      free(saved[i]);
    } else {
      unsetenv(env_names[i]);
    }
  }
  free(saved);
  return 0;
}

static void assert_default_dir(const char *want) {
  char *dir = NULL;

  assert_int_equal(soupc__store_default_dir(&dir), 0);
  assert_string_equal(dir, want);
  soupc__free(dir);
}

static void default_dir_follows_spec_precedence(void **state) {
  (void)state;
  /* Peel the variables off from the strongest down (rpc-spec.md §4.1). */
  setenv("KV_STORAGE_DIR", "/kv", 1);
  setenv("TOFUSOUP_CACHE_DIR", "/tofu", 1);
  setenv("XDG_CACHE_HOME", "/xdg", 1);
  setenv("HOME", "/home/u", 1);
  setenv("TMPDIR", "/scratch", 1);
  assert_default_dir("/kv");
  unsetenv("KV_STORAGE_DIR");
  assert_default_dir("/tofu/kv-store");
  unsetenv("TOFUSOUP_CACHE_DIR");
  assert_default_dir("/xdg/tofusoup/kv-store");
  unsetenv("XDG_CACHE_HOME");
  assert_default_dir("/home/u/.cache/tofusoup/kv-store");
  unsetenv("HOME");
  assert_default_dir("/scratch/tofusoup/cache/kv-store");
  unsetenv("TMPDIR");
  assert_default_dir("/tmp/tofusoup/cache/kv-store");
}

static void empty_variables_count_as_unset(void **state) {
  (void)state;
  setenv("KV_STORAGE_DIR", "", 1);
  setenv("TOFUSOUP_CACHE_DIR", "", 1);
  setenv("XDG_CACHE_HOME", "", 1);
  setenv("HOME", "/h", 1);
  assert_default_dir("/h/.cache/tofusoup/kv-store");
}

static void kv_storage_dir_is_used_verbatim(void **state) {
  (void)state;
  setenv("KV_STORAGE_DIR", "relative/dir/", 1);
  assert_default_dir("relative/dir/");
  unsetenv("KV_STORAGE_DIR");
  setenv("TOFUSOUP_CACHE_DIR", "/tofu/", 1);
  assert_default_dir("/tofu/kv-store");
}

static void open_creates_missing_dirs_0700(void **state) {
  char base[256], dir[400], mid[300];
  struct store *st;
  struct stat sb;

  (void)state;
  assert_non_null(make_temp_dir(base, sizeof(base)));
  snprintf(mid, sizeof(mid), "%s/a", base);
  snprintf(dir, sizeof(dir), "%s/a/b/kv-store", base);
  assert_int_equal(soupc__store_open(&st, dir, NULL, NULL), 0);
  soupc__store_close(st);
  assert_int_equal(stat(dir, &sb), 0);
  assert_true(S_ISDIR(sb.st_mode));
  assert_int_equal(sb.st_mode & 07777, 0700);
  assert_int_equal(stat(mid, &sb), 0);
  assert_int_equal(sb.st_mode & 07777, 0700);
  rm_rf(base);
}

static void open_keeps_an_existing_dirs_mode(void **state) {
  char base[256];
  struct store *st;
  struct stat sb;

  (void)state;
  assert_non_null(make_temp_dir(base, sizeof(base)));
  assert_int_equal(chmod(base, 0750), 0);
  assert_int_equal(soupc__store_open(&st, base, NULL, NULL), 0);
  soupc__store_close(st);
  assert_int_equal(stat(base, &sb), 0);
  assert_int_equal(sb.st_mode & 07777, 0750);
  rm_rf(base);
}

/* Runs soupc__store_open(@p dir) as an unprivileged user (root ignores
 * modes, so a root test drops to nobody in a child) and checks the error
 * message contains @p want and @p dir. */
static void assert_open_denied(const char *dir, const char *want) {
  soupc_status status;
  struct store *st = NULL;
  int rv, wstatus;
  pid_t pid;

  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) {
      _exit(3);
    }
    memset(&status, 0, sizeof(status));
    rv = soupc__store_open(&st, dir, NULL, &status);
    if (rv == 0) {
      _exit(1);
    }
    if (strstr(status.message, want) == NULL ||
        strstr(status.message, dir) == NULL) {
      fprintf(stderr, "got: %s\n", status.message);
      _exit(2);
    }
    _exit(0);
  }
  assert_int_equal(waitpid(pid, &wstatus, 0), pid);
  assert_true(WIFEXITED(wstatus));
  if (WEXITSTATUS(wstatus) == 3) {
    skip(); /* cannot drop privileges here */
  }
  assert_int_equal(WEXITSTATUS(wstatus), 0);
}

static void
creating_under_a_read_only_dir_says_permission_denied(void **state) {
  char base[256], dir[400];

  (void)state;
  assert_non_null(make_temp_dir(base, sizeof(base)));
  assert_int_equal(chmod(base, 0555), 0);
  snprintf(dir, sizeof(dir), "%s/kv-store", base);
  assert_open_denied(dir, "permission denied creating");
  chmod(base, 0700);
  rm_rf(base);
}

static void opening_a_read_only_dir_says_permission_denied(void **state) {
  char base[256];

  (void)state;
  assert_non_null(make_temp_dir(base, sizeof(base)));
  assert_int_equal(chmod(base, 0555), 0);
  assert_open_denied(base, "permission denied opening the store");
  chmod(base, 0700);
  rm_rf(base);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(default_dir_follows_spec_precedence,
                                      save_env, restore_env),
      cmocka_unit_test_setup_teardown(empty_variables_count_as_unset, save_env,
                                      restore_env),
      cmocka_unit_test_setup_teardown(kv_storage_dir_is_used_verbatim, save_env,
                                      restore_env),
      cmocka_unit_test(open_creates_missing_dirs_0700),
      cmocka_unit_test(open_keeps_an_existing_dirs_mode),
      cmocka_unit_test(creating_under_a_read_only_dir_says_permission_denied),
      cmocka_unit_test(opening_a_read_only_dir_says_permission_denied),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
