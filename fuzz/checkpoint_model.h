// The model fuzz_checkpoint loads checkpoints into, and make_checkpoint_seeds
// saves its seeds from: a SASRec as small as the config allows, so that the
// seed archives stay a few KB and every input reads fast.
#pragma once

#include <torch/optim/adam.h>

#include <memory>

#include "caudal/run/trained_model.h"

namespace caudal::fuzz {

constexpr int64_t kCheckpointItems = 5;

inline std::shared_ptr<SequentialRecommender> checkpoint_model() {
  TrainConfig config;
  config.backbone.hidden = 4;
  config.backbone.layers = 1;
  config.backbone.heads = 1;
  config.backbone.max_len = 4;
  return build_model(config, kCheckpointItems);
}

// The optimiser the trainer uses (train/trainer.cpp), over `model`.
inline torch::optim::Adam checkpoint_optimizer(SequentialRecommender& model) {
  return torch::optim::Adam(model.parameters(), torch::optim::AdamOptions(1e-3));
}

}  // namespace caudal::fuzz
