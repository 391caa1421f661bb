#include "caudal/train/config.h"

#include <nlohmann/json.hpp>

#include "caudal/core/error.h"

namespace caudal {
namespace {

template <typename T>
void read_field(const nlohmann::json& json, const char* key, T& field, const std::string& source) {
  if (!json.contains(key)) return;
  try {
    field = json.at(key).get<T>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(source + ": field '" + key + "' has the wrong type (" + e.what() + ")");
  }
}

}  // namespace

FaerecScoring parse_faerec_scoring(const std::string& name) {
  if (name == "consistent") return FaerecScoring::kConsistent;
  if (name == "official") return FaerecScoring::kOfficial;
  throw Error("--faerec-scoring must be consistent or official, got '" + name + "'");
}

nlohmann::json to_json(const TrainConfig& c) {
  nlohmann::ordered_json j;
  j["data"] = c.data;
  j["model"] = c.backbone.name;
  j["hidden"] = c.backbone.hidden;
  j["layers"] = c.backbone.layers;
  j["heads"] = c.backbone.heads;
  j["max_len"] = c.backbone.max_len;
  j["dropout"] = c.backbone.dropout;
  j["attn_dropout"] = c.backbone.attn_dropout;
  j["epochs"] = c.epochs;
  j["warmup"] = c.warmup;
  j["patience"] = c.patience;
  j["seed"] = c.seed;
  j["threads"] = c.threads;
  j["batch"] = c.batch;
  j["lr"] = c.lr;
  j["device"] = c.device;
  j["head_ratio"] = c.head_ratio;
  j["trim"] = c.trim;
  j["eval_batch"] = c.eval.batch_size;
  j["history_score_zero"] = c.eval.history_score_zero;
  j["sampled_eval"] = c.eval.sampled;
  j["sampled_negatives"] = c.eval.sampled_negatives;
  j["method"] = c.method;
  j["init"] = c.init;
  j["lis_lambda"] = c.tada.lis.lambda;
  j["lis_xi"] = c.tada.lis.xi;
  j["tada_th"] = c.tada.lis.threshold;
  j["tada_topk"] = c.tada.lis.top_k;
  j["rate_a"] = c.tada.augment.rate_a;
  j["rate_b"] = c.tada.augment.rate_b;
  j["mix_beta"] = c.tada.mix_beta;
  j["semantic"] = c.faerec.semantic;
  j["faerec_scoring"] = c.faerec.scoring == FaerecScoring::kOfficial ? "official" : "consistent";
  j["align_weight"] = c.faerec.align_weight;
  j["align_tau"] = c.faerec.tau;
  j["bt_gamma"] = c.faerec.gamma;
  j["w_min"] = c.faerec.w_min;
  j["w_max"] = c.faerec.w_max;
  j["period"] = c.faerec.period;
  j["align_chunk"] = c.faerec.align_chunk;
  return nlohmann::json(j);
}

TrainConfig train_config_from_json(const nlohmann::json& j, const std::string& source) {
  if (!j.is_object()) throw Error(source + ": expected a JSON object");
  TrainConfig c;
  read_field(j, "data", c.data, source);
  read_field(j, "model", c.backbone.name, source);
  read_field(j, "hidden", c.backbone.hidden, source);
  read_field(j, "layers", c.backbone.layers, source);
  read_field(j, "heads", c.backbone.heads, source);
  read_field(j, "max_len", c.backbone.max_len, source);
  read_field(j, "dropout", c.backbone.dropout, source);
  read_field(j, "attn_dropout", c.backbone.attn_dropout, source);
  read_field(j, "epochs", c.epochs, source);
  read_field(j, "warmup", c.warmup, source);
  read_field(j, "patience", c.patience, source);
  read_field(j, "seed", c.seed, source);
  read_field(j, "threads", c.threads, source);
  read_field(j, "batch", c.batch, source);
  read_field(j, "lr", c.lr, source);
  read_field(j, "device", c.device, source);
  read_field(j, "head_ratio", c.head_ratio, source);
  read_field(j, "trim", c.trim, source);
  read_field(j, "eval_batch", c.eval.batch_size, source);
  read_field(j, "history_score_zero", c.eval.history_score_zero, source);
  read_field(j, "sampled_eval", c.eval.sampled, source);
  read_field(j, "sampled_negatives", c.eval.sampled_negatives, source);
  read_field(j, "method", c.method, source);
  read_field(j, "init", c.init, source);
  read_field(j, "lis_lambda", c.tada.lis.lambda, source);
  read_field(j, "lis_xi", c.tada.lis.xi, source);
  read_field(j, "tada_th", c.tada.lis.threshold, source);
  read_field(j, "tada_topk", c.tada.lis.top_k, source);
  read_field(j, "rate_a", c.tada.augment.rate_a, source);
  read_field(j, "rate_b", c.tada.augment.rate_b, source);
  read_field(j, "mix_beta", c.tada.mix_beta, source);
  read_field(j, "semantic", c.faerec.semantic, source);
  std::string scoring = "consistent";
  read_field(j, "faerec_scoring", scoring, source);
  c.faerec.scoring = parse_faerec_scoring(scoring);
  read_field(j, "align_weight", c.faerec.align_weight, source);
  read_field(j, "align_tau", c.faerec.tau, source);
  read_field(j, "bt_gamma", c.faerec.gamma, source);
  read_field(j, "w_min", c.faerec.w_min, source);
  read_field(j, "w_max", c.faerec.w_max, source);
  read_field(j, "period", c.faerec.period, source);
  read_field(j, "align_chunk", c.faerec.align_chunk, source);
  c.tada.augment.max_len = c.backbone.max_len;
  c.eval.max_len = c.backbone.max_len;
  c.eval.seed = c.seed;
  return c;
}

}  // namespace caudal
