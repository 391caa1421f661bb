#include "caudal/core/error.h"

namespace caudal {

Error input_error(const std::string& file, int64_t line, const std::string& message) {
  return Error(file + ":" + std::to_string(line) + ": " + message);
}

}  // namespace caudal
