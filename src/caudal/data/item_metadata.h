// Item text from the metadata files that come with raw logs, keyed by the
// item ids `caudal prepare` gave out. Formats, by the name `--items-format`
// takes:
//   amazon     Amazon metadata, one object per line, plain or gzip: 2014
//              meta_*.json (Python dict literals), 2018 (JSON), both keyed by
//              asin; 2023 meta_*.jsonl keyed by parent_asin. Columns: title,
//              brand (2023: store), categories, features, description,
//              details; lists are joined with "; ", details as "key: value".
//   recbole    RecBole `.item` files: typed header, keyed by item_id; every
//              other column kept under its name.
//   movielens  `movies.dat` (MovieID::Title::Genres; Latin-1 read as such):
//              title, genres.
//   table      any CSV or TSV with a header row whose first column is the
//              original item id (for example the bundled ml-100k items.csv).
// Streamed: only the rows of items that survived the filters are kept.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace caudal {

enum class ItemFormat { table, amazon, recbole, movielens };

std::string item_format_name(ItemFormat format);
std::vector<std::string> item_format_names();
// Throws caudal::Error listing the known names.
ItemFormat parse_item_format(const std::string& name);
// From the file name and first line; throws asking for --items-format when it cannot tell.
ItemFormat guess_item_format(const std::string& path);

struct ItemMetadata {
  std::vector<std::string> columns;            // text columns, without the ids
  std::vector<std::vector<std::string>> rows;  // index = item id - 1; empty = no metadata for that item
  int64_t rows_read = 0;                       // every item row of the file, kept or not
  int64_t items_found = 0;                     // items with a row
};

// `item_ids`: original id -> item id (1..num_items). A second row for an
// item is ignored (the first wins), as metadata dumps repeat some products.
// Errors: malformed rows (file and line), duplicate or empty column names, a
// file none of whose rows names an item of the data.
ItemMetadata read_item_metadata(const std::string& path, ItemFormat format,
                                const std::unordered_map<std::string, int64_t>& item_ids, int64_t num_items);

// `item_id<TAB>original_id<TAB>columns...` with a header, one row per item
// with metadata; control characters inside text (tabs, line breaks) become
// spaces. What `caudal embed --items` reads.
std::string items_tsv(const ItemMetadata& metadata, const std::vector<std::string>& item_names);

}  // namespace caudal
