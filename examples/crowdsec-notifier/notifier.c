/* notification-cfile: a CrowdSec notification plugin written in C with
 * libsoupc. CrowdSec launches it as a go-plugin gRPC plugin, sends each
 * notification configuration of type "cfile" with Notifier/Configure, then
 * every batch of alerts its profiles route to one of them with
 * Notifier/Notify. Each notification's text is appended, byte for byte and
 * followed by a newline, to the configuration's output_file.
 *
 *   /etc/crowdsec/notifications/cfile.yaml:
 *     type: cfile
 *     name: cfile_default        # what profiles.yaml lists under
 *     log_level: info            # notifications:
 *     format: |
 *       {{range .}}{{.Scenario}} {{.Source.IP}}{{end}}
 *     output_file: /var/log/crowdsec-alerts.log
 *
 * CrowdSec puts a fresh random value in CROWDSEC_PLUGIN_KEY for every
 * plugin it starts, so the plugin takes its magic cookie's value from the
 * environment, as CrowdSec's own Go plugins do: the cookie only tells a
 * person who runs the binary by hand that it is a plugin. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <fcntl.h>
#include <unistd.h>

#include <yaml.h>

#include "notifier.pb-c.h"
#include "soupc/plugin.h"

#define COOKIE_KEY "CROWDSEC_PLUGIN_KEY"
#define MAX_CONFIGS 64

/* One notification configuration, keyed by its name. */
struct config {
  char *name;
  char *output_file;
};

/* Handlers run on the server's worker threads; the lock also serialises
 * appends, so two notifications never interleave in a file. */
static pthread_mutex_t configs_mu = PTHREAD_MUTEX_INITIALIZER;
static struct config configs[MAX_CONFIGS];
static size_t nconfigs;

static void reply_empty(soupc_call *call) {
  Proto__Empty empty = PROTO__EMPTY__INIT;
  uint8_t buf[8];

  soupc_call_reply(call, buf, proto__empty__pack(&empty, buf));
}

/* Reads the top-level "name", "output_file" and "log_level" of the YAML
 * document CrowdSec sends (its PluginConfig, marshalled, with our own keys
 * inline). Nested values are skipped. On error *why says what, for the
 * status message. @return 0 or -1. */
static int parse_config(const uint8_t *doc, size_t len, char **name,
                        char **output_file, char **log_level, char *why,
                        size_t why_len) {
  yaml_parser_t parser;
  yaml_event_t ev;
  char *key = NULL;
  int depth = 0, rv = -1, done = 0;

  if (!yaml_parser_initialize(&parser)) {
    snprintf(why, why_len, "out of memory");
    return -1;
  }
  yaml_parser_set_input_string(&parser, doc, len);
  while (!done) {
    if (!yaml_parser_parse(&parser, &ev)) {
      snprintf(why, why_len, "not YAML: %s at line %zu",
               parser.problem != NULL ? parser.problem : "error",
               parser.problem_mark.line + 1);
      goto out;
    }
    switch (ev.type) {
    case YAML_MAPPING_START_EVENT:
    case YAML_SEQUENCE_START_EVENT:
      depth++;
      if (depth > 1 && key != NULL) {
        free(key); /* a nested value: not one of ours */
        key = NULL;
      }
      break;
    case YAML_MAPPING_END_EVENT:
    case YAML_SEQUENCE_END_EVENT:
      depth--;
      break;
    case YAML_SCALAR_EVENT:
      if (depth != 1) {
        break;
      }
      if (key == NULL) {
        key = strdup((const char *)ev.data.scalar.value);
        if (key == NULL) {
          yaml_event_delete(&ev);
          snprintf(why, why_len, "out of memory");
          goto out;
        }
      } else {
        char **dst = strcmp(key, "name") == 0          ? name
                     : strcmp(key, "output_file") == 0 ? output_file
                     : strcmp(key, "log_level") == 0   ? log_level
                                                       : NULL;
        if (dst != NULL) {
          free(*dst);
          *dst = strdup((const char *)ev.data.scalar.value);
        }
        free(key);
        key = NULL;
      }
      break;
    case YAML_STREAM_END_EVENT:
      done = 1;
      break;
    default:
      break;
    }
    yaml_event_delete(&ev);
  }
  rv = 0;

out:
  free(key);
  yaml_parser_delete(&parser);
  return rv;
}

static void configure(soupc_call *call, const uint8_t *req, size_t len,
                      void *ud) {
  Proto__Config *msg = proto__config__unpack(NULL, len, req);
  char *name = NULL, *out = NULL, *level = NULL;
  char why[256];
  soupc_log_level lv;
  size_t i;

  (void)ud;
  if (msg == NULL) {
    soupc_call_fail(call, SOUPC_GRPC_INVALID_ARGUMENT, "bad Config message");
    return;
  }
  if (parse_config(msg->config.data, msg->config.len, &name, &out, &level, why,
                   sizeof(why)) != 0) {
    soupc_call_fail(call, SOUPC_GRPC_INVALID_ARGUMENT, "config: %s", why);
    goto done;
  }
  if (name == NULL || name[0] == '\0' || out == NULL || out[0] != '/') {
    soupc_call_fail(call, SOUPC_GRPC_INVALID_ARGUMENT,
                    "config \"%s\" needs a name and an absolute output_file",
                    name != NULL ? name : "");
    goto done;
  }
  if (level != NULL && soupc_log_level_parse(&lv, level) == 0) {
    soupc_log_configure(lv, SOUPC_LOG_HCLOG_JSON);
  }
  pthread_mutex_lock(&configs_mu);
  for (i = 0; i < nconfigs && strcmp(configs[i].name, name) != 0; i++) {
  }
  if (i == MAX_CONFIGS) {
    pthread_mutex_unlock(&configs_mu);
    soupc_call_fail(call, SOUPC_GRPC_RESOURCE_EXHAUSTED,
                    "more than %d cfile configurations", MAX_CONFIGS);
    goto done;
  }
  if (i == nconfigs) {
    configs[nconfigs++].name = name;
    name = NULL;
  }
  free(configs[i].output_file);
  configs[i].output_file = out;
  out = NULL;
  soupc_log(SOUPC_LOG_INFO, "cfile", "notification %s appends to %s",
            configs[i].name, configs[i].output_file);
  pthread_mutex_unlock(&configs_mu);
  reply_empty(call);

done:
  free(name);
  free(out);
  free(level);
  proto__config__free_unpacked(msg, NULL);
}

/* Appends @p text and a newline; write(2) may take less than asked. */
static int append(const char *path, const char *text, size_t len) {
  static char newline[] = "\n";
  struct iovec iov[2];
  int fd, i = 0;

  fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return -1;
  }
  iov[0].iov_base = (void *)text;
  iov[0].iov_len = len;
  iov[1].iov_base = newline;
  iov[1].iov_len = 1;
  while (i < 2) {
    ssize_t n = writev(fd, &iov[i], 2 - i);

    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      int saved = errno;

      close(fd);
      errno = saved;
      return -1;
    }
    while (i < 2 && (size_t)n >= iov[i].iov_len) {
      n -= (ssize_t)iov[i].iov_len;
      i++;
    }
    if (i < 2) {
      iov[i].iov_base = (char *)iov[i].iov_base + n;
      iov[i].iov_len -= (size_t)n;
    }
  }
  return close(fd);
}

static void notify(soupc_call *call, const uint8_t *req, size_t len, void *ud) {
  Proto__Notification *msg = proto__notification__unpack(NULL, len, req);
  size_t i;

  (void)ud;
  if (msg == NULL) {
    soupc_call_fail(call, SOUPC_GRPC_INVALID_ARGUMENT,
                    "bad Notification message");
    return;
  }
  pthread_mutex_lock(&configs_mu);
  for (i = 0; i < nconfigs && strcmp(configs[i].name, msg->name) != 0; i++) {
  }
  if (i == nconfigs) {
    pthread_mutex_unlock(&configs_mu);
    soupc_call_fail(call, SOUPC_GRPC_FAILED_PRECONDITION,
                    "no configuration named \"%s\" (Configure first)",
                    msg->name);
  } else if (append(configs[i].output_file, msg->text, strlen(msg->text)) !=
             0) {
    int err = errno;

    pthread_mutex_unlock(&configs_mu);
    /* UNAVAILABLE: CrowdSec retries up to the config's max_retry. */
    soupc_call_fail(call, SOUPC_GRPC_UNAVAILABLE, "output_file %s: %s",
                    configs[i].output_file, strerror(err));
  } else {
    pthread_mutex_unlock(&configs_mu);
    soupc_log(SOUPC_LOG_DEBUG, "cfile", "appended %zu bytes for %s",
              strlen(msg->text), msg->name);
    reply_empty(call);
  }
  proto__notification__free_unpacked(msg, NULL);
}

static int register_notifier(soupc_server *srv, const soupc_plugin_info *info,
                             void *ud) {
  int rv;

  (void)info;
  (void)ud;
  rv =
      soupc_server_add_unary(srv, "/proto.Notifier/Configure", configure, NULL);
  if (rv == 0) {
    rv = soupc_server_add_unary(srv, "/proto.Notifier/Notify", notify, NULL);
  }
  return rv;
}

int main(int argc, char **argv) {
  soupc_plugin_serve_options opts = SOUPC_PLUGIN_SERVE_OPTIONS_INIT;
  const char *cookie = getenv(COOKIE_KEY);
  soupc_status st;
  size_t i;
  int rv;

  if (argc > 1) {
    fprintf(stderr,
            "usage: %s (no arguments)\n"
            "A CrowdSec notification plugin: install it as "
            "notification-cfile in CrowdSec's plugin_dir and add a "
            "'type: cfile' configuration with an output_file.\n",
            argv[0]);
    return strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ? 0 : 2;
  }
  if (cookie == NULL || cookie[0] == '\0') {
    /* go-plugin's own words for a plugin run by hand. */
    fprintf(stderr, "This binary is a plugin. These are not meant to be "
                    "executed directly.\nPlease execute the program that "
                    "consumes these plugins, which will\nload any plugins "
                    "automatically\n");
    return 1;
  }
  opts.cookie_key = COOKIE_KEY;
  opts.cookie_value = cookie;
  opts.handle_signals = 1; /* SIGINT ignored, SIGTERM stops, as Go plugins */
  rv = soupc_plugin_serve(&opts, register_notifier, NULL, &st);
  if (rv != 0 && rv != SOUPC_ERR_COOKIE) {
    fprintf(stderr, "notification-cfile: %s\n", st.message);
  }
  for (i = 0; i < nconfigs; i++) {
    free(configs[i].name);
    free(configs[i].output_file);
  }
  return rv == 0 ? 0 : 1;
}
