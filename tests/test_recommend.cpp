#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <algorithm>
#include <filesystem>

#include "caudal/core/error.h"
#include "caudal/data/prepare.h"
#include "caudal/eval/evaluator.h"
#include "caudal/infer/catalogue.h"
#include "caudal/infer/recommender.h"
#include "caudal/run/trained_model.h"
#include "small_models.h"

namespace caudal {
namespace {

// Users whose items never repeat (so a target is never in its history), of
// many lengths, some longer than the window.
std::vector<std::vector<int64_t>> distinct_walks() { return testing::stepped_walks(50, 60, 4, 15, 11, 7); }

TrainConfig small_config() {
  TrainConfig config;
  config.backbone.hidden = 16;
  config.backbone.max_len = 10;
  return config;
}

Recommender random_recommender(const TrainConfig& config, int64_t block_size = 512) {
  return testing::random_recommender(distinct_walks(), config, block_size);
}

RecommendRequest test_history(const Dataset& dataset, int64_t user, int64_t k) {
  const auto& s = dataset.sequence(user);
  return RecommendRequest{std::vector<int64_t>(s.begin(), s.begin() + dataset.history_length(user, Stage::kTest)), {}, k, true};
}

// The evaluator ranks each test target among every item, history removed; a
// recommended list of the same history must hold the target at that rank
// (or not at all when the rank is k or worse).
TEST(Recommender, ListsAgreeWithTheEvaluatorsRanks) {
  auto recommender = random_recommender(small_config());
  const auto& run = recommender.run();
  const auto ranked = rank_targets(*run.model, run.dataset, Stage::kTest, run.eval, run.device);
  const int64_t k = 15;
  std::vector<RecommendRequest> requests;
  for (int64_t user : ranked.users) requests.push_back(test_history(run.dataset, user, k));
  const auto lists = recommender.recommend(requests);
  int64_t inside = 0;
  for (size_t i = 0; i < ranked.users.size(); ++i) {
    const auto& items = lists[i].items;
    ASSERT_EQ(static_cast<int64_t>(items.size()), k);
    const auto found = std::find(items.begin(), items.end(), ranked.targets[i]);
    if (ranked.ranks[i] < k) {
      ++inside;
      ASSERT_NE(found, items.end()) << "user " << ranked.users[i];
      EXPECT_EQ(found - items.begin(), ranked.ranks[i]) << "user " << ranked.users[i];
    } else {
      EXPECT_EQ(found, items.end()) << "user " << ranked.users[i];
    }
    for (int64_t item : requests[i].history) EXPECT_EQ(std::count(items.begin(), items.end(), item), 0);
    EXPECT_TRUE(std::is_sorted(lists[i].scores.rbegin(), lists[i].scores.rend()));
  }
  EXPECT_GT(inside, 3);  // the comparison saw targets inside the lists
}

TEST(Recommender, OneBatchEqualsOneRequestAtATime) {
  auto together = random_recommender(small_config(), 7);
  const auto& dataset = together.run().dataset;
  std::vector<RecommendRequest> requests;
  for (int64_t user = 0; user < dataset.num_users(); ++user) requests.push_back(test_history(dataset, user, 10));
  const auto batched = together.recommend(requests);
  for (size_t i = 0; i < requests.size(); ++i) {
    const auto alone = together.recommend({requests[i]}).front();
    EXPECT_EQ(alone.items, batched[i].items) << "request " << i;
    for (size_t j = 0; j < alone.scores.size(); ++j) EXPECT_NEAR(alone.scores[j], batched[i].scores[j], 1e-5);
  }
}

TEST(Recommender, ExcludedItemsNeverComeAndHistoryOnlyWhenAsked) {
  auto recommender = random_recommender(small_config());
  const int64_t n = recommender.num_items();
  RecommendRequest request{{3, 9, 14}, {}, n, true};
  auto all = recommender.recommend({request}).front();
  EXPECT_EQ(static_cast<int64_t>(all.items.size()), n - 3);  // every item but the history, then no more
  request.exclude = {all.items[0], all.items[1]};
  auto fewer = recommender.recommend({request}).front();
  EXPECT_EQ(fewer.items, std::vector<int64_t>(all.items.begin() + 2, all.items.end()));
  request.exclude.clear();
  request.exclude_history = false;
  auto with_history = recommender.recommend({request}).front();
  EXPECT_EQ(static_cast<int64_t>(with_history.items.size()), n);
  EXPECT_NE(std::find(with_history.items.begin(), with_history.items.end(), 9), with_history.items.end());
}

TEST(Recommender, BadRequestsNameTheField) {
  auto recommender = random_recommender(small_config());
  auto expect_error = [&](RecommendRequest request, const std::string& message) {
    try {
      recommender.recommend({RecommendRequest{{1, 2}, {}, 5, true}, request});
      ADD_FAILURE() << "accepted: " << message;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
    }
  };
  expect_error({{}, {}, 5, true}, "request 2: 'history' is empty");
  expect_error({{1, 0}, {}, 5, true}, "request 2: 'history' has item id 0 outside the catalogue (1..60)");
  expect_error({{1, 61}, {}, 5, true}, "'history' has item id 61");
  expect_error({{1}, {99}, 5, true}, "'exclude' has item id 99");
  expect_error({{1}, {}, 0, true}, "request 2: 'k' must be at least 1");
}

// Original ids go in and come out: prepare writes the maps beside the
// sequences, and the catalogue reads them back.
TEST(Catalogue, OriginalIdsRoundTripThroughPrepare) {
  testing::TempDir dir;
  std::string csv = "user,item,rating,timestamp\n";
  for (int u = 0; u < 6; ++u)
    for (int k = 0; k < 6; ++k) csv += "user" + std::to_string(u) + ",sku-" + std::to_string((u + k) % 8) + ",5," + std::to_string(100 + k) + "\n";
  const auto raw = dir.write("log.csv", csv);
  PrepareOptions options;
  options.k_core = 1;
  write_prepared(prepare_interactions(raw, options), dir.file("prepared"));
  const auto data = dir.file("prepared/sequences.txt");
  Dataset dataset(load_sequences(data));
  const Catalogue catalogue(dataset, data);
  ASSERT_TRUE(catalogue.original_ids());
  for (int64_t id = 1; id <= dataset.num_items(); ++id) EXPECT_EQ(catalogue.item_id(catalogue.item_name(id)), id);
  // user3's events in time order: sku-3 .. sku-7, sku-0.
  const auto& history = dataset.sequence(catalogue.user_position("user3"));
  std::vector<std::string> names;
  for (int64_t item : history) names.push_back(catalogue.item_name(item));
  EXPECT_EQ(names, (std::vector<std::string>{"sku-3", "sku-4", "sku-5", "sku-6", "sku-7", "sku-0"}));
  EXPECT_THROW(catalogue.item_id("sku-99"), Error);
  EXPECT_THROW(catalogue.user_position("nobody"), Error);
}

}  // namespace
}  // namespace caudal
