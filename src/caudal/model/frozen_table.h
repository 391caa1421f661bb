// A fixed item table (a buffer, never trained) used on both sides: semantic
// vectors for content-only scoring, and the frozen semantic table of FAERec.
#pragma once

#include "caudal/model/item_representation.h"

namespace caudal {

class FrozenTable : public ItemRepresentation {
 public:
  // table: [num_items + 1, d], row 0 padding.
  explicit FrozenTable(const torch::Tensor& table);
  torch::Tensor input(const torch::Tensor& ids) override;
  torch::Tensor output(const torch::Tensor& ids) override { return input(ids); }
  torch::Tensor output_table() override { return table_; }

 private:
  torch::Tensor table_;
};

}  // namespace caudal
