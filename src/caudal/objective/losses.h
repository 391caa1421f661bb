// The recommendation losses (docs/protocol.md, "Objective"), shared by every
// backbone and method. Next-item BCE:
// mean over real positions of -log s(h.e_target) - log(1 - s(h.e_negative)).
#pragma once

#include <ATen/core/Tensor.h>

namespace caudal {

// hidden, target_vectors, negative_vectors: [..., d]; mask: [...] bool, true at
// positions that count. Uses log-sigmoid (stable for large logits) where the
// official code adds 1e-24 inside the log.
at::Tensor next_item_bce(const at::Tensor& hidden, const at::Tensor& target_vectors, const at::Tensor& negative_vectors,
                         const at::Tensor& mask);

// Softmax cross-entropy of each target among all items. scores: [P, num_items
// + 1], column 0 the padding id, which is never a candidate; targets: [P] ids
// in 1..num_items. Mean over the P positions.
at::Tensor all_items_cross_entropy(const at::Tensor& scores, const at::Tensor& targets);

}  // namespace caudal
