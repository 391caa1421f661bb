// Feeds any bytes to load_sequences as a sequence file ("user item item ..."
// lines), then builds the Dataset every command builds from what it read.
// A caudal::Error is the right answer to a bad file; anything else is a bug:
// a crash or sanitizer report, another exception (std::bad_alloc included),
// a hang, or a file that passes with fewer than 3 items for some user.
#include "caudal/core/error.h"
#include "caudal/data/dataset.h"
#include "caudal/data/sequences.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = caudal::fuzz::write_input("sequences.txt", data, size);
  try {
    caudal::SequenceData sequences = caudal::load_sequences(path);
    for (const auto& items : sequences.sequences) caudal::fuzz::require(items.size() >= 3);
    caudal::Dataset dataset(std::move(sequences));
  } catch (const caudal::Error&) {
  }
  return 0;
}
