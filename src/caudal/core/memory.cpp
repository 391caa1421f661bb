#include "caudal/core/memory.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace caudal {

void keep_freed_memory() {
#if defined(__GLIBC__)
  // Every allocation comes from the heap, not from mmap (whose threshold
  // cannot be raised past 32 MiB), and up to 256 MiB of free heap stays
  // mapped: the peak is what it would be anyway, and a step's buffers are
  // reused instead of faulted in again.
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
}

}  // namespace caudal
