// The model zoo: backbone names -> constructors.
#include "caudal/core/error.h"
#include "caudal/model/backbone.h"
#include "caudal/model/fmlprec.h"
#include "caudal/model/gru4rec.h"
#include "caudal/model/lrurec.h"
#include "caudal/model/sasrec.h"

namespace caudal {

namespace {

using Factory = std::shared_ptr<Backbone> (*)(const BackboneConfig&);

const std::vector<std::pair<std::string, Factory>>& zoo() {
  static const std::vector<std::pair<std::string, Factory>> entries = {
      {"sasrec", [](const BackboneConfig& c) -> std::shared_ptr<Backbone> { return std::make_shared<SASRec>(c); }},
      {"gru4rec", [](const BackboneConfig& c) -> std::shared_ptr<Backbone> { return std::make_shared<GRU4Rec>(c); }},
      {"fmlprec",
       [](const BackboneConfig& c) -> std::shared_ptr<Backbone> {
         return std::make_shared<FMLPRec>(c, c.fmlp_filter == FmlpFilter::kCausal);
       }},
      {"lrurec", [](const BackboneConfig& c) -> std::shared_ptr<Backbone> { return std::make_shared<LRURec>(c); }},
      {"bert4rec",
       [](const BackboneConfig& c) -> std::shared_ptr<Backbone> { return std::make_shared<SASRec>(c, /*causal=*/false); }},
  };
  return entries;
}

Factory factory(const std::string& name) {
  for (const auto& [known, make] : zoo())
    if (known == name) return make;
  throw Error("unknown --model '" + name + "' (known: " + backbone_names() + ")");
}

}  // namespace

std::shared_ptr<Backbone> make_backbone(const BackboneConfig& config) { return factory(config.name)(config); }

void check_backbone_name(const std::string& name) { factory(name); }

std::string backbone_names() {
  std::string names;
  for (const auto& entry : zoo()) names += (names.empty() ? "" : ", ") + entry.first;
  return names;
}

}  // namespace caudal
