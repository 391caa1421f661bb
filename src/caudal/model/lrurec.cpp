#include "caudal/model/lrurec.h"

#include <ATen/ATen.h>

#include <cmath>
#include <vector>

#include "caudal/core/error.h"

namespace caudal {

namespace nn = torch::nn;

namespace {

constexpr double kRadiusMin = 0.8, kRadiusMax = 0.99;

// Normal(0, std) truncated to [-2 std, 2 std] by inverting the CDF, as the
// official initialisation of the complex projections.
void truncated_normal_(at::Tensor& w, double std) {
  const double lo = std::erf(-2.0 / std::sqrt(2.0)), hi = std::erf(2.0 / std::sqrt(2.0));
  w.uniform_(lo, hi).erfinv_().mul_(std * std::sqrt(2.0));
}

}  // namespace

std::pair<torch::Tensor, torch::Tensor> linear_recurrence(const torch::Tensor& u_re, const torch::Tensor& u_im,
                                                          const torch::Tensor& nu, const torch::Tensor& theta) {
  // Real arithmetic: LibTorch's complex autograd on CPU made this 3x slower.
  auto magnitude = at::exp(-nu);
  auto lambda_re = magnitude * at::cos(theta), lambda_im = magnitude * at::sin(theta);
  std::vector<at::Tensor> re, im;
  re.reserve(u_re.size(1));
  im.reserve(u_re.size(1));
  auto h_re = u_re.select(1, 0), h_im = u_im.select(1, 0);
  re.push_back(h_re);
  im.push_back(h_im);
  for (int64_t t = 1; t < u_re.size(1); ++t) {
    auto next_re = lambda_re * h_re - lambda_im * h_im + u_re.select(1, t);
    h_im = lambda_re * h_im + lambda_im * h_re + u_im.select(1, t);
    h_re = next_re;
    re.push_back(h_re);
    im.push_back(h_im);
  }
  return {at::stack(re, 1), at::stack(im, 1)};
}

LruBlockImpl::LruBlockImpl(int64_t hidden, double dropout) {
  const int64_t width = 2 * hidden;
  // Ring initialisation: |lambda| uniform-in-area between the radii, phase in [0, 2 pi).
  auto u1 = at::rand({width}, at::kDouble), u2 = at::rand({width}, at::kDouble);
  auto nu_log = at::log(-0.5 * at::log(u1 * (kRadiusMax * kRadiusMax - kRadiusMin * kRadiusMin) + kRadiusMin * kRadiusMin));
  auto theta_log = at::log(u2 * 2 * M_PI);
  auto gamma_log = at::log(at::sqrt(1 - at::exp(-2 * at::exp(nu_log))));
  params_log_ = register_parameter("params_log", at::stack({nu_log, theta_log, gamma_log}).to(at::kFloat));
  in_re_ = register_module("in_re", nn::Linear(hidden, width));
  in_im_ = register_module("in_im", nn::Linear(hidden, width));
  out_re_ = register_module("out_re", nn::Linear(width, hidden));
  out_im_ = register_module("out_im", nn::Linear(nn::LinearOptions(width, hidden).bias(false)));
  ff_in_ = register_module("ff_in", nn::Linear(hidden, 4 * hidden));
  ff_out_ = register_module("ff_out", nn::Linear(4 * hidden, hidden));
  lru_norm_ = register_module("lru_norm", nn::LayerNorm(nn::LayerNormOptions({hidden}).eps(1e-12)));
  ff_norm_ = register_module("ff_norm", nn::LayerNorm(nn::LayerNormOptions({hidden}).eps(1e-12)));
  dropout_ = register_module("dropout", HashDropout(dropout));
  torch::NoGradGuard no_grad;
  for (auto* linear : {&in_re_, &in_im_, &out_re_, &out_im_}) {
    truncated_normal_((*linear)->weight, 0.02);
    if ((*linear)->bias.defined()) (*linear)->bias.zero_();
  }
  for (auto* linear : {&ff_in_, &ff_out_}) {
    (*linear)->weight.normal_(0.0, 0.02);
    (*linear)->bias.zero_();
  }
}

torch::Tensor LruBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& keep) {
  auto params = at::exp(params_log_);
  auto nu = params[0], theta = params[1], gamma = params[2];
  auto real = keep.unsqueeze(-1).to(x.scalar_type());  // no input, hence no carry, from padding
  auto u_re = in_re_->forward(x) * gamma * real, u_im = in_im_->forward(x) * gamma * real;
  auto [h_re, h_im] = linear_recurrence(u_re, u_im, nu, theta);
  auto y = lru_norm_->forward(x + dropout_->forward(out_re_->forward(h_re) - out_im_->forward(h_im)));
  auto ff = ff_out_->forward(at::gelu(ff_in_->forward(y)));
  return ff_norm_->forward(y + dropout_->forward(ff));
}

LRURec::LRURec(const BackboneConfig& config) : config_(config) {
  if (config.layers < 1) throw Error("--layers must be at least 1");
  input_norm_ = register_module("input_norm", nn::LayerNorm(nn::LayerNormOptions({config.hidden}).eps(1e-12)));
  input_dropout_ = register_module("input_dropout", HashDropout(config.dropout));
  blocks_ = register_module("blocks", nn::ModuleList());
  for (int64_t i = 0; i < config.layers; ++i) blocks_->push_back(LruBlock(config.hidden, config.dropout));
}

torch::Tensor LRURec::embed_input(const torch::Tensor& item_vectors) {
  return input_norm_->forward(input_dropout_->forward(item_vectors));
}

torch::Tensor LRURec::encode(const torch::Tensor& inputs, const torch::Tensor& keep) {
  auto h = inputs;
  for (const auto& block : *blocks_) h = block->as<LruBlock>()->forward(h, keep);
  return h;
}

}  // namespace caudal
