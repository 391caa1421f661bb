#include "caudal/method/tada/lis.h"

#include <ATen/ATen.h>
#include <dlfcn.h>

#include <algorithm>
#include <numeric>

#include "caudal/core/error.h"

namespace caudal {
namespace {

// LAPACK's in-place Cholesky factorisation and inverse. LibTorch's
// linalg_cholesky and cholesky_inverse call the same routines but each
// returns a new n x n tensor, doubling peak memory (2.3 GB instead of 1.2 GB
// on Sports). The symbols are looked up at run time: they are there when
// LibTorch uses the system LAPACK (Debian), and absent in builds that link
// MKL privately, where the LibTorch path below is used instead.
using LapackPotr = void (*)(const char* uplo, const int* n, float* a, const int* lda, int* info);

void invert_spd_in_place(at::Tensor& matrix) {
  const int n = static_cast<int>(matrix.size(0));
  auto potrf = reinterpret_cast<LapackPotr>(::dlsym(RTLD_DEFAULT, "spotrf_"));
  auto potri = reinterpret_cast<LapackPotr>(::dlsym(RTLD_DEFAULT, "spotri_"));
  if (potrf && potri && matrix.is_contiguous() && matrix.scalar_type() == at::kFloat && matrix.device().is_cpu()) {
    // Row-major storage of a symmetric matrix is its own column-major
    // storage, so LAPACK's "L" works on our upper triangle.
    int info = 0;
    const char uplo = 'L';
    potrf(&uplo, &n, matrix.data_ptr<float>(), &n, &info);
    if (info != 0) throw Error("LIS: X^T X + lambda I is not positive definite (LAPACK potrf info " + std::to_string(info) + ")");
    potri(&uplo, &n, matrix.data_ptr<float>(), &n, &info);
    if (info != 0) throw Error("LIS: inverse failed (LAPACK potri info " + std::to_string(info) + ")");
    // Only the upper triangle (row-major) holds the inverse: mirror it.
    float* a = matrix.data_ptr<float>();
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < i; ++j) a[static_cast<int64_t>(i) * n + j] = a[static_cast<int64_t>(j) * n + i];
    return;
  }
  auto factor = at::linalg_cholesky(matrix);
  matrix = at::Tensor();  // release before the inverse allocates
  matrix = at::cholesky_inverse(factor);
}

at::Tensor gamma_of(const at::Tensor& inverse, const LisOptions& options) {
  auto diag = inverse.diagonal().to(at::kDouble);
  auto gamma = at::where(1.0 - options.lambda * diag <= options.xi, at::full_like(diag, options.lambda), (1.0 - options.xi) / diag);
  return gamma.to(at::kFloat);
}

// Neighbour selection of the definition, one row at a time, from P and gamma
// (B_ij = -P_ij gamma_j off the diagonal), so B is never materialised.
std::vector<std::vector<int64_t>> neighbours_from_inverse(const at::Tensor& inverse, const std::vector<int64_t>& query,
                                                          const LisOptions& options) {
  const int64_t n = inverse.size(0);
  auto gamma_tensor = gamma_of(inverse, options).contiguous();
  const float* gamma = gamma_tensor.data_ptr<float>();
  auto p = inverse.contiguous();
  const float* data = p.data_ptr<float>();
  std::vector<std::vector<int64_t>> out;
  out.reserve(query.size());
  std::vector<float> score(n);
  std::vector<int64_t> order(n);
  const auto k = static_cast<size_t>(options.top_k);
  for (int64_t item : query) {
    const int64_t i = item - 1;
    if (i < 0 || i >= n) throw Error("LIS: item id " + std::to_string(item) + " outside 1.." + std::to_string(n));
    const float* row = data + i * n;
    for (int64_t j = 0; j < n; ++j) score[j] = -row[j] * gamma[j];
    std::vector<int64_t> passing;
    for (int64_t j = 0; j < n; ++j)
      if (j != i && score[j] >= options.threshold) passing.push_back(j);
    auto by_score = [&](int64_t a, int64_t b) { return score[a] > score[b] || (score[a] == score[b] && a < b); };
    std::vector<int64_t> chosen;
    if (!passing.empty()) {
      const size_t keep = std::min(k, passing.size());
      std::partial_sort(passing.begin(), passing.begin() + keep, passing.end(), by_score);
      chosen.assign(passing.begin(), passing.begin() + keep);
    } else {
      order.resize(n);
      std::iota(order.begin(), order.end(), 0);
      order.erase(order.begin() + i);
      const size_t keep = std::min(k, order.size());
      std::partial_sort(order.begin(), order.begin() + keep, order.end(), by_score);
      chosen.assign(order.begin(), order.begin() + keep);
    }
    for (auto& j : chosen) j += 1;  // index -> item id
    out.push_back(std::move(chosen));
  }
  return out;
}

}  // namespace

at::Tensor item_gram_matrix(const std::vector<std::vector<int64_t>>& sequences, int64_t num_items) {
  auto gram = at::zeros({num_items, num_items}, at::kFloat);
  float* g = gram.data_ptr<float>();
  std::vector<int64_t> items;
  for (const auto& s : sequences) {
    items.assign(s.begin(), s.end());
    std::sort(items.begin(), items.end());
    items.erase(std::unique(items.begin(), items.end()), items.end());
    for (int64_t a : items)
      for (int64_t b : items) g[(a - 1) * num_items + (b - 1)] += 1.0f;
  }
  return gram;
}

std::vector<std::vector<int64_t>> lis_neighbours(at::Tensor& gram, const std::vector<int64_t>& query,
                                                 const LisOptions& options) {
  gram.diagonal().add_(options.lambda);
  invert_spd_in_place(gram);
  return neighbours_from_inverse(gram, query, options);
}

std::vector<std::vector<int64_t>> lis_neighbours_general_inverse(const at::Tensor& gram, const std::vector<int64_t>& query,
                                                                 const LisOptions& options) {
  auto regularised = gram + options.lambda * at::eye(gram.size(0), gram.options());
  auto inverse = at::linalg_inv(regularised);
  regularised = at::Tensor();
  return neighbours_from_inverse(inverse, query, options);
}

at::Tensor lis_weights_from_inverse(const at::Tensor& inverse, const LisOptions& options) {
  auto gamma = gamma_of(inverse, options);
  auto weights = at::eye(inverse.size(0), inverse.options()) - inverse * gamma.unsqueeze(0);
  weights.diagonal().clamp_max_(options.xi);
  return weights;
}

}  // namespace caudal
