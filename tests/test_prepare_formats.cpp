// `caudal prepare` beyond one CSV layout: every interaction and item format,
// the filters in order, the summary, and the readers under them.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <fstream>
#include <unordered_map>

#include "caudal/core/error.h"
#include "caudal/core/line_reader.h"
#include "caudal/data/item_metadata.h"
#include "caudal/data/prepare.h"
#include "caudal/data/python_literal.h"
#include "caudal/data/sequences.h"
#include "caudal/semantic/item_text.h"
#include "test_util.h"

namespace caudal {
namespace {

using testing::error_of;
using testing::TempDir;

// tests/data/prepare holds one log of 14 interactions written in every
// format (see its README), so every reader must give the same data. Worked
// out by hand: users in order of first appearance A2 A1 A3 A4 A5; within a
// user by time, file order breaking A2's tie at 150 (B02 before B04); items
// numbered as they first appear in that output.
const std::vector<std::vector<int64_t>> kFixtureSequences = {{1, 2, 3}, {4, 2, 5, 4}, {5, 4, 2, 6}, {3, 4}, {6}};
const std::vector<std::string> kFixtureItems = {"B05", "B02", "B04", "B01", "B03", "B06"};
const std::vector<std::string> kFixtureUsers = {"A2", "A1", "A3", "A4", "A5"};

std::string fixture(const std::string& name) { return testing::source_path("tests/data/prepare/" + name); }

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(PrepareFormats, EveryFormatGivesTheSameSequences) {
  const std::pair<const char*, LogFormat> files[] = {{"log.csv", LogFormat::csv},
                                                     {"reviews_2014.json", LogFormat::amazon},
                                                     {"reviews_2023.jsonl.gz", LogFormat::amazon},
                                                     {"log.inter", LogFormat::recbole},
                                                     {"ratings.dat", LogFormat::movielens}};
  PrepareOptions options;
  options.k_core = 1;
  for (const auto& [name, format] : files) {
    SCOPED_TRACE(name);
    EXPECT_EQ(guess_log_format(fixture(name)), format);
    const auto data = prepare_interactions(fixture(name), options);
    EXPECT_EQ(data.format, format);
    EXPECT_EQ(data.events_read, 14);
    EXPECT_EQ(data.sequences, kFixtureSequences);
    EXPECT_EQ(data.item_names, kFixtureItems);
    EXPECT_EQ(data.user_names, kFixtureUsers);
  }
  EXPECT_EQ(prepare_interactions(fixture("reviews_2014.json"), options).layout, "2014/2018 layout");
  EXPECT_EQ(prepare_interactions(fixture("reviews_2023.jsonl.gz"), options).layout, "2023 layout");
}

// The bundled Beauty data written out as a RecBole .inter file (user and
// item ids as tokens, each user's position as the timestamp) and prepared
// again with the default filters gives back every sequence: Beauty is
// already 5-core, and item names map the new ids back to the bundled ones.
TEST(PrepareFormats, BeautyRoundTripsThroughRecBole) {
  const auto bundled = load_sequences(testing::source_path("data/amazon/Beauty.txt"));
  const auto& beauty = bundled.sequences;
  TempDir dir;
  {
    std::ofstream inter(dir.file("beauty.inter"));
    inter << "user_id:token\titem_id:token\ttimestamp:float\n";
    for (size_t u = 0; u < beauty.size(); ++u)
      for (size_t k = 0; k < beauty[u].size(); ++k) inter << "u" << bundled.user_ids[u] << "\t" << beauty[u][k] << "\t" << k << "\n";
  }
  const auto data = prepare_interactions(dir.file("beauty.inter"), PrepareOptions{});
  EXPECT_EQ(data.format, LogFormat::recbole);
  ASSERT_EQ(data.sequences.size(), beauty.size());
  for (size_t u = 0; u < beauty.size(); ++u) {
    ASSERT_EQ(data.user_names[u], "u" + std::to_string(bundled.user_ids[u]));
    std::vector<int64_t> bundled_ids;
    for (const int64_t item : data.sequences[u]) bundled_ids.push_back(std::stoll(data.item_names[item - 1]));
    ASSERT_EQ(bundled_ids, beauty[u]) << "user " << u + 1;
  }
}

TEST(PrepareFormats, FiltersInOrderAndTheSummary) {
  PrepareOptions options;
  options.k_core = 1;
  options.min_rating = 3;  // drops A1's B03 (rated 2) and A3's B06 (rated 1)
  auto data = prepare_interactions(fixture("log.csv"), options);
  EXPECT_EQ(data.removed_by_rating, 2);
  EXPECT_EQ(data.sequences, (std::vector<std::vector<int64_t>>{{1, 2, 3}, {4, 2, 4}, {5, 4, 2}, {3, 4}, {6}}));
  EXPECT_EQ(data.item_names, (std::vector<std::string>{"B05", "B02", "B04", "B01", "B03", "B06"}));

  options.min_rating.reset();
  options.dedupe = Dedupe::first;  // A1: B01@100 B02@200 B03@300 B01@400 -> the B01 at 400 goes
  data = prepare_interactions(fixture("log.csv"), options);
  EXPECT_EQ(data.removed_as_duplicates, 1);
  EXPECT_EQ(data.sequences[1], (std::vector<int64_t>{4, 2, 5}));
  options.dedupe = Dedupe::last;  // the B01 at 100 goes: A1 is B02 B03 B01, so B03 is now item 4
  data = prepare_interactions(fixture("log.csv"), options);
  EXPECT_EQ(data.sequences[1], (std::vector<int64_t>{2, 4, 5}));
  EXPECT_EQ(data.item_names[3], "B03");

  // 2-core: A5 (1 event) and B05 (1) go; then B06 has only A3 left and goes.
  options.dedupe = Dedupe::keep;
  options.k_core = 2;
  data = prepare_interactions(fixture("log.csv"), options);
  EXPECT_EQ(data.user_names, (std::vector<std::string>{"A2", "A1", "A3", "A4"}));
  EXPECT_EQ(data.item_names, (std::vector<std::string>{"B02", "B04", "B01", "B03"}));
  EXPECT_EQ(data.sequences, (std::vector<std::vector<int64_t>>{{1, 2}, {3, 1, 4, 3}, {4, 3, 1}, {2, 3}}));
  const auto summary = summarize(data, options);
  EXPECT_EQ(summary["removed"]["by_k_core"]["interactions"], 3);
  EXPECT_EQ(summary["removed"]["by_k_core"]["users"], 1);
  EXPECT_EQ(summary["removed"]["by_k_core"]["items"], 2);
  EXPECT_EQ(summary["users"], 4);
  EXPECT_EQ(summary["items"], 4);
  EXPECT_EQ(summary["interactions"], 11);
  EXPECT_DOUBLE_EQ(summary["density"].get<double>(), 11.0 / 16.0);
  EXPECT_DOUBLE_EQ(summary["sequence_length"]["mean"].get<double>(), 2.75);
  EXPECT_DOUBLE_EQ(summary["sequence_length"]["median"].get<double>(), 2.5);  // lengths 2 2 3 4
  EXPECT_NE(summary_text(summary).find("--k-core 2: removed 3 interactions, 1 users, 2 items"), std::string::npos)
      << summary_text(summary);
}

TEST(PrepareFormats, TailShareFollowsTheProtocolSplit) {
  // Training parts (all but the last two items): u1 a a a a b, u2 a c, u3 a.
  // Items seen in training: a (6), b (1), c (1); with head_ratio 0.34,
  // floor(0.34 * 3) = 1 head item (a), so 2 of 3 items and 2 of 8 training
  // interactions are on the tail.
  TempDir dir;
  const auto csv = dir.write("t.csv", "u1,a,1,1\nu1,a,1,2\nu1,a,1,3\nu1,a,1,4\nu1,b,1,5\nu1,c,1,6\nu1,c,1,7\n"
                                      "u2,a,1,1\nu2,c,1,2\nu2,b,1,3\nu2,a,1,4\n"
                                      "u3,a,1,1\nu3,b,1,2\nu3,c,1,3\n");
  PrepareOptions options;
  options.k_core = 1;
  const auto summary = summarize(prepare_interactions(csv, options), options, 0.34);
  EXPECT_EQ(summary["tail"]["tail_items"], 2);
  EXPECT_DOUBLE_EQ(summary["tail"]["share_of_items"].get<double>(), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(summary["tail"]["share_of_training_interactions"].get<double>(), 2.0 / 8.0);
}

TEST(PrepareFormats, CsvQuotingFollowsRfc4180) {
  TempDir dir;
  const auto csv = dir.write("q.csv",
                             "\"user, with comma\",\"item \"\"quoted\"\"\",5,1\n"
                             "\"user, with comma\",\"item, two\",4,2\n"
                             "plain,x,3,3\n");
  PrepareOptions options;
  options.k_core = 1;
  const auto data = prepare_interactions(csv, options);
  EXPECT_EQ(data.user_names, (std::vector<std::string>{"user, with comma", "plain"}));
  EXPECT_EQ(data.item_names, (std::vector<std::string>{"item \"quoted\"", "item, two", "x"}));
  EXPECT_EQ(data.sequences[0], (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(error_of([&] { prepare_interactions(dir.write("open.csv", "u,i,1,1\n\"u,i,1,2\n"), options); }),
            dir.file("open.csv") + ":2: unterminated quoted field");
  // A quoted line break is valid CSV but cannot be an id of the tab-separated maps.
  EXPECT_EQ(error_of([&] { prepare_interactions(dir.write("nl.csv", "u,i,1,1\nu,\"i\nj\",1,2\n"), options); }),
            dir.file("nl.csv") + ":2: item id 'i\nj' holds a tab, line break or NUL");
}

TEST(PrepareFormats, CsvHeaderNamesTheColumns) {
  TempDir dir;
  PrepareOptions options;
  options.k_core = 1;
  // Columns in another order, plus one more: read by name.
  const auto data = prepare_interactions(
      dir.write("h.csv", "movieId,timestamp,userId,rating,tag\nB2,200,U1,4,x\nB1,100,U1,5,y\n"), options);
  EXPECT_EQ(data.user_names, (std::vector<std::string>{"U1"}));
  EXPECT_EQ(data.item_names, (std::vector<std::string>{"B1", "B2"}));
  // A first row that is neither an interaction nor a header is an error, not a skipped row.
  EXPECT_EQ(error_of([&] { prepare_interactions(dir.write("bad.csv", "A1,B01,,100\nA1,B02,5,200\n"), options); }),
            dir.file("bad.csv") +
                ":1: not an interaction (user,item,rating,timestamp with numbers), so a header naming the user, item, rating and "
                "timestamp columns; it has no user column: 'A1,B01,,100'");
}

TEST(PrepareFormats, TimestampsKeepTheirOrderExactly) {
  // 19-digit nanosecond times differ only past a double's 53 bits; Amazon's
  // 2014 seconds and 2023 milliseconds are one scale.
  TempDir dir;
  PrepareOptions options;
  options.k_core = 1;
  auto data = prepare_interactions(
      dir.write("ns.csv", "u,late,5,1700000000000000100\nu,early,5,1700000000000000001\nu,first,5,1700000000000000000\n"), options);
  EXPECT_EQ(data.item_names, (std::vector<std::string>{"first", "early", "late"}));
  data = prepare_interactions(dir.write("mix.json", "{\"reviewerID\":\"A\",\"asin\":\"B\",\"overall\":5.0,\"unixReviewTime\":100}\n"
                                                    "{\"user_id\":\"A\",\"parent_asin\":\"C\",\"rating\":5,\"timestamp\":50000}\n"),
                              options);
  EXPECT_EQ(data.item_names, (std::vector<std::string>{"C", "B"}));  // 50 s before 100 s
}

TEST(PrepareFormats, KCoreUnravelsALongChain) {
  // A chain u_j - i_j - u_j+1 ... unravels one link at a time (a filter that
  // recounted everything per pass took 33 s for 80,000 links; now a queue). The answer: only the
  // 2x2 block (a, b) x (x, y) survives the 2-core.
  TempDir dir;
  std::string log;
  for (int j = 0; j < 20000; ++j) log += fmt::format("u{},i{},5,1\nu{},i{},5,2\n", j, j, j, j + 1);
  log += "a,x,5,1\na,y,5,1\nb,x,5,1\nb,y,5,1\n";
  PrepareOptions options;
  options.k_core = 2;
  const auto data = prepare_interactions(dir.write("chain.csv", log), options);
  EXPECT_EQ(data.user_names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(data.item_names, (std::vector<std::string>{"x", "y"}));
}

TEST(PrepareFormats, ItemMetadataInEveryFormat) {
  std::unordered_map<std::string, int64_t> ids;
  for (size_t i = 0; i < kFixtureItems.size(); ++i) ids.emplace(kFixtureItems[i], static_cast<int64_t>(i) + 1);
  const int64_t b01 = 4, b02 = 2, b03 = 5, b05 = 1, b06 = 6;
  struct Case {
    const char* file;
    ItemFormat format;
    std::string b01_title, b02_title, b03_title, b06_brand;
  };
  const Case cases[] = {
      {"meta_2014.json", ItemFormat::amazon, "Nail lacquer 'Simmer'", "Hair\u2019s best friend", "Rose\tscented soap", "Burt's Bees"},
      {"meta_2023.jsonl", ItemFormat::amazon, "Nail lacquer 'Simmer'", "Hair\u2019s best friend", "Rose scented soap", "Burt's Bees"},
      {"log.item", ItemFormat::recbole, "Nail lacquer Simmer", "Hair best friend", "Rose scented soap", "Burts_Bees"},
      {"movies.dat", ItemFormat::movielens, "Nail lacquer (1995)", "Hair best friend (1996)", "Ros\u00e9 scented soap (1997)", ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.file);
    EXPECT_EQ(guess_item_format(fixture(c.file)), c.format);
    const auto meta = read_item_metadata(fixture(c.file), c.format, ids, 6);
    EXPECT_EQ(meta.items_found, 5);  // B99 is not in the data, B05 has no row, B01's second row is ignored
    EXPECT_TRUE(meta.rows[b05 - 1].empty());
    EXPECT_EQ(meta.columns[0], "title");
    EXPECT_EQ(meta.rows[b01 - 1][0], c.b01_title);
    EXPECT_EQ(meta.rows[b02 - 1][0], c.b02_title);
    EXPECT_EQ(meta.rows[b03 - 1][0], c.b03_title);
    if (c.format != ItemFormat::movielens) {
      EXPECT_EQ(meta.rows[b06 - 1][1], c.b06_brand);
    }
  }
  // 2014 category paths are flattened without repeating their root; 2023
  // details are "key: value".
  const auto meta = read_item_metadata(fixture("meta_2014.json"), ItemFormat::amazon, ids, 6);
  EXPECT_EQ(meta.rows[b01 - 1][2], "Beauty; Makeup; Nails; Nail Polish");
  EXPECT_EQ(read_item_metadata(fixture("meta_2023.jsonl"), ItemFormat::amazon, ids, 6).rows[b01 - 1][5], "Brand: OPI; Color: Red");

  // items.tsv is what `caudal embed` reads: keyed by item id, one line per item.
  TempDir dir;
  std::ofstream(dir.file("items.tsv")) << items_tsv(meta, kFixtureItems);
  ItemTextOptions text;
  text.columns = {"title", "brand"};
  const auto texts = load_item_texts(dir.file("items.tsv"), text, 6);
  EXPECT_EQ(texts.text[b01], "Nail lacquer 'Simmer'. OPI");
  EXPECT_EQ(texts.text[b03], "Rose scented soap. Savon");  // the tab became a space
  EXPECT_EQ(texts.missing, (std::vector<int64_t>{b05}));
}

TEST(PrepareFormats, PythonLiterals) {
  const auto value = parse_python_literal(
      R"({'a': [1, -2.5, True, False, None], "b": ('x', u'y'), 'c': {'d': 'it\'s \"q\" \\ \n'}, )"
      R"('e': '\xe2\x80\x99 \u00e9', 'f': '''tri'ple''', })");
  EXPECT_EQ(value["a"], nlohmann::json::parse("[1, -2.5, true, false, null]"));
  EXPECT_EQ(value["b"], nlohmann::json::parse(R"(["x", "y"])"));
  EXPECT_EQ(value["c"]["d"], "it's \"q\" \\ \n");
  EXPECT_EQ(value["e"], "\u2019 \u00e9");  // \x escapes are UTF-8 bytes (Python 2's repr)
  EXPECT_EQ(value["f"], "tri'ple");
  EXPECT_EQ(parse_python_literal(R"('caf\xe9')"), "caf\u00e9");  // not UTF-8: read as Latin-1
  EXPECT_EQ(error_of([] { parse_python_literal("{'a': 1"); }), "not a Python literal: expected ',' or '}' at character 8");
  EXPECT_EQ(error_of([] { parse_python_literal("{'a': nan}"); }).substr(0, 38), "not a Python literal: expected a value");
  EXPECT_EQ(error_of([] { parse_python_literal(std::string(2000, '[')); }),
            "not a Python literal: expected less nesting at character 513");
}

TEST(PrepareFormats, MalformedInputNamesFileLineAndField) {
  TempDir dir;
  PrepareOptions options;
  options.k_core = 1;
  auto expect_error = [&](const std::string& name, const std::string& content, LogFormat format, const std::string& message) {
    SCOPED_TRACE(name);
    options.format = format;
    EXPECT_EQ(error_of([&] { prepare_interactions(dir.write(name, content), options); }), dir.file(name) + message);
  };
  expect_error("r.json",
               "{\"reviewerID\": \"u\", \"asin\": \"i\", \"overall\": 5, \"unixReviewTime\": 1}\n"
               "{\"reviewerID\": \"u\", \"overall\": 5}\n",
               LogFormat::amazon, ":2: no \"asin\" field");
  expect_error("s.json", "{\"user_id\": \"u\", \"parent_asin\": \"i\", \"rating\": \"five\", \"timestamp\": 1}\n", LogFormat::amazon,
               ":1: \"rating\" must be a finite number, got 'five'");
  expect_error("t.json", "[1, 2]\n", LogFormat::amazon, ":1: expected one JSON object per line");
  expect_error("u.json", "{\"asin\": \"i\"}\n", LogFormat::amazon,
               ":1: neither an Amazon 2014/2018 review (\"reviewerID\") nor a 2023 one (\"user_id\")");
  expect_error("v.json", "{'reviewerID': 'u', 'asin': \n", LogFormat::amazon,
               ":1: not a JSON object (nor a Python dict): not a Python literal: expected a value at character 29");
  expect_error("a.inter", "user:token\titem_id:token\n", LogFormat::recbole,
               ":1: a RecBole .inter header needs user_id and item_id columns, found 'user:token\titem_id:token'");
  expect_error("b.inter", "user_id:token\titem_id:token\tts:float\nu\ti\n", LogFormat::recbole,
               ":2: expected 3 tab-separated fields as in the header, found 2");
  expect_error("c.inter", "user_id:token\titem_id:token\ttimestamp:float\nu\ti\tnan\n", LogFormat::recbole,
               ":2: timestamp must be a finite number, got 'nan'");
  expect_error("r.dat", "1::2::3::4\n1::2::3\n", LogFormat::movielens,
               ":2: expected UserID::MovieID::Rating::Timestamp (or 4 tab-separated fields), found 3 fields");
  expect_error("e.csv", "u,,1,1\n", LogFormat::csv, ":1: empty item id");

  options.format = LogFormat::recbole;
  options.min_rating = 4;
  EXPECT_EQ(error_of([&] { prepare_interactions(dir.write("d.inter", "user_id:token\titem_id:token\nu\ti\n"), options); }),
            dir.file("d.inter") + ": has no rating column, so --min-rating cannot apply");
  options.format = LogFormat::csv;
  options.min_rating = 9;
  EXPECT_EQ(error_of([&] { prepare_interactions(dir.write("f.csv", "u,i,1,1\n"), options); }),
            dir.file("f.csv") + ": --min-rating 9 removed all 1 interactions");
  EXPECT_NE(error_of([&] { guess_log_format(dir.write("what.txt", "hello world\n")); })
                .find("cannot tell the format from its name and first line; give --format (csv, amazon, recbole, movielens)"),
            std::string::npos);
}

TEST(LineReader, GzipAndPlainReadAlike) {
  TempDir dir;
  // A UTF-8 byte order mark (as some editors write) is not part of the first line.
  const std::string content("\xEF\xBB\xBF" "first\r\nsecond has a NUL \0 inside\n\nlast without newline", 57);
  std::ofstream(dir.file("plain.txt"), std::ios::binary) << content;
  gzFile gz = gzopen(dir.file("packed.txt.gz").c_str(), "wb");
  gzwrite(gz, content.data(), static_cast<unsigned>(content.size()));
  gzclose(gz);
  for (const char* name : {"plain.txt", "packed.txt.gz"}) {
    SCOPED_TRACE(name);
    LineReader in(dir.file(name));
    std::vector<std::string> lines;
    std::string line;
    while (in.next(line)) lines.push_back(line);
    EXPECT_EQ(lines, (std::vector<std::string>{"first", std::string("second has a NUL \0 inside", 25), "", "last without newline"}));
    EXPECT_EQ(in.line_number(), 4);
  }
  // A gzip stream cut short is an error, not a silent end of file.
  const auto packed = read_bytes(dir.file("packed.txt.gz"));
  std::ofstream(dir.file("cut.gz"), std::ios::binary) << packed.substr(0, packed.size() - 12);
  LineReader cut(dir.file("cut.gz"));
  std::string line;
  EXPECT_THROW(
      {
        while (cut.next(line)) {
        }
      },
      Error);
}

}  // namespace
}  // namespace caudal
