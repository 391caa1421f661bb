// What the fuzz targets share. Most caudal parsers read a path, so a target
// writes its input to a file first: in a directory of this process under
// $CAUDAL_FUZZ_SCRATCH, default /dev/shm (memory, so thousands of inputs a
// second cost no disk writes), removed when the process exits normally;
// scripts/fuzz.sh removes what processes stopped by a crash leave.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace caudal::fuzz {

// The process's scratch directory, created on first use.
inline const std::string& scratch_directory() {
  static const struct Scratch {
    std::string path = std::string(std::getenv("CAUDAL_FUZZ_SCRATCH") ? std::getenv("CAUDAL_FUZZ_SCRATCH") : "/dev/shm") +
                       "/caudal-fuzz-" + std::to_string(getpid());
    Scratch() { std::filesystem::create_directories(path); }
    ~Scratch() {
      std::error_code ignored;
      std::filesystem::remove_all(path, ignored);
    }
  } scratch;
  return scratch.path;
}

// Writes the bytes to `name` in the scratch directory (replacing the last
// input) and returns the file's path.
inline std::string write_input(const std::string& name, const uint8_t* data, size_t size) {
  const std::string path = scratch_directory() + "/" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path;
}

// Stops the run when a parser broke its own documented contract (not a
// caudal::Error: a wrong answer): libFuzzer keeps the input as a crash.
inline void require(bool contract_holds) {
  if (!contract_holds) __builtin_trap();
}

}  // namespace caudal::fuzz
