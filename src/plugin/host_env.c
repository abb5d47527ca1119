/* The environment a host gives its plugin (go-plugin-protocol.md §1,
 * §6.2.1): inherited (unless SkipHostEnv), minus what we set, then ours,
 * then the caller's entries, which win over both. */
#include "plugin/plugin_int.h"

#include <stdio.h>
#include <string.h>

#include "base/alloc.h"

extern char **environ;

static int key_matches(const char *entry, const char *key, size_t klen) {
  return strncmp(entry, key, klen) == 0 && entry[klen] == '=';
}

static size_t key_len(const char *entry) {
  const char *eq = strchr(entry, '=');

  return eq == NULL ? strlen(entry) : (size_t)(eq - entry);
}

/* Non-zero if @p entry's key is set by one of @p ours or @p extra. */
static int overridden(const char *entry, char *const *ours, size_t n_ours,
                      const char *const *extra) {
  size_t klen = key_len(entry), i;

  for (i = 0; i < n_ours; i++) {
    if (ours[i] != NULL && key_matches(ours[i], entry, klen)) {
      return 1;
    }
  }
  for (i = 0; extra != NULL && extra[i] != NULL; i++) {
    if (key_matches(extra[i], entry, klen)) {
      return 1;
    }
  }
  return 0;
}

/* Inherited entries that must never reach a plugin of ours. */
static int never_inherited(const char *entry) {
  static const char *const keys[] = {
      /* §6.2.1: only we decide on multiplexing. */
      "PLUGIN_MULTIPLEX_GRPC",
      /* A fd number from our own host means nothing to our plugin. */
      "SOUPC_PLUGIN_CLIENT_CERT_FD",
  };
  size_t i;

  for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
    if (key_matches(entry, keys[i], strlen(keys[i]))) {
      return 1;
    }
  }
  return 0;
}

static char *kv(const char *k, const char *v) {
  size_t cap = strlen(k) + strlen(v) + 2;
  char *s = soupc__malloc(cap);

  if (s != NULL) {
    snprintf(s, cap, "%s=%s", k, v);
  }
  return s;
}

/* "1,2,5": go-plugin joins its versions with ',' and no spaces. */
static void versions_text(char *buf, size_t cap, const int *vs, size_t n) {
  static const int def[] = {1};
  size_t used = 0, i;

  if (vs == NULL || n == 0) {
    vs = def;
    n = 1;
  }
  buf[0] = '\0';
  for (i = 0; i < n && used < cap; i++) {
    int w = snprintf(buf + used, cap - used, "%s%d", i == 0 ? "" : ",", vs[i]);

    used += w > 0 ? (size_t)w : 0;
  }
}

/* Allocates our own entries into env->ours. @return 0 or SOUPC_ERR_NOMEM. */
static int make_ours(struct host_env *env, const struct host_env_params *p) {
  char versions[256], fd_text[16];
  size_t n = 0, i;

  versions_text(versions, sizeof(versions), p->versions, p->n_versions);
  env->ours[n++] = kv(p->cookie_key, p->cookie_value);
  env->ours[n++] = kv("PLUGIN_MIN_PORT", "10000");
  env->ours[n++] = kv("PLUGIN_MAX_PORT", "25000");
  env->ours[n++] = kv("PLUGIN_PROTOCOL_VERSIONS", versions);
  if (p->client_cert_pem != NULL) {
    env->ours[n++] = kv("PLUGIN_CLIENT_CERT", p->client_cert_pem);
  } else if (p->cert_fd >= 0) {
    /* An inherited PLUGIN_CLIENT_CERT would win over the pipe. */
    snprintf(fd_text, sizeof(fd_text), "%d", p->cert_fd);
    env->ours[n++] = kv("PLUGIN_CLIENT_CERT", "");
    env->ours[n++] = kv("SOUPC_PLUGIN_CLIENT_CERT_FD", fd_text);
  }
  if (p->socket_dir != NULL) {
    env->ours[n++] = kv("PLUGIN_UNIX_SOCKET_DIR", p->socket_dir);
  }
  if (p->multiplex) {
    env->ours[n++] = kv("PLUGIN_MULTIPLEX_GRPC", "true");
  }
  for (i = 0; i < n; i++) {
    if (env->ours[i] == NULL) {
      return SOUPC_ERR_NOMEM;
    }
  }
  return 0;
}

int soupc__host_env_build(struct host_env *env,
                          const struct host_env_params *p) {
  char **inherited = p->skip_host_env ? NULL : environ;
  size_t n_env = 0, n_extra = 0, i, k = 0;
  int rv;

  memset(env, 0, sizeof(*env));
  rv = make_ours(env, p);
  if (rv != 0) {
    return rv;
  }
  while (inherited != NULL && inherited[n_env] != NULL) {
    n_env++;
  }
  while (p->extra != NULL && p->extra[n_extra] != NULL) {
    n_extra++;
  }
  env->envp =
      soupc__calloc(n_env + HOST_ENV_OURS + n_extra + 1, sizeof(char *));
  if (env->envp == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  for (i = 0; i < n_env; i++) {
    if (!overridden(inherited[i], env->ours, HOST_ENV_OURS, p->extra) &&
        !never_inherited(inherited[i])) {
      env->envp[k++] = inherited[i];
    }
  }
  for (i = 0; i < HOST_ENV_OURS; i++) {
    if (env->ours[i] != NULL && !overridden(env->ours[i], NULL, 0, p->extra)) {
      env->envp[k++] = env->ours[i];
    }
  }
  for (i = 0; i < n_extra; i++) {
    env->envp[k++] = (char *)p->extra[i];
  }
  env->envp[k] = NULL;
  return 0;
}

void soupc__host_env_dispose(struct host_env *env) {
  size_t i;

  soupc__free(env->envp);
  env->envp = NULL;
  for (i = 0; i < HOST_ENV_OURS; i++) {
    soupc__free(env->ours[i]);
    env->ours[i] = NULL;
  }
}
