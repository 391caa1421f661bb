#include "caudal/data/prepare.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "caudal/core/atomic_file.h"
#include "caudal/core/error.h"
#include "caudal/data/sequences.h"

namespace caudal {
namespace {

struct Event {
  int64_t user;
  int64_t item;
  double timestamp;
  int64_t order;  // position in the file: the stable tie-break
};

bool parse_number(const std::string& text, double& value) {
  if (text.empty()) return false;
  std::istringstream in(text);
  in >> value;
  return in && in.peek() == std::char_traits<char>::eof();
}

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> fields;
  std::string field;
  std::istringstream in(line);
  while (std::getline(in, field, ',')) fields.push_back(field);
  if (!line.empty() && line.back() == ',') fields.emplace_back();
  return fields;
}

// Index of a string id, assigning the next index to a new one.
int64_t intern(std::unordered_map<std::string, int64_t>& index, std::vector<std::string>& names, const std::string& key) {
  auto [it, inserted] = index.emplace(key, static_cast<int64_t>(names.size()));
  if (inserted) names.push_back(key);
  return it->second;
}

}  // namespace

PreparedData prepare_interactions(const std::string& csv_path, const PrepareOptions& options) {
  if (options.k_core < 1) throw Error("--k-core must be at least 1");
  std::ifstream in(csv_path);
  if (!in) throw Error("cannot open interaction file " + csv_path);
  std::unordered_map<std::string, int64_t> user_index, item_index;
  std::vector<std::string> user_names, item_names;
  std::vector<Event> events;
  PreparedData out;
  std::string line;
  int64_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    auto fields = split_csv_line(line);
    if (fields.size() != 4)
      throw input_error(csv_path, line_no, "expected 4 fields user,item,rating,timestamp, found " + std::to_string(fields.size()));
    double rating = 0, timestamp = 0;
    const bool numeric = parse_number(fields[2], rating) && parse_number(fields[3], timestamp);
    if (!numeric) {
      if (line_no == 1) continue;  // header
      throw input_error(csv_path, line_no, "rating and timestamp must be numbers, got '" + fields[2] + "', '" + fields[3] + "'");
    }
    if (fields[0].empty() || fields[1].empty()) throw input_error(csv_path, line_no, "empty user or item id");
    ++out.events_read;
    if (options.min_rating && rating < *options.min_rating) continue;
    events.push_back(Event{intern(user_index, user_names, fields[0]), intern(item_index, item_names, fields[1]), timestamp,
                           static_cast<int64_t>(events.size())});
  }
  if (out.events_read == 0) throw Error(csv_path + ": no interactions");

  // Iterated k-core: removing users can push items below k and back.
  std::vector<char> user_alive(user_names.size(), 1), item_alive(item_names.size(), 1);
  while (true) {
    std::vector<int64_t> user_count(user_names.size(), 0), item_count(item_names.size(), 0);
    for (const auto& e : events) {
      if (user_alive[e.user] && item_alive[e.item]) {
        ++user_count[e.user];
        ++item_count[e.item];
      }
    }
    bool changed = false;
    for (size_t u = 0; u < user_count.size(); ++u)
      if (user_alive[u] && user_count[u] < options.k_core) user_alive[u] = 0, changed = true;
    for (size_t i = 0; i < item_count.size(); ++i)
      if (item_alive[i] && item_count[i] < options.k_core) item_alive[i] = 0, changed = true;
    if (!changed) break;
  }

  std::vector<std::vector<Event>> per_user(user_names.size());
  for (const auto& e : events)
    if (user_alive[e.user] && item_alive[e.item]) per_user[e.user].push_back(e);
  std::vector<int64_t> new_item_id(item_names.size(), 0);
  for (size_t u = 0; u < per_user.size(); ++u) {
    auto& list = per_user[u];
    if (list.empty()) continue;
    std::stable_sort(list.begin(), list.end(), [](const Event& a, const Event& b) { return a.timestamp < b.timestamp; });
    std::vector<int64_t> sequence;
    for (const auto& e : list) {
      if (new_item_id[e.item] == 0) {
        out.item_names.push_back(item_names[e.item]);
        new_item_id[e.item] = static_cast<int64_t>(out.item_names.size());
      }
      sequence.push_back(new_item_id[e.item]);
    }
    out.events_kept += static_cast<int64_t>(sequence.size());
    out.sequences.push_back(std::move(sequence));
    out.user_names.push_back(user_names[u]);
  }
  if (out.sequences.empty())
    throw Error(csv_path + ": no user survives the " + std::to_string(options.k_core) + "-core filter");
  return out;
}

void write_prepared(const PreparedData& data, const std::string& out_dir) {
  std::filesystem::create_directories(out_dir);
  std::vector<int64_t> user_ids(data.sequences.size());
  for (size_t u = 0; u < user_ids.size(); ++u) user_ids[u] = static_cast<int64_t>(u) + 1;
  save_sequences(out_dir + "/sequences.txt", user_ids, data.sequences);
  auto write_map = [&](const std::string& name, const std::vector<std::string>& names) {
    std::ostringstream out;
    out << "id\toriginal_id\n";
    for (size_t i = 0; i < names.size(); ++i) out << i + 1 << '\t' << names[i] << '\n';
    write_file_atomically(out_dir + "/" + name, out.str());
  };
  write_map("user_map.tsv", data.user_names);
  write_map("item_map.tsv", data.item_names);
}

std::vector<std::pair<std::string, int64_t>> read_id_map(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error("cannot open id map " + path);
  std::vector<std::pair<std::string, int64_t>> map;
  std::string line;
  int64_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line_no == 1 || line.empty()) continue;
    const auto tab = line.find('\t');
    if (tab == std::string::npos) throw input_error(path, line_no, "expected 'id<TAB>original_id'");
    int64_t id = 0;
    const std::string id_text = line.substr(0, tab);
    auto [ptr, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
    if (ec != std::errc() || ptr != id_text.data() + id_text.size() || id <= 0)
      throw input_error(path, line_no, "not a positive integer id: '" + id_text + "'");
    map.emplace_back(line.substr(tab + 1), id);
  }
  return map;
}

}  // namespace caudal
