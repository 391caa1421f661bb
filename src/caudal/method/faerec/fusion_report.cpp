#include "caudal/method/faerec/fusion_report.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/nn/module.h>

namespace caudal {

std::vector<FusionGroupSummary> summarise_fusion(FusedItems& items, Backbone& backbone, int64_t max_len,
                                                 const ItemUserGroups& groups) {
  torch::NoGradGuard no_grad;
  const auto num_items = static_cast<int64_t>(groups.item_train_count.size()) - 1;
  auto ids = at::arange(1, num_items + 1, at::kLong).to(items.semantic_table().device());
  auto id = items.id_vectors(ids), semantic = items.semantic_vectors(ids);
  auto positions = backbone.position_vectors(max_len);
  auto newest = positions.defined() ? positions[max_len - 1] : at::zeros({id.size(1)}, id.options());
  auto per_item = at::stack({items.gate(id + newest, semantic + newest).mean(1), id.norm(2, 1), semantic.norm(2, 1),
                             at::cosine_similarity(id, semantic, 1)},
                            1)
                      .to(at::kCPU, at::kDouble);  // [N, 4]

  std::vector<std::string> names{"head", "tail"};
  for (const char* bucket : bucket_names()) names.emplace_back(bucket);
  std::vector<std::vector<int64_t>> members(names.size());
  for (int64_t item = 1; item <= num_items; ++item) {
    members[groups.is_head_item[item] ? 0 : 1].push_back(item - 1);
    members[2 + popularity_bucket(groups.item_train_count[item])].push_back(item - 1);
  }
  std::vector<FusionGroupSummary> out;
  for (size_t g = 0; g < names.size(); ++g) {
    if (members[g].empty()) continue;
    auto mean = per_item.index_select(0, at::tensor(members[g], at::kLong)).mean(0);
    out.push_back({names[g], static_cast<int64_t>(members[g].size()), mean[0].item<double>(), mean[1].item<double>(),
                   mean[2].item<double>(), mean[3].item<double>()});
  }
  return out;
}

std::string format_fusion_table(const std::vector<FusionGroupSummary>& summary) {
  std::string out = fmt::format("{:<8}{:>8}{:>10}{:>9}{:>15}{:>20}\n", "items", "count", "ID share", "|e_id|",
                                "|adapter(sem)|", "cos(e_id, adapter)");
  for (const auto& row : summary)
    out += fmt::format("{:<8}{:>8}{:>10.3f}{:>9.3f}{:>15.3f}{:>20.3f}\n", row.group, row.items, row.id_share, row.id_norm,
                       row.semantic_norm, row.cosine);
  return out;
}

nlohmann::json to_json(const std::vector<FusionGroupSummary>& summary) {
  auto json = nlohmann::json::object();
  for (const auto& row : summary)
    json[row.group] = {{"items", row.items},
                       {"id_share", row.id_share},
                       {"id_norm", row.id_norm},
                       {"semantic_norm", row.semantic_norm},
                       {"cosine", row.cosine}};
  return json;
}

}  // namespace caudal
