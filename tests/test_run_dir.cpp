#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "caudal/core/atomic_file.h"
#include "caudal/core/error.h"
#include "caudal/run/run_dir.h"
#include "caudal/run/config.h"
#include "caudal/run/trained_model.h"
#include "test_util.h"

namespace caudal {
namespace {

using testing::TempDir;

TEST(AtomicFile, ReplacesWholeFileAndLeavesNoTemporaries) {
  TempDir dir;
  write_file_atomically(dir.file("a.txt"), "first");
  write_file_atomically(dir.file("a.txt"), "second");
  EXPECT_EQ(read_file(dir.file("a.txt")), "second");
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    (void)entry;
    ++files;
  }
  EXPECT_EQ(files, 1);
}

TEST(AtomicFile, FailedWriteKeepsTheOldFile) {
  TempDir dir;
  write_file_atomically(dir.file("a.txt"), "old");
  EXPECT_THROW(write_atomically(dir.file("a.txt"),
                                [](const std::string& tmp) {
                                  std::ofstream(tmp) << "partial";
                                  throw Error("disk full");
                                }),
               Error);
  EXPECT_EQ(read_file(dir.file("a.txt")), "old");
}

TEST(RunDirectory, CheckpointRoundTrip) {
  TempDir dir;
  auto run = RunDirectory::create(dir.file("run"));
  TrainConfig config;
  config.backbone.hidden = 8;
  auto a = build_model(config, 20);
  run.save_checkpoint(*a);
  config.seed = 99;
  auto b = build_model(config, 20);
  run.load_checkpoint(*b);
  auto pa = a->parameters(), pb = b->parameters();
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(at::equal(pa[i], pb[i]));
}

TEST(RunDirectory, TruncatedCheckpointIsAClearError) {
  TempDir dir;
  auto run = RunDirectory::create(dir.file("run"));
  TrainConfig config;
  config.backbone.hidden = 8;
  auto model = build_model(config, 20);
  run.save_checkpoint(*model);
  const auto path = run.file("model.pt");
  std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
  try {
    run.load_checkpoint(*model);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("damaged, truncated"), std::string::npos) << e.what();
  }
}

TEST(RunDirectory, CheckpointOfAnotherShapeIsAClearError) {
  TempDir dir;
  auto run = RunDirectory::create(dir.file("run"));
  TrainConfig config;
  config.backbone.hidden = 8;
  run.save_checkpoint(*build_model(config, 20));
  auto other = build_model(config, 25);  // different item count
  try {
    run.load_checkpoint(*other);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'items.table.weight' has shape [21, 8] in the checkpoint but [26, 8]"),
              std::string::npos)
        << e.what();
  }
}

TEST(RunDirectory, ConfigRoundTripAndTypeErrors) {
  TrainConfig config;
  config.backbone.hidden = 32;
  config.backbone.dropout = 0.5;
  config.eval.history_score_zero = true;
  config.methods.list = "faerec,tada";
  config.methods.faerec.scoring = FaerecScoring::kOfficial;
  config.methods.faerec.align_chunk = 100;
  config.methods.tada.augment.rate_b = 0.7;
  auto back = train_config_from_json(to_json(config), "config.json");
  EXPECT_EQ(back.methods.list, "faerec,tada");
  EXPECT_EQ(back.methods.faerec.scoring, FaerecScoring::kOfficial);
  EXPECT_EQ(back.methods.faerec.align_chunk, 100);
  EXPECT_DOUBLE_EQ(back.methods.tada.augment.rate_b, 0.7);
  EXPECT_EQ(back.backbone.hidden, 32);
  EXPECT_DOUBLE_EQ(back.backbone.dropout, 0.5);
  EXPECT_TRUE(back.eval.history_score_zero);
  // Each kind of bad field is refused with its name: a wrong type, a
  // fraction for a whole number, a number out of its limits, an unknown choice
  // or name.
  const std::vector<std::pair<nlohmann::json, std::string>> bad_fields = {
      {{{"hidden", "large"}}, "field 'hidden' must be a whole number, got \"large\""},
      {{{"hidden", 8.7}}, "field 'hidden' must be a whole number, got 8.7"},
      {{{"hidden", 0}}, "field 'hidden' must be greater than 0, got 0"},
      {{{"seed", -1}}, "field 'seed' must be a non-negative whole number"},
      // Found by fuzz/fuzz_run_files: numbers the field cannot hold were
      // read wrapped (4294967297 threads as 1, 2^63 epochs as negative).
      {{{"threads", 4294967297}}, "field 'threads' must be a whole number from -2147483648 to 2147483647, got 4294967297"},
      {{{"epochs", 9223372036854775808u}}, "field 'epochs' must be a whole number from"},
      {{{"dropout", 1.5}}, "field 'dropout' must be in [0, 0.99], got 1.5"},
      {{{"batching", "sorted"}}, "field 'batching' must be one of auto, bucketed, random, padded, got \"sorted\""},
      {{{"sampled_eval", 1}}, "field 'sampled_eval' must be true or false"},
      {{{"method", "mixup"}}, "unknown --method 'mixup'"},
      {{{"model", "transformer"}}, "unknown --model 'transformer'"},
  };
  for (const auto& [fields, message] : bad_fields) {
    auto bad = to_json(config);
    bad.update(fields);
    try {
      auto read = train_config_from_json(bad, "run/config.json");
      validate(read);
      ADD_FAILURE() << "accepted " << fields.dump();
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
    }
  }
}

TEST(RunDirectory, ValidateNamesTheFlagOutOfItsLimits) {
  TrainConfig config;
  EXPECT_NO_THROW(validate(config));
  config.epochs = 0;
  try {
    validate(config);
    ADD_FAILURE() << "--epochs 0 accepted";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "--epochs must be greater than 0, got 0");
  }
}

TEST(RunDirectory, OldTrimFieldMapsToBatching) {
  nlohmann::json old_run = {{"trim", false}};
  EXPECT_EQ(train_config_from_json(old_run, "config.json").batching, Batching::kPadded);
  old_run["trim"] = true;
  EXPECT_EQ(train_config_from_json(old_run, "config.json").batching, Batching::kBucketed);
  EXPECT_EQ(train_config_from_json(nlohmann::json::object(), "config.json").batching, Batching::kAuto);
  // Imports written before "auto" had an empty loss.
  EXPECT_EQ(train_config_from_json({{"loss", ""}}, "config.json").loss, LossChoice::kAuto);
}

TEST(Batching, AutoIsRandomForTadaAndFullWindowBackbonesAlwaysPad) {
  TrainConfig config;
  config.backbone.hidden = 8;
  auto sasrec = build_model(config, 20);
  EXPECT_EQ(resolve_batching(config, sasrec->backbone()), Batching::kBucketed);
  config.methods.list = "tada";
  EXPECT_EQ(resolve_batching(config, sasrec->backbone()), Batching::kRandom);
  config.batching = Batching::kBucketed;
  EXPECT_EQ(resolve_batching(config, sasrec->backbone()), Batching::kBucketed);
  // The official padding states exist only in padded batches.
  config.methods.tada.mix_padding_states = true;
  EXPECT_THROW(resolve_batching(config, sasrec->backbone()), Error);
  config.batching = Batching::kAuto;
  EXPECT_EQ(resolve_batching(config, sasrec->backbone()), Batching::kPadded);
  config.methods.list = "";
  config.batching = Batching::kPadded;
  EXPECT_EQ(resolve_batching(config, sasrec->backbone()), Batching::kPadded);
  config.batching = Batching::kRandom;
  EXPECT_EQ(resolve_batching(config, sasrec->backbone()), Batching::kRandom);
  EXPECT_EQ(batching_name(Batching::kRandom), "random");
  config.backbone.name = "fmlprec";
  config.batching = Batching::kBucketed;
  EXPECT_EQ(resolve_batching(config, build_model(config, 20)->backbone()), Batching::kPadded);
  // GRU4Rec reads the vectors at padded positions, which FAERec's fused input makes non-zero.
  config.backbone.name = "gru4rec";
  config.batching = Batching::kAuto;
  auto gru = build_model(config, 20);
  config.methods.list = "faerec";
  EXPECT_EQ(resolve_batching(config, gru->backbone()), Batching::kPadded);
  EXPECT_FALSE(evaluation_options(config, gru->backbone()).trim);
  config.batching = Batching::kRandom;
  EXPECT_THROW(resolve_batching(config, gru->backbone()), Error);
  config.methods.list = "";
  EXPECT_EQ(resolve_batching(config, gru->backbone()), Batching::kRandom);
}

// --padding-row random: the official code's padding vector, drawn like an
// item's, kept out of training, and read in full windows only.
TEST(Batching, RandomPaddingRowIsNeverTrainedAndPadsEveryBatch) {
  TrainConfig config;
  config.backbone.hidden = 8;
  config.backbone.name = "gru4rec";
  config.padding_row = PaddingRow::kRandom;
  auto model = build_model(config, 20);
  EXPECT_EQ(resolve_batching(config, model->backbone()), Batching::kPadded);
  config.batching = Batching::kBucketed;
  EXPECT_THROW(resolve_batching(config, model->backbone()), Error);
  config.batching = Batching::kRandom;
  EXPECT_THROW(resolve_batching(config, model->backbone()), Error);
  const auto row = model->items().output_table()[0].clone();
  EXPECT_GT(row.abs().sum().item<double>(), 0.0);
  auto ids = at::tensor(std::vector<int64_t>{0, 0, 3, 5, 0, 1, 2, 4}, at::kLong).view({2, 4});
  model->encode(ids).sum().backward();
  const auto grad = model->items().output_table().grad();
  ASSERT_TRUE(grad.defined());
  EXPECT_EQ(grad[0].abs().sum().item<double>(), 0.0);
  EXPECT_GT(grad[3].abs().sum().item<double>(), 0.0);
  config.methods.list = "faerec";
  EXPECT_THROW(build_model(config, 20), Error);
}

// Found by fuzz/fuzz_checkpoint: LibTorch's reader reports a damaged
// archive not only with c10::Error but also with torch::jit::ErrorReport,
// std::runtime_error and std::out_of_range (its TorchScript importer), which
// escaped load_checkpoint uncaught. LibTorch 1.13 does not check the zip
// CRCs, so a changed name in data.pkl reaches that importer.
TEST(RunDirectory, ADamagedPickleInACheckpointIsAnError) {
  TempDir dir;
  auto run = RunDirectory::create(dir.file("run"));
  TrainConfig config;
  config.backbone.hidden = 8;
  auto model = build_model(config, 20);
  run.save_checkpoint(*model);
  std::string bytes = read_file(run.file("model.pt"));
  const size_t name = bytes.find("_rebuild_tensor_v2");
  ASSERT_NE(name, std::string::npos);
  bytes.replace(name, 18, "_rebuild_tensor_v9");
  write_file_atomically(run.file("model.pt"), bytes);
  try {
    run.load_checkpoint(*model);
    FAIL() << "a damaged checkpoint was read";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model.pt: checkpoint is damaged"), std::string::npos) << e.what();
  }
}

TEST(RunDirectory, MalformedJsonNamesTheFile) {
  TempDir dir;
  auto run = RunDirectory::create(dir.file("run"));
  std::ofstream(run.file("config.json")) << "{\"hidden\": ";
  EXPECT_THROW(run.read_json("config.json"), Error);
  EXPECT_THROW(run.read_json("missing.json"), Error);
  // Found by fuzz/fuzz_run_files: a number beyond double is nlohmann's
  // out_of_range, not a parse_error, and escaped as that.
  std::ofstream(run.file("huge.json")) << "{\"lr\": 1e400}";
  EXPECT_THROW(run.read_json("huge.json"), Error);
}

}  // namespace
}  // namespace caudal
