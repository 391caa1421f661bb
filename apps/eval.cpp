// `caudal eval`: re-evaluate a saved run (writes RUN/eval.json), or evaluate
// the content-only baseline (content-knn) as a run directory of its own.
#include <spdlog/spdlog.h>

#include <iostream>

#include "caudal/core/device.h"
#include "caudal/core/error.h"
#include "caudal/core/log.h"
#include "caudal/core/threads.h"
#include "caudal/eval/content_knn.h"
#include "caudal/run/trained_model.h"
#include "caudal/semantic/vector_file.h"
#include "command.h"
#include "options.h"

namespace caudal {
namespace {

// The saved run with its config.json, changed only where the command line
// says so (another --data, evaluation options).
int evaluate_run(const std::string& path, const nlohmann::json& overrides, const std::string& device_name) {
  const auto run = RunDirectory::open(path);
  make_logger("");
  auto saved = run.read_json("config.json");
  saved.update(overrides);
  const auto config = train_config_from_json(saved, run.file("config.json") + " with the command line's options");
  set_compute_threads(config.threads);
  auto trained = load_trained_run(run, config, parse_device(device_name));
  GroupedMetrics valid, test;
  {
    Progress bar("validation", trained.dataset.num_users(), "users");
    valid = evaluate(*trained.model, trained.dataset, Stage::kValid, trained.eval, trained.device, &bar);
  }
  {
    Progress bar("test", trained.dataset.num_users(), "users");
    test = evaluate(*trained.model, trained.dataset, Stage::kTest, trained.eval, trained.device, &bar);
  }
  nlohmann::json json;
  json["valid"] = to_json(valid);
  json["test"] = to_json(test);
  run.write_json("eval.json", json);
  print_tables(valid, test);
  std::cout << "\nwritten to " << run.file("eval.json") << "\n";
  return 0;
}

// Each item scored by cosine similarity to the user's last item, evaluated
// like a trained model and written as a run directory.
int evaluate_content_knn(const TrainConfig& config, const std::string& semantic, const std::string& out,
                         bool overwrite) {
  const auto run = RunDirectory::create_new(out, overwrite);
  make_logger(run.file("train.log"));
  set_compute_threads(config.threads);
  Dataset dataset(load_sequences(config.data), config.head_ratio);
  auto model = make_content_knn(load_item_vectors(semantic, dataset.num_items()));
  run.write_json("config.json", {{"method", "content-knn"}, {"data", config.data}, {"semantic", semantic}});
  auto log = spdlog::default_logger();
  log->info("content-knn: data {}: {} users, {} items; vectors {}", dataset.source(), dataset.num_users(), dataset.num_items(),
            semantic);
  TrainResult result;
  {
    Progress bar("validation", dataset.num_users(), "users");
    result.valid = evaluate(*model, dataset, Stage::kValid, config.eval, c10::Device(c10::kCPU), &bar);
  }
  {
    Progress bar("test", dataset.num_users(), "users");
    result.test = evaluate(*model, dataset, Stage::kTest, config.eval, c10::Device(c10::kCPU), &bar);
  }
  result.best_epoch = 0;
  run.write_json("metrics.json", metrics_json(result));
  print_tables(result.valid, result.test);
  log_text("\nwritten to " + run.file("metrics.json") + "\n");
  return 0;
}

}  // namespace

Command add_eval_command(CLI::App& app) {
  struct State {
    TrainConfig options;  // what the command line gives; applied over the run's config
    BoundOptions bound;
    std::string run, method, semantic, out, device = "cpu";
    bool overwrite = false;
  };
  auto s = std::make_shared<State>();
  auto* cmd = app.add_subcommand("eval", "re-evaluate a saved run (writes RUN/eval.json), or evaluate a baseline");
  auto* run = cmd->add_option("--run", s->run, "run directory written by train")->check(CLI::ExistingDirectory);
  cmd->add_option("--method", s->method, "content-knn: score items by cosine similarity to the last item")
      ->check(CLI::IsMember({"content-knn"}))
      ->excludes(run);
  cmd->add_option("--semantic", s->semantic, "item vectors (.npy or text) for content-knn")->check(CLI::ExistingFile);
  cmd->add_option("--out", s->out, "run directory for the baseline's metrics.json");
  cmd->add_flag("--overwrite", s->overwrite, "replace a run already in --out");
  cmd->add_option("--device", s->device, "cpu or cuda[:N]")->capture_default_str();
  s->bound = add_config_options(*cmd, s->options, {OptionGroup::kData, OptionGroup::kEvaluation});
  s->bound.merge(add_config_options(*cmd, s->options, {"threads"}));
  // Left out, each of these keeps the run's own value.
  for (auto& [key, option] : s->bound) option->description(option->get_description() + " (default: the run's)")->default_str("");
  return {cmd, [s] {
            if (!s->method.empty()) {
              if (s->options.data.empty() || s->semantic.empty() || s->out.empty())
                throw Error("eval --method content-knn needs --data, --semantic and --out");
              return evaluate_content_knn(s->options, s->semantic, s->out, s->overwrite);
            }
            if (s->run.empty()) throw Error("eval needs --run DIR (or --method content-knn)");
            return evaluate_run(s->run, given_options(s->bound, s->options), s->device);
          }};
}

}  // namespace caudal
