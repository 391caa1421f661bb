#include "caudal/data/prepare.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "caudal/core/atomic_file.h"
#include "caudal/core/error.h"
#include "caudal/data/dataset.h"
#include "caudal/data/sequences.h"

namespace caudal {
namespace {

struct Event {
  long double timestamp;
  int64_t item;  // index into the distinct items read
};

// Index of a string id, assigning the next index to a new one.
int64_t intern(std::unordered_map<std::string, int64_t>& index, std::vector<std::string>& names, const std::string& key) {
  auto [it, inserted] = index.emplace(key, static_cast<int64_t>(names.size()));
  if (inserted) names.push_back(key);
  return it->second;
}

// Keeps one event per (user, item): the earliest or the latest in time.
void drop_repeats(std::vector<std::vector<Event>>& per_user, size_t num_items, Dedupe dedupe, int64_t& removed) {
  std::vector<size_t> seen_by(num_items, SIZE_MAX);  // the user who last had the item
  for (size_t u = 0; u < per_user.size(); ++u) {
    auto& events = per_user[u];
    if (dedupe == Dedupe::last) std::reverse(events.begin(), events.end());
    std::vector<Event> kept;
    for (const auto& e : events) {
      if (seen_by[e.item] == u) continue;
      seen_by[e.item] = u;
      kept.push_back(e);
    }
    if (dedupe == Dedupe::last) std::reverse(kept.begin(), kept.end());
    removed += static_cast<int64_t>(events.size() - kept.size());
    events = std::move(kept);
  }
}

const char* const kDedupeNames[] = {"keep", "first", "last"};

}  // namespace

std::string dedupe_name(Dedupe dedupe) { return kDedupeNames[static_cast<int>(dedupe)]; }

Dedupe parse_dedupe(const std::string& name) {
  for (int d = 0; d < 3; ++d)
    if (name == kDedupeNames[d]) return static_cast<Dedupe>(d);
  throw Error("--dedupe: unknown choice '" + name + "' (known: keep, first, last)");
}

PreparedData prepare_interactions(const std::string& path, const PrepareOptions& options) {
  if (options.k_core < 1) throw Error("--k-core must be at least 1");
  PreparedData out;
  out.source = path;
  out.format = options.format ? *options.format : guess_log_format(path);
  std::unordered_map<std::string, int64_t> user_index, item_index;
  std::vector<std::string> user_names, item_names;
  std::vector<std::vector<Event>> per_user;
  const auto report = read_interaction_log(path, out.format, [&](const LogEvent& event) {
    if (options.min_rating) {
      if (!event.rating)
        throw Error(path + ": has no rating column, so --min-rating cannot apply");
      if (*event.rating < *options.min_rating) {
        ++out.removed_by_rating;
        return;
      }
    }
    const auto user = static_cast<size_t>(intern(user_index, user_names, event.user));
    if (user == per_user.size()) per_user.emplace_back();
    per_user[user].push_back(Event{event.timestamp, intern(item_index, item_names, event.item)});
  });
  out.events_read = report.events;
  out.layout = report.layout;
  if (out.events_read == 0) throw Error(path + ": no interactions (read as " + log_format_name(out.format) + ")");
  if (per_user.empty())
    throw Error(path + ": --min-rating " + fmt::format("{}", *options.min_rating) + " removed all " +
                std::to_string(out.events_read) + " interactions");
  out.users_read = static_cast<int64_t>(user_names.size());
  out.items_read = static_cast<int64_t>(item_names.size());
  user_index.clear();
  item_index.clear();

  for (auto& events : per_user)
    std::stable_sort(events.begin(), events.end(), [](const Event& a, const Event& b) { return a.timestamp < b.timestamp; });
  if (options.dedupe != Dedupe::keep) drop_repeats(per_user, item_names.size(), options.dedupe, out.removed_as_duplicates);

  // Iterated k-core, peeled in linear time: removing a user can push its
  // items below k, and removing an item its users; a queue follows the chain.
  const size_t num_users = per_user.size(), num_items = item_names.size();
  std::vector<int64_t> user_count(num_users), item_count(num_items, 0);
  std::vector<size_t> item_start(num_items + 1, 0);  // item -> its events' users (CSR)
  for (size_t u = 0; u < num_users; ++u) {
    user_count[u] = static_cast<int64_t>(per_user[u].size());
    for (const auto& e : per_user[u]) ++item_count[e.item];
  }
  for (size_t i = 0; i < num_items; ++i) item_start[i + 1] = item_start[i] + static_cast<size_t>(item_count[i]);
  std::vector<size_t> item_users(item_start.back()), fill(item_start.begin(), item_start.end() - 1);
  for (size_t u = 0; u < num_users; ++u)
    for (const auto& e : per_user[u]) item_users[fill[e.item]++] = u;
  std::vector<char> user_alive(num_users, 1), item_alive(num_items, 1);
  std::vector<std::pair<bool, size_t>> queue;  // (is_user, index), each removed once
  for (size_t u = 0; u < num_users; ++u)
    if (user_count[u] < options.k_core) user_alive[u] = 0, queue.emplace_back(true, u);
  for (size_t i = 0; i < num_items; ++i)
    if (item_count[i] < options.k_core) item_alive[i] = 0, queue.emplace_back(false, i);
  for (size_t next = 0; next < queue.size(); ++next) {
    const auto [is_user, index] = queue[next];
    if (is_user) {
      for (const auto& e : per_user[index])
        if (item_alive[e.item] && --item_count[e.item] < options.k_core)
          item_alive[e.item] = 0, queue.emplace_back(false, static_cast<size_t>(e.item));
    } else {
      for (size_t k = item_start[index]; k < item_start[index + 1]; ++k) {
        const size_t u = item_users[k];
        if (user_alive[u] && --user_count[u] < options.k_core) user_alive[u] = 0, queue.emplace_back(true, u);
      }
    }
  }
  std::vector<size_t>().swap(item_users);

  std::vector<int64_t> new_item_id(item_names.size(), 0);
  int64_t events_before_k_core = 0;
  for (size_t u = 0; u < per_user.size(); ++u) {
    events_before_k_core += static_cast<int64_t>(per_user[u].size());
    if (!user_alive[u]) continue;
    std::vector<int64_t> sequence;
    for (const auto& e : per_user[u]) {
      if (!item_alive[e.item]) continue;
      if (new_item_id[e.item] == 0) {
        out.item_names.push_back(std::move(item_names[e.item]));
        new_item_id[e.item] = static_cast<int64_t>(out.item_names.size());
      }
      sequence.push_back(new_item_id[e.item]);
    }
    std::vector<Event>().swap(per_user[u]);
    out.events_kept += static_cast<int64_t>(sequence.size());
    out.sequences.push_back(std::move(sequence));
    out.user_names.push_back(std::move(user_names[u]));
  }
  out.removed_by_k_core = events_before_k_core - out.events_kept;
  if (out.sequences.empty()) {
    std::string before = "the " + std::to_string(options.k_core) + "-core filter";
    if (options.min_rating || options.dedupe != Dedupe::keep)
      before += " (after --min-rating / --dedupe removed " + std::to_string(out.removed_by_rating + out.removed_as_duplicates) +
                " of " + std::to_string(out.events_read) + " interactions)";
    throw Error(path + ": no user survives " + before);
  }
  return out;
}

nlohmann::json summarize(const PreparedData& data, const PrepareOptions& options, double head_ratio) {
  const auto users = static_cast<int64_t>(data.sequences.size());
  const auto items = static_cast<int64_t>(data.item_names.size());
  std::vector<int64_t> lengths;
  for (const auto& s : data.sequences) lengths.push_back(static_cast<int64_t>(s.size()));
  std::sort(lengths.begin(), lengths.end());
  const double median = lengths.size() % 2 ? static_cast<double>(lengths[lengths.size() / 2])
                                            : 0.5 * static_cast<double>(lengths[lengths.size() / 2 - 1] + lengths[lengths.size() / 2]);
  // The split training will use: popularity counted on the training part.
  const auto groups = compute_groups(data.sequences, items, head_ratio);
  int64_t train_events = 0, tail_train_events = 0, tail_items = 0, seen = 0;
  for (int64_t i = 1; i <= items; ++i) {
    seen += groups.item_train_count[i] > 0;
    train_events += groups.item_train_count[i];
    if (!groups.is_head_item[i]) {
      ++tail_items;
      tail_train_events += groups.item_train_count[i];
    }
  }
  nlohmann::json filters = {{"k_core", options.k_core}, {"dedupe", dedupe_name(options.dedupe)}};
  filters["min_rating"] = options.min_rating ? nlohmann::json(*options.min_rating) : nlohmann::json(nullptr);
  return {
      {"source", data.source},
      {"format", log_format_name(data.format)},
      {"layout", data.layout},
      {"filters", filters},
      {"read", {{"interactions", data.events_read}}},
      {"removed",
       {{"by_min_rating", data.removed_by_rating},
        {"as_duplicates", data.removed_as_duplicates},
        {"by_k_core", {{"interactions", data.removed_by_k_core},
                       {"users", data.users_read - users},
                       {"items", data.items_read - items}}}}},
      {"users", users},
      {"items", items},
      {"interactions", data.events_kept},
      {"density", static_cast<double>(data.events_kept) / (static_cast<double>(users) * static_cast<double>(items))},
      {"sequence_length",
       {{"mean", static_cast<double>(data.events_kept) / static_cast<double>(users)},
        {"median", median},
        {"min", lengths.front()},
        {"max", lengths.back()}}},
      {"tail",
       {{"head_ratio", head_ratio},
        {"items_seen_in_training", seen},
        {"tail_items", tail_items},
        {"share_of_items", static_cast<double>(tail_items) / static_cast<double>(items)},
        {"share_of_training_interactions",
         train_events ? static_cast<double>(tail_train_events) / static_cast<double>(train_events) : 0.0}}},
  };
}

std::string summary_text(const nlohmann::json& s) {
  const auto& removed = s["removed"];
  const auto& k_core = removed["by_k_core"];
  std::string text = fmt::format("read {} interactions from {} ({}{})\n", s["read"]["interactions"].get<int64_t>(),
                                 s["source"].get<std::string>(), s["format"].get<std::string>(),
                                 s["layout"].get<std::string>().empty() ? "" : ", " + s["layout"].get<std::string>());
  if (!s["filters"]["min_rating"].is_null())
    text += fmt::format("  --min-rating {}: removed {} interactions\n", s["filters"]["min_rating"].get<double>(),
                        removed["by_min_rating"].get<int64_t>());
  if (s["filters"]["dedupe"] != "keep")
    text += fmt::format("  --dedupe {}: removed {} repeated interactions\n", s["filters"]["dedupe"].get<std::string>(),
                        removed["as_duplicates"].get<int64_t>());
  text += fmt::format("  --k-core {}: removed {} interactions, {} users, {} items\n", s["filters"]["k_core"].get<int64_t>(),
                      k_core["interactions"].get<int64_t>(), k_core["users"].get<int64_t>(), k_core["items"].get<int64_t>());
  const auto& length = s["sequence_length"];
  const auto& tail = s["tail"];
  text += fmt::format("kept {} users, {} items, {} interactions (density {:.3g}%)\n", s["users"].get<int64_t>(),
                      s["items"].get<int64_t>(), s["interactions"].get<int64_t>(), 100 * s["density"].get<double>());
  text += fmt::format("sequence length: mean {:.2f}, median {}, min {}, max {}\n", length["mean"].get<double>(),
                      length["median"].get<double>(), length["min"].get<int64_t>(), length["max"].get<int64_t>());
  text += fmt::format("tail items: {} = {:.1f}% of items, with {:.1f}% of training interactions (head: the top {:g}% of the {} items "
                      "seen in training, as evaluation splits them)\n",
                      tail["tail_items"].get<int64_t>(), 100 * tail["share_of_items"].get<double>(),
                      100 * tail["share_of_training_interactions"].get<double>(), 100 * tail["head_ratio"].get<double>(),
                      tail["items_seen_in_training"].get<int64_t>());
  return text;
}

std::vector<std::pair<std::string, std::string>> prepared_files(const PreparedData& data) {
  std::string sequences;
  for (size_t u = 0; u < data.sequences.size(); ++u) {
    sequences += std::to_string(u + 1);
    for (int64_t item : data.sequences[u]) sequences += ' ' + std::to_string(item);
    sequences += '\n';
  }
  auto map = [](const std::vector<std::string>& names) {
    std::string out = "id\toriginal_id\n";
    for (size_t i = 0; i < names.size(); ++i) out += std::to_string(i + 1) + '\t' + names[i] + '\n';
    return out;
  };
  return {{"sequences.txt", std::move(sequences)}, {"user_map.tsv", map(data.user_names)}, {"item_map.tsv", map(data.item_names)}};
}

void write_prepared(const PreparedData& data, const std::string& out_dir) {
  std::filesystem::create_directories(out_dir);
  auto files = prepared_files(data);
  for (auto& [name, content] : files) name = out_dir + "/" + name;
  write_files_atomically(files);
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
