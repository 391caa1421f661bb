// Random batches encoded in trimmed length groups (model/length_groups.h):
// the groups chosen, and the claim the speed rests on, that they give what
// the padded batch gives.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <numeric>

#include "caudal/model/length_groups.h"
#include "caudal/train/trainer.h"
#include "small_models.h"

namespace caudal {
namespace {

using testing::small_config;

TEST(LengthGroups, GroupsMinimiseOverheadPlusPaddedPositions) {
  const std::vector<int64_t> lengths = {1, 1, 2, 5, 5, 50};
  // No cost per group: one group per length.
  EXPECT_EQ(length_group_ends(lengths, 0), (std::vector<int64_t>{2, 3, 5, 6}));
  // Groups cost more than any padding: one group.
  EXPECT_EQ(length_group_ends(lengths, 1000000), (std::vector<int64_t>{6}));
  // Overhead 4, worked by hand: {1,1,2} costs 4 + 3*2 = 10 (apart: 6 + 6 = 12);
  // {5,5} 14 and {50} 54 stay apart (joined with {1,1,2}: 29 > 24; {5,5,50}: 154 > 68).
  EXPECT_EQ(length_group_ends(lengths, 4), (std::vector<int64_t>{3, 5, 6}));
  EXPECT_EQ(length_group_ends({7}, 4), (std::vector<int64_t>{1}));
}

// Rows of lengths 1 to 12 in a scrambled order, left-padded to max_len 12.
at::Tensor scrambled_rows() {
  const std::vector<int64_t> lengths = {5, 1, 12, 3, 3, 9, 2, 12, 7, 1, 4, 11, 6, 2};
  auto ids = at::zeros({static_cast<int64_t>(lengths.size()), 12}, at::kLong);
  for (size_t r = 0; r < lengths.size(); ++r)
    for (int64_t k = 0; k < lengths[r]; ++k) ids[r][12 - lengths[r] + k] = 1 + (static_cast<int64_t>(r) * 5 + k * 3) % 30;
  return ids;
}

// The groups of a batch, as the encoder forms them and bench-epoch counts
// them: rows ordered by length (ties in row order), cut by length_group_ends,
// each as wide as its longest row; an empty row still gets width 1.
TEST(LengthGroups, GroupByLengthOrdersRowsAndNamesEachGroupsWidth) {
  auto ids = at::zeros({5, 6}, at::kLong);
  const std::vector<int64_t> lengths = {5, 0, 2, 5, 1};
  for (int64_t r = 0; r < 5; ++r)
    for (int64_t k = 0; k < lengths[r]; ++k) ids[r][6 - lengths[r] + k] = 7 + k;
  const auto one_per_length = group_by_length(ids, 0);
  EXPECT_EQ(one_per_length.order, (std::vector<int64_t>{1, 4, 2, 0, 3}));
  EXPECT_EQ(one_per_length.ends, (std::vector<int64_t>{1, 2, 3, 5}));
  EXPECT_EQ(one_per_length.widths, (std::vector<int64_t>{1, 1, 2, 5}));
  const auto one_group = group_by_length(ids, 1000000);
  EXPECT_EQ(one_group.ends, (std::vector<int64_t>{5}));
  EXPECT_EQ(one_group.widths, (std::vector<int64_t>{5}));
}

class LengthGroupsOfBackbone : public ::testing::TestWithParam<std::string> {};

// States at real positions and the gradients of a loss on them equal the
// padded batch's (up to float rounding: attention sums over fewer exact
// zeros); states at padded positions are 0. With no cost per group, one
// group per distinct length: 11 groups, of widths 1 to 12.
TEST_P(LengthGroupsOfBackbone, EqualThePaddedBatchAtRealPositions) {
  auto config = small_config(0.0);
  config.backbone.name = GetParam();
  auto model = build_model(config, 30);
  const auto ids = scrambled_rows();
  const auto real = ids.gt(0).unsqueeze(-1).to(at::kFloat);
  auto weights = at::randn({ids.size(0), 12, 16});
  auto run = [&](bool grouped) {
    model->zero_grad();
    std::vector<int64_t> every_position(ids.numel());
    std::iota(every_position.begin(), every_position.end(), 0);
    auto hidden = grouped ? encode_positions_in_length_groups(*model, ids, every_position, /*overhead=*/0).view({ids.size(0), 12, -1})
                          : model->encode(ids);
    (hidden * real * weights).sum().backward();
    std::vector<at::Tensor> grads;
    for (const auto& p : model->parameters()) grads.push_back(p.grad().defined() ? p.grad().clone() : at::Tensor());
    return std::make_pair(hidden.detach(), grads);
  };
  const auto [grouped, grouped_grads] = run(true);
  const auto [padded, padded_grads] = run(false);
  EXPECT_TRUE(at::allclose(grouped, padded * real, 1e-5, 1e-5))
      << "max difference " << (grouped - padded * real).abs().max().item<double>();
  EXPECT_EQ((grouped * (1 - real)).abs().sum().item<double>(), 0.0);
  for (size_t i = 0; i < padded_grads.size(); ++i) {
    if (!padded_grads[i].defined()) continue;
    EXPECT_TRUE(at::allclose(grouped_grads[i], padded_grads[i], 1e-4, 1e-5))
        << "parameter " << i << " max difference " << (grouped_grads[i] - padded_grads[i]).abs().max().item<double>();
  }
  // A few positions in any order (row 1's column 3 is padding): the states there.
  const std::vector<int64_t> some = {5 * 12 + 11, 0 * 12 + 7, 2 * 12 + 0, 1 * 12 + 3};
  const auto picked = encode_positions_in_length_groups(*model, ids, some, /*overhead=*/0).detach();
  const auto every = grouped.reshape({-1, grouped.size(-1)});
  for (size_t p = 0; p < some.size(); ++p)
    EXPECT_TRUE(at::allclose(picked[p], every[some[p]], 1e-5, 1e-6)) << "position " << some[p];
}

INSTANTIATE_TEST_SUITE_P(Backbones, LengthGroupsOfBackbone, ::testing::Values("sasrec", "gru4rec", "lrurec", "bert4rec"));

// A whole TADA epoch (dropout 0, so no random draw depends on the batch
// shape): random batches in length groups train the same weights as the same
// random batches padded to max_len.
TEST(LengthGroups, TadaEpochEqualsThePaddedEpoch) {
  testing::TempDir dir;
  auto ds = testing::dataset_from(testing::stepped_walks(60, 30, 4, 9, 7, 3));
  auto config = small_config(0.0);
  config.batch = 16;
  config.methods.list = "tada";
  config.methods.tada.lis.threshold = 0.05;
  auto weights_after_an_epoch = [&](Batching batching) {
    config.batching = batching;
    TrainingSetup setup(config, ds, {dir.path().string()});
    EXPECT_EQ(setup.batching, batching);
    const auto losses = setup.run_epoch(0);
    std::vector<at::Tensor> weights;
    for (const auto& p : setup.model->parameters()) weights.push_back(p.detach().clone());
    return std::make_pair(losses, weights);
  };
  const auto [random_losses, random_weights] = weights_after_an_epoch(Batching::kRandom);
  const auto [padded_losses, padded_weights] = weights_after_an_epoch(Batching::kPadded);
  ASSERT_EQ(random_losses.size(), padded_losses.size());
  for (size_t i = 0; i < random_losses.size(); ++i)
    EXPECT_NEAR(random_losses[i].second, padded_losses[i].second, 1e-4) << random_losses[i].first;
  for (size_t i = 0; i < random_weights.size(); ++i)
    EXPECT_TRUE(at::allclose(random_weights[i], padded_weights[i], 1e-3, 1e-5))
        << "parameter " << i << " max difference " << (random_weights[i] - padded_weights[i]).abs().max().item<double>();
}

}  // namespace
}  // namespace caudal
