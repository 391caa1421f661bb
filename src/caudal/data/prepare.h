// Raw interaction logs -> the sequence format (docs/protocol.md, "Raw interaction
// logs"): per user, events sorted by timestamp (stable), optionally ratings
// below a threshold dropped, an iterated k-core filter, then contiguous ids
// with maps back to the original ones.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace caudal {

struct PrepareOptions {
  std::optional<double> min_rating;  // drop events rated below this
  int64_t k_core = 5;                // users and items with fewer events removed until none are left
};

struct PreparedData {
  std::vector<std::vector<int64_t>> sequences;  // user i (id i+1) -> item ids, oldest first
  std::vector<std::string> user_names;          // original id of user i+1
  std::vector<std::string> item_names;          // original id of item i+1
  int64_t events_read = 0;
  int64_t events_kept = 0;
};

// Reads a `user,item,rating,timestamp` CSV (an optional header line is
// recognised by a non-numeric rating or timestamp). Errors name file and line.
PreparedData prepare_interactions(const std::string& csv_path, const PrepareOptions& options);

// Writes DIR/sequences.txt, DIR/user_map.tsv and DIR/item_map.tsv
// (`id<TAB>original_id`, with a header), each atomically.
void write_prepared(const PreparedData& data, const std::string& out_dir);

// Reads an item map written by write_prepared: original id -> item id.
std::vector<std::pair<std::string, int64_t>> read_id_map(const std::string& path);

}  // namespace caudal
