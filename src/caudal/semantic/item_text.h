// Item side files (TSV or CSV with a header row) -> one text per item id.
// Columns are chosen by name; rows map to item ids through the first column,
// or through an id map written by `caudal prepare` (original id -> item id).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace caudal {

struct ItemTable {
  std::string source;
  std::vector<std::string> columns;              // header names
  std::vector<std::vector<std::string>> rows;    // fields of each data row
  std::vector<int64_t> lines;                    // file line of each row (for messages)
};

// Reads a .tsv (tab-separated, no quoting) or .csv (RFC 4180 quoting) file by
// its extension, plain or gzip (.tsv.gz, .csv.gz). Errors name file and line: a row with the wrong number of
// fields, an unterminated quote, an empty file.
ItemTable read_item_table(const std::string& path);

struct ItemTextOptions {
  std::vector<std::string> columns;  // text columns, in order
  // "{title} by {brand}" style template with column names in braces; empty:
  // the chosen columns joined with ". " (empty fields skipped).
  std::string text_template;
  std::string id_map;  // item_map.tsv from `caudal prepare`; empty: the first column is the item id
  size_t max_chars = 4095;  // texts are cut here (the FAERec pipeline's limit)
};

struct ItemTexts {
  std::vector<std::string> text;   // index = item id (0 unused); "" = no text
  std::vector<int64_t> missing;    // item ids 1..num_items without text
};

// num_items: the catalogue size (0: the largest id found). Throws on unknown
// column names, unknown or non-integer ids, ids out of range, duplicate rows.
ItemTexts load_item_texts(const std::string& path, const ItemTextOptions& options, int64_t num_items);

// Splits "a,b,c".
std::vector<std::string> split_list(const std::string& list, char separator = ',');

}  // namespace caudal
