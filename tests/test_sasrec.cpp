#include <gtest/gtest.h>

#include <complex>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>
#include <torch/serialize.h>
#include <torch/optim/adam.h>

#include "caudal/core/atomic_file.h"
#include "caudal/core/error.h"
#include "caudal/data/batcher.h"
#include "caudal/model/fmlprec.h"
#include "caudal/model/gru4rec.h"
#include "caudal/model/item_representation.h"
#include "caudal/model/lrurec.h"
#include "caudal/model/sasrec.h"
#include "caudal/model/torch_import.h"
#include "caudal/train/losses.h"
#include "caudal/train/trainer.h"
#include "test_util.h"

namespace caudal {
namespace {

TrainConfig small_config(double dropout) {
  TrainConfig config;
  config.backbone.hidden = 16;
  config.backbone.heads = 2;
  config.backbone.layers = 2;
  config.backbone.max_len = 12;
  config.backbone.dropout = dropout;
  config.backbone.attn_dropout = dropout;
  config.seed = 5;
  return config;
}

Dataset varied_lengths() {
  std::vector<std::vector<int64_t>> seqs;
  for (int64_t u = 0; u < 6; ++u) {
    std::vector<int64_t> s;
    for (int64_t k = 0; k < 4 + 2 * u; ++k) s.push_back(1 + (u * 7 + k * 3) % 30);
    seqs.push_back(s);
  }
  return testing::dataset_from(seqs);
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
  auto rng_a = make_rng(9, 0, 0), rng_b = make_rng(9, 0, 0);
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

// Row 1: target 3 among scores 1, 2, 3 -> log(1 + e^-1 + e^-2) = 0.407606;
// row 2: target 1 among three equal scores -> log 3 = 1.098612. The padding
// column's large score must not enter either softmax.
TEST(Losses, AllItemsCrossEntropyLeavesOutThePaddingColumn) {
  auto scores = at::tensor({10.0, 1.0, 2.0, 3.0, 10.0, 0.0, 0.0, 0.0}, at::kFloat).view({2, 4});
  auto targets = at::tensor(std::vector<int64_t>{3, 1}, at::kLong);
  EXPECT_NEAR(all_items_cross_entropy(scores, targets).item<double>(), (0.407606 + 1.098612) / 2, 1e-5);
}

TEST(SASRec, PaddingRowStaysZero) {
  auto ds = varied_lengths();
  auto config = small_config(0.1);
  auto model = build_model(config, ds.num_items());
  TrainBatcher batcher(ds, BatchOptions{config.backbone.max_len, 4, true}, 3);
  torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(1e-2));
  std::vector<std::unique_ptr<Method>> no_methods;
  train_one_epoch(*model, batcher, adam, 0, c10::Device(c10::kCPU), no_methods, epoch_options(config, *model));
  EXPECT_EQ(model->items().output_table()[0].abs().sum().item<double>(), 0.0);
}

TEST(SASRec, SameSeedSameWeights) {
  auto a = build_model(small_config(0.2), 30), b = build_model(small_config(0.2), 30);
  auto pa = a->parameters(), pb = b->parameters();
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(at::equal(pa[i], pb[i]));
}

}  // namespace
}  // namespace caudal

namespace caudal {
namespace {

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
  config.backbone.fmlp_filter = "circular";
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

namespace caudal {
namespace {

// The official SASRec (TADA's code, tiny: 7 items, hidden 8, 2 layers, 2
// heads, max_len 6, random weights) and its encoder output on two sequences,
// as numbers in tests/data/official_sasrec_tiny.json. The state dict is
// written in torch.save's format (torch::pickle_save) and imported: our
// SASRec must give the same hidden states at every real position.
at::Tensor tensor_from_json(const nlohmann::json& j) {
  auto values = j["values"].get<std::vector<float>>();
  return at::tensor(values).view(j["shape"].get<std::vector<int64_t>>());
}

// The fixture's state dict, through a torch.save-format file and load_torch_state_dict.
std::map<std::string, at::Tensor> load_fixture_state(const nlohmann::json& fixture) {
  c10::impl::GenericDict dict(c10::StringType::get(), c10::TensorType::get());
  for (const auto& [name, value] : fixture["state"].items()) dict.insert(name, tensor_from_json(value));
  testing::TempDir dir;
  const auto path = dir.file("official.pt");
  const auto bytes = torch::pickle_save(c10::IValue(dict));
  write_file_atomically(path, std::string(bytes.begin(), bytes.end()));
  auto state = load_torch_state_dict(path);
  EXPECT_EQ(state.size(), fixture["state"].size());
  return state;
}

nlohmann::json load_fixture(const std::string& name) {
  return nlohmann::json::parse(read_file(std::string(CAUDAL_SOURCE_DIR "/tests/data/") + name));
}

TEST(TorchImport, OfficialSasrecGivesTheOfficialHiddenStates) {
  const auto fixture = load_fixture("official_sasrec_tiny.json");
  auto state = load_fixture_state(fixture);
  TrainConfig config;
  config.backbone.hidden = 8;
  config.backbone.max_len = 6;
  config.backbone.dropout = 0.0;
  config.backbone.attn_dropout = 0.0;
  auto model = build_model(config, 7);
  import_official_model(state, *model, "sasrec", false, "tiny");
  model->eval();
  auto ids = tensor_from_json(fixture["ids"]).to(at::kLong);
  auto hidden = model->encode(ids);
  auto real = ids.gt(0);
  EXPECT_TRUE(at::allclose(hidden.index({real}), tensor_from_json(fixture["hidden"]).index({real}), 1e-4, 1e-5));
  EXPECT_EQ(model->items().output_table()[0].abs().sum().item<double>(), 0.0);

  auto wider = config;
  wider.backbone.hidden = 16;
  try {
    import_official_model(state, *build_model(wider, 7), "sasrec", false, "tiny");
    FAIL() << "expected a shape error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("has shape"), std::string::npos) << e.what();
  }
  EXPECT_THROW(load_torch_state_dict(CAUDAL_SOURCE_DIR "/tests/test_sasrec.cpp"), Error);
}

// The official GRU4Rec (tests/data/official_gru4rec_tiny.json: its GRU narrowed
// to 16 units to keep the fixture small) reads its never-trained, nonzero
// padding vector in the padded columns: imported with that row, ours gives
// its hidden states; with a zero row, only the unpadded sequence agrees.
TEST(TorchImport, OfficialGru4recNeedsItsPaddingRow) {
  const auto fixture = load_fixture("official_gru4rec_tiny.json");
  const auto state = load_fixture_state(fixture);
  BackboneConfig backbone;
  backbone.name = "gru4rec";
  backbone.hidden = 8;
  backbone.max_len = 6;
  backbone.dropout = 0.0;
  auto make = [&](bool random_padding) {
    return std::make_shared<SequentialRecommender>(std::make_shared<IdEmbedding>(7, 8, 0.02, random_padding),
                                                   std::make_shared<GRU4Rec>(backbone, 16));
  };
  auto ids = tensor_from_json(fixture["ids"]).to(at::kLong);
  const auto expected = tensor_from_json(fixture["hidden"]);
  const auto real = ids.gt(0);

  auto with_row = make(true);
  import_official_model(state, *with_row, "gru4rec", true, "tiny");
  with_row->eval();
  EXPECT_TRUE(at::allclose(with_row->encode(ids).index({real}), expected.index({real}), 1e-4, 1e-5));

  auto zero_row = make(false);
  import_official_model(state, *zero_row, "gru4rec", false, "tiny");
  zero_row->eval();
  auto hidden = zero_row->encode(ids);
  EXPECT_EQ(zero_row->items().output_table()[0].abs().sum().item<double>(), 0.0);
  ASSERT_EQ(ids[1].gt(0).all().item<bool>(), true);  // row 1 has no padding, row 0 does
  EXPECT_TRUE(at::allclose(hidden[1], expected[1], 1e-4, 1e-5));
  EXPECT_FALSE(at::allclose(hidden[0].index({real[0]}), expected[0].index({real[0]}), 1e-3, 1e-4));
}

// The official FMLP-Rec (circular filter, random LayerNorms and filters,
// nonzero padding row) gives the same hidden states once imported.
TEST(TorchImport, OfficialFmlprecGivesTheOfficialHiddenStates) {
  const auto fixture = load_fixture("official_fmlprec_tiny.json");
  TrainConfig config;
  config.backbone.name = "fmlprec";
  config.backbone.fmlp_filter = "circular";
  config.backbone.hidden = 8;
  config.backbone.max_len = 6;
  config.backbone.dropout = 0.0;
  config.padding_row = "random";
  auto model = build_model(config, 7);
  import_official_model(load_fixture_state(fixture), *model, "fmlprec", true, "tiny");
  model->eval();
  auto ids = tensor_from_json(fixture["ids"]).to(at::kLong);
  auto real = ids.gt(0);
  EXPECT_TRUE(at::allclose(model->encode(ids).index({real}), tensor_from_json(fixture["hidden"]).index({real}), 1e-4, 1e-5));
  try {
    import_official_model(load_fixture_state(fixture), *model, "gru4rec", true, "tiny");
    FAIL() << "expected an error naming the missing tensor";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("gru_layers.weight_ih_l0"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace caudal
