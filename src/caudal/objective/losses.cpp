#include "caudal/objective/losses.h"

#include <ATen/ATen.h>

namespace caudal {

at::Tensor next_item_bce(const at::Tensor& hidden, const at::Tensor& target_vectors, const at::Tensor& negative_vectors,
                         const at::Tensor& mask) {
  auto positive = (hidden * target_vectors).sum(-1);
  auto negative = (hidden * negative_vectors).sum(-1);
  auto per_position = -(at::log_sigmoid(positive) + at::log_sigmoid(-negative));
  auto weight = mask.to(per_position.scalar_type());
  return (per_position * weight).sum() / weight.sum();
}

at::Tensor all_items_cross_entropy(const at::Tensor& scores, const at::Tensor& targets) {
  return at::cross_entropy_loss(scores.narrow(1, 1, scores.size(1) - 1), targets - 1);
}

}  // namespace caudal
