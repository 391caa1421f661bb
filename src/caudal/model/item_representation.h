// Seam 1 of the design: how item ids become vectors, on the input side (what
// the backbone reads) and on the output side (what hidden states are scored
// against). Plain models use one ID embedding table for both; methods such as
// FAERec provide their own representation. Row/id 0 is padding and its vector
// is zero.
#pragma once

#include <vector>

#include <torch/nn/modules/embedding.h>

#include "caudal/model/backbone.h"

namespace caudal {

class ItemRepresentation : public torch::nn::Module {
 public:
  // [B, T] ids -> [B, T, d] inputs of the backbone's layers. By default the
  // backbone's own input layer over input(ids); a representation may build
  // its own (using the backbone's positions) instead.
  virtual torch::Tensor embedded_input(const torch::Tensor& ids, Backbone& backbone) {
    return backbone.embed_input(input(ids));
  }
  // Windows of different widths ([B_i, T_i] ids each, e.g. the length groups
  // of one batch) -> embedded_input of each.
  virtual std::vector<torch::Tensor> embedded_inputs(const std::vector<torch::Tensor>& windows, Backbone& backbone);
  // [B, T] ids -> [B, T, d] vectors fed to the backbone.
  virtual torch::Tensor input(const torch::Tensor& ids) = 0;
  // [...] ids -> [..., d] vectors that training scores targets and negatives with.
  virtual torch::Tensor output(const torch::Tensor& ids) = 0;
  // [num_items + 1, d]: every item's output vector, for full ranking.
  virtual torch::Tensor output_table() = 0;

  // The lookups of one training step's forward pass (inputs, scored items, a
  // method's own lookups) may share work: between begin_step() and
  // end_step() a representation may keep results that depend on the
  // parameters only, such as FusedItems' adapter layer per distinct item;
  // outside a step it keeps nothing. The trainer opens a step around each
  // batch's forward pass (StepScope), and the parameters do not change
  // inside it.
  virtual void begin_step() {}
  virtual void end_step() {}
};

// A step of `items` open for the lifetime of this object.
class StepScope {
 public:
  explicit StepScope(ItemRepresentation& items) : items_(items) { items_.begin_step(); }
  ~StepScope() { items_.end_step(); }
  StepScope(const StepScope&) = delete;
  StepScope& operator=(const StepScope&) = delete;

 private:
  ItemRepresentation& items_;
};

// A learned table shared by input and output (the protocol's backbones),
// initialised normal(0, std), with a never-updated padding row that is zero,
// or, with `random_padding`, drawn like any other row (what the official
// code's tables do: GRU4Rec and FMLP-Rec read the padded columns, so their
// official weights only reproduce the official numbers with that vector).
class IdEmbedding : public ItemRepresentation {
 public:
  IdEmbedding(int64_t num_items, int64_t dim, double init_std = 0.02, bool random_padding = false);
  torch::Tensor input(const torch::Tensor& ids) override { return table_->forward(ids); }
  torch::Tensor output(const torch::Tensor& ids) override { return table_->forward(ids); }
  torch::Tensor output_table() override { return table_->weight; }
  // One lookup for all windows: the gradient of a lookup is a dense tensor
  // of the table's size, so a lookup per window would cost more than the
  // small windows of a random batch themselves.
  std::vector<torch::Tensor> embedded_inputs(const std::vector<torch::Tensor>& windows, Backbone& backbone) override;

 private:
  torch::nn::Embedding table_{nullptr};
};

}  // namespace caudal
