#include "caudal/model/torch_import.h"

#include <ATen/ATen.h>
#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/serialization/import_read.h>

#include "caudal/core/error.h"

namespace caudal {

std::map<std::string, at::Tensor> load_torch_state_dict(const std::string& path) {
  c10::IValue value;
  try {
    caffe2::serialize::PyTorchStreamReader reader(path);
    // torch.save's zip layout: the pickle in "data.pkl", tensors under "data/".
    value = torch::jit::readArchiveAndTensors("data", "", "", c10::nullopt, c10::nullopt, at::Device(at::kCPU), reader);
  } catch (const c10::Error& e) {
    std::string what = e.what_without_backtrace();
    // LibTorch's unpickler turns an OrderedDict into None (and then fails on its items).
    if (what.find("GenericDict but got None") != std::string::npos) value = c10::IValue();
    else throw Error(path + ": not a PyTorch state dict saved by torch.save (" + what.substr(0, what.find('\n')) + ")");
  }
  if (value.isNone())
    throw Error(path + ": an OrderedDict (torch.save(model.state_dict())); re-save it as a plain dict first: "
                       "python3 scripts/plain_state_dict.py " + path + " PLAIN.pt");
  if (!value.isGenericDict()) throw Error(path + ": expected a dict of tensors (a state_dict)");
  std::map<std::string, at::Tensor> out;
  for (const auto& entry : value.toGenericDict()) {
    if (!entry.key().isString() || !entry.value().isTensor())
      throw Error(path + ": expected a dict of tensors (a state_dict)");
    out[entry.key().toStringRef()] = entry.value().toTensor().to(at::kFloat);
  }
  return out;
}

namespace {

using StateDict = std::map<std::string, at::Tensor>;

// The official item table has one row more than ours (ids 0..max_item+1):
// drop the last row.
at::Tensor caudal_item_table(const at::Tensor& official, bool keep_padding_row) {
  auto table = official.narrow(0, 0, std::max<int64_t>(official.size(0) - 1, 0)).clone();
  if (table.size(0) > 0 && !keep_padding_row) table[0].zero_();
  return table;
}

// What SASRec and FMLP-Rec share: the input layer (positions + LayerNorm)...
template <typename Get>
StateDict map_input_layer(Get get) {
  return {{"backbone.positions.weight", get("position_embeddings.weight")},
          {"backbone.input_norm.weight", get("LayerNorm.weight")},
          {"backbone.input_norm.bias", get("LayerNorm.bias")}};
}

// ... and each block's feed-forward (`k`: weight or bias).
template <typename Get>
void map_feed_forward(StateDict& mapped, Get get, const std::string& from, const std::string& to, const std::string& k) {
  mapped[to + "ff_in." + k] = get(from + "intermediate.dense_1." + k);
  mapped[to + "ff_out." + k] = get(from + "intermediate.dense_2." + k);
  mapped[to + "ff_norm." + k] = get(from + "intermediate.LayerNorm." + k);
}

// caudal parameter name -> value, for each backbone the official code trains.
// `get` throws naming the missing tensor.
template <typename Get>
StateDict map_sasrec(const StateDict& state, Get get) {
  StateDict mapped = map_input_layer(get);
  for (int64_t layer = 0;; ++layer) {
    const std::string from = "item_encoder.layer." + std::to_string(layer) + ".";
    const std::string to = "backbone.blocks." + std::to_string(layer) + ".";
    if (!state.count(from + "attention.query.weight")) break;
    for (const std::string k : {"weight", "bias"}) {
      mapped[to + "qkv." + k] = at::cat({get(from + "attention.query." + k), get(from + "attention.key." + k),
                                        get(from + "attention.value." + k)});
      mapped[to + "out." + k] = get(from + "attention.dense." + k);
      mapped[to + "attn_norm." + k] = get(from + "attention.LayerNorm." + k);
      map_feed_forward(mapped, get, from, to, k);
    }
  }
  return mapped;
}

template <typename Get>
StateDict map_gru4rec(Get get) {
  return {{"backbone.gru.weight_ih_l0", get("gru_layers.weight_ih_l0")},
          {"backbone.gru.weight_hh_l0", get("gru_layers.weight_hh_l0")},
          {"backbone.out.weight", get("dense.weight")},
          {"backbone.out.bias", get("dense.bias")}};
}

template <typename Get>
StateDict map_fmlprec(const StateDict& state, Get get) {
  StateDict mapped = map_input_layer(get);
  for (int64_t layer = 0;; ++layer) {
    const std::string from = "item_encoder.layer." + std::to_string(layer) + ".";
    const std::string to = "backbone.blocks." + std::to_string(layer) + ".";
    if (!state.count(from + "filterlayer.complex_weight")) break;
    mapped[to + "filter"] = get(from + "filterlayer.complex_weight").squeeze(0);  // [1, L/2+1, d, 2] there
    for (const std::string k : {"weight", "bias"}) {
      mapped[to + "filter_norm." + k] = get(from + "filterlayer.LayerNorm." + k);
      map_feed_forward(mapped, get, from, to, k);
    }
  }
  return mapped;
}

}  // namespace

void import_official_model(const std::map<std::string, at::Tensor>& state, SequentialRecommender& model,
                           const std::string& backbone, bool keep_padding_row, const std::string& source) {
  const std::string what = "the official " + backbone;
  auto get = [&](const std::string& name) -> const at::Tensor& {
    auto it = state.find(name);
    if (it == state.end()) throw Error(source + ": no tensor '" + name + "' (not " + what + ", or other layers)");
    return it->second;
  };
  StateDict mapped;
  if (backbone == "sasrec") mapped = map_sasrec(state, get);
  else if (backbone == "gru4rec") mapped = map_gru4rec(get);
  else if (backbone == "fmlprec") mapped = map_fmlprec(state, get);
  else throw Error("import: the official code has no '" + backbone + "' to import (sasrec, gru4rec, fmlprec)");
  mapped["items.table.weight"] = caudal_item_table(get("item_embeddings.weight"), keep_padding_row);

  torch::NoGradGuard no_grad;
  for (auto& parameter : model.named_parameters()) {
    auto it = mapped.find(parameter.key());
    if (it == mapped.end())
      throw Error(source + ": " + what + " has nothing for '" + parameter.key() + "' (more layers than it has?)");
    if (it->second.sizes() != parameter.value().sizes())
      throw Error(source + ": '" + parameter.key() + "' has shape " + c10::str(it->second.sizes()) + " there but " +
                  c10::str(parameter.value().sizes()) + " here (other --hidden, --max-len or data?)");
    parameter.value().copy_(it->second);
    mapped.erase(it);
  }
  if (!mapped.empty())
    throw Error(source + ": has more layers than the model (" + mapped.begin()->first + " unused); set --layers");
}

}  // namespace caudal
