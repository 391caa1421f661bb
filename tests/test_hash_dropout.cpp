#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "caudal/model/hash_dropout.h"

namespace caudal {
namespace {

double kept_fraction(const at::Tensor& mask) { return mask.gt(0).to(at::kDouble).mean().item<double>(); }

TEST(HashDropout, KeepsEachElementWithProbabilityOneMinusPScaled) {
  const int64_t n = 1 << 20;
  for (const double p : {0.1, 0.2, 0.5, 0.9}) {
    const auto mask = hash_dropout_mask({n}, p, 12345u, 678u);
    // Binomial standard deviation sqrt(p (1 - p) / n) <= 0.0005: 6 of them.
    EXPECT_NEAR(kept_fraction(mask), 1 - p, 0.003) << "p " << p;
    const auto scale = static_cast<float>(1.0 / (1.0 - p));
    EXPECT_TRUE(mask.eq(0).logical_or(mask.eq(scale)).all().item<bool>()) << "p " << p;
    // No stretch of the mask is off: the same rate in each sixteenth.
    for (const auto& part : mask.chunk(16)) EXPECT_NEAR(kept_fraction(part), 1 - p, 0.012) << "p " << p;
  }
}

TEST(HashDropout, ElementsAndMasksAreIndependent) {
  const int64_t n = 1 << 20;
  const double p = 0.5, both = (1 - p) * (1 - p);
  const auto a = hash_dropout_mask({n}, p, 1000u, 77u).gt(0);
  auto both_kept = [](const at::Tensor& x, const at::Tensor& y) {
    return x.logical_and(y).to(at::kDouble).mean().item<double>();
  };
  // Neighbouring elements of one mask.
  EXPECT_NEAR(both_kept(a.narrow(0, 0, n - 1), a.narrow(0, 1, n - 1)), both, 0.003);
  // Two calls' masks, their second keys one bit apart: neither the same
  // elements nor a copy shifted by one. (A call's key is both keys: with the
  // same second key, the first only moves the counter.)
  const auto b = hash_dropout_mask({n}, p, 1000u, 76u).gt(0);
  EXPECT_NEAR(both_kept(a, b), both, 0.003);
  EXPECT_NEAR(both_kept(a.narrow(0, 1, n - 1), b.narrow(0, 0, n - 1)), both, 0.003);
  EXPECT_NEAR(both_kept(a.narrow(0, 0, n - 1), b.narrow(0, 1, n - 1)), both, 0.003);
}

TEST(HashDropout, TrainingDropsAndScalesAndTheGradientIsTheMask) {
  HashDropout dropout(0.3);
  auto x = (at::rand({64, 50, 32}) + 0.5).requires_grad_(true);
  const auto y = dropout->forward(x);
  EXPECT_NEAR(kept_fraction(y), 0.7, 0.01);
  const auto kept = y.gt(0);
  EXPECT_TRUE(at::allclose(y.masked_select(kept), x.detach().masked_select(kept) / 0.7));
  y.sum().backward();
  EXPECT_TRUE(at::allclose(x.grad(), y.detach() / x.detach()));
  // A transposed view is masked element by element all the same: each kept
  // element is its own input scaled (distinct inputs, so reading the view's
  // memory in storage order would show).
  const auto xt = (at::arange(2048, at::kFloat).reshape({32, 64}) + 1).t();
  const auto yt = dropout->forward(xt);
  EXPECT_EQ(yt.sizes(), xt.sizes());
  EXPECT_NEAR(kept_fraction(yt), 0.7, 0.05);
  const auto kept_t = yt.ne(0);
  EXPECT_TRUE(at::allclose(yt.masked_select(kept_t), xt.masked_select(kept_t) / 0.7));
}

TEST(HashDropout, TheSeedFixesEveryMaskAndEachCallDrawsANewOne) {
  HashDropout dropout(0.5);
  const auto x = at::ones({4096});
  at::manual_seed(7);
  const auto first = dropout->forward(x), second = dropout->forward(x);
  at::manual_seed(7);
  EXPECT_TRUE(at::equal(dropout->forward(x), first));
  EXPECT_FALSE(at::equal(first, second));
}

TEST(HashDropout, IdentityOutsideTrainingOrAtZeroAndZeroAtOne) {
  const auto x = at::rand({8, 16}) + 0.5;
  HashDropout dropout(0.4);
  dropout->eval();
  EXPECT_TRUE(at::equal(dropout->forward(x), x));
  EXPECT_TRUE(at::equal(HashDropout(0.0)->forward(x), x));
  EXPECT_TRUE(HashDropout(1.0)->forward(x).eq(0).all().item<bool>());
  EXPECT_THROW(HashDropout(1.5), std::exception);
  EXPECT_THROW(hash_dropout_mask({4}, 1.0, 0u, 0u), std::exception);
}

}  // namespace
}  // namespace caudal
