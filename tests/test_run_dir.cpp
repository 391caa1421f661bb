#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <zlib.h>

#include "caudal/core/atomic_file.h"
#include "caudal/core/error.h"
#include "caudal/run/run_dir.h"
#include "caudal/run/config.h"
#include "caudal/run/input_files.h"
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

// LibTorch's own reader skips the zip CRCs: one changed byte of tensor data
// would load as a different model without a word.
TEST(RunDirectory, ChangedByteInACheckpointIsAClearError) {
  TempDir dir;
  auto run = RunDirectory::create(dir.file("run"));
  TrainConfig config;
  config.backbone.hidden = 8;
  auto model = build_model(config, 20);
  {
    torch::NoGradGuard no_grad;
    model->named_parameters()["items.table.weight"].fill_(1.0);  // 0x3f800000 repeated: easy to find in the file
  }
  run.save_checkpoint(*model);
  const auto path = run.file("model.pt");
  std::string bytes = read_file(path);
  const std::string one("\x00\x00\x80\x3f\x00\x00\x80\x3f", 8);
  const auto at = bytes.find(one);
  ASSERT_NE(at, std::string::npos);
  bytes[at + 2] = '\x81';  // 1.0 -> 1.0000153
  write_file_atomically(path, bytes);
  try {
    run.load_checkpoint(*model);
    FAIL() << "a changed checkpoint loaded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path + ": checkpoint is damaged"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("CRC"), std::string::npos) << e.what();
  }
}

// A new run never silently replaces a trained one, and --overwrite never
// leaves an old model beside a new config.
TEST(RunDirectory, NewRunRefusesATrainedOneUnlessOverwriting) {
  TempDir dir;
  const auto path = dir.file("run");
  auto old_run = RunDirectory::create(path);
  for (const char* name : {"config.json", "model.pt", "metrics.json", "notes.txt"}) write_file_atomically(old_run.file(name), "old");
  try {
    RunDirectory::create_new(path, false);
    FAIL() << "a trained run was accepted as --out";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("holds a trained run (metrics.json); give --overwrite"), std::string::npos) << e.what();
  }
  EXPECT_EQ(read_file(old_run.file("model.pt")), "old");
  RunDirectory::create_new(path, true);
  for (const char* name : {"config.json", "model.pt", "metrics.json"})
    EXPECT_FALSE(std::filesystem::exists(old_run.file(name))) << name;
  EXPECT_EQ(read_file(old_run.file("notes.txt")), "old") << "a file that is not the run's is left alone";
  write_file_atomically(old_run.file("resume.pt"), "unfinished");
  try {
    RunDirectory::create_new(path, false);
    FAIL() << "an unfinished training was accepted as --out";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("holds an unfinished training (resume.pt)"), std::string::npos) << e.what();
  }
}

// config.json records the data by absolute path, size and CRC-32: a run
// resolves its data from any directory, and a changed file is refused.
TEST(RunDirectory, InputFilesAreRecordedAndChecked) {
  TempDir dir;
  write_file_atomically(dir.file("seq.txt"), "1 1 2 3 4\n2 2 3 4 5\n");
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir.file(""));
  TrainConfig config;
  config.data = "seq.txt";
  config = with_absolute_paths(config);
  std::filesystem::current_path(cwd);
  EXPECT_EQ(config.data, dir.file("seq.txt"));
  auto run = RunDirectory::create(dir.file("run"));
  auto json = to_json(config);
  json["inputs"] = fingerprint_inputs(config);
  EXPECT_EQ(json["inputs"]["data"]["bytes"], 20);
  run.write_json("config.json", json);
  EXPECT_NO_THROW(check_run_inputs(run, config));
  write_file_atomically(dir.file("seq.txt"), "1 1 2 3 4\n2 2 3 4 6\n");  // same size, other content
  try {
    check_run_inputs(run, config);
    FAIL() << "changed data accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(dir.file("seq.txt") + " changed since the run"), std::string::npos) << e.what();
  }
  auto other = config;
  other.data = dir.file("other.txt");  // given anew on the command line: the user's choice
  EXPECT_NO_THROW(check_run_inputs(run, other));
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
      {{{"hidden", 0}}, "field 'hidden' must be in (0, 65536], got 0"},
      {{{"max_len", 100000000}}, "field 'max_len' must be in (0, 100000], got 100000000"},
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
    EXPECT_STREQ(e.what(), "--epochs must be in (0, 1000000], got 0");
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

TEST(Batching, AutoIsRandomAndFullWindowBackbonesAlwaysPad) {
  TrainConfig config;
  config.backbone.hidden = 8;
  auto sasrec = build_model(config, 20);
  EXPECT_EQ(resolve_batching(config, sasrec->backbone()), Batching::kRandom);
  config.methods.list = "faerec";
  EXPECT_EQ(resolve_batching(config, sasrec->backbone()), Batching::kRandom);
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

// A second stage without a method is the control of TADA's second stage:
// both must train on the same batches, or the comparison mixes augmentation
// with batching.
TEST(Batching, ASecondStageWithoutAMethodTakesTadasBatching) {
  TrainConfig config;
  config.backbone.hidden = 8;
  auto sasrec = build_model(config, 20);
  config.init = "stage1";
  const auto control = resolve_batching(config, sasrec->backbone());
  config.methods.list = "tada";
  EXPECT_EQ(resolve_batching(config, sasrec->backbone()), control);
}

TEST(TrainConfig, OptionsDifferingFromAnInitialisingRunAreListed) {
  TrainConfig stage1;
  stage1.backbone.dropout = 0.5;
  stage1.warmup = 200;
  stage1.batching = Batching::kBucketed;
  TrainConfig stage2;
  stage2.init = "stage1";
  stage2.methods.list = "tada";
  stage2.methods.tada.mix_beta = 0.5;
  stage2.batching = Batching::kRandom;
  EXPECT_EQ(options_differing(stage1, stage2),
            (std::vector<std::string>{"--dropout 0.2 (was 0.5)", "--warmup 0 (was 200)",
                                      "--batching \"random\" (was \"bucketed\")"}));
  EXPECT_TRUE(options_differing(stage1, stage1).empty());
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

// Changes `from` to `to` (as long) inside the entry of a stored (not
// compressed) zip archive whose name ends with `entry`, and writes the
// entry's new CRC-32 wherever the archive records it (central directory, and
// the local header or, as LibTorch writes, the data descriptor after the
// data): a forged file that every zip check finds consistent.
void forge_zip_entry(std::string& zip, const std::string& entry, const std::string& from, const std::string& to) {
  auto u16 = [&](size_t at) { return static_cast<size_t>(static_cast<uint8_t>(zip[at]) | static_cast<uint8_t>(zip[at + 1]) << 8); };
  auto u32 = [&](size_t at) { return u16(at) | u16(at + 2) << 16; };
  auto put32 = [&](size_t at, uint32_t value) {
    for (int i = 0; i < 4; ++i) zip[at + i] = static_cast<char>(value >> (8 * i));
  };
  size_t central = zip.find("PK\x01\x02");
  auto names_entry = [&] {
    const size_t length = u16(central + 28);
    return length >= entry.size() && zip.compare(central + 46 + length - entry.size(), entry.size(), entry) == 0;
  };
  while (central != std::string::npos && !names_entry()) central = zip.find("PK\x01\x02", central + 4);
  ASSERT_NE(central, std::string::npos) << "no entry " << entry;
  const size_t size = u32(central + 24), local = u32(central + 42);
  ASSERT_EQ(u32(central + 20), size) << "entry is compressed";
  const size_t data = local + 30 + u16(local + 26) + u16(local + 28);
  const size_t at = zip.find(from, data);
  ASSERT_TRUE(at != std::string::npos && at + from.size() <= data + size) << "no '" << from << "' in " << entry;
  zip.replace(at, from.size(), to);
  const auto crc = static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(zip.data() + data), static_cast<uInt>(size)));
  put32(central + 16, crc);
  const bool descriptor = u16(local + 6) & 8;
  if (!descriptor) put32(local + 14, crc);
  else put32(data + size + (zip.compare(data + size, 4, "PK\x07\x08") == 0 ? 4 : 0), crc);
}

// Found by fuzz/fuzz_checkpoint: LibTorch's reader reports a damaged
// archive not only with c10::Error but also with torch::jit::ErrorReport,
// std::runtime_error and std::out_of_range (its TorchScript importer), which
// escaped load_checkpoint uncaught. A pickle naming an unknown function,
// with consistent CRCs, gets past the zip check to that importer.
TEST(RunDirectory, ADamagedPickleInACheckpointIsAnError) {
  TempDir dir;
  auto run = RunDirectory::create(dir.file("run"));
  TrainConfig config;
  config.backbone.hidden = 8;
  auto model = build_model(config, 20);
  run.save_checkpoint(*model);
  std::string bytes = read_file(run.file("model.pt"));
  forge_zip_entry(bytes, "/data.pkl", "_rebuild_tensor_v2", "_rebuild_tensor_v9");
  write_file_atomically(run.file("model.pt"), bytes);
  try {
    run.load_checkpoint(*model);
    FAIL() << "a damaged checkpoint was read";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model.pt: checkpoint is damaged"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("_rebuild_tensor_v9"), std::string::npos) << "not LibTorch's report: " << e.what();
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
