#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cmath>
#include <fstream>

#include "caudal/core/atomic_file.h"
#include "caudal/core/error.h"
#include "caudal/eval/content_knn.h"
#include "caudal/eval/evaluator.h"
#include "caudal/semantic/item_text.h"
#include "caudal/semantic/lexical.h"
#include "caudal/semantic/vector_file.h"
#include "test_util.h"

namespace caudal {
namespace {

using testing::TempDir;

// Expects `body` to throw a caudal::Error whose message contains each of `parts`.
template <typename F>
void expect_error(F body, std::initializer_list<std::string> parts) {
  try {
    body();
    FAIL() << "no error";
  } catch (const Error& e) {
    for (const auto& part : parts) EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

// A .npy file written byte by byte, as NumPy would.
std::string npy_bytes(const std::string& descr, const std::string& shape, const std::string& data, bool fortran = false) {
  std::string header = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': " + shape + ", }";
  header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ');
  header += '\n';
  std::string out = "\x93NUMPY\x01";
  out += '\0';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  return out + header + data;
}

template <typename T>
std::string raw(const std::vector<T>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}

TEST(VectorFile, NpyRoundTripKeepsItemRows) {
  TempDir dir;
  auto table = at::zeros({4, 3});
  table.narrow(0, 1, 3).copy_(at::randn({3, 3}));
  save_item_vectors(dir.file("v.npy"), table);
  auto back = load_item_vectors(dir.file("v.npy"), 3);
  EXPECT_TRUE(at::equal(back, table));
  EXPECT_EQ(read_npy(dir.file("v.npy")).size(0), 3);  // items only on disk
  save_item_vectors(dir.file("v.txt"), table);
  EXPECT_TRUE(at::allclose(load_item_vectors(dir.file("v.txt"), 3), table));
}

TEST(VectorFile, ReadsFloat16And64AndAPaddingRow) {
  TempDir dir;
  write_file_atomically(dir.file("d.npy"), npy_bytes("<f8", "(2, 2)", raw<double>({1.5, -2, 3, 4.25})));
  auto d = load_item_vectors(dir.file("d.npy"), 2);
  EXPECT_TRUE(at::equal(d, at::tensor({0.f, 0.f, 1.5f, -2.f, 3.f, 4.25f}).view({3, 2})));
  // float16 1.0 = 0x3C00, 2.0 = 0x4000, -1 = 0xBC00, 0.5 = 0x3800
  write_file_atomically(dir.file("h.npy"), npy_bytes("<f2", "(2, 2)", raw<uint16_t>({0x3C00, 0x4000, 0xBC00, 0x3800})));
  EXPECT_TRUE(at::equal(load_item_vectors(dir.file("h.npy"), 2), at::tensor({0.f, 0.f, 1.f, 2.f, -1.f, 0.5f}).view({3, 2})));
  write_file_atomically(dir.file("p.npy"), npy_bytes("<f4", "(3, 2)", raw<float>({0, 0, 1, 2, 3, 5})));
  EXPECT_TRUE(at::equal(load_item_vectors(dir.file("p.npy"), 2), at::tensor({0.f, 0.f, 1.f, 2.f, 3.f, 5.f}).view({3, 2})));
}

TEST(VectorFile, BadFilesAreClearErrors) {
  TempDir dir;
  auto write = [&](const std::string& name, const std::string& bytes) {
    write_file_atomically(dir.file(name), bytes);
    return dir.file(name);
  };
  const auto good = raw<float>({1, 2, 3, 4});
  expect_error([&] { load_item_vectors(write("magic.npy", "NOTNUMPY"), 2); }, {"magic.npy", "bad magic"});
  expect_error([&] { load_item_vectors(write("int.npy", npy_bytes("<i4", "(2, 2)", good)), 2); }, {"unsupported dtype '<i4'"});
  expect_error([&] { load_item_vectors(write("f.npy", npy_bytes("<f4", "(2, 2)", good, true)), 2); }, {"Fortran"});
  expect_error([&] { load_item_vectors(write("r.npy", npy_bytes("<f4", "(4,)", good)), 2); }, {"2-D"});
  expect_error([&] { load_item_vectors(write("t.npy", npy_bytes("<f4", "(2, 2)", good.substr(0, 12))), 2); },
               {"t.npy", "truncated"});
  expect_error([&] { load_item_vectors(write("n.npy", npy_bytes("<f4", "(2, 2)", good)), 5); },
               {"n.npy", "has 2 rows but the data has 5 items"});
  expect_error([&] { load_item_vectors(write("nan.npy", npy_bytes("<f4", "(2, 2)", raw<float>({1, 2, NAN, 4}))), 2); },
               {"nan.npy", "item 2", "non-finite"});
  expect_error([&] { load_item_vectors(write("inf.npy", npy_bytes("<f4", "(2, 2)", raw<float>({INFINITY, 2, 3, 4}))), 2); },
               {"item 1", "non-finite"});
  expect_error([&] { load_item_vectors(write("c.npy", npy_bytes("<f4", "(2, 2)", raw<float>({1, 2, 0, 0}))), 2); },
               {"item 2 has a constant vector"});
  expect_error([&] { load_item_vectors(write("pad.npy", npy_bytes("<f4", "(3, 2)", raw<float>({1, 0, 1, 2, 3, 5}))), 2); },
               {"padding row"});
  expect_error([&] { load_item_vectors(write("a.txt", "1 0.1 0.2\n2 0.3\n"), 2); }, {"a.txt:2", "expected 2 values"});
  expect_error([&] { load_item_vectors(write("b.txt", "1 0.1 0.2\n1 0.3 0.4\n"), 2); }, {"item 1 appears twice"});
  expect_error([&] { load_item_vectors(write("c.txt", "1 0.1 0.2\n"), 2); }, {"no vector for item 2"});
  expect_error([&] { load_item_vectors(write("d.txt", "1 0.1 x\n"), 1); }, {"d.txt:1", "not a number: 'x'"});
}

// Found by fuzz/fuzz_vectors: forged sizes reached LibTorch's allocator
// (c10::Error or an abort, not caudal::Error): a .npy shape whose byte count
// overflows size_t, and a text file whose one id of 10^13 sized the table
// when no catalogue size was given. A shape entry beyond int64 (std::stoll
// threw std::out_of_range) was seen in the same code.
TEST(VectorFile, ForgedSizesAreErrorsBeforeAnyAllocation) {
  TempDir dir;
  auto write = [&](const std::string& name, const std::string& bytes) {
    write_file_atomically(dir.file(name), bytes);
    return dir.file(name);
  };
  expect_error([&] { load_item_vectors(write("o.npy", npy_bytes("<f4", "(4611686018427387904, 4)", "")), 0); },
               {"o.npy", "for shape (4611686018427387904, 4), found 0"});
  expect_error([&] { load_item_vectors(write("l.npy", npy_bytes("<f4", "(99999999999999999999, 1)", "")), 0); },
               {"l.npy", "is out of range"});
  expect_error([&] { load_item_vectors(write("g.txt", "10000000000000 0.1 0.2\n"), 0); },
               {"g.txt", "item 10000000000000 but only 1 vectors"});
}

// Found by fuzz/fuzz_vectors: a .npy of shape (0, d) passed the null data
// of an empty tensor to memcpy (UBSan), and was then read as a table of no
// items whose one padding row had the header's d columns, however many.
TEST(VectorFile, AnEmptyNpyTableIsAnError) {
  TempDir dir;
  write_file_atomically(dir.file("e.npy"), npy_bytes("<f4", "(0, 2)", ""));
  expect_error([&] { load_item_vectors(dir.file("e.npy"), 0); }, {"e.npy", "no vectors"});
  write_file_atomically(dir.file("w.npy"), npy_bytes("<f4", "(0, 4611686018427387904)", ""));
  expect_error([&] { load_item_vectors(dir.file("w.npy"), 0); }, {"w.npy", "no vectors"});
  EXPECT_EQ(read_npy(dir.file("e.npy")).size(0), 0);  // as an array it is fine
}

TEST(ItemText, ColumnsTemplateAndMissingItems) {
  TempDir dir;
  const auto tsv = dir.write("items.tsv",
                             "item_id\tasin\ttitle\tbrand\n"
                             "2\tB2\tred lipstick\tacme\n"
                             "1\tB1\tblue pen\t\n"
                             "4\tB4\t\t\n");
  ItemTextOptions options;
  options.columns = {"title", "brand"};
  auto texts = load_item_texts(tsv, options, 4);
  EXPECT_EQ(texts.text[2], "red lipstick. acme");
  EXPECT_EQ(texts.text[1], "blue pen");
  EXPECT_EQ(texts.missing, (std::vector<int64_t>{3, 4}));
  options.text_template = "name is {title}; brand is {brand}.";
  texts = load_item_texts(tsv, options, 4);
  EXPECT_EQ(texts.text[2], "name is red lipstick; brand is acme.");
  EXPECT_EQ(texts.missing, (std::vector<int64_t>{3, 4}));
  options.columns = {"title", "colour"};
  expect_error([&] { load_item_texts(tsv, options, 4); }, {"items.tsv", "no column 'colour'", "item_id, asin, title, brand"});
  options.columns = {"title"};
  options.text_template.clear();
  expect_error([&] { load_item_texts(tsv, options, 3); }, {"item id 4 is outside the catalogue 1..3"});
  expect_error([&] { load_item_texts(dir.write("bad.tsv", "item_id\ttitle\nx\tpen\n"), options, 0); },
               {"bad.tsv:2", "positive integer"});
  expect_error([&] { load_item_texts(dir.write("short.tsv", "item_id\ttitle\n1\n"), options, 0); },
               {"short.tsv:2", "expected 2 fields"});
  // Found with fuzz/fuzz_item_files: without a catalogue size, one id of
  // 10^11 sized a table of 10^11 texts (bad_alloc from a 30-byte file).
  expect_error([&] { load_item_texts(dir.write("huge.tsv", "item_id\ttitle\n99999999999\tpen\n"), options, 0); },
               {"huge.tsv", "item id 99999999999 is far beyond the 1 distinct items"});
}

TEST(ItemText, QuotedCsvAndIdMap) {
  TempDir dir;
  const auto csv = dir.write("items.csv",
                             "item_id,title,genres\n"
                             "m12,\"Usual Suspects, The\",Crime\n"
                             "m7,\"Say \"\"Hi\"\"\nagain\",Drama\n"
                             "m99,Dropped by k-core,Drama\n");
  const auto map = dir.write("item_map.tsv", "id\toriginal_id\n1\tm7\n2\tm12\n");
  ItemTextOptions options;
  options.columns = {"title", "genres"};
  options.id_map = map;
  auto texts = load_item_texts(csv, options, 2);
  EXPECT_EQ(texts.text[2], "Usual Suspects, The. Crime");
  EXPECT_EQ(texts.text[1], "Say \"Hi\"\nagain. Drama");
  EXPECT_TRUE(texts.missing.empty());
  expect_error([&] { read_item_table(dir.write("open.csv", "a,b\n1,\"never closed\n")); }, {"open.csv:2", "unterminated"});
}

TEST(Lexical, TokenizerLowercasesAndDropsShortTokens) {
  EXPECT_EQ(tokenize("Nail-Polish, RED a 3_32!"), (std::vector<std::string>{"nail", "polish", "red", "3_32"}));
}

TEST(Lexical, TfidfMatchesAHandComputedCorpus) {
  // Three documents; min_df 2 keeps terms in at least two of them:
  // "red", "pen" (df 2 each) and "red pen" (df 2), numbered in first-seen
  // order. n = 3 documents.
  LexicalOptions options;
  options.min_df = 2;
  auto result = tfidf({"red pen", "red pen red", "blue pen"}, options);
  ASSERT_EQ(result.terms, (std::vector<std::string>{"red", "red pen", "pen"}));
  auto dense = result.matrix.to_dense();
  const double idf2 = std::log(4.0 / 3.0) + 1.0;  // df 2 of n 3, smoothed
  const double idf3 = std::log(4.0 / 4.0) + 1.0;  // "pen" is in all 3
  // doc 1, "red pen red": red tf 2 -> (1 + ln 2) idf2; pen tf 1 -> idf3; "red pen" tf 1 -> idf2
  // ("pen red" appears once, df 1: dropped).
  const double r = (1 + std::log(2.0)) * idf2, p = idf3, b = idf2;
  const double norm = std::sqrt(r * r + p * p + b * b);
  EXPECT_NEAR(dense[1][0].item<double>(), r / norm, 1e-6);
  EXPECT_NEAR(dense[1][2].item<double>(), p / norm, 1e-6);
  EXPECT_NEAR(dense[1][1].item<double>(), b / norm, 1e-6);
  // doc 2, "blue pen": only "pen" survives -> unit weight.
  EXPECT_NEAR(dense[2][2].item<double>(), 1.0, 1e-6);
  EXPECT_NEAR(dense[2].sum().item<double>(), 1.0, 1e-6);
}

TEST(Lexical, RandomizedSvdMatchesExactSvd) {
  auto generator = at::detail::createCPUGenerator(1);
  // Rank 5 plus a little noise: a clear gap after the 5th singular value, so
  // the top-5 subspace is well defined. Exact SVD is the reference.
  auto dense = at::mm(at::randn({40, 5}, generator), at::randn({5, 60}, generator)) + 0.01 * at::randn({40, 60}, generator);
  auto sparse = dense.to_sparse();
  LexicalOptions options;
  auto embedding = randomized_svd_embedding(sparse, 5, options);
  auto exact = at::linalg_svd(dense.to(at::kDouble), false);
  auto singular = std::get<1>(exact).narrow(0, 0, 5);
  EXPECT_TRUE(at::allclose(embedding.to(at::kDouble).norm(2, 0), singular, 1e-3, 1e-3));
  // Same subspace: U_k U_k^T equal.
  auto u = std::get<0>(exact).narrow(1, 0, 5);
  auto ours = embedding.to(at::kDouble) / singular.unsqueeze(0);
  EXPECT_TRUE(at::allclose(at::mm(ours, ours.t()), at::mm(u, u.t()), 1e-3, 1e-3));
  // Deterministic for a seed.
  EXPECT_TRUE(at::equal(embedding, randomized_svd_embedding(sparse, 5, options)));
}

TEST(Lexical, PcaProjectsOnPrincipalAxes) {
  // Points on a line in 3-D (plus the padding row): one component explains all.
  auto table = at::zeros({5, 3});
  for (int i = 1; i <= 4; ++i) table[i] = at::tensor({1.f * i, 2.f * i, -1.f * i}) + at::tensor({5.f, 5.f, 5.f});
  auto projected = pca_project(table, 2);
  EXPECT_EQ(projected.sizes(), (at::IntArrayRef{5, 2}));
  EXPECT_EQ(projected[0].abs().sum().item<float>(), 0.f);
  EXPECT_NEAR(projected.narrow(0, 1, 4).select(1, 1).abs().max().item<float>(), 0.f, 1e-4);
  // Distances along the line are kept: consecutive points sqrt(6) apart.
  EXPECT_NEAR(std::abs((projected[2][0] - projected[1][0]).item<float>()), std::sqrt(6.f), 1e-4);
  EXPECT_NEAR(projected.narrow(0, 1, 4).select(1, 0).sum().item<float>(), 0.f, 1e-4);  // centred
  EXPECT_THROW(pca_project(table, 4), Error);
}

TEST(ContentKnn, RanksByCosineToTheLastItem) {
  // Items: 1 = (1,0), 2 = (0,1), 3 = (1,1)/sqrt2-ish, 4 = (-1,0), 5 = (2, 0.2).
  auto table = at::tensor({0.f, 0.f, 1.f, 0.f, 0.f, 1.f, 1.f, 1.f, -1.f, 0.f, 2.f, 0.2f}).view({6, 2});
  auto model = make_content_knn(table);
  // User: 2 3 1 5 4. Test: history 2 3 1 5 (last 5), target 4: cosine -0.995,
  // nothing else is left outside the history -> rank 0.
  // Valid: history 2 3 1 (last 1), target 5: cos 0.995; only 4 (-1) remains -> rank 0.
  auto ds = testing::dataset_from({{2, 3, 1, 5, 4}, {4, 2, 1}});
  EvalOptions options;
  auto ranked = rank_targets(*model, ds, Stage::kTest, options, at::kCPU);
  // User 1: test history 4 2 (last 2), target 1: cos(2,1) = 0; items 3 (0.707) and 5 (0.0995) beat it.
  for (size_t i = 0; i < ranked.users.size(); ++i) EXPECT_EQ(ranked.ranks[i], ranked.users[i] == 0 ? 0 : 2);
}

}  // namespace
}  // namespace caudal
