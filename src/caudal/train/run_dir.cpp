#include "caudal/train/run_dir.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <torch/nn/module.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "caudal/core/atomic_file.h"
#include "caudal/core/error.h"

namespace caudal {

RunDirectory::RunDirectory(std::string path) : path_(std::move(path)) {
  std::error_code ec;
  std::filesystem::create_directories(path_, ec);
  if (ec) throw Error("cannot create run directory " + path_ + ": " + ec.message());
}

void RunDirectory::write_json(const std::string& name, const nlohmann::json& json) const {
  write_file_atomically(file(name), json.dump(2) + "\n");
}

nlohmann::json RunDirectory::read_json(const std::string& name) const {
  const std::string path = file(name);
  if (!std::filesystem::exists(path)) throw Error(path + ": not found (is " + path_ + " a caudal run directory?)");
  try {
    return nlohmann::json::parse(read_file(path));
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(path + ": not valid JSON: " + e.what());
  }
}

void RunDirectory::save_checkpoint(torch::nn::Module& module, const std::string& name) const {
  write_atomically(file(name), [&](const std::string& tmp) {
    torch::serialize::OutputArchive archive;
    module.save(archive);
    archive.save_to(tmp);
  });
}

void RunDirectory::load_checkpoint(torch::nn::Module& module, const std::string& name) const {
  const std::string path = file(name);
  if (!std::filesystem::exists(path)) throw Error(path + ": checkpoint not found");
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    module.load(archive);
  } catch (const c10::Error& e) {
    // LibTorch's message is long and internal; keep its first line.
    std::string what = e.what_without_backtrace();
    throw Error(path + ": checkpoint is damaged, truncated or from another model: " + what.substr(0, what.find('\n')));
  }
}

std::shared_ptr<spdlog::logger> make_logger(const std::string& log_path) {
  std::vector<spdlog::sink_ptr> sinks;
  sinks.push_back(std::make_shared<spdlog::sinks::stdout_sink_mt>());
  if (!log_path.empty()) sinks.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(log_path));
  auto logger = std::make_shared<spdlog::logger>("caudal", sinks.begin(), sinks.end());
  logger->set_pattern("[%Y-%m-%d %H:%M:%S] %v");
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  return logger;
}

}  // namespace caudal
