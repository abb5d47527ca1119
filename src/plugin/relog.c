/* Re-logging a plugin's stderr the way a go-plugin host does
 * (go-plugin-protocol.md §2.6, log_entry.go): an hclog JSON line is logged
 * at its "@level" with its "@message" and the other keys as k=v pairs; any
 * other line by its "[LEVEL]" prefix, else at debug. */
#include "plugin/plugin_int.h"

#include <stdio.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "base/alloc.h"

/* hclog's text form is "message: k=v k2=v2"; the line is cut at this. */
#define MAX_MESSAGE 4096

/* Appends @p v as the value of a k=v pair (strings verbatim, numbers as
 * written, true/false/null by name). @return the new length (< cap). */
static size_t append_value(char *buf, size_t cap, size_t used, yajl_val v) {
  const char *text = YAJL_IS_STRING(v)   ? v->u.string
                     : YAJL_IS_NUMBER(v) ? v->u.number.r
                     : YAJL_IS_TRUE(v)   ? "true"
                     : YAJL_IS_FALSE(v)  ? "false"
                     : YAJL_IS_NULL(v)   ? "null"
                                         : "...";
  int n = snprintf(buf + used, cap - used, "%s", text);

  return n < 0 ? used : used + (size_t)n >= cap ? cap - 1 : used + (size_t)n;
}

/* Formats "message: k=v ..." from an hclog object into @p msg. */
static void format_pairs(char *msg, size_t cap, const char *message,
                         yajl_val root) {
  size_t used, i;
  int pairs = 0;
  int n = snprintf(msg, cap, "%s", message);

  used = n < 0 ? 0 : (size_t)n >= cap ? cap - 1 : (size_t)n;
  for (i = 0; i < root->u.object.len; i++) {
    const char *k = root->u.object.keys[i];

    if (strcmp(k, "@level") == 0 || strcmp(k, "@message") == 0 ||
        strcmp(k, "@timestamp") == 0 || used + 4 >= cap) {
      continue;
    }
    n = snprintf(msg + used, cap - used, "%s%s=", pairs == 0 ? ": " : " ", k);
    pairs++;
    if (n > 0 && used + (size_t)n < cap) {
      used += (size_t)n;
      used = append_value(msg, cap, used, root->u.object.values[i]);
    }
  }
}

/* @return non-zero if the line was an hclog object and has been logged. */
static int relog_json(const char *module, const char *line, size_t len) {
  const char *lk[] = {"@level", NULL}, *mk[] = {"@message", NULL};
  soupc_log_level level;
  yajl_val root, lv, mv;
  char *copy = soupc__strndup(line, len);
  int done = 0;

  if (copy == NULL) {
    return 0;
  }
  root = yajl_tree_parse(copy, NULL, 0);
  lv = yajl_tree_get(root, lk, yajl_t_string);
  mv = yajl_tree_get(root, mk, yajl_t_string);
  /* Only string @level/@message count (Go panics on anything else; we log
   * the line verbatim instead). */
  if (YAJL_IS_OBJECT(root) && lv != NULL && mv != NULL &&
      soupc_log_level_parse(&level, lv->u.string) == 0) {
    char msg[MAX_MESSAGE];

    format_pairs(msg, sizeof(msg), mv->u.string, root);
    soupc_log(level, module, "%s", msg);
    done = 1;
  }
  yajl_tree_free(root);
  soupc__free(copy);
  return done;
}

void soupc__plugin_relog(const char *module, const char *line, size_t len) {
  static const struct {
    const char *prefix;
    soupc_log_level level;
  } prefixes[] = {{"[TRACE]", SOUPC_LOG_TRACE},
                  {"[DEBUG]", SOUPC_LOG_DEBUG},
                  {"[INFO]", SOUPC_LOG_INFO},
                  {"[WARN]", SOUPC_LOG_WARN},
                  {"[ERROR]", SOUPC_LOG_ERROR}};
  soupc_log_level level = SOUPC_LOG_DEBUG;
  size_t i;

  if (len == 0) {
    return;
  }
  if (line[0] == '{') {
    if (!relog_json(module, line, len)) {
      soupc_log(SOUPC_LOG_DEBUG, module, "%.*s", (int)len, line);
    }
    return;
  }
  for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
    size_t plen = strlen(prefixes[i].prefix);

    if (len >= plen && memcmp(line, prefixes[i].prefix, plen) == 0) {
      level = prefixes[i].level;
      break;
    }
  }
  soupc_log(level, module, "%.*s", (int)len, line);
}
