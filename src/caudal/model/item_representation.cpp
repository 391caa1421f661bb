#include "caudal/model/item_representation.h"

#include <ATen/ATen.h>

namespace caudal {

std::vector<torch::Tensor> ItemRepresentation::embedded_inputs(const std::vector<torch::Tensor>& windows,
                                                               Backbone& backbone) {
  std::vector<torch::Tensor> out;
  for (const auto& ids : windows) out.push_back(embedded_input(ids, backbone));
  return out;
}

IdEmbedding::IdEmbedding(int64_t num_items, int64_t dim, double init_std, bool random_padding) {
  table_ = register_module("table", torch::nn::Embedding(torch::nn::EmbeddingOptions(num_items + 1, dim).padding_idx(0)));
  torch::NoGradGuard no_grad;
  table_->weight.normal_(0.0, init_std);
  if (!random_padding) table_->weight[0].zero_();
}

std::vector<torch::Tensor> IdEmbedding::embedded_inputs(const std::vector<torch::Tensor>& windows, Backbone& backbone) {
  std::vector<torch::Tensor> flat;
  for (const auto& ids : windows) flat.push_back(ids.reshape({-1}));
  const auto vectors = input(at::cat(flat));
  std::vector<torch::Tensor> out;
  int64_t offset = 0;
  for (const auto& ids : windows) {
    out.push_back(backbone.embed_input(vectors.narrow(0, offset, ids.numel()).view({ids.size(0), ids.size(1), -1})));
    offset += ids.numel();
  }
  return out;
}

}  // namespace caudal
