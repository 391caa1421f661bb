// Recommendations from a trained run: each history is encoded by the model,
// scored against the whole catalogue, its own items removed (by default,
// with the evaluator's masking: eval/ranking.h) and cut to the k best.
// Many histories share one forward pass and one matrix product per block.
#pragma once

#include <cstdint>
#include <vector>

#include "caudal/core/progress.h"

#include "caudal/run/trained_model.h"

namespace caudal {

struct RecommendRequest {
  std::vector<int64_t> history;  // item ids, oldest first; not empty
  std::vector<int64_t> exclude;  // further items never to recommend
  int64_t k = 10;
  bool exclude_history = true;
};

struct Recommendation {
  std::vector<int64_t> items;  // best first; fewer than k when fewer items are left
  std::vector<float> scores;
};

class Recommender {
 public:
  // block_size: histories scored per forward pass (larger blocks measured
  // slower on a CPU: their intermediate tensors no longer fit in cache).
  explicit Recommender(TrainedRun run, int64_t block_size = 256);

  // Thread-safe: the model is only read (eval mode, inference mode).
  // Throws caudal::Error naming the request and the field: an empty history,
  // an item id outside 1..num_items, k < 1.
  // `progress`, when given, advances by the requests of each block.
  std::vector<Recommendation> recommend(const std::vector<RecommendRequest>& requests, Progress* progress = nullptr) const;

  const TrainedRun& run() const { return run_; }
  int64_t num_items() const { return run_.dataset.num_items(); }

 private:
  std::vector<Recommendation> recommend_block(const RecommendRequest* requests, int64_t count) const;

  TrainedRun run_;
  int64_t block_size_;
  at::Tensor ranked_table_;  // the model's ranked_table(), computed once: the model does not change here
};

}  // namespace caudal
