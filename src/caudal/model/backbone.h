// Seam 2 of the design: a backbone turns a sequence of item vectors into one
// hidden state per position. It never sees item ids, losses or methods; the
// item representation is handed to it (seam 1, item_representation.h).
//
// Contract:
//   forward(item_vectors [B, T, d], keep [B, T] bool) -> hidden [B, T, d],
//   in two steps: embed_input (the architecture's own input layer, e.g.
//   positions + LayerNorm + dropout) then encode (the layers). An item
//   representation that builds its own input layer (FAERec's fusion) calls
//   position_vectors and encode directly.
//   - sequences are left-padded: the newest item is in column T-1, T <= max_len;
//   - `keep` is true at real items; vectors at padded positions are arbitrary;
//   - unless needs_full_window(), the hidden state at a real position does not
//     depend on padded positions, nor on how many padding columns precede the
//     sequence, so batches may be trimmed to their longest sequence;
//   - if causal(), position t only sees positions <= t;
//   - reads_padding_vectors(): the states depend on the item vectors at padded
//     positions (the padding row), as GRU4Rec's recurrence and FMLP-Rec's
//     filter do; a model imported with a non-zero padding row needs it kept;
//   - if masked_item_objective() (BERT4Rec), the model is trained to recover
//     masked items rather than the next one, and queries end with a mask
//     token (see SequentialRecommender); such a backbone is not causal.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <torch/nn/module.h>

namespace caudal {

// FMLP-Rec's filter: causal, or circular (the official filter; see fmlprec.h).
enum class FmlpFilter { kCausal, kCircular };

struct BackboneConfig {
  std::string name = "sasrec";
  int64_t hidden = 64;
  int64_t layers = 2;
  int64_t heads = 2;
  int64_t max_len = 50;
  double dropout = 0.2;       // hidden dropout
  double attn_dropout = 0.2;  // attention-probability dropout
  FmlpFilter fmlp_filter = FmlpFilter::kCausal;
};

class Backbone : public torch::nn::Module {
 public:
  torch::Tensor forward(const torch::Tensor& item_vectors, const torch::Tensor& keep) {
    return encode(embed_input(item_vectors), keep);
  }
  // [B, T, d] item vectors -> [B, T, d] inputs of the first layer.
  virtual torch::Tensor embed_input(const torch::Tensor& item_vectors) = 0;
  // [B, T, d] inputs -> [B, T, d] hidden states.
  virtual torch::Tensor encode(const torch::Tensor& inputs, const torch::Tensor& keep) = 0;
  // [B, T, d] inputs -> [B, d]: encode's state of the last column, what
  // ranking reads; a backbone may skip the work only other columns need.
  virtual torch::Tensor encode_last(const torch::Tensor& inputs, const torch::Tensor& keep) {
    return encode(inputs, keep).select(1, inputs.size(1) - 1);
  }
  // [T, d] position vectors of a right-aligned window of T columns, or an
  // undefined tensor when the architecture has no positions.
  virtual torch::Tensor position_vectors(int64_t length) { (void)length; return {}; }
  // True when padding cannot be trimmed (e.g. a filter over the whole window).
  virtual bool needs_full_window() const { return false; }
  virtual bool reads_padding_vectors() const { return false; }
  virtual bool causal() const { return true; }
  virtual bool masked_item_objective() const { return false; }
};

// The model zoo, the only code that knows backbone names: builds the backbone
// a config names; throws caudal::Error listing the known names otherwise.
std::shared_ptr<Backbone> make_backbone(const BackboneConfig& config);
// Throws as make_backbone does for an unknown name.
void check_backbone_name(const std::string& name);
// "sasrec, gru4rec, ...": the names make_backbone knows.
std::string backbone_names();

}  // namespace caudal
