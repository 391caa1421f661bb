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

// One optimisation pass over the training batches of `epoch`, with the
// methods' losses added. A masked-item model (model.mask_token() != 0) is
// trained on masked_item_batch(batch, ..., mask_ratio) instead of next items.
// `progress`, when given, is started with the epoch's batch count and
// advanced after each batch.
EpochLosses train_one_epoch(SequentialRecommender& model, TrainBatcher& batcher, torch::optim::Optimizer& optimizer,
                            int64_t epoch, const c10::Device& device, std::vector<std::unique_ptr<Method>>& methods,
                            const EpochOptions& options, Progress* progress = nullptr);

// Everything an epoch needs, built from a config: what train_and_test, the
// epoch benchmark and the benchmarks share. The model is built from
// config.seed and put on config.device; the methods are prepared (their
// preparations cached in cache_dirs, see MethodContext).
struct TrainingSetup {
  TrainingSetup(const TrainConfig& config, const Dataset& dataset, std::vector<std::string> cache_dirs);

  EpochLosses run_epoch(int64_t epoch, Progress* progress = nullptr) {
    return train_one_epoch(*model, batcher, optimizer, epoch, device, methods, options, progress);
  }

  c10::Device device;
  std::shared_ptr<SequentialRecommender> model;
  Batching batching;  // resolved: bucketed, random or padded
  EpochOptions options;
  std::vector<std::unique_ptr<Method>> methods;
  TrainBatcher batcher;
  torch::optim::Adam optimizer;
};

// Trains, writes config.json, model.pt, resume.pt (removed when training
// ends), history.jsonl, metrics.json and train.log in `run`. A history
// record: {"epoch": 1-based, "losses": {"loss": total, "rec": ..., each
// method's loss by name}, "train_seconds", and for a validated epoch
// "valid_seconds", "valid": overall metrics ({"hr@5": ...}), "best": whether
// it became the best checkpoint}.
TrainResult train_and_test(const TrainConfig& config, const Dataset& dataset, const RunDirectory& run,
                           const TrainControl& control = {});

// metrics.json as the contract describes it.
nlohmann::json metrics_json(const TrainResult& result);

}  // namespace caudal
