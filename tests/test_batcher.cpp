#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <set>

#include "caudal/data/batcher.h"
#include "caudal/objective/masked_items.h"
#include "test_util.h"

namespace caudal {
namespace {

Dataset toy_dataset() {
  // 7 users of lengths 4..12 over 20 items.
  std::vector<std::vector<int64_t>> seqs;
  for (int64_t u = 0; u < 7; ++u) {
    std::vector<int64_t> s;
    for (int64_t k = 0; k < 4 + u + (u % 3); ++k) s.push_back(1 + (u * 3 + k * 2) % 20);
    seqs.push_back(s);
  }
  return testing::dataset_from(seqs);
}

TEST(Batcher, WindowsTargetsAndLeftPadding) {
  auto ds = testing::dataset_from({{1, 2, 3, 4, 5, 6}, {7, 8, 9, 10}});
  TrainBatcher batcher(ds, BatchOptions{50, 8, true}, 1);
  auto rng = make_rng(1, RandomStream::kBatchOrder, 0);
  auto batch = batcher.make_batch({0, 1}, rng);
  // u0: inputs s[0..n-4] = 1 2 3, targets 2 3 4; u1: inputs 7, target 8.
  ASSERT_EQ(batch.inputs.sizes(), (at::IntArrayRef{2, 3}));
  auto in = batch.inputs.accessor<int64_t, 2>();
  auto tg = batch.targets.accessor<int64_t, 2>();
  auto ng = batch.negatives.accessor<int64_t, 2>();
  EXPECT_EQ((std::vector<int64_t>{in[0][0], in[0][1], in[0][2]}), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ((std::vector<int64_t>{tg[0][0], tg[0][1], tg[0][2]}), (std::vector<int64_t>{2, 3, 4}));
  EXPECT_EQ((std::vector<int64_t>{in[1][0], in[1][1], in[1][2]}), (std::vector<int64_t>{0, 0, 7}));
  EXPECT_EQ((std::vector<int64_t>{tg[1][0], tg[1][1], tg[1][2]}), (std::vector<int64_t>{0, 0, 8}));
  EXPECT_EQ(ng[1][0], 0);
  EXPECT_GT(ng[1][2], 0);
}

TEST(Batcher, WindowKeepsTheLastMaxLenInputs) {
  auto ds = testing::dataset_from({{1, 2, 3, 4, 5, 6, 7, 8}, {9, 10, 11}});
  TrainBatcher batcher(ds, BatchOptions{3, 8, false}, 1);
  auto rng = make_rng(1, RandomStream::kBatchOrder, 0);
  auto batch = batcher.make_batch({0}, rng);
  // inputs s[0..4] = 1..5, last 3 kept: 3 4 5 -> targets 4 5 6.
  EXPECT_TRUE(at::equal(batch.inputs, at::tensor({3, 4, 5}, at::kLong).view({1, 3})));
  EXPECT_TRUE(at::equal(batch.targets, at::tensor({4, 5, 6}, at::kLong).view({1, 3})));
}

TEST(Batcher, NegativesAreNeverItemsOfTheUser) {
  auto ds = toy_dataset();
  TrainBatcher batcher(ds, BatchOptions{50, 3, true}, 7);
  for (int64_t epoch = 0; epoch < 5; ++epoch) {
    for (const auto& batch : batcher.epoch(epoch)) {
      auto ng = batch.negatives.accessor<int64_t, 2>();
      auto tg = batch.targets.accessor<int64_t, 2>();
      for (int64_t r = 0; r < batch.negatives.size(0); ++r) {
        const auto& seen = ds.interacted_items(batch.users[r]);
        for (int64_t c = 0; c < batch.negatives.size(1); ++c) {
          if (tg[r][c] == 0) {
            EXPECT_EQ(ng[r][c], 0);
            continue;
          }
          EXPECT_GE(ng[r][c], 1);
          EXPECT_LE(ng[r][c], ds.num_items());
          EXPECT_FALSE(std::binary_search(seen.begin(), seen.end(), ng[r][c]));
        }
      }
    }
  }
}

TEST(Batcher, EpochCoversEveryUserOnceAndIsReproducible) {
  auto ds = toy_dataset();
  TrainBatcher a(ds, BatchOptions{50, 3, true}, 11), b(ds, BatchOptions{50, 3, true}, 11);
  auto first = a.epoch(4), again = b.epoch(4), next = a.epoch(5);
  std::multiset<int64_t> users;
  for (const auto& batch : first) users.insert(batch.users.begin(), batch.users.end());
  EXPECT_EQ(users.size(), 7u);
  EXPECT_EQ(std::set<int64_t>(users.begin(), users.end()).size(), 7u);
  ASSERT_EQ(first.size(), again.size());
  bool negatives_differ = false;
  for (size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(first[i].users, again[i].users);
    EXPECT_TRUE(at::equal(first[i].negatives, again[i].negatives));
  }
  for (size_t i = 0; i < first.size() && i < next.size(); ++i)
    if (first[i].users != next[i].users || !at::equal(first[i].negatives, next[i].negatives)) negatives_differ = true;
  EXPECT_TRUE(negatives_differ) << "a new epoch must redraw negatives";
}

TEST(Batcher, UsersWithoutTrainingPositionsAreSkipped) {
  // A user of 3 items has only validation and test targets; a batch made of
  // such users alone would have no target to average over.
  auto ds = testing::dataset_from({{1, 2, 3}, {4, 5, 6}, {1, 2, 3, 4, 5}});
  TrainBatcher batcher(ds, BatchOptions{50, 1, true}, 1);
  auto batches = batcher.epoch(0);
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0].users, (std::vector<int64_t>{2}));
}

TEST(Batcher, TrimmedBatchesAreAsWideAsTheirLongestWindow) {
  auto ds = toy_dataset();
  TrainBatcher batcher(ds, BatchOptions{50, 2, true}, 3);
  for (const auto& batch : batcher.epoch(0)) {
    int64_t longest = 0;
    for (int64_t u : batch.users) longest = std::max(longest, batcher.window_length(u));
    EXPECT_EQ(batch.inputs.size(1), longest);
  }
  TrainBatcher padded(ds, BatchOptions{50, 2, false}, 3);
  for (const auto& batch : padded.epoch(0)) EXPECT_EQ(batch.inputs.size(1), 50);
}

TEST(Batcher, EvalBatchesHoldTheHistoryBeforeTheTarget) {
  auto ds = testing::dataset_from({{1, 2, 3, 4, 5}, {6, 7, 8}});
  auto valid = make_eval_batches(ds, Stage::kValid, BatchOptions{50, 10, true});
  ASSERT_EQ(valid.size(), 1u);
  // Sorted by length: u1 (history 6) first, then u0 (history 1 2 3).
  EXPECT_EQ(valid[0].users, (std::vector<int64_t>{1, 0}));
  EXPECT_TRUE(at::equal(valid[0].inputs, at::tensor({0, 0, 6, 1, 2, 3}, at::kLong).view({2, 3})));
  EXPECT_TRUE(at::equal(valid[0].targets, at::tensor({7, 4}, at::kLong)));
  auto test = make_eval_batches(ds, Stage::kTest, BatchOptions{2, 10, false});
  EXPECT_TRUE(at::equal(test[0].inputs, at::tensor({3, 4, 6, 7}, at::kLong).view({2, 2})));
  EXPECT_TRUE(at::equal(test[0].targets, at::tensor({5, 8}, at::kLong)));
}

}  // namespace
}  // namespace caudal

namespace caudal {
namespace {

TEST(MaskedItemBatch, MasksOnlyItemsScoresOnlyMaskedPositionsAndIsSeeded) {
  std::vector<std::vector<int64_t>> seqs;
  for (int64_t u = 0; u < 40; ++u) {
    std::vector<int64_t> s;
    for (int64_t k = 0; k < 5 + u % 9; ++k) s.push_back(1 + (u * 5 + k) % 50);
    seqs.push_back(s);
  }
  auto ds = testing::dataset_from(seqs);
  TrainBatcher batcher(ds, BatchOptions{12, 40, true}, 1);
  auto batch = batcher.epoch(0).front();
  const int64_t mask = 51;
  auto rng = make_rng(1, RandomStream::kItemMask, 0);
  auto out = masked_item_batch(batch, mask, 0.3, rng);
  int64_t items = 0, masked = 0;
  for (int64_t r = 0; r < batch.targets.size(0); ++r) {
    int64_t row_masked = 0;
    for (int64_t c = 0; c < batch.targets.size(1); ++c) {
      const int64_t item = batch.targets[r][c].item<int64_t>(), in = out.inputs[r][c].item<int64_t>();
      const int64_t target = out.targets[r][c].item<int64_t>(), negative = out.negatives[r][c].item<int64_t>();
      if (item == 0) {
        EXPECT_EQ(in, 0);  // padding stays padding
        EXPECT_EQ(target, 0);
        continue;
      }
      ++items;
      if (in == mask) {
        ++masked;
        ++row_masked;
        EXPECT_EQ(target, item);
        EXPECT_EQ(negative, batch.negatives[r][c].item<int64_t>());
      } else {
        EXPECT_EQ(in, item);
        EXPECT_EQ(target, 0);
        EXPECT_EQ(negative, 0);
      }
    }
    EXPECT_GE(row_masked, 1);  // every row trains on something
  }
  const double share = static_cast<double>(masked) / static_cast<double>(items);
  EXPECT_GT(share, 0.2);
  EXPECT_LT(share, 0.45);
  auto rng2 = make_rng(1, RandomStream::kItemMask, 0);
  EXPECT_TRUE(at::equal(out.inputs, masked_item_batch(batch, mask, 0.3, rng2).inputs));
}

}  // namespace
}  // namespace caudal
