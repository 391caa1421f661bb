// Small models and data shared by the backbone tests.
#pragma once

#include "caudal/run/config.h"
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

}  // namespace caudal::testing
