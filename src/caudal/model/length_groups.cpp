#include "caudal/model/length_groups.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <limits>
#include <numeric>

#include "caudal/model/recommender.h"

namespace caudal {

std::vector<int64_t> length_group_ends(const std::vector<int64_t>& sorted_lengths, int64_t overhead) {
  const auto n = static_cast<int64_t>(sorted_lengths.size());
  // Candidate boundaries: after the last row of each run of equal lengths.
  std::vector<int64_t> cuts = {0};
  for (int64_t i = 1; i <= n; ++i)
    if (i == n || sorted_lengths[i] != sorted_lengths[i - 1]) cuts.push_back(i);
  // best[c]: least cost of rows [0, cuts[c]); from[c]: where its last group starts.
  std::vector<int64_t> best(cuts.size(), std::numeric_limits<int64_t>::max()), from(cuts.size(), 0);
  best[0] = 0;
  for (size_t end = 1; end < cuts.size(); ++end) {
    const int64_t width = sorted_lengths[cuts[end] - 1];
    for (size_t start = 0; start < end; ++start) {
      const int64_t cost = best[start] + overhead + (cuts[end] - cuts[start]) * width;
      if (cost < best[end]) {
        best[end] = cost;
        from[end] = static_cast<int64_t>(start);
      }
    }
  }
  std::vector<int64_t> ends;
  for (auto c = static_cast<int64_t>(cuts.size()) - 1; c > 0; c = from[c]) ends.push_back(cuts[c]);
  std::reverse(ends.begin(), ends.end());
  return ends;
}

at::Tensor encode_in_length_groups(SequentialRecommender& model, const at::Tensor& ids, int64_t overhead) {
  const int64_t rows = ids.size(0), width = ids.size(1);
  if (rows == 0) return model.encode(ids);
  const auto real = ids.gt(0);
  const auto length_tensor = real.sum(1).to(at::kCPU);
  const auto* length = length_tensor.data_ptr<int64_t>();
  std::vector<int64_t> order(rows);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return length[a] < length[b]; });
  std::vector<int64_t> sorted_lengths(rows);
  for (int64_t r = 0; r < rows; ++r) sorted_lengths[r] = length[order[r]];

  const auto order_tensor = at::tensor(order, at::kLong).to(ids.device());
  std::vector<at::Tensor> parts;
  int64_t begin = 0;
  for (const int64_t end : length_group_ends(sorted_lengths, overhead)) {
    const int64_t group_width = std::max<int64_t>(sorted_lengths[end - 1], 1);
    const auto group_ids = ids.index_select(0, order_tensor.narrow(0, begin, end - begin)).narrow(1, width - group_width, group_width);
    auto hidden = model.encode(group_ids);
    hidden = hidden * group_ids.gt(0).unsqueeze(-1).to(hidden.scalar_type());
    parts.push_back(at::constant_pad_nd(hidden, {0, 0, width - group_width, 0}));
    begin = end;
  }
  // parts hold the rows in sorted order: row order[r] is at position r.
  std::vector<int64_t> position(rows);
  for (int64_t r = 0; r < rows; ++r) position[order[r]] = r;
  return at::cat(parts).index_select(0, at::tensor(position, at::kLong).to(ids.device()));
}

}  // namespace caudal
