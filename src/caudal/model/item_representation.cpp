#include "caudal/model/item_representation.h"

namespace caudal {

IdEmbedding::IdEmbedding(int64_t num_items, int64_t dim, double init_std, bool random_padding) {
  table_ = register_module("table", torch::nn::Embedding(torch::nn::EmbeddingOptions(num_items + 1, dim).padding_idx(0)));
  torch::NoGradGuard no_grad;
  table_->weight.normal_(0.0, init_std);
  if (!random_padding) table_->weight[0].zero_();
}

}  // namespace caudal
