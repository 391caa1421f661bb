// A sequential recommender = an item representation + a backbone. It knows
// neither the loss nor the method that trains it.
#pragma once

#include <memory>

#include "caudal/model/backbone.h"
#include "caudal/model/item_representation.h"

namespace caudal {

class SequentialRecommender : public torch::nn::Module {
 public:
  SequentialRecommender(std::shared_ptr<ItemRepresentation> items, std::shared_ptr<Backbone> backbone);

  // [B, T] ids (left-padded) -> [B, T, d] hidden states.
  torch::Tensor encode(const torch::Tensor& ids);
  // [B, T] ids -> [B, d]: the hidden state of the last column (the newest item).
  torch::Tensor encode_last(const torch::Tensor& ids);
  // [B, d] hidden states -> [B, num_items + 1] scores of every item.
  torch::Tensor score_all(const torch::Tensor& hidden);

  ItemRepresentation& items() { return *items_; }
  Backbone& backbone() { return *backbone_; }

 private:
  std::shared_ptr<ItemRepresentation> items_;
  std::shared_ptr<Backbone> backbone_;
};

}  // namespace caudal
