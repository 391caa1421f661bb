// Data-parallel training: one distributed epoch (one global batch) in two
// processes on loopback against the same step computed in one process.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <random>
#include <thread>

#include "caudal/core/atomic_file.h"
#include "caudal/core/log.h"
#include "caudal/core/threads.h"
#include "caudal/distributed/cluster.h"
#include "caudal/semantic/vector_file.h"
#include "caudal/train/trainer.h"
#include "test_util.h"

extern char** environ;

namespace caudal {
namespace {

using testing::TempDir;

Dataset walks() {
  std::mt19937_64 rng(11);
  std::vector<std::vector<int64_t>> sequences;
  for (int u = 0; u < 40; ++u) {
    std::vector<int64_t> s;
    int64_t item = 1 + static_cast<int64_t>(rng() % 30);
    for (int64_t k = 0, n = 5 + static_cast<int64_t>(rng() % 12); k < n; ++k) {
      s.push_back(item);
      item = rng() % 4 == 0 ? 1 + static_cast<int64_t>(rng() % 30) : item % 30 + 1;
    }
    sequences.push_back(s);
  }
  return testing::dataset_from(sequences);
}

// One epoch is one global batch of all 40 users; no dropout, so that a step
// depends on the data and the methods' random streams only.
TrainConfig one_batch_config(const std::string& method, const std::string& dir) {
  TrainConfig config;
  config.backbone.hidden = 16;
  config.backbone.max_len = 12;
  config.backbone.dropout = 0;
  config.backbone.attn_dropout = 0;
  config.batch = 64;
  config.lr = 1e-3;
  config.seed = 5;
  config.methods.list = method;
  config.methods.tada.lis.threshold = 0.05;
  if (method == "faerec") config.methods.faerec.semantic = dir + "/semantic.npy";
  return config;
}

// Parameters and their gradients, each flattened and concatenated.
at::Tensor state_of(TrainingSetup& setup) {
  std::vector<at::Tensor> parts;
  for (const auto& p : setup.model->parameters())
    if (p.requires_grad()) parts.push_back(p.detach().reshape(-1));
  for (const auto& p : setup.model->parameters())
    if (p.requires_grad()) parts.push_back(p.grad().defined() ? p.grad().reshape(-1) : at::zeros({p.numel()}));
  return at::cat(parts).contiguous();
}

void save_state(const at::Tensor& state, const std::string& path) {
  write_file_atomically(path, std::string(static_cast<const char*>(state.data_ptr()), state.numel() * sizeof(float)));
}

at::Tensor load_state(const std::string& path) {
  const auto bytes = read_file(path);
  return at::from_blob(const_cast<char*>(bytes.data()), {static_cast<int64_t>(bytes.size() / sizeof(float))}, at::kFloat)
      .clone();
}

// Run in a process of its own by the tests below (skipped otherwise): one
// rank of a two-process cluster trains one epoch and saves its state.
TEST(DistributedWorker, OneEpoch) {
  const char* rank = std::getenv("CAUDAL_TEST_RANK");
  if (!rank) GTEST_SKIP() << "a rank of Distributed.*, started by it";
  const std::string dir = std::getenv("CAUDAL_TEST_DIR");
  set_compute_threads(1);
  make_logger("");
  ClusterOptions options;
  options.world_size = 2;
  options.rank = std::atoi(rank);
  options.master_port = std::atoi(std::getenv("MASTER_PORT"));
  options.timeout_seconds = 60;
  options.bucket_bytes = 2048;  // many buckets, the first ones started during the backward pass
  auto cluster = Cluster::join(options);
  auto dataset = walks();
  TempDir scratch;
  TrainingSetup setup(one_batch_config(std::getenv("CAUDAL_TEST_METHOD"), dir), dataset, {scratch.path().string()},
                      cluster.get());
  setup.share_parameters();
  setup.run_epoch(0);
  save_state(state_of(setup), dir + "/rank" + rank + ".bin");
}

// Starts both ranks of DistributedWorker.OneEpoch and waits (at most two
// minutes); returns each rank's state.
std::vector<at::Tensor> run_two_ranks(const std::string& method, const TempDir& dir) {
  const int port = free_local_port();
  std::vector<pid_t> pids;
  for (int rank = 0; rank < 2; ++rank) {
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) env.emplace_back(*e);
    env.push_back("CAUDAL_TEST_RANK=" + std::to_string(rank));
    env.push_back("CAUDAL_TEST_DIR=" + dir.path().string());
    env.push_back("CAUDAL_TEST_METHOD=" + method);
    env.push_back("MASTER_PORT=" + std::to_string(port));
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::string self = "/proc/self/exe", filter = "--gtest_filter=DistributedWorker.OneEpoch";
    char* argv[] = {self.data(), filter.data(), nullptr};
    pid_t pid;
    EXPECT_EQ(posix_spawn(&pid, self.c_str(), nullptr, nullptr, argv, envp.data()), 0);
    pids.push_back(pid);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
  for (auto pid : pids) {
    int status = -1;
    while (waitpid(pid, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        for (auto p : pids) kill(p, SIGKILL);
        waitpid(pid, &status, 0);
        ADD_FAILURE() << "the ranks did not finish within two minutes";
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "a rank failed";
  }
  return {load_state(dir.file("rank0.bin")), load_state(dir.file("rank1.bin"))};
}

void write_semantic_vectors(const TempDir& dir) {
  auto table = at::randn({31, 24});
  save_item_vectors(dir.file("semantic.npy"), table);
}

// The distributed step by definition, in one process: each rank's shard of
// the global batch with that rank's random streams, its losses weighted by
// its share, gradients accumulated over the shards, then one optimiser step.
// (FAERec's gate keeps a dropout of 0.1, drawn from each rank's generator.)
at::Tensor shards_in_one_process(const std::string& method, const TempDir& dir) {
  auto dataset = walks();
  TempDir cache;
  const auto config = one_batch_config(method, dir.path().string());
  TrainingSetup setup(config, dataset, {cache.path().string()});
  setup.model->train();
  for (auto& m : setup.methods) m->on_epoch(0);
  const auto windows = setup.batcher.epoch(0);
  EXPECT_EQ(windows.size(), 1u);
  setup.optimizer.zero_grad();
  for (int rank = 0; rank < 2; ++rank) {
    auto rng = make_rng(config.seed, RandomStream::kMethods, rank_stream(0, rank));
    auto mask_rng = make_rng(config.seed, RandomStream::kItemMask, rank_stream(0, rank));
    at::manual_seed(make_rng(config.seed, RandomStream::kDropout, rank_stream(0, rank))());  // FAERec's gate dropout
    const auto shard = shard_of(windows[0], rank, 2, setup.batcher.options().trim);
    batch_loss(*setup.model, shard, windows[0], setup.methods, setup.options, rng, mask_rng, setup.device, true)
        .total.backward();
  }
  setup.optimizer.step();
  return state_of(setup);
}

void expect_same_state(const at::Tensor& a, const at::Tensor& b, const std::string& what) {
  ASSERT_EQ(a.numel(), b.numel()) << what;
  const double difference = (a - b).abs().max().item<double>();
  EXPECT_LT(difference, 1e-5) << what << ": largest difference " << difference;
}

TEST(Distributed, PlainSASRecStepEqualsTheGlobalBatchInOneProcess) {
  if (!distributed_training_available()) GTEST_SKIP() << "built without Gloo";
  set_compute_threads(1);
  make_logger("");
  TempDir dir;
  const auto ranks = run_two_ranks("", dir);
  expect_same_state(ranks[0], ranks[1], "rank 0 against rank 1");
  // The plain objective needs no emulation: one ordinary epoch on the whole batch.
  auto dataset = walks();
  TempDir cache;
  TrainingSetup single(one_batch_config("", dir.path().string()), dataset, {cache.path().string()});
  single.run_epoch(0);
  expect_same_state(ranks[0], state_of(single), "two ranks against one process");
}

// Two ranks of `method` against their shards in one process.
void expect_ranks_equal_their_shards(const std::string& method, const TempDir& dir) {
  const auto ranks = run_two_ranks(method, dir);
  expect_same_state(ranks[0], ranks[1], "rank 0 against rank 1");
  expect_same_state(ranks[0], shards_in_one_process(method, dir), "two ranks against their shards in one process");
}

TEST(Distributed, TadaStepEqualsItsShardsInOneProcess) {
  if (!distributed_training_available()) GTEST_SKIP() << "built without Gloo";
  set_compute_threads(1);
  make_logger("");
  TempDir dir;
  expect_ranks_equal_their_shards("tada", dir);
}

TEST(Distributed, FaerecStepEqualsItsShardsInOneProcess) {
  if (!distributed_training_available()) GTEST_SKIP() << "built without Gloo";
  set_compute_threads(1);
  make_logger("");
  TempDir dir;
  at::manual_seed(1);
  write_semantic_vectors(dir);
  expect_ranks_equal_their_shards("faerec", dir);
}

// A cluster of one rank: its sums leave tensors as they are.
class OneRank final : public Cluster {
 public:
  OneRank() : Cluster(ClusterOptions{}) {}
  std::string share(const std::string&, const std::string& value) override { return value; }
  void broadcast(std::vector<at::Tensor>&) override {}
  void sum(at::Tensor&) override {}
  std::unique_ptr<PendingSum> start_sum(at::Tensor&) override {
    struct Done final : PendingSum {
      void wait() override {}
    };
    return std::make_unique<Done>();
  }
};

TEST(Distributed, GradientSumFillsBucketsAndLeavesUnreachedParametersAlone) {
  OneRank cluster;
  auto a = at::randn({3, 4}).requires_grad_();
  auto b = at::randn({5}).requires_grad_();
  auto unused = at::randn({2}).requires_grad_();
  auto frozen = at::randn({2});
  GradientSum sum(cluster, {a, b, unused, frozen}, 64);  // 64 bytes: buckets {unused, b} and {a}
  for (int step = 0; step < 2; ++step) {  // the second step reuses the buckets
    sum.begin();
    ((a * 2).sum() + (b * b).sum()).backward();
    sum.finish();
    EXPECT_TRUE(a.grad().equal(at::full({3, 4}, 2.0f)));
    EXPECT_TRUE(b.grad().allclose(2 * b));
    EXPECT_FALSE(unused.grad().defined()) << "a parameter no rank reached keeps its undefined gradient";
    a.mutable_grad().zero_();
    b.mutable_grad().zero_();
  }
}

TEST(Distributed, ShardsSplitRowsEvenlyAndTrimTheirPadding) {
  TrainBatch batch;
  batch.inputs = at::tensor({0, 0, 1, 2, 0, 0, 0, 3, 4, 5, 6, 7, 0, 0, 0, 8}, at::kLong).reshape({4, 4});
  batch.targets = batch.inputs.clone();
  batch.negatives = batch.inputs.clone();
  batch.users = {10, 11, 12, 13};
  const auto first = shard_of(batch, 0, 3, true);   // row 0
  const auto second = shard_of(batch, 1, 3, true);  // row 1
  const auto third = shard_of(batch, 2, 3, true);   // rows 2 and 3
  EXPECT_EQ(first.users, std::vector<int64_t>{10});
  EXPECT_EQ(second.users, std::vector<int64_t>{11});
  EXPECT_EQ(third.users, (std::vector<int64_t>{12, 13}));
  EXPECT_TRUE(first.inputs.equal(at::tensor({1, 2}, at::kLong).reshape({1, 2})));
  EXPECT_TRUE(second.inputs.equal(at::tensor({3}, at::kLong).reshape({1, 1})));
  EXPECT_TRUE(third.inputs.equal(batch.inputs.narrow(0, 2, 2)));
  EXPECT_EQ(shard_of(batch, 1, 3, false).inputs.size(1), 4);
  // More ranks than rows: some shards are empty.
  batch.users = {10};
  batch.inputs = batch.inputs.narrow(0, 0, 1);
  EXPECT_TRUE(shard_of(batch, 0, 2, true).users.empty());
  EXPECT_EQ(shard_of(batch, 1, 2, true).users, std::vector<int64_t>{10});
}

TEST(Distributed, EnvironmentFillsWhatTheCommandLineLeft) {
  setenv("WORLD_SIZE", "4", 1);
  setenv("RANK", "3", 1);
  setenv("MASTER_ADDR", "10.0.0.5", 1);
  setenv("MASTER_PORT", "1234", 1);
  auto options = cluster_options_from_environment(ClusterOptions{}, {});
  EXPECT_EQ(options.world_size, 4);
  EXPECT_EQ(options.rank, 3);
  EXPECT_EQ(options.master_host, "10.0.0.5");
  EXPECT_EQ(options.master_port, 1234);
  ClusterOptions given;
  given.rank = 1;
  EXPECT_EQ(cluster_options_from_environment(given, {"rank"}).rank, 1);
  setenv("RANK", "4", 1);
  EXPECT_NE(testing::error_of([] { cluster_options_from_environment(ClusterOptions{}, {}); }).find("rank 4 is not below"),
            std::string::npos);
  setenv("MASTER_PORT", "12x", 1);
  EXPECT_NE(testing::error_of([] { cluster_options_from_environment(ClusterOptions{}, {}); }).find("MASTER_PORT"),
            std::string::npos);
  for (const char* name : {"WORLD_SIZE", "RANK", "MASTER_ADDR", "MASTER_PORT"}) unsetenv(name);
}

}  // namespace
}  // namespace caudal
