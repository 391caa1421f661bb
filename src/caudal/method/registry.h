// Builds the methods a run names (--method a,b): each is prepared once from
// the training data before the first epoch.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "caudal/data/dataset.h"
#include "caudal/method/method.h"
#include "caudal/train/config.h"
#include "caudal/train/run_dir.h"

namespace caudal {

// "tada,faerec" -> {"tada", "faerec"}; throws on unknown or repeated names.
std::vector<std::string> parse_method_list(const std::string& list);

// The item representation the run's methods call for: FAERec's fused
// representation (reading the semantic vectors) or a plain ID embedding.
// `extra_tokens` rows follow the items (ids num_items + 1, ...: a mask token);
// their semantic vectors are zero.
std::shared_ptr<ItemRepresentation> make_item_representation(const TrainConfig& config, int64_t num_items,
                                                             int64_t extra_tokens = 0);

std::vector<std::unique_ptr<Method>> make_methods(const TrainConfig& config, const Dataset& dataset, const RunDirectory& run,
                                                  bool trim);

}  // namespace caudal
