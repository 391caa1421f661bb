#include "caudal/method/faerec/faerec.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "caudal/core/error.h"

namespace caudal {

std::pair<double, double> curriculum_weights(int64_t epoch, const FaerecOptions& options) {
  const double c = (1.0 + std::cos(2.0 * M_PI * static_cast<double>(epoch) / options.period)) / 2.0;
  const double item = (options.w_max - options.w_min) * c + options.w_min;
  return {item, 1.0 - item};
}

namespace {

// Item-level InfoNCE over distinct items, each standing for its
// occurrences: u (already scaled by 1/tau) and v one row per item, c its
// occurrences, w = c / (occurrences of the whole loss). With logits
// L_ab = u_a . v_b + log c_b (b != a) and L_aa = u_a . v_a, each column is
// summed once per occurrence except the row's own item, counted once (its
// other occurrences are not negatives); the value is sum_a w_a (lse_a - L_aa).
// Written by hand because autograd through the plain formulation makes many
// passes over m x m numbers. The loss is a scalar, so both gradients are
// known in forward: d loss / d L_ab = w_a (P_ab - [a = b]) = G_ab (P the
// row softmax), grad u = G v, grad v = G^T u. Rows go in blocks whose logits
// stay in cache while they become that block's G and its share of both
// gradients; no m x m matrix is kept, and backward only scales.
class CountedInfoNce : public torch::autograd::Function<CountedInfoNce> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& u, const at::Tensor& v,
                            const at::Tensor& log_counts, const at::Tensor& weights) {
    constexpr int64_t kBlockRows = 128;  // 128 x 1024 floats: half a megabyte
    const int64_t m = u.size(0);
    auto lse = at::empty({m}, u.options()), own = at::empty({m}, u.options());
    auto grad_u = at::empty_like(u), grad_v = at::zeros_like(v);
    auto buffer = at::empty({std::min(kBlockRows, m), m}, u.options());
    const auto vt = v.t();
    for (int64_t begin = 0; begin < m; begin += kBlockRows) {
      const int64_t rows = std::min(kBlockRows, m - begin);
      const auto block_u = u.narrow(0, begin, rows), block_w = weights.narrow(0, begin, rows).unsqueeze(1);
      auto logits = buffer.narrow(0, 0, rows);
      at::mm_out(logits, block_u, vt);  // logits: a view of the buffer, written in place
      auto diagonal = logits.narrow(1, begin, rows).diagonal();  // L_aa of the block's rows
      auto block_own = own.narrow(0, begin, rows);
      block_own.copy_(diagonal);
      logits.add_(log_counts.unsqueeze(0));
      diagonal.copy_(block_own);
      const auto max = logits.amax(1, /*keepdim=*/true);
      logits.sub_(max).exp_();
      const auto sum = logits.sum(1, /*keepdim=*/true);
      lse.narrow(0, begin, rows).copy_((sum.log() + max).squeeze(1));
      logits.mul_(block_w / sum);  // G = w P ...
      diagonal.sub_(block_w.squeeze(1));  // ... - w I
      auto block_grad_u = grad_u.narrow(0, begin, rows);
      at::mm_out(block_grad_u, logits, v);
      grad_v.addmm_(logits.t(), block_u);
    }
    ctx->saved_data["grad_u"] = grad_u;
    ctx->saved_data["grad_v"] = grad_v;
    return ((lse - own) * weights).sum();
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const auto& scale = grad_outputs[0];
    return {ctx->saved_data["grad_u"].toTensor() * scale, ctx->saved_data["grad_v"].toTensor() * scale, at::Tensor(),
            at::Tensor()};
  }
};

// u / tau and v, normalised.
std::pair<at::Tensor, at::Tensor> alignment_operands(const at::Tensor& u, const at::Tensor& v, double tau) {
  auto normalise = [](const at::Tensor& x) { return x / x.norm(2, -1, true).clamp_min(1e-12); };
  return {normalise(u) / tau, normalise(v)};
}

}  // namespace

DistinctTokens distinct_tokens(const at::Tensor& tokens) {
  const auto [items, row_of_token, counts] = at::_unique2(tokens, /*sorted=*/true, /*return_inverse=*/true,
                                                          /*return_counts=*/true);
  return {items, counts, row_of_token};
}

namespace {

// One problem's share of a loss over `occurrences` tokens in all (a 0-dim
// tensor, so that no caller has to bring the count to the host).
at::Tensor counted_info_nce(const at::Tensor& scaled_u, const at::Tensor& unit_v, const at::Tensor& counts,
                            const at::Tensor& occurrences) {
  const auto weights = counts.to(scaled_u.scalar_type());
  return CountedInfoNce::apply(scaled_u, unit_v, weights.log(), weights / occurrences);
}

}  // namespace

at::Tensor item_alignment_loss(const at::Tensor& u, const at::Tensor& v, const at::Tensor& counts, double tau) {
  const auto [scaled_u, unit_v] = alignment_operands(u, v, tau);
  return counted_info_nce(scaled_u, unit_v, counts, counts.sum());
}

at::Tensor chunked_item_alignment_loss(const at::Tensor& u, const at::Tensor& v, const at::Tensor& counts, double tau,
                                       int64_t chunk, std::mt19937_64& rng) {
  const auto host_counts = counts.to(at::kCPU, at::kLong).contiguous();
  const int64_t m = host_counts.size(0);
  const int64_t* count = host_counts.data_ptr<int64_t>();
  const int64_t occurrences = std::accumulate(count, count + m, int64_t{0});
  const int64_t chunks = (occurrences + chunk - 1) / chunk;
  if (chunks <= 1) return item_alignment_loss(u, v, counts, tau);
  // Items in random order, cut where the running count of occurrences
  // passes the next multiple of a chunk's share: all occurrences of an item
  // in one chunk. An item with more occurrences than a share passes several
  // multiples at once: one cut, and the next cut waits for the multiple after
  // them (so there are at most `chunks` chunks and none is left a single item
  // by the shares it skipped).
  std::vector<int64_t> order(m);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng);
  std::vector<int64_t> ends;
  int64_t seen = 0, next_share = 1;
  for (int64_t i = 0; i < m; ++i) {
    seen += count[order[i]];
    if (seen * chunks >= next_share * occurrences) {
      ends.push_back(i + 1);
      next_share = seen * chunks / occurrences + 1;
    }
  }
  const auto permutation = at::tensor(order, at::kLong).to(u.device());
  auto [scaled_u, unit_v] = alignment_operands(u.index_select(0, permutation), v.index_select(0, permutation), tau);
  const auto shuffled_counts = counts.index_select(0, permutation);
  const auto all_occurrences = at::scalar_tensor(static_cast<double>(occurrences), at::kDouble);
  auto total = at::zeros({}, u.options());
  int64_t begin = 0;
  for (const int64_t end : ends) {
    const int64_t size = end - begin;
    total = total + counted_info_nce(scaled_u.narrow(0, begin, size), unit_v.narrow(0, begin, size),
                                     shuffled_counts.narrow(0, begin, size), all_occurrences);
    begin = end;
  }
  return total;
}

at::Tensor barlow_twins_loss(const at::Tensor& u, const at::Tensor& v, double gamma) {
  const int64_t n = u.size(0);
  // The unbiased std from the centred columns: LibTorch's std over dim 0
  // (Welford, column by column) cost more than the rest of this loss.
  auto standardise = [n](const at::Tensor& x) {
    const auto centred = x - x.mean(0, true);
    return centred / (centred.pow(2).sum(0, true).div(static_cast<double>(n - 1)).sqrt() + 1e-5);
  };
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
  // Both losses are over the tokens, but a token's u and v depend on its item
  // alone (the alignment draws the adapter's dropout once per item), so they
  // are computed once per distinct item: the InfoNCE's matrices are then
  // items x items instead of tokens x tokens.
  const auto distinct = distinct_tokens(tokens);
  auto u = items_->id_vectors(distinct.items);
  auto v = items_->semantic_vectors(distinct.items);
  auto item = chunked_item_alignment_loss(u, v, distinct.counts, options_.tau, options_.align_chunk, step.rng);

  auto feature = at::zeros({}, u.options());
  if (tokens.size(0) > 1) {
    if (popularity_.device() != tokens.device()) popularity_ = popularity_.to(tokens.device());  // once, not per batch
    auto popularity = popularity_.index_select(0, tokens);
    auto popular = popularity.ge(popularity.median());
    for (const auto& group : {popular, popular.logical_not()}) {
      auto rows = distinct.row_of_token.masked_select(group);
      if (rows.size(0) > 1) feature = feature + barlow_twins_loss(u.index_select(0, rows), v.index_select(0, rows), options_.gamma);
    }
  }
  return {{"faerec_item", options_.align_weight * weights_.first * item},
          {"faerec_feature", options_.align_weight * weights_.second * feature}};
}

}  // namespace caudal
