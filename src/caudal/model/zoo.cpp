// The model zoo: backbone names -> constructors.
#include "caudal/core/error.h"
#include "caudal/model/backbone.h"
#include "caudal/model/fmlprec.h"
#include "caudal/model/gru4rec.h"
#include "caudal/model/lrurec.h"
#include "caudal/model/sasrec.h"

namespace caudal {

std::shared_ptr<Backbone> make_backbone(const BackboneConfig& config) {
  if (config.name == "sasrec") return std::make_shared<SASRec>(config);
  if (config.name == "bert4rec") return std::make_shared<SASRec>(config, /*causal=*/false);
  if (config.name == "gru4rec") return std::make_shared<GRU4Rec>(config);
  if (config.name == "lrurec") return std::make_shared<LRURec>(config);
  if (config.name == "fmlprec") {
    if (config.fmlp_filter != "causal" && config.fmlp_filter != "circular")
      throw Error("--fmlp-filter must be causal or circular, got '" + config.fmlp_filter + "'");
    return std::make_shared<FMLPRec>(config, config.fmlp_filter == "causal");
  }
  throw Error("unknown --model '" + config.name + "' (known: sasrec, gru4rec, fmlprec, lrurec, bert4rec)");
}

}  // namespace caudal
