#include "caudal/data/batcher.h"

#include <ATen/Functions.h>

#include <algorithm>
#include <numeric>

#include "caudal/core/error.h"

namespace caudal {
namespace {

at::Tensor to_tensor(std::vector<int64_t>& values, int64_t rows, int64_t cols) {
  return at::from_blob(values.data(), {rows, cols}, at::kLong).clone();
}

}  // namespace

int64_t NegativeSampler::draw(int64_t user, std::mt19937_64& rng) const {
  const auto& seen = dataset_.interacted_items(user);
  const int64_t n = dataset_.num_items();
  if (static_cast<int64_t>(seen.size()) >= n)
    throw Error("user " + std::to_string(dataset_.user_id(user)) + " interacted with every item: no negative exists");
  std::uniform_int_distribution<int64_t> item(1, n);
  while (true) {
    const int64_t candidate = item(rng);
    if (!std::binary_search(seen.begin(), seen.end(), candidate)) return candidate;
  }
}

TrainBatcher::TrainBatcher(const Dataset& dataset, BatchOptions options, uint64_t seed)
    : dataset_(dataset), options_(options), seed_(seed), sampler_(dataset) {
  if (options_.max_len < 1) throw Error("--max-len must be at least 1");
  if (options_.batch_size < 1) throw Error("--batch must be at least 1");
  bool any_training_position = false;
  for (int64_t u = 0; u < dataset_.num_users() && !any_training_position; ++u) any_training_position = window_length(u) > 0;
  if (!any_training_position)
    throw Error(dataset_.source() + ": no user has an item to train on: a sequence needs at least 4 items (its last two "
                "are kept for validation and test)");
}

int64_t TrainBatcher::window_length(int64_t user) const {
  // Training inputs are s[0..n-4]: n-3 items.
  return std::min<int64_t>(static_cast<int64_t>(dataset_.sequence(user).size()) - 3, options_.max_len);
}

TrainBatch TrainBatcher::make_batch(const std::vector<int64_t>& users, std::mt19937_64& rng, int64_t width) const {
  const auto rows = static_cast<int64_t>(users.size());
  if (width == 0) {
    width = options_.max_len;
    if (options_.trim) {
      width = 0;
      for (int64_t u : users) width = std::max(width, window_length(u));
    }
  }
  std::vector<int64_t> inputs(rows * width, 0), targets(rows * width, 0), negatives(rows * width, 0);
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t u = users[r];
    const auto& s = dataset_.sequence(u);
    const int64_t len = window_length(u);
    if (len > width) throw Error("internal: batch narrower than a window");
    const int64_t first = static_cast<int64_t>(s.size()) - 3 - len;  // first input index kept
    for (int64_t k = 0; k < len; ++k) {
      const int64_t col = r * width + (width - len + k);
      inputs[col] = s[first + k];
      targets[col] = s[first + k + 1];
      negatives[col] = sampler_.draw(u, rng);
    }
  }
  return TrainBatch{to_tensor(inputs, rows, width), to_tensor(targets, rows, width), to_tensor(negatives, rows, width),
                    users};
}

std::vector<TrainBatch> TrainBatcher::epoch(int64_t epoch) const {
  auto order_rng = make_rng(seed_, RandomStream::kBatchOrder, static_cast<uint64_t>(epoch));
  auto negative_rng = make_rng(seed_, RandomStream::kNegatives, static_cast<uint64_t>(epoch));
  std::vector<int64_t> users(dataset_.num_users());
  std::iota(users.begin(), users.end(), 0);
  // Users of 3 items have no training position (only validation and test).
  users.erase(std::remove_if(users.begin(), users.end(), [&](int64_t u) { return window_length(u) == 0; }), users.end());
  std::shuffle(users.begin(), users.end(), order_rng);
  const bool bucket = options_.trim && options_.bucket;
  if (bucket) {
    // The shuffle above is the random tie-break among users of equal length.
    std::stable_sort(users.begin(), users.end(),
                     [&](int64_t a, int64_t b) { return window_length(a) < window_length(b); });
  }
  std::vector<std::vector<int64_t>> chunks;
  for (size_t start = 0; start < users.size(); start += options_.batch_size) {
    const size_t end = std::min(users.size(), start + static_cast<size_t>(options_.batch_size));
    chunks.emplace_back(users.begin() + start, users.begin() + end);
  }
  if (bucket) std::shuffle(chunks.begin(), chunks.end(), order_rng);
  std::vector<TrainBatch> batches;
  batches.reserve(chunks.size());
  for (const auto& chunk : chunks) batches.push_back(make_batch(chunk, negative_rng));
  return batches;
}

std::vector<EvalBatch> make_eval_batches(const Dataset& dataset, Stage stage, const BatchOptions& options) {
  std::vector<int64_t> users(dataset.num_users());
  std::iota(users.begin(), users.end(), 0);
  auto window = [&](int64_t u) { return std::min(dataset.history_length(u, stage), options.max_len); };
  if (options.trim) std::stable_sort(users.begin(), users.end(), [&](int64_t a, int64_t b) { return window(a) < window(b); });
  std::vector<EvalBatch> batches;
  for (size_t start = 0; start < users.size(); start += options.batch_size) {
    const size_t end = std::min(users.size(), start + static_cast<size_t>(options.batch_size));
    std::vector<int64_t> chunk(users.begin() + start, users.begin() + end);
    const auto rows = static_cast<int64_t>(chunk.size());
    int64_t width = options.max_len;
    if (options.trim) {
      width = 0;
      for (int64_t u : chunk) width = std::max(width, window(u));
    }
    std::vector<int64_t> inputs(rows * width, 0), targets(rows, 0);
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t u = chunk[r];
      const auto& s = dataset.sequence(u);
      const int64_t history = dataset.history_length(u, stage);
      const int64_t len = window(u);
      for (int64_t k = 0; k < len; ++k) inputs[r * width + (width - len + k)] = s[history - len + k];
      targets[r] = s[history];
    }
    batches.push_back(EvalBatch{to_tensor(inputs, rows, width), to_tensor(targets, rows, 1).view({rows}), chunk});
  }
  return batches;
}

TrainBatch shard_of(const TrainBatch& batch, int rank, int world, bool trim) {
  const auto rows = static_cast<int64_t>(batch.users.size());
  const int64_t begin = rows * rank / world, end = rows * (rank + 1) / world;
  TrainBatch shard;
  shard.users.assign(batch.users.begin() + begin, batch.users.begin() + end);
  int64_t first_column = 0;
  if (trim && end > begin) {
    // Left-padded: the first column where some row of the shard has an item.
    const auto used = batch.inputs.narrow(0, begin, end - begin).gt(0).any(0);
    first_column = used.to(at::kByte).argmax().item<int64_t>();
  }
  const int64_t width = batch.inputs.size(1) - first_column;
  shard.inputs = batch.inputs.narrow(0, begin, end - begin).narrow(1, first_column, width);
  shard.targets = batch.targets.narrow(0, begin, end - begin).narrow(1, first_column, width);
  shard.negatives = batch.negatives.narrow(0, begin, end - begin).narrow(1, first_column, width);
  return shard;
}

}  // namespace caudal
