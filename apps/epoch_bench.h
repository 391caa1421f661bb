// `caudal bench-epoch`: seconds per training epoch of every backbone, plain
// and with each method, in one process on one dataset, at a fixed thread
// count. Each cell builds a fresh model (seeded) and times whole epochs of
// train_one_epoch, the trainer's own loop; validation is not included.
#pragma once

#include <string>
#include <vector>

#include "caudal/train/config.h"

namespace caudal {

struct EpochBenchRequest {
  std::string data;
  std::vector<std::string> models;    // backbone names
  std::vector<std::string> variants;  // "plain" or a --method list with '+' for ','
  TrainConfig base;                   // everything else (hidden, dropout, semantic, ...)
  int epochs = 1;                     // timed epochs per cell
  int threads = 1;
  std::string work_dir;  // TADA's candidate cache lives here (computed once, reused)
  std::string json_out;  // optional: results as JSON
};

int run_epoch_benchmark(const EpochBenchRequest& request);

}  // namespace caudal
