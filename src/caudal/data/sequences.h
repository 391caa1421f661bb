// The sequence file format of docs/protocol.md: one user per line,
// "user_id item_id item_id ...", items in chronological order, positive
// integer ids, item ids contiguous from 1 (0 is the padding id).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace caudal {

struct SequenceData {
  std::string source;                           // where it was read from (for messages)
  std::vector<int64_t> user_ids;                // the user id of each line, as written
  std::vector<std::vector<int64_t>> sequences;  // items of each user, oldest first
  int64_t num_items = 0;                        // largest item id; valid ids are 1..num_items
};

// The largest item id a sequence file may hold. The catalogue is 1..largest
// id, everything downstream allocates per id (item counts, embedding
// tables) and evaluation ranks every id for every user; a larger id is a
// mistake in the file (the benchmark catalogues have some 10^4 items), and
// would otherwise end in an allocation failure, or for ids near 2^63 in
// integer overflow, far from the line that holds it.
constexpr int64_t kMaxItemId = 10'000'000;

// Reads and validates a sequence file. Throws caudal::Error naming the file
// and line for: an unreadable or empty file, a blank line before the end, a
// token that is not a positive integer (0 included), an item id above
// kMaxItemId, a repeated user id, and a user with fewer than 3 items (such a
// user cannot be split into train, validation and test).
SequenceData load_sequences(const std::string& path);

// Writes the same format atomically.
void save_sequences(const std::string& path, const std::vector<int64_t>& user_ids,
                    const std::vector<std::vector<int64_t>>& sequences);

}  // namespace caudal
