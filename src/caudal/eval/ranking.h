// Scoring the whole catalogue for a batch of histories: what evaluation and
// recommendation share, so that a recommended list and an evaluated rank
// come from the same scores with the same items removed.
#pragma once

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

namespace caudal {

// The ids of one row's items (a history, or items to exclude), not owned.
struct ItemSpan {
  const int64_t* data = nullptr;
  int64_t size = 0;
};

// scores: [B, num_items + 1], column 0 the padding id. Sets column 0 to -inf
// (never a candidate) and, in row r, the items of rows[r] to `value` (-inf
// removes them; the official evaluation gives them 0). rows.size() == B.
void mask_items(at::Tensor& scores, const std::vector<ItemSpan>& rows, double value);

// The k best items of each row of masked scores, best first: ids [B, k] and
// their scores [B, k]. Rows with fewer than k candidates left end with ids of
// removed items scored -inf: callers drop them.
struct TopItems {
  at::Tensor ids, scores;
};
TopItems top_items(const at::Tensor& scores, int64_t k);

}  // namespace caudal
