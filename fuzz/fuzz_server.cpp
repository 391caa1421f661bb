// Feeds any bytes to parse_recommend_body, the parser of the JSON bodies
// `caudal serve` takes: bit 0 of the first byte picks POST /v1/recommend
// (one request) or /v1/recommend/batch. The catalogue is a small dataset's,
// named by its sequence-file ids ("1".."6", users "1".."3").
// BadRequest (a caudal::Error, answered with a 4xx) is the right answer to a
// bad body; anything else is a bug: a crash or sanitizer report, another
// exception (the server would answer 500), a hang, or requests the
// recommender must not get: an empty history, an item id outside the
// catalogue, k or a batch beyond the limits.
#include "caudal/core/error.h"
#include "caudal/data/dataset.h"
#include "caudal/infer/catalogue.h"
#include "caudal/serve/server.h"
#include "fuzz_input.h"

namespace {

caudal::Dataset small_dataset() {
  caudal::SequenceData data;
  data.source = "fuzz";
  data.user_ids = {1, 2, 3};
  data.sequences = {{1, 2, 3, 4}, {2, 5, 6}, {6, 5, 4, 3, 1}};
  data.num_items = 6;
  return caudal::Dataset(std::move(data));
}

bool in_catalogue(const std::vector<int64_t>& ids, const caudal::Catalogue& catalogue) {
  for (int64_t id : ids)
    if (id < 1 || id > catalogue.num_items()) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const caudal::Dataset dataset = small_dataset();
  static const caudal::Catalogue catalogue(dataset, "");
  static const caudal::ServeOptions options;
  const bool batch = data[0] & 1;
  const std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    const auto requests = caudal::parse_recommend_body(body, batch, dataset, catalogue, options);
    caudal::fuzz::require(!requests.empty() && static_cast<int64_t>(requests.size()) <= options.max_batch_requests);
    for (const auto& request : requests) {
      caudal::fuzz::require(!request.history.empty() && in_catalogue(request.history, catalogue));
      caudal::fuzz::require(in_catalogue(request.exclude, catalogue));
      caudal::fuzz::require(request.k >= 1 && request.k <= options.max_k);
    }
  } catch (const caudal::Error&) {
  }
  return 0;
}
