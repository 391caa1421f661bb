#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>
#include <torch/serialize.h>

#include "caudal/core/atomic_file.h"
#include "caudal/core/error.h"
#include "caudal/model/gru4rec.h"
#include "caudal/model/torch_import.h"
#include "caudal/run/trained_model.h"
#include "test_util.h"

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
  config.backbone.fmlp_filter = FmlpFilter::kCircular;
  config.backbone.hidden = 8;
  config.backbone.max_len = 6;
  config.backbone.dropout = 0.0;
  config.padding_row = PaddingRow::kRandom;
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
