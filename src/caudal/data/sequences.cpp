#include "caudal/data/sequences.h"

#include <charconv>
#include <fstream>
#include <sstream>
#include <unordered_set>

#include "caudal/core/atomic_file.h"
#include "caudal/core/error.h"

namespace caudal {
namespace {

// Parses one whitespace-free token as a positive integer id.
int64_t parse_id(const std::string& file, int64_t line, const char* begin, const char* end, const char* what) {
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(begin, end, value);
  std::string token(begin, end);
  if (ec != std::errc() || ptr != end) throw input_error(file, line, std::string("not an integer ") + what + ": '" + token + "'");
  if (value <= 0) throw input_error(file, line, std::string(what) + " must be a positive integer (0 is the padding id), got " + token);
  return value;
}

}  // namespace

SequenceData load_sequences(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error("cannot open sequence file " + path);
  SequenceData data;
  data.source = path;
  std::unordered_set<int64_t> seen_users, distinct;
  int64_t largest_line = 0;
  std::string text;
  int64_t line_no = 0;
  int64_t first_blank = 0;
  while (std::getline(in, text)) {
    ++line_no;
    if (!text.empty() && text.back() == '\r') text.pop_back();
    if (text.find_first_not_of(" \t") == std::string::npos) {
      if (first_blank == 0) first_blank = line_no;
      continue;
    }
    if (first_blank != 0) throw input_error(path, first_blank, "blank line inside the file");
    std::vector<int64_t> items;
    int64_t user = 0;
    bool have_user = false;
    const char* p = text.data();
    const char* end = p + text.size();
    while (p < end) {
      while (p < end && (*p == ' ' || *p == '\t')) ++p;
      const char* start = p;
      while (p < end && *p != ' ' && *p != '\t') ++p;
      if (start == p) break;
      if (!have_user) {
        user = parse_id(path, line_no, start, p, "user id");
        have_user = true;
      } else {
        items.push_back(parse_id(path, line_no, start, p, "item id"));
      }
    }
    if (items.size() < 3)
      throw input_error(path, line_no, "user " + std::to_string(user) + " has " + std::to_string(items.size()) +
                                           " items; at least 3 are needed for the train/validation/test split");
    if (!seen_users.insert(user).second) throw input_error(path, line_no, "user id " + std::to_string(user) + " appears twice");
    for (int64_t item : items) {
      if (item > data.num_items) largest_line = line_no;
      data.num_items = std::max(data.num_items, item);
      distinct.insert(item);
    }
    data.user_ids.push_back(user);
    data.sequences.push_back(std::move(items));
  }
  if (data.sequences.empty()) throw Error(path + ": the sequence file has no users");
  check_dense_item_ids(data.num_items, static_cast<int64_t>(distinct.size()), path + ":" + std::to_string(largest_line));
  return data;
}

void check_dense_item_ids(int64_t largest, int64_t distinct, const std::string& where) {
  if (largest <= 2 * distinct + 1000) return;
  throw Error(where + ": item id " + std::to_string(largest) + " is far beyond the " + std::to_string(distinct) +
              " distinct items: tables are sized by the largest id, so item ids must run densely from 1 (`caudal "
              "prepare` renumbers raw ids)");
}

void save_sequences(const std::string& path, const std::vector<int64_t>& user_ids,
                    const std::vector<std::vector<int64_t>>& sequences) {
  std::ostringstream out;
  for (size_t u = 0; u < sequences.size(); ++u) {
    out << user_ids[u];
    for (int64_t item : sequences[u]) out << ' ' << item;
    out << '\n';
  }
  write_file_atomically(path, out.str());
}

}  // namespace caudal
