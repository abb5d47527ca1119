/* Batch scopes: one wake-up per receiving thread for many hand-offs.
 *
 * A thread about to hand many results to other threads (the store's commit
 * thread finishing a batch of Puts, each of which completes a call owned by
 * some worker) opens a scope around the work. Code below it that posts work
 * to another thread may then queue the posts privately and register a flush
 * that delivers them at the end of the scope, so N results cost one lock
 * and one wake-up per receiving thread instead of N. The layers need not
 * know each other: the store opens scopes, the transport defers in them.
 *
 * Scopes are per thread and nest; flushes run, on the same thread, when the
 * outermost scope ends. */
#ifndef SOUPC_BASE_BATCH_H
#define SOUPC_BASE_BATCH_H

typedef void (*soupc_batch_flush_fn)(void *arg);

void soupc__batch_begin(void);
/* Ends the scope; at the outermost end runs every registered flush once,
 * in registration order. A flush may not open a scope or defer. */
void soupc__batch_end(void);

/* Registers @p flush (@p arg) to run when the current thread's outermost
 * scope ends; registering the same pair again is a no-op. While flushes
 * run, a scope may open and close inside one, but nothing can be deferred.
 * @return 1 if the flush will run, 0 if no scope is open on this thread or
 * the scope's table is full: then the caller must not defer its work. */
int soupc__batch_defer(soupc_batch_flush_fn flush, void *arg);

#endif
