#include "caudal/train/config.h"

#include <nlohmann/json.hpp>

#include "caudal/core/error.h"

namespace caudal {
namespace {

// Every serialised field once, with its JSON key: to_json and
// train_config_from_json both walk this list, so they cannot drift apart.
template <typename Config, typename Visitor>
void visit_fields(Config& c, Visitor&& field) {
  field("data", c.data);
  field("model", c.backbone.name);
  field("hidden", c.backbone.hidden);
  field("layers", c.backbone.layers);
  field("heads", c.backbone.heads);
  field("max_len", c.backbone.max_len);
  field("dropout", c.backbone.dropout);
  field("attn_dropout", c.backbone.attn_dropout);
  field("fmlp_filter", c.backbone.fmlp_filter);
  field("epochs", c.epochs);
  field("warmup", c.warmup);
  field("patience", c.patience);
  field("seed", c.seed);
  field("threads", c.threads);
  field("batch", c.batch);
  field("lr", c.lr);
  field("device", c.device);
  field("head_ratio", c.head_ratio);
  field("batching", c.batching);
  field("padding_row", c.padding_row);
  field("eval_batch", c.eval.batch_size);
  field("history_score_zero", c.eval.history_score_zero);
  field("sampled_eval", c.eval.sampled);
  field("sampled_negatives", c.eval.sampled_negatives);
  field("method", c.method);
  field("init", c.init);
  field("mask_ratio", c.mask_ratio);
  field("loss", c.loss);
  field("lis_lambda", c.tada.lis.lambda);
  field("lis_xi", c.tada.lis.xi);
  field("tada_th", c.tada.lis.threshold);
  field("tada_topk", c.tada.lis.top_k);
  field("rate_a", c.tada.augment.rate_a);
  field("rate_b", c.tada.augment.rate_b);
  field("mix_beta", c.tada.mix_beta);
  field("tada_mix_padding_states", c.tada.mix_padding_states);
  field("semantic", c.faerec.semantic);
  field("align_weight", c.faerec.align_weight);
  field("align_tau", c.faerec.tau);
  field("bt_gamma", c.faerec.gamma);
  field("w_min", c.faerec.w_min);
  field("w_max", c.faerec.w_max);
  field("period", c.faerec.period);
  field("align_chunk", c.faerec.align_chunk);
}

const char* scoring_name(FaerecScoring scoring) { return scoring == FaerecScoring::kOfficial ? "official" : "consistent"; }

}  // namespace

bool random_padding_row(const TrainConfig& config) {
  if (config.padding_row != "zero" && config.padding_row != "random")
    throw Error("--padding-row must be zero or random, got '" + config.padding_row + "'");
  return config.padding_row == "random";
}

FaerecScoring parse_faerec_scoring(const std::string& name) {
  if (name == "consistent") return FaerecScoring::kConsistent;
  if (name == "official") return FaerecScoring::kOfficial;
  throw Error("--faerec-scoring must be consistent or official, got '" + name + "'");
}

nlohmann::json to_json(const TrainConfig& config) {
  nlohmann::ordered_json j;
  visit_fields(config, [&](const char* key, const auto& value) { j[key] = value; });
  j["faerec_scoring"] = scoring_name(config.faerec.scoring);
  return nlohmann::json(j);
}

TrainConfig train_config_from_json(const nlohmann::json& j, const std::string& source) {
  if (!j.is_object()) throw Error(source + ": expected a JSON object");
  TrainConfig c;
  visit_fields(c, [&](const char* key, auto& field) {
    if (!j.contains(key)) return;  // missing fields keep their defaults
    try {
      field = j.at(key).get<std::decay_t<decltype(field)>>();
    } catch (const nlohmann::json::exception& e) {
      throw Error(source + ": field '" + key + "' has the wrong type (" + e.what() + ")");
    }
  });
  if (j.contains("faerec_scoring")) {
    if (!j["faerec_scoring"].is_string()) throw Error(source + ": field 'faerec_scoring' has the wrong type");
    c.faerec.scoring = parse_faerec_scoring(j["faerec_scoring"].get<std::string>());
  }
  // Run directories written before "batching" said "trim": true/false.
  if (!j.contains("batching") && j.contains("trim") && j["trim"].is_boolean())
    c.batching = j["trim"].get<bool>() ? "bucketed" : "padded";
  c.eval.max_len = c.backbone.max_len;
  c.eval.seed = c.seed;
  c.tada.augment.max_len = c.backbone.max_len;
  return c;
}

}  // namespace caudal
