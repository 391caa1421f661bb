#include "caudal/run/input_files.h"

#include <fmt/format.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "caudal/core/error.h"

namespace caudal {
namespace {

std::string absolute(const std::string& path) {
  if (path.empty()) return path;
  return std::filesystem::absolute(path).lexically_normal().string();
}

// Size and CRC-32 (zlib) of a file, read in blocks: a change detector, not a
// security measure, and about 1 s per GB.
nlohmann::json fingerprint_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open " + path + " to fingerprint it");
  std::vector<char> block(1 << 20);
  uLong crc = crc32(0L, Z_NULL, 0);
  uint64_t bytes = 0;
  while (in) {
    in.read(block.data(), static_cast<std::streamsize>(block.size()));
    const auto got = in.gcount();
    crc = crc32(crc, reinterpret_cast<const Bytef*>(block.data()), static_cast<uInt>(got));
    bytes += static_cast<uint64_t>(got);
  }
  if (in.bad()) throw Error("cannot read " + path + " to fingerprint it");
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08lx", static_cast<unsigned long>(crc));
  return {{"path", path}, {"bytes", bytes}, {"crc32", hex}};
}

// The input files of a config by their key in "inputs" (none for data
// built in memory, as tests do).
std::vector<std::pair<std::string, std::string>> input_files(const TrainConfig& config) {
  std::vector<std::pair<std::string, std::string>> files;
  if (!config.data.empty()) files.emplace_back("data", config.data);
  if (!config.methods.faerec.semantic.empty()) files.emplace_back("semantic", config.methods.faerec.semantic);
  return files;
}

}  // namespace

TrainConfig with_absolute_paths(TrainConfig config) {
  config.data = absolute(config.data);
  config.init = absolute(config.init);
  config.methods.faerec.semantic = absolute(config.methods.faerec.semantic);
  return config;
}

nlohmann::json fingerprint_inputs(const TrainConfig& config) {
  nlohmann::json inputs = nlohmann::json::object();
  for (const auto& [key, path] : input_files(config)) inputs[key] = fingerprint_file(path);
  return inputs;
}

void check_run_inputs(const RunDirectory& run, const TrainConfig& config) {
  const auto saved = run.read_json("config.json");
  if (!saved.is_object() || !saved.contains("inputs") || !saved["inputs"].is_object()) return;
  const auto& recorded = saved["inputs"];
  for (const auto& [key, path] : input_files(config)) {
    if (!recorded.contains(key) || !recorded[key].is_object() || recorded[key].value("path", "") != path) continue;
    if (!std::filesystem::exists(path))
      throw Error(path + ": not found; the run " + run.path() + " was trained on it (" + run.file("config.json") + ")");
    const auto now = fingerprint_file(path);
    if (now["bytes"] != recorded[key]["bytes"] || now["crc32"] != recorded[key]["crc32"])
      throw Error(fmt::format("{} changed since the run {} was trained on it: {} bytes, CRC-32 {} then; {} bytes, CRC-32 {} "
                              "now. Restore the file, or give the new one explicitly (eval --data) to evaluate on it",
                              path, run.path(), recorded[key]["bytes"].dump(), recorded[key]["crc32"].dump(),
                              now["bytes"].dump(), now["crc32"].dump()));
  }
}

}  // namespace caudal
