// The training loop: the recommendation loss (docs/protocol.md, "Objective")
// plus every method's losses, Adam, validation every epoch after `warmup`,
// early stopping on validation NDCG@20, the best checkpoint written
// atomically, reloaded and tested once. After every epoch the whole training
// state goes to resume.pt, so a stopped run continues (TrainControl::resume)
// exactly as if it had never stopped.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <torch/optim/adam.h>

#include "caudal/core/progress.h"
#include "caudal/data/batcher.h"
#include "caudal/data/dataset.h"
#include "caudal/distributed/cluster.h"
#include "caudal/eval/metrics.h"
#include "caudal/method/method.h"
#include "caudal/model/recommender.h"
#include "caudal/run/config.h"
#include "caudal/run/run_dir.h"

namespace caudal {

struct TrainResult {
  GroupedMetrics valid;  // of the best epoch
  GroupedMetrics test;
  int64_t best_epoch = -1;  // 1-based
  int64_t epochs = 0;       // epochs run
  double seconds_per_epoch = 0;  // training time only, validation excluded
  bool paused = false;  // stopped by TrainControl::pause_after: no test yet, resumable
};

struct TrainControl {
  bool resume = false;      // continue from the run directory's resume.pt (config.init is then not read)
  int64_t pause_after = 0;  // > 0: stop after this many epochs of this call, leaving the run resumable
  // Data-parallel training over several processes (null: one process).
  // Rank 0 writes the run directory, validates, decides early stopping and
  // tests; the other ranks write nothing and read the run directory only to
  // resume. Every rank must be given the same options and data (checked).
  Cluster* cluster = nullptr;
};

// Mean of each loss over an epoch's batches: "loss" (the total) first, then
// "rec" and every method's losses by name.
using EpochLosses = std::vector<std::pair<std::string, double>>;

enum class RecLoss { kSampledBce, kSoftmax };

struct EpochOptions {
  uint64_t seed = 2024;     // seeds the methods' random streams and the masking
  double mask_ratio = 0.2;  // see TrainConfig
  RecLoss loss = RecLoss::kSampledBce;
  bool length_groups = false;  // encode each batch in trimmed length groups (Batching::kRandom)
};

// The epoch options of a config for a model: config.loss, or the model's
// usual loss when it is auto.
EpochOptions epoch_options(const TrainConfig& config, const SequentialRecommender& model, Batching batching);

// A rank's part in a distributed epoch: every rank builds the same global
// batches and trains on its shard of each (shard_of); gradients are summed
// over the ranks between the backward pass and the optimiser step. Each
// loss is weighted by the rank's share of the global batch (the
// recommendation loss by target positions, the methods' by rows), so for a
// next-item model the summed gradient is exactly the global batch's. A rank's
// own random streams: its methods' choices, masks and dropout (rank 0 draws
// what a single process draws, except dropout).
struct DataParallel {
  Cluster& cluster;
  GradientSum& gradients;
};

// The losses of one training batch: `window` is a rank's shard of
// `global_window` (or, in one process, the same batch). With `weighted`,
// each loss is scaled by the shard's share, as DataParallel says. `rng` and
// `mask_rng` are the epoch's streams of the methods and of the masking.
struct BatchLoss {
  at::Tensor total;
  NamedLosses named;  // "rec", then each method's
};
BatchLoss batch_loss(SequentialRecommender& model, const TrainBatch& window, const TrainBatch& global_window,
                     std::vector<std::unique_ptr<Method>>& methods, const EpochOptions& options, std::mt19937_64& rng,
                     std::mt19937_64& mask_rng, const c10::Device& device, bool weighted);

// The index of a rank's random streams in an epoch (make_rng): epoch +
// rank * 2^32, so rank 0 draws what a single process draws.
uint64_t rank_stream(int64_t epoch, int rank);

// One optimisation pass over the training batches of `epoch`, with the
// methods' losses added. A masked-item model (model.mask_token() != 0) is
// trained on masked_item_batch(batch, ..., mask_ratio) instead of next items.
// `progress`, when given, is started with the epoch's batch count and
// advanced after each batch. With `parallel`, the losses returned are the
// global batches' (summed over the ranks).
EpochLosses train_one_epoch(SequentialRecommender& model, TrainBatcher& batcher, torch::optim::Optimizer& optimizer,
                            int64_t epoch, const c10::Device& device, std::vector<std::unique_ptr<Method>>& methods,
                            const EpochOptions& options, Progress* progress = nullptr,
                            const DataParallel* parallel = nullptr);

// Everything an epoch needs, built from a config: what train_and_test, the
// epoch benchmark and the benchmarks share. The model is built from
// config.seed and put on config.device; the methods are prepared (their
// preparations cached in cache_dirs, see MethodContext). With a cluster,
// every rank builds its setup at the same time: rank 0 prepares the methods
// and sends the preparations to the others, and gradient hooks are put in
// place; share_parameters() then gives every rank rank 0's parameters.
struct TrainingSetup {
  TrainingSetup(const TrainConfig& config, const Dataset& dataset, std::vector<std::string> cache_dirs,
                Cluster* cluster = nullptr);

  Cluster* cluster = nullptr;

  EpochLosses run_epoch(int64_t epoch, Progress* progress = nullptr) {
    if (!gradients) return train_one_epoch(*model, batcher, optimizer, epoch, device, methods, options, progress);
    const DataParallel parallel{*cluster, *gradients};
    return train_one_epoch(*model, batcher, optimizer, epoch, device, methods, options, progress, &parallel);
  }
  // Every rank's parameters and buffers become rank 0's.
  void share_parameters();

  c10::Device device;
  std::shared_ptr<SequentialRecommender> model;
  Batching batching;  // resolved: bucketed, random or padded
  EpochOptions options;
  std::vector<std::unique_ptr<Method>> methods;
  TrainBatcher batcher;
  torch::optim::Adam optimizer;
  std::unique_ptr<GradientSum> gradients;  // with a cluster
};

// Trains, writes config.json, model.pt, resume.pt (removed when training
// ends), history.jsonl, metrics.json and train.log in `run`. A history
// record: {"epoch": 1-based, "losses": {"loss": total, "rec": ..., each
// method's loss by name}, "train_seconds", in a distributed run
// "gradient_wait_seconds" (of train_seconds, the wait for the other ranks'
// gradients), and for a validated epoch "valid_seconds", "valid": overall metrics ({"hr@5": ...}), "best": whether
// it became the best checkpoint}.
TrainResult train_and_test(const TrainConfig& config, const Dataset& dataset, const RunDirectory& run,
                           const TrainControl& control = {});

// metrics.json as the contract describes it.
nlohmann::json metrics_json(const TrainResult& result);

}  // namespace caudal
