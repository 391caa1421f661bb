#include "caudal/model/recommender.h"

#include <ATen/ATen.h>

namespace caudal {

SequentialRecommender::SequentialRecommender(std::shared_ptr<ItemRepresentation> items, std::shared_ptr<Backbone> backbone)
    : items_(register_module("items", std::move(items))), backbone_(register_module("backbone", std::move(backbone))) {}

torch::Tensor SequentialRecommender::encode(const torch::Tensor& ids) {
  return backbone_->encode(items_->embedded_input(ids, *backbone_), ids.gt(0));
}

torch::Tensor SequentialRecommender::encode_last(const torch::Tensor& ids) {
  return encode(ids).select(1, ids.size(1) - 1);
}

torch::Tensor SequentialRecommender::score_all(const torch::Tensor& hidden) {
  return at::matmul(hidden, items_->output_table().t());
}

}  // namespace caudal
