// The option table of run/config.h on the command line: each option's flag,
// help, default, limits and choices come from config_options(), so a command
// adds the options it takes by group or by key.
#pragma once

#include <CLI/CLI.hpp>

#include <initializer_list>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "caudal/distributed/cluster.h"
#include "caudal/run/config.h"

namespace caudal {

// The added options by JSON key.
using BoundOptions = std::map<std::string, CLI::Option*>;

// Adds the options of these groups, bound to the fields of `config` (which
// must outlive the parse).
BoundOptions add_config_options(CLI::App& command, TrainConfig& config, std::initializer_list<OptionGroup> groups);
// Adds the options with these keys.
BoundOptions add_config_options(CLI::App& command, TrainConfig& config, std::initializer_list<const char*> keys);

// A number in [lo, hi], said in the words of the config options' limits
// ("must be in [1, 1000000], got 0"). CLI11's PositiveNumber would print its
// bound, the largest double, in 309 digits.
CLI::Validator in_range(double lo, double hi);

// The bound options that were given on the command line, with the values
// they set in `config`, as config.json fields: to apply over a saved config.
nlohmann::json given_options(const BoundOptions& bound, const TrainConfig& config);

// --world-size, --rank, --master HOST:PORT and --dist-timeout, with the
// variables WORLD_SIZE, RANK, MASTER_ADDR and MASTER_PORT for those not given
// (train and resume).
struct ClusterFlags {
  void add_to(CLI::App& command);
  // The options in effect; throws caudal::Error on a malformed variable.
  ClusterOptions resolve() const;

 private:
  ClusterOptions options_;
  std::string master_;
  double bucket_megabytes_ = 16;
  CLI::Option *world_size_ = nullptr, *rank_ = nullptr, *master_option_ = nullptr;
};

}  // namespace caudal
