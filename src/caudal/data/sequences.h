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

// Reads and validates a sequence file. Throws caudal::Error naming the file
// and line for: an unreadable or empty file, a blank line before the end, a
// token that is not a positive integer (0 included), a repeated user id, and
// a user with fewer than 3 items (such a user cannot be split into train,
// validation and test), and sparse item ids (check_dense_item_ids).
SequenceData load_sequences(const std::string& path);

// Every table (embeddings, TADA's co-occurrences, evaluation scores) is
// sized by the largest item id, so ids must be dense. Throws caudal::Error,
// beginning with `where`, when `largest` is more than twice the number of
// distinct items plus 1,000: one stray id of 2^31 would otherwise ask for
// terabytes. `caudal prepare` renumbers raw ids densely.
void check_dense_item_ids(int64_t largest, int64_t distinct, const std::string& where);

// Writes the same format atomically.
void save_sequences(const std::string& path, const std::vector<int64_t>& user_ids,
                    const std::vector<std::vector<int64_t>>& sequences);

}  // namespace caudal
