// Errors that reach the user. Every failure caused by bad input (a file, a
// flag, a request) is reported as caudal::Error with a message that names the
// offending file and line or field; the CLI prints it and exits non-zero.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace caudal {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// "FILE:LINE: message", the form compilers use, so editors can jump to it.
Error input_error(const std::string& file, int64_t line, const std::string& message);

}  // namespace caudal
