// The names of a run's users and items as its data's owner knows them: the
// original ids when the data came from `caudal prepare` (its item_map.tsv and
// user_map.tsv beside the sequence file), the sequence file's ids otherwise;
// and each item's text when an item side file is given.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "caudal/data/dataset.h"
#include "caudal/semantic/item_text.h"

namespace caudal {

class Catalogue {
 public:
  // data_path: the run's sequence file ("": no id maps); texts.columns empty: no item text.
  Catalogue(const Dataset& dataset, const std::string& data_path, const std::string& item_file = "",
            const ItemTextOptions& texts = {});

  int64_t num_items() const { return static_cast<int64_t>(item_names_.size()) - 1; }
  // Item id of a name; throws caudal::Error naming it when the catalogue has no such item.
  int64_t item_id(const std::string& name) const;
  const std::string& item_name(int64_t id) const { return item_names_.at(id); }
  // "" when the item has no text (or no item file was given).
  const std::string& item_text(int64_t id) const;
  bool has_text() const { return !texts_.empty(); }
  // The user's position in the dataset; throws caudal::Error naming it when unknown.
  int64_t user_position(const std::string& name) const;
  const std::string& user_name(int64_t position) const { return user_names_.at(position); }
  // Whether names are original ids from `caudal prepare`'s maps.
  bool original_ids() const { return original_ids_; }

 private:
  std::vector<std::string> item_names_;  // index = item id (0: padding)
  std::vector<std::string> user_names_;  // index = user position
  std::unordered_map<std::string, int64_t> item_ids_, user_positions_;
  std::vector<std::string> texts_;
  bool original_ids_ = false;
};

}  // namespace caudal
