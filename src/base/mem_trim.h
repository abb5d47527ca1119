/* Giving freed memory back to the kernel after a burst.
 *
 * glibc's malloc keeps freed memory in its arenas for reuse and returns
 * only the top of the main heap on its own, so after a burst of large
 * responses a server's RSS stays near its peak for good (issue 16
 * measured 787 MiB 5 s after a 1.6 GiB peak). malloc_trim() hands every
 * free page in every arena back (madvise(MADV_DONTNEED)), but it costs a
 * walk of the free lists and, on reuse, page faults, so it must not run
 * while the memory is still in demand. */
#ifndef SOUPC_BASE_MEM_TRIM_H
#define SOUPC_BASE_MEM_TRIM_H

#include <stddef.h>

/* Trims the allocator if it holds more free memory than @p floor bytes and
 * more than it has in use: after a burst in-use memory falls while the free
 * memory stays, which is exactly when giving it back is cheap and right;
 * under steady load in-use memory dominates and nothing happens. A no-op
 * without glibc. Any thread. @return 1 if it trimmed. */
int soupc__mem_trim_if_slack(size_t floor);

#endif
