#include "caudal/eval/metrics.h"

#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "caudal/core/error.h"

namespace caudal {
namespace {

size_t cutoff_index(int64_t k) {
  for (size_t i = 0; i < kCutoffs.size(); ++i)
    if (kCutoffs[i] == k) return i;
  throw Error("no metric at cutoff " + std::to_string(k));
}

// Running sums for one group.
struct Accumulator {
  MetricValues sums;
  void add(int64_t rank) {
    ++sums.users;
    for (size_t i = 0; i < kCutoffs.size(); ++i) {
      if (rank < kCutoffs[i]) {
        sums.hr[i] += 1.0;
        sums.ndcg[i] += 1.0 / std::log2(static_cast<double>(rank) + 2.0);
      }
    }
  }
  MetricValues mean() const {
    MetricValues m = sums;
    if (m.users == 0) return m;
    for (size_t i = 0; i < kCutoffs.size(); ++i) {
      m.hr[i] /= static_cast<double>(m.users);
      m.ndcg[i] /= static_cast<double>(m.users);
    }
    return m;
  }
};

}  // namespace

double MetricValues::hr_at(int64_t k) const { return hr[cutoff_index(k)]; }
double MetricValues::ndcg_at(int64_t k) const { return ndcg[cutoff_index(k)]; }

MetricValues mean_metrics(const std::vector<int64_t>& ranks) {
  Accumulator acc;
  for (int64_t r : ranks) acc.add(r);
  return acc.mean();
}

GroupedMetrics group_metrics(const RankedTargets& ranked, const ItemUserGroups& groups) {
  Accumulator overall, head_item, tail_item, head_user, tail_user;
  std::array<Accumulator, kNumBuckets> buckets;
  for (size_t i = 0; i < ranked.ranks.size(); ++i) {
    const int64_t rank = ranked.ranks[i], item = ranked.targets[i], user = ranked.users[i];
    overall.add(rank);
    (groups.is_head_item[item] ? head_item : tail_item).add(rank);
    (groups.is_head_user[user] ? head_user : tail_user).add(rank);
    buckets[popularity_bucket(groups.item_train_count[item])].add(rank);
  }
  GroupedMetrics m{overall.mean(), head_item.mean(), tail_item.mean(), head_user.mean(), tail_user.mean(), {}};
  for (int b = 0; b < kNumBuckets; ++b) m.buckets[b] = buckets[b].mean();
  return m;
}

nlohmann::json to_json(const MetricValues& values) {
  nlohmann::ordered_json json;
  for (size_t i = 0; i < kCutoffs.size(); ++i) {
    json["hr@" + std::to_string(kCutoffs[i])] = values.hr[i];
    json["ndcg@" + std::to_string(kCutoffs[i])] = values.ndcg[i];
  }
  return nlohmann::json(json);
}

nlohmann::json to_json(const GroupedMetrics& metrics) {
  nlohmann::json json;
  json["overall"] = to_json(metrics.overall);
  json["head_item"] = to_json(metrics.head_item);
  json["tail_item"] = to_json(metrics.tail_item);
  json["head_user"] = to_json(metrics.head_user);
  json["tail_user"] = to_json(metrics.tail_user);
  for (int b = 0; b < kNumBuckets; ++b) json["buckets"][bucket_names()[b]] = to_json(metrics.buckets[b]);
  return json;
}

std::string format_metrics_table(const GroupedMetrics& metrics) {
  std::string out = fmt::format("{:<12}{:>7}", "group", "users");
  for (int64_t k : kCutoffs) out += fmt::format("{:>9}{:>9}", fmt::format("HR@{}", k), fmt::format("NDCG@{}", k));
  out += '\n';
  auto row = [&](const std::string& name, const MetricValues& v) {
    out += fmt::format("{:<12}{:>7}", name, v.users);
    for (size_t i = 0; i < kCutoffs.size(); ++i) out += fmt::format("{:>9.4f}{:>9.4f}", v.hr[i], v.ndcg[i]);
    out += '\n';
  };
  row("overall", metrics.overall);
  row("head item", metrics.head_item);
  row("tail item", metrics.tail_item);
  row("head user", metrics.head_user);
  row("tail user", metrics.tail_user);
  for (int b = 0; b < kNumBuckets; ++b) row(std::string("pop ") + bucket_names()[b], metrics.buckets[b]);
  return out;
}

}  // namespace caudal
