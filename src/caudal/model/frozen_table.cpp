#include "caudal/model/frozen_table.h"

#include <ATen/ATen.h>

namespace caudal {

FrozenTable::FrozenTable(const torch::Tensor& table) { table_ = register_buffer("table", table.detach().clone()); }

torch::Tensor FrozenTable::input(const torch::Tensor& ids) { return at::embedding(table_, ids); }

}  // namespace caudal
