#include "caudal/train/trainer.h"

#include <ATen/ATen.h>
#include <spdlog/spdlog.h>
#include <torch/optim/adam.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>

#include "caudal/core/atomic_file.h"
#include "caudal/core/device.h"
#include "caudal/core/error.h"
#include "caudal/method/registry.h"
#include "caudal/objective/losses.h"
#include "caudal/objective/masked_items.h"
#include "caudal/run/input_files.h"
#include "caudal/run/trained_model.h"

namespace caudal {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double mean_of(const std::vector<nlohmann::json>& history, const char* field) {
  double sum = 0;
  int64_t count = 0;
  for (const auto& record : history) {
    if (!record.contains(field)) continue;
    sum += record[field].get<double>();
    ++count;
  }
  return count ? sum / static_cast<double>(count) : 0;
}

// Whether training validates after `epoch` (1-based): every eval_every
// epochs after the warmup, and after the last.
bool validates_after(int64_t epoch, const TrainConfig& config) {
  return epoch == config.epochs || (epoch > config.warmup && (epoch - config.warmup) % config.eval_every == 0);
}

// Seconds left after `epochs_done` epochs, at the mean pace of the history:
// the epochs left, each validation left and the final test (about one
// validation). An upper bound: early stopping can end the run sooner.
double seconds_left(const std::vector<nlohmann::json>& history, int64_t epochs_done, const TrainConfig& config) {
  int64_t validations_left = 1;  // the test
  for (int64_t epoch = epochs_done + 1; epoch <= config.epochs; ++epoch)
    if (validates_after(epoch, config)) ++validations_left;
  return mean_of(history, "train_seconds") * static_cast<double>(config.epochs - epochs_done) +
         mean_of(history, "valid_seconds") * static_cast<double>(validations_left);
}

std::string read_file_if_present(const std::string& path) {
  return std::filesystem::exists(path) ? read_file(path) : std::string();
}

std::string short_metrics(const MetricValues& m) {
  return fmt::format("HR@10 {:.4f} NDCG@10 {:.4f} NDCG@20 {:.4f}", m.hr_at(10), m.ndcg_at(10), m.ndcg_at(20));
}

}  // namespace

EpochOptions epoch_options(const TrainConfig& config, const SequentialRecommender& model, Batching batching) {
  EpochOptions options;
  options.length_groups = batching == Batching::kRandom;
  options.seed = config.seed;
  options.mask_ratio = config.mask_ratio;
  const bool softmax = config.loss == LossChoice::kAuto ? model.mask_token() != 0 : config.loss == LossChoice::kCe;
  options.loss = softmax ? RecLoss::kSoftmax : RecLoss::kSampledBce;
  return options;
}

namespace {

double count_targets(const at::Tensor& targets) { return targets.gt(0).sum().item<double>(); }

}  // namespace

uint64_t rank_stream(int64_t epoch, int rank) {
  return static_cast<uint64_t>(epoch) + (static_cast<uint64_t>(rank) << 32);
}

BatchLoss batch_loss(SequentialRecommender& model, const TrainBatch& window, const TrainBatch& global_window,
                     std::vector<std::unique_ptr<Method>>& methods, const EpochOptions& options, std::mt19937_64& rng,
                     std::mt19937_64& mask_rng, const c10::Device& device, bool weighted) {
  const StepScope step_scope(model.items());
  const auto batch =
      model.mask_token() != 0 ? masked_item_batch(window, model.mask_token(), options.mask_ratio, mask_rng) : window;
  TrainingStep step{model, window, batch.inputs.to(device), batch.targets.to(device), batch.negatives.to(device),
                    rng, device, options.length_groups};
  step.encode_batch(std::any_of(methods.begin(), methods.end(),
                                [](const auto& method) { return method->reads_padding_states(); }));
  at::Tensor rec;
  if (options.loss == RecLoss::kSoftmax) {
    auto counted = step.position_targets.gt(0).nonzero().squeeze(1);
    rec = all_items_cross_entropy(model.score_all(step.hidden.index_select(0, counted)),
                                  step.position_targets.index_select(0, counted));
  } else {
    rec = next_item_bce(step.hidden, step.target_vectors, step.negative_vectors, step.position_targets.gt(0));
  }
  // The shard's share of the global batch. A masked-item model's targets are
  // drawn per shard, so its loss is weighted by rows.
  const double row_share = static_cast<double>(window.users.size()) / static_cast<double>(global_window.users.size());
  if (weighted)
    rec = rec * (model.mask_token() != 0 ? row_share : count_targets(window.targets) / count_targets(global_window.targets));
  BatchLoss loss{rec, {{"rec", rec}}};
  for (auto& method : methods) {
    for (auto& [name, value] : method->losses(step)) {
      if (weighted) value = value * row_share;
      loss.total = loss.total + value;
      loss.named.emplace_back(name, value);
    }
  }
  return loss;
}

EpochLosses train_one_epoch(SequentialRecommender& model, TrainBatcher& batcher, torch::optim::Optimizer& optimizer,
                            int64_t epoch, const c10::Device& device, std::vector<std::unique_ptr<Method>>& methods,
                            const EpochOptions& options, Progress* progress, const DataParallel* parallel) {
  model.train();
  for (auto& method : methods) method->on_epoch(epoch);
  const int rank = parallel ? parallel->cluster.rank() : 0;
  const int world = parallel ? parallel->cluster.size() : 1;
  auto rng = make_rng(options.seed, RandomStream::kMethods, rank_stream(epoch, rank));
  auto mask_rng = make_rng(options.seed, RandomStream::kItemMask, rank_stream(epoch, rank));
  if (parallel) at::manual_seed(make_rng(options.seed, RandomStream::kDropout, rank_stream(epoch, rank))());
  EpochLosses sums;
  auto add = [&](size_t slot, const std::string& name, double value) {
    if (sums.size() <= slot) sums.emplace_back(name, 0.0);
    sums[slot].second += value;
  };
  int64_t batches = 0;
  const auto windows = batcher.epoch(epoch);
  if (progress) progress->set_total(static_cast<int64_t>(windows.size()));
  for (const auto& global_window : windows) {
    const auto window = parallel ? shard_of(global_window, rank, world, batcher.options().trim) : global_window;
    ++batches;
    optimizer.zero_grad();
    if (parallel) parallel->gradients.begin();
    if (!window.users.empty()) {  // empty: the global batch has fewer rows than there are ranks
      const auto loss = batch_loss(model, window, global_window, methods, options, rng, mask_rng, device, parallel != nullptr);
      loss.total.backward();
      add(0, "loss", loss.total.item<double>());
      for (size_t i = 0; i < loss.named.size(); ++i) add(i + 1, loss.named[i].first, loss.named[i].second.item<double>());
    }
    if (parallel) parallel->gradients.finish();
    optimizer.step();
    if (progress) progress->advance();
  }
  if (parallel) {  // each rank's sums are its shares of the global batches' losses
    std::vector<double> values;
    for (const auto& slot : sums) values.push_back(slot.second);
    auto total = at::tensor(values, at::kDouble);
    parallel->cluster.sum(total);
    for (size_t i = 0; i < sums.size(); ++i) sums[i].second = total[static_cast<int64_t>(i)].item<double>();
  }
  for (auto& [name, value] : sums) value /= static_cast<double>(std::max<int64_t>(batches, 1));
  return sums;
}

namespace {

std::shared_ptr<SequentialRecommender> on_device(std::shared_ptr<SequentialRecommender> model, const c10::Device& device) {
  model->to(device);
  return model;
}

// The methods of a run. With a cluster, rank 0 prepares them (caching the
// preparations in cache_dirs.front()) and sends the preparations to the other
// ranks, which build their methods from those.
std::vector<std::unique_ptr<Method>> methods_for(const MethodOptions& options, MethodContext context, Cluster* cluster) {
  if (!cluster) return make_methods(options, context);
  std::vector<std::unique_ptr<Method>> methods;
  if (cluster->leader()) methods = make_methods(options, context);
  for (const auto& name : method_cache_files(options)) {
    const auto sent = cluster->share(
        name, cluster->leader() ? read_file_if_present(context.cache_dirs.front() + "/" + name) : std::string());
    context.received[name] = sent;
  }
  if (cluster->leader()) return methods;
  context.cache_dirs.clear();  // a rank other than 0 writes nothing
  return make_methods(options, context);
}

// Every rank must train the same model on the same data: the options that
// shape training and the input files' sizes and checksums (not their paths,
// which may differ between hosts) are compared with rank 0's.
void check_same_training_as_rank_0(const TrainConfig& config, Cluster& cluster) {
  auto mine = to_json(config);
  for (const char* local : {"data", "semantic", "init", "threads", "device", "inputs"}) mine.erase(local);
  auto inputs = fingerprint_inputs(config);
  for (auto& [key, fingerprint] : inputs.items()) {
    fingerprint.erase("path");
    mine["input " + key] = fingerprint;
  }
  const auto rank_0 = nlohmann::json::parse(cluster.share("training options", mine.dump()));
  std::vector<std::string> differing;
  for (const auto& [key, value] : rank_0.items())
    if (!mine.contains(key) || mine[key] != value)
      differing.push_back(fmt::format("{} {} (rank 0: {})", key, mine.contains(key) ? mine[key].dump() : "none", value.dump()));
  for (const auto& [key, value] : mine.items())
    if (!rank_0.contains(key)) differing.push_back(fmt::format("{} {} (rank 0: none)", key, value.dump()));
  if (!differing.empty())
    throw Error(fmt::format("rank {} was started with other options or data than rank 0: {}", cluster.rank(),
                            fmt::join(differing, ", ")));
}

}  // namespace

TrainingSetup::TrainingSetup(const TrainConfig& config, const Dataset& dataset, std::vector<std::string> cache_dirs,
                             Cluster* cluster)
    : cluster(cluster),
      device(parse_device(config.device)),
      model(on_device(build_model(config, dataset.num_items()), device)),
      batching(resolve_batching(config, model->backbone())),
      options(epoch_options(config, *model, batching)),
      methods(methods_for(config.methods,
                          MethodContext{dataset, *model, config.backbone.max_len, config.mask_ratio,
                                        batching != Batching::kPadded, std::move(cache_dirs), {}},
                          cluster)),
      batcher(dataset,
              BatchOptions{config.backbone.max_len, config.batch, batching != Batching::kPadded,
                           batching == Batching::kBucketed},
              config.seed),
      optimizer(model->parameters(), torch::optim::AdamOptions(config.lr)) {
  if (!cluster) return;
  if (config.batch < cluster->size())
    throw Error(fmt::format("--batch {} is the global batch and must have a row for each of the {} ranks", config.batch,
                            cluster->size()));
  int64_t trainable_users = 0;
  for (int64_t user = 0; user < dataset.num_users(); ++user) trainable_users += batcher.window_length(user) > 0;
  if (trainable_users < cluster->size())
    throw Error(fmt::format("{}: {} users to train on, fewer than the {} ranks", dataset.source(), trainable_users,
                            cluster->size()));
  gradients = std::make_unique<GradientSum>(*cluster, model->parameters(), cluster->options().bucket_bytes);
}

void TrainingSetup::share_parameters() {
  if (!cluster) return;
  auto tensors = model->parameters();
  for (auto& buffer : model->buffers()) tensors.push_back(buffer);
  cluster->broadcast(tensors);
}

TrainResult train_and_test(const TrainConfig& config, const Dataset& dataset, const RunDirectory& run,
                           const TrainControl& control) {
  auto log = spdlog::default_logger();
  validate(config);
  Cluster* cluster = control.cluster;
  const bool leader = !cluster || cluster->leader();
  // A second stage's initialising run, checked before any work (by rank 0,
  // which sends the other ranks its parameters).
  std::optional<RunDirectory> init_run;
  TrainConfig init_config;
  if (!config.init.empty() && !control.resume && leader) {
    init_run = RunDirectory::open(config.init);
    init_config = read_run_config(*init_run);
    const auto init_padding = init_config.padding_row;
    if (init_padding != config.padding_row)
      throw Error("--init " + config.init + " was trained with --padding-row " +
                  (init_padding == PaddingRow::kRandom ? "random" : "zero") +
                  "; pass the same here (its padding vector is part of the model)");
  }
  if (cluster) check_same_training_as_rank_0(config, *cluster);
  std::vector<std::string> cache_dirs = {run.path()};
  if (!config.init.empty()) cache_dirs.push_back(config.init);
  TrainingSetup setup(config, dataset, cache_dirs, cluster);
  auto& model = setup.model;
  const auto device = setup.device;
  TrainConfig effective = config;  // config.json records the loss and batching actually used
  effective.loss = setup.options.loss == RecLoss::kSoftmax ? LossChoice::kCe : LossChoice::kBce;
  effective.batching = setup.batching;
  auto config_json = to_json(effective);
  config_json["inputs"] = fingerprint_inputs(effective);
  if (leader) run.write_json("config.json", config_json);

  if (init_run) {
    init_run->load_checkpoint(*model);
    log->info("initialised from {}", init_run->file("model.pt"));
    const auto changed = options_differing(init_config, effective);
    log->info("options that differ from {}: {}", config.init,
              changed.empty() ? std::string("none") : fmt::format("{}", fmt::join(changed, ", ")));
  }
  const auto eval = evaluation_options(config, model->backbone());

  log->info("data {}: {} users, {} items, {} head items, {} head users", dataset.source(), dataset.num_users(),
            dataset.num_items(), dataset.groups().num_head_items, dataset.groups().num_head_users);
  if (!config.methods.list.empty()) log->info("method {}", config.methods.list);
  log->info("model {}: hidden {}, layers {}, heads {}, max_len {}, dropout {}/{}; {} batches", config.backbone.name,
            config.backbone.hidden, config.backbone.layers, config.backbone.heads, config.backbone.max_len,
            config.backbone.dropout, config.backbone.attn_dropout, batching_name(setup.batching));

  if (cluster)
    log->info("distributed: {} ranks, each training on 1/{} of every batch of {} (Gloo, rendezvous at {}:{})",
              cluster->size(), cluster->size(), config.batch, cluster->options().master_host,
              cluster->options().master_port);

  TrainResult result;
  TrainProgress progress;
  if (control.resume) {
    progress = run.load_resume_state(*model, setup.optimizer, device);  // every rank reads the same file
    log->info("resumed after epoch {} ({})", progress.next_epoch,
              progress.best_epoch < 0 ? std::string("not validated yet")
                                      : fmt::format("best epoch {}, validation NDCG@20 {:.4f}", progress.best_epoch,
                                                    progress.best_score));
  }
  setup.share_parameters();
  // A run killed between its early stop and metrics.json has nothing left to train.
  bool stopped_early = progress.since_best >= config.patience;
  const int64_t first_epoch = progress.next_epoch;
  // The history kept is the one that matches resume.pt: records of epochs
  // after it (written just before a crash) are dropped and run again.
  std::vector<nlohmann::json> history;
  if (control.resume && leader)
    for (auto& record : run.read_history())
      if (record["epoch"].get<int64_t>() <= progress.next_epoch) history.push_back(std::move(record));
  for (int64_t epoch = first_epoch; epoch < config.epochs && !stopped_early; ++epoch) {
    if (control.pause_after > 0 && epoch - first_epoch >= control.pause_after) break;
    const bool validates = validates_after(epoch + 1, config);
    const std::string label = fmt::format("epoch {}/{}", epoch + 1, config.epochs);
    EpochLosses losses;
    const double waited_before = setup.gradients ? setup.gradients->wait_seconds() : 0;
    const auto start = Clock::now();
    if (leader) {
      Progress bar(label, 0, "batches");
      bar.set_seconds_after(seconds_left(history, epoch + 1, config) + (validates ? mean_of(history, "valid_seconds") : 0));
      losses = setup.run_epoch(epoch, &bar);
    } else {
      losses = setup.run_epoch(epoch);
    }
    const double loss = losses.front().second;
    const double seconds = seconds_since(start);
    progress.train_seconds += seconds;
    if (!std::isfinite(loss))
      throw Error(fmt::format("training diverged: loss is {} at epoch {}; {}", loss, epoch + 1,
                              progress.best_epoch > 0
                                  ? fmt::format("the best checkpoint so far (epoch {}) is kept in {}", progress.best_epoch,
                                                run.file("model.pt"))
                                  : std::string("no checkpoint was saved yet (try a lower --lr)")));
    nlohmann::json record = {{"epoch", epoch + 1}, {"train_seconds", seconds}};
    // Of train_seconds, the time spent waiting for the gradient sums of the
    // other ranks: communication that the backward pass did not hide.
    if (setup.gradients) record["gradient_wait_seconds"] = setup.gradients->wait_seconds() - waited_before;
    for (const auto& [name, value] : losses) record["losses"][name] = value;
    std::string validation;
    if (validates && leader) {
      const auto valid_start = Clock::now();
      GroupedMetrics valid;
      {
        Progress bar(label + " validation", dataset.num_users(), "users");
        bar.set_seconds_after(seconds_left(history, epoch + 1, config));
        valid = evaluate(*model, dataset, Stage::kValid, eval, device, &bar);
      }
      const double score = valid.overall.ndcg_at(20);
      const bool improved = score > progress.best_score;
      record["valid_seconds"] = seconds_since(valid_start);
      record["valid"] = to_json(valid.overall);
      record["best"] = improved;
      validation = fmt::format("  valid {}{}", short_metrics(valid.overall), improved ? " (best)" : "");
      if (improved) {
        progress.best_score = score;
        progress.best_epoch = epoch + 1;
        result.valid = valid;
        progress.since_best = 0;
        run.save_checkpoint(*model);
      } else if (++progress.since_best >= config.patience) {
        stopped_early = true;
      }
    }
    history.push_back(record);
    std::string parts;
    if (losses.size() > 2)
      for (size_t i = 1; i < losses.size(); ++i) parts += fmt::format("{}{} {:.4f}", i > 1 ? ", " : " (", losses[i].first, losses[i].second);
    // An upper bound once a validation has been timed (early stopping can
    // only shorten the run); during a warmup the validations are not counted.
    const int64_t done = stopped_early ? config.epochs : epoch + 1;
    const bool validation_timed = mean_of(history, "valid_seconds") > 0;
    log->info("epoch {:>4}/{} loss {:.4f}{} train {:.2f}s{}{} (ETA {}{})", epoch + 1, config.epochs, loss,
              parts.empty() ? "" : parts + ")", seconds,
              record.contains("gradient_wait_seconds")
                  ? fmt::format(" (gradient sums {:.2f}s)", record["gradient_wait_seconds"].get<double>())
                  : "",
              record.contains("valid_seconds") ? fmt::format(", validation {:.2f}s", record["valid_seconds"].get<double>()) : "",
              validation_timed ? "at most " : "", format_duration(seconds_left(history, done, config)) +
                                                      (validation_timed ? "" : " + validations, not timed yet"));
    if (!validation.empty()) log->info(validation);
    if (stopped_early) log->info("early stop: no better validation NDCG@20 for {} validations", config.patience);
    progress.next_epoch = epoch + 1;
    if (cluster) {  // rank 0 decides for all
      std::vector<at::Tensor> stop = {at::full({1}, stopped_early ? 1.0 : 0.0)};
      cluster->broadcast(stop);
      stopped_early = stop[0].item<double>() > 0;
    }
    if (!leader) continue;
    run.write_history(history);
    run.save_resume_state(*model, setup.optimizer, progress, device);
  }
  result.epochs = progress.next_epoch;
  result.best_epoch = progress.best_epoch;
  const bool finished = stopped_early || progress.next_epoch >= config.epochs;
  if (!leader) {  // rank 0 tests and writes the results
    result.paused = !finished;
    return result;
  }
  if (!finished) {
    result.paused = true;
    log->info("paused after epoch {}; continue with: caudal resume --run {}", progress.next_epoch, run.path());
    return result;
  }
  result.seconds_per_epoch = progress.train_seconds / static_cast<double>(result.epochs);

  run.load_checkpoint(*model);
  // A resumed run whose best epoch came before the resume re-validates it
  // (evaluation is deterministic, so the numbers are those logged then).
  if (control.resume && result.valid.overall.users == 0) {
    Progress bar("validation of the best epoch", dataset.num_users(), "users");
    result.valid = evaluate(*model, dataset, Stage::kValid, eval, device, &bar);
  }
  {
    Progress bar("test", dataset.num_users(), "users");
    result.test = evaluate(*model, dataset, Stage::kTest, eval, device, &bar);
  }
  run.write_json("metrics.json", metrics_json(result));
  run.remove_resume_state();
  log->info("best epoch {} of {}, {:.2f}s per training epoch", result.best_epoch, result.epochs, result.seconds_per_epoch);
  return result;
}

nlohmann::json metrics_json(const TrainResult& result) {
  nlohmann::ordered_json j;
  j["valid"] = to_json(result.valid);
  j["test"] = to_json(result.test);
  j["best_epoch"] = result.best_epoch;
  j["epochs"] = result.epochs;
  j["seconds_per_epoch"] = result.seconds_per_epoch;
  return nlohmann::json(j);
}

}  // namespace caudal
