#include "caudal/core/random.h"

namespace caudal {

std::mt19937_64 make_rng(uint64_t seed, RandomStream stream, uint64_t index) {
  const auto id = static_cast<uint64_t>(stream);
  std::seed_seq seq{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32), static_cast<uint32_t>(id),
                    static_cast<uint32_t>(index), static_cast<uint32_t>(index >> 32)};
  return std::mt19937_64(seq);
}

}  // namespace caudal
