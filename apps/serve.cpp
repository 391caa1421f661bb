// `caudal serve`: a trained run behind HTTP (serve/server.h for the API).
// SIGTERM or SIGINT stops accepting, answers what is in flight, and exits 0.
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <thread>

#include "caudal/core/error.h"
#include "caudal/serve/server.h"
#include "command.h"

namespace caudal {
namespace {

// A signal may arrive on any thread (OpenBLAS starts its threads before main,
// so blocking signals cannot confine them to one): the handler only writes
// the signal's number to a pipe, which a watcher thread reads.
int stop_pipe[2] = {-1, -1};

extern "C" void on_stop_signal(int signal) {
  const char number = static_cast<char>(signal);
  [[maybe_unused]] const auto written = ::write(stop_pipe[1], &number, 1);
}

struct ServeCommand {
  RunToRecommend source;
  std::string api_key_env;
  ServeOptions server;
  bool no_batching = false;
};

int run_serve(ServeCommand& c) {
  if (!c.api_key_env.empty()) {
    const char* key = std::getenv(c.api_key_env.c_str());
    if (key == nullptr || *key == '\0') throw Error("--api-key-env " + c.api_key_env + ": the variable is not set or empty");
    c.server.api_key = key;
  }
  c.server.batching = !c.no_batching;
  const auto loaded = c.source.load();
  const auto& recommender = *loaded.recommender;
  const auto& catalogue = *loaded.catalogue;
  const auto& config = loaded.config;
  c.server.model_name = fmt::format("{}{}{} ({})", config.backbone.name, config.methods.list.empty() ? "" : "+",
                                    config.methods.list, loaded.path);
  RecommendServer server(recommender, catalogue, c.server);
  const int port = server.bind();

  if (::pipe(stop_pipe) != 0) throw Error("serve: cannot create a pipe for signals");
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  std::thread watcher([&] {
    char number = 0;
    if (::read(stop_pipe[0], &number, 1) == 1 && number != 0) {
      std::cerr << "caudal serve: " << (number == SIGINT ? "SIGINT" : "SIGTERM") << ", answering what is in flight\n";
      server.stop();
    }
  });
  std::cout << fmt::format("serving {} ({} items, {} users) on http://{}:{} with {} worker(s), batching {}\n",
                           c.server.model_name, catalogue.num_items(), recommender.run().dataset.num_users(),
                           c.server.host, port, c.server.workers, c.server.batching ? "on" : "off")
            << std::flush;
  server.serve();
  const char done = 0;  // serve ended by itself: release the watcher
  [[maybe_unused]] const auto written = ::write(stop_pipe[1], &done, 1);
  watcher.join();
  std::cout << "stopped\n";
  return 0;
}

}  // namespace

Command add_serve_command(CLI::App& app) {
  auto c = std::make_shared<ServeCommand>();
  auto& s = c->server;
  auto* cmd = app.add_subcommand("serve", "answer recommendation requests over HTTP from a trained run");
  c->source.add_options(*cmd);
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
  return {cmd, [c] { return run_serve(*c); }};
}

}  // namespace caudal
