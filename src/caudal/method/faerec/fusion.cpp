#include "caudal/method/faerec/fusion.h"

#include <ATen/ATen.h>
#include <torch/nn/modules/activation.h>

#include "caudal/core/error.h"
#include "caudal/semantic/lexical.h"

namespace caudal {

namespace nn = torch::nn;

FusedItems::FusedItems(const torch::Tensor& semantic, int64_t hidden, double dropout, FaerecScoring scoring)
    : scoring_(scoring) {
  const int64_t num_items = semantic.size(0) - 1, semantic_dim = semantic.size(1);
  if (semantic_dim < 2) throw Error("FAERec needs semantic vectors of at least 2 dimensions");
  semantic_ = register_buffer("semantic", semantic.detach().to(at::kFloat).clone());
  id_table_ = register_module("id_table", nn::Embedding(nn::EmbeddingOptions(num_items + 1, hidden).padding_idx(0)));
  {
    // ID embeddings start as the PCA projection of the semantic table.
    torch::NoGradGuard no_grad;
    id_table_->weight.copy_(pca_project(semantic_, hidden));
  }
  // Adapter and gate keep LibTorch's default Linear initialisation, as the
  // official code leaves them; only the gate's last bias starts at 0.
  adapter_ = register_module("adapter", nn::Sequential(nn::Linear(semantic_dim, semantic_dim / 2), nn::GELU(),
                                                       HashDropout(0.3), nn::Linear(semantic_dim / 2, hidden)));
  gate_in_ = register_module("gate_in", nn::Linear(2 * hidden, 2 * hidden));
  gate_out_ = register_module("gate_out", nn::Linear(2 * hidden, hidden));
  {
    torch::NoGradGuard no_grad;
    gate_out_->bias.zero_();
  }
  gate_dropout_ = register_module("gate_dropout", HashDropout(0.1));
  branch_dropout_ = register_module("branch_dropout", HashDropout(dropout));
  norm_ = register_module("norm", nn::LayerNorm(nn::LayerNormOptions({hidden}).eps(1e-12)));
}

torch::Tensor FusedItems::adapter_first_layer(const torch::Tensor& ids) {
  return adapter_->ptr(1)->as<nn::GELU>()->forward(adapter_->ptr(0)->as<nn::Linear>()->forward(at::embedding(semantic_, ids)));
}

torch::Tensor FusedItems::adapter_first_layer_in_step(const torch::Tensor& ids) {
  if (!step_rows_.defined()) step_rows_ = at::full({semantic_.size(0)}, -1, ids.options().dtype(at::kLong));
  auto rows = step_rows_.index_select(0, ids);
  const auto unmet = ids.masked_select(rows.lt(0));
  if (unmet.numel() > 0) {
    const auto fresh = std::get<0>(at::_unique(unmet));
    const int64_t kept = step_first_.defined() ? step_first_.size(0) : 0;
    step_rows_.index_put_({fresh}, at::arange(kept, kept + fresh.size(0), step_rows_.options()));
    const auto first = adapter_first_layer(fresh);
    step_first_ = step_first_.defined() ? at::cat({step_first_, first}) : first;
    rows = step_rows_.index_select(0, ids);
  }
  return step_first_.index_select(0, rows);
}

void FusedItems::end_step() {
  step_open_ = false;
  step_rows_.reset();
  step_first_.reset();
}

torch::Tensor FusedItems::semantic_vectors(const torch::Tensor& ids) {
  // The adapter's first layer and GELU depend on the item alone (its dropout
  // comes after them), so they run once per distinct item, not once per
  // occurrence: a batch repeats popular items and padding many times, and
  // this layer (D x D/2) was FAERec's largest cost after the alignment. In a
  // training step, once per distinct item of the whole step: its inputs,
  // scored items and aligned tokens are mostly the same items, looked up
  // three to four times. Dropout and the last layer still act per
  // occurrence, drawing what they drew.
  const auto flat = ids.flatten();
  torch::Tensor first;
  // Kept rows carry the graph of the mode they were made in: shared only
  // between lookups that build a graph, as a training step's do.
  if (step_open_ && at::GradMode::is_enabled() && flat.numel() > 0) {
    first = adapter_first_layer_in_step(flat);
  } else {
    const auto [distinct, occurrence] = at::_unique(flat, /*sorted=*/true, /*return_inverse=*/true);
    first = adapter_first_layer(distinct).index_select(0, occurrence);
  }
  auto out = adapter_->ptr(3)->as<nn::Linear>()->forward(adapter_->ptr(2)->as<HashDropout>()->forward(first));
  auto shape = ids.sizes().vec();
  shape.push_back(out.size(-1));
  return out.view(shape);
}

torch::Tensor FusedItems::gate(const torch::Tensor& id_branch, const torch::Tensor& semantic_branch) {
  auto h = at::gelu(gate_in_->forward(at::cat({id_branch, semantic_branch}, -1)));
  return at::sigmoid(gate_out_->forward(gate_dropout_->forward(h)));
}

torch::Tensor FusedItems::embedded_input(const torch::Tensor& ids, Backbone& backbone) {
  return embedded_inputs({ids}, backbone).front();
}

std::vector<torch::Tensor> FusedItems::embedded_inputs(const std::vector<torch::Tensor>& windows, Backbone& backbone) {
  // Every step of the fusion acts on one token at a time, so the windows'
  // tokens go through it together: one ID lookup (whose gradient is a dense
  // tensor of the table's size) and one adapter pass for the whole batch.
  std::vector<torch::Tensor> flat_ids, flat_positions;
  for (const auto& ids : windows) {
    flat_ids.push_back(ids.reshape({-1}));
    auto positions = backbone.position_vectors(ids.size(1));  // [T, d], or none
    if (positions.defined())
      flat_positions.push_back(positions.unsqueeze(0).expand({ids.size(0), -1, -1}).reshape({ids.numel(), -1}));
  }
  const auto ids = at::cat(flat_ids);
  auto id_branch = id_vectors(ids);
  auto semantic_branch = semantic_vectors(ids);
  if (!flat_positions.empty()) {
    const auto positions = at::cat(flat_positions);
    id_branch = id_branch + positions;
    semantic_branch = semantic_branch + positions;
  }
  id_branch = branch_dropout_->forward(id_branch);
  semantic_branch = branch_dropout_->forward(semantic_branch);
  auto g = gate(id_branch, semantic_branch);
  const auto fused = norm_->forward(g * id_branch + (1 - g) * semantic_branch);
  std::vector<torch::Tensor> out;
  int64_t offset = 0;
  for (const auto& window : windows) {
    out.push_back(fused.narrow(0, offset, window.numel()).view({window.size(0), window.size(1), -1}));
    offset += window.numel();
  }
  return out;
}

torch::Tensor FusedItems::output(const torch::Tensor& ids) {
  if (scoring_ == FaerecScoring::kOfficial) return id_vectors(ids);
  return norm_->forward(id_vectors(ids) + semantic_vectors(ids));
}

torch::Tensor FusedItems::output_table() {
  return norm_->forward(id_table_->weight + adapter_->forward(semantic_));
}

}  // namespace caudal
