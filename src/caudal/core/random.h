// Every random choice of a run comes from make_rng(seed, stream, index): one
// independent, reproducible generator per consumer (stream) and per epoch or
// stage (index), so that adding draws to one consumer never shifts another's
// numbers. The streams are listed here, once, so that no two consumers share one.
#pragma once

#include <cstdint>
#include <random>

namespace caudal {

enum class RandomStream : uint64_t {
  kBatchOrder = 1,   // which users form a training batch, and the batch order
  kNegatives = 2,    // sampled negatives of training batches
  kSampledEval = 3,  // negatives of the sampled evaluation protocol
  kMethods = 4,      // the methods' random choices (augmentation, mixing weights, chunks)
  kItemMask = 5,     // which items a masked-item model masks
  kDropout = 6,      // dropout masks of each rank of a distributed run, per epoch
};

std::mt19937_64 make_rng(uint64_t seed, RandomStream stream, uint64_t index);

}  // namespace caudal
