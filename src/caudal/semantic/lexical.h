// The built-in, offline text encoder: TF-IDF over words and word bigrams
// (lower-cased; sublinear tf 1 + ln tf; smooth idf ln((1 + n) / (1 + df)) + 1;
// rows L2-normalised; terms kept when in at least min_df texts), then a
// truncated randomized SVD (Halko et al. 2011) to `dim` dimensions: each
// item's vector is its row of U_k S_k. Deterministic for a seed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

namespace caudal {

struct LexicalOptions {
  int64_t dim = 256;
  int64_t min_df = 2;
  int64_t oversample = 10;
  int64_t power_iterations = 5;
  uint64_t seed = 2024;
};

// Tokens: maximal runs of letters, digits and '_' of at least 2 characters,
// lower-cased (ASCII).
std::vector<std::string> tokenize(const std::string& text);

struct TfidfMatrix {
  at::Tensor matrix;  // sparse COO [texts, terms], rows L2-normalised
  std::vector<std::string> terms;
};

// TF-IDF of the texts (empty texts give empty rows; they do not count as documents).
TfidfMatrix tfidf(const std::vector<std::string>& texts, const LexicalOptions& options);

// Top-k left singular vectors scaled by the singular values, [rows, k], with
// each column's sign fixed so that its largest-magnitude entry is positive.
at::Tensor randomized_svd_embedding(const at::Tensor& sparse, int64_t k, const LexicalOptions& options);

// texts indexed by item id (index 0 unused) -> [num_items + 1, dim] table.
at::Tensor lexical_item_vectors(const std::vector<std::string>& texts, const LexicalOptions& options);

// PCA of an item table ([N + 1, D], row 0 padding) to d dimensions: rows 1..N
// centred and projected on the top d principal axes; row 0 stays zero.
at::Tensor pca_project(const at::Tensor& table, int64_t d);

}  // namespace caudal
