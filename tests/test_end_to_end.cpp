#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/utils.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "caudal/core/atomic_file.h"
#include "caudal/core/error.h"
#include "caudal/core/log.h"
#include "caudal/core/threads.h"
#include "caudal/semantic/vector_file.h"
#include "caudal/run/run_dir.h"
#include "caudal/run/trained_model.h"
#include "caudal/train/trainer.h"
#include "test_util.h"

namespace caudal {
namespace {

using testing::TempDir;

// Users walk a cycle of items: the next item is always (item mod N) + 1, so
// the last item alone determines the target and a working model must learn it.
Dataset cyclic_walks(int64_t users, int64_t items, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::vector<int64_t>> seqs;
  for (int64_t u = 0; u < users; ++u) {
    const int64_t length = 5 + static_cast<int64_t>(rng() % 12);
    int64_t item = 1 + static_cast<int64_t>(rng() % items);
    std::vector<int64_t> s;
    for (int64_t k = 0; k < length; ++k) {
      s.push_back(item);
      item = item % items + 1;
    }
    seqs.push_back(s);
  }
  return testing::dataset_from(seqs);
}

TrainControl control_of(bool resume, int64_t pause_after) {
  TrainControl control;
  control.resume = resume;
  control.pause_after = pause_after;
  return control;
}

TrainConfig small_run() {
  TrainConfig config;
  config.backbone.hidden = 32;
  config.backbone.max_len = 20;
  config.backbone.dropout = 0.1;
  config.backbone.attn_dropout = 0.1;
  config.epochs = 40;
  config.patience = 40;
  config.batch = 64;
  config.lr = 5e-3;
  config.seed = 3;
  return config;
}

TEST(EndToEnd, SASRecLearnsANextItemRule) {
  set_compute_threads(1);
  make_logger("");
  auto ds = cyclic_walks(400, 60, 1);
  TempDir dir;
  auto run = RunDirectory::create(dir.file("run"));
  auto result = train_and_test(small_run(), ds, run);
  EXPECT_GE(result.test.overall.hr_at(10), 0.9);
  EXPECT_TRUE(std::filesystem::exists(run.file("model.pt")));
  auto metrics = run.read_json("metrics.json");
  EXPECT_DOUBLE_EQ(metrics["test"]["overall"]["hr@10"].get<double>(), result.test.overall.hr_at(10));
  EXPECT_EQ(metrics["best_epoch"].get<int64_t>(), result.best_epoch);
  EXPECT_GT(metrics["seconds_per_epoch"].get<double>(), 0.0);
  EXPECT_TRUE(run.read_json("config.json").contains("dropout"));
}

TEST(EndToEnd, TadaSecondStageFromAPlainRun) {
  set_compute_threads(1);
  make_logger("");
  auto ds = cyclic_walks(300, 50, 5);
  TempDir dir;
  auto stage1 = small_run();
  stage1.epochs = 10;
  auto first = train_and_test(stage1, ds, RunDirectory::create(dir.file("s1")));
  auto stage2 = small_run();
  stage2.epochs = 5;
  stage2.methods.list = "tada";
  stage2.init = dir.file("s1");
  stage2.methods.tada.lis.threshold = 0.05;
  auto run = RunDirectory::create(dir.file("s2"));
  auto second = train_and_test(stage2, ds, run);
  EXPECT_GE(second.test.overall.hr_at(10), 0.9);
  EXPECT_GE(first.test.overall.hr_at(10), 0.9);
  // A second run on the same data reuses the --init run's cached candidates
  // rather than solving again: mark the cache (a candidate no solve would
  // give: item 1 for itself) and find the mark in the new run's copy.
  auto cache = nlohmann::json::parse(read_file(run.file("tada_candidates.json")));
  cache["candidates"][1] = std::vector<int64_t>{1};
  write_file_atomically(run.file("tada_candidates.json"), cache.dump());
  auto again = RunDirectory::create(dir.file("s2b"));
  stage2.init = dir.file("s2");
  stage2.epochs = 1;
  train_and_test(stage2, ds, again);
  const auto copied = nlohmann::json::parse(read_file(again.file("tada_candidates.json")));
  EXPECT_EQ(copied["candidates"][1], nlohmann::json(std::vector<int64_t>{1}));
}

TEST(EndToEnd, FaerecAndTadaCompose) {
  set_compute_threads(1);
  make_logger("");
  auto ds = cyclic_walks(300, 50, 6);
  TempDir dir;
  // Semantic vectors that know the cycle: neighbours on the cycle are close.
  auto table = at::zeros({51, 32});
  for (int64_t i = 1; i <= 50; ++i)
    for (int64_t k = 0; k < 16; ++k) {
      table[i][2 * k] = std::cos(2 * M_PI * (k + 1) * i / 50.0);
      table[i][2 * k + 1] = std::sin(2 * M_PI * (k + 1) * i / 50.0);
    }
  save_item_vectors(dir.file("semantic.npy"), table);
  auto config = small_run();
  config.epochs = 15;
  config.methods.list = "faerec";
  config.methods.faerec.semantic = dir.file("semantic.npy");
  config.methods.faerec.period = 4;
  auto faerec = train_and_test(config, ds, RunDirectory::create(dir.file("faerec")));
  EXPECT_GE(faerec.test.overall.hr_at(10), 0.9);
  // TADA's second stage on the FAERec model: the fused model is loaded and
  // TADA's views go through the fused input.
  config.methods.list = "faerec,tada";
  config.init = dir.file("faerec");
  config.epochs = 3;
  config.methods.tada.lis.threshold = 0.05;
  auto both = train_and_test(config, ds, RunDirectory::create(dir.file("both")));
  EXPECT_GE(both.test.overall.hr_at(10), 0.9);
}

TEST(EndToEnd, SoftmaxLossLearnsAndIsRecorded) {
  set_compute_threads(1);
  make_logger("");
  auto ds = cyclic_walks(300, 50, 3);
  TempDir dir;
  auto config = small_run();
  config.loss = LossChoice::kCe;
  config.epochs = 15;
  auto run = RunDirectory::create(dir.file("ce"));
  EXPECT_GE(train_and_test(config, ds, run).test.overall.hr_at(10), 0.9);
  EXPECT_EQ(run.read_json("config.json")["loss"], "ce");
  // Left empty, the loss is the backbone's usual one, and config.json says which.
  config.loss = LossChoice::kAuto;
  config.backbone.name = "bert4rec";
  config.epochs = 1;
  auto masked = RunDirectory::create(dir.file("bert4rec"));
  train_and_test(config, ds, masked);
  EXPECT_EQ(masked.read_json("config.json")["loss"], "ce");
  config.backbone.name = "sasrec";
  auto causal = RunDirectory::create(dir.file("sasrec"));
  train_and_test(config, ds, causal);
  EXPECT_EQ(causal.read_json("config.json")["loss"], "bce");
}

// Every other backbone learns the same rule, plain, with FAERec and with
// TADA's second stage (the masked-item BERT4Rec through its mask token and
// masked views, FMLP-Rec on padded batches).
class EveryBackbone : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryBackbone, LearnsANextItemRulePlainWithFaerecAndWithTada) {
  set_compute_threads(1);
  make_logger("");
  auto ds = cyclic_walks(300, 50, 7);
  TempDir dir;
  auto config = small_run();
  config.backbone.name = GetParam();
  config.epochs = 30;
  auto plain = train_and_test(config, ds, RunDirectory::create(dir.file("plain")));
  EXPECT_GE(plain.test.overall.hr_at(10), 0.8);
  auto table = at::randn({51, 32});
  table[0].zero_();
  save_item_vectors(dir.file("semantic.npy"), table);
  config.methods.list = "faerec";
  config.methods.faerec.semantic = dir.file("semantic.npy");
  config.epochs = 15;
  auto faerec = train_and_test(config, ds, RunDirectory::create(dir.file("faerec")));
  EXPECT_GE(faerec.test.overall.hr_at(10), 0.8);
  config.methods.list = "tada";
  config.methods.faerec.semantic = "";
  config.init = dir.file("plain");
  config.epochs = 3;
  config.methods.tada.lis.threshold = 0.05;
  auto tada_run = RunDirectory::create(dir.file("tada"));
  auto tada = train_and_test(config, ds, tada_run);
  EXPECT_GE(tada.test.overall.hr_at(10), 0.8);
  // The second stage trains on TADA's losses, not only on the recommendation
  // loss beside them: each is a positive, finite part of the epoch's total.
  TrainingSetup setup(config, ds, {tada_run.path()});
  RunDirectory::open(config.init).load_checkpoint(*setup.model);
  const auto losses = setup.run_epoch(0);
  double parts = 0;
  for (const char* name : {"rec", "tada_self", "tada_cross_tail", "tada_cross_head"}) {
    auto found = std::find_if(losses.begin(), losses.end(), [&](const auto& loss) { return loss.first == name; });
    ASSERT_NE(found, losses.end()) << name;
    EXPECT_GT(found->second, 0.01) << name;
    EXPECT_TRUE(std::isfinite(found->second)) << name;
    parts += found->second;
  }
  EXPECT_NEAR(losses.front().second, parts, 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Backbones, EveryBackbone, ::testing::Values("gru4rec", "fmlprec", "lrurec", "bert4rec"));

TEST(EndToEnd, SameSeedSameMetricsAtOneThread) {
  set_compute_threads(1);
  make_logger("");
  auto ds = cyclic_walks(150, 40, 2);
  auto config = small_run();
  config.epochs = 2;
  config.lr = 1e-3;  // far from converged, so different seeds give different numbers
  TempDir dir;
  auto a = train_and_test(config, ds, RunDirectory::create(dir.file("a")));
  auto b = train_and_test(config, ds, RunDirectory::create(dir.file("b")));
  EXPECT_EQ(to_json(a.test), to_json(b.test));
  EXPECT_EQ(to_json(a.valid), to_json(b.valid));
  config.seed = 4;
  auto c = train_and_test(config, ds, RunDirectory::create(dir.file("c")));
  EXPECT_NE(to_json(a.test), to_json(c.test));
}

// A training stopped after any epoch and resumed in a fresh state (another
// global seed, as a new process would have) ends exactly where one
// uninterrupted training ends: same best epoch, same metrics, same weights.
TEST(EndToEnd, PausedAndResumedTrainingEqualsAnUninterruptedOne) {
  set_compute_threads(1);
  make_logger("");
  auto ds = cyclic_walks(150, 40, 8);
  auto config = small_run();
  config.epochs = 7;
  config.warmup = 2;
  config.lr = 1e-3;    // far from converged, so any difference would show
  config.backbone.dropout = 0.3;  // dropout masks come from the generator state the resume restores
  TempDir dir;
  auto whole = RunDirectory::create(dir.file("whole")), pieces = RunDirectory::create(dir.file("pieces"));
  const auto expected = train_and_test(config, ds, whole);
  EXPECT_FALSE(whole.has_resume_state());

  auto first = train_and_test(config, ds, pieces, control_of(false, 3));
  EXPECT_TRUE(first.paused);
  // A crash after history.jsonl was written but before resume.pt leaves a
  // record the resume must drop and run again.
  auto crashed = pieces.read_history();
  ASSERT_EQ(crashed.size(), 3u);
  crashed.push_back({{"epoch", 4}, {"train_seconds", 0.0}, {"losses", {{"loss", 99.0}}}});
  pieces.write_history(crashed);
  EXPECT_TRUE(pieces.has_resume_state());
  EXPECT_FALSE(std::filesystem::exists(pieces.file("metrics.json")));
  torch::manual_seed(12345);
  EXPECT_TRUE(train_and_test(config, ds, pieces, control_of(true, 2)).paused);
  torch::manual_seed(54321);
  const auto resumed = train_and_test(config, ds, pieces, control_of(true, 0));
  EXPECT_FALSE(resumed.paused);
  EXPECT_FALSE(pieces.has_resume_state());

  EXPECT_EQ(resumed.best_epoch, expected.best_epoch);
  EXPECT_EQ(resumed.epochs, expected.epochs);
  EXPECT_EQ(to_json(resumed.test), to_json(expected.test));
  EXPECT_EQ(to_json(resumed.valid), to_json(expected.valid));
  auto a = build_model(config, ds.num_items()), b = build_model(config, ds.num_items());
  whole.load_checkpoint(*a);
  pieces.load_checkpoint(*b);
  const auto pa = a->named_parameters(), pb = b->named_parameters();
  for (const auto& p : pa) EXPECT_TRUE(at::equal(p.value(), pb[p.key()])) << p.key();

  // The per-epoch history is the same too, timings aside: one record per
  // epoch, validation only after the warmup, the best epoch marked.
  auto without_times = [](std::vector<nlohmann::json> records) {
    for (auto& r : records) r.erase("train_seconds"), r.erase("valid_seconds");
    return records;
  };
  const auto history = without_times(whole.read_history());
  ASSERT_EQ(history.size(), 7u);
  EXPECT_EQ(without_times(pieces.read_history()), history);
  for (int64_t epoch = 1; epoch <= 7; ++epoch) EXPECT_EQ(history[epoch - 1]["epoch"], epoch);
  EXPECT_FALSE(history[1].contains("valid"));
  EXPECT_TRUE(history[2].contains("valid"));
  EXPECT_TRUE(history[expected.best_epoch - 1]["best"].get<bool>());
  EXPECT_DOUBLE_EQ(history[expected.best_epoch - 1]["valid"]["ndcg@20"].get<double>(), expected.valid.overall.ndcg_at(20));

  // A finished run has nothing to resume, and says so.
  try {
    train_and_test(config, ds, pieces, control_of(true, 0));
    ADD_FAILURE() << "resuming a finished run did not throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("resume.pt: not found"), std::string::npos) << e.what();
  }
}

// --eval-every 2 after a warmup of 2 over 7 epochs: validation after epochs
// 4 and 6, and after the last.
TEST(EndToEnd, ValidatesEveryNEpochsAfterTheWarmupAndAfterTheLast) {
  set_compute_threads(1);
  make_logger("");
  auto ds = cyclic_walks(60, 20, 3);
  auto config = small_run();
  config.epochs = 7;
  config.warmup = 2;
  config.eval_every = 2;
  TempDir dir;
  auto run = RunDirectory::create(dir.file("run"));
  train_and_test(config, ds, run);
  std::vector<int64_t> validated;
  for (const auto& record : run.read_history())
    if (record.contains("valid")) validated.push_back(record["epoch"].get<int64_t>());
  EXPECT_EQ(validated, (std::vector<int64_t>{4, 6, 7}));
}

TEST(EndToEnd, DamagedResumeStateIsAClearError) {
  set_compute_threads(1);
  make_logger("");
  auto ds = cyclic_walks(100, 30, 9);
  auto config = small_run();
  config.epochs = 3;
  TempDir dir;
  auto run = RunDirectory::create(dir.file("run"));
  train_and_test(config, ds, run, control_of(false, 1));
  const auto size = std::filesystem::file_size(run.file("resume.pt"));
  std::filesystem::resize_file(run.file("resume.pt"), size / 2);
  try {
    train_and_test(config, ds, run, control_of(true, 0));
    ADD_FAILURE() << "a truncated resume.pt was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("resume.pt: checkpoint is damaged, truncated"), std::string::npos) << e.what();
  }
  // Another model size than the one that wrote it.
  train_and_test(config, ds, RunDirectory::create(dir.file("other")), control_of(false, 1));
  config.backbone.hidden = 16;
  try {
    train_and_test(config, ds, RunDirectory::create(dir.file("other")), control_of(true, 0));
    ADD_FAILURE() << "a resume.pt of another model size was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("in the model (another dataset or model size?)"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace caudal
