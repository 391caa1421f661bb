// The files a run was trained on (the sequence file, FAERec's item vectors),
// recorded in config.json under "inputs" by absolute path, size and CRC-32.
// A run then resumes, evaluates and serves from any working directory, and a
// file changed since training is an error instead of silently different
// results (or a resumed training on other data).
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "caudal/run/config.h"
#include "caudal/run/run_dir.h"

namespace caudal {

// The config with --data, --semantic and --init made absolute (relative to
// the working directory), as config.json keeps them.
TrainConfig with_absolute_paths(TrainConfig config);

// {"data": {"path", "bytes", "crc32"}, "semantic": {...}} for the config's
// input files (each only when its path is set); throws caudal::Error naming a file
// that cannot be read.
nlohmann::json fingerprint_inputs(const TrainConfig& config);

// Checks every file recorded in RUN/config.json's "inputs" that `config`
// still uses (the same path: a file given anew on the command line is the
// user's choice) against its size and CRC-32; throws caudal::Error naming
// the file and the run when one changed or is gone. Runs written before
// "inputs" existed pass unchecked.
void check_run_inputs(const RunDirectory& run, const TrainConfig& config);

}  // namespace caudal
