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

LengthGroups group_by_length(const at::Tensor& ids, int64_t overhead) {
  const auto cpu_ids = ids.to(at::kCPU).contiguous();
  const int64_t rows = cpu_ids.size(0), width = cpu_ids.size(1);
  const auto* id = cpu_ids.data_ptr<int64_t>();
  std::vector<int64_t> length(rows, 0);
  for (int64_t i = 0; i < rows * width; ++i) length[i / width] += id[i] != 0;
  LengthGroups groups;
  groups.order.resize(rows);
  std::iota(groups.order.begin(), groups.order.end(), 0);
  std::stable_sort(groups.order.begin(), groups.order.end(), [&](int64_t a, int64_t b) { return length[a] < length[b]; });
  std::vector<int64_t> sorted_lengths(rows);
  for (int64_t r = 0; r < rows; ++r) sorted_lengths[r] = length[groups.order[r]];
  groups.ends = length_group_ends(sorted_lengths, overhead);
  for (const int64_t end : groups.ends) groups.widths.push_back(std::max<int64_t>(sorted_lengths[end - 1], 1));
  return groups;
}

at::Tensor encode_positions_in_length_groups(SequentialRecommender& model, const at::Tensor& ids,
                                             const std::vector<int64_t>& positions, int64_t overhead) {
  const int64_t rows = ids.size(0), width = ids.size(1);
  if (rows == 0) {
    auto hidden = model.encode(ids);
    return hidden.reshape({0, hidden.size(-1)});
  }
  const auto cpu_ids = ids.to(at::kCPU).contiguous();
  const auto* id = cpu_ids.data_ptr<int64_t>();
  const auto grouped = group_by_length(cpu_ids, overhead);
  const auto& order = grouped.order;

  // Each group's states, flattened and concatenated; where (in that
  // concatenation) row r starts and how wide its group is.
  const auto order_tensor = at::tensor(order, at::kLong).to(ids.device());
  std::vector<at::Tensor> groups;
  std::vector<int64_t> row_start(rows), row_width(rows);
  int64_t begin = 0, offset = 0;
  for (size_t g = 0; g < grouped.ends.size(); ++g) {
    const int64_t end = grouped.ends[g], group_width = grouped.widths[g];
    groups.push_back(ids.index_select(0, order_tensor.narrow(0, begin, end - begin)).narrow(1, width - group_width, group_width));
    for (int64_t s = begin; s < end; ++s) {
      row_start[order[s]] = offset + (s - begin) * group_width;
      row_width[order[s]] = group_width;
    }
    offset += (end - begin) * group_width;
    begin = end;
  }
  std::vector<at::Tensor> parts;
  for (const auto& hidden : model.encode_windows(groups)) parts.push_back(hidden.reshape({-1, hidden.size(-1)}));
  // A padded position reads this zero row.
  const int64_t zero_row = offset;
  parts.push_back(at::zeros({1, parts.front().size(1)}, parts.front().options()));
  std::vector<int64_t> source(positions.size());
  for (size_t p = 0; p < positions.size(); ++p) {
    const int64_t r = positions[p] / width, c = positions[p] % width, group_column = c - (width - row_width[r]);
    source[p] = id[positions[p]] != 0 && group_column >= 0 ? row_start[r] + group_column : zero_row;
  }
  return at::cat(parts).index_select(0, at::tensor(source, at::kLong).to(ids.device()));
}

}  // namespace caudal
