// Feeds any bytes to the readers of item side files: read_item_metadata
// (`caudal prepare --items`: tables, Amazon metadata with Python-literal
// lines, RecBole .item, movies.dat), read_item_table and load_item_texts
// (`caudal embed --items`, `caudal serve --items`). The low 3 bits of the
// first byte pick the reader and the file's extension, the next 2 the
// catalogue size given to load_item_texts (0: the largest id found).
// A caudal::Error is the right answer to a bad file; anything else is a bug:
// a crash or sanitizer report, another exception (std::bad_alloc included),
// a hang, or metadata rows whose width is not the number of columns.
#include <unordered_map>

#include "caudal/core/error.h"
#include "caudal/data/item_metadata.h"
#include "caudal/semantic/item_text.h"
#include "fuzz_input.h"

namespace {

// Original ids of the items in the seed files (tests/data/prepare, data/).
const std::unordered_map<std::string, int64_t> kItemIds = {{"B01", 1}, {"B02", 2}, {"B03", 3}, {"B04", 4},
                                                           {"B06", 5}, {"1", 6},   {"2", 7},   {"B004756YJA", 8}};
constexpr int64_t kNumItems = 8;

void read_metadata(const std::string& path, caudal::ItemFormat format) {
  const auto metadata = caudal::read_item_metadata(path, format, kItemIds, kNumItems);
  caudal::fuzz::require(static_cast<int64_t>(metadata.rows.size()) == kNumItems);
  for (const auto& row : metadata.rows) caudal::fuzz::require(row.empty() || row.size() == metadata.columns.size());
}

void read_texts(const std::string& path, int64_t num_items) {
  const auto table = caudal::read_item_table(path);
  if (table.columns.size() < 2) return;  // no text column to choose
  caudal::ItemTextOptions options;
  options.columns = {table.columns[1]};
  caudal::load_item_texts(path, options, num_items);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int choice = data[0] & 7;
  const int64_t num_items = (data[0] >> 3) & 3;
  const char* names[] = {"items.tsv", "items.csv", "meta.json", "log.item", "movies.dat", "items", "items.tsv", "items.csv"};
  const std::string path = caudal::fuzz::write_input(names[choice], data + 1, size - 1);
  try {
    switch (choice) {
      case 0:
      case 1: read_metadata(path, caudal::ItemFormat::table); break;
      case 2: read_metadata(path, caudal::ItemFormat::amazon); break;
      case 3: read_metadata(path, caudal::ItemFormat::recbole); break;
      case 4: read_metadata(path, caudal::ItemFormat::movielens); break;
      case 5: read_metadata(path, caudal::guess_item_format(path)); break;
      default: read_texts(path, num_items);
    }
  } catch (const caudal::Error&) {
  }
  return 0;
}
