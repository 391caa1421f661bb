#include <gtest/gtest.h>

#include <complex>

#include <ATen/ATen.h>

#include "caudal/model/fmlprec.h"
#include "caudal/model/lrurec.h"
#include "caudal/run/trained_model.h"
#include "small_models.h"

namespace caudal {
namespace {

using testing::small_config;
using testing::varied_lengths;


// The same properties for every backbone that trims padding.
class TrimmableBackbone : public ::testing::TestWithParam<std::string> {};

TEST_P(TrimmableBackbone, ShapeCausalityAndTrimmedEqualsPadded) {
  auto config = small_config(0.0);
  config.backbone.name = GetParam();
  auto ds = varied_lengths();
  auto model = build_model(config, ds.num_items());
  model->eval();
  ASSERT_FALSE(model->backbone().needs_full_window());
  auto ids = at::tensor({0, 0, 4, 9, 2, 7, 5}, at::kLong).view({1, 7});
  auto hidden = model->encode(ids);
  EXPECT_EQ(hidden.sizes(), (at::IntArrayRef{1, 7, 16}));
  auto changed = ids.clone();
  changed[0][5] = 11;
  EXPECT_TRUE(at::equal(hidden.narrow(1, 2, 3), model->encode(changed).narrow(1, 2, 3)));
  // The same sequence with more left padding: same states at real positions.
  auto wider = at::tensor({0, 0, 0, 0, 0, 4, 9, 2, 7, 5}, at::kLong).view({1, 10});
  EXPECT_TRUE(at::allclose(hidden.narrow(1, 2, 5), model->encode(wider).narrow(1, 5, 5), 1e-5, 1e-6));
}

INSTANTIATE_TEST_SUITE_P(Backbones, TrimmableBackbone, ::testing::Values("sasrec", "gru4rec", "lrurec"));

// encode_last (what ranking reads; SASRec and BERT4Rec compute only the last
// column in their last block) equals the last column of encode.
class LastColumn : public ::testing::TestWithParam<std::string> {};

TEST_P(LastColumn, EncodeLastIsTheLastColumnOfEncode) {
  auto config = small_config(0.0);
  config.backbone.name = GetParam();
  auto model = build_model(config, 30);
  model->eval();
  auto& backbone = model->backbone();
  const auto ids = at::tensor({0, 0, 4, 9, 2, 7, 5, 0, 3, 8, 1, 6, 2, 9}, at::kLong).view({2, 7});
  const auto inputs = backbone.embed_input(model->items().input(ids));
  const auto whole = backbone.encode(inputs, ids.gt(0)).select(1, 6);
  const auto last = backbone.encode_last(inputs, ids.gt(0));
  EXPECT_EQ(last.sizes(), (at::IntArrayRef{2, 16}));
  EXPECT_TRUE(at::allclose(last, whole, 1e-5, 1e-6)) << (last - whole).abs().max().item<double>();
}

INSTANTIATE_TEST_SUITE_P(Backbones, LastColumn, ::testing::Values("sasrec", "bert4rec", "gru4rec", "lrurec"));

}  // namespace
}  // namespace caudal

namespace caudal {
namespace {

TEST(FMLPRec, CausalFilterSeesNoLaterItemsAndTheCircularOneDoes) {
  auto config = small_config(0.0);
  config.backbone.name = "fmlprec";
  auto ids = at::tensor({0, 0, 0, 0, 0, 4, 9, 2, 7, 5, 3, 8}, at::kLong).view({1, 12});  // max_len 12
  auto changed = ids.clone();
  changed[0][9] = 11;
  auto model = build_model(config, 30);
  model->eval();
  EXPECT_TRUE(model->backbone().needs_full_window());
  auto a = model->encode(ids), b = model->encode(changed);
  EXPECT_EQ(a.sizes(), (at::IntArrayRef{1, 12, 16}));
  // Equal up to FFT rounding before position 9, different from it on.
  EXPECT_TRUE(at::allclose(a.narrow(1, 0, 9), b.narrow(1, 0, 9), 1e-5, 1e-5))
      << (a.narrow(1, 0, 9) - b.narrow(1, 0, 9)).abs().max().item<double>();
  EXPECT_GT((a.narrow(1, 9, 3) - b.narrow(1, 9, 3)).abs().max().item<double>(), 1e-3);
  config.backbone.fmlp_filter = FmlpFilter::kCircular;
  auto circular = build_model(config, 30);
  circular->eval();
  auto c = circular->encode(ids), d = circular->encode(changed);
  EXPECT_GT((c.narrow(1, 5, 4) - d.narrow(1, 5, 4)).abs().max().item<double>(), 1e-3) << "the official filter looks ahead";
  EXPECT_THROW(model->encode(at::ones({1, 5}, at::kLong)), std::exception) << "the window must be whole";
}

TEST(FMLPRec, CausalKernelMatchesTheCircularFilterOnTheLags) {
  // With a single impulse at position 0, no lag wraps around: the causal and
  // circular filters give the same response.
  auto config = small_config(0.0);
  config.backbone.name = "fmlprec";
  torch::manual_seed(3);
  FrequencyFilterBlock causal(12, 16, 0.0, true);
  torch::manual_seed(3);
  FrequencyFilterBlock circular(12, 16, 0.0, false);
  auto x = at::zeros({1, 12, 16});
  x[0][0] = at::randn({16});
  EXPECT_TRUE(at::allclose(causal->forward(x), circular->forward(x), 1e-5, 1e-5));
}

}  // namespace
}  // namespace caudal

namespace caudal {
namespace {

// The convolution form of the LRU equals the recurrence h_t = lambda h_{t-1} + u_t.
TEST(LRURec, ConvolutionEqualsStepByStepRecurrence) {
  at::manual_seed(3);
  const int64_t batch = 2, length = 9, width = 4;
  auto u_re = at::randn({batch, length, width}, at::kDouble), u_im = at::randn({batch, length, width}, at::kDouble);
  auto nu = at::rand({width}, at::kDouble) * 0.3, theta = at::rand({width}, at::kDouble) * 6.0;
  auto [h_re, h_im] = linear_recurrence(u_re, u_im, nu, theta);
  ASSERT_EQ(h_re.sizes(), u_re.sizes());
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t d = 0; d < width; ++d) {
      const std::complex<double> lambda = std::exp(std::complex<double>(-nu[d].item<double>(), theta[d].item<double>()));
      std::complex<double> h = 0;
      for (int64_t t = 0; t < length; ++t) {
        h = lambda * h + std::complex<double>(u_re[b][t][d].item<double>(), u_im[b][t][d].item<double>());
        EXPECT_NEAR(h_re[b][t][d].item<double>(), h.real(), 1e-12);
        EXPECT_NEAR(h_im[b][t][d].item<double>(), h.imag(), 1e-12);
      }
    }
}

TEST(LRURec, EigenvaluesStartOnTheRing) {
  auto config = small_config(0.0);
  config.backbone.name = "lrurec";
  auto model = build_model(config, 20);
  int checked = 0;
  for (const auto& p : model->named_parameters()) {
    if (p.key().find("params_log") == std::string::npos) continue;
    auto radius = at::exp(-at::exp(p.value()[0]));
    EXPECT_TRUE(radius.ge(0.8 - 1e-5).all().item<bool>() && radius.le(0.99 + 1e-5).all().item<bool>());
    // gamma normalises the input so that a stationary state has unit gain.
    EXPECT_TRUE(at::allclose(at::exp(p.value()[2]), at::sqrt(1 - radius * radius), 1e-4, 1e-5));
    ++checked;
  }
  EXPECT_EQ(checked, config.backbone.layers);
}

}  // namespace
}  // namespace caudal

namespace caudal {
namespace {

TrainConfig bert4rec_config() {
  auto config = small_config(0.0);
  config.backbone.name = "bert4rec";
  return config;
}

TEST(BERT4Rec, SeesBothSidesButNotPadding) {
  auto model = build_model(bert4rec_config(), 30);
  model->eval();
  EXPECT_FALSE(model->backbone().causal());
  auto ids = at::tensor({0, 0, 4, 9, 2, 7, 5}, at::kLong).view({1, 7});
  auto hidden = model->encode(ids);
  auto changed = ids.clone();
  changed[0][5] = 11;
  EXPECT_FALSE(at::allclose(hidden.select(1, 2), model->encode(changed).select(1, 2)));  // a later item is seen
  auto wider = at::tensor({0, 0, 0, 0, 0, 4, 9, 2, 7, 5}, at::kLong).view({1, 10});
  EXPECT_TRUE(at::allclose(hidden.narrow(1, 2, 5), model->encode(wider).narrow(1, 5, 5), 1e-5, 1e-6));
}

TEST(BERT4Rec, QueriesEndWithTheMaskTokenWhichIsNeverRanked) {
  const int64_t items = 30, mask = items + 1;
  auto model = build_model(bert4rec_config(), items);
  model->eval();
  EXPECT_EQ(model->mask_token(), mask);
  auto ids = at::tensor({0, 4, 9, 2}, at::kLong).view({1, 4});
  auto query = at::tensor(std::vector<int64_t>{0, 4, 9, 2, mask}, at::kLong).view({1, 5});
  EXPECT_TRUE(at::allclose(model->encode_last(ids), model->encode(query).select(1, 4)));
  // A full window (max_len 12) drops its oldest item to make room.
  auto full = at::arange(1, 13, at::kLong).view({1, 12});
  auto shifted = at::cat({at::arange(2, 13, at::kLong), at::full({1}, mask, at::kLong)}).view({1, 12});
  EXPECT_TRUE(at::allclose(model->encode_last(full), model->encode(shifted).select(1, 11)));
  EXPECT_EQ(model->score_all(model->encode_last(ids)).size(1), items + 1);
}

}  // namespace
}  // namespace caudal
