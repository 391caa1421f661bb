// `caudal bench-lis`: time and peak memory of TADA's LIS solve (in-place
// Cholesky) against a general dense inverse of the same matrix (the official
// code's way), each measured in a fresh child process so that peak memory is
// the solver's own.
#include <fmt/format.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <vector>

#include "caudal/core/error.h"
#include "caudal/core/threads.h"
#include "caudal/data/dataset.h"
#include "caudal/method/tada/candidates.h"
#include "caudal/method/tada/lis.h"
#include "command.h"
#include "options.h"

extern char** environ;

namespace caudal {
namespace {

// Resident set size of this process in MiB, from /proc (Linux).
double resident_mib() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmRSS:") {
      double kib = 0;
      status >> kib;
      return kib / 1024.0;
    }
    status.ignore(1 << 12, '\n');
  }
  return 0;
}

// Child: solves with one solver and prints one JSON line with its timing.
int run_lis_solver(const std::string& data, const std::string& solver, int threads) {
  set_compute_threads(threads);
  Dataset dataset(load_sequences(data));
  const int64_t max_len = 50;
  auto parts = recent_training_parts(dataset, max_len);
  std::vector<int64_t> query;
  for (int64_t i = 1; i <= dataset.num_items(); ++i)
    if (dataset.groups().item_train_count[i] > 0) query.push_back(i);
  const double rss_before = resident_mib();
  const auto start = std::chrono::steady_clock::now();
  auto gram = item_gram_matrix(parts, dataset.num_items());
  std::vector<std::vector<int64_t>> neighbours;
  if (solver == "cholesky") {
    neighbours = lis_neighbours(gram, query, LisOptions{});
  } else if (solver == "inverse") {
    neighbours = lis_neighbours_general_inverse(gram, query, LisOptions{});
  } else {
    throw Error("--solver must be cholesky or inverse, got '" + solver + "'");
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  nlohmann::json line = {{"solver", solver}, {"seconds", seconds}, {"rss_before_mib", rss_before},
                         {"items", dataset.num_items()}, {"neighbours", neighbours}};
  std::cout << line.dump() << std::endl;
  return 0;
}

// Parent: runs `self bench-lis --solver S` for each solver and prints a table.
int run_lis_benchmark(const std::string& self, const std::string& data, int threads) {
  std::cout << fmt::format("LIS solve on {} at {} thread(s), each solver in a fresh process\n", data, threads);
  std::cout << fmt::format("{:<10}{:>10}{:>16}{:>18}\n", "solver", "seconds", "peak RSS MiB", "solve peak MiB");
  std::vector<nlohmann::json> results;
  for (const std::string solver : {"cholesky", "inverse"}) {
    int pipe_fds[2];
    if (::pipe(pipe_fds) != 0) throw Error("bench-lis: cannot create a pipe");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
    const std::string thread_text = std::to_string(threads);
    std::vector<std::string> args = {self, "bench-lis", "--data", data, "--threads", thread_text, "--solver", solver};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    const int spawned = posix_spawn(&pid, self.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(pipe_fds[1]);
    if (spawned != 0) throw Error("bench-lis: cannot start " + self);
    std::string output;
    char buffer[4096];
    ssize_t got;
    while ((got = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0) output.append(buffer, static_cast<size_t>(got));
    // The child's last line is its JSON result (earlier lines may be logging).
    ::close(pipe_fds[0]);
    int status = 0;
    struct rusage usage {};
    ::wait4(pid, &status, 0, &usage);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw Error("bench-lis: the " + solver + " run failed");
    auto result = nlohmann::json::parse(output.substr(output.rfind("\n{") == std::string::npos ? 0 : output.rfind("\n{") + 1));
    const double peak = static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
    result["peak_rss_mib"] = peak;
    std::cout << fmt::format("{:<10}{:>10.2f}{:>16.0f}{:>18.0f}\n", solver, result["seconds"].get<double>(), peak,
                             peak - result["rss_before_mib"].get<double>());
    results.push_back(result);
  }
  // Both solve in float32, so near-ties can order differently: count the
  // items whose neighbour lists agree exactly, and the mean overlap.
  const auto a = results[0]["neighbours"].get<std::vector<std::vector<int64_t>>>();
  const auto b = results[1]["neighbours"].get<std::vector<std::vector<int64_t>>>();
  size_t identical = 0;
  double overlap = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    identical += a[i] == b[i];
    size_t shared = 0;
    for (int64_t j : a[i]) shared += std::count(b[i].begin(), b[i].end(), j);
    overlap += a[i].empty() ? 1.0 : static_cast<double>(shared) / static_cast<double>(std::max(a[i].size(), b[i].size()));
  }
  std::cout << fmt::format("neighbour lists identical for {} of {} items; mean overlap {:.4f}\n", identical, a.size(),
                           overlap / static_cast<double>(a.size()));
  std::cout << fmt::format("speed-up {:.2f}x, solve peak memory ratio {:.2f}\n",
                           results[1]["seconds"].get<double>() / results[0]["seconds"].get<double>(),
                           (results[0]["peak_rss_mib"].get<double>() - results[0]["rss_before_mib"].get<double>()) /
                               (results[1]["peak_rss_mib"].get<double>() - results[1]["rss_before_mib"].get<double>()));
  return 0;
}

}  // namespace

Command add_bench_lis_command(CLI::App& app) {
  struct State {
    std::string data, solver;
    int threads = 1;
  };
  auto s = std::make_shared<State>();
  auto* cmd = app.add_subcommand("bench-lis", "time and peak memory of TADA's LIS solve vs a general inverse");
  cmd->add_option("--data", s->data, "sequence file")->required()->check(CLI::ExistingFile);
  cmd->add_option("--threads", s->threads, "compute threads")->capture_default_str()->check(in_range(1, 1024));
  cmd->add_option("--solver", s->solver, "run one solver in this process (cholesky|inverse); default: both, each in a child");
  return {cmd, [s] {
            if (!s->solver.empty()) return run_lis_solver(s->data, s->solver, s->threads);
            return run_lis_benchmark("/proc/self/exe", s->data, s->threads);
          }};
}

}  // namespace caudal
