#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "caudal/eval/metrics.h"
#include "test_util.h"

namespace caudal {
namespace {

TEST(Metrics, HandComputedRanks) {
  // ranks 0, 3, 7, 12, 25 for five users.
  auto m = mean_metrics({0, 3, 7, 12, 25});
  EXPECT_EQ(m.users, 5);
  EXPECT_DOUBLE_EQ(m.hr_at(5), 2.0 / 5);   // ranks 0 and 3
  EXPECT_DOUBLE_EQ(m.hr_at(10), 3.0 / 5);  // + rank 7
  EXPECT_DOUBLE_EQ(m.hr_at(20), 4.0 / 5);  // + rank 12
  const double n0 = 1.0, n3 = 1.0 / std::log2(5.0), n7 = 1.0 / std::log2(9.0), n12 = 1.0 / std::log2(14.0);
  EXPECT_NEAR(m.ndcg_at(5), (n0 + n3) / 5, 1e-12);
  EXPECT_NEAR(m.ndcg_at(10), (n0 + n3 + n7) / 5, 1e-12);
  EXPECT_NEAR(m.ndcg_at(20), (n0 + n3 + n7 + n12) / 5, 1e-12);
}

TEST(Metrics, BoundaryRankIsAMiss) {
  auto m = mean_metrics({5, 10, 20});
  EXPECT_DOUBLE_EQ(m.hr_at(5), 0.0);
  EXPECT_DOUBLE_EQ(m.hr_at(10), 1.0 / 3);
  EXPECT_DOUBLE_EQ(m.hr_at(20), 2.0 / 3);
  EXPECT_NEAR(m.ndcg_at(10), (1.0 / std::log2(7.0)) / 3, 1e-12);
}

TEST(Metrics, EmptyGroupIsZeroWithZeroUsers) {
  auto m = mean_metrics({});
  EXPECT_EQ(m.users, 0);
  EXPECT_EQ(m.hr_at(10), 0.0);
}

TEST(Metrics, GroupsSplitByTargetItemAndUser) {
  ItemUserGroups groups;
  groups.item_train_count = {0, 60, 3, 12};  // item 1: 50+, item 2: 1-4, item 3: 10-19
  groups.is_head_item = {0, 1, 0, 0};
  groups.is_head_user = {1, 0, 0};
  RankedTargets ranked{{0, 1, 2}, {1, 2, 3}, {0, 4, 30}};
  auto g = group_metrics(ranked, groups);
  EXPECT_EQ(g.overall.users, 3);
  EXPECT_EQ(g.head_item.users, 1);
  EXPECT_DOUBLE_EQ(g.head_item.hr_at(5), 1.0);
  EXPECT_EQ(g.tail_item.users, 2);
  EXPECT_DOUBLE_EQ(g.tail_item.hr_at(5), 0.5);  // rank 4 hits, rank 30 misses
  EXPECT_EQ(g.head_user.users, 1);
  EXPECT_EQ(g.tail_user.users, 2);
  EXPECT_EQ(g.buckets[4].users, 1);
  EXPECT_EQ(g.buckets[0].users, 1);
  EXPECT_EQ(g.buckets[2].users, 1);
  EXPECT_EQ(g.buckets[1].users, 0);
  EXPECT_NEAR(g.buckets[0].ndcg_at(5), 1.0 / std::log2(6.0), 1e-12);
}

TEST(Metrics, JsonHasTheContractKeys) {
  GroupedMetrics g;
  g.overall.hr = {0.1, 0.2, 0.3};
  auto json = to_json(g);
  for (const char* key : {"overall", "head_item", "tail_item", "head_user", "tail_user", "buckets"})
    EXPECT_TRUE(json.contains(key)) << key;
  for (const char* key : {"1-4", "5-9", "10-19", "20-49", "50+"}) EXPECT_TRUE(json["buckets"].contains(key)) << key;
  EXPECT_EQ(json["overall"].size(), 6u);
  EXPECT_DOUBLE_EQ(json["overall"]["hr@10"].get<double>(), 0.2);
  EXPECT_DOUBLE_EQ(json["overall"]["hr@20"].get<double>(), 0.3);
}

TEST(Metrics, PopularityBuckets) {
  EXPECT_EQ(popularity_bucket(0), 0);
  EXPECT_EQ(popularity_bucket(4), 0);
  EXPECT_EQ(popularity_bucket(5), 1);
  EXPECT_EQ(popularity_bucket(9), 1);
  EXPECT_EQ(popularity_bucket(10), 2);
  EXPECT_EQ(popularity_bucket(19), 2);
  EXPECT_EQ(popularity_bucket(20), 3);
  EXPECT_EQ(popularity_bucket(49), 3);
  EXPECT_EQ(popularity_bucket(50), 4);
}

}  // namespace
}  // namespace caudal
