#include <gtest/gtest.h>

#include "caudal/core/error.h"
#include "caudal/data/prepare.h"
#include "caudal/data/sequences.h"
#include "test_util.h"

namespace caudal {
namespace {

using testing::TempDir;

TEST(Prepare, SortsByTimeStablyAndMapsIds) {
  TempDir dir;
  const auto csv = dir.write("log.csv",
                             "user_id,item_id,rating,timestamp\n"
                             "alice,b,5,20\n"
                             "alice,a,4,10\n"
                             "alice,c,3,20\n"  // same time as b: file order kept
                             "bob,c,5,1\n"
                             "bob,a,5,2\n");
  PrepareOptions options;
  options.k_core = 1;
  auto data = prepare_interactions(csv, options);
  ASSERT_EQ(data.sequences.size(), 2u);
  EXPECT_EQ(data.user_names, (std::vector<std::string>{"alice", "bob"}));
  // Items numbered by first appearance in the output: a=1, b=2, c=3.
  EXPECT_EQ(data.item_names, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(data.sequences[0], (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(data.sequences[1], (std::vector<int64_t>{3, 1}));
  EXPECT_EQ(data.events_read, 5);
}

TEST(Prepare, IteratedKCore) {
  // k = 2. Item z has 1 event -> removed; then user u3 (x, z) has 1 event ->
  // removed; then item x has 1 event left -> removed; then user u2 (x, y) has
  // 1 -> removed. A single pass would keep u2, u3 and x.
  TempDir dir;
  const auto csv = dir.write("log.csv",
                             "u1,y,1,1\nu1,w,1,2\n"
                             "u4,y,1,1\nu4,w,1,2\n"
                             "u2,x,1,1\nu2,y,1,2\n"
                             "u3,x,1,1\nu3,z,1,2\n");
  PrepareOptions options;
  options.k_core = 2;
  auto data = prepare_interactions(csv, options);
  EXPECT_EQ(data.user_names, (std::vector<std::string>{"u1", "u4"}));
  EXPECT_EQ(data.item_names, (std::vector<std::string>{"y", "w"}));
  EXPECT_EQ(data.events_kept, 4);
}

TEST(Prepare, RatingThreshold) {
  TempDir dir;
  const auto csv = dir.write("log.csv", "u,a,1,1\nu,b,4,2\nu,c,5,3\n");
  PrepareOptions options;
  options.k_core = 1;
  options.min_rating = 4.0;
  auto data = prepare_interactions(csv, options);
  EXPECT_EQ(data.item_names, (std::vector<std::string>{"b", "c"}));
}

TEST(Prepare, MalformedLinesNameTheLine) {
  TempDir dir;
  PrepareOptions options;
  try {
    prepare_interactions(dir.write("a.csv", "u,a,1,1\nu,b,1\n"), options);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("a.csv:2: expected 4 fields"), std::string::npos) << e.what();
  }
  try {
    prepare_interactions(dir.write("b.csv", "u,a,1,1\nu,b,good,1\n"), options);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("b.csv:2: rating and timestamp must be finite numbers"), std::string::npos) << e.what();
  }
  EXPECT_THROW(prepare_interactions(dir.write("c.csv", ""), options), Error);
  EXPECT_THROW(prepare_interactions(dir.write("d.csv", "u,a,1,1\n"), options), Error);  // nothing survives 5-core
}

TEST(Prepare, MovieLens100kRoundTrip) {
  TempDir dir;
  auto data = prepare_interactions(testing::source_path("data/ml-100k/interactions.csv"), PrepareOptions{});
  EXPECT_EQ(data.events_read, 100000);
  EXPECT_EQ(data.user_names.size(), 943u);  // every ML-100K user has >= 20 ratings
  EXPECT_LT(data.item_names.size(), 1682u);  // items with < 5 ratings are gone
  for (const auto& s : data.sequences) EXPECT_GE(s.size(), 5u);
  write_prepared(data, dir.file("ml"));
  auto loaded = load_sequences(dir.file("ml/sequences.txt"));
  EXPECT_EQ(loaded.sequences, data.sequences);
  EXPECT_EQ(loaded.num_items, static_cast<int64_t>(data.item_names.size()));
  auto items = read_id_map(dir.file("ml/item_map.tsv"));
  ASSERT_EQ(items.size(), data.item_names.size());
  EXPECT_EQ(items[0].first, data.item_names[0]);
  EXPECT_EQ(items[0].second, 1);
}

}  // namespace
}  // namespace caudal
