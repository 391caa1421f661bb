// `caudal train`: train a model, validate, early-stop, test; writes a run directory.
#include <fmt/format.h>

#include <iostream>

#include "caudal/core/error.h"
#include "caudal/core/log.h"
#include "caudal/core/threads.h"
#include "caudal/data/dataset.h"
#include "caudal/run/input_files.h"
#include "command.h"
#include "options.h"

namespace caudal {

void print_tables(const GroupedMetrics& valid, const GroupedMetrics& test) {
  log_text("\nvalidation\n" + format_metrics_table(valid) + "\ntest\n" + format_metrics_table(test));
}

int run_training(const TrainConfig& given, const std::string& out, const TrainControl& control, bool overwrite) {
  const auto config = with_absolute_paths(given);
  const auto run = control.resume ? RunDirectory::open(out) : RunDirectory::create_new(out, overwrite);
  if (control.resume) check_run_inputs(run, config);
  make_logger(run.file("train.log"));
  set_compute_threads(config.threads);
  Dataset dataset(load_sequences(config.data), config.head_ratio);
  const auto result = train_and_test(config, dataset, run, control);
  if (result.paused) {
    std::cout << fmt::format("\npaused after epoch {}; continue with: caudal resume --run {}\n", result.epochs, run.path());
    return 0;
  }
  print_tables(result.valid, result.test);
  log_text(fmt::format("\nbest epoch {} of {}; {:.2f} s per training epoch; run in {}\n", result.best_epoch, result.epochs,
                       result.seconds_per_epoch, run.path()));
  return 0;
}

Command add_train_command(CLI::App& app) {
  struct State {
    TrainConfig config;
    std::string out;
    bool padded = false;
    int64_t pause_after = 0;
    bool overwrite = false;
  };
  auto s = std::make_shared<State>();
  auto* cmd = app.add_subcommand("train", "train a model, validate, early-stop, test; writes a run directory");
  using G = OptionGroup;
  auto options = add_config_options(*cmd, s->config, {G::kData, G::kModel, G::kTraining, G::kEvaluation, G::kMethods});
  options.at("data")->required();
  cmd->add_option("--out", s->out, "run directory")->required();
  cmd->add_flag("--overwrite", s->overwrite, "replace a run already in --out (trained, finished or unfinished)");
  cmd->add_flag("--padded", s->padded, "the same as --batching padded");
  cmd->add_option("--pause-after", s->pause_after,
                  "stop after this many epochs, resumable with `caudal resume` (for time-limited jobs)")
      ->check(in_range(1, 1e6));
  return {cmd, [s] {
            if (s->padded) s->config.batching = Batching::kPadded;
            return run_training(s->config, s->out, TrainControl{false, s->pause_after}, s->overwrite);
          }};
}

}  // namespace caudal
