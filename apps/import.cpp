// `caudal import`: a SASRec, GRU4Rec or FMLP-Rec trained by the official
// TADA/FAERec PyTorch code (a torch.save state dict) -> a run directory
// (config.json + model.pt) that `eval --run` and `train --init` accept.
#include <fmt/format.h>

#include <iostream>

#include "caudal/data/dataset.h"
#include "caudal/model/torch_import.h"
#include "caudal/run/trained_model.h"
#include "caudal/run/input_files.h"
#include "command.h"
#include "options.h"

namespace caudal {

Command add_import_command(CLI::App& app) {
  struct State {
    TrainConfig config;
    std::string weights, out;
    bool overwrite = false;
  };
  auto s = std::make_shared<State>();
  // The official FMLP-Rec convolves circularly: its weights only mean the same with that filter.
  s->config.backbone.fmlp_filter = FmlpFilter::kCircular;
  auto* cmd = app.add_subcommand(
      "import", "a SASRec, GRU4Rec or FMLP-Rec trained by the official TADA/FAERec code (torch.save state dict) -> run directory");
  cmd->add_option("--weights", s->weights, "the .pt file")->required()->check(CLI::ExistingFile);
  cmd->add_option("--out", s->out, "run directory to write")->required();
  cmd->add_flag("--overwrite", s->overwrite, "replace a run already in --out");
  auto options = add_config_options(*cmd, s->config, {OptionGroup::kData, OptionGroup::kModel});
  options.at("data")->required()->description("the sequence file it was trained on");
  return {cmd, [s] {
            const auto run = RunDirectory::create_new(s->out, s->overwrite);
            auto config = with_absolute_paths(s->config);
            Dataset dataset(load_sequences(config.data), config.head_ratio);
            // A backbone that reads padding vectors needs the official padding
            // vector to give the official numbers (docs/results.md, "Official
            // weights of the other backbones").
            const bool keep_padding_row = make_backbone(config.backbone)->reads_padding_vectors();
            config.padding_row = keep_padding_row ? PaddingRow::kRandom : PaddingRow::kZero;
            auto model = build_model(config, dataset.num_items());
            import_official_model(load_torch_state_dict(s->weights), *model, config.backbone.name, keep_padding_row,
                                  s->weights);
            auto config_json = to_json(config);
            config_json["inputs"] = fingerprint_inputs(config);
            run.write_json("config.json", config_json);
            run.save_checkpoint(*model);
            std::cout << fmt::format("{} -> {}/model.pt ({}, {} items); evaluate it with: caudal eval --run {}\n",
                                     s->weights, run.path(), config.backbone.name, dataset.num_items(), run.path());
            return 0;
          }};
}

}  // namespace caudal
