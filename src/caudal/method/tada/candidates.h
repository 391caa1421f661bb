// TADA's preparation over the training data (docs/tada.md, "Preparation"): user
// preference groups, co-occurrence sets, LIS neighbours, and each item's
// candidate set (co-occurrence union LIS neighbours). Computed once per
// dataset and options; cached on disk because the LIS solve dominates.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "caudal/data/dataset.h"
#include "caudal/method/tada/lis.h"

namespace caudal {

struct TadaPreparation {
  std::vector<uint8_t> tail_preference;          // per user: >= half of its training part are tail items
  std::vector<std::vector<int64_t>> candidates;  // per item id (index 0 unused), sorted, distinct
};

// Training parts s[0..n-3], the last max_len items of each (what LIS and the
// co-occurrence sets are built from).
std::vector<std::vector<int64_t>> recent_training_parts(const Dataset& dataset, int64_t max_len);

// Co-occurrence sets: a head item gets the tail items right before or after
// it; a tail item gets every item right before it.
std::vector<std::vector<int64_t>> cooccurrence_sets(const std::vector<std::vector<int64_t>>& parts,
                                                    const std::vector<uint8_t>& is_head_item, int64_t num_items);

// Preference group of each user from its whole training part.
std::vector<uint8_t> tail_preference(const Dataset& dataset);

// Everything above, with the LIS solved by lis_neighbours.
TadaPreparation prepare_tada(const Dataset& dataset, int64_t max_len, const LisOptions& options);

// Cache: a JSON file keyed by the dataset contents and the options; load
// returns false when the file is absent or was made for other data/options.
void save_tada_cache(const std::string& path, const std::string& key, const TadaPreparation& prep);
bool load_tada_cache(const std::string& path, const std::string& key, TadaPreparation& prep);
// The same from the file's contents; `origin` names them in errors.
bool parse_tada_cache(const std::string& text, const std::string& origin, const std::string& key, TadaPreparation& prep);
std::string tada_cache_key(const Dataset& dataset, int64_t max_len, const LisOptions& options);

}  // namespace caudal
