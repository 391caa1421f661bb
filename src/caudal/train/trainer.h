// The training loop: next-item BCE with one fresh negative per position (or a
// softmax over all items, --loss ce),
// Adam, validation every epoch after `warmup`, early stopping on validation
// NDCG@20, the best checkpoint written atomically, reloaded and tested once.
// After every epoch the whole training state goes to resume.pt, so a stopped
// run continues (TrainControl::resume) exactly as if it had never stopped.
#pragma once

#include <memory>

#include <torch/optim/optimizer.h>

#include "caudal/data/batcher.h"
#include "caudal/data/dataset.h"
#include "caudal/eval/metrics.h"
#include "caudal/method/method.h"
#include "caudal/model/recommender.h"
#include "caudal/train/config.h"
#include "caudal/train/run_dir.h"

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

// Whether training uses trimmed, length-bucketed batches: config.batching
// resolved for this backbone and these methods (see TrainConfig).
bool uses_bucketed_batches(const TrainConfig& config, const Backbone& backbone);

// The model a config describes, initialised from config.seed.
std::shared_ptr<SequentialRecommender> build_model(const TrainConfig& config, int64_t num_items);

// Mean of each loss over an epoch's batches: "loss" (the total) first, then
// "rec" and every method's losses by name.
using EpochLosses = std::vector<std::pair<std::string, double>>;

enum class RecLoss { kSampledBce, kSoftmax };

struct EpochOptions {
  uint64_t seed = 2024;     // seeds the methods' random streams and the masking
  double mask_ratio = 0.2;  // see TrainConfig
  RecLoss loss = RecLoss::kSampledBce;
};

// The epoch options of a config for a model: config.loss, or the model's
// usual loss when it is empty. Unknown names are an error.
EpochOptions epoch_options(const TrainConfig& config, const SequentialRecommender& model);

// One optimisation pass over the training batches of `epoch`, with the
// methods' losses added. A masked-item model (model.mask_token() != 0) is
// trained on masked_item_batch(batch, ..., mask_ratio) instead of next items.
EpochLosses train_one_epoch(SequentialRecommender& model, TrainBatcher& batcher, torch::optim::Optimizer& optimizer,
                            int64_t epoch, const c10::Device& device, std::vector<std::unique_ptr<Method>>& methods,
                            const EpochOptions& options);

// Trains, writes config.json, model.pt, resume.pt (removed when training
// ends), metrics.json and train.log in `run`.
TrainResult train_and_test(const TrainConfig& config, const Dataset& dataset, const RunDirectory& run,
                           const TrainControl& control = {});

// metrics.json as the contract describes it.
nlohmann::json metrics_json(const TrainResult& result);

c10::Device parse_device(const std::string& name);

}  // namespace caudal
