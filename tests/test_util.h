// Helpers shared by the tests: temporary files and small datasets.
#pragma once

#include <ftw.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "caudal/core/error.h"
#include "caudal/data/dataset.h"

namespace caudal::testing {

// A fresh empty directory under the system temp dir, removed on destruction.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("caudal-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  // Removed with POSIX nftw rather than std::filesystem::remove_all: pip
  // builds of LibTorch 2.x export statically linked copies of libstdc++'s
  // filesystem symbols (pytorch/pytorch#133437). Built against the CUDA
  // wheel's LibTorch 2.11, every test using this class, and no other, crashed;
  // remove_all is the one filesystem call here that the CLI (which ran fine
  // there) never makes.
  ~TempDir() {
    nftw(
        path_.c_str(), [](const char* file, const struct stat*, int, struct FTW*) { return std::remove(file); }, 16,
        FTW_DEPTH | FTW_PHYS);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::string write(const std::string& name, const std::string& content) const {
    std::ofstream(file(name)) << content;
    return file(name);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// The message of the caudal::Error that `body` throws; "no error" if none.
template <typename F>
std::string error_of(F&& body) {
  try {
    body();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

inline std::string source_path(const std::string& relative) { return std::string(CAUDAL_SOURCE_DIR) + "/" + relative; }

inline Dataset dataset_from(const std::vector<std::vector<int64_t>>& sequences, double head_ratio = 0.2) {
  SequenceData data;
  data.source = "<test>";
  for (size_t u = 0; u < sequences.size(); ++u) {
    data.user_ids.push_back(static_cast<int64_t>(u) + 1);
    data.sequences.push_back(sequences[u]);
    for (int64_t item : sequences[u]) data.num_items = std::max(data.num_items, item);
  }
  return Dataset(std::move(data), head_ratio);
}

}  // namespace caudal::testing
