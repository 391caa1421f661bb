// Item vector tables on disk: NumPy .npy (float16/32/64, little-endian, C
// order, 2-D) and a text format of lines `item_id v1 v2 ...`.
// In memory a table is a [num_items + 1, d] float32 tensor whose row i is
// item i and row 0 (padding) is zero. In a .npy file the rows are items
// 1..N in order (N rows), or N + 1 rows with the padding row first.
#pragma once

#include <cstdint>
#include <string>

#include <ATen/core/Tensor.h>

namespace caudal {

// Reads a table by extension (.npy, otherwise text). expected_items > 0
// checks the row count against the catalogue. Errors name the file and the
// row or item: bad header, wrong dtype/order/rank, truncated data, NaN/Inf,
// constant rows (an all-equal vector carries no information, often a
// missing text), duplicate or missing ids in the text format.
at::Tensor load_item_vectors(const std::string& path, int64_t expected_items = 0);

// Writes items 1..N (rows 1.. of the table) atomically, float32, by extension.
void save_item_vectors(const std::string& path, const at::Tensor& table);

// .npy arrays of any 2-D float shape, as stored (no item convention): for
// tests and tools.
at::Tensor read_npy(const std::string& path);
void write_npy(const std::string& path, const at::Tensor& matrix);

}  // namespace caudal
