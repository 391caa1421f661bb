#include "caudal/model/gru4rec.h"

#include <ATen/ATen.h>
#include <torch/nn/init.h>

namespace caudal {

namespace nn = torch::nn;

GRU4Rec::GRU4Rec(const BackboneConfig& config, int64_t state_size) {
  dropout_ = register_module("dropout", HashDropout(config.dropout));
  gru_ = register_module("gru", nn::GRU(nn::GRUOptions(config.hidden, state_size).bias(false).batch_first(true)));
  out_ = register_module("out", nn::Linear(state_size, config.hidden));
  torch::NoGradGuard no_grad;
  for (auto& p : gru_->named_parameters()) nn::init::xavier_uniform_(p.value());
}

torch::Tensor GRU4Rec::encode(const torch::Tensor& inputs, const torch::Tensor& keep) {
  (void)keep;  // padding needs no mask: see the header
  return out_->forward(std::get<0>(gru_->forward(inputs)));
}

}  // namespace caudal
