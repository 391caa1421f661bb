#include "caudal/data/item_metadata.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "caudal/core/error.h"
#include "caudal/core/line_reader.h"
#include "caudal/data/delimited.h"
#include "caudal/data/format_table.h"
#include "caudal/data/python_literal.h"

namespace caudal {
namespace {

// Keeps a row when its item survived and has no row yet.
class RowSink {
 public:
  RowSink(ItemMetadata& out, const std::unordered_map<std::string, int64_t>& item_ids, int64_t num_items)
      : out_(out), item_ids_(item_ids) {
    out_.rows.assign(static_cast<size_t>(num_items), {});
  }
  void add(const std::string& original_id, std::vector<std::string> texts) {
    ++out_.rows_read;
    auto it = item_ids_.find(original_id);
    if (it == item_ids_.end()) return;
    auto& row = out_.rows[static_cast<size_t>(it->second - 1)];
    if (!row.empty()) return;
    row = std::move(texts);
    ++out_.items_found;
  }

 private:
  ItemMetadata& out_;
  const std::unordered_map<std::string, int64_t>& item_ids_;
};

// A JSON value as one line of text: lists joined with "; " (nested ones
// flattened, repeats dropped, as 2014 category paths repeat their roots),
// objects as "key: value".
void flatten(const nlohmann::json& value, std::vector<std::string>& parts) {
  if (value.is_string()) {
    auto text = value.get<std::string>();
    if (!text.empty() && std::find(parts.begin(), parts.end(), text) == parts.end()) parts.push_back(std::move(text));
  } else if (value.is_array()) {
    for (const auto& element : value) flatten(element, parts);
  } else if (value.is_object()) {
    for (const auto& [key, element] : value.items()) {
      std::vector<std::string> inner;
      flatten(element, inner);
      std::string joined;
      for (const auto& p : inner) joined += (joined.empty() ? "" : ", ") + p;
      parts.push_back(key + ": " + joined);
    }
  } else if (!value.is_null()) {
    parts.push_back(value.dump());
  }
}

std::string text_of(const nlohmann::json& object, std::initializer_list<const char*> keys) {
  for (const char* key : keys) {
    auto it = object.find(key);
    if (it == object.end() || it->is_null()) continue;
    std::vector<std::string> parts;
    flatten(*it, parts);
    std::string text;
    for (const auto& p : parts) text += (text.empty() ? "" : "; ") + p;
    return text;
  }
  return "";
}

void read_amazon(LineReader& in, ItemMetadata& out, RowSink& sink) {
  out.columns = {"title", "brand", "categories", "features", "description", "details"};
  std::string line;
  while (in.next(line)) {
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    const auto object = parse_object_line(line, in.path(), in.line_number());
    auto key = object.find("parent_asin");
    if (key == object.end()) key = object.find("asin");
    if (key == object.end() || !key->is_string())
      throw input_error(in.path(), in.line_number(), "no \"asin\" (2014/2018) or \"parent_asin\" (2023) string field");
    sink.add(key->get<std::string>(), {text_of(object, {"title"}), text_of(object, {"brand", "store"}),
                                       text_of(object, {"categories", "category", "main_category"}),
                                       text_of(object, {"features", "feature"}), text_of(object, {"description"}),
                                       text_of(object, {"details"})});
  }
}

void read_recbole(LineReader& in, ItemMetadata& out, RowSink& sink) {
  std::string line;
  if (!in.next(line)) throw Error(in.path() + ": empty file (a RecBole header row is required)");
  const auto header = split_fields(line, "\t");
  int key = -1;
  std::vector<size_t> text_columns;
  for (size_t c = 0; c < header.size(); ++c) {
    const std::string name = header[c].substr(0, header[c].find(':'));
    if (name == "item_id") {
      key = static_cast<int>(c);
    } else {
      text_columns.push_back(c);
      out.columns.push_back(name);
    }
  }
  if (key < 0 || out.columns.empty())
    throw input_error(in.path(), 1, "a RecBole .item header needs an item_id column and a text column, found '" + line + "'");
  while (in.next(line)) {
    if (line.empty()) continue;
    auto fields = split_fields(line, "\t");
    if (fields.size() != header.size())
      throw input_error(in.path(), in.line_number(), "expected " + std::to_string(header.size()) +
                                                         " tab-separated fields as in the header, found " + std::to_string(fields.size()));
    std::vector<std::string> texts;
    for (size_t c : text_columns) texts.push_back(std::move(fields[c]));
    sink.add(fields[static_cast<size_t>(key)], std::move(texts));
  }
}

void read_movielens(LineReader& in, ItemMetadata& out, RowSink& sink) {
  out.columns = {"title", "genres"};
  std::string line;
  while (in.next(line)) {
    if (line.empty()) continue;
    auto fields = split_fields(as_utf8(line), "::");
    if (fields.size() != 3)
      throw input_error(in.path(), in.line_number(), "expected MovieID::Title::Genres, found " + std::to_string(fields.size()) + " fields");
    auto genres = split_fields(fields[2], "|");
    std::string joined;
    for (const auto& g : genres) joined += (joined.empty() ? "" : ", ") + g;
    sink.add(fields[0], {fields[1], joined});
  }
}

void read_table(LineReader& in, ItemMetadata& out, RowSink& sink) {
  const bool csv = ends_with(in.path(), ".csv") || ends_with(in.path(), ".csv.gz");
  std::vector<std::string> fields;
  std::string line;
  int64_t record_line = 0;
  auto next = [&] {
    if (csv) return read_csv_record(in, fields, record_line);
    if (!in.next(line)) return false;
    record_line = in.line_number();
    fields = split_fields(line, "\t");
    return true;
  };
  if (!next()) throw Error(in.path() + ": empty item file (a header row is required)");
  if (fields.size() < 2) throw input_error(in.path(), 1, "the header needs the item id column and at least one text column");
  out.columns.assign(fields.begin() + 1, fields.end());
  const size_t width = fields.size();
  while (next()) {
    if (fields.size() == 1 && fields[0].empty()) continue;
    if (fields.size() != width)
      throw input_error(in.path(), record_line, "expected " + std::to_string(width) + " fields as in the header, found " +
                                                    std::to_string(fields.size()));
    std::string id = std::move(fields[0]);
    fields.erase(fields.begin());
    sink.add(id, std::move(fields));
  }
}

struct FormatEntry {
  const char* name;
  ItemFormat format;
  void (*read)(LineReader&, ItemMetadata&, RowSink&);
};
const FormatEntry kFormats[] = {
    {"table", ItemFormat::table, read_table},
    {"amazon", ItemFormat::amazon, read_amazon},
    {"recbole", ItemFormat::recbole, read_recbole},
    {"movielens", ItemFormat::movielens, read_movielens},
};


// One line of a TSV cell: control characters (tabs, line breaks, NUL...) become spaces.
std::string cell(const std::string& text) {
  std::string out = text;
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  return out;
}

void check_columns(const std::vector<std::string>& columns, const std::string& path) {
  std::vector<std::string> seen = {"item_id", "original_id"};  // the two columns items.tsv adds
  for (const auto& name : columns) {
    if (name.empty()) throw input_error(path, 1, "a text column without a name");
    if (std::find(seen.begin(), seen.end(), name) != seen.end())
      throw input_error(path, 1, "column '" + shortened(name) + "' twice (or a name items.tsv keeps for ids)");
    seen.push_back(name);
  }
}

}  // namespace

std::string item_format_name(ItemFormat format) { return format_entry(kFormats, format).name; }
std::vector<std::string> item_format_names() { return format_names(kFormats); }
ItemFormat parse_item_format(const std::string& name) { return parse_format(kFormats, name, "--items-format"); }

ItemFormat guess_item_format(const std::string& path) {
  const std::string name = without_gz(path);
  if (ends_with(name, ".item")) return ItemFormat::recbole;
  const std::string first = first_nonblank_line(path);
  if (!first.empty() && first[0] == '{') return ItemFormat::amazon;
  if (first.find("::") != std::string::npos) return ItemFormat::movielens;
  if (ends_with(name, ".csv") || ends_with(name, ".tsv")) return ItemFormat::table;
  throw Error(path + ": cannot tell the item file's format from its name and first line; give --items-format "
                     "(table, amazon, recbole, movielens)");
}

ItemMetadata read_item_metadata(const std::string& path, ItemFormat format,
                                const std::unordered_map<std::string, int64_t>& item_ids, int64_t num_items) {
  ItemMetadata out;
  RowSink sink(out, item_ids, num_items);
  LineReader in(path);
  format_entry(kFormats, format).read(in, out, sink);
  check_columns(out.columns, path);
  if (out.items_found == 0)
    throw Error(path + ": none of its " + std::to_string(out.rows_read) + " item rows names an item of the data (read as " +
                item_format_name(format) + "; are the ids the same kind, e.g. asin vs parent_asin?)");
  return out;
}

std::string items_tsv(const ItemMetadata& metadata, const std::vector<std::string>& item_names) {
  std::string out = "item_id\toriginal_id";
  for (const auto& c : metadata.columns) out += '\t' + cell(c);
  out += '\n';
  for (size_t i = 0; i < metadata.rows.size(); ++i) {
    if (metadata.rows[i].empty()) continue;
    out += std::to_string(i + 1) + '\t' + cell(item_names[i]);
    for (const auto& text : metadata.rows[i]) out += '\t' + cell(text);
    out += '\n';
  }
  return out;
}

}  // namespace caudal
