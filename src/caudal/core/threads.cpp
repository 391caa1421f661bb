#include "caudal/core/threads.h"

#include <ATen/Parallel.h>
#include <dlfcn.h>

#include "caudal/core/error.h"

namespace caudal {

void set_compute_threads(int threads) {
  if (threads < 1) throw Error("--threads must be at least 1, got " + std::to_string(threads));
  at::set_num_threads(threads);
  // Looked up at run time: the BLAS behind LibTorch is chosen by the system
  // (Debian's alternatives), so OpenBLAS may or may not be the one loaded.
  using SetThreads = void (*)(int);
  if (auto set = reinterpret_cast<SetThreads>(::dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) set(threads);
}

std::string blas_description() {
  using CoreName = char* (*)();
  const auto name = reinterpret_cast<CoreName>(::dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  const char* core = name ? name() : nullptr;
  return core ? std::string("OpenBLAS ") + core : "";
}

}  // namespace caudal
