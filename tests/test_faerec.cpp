#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/optim/adam.h>

#include <cmath>
#include <limits>
#include <optional>
#include <set>

#include "caudal/method/faerec/faerec.h"
#include "caudal/method/faerec/fusion.h"
#include "caudal/method/faerec/fusion_report.h"
#include "caudal/model/sasrec.h"
#include "caudal/semantic/lexical.h"

namespace caudal {
namespace {

at::Tensor semantic_table(int64_t items, int64_t dim) {
  auto generator = at::detail::createCPUGenerator(7);
  auto table = at::randn({items + 1, dim}, generator);
  table[0].zero_();
  return table;
}

// SASRec of width 4 (the fused vectors' width), max_len 6.
BackboneConfig tiny_backbone() {
  BackboneConfig config;
  config.hidden = 4;
  config.heads = 2;
  config.max_len = 6;
  return config;
}

// The gate is sigmoid(W2 GELU(W1 [id ; sem] + b1) + b2), dimension by
// dimension, with b2 = 0 at the start; recomputed here from its weights.
TEST(FaerecFusion, GateIsTheTwoLayerSigmoidOfBothBranches) {
  torch::manual_seed(1);
  FusedItems items(semantic_table(10, 8), 4, 0.0, FaerecScoring::kConsistent);
  items.eval();  // no gate dropout
  auto id = 3 * at::randn({3, 5, 4}), sem = 3 * at::randn({3, 5, 4});
  auto g = items.gate(id, sem);
  auto p = items.named_parameters();
  EXPECT_EQ(p["gate_out.bias"].abs().sum().item<float>(), 0.f);
  auto hidden = at::gelu(at::linear(at::cat({id, sem}, -1), p["gate_in.weight"], p["gate_in.bias"]));
  auto expected = at::sigmoid(at::linear(hidden, p["gate_out.weight"], p["gate_out.bias"]));
  EXPECT_EQ(g.sizes(), (at::IntArrayRef{3, 5, 4}));
  EXPECT_TRUE(at::allclose(g, expected, 1e-5, 1e-6));
  // Each branch moves it.
  EXPECT_FALSE(at::allclose(items.gate(id, sem + 1), g));
  EXPECT_FALSE(at::allclose(items.gate(id + 1, sem), g));
}

TEST(FaerecFusion, FusedInputAndScoringTables) {
  torch::manual_seed(1);
  SASRec backbone(tiny_backbone());
  FusedItems consistent(semantic_table(10, 8), 4, 0.0, FaerecScoring::kConsistent);
  auto ids = at::tensor({0, 3, 4, 1, 2, 9}, at::kLong).view({2, 3});
  consistent.eval();
  EXPECT_EQ(consistent.embedded_input(ids, backbone).sizes(), (at::IntArrayRef{2, 3, 4}));
  auto table = consistent.output_table();
  EXPECT_EQ(table.sizes(), (at::IntArrayRef{11, 4}));
  // Consistent: training scores with the same vectors as ranking.
  EXPECT_TRUE(at::allclose(consistent.output(ids), at::embedding(table, ids), 1e-5, 1e-6));
  // Official: training scores with the raw ID embedding.
  torch::manual_seed(1);
  FusedItems official(semantic_table(10, 8), 4, 0.0, FaerecScoring::kOfficial);
  EXPECT_TRUE(at::equal(official.output(ids), official.id_vectors(ids)));
  EXPECT_FALSE(at::allclose(official.output(ids), at::embedding(official.output_table(), ids)));
}

// The fused input written from its definition (docs/faerec.md, "Model"), in
// evaluation mode: LayerNorm(g * id + (1 - g) * sem) with both branches
// carrying the backbone's position vectors of the window's width.
at::Tensor fused_input_by_definition(FusedItems& items, SASRec& backbone, const at::Tensor& ids) {
  auto positions = backbone.position_vectors(ids.size(1));
  auto id = items.id_vectors(ids) + positions, sem = items.semantic_vectors(ids) + positions;
  auto g = items.gate(id, sem);
  auto p = items.named_parameters();
  return at::layer_norm(g * id + (1 - g) * sem, {id.size(-1)}, p["norm.weight"], p["norm.bias"], 1e-12);
}

// One pass over windows of different widths (a random batch's length groups)
// gives each window what it gets alone.
TEST(FaerecFusion, WindowsOfDifferentWidthsGetTheirOwnPositions) {
  torch::manual_seed(1);
  SASRec backbone(tiny_backbone());
  FusedItems items(semantic_table(10, 8), 4, 0.0, FaerecScoring::kConsistent);
  items.eval();
  const std::vector<at::Tensor> windows = {at::tensor({0, 3, 4, 1, 2, 9}, at::kLong).view({2, 3}),
                                           at::tensor({5, 6, 7, 8, 9, 10, 0, 0, 1, 2}, at::kLong).view({2, 5}),
                                           at::tensor({4}, at::kLong).view({1, 1})};
  const auto together = items.embedded_inputs(windows, backbone);
  ASSERT_EQ(together.size(), windows.size());
  for (size_t w = 0; w < windows.size(); ++w) {
    const auto expected = fused_input_by_definition(items, backbone, windows[w]);
    EXPECT_EQ(together[w].sizes(), expected.sizes()) << "window " << w;
    EXPECT_TRUE(at::allclose(together[w], expected, 1e-5, 1e-6)) << "window " << w;
    EXPECT_TRUE(at::allclose(items.embedded_input(windows[w], backbone), expected, 1e-5, 1e-6)) << "window " << w;
  }
}

// semantic_vectors runs the adapter's first layer once per distinct item:
// the same vectors and gradients as the whole adapter on every occurrence,
// and in training the same dropout draws.
TEST(FaerecFusion, SemanticVectorsEqualTheAdapterOnEveryOccurrence) {
  auto fused = std::make_shared<FusedItems>(semantic_table(12, 8), 4, 0.2, FaerecScoring::kConsistent);
  fused->train();
  auto adapter = fused->named_children()["adapter"]->as<torch::nn::Sequential>();
  const auto ids = at::tensor({0, 0, 3, 5, 3, 0, 5, 12, 3, 7, 1, 3}, at::kLong).view({3, 4});
  auto run = [&](bool per_item) {
    fused->zero_grad();
    torch::manual_seed(11);
    auto out = per_item ? fused->semantic_vectors(ids) : adapter->forward(at::embedding(fused->semantic_table(), ids));
    (out * at::arange(out.numel(), out.options()).view(out.sizes())).sum().backward();
    std::vector<at::Tensor> grads;
    for (const auto& p : adapter->parameters()) grads.push_back(p.grad().clone());
    return std::make_pair(out.detach(), grads);
  };
  const auto [per_item, per_item_grads] = run(true);
  const auto [whole, whole_grads] = run(false);
  ASSERT_EQ(per_item.sizes(), (at::IntArrayRef{3, 4, 4}));
  EXPECT_TRUE(at::allclose(per_item, whole, 1e-5, 1e-6)) << (per_item - whole).abs().max().item<double>();
  for (size_t i = 0; i < whole_grads.size(); ++i)
    EXPECT_TRUE(at::allclose(per_item_grads[i], whole_grads[i], 1e-4, 1e-5)) << "parameter " << i;
}

// In a training step the adapter's first layer runs once per distinct item
// of the whole step; every lookup of the step (here three, overlapping, one
// with an item none of the others has, after one without autograd) still gets
// the adapter of each occurrence with its own dropout, and the same
// gradients, as without a step.
TEST(FaerecFusion, LookupsOfOneStepShareTheAdapterLayerExactly) {
  auto fused = std::make_shared<FusedItems>(semantic_table(12, 8), 4, 0.2, FaerecScoring::kConsistent);
  fused->train();
  auto adapter = fused->named_children()["adapter"]->as<torch::nn::Sequential>();
  const auto inputs = at::tensor({0, 0, 3, 5, 3, 0, 5, 12}, at::kLong).view({2, 4});
  const auto targets = at::tensor({3, 5, 9, 12, 7, 7}, at::kLong);
  const auto aligned = at::tensor({12, 3, 1, 7, 5, 3, 3}, at::kLong);
  auto run = [&](bool in_step) {
    fused->zero_grad();
    torch::manual_seed(11);
    std::optional<StepScope> step;
    if (in_step) step.emplace(*fused);
    {
      // A lookup without a graph first: its rows must not stand in for the others'.
      torch::NoGradGuard no_grad;
      fused->semantic_vectors(aligned);
    }
    std::vector<at::Tensor> outs = {fused->semantic_vectors(inputs), fused->output(targets), fused->semantic_vectors(aligned)};
    step.reset();
    auto loss = at::zeros({});
    for (const auto& out : outs) loss = loss + (out * at::arange(out.numel(), out.options()).view(out.sizes()).sin()).sum();
    loss.backward();
    std::vector<at::Tensor> grads;
    for (const auto& p : adapter->parameters()) grads.push_back(p.grad().clone());
    for (auto& out : outs) out = out.detach();
    return std::make_pair(outs, grads);
  };
  const auto [shared, shared_grads] = run(true);
  const auto [alone, alone_grads] = run(false);
  for (size_t i = 0; i < alone.size(); ++i)
    EXPECT_TRUE(at::allclose(shared[i], alone[i], 1e-5, 1e-6)) << "lookup " << i << ": "
                                                                << (shared[i] - alone[i]).abs().max().item<double>();
  for (size_t i = 0; i < alone_grads.size(); ++i)
    EXPECT_TRUE(at::allclose(shared_grads[i], alone_grads[i], 1e-4, 1e-5)) << "parameter " << i;
}

TEST(FaerecFusion, IdEmbeddingsStartAsThePcaOfTheSemanticTable) {
  auto semantic = semantic_table(12, 8);
  FusedItems items(semantic, 4, 0.0, FaerecScoring::kConsistent);
  auto ids = at::arange(13, at::kLong);
  EXPECT_TRUE(at::allclose(items.id_vectors(ids), pca_project(semantic, 4), 1e-5, 1e-6));
}

TEST(FaerecFusion, TheSemanticTableGetsNoGradient) {
  auto semantic = semantic_table(10, 8);
  FusedItems items(semantic, 4, 0.1, FaerecScoring::kConsistent);
  for (const auto& p : items.named_parameters()) EXPECT_EQ(p.key().find("semantic"), std::string::npos) << p.key();
  torch::optim::Adam adam(items.parameters(), torch::optim::AdamOptions(0.1));
  auto ids = at::tensor({1, 2, 3, 4}, at::kLong);
  auto loss = items.output(ids).pow(2).sum() + items.semantic_vectors(ids).sum();
  adam.zero_grad();
  loss.backward();
  adam.step();
  EXPECT_FALSE(items.semantic_table().requires_grad());
  EXPECT_TRUE(at::equal(items.semantic_table(), semantic));
}

TEST(FaerecFusion, SummaryByItemGroup) {
  torch::manual_seed(1);
  SASRec backbone(tiny_backbone());
  FusedItems items(semantic_table(4, 8), 4, 0.0, FaerecScoring::kConsistent);
  items.eval();
  // A gate that ignores its input: g = sigmoid(bias) = (1/2, 3/4, 1/2, 1/2).
  {
    torch::NoGradGuard no_grad;
    auto parameters = items.named_parameters();
    parameters["gate_out.weight"].zero_();
    parameters["gate_out.bias"].copy_(at::tensor({0.0, std::log(3.0), 0.0, 0.0}));
  }
  ItemUserGroups groups;
  groups.item_train_count = {0, 1, 7, 60, 3};
  groups.is_head_item = {0, 0, 0, 1, 0};
  const auto summary = summarise_fusion(items, backbone, tiny_backbone().max_len, groups);
  // head {3}, tail {1, 2, 4}, buckets 1-4 {1, 4}, 5-9 {2}, 50+ {3}; empty buckets left out.
  ASSERT_EQ(summary.size(), 5u);
  const std::vector<std::string> names{"head", "tail", "1-4", "5-9", "50+"};
  const std::vector<std::vector<int64_t>> members{{3}, {1, 2, 4}, {1, 4}, {2}, {3}};
  for (size_t g = 0; g < names.size(); ++g) {
    EXPECT_EQ(summary[g].group, names[g]);
    EXPECT_EQ(summary[g].items, static_cast<int64_t>(members[g].size()));
    EXPECT_NEAR(summary[g].id_share, 0.5625, 1e-6);
    double id_norm = 0, semantic_norm = 0, cosine = 0;
    for (int64_t item : members[g]) {
      auto id = items.id_vectors(at::tensor({item}, at::kLong))[0];
      auto semantic = items.semantic_vectors(at::tensor({item}, at::kLong))[0];
      id_norm += id.norm().item<double>() / members[g].size();
      semantic_norm += semantic.norm().item<double>() / members[g].size();
      cosine += (id.dot(semantic) / (id.norm() * semantic.norm())).item<double>() / members[g].size();
    }
    EXPECT_NEAR(summary[g].id_norm, id_norm, 1e-5) << names[g];
    EXPECT_NEAR(summary[g].semantic_norm, semantic_norm, 1e-5) << names[g];
    EXPECT_NEAR(summary[g].cosine, cosine, 1e-5) << names[g];
  }
}

TEST(FaerecLosses, ItemAlignmentMatchesHandComputation) {
  // u = (1,0), (0,1); v = (1,0), (1,1)/sqrt2 after normalising; tau 1.
  auto u = at::tensor({1.f, 0.f, 0.f, 1.f}).view({2, 2});
  auto v = at::tensor({1.f, 0.f, 1.f, 1.f}).view({2, 2});
  const double s = 1.0 / std::sqrt(2.0);
  // Row 0: logits (1, s), answer 0. Row 1: logits (0, s), answer 1.
  const double row0 = -std::log(std::exp(1.0) / (std::exp(1.0) + std::exp(s)));
  const double row1 = -std::log(std::exp(s) / (std::exp(0.0) + std::exp(s)));
  const auto once = at::ones({2}, at::kLong);  // each item held by one token
  auto loss = item_alignment_loss(u, v, once, 1.0);
  EXPECT_NEAR(loss.item<double>(), (row0 + row1) / 2, 1e-6);
  // tau scales the logits.
  const double t = 0.5;
  const double r0 = -std::log(std::exp(1 / t) / (std::exp(1 / t) + std::exp(s / t)));
  const double r1 = -std::log(std::exp(s / t) / (1 + std::exp(s / t)));
  EXPECT_NEAR(item_alignment_loss(u, v, once, t).item<double>(), (r0 + r1) / 2, 1e-5);
}

TEST(FaerecLosses, DuplicateOccurrencesAreNotNegatives) {
  // Tokens of items 5, 5, 7, given as the distinct items 5 (two tokens) and 7.
  // A token of 5 must not count the other 5 as a negative; the token of 7
  // counts both.
  auto u = at::tensor({0.6f, 0.8f, 0.f, 1.f}).view({2, 2});
  auto v = at::tensor({0.8f, 0.6f, 0.f, 1.f}).view({2, 2});
  auto s = at::matmul(u, v.t()).to(at::kDouble);  // rows already unit length
  auto logit = [&](int a, int b) { return s[a][b].item<double>(); };
  const double five = -(logit(0, 0) - std::log(std::exp(logit(0, 0)) + std::exp(logit(0, 1))));
  const double seven = -(logit(1, 1) - std::log(2 * std::exp(logit(1, 0)) + std::exp(logit(1, 1))));
  EXPECT_NEAR(item_alignment_loss(u, v, at::tensor({2, 1}, at::kLong), 1.0).item<double>(), (2 * five + seven) / 3, 1e-6);
}

TEST(FaerecLosses, DistinctTokensCountEachItem) {
  const auto distinct = distinct_tokens(at::tensor({7, 5, 9, 5, 5, 7}, at::kLong));
  EXPECT_TRUE(at::equal(distinct.items, at::tensor({5, 7, 9}, at::kLong)));
  EXPECT_TRUE(at::equal(distinct.counts, at::tensor({3, 2, 1}, at::kLong)));
  EXPECT_TRUE(at::equal(distinct.row_of_token, at::tensor({1, 0, 2, 0, 0, 1}, at::kLong)));
}

// The loss by its definition, through autograd: the reference for the
// hand-written backward, which must give the same value and gradients.
at::Tensor item_alignment_by_definition(const at::Tensor& u, const at::Tensor& v, const at::Tensor& items, double tau) {
  auto normalise = [](const at::Tensor& x) { return x / x.norm(2, -1, true).clamp_min(1e-12); };
  auto logits = at::matmul(normalise(u), normalise(v).t()) / tau;
  const int64_t n = u.size(0);
  auto duplicates = items.unsqueeze(0).eq(items.unsqueeze(1)).logical_and(at::eye(n, at::kBool).logical_not());
  logits = logits.masked_fill(duplicates, -std::numeric_limits<double>::infinity());
  return at::cross_entropy_loss(logits, at::arange(n, at::kLong));
}

TEST(FaerecLosses, DistinctItemAlignmentEqualsTheDefinitionOnTokensWithGradients) {
  // 700 tokens over 150 items: many duplicates. The definition runs on every
  // token (each with its item's u and v), the hand-written loss once per item.
  auto generator = at::detail::createCPUGenerator(3);
  auto items = at::randint(1, 151, {700}, generator, at::kLong);
  const auto distinct = distinct_tokens(items);
  const int64_t m = distinct.items.size(0);
  ASSERT_GT(m, 128);  // more than one block of rows
  auto u0 = at::randn({m, 8}, generator), v0 = at::randn({m, 8}, generator);
  auto run = [&](bool hand_written) {
    auto u = u0.clone().requires_grad_(), v = v0.clone().requires_grad_();
    auto loss = hand_written ? item_alignment_loss(u, v, distinct.counts, 0.05)
                             : item_alignment_by_definition(u.index_select(0, distinct.row_of_token),
                                                            v.index_select(0, distinct.row_of_token), items, 0.05);
    (loss * 3.0).backward();  // a non-unit upstream gradient
    return std::make_tuple(loss.item<double>(), u.grad(), v.grad());
  };
  const auto [written, written_du, written_dv] = run(true);
  const auto [reference, reference_du, reference_dv] = run(false);
  EXPECT_NEAR(written, reference, 1e-5 * reference);
  EXPECT_TRUE(at::allclose(written_du, reference_du, 1e-4, 1e-6)) << (written_du - reference_du).abs().max().item<double>();
  EXPECT_TRUE(at::allclose(written_dv, reference_dv, 1e-4, 1e-6)) << (written_dv - reference_dv).abs().max().item<double>();
}

TEST(FaerecLosses, ChunkedAlignmentEqualsTheWholeWhenOneChunkFits) {
  auto u = at::randn({10, 4}), v = at::randn({10, 4});
  const auto counts = at::tensor({1, 2, 1, 1, 3, 1, 1, 2, 1, 1}, at::kLong);  // 14 tokens
  std::mt19937_64 rng(1);
  EXPECT_NEAR(chunked_item_alignment_loss(u, v, counts, 0.1, 14, rng).item<double>(),
              item_alignment_loss(u, v, counts, 0.1).item<double>(), 1e-6);
}

TEST(FaerecLosses, ChunksHoldAboutChunkTokensOfWholeItems) {
  // Mutually orthogonal item rows, so that a token's term depends only on how
  // many tokens of other items share its chunk (logit 0 each) beside its own
  // column (logit 1 / tau). Four items of two tokens, chunks of four tokens:
  // every shuffle makes two chunks of two whole items.
  const double tau = 0.5;
  auto u = at::eye(4), v = at::eye(4);
  const auto counts = at::tensor({2, 2, 2, 2}, at::kLong);
  const double expected = std::log(std::exp(1 / tau) + 2) - 1 / tau;
  for (uint64_t seed = 0; seed < 8; ++seed) {
    std::mt19937_64 rng(seed);
    EXPECT_NEAR(chunked_item_alignment_loss(u, v, counts, tau, 4, rng).item<double>(), expected, 1e-5) << seed;
  }
}

TEST(FaerecLosses, AnItemLargerThanAShareIsCutOnceAndTheNextCutWaitsForTheShareAfterIt) {
  // Items of 9, 1, 1, 1 tokens, chunks of 4: three shares of 4 tokens. The big
  // item passes two shares at once; the next cut must wait for the third
  // (cutting at the second would leave a small item alone). Where the big item
  // lands in the shuffle decides the chunks, hence the loss (orthogonal rows:
  // a token's term depends on the other tokens in its chunk):
  //   first:  {9}, {1, 1, 1};   second: {1, 9}, {1, 1};
  //   third:  {1, 1, 9}, {1};   last:   {1, 1, 1, 9}.
  const double tau = 0.5;
  auto u = at::eye(4), v = at::eye(4);
  const auto counts = at::tensor({9, 1, 1, 1}, at::kLong);
  auto term = [&](double others) { return std::log(std::exp(1 / tau) + others) - 1 / tau; };
  const std::vector<double> by_position = {3 * term(2) / 12, (term(9) + 9 * term(1) + 2 * term(1)) / 12,
                                           (2 * term(10) + 9 * term(2)) / 12, (3 * term(11) + 9 * term(3)) / 12};
  std::set<size_t> drawn;
  for (uint64_t seed = 0; seed < 64; ++seed) {
    std::mt19937_64 rng(seed);
    const double loss = chunked_item_alignment_loss(u, v, counts, tau, 4, rng).item<double>();
    size_t position = 0;
    while (position < by_position.size() && std::abs(loss - by_position[position]) > 1e-5) ++position;
    EXPECT_LT(position, by_position.size()) << "seed " << seed << ": " << loss;
    drawn.insert(position);
  }
  EXPECT_EQ(drawn, (std::set<size_t>{0, 1, 2, 3}));  // every position was drawn
}

TEST(FaerecLosses, BarlowTwinsMatchesHandComputation) {
  auto u = at::tensor({1.0, 2.0, 0.0, 1.0, 3.0, 5.0}, at::kDouble).view({3, 2});
  auto v = at::tensor({2.0, 0.0, 1.0, 1.0, 0.0, 3.0}, at::kDouble).view({3, 2});
  const double gamma = 0.005;
  // Standardise each column: mean 0, unbiased std (+ 1e-5).
  auto standardise = [](std::vector<double> x) {
    double mean = 0, var = 0;
    for (double a : x) mean += a / x.size();
    for (double a : x) var += (a - mean) * (a - mean) / (x.size() - 1);
    for (double& a : x) a = (a - mean) / (std::sqrt(var) + 1e-5);
    return x;
  };
  std::vector<std::vector<double>> su = {standardise({1, 0, 3}), standardise({2, 1, 5})};
  std::vector<std::vector<double>> sv = {standardise({2, 1, 0}), standardise({0, 1, 3})};
  double expected = 0;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) {
      double c = 0;
      for (int n = 0; n < 3; ++n) c += su[i][n] * sv[j][n] / 3;
      expected += i == j ? (1 - c) * (1 - c) : gamma * c * c;
    }
  EXPECT_NEAR(barlow_twins_loss(u, v, gamma).item<double>(), expected, 1e-9);
}

TEST(FaerecCurriculum, CyclicCosineWeights) {
  FaerecOptions options;
  options.w_min = 0.7;
  options.w_max = 1.0;
  options.period = 20;
  auto at0 = curriculum_weights(0, options), half = curriculum_weights(10, options), full = curriculum_weights(20, options);
  EXPECT_NEAR(at0.first, 1.0, 1e-12);
  EXPECT_NEAR(at0.second, 0.0, 1e-12);
  EXPECT_NEAR(half.first, 0.7, 1e-12);
  EXPECT_NEAR(half.second, 0.3, 1e-12);
  EXPECT_NEAR(full.first, 1.0, 1e-12);
  EXPECT_NEAR(curriculum_weights(5, options).first, 0.85, 1e-12);  // a quarter period: halfway
}

}  // namespace
}  // namespace caudal
