#include <gtest/gtest.h>

#include "caudal/core/error.h"
#include "caudal/data/dataset.h"
#include "caudal/data/sequences.h"
#include "test_util.h"

namespace caudal {
namespace {

using testing::TempDir;

// Expects load_sequences to throw a caudal::Error whose message contains `expected`.
void expect_load_error(const std::string& content, const std::string& expected) {
  TempDir dir;
  const auto path = dir.write("seq.txt", content);
  try {
    load_sequences(path);
    FAIL() << "no error for: " << content;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << "the message must name the file: " << e.what();
  }
}

TEST(SequenceFile, ReadsUsersAndItems) {
  TempDir dir;
  auto data = load_sequences(dir.write("seq.txt", "7 1 2 3\n9 3 4 5 6\r\n\n"));
  ASSERT_EQ(data.sequences.size(), 2u);
  EXPECT_EQ(data.user_ids, (std::vector<int64_t>{7, 9}));
  EXPECT_EQ(data.sequences[1], (std::vector<int64_t>{3, 4, 5, 6}));
  EXPECT_EQ(data.num_items, 6);
}

TEST(SequenceFile, ErrorsNameFileAndLine) {
  expect_load_error("1 1 2 3\n2 1 x 3\n", ":2: not an integer item id: 'x'");
  expect_load_error("1 1 2 3\n2 1 0 3\n", ":2: item id must be a positive integer");
  expect_load_error("1 1 2 3\n2 1 -4 3\n", ":2: item id must be a positive integer");
  expect_load_error("1 1 2 3\nu2 1 2 3\n", ":2: not an integer user id");
  expect_load_error("1 1 2 3\n\n2 1 2 3\n", ":2: blank line");
  expect_load_error("1 1 2 3\n1 4 5 6\n", ":2: user id 1 appears twice");
  expect_load_error("1 1 2 3\n2 1 2\n", ":2: user 2 has 2 items");
  expect_load_error("1 1.5 2 3\n", ":1: not an integer item id: '1.5'");
  expect_load_error("", "no users");
  // Tables are sized by the largest id: one stray id would ask for terabytes
  // (or overflow: 2^63 - 1 fits an int64, its table does not).
  expect_load_error("1 1 2 3\n2 2 3 2147483648\n", ":2: item id 2147483648 is far beyond the 4 distinct items");
  expect_load_error("1 1 2 3\n2 2 3 9223372036854775807\n", "`caudal prepare` renumbers raw ids");
  expect_load_error("1 1 2 99999999999999999999\n", ":1: not an integer item id");
  // Gaps are fine while the largest id stays near the catalogue.
  TempDir dir;
  EXPECT_EQ(load_sequences(dir.write("gaps.txt", "1 1 2 3\n2 2 3 1000\n")).num_items, 1000);
}

TEST(SequenceFile, MissingFile) {
  EXPECT_THROW(load_sequences("/nonexistent/file.txt"), Error);
}

TEST(Dataset, LeaveOneOutSplit) {
  auto ds = testing::dataset_from({{1, 2, 3, 4, 5}, {3, 2, 1}});
  EXPECT_EQ(ds.history_length(0, Stage::kValid), 3);
  EXPECT_EQ(ds.target(0, Stage::kValid), 4);
  EXPECT_EQ(ds.history_length(0, Stage::kTest), 4);
  EXPECT_EQ(ds.target(0, Stage::kTest), 5);
  EXPECT_EQ(ds.train_part_length(0), 3);
  EXPECT_EQ(ds.target(1, Stage::kValid), 2);
  EXPECT_EQ(ds.target(1, Stage::kTest), 1);
  EXPECT_EQ(ds.interacted_items(1), (std::vector<int64_t>{1, 2, 3}));
}

TEST(Dataset, HeadTailGroupsFromTrainingPartOnly) {
  // Training parts (all but the last two items):
  //   u0: 1 2 3 | 9 9    u1: 2 3 4 | 9 9   u2: 3 5 | 9 9   u3: 6 | 9 9   u4: 6 7 | 8 9
  // Counts: 3 -> 3; 2 -> 2; 6 -> 2; 1, 4, 5, 7 -> 1; 8 and 9 never in training.
  // Items seen: 7, so floor(0.3 * 7) = 2 head items: 3 (count 3), then 2 (count 2,
  // first appearance before 6).
  auto ds = testing::dataset_from({{1, 2, 3, 9, 9}, {2, 3, 4, 9, 9}, {3, 5, 9, 9}, {6, 9, 9}, {6, 7, 8, 9}}, 0.3);
  const auto& g = ds.groups();
  EXPECT_EQ(g.num_head_items, 2);
  EXPECT_TRUE(g.is_head_item[3]);
  EXPECT_TRUE(g.is_head_item[2]);
  EXPECT_FALSE(g.is_head_item[6]);
  EXPECT_FALSE(g.is_head_item[9]);  // popular in the file, but only as validation/test targets
  EXPECT_EQ(g.item_train_count[9], 0);
  EXPECT_EQ(g.item_train_count[3], 3);
  // Users by training length: u0 3, u1 3, u2 2, u4 2, u3 1 -> floor(0.3 * 5) = 1 head user: u0 (file order).
  EXPECT_EQ(g.num_head_users, 1);
  EXPECT_TRUE(g.is_head_user[0]);
  EXPECT_FALSE(g.is_head_user[1]);
}

TEST(Dataset, BeautyReferenceCounts) {
  Dataset ds(load_sequences(testing::source_path("data/amazon/Beauty.txt")));
  EXPECT_EQ(ds.num_users(), 22363);
  EXPECT_EQ(ds.num_items(), 12101);
  EXPECT_EQ(ds.groups().num_head_items, 2413);
  EXPECT_EQ(ds.groups().num_head_users, 4472);
  int64_t min_head_count = 1 << 30;
  for (int64_t i = 1; i <= ds.num_items(); ++i)
    if (ds.groups().is_head_item[i]) min_head_count = std::min(min_head_count, ds.groups().item_train_count[i]);
  EXPECT_EQ(min_head_count, 15);
}

TEST(Dataset, ToysAndSportsReferenceCounts) {
  Dataset toys(load_sequences(testing::source_path("data/amazon/Toys_and_Games.txt")));
  EXPECT_EQ(toys.groups().num_head_items, 2375);
  EXPECT_EQ(toys.groups().num_head_users, 3882);
  Dataset sports(load_sequences(testing::source_path("data/amazon/Sports_and_Outdoors.txt")));
  EXPECT_EQ(sports.groups().num_head_items, 3656);
  EXPECT_EQ(sports.groups().num_head_users, 7119);
}

}  // namespace
}  // namespace caudal
