// What a trained FAERec model makes of its items, by item group: the share of
// the fused input the gate gives the ID branch, the sizes of the two branches
// and how well they agree. It answers "does the model lean on the semantic
// side for rare items?" (`caudal inspect-fusion --run DIR`).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "caudal/data/dataset.h"
#include "caudal/method/faerec/fusion.h"
#include "caudal/model/backbone.h"

namespace caudal {

struct FusionGroupSummary {
  std::string group;         // "head", "tail", or a popularity bucket ("1-4", ..., "50+")
  int64_t items = 0;
  double id_share = 0;       // mean over items and dimensions of the gate g (1 - g goes to the semantic branch)
  double id_norm = 0;        // mean |e_id|
  double semantic_norm = 0;  // mean |adapter(e_sem)|
  double cosine = 0;         // mean cos(e_id, adapter(e_sem))
};

// Every item 1..N (N = groups.item_train_count.size() - 1), grouped as the
// evaluation groups them (head/tail items, popularity buckets); empty groups
// are left out. The gate is computed as for the newest input column: each
// branch plus the backbone's position vector of column max_len - 1 (when the
// backbone has positions). Call with the model in eval mode (no dropout).
std::vector<FusionGroupSummary> summarise_fusion(FusedItems& items, Backbone& backbone, int64_t max_len,
                                                 const ItemUserGroups& groups);

std::string format_fusion_table(const std::vector<FusionGroupSummary>& summary);
nlohmann::json to_json(const std::vector<FusionGroupSummary>& summary);

}  // namespace caudal
