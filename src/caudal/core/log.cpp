#include "caudal/core/log.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <iostream>

namespace caudal {
namespace {
std::string current_log_path;
}  // namespace

std::shared_ptr<spdlog::logger> make_logger(const std::string& log_path) {
  current_log_path = log_path;
  std::vector<spdlog::sink_ptr> sinks;
  sinks.push_back(std::make_shared<spdlog::sinks::stdout_sink_mt>());
  if (!log_path.empty()) sinks.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(log_path));
  auto logger = std::make_shared<spdlog::logger>("caudal", sinks.begin(), sinks.end());
  logger->set_pattern("[%Y-%m-%d %H:%M:%S] %v");
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  return logger;
}

void log_text(const std::string& text) {
  spdlog::default_logger()->flush();
  std::cout << text << std::flush;
  if (current_log_path.empty()) return;
  std::ofstream log(current_log_path, std::ios::app);
  log << text;
}

}  // namespace caudal
