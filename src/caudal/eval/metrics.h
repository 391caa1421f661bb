// Ranking metrics of docs/protocol.md. The rank of a target is the number of items
// scored strictly higher (0 = first place).
//   HR@K   = 1 if rank < K
//   NDCG@K = 1 / log2(rank + 2) if rank < K, else 0
// averaged over the users of a group. Groups: overall, head/tail items (by the
// target), head/tail users, and the popularity buckets of the target.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "caudal/data/dataset.h"

namespace caudal {

constexpr std::array<int64_t, 3> kCutoffs = {5, 10, 20};

struct MetricValues {
  std::array<double, kCutoffs.size()> hr{};
  std::array<double, kCutoffs.size()> ndcg{};
  int64_t users = 0;  // how many users were averaged (0: the group was empty)

  double hr_at(int64_t k) const;
  double ndcg_at(int64_t k) const;
};

struct GroupedMetrics {
  MetricValues overall, head_item, tail_item, head_user, tail_user;
  std::array<MetricValues, kNumBuckets> buckets;
};

// Per-user evaluation outcome: the user (position in the dataset), its target
// item and the rank of that target.
struct RankedTargets {
  std::vector<int64_t> users;
  std::vector<int64_t> targets;
  std::vector<int64_t> ranks;
};

MetricValues mean_metrics(const std::vector<int64_t>& ranks);
GroupedMetrics group_metrics(const RankedTargets& ranked, const ItemUserGroups& groups);

// {"hr@5": .., "ndcg@5": .., ...}: the key order and names are a contract.
nlohmann::json to_json(const MetricValues& values);
// {"overall": M, "head_item": M, "tail_item": M, "head_user": M, "tail_user": M,
//  "buckets": {"1-4": M, ...}}
nlohmann::json to_json(const GroupedMetrics& metrics);

// A fixed-width table, one row per group, for the terminal.
std::string format_metrics_table(const GroupedMetrics& metrics);

}  // namespace caudal
