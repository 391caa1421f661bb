// One knob for every thread pool that does arithmetic in a run.
#pragma once

namespace caudal {

// Sets LibTorch's intra-op pool and, when the process uses OpenBLAS, its own
// pool (LibTorch does not forward the setting to an external BLAS, and
// OpenBLAS would otherwise start one thread per core).
void set_compute_threads(int threads);

}  // namespace caudal
