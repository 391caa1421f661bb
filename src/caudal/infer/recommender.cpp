#include "caudal/infer/recommender.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <limits>
#include <numeric>

#include "caudal/core/error.h"
#include "caudal/eval/ranking.h"

namespace caudal {
namespace {

void check_request(const RecommendRequest& request, size_t index, int64_t num_items) {
  const auto where = "request " + std::to_string(index + 1) + ": ";
  if (request.history.empty()) throw Error(where + "'history' is empty");
  if (request.k < 1) throw Error(where + "'k' must be at least 1");
  for (const auto* field : {&request.history, &request.exclude})
    for (int64_t item : *field)
      if (item < 1 || item > num_items)
        throw Error(where + "'" + (field == &request.history ? "history" : "exclude") + "' has item id " +
                    std::to_string(item) + " outside the catalogue (1.." + std::to_string(num_items) + ")");
}

}  // namespace

Recommender::Recommender(TrainedRun run, int64_t block_size) : run_(std::move(run)), block_size_(block_size) {
  if (block_size_ < 1) throw Error("Recommender: block size must be at least 1");
  run_.model->eval();
  c10::InferenceMode inference;
  ranked_table_ = run_.model->ranked_table();
}

std::vector<Recommendation> Recommender::recommend(const std::vector<RecommendRequest>& requests, Progress* progress) const {
  for (size_t i = 0; i < requests.size(); ++i) check_request(requests[i], i, num_items());
  // Blocks of histories of similar length, as the evaluator batches them:
  // a trimmed block is then barely wider than its histories.
  const int64_t max_len = run_.config.backbone.max_len;
  auto window = [&](size_t i) { return std::min<int64_t>(max_len, static_cast<int64_t>(requests[i].history.size())); };
  std::vector<size_t> order(requests.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return window(a) < window(b); });
  std::vector<Recommendation> out(requests.size());
  std::vector<RecommendRequest> block;
  for (size_t begin = 0; begin < order.size(); begin += static_cast<size_t>(block_size_)) {
    const size_t end = std::min(order.size(), begin + static_cast<size_t>(block_size_));
    block.clear();
    for (size_t i = begin; i < end; ++i) block.push_back(requests[order[i]]);
    auto results = recommend_block(block.data(), static_cast<int64_t>(block.size()));
    for (size_t i = begin; i < end; ++i) out[order[i]] = std::move(results[i - begin]);
    if (progress) progress->advance(static_cast<int64_t>(end - begin));
  }
  return out;
}

std::vector<Recommendation> Recommender::recommend_block(const RecommendRequest* requests, int64_t count) const {
  c10::InferenceMode inference;
  const int64_t max_len = run_.config.backbone.max_len;
  // Left-padded windows of the last max_len items, as the evaluator builds
  // them: as wide as the longest when the model trims padding.
  int64_t width = max_len;
  if (run_.eval.trim) {
    width = 1;
    for (int64_t r = 0; r < count; ++r)
      width = std::max<int64_t>(width, std::min<int64_t>(max_len, static_cast<int64_t>(requests[r].history.size())));
  }
  std::vector<int64_t> windows(static_cast<size_t>(count * width), 0);
  for (int64_t r = 0; r < count; ++r) {
    const auto& history = requests[r].history;
    const int64_t used = std::min<int64_t>(width, static_cast<int64_t>(history.size()));
    std::copy(history.end() - used, history.end(), windows.begin() + r * width + (width - used));
  }
  auto inputs = at::from_blob(windows.data(), {count, width}, at::kLong).to(run_.device);
  auto& model = *run_.model;
  auto scores = SequentialRecommender::scores(model.encode_last(inputs), ranked_table_);
  // History and excluded items go in one masking pass; the history only when asked.
  std::vector<std::vector<int64_t>> removed(static_cast<size_t>(count));
  std::vector<ItemSpan> spans;
  int64_t k = 1;
  for (int64_t r = 0; r < count; ++r) {
    auto& items = removed[r];
    if (requests[r].exclude_history) items = requests[r].history;
    items.insert(items.end(), requests[r].exclude.begin(), requests[r].exclude.end());
    spans.push_back(ItemSpan{items.data(), static_cast<int64_t>(items.size())});
    k = std::max(k, requests[r].k);
  }
  mask_items(scores, spans, -std::numeric_limits<double>::infinity());
  auto top = top_items(scores, k);
  auto ids = top.ids.to(at::kCPU).contiguous();
  auto values = top.scores.to(at::kCPU).to(at::kFloat).contiguous();
  const auto id = ids.accessor<int64_t, 2>();
  const auto value = values.accessor<float, 2>();
  std::vector<Recommendation> out(static_cast<size_t>(count));
  for (int64_t r = 0; r < count; ++r) {
    const int64_t wanted = std::min(requests[r].k, ids.size(1));
    for (int64_t j = 0; j < wanted && value[r][j] != -std::numeric_limits<float>::infinity(); ++j) {
      out[r].items.push_back(id[r][j]);  // (a -inf score: only removed items are left)
      out[r].scores.push_back(value[r][j]);
    }
  }
  return out;
}

}  // namespace caudal
