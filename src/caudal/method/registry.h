// The method registry, the only code that knows method names (--method a,b):
// what each method needs of a run (its item representation, random batch
// composition) and how it is built. It takes the methods' own options and the
// places where preparations may be cached, never a whole run configuration.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "caudal/data/dataset.h"
#include "caudal/method/faerec/faerec.h"
#include "caudal/method/method.h"
#include "caudal/method/tada/tada.h"

namespace caudal {

// The methods of a run and their options.
struct MethodOptions {
  std::string list;  // comma-separated names ("" = the plain objective)
  TadaOptions tada;
  FaerecOptions faerec;
};

// "tada,faerec" -> {"tada", "faerec"}; throws on unknown or repeated names.
std::vector<std::string> parse_method_list(const std::string& list);
// "faerec, tada": the names the registry knows.
std::string method_names();

// Whether one of the methods mixes rows of a batch with each other (TADA's
// cross-mix): with --tada-mix-padding-states such a method reads the states
// at a partner's padded positions, which only padded batches keep.
bool methods_mix_batch_rows(const MethodOptions& methods);

// Whether one of the methods brings its own item representation (FAERec's
// fusion), whose input at padded positions is not a zero vector: a backbone
// that reads padding vectors (GRU4Rec) then needs its batches padded.
bool methods_replace_item_input(const MethodOptions& methods);

// The item table a model needs: num_items items plus `extra_tokens` rows
// after them (ids num_items + 1, ...: a mask token), width `hidden`.
struct ItemTableShape {
  int64_t num_items = 0;
  int64_t extra_tokens = 0;
  int64_t hidden = 64;
  double dropout = 0.2;             // the backbone's hidden dropout (FAERec's branches use it)
  bool random_padding_row = false;  // see IdEmbedding
};

// The item representation the methods call for: FAERec's fused
// representation (reading the semantic vectors; the extra rows get zero
// semantic vectors) or a plain ID embedding.
std::shared_ptr<ItemRepresentation> make_item_representation(const MethodOptions& methods, const ItemTableShape& shape);

// What building the methods of a run reads.
struct MethodContext {
  const Dataset& dataset;
  SequentialRecommender& model;  // built with make_item_representation(methods, ...)
  int64_t max_len = 50;
  double mask_ratio = 0.2;  // masking of a masked-item model's views
  bool trim = true;         // training batches are trimmed to their longest window
  // Where a preparation (TADA's candidates) is looked up, in order; it is
  // cached in the first (the run directory) when missing there.
  std::vector<std::string> cache_dirs;
  // Preparations received from another process (a distributed run's rank
  // 0): cache file name -> its contents, looked up before cache_dirs.
  std::map<std::string, std::string> received;
};

// The files (names in a cache directory) that the methods cache their
// preparations in: what a distributed run's rank 0 sends the other ranks
// (MethodContext::received), so that a preparation is computed once.
std::vector<std::string> method_cache_files(const MethodOptions& methods);

// Each method prepared once from the training data, before the first epoch.
std::vector<std::unique_ptr<Method>> make_methods(const MethodOptions& methods, const MethodContext& context);

}  // namespace caudal
