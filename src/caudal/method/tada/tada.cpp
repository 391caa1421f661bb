#include "caudal/method/tada/tada.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <numeric>

#include "caudal/core/error.h"
#include "caudal/objective/losses.h"
#include "caudal/objective/masked_items.h"

namespace caudal {
namespace {

at::Tensor rows_to_tensor(const std::vector<std::vector<int64_t>>& rows, int64_t width) {
  std::vector<int64_t> flat(rows.size() * width, 0);
  for (size_t r = 0; r < rows.size(); ++r)
    std::copy(rows[r].begin(), rows[r].end(), flat.begin() + r * width + (width - static_cast<int64_t>(rows[r].size())));
  return at::from_blob(flat.data(), {static_cast<int64_t>(rows.size()), width}, at::kLong).clone();
}

// Doubles drawn on the CPU -> a float32 tensor on the training device.
at::Tensor float_tensor(const std::vector<double>& values, const c10::Device& device) {
  return at::tensor(values, at::kDouble).to(at::kFloat).to(device);
}

// Left-pads [B, T, d] (or [B, T]) to `width` columns.
at::Tensor left_pad(const at::Tensor& x, int64_t width) {
  const int64_t missing = width - x.size(1);
  if (missing == 0) return x;
  if (x.dim() == 3) return at::constant_pad_nd(x, {0, 0, missing, 0});
  return at::constant_pad_nd(x, {missing, 0});
}

}  // namespace

std::array<std::vector<int64_t>, 2> cross_mix_pools(const std::vector<int64_t>& users,
                                                    const std::vector<uint8_t>& tail_preference) {
  const auto rows = static_cast<int64_t>(users.size());
  std::array<std::vector<int64_t>, 2> pools;
  for (int64_t r = 0; r < rows; ++r) pools[tail_preference[users[r]] ? 0 : 1].push_back(r);
  for (auto& pool : pools) {
    const size_t originals = pool.size();
    for (size_t i = 0; i < originals; ++i) pool.push_back(pool[i] + rows);
  }
  return pools;
}

std::vector<double> sample_beta(int64_t n, double beta, std::mt19937_64& rng) {
  std::gamma_distribution<double> gamma(beta, 1.0);
  std::vector<double> out(n);
  for (auto& v : out) {
    const double x = gamma(rng), y = gamma(rng);
    v = (x + y) > 0 ? x / (x + y) : 0.5;
  }
  return out;
}

at::Tensor self_mix_loss(const at::Tensor& h1, const at::Tensor& h2, const at::Tensor& alpha,
                         const at::Tensor& target_vectors, const at::Tensor& negative_vectors, const at::Tensor& mask) {
  auto a = alpha.view({-1, 1, 1});
  return next_item_bce(a * h1 + (1 - a) * h2, target_vectors, negative_vectors, mask);
}

at::Tensor labelled_self_mix_loss(const at::Tensor& h1, const at::Tensor& h2, const at::Tensor& alpha,
                                  const at::Tensor& target_vectors1, const at::Tensor& target_vectors2,
                                  const at::Tensor& negative_vectors, const at::Tensor& mask) {
  auto a = alpha.view({-1, 1, 1});
  return next_item_bce(a * h1 + (1 - a) * h2, a * target_vectors1 + (1 - a) * target_vectors2, negative_vectors, mask);
}

at::Tensor cross_mix_loss(const at::Tensor& hidden, const at::Tensor& target_vectors, const at::Tensor& negative_vectors,
                          const at::Tensor& mask, const at::Tensor& alpha, const at::Tensor& partner) {
  auto a = alpha.view({-1, 1, 1});
  auto mix = [&](const at::Tensor& x) { return a * x + (1 - a) * x.index_select(0, partner); };
  return next_item_bce(mix(hidden), mix(target_vectors), mix(negative_vectors), mask);
}

Tada::Tada(TadaPreparation preparation, const std::vector<uint8_t>& is_head_item, TadaOptions options, bool trim)
    : prep_(std::move(preparation)), is_head_item_(is_head_item), options_(options), trim_(trim) {
  if (!(options_.augment.rate_a >= 0 && options_.augment.rate_a <= options_.augment.rate_b && options_.augment.rate_b <= 1))
    throw Error("TADA rates must satisfy 0 <= --rate-a <= --rate-b <= 1");
  if (!(options_.mix_beta > 0)) throw Error("--mix-beta must be positive");
}

AugmentedBatch Tada::augment_batch(const TrainBatch& batch, std::mt19937_64& rng) const {
  const int64_t rows = batch.inputs.size(0), width = batch.inputs.size(1);
  auto in = batch.inputs.accessor<int64_t, 2>();
  auto tg = batch.targets.accessor<int64_t, 2>();
  auto ng = batch.negatives.accessor<int64_t, 2>();
  std::vector<std::vector<int64_t>> v1(rows), v2(rows), targets(rows), negatives(rows);
  AugmentedBatch out;
  int64_t longest = 0;
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<int64_t> seq, t, n;
    for (int64_t c = 0; c < width; ++c) {
      if (in[r][c] == 0) continue;
      seq.push_back(in[r][c]);
      t.push_back(tg[r][c]);
      n.push_back(ng[r][c]);
    }
    auto row = augment(seq, t, n, prep_.candidates, is_head_item_, options_.augment, rng);
    out.inserted_rows += row.inserted ? 1 : 0;
    longest = std::max<int64_t>(longest, static_cast<int64_t>(row.view1.size()));
    v1[r] = std::move(row.view1);
    v2[r] = std::move(row.view2);
    targets[r] = std::move(row.targets);
    negatives[r] = std::move(row.negatives);
  }
  const int64_t view_width = trim_ ? std::max<int64_t>(longest, 1) : options_.augment.max_len;
  out.view1 = rows_to_tensor(v1, view_width);
  out.view2 = rows_to_tensor(v2, view_width);
  out.targets = rows_to_tensor(targets, view_width);
  out.negatives = rows_to_tensor(negatives, view_width);
  return out;
}

Tada::ViewBatch Tada::masked_views(const TrainBatch& window, int64_t mask_token, std::mt19937_64& rng) const {
  // A masked-item model trains on the window's items, its targets row (objective/masked_items.h);
  // the operators see them as the sequence (so view 1 is also its own targets).
  auto views = augment_batch(TrainBatch{window.targets, window.targets, window.negatives, window.users}, rng);
  const auto mask = draw_item_mask(views.view1, options_.mask_ratio, rng);
  return ViewBatch{views.view1.masked_fill(mask, mask_token), views.view2.masked_fill(mask, mask_token),
                     views.view1 * mask, views.view2 * mask, views.negatives * mask};
}

NamedLosses Tada::losses(TrainingStep& step) {
  const auto device = step.device;
  const bool masked_items = step.model.mask_token() != 0;
  ViewBatch views;
  if (masked_items) {
    views = masked_views(step.batch, step.model.mask_token(), step.rng);
  } else {
    auto augmented = augment_batch(step.batch, step.rng);
    views = ViewBatch{augmented.view1, augmented.view2, augmented.targets, augmented.targets, augmented.negatives};
  }
  const int64_t rows = views.view1.size(0), width = views.view1.size(1);
  auto& items = step.model.items();

  // Both views in one pass through the encoder.
  auto both = step.encode(at::cat({views.view1, views.view2}).to(device));
  auto h1 = both.narrow(0, 0, rows), h2 = both.narrow(0, rows, rows);
  auto view_targets = views.targets.to(device), view_negatives = views.negatives.to(device);
  auto view_mask = view_targets.gt(0);
  auto view_target_vectors = items.output(view_targets), view_negative_vectors = items.output(view_negatives);
  // View 2's own targets differ from view 1's only for a masked-item model.
  auto view2_target_vectors = masked_items ? items.output(views.targets2.to(device)) : view_target_vectors;
  auto alpha = float_tensor(sample_beta(rows, options_.mix_beta, step.rng), device);
  NamedLosses out;
  out.emplace_back("tada_self", masked_items ? labelled_self_mix_loss(h1, h2, alpha, view_target_vectors,
                                                                      view2_target_vectors, view_negative_vectors, view_mask)
                                             : self_mix_loss(h1, h2, alpha, view_target_vectors, view_negative_vectors,
                                                             view_mask));

  // Cross-mix pools: original rows (padded to the views' width) and v2 views.
  // Zero where a row has no item, unless the official behaviour is asked for.
  auto zero_padding = [&](const at::Tensor& x, const at::Tensor& mask) {
    return options_.mix_padding_states ? x : x * mask.unsqueeze(-1).to(x.scalar_type());
  };
  auto orig_mask = left_pad(step.targets.gt(0), width);
  auto orig_hidden = zero_padding(left_pad(step.hidden, width), orig_mask);
  auto orig_target_vectors = zero_padding(left_pad(step.target_vectors, width), orig_mask);
  auto orig_negative_vectors = zero_padding(left_pad(step.negative_vectors, width), orig_mask);
  auto pool_hidden = at::cat({orig_hidden, zero_padding(h2, view_mask)});
  auto pool_targets = at::cat({orig_target_vectors, zero_padding(view2_target_vectors, view_mask)});
  auto pool_negatives = at::cat({orig_negative_vectors, zero_padding(view_negative_vectors, view_mask)});
  auto pool_mask = at::cat({orig_mask, view_mask});

  const auto pools = cross_mix_pools(step.batch.users, prep_.tail_preference);
  for (size_t p = 0; p < pools.size(); ++p) {
    const auto& members = pools[p];
    const char* name = p == 0 ? "tada_cross_tail" : "tada_cross_head";
    if (members.empty()) {
      out.emplace_back(name, at::zeros({}, step.hidden.options()));
      continue;
    }
    std::vector<int64_t> partner(members.size());
    std::iota(partner.begin(), partner.end(), 0);
    std::shuffle(partner.begin(), partner.end(), step.rng);
    auto index = at::tensor(members, at::kLong).to(device);
    auto mix_alpha = float_tensor(sample_beta(static_cast<int64_t>(members.size()), options_.mix_beta, step.rng), device);
    out.emplace_back(name, cross_mix_loss(pool_hidden.index_select(0, index), pool_targets.index_select(0, index),
                                          pool_negatives.index_select(0, index), pool_mask.index_select(0, index), mix_alpha,
                                          at::tensor(partner, at::kLong).to(device)));
  }
  return out;
}

}  // namespace caudal
