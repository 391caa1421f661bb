// TADA's two operators (docs/tada.md, "Operators"), on one training row: the
// real (unpadded) inputs s with their targets and negatives.
//   T-Substitute: v1 = s; v2 = s with each head item, with probability r,
//     replaced by a uniform draw from its candidates (if any). Targets and
//     negatives unchanged.
//   T-Insert: at each tail item s_k, with probability r (and candidates),
//     v2 gets [j, s_k] (j drawn from its candidates), v1 gets [s_k, s_k], and
//     the target and negative of position k are duplicated. Views are then
//     cut to the last max_len.
// augment() picks T-Insert with probability p_insert = 1 - |s| / max_len and
// draws r ~ U(rate_a, rate_b) once per row.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace caudal {

struct AugmentedRow {
  std::vector<int64_t> view1, view2, targets, negatives;  // equal lengths, no padding
  bool inserted = false;                                  // T-Insert (true) or T-Substitute
};

struct AugmentOptions {
  double rate_a = 0.31;
  double rate_b = 0.51;
  int64_t max_len = 50;
};

using CandidateSets = std::vector<std::vector<int64_t>>;  // per item id

AugmentedRow t_substitute(const std::vector<int64_t>& seq, const std::vector<int64_t>& targets,
                          const std::vector<int64_t>& negatives, const CandidateSets& candidates,
                          const std::vector<uint8_t>& is_head_item, double rate, std::mt19937_64& rng);

AugmentedRow t_insert(const std::vector<int64_t>& seq, const std::vector<int64_t>& targets,
                      const std::vector<int64_t>& negatives, const CandidateSets& candidates,
                      const std::vector<uint8_t>& is_head_item, double rate, int64_t max_len, std::mt19937_64& rng);

double insert_probability(int64_t length, int64_t max_len);

AugmentedRow augment(const std::vector<int64_t>& seq, const std::vector<int64_t>& targets,
                     const std::vector<int64_t>& negatives, const CandidateSets& candidates,
                     const std::vector<uint8_t>& is_head_item, const AugmentOptions& options, std::mt19937_64& rng);

}  // namespace caudal
