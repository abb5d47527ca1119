/* A gRPC client for an etcd cluster (private to src/store/): a list of
 * member endpoints tried in turn, one HTTP/2 connection at a time (soup-c's
 * own channel, include/soupc/rpc.h), asynchronous unary calls with a
 * deadline, and retries only where they are safe.
 *
 * Failover: calls go to the connected member. When its connection fails
 * (the member died), when it answers UNAVAILABLE (no leader, request timed
 * out) or when a call gets no answer before its deadline, the client moves
 * on to the next endpoint. A call marked idempotent (a Range) is retried
 * there within its deadline; any other call (a Put) is retried only if the
 * request provably never reached etcd (the channel refused the call before
 * sending it, or the member refused it with REFUSED_STREAM), and otherwise
 * fails with maybe_applied set. With no member reachable calls fail at
 * once with UNAVAILABLE and a message naming each endpoint's error; a
 * thread keeps trying to reconnect in the background. */
#ifndef SOUPC_STORE_ETCD_CLIENT_H
#define SOUPC_STORE_ETCD_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "soupc/soupc.h"

struct etcd_client;

struct etcd_client_options {
  /* "URL[,URL...]": http://HOST:PORT, https://HOST:PORT, or HOST:PORT
   * (TLS if any PEM below is given). */
  const char *endpoints;
  const char *ca_pem;     /* roots that verify the members; NULL = system */
  const char *cert_pem;   /* client certificate for mTLS, or NULL */
  const char *key_pem;    /* its key */
  int timeout_ms;         /* per call, all retries included; 0 = 5000 */
  int connect_timeout_ms; /* per endpoint; 0 = 2000 */
};

/* The outcome of one call, borrowed for the callback. */
struct etcd_reply {
  /* OK, a status from etcd (its code and message), or a local one:
   * UNAVAILABLE (no member reachable, connection lost, no answer in time),
   * CANCELLED (client closing). */
  soupc_status status;
  const uint8_t *msg; /* OK: the response message */
  size_t len;         /* bytes */
  /* Not OK: the request may have reached a member, so a write may or may
   * not have been applied. 0 means it certainly was not. */
  int maybe_applied;
  const char *endpoint; /* the member that answered or failed, or "" */
};

/* Runs once per call, on a channel's I/O thread or the client's own
 * thread; it may start new calls but must not free the client. */
typedef void (*etcd_reply_fn)(const struct etcd_reply *reply, void *user_data);

/* Parses the endpoints and starts the client. It tries to connect once
 * before returning but never fails because no member is reachable (calls
 * then fail with UNAVAILABLE until one is). @return 0,
 * SOUPC_ERR_INVALID_ARGUMENT (bad endpoint list; @p st says which),
 * SOUPC_ERR_TLS (bad PEM), SOUPC_ERR_NOMEM. */
int soupc__etcd_client_new(struct etcd_client **out,
                           const struct etcd_client_options *opts,
                           soupc_status *st);

/* Starts a unary call of @p path ("/etcdserverpb.KV/Range") with @p req
 * (copied). @return 0 (@p fn runs exactly once, maybe before this returns)
 * or SOUPC_ERR_NOMEM / SOUPC_ERR_CLOSED (client closing; @p fn never runs).
 * Any thread. */
int soupc__etcd_client_call(struct etcd_client *cl, const char *path,
                            const uint8_t *req, size_t len, int idempotent,
                            etcd_reply_fn fn, void *user_data);

/* Writes the endpoint in use (or "none") into @p buf. */
void soupc__etcd_client_current(struct etcd_client *cl, char *buf, size_t cap);

/* @return the number of endpoints. */
int soupc__etcd_client_endpoint_count(const struct etcd_client *cl);

/* Cancels what is still in flight (each callback runs with CANCELLED or
 * its real outcome), closes the connections and frees. Accepts NULL. Not
 * from a callback. */
void soupc__etcd_client_free(struct etcd_client *cl);

#endif
