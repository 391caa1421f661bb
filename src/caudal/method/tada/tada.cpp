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

// The chosen positions of a [N, W] batch in a packed order (row after row,
// left to right) and back.
struct PackedPositions {
  int64_t width = 0;
  std::vector<int64_t> flat;  // packed index -> r * W + c
  std::vector<int64_t> slot;  // r * W + c -> packed index, -1 where not chosen

  // Row r's packed index k positions before its end (rows are left-padded,
  // so mixing aligns positions from the end), -1 if there is none.
  int64_t from_end(int64_t row, int64_t k) const { return k < width ? slot[row * width + width - 1 - k] : -1; }
  at::Tensor index(const c10::Device& device) const { return at::tensor(flat, at::kLong).to(device); }
};

// positions: flat indices r * W + c into a batch of `shape` [N, W].
PackedPositions listed(const std::vector<int64_t>& positions, at::IntArrayRef shape) {
  PackedPositions out;
  out.width = shape[1];
  out.flat = positions;
  out.slot.assign(shape[0] * shape[1], -1);
  for (size_t p = 0; p < positions.size(); ++p) out.slot[positions[p]] = static_cast<int64_t>(p);
  return out;
}

// chosen: [N, W] bool on the CPU.
PackedPositions pack(const at::Tensor& chosen) {
  const auto flags = chosen.contiguous();
  const auto* flag = flags.data_ptr<bool>();
  std::vector<int64_t> positions;
  for (int64_t i = 0; i < flags.numel(); ++i)
    if (flag[i]) positions.push_back(i);
  return listed(positions, flags.sizes());
}

// ids [N, W] on the CPU -> [P] on `device`, the ids at the packed positions.
at::Tensor ids_at(const at::Tensor& ids, const PackedPositions& at_positions, const c10::Device& device) {
  return ids.flatten().index_select(0, at_positions.index(ids.device())).to(device);
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

namespace {

at::Tensor mean_bce(const at::Tensor& hidden, const at::Tensor& target_vectors, const at::Tensor& negative_vectors) {
  return next_item_bce(hidden, target_vectors, negative_vectors, at::ones({hidden.size(0)}, hidden.options().dtype(at::kBool)));
}

}  // namespace

at::Tensor self_mix_loss(const at::Tensor& h1, const at::Tensor& h2, const at::Tensor& alpha,
                         const at::Tensor& target_vectors, const at::Tensor& negative_vectors) {
  auto a = alpha.unsqueeze(-1);
  return mean_bce(a * h1 + (1 - a) * h2, target_vectors, negative_vectors);
}

at::Tensor labelled_self_mix_loss(const at::Tensor& h1, const at::Tensor& h2, const at::Tensor& alpha,
                                  const at::Tensor& target_vectors1, const at::Tensor& target_vectors2,
                                  const at::Tensor& negative_vectors) {
  auto a = alpha.unsqueeze(-1);
  return mean_bce(a * h1 + (1 - a) * h2, a * target_vectors1 + (1 - a) * target_vectors2, negative_vectors);
}

at::Tensor cross_mix_loss(const at::Tensor& hidden, const at::Tensor& target_vectors, const at::Tensor& negative_vectors,
                          const at::Tensor& alpha, const at::Tensor& self, const at::Tensor& partner) {
  auto a = alpha.unsqueeze(-1);
  auto mix = [&](const at::Tensor& x) { return a * x.index_select(0, self) + (1 - a) * x.index_select(0, partner); };
  return mean_bce(mix(hidden), mix(target_vectors), mix(negative_vectors));
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
  // Every row of a next-item batch has a target, and the masking gives every row one.
  if (!views.targets.gt(0).any().item<bool>()) throw Error("TADA: a batch without a position to score");

  // Positions that are scored: where a view has a target (both views have
  // them at the same positions). The cross-mix pools also read a partner's
  // states at its unscored positions: zero, or with the official behaviour
  // whatever the encoder left there (then every position is kept).
  const auto scored = pack(views.targets.gt(0));
  const auto view2_kept = options_.mix_padding_states ? pack(at::ones({rows, width}, at::kBool)) : scored;

  // Both views in one pass through the encoder: view 1 where scored, view 2 where kept.
  std::vector<int64_t> positions = scored.flat;
  for (const int64_t p : view2_kept.flat) positions.push_back(rows * width + p);
  const auto states = step.encode_at(at::cat({views.view1, views.view2}).to(device), positions);
  const auto scored_count = static_cast<int64_t>(scored.flat.size());
  auto h1 = states.narrow(0, 0, scored_count), h2_kept = states.narrow(0, scored_count, states.size(0) - scored_count);
  auto h2 = h2_kept;
  if (options_.mix_padding_states) {
    std::vector<int64_t> scored_in_kept(scored.flat.size());
    for (size_t p = 0; p < scored.flat.size(); ++p) scored_in_kept[p] = view2_kept.slot[scored.flat[p]];
    h2 = h2_kept.index_select(0, at::tensor(scored_in_kept, at::kLong).to(device));
  }
  // One lookup (its gradient is a dense table-sized tensor) for the views'
  // targets, negatives and, for a masked-item model, view 2's own targets.
  std::vector<at::Tensor> looked_up = {ids_at(views.targets, scored, device), ids_at(views.negatives, scored, device)};
  if (masked_items) looked_up.push_back(ids_at(views.targets2, scored, device));
  const auto vectors = items.output(at::cat(looked_up)).split(scored_count);
  const auto target_vectors = vectors[0], negative_vectors = vectors[1];
  const auto target_vectors2 = masked_items ? vectors[2] : target_vectors;

  std::vector<double> position_alpha(scored.flat.size());
  const auto row_alpha = sample_beta(rows, options_.mix_beta, step.rng);
  for (size_t p = 0; p < scored.flat.size(); ++p) position_alpha[p] = row_alpha[scored.flat[p] / width];
  const auto alpha = float_tensor(position_alpha, device);
  NamedLosses out;
  out.emplace_back("tada_self", masked_items ? labelled_self_mix_loss(h1, h2, alpha, target_vectors, target_vectors2,
                                                                      negative_vectors)
                                             : self_mix_loss(h1, h2, alpha, target_vectors, negative_vectors));

  // Cross-mix pools: element r < rows is original row r, element rows + r
  // its view 2. Their kept states, item vectors and a zero row, stacked.
  const auto original_kept = listed(step.positions, step.host_targets.sizes());
  if (options_.mix_padding_states && static_cast<int64_t>(step.positions.size()) != step.host_targets.numel())
    throw Error("TADA's padding-state mixing needs every position of the batch encoded (TrainingStep::encode_batch(true))");
  const auto original_scored = options_.mix_padding_states ? pack(step.host_targets.gt(0)) : original_kept;
  const auto view2_targets = options_.mix_padding_states ? items.output(ids_at(views.targets2, view2_kept, device)) : target_vectors2;
  const auto view2_negatives = options_.mix_padding_states ? items.output(ids_at(views.negatives, view2_kept, device)) : negative_vectors;
  auto stack = [&](const at::Tensor& original, const at::Tensor& view2) {
    return at::cat({original, view2, at::zeros({1, view2.size(1)}, view2.options())});
  };
  const auto pool_hidden = stack(step.hidden, h2_kept), pool_targets = stack(step.target_vectors, view2_targets),
             pool_negatives = stack(step.negative_vectors, view2_negatives);
  const auto original_count = static_cast<int64_t>(original_kept.flat.size());
  const int64_t zero_row = pool_hidden.size(0) - 1;
  // Element e's stacked row k positions before its end, or the zero row.
  auto row_from_end = [&](int64_t e, int64_t k) {
    const int64_t slot = e < rows ? original_kept.from_end(e, k) : view2_kept.from_end(e - rows, k);
    return slot < 0 ? zero_row : (e < rows ? 0 : original_count) + slot;
  };
  auto scored_from_end = [&](int64_t e, int64_t k) {
    return (e < rows ? original_scored.from_end(e, k) : scored.from_end(e - rows, k)) >= 0;
  };

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
    const auto member_alpha = sample_beta(static_cast<int64_t>(members.size()), options_.mix_beta, step.rng);
    // Every scored position of every member, with its partner's row there.
    std::vector<int64_t> self_rows, partner_rows;
    std::vector<double> mix_alpha;
    for (size_t i = 0; i < members.size(); ++i) {
      const int64_t e = members[i], mate = members[partner[i]];
      for (int64_t k = 0; k < std::max(width, original_kept.width); ++k) {
        if (!scored_from_end(e, k)) continue;
        self_rows.push_back(row_from_end(e, k));
        partner_rows.push_back(row_from_end(mate, k));
        mix_alpha.push_back(member_alpha[i]);
      }
    }
    out.emplace_back(name, cross_mix_loss(pool_hidden, pool_targets, pool_negatives, float_tensor(mix_alpha, device),
                                          at::tensor(self_rows, at::kLong).to(device),
                                          at::tensor(partner_rows, at::kLong).to(device)));
  }
  return out;
}

}  // namespace caudal
