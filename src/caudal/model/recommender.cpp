#include "caudal/model/recommender.h"

#include <ATen/ATen.h>

namespace caudal {

SequentialRecommender::SequentialRecommender(std::shared_ptr<ItemRepresentation> items, std::shared_ptr<Backbone> backbone,
                                             int64_t mask_token, int64_t max_len)
    : items_(register_module("items", std::move(items))),
      backbone_(register_module("backbone", std::move(backbone))),
      mask_token_(mask_token),
      max_len_(max_len) {}

torch::Tensor SequentialRecommender::encode(const torch::Tensor& ids) {
  return backbone_->encode(items_->embedded_input(ids, *backbone_), ids.gt(0));
}

std::vector<torch::Tensor> SequentialRecommender::encode_windows(const std::vector<torch::Tensor>& windows) {
  auto inputs = items_->embedded_inputs(windows, *backbone_);
  for (size_t w = 0; w < windows.size(); ++w) inputs[w] = backbone_->encode(inputs[w], windows[w].gt(0));
  return inputs;
}

torch::Tensor SequentialRecommender::encode_last(const torch::Tensor& ids) {
  auto query = ids;
  if (mask_token_ != 0) {
    auto history = ids.size(1) < max_len_ ? ids : ids.narrow(1, ids.size(1) - max_len_ + 1, max_len_ - 1);
    query = at::cat({history, at::full({ids.size(0), 1}, mask_token_, ids.options())}, 1);
  }
  return backbone_->encode_last(items_->embedded_input(query, *backbone_), query.gt(0));
}

torch::Tensor SequentialRecommender::scores(const torch::Tensor& hidden, const torch::Tensor& ranked_table) {
  return at::matmul(hidden, ranked_table.t());
}

torch::Tensor SequentialRecommender::ranked_table() {
  auto table = items_->output_table();
  if (mask_token_ != 0) table = table.narrow(0, 0, mask_token_);  // rows 0..num_items: the mask is never ranked
  return table;
}

}  // namespace caudal
