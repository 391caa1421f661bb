#include "caudal/core/memory.h"

#include <unistd.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace caudal {

void keep_freed_memory() {
#if defined(__GLIBC__)
  // Allocations come from the heap, not from mmap (whose threshold cannot be
  // raised past 32 MiB), and up to 256 MiB of free heap stays mapped: the
  // peak is what it would be anyway, and a step's buffers are reused instead
  // of faulted in again. (The main arena, where training runs; other
  // threads' arenas are mmap'd heaps of their own.) Programs linked with
  // tcmalloc (CMakeLists.txt) get tcmalloc's mallopt, which does nothing:
  // tcmalloc keeps freed memory in its own caches.
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
}

uint64_t physical_memory_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page_size = ::sysconf(_SC_PAGESIZE);
  return pages > 0 && page_size > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(page_size) : 0;
}

}  // namespace caudal
