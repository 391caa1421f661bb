// Seam 3 of the design: a training method adds losses to the next-item
// objective (and may encode extra views of the batch through the model). The
// trainer encodes the batch once, sums the recommendation loss and every
// method's named losses, and logs each by name. Methods see the model only
// through SequentialRecommender, so they work with every backbone.
#pragma once

#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include "caudal/data/batcher.h"
#include "caudal/model/length_groups.h"
#include "caudal/model/recommender.h"

namespace caudal {

// What one training step offers a method.
struct TrainingStep {
  SequentialRecommender& model;
  const TrainBatch& batch;  // on the CPU, as the batcher built it (next-item form)
  // What the model trains on, on the training device: the batch itself, or
  // for a masked-item model (model.mask_token() != 0) its masked rewrite
  // (objective/masked_items.h).
  at::Tensor inputs, targets, negatives;
  at::Tensor hidden;        // model.encode(inputs): [B, T, d]
  at::Tensor target_vectors, negative_vectors;  // model.items().output(targets / negatives)
  std::mt19937_64& rng;     // this epoch's stream for the method's random choices
  c10::Device device;
  bool length_groups = false;  // the batches are random: encode in trimmed length groups

  // model.encode(ids) at real positions (at padded ones: 0 in length groups,
  // the model's own states otherwise): how a method encodes extra views of
  // the batch ([B', T'] left-padded ids) at the batching's cost.
  at::Tensor encode(const at::Tensor& ids) const {
    return length_groups ? encode_in_length_groups(model, ids) : model.encode(ids);
  }
};

using NamedLosses = std::vector<std::pair<std::string, at::Tensor>>;

class Method {
 public:
  virtual ~Method() = default;
  virtual std::string name() const = 0;
  // Called before each epoch (0-based), e.g. for loss-weight schedules.
  virtual void on_epoch(int64_t epoch) { (void)epoch; }
  // Extra losses of one step, each added with weight 1 (a method scales its own).
  virtual NamedLosses losses(TrainingStep& step) = 0;
};

}  // namespace caudal
