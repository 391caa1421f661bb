// `caudal train`: train a model, validate, early-stop, test; writes a run directory.
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <torch/cuda.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
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

namespace {

// Under `caudal launch`, a rank ends with the launcher even when the launcher
// is killed outright (Linux only: no signal reaches the ranks otherwise).
void end_with_launcher() {
  const char* launcher = std::getenv("CAUDAL_LAUNCHER_PID");
  if (!launcher) return;
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (std::to_string(getppid()) != launcher) std::exit(1);  // it ended before prctl
}

// `--device cuda` (or a resumed run's cuda:N) in a distributed run: one GPU
// per rank on each host, by LOCAL_RANK (as `caudal launch` and torchrun set
// it), else by rank.
std::string device_of_rank(const std::string& device, const ClusterOptions& cluster) {
  if (device.rfind("cuda", 0) != 0 || cluster.world_size < 2 || !torch::cuda::is_available()) return device;
  int local_rank = cluster.rank;
  if (const char* value = std::getenv("LOCAL_RANK")) local_rank = std::atoi(value);
  return fmt::format("cuda:{}", local_rank % static_cast<int>(torch::cuda::device_count()));
}

}  // namespace

int run_training(const TrainConfig& given, const std::string& out, TrainControl control, bool overwrite,
                 const ClusterOptions& cluster_options) {
  auto config = with_absolute_paths(given);
  config.device = device_of_rank(config.device, cluster_options);
  const bool leader = cluster_options.rank == 0;
  if (cluster_options.world_size > 1) end_with_launcher();
  // Rank 0 owns the run directory. Another rank writes nothing, reads it only
  // to resume, and otherwise passes the system's temporary directory as a
  // name that is never used.
  const auto run = control.resume ? RunDirectory::open(out)
                   : leader       ? RunDirectory::create_new(out, overwrite)
                                  : RunDirectory::open(std::filesystem::temp_directory_path().string());
  if (control.resume) check_run_inputs(run, config);
  make_logger(leader ? run.file("train.log") : std::string());
  if (!leader) spdlog::set_level(spdlog::level::warn);  // rank 0 reports for all
  set_compute_threads(config.threads);
  Dataset dataset(load_sequences(config.data), config.head_ratio);
  std::unique_ptr<Cluster> cluster;
  if (cluster_options.world_size > 1) {
    cluster = Cluster::join(cluster_options);
    control.cluster = cluster.get();
  }
  const auto result = train_and_test(config, dataset, run, control);
  if (!leader) return 0;
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
    ClusterFlags cluster;
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
  s->cluster.add_to(*cmd);
  return {cmd, [s] {
            if (s->padded) s->config.batching = Batching::kPadded;
            TrainControl control;
            control.pause_after = s->pause_after;
            return run_training(s->config, s->out, control, s->overwrite, s->cluster.resolve());
          }};
}

}  // namespace caudal
