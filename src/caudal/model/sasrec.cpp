#include "caudal/model/sasrec.h"

#include <ATen/ATen.h>
#include <torch/nn/functional/activation.h>

#include <cmath>

#include "caudal/core/error.h"
#include "caudal/model/batched_matmul.h"

namespace caudal {

namespace nn = torch::nn;

TransformerBlockImpl::TransformerBlockImpl(int64_t hidden, int64_t heads, double dropout, double attn_dropout)
    : hidden_(hidden), heads_(heads) {
  if (heads < 1 || hidden % heads != 0)
    throw Error("--hidden (" + std::to_string(hidden) + ") must be a multiple of --heads (" + std::to_string(heads) + ")");
  // One projection for queries, keys and values: a single matrix product
  // instead of three, the same function as three separate Linear layers.
  qkv_ = register_module("qkv", nn::Linear(hidden, 3 * hidden));
  out_ = register_module("out", nn::Linear(hidden, hidden));
  ff_in_ = register_module("ff_in", nn::Linear(hidden, 4 * hidden));
  ff_out_ = register_module("ff_out", nn::Linear(4 * hidden, hidden));
  attn_norm_ = register_module("attn_norm", nn::LayerNorm(nn::LayerNormOptions({hidden}).eps(1e-12)));
  ff_norm_ = register_module("ff_norm", nn::LayerNorm(nn::LayerNormOptions({hidden}).eps(1e-12)));
  dropout_ = register_module("dropout", HashDropout(dropout));
  attn_dropout_ = register_module("attn_dropout", HashDropout(attn_dropout));
}

torch::Tensor TransformerBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& attention_bias) {
  const int64_t batch = x.size(0), length = x.size(1), head_dim = hidden_ / heads_;
  // [B, T, 3d] -> 3 x [B, heads, T, head_dim]
  auto qkv = qkv_->forward(x).view({batch, length, 3, heads_, head_dim}).permute({2, 0, 3, 1, 4});
  auto q = qkv[0], k = qkv[1], v = qkv[2];
  auto logits = batched_matmul(q, k.transpose(-2, -1)).mul_(1.0 / std::sqrt(static_cast<double>(head_dim)));
  auto probs = attn_dropout_->forward(at::softmax(logits + attention_bias, -1));
  auto context = batched_matmul(probs, v).transpose(1, 2).reshape({batch, length, hidden_});
  auto h = attn_norm_->forward(x + dropout_->forward(out_->forward(context)));
  auto ff = ff_out_->forward(at::gelu(ff_in_->forward(h)));
  return ff_norm_->forward(h + dropout_->forward(ff));
}

torch::Tensor TransformerBlockImpl::forward_last(const torch::Tensor& x, const torch::Tensor& attention_bias) {
  const int64_t batch = x.size(0), length = x.size(1), head_dim = hidden_ / heads_;
  const auto &weight = qkv_->weight, &bias = qkv_->bias;  // rows: queries, keys, values (see forward)
  auto kv = at::linear(x, weight.narrow(0, hidden_, 2 * hidden_), bias.narrow(0, hidden_, 2 * hidden_))
                .view({batch, length, 2, heads_, head_dim})
                .permute({2, 0, 3, 1, 4});
  auto last = x.narrow(1, length - 1, 1);
  auto q = at::linear(last, weight.narrow(0, 0, hidden_), bias.narrow(0, 0, hidden_))
               .view({batch, 1, heads_, head_dim})
               .transpose(1, 2);
  auto logits = batched_matmul(q, kv[0].transpose(-2, -1)).mul_(1.0 / std::sqrt(static_cast<double>(head_dim)));
  auto probs = attn_dropout_->forward(at::softmax(logits + attention_bias.narrow(2, length - 1, 1), -1));
  auto context = batched_matmul(probs, kv[1]).transpose(1, 2).reshape({batch, 1, hidden_});
  auto h = attn_norm_->forward(last + dropout_->forward(out_->forward(context)));
  auto ff = ff_out_->forward(at::gelu(ff_in_->forward(h)));
  return ff_norm_->forward(h + dropout_->forward(ff));
}

torch::Tensor attention_bias(const torch::Tensor& keep, bool causal) {
  const int64_t length = keep.size(1);
  auto allowed = keep.unsqueeze(1).expand({keep.size(0), length, length});  // [B, T(query), T(key)]
  if (causal) allowed = allowed & at::ones({length, length}, keep.options().dtype(at::kBool)).tril().unsqueeze(0);
  return at::zeros(allowed.sizes(), keep.options().dtype(at::kFloat)).masked_fill_(allowed.logical_not(), -1e9).unsqueeze(1);
}

void init_transformer_weights(nn::Module& module, double std) {
  torch::NoGradGuard no_grad;
  for (auto& child : module.modules(/*include_self=*/false)) {
    if (auto* linear = child->as<nn::Linear>()) {
      linear->weight.normal_(0.0, std);
      if (linear->bias.defined()) linear->bias.zero_();
    } else if (auto* embedding = child->as<nn::Embedding>()) {
      embedding->weight.normal_(0.0, std);
    } else if (auto* norm = child->as<nn::LayerNorm>()) {
      norm->weight.fill_(1.0);
      norm->bias.zero_();
    }
  }
}

SASRec::SASRec(const BackboneConfig& config, bool causal) : config_(config), causal_(causal) {
  if (config.layers < 1) throw Error("--layers must be at least 1");
  if (config.max_len < 1) throw Error("--max-len must be at least 1");
  positions_ = register_module("positions", nn::Embedding(config.max_len, config.hidden));
  input_norm_ = register_module("input_norm", nn::LayerNorm(nn::LayerNormOptions({config.hidden}).eps(1e-12)));
  input_dropout_ = register_module("input_dropout", HashDropout(config.dropout));
  blocks_ = register_module("blocks", nn::ModuleList());
  for (int64_t i = 0; i < config.layers; ++i)
    blocks_->push_back(TransformerBlock(config.hidden, config.heads, config.dropout, config.attn_dropout));
  init_transformer_weights(*this);
}

torch::Tensor SASRec::position_vectors(int64_t length) {
  if (length > config_.max_len)
    throw Error("sequence window of " + std::to_string(length) + " exceeds max_len " + std::to_string(config_.max_len));
  // Right-aligned positions: the newest item always gets position max_len-1.
  return positions_->weight.narrow(0, config_.max_len - length, length);
}

torch::Tensor SASRec::embed_input(const torch::Tensor& item_vectors) {
  return input_dropout_->forward(input_norm_->forward(item_vectors + position_vectors(item_vectors.size(1))));
}

torch::Tensor SASRec::encode(const torch::Tensor& inputs, const torch::Tensor& keep) {
  auto h = inputs;
  auto bias = attention_bias(keep, causal_);
  for (const auto& block : *blocks_) h = block->as<TransformerBlock>()->forward(h, bias);
  return h;
}

torch::Tensor SASRec::encode_last(const torch::Tensor& inputs, const torch::Tensor& keep) {
  // Only the last block is cut: every earlier one feeds the last column's keys and values.
  auto h = inputs;
  auto bias = attention_bias(keep, causal_);
  const size_t last = blocks_->size() - 1;
  for (size_t i = 0; i < last; ++i) h = blocks_[i]->as<TransformerBlock>()->forward(h, bias);
  return blocks_[last]->as<TransformerBlock>()->forward_last(h, bias).squeeze(1);
}

}  // namespace caudal
