#include "epoch_bench.h"

#include <fmt/format.h>
#include <torch/optim/adam.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>

#include "caudal/core/atomic_file.h"
#include "caudal/core/error.h"
#include "caudal/core/threads.h"
#include "caudal/data/batcher.h"
#include "caudal/method/registry.h"
#include "caudal/train/run_dir.h"
#include "caudal/train/trainer.h"

namespace caudal {

int run_epoch_benchmark(const EpochBenchRequest& request) {
  if (request.epochs < 1) throw Error("bench-epoch: --epochs must be at least 1");
  set_compute_threads(request.threads);
  Dataset dataset(load_sequences(request.data));
  RunDirectory work(request.work_dir);
  const c10::Device device = parse_device(request.base.device);
  nlohmann::json results = nlohmann::json::array();
  std::cout << fmt::format("{} users, {} items, {} thread(s), {} timed epoch(s) per cell\n", dataset.num_users(),
                           dataset.num_items(), request.threads, request.epochs);
  std::cout << fmt::format("{:<10} {:<13} {:>8} {:>12}\n", "backbone", "variant", "batches", "s/epoch");
  for (const auto& model_name : request.models) {
    for (const auto& variant : request.variants) {
      TrainConfig config = request.base;
      config.backbone.name = model_name;
      config.method = variant == "plain" ? "" : variant;
      std::replace(config.method.begin(), config.method.end(), '+', ',');
      if (config.method.find("faerec") != std::string::npos && config.faerec.semantic.empty())
        throw Error("bench-epoch: variant '" + variant + "' needs --semantic");
      auto model = build_model(config, dataset.num_items());
      model->to(device);
      const bool trim = uses_bucketed_batches(config, model->backbone());
      auto methods = make_methods(config, dataset, work, trim);
      TrainBatcher batcher(dataset, BatchOptions{config.backbone.max_len, config.batch, trim}, config.seed);
      torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(config.lr));
      const auto options = epoch_options(config, *model);
      const auto start = std::chrono::steady_clock::now();
      for (int e = 0; e < request.epochs; ++e) train_one_epoch(*model, batcher, optimizer, e, device, methods, options);
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / request.epochs;
      const char* batches = trim ? "trimmed" : "padded";
      std::cout << fmt::format("{:<10} {:<13} {:>8} {:>12.2f}\n", model_name, variant, batches, seconds) << std::flush;
      results.push_back({{"backbone", model_name}, {"variant", variant}, {"batches", batches}, {"seconds_per_epoch", seconds}});
    }
  }
  if (!request.json_out.empty()) write_file_atomically(request.json_out, results.dump(2) + "\n");
  return 0;
}

}  // namespace caudal
