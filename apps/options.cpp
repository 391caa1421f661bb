#include "options.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "caudal/core/error.h"

namespace caudal {
namespace {

// A CLI11 check from the option's limits: the same words as config.json's reader.
CLI::Validator limits_check(const Option& option) {
  return CLI::Validator(
      [option](std::string& text) -> std::string {
        try {
          size_t used = 0;
          const double x = std::stod(text, &used);
          return used == text.size() ? limits_error(option, x) : "";  // not a number: CLI11's conversion says so
        } catch (const std::exception&) {
          return "";
        }
      },
      "", "limits");
}

CLI::Validator name_check(const Option& option) {
  return CLI::Validator(
      [check = option.check](std::string& text) -> std::string {
        try {
          check(text);
          return "";
        } catch (const Error& e) {
          return e.what();
        }
      },
      "", "name");
}

CLI::Option* bind(CLI::App& command, const Option& o) {
  return std::visit(
      [&](auto&& field) -> CLI::Option* {
        using T = std::decay_t<decltype(field)>;
        if constexpr (std::is_same_v<T, bool*>) {
          return command.add_flag(o.flag, *field, o.help);
        } else if constexpr (std::is_same_v<T, ChoiceField>) {
          return command
              .add_option_function<std::string>(
                  o.flag, [set = field.set](const std::string& name) { set(name); }, o.help)
              ->check(CLI::IsMember(field.names))
              ->default_str(field.get());
        } else {
          auto* option = command.add_option(o.flag, *field, o.help)->capture_default_str();
          if constexpr (std::is_same_v<T, std::string*>) {
            if (o.must_exist) option->check(CLI::ExistingPath);
            if (o.check) option->check(name_check(o));
          } else {
            option->check(limits_check(o));
          }
          return option;
        }
      },
      o.field);
}

template <typename Wanted>
BoundOptions add_where(CLI::App& command, TrainConfig& config, Wanted wanted) {
  BoundOptions bound;
  for (const auto& option : config_options(config))
    if (wanted(option)) bound[option.key] = bind(command, option);
  return bound;
}

}  // namespace

CLI::Validator in_range(double lo, double hi) {
  auto text = [](double x) {
    return std::abs(x) < 1e15 && x == std::floor(x) ? fmt::format("{}", static_cast<int64_t>(x)) : fmt::format("{}", x);
  };
  return CLI::Validator(
      [=](std::string& given) -> std::string {
        try {
          size_t used = 0;
          const double x = std::stod(given, &used);
          if (used != given.size() || (x >= lo && x <= hi)) return "";  // not a number: CLI11's conversion says so
        } catch (const std::invalid_argument&) {
          return "";
        } catch (const std::out_of_range&) {
        }
        return fmt::format("must be in [{}, {}], got {}", text(lo), text(hi), given);
      },
      "", "range");
}

BoundOptions add_config_options(CLI::App& command, TrainConfig& config, std::initializer_list<OptionGroup> groups) {
  return add_where(command, config, [&](const Option& o) {
    return std::find(groups.begin(), groups.end(), o.group) != groups.end();
  });
}

BoundOptions add_config_options(CLI::App& command, TrainConfig& config, std::initializer_list<const char*> keys) {
  return add_where(command, config, [&](const Option& o) {
    return std::any_of(keys.begin(), keys.end(), [&](const char* key) { return key == std::string(o.key); });
  });
}

nlohmann::json given_options(const BoundOptions& bound, const TrainConfig& config) {
  const auto all = to_json(config);
  nlohmann::json given = nlohmann::json::object();
  for (const auto& [key, option] : bound)
    if (option->count() > 0) given[key] = all.at(key);
  return given;
}

void ClusterFlags::add_to(CLI::App& command) {
  auto* group = command.add_option_group("distributed", "data-parallel training over several processes (caudal launch)");
  world_size_ = group->add_option("--world-size", options_.world_size, "number of processes (ranks) [env WORLD_SIZE; default 1]")
      ->check(in_range(1, 4096));
  rank_ = group->add_option("--rank", options_.rank, "this process's rank, 0 .. world size - 1 [env RANK]")->check(in_range(0, 4095));
  master_option_ = group->add_option("--master", master_, "HOST:PORT where rank 0 listens [env MASTER_ADDR, MASTER_PORT; default 127.0.0.1:29500]");
  group->add_option("--dist-timeout", options_.timeout_seconds,
                    "seconds a rank waits for the others before failing (rank 0 validates meanwhile)")
      ->default_val(options_.timeout_seconds)
      ->check(in_range(1, 1e6));
  group->add_option("--dist-bucket-mb", bucket_megabytes_, "gradients summed together, in MB (the first bucket: at most 1)")
      ->default_val(bucket_megabytes_)
      ->check(in_range(0.001, 1024));
}

ClusterOptions ClusterFlags::resolve() const {
  auto options = options_;
  options.bucket_bytes = static_cast<int64_t>(bucket_megabytes_ * (1 << 20));
  std::vector<std::string> given;
  if (world_size_->count()) given.push_back("world_size");
  if (rank_->count()) given.push_back("rank");
  if (master_option_->count()) {
    given.push_back("master");
    parse_host_port(master_, "--master", options.master_host, options.master_port);
  }
  return cluster_options_from_environment(options, given);
}

}  // namespace caudal
