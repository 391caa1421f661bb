#include "caudal/data/delimited.h"

#include <charconv>
#include <cmath>

#include "caudal/core/error.h"
#include "caudal/data/format_table.h"

namespace caudal {

bool read_csv_record(LineReader& in, std::vector<std::string>& fields, int64_t& first_line) {
  fields.clear();
  std::string line;
  if (!in.next(line)) return false;
  first_line = in.line_number();
  std::string field;
  bool quoted = false;
  size_t i = 0;
  while (true) {
    if (i == line.size()) {
      if (!quoted) break;
      if (!in.next(line)) throw input_error(in.path(), first_line, "unterminated quoted field");
      field += '\n';
      i = 0;
      continue;
    }
    const char c = line[i++];
    if (quoted) {
      if (c == '"') {
        if (i < line.size() && line[i] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        field += c;
      }
    } else if (c == '"' && field.empty()) {
      quoted = true;
    } else if (c == ',') {
      fields.push_back(std::move(field));
      field.clear();
    } else {
      field += c;
    }
  }
  fields.push_back(std::move(field));
  return true;
}

std::vector<std::string> split_fields(const std::string& line, const std::string& separator) {
  std::vector<std::string> fields;
  size_t start = 0;
  while (true) {
    const size_t at = line.find(separator, start);
    if (at == std::string::npos) break;
    fields.push_back(line.substr(start, at - start));
    start = at + separator.size();
  }
  fields.push_back(line.substr(start));
  return fields;
}

namespace {

template <typename Number>
bool parse_finite(const std::string& text, Number& value) {
  const char* begin = text.data();
  const char* end = begin + text.size();
  if (begin != end && *begin == '+') ++begin;  // from_chars does not take a plus sign
  const auto [ptr, ec] = std::from_chars(begin, end, value);
  return begin != end && ec == std::errc() && ptr == end && std::isfinite(value);
}

}  // namespace

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string without_gz(const std::string& path) { return ends_with(path, ".gz") ? path.substr(0, path.size() - 3) : path; }

std::string first_nonblank_line(const std::string& path) {
  LineReader in(path);
  std::string line;
  while (in.next(line)) {
    const size_t start = line.find_first_not_of(" \t");
    if (start != std::string::npos) return line.substr(start);
  }
  return "";
}

bool parse_finite_number(const std::string& text, double& value) { return parse_finite(text, value); }
bool parse_finite_number(const std::string& text, long double& value) { return parse_finite(text, value); }

}  // namespace caudal
