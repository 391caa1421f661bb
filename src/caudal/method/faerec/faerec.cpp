#include "caudal/method/faerec/faerec.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>

#include <cmath>
#include <limits>
#include <numeric>

#include "caudal/core/error.h"

namespace caudal {

std::pair<double, double> curriculum_weights(int64_t epoch, const FaerecOptions& options) {
  const double c = (1.0 + std::cos(2.0 * M_PI * static_cast<double>(epoch) / options.period)) / 2.0;
  const double item = (options.w_max - options.w_min) * c + options.w_min;
  return {item, 1.0 - item};
}

namespace {

// Item-level InfoNCE: logits_ij = u_i . v_j (u already scaled by 1/tau),
// columns of other occurrences of row i's item left out; loss = mean_i
// (logsumexp_j logits_ij - logits_ii). Written by hand because autograd
// through the plain formulation (the logits, a duplicate mask, an identity,
// log-probabilities, the gradient of each) makes about 15 passes over N x N
// numbers; here the logits become the softmax P in place, and since
// d loss / d logits = (P - I) / N, backward is two matrix products:
// grad u = (P v - v) / N, grad v = (P^T u - u) / N.
class ItemInfoNce : public torch::autograd::Function<ItemInfoNce> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& u, const at::Tensor& v,
                            const at::Tensor& items) {
    const int64_t n = u.size(0);
    auto own = (u * v).sum(1);
    auto logits = at::mm(u, v.t());
    logits.masked_fill_(items.unsqueeze(1).eq(items.unsqueeze(0)), -std::numeric_limits<double>::infinity());
    // The row's own column, masked above with its duplicates, comes back.
    const auto diagonal = at::arange(n, items.options()).unsqueeze(1);
    logits.scatter_(1, diagonal, own.unsqueeze(1));
    const auto log_sum_exp = at::logsumexp(logits, 1);
    auto softmax = logits.sub_(log_sum_exp.unsqueeze(1)).exp_();  // left-out columns: exp(-inf) = 0
    ctx->save_for_backward({u, v});
    ctx->saved_data["softmax"] = softmax;
    return (log_sum_exp - own).mean();
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const auto &u = saved[0], &v = saved[1];
    const auto softmax = ctx->saved_data["softmax"].toTensor();
    const auto scale = grad_outputs[0] / static_cast<double>(u.size(0));
    return {(at::mm(softmax, v) - v) * scale, (at::mm(softmax.t(), u) - u) * scale, at::Tensor()};
  }
};

}  // namespace

at::Tensor item_alignment_loss(const at::Tensor& u, const at::Tensor& v, const at::Tensor& items, double tau) {
  auto normalise = [](const at::Tensor& x) { return x / x.norm(2, -1, true).clamp_min(1e-12); };
  return ItemInfoNce::apply(normalise(u) / tau, normalise(v), items);
}

at::Tensor chunked_item_alignment_loss(const at::Tensor& u, const at::Tensor& v, const at::Tensor& items, double tau,
                                       int64_t chunk, std::mt19937_64& rng) {
  const int64_t n = u.size(0);
  const int64_t chunks = (n + chunk - 1) / chunk;
  if (chunks <= 1) return item_alignment_loss(u, v, items, tau);
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng);
  auto permutation = at::tensor(order, at::kLong).to(u.device());
  auto total = at::zeros({}, u.options());
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t begin = c * n / chunks, end = (c + 1) * n / chunks;
    auto index = permutation.narrow(0, begin, end - begin);
    total = total + static_cast<double>(end - begin) *
                        item_alignment_loss(u.index_select(0, index), v.index_select(0, index), items.index_select(0, index), tau);
  }
  return total / static_cast<double>(n);
}

at::Tensor barlow_twins_loss(const at::Tensor& u, const at::Tensor& v, double gamma) {
  const int64_t n = u.size(0);
  auto standardise = [](const at::Tensor& x) { return (x - x.mean(0, true)) / (x.std(0, /*unbiased=*/true, true) + 1e-5); };
  auto c = at::matmul(standardise(u).t(), standardise(v)) / static_cast<double>(n);
  auto diagonal = c.diagonal();
  auto on = (1 - diagonal).pow(2).sum();
  auto off = c.pow(2).sum() - diagonal.pow(2).sum();
  return on + gamma * off;
}

Faerec::Faerec(FaerecOptions options, std::shared_ptr<FusedItems> items, std::vector<int64_t> item_train_count)
    : options_(std::move(options)), items_(std::move(items)) {
  if (!(options_.period > 0)) throw Error("--period must be positive");
  if (!(options_.w_min >= 0 && options_.w_min <= options_.w_max && options_.w_max <= 1))
    throw Error("FAERec weights must satisfy 0 <= --w-min <= --w-max <= 1");
  if (!(options_.tau > 0)) throw Error("--align-tau must be positive");
  if (options_.align_chunk < 2) throw Error("--align-chunk must be at least 2");
  popularity_ = at::tensor(item_train_count, at::kLong).to(at::kFloat);
  weights_ = curriculum_weights(0, options_);
}

NamedLosses Faerec::losses(TrainingStep& step) {
  auto tokens = at::cat({step.inputs.flatten(), step.negatives.flatten()});
  // Items only: not padding, nor a masked-item model's mask token (id num_items + 1).
  tokens = tokens.masked_select(tokens.gt(0) & tokens.lt(popularity_.size(0)));
  auto u = items_->id_vectors(tokens);
  auto v = items_->semantic_vectors(tokens);
  auto item = chunked_item_alignment_loss(u, v, tokens, options_.tau, options_.align_chunk, step.rng);

  auto feature = at::zeros({}, u.options());
  if (tokens.size(0) > 1) {
    if (popularity_.device() != tokens.device()) popularity_ = popularity_.to(tokens.device());  // once, not per batch
    auto popularity = popularity_.index_select(0, tokens);
    auto popular = popularity.ge(popularity.median());
    for (const auto& group : {popular, popular.logical_not()}) {
      auto index = group.nonzero().squeeze(1);
      if (index.size(0) > 1) feature = feature + barlow_twins_loss(u.index_select(0, index), v.index_select(0, index), options_.gamma);
    }
  }
  return {{"faerec_item", options_.align_weight * weights_.first * item},
          {"faerec_feature", options_.align_weight * weights_.second * feature}};
}

}  // namespace caudal
