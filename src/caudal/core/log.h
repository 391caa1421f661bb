// The process's logger: plain timestamped lines on the terminal and, for a
// run, in its train.log.
#pragma once

#include <memory>
#include <string>

namespace spdlog {
class logger;
}

namespace caudal {

// A logger that writes to the terminal and, when log_path is not empty, to
// that file too (appending). Also installed as spdlog's default logger.
std::shared_ptr<spdlog::logger> make_logger(const std::string& log_path);

// Text without timestamps (result tables) to standard output and, after
// everything logged so far, to the current log file: train.log keeps all
// that the terminal showed.
void log_text(const std::string& text);

}  // namespace caudal
