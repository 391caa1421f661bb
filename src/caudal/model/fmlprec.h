// FMLP-Rec (Zhou et al. 2022) as TADA's runs use it: SASRec's embedding layer
// and feed-forward, with each attention sub-layer replaced by a learnable
// frequency filter: rFFT over the padded window of max_len, an elementwise
// complex weight of shape (max_len/2 + 1, d), inverse FFT, dropout, residual,
// LayerNorm.
//
// The filter is a convolution of each channel with a kernel of max_len taps.
// As written in the official code the convolution is circular, so position t
// also sees positions after t (and, through the wrap-around, the padding):
// during training, where every position predicts the next item, that lets a
// position see its own target. The default here keeps the same parameters
// but applies the kernel causally (zero-padded FFT of twice the window, lags
// 0..t only); `circular` reproduces the official filter.
//
// Either way the filter spans the whole padded window, so padding cannot be
// trimmed: needs_full_window() is true.
#pragma once

#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include "caudal/model/backbone.h"
#include "caudal/model/hash_dropout.h"

namespace caudal {

class FrequencyFilterBlockImpl : public torch::nn::Module {
 public:
  FrequencyFilterBlockImpl(int64_t max_len, int64_t hidden, double dropout, bool causal);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  int64_t max_len_;
  bool causal_;
  torch::Tensor weight_;  // [max_len/2 + 1, hidden, 2]: real and imaginary parts
  torch::nn::Linear ff_in_{nullptr}, ff_out_{nullptr};
  torch::nn::LayerNorm filter_norm_{nullptr}, ff_norm_{nullptr};
  HashDropout dropout_{nullptr};
};
TORCH_MODULE(FrequencyFilterBlock);

class FMLPRec : public Backbone {
 public:
  FMLPRec(const BackboneConfig& config, bool causal);
  torch::Tensor embed_input(const torch::Tensor& item_vectors) override;
  torch::Tensor encode(const torch::Tensor& inputs, const torch::Tensor& keep) override;
  torch::Tensor position_vectors(int64_t length) override;
  bool needs_full_window() const override { return true; }
  bool reads_padding_vectors() const override { return true; }
  bool causal() const override { return causal_; }

 private:
  BackboneConfig config_;
  bool causal_;
  torch::nn::Embedding positions_{nullptr};
  torch::nn::LayerNorm input_norm_{nullptr};
  HashDropout input_dropout_{nullptr};
  torch::nn::ModuleList blocks_{nullptr};
};

}  // namespace caudal
