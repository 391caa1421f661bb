#include "caudal/objective/masked_items.h"

#include <ATen/ATen.h>

#include "caudal/core/error.h"

namespace caudal {

at::Tensor draw_item_mask(const at::Tensor& items, double ratio, std::mt19937_64& rng) {
  if (!(ratio > 0 && ratio <= 1)) throw Error("--mask-ratio must be in (0, 1]");
  auto mask = at::zeros(items.sizes(), at::kBool);
  const int64_t rows = items.size(0), width = items.size(1);
  auto item = items.accessor<int64_t, 2>();
  auto masked = mask.accessor<bool, 2>();
  std::bernoulli_distribution draw(ratio);
  for (int64_t r = 0; r < rows; ++r) {
    bool any = false;
    for (int64_t c = 0; c < width; ++c)
      if (item[r][c] != 0 && draw(rng)) any = masked[r][c] = true;
    if (!any && item[r][width - 1] != 0) masked[r][width - 1] = true;
  }
  return mask;
}

TrainBatch masked_item_batch(const TrainBatch& batch, int64_t mask_token, double ratio, std::mt19937_64& rng) {
  const auto& items = batch.targets;
  const auto mask = draw_item_mask(items, ratio, rng);
  return TrainBatch{items.masked_fill(mask, mask_token), items * mask, batch.negatives * mask, batch.users};
}

}  // namespace caudal
