#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "caudal/eval/evaluator.h"
#include "caudal/run/trained_model.h"
#include "small_models.h"

namespace caudal {
namespace {

// A fixed item table and a backbone that passes vectors through, so the
// hidden state of a user is the vector of its last item and every score can
// be computed by hand.
class FixedItems : public ItemRepresentation {
 public:
  explicit FixedItems(at::Tensor table) : table_(std::move(table)) {}
  torch::Tensor input(const torch::Tensor& ids) override { return at::embedding(table_, ids); }
  torch::Tensor output(const torch::Tensor& ids) override { return at::embedding(table_, ids); }
  torch::Tensor output_table() override { return table_; }

 private:
  at::Tensor table_;
};

class PassThrough : public Backbone {
 public:
  torch::Tensor embed_input(const torch::Tensor& x) override { return x; }
  torch::Tensor encode(const torch::Tensor& x, const torch::Tensor&) override { return x; }
};

SequentialRecommender fixed_model() {
  // e0 = 0 (padding), e1 = (1,0), e2 = (0,1), e3 = (-1,0), e4 = (2,0), e5 = (0.5,0)
  auto table = at::tensor({0.f, 0.f, 1.f, 0.f, 0.f, 1.f, -1.f, 0.f, 2.f, 0.f, 0.5f, 0.f}).view({6, 2});
  return SequentialRecommender(std::make_shared<FixedItems>(table), std::make_shared<PassThrough>());
}

std::vector<int64_t> ranks_by_user(const RankedTargets& r, int64_t users) {
  std::vector<int64_t> out(users, -1);
  for (size_t i = 0; i < r.users.size(); ++i) out[r.users[i]] = r.ranks[i];
  return out;
}

// Users: A = 4 2 1 5 3, B = 1 3 4 2, C = 2 1 2.
Dataset three_users() { return testing::dataset_from({{4, 2, 1, 5, 3}, {1, 3, 4, 2}, {2, 1, 2}}); }

TEST(Evaluator, FullRankingRemovesHistoryAndPadding) {
  auto ds = three_users();
  auto model = fixed_model();
  EvalOptions options;
  // Valid. B: hidden e3, scores 1:-1 2:0 3:1 4:-2 5:-0.5; history {1,3} removed;
  //   target 4 (-2) is beaten by 2 and 5 -> rank 2 (padding, score 0, never counts).
  // A: hidden e1, target 5 (0.5); history {4,2,1} removed; only 3 (-1) left -> rank 0.
  // C: hidden e2, target 1 (0): scores 2:1 (history), 3:0, 4:0, 5:0: the
  //   three ties count against the target -> rank 3.
  auto valid = ranks_by_user(rank_targets(model, ds, Stage::kValid, options, at::kCPU), 3);
  EXPECT_EQ(valid, (std::vector<int64_t>{0, 2, 3}));
  // Test. A: hidden e5, target 3 (-0.5), history {4,2,1,5} removed -> rank 0.
  // B: hidden e4, target 2 (0), history {1,3,4} removed, 5 (1) beats it -> rank 1.
  // C: hidden e1, target 2 repeats a history item: ranked by its own score 0
  //   among the others: 4 (2) and 5 (0.5) beat it -> rank 2.
  auto test = ranks_by_user(rank_targets(model, ds, Stage::kTest, options, at::kCPU), 3);
  EXPECT_EQ(test, (std::vector<int64_t>{0, 1, 2}));
}

TEST(Evaluator, OfficialHistoryMaskScoresHistoryZero) {
  auto ds = three_users();
  auto model = fixed_model();
  EvalOptions options;
  options.history_score_zero = true;
  // Valid B: history 1, 3 get 0 and beat the target (-2), as do 2 (0) and 5 (-0.5) -> 4.
  auto valid = ranks_by_user(rank_targets(model, ds, Stage::kValid, options, at::kCPU), 3);
  EXPECT_EQ(valid[1], 4);
  // Test A: history 1, 2, 4, 5 all get 0 > target 3 (-0.5) -> 4.
  auto test = ranks_by_user(rank_targets(model, ds, Stage::kTest, options, at::kCPU), 3);
  EXPECT_EQ(test[0], 4);
}

TEST(Evaluator, SampledProtocolRanksAmongNegatives) {
  auto ds = testing::dataset_from({{1, 3, 4, 2}, {5, 1, 2}});
  auto model = fixed_model();
  EvalOptions options;
  options.sampled = true;
  options.sampled_negatives = 3;
  // Test B: the only item B never interacted with is 5 (score 1 > target 0):
  // three draws of it -> rank 3.
  auto test = ranks_by_user(rank_targets(model, ds, Stage::kTest, options, at::kCPU), 2);
  EXPECT_EQ(test[0], 3);
}

// A model that scores every item alike must rank every target last, in the
// full and the sampled protocol: ties count against the target.
TEST(Evaluator, TiedScoresCountAgainstTheTarget) {
  auto table = at::ones({6, 2});
  table[0].zero_();
  SequentialRecommender model(std::make_shared<FixedItems>(table), std::make_shared<PassThrough>());
  auto ds = three_users();
  EvalOptions options;
  // Test: A has history {4,2,1,5}, target 3: nothing else left -> 0;
  // B history {1,3,4}, target 2: item 5 ties -> 1; C history {2,1}, target 2
  // (a repeat): 3, 4, 5 tie -> 3.
  auto full = ranks_by_user(rank_targets(model, ds, Stage::kTest, options, at::kCPU), 3);
  EXPECT_EQ(full, (std::vector<int64_t>{0, 1, 3}));
  // Sampled: every negative ties with the target (A above saw every item).
  auto two = testing::dataset_from({{1, 3, 4, 2}, {5, 1, 2}});
  options.sampled = true;
  options.sampled_negatives = 4;
  auto sampled = ranks_by_user(rank_targets(model, two, Stage::kTest, options, at::kCPU), 2);
  EXPECT_EQ(sampled, (std::vector<int64_t>{4, 4}));
}

// Users of many lengths, some longer than the window, ranked by a random
// SASRec, whose states at real positions must not depend on the padding in
// front of them: evaluation batches trimmed to their longest history and
// padded to max_len give every user the same rank.
// `users` stepped walks of 3 to 19 items over 40 items, and a random SASRec
// (hidden 16, window 12) to rank them.
std::pair<Dataset, std::shared_ptr<SequentialRecommender>> walks_and_random_sasrec(int64_t users) {
  auto ds = testing::dataset_from(testing::stepped_walks(users, 40, 3, 17, 7, 3));
  TrainConfig config;
  config.backbone.hidden = 16;
  config.backbone.max_len = 12;
  auto model = build_model(config, ds.num_items());
  return {std::move(ds), model};
}

TEST(Evaluator, TrimmedAndPaddedEvaluationAgree) {
  auto [ds, model] = walks_and_random_sasrec(60);
  EvalOptions trimmed, padded;
  trimmed.max_len = padded.max_len = 12;
  padded.trim = false;
  trimmed.batch_size = padded.batch_size = 7;  // several batches of different widths
  auto a = rank_targets(*model, ds, Stage::kTest, trimmed, at::kCPU);
  auto b = rank_targets(*model, ds, Stage::kTest, padded, at::kCPU);
  EXPECT_EQ(ranks_by_user(a, 60), ranks_by_user(b, 60));
}

// A batch of 300 users is scored in blocks of rows (the last one partial):
// every user gets the rank that a batch of one gives.
TEST(Evaluator, ScoringInBlocksOfRowsKeepsEveryRank) {
  auto [ds, model] = walks_and_random_sasrec(300);
  EvalOptions whole, single;
  whole.max_len = single.max_len = 12;
  whole.batch_size = 300;
  single.batch_size = 1;
  auto a = rank_targets(*model, ds, Stage::kTest, whole, at::kCPU);
  auto b = rank_targets(*model, ds, Stage::kTest, single, at::kCPU);
  EXPECT_EQ(ranks_by_user(a, 300), ranks_by_user(b, 300));
}

}  // namespace
}  // namespace caudal
