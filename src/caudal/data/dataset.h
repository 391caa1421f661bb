// A validated sequence file with its leave-one-out split and the head/tail
// groups of docs/protocol.md. Immutable once built; every other component (batcher,
// evaluator, methods) reads from it.
//
// For a user sequence s of length n:
//   training inputs s[0..n-4], targets s[1..n-3]
//   validation: predict s[n-2] from s[0..n-3]
//   test:       predict s[n-1] from s[0..n-2]
// Groups come from the training part s[0..n-3] of every user.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "caudal/data/sequences.h"

namespace caudal {

enum class Stage { kValid, kTest };

// Popularity buckets of FAERec by training interaction count: [0,4], [5,9],
// [10,19], [20,49], [50,inf). Items never seen in training (count 0) fall in
// the first bucket with the rarest items.
constexpr int kNumBuckets = 5;
const std::array<const char*, kNumBuckets>& bucket_names();
int popularity_bucket(int64_t train_count);

struct ItemUserGroups {
  double head_ratio = 0.2;
  std::vector<int64_t> item_train_count;  // index = item id (0 unused)
  std::vector<uint8_t> is_head_item;      // index = item id; 0 for padding and unseen items
  std::vector<uint8_t> is_head_user;      // index = user position in the file
  int64_t num_head_items = 0;
  int64_t num_head_users = 0;
};

// head items: the top floor(head_ratio * #items seen in training) items by
// training count, ties broken by first appearance (file order); head users:
// the top floor(head_ratio * #users) by training-part length, ties broken by
// file order.
ItemUserGroups compute_groups(const std::vector<std::vector<int64_t>>& sequences, int64_t num_items, double head_ratio);

class Dataset {
 public:
  Dataset(SequenceData data, double head_ratio = 0.2);

  const std::string& source() const { return data_.source; }
  int64_t num_users() const { return static_cast<int64_t>(data_.sequences.size()); }
  int64_t num_items() const { return data_.num_items; }
  const std::vector<int64_t>& sequence(int64_t user) const { return data_.sequences[user]; }
  int64_t user_id(int64_t user) const { return data_.user_ids[user]; }
  const ItemUserGroups& groups() const { return groups_; }

  // Length of the training part s[0..n-3].
  int64_t train_part_length(int64_t user) const { return static_cast<int64_t>(sequence(user).size()) - 2; }
  // Number of items before the evaluation target of a stage (n-2 or n-1): the
  // user's whole history at that point.
  int64_t history_length(int64_t user, Stage stage) const;
  int64_t target(int64_t user, Stage stage) const { return sequence(user)[history_length(user, stage)]; }

  // Sorted distinct items of the whole sequence: what negatives must avoid.
  const std::vector<int64_t>& interacted_items(int64_t user) const { return interacted_[user]; }

 private:
  SequenceData data_;
  ItemUserGroups groups_;
  std::vector<std::vector<int64_t>> interacted_;
};

}  // namespace caudal
