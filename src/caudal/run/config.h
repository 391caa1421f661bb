// Everything that defines a training run, written to RUN_DIR/config.json so
// that a run can be re-evaluated, served or continued exactly.
//
// Each option is defined once, in the table of config_options(): its JSON key,
// its command-line flag, its help, its limits and, for a choice, its names.
// The CLI (apps/options.h), the JSON writer and reader below and validate()
// all walk that table, so a flag, a key and a check cannot drift apart.
// String choices become enums where they enter (flag or JSON).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "caudal/eval/evaluator.h"
#include "caudal/method/registry.h"
#include "caudal/model/backbone.h"

namespace caudal {

// Training batches: random (random users, as the official code composes
// them, each batch encoded in trimmed groups of similar length,
// model/length_groups.h: the results of padded at about 1.3 times the
// bucketed cost), bucketed (users of similar length together, each batch cut
// to its longest window: the fastest, but a batch of short users weighs each
// of their positions more, and tail items came out lower, docs/results.md),
// padded (random users, padded to max_len, as the official code), or auto:
// random, or padded when a method mixes the states at padded positions
// (--tada-mix-padding-states). Backbones that need the whole window
// (FMLP-Rec's circular filter) or read a random padding row are always
// padded.
enum class Batching { kAuto, kBucketed, kRandom, kPadded };

// The padding row of the ID embedding: zero (default), or random: drawn like
// an item's and never trained, as in the official code. Backbones that read
// padding vectors (GRU4Rec, FMLP-Rec) then see it, so batches are padded to
// max_len. For reproducing official weights and runs.
enum class PaddingRow { kZero, kRandom };

// The recommendation loss: bce (one sampled negative per position, the
// papers' objective), ce (softmax over every item), or auto: the backbone's
// usual one (ce for a masked-item backbone, bce otherwise).
enum class LossChoice { kAuto, kBce, kCe };

struct TrainConfig {
  std::string data;  // sequence file
  BackboneConfig backbone;
  int64_t epochs = 200;
  int64_t warmup = 0;     // epochs before validation starts (the official code's star_test)
  int64_t eval_every = 1;  // validate every N epochs after the warmup (and after the last epoch)
  int64_t patience = 10;  // validations without a better NDCG@20 before stopping
  uint64_t seed = 2024;
  int threads = 1;
  int64_t batch = 256;
  double lr = 1e-3;
  std::string device = "cpu";
  double head_ratio = 0.2;
  Batching batching = Batching::kAuto;
  PaddingRow padding_row = PaddingRow::kZero;
  EvalOptions eval;  // max_len, trim and seed are derived, not options
  std::string init;  // run directory whose best checkpoint initialises the model (a second stage)
  double mask_ratio = 0.2;  // masked-item backbones (bert4rec): share of training items masked
  LossChoice loss = LossChoice::kAuto;
  MethodOptions methods;
};

// Which commands take an option.
enum class OptionGroup {
  kData,        // --data
  kModel,       // what the weights mean: backbone and its sizes (train, import)
  kTraining,    // the optimisation (train)
  kEvaluation,  // how ranking is done (train, eval)
  kMethods,     // --method, --init and the methods' options (train)
};

// A string choice stored as an enum: its names in order, and access to the
// field by name.
struct ChoiceField {
  std::vector<std::string> names;
  std::function<std::string()> get;
  std::function<void(const std::string&)> set;  // a name from `names`
};

struct Option {
  using Field = std::variant<std::string*, bool*, int*, int64_t*, uint64_t*, double*, ChoiceField>;
  Option(const char* key, const char* flag, std::string help, OptionGroup group, Field field)
      : key(key), flag(flag), help(std::move(help)), group(group), field(std::move(field)) {}

  const char* key;   // in config.json
  const char* flag;  // on the command line
  std::string help;
  OptionGroup group;
  Field field;
  // Limits of a number: min < x (min_open) or min <= x, and x <= max.
  double min = -1e308, max = 1e308;
  bool min_open = false;
  bool must_exist = false;  // a path that must name an existing file or directory
  // Further check of a string (a backbone or method name); throws caudal::Error.
  std::function<void(const std::string&)> check;
};

// "" when x is within the option's limits, else what is wrong with it
// ("must be greater than 0, got -1").
std::string limits_error(const Option& option, double x);

// The table: every option of `config`, each pointing into it.
std::vector<Option> config_options(TrainConfig& config);

// Throws caudal::Error naming the flag of the first option out of its limits.
void validate(const TrainConfig& config);

nlohmann::json to_json(const TrainConfig& config);
// Missing fields keep their defaults; a field of the wrong type (a fraction
// for a whole number too) or out of its limits is an error naming the field
// and `source`.
TrainConfig train_config_from_json(const nlohmann::json& json, const std::string& source);

// The options of `to` that differ from `from`, outside the methods' group,
// each as "--flag VALUE (was VALUE)", in the table's order. A second stage
// takes its options from its own command line, not from the run it starts
// from (TADA's protocol wants another dropout there), so the trainer prints
// these: a default taken by accident is then seen.
std::vector<std::string> options_differing(const TrainConfig& from, const TrainConfig& to);

// The batching config.batching resolves to for this backbone and these
// methods: bucketed, random or padded (see Batching); throws caudal::Error
// for a choice they cannot take.
Batching resolve_batching(const TrainConfig& config, const Backbone& backbone);
// Its name as --batching and config.json spell it.
std::string batching_name(Batching batching);
// Why this backbone and item input need batches padded to max_len (a
// sentence that follows "--batching bucketed"), or "" when cutting padding
// changes no state (the Backbone contract); evaluation trims when it is "".
std::string why_padded(const TrainConfig& config, const Backbone& backbone);

// config.eval completed with what the rest of the config implies: the
// window (max_len), the batching of the training (trim) and the seed.
EvalOptions evaluation_options(const TrainConfig& config, const Backbone& backbone);

}  // namespace caudal
