#include "caudal/semantic/item_text.h"

#include <algorithm>
#include <charconv>
#include <sstream>
#include <unordered_map>

#include "caudal/core/error.h"
#include "caudal/core/line_reader.h"
#include "caudal/data/delimited.h"
#include "caudal/data/format_table.h"
#include "caudal/data/prepare.h"
#include "caudal/data/sequences.h"

namespace caudal {
namespace {

int64_t parse_item_id(const std::string& text, const std::string& path, int64_t line) {
  int64_t id = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || ptr != text.data() + text.size() || id <= 0)
    throw input_error(path, line, "item id must be a positive integer, got '" + text + "'");
  return id;
}

}  // namespace

std::vector<std::string> split_list(const std::string& list, char separator) {
  std::vector<std::string> out;
  std::string part;
  std::istringstream in(list);
  while (std::getline(in, part, separator)) out.push_back(part);
  if (!list.empty() && list.back() == separator) out.emplace_back();
  return out;
}

ItemTable read_item_table(const std::string& path) {
  LineReader in(path);
  const bool csv = ends_with(path, ".csv") || ends_with(path, ".csv.gz");
  ItemTable table;
  table.source = path;
  int64_t line_no = 0;
  std::vector<std::string> fields;
  std::string line;
  auto next = [&]() {
    if (csv) return read_csv_record(in, fields, line_no);
    if (!in.next(line)) return false;
    line_no = in.line_number();
    fields = split_fields(line, "\t");
    return true;
  };
  if (!next()) throw Error(path + ": empty item file (a header row is required)");
  table.columns = fields;
  while (next()) {
    if (fields.size() == 1 && fields[0].empty()) continue;  // blank line
    if (fields.size() != table.columns.size())
      throw input_error(path, line_no, "expected " + std::to_string(table.columns.size()) + " fields as in the header, found " +
                                           std::to_string(fields.size()));
    table.rows.push_back(fields);
    table.lines.push_back(line_no);
  }
  return table;
}

ItemTexts load_item_texts(const std::string& path, const ItemTextOptions& options, int64_t num_items) {
  auto table = read_item_table(path);
  auto column_index = [&](const std::string& name) -> size_t {
    auto it = std::find(table.columns.begin(), table.columns.end(), name);
    if (it == table.columns.end()) {
      std::string known;
      for (const auto& c : table.columns) known += (known.empty() ? "" : ", ") + c;
      throw Error(path + ": no column '" + name + "' (columns: " + known + ")");
    }
    return static_cast<size_t>(it - table.columns.begin());
  };
  if (options.columns.empty()) throw Error("--columns: name at least one text column");
  std::vector<size_t> chosen;
  for (const auto& name : options.columns) chosen.push_back(column_index(name));

  // Template pieces: literal text and column references, resolved once.
  struct Piece {
    std::string literal;
    int64_t column = -1;
  };
  std::vector<Piece> pieces;
  for (size_t i = 0; i < options.text_template.size();) {
    const size_t open = options.text_template.find('{', i);
    if (open == std::string::npos) {
      pieces.push_back({options.text_template.substr(i), -1});
      break;
    }
    const size_t close = options.text_template.find('}', open);
    if (close == std::string::npos) throw Error("--template: unclosed '{' at character " + std::to_string(open));
    pieces.push_back({options.text_template.substr(i, open - i), -1});
    pieces.push_back({"", static_cast<int64_t>(column_index(options.text_template.substr(open + 1, close - open - 1)))});
    i = close + 1;
  }

  std::unordered_map<std::string, int64_t> id_map;
  if (!options.id_map.empty())
    for (auto& [original, id] : read_id_map(options.id_map)) id_map.emplace(original, id);

  std::vector<std::pair<int64_t, std::string>> texts;
  int64_t largest = 0;
  for (size_t r = 0; r < table.rows.size(); ++r) {
    const auto& row = table.rows[r];
    int64_t id = 0;
    if (options.id_map.empty()) {
      id = parse_item_id(row[0], path, table.lines[r]);
    } else {
      auto it = id_map.find(row[0]);
      if (it == id_map.end()) continue;  // an item the k-core filter removed
      id = it->second;
    }
    std::string text;
    if (pieces.empty()) {
      for (size_t c : chosen) {
        if (row[c].empty()) continue;
        if (!text.empty()) text += ". ";
        text += row[c];
      }
    } else {
      bool any_field = false;
      for (const auto& piece : pieces) {
        text += piece.column >= 0 ? row[piece.column] : piece.literal;
        any_field = any_field || (piece.column >= 0 && !row[piece.column].empty());
      }
      if (!any_field) text.clear();  // a template around empty fields is no text
    }
    if (text.size() > options.max_chars) text.resize(options.max_chars);
    largest = std::max(largest, id);
    texts.emplace_back(id, std::move(text));
  }
  if (num_items == 0) {
    check_dense_item_ids(largest, static_cast<int64_t>(texts.size()), path);
    num_items = largest;
  }
  ItemTexts out;
  out.text.assign(num_items + 1, "");
  std::vector<char> seen(num_items + 1, 0);
  for (size_t r = 0; r < texts.size(); ++r) {
    const int64_t id = texts[r].first;
    if (id > num_items)
      throw Error(path + ": item id " + std::to_string(id) + " is outside the catalogue 1.." + std::to_string(num_items));
    if (seen[id]) throw Error(path + ": item id " + std::to_string(id) + " has two rows");
    seen[id] = 1;
    out.text[id] = std::move(texts[r].second);
  }
  for (int64_t id = 1; id <= num_items; ++id)
    if (out.text[id].find_first_not_of(" \t.") == std::string::npos) out.missing.push_back(id);
  return out;
}

}  // namespace caudal
