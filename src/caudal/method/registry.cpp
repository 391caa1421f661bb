#include "caudal/method/registry.h"

#include <ATen/ATen.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <sstream>

#include "caudal/core/error.h"
#include "caudal/method/faerec/faerec.h"
#include "caudal/method/tada/tada.h"
#include "caudal/semantic/vector_file.h"

namespace caudal {
namespace {

const char* kTadaCacheFile = "tada_candidates.json";

// TADA's preparation, from the cache of this run or of the --init run when it
// was made for the same data and options, else solved and cached here.
TadaPreparation tada_preparation(const TrainConfig& config, const Dataset& dataset, const RunDirectory& run) {
  auto log = spdlog::default_logger();
  const auto key = tada_cache_key(dataset, config.backbone.max_len, config.tada.lis);
  TadaPreparation prep;
  std::vector<std::string> places = {run.file(kTadaCacheFile)};
  if (!config.init.empty()) places.push_back(config.init + "/" + kTadaCacheFile);
  for (const auto& path : places) {
    if (load_tada_cache(path, key, prep)) {
      log->info("TADA candidates loaded from {}", path);
      if (path != run.file(kTadaCacheFile)) save_tada_cache(run.file(kTadaCacheFile), key, prep);
      return prep;
    }
  }
  log->info("TADA preparation: co-occurrence and LIS over {} items (lambda {}, xi {}, th {}, top-k {})",
            dataset.num_items(), config.tada.lis.lambda, config.tada.lis.xi, config.tada.lis.threshold,
            config.tada.lis.top_k);
  const auto start = std::chrono::steady_clock::now();
  prep = prepare_tada(dataset, config.backbone.max_len, config.tada.lis);
  log->info("TADA preparation took {:.1f}s; cached in {}",
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), run.file(kTadaCacheFile));
  save_tada_cache(run.file(kTadaCacheFile), key, prep);
  return prep;
}

}  // namespace

std::vector<std::string> parse_method_list(const std::string& list) {
  std::vector<std::string> names;
  std::stringstream in(list);
  std::string name;
  while (std::getline(in, name, ',')) {
    if (name.empty()) continue;
    if (name != "tada" && name != "faerec") throw Error("unknown --method '" + name + "' (known: tada, faerec)");
    if (std::find(names.begin(), names.end(), name) != names.end()) throw Error("--method names '" + name + "' twice");
    names.push_back(name);
  }
  return names;
}

std::shared_ptr<ItemRepresentation> make_item_representation(const TrainConfig& config, int64_t num_items,
                                                             int64_t extra_tokens) {
  const auto names = parse_method_list(config.method);
  if (std::find(names.begin(), names.end(), "faerec") != names.end()) {
    if (random_padding_row(config))
      throw Error("--padding-row random applies to the plain ID embedding; FAERec's fused items keep a zero padding row");
    if (config.faerec.semantic.empty()) throw Error("--method faerec needs --semantic VECTORS (see caudal embed)");
    auto semantic = load_item_vectors(config.faerec.semantic, num_items);
    semantic = at::constant_pad_nd(semantic, {0, 0, 0, extra_tokens});
    return std::make_shared<FusedItems>(semantic, config.backbone.hidden, config.backbone.dropout, config.faerec.scoring);
  }
  return std::make_shared<IdEmbedding>(num_items + extra_tokens, config.backbone.hidden, 0.02,
                                       random_padding_row(config));
}

std::vector<std::unique_ptr<Method>> make_methods(const TrainConfig& config, const Dataset& dataset, const RunDirectory& run,
                                                  bool trim) {
  std::vector<std::unique_ptr<Method>> methods;
  for (const auto& name : parse_method_list(config.method)) {
    if (name == "faerec") methods.push_back(std::make_unique<Faerec>(config.faerec, dataset.groups().item_train_count));
    if (name == "tada") {
      TadaOptions options = config.tada;
      options.augment.max_len = config.backbone.max_len;
      options.mask_ratio = config.mask_ratio;
      methods.push_back(std::make_unique<Tada>(tada_preparation(config, dataset, run), dataset.groups().is_head_item,
                                               options, trim));
    }
  }
  return methods;
}

}  // namespace caudal
