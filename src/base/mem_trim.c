/* mem_trim.h: glibc's mallinfo2() and malloc_trim(). */
#include "base/mem_trim.h"

#include <stdlib.h> /* defines __GLIBC__ on glibc */

#ifdef __GLIBC__
#include <malloc.h>
#endif

int soupc__mem_trim_if_slack(size_t floor) {
#if defined(__GLIBC__) &&                                                      \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  /* mallinfo2 sums every arena; each is locked only while it is read. */
  struct mallinfo2 mi = mallinfo2();

  if (mi.fordblks > floor && mi.fordblks > mi.uordblks) {
    malloc_trim(0);
    return 1;
  }
#else
  (void)floor;
#endif
  return 0;
}
