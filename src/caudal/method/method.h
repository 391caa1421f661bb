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
  at::Tensor inputs, targets, negatives;  // [B, T]
  std::mt19937_64& rng;     // this epoch's stream for the method's random choices
  c10::Device device;
  bool length_groups = false;  // the batches are random: encode in trimmed length groups

  // Filled by encode_batch: the positions of the batch that are encoded,
  // flat indices r * T + c in row-major order: those with a target, or every
  // position.
  std::vector<int64_t> positions = {};
  at::Tensor position_targets = {};                       // [P] targets there (0: none)
  at::Tensor host_targets = {};                           // targets on the CPU
  at::Tensor hidden = {};                                 // [P, d] model.encode(inputs) there
  at::Tensor target_vectors = {}, negative_vectors = {};  // [P, d] model.items().output(targets / negatives) there

  // Encodes the batch (states at padded positions: 0 in length groups, the
  // model's own otherwise; only with every_position are they kept).
  void encode_batch(bool every_position);
  // model.encode(ids) at `positions` only (flat indices r * T' + c into
  // [B', T'] left-padded ids): [P, d]; how a method encodes extra views of
  // the batch at the batching's cost. A batch of random users is as wide as
  // its longest row, so [B', T', d] states would be mostly padding.
  at::Tensor encode_at(const at::Tensor& ids, const std::vector<int64_t>& positions) const;
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
  // True when losses() reads the batch's states at positions without a
  // target (TADA's official padding-state mixing).
  virtual bool reads_padding_states() const { return false; }
};

}  // namespace caudal
