// caudal: the command-line front end. Each command lives in its own file
// (command.h); this file only builds the app, parses and dispatches.
#include <CLI/CLI.hpp>

#include <csignal>
#include <iostream>
#include <new>
#include <stdexcept>

#include "caudal/core/error.h"
#include "caudal/core/memory.h"
#include "command.h"

// The checks up front (item ids, --max-len, TADA's tables) catch the usual
// causes; this is what is left when an allocation still fails.
constexpr const char* kOutOfMemory =
    "out of memory: the data or the options ask for more than this machine has (look at --hidden, --max-len, "
    "--batch, the number of items and the method's tables)";

int main(int argc, char** argv) {
  using namespace caudal;
  keep_freed_memory();
  // Past a file-size limit (ulimit -f) a write then fails with EFBIG and is
  // reported like a full disk, instead of the signal killing the process
  // half-way through a file.
  std::signal(SIGXFSZ, SIG_IGN);
  CLI::App app{"caudal: long-tail sequential recommendation (SASRec and friends, TADA, FAERec)"};
  app.require_subcommand(1);
  const std::vector<Command> commands = {
      add_train_command(app),        add_resume_command(app),  add_eval_command(app),
      add_prepare_command(app),      add_embed_command(app),   add_import_command(app),
      add_inspect_fusion_command(app), add_bench_lis_command(app), add_bench_epoch_command(app),
      add_recommend_command(app),    add_serve_command(app),   add_report_command(app),
      add_launch_command(app),
  };
  CLI11_PARSE(app, argc, argv);
  try {
    for (const auto& command : commands)
      if (command.cli->parsed()) return command.run();
  } catch (const caudal::Error& e) {
    std::cerr << "caudal: error: " << e.what() << "\n";
    return 1;
  } catch (const c10::Error& e) {
    const std::string what = e.what_without_backtrace();
    if (what.find("can't allocate memory") != std::string::npos) {
      std::cerr << "caudal: error: " << kOutOfMemory << "\n";
      return 1;
    }
    std::cerr << "caudal: error (LibTorch): " << what.substr(0, what.find('\n')) << "\n";
    return 1;
  } catch (const std::bad_alloc&) {
    std::cerr << "caudal: error: " << kOutOfMemory << "\n";
    return 1;
  } catch (const std::length_error&) {
    std::cerr << "caudal: error: " << kOutOfMemory << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "caudal: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
