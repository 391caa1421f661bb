#include "caudal/model/fmlprec.h"

#include <ATen/ATen.h>

#include "caudal/core/error.h"
#include "caudal/model/sasrec.h"

namespace caudal {

namespace nn = torch::nn;

FrequencyFilterBlockImpl::FrequencyFilterBlockImpl(int64_t max_len, int64_t hidden, double dropout, bool causal)
    : max_len_(max_len), causal_(causal) {
  weight_ = register_parameter("filter", at::randn({max_len / 2 + 1, hidden, 2}) * 0.02);
  ff_in_ = register_module("ff_in", nn::Linear(hidden, 4 * hidden));
  ff_out_ = register_module("ff_out", nn::Linear(4 * hidden, hidden));
  filter_norm_ = register_module("filter_norm", nn::LayerNorm(nn::LayerNormOptions({hidden}).eps(1e-12)));
  ff_norm_ = register_module("ff_norm", nn::LayerNorm(nn::LayerNormOptions({hidden}).eps(1e-12)));
  dropout_ = register_module("dropout", HashDropout(dropout));
}

torch::Tensor FrequencyFilterBlockImpl::forward(const torch::Tensor& x) {
  const int64_t length = x.size(1);
  auto weight = at::view_as_complex(weight_);  // [L/2+1, d]
  at::Tensor filtered;
  if (!causal_) {
    filtered = at::fft_irfft(at::fft_rfft(x, length, 1, "ortho") * weight, length, 1, "ortho");
  } else {
    // The kernel the official filter convolves with (circularly), applied as
    // a linear, causal convolution: zero-pad to 2L so no lag wraps around,
    // and keep the first L outputs. Scaled so that lag 0..t terms match the
    // circular filter exactly.
    auto kernel = at::fft_irfft(weight, max_len_, 0, "ortho");  // [L, d] taps at lags 0..L-1
    const int64_t n = 2 * length;
    auto spectrum = at::fft_rfft(x, n, 1, "backward") * at::fft_rfft(kernel.narrow(0, 0, length), n, 0, "backward");
    filtered = at::fft_irfft(spectrum, n, 1, "backward").narrow(1, 0, length) / std::sqrt(static_cast<double>(max_len_));
  }
  auto h = filter_norm_->forward(x + dropout_->forward(filtered));
  auto ff = ff_out_->forward(at::gelu(ff_in_->forward(h)));
  return ff_norm_->forward(h + dropout_->forward(ff));
}

FMLPRec::FMLPRec(const BackboneConfig& config, bool causal) : config_(config), causal_(causal) {
  if (config.layers < 1) throw Error("--layers must be at least 1");
  positions_ = register_module("positions", nn::Embedding(config.max_len, config.hidden));
  input_norm_ = register_module("input_norm", nn::LayerNorm(nn::LayerNormOptions({config.hidden}).eps(1e-12)));
  input_dropout_ = register_module("input_dropout", HashDropout(config.dropout));
  blocks_ = register_module("blocks", nn::ModuleList());
  for (int64_t i = 0; i < config.layers; ++i)
    blocks_->push_back(FrequencyFilterBlock(config.max_len, config.hidden, config.dropout, causal));
  init_transformer_weights(*this);
}

torch::Tensor FMLPRec::position_vectors(int64_t length) {
  if (length != config_.max_len)
    throw Error("FMLP-Rec filters the whole window: expected " + std::to_string(config_.max_len) + " columns, got " +
                std::to_string(length));
  return positions_->weight;
}

torch::Tensor FMLPRec::embed_input(const torch::Tensor& item_vectors) {
  return input_dropout_->forward(input_norm_->forward(item_vectors + position_vectors(item_vectors.size(1))));
}

torch::Tensor FMLPRec::encode(const torch::Tensor& inputs, const torch::Tensor& keep) {
  (void)keep;  // the filter has no mask: it sees the padded window, as the official model does
  auto h = inputs;
  for (const auto& block : *blocks_) h = block->as<FrequencyFilterBlock>()->forward(h);
  return h;
}

}  // namespace caudal
