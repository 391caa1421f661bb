// Feeds any bytes to the two parsers of `caudal embed --encoder endpoint`:
// bit 0 of the first byte picks an endpoint's JSON answer
// (parse_embedding_answer, for a request of 1-4 texts: bits 1-2; expected
// vector length 0 (the first one's) or 3: bit 3) or the JSON-lines cache
// (read_embedding_cache, for the texts below and model "m").
// A caudal::Error is the right answer to bad input; anything else is a bug:
// a crash or sanitizer report, another exception (nlohmann::json's
// included), a hang, or vectors that break the contract: not one per text,
// empty, of another length than expected, non-finite, or cached for an item
// that has no text.
#include <cmath>

#include "caudal/core/error.h"
#include "caudal/semantic/endpoint.h"
#include "fuzz_input.h"

namespace {

void check_vector(const std::vector<float>& vector, int64_t dim) {
  caudal::fuzz::require(!vector.empty() && (dim == 0 || static_cast<int64_t>(vector.size()) == dim));
  for (float value : vector) caudal::fuzz::require(std::isfinite(value));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool answer = data[0] & 1;
  try {
    if (answer) {
      const size_t count = 1 + ((data[0] >> 1) & 3);
      int64_t dim = (data[0] & 8) ? 3 : 0;
      const std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
      const auto vectors = caudal::parse_embedding_answer(body, count, dim, "http://fuzz/v1/embeddings");
      caudal::fuzz::require(vectors.size() == count && dim > 0);
      for (const auto& vector : vectors) check_vector(vector, dim);
    } else {
      // Texts by item id (0 unused), as endpoint_item_vectors passes them.
      static const std::vector<std::string> texts = {"", "red lipstick", "blue pen", ""};
      const std::string path = caudal::fuzz::write_input("cache.jsonl", data + 1, size - 1);
      for (const auto& [item, vector] : caudal::read_embedding_cache(path, "m", texts)) {
        caudal::fuzz::require(item >= 1 && item < static_cast<int64_t>(texts.size()));
        check_vector(vector, 0);
      }
    }
  } catch (const caudal::Error&) {
  }
  return 0;
}
