// Feeds any bytes to load_item_vectors, the reader of item vector tables
// (`--faerec-semantic`, `caudal eval --semantic`): bit 0 of the first byte
// picks .npy or the text format, bits 1-2 the catalogue size it is checked
// against (0: the largest id found / the rows there are).
// A caudal::Error is the right answer to a bad file; anything else is a bug:
// a crash or sanitizer report, another exception (std::bad_alloc and
// c10::Error included), a hang, or a table that breaks the documented shape
// (row 0 zero, one row per item).
#include <ATen/ATen.h>

#include "caudal/core/error.h"
#include "caudal/semantic/vector_file.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool npy = data[0] & 1;
  const int64_t expected_items = (data[0] >> 1) & 3;
  const std::string path = caudal::fuzz::write_input(npy ? "vectors.npy" : "vectors.txt", data + 1, size - 1);
  try {
    const at::Tensor table = caudal::load_item_vectors(path, expected_items);
    caudal::fuzz::require(table.dim() == 2 && table.size(0) >= 1);
    caudal::fuzz::require(expected_items == 0 || table.size(0) == expected_items + 1);
    caudal::fuzz::require(table[0].abs().sum().item<double>() == 0.0);
  } catch (const caudal::Error&) {
  }
  return 0;
}
