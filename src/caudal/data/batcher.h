// Turns a Dataset into tensors: training batches with fresh negatives every
// epoch, and evaluation batches. Sequences are left-padded with 0 so the
// newest item is always in the last column.
//
// Trimming: with `trim`, a batch is only as wide as its longest window; with
// `bucket` too, users are bucketed by length (sorted by length with a random
// tie-break, cut into batches, batch order shuffled) so little padding
// remains. Because padding never influences real positions (see Backbone), a
// trimmed batch gives the same outputs and loss as the same batch padded to
// max_len.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include <ATen/core/Tensor.h>

#include "caudal/core/random.h"
#include "caudal/data/dataset.h"

namespace caudal {

struct TrainBatch {
  at::Tensor inputs;     // [B, T] int64, item ids, 0 = padding
  at::Tensor targets;    // [B, T] next item at each position, 0 where inputs is padding
  at::Tensor negatives;  // [B, T] one sampled negative per target position, 0 elsewhere
  std::vector<int64_t> users;
};

struct EvalBatch {
  at::Tensor inputs;   // [B, T] the history window before the target
  at::Tensor targets;  // [B]
  std::vector<int64_t> users;
};

struct BatchOptions {
  int64_t max_len = 50;
  int64_t batch_size = 256;
  bool trim = true;    // cut each batch to its longest window
  bool bucket = true;  // batches of users of similar length (only with trim)
};

// Draws items a user never interacted with (anywhere in the sequence), uniformly.
class NegativeSampler {
 public:
  explicit NegativeSampler(const Dataset& dataset) : dataset_(dataset) {}
  int64_t draw(int64_t user, std::mt19937_64& rng) const;

 private:
  const Dataset& dataset_;
};

class TrainBatcher {
 public:
  // Throws caudal::Error naming the data when no user has a training position.
  TrainBatcher(const Dataset& dataset, BatchOptions options, uint64_t seed);

  // All batches of one epoch; the same (seed, epoch) gives the same batches.
  // Users without a training position (3 items) are left out.
  std::vector<TrainBatch> epoch(int64_t epoch) const;

  // One batch of the given users, `width` columns wide (0 = as the options say).
  TrainBatch make_batch(const std::vector<int64_t>& users, std::mt19937_64& rng, int64_t width = 0) const;

  // Length of a user's training window (at most max_len).
  int64_t window_length(int64_t user) const;
  const BatchOptions& options() const { return options_; }

 private:
  const Dataset& dataset_;
  BatchOptions options_;
  uint64_t seed_;
  NegativeSampler sampler_;
};

// The rows of `batch` that rank `rank` of `world` trains on: an even split
// in order (rows [B*rank/world, B*(rank+1)/world), possibly none), its
// columns cut to its longest window when `trim`.
TrainBatch shard_of(const TrainBatch& batch, int rank, int world, bool trim);

// Evaluation batches for a stage, users grouped by history length when
// trimming, every user exactly once.
std::vector<EvalBatch> make_eval_batches(const Dataset& dataset, Stage stage, const BatchOptions& options);

}  // namespace caudal
