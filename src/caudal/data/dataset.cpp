#include "caudal/data/dataset.h"

#include <algorithm>
#include <numeric>

#include "caudal/core/error.h"

namespace caudal {

const std::array<const char*, kNumBuckets>& bucket_names() {
  static const std::array<const char*, kNumBuckets> names = {"1-4", "5-9", "10-19", "20-49", "50+"};
  return names;
}

int popularity_bucket(int64_t train_count) {
  if (train_count < 5) return 0;
  if (train_count < 10) return 1;
  if (train_count < 20) return 2;
  if (train_count < 50) return 3;
  return 4;
}

ItemUserGroups compute_groups(const std::vector<std::vector<int64_t>>& sequences, int64_t num_items, double head_ratio) {
  if (!(head_ratio > 0.0 && head_ratio < 1.0)) throw Error("head ratio must be in (0, 1), got " + std::to_string(head_ratio));
  ItemUserGroups g;
  g.head_ratio = head_ratio;
  g.item_train_count.assign(num_items + 1, 0);
  g.is_head_item.assign(num_items + 1, 0);
  std::vector<int64_t> first_seen;  // items in order of first appearance
  std::vector<int64_t> train_length(sequences.size());
  for (size_t u = 0; u < sequences.size(); ++u) {
    const auto& s = sequences[u];
    const int64_t train_len = static_cast<int64_t>(s.size()) - 2;
    train_length[u] = train_len;
    for (int64_t i = 0; i < train_len; ++i) {
      if (g.item_train_count[s[i]]++ == 0) first_seen.push_back(s[i]);
    }
  }
  // stable_sort keeps first-appearance order among equal counts.
  std::stable_sort(first_seen.begin(), first_seen.end(),
                   [&](int64_t a, int64_t b) { return g.item_train_count[a] > g.item_train_count[b]; });
  g.num_head_items = static_cast<int64_t>(head_ratio * static_cast<double>(first_seen.size()));
  for (int64_t i = 0; i < g.num_head_items; ++i) g.is_head_item[first_seen[i]] = 1;

  std::vector<int64_t> users(sequences.size());
  std::iota(users.begin(), users.end(), 0);
  std::stable_sort(users.begin(), users.end(), [&](int64_t a, int64_t b) { return train_length[a] > train_length[b]; });
  g.num_head_users = static_cast<int64_t>(head_ratio * static_cast<double>(users.size()));
  g.is_head_user.assign(sequences.size(), 0);
  for (int64_t i = 0; i < g.num_head_users; ++i) g.is_head_user[users[i]] = 1;
  return g;
}

Dataset::Dataset(SequenceData data, double head_ratio) : data_(std::move(data)) {
  for (size_t u = 0; u < data_.sequences.size(); ++u) {
    if (data_.sequences[u].size() < 3)
      throw Error(data_.source + ": user " + std::to_string(data_.user_ids[u]) + " has fewer than 3 items");
  }
  groups_ = compute_groups(data_.sequences, data_.num_items, head_ratio);
  interacted_.resize(data_.sequences.size());
  for (size_t u = 0; u < data_.sequences.size(); ++u) {
    auto items = data_.sequences[u];
    std::sort(items.begin(), items.end());
    items.erase(std::unique(items.begin(), items.end()), items.end());
    interacted_[u] = std::move(items);
  }
}

int64_t Dataset::history_length(int64_t user, Stage stage) const {
  const int64_t n = static_cast<int64_t>(sequence(user).size());
  return stage == Stage::kValid ? n - 2 : n - 1;
}

}  // namespace caudal
