// The process's allocator, set for training loops.
#pragma once

namespace caudal {

// Keeps freed memory in the process instead of returning it to the system.
// A training step allocates and frees the same few tensors of up to tens of
// MB each time; by default glibc serves those from fresh mmap pages, which
// the kernel zeroes and faults in on every step (15% of a Beauty SASRec epoch
// and more of FAERec's, under perf). A no-op on other C libraries. Call it
// once, before any large allocation.
void keep_freed_memory();

}  // namespace caudal
