// Products of many small matrices, as attention computes them: one [T, T]
// by [T, d/heads] product per sequence and head.
#pragma once

#include <ATen/core/Tensor.h>

namespace caudal {

// a [..., m, k], b [..., k, n] with the same leading (batch) shape ->
// [..., m, n] (contiguous): a[i] @ b[i] for every batch index i, with
// autograd. Either operand may be a transposed or permuted view (as the
// heads of a fused q/k/v projection are): read in place when its rows or
// its columns are unit stride, copied first otherwise.
//
// On a CPU in float32 with a BLAS (cblas) at build time, each batch entry is
// one cblas_sgemm call on the operands' memory. LibTorch 1.13's CPU bmm
// takes a tensor view, a dispatch and an addmm per batch entry, which costs
// several times the arithmetic of the 4 x 4 to 20 x 20 products of a
// recommendation batch (docs/results.md, "The allocator, the adapter per step,
// attention's small products").
// Elsewhere (a GPU, other types), at::matmul.
at::Tensor batched_matmul(const at::Tensor& a, const at::Tensor& b);

// Whether this build calls BLAS for CPU float32 products (cblas.h was found).
bool batched_matmul_calls_blas();

}  // namespace caudal
