/* The host's private state, shared by host.c (launch, reattach, kill) and
 * host_pump.c (the plugin's stdout and stderr). Private to src/plugin/. */
#ifndef SOUPC_PLUGIN_HOST_INT_H
#define SOUPC_PLUGIN_HOST_INT_H

#include <pthread.h>

#include "plugin/plugin_int.h"

/* §2.6: go-plugin's Scanner and Reader buffers are 64 KiB. */
#define HOST_MAX_LINE ((size_t)64 * 1024)

struct soupc_plugin_host {
  soupc_plugin_handshake hs;
  soupc_channel *ch;
  soupc_client_stream *stdio_stream;
  struct broker *broker;
  struct plugin_mux *mux; /* GRPCBrokerMultiplex, or NULL */
  int multiplex;          /* asked for: connect through mux */
  struct plugin_process proc;
  int launched;       /* we spawned it: we reap it */
  pid_t attached_pid; /* reattached by config with a pid, else 0 */
  char *socket_dir;   /* created by us, removed at teardown; or NULL */
  char *client_cert_pem;
  char *client_key_pem;
  soupc_plugin_output_fn on_output;
  void *output_user_data;
  int forward_stderr;
  int log_stderr;
  char module[64]; /* plugin basename, for log_stderr */

  /* The pump thread drains stdout and stderr after the handshake. */
  pthread_t pump;
  int pump_started;
  int wake[2];      /* wake[1] written at teardown: drain briefly, then exit */
  int stdio_end[2]; /* stdio_end[1] written when StreamStdio ends */
  char *errline;    /* partial stderr line; HOST_MAX_LINE bytes */
  size_t errlen;
  char last_err[256]; /* last complete stderr line, for error messages */
};

/* Reads the first stdout line within @p timeout_ms, feeding stderr lines
 * meanwhile (go-plugin-protocol.md §2.6). @return 0 with *line_out
 * soupc__malloc'd; SOUPC_ERR_DEADLINE, SOUPC_ERR_PLUGIN_EXITED (with the
 * exit status and the last stderr line), SOUPC_ERR_HANDSHAKE, SOUPC_ERR_IO
 * or SOUPC_ERR_NOMEM with @p st set. */
int soupc__host_read_handshake(struct soupc_plugin_host *h, char **line_out,
                               int timeout_ms, soupc_status *st);

/* Starts the thread that drains stdout and stderr for the life of the
 * process. @return 0 or SOUPC_ERR_IO. */
int soupc__host_pump_start(struct soupc_plugin_host *h);

/* Wakes the pump: it drains what is left (briefly: a grandchild may hold
 * the pipes), flushes the last stderr line and exits; joins it. */
void soupc__host_pump_stop(struct soupc_plugin_host *h);

#endif
