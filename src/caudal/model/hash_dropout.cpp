#include "caudal/model/hash_dropout.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Functions.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <mutex>

#include "caudal/core/error.h"

namespace caudal {
namespace {

// Chris Wellons' lowbias32 (hash-prospector): every input bit flips each
// output bit with probability close to 1/2.
inline uint32_t mix(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  x ^= x >> 16;
  return x;
}

// Elements [begin, end) of a mask; `begin` counts from the mask's first element.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target_clones("avx2", "default")))
#endif
void fill_mask(float* out, int64_t begin, int64_t end, uint32_t key1, uint32_t key2, uint32_t threshold, float scale) {
  for (int64_t i = begin; i < end; ++i) {
    const uint32_t h = mix(mix(static_cast<uint32_t>(i) + key1) ^ key2);
    out[i] = h >= threshold ? scale : 0.0f;
  }
}

}  // namespace

at::Tensor hash_dropout_mask(at::IntArrayRef sizes, double p, uint32_t key1, uint32_t key2) {
  if (!(p >= 0 && p < 1)) throw Error("dropout probability must be in [0, 1), got " + std::to_string(p));
  auto mask = at::empty(sizes, at::kFloat);
  if (mask.numel() > static_cast<int64_t>(std::numeric_limits<uint32_t>::max()))
    throw Error("hash_dropout_mask: over 2^32 elements");
  // The largest threshold, p just under 1, rounds to 2^32 - 1: at most one
  // hash value in 2^32 is kept where none should be.
  const auto threshold = static_cast<uint32_t>(std::min(std::ldexp(p, 32), 4294967295.0));
  const auto scale = static_cast<float>(1.0 / (1.0 - p));
  float* out = mask.data_ptr<float>();
  at::parallel_for(0, mask.numel(), 1 << 15, [&](int64_t begin, int64_t end) {
    fill_mask(out, begin, end, key1, key2, threshold, scale);
  });
  return mask;
}

HashDropoutImpl::HashDropoutImpl(double p) : p_(p) {
  if (!(p >= 0 && p <= 1)) throw Error("dropout probability must be in [0, 1], got " + std::to_string(p));
}

torch::Tensor HashDropoutImpl::forward(const torch::Tensor& x) {
  if (!is_training() || p_ == 0) return x;
  const bool hashable = x.device().is_cpu() && x.scalar_type() == at::kFloat && p_ < 1 &&
                        x.numel() <= static_cast<int64_t>(std::numeric_limits<uint32_t>::max());
  if (!hashable) return at::dropout(x, p_, /*train=*/true);
  uint64_t keys;
  {
    auto generator = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(generator.mutex());
    keys = generator.get<at::CPUGeneratorImpl>()->random64();
  }
  return x * hash_dropout_mask(x.sizes(), p_, static_cast<uint32_t>(keys), static_cast<uint32_t>(keys >> 32));
}

}  // namespace caudal
