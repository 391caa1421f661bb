// caudal: the command-line front end. It parses options and calls libcaudal;
// no training or evaluation logic lives here.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "caudal/core/error.h"
#include "caudal/core/threads.h"
#include "caudal/data/dataset.h"
#include "caudal/data/prepare.h"
#include "caudal/eval/content_knn.h"
#include "caudal/eval/evaluator.h"
#include "caudal/method/faerec/fusion_report.h"
#include "caudal/model/torch_import.h"
#include "caudal/semantic/vector_file.h"
#include "caudal/train/config.h"
#include "caudal/train/run_dir.h"
#include "caudal/train/trainer.h"
#include "embed_command.h"
#include "epoch_bench.h"
#include "lis_bench.h"

namespace {

using namespace caudal;

void print_tables(const GroupedMetrics& valid, const GroupedMetrics& test) {
  std::cout << "\nvalidation\n" << format_metrics_table(valid) << "\ntest\n" << format_metrics_table(test) << std::flush;
}

// Options shared by `train` and `eval` that change how evaluation is done.
void add_eval_options(CLI::App& cmd, EvalOptions& eval) {
  cmd.add_flag("--official-history-mask", eval.history_score_zero,
               "score history items 0 as the official code does (default: remove them)");
  cmd.add_flag("--sampled-eval", eval.sampled, "rank the target among sampled negatives instead of all items");
  cmd.add_option("--sampled-negatives", eval.sampled_negatives, "negatives for --sampled-eval")->check(CLI::PositiveNumber);
  cmd.add_option("--eval-batch", eval.batch_size, "users per evaluation batch")->check(CLI::PositiveNumber);
}

int run_train(TrainConfig config, const std::string& out, const TrainControl& control) {
  RunDirectory run(out);
  if (!control.resume && run.has_resume_state())
    throw Error(out + " holds an unfinished training (resume.pt): continue it with `caudal resume --run " + out +
                "`, or choose another --out");
  make_logger(run.file("train.log"));
  set_compute_threads(config.threads);
  Dataset dataset(load_sequences(config.data), config.head_ratio);
  auto result = train_and_test(config, dataset, run, control);
  if (result.paused) {
    std::cout << fmt::format("\npaused after epoch {}; continue with: caudal resume --run {}\n", result.epochs, run.path());
    return 0;
  }
  print_tables(result.valid, result.test);
  std::cout << fmt::format("\nbest epoch {} of {}; {:.2f} s per training epoch; run in {}\n", result.best_epoch,
                           result.epochs, result.seconds_per_epoch, run.path());
  return 0;
}

// Continues an unfinished training from RUN/resume.pt with RUN/config.json.
int run_resume(const std::string& run_path, int threads, int64_t pause_after) {
  const RunDirectory run(run_path);
  auto config = train_config_from_json(run.read_json("config.json"), run.file("config.json"));
  if (threads > 0) config.threads = threads;
  return run_train(config, run_path, TrainControl{true, pause_after});
}

// A model trained by the official PyTorch code, written as a run directory
// (config.json + model.pt) that `eval --run` and `train --init` accept.
int run_import(TrainConfig config, const std::string& weights, const std::string& out) {
  Dataset dataset(load_sequences(config.data), config.head_ratio);
  // Backbones that read padded columns need the official padding vector to
  // give the official numbers (docs/results.md, "Official weights of the other backbones").
  config.padding_row = config.backbone.name == "sasrec" ? "zero" : "random";
  auto model = build_model(config, dataset.num_items());
  import_official_model(load_torch_state_dict(weights), *model, config.backbone.name, random_padding_row(config), weights);
  RunDirectory run(out);
  run.write_json("config.json", to_json(config));
  run.save_checkpoint(*model);
  std::cout << fmt::format("{} -> {}/model.pt ({}, {} items); evaluate it with: caudal eval --run {}\n", weights,
                           run.path(), config.backbone.name, dataset.num_items(), run.path());
  return 0;
}

// The content-only baseline, written as a run directory like a training run.
int run_content_knn(const std::string& data, const std::string& semantic, const std::string& out, int threads,
                    EvalOptions eval) {
  RunDirectory run(out);
  make_logger(run.file("train.log"));
  set_compute_threads(threads);
  Dataset dataset(load_sequences(data));
  auto model = make_content_knn(load_item_vectors(semantic, dataset.num_items()));
  nlohmann::json config = {{"method", "content-knn"}, {"data", data}, {"semantic", semantic}};
  run.write_json("config.json", config);
  TrainResult result;
  result.valid = evaluate(*model, dataset, Stage::kValid, eval, c10::Device(c10::kCPU));
  result.test = evaluate(*model, dataset, Stage::kTest, eval, c10::Device(c10::kCPU));
  result.best_epoch = 0;
  run.write_json("metrics.json", metrics_json(result));
  print_tables(result.valid, result.test);
  std::cout << "\nwritten to " << run.file("metrics.json") << "\n";
  return 0;
}

int run_eval(const std::string& run_path, const std::string& data_override, int threads, const std::string& device_name,
             const EvalOptions& overrides, bool history_flag, bool sampled_flag) {
  RunDirectory run(run_path);
  make_logger("");
  auto config = train_config_from_json(run.read_json("config.json"), run.file("config.json"));
  if (!data_override.empty()) config.data = data_override;
  if (history_flag) config.eval.history_score_zero = true;
  if (sampled_flag) config.eval.sampled = true;
  config.eval.sampled_negatives = overrides.sampled_negatives;
  config.eval.batch_size = overrides.batch_size;
  set_compute_threads(threads);
  const auto device = parse_device(device_name);
  Dataset dataset(load_sequences(config.data), config.head_ratio);
  auto model = build_model(config, dataset.num_items());
  run.load_checkpoint(*model);
  model->to(device);
  config.eval.trim = uses_bucketed_batches(config, model->backbone());
  auto valid = evaluate(*model, dataset, Stage::kValid, config.eval, device);
  auto test = evaluate(*model, dataset, Stage::kTest, config.eval, device);
  nlohmann::json json;
  json["valid"] = to_json(valid);
  json["test"] = to_json(test);
  run.write_json("eval.json", json);
  print_tables(valid, test);
  std::cout << "\nwritten to " << run.file("eval.json") << "\n";
  return 0;
}

// FAERec's gate and branches by item group, for a trained FAERec run.
int run_inspect_fusion(const std::string& run_path, int threads) {
  RunDirectory run(run_path);
  make_logger("");
  set_compute_threads(threads);
  auto config = train_config_from_json(run.read_json("config.json"), run.file("config.json"));
  Dataset dataset(load_sequences(config.data), config.head_ratio);
  auto model = build_model(config, dataset.num_items());
  auto* fused = dynamic_cast<FusedItems*>(&model->items());
  if (fused == nullptr)
    throw Error(run.file("config.json") + ": method \"" + config.method + "\" has no FAERec fusion to inspect");
  run.load_checkpoint(*model);
  model->eval();
  const auto summary = summarise_fusion(*fused, model->backbone(), config.backbone.max_len, dataset.groups());
  run.write_json("fusion.json", to_json(summary));
  std::cout << format_fusion_table(summary) << "\nwritten to " << run.file("fusion.json") << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"caudal: long-tail sequential recommendation (SASRec, TADA, FAERec)"};
  app.require_subcommand(1);

  // train
  TrainConfig config;
  std::string train_out;
  auto* train = app.add_subcommand("train", "train a model, validate, early-stop, test; writes a run directory");
  train->add_option("--data", config.data, "sequence file (user item item ...)")->required()->check(CLI::ExistingFile);
  train->add_option("--out", train_out, "run directory")->required();
  train->add_option("--model", config.backbone.name, "backbone: sasrec, gru4rec, fmlprec, lrurec, bert4rec")->capture_default_str();
  train->add_option("--epochs", config.epochs)->capture_default_str()->check(CLI::PositiveNumber);
  train->add_option("--warmup", config.warmup, "epochs before validation starts")->capture_default_str()->check(CLI::NonNegativeNumber);
  train->add_option("--patience", config.patience, "validations without improvement before stopping")
      ->capture_default_str()->check(CLI::PositiveNumber);
  train->add_option("--seed", config.seed)->capture_default_str();
  train->add_option("--threads", config.threads)->capture_default_str()->check(CLI::PositiveNumber);
  train->add_option("--hidden", config.backbone.hidden)->capture_default_str()->check(CLI::PositiveNumber);
  train->add_option("--layers", config.backbone.layers)->capture_default_str()->check(CLI::PositiveNumber);
  train->add_option("--heads", config.backbone.heads)->capture_default_str()->check(CLI::PositiveNumber);
  train->add_option("--max-len", config.backbone.max_len)->capture_default_str()->check(CLI::PositiveNumber);
  train->add_option("--dropout", config.backbone.dropout)->capture_default_str()->check(CLI::Range(0.0, 0.99));
  train->add_option("--attn-dropout", config.backbone.attn_dropout)->capture_default_str()->check(CLI::Range(0.0, 0.99));
  train->add_option("--batch", config.batch)->capture_default_str()->check(CLI::PositiveNumber);
  train->add_option("--lr", config.lr)->capture_default_str()->check(CLI::PositiveNumber);
  train->add_option("--device", config.device, "cpu or cuda")->capture_default_str();
  train->add_option("--mask-ratio", config.mask_ratio, "bert4rec: share of training items masked")->capture_default_str()
      ->check(CLI::Range(0.01, 1.0));
  train->add_option("--loss", config.loss,
                    "bce (one sampled negative per position) or ce (softmax over all items); default: ce for bert4rec, bce otherwise")
      ->check(CLI::IsMember({"bce", "ce"}));
  train->add_option("--padding-row", config.padding_row,
                    "padding vector of the ID embedding: zero, or random (never trained, as the official code; pads batches)")
      ->capture_default_str();
  train->add_option("--fmlp-filter", config.backbone.fmlp_filter, "FMLP-Rec filter: causal, or circular (official)")
      ->capture_default_str()->check(CLI::IsMember({"causal", "circular"}));
  train->add_option("--head-ratio", config.head_ratio, "share of head items and users")->capture_default_str()
      ->check(CLI::Range(0.01, 0.99));
  train->add_option("--batching", config.batching,
                    "auto (padded with TADA, bucketed otherwise), bucketed (trimmed, similar lengths together: fast) or "
                    "padded (random users, padded to max_len, as the official code)")
      ->capture_default_str()->check(CLI::IsMember({"auto", "bucketed", "padded"}));
  bool padded = false;
  train->add_flag("--padded", padded, "the same as --batching padded");
  add_eval_options(*train, config.eval);
  train->add_option("--method", config.method, "methods on top of the backbone, comma-separated: tada, faerec");
  train->add_option("--init", config.init, "start from the best checkpoint of this run directory (fresh optimiser)")
      ->check(CLI::ExistingDirectory);
  auto& tada = config.tada;
  train->add_option("--lis-lambda", tada.lis.lambda, "TADA: LIS ridge lambda")->capture_default_str()->check(CLI::PositiveNumber);
  train->add_option("--lis-xi", tada.lis.xi, "TADA: LIS diagonal bound xi")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  train->add_option("--tada-th", tada.lis.threshold, "TADA: LIS similarity threshold")->capture_default_str();
  train->add_option("--tada-topk", tada.lis.top_k, "TADA: LIS neighbours per item")->capture_default_str()
      ->check(CLI::PositiveNumber);
  train->add_option("--rate-a", tada.augment.rate_a, "TADA: lower bound of the per-sequence rate")->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  train->add_option("--rate-b", tada.augment.rate_b, "TADA: upper bound of the per-sequence rate")->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  auto& faerec = config.faerec;
  std::string faerec_scoring = "consistent";
  train->add_option("--semantic", faerec.semantic, "FAERec: item vectors (.npy or text, see caudal embed)")
      ->check(CLI::ExistingFile);
  train->add_option("--faerec-scoring", faerec_scoring, "FAERec: consistent or official item vectors for scoring")
      ->capture_default_str()->check(CLI::IsMember({"consistent", "official"}));
  train->add_option("--align-weight", faerec.align_weight, "FAERec: lambda")->capture_default_str();
  train->add_option("--align-tau", faerec.tau, "FAERec: InfoNCE temperature")->capture_default_str()->check(CLI::PositiveNumber);
  train->add_option("--bt-gamma", faerec.gamma, "FAERec: Barlow Twins off-diagonal weight")->capture_default_str();
  train->add_option("--w-min", faerec.w_min, "FAERec: curriculum minimum item-level weight")->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  train->add_option("--w-max", faerec.w_max, "FAERec: curriculum maximum item-level weight")->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  train->add_option("--period", faerec.period, "FAERec: curriculum period in epochs")->capture_default_str()
      ->check(CLI::PositiveNumber);
  train->add_option("--align-chunk", faerec.align_chunk, "FAERec: most tokens per InfoNCE problem")->capture_default_str();
  train->add_option("--mix-beta", tada.mix_beta, "TADA: Beta(beta, beta) of the mixing weights")->capture_default_str()
      ->check(CLI::PositiveNumber);
  train->add_flag("--tada-mix-padding-states", tada.mix_padding_states,
                  "TADA: mix in the encoder's states at a partner's padded positions, as the official code (use with --padded)");
  int64_t train_pause_after = 0;
  const char* pause_help = "stop after this many epochs, resumable with `caudal resume` (for time-limited jobs)";
  train->add_option("--pause-after", train_pause_after, pause_help)->check(CLI::PositiveNumber);

  // resume
  std::string resume_run;
  int resume_threads = 0;
  int64_t resume_pause_after = 0;
  auto* resume = app.add_subcommand("resume", "continue an unfinished training (killed or paused) where its last epoch ended");
  resume->add_option("--run", resume_run, "run directory of the training")->required()->check(CLI::ExistingDirectory);
  resume->add_option("--threads", resume_threads, "default: the training's")->check(CLI::PositiveNumber);
  resume->add_option("--pause-after", resume_pause_after, pause_help)->check(CLI::PositiveNumber);

  // eval
  std::string eval_run, eval_data, eval_device = "cpu";
  int eval_threads = 1;
  EvalOptions eval_options;
  std::string eval_method, eval_semantic, eval_out;
  auto* eval = app.add_subcommand("eval", "re-evaluate a saved run (writes RUN/eval.json), or evaluate a baseline");
  auto* run_opt = eval->add_option("--run", eval_run, "run directory written by train")->check(CLI::ExistingDirectory);
  eval->add_option("--method", eval_method, "content-knn: score items by cosine similarity to the last item")
      ->check(CLI::IsMember({"content-knn"}))->excludes(run_opt);
  eval->add_option("--semantic", eval_semantic, "item vectors (.npy or text) for content-knn")->check(CLI::ExistingFile);
  eval->add_option("--out", eval_out, "run directory for the baseline's metrics.json");
  eval->add_option("--data", eval_data, "sequence file (default: the one the run was trained on)");
  eval->add_option("--threads", eval_threads)->capture_default_str()->check(CLI::PositiveNumber);
  eval->add_option("--device", eval_device)->capture_default_str();
  add_eval_options(*eval, eval_options);

  // prepare
  std::string interactions, prepare_out;
  PrepareOptions prepare_options;
  double min_rating = 0;
  auto* prepare = app.add_subcommand("prepare", "raw user,item,rating,timestamp CSV -> sequence file + id maps");
  prepare->add_option("--interactions", interactions, "CSV file")->required()->check(CLI::ExistingFile);
  prepare->add_option("--out", prepare_out, "output directory")->required();
  auto* min_rating_opt = prepare->add_option("--min-rating", min_rating, "drop interactions rated below this");
  prepare->add_option("--k-core", prepare_options.k_core, "iterated k-core filter")->capture_default_str()
      ->check(CLI::PositiveNumber);

  // embed
  EmbedRequest embed_request;
  std::string columns, template_text;
  auto* embed = app.add_subcommand("embed", "item text -> semantic vectors (.npy or text)");
  embed->add_option("--items", embed_request.items, "item side file (.tsv or .csv with a header)")->required()
      ->check(CLI::ExistingFile);
  embed->add_option("--columns", columns, "text columns, comma-separated")->required();
  embed->add_option("--template", embed_request.text.text_template, "text template with {column} fields (default: join)");
  embed->add_option("--id-map", embed_request.text.id_map, "item_map.tsv from `caudal prepare`")->check(CLI::ExistingFile);
  embed->add_option("--data", embed_request.data, "sequence file: catalogue size, items without text")->check(CLI::ExistingFile);
  embed->add_option("--encoder", embed_request.encoder, "lexical | endpoint")->capture_default_str()
      ->check(CLI::IsMember({"lexical", "endpoint"}));
  embed->add_option("--out", embed_request.out, "output vectors (.npy, otherwise text)")->required();
  embed->add_option("--dim", embed_request.lexical.dim, "lexical: dimensions")->capture_default_str()->check(CLI::PositiveNumber);
  embed->add_option("--min-df", embed_request.lexical.min_df, "lexical: minimal document frequency")->capture_default_str();
  embed->add_option("--seed", embed_request.lexical.seed, "lexical: SVD seed")->capture_default_str();
  embed->add_option("--endpoint", embed_request.endpoint.url, "endpoint: URL of an OpenAI-compatible /v1/embeddings");
  embed->add_option("--model", embed_request.endpoint.model, "endpoint: model name");
  embed->add_option("--api-key-env", embed_request.endpoint.api_key_env, "endpoint: environment variable with the key")
      ->capture_default_str();
  embed->add_option("--batch-size", embed_request.endpoint.batch_size, "endpoint: texts per request")->capture_default_str()
      ->check(CLI::PositiveNumber);
  embed->add_option("--timeout", embed_request.endpoint.timeout_seconds, "endpoint: seconds per request")
      ->capture_default_str()->check(CLI::PositiveNumber);
  embed->add_option("--retries", embed_request.endpoint.max_retries, "endpoint: retries on 429/5xx/network errors")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  embed->add_option("--cache", embed_request.endpoint.cache_path, "endpoint: resumable cache (default: OUT.cache.jsonl)");
  embed->add_flag("--allow-missing", embed_request.allow_missing, "items without text get the mean vector");
  embed->add_option("--threads", embed_request.threads)->capture_default_str()->check(CLI::PositiveNumber);

  // bench-lis
  std::string lis_data, lis_solver;
  int lis_threads = 1;
  auto* bench_lis = app.add_subcommand("bench-lis", "time and peak memory of TADA's LIS solve vs a general inverse");
  bench_lis->add_option("--data", lis_data, "sequence file")->required()->check(CLI::ExistingFile);
  bench_lis->add_option("--threads", lis_threads)->capture_default_str()->check(CLI::PositiveNumber);
  bench_lis->add_option("--solver", lis_solver, "run one solver in this process (cholesky|inverse); default: both, each in a child");

  // import
  TrainConfig import_config;
  std::string import_weights, import_out;
  // The official FMLP-Rec convolves circularly: its weights only mean the same with that filter.
  import_config.backbone.fmlp_filter = "circular";
  auto* import_cmd = app.add_subcommand(
      "import", "a SASRec, GRU4Rec or FMLP-Rec trained by the official TADA/FAERec code (torch.save state dict) -> run directory");
  import_cmd->add_option("--model", import_config.backbone.name, "backbone: sasrec, gru4rec, fmlprec")->capture_default_str();
  import_cmd->add_option("--fmlp-filter", import_config.backbone.fmlp_filter, "FMLP-Rec filter the weights are read into")
      ->capture_default_str();
  import_cmd->add_option("--weights", import_weights, "the .pt file")->required()->check(CLI::ExistingFile);
  import_cmd->add_option("--data", import_config.data, "the sequence file it was trained on")->required()->check(CLI::ExistingFile);
  import_cmd->add_option("--out", import_out, "run directory to write")->required();
  import_cmd->add_option("--hidden", import_config.backbone.hidden)->capture_default_str()->check(CLI::PositiveNumber);
  import_cmd->add_option("--layers", import_config.backbone.layers)->capture_default_str()->check(CLI::PositiveNumber);
  import_cmd->add_option("--heads", import_config.backbone.heads)->capture_default_str()->check(CLI::PositiveNumber);
  import_cmd->add_option("--max-len", import_config.backbone.max_len)->capture_default_str()->check(CLI::PositiveNumber);

  // inspect-fusion
  std::string inspect_run;
  int inspect_threads = 1;
  auto* inspect_fusion = app.add_subcommand(
      "inspect-fusion", "FAERec run: the gate's ID share and the two branches' sizes by item popularity (writes RUN/fusion.json)");
  inspect_fusion->add_option("--run", inspect_run, "run directory of a FAERec training")->required()->check(CLI::ExistingDirectory);
  inspect_fusion->add_option("--threads", inspect_threads)->capture_default_str()->check(CLI::PositiveNumber);

  // bench-epoch
  EpochBenchRequest epoch_bench;
  std::string bench_models = "sasrec,gru4rec,fmlprec,lrurec,bert4rec", bench_variants = "plain,tada,faerec,faerec+tada";
  bool bench_padded = false;
  auto* bench_epoch = app.add_subcommand("bench-epoch", "seconds per training epoch of every backbone, plain and with each method");
  bench_epoch->add_option("--data", epoch_bench.data, "sequence file")->required()->check(CLI::ExistingFile);
  bench_epoch->add_option("--models", bench_models, "backbones, comma-separated")->capture_default_str();
  bench_epoch->add_option("--variants", bench_variants, "plain or method lists ('+' joins methods), comma-separated")
      ->capture_default_str();
  bench_epoch->add_option("--semantic", epoch_bench.base.faerec.semantic, "item vectors for the FAERec variants")
      ->check(CLI::ExistingFile);
  bench_epoch->add_option("--hidden", epoch_bench.base.backbone.hidden)->capture_default_str()->check(CLI::PositiveNumber);
  bench_epoch->add_option("--epochs", epoch_bench.epochs, "timed epochs per cell")->capture_default_str()
      ->check(CLI::PositiveNumber);
  bench_epoch->add_option("--threads", epoch_bench.threads)->capture_default_str()->check(CLI::PositiveNumber);
  bench_epoch->add_option("--device", epoch_bench.base.device, "cpu or cuda")->capture_default_str();
  bench_epoch->add_flag("--padded", bench_padded, "pad every batch to max_len (default: as train's --batching auto)");
  bench_epoch->add_option("--work", epoch_bench.work_dir, "directory for TADA's candidate cache")->required();
  bench_epoch->add_option("--json", epoch_bench.json_out, "also write the results here");

  CLI11_PARSE(app, argc, argv);

  try {
    if (*train) {
      if (padded) config.batching = "padded";
      config.faerec.scoring = parse_faerec_scoring(faerec_scoring);
      config.eval.max_len = config.backbone.max_len;
      config.eval.seed = config.seed;
      return run_train(config, train_out, TrainControl{false, train_pause_after});
    }
    if (*resume) return run_resume(resume_run, resume_threads, resume_pause_after);
    if (*eval) {
      if (!eval_method.empty()) {
        if (eval_data.empty() || eval_semantic.empty() || eval_out.empty())
          throw Error("eval --method content-knn needs --data, --semantic and --out");
        return run_content_knn(eval_data, eval_semantic, eval_out, eval_threads, eval_options);
      }
      if (eval_run.empty()) throw Error("eval needs --run DIR (or --method content-knn)");
      return run_eval(eval_run, eval_data, eval_threads, eval_device, eval_options,
                      eval->count("--official-history-mask") > 0, eval->count("--sampled-eval") > 0);
    }
    if (*embed) {
      embed_request.text.columns = split_list(columns);
      if (embed_request.endpoint.cache_path.empty()) embed_request.endpoint.cache_path = embed_request.out + ".cache.jsonl";
      return run_embed(embed_request);
    }
    if (*import_cmd) return run_import(import_config, import_weights, import_out);
    if (*inspect_fusion) return run_inspect_fusion(inspect_run, inspect_threads);
    if (*bench_epoch) {
      epoch_bench.models = split_list(bench_models);
      epoch_bench.variants = split_list(bench_variants);
      if (bench_padded) epoch_bench.base.batching = "padded";
      return run_epoch_benchmark(epoch_bench);
    }
    if (*bench_lis) {
      if (!lis_solver.empty()) return run_lis_solver(lis_data, lis_solver, lis_threads);
      return run_lis_benchmark("/proc/self/exe", lis_data, lis_threads);
    }
    if (*prepare) {
      if (min_rating_opt->count()) prepare_options.min_rating = min_rating;
      auto data = prepare_interactions(interactions, prepare_options);
      write_prepared(data, prepare_out);
      std::cout << fmt::format("{} interactions read, {} kept; {} users, {} items -> {}/sequences.txt\n", data.events_read,
                               data.events_kept, data.sequences.size(), data.item_names.size(), prepare_out);
      return 0;
    }
  } catch (const caudal::Error& e) {
    std::cerr << "caudal: error: " << e.what() << "\n";
    return 1;
  } catch (const c10::Error& e) {
    std::string what = e.what_without_backtrace();
    std::cerr << "caudal: error (LibTorch): " << what.substr(0, what.find('\n')) << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "caudal: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
