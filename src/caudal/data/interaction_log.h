// Raw interaction logs in the layouts people already have, streamed event by
// event (constant memory in the file's size: a multi-GB gzip dump is fine).
// Formats, by the name `caudal prepare --format` takes:
//   csv        user,item,rating,timestamp; RFC 4180 quoting. A first row
//              whose rating or timestamp is not a number is a header, and
//              must name the four columns (in any order, more allowed):
//              user_id|userId|user|reviewerID, item_id|itemId|movieId|item|
//              asin|parent_asin, rating|overall|score, timestamp|time|
//              unixReviewTime (case aside).
//   amazon     Amazon review dumps, one JSON object per line, plain or gzip:
//              2014/2018 layout {reviewerID, asin, overall, unixReviewTime
//              (seconds)}, 2023 layout {user_id, parent_asin, rating,
//              timestamp (ms)}; both read as milliseconds, so they mix.
//   recbole    RecBole atomic `.inter` files: tab-separated, a typed header
//              such as `user_id:token item_id:token rating:float
//              timestamp:float`; columns found by name, rating and
//              timestamp optional (without a timestamp, file order).
//   movielens  `ratings.dat` (UserID::MovieID::Rating::Timestamp, ML-1M and
//              later) and ML-100K's tab-separated `u.data`.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace caudal {

enum class LogFormat { csv, amazon, recbole, movielens };

std::string log_format_name(LogFormat format);
std::vector<std::string> log_format_names();
// Throws caudal::Error listing the known names.
LogFormat parse_log_format(const std::string& name);

// Tells the format from the file name and its first line (gzip is looked
// through). Throws caudal::Error asking for --format when it cannot.
LogFormat guess_log_format(const std::string& path);

struct LogEvent {
  std::string user, item;        // original ids, never empty
  std::optional<double> rating;  // absent when the file has no rating column
  long double timestamp = 0;     // finite; only the order within a user matters (Amazon: milliseconds)
  int64_t line = 0;              // where the event is, for messages
};

struct LogReadReport {
  int64_t events = 0;
  bool has_rating = false;  // false only for a RecBole file without a rating column
  std::string layout;       // e.g. "2014/2018 layout", "2023 layout" (amazon); "" otherwise
};

// Calls `sink` for every event, in file order. Malformed content is a
// caudal::Error naming file and line (and the field).
LogReadReport read_interaction_log(const std::string& path, LogFormat format, const std::function<void(const LogEvent&)>& sink);

}  // namespace caudal
