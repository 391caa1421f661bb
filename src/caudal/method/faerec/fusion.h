// FAERec's item representation (docs/faerec.md, "Model"): a trainable ID table
// (initialised with the PCA of the semantic table), a frozen semantic table
// with a trainable adapter, and a dimension-wise gate that fuses both into
// the backbone's input:
//   id  = Dropout(e_id + p)            p = the backbone's position vectors
//   sem = Dropout(adapter(e_sem) + p)  adapter: Linear(D, D/2) GELU Dropout(0.3) Linear(D/2, d)
//   g   = sigmoid(W2 Dropout0.1(GELU(W1 [id ; sem] + b1)) + b2), b2 = 0 at start
//   input = LayerNorm(g * id + (1 - g) * sem)
// Output side (what hidden states are scored against):
//   consistent: LayerNorm(e_id + adapter(e_sem)) in training and ranking;
//   official:   raw e_id in training, LayerNorm(e_id + adapter(e_sem)) in ranking.
#pragma once

#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include "caudal/model/hash_dropout.h"
#include "caudal/model/item_representation.h"

namespace caudal {

enum class FaerecScoring { kConsistent, kOfficial };

class FusedItems : public ItemRepresentation {
 public:
  // semantic: [num_items + 1, D] (row 0 zero), kept frozen. hidden: d.
  // dropout: the branches' dropout (the backbone's hidden dropout).
  FusedItems(const torch::Tensor& semantic, int64_t hidden, double dropout, FaerecScoring scoring);

  torch::Tensor embedded_input(const torch::Tensor& ids, Backbone& backbone) override;
  std::vector<torch::Tensor> embedded_inputs(const std::vector<torch::Tensor>& windows, Backbone& backbone) override;
  torch::Tensor input(const torch::Tensor& ids) override { return id_table_->forward(ids); }
  torch::Tensor output(const torch::Tensor& ids) override;
  torch::Tensor output_table() override;
  void begin_step() override { step_open_ = true; }
  void end_step() override;

  // The two views aligned by FAERec's losses, for any ids: e_id and adapter(e_sem).
  torch::Tensor id_vectors(const torch::Tensor& ids) { return id_table_->forward(ids); }
  torch::Tensor semantic_vectors(const torch::Tensor& ids);
  // The gate for given branch inputs [.., d] each -> [.., d] in (0, 1).
  torch::Tensor gate(const torch::Tensor& id_branch, const torch::Tensor& semantic_branch);
  const torch::Tensor& semantic_table() const { return semantic_; }

 private:
  // adapter(e_sem) up to the dropout, which acts per occurrence: [K] ids -> [K, D/2].
  torch::Tensor adapter_first_layer(const torch::Tensor& ids);
  // The same for [N] ids in an open step, from the rows kept for the step.
  torch::Tensor adapter_first_layer_in_step(const torch::Tensor& ids);

  torch::Tensor semantic_;  // buffer: saved with the model, never trained
  torch::nn::Embedding id_table_{nullptr};
  torch::nn::Sequential adapter_{nullptr};
  torch::nn::Linear gate_in_{nullptr}, gate_out_{nullptr};
  HashDropout gate_dropout_{nullptr}, branch_dropout_{nullptr};
  torch::nn::LayerNorm norm_{nullptr};
  FaerecScoring scoring_;
  // In an open step: step_first_ holds adapter_first_layer of every item met
  // so far, and step_rows_[id] its row there (-1: not met yet).
  bool step_open_ = false;
  torch::Tensor step_rows_, step_first_;
};

}  // namespace caudal
