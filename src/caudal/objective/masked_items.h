// BERT4Rec's masked-item (cloze) objective (docs/protocol.md, "Masked-item
// objective"), as a rewrite of a next-item
// training batch. A row's items are its targets row (the input window shifted
// by one, so it ends with the newest training item). Each item is replaced by
// the mask token with probability `ratio`; a row where the draw masked
// nothing gets its newest item masked, the situation of every query. The
// model is then scored, with the batch's own negatives, at masked positions
// only, against the items that were there.
#pragma once

#include <random>

#include "caudal/data/batcher.h"

namespace caudal {

// The positions of items [B, T] (0 = padding) that a masked-item batch masks,
// drawn as described above: bool [B, T], false at padding.
at::Tensor draw_item_mask(const at::Tensor& items, double ratio, std::mt19937_64& rng);

// Returns inputs (items, masked ones replaced by mask_token), targets (the
// masked items, 0 elsewhere) and negatives (0 where targets is 0); users kept.
TrainBatch masked_item_batch(const TrainBatch& batch, int64_t mask_token, double ratio, std::mt19937_64& rng);

}  // namespace caudal
