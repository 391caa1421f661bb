// TADA as a Method (docs/tada.md, "Losses"): on top of the next-item loss of the
// original batch,
//   self-mix:  H = alpha f(v1) + (1 - alpha) f(v2), alpha ~ Beta(beta, beta)
//              per row, scored against the views' targets and negatives;
//   cross-mix: inside each preference group, the original rows and their v2
//              views are pooled, each element mixed with a random partner
//              (hidden states, target and negative vectors with one alpha),
//              scored where the element itself has a target.
// All with weight 1.
// With a masked-item model (BERT4Rec: every position sees the whole window, so
// a position's next item is in its input) the same losses are built on its
// own objective instead: the operators act on the training window's items,
// both views are masked at the same positions (as the model's masking draws
// them), and each view is scored there against its own items; the self-mix
// mixes the two views' item vectors with the alpha of their states (where
// the views agree this is the self-mix above). The cross-mix pools the masked
// original rows and the masked v2 views. Positions where a row has no item contribute a zero
// hidden state and zero item vectors to a mix (the official code mixes in
// whatever the encoder left at padded positions and the padding row's item
// vector; with trimmed batches that would depend on the batch width, zero does
// not). `mix_padding_states` reproduces the official behaviour; it is only
// faithful with padded batches (columns a trimmed batch cut off stay zero).
#pragma once

#include <array>
#include <cstdint>
#include <random>
#include <vector>

#include "caudal/method/method.h"
#include "caudal/method/tada/augment.h"
#include "caudal/method/tada/candidates.h"

namespace caudal {

struct TadaOptions {
  LisOptions lis;
  AugmentOptions augment;
  double mix_beta = 0.3;
  bool mix_padding_states = false;
  double mask_ratio = 0.2;  // masking of the views for a masked-item model
};

// Two augmented views of every row of a batch, left-padded to a common width
// (the longest view, or max_len when not trimming).
struct AugmentedBatch {
  at::Tensor view1, view2, targets, negatives;  // [B, T'] int64
  int64_t inserted_rows = 0;
};

class Tada : public Method {
 public:
  Tada(TadaPreparation preparation, const std::vector<uint8_t>& is_head_item, TadaOptions options, bool trim);
  std::string name() const override { return "tada"; }
  NamedLosses losses(TrainingStep& step) override;
  bool reads_padding_states() const override { return options_.mix_padding_states; }

  AugmentedBatch augment_batch(const TrainBatch& batch, std::mt19937_64& rng) const;
  // The two views a step encodes and scores: the inputs view1/view2, the
  // targets of view 1 and of view 2 (the same for a next-item model), and the
  // negatives. For a next-item model these are augment_batch's views; for a
  // masked-item model (masked_views) the views are masked at the same
  // positions and each is scored there against its own items.
  struct ViewBatch {
    at::Tensor view1, view2, targets, targets2, negatives;
  };
  ViewBatch masked_views(const TrainBatch& window, int64_t mask_token, std::mt19937_64& rng) const;

 private:
  TadaPreparation prep_;
  std::vector<uint8_t> is_head_item_;
  TadaOptions options_;
  bool trim_;
};

// The two cross-mix pools of a batch of `rows` rows: pool indices r (the
// original row r) and rows + r (its v2 view) for the rows whose users share a
// preference group; the tail-preference pool first.
std::array<std::vector<int64_t>, 2> cross_mix_pools(const std::vector<int64_t>& users,
                                                    const std::vector<uint8_t>& tail_preference);

// n draws of Beta(beta, beta) as X / (X + Y) with X, Y ~ Gamma(beta, 1).
std::vector<double> sample_beta(int64_t n, double beta, std::mt19937_64& rng);

// The mixing losses work on packed positions: rows of [P, d] tensors, one per
// position that is scored (a batch of random users is mostly padding, so
// [B, T, d] tensors would be mostly zeros; docs/results.md has the speed).

// Self-mix loss, mean over the P positions. h1, h2, target_vectors,
// negative_vectors: [P, d]; alpha [P] (the alpha of each position's row).
at::Tensor self_mix_loss(const at::Tensor& h1, const at::Tensor& h2, const at::Tensor& alpha,
                         const at::Tensor& target_vectors, const at::Tensor& negative_vectors);

// Self-mix of a masked-item model: the views' item vectors are mixed like
// their states. target_vectors1/2: [P, d] of view 1 and view 2.
at::Tensor labelled_self_mix_loss(const at::Tensor& h1, const at::Tensor& h2, const at::Tensor& alpha,
                                  const at::Tensor& target_vectors1, const at::Tensor& target_vectors2,
                                  const at::Tensor& negative_vectors);

// Cross-mix loss, mean over Q scored positions: position q mixes row self[q]
// of hidden, target_vectors and negative_vectors ([M, d]) with row
// partner[q] (the partner's state at the same position, or a zero row) with
// weight alpha[q] on its own. self, partner: [Q] int64; alpha [Q].
at::Tensor cross_mix_loss(const at::Tensor& hidden, const at::Tensor& target_vectors, const at::Tensor& negative_vectors,
                          const at::Tensor& alpha, const at::Tensor& self, const at::Tensor& partner);

}  // namespace caudal
