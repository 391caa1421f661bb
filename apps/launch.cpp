// `caudal launch -n N -- COMMAND...`: runs N ranks of a caudal command on this
// host (data-parallel training: `-- train ...` or `-- resume ...`), each with
// WORLD_SIZE, RANK, MASTER_ADDR and MASTER_PORT set, and forwards their output
// line by line with a "[rank R]" prefix (LOCAL_RANK too: one GPU per rank). When one rank fails, the others get a
// few seconds to end on their own, then are stopped; the exit code is then
// non-zero and the message names the rank.
//
// Written by hand on POSIX calls (posix_spawn, poll, waitpid): the Debian
// libraries we use have no process supervision, and this is what torchrun's
// local launcher does, in a hundred lines.
#include <fmt/format.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <iostream>
#include <thread>

#include "caudal/core/error.h"
#include "command.h"
#include "options.h"

extern char** environ;

namespace caudal {
namespace {

volatile std::sig_atomic_t interrupted = 0;
void on_signal(int) { interrupted = 1; }

std::string describe_exit(int status) {
  if (WIFSIGNALED(status)) return fmt::format("was killed by signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)));
  return fmt::format("exited with code {}", WEXITSTATUS(status));
}

struct Rank {
  pid_t pid = -1;
  int output = -1;      // read end of the rank's standard output and error
  std::string partial;  // output after the last newline
  bool running = true;
  int status = 0;
};

void forward(Rank& rank, int index, bool flush_all) {
  size_t start = 0, newline;
  while ((newline = rank.partial.find('\n', start)) != std::string::npos) {
    std::cout << "[rank " << index << "] " << rank.partial.substr(start, newline - start + 1);
    start = newline + 1;
  }
  rank.partial.erase(0, start);
  if (flush_all && !rank.partial.empty()) {
    std::cout << "[rank " << index << "] " << rank.partial << "\n";
    rank.partial.clear();
  }
  std::cout.flush();
}

int launch(int world_size, const std::string& host, int port, const std::vector<std::string>& command) {
  if (port == 0) port = free_local_port();
  std::vector<std::string> environment;
  for (char** e = environ; *e; ++e) {
    const std::string entry = *e;
    for (const char* name : {"WORLD_SIZE=", "RANK=", "LOCAL_RANK=", "MASTER_ADDR=", "MASTER_PORT=", "CAUDAL_LAUNCHER_PID="})
      if (entry.rfind(name, 0) == 0) goto skip;
    environment.push_back(entry);
  skip:;
  }
  environment.push_back(fmt::format("WORLD_SIZE={}", world_size));
  environment.push_back("MASTER_ADDR=" + host);
  environment.push_back(fmt::format("MASTER_PORT={}", port));
  environment.push_back(fmt::format("CAUDAL_LAUNCHER_PID={}", getpid()));  // the ranks end with this process
  std::cerr << fmt::format("caudal launch: {} ranks, rendezvous at {}:{}\n", world_size, host, port);

  char executable[4096];
  const auto length = readlink("/proc/self/exe", executable, sizeof(executable) - 1);
  if (length <= 0) throw Error("launch: cannot find the caudal executable (/proc/self/exe)");
  executable[length] = '\0';

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGHUP, on_signal);
  std::signal(SIGPIPE, SIG_IGN);  // our own output closed: keep supervising, the ranks still end
  std::vector<Rank> ranks(static_cast<size_t>(world_size));
  auto stop_started = [&] {
    for (auto& rank : ranks)
      if (rank.pid > 0) {
        kill(rank.pid, SIGKILL);
        waitpid(rank.pid, nullptr, 0);
      }
  };
  for (int r = 0; r < world_size; ++r) {
    int pipe_fds[2];
    // Close-on-exec: a rank inherits no other rank's pipe.
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
      stop_started();
      throw Error(fmt::format("launch: cannot make a pipe for rank {}: {}", r, strerror(errno)));
    }
    auto env = environment;
    env.push_back(fmt::format("RANK={}", r));
    env.push_back(fmt::format("LOCAL_RANK={}", r));
    std::vector<char*> envp, argv;
    for (auto& entry : env) envp.push_back(entry.data());
    envp.push_back(nullptr);
    std::string program = executable;
    argv.push_back(program.data());
    auto args = command;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
    const int failed = posix_spawn(&ranks[r].pid, executable, &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    close(pipe_fds[1]);
    if (failed) {
      close(pipe_fds[0]);
      ranks[r].pid = -1;
      stop_started();
      throw Error(fmt::format("launch: cannot start rank {}: {}", r, strerror(failed)));
    }
    ranks[r].output = pipe_fds[0];
  }

  using Clock = std::chrono::steady_clock;
  int first_failure = -1;
  Clock::time_point failed_at;
  bool terminated = false, killed = false;
  auto signal_running = [&](int signal) {
    for (auto& rank : ranks)
      if (rank.running) kill(rank.pid, signal);
  };
  for (;;) {
    std::vector<pollfd> fds;
    std::vector<int> owner;
    for (int r = 0; r < world_size; ++r)
      if (ranks[r].output >= 0) {
        fds.push_back({ranks[r].output, POLLIN, 0});
        owner.push_back(r);
      }
    if (fds.empty())
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    else
      poll(fds.data(), fds.size(), 200);
    for (size_t i = 0; i < fds.size(); ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      auto& rank = ranks[owner[i]];
      char buffer[65536];
      const auto got = read(rank.output, buffer, sizeof(buffer));
      if (got > 0) {
        rank.partial.append(buffer, static_cast<size_t>(got));
        forward(rank, owner[i], false);
      } else if (got == 0 || errno != EINTR) {
        forward(rank, owner[i], true);
        close(rank.output);
        rank.output = -1;
      }
    }
    // The rank to name: of those found ended with an error in this pass, one
    // killed by a signal (the others' failures follow from it), else the lowest.
    int failed_now = -1;
    for (int r = 0; r < world_size; ++r) {
      auto& rank = ranks[r];
      if (!rank.running || waitpid(rank.pid, &rank.status, WNOHANG) != rank.pid) continue;
      rank.running = false;
      const bool ok = WIFEXITED(rank.status) && WEXITSTATUS(rank.status) == 0;
      if (!ok && (failed_now < 0 || (WIFSIGNALED(rank.status) && !WIFSIGNALED(ranks[failed_now].status))))
        failed_now = r;
    }
    if (failed_now >= 0 && first_failure < 0 && !interrupted) {
      first_failure = failed_now;
      failed_at = Clock::now();
      std::cerr << fmt::format("caudal launch: rank {} {}; stopping the other ranks\n", failed_now,
                               describe_exit(ranks[failed_now].status));
    }
    const bool any_running = std::any_of(ranks.begin(), ranks.end(), [](const Rank& r) { return r.running; });
    const bool any_output = std::any_of(ranks.begin(), ranks.end(), [](const Rank& r) { return r.output >= 0; });
    if (!any_running && !any_output) break;
    if (!any_running) continue;  // drain what is left
    // The others usually end by themselves within a moment (their collective
    // fails): give them 5 seconds to say so, then SIGTERM, then SIGKILL.
    if ((first_failure >= 0 || interrupted) && !terminated &&
        (interrupted || Clock::now() - failed_at > std::chrono::seconds(5))) {
      signal_running(SIGTERM);
      terminated = true;
      failed_at = Clock::now();
    } else if (terminated && !killed && Clock::now() - failed_at > std::chrono::seconds(5)) {
      signal_running(SIGKILL);
      killed = true;
    }
  }
  if (interrupted) {
    std::cerr << "caudal launch: interrupted; all ranks stopped\n";
    return 130;
  }
  if (first_failure >= 0) {
    std::cerr << fmt::format("caudal launch: failed: rank {} {}\n", first_failure, describe_exit(ranks[first_failure].status));
    return 1;
  }
  return 0;
}

}  // namespace

Command add_launch_command(CLI::App& app) {
  struct State {
    int ranks = 2;
    std::string host = "127.0.0.1";
    int port = 0;
    std::vector<std::string> command;
  };
  auto s = std::make_shared<State>();
  auto* cmd = app.add_subcommand(
      "launch", "run N ranks of a distributed training on this host: caudal launch -n 2 -- train --data ... --out ...");
  cmd->add_option("-n,--ranks", s->ranks, "number of processes")->check(in_range(1, 256));
  cmd->add_option("--master-addr", s->host, "address rank 0 listens on (MASTER_ADDR)");
  cmd->add_option("--master-port", s->port, "port rank 0 listens on (MASTER_PORT; default: a free one)")
      ->check(in_range(0, 65535));
  cmd->add_option("command", s->command, "after --: the caudal command each rank runs (train or resume, with its options)")
      ->required();
  return {cmd, [s] {
            const auto& verb = s->command.front();
            if (verb != "train" && verb != "resume")
              throw Error("launch runs `train` or `resume` on each rank, not `" + verb + "`");
            return launch(s->ranks, s->host, s->port, s->command);
          }};
}

}  // namespace caudal
