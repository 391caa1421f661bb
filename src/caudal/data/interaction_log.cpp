#include "caudal/data/interaction_log.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>

#include "caudal/core/error.h"
#include "caudal/core/line_reader.h"
#include "caudal/data/delimited.h"
#include "caudal/data/format_table.h"
#include "caudal/data/python_literal.h"

namespace caudal {
namespace {

template <typename Number = double>
Number number_field(const std::string& text, const LineReader& in, int64_t line, const std::string& field) {
  Number value = 0;
  if (!parse_finite_number(text, value))
    throw input_error(in.path(), line, field + " must be a finite number, got '" + shortened(text) + "'");
  return value;
}

// Ids go into tab-separated maps, one per line.
void check_ids(const LogEvent& event, const LineReader& in) {
  for (const std::string* id : {&event.user, &event.item}) {
    const char* what = id == &event.user ? "user" : "item";
    if (id->empty()) throw input_error(in.path(), event.line, std::string("empty ") + what + " id");
    if (id->find_first_of(std::string("\t\n\r\0", 4)) != std::string::npos)
      throw input_error(in.path(), event.line, std::string(what) + " id '" + shortened(*id) + "' holds a tab, line break or NUL");
  }
}

// Which field of a CSV record holds what; positions 0-3 without a header.
struct CsvColumns {
  size_t user = 0, item = 1, rating = 2, timestamp = 3, width = 4;
};

std::string lowercase(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

CsvColumns columns_from_header(const std::vector<std::string>& header, const LineReader& in) {
  const std::pair<const char*, std::vector<std::string>> roles[] = {
      {"user", {"user_id", "userid", "user", "reviewerid"}},
      {"item", {"item_id", "itemid", "movieid", "item", "asin", "parent_asin"}},
      {"rating", {"rating", "overall", "score"}},
      {"timestamp", {"timestamp", "time", "unixreviewtime"}}};
  std::string joined;
  for (const auto& h : header) joined += (joined.empty() ? "" : ",") + h;
  size_t found[4];
  for (int r = 0; r < 4; ++r) {
    found[r] = SIZE_MAX;
    for (size_t c = 0; c < header.size(); ++c) {
      const auto& names = roles[r].second;
      if (std::find(names.begin(), names.end(), lowercase(header[c])) == names.end()) continue;
      if (found[r] != SIZE_MAX) throw input_error(in.path(), 1, std::string("two ") + roles[r].first + " columns in the header");
      found[r] = c;
    }
    if (found[r] == SIZE_MAX)
      throw input_error(in.path(), 1,
                        "not an interaction (user,item,rating,timestamp with numbers), so a header naming the user, item, rating "
                        "and timestamp columns; it has no " + std::string(roles[r].first) + " column: '" + shortened(joined) + "'");
  }
  return CsvColumns{found[0], found[1], found[2], found[3], header.size()};
}

LogReadReport read_csv(LineReader& in, const std::function<void(const LogEvent&)>& sink) {
  LogReadReport report;
  report.has_rating = true;
  std::vector<std::string> fields;
  LogEvent event;
  CsvColumns columns;
  while (read_csv_record(in, fields, event.line)) {
    if (fields.size() == 1 && fields[0].empty()) continue;  // blank line
    double rating = 0;
    if (event.line == 1 && (fields.size() != 4 || !parse_finite_number(fields[2], rating) ||
                            !parse_finite_number(fields[3], event.timestamp))) {
      columns = columns_from_header(fields, in);
      continue;
    }
    if (fields.size() != columns.width)
      throw input_error(in.path(), event.line,
                        columns.width == 4 ? "expected 4 fields user,item,rating,timestamp, found " + std::to_string(fields.size())
                                           : "expected " + std::to_string(columns.width) + " fields as in the header, found " +
                                                 std::to_string(fields.size()));
    if (!parse_finite_number(fields[columns.rating], rating) || !parse_finite_number(fields[columns.timestamp], event.timestamp)) {
      throw input_error(in.path(), event.line, "rating and timestamp must be finite numbers, got '" +
                                                   shortened(fields[columns.rating]) + "', '" + shortened(fields[columns.timestamp]) + "'");
    }
    event.user = std::move(fields[columns.user]);
    event.item = std::move(fields[columns.item]);
    event.rating = rating;
    check_ids(event, in);
    sink(event);
    ++report.events;
  }
  return report;
}

std::string id_field(const nlohmann::json& object, const char* key, const LineReader& in) {
  auto it = object.find(key);
  if (it == object.end()) throw input_error(in.path(), in.line_number(), std::string("no \"") + key + "\" field");
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return it->dump();
  throw input_error(in.path(), in.line_number(), std::string("\"") + key + "\" must be a string, got " + shortened(it->dump()));
}

long double json_number_field(const nlohmann::json& object, const char* key, const LineReader& in) {
  auto it = object.find(key);
  if (it == object.end()) throw input_error(in.path(), in.line_number(), std::string("no \"") + key + "\" field");
  const std::string field = std::string("\"") + key + "\"";
  if (it->is_number_integer())  // exactly: nanosecond times need all 64 bits
    return it->is_number_unsigned() ? static_cast<long double>(it->get<uint64_t>()) : static_cast<long double>(it->get<int64_t>());
  if (it->is_number()) {
    const double value = it->get<double>();
    if (!std::isfinite(value)) throw input_error(in.path(), in.line_number(), field + " must be a finite number");
    return value;
  }
  if (it->is_string()) return number_field<long double>(it->get<std::string>(), in, in.line_number(), field);
  throw input_error(in.path(), in.line_number(), field + " must be a number, got " + shortened(it->dump()));
}

LogReadReport read_amazon(LineReader& in, const std::function<void(const LogEvent&)>& sink) {
  LogReadReport report;
  report.has_rating = true;
  bool old_layout = false, new_layout = false;
  std::string line;
  LogEvent event;
  while (in.next(line)) {
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    const auto object = parse_object_line(line, in.path(), in.line_number());
    event.line = in.line_number();
    // 2014 and 2018 dumps name the reviewer reviewerID; 2023 ones user_id.
    if (object.contains("reviewerID")) {
      old_layout = true;
      event.user = id_field(object, "reviewerID", in);
      event.item = id_field(object, "asin", in);
      event.rating = static_cast<double>(json_number_field(object, "overall", in));
      event.timestamp = json_number_field(object, "unixReviewTime", in) * 1000;  // seconds -> ms, as in 2023 dumps
    } else if (object.contains("user_id")) {
      new_layout = true;
      event.user = id_field(object, "user_id", in);
      event.item = id_field(object, "parent_asin", in);
      event.rating = static_cast<double>(json_number_field(object, "rating", in));
      event.timestamp = json_number_field(object, "timestamp", in);
    } else {
      throw input_error(in.path(), event.line,
                        "neither an Amazon 2014/2018 review (\"reviewerID\") nor a 2023 one (\"user_id\")");
    }
    check_ids(event, in);
    sink(event);
    ++report.events;
  }
  report.layout = old_layout && new_layout ? "2014/2018 and 2023 layouts mixed" : new_layout ? "2023 layout" : "2014/2018 layout";
  return report;
}

LogReadReport read_recbole(LineReader& in, const std::function<void(const LogEvent&)>& sink) {
  std::string line;
  if (!in.next(line)) throw Error(in.path() + ": empty file (a RecBole header row is required)");
  const auto header = split_fields(line, "\t");
  int user = -1, item = -1, rating = -1, timestamp = -1;
  for (size_t c = 0; c < header.size(); ++c) {
    const std::string name = header[c].substr(0, header[c].find(':'));
    for (int* role : {&user, &item, &rating, &timestamp}) {
      const char* role_name = role == &user ? "user_id" : role == &item ? "item_id" : role == &rating ? "rating" : "timestamp";
      if (name != role_name) continue;
      if (*role >= 0) throw input_error(in.path(), 1, std::string("two ") + role_name + " columns in the header");
      *role = static_cast<int>(c);
    }
  }
  if (user < 0 || item < 0)
    throw input_error(in.path(), 1, "a RecBole .inter header needs user_id and item_id columns, found '" + shortened(line, 200) + "'");
  LogReadReport report;
  report.has_rating = rating >= 0;
  LogEvent event;
  while (in.next(line)) {
    if (line.empty()) continue;
    auto fields = split_fields(line, "\t");
    event.line = in.line_number();
    if (fields.size() != header.size())
      throw input_error(in.path(), event.line, "expected " + std::to_string(header.size()) + " tab-separated fields as in the header, found " +
                                                   std::to_string(fields.size()));
    event.user = std::move(fields[user]);
    event.item = std::move(fields[item]);
    event.rating.reset();
    if (rating >= 0) event.rating = number_field(fields[rating], in, event.line, "rating");
    event.timestamp = timestamp >= 0 ? number_field<long double>(fields[timestamp], in, event.line, "timestamp") : 0;
    check_ids(event, in);
    sink(event);
    ++report.events;
  }
  return report;
}

LogReadReport read_movielens(LineReader& in, const std::function<void(const LogEvent&)>& sink) {
  LogReadReport report;
  report.has_rating = true;
  std::string line;
  LogEvent event;
  while (in.next(line)) {
    if (line.empty()) continue;
    auto fields = split_fields(line, line.find("::") != std::string::npos ? "::" : "\t");
    event.line = in.line_number();
    if (fields.size() != 4)
      throw input_error(in.path(), event.line, "expected UserID::MovieID::Rating::Timestamp (or 4 tab-separated fields), found " +
                                                   std::to_string(fields.size()) + " fields");
    event.user = std::move(fields[0]);
    event.item = std::move(fields[1]);
    event.rating = number_field(fields[2], in, event.line, "rating");
    event.timestamp = number_field<long double>(fields[3], in, event.line, "timestamp");
    check_ids(event, in);
    sink(event);
    ++report.events;
  }
  return report;
}

// The format registry: the only place that knows the names.
struct FormatEntry {
  const char* name;
  LogFormat format;
  LogReadReport (*read)(LineReader&, const std::function<void(const LogEvent&)>&);
};
const FormatEntry kFormats[] = {
    {"csv", LogFormat::csv, read_csv},
    {"amazon", LogFormat::amazon, read_amazon},
    {"recbole", LogFormat::recbole, read_recbole},
    {"movielens", LogFormat::movielens, read_movielens},
};

}  // namespace

std::string log_format_name(LogFormat format) { return format_entry(kFormats, format).name; }
std::vector<std::string> log_format_names() { return format_names(kFormats); }
LogFormat parse_log_format(const std::string& name) { return parse_format(kFormats, name, "--format"); }

LogFormat guess_log_format(const std::string& path) {
  const std::string name = without_gz(path);
  if (ends_with(name, ".inter")) return LogFormat::recbole;
  const std::string first = first_nonblank_line(path);
  if (!first.empty() && first[0] == '{') return LogFormat::amazon;
  if (ends_with(name, ".csv")) return LogFormat::csv;
  if (first.find("::") != std::string::npos) return LogFormat::movielens;
  const auto tabbed = split_fields(first, "\t");
  if (tabbed.size() > 1 && tabbed[0].find(':') != std::string::npos) return LogFormat::recbole;  // a typed header
  if (split_fields(first, ",").size() == 4) return LogFormat::csv;
  if (ends_with(name, ".dat") || ends_with(name, "u.data") || tabbed.size() == 4) return LogFormat::movielens;
  throw Error(path + ": cannot tell the format from its name and first line; give --format (" + [] {
    std::string names;
    for (const auto& n : log_format_names()) names += (names.empty() ? "" : ", ") + n;
    return names;
  }() + ")");
}

LogReadReport read_interaction_log(const std::string& path, LogFormat format, const std::function<void(const LogEvent&)>& sink) {
  LineReader in(path);
  return format_entry(kFormats, format).read(in, sink);
}

}  // namespace caudal
