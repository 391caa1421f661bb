// `caudal train`: train a model, validate, early-stop, test; writes a run directory.
#include <fmt/format.h>
#include <ftw.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>

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

// A private directory of a rank other than 0 (what rank 0 sends it), removed
// when the rank ends.
class ScratchDirectory {
 public:
  ScratchDirectory() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/caudal-rank-XXXXXX";
    if (!mkdtemp(pattern.data())) throw Error("cannot create a scratch directory " + pattern + " for this rank");
    path_ = pattern;
  }
  // nftw, not std::filesystem::remove_all, which crashes when built against
  // pip's LibTorch 2.x (tests/test_util.h says why).
  ~ScratchDirectory() {
    nftw(
        path_.c_str(), [](const char* file, const struct stat*, int, struct FTW*) { return std::remove(file); }, 16,
        FTW_DEPTH | FTW_PHYS);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

int run_training(const TrainConfig& given, const std::string& out, TrainControl control, bool overwrite,
                 const ClusterOptions& cluster_options) {
  const auto config = with_absolute_paths(given);
  const bool leader = cluster_options.rank == 0;
  std::optional<ScratchDirectory> scratch;
  if (!leader) scratch.emplace();
  // Rank 0 owns the run directory; another rank reads it only to resume.
  const auto run = control.resume ? RunDirectory::open(out)
                   : leader       ? RunDirectory::create_new(out, overwrite)
                                  : RunDirectory::open(scratch->path());
  if (control.resume) check_run_inputs(run, config);
  make_logger(leader ? run.file("train.log") : std::string());
  if (!leader) spdlog::set_level(spdlog::level::warn);  // rank 0 reports for all
  set_compute_threads(config.threads);
  Dataset dataset(load_sequences(config.data), config.head_ratio);
  std::unique_ptr<Cluster> cluster;
  if (cluster_options.world_size > 1) {
    cluster = Cluster::join(cluster_options);
    control.cluster = cluster.get();
    if (scratch) control.scratch_dir = scratch->path();
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
