#include "caudal/core/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "caudal/core/error.h"

namespace caudal {
namespace {

void fsync_path(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return;  // best effort: durability, not correctness, depends on it
  ::fsync(fd);
  ::close(fd);
}

std::string temporary_name(const std::string& path) {
  std::random_device rd;
  return path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(rd());
}

// Closed before the check: a full disk often shows only when the buffer is written out.
void write_content(const std::string& tmp, const std::string& content) {
  std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
  if (!out) throw Error("cannot create " + tmp + ": " + std::strerror(errno));
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  out.close();
  if (!out) throw Error("cannot write " + tmp + ": " + std::strerror(errno));
}

}  // namespace

void write_atomically(const std::string& path, const std::function<void(const std::string&)>& write) {
  namespace fs = std::filesystem;
  const std::string tmp = temporary_name(path);
  try {
    write(tmp);
    fsync_path(tmp);
  } catch (...) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw Error("cannot write " + path + ": " + reason);
  }
  fs::path dir = fs::path(path).parent_path();
  fsync_path(dir.empty() ? std::string(".") : dir.string());
}

void write_file_atomically(const std::string& path, const std::string& content) {
  write_atomically(path, [&](const std::string& tmp) { write_content(tmp, content); });
}

void write_files_atomically(const std::vector<std::pair<std::string, std::string>>& files) {
  namespace fs = std::filesystem;
  std::vector<std::string> temporaries;
  try {
    for (const auto& [path, content] : files) {
      temporaries.push_back(temporary_name(path));
      write_content(temporaries.back(), content);
      fsync_path(temporaries.back());
    }
    for (size_t i = 0; i < files.size(); ++i) {
      if (std::rename(temporaries[i].c_str(), files[i].first.c_str()) != 0)
        throw Error("cannot write " + files[i].first + ": " + std::strerror(errno));
      temporaries[i].clear();
    }
  } catch (...) {
    std::error_code ignored;
    for (const auto& tmp : temporaries)
      if (!tmp.empty()) fs::remove(tmp, ignored);
    throw;
  }
  for (const auto& [path, content] : files) {
    const fs::path dir = fs::path(path).parent_path();
    fsync_path(dir.empty() ? std::string(".") : dir.string());
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open " + path + ": " + std::strerror(errno));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace caudal
