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

void import_official_sasrec(const std::map<std::string, at::Tensor>& state, SequentialRecommender& model,
                            const std::string& source) {
  auto get = [&](const std::string& name) -> const at::Tensor& {
    auto it = state.find(name);
    if (it == state.end()) throw Error(source + ": no tensor '" + name + "' (not the official SASRec, or other layers)");
    return it->second;
  };
  // caudal name -> its value from the official tensors.
  std::map<std::string, at::Tensor> mapped;
  auto items = get("item_embeddings.weight");
  mapped["items.table.weight"] = items.narrow(0, 0, std::max<int64_t>(items.size(0) - 1, 0)).clone();
  if (mapped["items.table.weight"].size(0) > 0) mapped["items.table.weight"][0].zero_();
  mapped["backbone.positions.weight"] = get("position_embeddings.weight");
  mapped["backbone.input_norm.weight"] = get("LayerNorm.weight");
  mapped["backbone.input_norm.bias"] = get("LayerNorm.bias");
  for (int64_t layer = 0;; ++layer) {
    const std::string from = "item_encoder.layer." + std::to_string(layer) + ".";
    const std::string to = "backbone.blocks." + std::to_string(layer) + ".";
    if (!state.count(from + "attention.query.weight")) break;
    for (const char* kind : {"weight", "bias"}) {
      const std::string k = kind;
      mapped[to + "qkv." + k] = at::cat({get(from + "attention.query." + k), get(from + "attention.key." + k),
                                        get(from + "attention.value." + k)});
      mapped[to + "out." + k] = get(from + "attention.dense." + k);
      mapped[to + "attn_norm." + k] = get(from + "attention.LayerNorm." + k);
      mapped[to + "ff_in." + k] = get(from + "intermediate.dense_1." + k);
      mapped[to + "ff_out." + k] = get(from + "intermediate.dense_2." + k);
      mapped[to + "ff_norm." + k] = get(from + "intermediate.LayerNorm." + k);
    }
  }
  torch::NoGradGuard no_grad;
  for (auto& parameter : model.named_parameters()) {
    auto it = mapped.find(parameter.key());
    if (it == mapped.end())
      throw Error(source + ": the official SASRec has nothing for '" + parameter.key() + "' (more layers than it has?)");
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
