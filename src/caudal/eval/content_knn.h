// The content-only baseline: a user is represented by the semantic vector of
// its last item and every item is scored by cosine similarity to it. Built
// as a SequentialRecommender (a frozen, L2-normalised table and a backbone
// that passes the last item's vector through), so it gets exactly the
// evaluation every trained model gets. A sanity check of the vectors and a
// baseline for every table.
#pragma once

#include <memory>

#include "caudal/model/recommender.h"

namespace caudal {

// semantic: [num_items + 1, d], row 0 padding.
std::shared_ptr<SequentialRecommender> make_content_knn(const torch::Tensor& semantic);

}  // namespace caudal
