#include "caudal/method/faerec/faerec.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
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

// Flat indices i * n + j of the pairs i != j whose tokens hold the same item:
// the entries of the n x n logits that must not count as negatives. A batch
// repeats few items, so this list is short; a dense n x n mask built by
// comparing every pair cost two of the loss's passes over n x n numbers.
// Found on the host (one copy of n ids) because grouping equal ids has no
// single tensor operation.
at::Tensor duplicate_pairs(const at::Tensor& items) {
  const auto host = items.to(at::kCPU, at::kLong).contiguous();
  const int64_t n = host.size(0);
  const int64_t* id = host.data_ptr<int64_t>();
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return id[a] < id[b]; });
  std::vector<int64_t> pairs;
  for (int64_t begin = 0, end = 0; begin < n; begin = end) {
    for (end = begin + 1; end < n && id[order[end]] == id[order[begin]]; ++end) {
    }
    for (int64_t a = begin; a < end; ++a)
      for (int64_t b = begin; b < end; ++b)
        if (a != b) pairs.push_back(order[a] * n + order[b]);
  }
  return at::tensor(pairs, at::kLong).to(items.device());
}

// Item-level InfoNCE: logits_ij = u_i . v_j (u already scaled by 1/tau),
// duplicate pairs left out (-inf); loss = mean_i -log softmax(logits_i)_i.
// Written by hand because autograd through the plain formulation (the
// logits, a duplicate mask, log-probabilities, the gradient of each) makes
// about 15 passes over n x n numbers; here a fused log-softmax gives the
// loss and becomes the softmax P in place, and since
// d loss / d logits = (P - I) / n, backward is two matrix products:
// grad u = (P v - v) / n, grad v = (P^T u - u) / n.
class ItemInfoNce : public torch::autograd::Function<ItemInfoNce> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& u, const at::Tensor& v,
                            const at::Tensor& duplicates) {
    auto logits = at::mm(u, v.t());
    logits.view(-1).index_fill_(0, duplicates, -std::numeric_limits<double>::infinity());
    auto log_softmax = at::log_softmax(logits, 1);
    logits.reset();
    auto loss = -log_softmax.diagonal().mean();
    ctx->save_for_backward({u, v});
    ctx->saved_data["softmax"] = log_softmax.exp_();  // left-out columns: exp(-inf) = 0
    return loss;
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
  return ItemInfoNce::apply(normalise(u) / tau, normalise(v), duplicate_pairs(items));
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
