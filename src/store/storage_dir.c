/* The storage directory: where it is (rpc-spec.md §4.1) and creating it
 * (rpc-spec.md §12: mkdir -p, 0700, at startup). */
#include "store/store_int.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "base/alloc.h"

/* getenv, with "" treated as unset (Go: `if v := os.Getenv(k); v != ""`). */
static const char *env_nonempty(const char *name) {
  const char *v = getenv(name);

  return v != NULL && v[0] != '\0' ? v : NULL;
}

/* @return malloc'd base ++ suffix, with trailing '/' of base dropped so
 * "/tmp/" + "/tofusoup" does not give "//" (Go uses filepath.Join). */
static char *join(const char *base, const char *suffix) {
  size_t blen = strlen(base), slen = strlen(suffix);
  char *p;

  while (blen > 1 && base[blen - 1] == '/') {
    blen--;
  }
  p = soupc__malloc(blen + slen + 1);
  if (p == NULL) {
    return NULL;
  }
  snprintf(p, blen + slen + 1, "%.*s%s", (int)blen, base, suffix);
  return p;
}

int soupc__store_default_dir(char **out) {
  /* rpc-spec.md §4.1, strongest first; KV_STORAGE_DIR is used verbatim. */
  static const struct {
    const char *env;
    const char *suffix;
  } rules[] = {{"KV_STORAGE_DIR", NULL},
               {"TOFUSOUP_CACHE_DIR", "/kv-store"},
               {"XDG_CACHE_HOME", "/tofusoup/kv-store"},
               {"HOME", "/.cache/tofusoup/kv-store"}};
  const char *v;
  char *dir;
  size_t i;

  for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
    v = env_nonempty(rules[i].env);
    if (v != NULL) {
      break;
    }
  }
  if (v == NULL) {
    /* Go's os.TempDir(): $TMPDIR, else /tmp. */
    v = env_nonempty("TMPDIR");
    dir = join(v != NULL ? v : "/tmp", "/tofusoup/cache/kv-store");
  } else if (rules[i].suffix == NULL) {
    dir = soupc__strdup(v);
  } else {
    dir = join(v, rules[i].suffix);
  }
  if (dir == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  *out = dir;
  return 0;
}

/* Makes one path component. @return 0 or SOUPC_ERR_IO with @p status. */
static int make_one(const char *path, const char *full, soupc_status *status) {
  struct stat sb;
  int err;

  if (stat(path, &sb) == 0) {
    if (S_ISDIR(sb.st_mode)) {
      return 0;
    }
    soupc_status_set(status, soupc_err_to_grpc(SOUPC_ERR_IO),
                     "storage dir %s is not a directory", path);
    return SOUPC_ERR_IO;
  }
  /* 0700: the store holds whatever the plugin's callers put in it. */
  if (mkdir(path, 0700) == 0) {
    return 0;
  }
  err = errno;
  if (err == EEXIST && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
    return 0; /* another process made it meanwhile */
  }
  if (err == EACCES || err == EPERM) {
    soupc_status_set(status, soupc_err_to_grpc(SOUPC_ERR_IO),
                     "permission denied creating %s", path);
  } else if (err == ENOTDIR || err == EEXIST) {
    soupc_status_set(status, soupc_err_to_grpc(SOUPC_ERR_IO),
                     "storage dir %s is not a directory", full);
  } else {
    soupc_status_set(status, soupc_err_to_grpc(SOUPC_ERR_IO),
                     "cannot create storage dir %s: %s", path, strerror(err));
  }
  return SOUPC_ERR_IO;
}

int soupc__store_mkdirs(const char *dir, soupc_status *status) {
  char *path;
  char *p;
  int rv = 0;

  path = soupc__strdup(dir);
  if (path == NULL) {
    soupc_status_set(status, soupc_err_to_grpc(SOUPC_ERR_NOMEM),
                     "out of memory creating %s", dir);
    return SOUPC_ERR_NOMEM;
  }
  /* Each prefix ending before a '/', then the whole path. */
  for (p = path + 1; *p != '\0'; p++) {
    if (*p != '/' || p[-1] == '/') {
      continue;
    }
    *p = '\0';
    rv = make_one(path, dir, status);
    *p = '/';
    if (rv != 0) {
      goto done;
    }
  }
  rv = make_one(path, dir, status);

done:
  soupc__free(path);
  return rv;
}
