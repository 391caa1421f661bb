// Everything that defines a training run. Written to RUN_DIR/config.json so a
// run can be re-evaluated or continued exactly; `caudal train` flags map to
// these fields one to one.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "caudal/eval/evaluator.h"
#include "caudal/method/faerec/faerec.h"
#include "caudal/method/tada/tada.h"
#include "caudal/model/backbone.h"

namespace caudal {

struct TrainConfig {
  std::string data;  // sequence file
  BackboneConfig backbone;
  int64_t epochs = 200;
  int64_t warmup = 0;     // epochs before validation starts (the official code's star_test)
  int64_t patience = 10;  // validations without a better NDCG@20 before stopping
  uint64_t seed = 2024;
  int threads = 1;
  int64_t batch = 256;
  double lr = 1e-3;
  std::string device = "cpu";
  double head_ratio = 0.2;
  // Training batches: "bucketed" (users of similar length together, each
  // batch cut to its longest window: fast, and the same per-batch results as
  // padding), "padded" (random users, padded to max_len, as the official
  // code), or "auto": padded when TADA is among the methods (its mixing pairs
  // the rows of a batch, and random partners train measurably better; see
  // docs/results.md), bucketed otherwise. Backbones that need the whole
  // window (FMLP-Rec) are always padded.
  std::string batching = "auto";
  // The padding row of the ID embedding: "zero" (default), or "random": drawn
  // like an item's and never trained, as in the official code. Backbones that
  // read padded columns (GRU4Rec, FMLP-Rec) then see it, so batches are
  // padded to max_len. For reproducing official weights and runs.
  std::string padding_row = "zero";
  EvalOptions eval;
  std::string method;  // comma-separated methods on top of the plain objective ("" = none)
  std::string init;    // run directory whose best checkpoint initialises the model (a second stage)
  double mask_ratio = 0.2;  // masked-item backbones (bert4rec): share of training items masked
  // The recommendation loss: "bce" (one sampled negative per position, the
  // papers' objective), "ce" (softmax over every item), or "" for the
  // backbone's usual one (ce for a masked-item backbone, bce otherwise).
  std::string loss;
  TadaOptions tada;
  FaerecOptions faerec;
};

nlohmann::json to_json(const TrainConfig& config);
// config.padding_row == "random"; throws naming the option unless it is zero or random.
bool random_padding_row(const TrainConfig& config);
FaerecScoring parse_faerec_scoring(const std::string& name);
// Missing fields keep their defaults; a field of the wrong type is an error
// that names it.
TrainConfig train_config_from_json(const nlohmann::json& json, const std::string& source);

}  // namespace caudal
