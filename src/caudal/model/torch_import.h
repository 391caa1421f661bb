// Bringing models trained by the official PyTorch code into caudal: read a
// state dict written by torch.save (the zip format, tensors mapped to the
// CPU whatever device they were saved from) and copy it into the matching
// caudal model, so that `caudal eval` and `caudal train --init` accept it.
//
// Supported: SASRec as the TADA and FAERec repositories (and their CoSeRec
// ancestors) name it: item_embeddings, position_embeddings, LayerNorm,
// item_encoder.layer.N.attention.{query,key,value,dense,LayerNorm},
// item_encoder.layer.N.intermediate.{dense_1,dense_2,LayerNorm}. Its item
// table has one row more than ours (ids 0..max_item+1); the extra last row
// is dropped and the padding row is set to zero, as caudal keeps it.
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

// Copies an official SASRec state dict into `model` (an `sasrec` backbone with
// an ID embedding of the same sizes). Throws naming the missing or
// mis-shaped tensor and `source`.
void import_official_sasrec(const std::map<std::string, at::Tensor>& state, SequentialRecommender& model,
                            const std::string& source);

}  // namespace caudal
