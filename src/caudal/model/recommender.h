// A sequential recommender = an item representation + a backbone. It knows
// neither the loss nor the method that trains it.
//
// A backbone trained on masked items (BERT4Rec) gets a mask token: the id
// after the last item, a row of the item representation that is never
// ranked. Its queries end with that token: encode_last appends it after the
// history (dropping the oldest item when the window is full) and reads the
// state there.
#pragma once

#include <memory>
#include <vector>

#include "caudal/model/backbone.h"
#include "caudal/model/item_representation.h"

namespace caudal {

class SequentialRecommender : public torch::nn::Module {
 public:
  // mask_token: 0, or the mask id (num_items + 1) for a masked-item backbone,
  // whose windows hold at most max_len ids.
  SequentialRecommender(std::shared_ptr<ItemRepresentation> items, std::shared_ptr<Backbone> backbone,
                        int64_t mask_token = 0, int64_t max_len = 0);

  // [B, T] ids (left-padded) -> [B, T, d] hidden states.
  torch::Tensor encode(const torch::Tensor& ids);
  // Windows of different widths ([B_i, T_i] ids each) -> encode of each.
  std::vector<torch::Tensor> encode_windows(const std::vector<torch::Tensor>& windows);
  // [B, T] ids -> [B, d]: the state that predicts the next item: of the last
  // column (the newest item), or of the appended mask token.
  torch::Tensor encode_last(const torch::Tensor& ids);
  // [B, d] hidden states -> [B, num_items + 1] scores of every item.
  torch::Tensor score_all(const torch::Tensor& hidden) { return scores(hidden, ranked_table()); }
  // [num_items + 1, d]: the vectors of every rankable id (not the mask
  // token), computed once for several score_all-like products.
  torch::Tensor ranked_table();
  // [B, d] hidden, [num_items + 1, d] ranked_table() -> [B, num_items + 1].
  static torch::Tensor scores(const torch::Tensor& hidden, const torch::Tensor& ranked_table);
  // The mask id, or 0 when the backbone predicts the next item.
  int64_t mask_token() const { return mask_token_; }

  ItemRepresentation& items() { return *items_; }
  const std::shared_ptr<ItemRepresentation>& items_ptr() const { return items_; }
  Backbone& backbone() { return *backbone_; }

 private:
  std::shared_ptr<ItemRepresentation> items_;
  std::shared_ptr<Backbone> backbone_;
  int64_t mask_token_, max_len_;
};

}  // namespace caudal
