#include "caudal/train/cloze.h"

#include <ATen/ATen.h>

#include "caudal/core/error.h"

namespace caudal {

TrainBatch masked_item_batch(const TrainBatch& batch, int64_t mask_token, double ratio, std::mt19937_64& rng) {
  if (!(ratio > 0 && ratio <= 1)) throw Error("--mask-ratio must be in (0, 1]");
  TrainBatch out{batch.targets.clone(), at::zeros_like(batch.targets), at::zeros_like(batch.negatives), batch.users};
  const int64_t rows = batch.targets.size(0), width = batch.targets.size(1);
  auto items = batch.targets.accessor<int64_t, 2>();
  auto negatives = batch.negatives.accessor<int64_t, 2>();
  auto inputs = out.inputs.accessor<int64_t, 2>();
  auto targets = out.targets.accessor<int64_t, 2>();
  auto out_negatives = out.negatives.accessor<int64_t, 2>();
  std::bernoulli_distribution masked(ratio);
  for (int64_t r = 0; r < rows; ++r) {
    bool any = false;
    auto mask_at = [&](int64_t c) {
      inputs[r][c] = mask_token;
      targets[r][c] = items[r][c];
      out_negatives[r][c] = negatives[r][c];
      any = true;
    };
    for (int64_t c = 0; c < width; ++c)
      if (items[r][c] != 0 && masked(rng)) mask_at(c);
    if (!any && items[r][width - 1] != 0) mask_at(width - 1);
  }
  return out;
}

}  // namespace caudal
