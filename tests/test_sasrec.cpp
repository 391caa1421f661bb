#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/optim/adam.h>

#include <functional>

#include "caudal/data/batcher.h"
#include "caudal/model/batched_matmul.h"
#include "caudal/model/sasrec.h"
#include "caudal/objective/losses.h"
#include "caudal/run/trained_model.h"
#include "caudal/train/trainer.h"
#include "small_models.h"

namespace caudal {
namespace {

using testing::small_config;
using testing::varied_lengths;

// batched_matmul against LibTorch's matmul, values and gradients, on the
// layouts attention gives it: heads permuted out of a fused projection, a
// transposed operand, a single query row, a size-1 inner dimension, and an
// operand with no unit-stride dimension (copied first).
TEST(BatchedMatmul, EqualsMatmulWithGradientsOnEveryLayout) {
  if (!batched_matmul_calls_blas()) GTEST_SKIP() << "built without cblas.h: batched_matmul is at::matmul";
  using Views = std::function<std::pair<at::Tensor, at::Tensor>(const at::Tensor&, const at::Tensor&)>;
  auto heads = [](const at::Tensor& qkv) { return qkv.permute({2, 0, 3, 1, 4}); };  // [2, 5, 3, 4, 6] -> 3 x [2, 4, 5, 6]
  const std::vector<std::tuple<std::vector<int64_t>, std::vector<int64_t>, Views>> cases = {
      {{3, 7, 4}, {3, 4, 2}, [](auto& a, auto& b) { return std::make_pair(a, b); }},
      {{2, 5, 3, 4, 6}, {1}, [&](auto& a, auto&) { return std::make_pair(heads(a)[0], heads(a)[1].transpose(-2, -1)); }},
      {{2, 4, 5, 5}, {2, 5, 3, 4, 6}, [&](auto& a, auto& b) { return std::make_pair(a, heads(b)[2]); }},
      {{2, 4, 1, 6}, {2, 5, 3, 4, 6}, [&](auto& a, auto& b) { return std::make_pair(a, heads(b)[1].transpose(-2, -1)); }},
      {{3, 4, 1}, {3, 1, 5}, [](auto& a, auto& b) { return std::make_pair(a, b); }},
      {{2, 4, 12, 10}, {2, 4, 5, 3},
       [](auto& a, auto& b) { return std::make_pair(a.slice(-1, 0, 10, 2).slice(-2, 0, 12, 2), b); }},
  };
  auto generator = at::detail::createCPUGenerator(3);
  for (size_t c = 0; c < cases.size(); ++c) {
    const auto& [a_shape, b_shape, views] = cases[c];
    const auto a0 = at::randn(a_shape, generator), b0 = at::randn(b_shape, generator);
    auto run = [&, &views = views](bool blas) {
      auto a = a0.clone().set_requires_grad(true), b = b0.clone().set_requires_grad(true);
      const auto [left, right] = views(a, b);
      auto out = blas ? batched_matmul(left, right) : at::matmul(left, right);
      // The upstream gradient in a transposed layout, as attention's output gets it.
      auto swapped = out.sizes().vec();
      std::swap(swapped[swapped.size() - 1], swapped[swapped.size() - 2]);
      const auto upstream = at::arange(out.numel(), out.options()).view(swapped).sin().transpose(-2, -1);
      (out * upstream).sum().backward();
      return std::make_tuple(out.detach(), a.grad(), b.grad());
    };
    const auto [out, grad_a, grad_b] = run(true);
    const auto [expected, expected_a, expected_b] = run(false);
    ASSERT_EQ(out.sizes(), expected.sizes()) << "case " << c;
    EXPECT_TRUE(at::allclose(out, expected, 1e-5, 1e-6)) << "case " << c;
    EXPECT_TRUE(at::allclose(grad_a, expected_a, 1e-5, 1e-6)) << "case " << c;
    EXPECT_EQ(grad_b.defined(), expected_b.defined()) << "case " << c;
    if (grad_b.defined()) {
      EXPECT_TRUE(at::allclose(grad_b, expected_b, 1e-5, 1e-6)) << "case " << c;
    }
  }
}

TEST(SASRec, OutputShape) {
  auto model = build_model(small_config(0.0), 30);
  auto ids = at::randint(1, 31, {3, 7}, at::kLong);
  EXPECT_EQ(model->encode(ids).sizes(), (at::IntArrayRef{3, 7, 16}));
  EXPECT_EQ(model->encode_last(ids).sizes(), (at::IntArrayRef{3, 16}));
  EXPECT_EQ(model->score_all(model->encode_last(ids)).sizes(), (at::IntArrayRef{3, 31}));
}

TEST(SASRec, IsCausal) {
  auto model = build_model(small_config(0.0), 30);
  model->eval();
  auto ids = at::tensor({0, 0, 4, 9, 2, 7, 5}, at::kLong).view({1, 7});
  auto changed = ids.clone();
  changed[0][5] = 11;
  auto a = model->encode(ids), b = model->encode(changed);
  // Real positions 2..4 must not see item 5 (padded positions 0..1 are
  // unconstrained: the backbone contract leaves their outputs arbitrary).
  EXPECT_TRUE(at::equal(a.narrow(1, 2, 3), b.narrow(1, 2, 3))) << "positions before 5 must not see item 5";
  EXPECT_FALSE(at::allclose(a.narrow(1, 5, 2), b.narrow(1, 5, 2)));
}

TEST(SASRec, RejectsWindowsLongerThanMaxLen) {
  auto model = build_model(small_config(0.0), 30);
  EXPECT_THROW(model->encode(at::ones({1, 13}, at::kLong)), std::exception);
}

// The speed-up of trimmed batches rests on this: for the same users,
// negatives and weights, a batch cut to its longest sequence gives the same
// hidden states, loss and gradients as the batch padded to max_len. Equal up
// to float rounding only: the attention softmax sums over fewer (exactly
// zero) terms, which changes the order of the additions.
TEST(SASRec, TrimmedBatchEqualsPaddedBatch) {
  auto ds = varied_lengths();
  auto config = small_config(0.0);
  auto model = build_model(config, ds.num_items());
  TrainBatcher batcher(ds, BatchOptions{config.backbone.max_len, 8, true}, 3);
  const std::vector<int64_t> users = {0, 1, 2};  // windows of 1, 3 and 5 items
  auto rng_a = make_rng(9, RandomStream::kBatchOrder, 0), rng_b = make_rng(9, RandomStream::kBatchOrder, 0);
  auto trimmed = batcher.make_batch(users, rng_a);
  auto padded = batcher.make_batch(users, rng_b, config.backbone.max_len);
  const int64_t width = trimmed.inputs.size(1);
  ASSERT_EQ(width, 5);
  ASSERT_TRUE(at::equal(padded.negatives.narrow(1, config.backbone.max_len - width, width), trimmed.negatives));

  auto loss_of = [&](const TrainBatch& batch) {
    model->zero_grad();
    auto hidden = model->encode(batch.inputs);
    auto loss = next_item_bce(hidden, model->items().output(batch.targets), model->items().output(batch.negatives),
                              batch.targets.gt(0));
    loss.backward();
    std::vector<at::Tensor> grads;
    for (const auto& p : model->parameters()) grads.push_back(p.grad().clone());
    return std::make_tuple(hidden.detach(), loss.item<double>(), grads);
  };
  auto [h_trim, loss_trim, g_trim] = loss_of(trimmed);
  auto [h_pad, loss_pad, g_pad] = loss_of(padded);
  auto real = trimmed.inputs.gt(0).unsqueeze(-1);
  auto h_pad_tail = h_pad.narrow(1, config.backbone.max_len - width, width);
  EXPECT_TRUE(at::allclose(h_trim * real, h_pad_tail * real, 1e-5, 1e-6))
      << "max difference " << (h_trim * real - h_pad_tail * real).abs().max().item<double>();
  EXPECT_NEAR(loss_trim, loss_pad, 1e-6);
  ASSERT_EQ(g_trim.size(), g_pad.size());
  for (size_t i = 0; i < g_trim.size(); ++i)
    EXPECT_TRUE(at::allclose(g_trim[i], g_pad[i], 1e-4, 1e-7))
        << "parameter " << i << " max difference " << (g_trim[i] - g_pad[i]).abs().max().item<double>();
}

TEST(SASRec, PaddingRowStaysZero) {
  auto ds = varied_lengths();
  auto config = small_config(0.1);
  auto model = build_model(config, ds.num_items());
  TrainBatcher batcher(ds, BatchOptions{config.backbone.max_len, 4, true}, 3);
  torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(1e-2));
  std::vector<std::unique_ptr<Method>> no_methods;
  train_one_epoch(*model, batcher, adam, 0, c10::Device(c10::kCPU), no_methods, epoch_options(config, *model, Batching::kBucketed));
  EXPECT_EQ(model->items().output_table()[0].abs().sum().item<double>(), 0.0);
}

TEST(SASRec, SameSeedSameWeights) {
  auto a = build_model(small_config(0.2), 30), b = build_model(small_config(0.2), 30);
  auto pa = a->parameters(), pb = b->parameters();
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(at::equal(pa[i], pb[i]));
}

}  // namespace
}  // namespace caudal
