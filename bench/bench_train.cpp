// Speed of the hot paths on a real dataset, at a fixed thread count:
//   BM_TrainEpoch/trim:1  one SASRec training epoch with trimmed, length-bucketed batches
//   BM_TrainEpoch/trim:0  the same epoch padded to max_len (what the PyTorch code does)
//   BM_FullRankingEval    validation over every user and every item
//   BM_ItemAlignment/N    FAERec's item-level InfoNCE, forward and backward, on the
//                         items of N tokens drawn uniformly from Beauty's catalogue
//                         (about 980 distinct of 1,024, 2,710 of 3,072), hidden 64 (N =
//                         --align-chunk sizes)
// Environment: CAUDAL_BENCH_DATA (default: bundled Beauty), CAUDAL_BENCH_THREADS (default 1).
// Compare with bench/reference/torch_sasrec_epoch.py (scripts/bench.sh runs both).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <memory>

#include "caudal/core/memory.h"
#include "caudal/core/threads.h"
#include "caudal/eval/evaluator.h"
#include "caudal/method/faerec/faerec.h"
#include "caudal/run/trained_model.h"
#include "caudal/train/trainer.h"

namespace {

using namespace caudal;

const Dataset& bench_dataset() {
  static const Dataset dataset = [] {
    const char* path = std::getenv("CAUDAL_BENCH_DATA");
    return Dataset(load_sequences(path ? path : CAUDAL_SOURCE_DIR "/data/amazon/Beauty.txt"));
  }();
  return dataset;
}

// As the CLI runs: threads fixed, freed memory kept (core/memory.h).
void set_threads() {
  keep_freed_memory();
  const char* threads = std::getenv("CAUDAL_BENCH_THREADS");
  set_compute_threads(threads ? std::atoi(threads) : 1);
}

TrainConfig bench_config() {
  TrainConfig config;  // the protocol's SASRec: hidden 64, 2 layers, 2 heads, max_len 50, batch 256
  config.backbone.dropout = 0.5;
  config.backbone.attn_dropout = 0.5;
  return config;
}

void BM_TrainEpoch(benchmark::State& state) {
  set_threads();
  const auto& dataset = bench_dataset();
  auto config = bench_config();
  config.batching = state.range(0) != 0 ? Batching::kBucketed : Batching::kPadded;
  TrainingSetup setup(config, dataset, {});
  int64_t epoch = 0;
  for (auto _ : state) benchmark::DoNotOptimize(setup.run_epoch(epoch++));
  state.counters["users"] = static_cast<double>(dataset.num_users());
}
BENCHMARK(BM_TrainEpoch)->ArgName("trim")->Arg(1)->Arg(0)->Unit(benchmark::kSecond)->Iterations(3)->UseRealTime();

void BM_FullRankingEval(benchmark::State& state) {
  set_threads();
  const auto& dataset = bench_dataset();
  auto config = bench_config();
  auto model = build_model(config, dataset.num_items());
  EvalOptions options;
  for (auto _ : state) benchmark::DoNotOptimize(evaluate(*model, dataset, Stage::kValid, options, c10::Device(c10::kCPU)));
}
BENCHMARK(BM_FullRankingEval)->Unit(benchmark::kSecond)->Iterations(3)->UseRealTime();

void BM_ItemAlignment(benchmark::State& state) {
  set_threads();
  const int64_t tokens = state.range(0);
  auto generator = at::detail::createCPUGenerator(1);
  // Items uniform over Beauty's catalogue: a few tokens repeat an item.
  const auto distinct = distinct_tokens(at::randint(1, 12102, {tokens}, generator, at::kLong));
  const int64_t items = distinct.items.size(0);
  auto u = at::randn({items, 64}, generator).requires_grad_(), v = at::randn({items, 64}, generator).requires_grad_();
  for (auto _ : state) {
    item_alignment_loss(u, v, distinct.counts, 0.05).backward();
    u.mutable_grad().reset();
    v.mutable_grad().reset();
  }
}
BENCHMARK(BM_ItemAlignment)->Arg(1024)->Arg(3072)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
