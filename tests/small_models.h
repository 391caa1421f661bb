// Small models and data shared by the tests of backbones, evaluation, recommend and serve.
#pragma once

#include "caudal/infer/recommender.h"
#include "caudal/run/config.h"
#include "caudal/run/trained_model.h"
#include "test_util.h"

namespace caudal::testing {

inline TrainConfig small_config(double dropout) {
  TrainConfig config;
  config.backbone.hidden = 16;
  config.backbone.heads = 2;
  config.backbone.layers = 2;
  config.backbone.max_len = 12;
  config.backbone.dropout = dropout;
  config.backbone.attn_dropout = dropout;
  config.seed = 5;
  return config;
}

inline Dataset varied_lengths() {
  std::vector<std::vector<int64_t>> seqs;
  for (int64_t u = 0; u < 6; ++u) {
    std::vector<int64_t> s;
    for (int64_t k = 0; k < 4 + 2 * u; ++k) s.push_back(1 + (u * 7 + k * 3) % 30);
    seqs.push_back(s);
  }
  return dataset_from(seqs);
}

// `users` users walking `items` items in steps: user u has min_length +
// u % length_spread items, the k-th being 1 + (u * user_step + k * item_step) % items.
inline std::vector<std::vector<int64_t>> stepped_walks(int64_t users, int64_t items, int64_t min_length,
                                                       int64_t length_spread, int64_t user_step, int64_t item_step) {
  std::vector<std::vector<int64_t>> sequences;
  for (int64_t u = 0; u < users; ++u) {
    std::vector<int64_t> s;
    for (int64_t k = 0; k < min_length + u % length_spread; ++k) s.push_back(1 + (u * user_step + k * item_step) % items);
    sequences.push_back(s);
  }
  return sequences;
}

// A Recommender over a randomly initialised model of `config` on these
// sequences (ranking needs no training).
inline Recommender random_recommender(const std::vector<std::vector<int64_t>>& sequences, const TrainConfig& config,
                                      int64_t block_size = 256) {
  auto dataset = dataset_from(sequences);
  auto model = build_model(config, dataset.num_items());
  model->eval();
  const auto eval = evaluation_options(config, model->backbone());
  return Recommender(TrainedRun{config, std::move(dataset), model, c10::Device(c10::kCPU), eval}, block_size);
}

}  // namespace caudal::testing
