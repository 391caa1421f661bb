#include "caudal/method/registry.h"

#include <ATen/ATen.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <sstream>

#include "caudal/core/error.h"
#include "caudal/semantic/vector_file.h"

namespace caudal {
namespace {

const char* kTadaCacheFile = "tada_candidates.json";

// TADA's preparation, from the first cache directory that holds one made for
// the same data and options (copied into the first directory), else solved
// and cached in the first.
TadaPreparation tada_preparation(const TadaOptions& options, const MethodContext& context) {
  auto log = spdlog::default_logger();
  const auto& dataset = context.dataset;
  const auto key = tada_cache_key(dataset, context.max_len, options.lis);
  TadaPreparation prep;
  const auto received = context.received.find(kTadaCacheFile);
  if (received != context.received.end()) {
    if (!parse_tada_cache(received->second, "TADA candidates received from rank 0", key, prep))
      throw Error("TADA candidates received from rank 0 were made for other data or options than this rank's");
    return prep;
  }
  if (context.cache_dirs.empty()) throw Error("TADA: no directory to cache its candidates in");
  const std::string own_cache = context.cache_dirs.front() + "/" + kTadaCacheFile;
  for (const auto& dir : context.cache_dirs) {
    const std::string path = dir + "/" + kTadaCacheFile;
    if (load_tada_cache(path, key, prep)) {
      log->info("TADA candidates loaded from {}", path);
      if (path != own_cache) save_tada_cache(own_cache, key, prep);
      return prep;
    }
  }
  log->info("TADA preparation: co-occurrence and LIS over {} items (lambda {}, xi {}, th {}, top-k {})", dataset.num_items(),
            options.lis.lambda, options.lis.xi, options.lis.threshold, options.lis.top_k);
  const auto start = std::chrono::steady_clock::now();
  prep = prepare_tada(dataset, context.max_len, options.lis);
  log->info("TADA preparation took {:.1f}s; cached in {}",
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), own_cache);
  save_tada_cache(own_cache, key, prep);
  return prep;
}

}  // namespace

std::vector<std::string> method_cache_files(const MethodOptions& methods) {
  const auto names = parse_method_list(methods.list);
  if (std::find(names.begin(), names.end(), "tada") != names.end()) return {kTadaCacheFile};
  return {};
}

namespace {

std::shared_ptr<ItemRepresentation> fused_items(const MethodOptions& methods, const ItemTableShape& shape) {
  if (shape.random_padding_row)
    throw Error("--padding-row random applies to the plain ID embedding; FAERec's fused items keep a zero padding row");
  if (methods.faerec.semantic.empty()) throw Error("--method faerec needs --semantic VECTORS (see caudal embed)");
  auto semantic = load_item_vectors(methods.faerec.semantic, shape.num_items);
  semantic = at::constant_pad_nd(semantic, {0, 0, 0, shape.extra_tokens});
  return std::make_shared<FusedItems>(semantic, shape.hidden, shape.dropout, methods.faerec.scoring);
}

std::unique_ptr<Method> make_faerec(const MethodOptions& methods, const MethodContext& context) {
  // Checked once here: FAERec's losses read the fused representation's two branches.
  auto fused = std::dynamic_pointer_cast<FusedItems>(context.model.items_ptr());
  if (!fused) throw Error("--method faerec: the model was not built with FAERec's fused item representation");
  return std::make_unique<Faerec>(methods.faerec, std::move(fused), context.dataset.groups().item_train_count);
}

std::unique_ptr<Method> make_tada(const MethodOptions& methods, const MethodContext& context) {
  TadaOptions options = methods.tada;
  options.augment.max_len = context.max_len;
  options.mask_ratio = context.mask_ratio;
  return std::make_unique<Tada>(tada_preparation(options, context), context.dataset.groups().is_head_item, options,
                                context.trim);
}

struct MethodEntry {
  const char* name;
  bool mixes_batch_rows;
  // Its item representation, or nullptr for the plain ID embedding.
  std::shared_ptr<ItemRepresentation> (*item_representation)(const MethodOptions&, const ItemTableShape&);
  std::unique_ptr<Method> (*make)(const MethodOptions&, const MethodContext&);
};

const std::vector<MethodEntry>& registry() {
  static const std::vector<MethodEntry> entries = {
      {"faerec", false, fused_items, make_faerec},
      {"tada", true, nullptr, make_tada},
  };
  return entries;
}

const MethodEntry& entry(const std::string& name) {
  for (const auto& e : registry())
    if (name == e.name) return e;
  throw Error("unknown --method '" + name + "' (known: " + method_names() + ")");
}

}  // namespace

std::string method_names() {
  std::string names;
  for (const auto& e : registry()) names += (names.empty() ? "" : ", ") + std::string(e.name);
  return names;
}

std::vector<std::string> parse_method_list(const std::string& list) {
  std::vector<std::string> names;
  std::stringstream in(list);
  std::string name;
  while (std::getline(in, name, ',')) {
    if (name.empty()) continue;
    entry(name);  // known?
    if (std::find(names.begin(), names.end(), name) != names.end()) throw Error("--method names '" + name + "' twice");
    names.push_back(name);
  }
  return names;
}

bool methods_mix_batch_rows(const MethodOptions& methods) {
  const auto names = parse_method_list(methods.list);
  return std::any_of(names.begin(), names.end(), [](const std::string& name) { return entry(name).mixes_batch_rows; });
}

bool methods_replace_item_input(const MethodOptions& methods) {
  const auto names = parse_method_list(methods.list);
  return std::any_of(names.begin(), names.end(), [](const std::string& name) { return entry(name).item_representation; });
}

std::shared_ptr<ItemRepresentation> make_item_representation(const MethodOptions& methods, const ItemTableShape& shape) {
  for (const auto& name : parse_method_list(methods.list))
    if (auto* build = entry(name).item_representation) return build(methods, shape);
  return std::make_shared<IdEmbedding>(shape.num_items + shape.extra_tokens, shape.hidden, 0.02, shape.random_padding_row);
}

std::vector<std::unique_ptr<Method>> make_methods(const MethodOptions& methods, const MethodContext& context) {
  std::vector<std::unique_ptr<Method>> out;
  for (const auto& name : parse_method_list(methods.list)) out.push_back(entry(name).make(methods, context));
  return out;
}

}  // namespace caudal
