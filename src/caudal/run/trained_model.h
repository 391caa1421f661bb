// Models from run directories, without the trainer: what training,
// evaluation, and anything that uses a trained model build on.
#pragma once

#include <memory>
#include <string>

#include <c10/core/Device.h>

#include "caudal/data/dataset.h"
#include "caudal/model/recommender.h"
#include "caudal/run/config.h"
#include "caudal/run/run_dir.h"

namespace caudal {

// The untrained model a config describes, initialised from config.seed: its
// backbone (the zoo), the item representation its methods call for, and a
// mask token when the backbone trains on masked items.
std::shared_ptr<SequentialRecommender> build_model(const TrainConfig& config, int64_t num_items);

// RUN/config.json; throws caudal::Error naming the file when it is missing or wrong.
TrainConfig read_run_config(const RunDirectory& run);
// Throws caudal::Error naming RUN/config.json when `config` has no data file
// to load (a config.json without "data").
void require_data_field(const RunDirectory& run, const TrainConfig& config);

// A trained run, ready to rank: its config, its data, and its model with the
// best checkpoint (model.pt), on `device`, in eval mode.
struct TrainedRun {
  TrainConfig config;
  Dataset dataset;
  std::shared_ptr<SequentialRecommender> model;
  c10::Device device;
  EvalOptions eval;  // config.eval completed for this model (evaluation_options)
};

// Loads the run in `run` as `config` describes it (read_run_config, possibly
// changed: another data file or evaluation options), onto `device`.
TrainedRun load_trained_run(const RunDirectory& run, const TrainConfig& config, const c10::Device& device);

}  // namespace caudal
