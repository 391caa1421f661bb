#include "caudal/method/method.h"

#include <ATen/ATen.h>

namespace caudal {

void TrainingStep::encode_batch(bool every_position) {
  host_targets = targets.to(at::kCPU).contiguous();
  const auto* target = host_targets.data_ptr<int64_t>();
  positions.clear();
  for (int64_t p = 0; p < host_targets.numel(); ++p)
    if (every_position || target[p] != 0) positions.push_back(p);
  const auto index = at::tensor(positions, at::kLong).to(device);
  position_targets = targets.flatten().index_select(0, index);
  hidden = encode_at(inputs, positions);
  target_vectors = model.items().output(position_targets);
  negative_vectors = model.items().output(negatives.flatten().index_select(0, index));
}

at::Tensor TrainingStep::encode_at(const at::Tensor& ids, const std::vector<int64_t>& positions) const {
  if (length_groups) return encode_positions_in_length_groups(model, ids, positions);
  auto hidden = model.encode(ids);
  return hidden.reshape({-1, hidden.size(-1)}).index_select(0, at::tensor(positions, at::kLong).to(ids.device()));
}

}  // namespace caudal
