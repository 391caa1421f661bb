#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <random>
#include <set>

#include "caudal/data/batcher.h"
#include "caudal/method/tada/tada.h"
#include "caudal/objective/losses.h"
#include "caudal/objective/masked_items.h"
#include "caudal/run/trained_model.h"
#include "caudal/train/trainer.h"
#include "test_util.h"

namespace caudal {
namespace {

std::vector<std::vector<int64_t>> random_sequences(int64_t users, int64_t items, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::vector<int64_t>> seqs(users);
  for (auto& s : seqs) {
    const int64_t len = 3 + static_cast<int64_t>(rng() % 6);
    for (int64_t k = 0; k < len; ++k) s.push_back(1 + static_cast<int64_t>(rng() % items));
  }
  return seqs;
}

// The neighbour rule of docs/tada.md applied to a dense B, written plainly.
std::vector<int64_t> reference_neighbours(const at::Tensor& weights, int64_t item, const LisOptions& options) {
  const int64_t n = weights.size(0), i = item - 1;
  auto row = weights[i].to(at::kDouble).contiguous();
  std::vector<std::pair<double, int64_t>> passing, all;
  for (int64_t j = 0; j < n; ++j) {
    if (j == i) continue;
    const double b = row[j].item<double>();
    all.emplace_back(b, j);
    if (b >= options.threshold) passing.emplace_back(b, j);
  }
  auto& pool = passing.empty() ? all : passing;
  std::stable_sort(pool.begin(), pool.end(), [](auto& a, auto& b) { return a.first > b.first; });
  std::vector<int64_t> out;
  for (size_t k = 0; k < pool.size() && static_cast<int64_t>(k) < options.top_k; ++k) out.push_back(pool[k].second + 1);
  return out;
}

TEST(Lis, GramMatrixCountsCoOccurringUsers) {
  auto seqs = random_sequences(40, 9, 1);
  auto gram = item_gram_matrix(seqs, 9);
  auto x = at::zeros({40, 9}, at::kFloat);
  for (size_t u = 0; u < seqs.size(); ++u)
    for (int64_t item : seqs[u]) x[u][item - 1] = 1.0;
  EXPECT_TRUE(at::equal(gram, at::matmul(x.t(), x)));
}

TEST(Lis, ClosedFormMatchesDirectComputation) {
  auto seqs = random_sequences(60, 15, 2);
  LisOptions options;
  options.top_k = 4;
  options.threshold = 0.05;
  auto gram = item_gram_matrix(seqs, 15);
  // Direct: P = (G + lambda I)^-1 in double precision, then the definition.
  auto p = at::inverse(gram.to(at::kDouble) + options.lambda * at::eye(15, at::kDouble));
  auto b = lis_weights_from_inverse(p, options);
  for (int64_t j = 0; j < 15; ++j) {
    const double pjj = p[j][j].item<double>();
    const double gamma = (1 - options.lambda * pjj <= options.xi) ? options.lambda : (1 - options.xi) / pjj;
    for (int64_t i = 0; i < 15; ++i) {
      const double expected = (i == j ? std::min(1.0 - pjj * gamma, options.xi) : -p[i][j].item<double>() * gamma);
      EXPECT_NEAR(b[i][j].item<double>(), expected, 1e-6);  // gamma is kept in float32, as the solve is
    }
  }
  std::vector<int64_t> query(15);
  std::iota(query.begin(), query.end(), 1);
  auto general = lis_neighbours_general_inverse(gram, query, options);
  auto in_place_gram = gram.clone();
  auto fast = lis_neighbours(in_place_gram, query, options);
  EXPECT_TRUE(at::allclose(in_place_gram.to(at::kDouble), p, 1e-4, 1e-5)) << "the buffer must end up holding P";
  for (int64_t item : query) {
    EXPECT_EQ(fast[item - 1], reference_neighbours(b, item, options)) << "item " << item;
    EXPECT_EQ(general[item - 1], fast[item - 1]) << "item " << item;
  }
}

TEST(Lis, FallsBackToTopKWhenNothingPassesTheThreshold) {
  auto seqs = random_sequences(30, 8, 3);
  LisOptions options;
  options.threshold = 1e9;
  options.top_k = 3;
  auto gram = item_gram_matrix(seqs, 8);
  auto neighbours = lis_neighbours(gram, {1, 5}, options);
  for (const auto& n : neighbours) EXPECT_EQ(n.size(), 3u);
}

TEST(TadaPreparation, CooccurrenceSetsAndPreference) {
  // head items: 1 and 2 (is_head_item), the rest tail.
  std::vector<uint8_t> head = {0, 1, 1, 0, 0, 0};
  auto sets = cooccurrence_sets({{3, 1, 4, 2, 2}, {5, 3, 2}}, head, 5);
  EXPECT_EQ(sets[1], (std::vector<int64_t>{3, 4}));  // tail neighbours on both sides
  EXPECT_EQ(sets[2], (std::vector<int64_t>{3, 4}));  // 4 before, 3 before; the 2 after 2 is head
  EXPECT_EQ(sets[4], (std::vector<int64_t>{1}));     // tail: every item right before
  EXPECT_EQ(sets[3], (std::vector<int64_t>{5}));
  EXPECT_TRUE(sets[5].empty());
  auto ds = testing::dataset_from({{1, 1, 1, 3, 9, 9}, {3, 4, 5, 1, 9, 9}, {1, 6, 9, 9}}, 0.3);
  // Seen in training: 1 (5x), 3, 4, 5, 6 -> floor(0.3 * 5) = 1 head item: 1.
  ASSERT_TRUE(ds.groups().is_head_item[1]);
  auto pref = tail_preference(ds);
  EXPECT_EQ(pref, (std::vector<uint8_t>{0, 1, 1}));  // 1 of 4 tail; 3 of 4; 1 of 2 (half counts as tail)
}

CandidateSets toy_candidates() {
  CandidateSets c(11);
  c[1] = {7, 8};  // head item with candidates
  c[2] = {};      // head item without
  c[5] = {9};     // tail item with candidates
  c[6] = {10};
  return c;
}
const std::vector<uint8_t> kHead = {0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0};  // 1, 2, 3 head

TEST(TadaOperators, SubstituteOnlyReplacesHeadItemsByTheirCandidates) {
  const std::vector<int64_t> seq = {1, 5, 2, 1, 6, 1}, tg = {5, 2, 1, 6, 1, 4}, ng = {11, 11, 11, 11, 11, 11};
  std::mt19937_64 rng(4);
  const auto candidates = toy_candidates();
  int replaced = 0;
  for (int trial = 0; trial < 200; ++trial) {
    auto row = t_substitute(seq, tg, ng, candidates, kHead, 0.5, rng);
    EXPECT_EQ(row.view1, seq);
    EXPECT_EQ(row.targets, tg);
    EXPECT_EQ(row.negatives, ng);
    ASSERT_EQ(row.view2.size(), seq.size());
    for (size_t k = 0; k < seq.size(); ++k) {
      if (row.view2[k] == seq[k]) continue;
      ++replaced;
      EXPECT_TRUE(kHead[seq[k]]) << "only head items change";
      const auto& c = candidates[seq[k]];
      EXPECT_NE(std::find(c.begin(), c.end(), row.view2[k]), c.end()) << "only into their candidates";
    }
  }
  EXPECT_GT(replaced, 0);
  auto all = t_substitute(seq, tg, ng, toy_candidates(), kHead, 1.0, rng);
  EXPECT_NE(all.view2[0], 1);
  EXPECT_EQ(all.view2[2], 2);  // no candidates: kept
  auto none = t_substitute(seq, tg, ng, toy_candidates(), kHead, 0.0, rng);
  EXPECT_EQ(none.view2, seq);
}

TEST(TadaOperators, InsertDuplicatesAroundTailItems) {
  const std::vector<int64_t> seq = {1, 5, 2, 6}, tg = {5, 2, 6, 3}, ng = {21, 22, 23, 24};
  std::mt19937_64 rng(5);
  auto row = t_insert(seq, tg, ng, toy_candidates(), kHead, 1.0, 50, rng);
  // Rate 1: both tail items with candidates (5 and 6) get an insertion.
  EXPECT_EQ(row.view1, (std::vector<int64_t>{1, 5, 5, 2, 6, 6}));
  EXPECT_EQ(row.view2, (std::vector<int64_t>{1, 9, 5, 2, 10, 6}));
  EXPECT_EQ(row.targets, (std::vector<int64_t>{5, 2, 2, 6, 3, 3}));
  EXPECT_EQ(row.negatives, (std::vector<int64_t>{21, 22, 22, 23, 24, 24}));
  EXPECT_TRUE(row.inserted);
  auto cut = t_insert(seq, tg, ng, toy_candidates(), kHead, 1.0, 4, rng);
  EXPECT_EQ(cut.view1, (std::vector<int64_t>{5, 2, 6, 6}));
  EXPECT_EQ(cut.view2, (std::vector<int64_t>{5, 2, 10, 6}));
  EXPECT_EQ(cut.targets, (std::vector<int64_t>{2, 6, 3, 3}));
  auto none = t_insert(seq, tg, ng, toy_candidates(), kHead, 0.0, 50, rng);
  EXPECT_EQ(none.view1, seq);
  EXPECT_EQ(none.view2, seq);
}

TEST(TadaOperators, InsertProbabilityAndRateDraw) {
  EXPECT_DOUBLE_EQ(insert_probability(10, 50), 0.8);
  EXPECT_DOUBLE_EQ(insert_probability(50, 50), 0.0);
  EXPECT_DOUBLE_EQ(insert_probability(70, 50), 0.0);
  // 10 of 50: T-Insert about 80% of the time.
  std::vector<int64_t> seq(10, 5), tg(10, 4), ng(10, 11);
  std::mt19937_64 rng(6);
  AugmentOptions options;
  int inserts = 0;
  double substituted = 0, head_positions = 0;
  std::vector<int64_t> heads(10, 1);
  for (int trial = 0; trial < 4000; ++trial) {
    inserts += augment(seq, tg, ng, toy_candidates(), kHead, options, rng).inserted ? 1 : 0;
    // An all-head row can only be substituted when p_insert is 0 (length 50):
    // the share replaced estimates the mean rate, (0.31 + 0.51) / 2.
    std::vector<int64_t> long_heads(50, 1), t(50, 4), n(50, 11);
    auto row = augment(long_heads, t, n, toy_candidates(), kHead, options, rng);
    ASSERT_FALSE(row.inserted);
    for (int64_t item : row.view2) substituted += item != 1;
    head_positions += 50;
  }
  EXPECT_NEAR(inserts / 4000.0, 0.8, 0.03);
  EXPECT_NEAR(substituted / head_positions, 0.41, 0.01);
}

TEST(TadaMixing, BetaWeightsAreInTheUnitInterval) {
  std::mt19937_64 rng(7);
  auto alpha = sample_beta(20000, 0.3, rng);
  double sum = 0;
  int extreme = 0;
  for (double a : alpha) {
    ASSERT_GE(a, 0.0);
    ASSERT_LE(a, 1.0);
    sum += a;
    extreme += (a < 0.1 || a > 0.9);
  }
  EXPECT_NEAR(sum / alpha.size(), 0.5, 0.01);
  EXPECT_GT(extreme / 20000.0, 0.5);  // Beta(0.3, 0.3) is U-shaped
}

TEST(TadaMixing, CrossMixPoolsNeverMixPreferenceGroups) {
  const std::vector<uint8_t> preference = {1, 0, 0, 1, 1, 0};
  const std::vector<int64_t> users = {4, 1, 0, 2, 5};  // preferences 1 0 1 0 0
  auto pools = cross_mix_pools(users, preference);
  const auto rows = static_cast<int64_t>(users.size());
  EXPECT_EQ(pools[0], (std::vector<int64_t>{0, 2, 5, 7}));
  EXPECT_EQ(pools[1], (std::vector<int64_t>{1, 3, 4, 6, 8, 9}));
  for (size_t p = 0; p < 2; ++p)
    for (int64_t member : pools[p]) EXPECT_EQ(preference[users[member % rows]], p == 0 ? 1 : 0);
}

TEST(TadaMixing, MixLossesReduceToPlainBce) {
  auto h = at::randn({6, 5}), t = at::randn({6, 5}), n = at::randn({6, 5});
  auto plain = next_item_bce(h, t, n, at::ones({6}, at::kBool)).item<double>();
  auto rows = at::arange(6, at::kLong);
  EXPECT_NEAR(cross_mix_loss(h, t, n, at::rand({6}), rows, rows).item<double>(), plain, 1e-5);
  auto shuffled = at::tensor({2, 0, 3, 1, 5, 4}, at::kLong);
  EXPECT_NEAR(cross_mix_loss(h, t, n, at::ones({6}), rows, shuffled).item<double>(), plain, 1e-5);
  EXPECT_NEAR(self_mix_loss(h, at::randn({6, 5}), at::ones({6}), t, n).item<double>(), plain, 1e-5);
  // alpha 0.5 with a partner: the mixed state is the mean of the two.
  auto half = cross_mix_loss(h, t, n, at::full({6}, 0.5), rows, shuffled).item<double>();
  auto mix = [&](const at::Tensor& x) { return 0.5 * x + 0.5 * x.index_select(0, shuffled); };
  EXPECT_NEAR(half, next_item_bce(mix(h), mix(t), mix(n), at::ones({6}, at::kBool)).item<double>(), 1e-6);
}

TEST(TadaBatch, SameSeedSameAugmentedBatch) {
  std::vector<std::vector<int64_t>> seqs;
  for (int64_t u = 0; u < 12; ++u) {
    std::vector<int64_t> s;
    for (int64_t k = 0; k < 5 + u; ++k) s.push_back(1 + (u * 5 + k * 3) % 40);
    seqs.push_back(s);
  }
  auto ds = testing::dataset_from(seqs);
  TadaPreparation prep;
  prep.tail_preference = tail_preference(ds);
  prep.candidates = cooccurrence_sets(recent_training_parts(ds, 50), ds.groups().is_head_item, ds.num_items());
  Tada tada(prep, ds.groups().is_head_item, TadaOptions{}, true);
  TrainBatcher batcher(ds, BatchOptions{50, 12, true}, 1);
  auto batch = batcher.epoch(0).front();
  auto rng_a = make_rng(3, RandomStream::kMethods, 0), rng_b = make_rng(3, RandomStream::kMethods, 0), rng_c = make_rng(4, RandomStream::kMethods, 0);
  auto a = tada.augment_batch(batch, rng_a), b = tada.augment_batch(batch, rng_b), c = tada.augment_batch(batch, rng_c);
  EXPECT_TRUE(at::equal(a.view1, b.view1));
  EXPECT_TRUE(at::equal(a.view2, b.view2));
  EXPECT_TRUE(at::equal(a.targets, b.targets));
  EXPECT_TRUE(at::equal(a.negatives, b.negatives));
  EXPECT_FALSE(a.view2.sizes() == c.view2.sizes() && at::equal(a.view2, c.view2)) << "another seed, another batch";
  // Views keep the rows' targets where nothing was inserted, and never exceed max_len.
  EXPECT_LE(a.view1.size(1), 50);
  EXPECT_TRUE(at::equal(a.view1.gt(0), a.targets.gt(0)));
  EXPECT_TRUE(at::equal(a.view2.gt(0), a.view1.gt(0)));
}

// A masked-item model's views: both masked at the same positions, each scored
// there against its own items, which differ only where an operator put a
// candidate in view 2; with rates 0 the views are the window itself.
TEST(TadaBatch, MaskedItemViewsShareTheirMaskAndKeepTheirOwnItems) {
  auto ds = testing::dataset_from(random_sequences(40, 30, 11));
  TadaPreparation prep;
  prep.tail_preference = tail_preference(ds);
  prep.candidates = cooccurrence_sets(recent_training_parts(ds, 20), ds.groups().is_head_item, ds.num_items());
  TrainBatcher batcher(ds, BatchOptions{20, 40, false}, 1);
  auto window = batcher.epoch(0).front();
  const int64_t mask_token = ds.num_items() + 1;
  auto views_of = [&](double rate) {
    TadaOptions options;
    options.augment.max_len = 20;
    options.augment.rate_a = options.augment.rate_b = rate;
    options.mask_ratio = 0.3;
    auto rng = make_rng(2, RandomStream::kMethods, 0);
    return Tada(prep, ds.groups().is_head_item, options, false).masked_views(window, mask_token, rng);
  };
  // The item a view holds at each position, the mask undone.
  auto unmasked = [&](const at::Tensor& view, const at::Tensor& targets) {
    return at::where(view.eq(mask_token), targets, view);
  };
  auto plain = views_of(0.0);
  EXPECT_TRUE(at::equal(unmasked(plain.view1, plain.targets), window.targets));
  EXPECT_TRUE(at::equal(unmasked(plain.view2, plain.targets2), window.targets));

  auto v = views_of(1.0);
  const auto mask = v.view1.eq(mask_token);
  EXPECT_TRUE(at::equal(mask, v.view2.eq(mask_token)));
  EXPECT_TRUE(at::equal(mask, v.targets.gt(0)));
  EXPECT_TRUE(at::equal(mask, v.targets2.gt(0)));
  EXPECT_TRUE(at::equal(mask, v.negatives.gt(0)));
  EXPECT_TRUE(at::all(mask.any(1)).item<bool>()) << "every row trains on something";
  auto items1 = unmasked(v.view1, v.targets), items2 = unmasked(v.view2, v.targets2);
  EXPECT_TRUE(at::equal(items1.gt(0), items2.gt(0)));
  int64_t replaced = 0, masked_replaced = 0;
  for (int64_t r = 0; r < items1.size(0); ++r)
    for (int64_t c = 0; c < items1.size(1); ++c) {
      const int64_t a = items1[r][c].item<int64_t>(), b = items2[r][c].item<int64_t>();
      if (a == b) continue;
      ++replaced;
      masked_replaced += mask[r][c].item<bool>() ? 1 : 0;
      const auto& candidates = prep.candidates[a];
      EXPECT_NE(std::find(candidates.begin(), candidates.end(), b), candidates.end()) << a << " -> " << b;
    }
  EXPECT_GT(replaced, 0);
  EXPECT_GT(masked_replaced, 0) << "some masked positions have different targets in the two views";
}

}  // namespace
}  // namespace caudal

namespace caudal {
namespace {

// Zero states at a partner's padding make TADA's losses independent of the
// batch width (trimmed == padded); the official behaviour
// (mix_padding_states) mixes in whatever the encoder left there, so a padded
// batch gives other cross-mix losses. Self-mix never involves padding.
// Encoding in length groups (random batching) changes nothing either.
TEST(TadaMixing, ZeroPaddingStatesMakeLossesWidthIndependent) {
  std::vector<std::vector<int64_t>> seqs;
  for (int64_t u = 0; u < 10; ++u) {
    std::vector<int64_t> s;
    for (int64_t k = 0; k < 5 + 2 * u; ++k) s.push_back(1 + (u * 7 + k * 3) % 30);
    seqs.push_back(s);
  }
  auto ds = testing::dataset_from(seqs);
  TrainConfig config;
  config.backbone.hidden = 16;
  config.backbone.max_len = 40;
  config.backbone.dropout = 0.0;
  config.backbone.attn_dropout = 0.0;
  auto model = build_model(config, ds.num_items());
  model->eval();
  TadaPreparation prep;
  prep.tail_preference = tail_preference(ds);
  prep.candidates = cooccurrence_sets(recent_training_parts(ds, 40), ds.groups().is_head_item, ds.num_items());
  std::vector<int64_t> users(10);
  std::iota(users.begin(), users.end(), 0);
  auto losses_of = [&](bool trim, bool padding_states, bool length_groups) {
    TrainBatcher batcher(ds, BatchOptions{40, 10, trim}, 1);
    auto negative_rng = make_rng(1, RandomStream::kNegatives, 0);
    auto batch = batcher.make_batch(users, negative_rng);
    TadaOptions options;
    options.augment.max_len = 40;
    options.mix_padding_states = padding_states;
    Tada tada(prep, ds.groups().is_head_item, options, trim);
    auto rng = make_rng(1, RandomStream::kMethods, 0);
    TrainingStep step{*model, batch, batch.inputs, batch.targets, batch.negatives, rng, c10::Device(c10::kCPU),
                      length_groups};
    step.encode_batch(tada.reads_padding_states());
    std::map<std::string, double> out;
    for (auto& [name, value] : tada.losses(step)) out[name] = value.item<double>();
    return out;
  };
  auto trimmed = losses_of(true, false, false), padded = losses_of(false, false, false),
       official = losses_of(false, true, false), grouped = losses_of(true, false, true);
  ASSERT_EQ(trimmed.size(), 3u);
  for (const auto& [name, value] : trimmed) {
    EXPECT_NEAR(padded[name], value, 1e-5) << name;
    EXPECT_NEAR(grouped[name], value, 1e-5) << name;
  }
  EXPECT_NEAR(official["tada_self"], padded["tada_self"], 1e-5);
  EXPECT_GT(std::abs(official["tada_cross_tail"] - padded["tada_cross_tail"]) +
                std::abs(official["tada_cross_head"] - padded["tada_cross_head"]),
            1e-4);
}

// TADA's losses as docs/tada.md defines them, on padded [B, W, d] states:
// written plainly, with the draws Tada::losses makes in the same order.
std::map<std::string, at::Tensor> padded_definition(SequentialRecommender& model, const Tada& tada,
                                                    const TadaOptions& options, const TrainingStep& step,
                                                    const std::vector<uint8_t>& tail_preference, std::mt19937_64& rng) {
  Tada::ViewBatch views;
  if (model.mask_token() != 0) {
    views = tada.masked_views(step.batch, model.mask_token(), rng);
  } else {
    auto augmented = tada.augment_batch(step.batch, rng);
    views = {augmented.view1, augmented.view2, augmented.targets, augmented.targets, augmented.negatives};
  }
  const int64_t rows = views.view1.size(0), width = views.view1.size(1);
  auto& items = model.items();
  auto both = model.encode(at::cat({views.view1, views.view2}));
  auto h1 = both.narrow(0, 0, rows), h2 = both.narrow(0, rows, rows);
  auto view_mask = views.targets.gt(0);
  auto targets1 = items.output(views.targets), targets2 = items.output(views.targets2), negatives = items.output(views.negatives);
  auto alpha = at::tensor(sample_beta(rows, options.mix_beta, rng), at::kDouble).to(at::kFloat).view({-1, 1, 1});
  std::map<std::string, at::Tensor> out;
  out["tada_self"] = next_item_bce(alpha * h1 + (1 - alpha) * h2, alpha * targets1 + (1 - alpha) * targets2, negatives, view_mask);

  auto pad = [&](const at::Tensor& x) {
    const int64_t missing = width - x.size(1);
    return x.dim() == 3 ? at::constant_pad_nd(x, {0, 0, missing, 0}) : at::constant_pad_nd(x, {missing, 0});
  };
  auto keep = [&](const at::Tensor& x, const at::Tensor& mask) {
    return options.mix_padding_states ? x : x * mask.unsqueeze(-1).to(x.scalar_type());
  };
  const auto original_mask = pad(step.targets.gt(0));
  auto pool_hidden = at::cat({keep(pad(model.encode(step.inputs)), original_mask), keep(h2, view_mask)});
  auto pool_targets = at::cat({keep(pad(items.output(step.targets)), original_mask), keep(targets2, view_mask)});
  auto pool_negatives = at::cat({keep(pad(items.output(step.negatives)), original_mask), keep(negatives, view_mask)});
  auto pool_mask = at::cat({original_mask, view_mask});
  const auto pools = cross_mix_pools(step.batch.users, tail_preference);
  for (size_t p = 0; p < pools.size(); ++p) {
    const std::string name = p == 0 ? "tada_cross_tail" : "tada_cross_head";
    if (pools[p].empty()) continue;
    std::vector<int64_t> partner(pools[p].size());
    std::iota(partner.begin(), partner.end(), 0);
    std::shuffle(partner.begin(), partner.end(), rng);
    const auto member = at::tensor(pools[p], at::kLong), mate = at::tensor(partner, at::kLong);
    auto a = at::tensor(sample_beta(member.size(0), options.mix_beta, rng), at::kDouble).to(at::kFloat).view({-1, 1, 1});
    auto mix = [&](const at::Tensor& x) {
      auto own = x.index_select(0, member);
      return a * own + (1 - a) * own.index_select(0, mate);
    };
    out[name] = next_item_bce(mix(pool_hidden), mix(pool_targets), mix(pool_negatives), pool_mask.index_select(0, member));
  }
  return out;
}

struct PackedCase {
  std::string backbone;
  bool trim, padding_states, length_groups;
};

void PrintTo(const PackedCase& c, std::ostream* os) {
  *os << c.backbone << (c.trim ? ", trimmed" : ", padded") << (c.padding_states ? ", padding states" : "")
      << (c.length_groups ? ", in length groups" : "");
}

class TadaPackedLosses : public ::testing::TestWithParam<PackedCase> {};

// Tada::losses works on packed positions (only those scored, or read by a
// partner); the losses and their gradients equal the padded definition.
TEST_P(TadaPackedLosses, EqualTheDefinitionOnPaddedStates) {
  const auto& c = GetParam();
  auto ds = testing::dataset_from(random_sequences(24, 30, 5));
  TrainConfig config;
  config.backbone.name = c.backbone;
  config.backbone.hidden = 16;
  config.backbone.max_len = 12;
  config.backbone.dropout = config.backbone.attn_dropout = 0.0;
  auto model = build_model(config, ds.num_items());
  TadaPreparation prep;
  prep.tail_preference = tail_preference(ds);
  prep.candidates = cooccurrence_sets(recent_training_parts(ds, 12), ds.groups().is_head_item, ds.num_items());
  TadaOptions options;
  options.augment.max_len = 12;
  options.augment.rate_a = options.augment.rate_b = 0.8;  // many insertions and substitutions
  options.mix_padding_states = c.padding_states;
  Tada tada(prep, ds.groups().is_head_item, options, c.trim);
  TrainBatcher batcher(ds, BatchOptions{12, 24, c.trim}, 1);
  const auto window = batcher.epoch(0).front();
  auto mask_rng = make_rng(1, RandomStream::kItemMask, 0);
  const auto batch = model->mask_token() != 0 ? masked_item_batch(window, model->mask_token(), 0.3, mask_rng) : window;

  auto gradients_of = [&](const std::map<std::string, at::Tensor>& losses) {
    model->zero_grad();
    at::Tensor total = at::zeros({});
    for (const auto& [name, value] : losses) total = total + value;
    total.backward();
    std::vector<at::Tensor> grads;
    for (const auto& p : model->parameters()) grads.push_back(p.grad().defined() ? p.grad().clone() : at::zeros_like(p));
    return grads;
  };
  auto rng = make_rng(7, RandomStream::kMethods, 0);
  TrainingStep step{*model, window, batch.inputs, batch.targets, batch.negatives, rng, c10::Device(c10::kCPU),
                    c.length_groups};
  step.encode_batch(tada.reads_padding_states());
  std::map<std::string, at::Tensor> packed;
  for (auto& [name, value] : tada.losses(step)) packed[name] = value;
  const auto packed_grads = gradients_of(packed);
  auto same_rng = make_rng(7, RandomStream::kMethods, 0);
  const auto definition = padded_definition(*model, tada, options, step, prep.tail_preference, same_rng);
  const auto definition_grads = gradients_of(definition);

  ASSERT_EQ(packed.size(), 3u);
  for (const auto& [name, value] : definition)
    EXPECT_NEAR(packed[name].item<double>(), value.item<double>(), 1e-5) << name;
  for (size_t i = 0; i < packed_grads.size(); ++i)
    EXPECT_TRUE(at::allclose(packed_grads[i], definition_grads[i], 1e-4, 1e-6))
        << "parameter " << i << " max difference " << (packed_grads[i] - definition_grads[i]).abs().max().item<double>();
}

INSTANTIATE_TEST_SUITE_P(Batches, TadaPackedLosses,
                         ::testing::Values(PackedCase{"sasrec", true, false, false}, PackedCase{"sasrec", true, false, true},
                                           PackedCase{"sasrec", false, false, true}, PackedCase{"sasrec", false, true, false},
                                           PackedCase{"sasrec", true, true, false}, PackedCase{"bert4rec", true, false, false},
                                           PackedCase{"bert4rec", false, false, true}, PackedCase{"gru4rec", false, true, false}),
                         [](const auto& info) {
                           const auto& c = info.param;
                           return c.backbone + (c.trim ? "Trimmed" : "Padded") + (c.padding_states ? "PaddingStates" : "") +
                                  (c.length_groups ? "InLengthGroups" : "");
                         });

}  // namespace
}  // namespace caudal
