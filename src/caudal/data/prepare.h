// Raw interaction logs -> the sequence format (docs/protocol.md, "Raw interaction
// logs"). Steps, in this order: read the log (any format of
// interaction_log.h), drop ratings below a threshold, group per user and sort
// by timestamp (stable: file order breaks ties), drop repeated (user, item)
// pairs if asked, iterate the k-core filter, then give contiguous ids with
// maps back to the original ones. Memory grows with the events kept (40
// bytes each) and the distinct ids, not with the file.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "caudal/data/interaction_log.h"

namespace caudal {

// Repeated interactions of a user with one item: kept all (as RecBole and
// the official TADA/FAERec data keep them), or only the first or last in time.
enum class Dedupe { keep, first, last };
std::string dedupe_name(Dedupe dedupe);
Dedupe parse_dedupe(const std::string& name);  // throws caudal::Error listing keep, first, last

struct PrepareOptions {
  std::optional<LogFormat> format;   // empty: guessed from the file
  std::optional<double> min_rating;  // drop events rated below this
  Dedupe dedupe = Dedupe::keep;
  int64_t k_core = 5;                // users and items with fewer events removed until none are left
};

struct PreparedData {
  std::vector<std::vector<int64_t>> sequences;  // user i (id i+1) -> item ids, oldest first
  std::vector<std::string> user_names;          // original id of user i+1
  std::vector<std::string> item_names;          // original id of item i+1
  std::string source;                           // the log read
  LogFormat format = LogFormat::csv;
  std::string layout;                           // see LogReadReport
  // What each step removed, in order.
  int64_t events_read = 0;
  int64_t removed_by_rating = 0;
  int64_t removed_as_duplicates = 0;
  int64_t removed_by_k_core = 0;
  int64_t users_read = 0, items_read = 0;  // distinct ids after the rating filter
  int64_t events_kept = 0;
};

// Errors name file and line (see interaction_log.h), or say which filter
// left nothing.
PreparedData prepare_interactions(const std::string& path, const PrepareOptions& options);

// The numbers a user checks before training: users, items, interactions,
// density, sequence lengths, how much of the catalogue and of the training
// interactions fall on tail items (the protocol's split: head = the top
// `head_ratio` of items by training interactions), and what each filter
// removed. `caudal prepare` prints it and writes it as DIR/prepare.json.
nlohmann::json summarize(const PreparedData& data, const PrepareOptions& options, double head_ratio = 0.2);
// The summary as lines for a terminal.
std::string summary_text(const nlohmann::json& summary);

// The files of a prepared directory, by name and content: sequences.txt,
// user_map.tsv and item_map.tsv (`id<TAB>original_id`, with a header).
std::vector<std::pair<std::string, std::string>> prepared_files(const PreparedData& data);
// Writes them into out_dir (created if needed), all or none.
void write_prepared(const PreparedData& data, const std::string& out_dir);

// Reads an item map written by write_prepared: original id -> item id.
std::vector<std::pair<std::string, int64_t>> read_id_map(const std::string& path);

}  // namespace caudal
