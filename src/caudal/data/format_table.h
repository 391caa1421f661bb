// What the two format registries (interaction logs, item metadata) share: a
// table of entries with a `name` and a `format`, looked up both ways with
// the messages users see, and the first look at a file that guessing takes.
#pragma once

#include <string>
#include <vector>

#include "caudal/core/error.h"

namespace caudal {

template <typename Entry, size_t N>
std::vector<std::string> format_names(const Entry (&table)[N]) {
  std::vector<std::string> names;
  for (const auto& e : table) names.emplace_back(e.name);
  return names;
}

template <typename Entry, size_t N, typename Format>
const Entry& format_entry(const Entry (&table)[N], Format format) {
  for (const auto& e : table)
    if (e.format == format) return e;
  throw Error("unknown format");
}

// Throws "OPTION: unknown format 'x' (known: a, b)".
template <typename Entry, size_t N>
auto parse_format(const Entry (&table)[N], const std::string& name, const std::string& option) {
  std::string known;
  for (const auto& e : table) {
    if (name == e.name) return e.format;
    known += (known.empty() ? "" : ", ") + std::string(e.name);
  }
  throw Error(option + ": unknown format '" + name + "' (known: " + known + ")");
}

bool ends_with(const std::string& text, const std::string& suffix);
// The file name without a final ".gz": what tells a compressed file's format.
std::string without_gz(const std::string& path);
// The first line with something other than spaces and tabs, without its
// leading ones ("" if none).
std::string first_nonblank_line(const std::string& path);

}  // namespace caudal
