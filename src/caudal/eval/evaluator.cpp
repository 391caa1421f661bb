#include "caudal/eval/evaluator.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <torch/nn/module.h>

#include <limits>

#include "caudal/core/error.h"
#include "caudal/data/batcher.h"
#include "caudal/eval/ranking.h"

namespace caudal {
namespace {

at::Tensor long_tensor(std::vector<int64_t>& values) {
  return at::from_blob(values.data(), {static_cast<int64_t>(values.size())}, at::kLong).clone();
}

constexpr int64_t kScoreRows = 128;

// Full ranking of one batch: rank = number of other items scored at least as
// high as the target (ties count against it: a model that scores every item
// alike ranks last, not first), history and padding excluded.
// Rows [begin, begin + rows) of the batch.
at::Tensor full_ranks(const at::Tensor& scores_in, const EvalBatch& batch, int64_t begin, int64_t rows,
                      const Dataset& dataset, Stage stage, bool history_score_zero) {
  auto scores = scores_in;
  auto targets = batch.targets.narrow(0, begin, rows).to(scores.device());
  auto target_scores = scores.gather(1, targets.unsqueeze(1));  // the model's own score of the target
  std::vector<ItemSpan> histories;
  for (int64_t r = begin; r < begin + rows; ++r) {
    const int64_t user = batch.users[r];
    histories.push_back(ItemSpan{dataset.sequence(user).data(), dataset.history_length(user, stage)});
  }
  mask_items(scores, histories, history_score_zero ? 0.0 : -std::numeric_limits<double>::infinity());
  if (history_score_zero) target_scores = scores.gather(1, targets.unsqueeze(1));
  // The target does not tie with itself.
  scores.scatter_(1, targets.unsqueeze(1), -std::numeric_limits<double>::infinity());
  // In place, as 1.0 / 0.0 in the scores' own type, and summed there: a bool
  // comparison summed as int64 first copies it into a [B, num_items] int64
  // tensor (15% of a Beauty validation). Exact while counts fit a float's
  // 24-bit mantissa; larger catalogues count in int64.
  if (scores.size(1) >= (int64_t{1} << 24)) return scores.ge(target_scores).sum(1);
  return scores.ge_(target_scores).sum(1).to(at::kLong);
}

}  // namespace

RankedTargets rank_targets(SequentialRecommender& model, const Dataset& dataset, Stage stage, const EvalOptions& options,
                           const c10::Device& device, Progress* progress) {
  const bool was_training = model.is_training();
  model.eval();
  torch::NoGradGuard no_grad;
  BatchOptions batch_options{options.max_len, options.batch_size, options.trim};
  auto batches = make_eval_batches(dataset, stage, batch_options);
  NegativeSampler sampler(dataset);
  auto rng = make_rng(options.seed, RandomStream::kSampledEval, stage == Stage::kValid ? 0 : 1);
  RankedTargets out;
  // Computed once: FAERec's table runs the adapter over every item.
  const auto table = options.sampled ? at::Tensor() : model.ranked_table();
  for (const auto& batch : batches) {
    auto hidden = model.encode_last(batch.inputs.to(device));
    if (at::isnan(hidden).any().item<bool>()) throw Error("the model produced NaN hidden states during evaluation");
    at::Tensor ranks;
    if (options.sampled) {
      const auto rows = static_cast<int64_t>(batch.users.size());
      std::vector<int64_t> candidates;
      candidates.reserve(rows * (options.sampled_negatives + 1));
      for (int64_t r = 0; r < rows; ++r) {
        candidates.push_back(dataset.target(batch.users[r], stage));
        for (int64_t j = 0; j < options.sampled_negatives; ++j) candidates.push_back(sampler.draw(batch.users[r], rng));
      }
      auto ids = long_tensor(candidates).view({rows, options.sampled_negatives + 1}).to(device);
      auto scores = (model.items().output(ids) * hidden.unsqueeze(1)).sum(-1);
      // Ties count against the target, as in the full ranking.
      ranks = scores.narrow(1, 1, options.sampled_negatives).ge(scores.narrow(1, 0, 1)).sum(1);
    } else {
      // Scored in blocks of rows whose [rows, num_items] scores stay in
      // cache through masking and counting (the encoder prefers the whole batch).
      std::vector<at::Tensor> parts;
      for (int64_t begin = 0; begin < hidden.size(0); begin += kScoreRows) {
        const int64_t rows = std::min(kScoreRows, hidden.size(0) - begin);
        parts.push_back(full_ranks(SequentialRecommender::scores(hidden.narrow(0, begin, rows), table), batch, begin,
                                   rows, dataset, stage, options.history_score_zero));
      }
      ranks = at::cat(parts);
    }
    auto ranks_cpu = ranks.to(at::kCPU).contiguous();
    const auto* r = ranks_cpu.data_ptr<int64_t>();
    for (size_t i = 0; i < batch.users.size(); ++i) {
      out.users.push_back(batch.users[i]);
      out.targets.push_back(dataset.target(batch.users[i], stage));
      out.ranks.push_back(r[i]);
    }
    if (progress) progress->advance(static_cast<int64_t>(batch.users.size()));
  }
  if (was_training) model.train();
  return out;
}

GroupedMetrics evaluate(SequentialRecommender& model, const Dataset& dataset, Stage stage, const EvalOptions& options,
                        const c10::Device& device, Progress* progress) {
  return group_metrics(rank_targets(model, dataset, stage, options, device, progress), dataset.groups());
}

}  // namespace caudal
