// `caudal bench-epoch`: seconds per training epoch of every backbone, plain
// and with each method, in one process on one dataset, at a fixed thread
// count. Each cell builds a fresh model (seeded), runs untimed warm-up
// epochs (a cell's first epoch, and its first validation, also pay for the
// memory they touch first: page faults, about 0.5 s of a Beauty epoch, that a
// long run pays once), times whole epochs of the trainer's own loop
// (TrainingSetup::run_epoch), then one full-ranking validation of every user
// (after an untimed one when there are warm-up epochs), timed apart. For
// plain SASRec it also counts the epoch's floating-point operations (the
// matrix products, from the shapes the encoder computes) and sets the
// achieved rate against the rate of one large sgemm measured at the start of
// the same run: how far the epoch is from what the core can do.
#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>
#include <torch/version.h>
#include <torch/csrc/autograd/profiler_legacy.h>

#include "caudal/core/atomic_file.h"
#include "caudal/core/device.h"
#include "caudal/core/error.h"
#include "caudal/core/log.h"
#include "caudal/core/threads.h"
#include "caudal/eval/evaluator.h"
#include "caudal/model/length_groups.h"
#include "caudal/semantic/item_text.h"
#include "command.h"
#include "options.h"

namespace caudal {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// GFLOP/s of a 1024^3 single-precision matrix product on the compute
// threads: the best of five, after one warm-up.
double sgemm_gflops(const c10::Device& device) {
  const int64_t n = 1024;
  const auto a = at::randn({n, n}, at::TensorOptions().device(device)), b = at::randn({n, n}, a.options());
  at::mm(a, b).sum().item<double>();
  double best = std::numeric_limits<double>::infinity();
  for (int i = 0; i < 5; ++i) {
    const auto start = Clock::now();
    at::mm(a, b).sum().item<double>();  // item() waits for a GPU too
    best = std::min(best, seconds_since(start));
  }
  return 2.0 * n * n * n / best / 1e9;
}

// The machine line of the results: CPU model (Linux), hardware threads,
// LibTorch, OpenBLAS's kernels (they set the sgemm rate).
std::string machine_line() {
  std::string cpu = "unknown CPU";
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);)
    if (line.rfind("model name", 0) == 0 && line.find(':') != std::string::npos) {
      cpu = line.substr(line.find(':') + 2);
      break;
    }
  const auto blas = blas_description();
  return fmt::format("{}, {} hardware threads, LibTorch {}{}", cpu, std::thread::hardware_concurrency(), TORCH_VERSION,
                     blas.empty() ? "" : ", " + blas);
}

// The [rows, width] blocks the encoder computes for a batch: the batch
// itself, or with random batching its length groups.
std::vector<std::pair<double, double>> encoded_blocks(const TrainBatch& batch, bool in_length_groups) {
  if (!in_length_groups)
    return {{static_cast<double>(batch.inputs.size(0)), static_cast<double>(batch.inputs.size(1))}};
  const auto groups = group_by_length(batch.inputs);
  std::vector<std::pair<double, double>> blocks;
  int64_t begin = 0;
  for (size_t g = 0; g < groups.ends.size(); ++g) {
    blocks.emplace_back(static_cast<double>(groups.ends[g] - begin), static_cast<double>(groups.widths[g]));
    begin = groups.ends[g];
  }
  return blocks;
}

// Floating-point operations of one plain SASRec training epoch with these
// batches: per block and encoded [B, T], the projections 2BT(3d^2 + d^2) and
// the feed-forward 2BT(8d^2), the attention products 2 x 2BT^2 d, and the
// scores of targets and negatives 4Pd at the P positions with a target;
// backward costs twice the forward (gradients of inputs and of weights), so
// x3. Element-wise work, softmax and the optimiser are left out: this is the
// matrix-product work.
double sasrec_epoch_flops(const std::vector<TrainBatch>& batches, const BackboneConfig& backbone, bool in_length_groups) {
  const double d = static_cast<double>(backbone.hidden);
  double forward = 0;
  for (const auto& batch : batches) {
    for (const auto& [b, t] : encoded_blocks(batch, in_length_groups))
      forward += static_cast<double>(backbone.layers) * (24 * b * t * d * d + 4 * b * t * t * d);
    forward += 4 * static_cast<double>(batch.targets.gt(0).sum().item<int64_t>()) * d;
  }
  return 3 * forward;
}

struct EpochBench {
  TrainConfig base;  // everything but the backbone and the methods (hidden, semantic, device, threads...)
  std::string models;    // backbone names, comma-separated (default: every one the zoo knows)
  std::string variants;  // plain, or method lists with '+' for ',' (default: plain, each method, all of them)
  int warmup_epochs = 1; // untimed epochs per cell before the timed ones
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
  const auto device = parse_device(bench.base.device);
  const double sgemm = sgemm_gflops(device);
  std::cout << machine_line() << "\n"
            << fmt::format("{} users, {} items, {} thread(s), {} warm-up and {} timed epoch(s) per cell; sgemm 1024^3: "
                           "{:.1f} GFLOP/s\n",
                           dataset.num_users(), dataset.num_items(), bench.base.threads, bench.warmup_epochs,
                           bench.epochs, sgemm);
  std::cout << fmt::format("{:<10} {:<13} {:>9} {:>9} {:>9} {:>8}\n", "backbone", "variant", "batches", "s/epoch",
                           "s/valid", "GFLOP/s");
  nlohmann::json cells = nlohmann::json::array();
  for (const auto& model_name : split_list(bench.models)) {
    for (const auto& variant : split_list(bench.variants)) {
      TrainConfig config = bench.base;
      config.backbone.name = model_name;
      config.methods.list = variant == "plain" ? "" : variant;
      std::replace(config.methods.list.begin(), config.methods.list.end(), '+', ',');
      if (bench.padded) config.batching = Batching::kPadded;
      TrainingSetup setup(config, dataset, {work.path()});
      for (int e = 0; e < bench.warmup_epochs; ++e) setup.run_epoch(e);
      const int first = bench.warmup_epochs;
      std::unique_ptr<torch::autograd::profiler::RecordProfile> profiler;
      if (!bench.profile.empty()) profiler = std::make_unique<torch::autograd::profiler::RecordProfile>(bench.profile);
      const auto start = Clock::now();
      for (int e = first; e < first + bench.epochs; ++e) setup.run_epoch(e);
      profiler.reset();
      const double seconds = seconds_since(start) / bench.epochs;
      const auto validation = evaluation_options(config, setup.model->backbone());
      if (bench.warmup_epochs > 0) evaluate(*setup.model, dataset, Stage::kValid, validation, device);
      const auto valid_start = Clock::now();
      evaluate(*setup.model, dataset, Stage::kValid, validation, device);
      const double valid_seconds = seconds_since(valid_start);
      nlohmann::json cell = {{"backbone", model_name},
                             {"variant", variant},
                             {"batches", batching_name(setup.batching)},
                             {"seconds_per_epoch", seconds},
                             {"valid_seconds", valid_seconds}};
      std::string rate = "-";
      if (model_name == "sasrec" && variant == "plain") {
        double flops = 0;
        for (int e = first; e < first + bench.epochs; ++e)
          flops += sasrec_epoch_flops(setup.batcher.epoch(e), config.backbone, setup.batching == Batching::kRandom);
        const double gflops = flops / bench.epochs / seconds / 1e9;
        cell["gflop_per_epoch"] = flops / bench.epochs / 1e9;
        cell["gflops"] = gflops;
        cell["share_of_sgemm"] = gflops / sgemm;
        rate = fmt::format("{:.1f}", gflops);
      }
      std::cout << fmt::format("{:<10} {:<13} {:>9} {:>9.2f} {:>9.2f} {:>8}\n", model_name, variant,
                               cell["batches"].get<std::string>(), seconds, valid_seconds, rate)
                << std::flush;
      cells.push_back(cell);
    }
  }
  const nlohmann::json results = {{"machine", machine_line()},
                                  {"data", bench.base.data},
                                  {"users", dataset.num_users()},
                                  {"items", dataset.num_items()},
                                  {"threads", bench.base.threads},
                                  {"device", bench.base.device},
                                  {"sgemm_gflops", sgemm},
                                  {"warmup_epochs_per_cell", bench.warmup_epochs},
                                  {"epochs_per_cell", bench.epochs},
                                  {"cells", cells}};
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
  auto options = add_config_options(*cmd, s->base, {"data", "hidden", "semantic", "align_chunk", "threads", "device", "batching"});
  options.at("data")->required();
  cmd->add_option("--models", s->models, "backbones, comma-separated")->capture_default_str();
  cmd->add_option("--variants", s->variants, "plain or method lists ('+' joins methods), comma-separated")
      ->capture_default_str();
  cmd->add_option("--warmup-epochs", s->warmup_epochs, "untimed epochs per cell before the timed ones")
      ->capture_default_str()
      ->check(in_range(0, 1e6));
  cmd->add_option("--epochs", s->epochs, "timed epochs per cell")->capture_default_str()->check(in_range(1, 1e6));
  cmd->add_flag("--padded", s->padded, "the same as --batching padded");
  cmd->add_option("--work", s->work_dir, "directory for TADA's candidate cache")->required();
  cmd->add_option("--json", s->json_out, "also write the results here");
  cmd->add_option("--profile", s->profile,
                  "write a Chrome trace (chrome://tracing, Perfetto) of the timed epochs; one cell only, "
                  "and the profiler's own cost inflates the times");
  return {cmd, [s] { return run_epoch_benchmark(*s); }};
}

}  // namespace caudal
