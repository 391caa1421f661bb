#include "caudal/core/device.h"

#include <ATen/Context.h>

#include "caudal/core/error.h"

namespace caudal {

c10::Device parse_device(const std::string& name) {
  if (name == "cpu") return c10::Device(c10::kCPU);
  if (name == "cuda" || name.rfind("cuda:", 0) == 0) {
    if (!at::hasCUDA()) throw Error("--device " + name + ": this build of LibTorch has no CUDA support or no GPU is visible");
    return c10::Device(name);
  }
  throw Error("--device must be cpu or cuda[:N], got '" + name + "'");
}

}  // namespace caudal
