// `caudal serve`: a trained run behind HTTP (serve/server.h for the API).
// SIGTERM or SIGINT stops accepting, answers what is in flight, and exits 0.
#include <fmt/format.h>
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "caudal/core/device.h"
#include "caudal/core/error.h"
#include "caudal/core/log.h"
#include "caudal/core/threads.h"
#include "caudal/serve/server.h"
#include "command.h"

namespace caudal {
namespace {

struct ServeCommand {
  std::string run, device = "cpu", api_key_env, items, item_columns = "title";
  ServeOptions server;
  bool no_batching = false;
  int threads = 1;
};

int run_serve(ServeCommand& c) {
  // Signals go to one thread that waits for them (blocked everywhere else,
  // so every thread started from here on inherits the mask).
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  make_logger("");
  set_compute_threads(c.threads);
  if (!c.api_key_env.empty()) {
    const char* key = std::getenv(c.api_key_env.c_str());
    if (key == nullptr || *key == '\0') throw Error("--api-key-env " + c.api_key_env + ": the variable is not set or empty");
    c.server.api_key = key;
  }
  c.server.batching = !c.no_batching;
  const auto run = RunDirectory::open(c.run);
  const auto config = read_run_config(run);
  ItemTextOptions texts;
  if (!c.items.empty()) texts.columns = split_list(c.item_columns);
  const Recommender recommender(load_trained_run(run, config, parse_device(c.device)));
  const Catalogue catalogue(recommender.run().dataset, config.data, c.items, texts);
  c.server.model_name = fmt::format("{}{}{} ({})", config.backbone.name, config.methods.list.empty() ? "" : "+",
                                    config.methods.list, run.path());
  RecommendServer server(recommender, catalogue, c.server);
  const int port = server.bind();

  std::atomic<bool> signalled{false};
  std::thread waiter([&] {
    int signal = 0;
    sigwait(&stop_signals, &signal);
    signalled = true;
    std::cerr << "caudal serve: " << (signal == SIGINT ? "SIGINT" : "SIGTERM") << ", answering what is in flight\n";
    server.stop();
  });
  std::cout << fmt::format("serving {} ({} items, {} users) on http://{}:{} with {} worker(s), batching {}\n",
                           c.server.model_name, catalogue.num_items(), recommender.run().dataset.num_users(),
                           c.server.host, port, c.server.workers, c.server.batching ? "on" : "off")
            << std::flush;
  server.serve();
  if (!signalled) pthread_kill(waiter.native_handle(), SIGTERM);  // serve ended by itself: release the waiter
  waiter.join();
  std::cout << "stopped\n";
  return 0;
}

}  // namespace

Command add_serve_command(CLI::App& app) {
  auto c = std::make_shared<ServeCommand>();
  auto& s = c->server;
  auto* cmd = app.add_subcommand("serve", "answer recommendation requests over HTTP from a trained run");
  cmd->add_option("--run", c->run, "run directory written by train")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--host", s.host, "address to listen on (another than loopback needs --api-key-env)")->capture_default_str();
  cmd->add_option("--port", s.port, "port (0: any free one)")->capture_default_str()->check(CLI::Range(0, 65535));
  cmd->add_option("--workers", s.workers, "scoring threads")->capture_default_str()->check(CLI::Range(1, 256));
  cmd->add_option("--http-threads", s.http_threads, "connections served at once")->capture_default_str()->check(CLI::Range(1, 4096));
  cmd->add_flag("--no-batching", c->no_batching, "score each request alone");
  cmd->add_option("--batch-window-ms", s.batch_window_ms, "how long a worker waits to fill a batch")
      ->capture_default_str()->check(CLI::Range(0.0, 1000.0));
  cmd->add_option("--max-batch", s.max_batch, "requests per forward pass")->capture_default_str()->check(CLI::Range(1, 4096));
  cmd->add_option("--max-k", s.max_k, "largest k a request may ask")->capture_default_str()->check(CLI::Range(1, 100000));
  cmd->add_option("--max-history", s.max_history, "longest history a request may send")->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--api-key-env", c->api_key_env, "environment variable holding the bearer token clients must send");
  cmd->add_option("--items", c->items, "item side file (.tsv/.csv with a header): answers carry item text")
      ->check(CLI::ExistingFile);
  cmd->add_option("--item-columns", c->item_columns, "text columns of --items, comma-separated")->capture_default_str();
  cmd->add_option("--threads", c->threads, "compute threads")->capture_default_str()->check(CLI::Range(1, 256));
  cmd->add_option("--device", c->device, "cpu or cuda[:N]")->capture_default_str();
  return {cmd, [c] { return run_serve(*c); }};
}

}  // namespace caudal
