#include "caudal/infer/catalogue.h"

#include <filesystem>

#include "caudal/core/error.h"
#include "caudal/data/prepare.h"

namespace caudal {
namespace {

// id -> original name, from a map written by `caudal prepare`.
std::vector<std::string> names_from_map(const std::string& path, int64_t count) {
  std::vector<std::string> names(count + 1);
  for (const auto& [name, id] : read_id_map(path)) {
    if (id < 1 || id > count) throw Error(path + ": id " + std::to_string(id) + " is outside the run's data (1.." +
                                          std::to_string(count) + "); is it the map of another data file?");
    names[id] = name;
  }
  return names;
}

}  // namespace

Catalogue::Catalogue(const Dataset& dataset, const std::string& data_path, const std::string& item_file,
                     const ItemTextOptions& texts) {
  const auto dir = std::filesystem::path(data_path).parent_path();
  const auto item_map = (dir / "item_map.tsv").string(), user_map = (dir / "user_map.tsv").string();
  original_ids_ = !data_path.empty() && std::filesystem::exists(item_map) && std::filesystem::exists(user_map);
  if (original_ids_) {
    item_names_ = names_from_map(item_map, dataset.num_items());
    const auto by_file_id = names_from_map(user_map, dataset.num_users());
    for (int64_t u = 0; u < dataset.num_users(); ++u) {
      const int64_t id = dataset.user_id(u);
      if (id < 1 || id >= static_cast<int64_t>(by_file_id.size()))
        throw Error(user_map + ": no user " + std::to_string(id) + " of " + data_path);
      user_names_.push_back(by_file_id[id]);
    }
  } else {
    item_names_.resize(dataset.num_items() + 1);
    for (int64_t i = 1; i <= dataset.num_items(); ++i) item_names_[i] = std::to_string(i);
    for (int64_t u = 0; u < dataset.num_users(); ++u) user_names_.push_back(std::to_string(dataset.user_id(u)));
  }
  for (int64_t i = 1; i <= dataset.num_items(); ++i) item_ids_.emplace(item_names_[i], i);
  for (int64_t u = 0; u < dataset.num_users(); ++u) user_positions_.emplace(user_names_[u], u);
  if (!item_file.empty() && !texts.columns.empty()) {
    ItemTextOptions options = texts;
    if (options.id_map.empty() && original_ids_) options.id_map = item_map;
    texts_ = load_item_texts(item_file, options, dataset.num_items()).text;
  }
}

int64_t Catalogue::item_id(const std::string& name) const {
  auto found = item_ids_.find(name);
  if (found == item_ids_.end())
    throw Error("unknown item '" + name + "'" +
                (original_ids_ ? " (items are named by their original ids, from item_map.tsv)" : ""));
  return found->second;
}

const std::string& Catalogue::item_text(int64_t id) const {
  static const std::string none;
  return texts_.empty() ? none : texts_.at(id);
}

int64_t Catalogue::user_position(const std::string& name) const {
  auto found = user_positions_.find(name);
  if (found == user_positions_.end()) throw Error("unknown user '" + name + "'");
  return found->second;
}

}  // namespace caudal
