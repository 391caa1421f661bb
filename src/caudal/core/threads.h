// One knob for every thread pool that does arithmetic in a run.
#pragma once

#include <string>

namespace caudal {

// Sets LibTorch's intra-op pool and, when the process uses OpenBLAS, its own
// pool (LibTorch does not forward the setting to an external BLAS, and
// OpenBLAS would otherwise start one thread per core).
void set_compute_threads(int threads);

// "OpenBLAS <kernels>" (openblas_get_corename: e.g. Haswell, SkylakeX) when
// OpenBLAS is the loaded BLAS, else "": for the machine line of benchmarks,
// since the kernels set the matrix-product rate (AVX2 or AVX-512; the
// OPENBLAS_CORETYPE variable can pin them).
std::string blas_description();

}  // namespace caudal
