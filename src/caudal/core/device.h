// Where tensors live: "cpu", or "cuda" / "cuda:N" when LibTorch was built
// with CUDA and a GPU is visible.
#pragma once

#include <string>

#include <c10/core/Device.h>

namespace caudal {

// Throws caudal::Error naming --device for another name, or for cuda without a GPU.
c10::Device parse_device(const std::string& name);

}  // namespace caudal
