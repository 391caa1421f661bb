#include "caudal/method/tada/candidates.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>

#include "caudal/core/atomic_file.h"
#include "caudal/core/error.h"
#include "caudal/core/memory.h"

namespace caudal {
namespace {

void sort_unique(std::vector<int64_t>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

}  // namespace

std::vector<std::vector<int64_t>> recent_training_parts(const Dataset& dataset, int64_t max_len) {
  std::vector<std::vector<int64_t>> parts(dataset.num_users());
  for (int64_t u = 0; u < dataset.num_users(); ++u) {
    const auto& s = dataset.sequence(u);
    const int64_t end = dataset.train_part_length(u);
    parts[u].assign(s.begin() + std::max<int64_t>(0, end - max_len), s.begin() + end);
  }
  return parts;
}

std::vector<std::vector<int64_t>> cooccurrence_sets(const std::vector<std::vector<int64_t>>& parts,
                                                    const std::vector<uint8_t>& is_head_item, int64_t num_items) {
  std::vector<std::vector<int64_t>> sets(num_items + 1);
  for (const auto& s : parts) {
    for (size_t k = 0; k < s.size(); ++k) {
      const int64_t item = s[k];
      if (is_head_item[item]) {
        if (k > 0 && !is_head_item[s[k - 1]]) sets[item].push_back(s[k - 1]);
        if (k + 1 < s.size() && !is_head_item[s[k + 1]]) sets[item].push_back(s[k + 1]);
      } else if (k > 0) {
        sets[item].push_back(s[k - 1]);
      }
    }
  }
  for (auto& set : sets) sort_unique(set);
  return sets;
}

std::vector<uint8_t> tail_preference(const Dataset& dataset) {
  const auto& head = dataset.groups().is_head_item;
  std::vector<uint8_t> out(dataset.num_users());
  for (int64_t u = 0; u < dataset.num_users(); ++u) {
    const auto& s = dataset.sequence(u);
    const int64_t len = dataset.train_part_length(u);
    int64_t tail = 0;
    for (int64_t k = 0; k < len; ++k) tail += head[s[k]] ? 0 : 1;
    out[u] = len > 0 && 2 * tail >= len;
  }
  return out;
}

TadaPreparation prepare_tada(const Dataset& dataset, int64_t max_len, const LisOptions& options) {
  // The LIS step holds a dense items x items co-occurrence matrix and works
  // on it in place: refuse up front what cannot fit, rather than fail (or
  // swap) an hour into the preparation.
  const double gram_bytes = 4.0 * static_cast<double>(dataset.num_items()) * static_cast<double>(dataset.num_items());
  const auto memory = static_cast<double>(physical_memory_bytes());
  if (memory > 0 && 2 * gram_bytes > memory)
    throw Error(fmt::format("--method tada: the LIS step needs a dense {} x {} item matrix ({:.1f} GB, about twice that "
                            "at its peak) and this machine has {:.1f} GB of memory",
                            dataset.num_items(), dataset.num_items(), gram_bytes / 1e9, memory / 1e9));
  TadaPreparation prep;
  prep.tail_preference = tail_preference(dataset);
  auto parts = recent_training_parts(dataset, max_len);
  prep.candidates = cooccurrence_sets(parts, dataset.groups().is_head_item, dataset.num_items());
  // LIS neighbours only for items seen in training: no other item is ever
  // in a training window, so no other item is ever augmented.
  std::vector<int64_t> query;
  for (int64_t i = 1; i <= dataset.num_items(); ++i)
    if (dataset.groups().item_train_count[i] > 0) query.push_back(i);
  auto gram = item_gram_matrix(parts, dataset.num_items());
  auto neighbours = lis_neighbours(gram, query, options);
  for (size_t q = 0; q < query.size(); ++q) {
    auto& set = prep.candidates[query[q]];
    set.insert(set.end(), neighbours[q].begin(), neighbours[q].end());
    sort_unique(set);
  }
  return prep;
}

std::string tada_cache_key(const Dataset& dataset, int64_t max_len, const LisOptions& options) {
  // A content hash of the sequences (not the path): the same data under
  // another name reuses the cache, edited data does not.
  size_t hash = std::hash<int64_t>{}(dataset.num_items());
  for (int64_t u = 0; u < dataset.num_users(); ++u)
    for (int64_t item : dataset.sequence(u)) hash = hash * 1000003u ^ std::hash<int64_t>{}(item);
  return fmt::format("data={:016x} users={} items={} head_ratio={} max_len={} lambda={} xi={} th={} top_k={}", hash,
                     dataset.num_users(), dataset.num_items(), dataset.groups().head_ratio, max_len, options.lambda,
                     options.xi, options.threshold, options.top_k);
}

void save_tada_cache(const std::string& path, const std::string& key, const TadaPreparation& prep) {
  nlohmann::json json;
  json["key"] = key;
  json["tail_preference"] = prep.tail_preference;
  json["candidates"] = prep.candidates;
  write_file_atomically(path, json.dump());
}

bool load_tada_cache(const std::string& path, const std::string& key, TadaPreparation& prep) {
  return std::filesystem::exists(path) && parse_tada_cache(read_file(path), path, key, prep);
}

bool parse_tada_cache(const std::string& text, const std::string& origin, const std::string& key, TadaPreparation& prep) {
  try {
    auto json = nlohmann::json::parse(text);
    if (json.at("key").get<std::string>() != key) return false;
    prep.tail_preference = json.at("tail_preference").get<std::vector<uint8_t>>();
    prep.candidates = json.at("candidates").get<std::vector<std::vector<int64_t>>>();
    return true;
  } catch (const nlohmann::json::exception& e) {
    throw Error(origin + ": damaged TADA cache (" + e.what() + "); delete it to recompute");
  }
}

}  // namespace caudal
