// FAERec as a Method (docs/faerec.md, "Alignment" and
// "Curriculum"):
// on the batch's item tokens (every real input item and every sampled
// negative), with u = e_id and v = adapter(e_sem), both computed once per
// distinct item (the adapter's dropout drawn once per item):
//   item level:    InfoNCE of normalised u against v (temperature tau),
//                  other occurrences of the same item masked out; computed
//                  on the distinct items (item_alignment_loss);
//   feature level: Barlow Twins cross-correlation of standardised u and v,
//                  separately for tokens at or above the batch-median
//                  training popularity and below it;
//   L += lambda (w_item(e) L_item + w_feat(e) L_feat), with the cyclic cosine
//   curriculum w_item(e) = (w_max - w_min)(1 + cos(2 pi e / P)) / 2 + w_min,
//   w_feat = 1 - w_item.
// It reads the two branches of the model's FusedItems (see registry.h).
#pragma once

#include <vector>

#include "caudal/method/faerec/fusion.h"
#include "caudal/method/method.h"

namespace caudal {

struct FaerecOptions {
  std::string semantic;  // vector file (.npy or text)
  FaerecScoring scoring = FaerecScoring::kConsistent;
  double align_weight = 0.2;  // lambda
  double tau = 0.05;
  double gamma = 0.005;
  double w_min = 0.9;
  double w_max = 1.0;
  double period = 30;
  // Item-level alignment compares every token with every other: quadratic in
  // the batch's distinct items (up to 2 * batch * max_len = 25,600 tokens in a
  // length-bucketed batch of long sequences, about 2,900 tokens holding 2,450
  // items in an unbucketed Beauty batch). The items are split at random into
  // chunks of about this many tokens (an item's tokens stay together), each
  // its own InfoNCE problem. 1024 costs a third of 3072 (what the
  // official code's unbucketed batches compare) and gave the same Beauty test
  // metrics within two seeds (docs/results.md, "FAERec's alignment").
  int64_t align_chunk = 1024;
};

// Weights (item level, feature level) of epoch e (0-based).
std::pair<double, double> curriculum_weights(int64_t epoch, const FaerecOptions& options);

// A batch's item tokens as distinct items: items [m] (ascending), counts [m]
// (how many tokens hold each), row_of_token [N] (each token's item's row).
struct DistinctTokens {
  at::Tensor items, counts, row_of_token;
};
DistinctTokens distinct_tokens(const at::Tensor& tokens);

// The item-level InfoNCE of a batch's tokens, computed on its distinct items.
// u, v: [m, d], one row per item; counts: [m] its tokens. Equal to the
// per-token definition (docs/faerec.md: each token's normalised u against
// every token's normalised v over tau, its own v the answer, the other tokens
// of its item left out, mean over tokens) when every token of an item has
// that item's u and v:
//   loss = sum_a c_a (log(e^{s_aa} + sum_{b != a} c_b e^{s_ab}) - s_aa) / sum_a c_a.
// Costs m^2 d instead of N^2 d.
at::Tensor item_alignment_loss(const at::Tensor& u, const at::Tensor& v, const at::Tensor& counts, double tau);

// item_alignment_loss over random chunks of the items: up to
// ceil(N / chunk) chunks (N = sum of counts) of about N / ceil(N / chunk)
// tokens each (more where one item holds more tokens than that), every
// item's tokens in one chunk, each chunk its own problem, weighted by its
// tokens (= the whole problem when one chunk suffices).
at::Tensor chunked_item_alignment_loss(const at::Tensor& u, const at::Tensor& v, const at::Tensor& counts, double tau,
                                       int64_t chunk, std::mt19937_64& rng);

// sum_i (1 - C_ii)^2 + gamma sum_{i != j} C_ij^2, C = U^T V / N of the
// standardised (mean 0, unbiased std 1, eps 1e-5) columns.
at::Tensor barlow_twins_loss(const at::Tensor& u, const at::Tensor& v, double gamma);

class Faerec : public Method {
 public:
  // items: the model's fused representation; item_train_count: training
  // popularity per item id (the median split).
  Faerec(FaerecOptions options, std::shared_ptr<FusedItems> items, std::vector<int64_t> item_train_count);
  std::string name() const override { return "faerec"; }
  void on_epoch(int64_t epoch) override { weights_ = curriculum_weights(epoch, options_); }
  NamedLosses losses(TrainingStep& step) override;

 private:
  FaerecOptions options_;
  std::shared_ptr<FusedItems> items_;
  at::Tensor popularity_;  // [num_items + 1] float
  std::pair<double, double> weights_{1.0, 0.0};
};

}  // namespace caudal
