#include "caudal/method/tada/augment.h"

#include <algorithm>

namespace caudal {
namespace {

bool chance(double p, std::mt19937_64& rng) { return std::uniform_real_distribution<double>(0.0, 1.0)(rng) < p; }

int64_t pick(const std::vector<int64_t>& from, std::mt19937_64& rng) {
  return from[std::uniform_int_distribution<size_t>(0, from.size() - 1)(rng)];
}

void keep_last(std::vector<int64_t>& v, int64_t max_len) {
  if (static_cast<int64_t>(v.size()) > max_len) v.erase(v.begin(), v.end() - max_len);
}

}  // namespace

AugmentedRow t_substitute(const std::vector<int64_t>& seq, const std::vector<int64_t>& targets,
                          const std::vector<int64_t>& negatives, const CandidateSets& candidates,
                          const std::vector<uint8_t>& is_head_item, double rate, std::mt19937_64& rng) {
  AugmentedRow row{seq, seq, targets, negatives, false};
  for (auto& item : row.view2) {
    if (is_head_item[item] && !candidates[item].empty() && chance(rate, rng)) item = pick(candidates[item], rng);
  }
  return row;
}

AugmentedRow t_insert(const std::vector<int64_t>& seq, const std::vector<int64_t>& targets,
                      const std::vector<int64_t>& negatives, const CandidateSets& candidates,
                      const std::vector<uint8_t>& is_head_item, double rate, int64_t max_len, std::mt19937_64& rng) {
  AugmentedRow row;
  row.inserted = true;
  for (size_t k = 0; k < seq.size(); ++k) {
    const int64_t item = seq[k];
    if (!is_head_item[item] && !candidates[item].empty() && chance(rate, rng)) {
      row.view1.insert(row.view1.end(), {item, item});
      row.view2.insert(row.view2.end(), {pick(candidates[item], rng), item});
      row.targets.insert(row.targets.end(), {targets[k], targets[k]});
      row.negatives.insert(row.negatives.end(), {negatives[k], negatives[k]});
    } else {
      row.view1.push_back(item);
      row.view2.push_back(item);
      row.targets.push_back(targets[k]);
      row.negatives.push_back(negatives[k]);
    }
  }
  for (auto* v : {&row.view1, &row.view2, &row.targets, &row.negatives}) keep_last(*v, max_len);
  return row;
}

double insert_probability(int64_t length, int64_t max_len) {
  return std::max(0.0, 1.0 - static_cast<double>(length) / static_cast<double>(max_len));
}

AugmentedRow augment(const std::vector<int64_t>& seq, const std::vector<int64_t>& targets,
                     const std::vector<int64_t>& negatives, const CandidateSets& candidates,
                     const std::vector<uint8_t>& is_head_item, const AugmentOptions& options, std::mt19937_64& rng) {
  const bool insert = chance(insert_probability(static_cast<int64_t>(seq.size()), options.max_len), rng);
  const double rate = std::uniform_real_distribution<double>(options.rate_a, options.rate_b)(rng);
  if (insert) return t_insert(seq, targets, negatives, candidates, is_head_item, rate, options.max_len, rng);
  return t_substitute(seq, targets, negatives, candidates, is_head_item, rate, rng);
}

}  // namespace caudal
