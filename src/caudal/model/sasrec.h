// SASRec (Kang & McAuley 2018) as docs/protocol.md ("Backbones") specifies it: learned absolute
// positions counted from the left of the max_len window, LayerNorm (eps
// 1e-12) and dropout on the input, then post-norm Transformer blocks (causal
// and key-padding masked attention, GELU feed-forward of width 4d).
// Init: normal(0, 0.02) weights, zero biases, LayerNorm weight 1.
//
// Without the causal mask the same network is BERT4Rec's bidirectional
// encoder (Sun et al. 2019, `--model bert4rec`): every position sees every
// real item, and the model is trained with the masked-item objective.
// Padding stays masked as a key and positions stay right-aligned, so padding
// can still be trimmed.
#pragma once

#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include "caudal/model/backbone.h"
#include "caudal/model/hash_dropout.h"

namespace caudal {

// One post-norm block: x = LN(x + Drop(Attn(x))); x = LN(x + Drop(FFN(x))).
class TransformerBlockImpl : public torch::nn::Module {
 public:
  TransformerBlockImpl(int64_t hidden, int64_t heads, double dropout, double attn_dropout);
  // attention_bias: [B, 1, T, T] added to the attention logits (0 or a large negative).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& attention_bias);
  // forward(x, attention_bias) of the last column only, [B, 1, d]: keys and
  // values of every column, the query and feed-forward of the last.
  torch::Tensor forward_last(const torch::Tensor& x, const torch::Tensor& attention_bias);

 private:
  int64_t hidden_, heads_;
  torch::nn::Linear qkv_{nullptr}, out_{nullptr}, ff_in_{nullptr}, ff_out_{nullptr};
  torch::nn::LayerNorm attn_norm_{nullptr}, ff_norm_{nullptr};
  HashDropout dropout_{nullptr}, attn_dropout_{nullptr};
};
TORCH_MODULE(TransformerBlock);

class SASRec : public Backbone {
 public:
  explicit SASRec(const BackboneConfig& config, bool causal = true);
  torch::Tensor embed_input(const torch::Tensor& item_vectors) override;
  torch::Tensor encode(const torch::Tensor& inputs, const torch::Tensor& keep) override;
  torch::Tensor encode_last(const torch::Tensor& inputs, const torch::Tensor& keep) override;
  torch::Tensor position_vectors(int64_t length) override;
  bool causal() const override { return causal_; }
  bool masked_item_objective() const override { return !causal_; }

 private:
  BackboneConfig config_;
  bool causal_;
  torch::nn::Embedding positions_{nullptr};
  torch::nn::LayerNorm input_norm_{nullptr};
  HashDropout input_dropout_{nullptr};
  torch::nn::ModuleList blocks_{nullptr};
};

// Additive attention bias for left-padded sequences: 0 where query t may see
// key s (s is a real item, and s <= t if causal), a large negative elsewhere.
// Finite on purpose: a padded query row then stays a harmless uniform average
// instead of NaN, which would leak through 0 * NaN into real positions.
torch::Tensor attention_bias(const torch::Tensor& keep, bool causal);

// normal(0, std) for Linear/Embedding weights, zero biases, LayerNorm (1, 0),
// applied to the submodules of `module` (callable from its constructor).
void init_transformer_weights(torch::nn::Module& module, double std = 0.02);

}  // namespace caudal
