// The CLI's commands: each file adds one subcommand to the app and returns
// what runs it once the command line is parsed. main.cpp only dispatches.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

#include "caudal/eval/metrics.h"
#include "caudal/infer/catalogue.h"
#include "caudal/infer/recommender.h"
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
Command add_report_command(CLI::App& app);
Command add_launch_command(CLI::App& app);

// Trains `config` into the run directory `out` (train and resume). A new
// training refuses a directory that holds a run unless `overwrite`
// (RunDirectory::create_new); a resumed one checks its input files first.
// With a world size above 1 this process joins the cluster as its rank:
// rank 0 writes `out`, the others write nothing there.
int run_training(const TrainConfig& config, const std::string& out, TrainControl control, bool overwrite,
                 const ClusterOptions& cluster);

// A trained run to recommend from, with the options that name it (recommend, serve).
struct RunToRecommend {
  std::string run, device = "cpu", items, item_columns = "title";
  int threads = 1;

  void add_options(CLI::App& command);
  struct Loaded {
    TrainConfig config;
    std::string path;
    std::unique_ptr<Recommender> recommender;
    std::unique_ptr<Catalogue> catalogue;
  };
  // Sets the threads, loads the model onto the device and the catalogue.
  Loaded load(int64_t block_size = 256) const;
};

// The validation and test tables, as train and eval print them.
void print_tables(const GroupedMetrics& valid, const GroupedMetrics& test);

}  // namespace caudal
