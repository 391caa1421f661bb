// The CLI's commands: each file adds one subcommand to the app and returns
// what runs it once the command line is parsed. main.cpp only dispatches.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

#include "caudal/eval/metrics.h"
#include "caudal/run/config.h"
#include "caudal/train/trainer.h"

namespace caudal {

struct Command {
  CLI::App* cli;
  std::function<int()> run;  // the exit code; throws caudal::Error on bad input
};

Command add_train_command(CLI::App& app);
Command add_resume_command(CLI::App& app);
Command add_eval_command(CLI::App& app);
Command add_prepare_command(CLI::App& app);
Command add_embed_command(CLI::App& app);
Command add_import_command(CLI::App& app);
Command add_inspect_fusion_command(CLI::App& app);
Command add_bench_lis_command(CLI::App& app);
Command add_bench_epoch_command(CLI::App& app);
Command add_recommend_command(CLI::App& app);
Command add_serve_command(CLI::App& app);

// Trains `config` into the run directory `out` (train and resume).
int run_training(const TrainConfig& config, const std::string& out, const TrainControl& control);

// The validation and test tables, as train and eval print them.
void print_tables(const GroupedMetrics& valid, const GroupedMetrics& test);

}  // namespace caudal
