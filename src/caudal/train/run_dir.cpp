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

// Checkpoints are a flat archive of every parameter and buffer under its
// dotted name. LibTorch's Module::load would silently adopt a tensor of
// another shape (a checkpoint of another dataset or width); reading names
// ourselves lets us check each one and say which does not match. Tensors are
// stored on the CPU and copied onto the model's device when read, so a model
// trained on a GPU loads in a CPU-only build (and the other way round).
void RunDirectory::save_checkpoint(torch::nn::Module& module, const std::string& name) const {
  write_atomically(file(name), [&](const std::string& tmp) {
    torch::serialize::OutputArchive archive;
    for (const auto& p : module.named_parameters(/*recurse=*/true)) archive.write(p.key(), p.value().to(at::kCPU));
    for (const auto& b : module.named_buffers(/*recurse=*/true)) archive.write(b.key(), b.value().to(at::kCPU), /*is_buffer=*/true);
    archive.save_to(tmp);
  });
}

void RunDirectory::load_checkpoint(torch::nn::Module& module, const std::string& name) const {
  const std::string path = file(name);
  if (!std::filesystem::exists(path)) throw Error(path + ": checkpoint not found");
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path, at::kCPU);
  } catch (const c10::Error& e) {
    // LibTorch's message is long and internal; keep its first line.
    std::string what = e.what_without_backtrace();
    throw Error(path + ": checkpoint is damaged, truncated or not a caudal checkpoint: " + what.substr(0, what.find('\n')));
  }
  auto restore = [&](const std::string& key, at::Tensor& target, bool is_buffer) {
    at::Tensor stored;
    if (!archive.try_read(key, stored, is_buffer)) throw Error(path + ": checkpoint has no tensor '" + key + "'");
    if (stored.sizes() != target.sizes())
      throw Error(path + ": '" + key + "' has shape " + c10::str(stored.sizes()) + " in the checkpoint but " +
                  c10::str(target.sizes()) + " in the model (another dataset or model size?)");
    torch::NoGradGuard no_grad;
    target.copy_(stored);
  };
  for (auto& p : module.named_parameters(true)) restore(p.key(), p.value(), false);
  for (auto& b : module.named_buffers(true)) restore(b.key(), b.value(), true);
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
