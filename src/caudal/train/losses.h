// The next-item objective of protocol.md, shared by all backbones:
// mean over real positions of -log s(h.e_target) - log(1 - s(h.e_negative)).
#pragma once

#include <ATen/core/Tensor.h>

namespace caudal {

// hidden, target_vectors, negative_vectors: [..., d]; mask: [...] bool, true at
// positions that count. Uses log-sigmoid (stable for large logits) where the
// official code adds 1e-24 inside the log.
at::Tensor next_item_bce(const at::Tensor& hidden, const at::Tensor& target_vectors, const at::Tensor& negative_vectors,
                         const at::Tensor& mask);

}  // namespace caudal
