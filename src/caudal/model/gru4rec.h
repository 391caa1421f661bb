// GRU4Rec (Hidasi et al. 2016) as docs/protocol.md ("Backbones") specifies it: dropout on the
// item vectors, one GRU layer of width 128 without biases, and a linear map
// back to the item space. Xavier-uniform recurrent weights.
//
// Padding can be trimmed: padded inputs are zero vectors (the padding row of
// the item table) and a GRU without biases maps a zero state and a zero
// input to a zero state, so the left padding leaves the state exactly where
// it started, however many padding columns there are.
#pragma once

#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/rnn.h>

#include "caudal/model/backbone.h"
#include "caudal/model/hash_dropout.h"

namespace caudal {

class GRU4Rec : public Backbone {
 public:
  explicit GRU4Rec(const BackboneConfig& config, int64_t state_size = 128);
  torch::Tensor embed_input(const torch::Tensor& item_vectors) override { return dropout_->forward(item_vectors); }
  torch::Tensor encode(const torch::Tensor& inputs, const torch::Tensor& keep) override;
  bool reads_padding_vectors() const override { return true; }

 private:
  HashDropout dropout_{nullptr};
  torch::nn::GRU gru_{nullptr};
  torch::nn::Linear out_{nullptr};
};

}  // namespace caudal
