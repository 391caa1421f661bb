// The run directory (--out DIR): config.json, train.log, model.pt (the best
// checkpoint) and metrics.json. Every file is written atomically, so an
// interrupted run never leaves a half-written checkpoint or metrics file.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace spdlog {
class logger;
}
namespace torch::nn {
class Module;
}

namespace caudal {

class RunDirectory {
 public:
  // Creates the directory if needed.
  explicit RunDirectory(std::string path);

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

  void write_json(const std::string& name, const nlohmann::json& json) const;
  // Throws caudal::Error naming the file if it is missing or not valid JSON.
  nlohmann::json read_json(const std::string& name) const;

  void save_checkpoint(torch::nn::Module& module, const std::string& name = "model.pt") const;
  // Throws caudal::Error naming the file if it is missing, truncated or does
  // not match the module's parameters.
  void load_checkpoint(torch::nn::Module& module, const std::string& name = "model.pt") const;

 private:
  std::string path_;
};

// A logger that writes to the terminal and, when log_path is not empty, to
// that file too (appending). Also installed as spdlog's default logger.
std::shared_ptr<spdlog::logger> make_logger(const std::string& log_path);

}  // namespace caudal
