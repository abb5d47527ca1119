/* nghttp2 allocates through soupc__malloc (STYLE.md: one allocator, so
 * tests can fail allocations one at a time). */
#ifndef SOUPC_TRANSPORT_H2_MEM_H
#define SOUPC_TRANSPORT_H2_MEM_H

#include <nghttp2/nghttp2.h>

nghttp2_mem *soupc__h2_mem(void);

#endif
