#include "caudal/run/config.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "caudal/core/error.h"

namespace caudal {
namespace {

constexpr double kInf = 1e308;

// A choice between names, stored in an enum field.
template <typename Enum>
ChoiceField choice(Enum& field, std::vector<std::pair<std::string, Enum>> names) {
  ChoiceField out;
  for (const auto& [name, value] : names) out.names.push_back(name);
  out.get = [&field, names] {
    for (const auto& [name, value] : names)
      if (value == field) return name;
    return names.front().first;
  };
  out.set = [&field, names](const std::string& wanted) {
    for (const auto& [name, value] : names)
      if (name == wanted) field = value;
  };
  return out;
}

// Sizes and counts also get a ceiling far above any real use, so that a
// mistyped value is an error naming the flag rather than an allocation of
// terabytes or a loop that never ends.
Option positive(Option o, double max = kInf) {
  o.min = 0;
  o.min_open = true;
  o.max = max;
  return o;
}
Option non_negative(Option o, double max = kInf) {
  o.min = 0;
  o.max = max;
  return o;
}
Option between(Option o, double lo, double hi) {
  o.min = lo;
  o.max = hi;
  return o;
}
Option existing(Option o) {
  o.must_exist = true;
  return o;
}
Option checked(Option o, std::function<void(const std::string&)> check) {
  o.check = std::move(check);
  return o;
}

// 1000000 rather than 1e+06 for whole numbers a user types.
std::string number_text(double x) {
  if (std::abs(x) < 1e15 && x == std::floor(x)) return fmt::format("{}", static_cast<int64_t>(x));
  return fmt::format("{}", x);
}

// "greater than 0", "in [0, 1]", ...: the limits of a number in words.
std::string limits_text(const Option& o) {
  if (o.max >= kInf) return fmt::format("{} {}", o.min_open ? "greater than" : "at least", number_text(o.min));
  return fmt::format("in {}{}, {}]", o.min_open ? "(" : "[", number_text(o.min), number_text(o.max));
}

// Whether a JSON whole number fits in Number: get<Number>() would wrap it
// silently (4294967297 threads read as 1).
template <typename Number>
bool fits_in(const nlohmann::json& value) {
  if (value.is_number_unsigned()) return value.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<Number>::max());
  const int64_t x = value.get<int64_t>();
  if constexpr (std::is_unsigned_v<Number>) {
    return x >= 0;
  } else {
    return x >= std::numeric_limits<Number>::min() && x <= std::numeric_limits<Number>::max();
  }
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

bool within_limits(const Option& o, double x) {
  return (o.min_open ? x > o.min : x >= o.min) && x <= o.max && !std::isnan(x);
}

}  // namespace

std::string limits_error(const Option& option, double x) {
  return within_limits(option, x) ? "" : fmt::format("must be {}, got {}", limits_text(option), number_text(x));
}

std::vector<Option> config_options(TrainConfig& c) {
  using G = OptionGroup;
  auto& b = c.backbone;
  auto& e = c.eval;
  auto& tada = c.methods.tada;
  auto& faerec = c.methods.faerec;
  const auto check_methods = [](const std::string& list) { parse_method_list(list); };
  return {
      existing({"data", "--data", "sequence file (user item item ...)", G::kData, &c.data}),
      checked({"model", "--model", "backbone: " + backbone_names(), G::kModel, &b.name}, check_backbone_name),
      positive({"hidden", "--hidden", "width of item vectors and hidden states", G::kModel, &b.hidden}, 65536),
      positive({"layers", "--layers", "layers (blocks) of the backbone", G::kModel, &b.layers}, 1024),
      positive({"heads", "--heads", "attention heads (sasrec, bert4rec)", G::kModel, &b.heads}, 1024),
      positive({"max_len", "--max-len", "longest history window the model reads", G::kModel, &b.max_len}, 100000),
      {"fmlp_filter", "--fmlp-filter", "FMLP-Rec filter: causal, or circular (the official one)", G::kModel,
       choice(b.fmlp_filter, {{"causal", FmlpFilter::kCausal}, {"circular", FmlpFilter::kCircular}})},
      between({"dropout", "--dropout", "hidden dropout", G::kTraining, &b.dropout}, 0.0, 0.99),
      between({"attn_dropout", "--attn-dropout", "attention-probability dropout", G::kTraining, &b.attn_dropout}, 0.0,
              0.99),
      positive({"epochs", "--epochs", "most training epochs", G::kTraining, &c.epochs}, 1e6),
      non_negative({"warmup", "--warmup", "epochs before validation starts", G::kTraining, &c.warmup}, 1e6),
      positive({"eval_every", "--eval-every", "validate every N epochs after the warmup (and after the last epoch)",
                G::kTraining, &c.eval_every}, 1e6),
      positive({"patience", "--patience", "validations without improvement before stopping", G::kTraining, &c.patience}, 1e6),
      {"seed", "--seed", "fixes every random choice of the run", G::kTraining, &c.seed},
      positive({"threads", "--threads", "compute threads (1 is fastest for these models on a CPU)", G::kTraining,
                &c.threads}, 1024),
      positive({"batch", "--batch", "users per training batch", G::kTraining, &c.batch}, 1e7),
      positive({"lr", "--lr", "Adam's learning rate", G::kTraining, &c.lr}),
      {"device", "--device", "cpu or cuda[:N]", G::kTraining, &c.device},
      between({"head_ratio", "--head-ratio", "share of head items and users", G::kTraining, &c.head_ratio}, 0.01, 0.99),
      {"batching", "--batching",
       "auto (random, or padded where the model or method needs padding), random (random users as the official "
       "code, encoded in trimmed groups of similar length: the results of padded at about 1.3x the bucketed cost), "
       "bucketed (similar lengths together, trimmed: the fastest; tail items come out lower) or padded (random users, "
       "padded to max_len, as the official code)",
       G::kTraining,
       choice(c.batching, {{"auto", Batching::kAuto},
                           {"bucketed", Batching::kBucketed},
                           {"random", Batching::kRandom},
                           {"padded", Batching::kPadded}})},
      {"padding_row", "--padding-row",
       "padding vector of the ID embedding: zero, or random (never trained, as the official code; pads batches)",
       G::kTraining, choice(c.padding_row, {{"zero", PaddingRow::kZero}, {"random", PaddingRow::kRandom}})},
      between({"mask_ratio", "--mask-ratio", "bert4rec: share of training items masked", G::kTraining, &c.mask_ratio},
              0.01, 1.0),
      {"loss", "--loss",
       "bce (one sampled negative per position), ce (softmax over all items) or auto (ce for bert4rec, bce otherwise)",
       G::kTraining, choice(c.loss, {{"auto", LossChoice::kAuto}, {"bce", LossChoice::kBce}, {"ce", LossChoice::kCe}})},
      positive({"eval_batch", "--eval-batch", "users per evaluation batch", G::kEvaluation, &e.batch_size}, 1e7),
      {"history_score_zero", "--official-history-mask",
       "score history items 0 as the official code does (default: remove them)", G::kEvaluation, &e.history_score_zero},
      {"sampled_eval", "--sampled-eval", "rank the target among sampled negatives instead of all items",
       G::kEvaluation, &e.sampled},
      positive({"sampled_negatives", "--sampled-negatives", "negatives for --sampled-eval", G::kEvaluation,
                &e.sampled_negatives}, 1e6),
      checked({"method", "--method", "methods on top of the backbone, comma-separated: " + method_names(), G::kMethods,
               &c.methods.list},
              check_methods),
      existing({"init", "--init", "start from the best checkpoint of this run directory (fresh optimiser)", G::kMethods,
                &c.init}),
      positive({"lis_lambda", "--lis-lambda", "TADA: LIS ridge lambda", G::kMethods, &tada.lis.lambda}),
      between({"lis_xi", "--lis-xi", "TADA: LIS diagonal bound xi", G::kMethods, &tada.lis.xi}, 0.0, 1.0),
      {"tada_th", "--tada-th", "TADA: LIS similarity threshold", G::kMethods, &tada.lis.threshold},
      positive({"tada_topk", "--tada-topk", "TADA: LIS neighbours per item", G::kMethods, &tada.lis.top_k}, 1e6),
      between({"rate_a", "--rate-a", "TADA: lower bound of the per-sequence rate", G::kMethods, &tada.augment.rate_a},
              0.0, 1.0),
      between({"rate_b", "--rate-b", "TADA: upper bound of the per-sequence rate", G::kMethods, &tada.augment.rate_b},
              0.0, 1.0),
      positive({"mix_beta", "--mix-beta", "TADA: Beta(beta, beta) of the mixing weights", G::kMethods, &tada.mix_beta}),
      {"tada_mix_padding_states", "--tada-mix-padding-states",
       "TADA: mix in the encoder's states at a partner's padded positions, as the official code (use with --batching "
       "padded)",
       G::kMethods, &tada.mix_padding_states},
      existing({"semantic", "--semantic", "FAERec: item vectors (.npy or text, see caudal embed)", G::kMethods,
                &faerec.semantic}),
      {"faerec_scoring", "--faerec-scoring", "FAERec: consistent or official item vectors for scoring", G::kMethods,
       choice(faerec.scoring, {{"consistent", FaerecScoring::kConsistent}, {"official", FaerecScoring::kOfficial}})},
      {"align_weight", "--align-weight", "FAERec: lambda, the weight of both alignment losses", G::kMethods,
       &faerec.align_weight},
      positive({"align_tau", "--align-tau", "FAERec: InfoNCE temperature", G::kMethods, &faerec.tau}),
      {"bt_gamma", "--bt-gamma", "FAERec: Barlow Twins off-diagonal weight", G::kMethods, &faerec.gamma},
      between({"w_min", "--w-min", "FAERec: curriculum minimum item-level weight", G::kMethods, &faerec.w_min}, 0.0, 1.0),
      between({"w_max", "--w-max", "FAERec: curriculum maximum item-level weight", G::kMethods, &faerec.w_max}, 0.0, 1.0),
      positive({"period", "--period", "FAERec: curriculum period in epochs", G::kMethods, &faerec.period}, 1e6),
      between({"align_chunk", "--align-chunk", "FAERec: about this many tokens per InfoNCE problem", G::kMethods,
               &faerec.align_chunk},
              2, kInf),
  };
}

void validate(const TrainConfig& config) {
  TrainConfig copy = config;
  for (const auto& o : config_options(copy)) {
    std::visit(
        [&](auto&& field) {
          using T = std::decay_t<decltype(field)>;
          if constexpr (std::is_same_v<T, std::string*>) {
            if (o.check && !field->empty()) o.check(*field);
          } else if constexpr (!std::is_same_v<T, ChoiceField> && !std::is_same_v<T, bool*>) {
            const auto problem = limits_error(o, static_cast<double>(*field));
            if (!problem.empty()) throw Error(std::string(o.flag) + " " + problem);
          }
        },
        o.field);
  }
}

nlohmann::json to_json(const TrainConfig& config) {
  TrainConfig copy = config;
  nlohmann::ordered_json j;
  for (const auto& o : config_options(copy)) {
    std::visit(
        [&](auto&& field) {
          using T = std::decay_t<decltype(field)>;
          if constexpr (std::is_same_v<T, ChoiceField>) {
            j[o.key] = field.get();
          } else {
            j[o.key] = *field;
          }
        },
        o.field);
  }
  return nlohmann::json(j);
}

TrainConfig train_config_from_json(const nlohmann::json& j, const std::string& source) {
  if (!j.is_object()) throw Error(source + ": expected a JSON object");
  TrainConfig c;
  for (const auto& o : config_options(c)) {
    if (!j.contains(o.key)) continue;  // missing fields keep their defaults
    const auto& value = j.at(o.key);
    auto wrong = [&](const char* expected) {
      return Error(fmt::format("{}: field '{}' must be {}, got {}", source, o.key, expected, value.dump()));
    };
    std::visit(
        [&](auto&& field) {
          using T = std::decay_t<decltype(field)>;
          if constexpr (std::is_same_v<T, ChoiceField>) {
            // Run directories written before "auto" had an empty loss.
            const std::string name = value.is_string() && value.get<std::string>().empty() && o.key == std::string("loss")
                                         ? "auto"
                                         : (value.is_string() ? value.get<std::string>() : "");
            if (std::find(field.names.begin(), field.names.end(), name) == field.names.end())
              throw wrong(("one of " + join(field.names)).c_str());
            field.set(name);
          } else if constexpr (std::is_same_v<T, std::string*>) {
            if (!value.is_string()) throw wrong("a string");
            *field = value.get<std::string>();
          } else if constexpr (std::is_same_v<T, bool*>) {
            if (!value.is_boolean()) throw wrong("true or false");
            *field = value.get<bool>();
          } else {
            using Number = std::remove_pointer_t<T>;
            if constexpr (std::is_integral_v<Number>) {
              if (!value.is_number_integer()) throw wrong("a whole number");
              if (std::is_unsigned_v<Number> && !value.is_number_unsigned()) throw wrong("a non-negative whole number");
              if (!fits_in<Number>(value))
                throw wrong(fmt::format("a whole number from {} to {}", std::numeric_limits<Number>::min(),
                                        std::numeric_limits<Number>::max())
                                .c_str());
            } else if (!value.is_number()) {
              throw wrong("a number");
            }
            *field = value.get<Number>();
            if (!within_limits(o, static_cast<double>(*field))) throw wrong(limits_text(o).c_str());
          }
        },
        o.field);
  }
  // Run directories written before "batching" said "trim": true/false.
  if (!j.contains("batching") && j.contains("trim") && j["trim"].is_boolean())
    c.batching = j["trim"].get<bool>() ? Batching::kBucketed : Batching::kPadded;
  return c;
}

EvalOptions evaluation_options(const TrainConfig& config, const Backbone& backbone) {
  EvalOptions eval = config.eval;
  eval.max_len = config.backbone.max_len;
  eval.trim = why_padded(config, backbone).empty();
  eval.seed = config.seed;
  return eval;
}

std::string why_padded(const TrainConfig& config, const Backbone& backbone) {
  // Trimming would change how many padding vectors a backbone reads.
  if (config.padding_row == PaddingRow::kRandom) return "needs --padding-row zero";
  if (backbone.needs_full_window()) return "is not possible for a backbone that reads the whole window";
  if (backbone.reads_padding_vectors() && methods_replace_item_input(config.methods))
    return "is not possible: this backbone reads the input at padded positions, which the method's item input makes "
           "non-zero";
  return "";
}

std::vector<std::string> options_differing(const TrainConfig& from, const TrainConfig& to) {
  const auto before = to_json(from);
  const auto after = to_json(to);
  auto text = [](const nlohmann::json& value) {
    return value.is_string() ? "\"" + value.get<std::string>() + "\"" : value.dump();
  };
  TrainConfig table_owner;  // the table points into a config; only keys, flags and groups are read here
  std::vector<std::string> changed;
  for (const auto& option : config_options(table_owner)) {
    if (option.group == OptionGroup::kMethods) continue;
    const auto& was = before.at(option.key);
    const auto& now = after.at(option.key);
    if (was != now) changed.push_back(fmt::format("{} {} (was {})", option.flag, text(now), text(was)));
  }
  return changed;
}

std::string batching_name(Batching batching) {
  TrainConfig config;  // the names live in one table, the option's
  config.batching = batching;
  return to_json(config)["batching"].get<std::string>();
}

Batching resolve_batching(const TrainConfig& config, const Backbone& backbone) {
  const auto chosen = config.batching;
  const bool cut = chosen == Batching::kBucketed || chosen == Batching::kRandom;
  const auto why = why_padded(config, backbone);
  if (!why.empty()) {
    // A full-window backbone has always been padded without a word (old run directories say "bucketed").
    if (cut && !backbone.needs_full_window()) throw Error("--batching " + batching_name(chosen) + " " + why);
    return Batching::kPadded;
  }
  if (config.methods.tada.mix_padding_states && methods_mix_batch_rows(config.methods)) {
    // The states at padded positions exist only in a batch padded to max_len.
    if (cut)
      throw Error("--batching " + batching_name(chosen) +
                  " cannot keep the states at padded positions that --tada-mix-padding-states mixes; use --batching "
                  "padded");
    return Batching::kPadded;
  }
  // Random by default: the official composition; bucketed batches weigh the
  // positions of short users more and gave lower tail-item numbers (plain
  // SASRec on Beauty, TADA's second stage; docs/results.md).
  return chosen == Batching::kAuto ? Batching::kRandom : chosen;
}

}  // namespace caudal
