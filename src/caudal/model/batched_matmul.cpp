#include "caudal/model/batched_matmul.h"

#include <ATen/ATen.h>

#ifndef CAUDAL_HAVE_CBLAS
#define CAUDAL_HAVE_CBLAS 0
#endif

#if CAUDAL_HAVE_CBLAS
#include <cblas.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <limits>
#include <optional>
#include <vector>
#endif

namespace caudal {

#if CAUDAL_HAVE_CBLAS
namespace {

// How BLAS reads the matrices of a tensor's last two dimensions: row-major
// with leading dimension `ld`, as they are (no transpose) or as the
// transpose of a row-major matrix. None when neither dimension is unit
// stride.
struct BlasLayout {
  CBLAS_TRANSPOSE transpose;
  int64_t ld;
};

std::optional<BlasLayout> blas_layout(const at::Tensor& t) {
  const int64_t rows = t.size(-2), cols = t.size(-1);
  // A dimension of size 1 has no meaningful stride: the matrix is then both
  // a row and a column, and its leading dimension only has to be valid.
  if (t.stride(-1) == 1 || cols == 1) {
    const int64_t ld = rows == 1 ? std::max<int64_t>(cols, 1) : t.stride(-2);
    if (ld >= std::max<int64_t>(cols, 1)) return BlasLayout{CblasNoTrans, ld};
  }
  if (t.stride(-2) == 1 || rows == 1) {
    const int64_t ld = cols == 1 ? std::max<int64_t>(rows, 1) : t.stride(-1);
    if (ld >= std::max<int64_t>(rows, 1)) return BlasLayout{CblasTrans, ld};
  }
  return std::nullopt;
}

// Offset (in elements) of every matrix of `t`, batch entries in row-major order.
std::vector<int64_t> matrix_offsets(const at::Tensor& t) {
  const int64_t batch_dims = t.dim() - 2;
  int64_t count = 1;
  for (int64_t d = 0; d < batch_dims; ++d) count *= t.size(d);
  std::vector<int64_t> offsets(count);
  for (int64_t i = 0; i < count; ++i) {
    int64_t rest = i, offset = 0;
    for (int64_t d = batch_dims - 1; d >= 0; --d) {
      offset += (rest % t.size(d)) * t.stride(d);
      rest /= t.size(d);
    }
    offsets[i] = offset;
  }
  return offsets;
}

at::Tensor blas_product(at::Tensor a, at::Tensor b) {
  auto a_layout = blas_layout(a), b_layout = blas_layout(b);
  if (!a_layout) a = a.contiguous(), a_layout = blas_layout(a);
  if (!b_layout) b = b.contiguous(), b_layout = blas_layout(b);
  const int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
  auto shape = a.sizes().vec();
  shape.back() = n;
  auto out = at::empty(shape, a.options());
  if (out.numel() == 0) return out;
  if (k == 0) return out.zero_();
  const auto a_offsets = matrix_offsets(a), b_offsets = matrix_offsets(b);
  const float *pa = a.data_ptr<float>(), *pb = b.data_ptr<float>();
  float* pc = out.data_ptr<float>();
  for (size_t i = 0; i < a_offsets.size(); ++i)
    cblas_sgemm(CblasRowMajor, a_layout->transpose, b_layout->transpose, m, n, k, 1.0F, pa + a_offsets[i], a_layout->ld,
                pb + b_offsets[i], b_layout->ld, 0.0F, pc + static_cast<int64_t>(i) * m * n, n);
  return out;
}

// d(a b)/da = grad b^T, d(a b)/db = a^T grad: the same products, on the
// transposed views.
class BlasBatchedMatmul : public torch::autograd::Function<BlasBatchedMatmul> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& a, const at::Tensor& b) {
    ctx->save_for_backward({a, b});
    return blas_product(a, b);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const auto &a = saved[0], &b = saved[1], &grad = grad_outputs[0];
    at::Tensor grad_a, grad_b;
    // Through batched_matmul, so that a graph of the backward (create_graph) is built too.
    if (ctx->needs_input_grad(0)) grad_a = batched_matmul(grad, b.transpose(-2, -1));
    if (ctx->needs_input_grad(1)) grad_b = batched_matmul(a.transpose(-2, -1), grad);
    return {grad_a, grad_b};
  }
};

// cblas takes int sizes and strides.
bool fits_int(const at::Tensor& t) {
  const int64_t most = std::numeric_limits<int>::max();
  return t.size(-2) <= most && t.size(-1) <= most && t.stride(-2) <= most && t.stride(-1) <= most;
}

bool blas_applies(const at::Tensor& a, const at::Tensor& b) {
  return a.device().is_cpu() && b.device().is_cpu() && a.scalar_type() == at::kFloat && b.scalar_type() == at::kFloat &&
         a.dim() >= 3 && a.dim() == b.dim() && a.sizes().slice(0, a.dim() - 2) == b.sizes().slice(0, b.dim() - 2) &&
         a.size(-1) == b.size(-2) && fits_int(a) && fits_int(b);
}

}  // namespace
#endif

bool batched_matmul_calls_blas() { return CAUDAL_HAVE_CBLAS; }

at::Tensor batched_matmul(const at::Tensor& a, const at::Tensor& b) {
#if CAUDAL_HAVE_CBLAS
  if (blas_applies(a, b)) return BlasBatchedMatmul::apply(a, b);
#endif
  return at::matmul(a, b);
}

}  // namespace caudal
