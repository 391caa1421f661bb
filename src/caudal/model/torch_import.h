// Bringing models trained by the official PyTorch code into caudal: read a
// state dict written by torch.save (the zip format, tensors mapped to the
// CPU whatever device they were saved from) and copy it into the matching
// caudal model, so that `caudal eval` and `caudal train --init` accept it.
//
// Supported, with the tensor names of the TADA and FAERec repositories (and
// their CoSeRec ancestors):
//   sasrec:  item_embeddings, position_embeddings, LayerNorm,
//            item_encoder.layer.N.attention.{query,key,value,dense,LayerNorm},
//            item_encoder.layer.N.intermediate.{dense_1,dense_2,LayerNorm};
//   gru4rec: item_embeddings, gru_layers.weight_{ih,hh}_l0, dense;
//   fmlprec: item_embeddings, position_embeddings, LayerNorm,
//            item_encoder.layer.N.filterlayer.{complex_weight,LayerNorm},
//            item_encoder.layer.N.intermediate.{dense_1,dense_2,LayerNorm}
//            (trained with the circular filter: import into --fmlp-filter circular).
// The official item table has one row more than ours (ids 0..max_item+1);
// the extra last row is dropped. Its padding row is a random vector that was
// never trained; GRU4Rec and FMLP-Rec read it in the padded columns, so it is
// kept for them (with `keep_padding_row`: --padding-row random) and zeroed for
// SASRec, which masks padding.
#pragma once

#include <map>
#include <string>

#include <ATen/core/Tensor.h>

#include "caudal/model/recommender.h"

namespace caudal {

// name -> tensor of a torch.save'd dict of tensors; throws caudal::Error naming the file.
// A state_dict as torch.save(model.state_dict()) writes it is an OrderedDict,
// which LibTorch cannot unpickle: scripts/plain_state_dict.py re-saves it as
// a plain dict (the error says so).
std::map<std::string, at::Tensor> load_torch_state_dict(const std::string& path);

// Copies an official state dict of `backbone` (sasrec, gru4rec or fmlprec)
// into `model` (that backbone with an ID embedding of the same sizes), the
// padding row kept or zeroed. Throws naming the missing, unused or mis-shaped
// tensor and `source`.
void import_official_model(const std::map<std::string, at::Tensor>& state, SequentialRecommender& model,
                           const std::string& backbone, bool keep_padding_row, const std::string& source);

}  // namespace caudal
