// LIS, the linear item-similarity model of TADA (a closed-form EASE/SLIS-style
// linear autoencoder):
//   G = X^T X for the binary user x item matrix X of the training parts
//   P = (G + lambda I)^-1
//   gamma_j = lambda if 1 - lambda P_jj <= xi, else (1 - xi) / P_jj
//   B = I - P diag(gamma), diagonal clipped to xi
// Item i's neighbours: among j != i with B_ij >= threshold the top_k by B_ij;
// if none passes, simply the top_k by B_ij.
#pragma once

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

namespace caudal {

struct LisOptions {
  double lambda = 0.1;
  double xi = 0.2;
  double threshold = 0.3;
  int64_t top_k = 10;
};

// G = X^T X counted from the sequences (each user's distinct items), never
// building X. [n, n] float32; item id i is at index i - 1.
at::Tensor item_gram_matrix(const std::vector<std::vector<int64_t>>& sequences, int64_t num_items);

// Neighbours (item ids) of each item of `query`, from G via an in-place
// Cholesky factorisation and inverse: one n x n buffer in all. `gram` is
// overwritten (it becomes P).
std::vector<std::vector<int64_t>> lis_neighbours(at::Tensor& gram, const std::vector<int64_t>& query,
                                                 const LisOptions& options);

// The same from a general dense inverse of G + lambda I (the official code's
// way), kept to measure against and to check the fast path.
std::vector<std::vector<int64_t>> lis_neighbours_general_inverse(const at::Tensor& gram, const std::vector<int64_t>& query,
                                                                 const LisOptions& options);

// B of the definition above as a dense matrix, from P: for tests on small data.
at::Tensor lis_weights_from_inverse(const at::Tensor& inverse, const LisOptions& options);

}  // namespace caudal
