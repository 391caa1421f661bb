// caudal: the command-line front end. Each command lives in its own file
// (command.h); this file only builds the app, parses and dispatches.
#include <CLI/CLI.hpp>

#include <iostream>

#include "caudal/core/error.h"
#include "caudal/core/memory.h"
#include "command.h"

int main(int argc, char** argv) {
  using namespace caudal;
  keep_freed_memory();
  CLI::App app{"caudal: long-tail sequential recommendation (SASRec and friends, TADA, FAERec)"};
  app.require_subcommand(1);
  const std::vector<Command> commands = {
      add_train_command(app),        add_resume_command(app),  add_eval_command(app),
      add_prepare_command(app),      add_embed_command(app),   add_import_command(app),
      add_inspect_fusion_command(app), add_bench_lis_command(app), add_bench_epoch_command(app),
      add_recommend_command(app),    add_serve_command(app),   add_report_command(app),
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
    std::cerr << "caudal: error (LibTorch): " << what.substr(0, what.find('\n')) << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "caudal: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
