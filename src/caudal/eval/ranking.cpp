#include "caudal/eval/ranking.h"

#include <ATen/ATen.h>

#include <limits>

namespace caudal {

void mask_items(at::Tensor& scores, const std::vector<ItemSpan>& rows, double value) {
  std::vector<int64_t> row_index, column_index;
  for (size_t r = 0; r < rows.size(); ++r)
    for (int64_t k = 0; k < rows[r].size; ++k) {
      row_index.push_back(static_cast<int64_t>(r));
      column_index.push_back(rows[r].data[k]);
    }
  const auto device = scores.device();
  auto as_tensor = [&](std::vector<int64_t>& values) {
    return at::from_blob(values.data(), {static_cast<int64_t>(values.size())}, at::kLong).to(device);
  };
  scores.index_put_({as_tensor(row_index), as_tensor(column_index)}, at::scalar_tensor(value, scores.options()));
  scores.select(1, 0).fill_(-std::numeric_limits<double>::infinity());
}

TopItems top_items(const at::Tensor& scores, int64_t k) {
  auto [values, ids] = at::topk(scores, std::min<int64_t>(k, scores.size(1)), /*dim=*/1, /*largest=*/true, /*sorted=*/true);
  return TopItems{ids, values};
}

}  // namespace caudal
