// Encoding a batch of random users at close to the cost of a length-bucketed
// one (plain SASRec on Beauty: 2.4 s per epoch against 1.8 s; padded, 7.5x that).
//
// A batch of random users is as wide as its longest window (on Beauty nearly
// always max_len, while the mean window is about 7 items), so encoding it
// whole spends most of the work on padding. Here its rows are sorted by
// length, cut into a few groups, and each group is encoded trimmed to its own
// longest row; the states asked for are gathered in the caller's order. By the
// Backbone contract (unless needs_full_window(), or a padding row that is
// read), padding never reaches a real position, so at real positions this is
// what encoding the whole padded batch gives (tests/test_length_groups.cpp),
// while the batch keeps its random composition, which TADA's mixing needs
// (docs/results.md: random partners train better than length-bucketed ones).
#pragma once

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

namespace caudal {

class SequentialRecommender;

// Ends of the groups (exclusive row offsets, the last is lengths.size()) that
// split rows of ascending `sorted_lengths` into consecutive groups with the
// least total of (overhead + rows x longest length) per group: the padded
// positions a group encodes, plus a fixed cost per group (operator launches)
// in the same unit. Groups only break where the length changes.
std::vector<int64_t> length_group_ends(const std::vector<int64_t>& sorted_lengths, int64_t overhead);

// A group's fixed cost in padded positions: about what one forward and
// backward pass of a small group costs in operator launches on a CPU
// (bench-epoch, SASRec TADA on Beauty, tenth session: 16.4 s per epoch at 64,
// 17.1 at 256, 17.6 at 16, 20.1 at 1024; since the packed positions the
// differences between 24, 64 and 160 are within this machine's noise).
constexpr int64_t kGroupOverhead = 64;

// The groups of a batch: its rows sorted by length (number of non-zero ids,
// stably) and cut by length_group_ends.
struct LengthGroups {
  std::vector<int64_t> order;   // row indices, shortest first
  std::vector<int64_t> ends;    // each group's exclusive end in `order`
  std::vector<int64_t> widths;  // each group's width: its longest row, at least 1
};

// ids [N, W] int64 (any device), left-padded with 0: the groups that
// encode_positions_in_length_groups encodes (so benchmarks count its work).
LengthGroups group_by_length(const at::Tensor& ids, int64_t overhead = kGroupOverhead);

// ids [N, W] int64, left-padded with 0; positions: flat indices r * W + c
// into ids -> [P, d]: model.encode(ids) at those positions, computed group by
// group (length_group_ends with `overhead`), 0 at a padded position. Only the
// states asked for are gathered, so a caller that needs the real positions
// alone never builds a [N, W, d] tensor.
at::Tensor encode_positions_in_length_groups(SequentialRecommender& model, const at::Tensor& ids,
                                             const std::vector<int64_t>& positions, int64_t overhead = kGroupOverhead);

}  // namespace caudal
