// The process's allocator, set for training loops.
#pragma once

#include <cstdint>

namespace caudal {

// Keeps freed memory in the process instead of returning it to the system.
// A training step allocates and frees the same few tensors of up to tens of
// MB each time; by default glibc serves those from fresh mmap pages, which
// the kernel zeroes and faults in on every step (15% of a Beauty SASRec epoch
// and more of FAERec's, under perf). A no-op on other C libraries. Call it
// once, before any large allocation.
void keep_freed_memory();

// The machine's physical memory in bytes (0 when unknown): what up-front
// size checks compare a dense table against.
uint64_t physical_memory_bytes();

}  // namespace caudal
