#include "caudal/run/trained_model.h"

#include <torch/utils.h>

#include "caudal/core/error.h"
#include "caudal/run/input_files.h"

namespace caudal {

std::shared_ptr<SequentialRecommender> build_model(const TrainConfig& config, int64_t num_items) {
  torch::manual_seed(config.seed);
  auto backbone = make_backbone(config.backbone);
  ItemTableShape shape{num_items, 0, config.backbone.hidden, config.backbone.dropout,
                       config.padding_row == PaddingRow::kRandom};
  if (!backbone->masked_item_objective())
    return std::make_shared<SequentialRecommender>(make_item_representation(config.methods, shape), backbone);
  shape.extra_tokens = 1;  // the mask token, id num_items + 1
  return std::make_shared<SequentialRecommender>(make_item_representation(config.methods, shape), backbone,
                                                 num_items + 1, config.backbone.max_len);
}

TrainConfig read_run_config(const RunDirectory& run) {
  return train_config_from_json(run.read_json("config.json"), run.file("config.json"));
}

void require_data_field(const RunDirectory& run, const TrainConfig& config) {
  if (config.data.empty()) throw Error(run.file("config.json") + ": no \"data\" field (the sequence file the run was trained on)");
}

TrainedRun load_trained_run(const RunDirectory& run, const TrainConfig& config, const c10::Device& device) {
  require_data_field(run, config);
  check_run_inputs(run, config);
  Dataset dataset(load_sequences(config.data), config.head_ratio);
  auto model = build_model(config, dataset.num_items());
  run.load_checkpoint(*model);
  model->to(device);
  model->eval();
  auto eval = evaluation_options(config, model->backbone());
  return TrainedRun{config, std::move(dataset), std::move(model), device, eval};
}

}  // namespace caudal
