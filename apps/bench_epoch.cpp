// `caudal bench-epoch`: seconds per training epoch of every backbone, plain
// and with each method, in one process on one dataset, at a fixed thread
// count. Each cell builds a fresh model (seeded) and times whole epochs of
// the trainer's own loop (TrainingSetup::run_epoch); validation is not included.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <torch/csrc/autograd/profiler_legacy.h>

#include "caudal/core/atomic_file.h"
#include "caudal/core/error.h"
#include "caudal/core/log.h"
#include "caudal/core/threads.h"
#include "caudal/semantic/item_text.h"
#include "command.h"
#include "options.h"

namespace caudal {
namespace {

struct EpochBench {
  TrainConfig base;  // everything but the backbone and the methods (hidden, semantic, device, threads...)
  std::string models;    // backbone names, comma-separated (default: every one the zoo knows)
  std::string variants;  // plain, or method lists with '+' for ',' (default: plain, each method, all of them)
  int epochs = 1;        // timed epochs per cell
  std::string work_dir;  // TADA's candidate cache lives here (computed once, reused)
  std::string json_out;  // optional: results as JSON
  bool padded = false;
  std::string profile;   // optional: a Chrome trace of the timed epochs (every operator, forward and backward)
};

int run_epoch_benchmark(const EpochBench& bench) {
  if (!bench.profile.empty() && split_list(bench.models).size() * split_list(bench.variants).size() != 1)
    throw Error("--profile traces one cell: give one backbone in --models and one variant in --variants");
  set_compute_threads(bench.base.threads);
  make_logger("");
  Dataset dataset(load_sequences(bench.base.data));
  const auto work = RunDirectory::create(bench.work_dir);
  nlohmann::json results = nlohmann::json::array();
  std::cout << fmt::format("{} users, {} items, {} thread(s), {} timed epoch(s) per cell\n", dataset.num_users(),
                           dataset.num_items(), bench.base.threads, bench.epochs);
  std::cout << fmt::format("{:<10} {:<13} {:>9} {:>12}\n", "backbone", "variant", "batches", "s/epoch");
  for (const auto& model_name : split_list(bench.models)) {
    for (const auto& variant : split_list(bench.variants)) {
      TrainConfig config = bench.base;
      config.backbone.name = model_name;
      config.methods.list = variant == "plain" ? "" : variant;
      std::replace(config.methods.list.begin(), config.methods.list.end(), '+', ',');
      if (bench.padded) config.batching = Batching::kPadded;
      TrainingSetup setup(config, dataset, {work.path()});
      std::unique_ptr<torch::autograd::profiler::RecordProfile> profiler;
      if (!bench.profile.empty()) profiler = std::make_unique<torch::autograd::profiler::RecordProfile>(bench.profile);
      const auto start = std::chrono::steady_clock::now();
      for (int e = 0; e < bench.epochs; ++e) setup.run_epoch(e);
      profiler.reset();
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / bench.epochs;
      const auto batches = batching_name(setup.batching);
      std::cout << fmt::format("{:<10} {:<13} {:>9} {:>12.2f}\n", model_name, variant, batches, seconds) << std::flush;
      results.push_back({{"backbone", model_name}, {"variant", variant}, {"batches", batches}, {"seconds_per_epoch", seconds}});
    }
  }
  if (!bench.json_out.empty()) write_file_atomically(bench.json_out, results.dump(2) + "\n");
  return 0;
}

// "a, b, c" -> "a,b,c"
std::string without_spaces(std::string names) {
  names.erase(std::remove(names.begin(), names.end(), ' '), names.end());
  return names;
}

}  // namespace

Command add_bench_epoch_command(CLI::App& app) {
  auto s = std::make_shared<EpochBench>();
  s->models = without_spaces(backbone_names());
  const auto methods = split_list(without_spaces(method_names()));
  s->variants = "plain";
  std::string all;
  for (const auto& method : methods) {
    s->variants += "," + method;
    all += (all.empty() ? "" : "+") + method;
  }
  if (methods.size() > 1) s->variants += "," + all;
  auto* cmd = app.add_subcommand("bench-epoch", "seconds per training epoch of every backbone, plain and with each method");
  auto options = add_config_options(*cmd, s->base, {"data", "hidden", "semantic", "threads", "device", "batching"});
  options.at("data")->required();
  cmd->add_option("--models", s->models, "backbones, comma-separated")->capture_default_str();
  cmd->add_option("--variants", s->variants, "plain or method lists ('+' joins methods), comma-separated")
      ->capture_default_str();
  cmd->add_option("--epochs", s->epochs, "timed epochs per cell")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_flag("--padded", s->padded, "the same as --batching padded");
  cmd->add_option("--work", s->work_dir, "directory for TADA's candidate cache")->required();
  cmd->add_option("--json", s->json_out, "also write the results here");
  cmd->add_option("--profile", s->profile,
                  "write a Chrome trace (chrome://tracing, Perfetto) of the timed epochs; one cell only, "
                  "and the profiler's own cost inflates the times");
  return {cmd, [s] { return run_epoch_benchmark(*s); }};
}

}  // namespace caudal
