// Feeds any bytes to read_interaction_log, the reader of raw logs behind
// `caudal prepare` (CSV, Amazon JSON lines with Python-literal lines, RecBole
// .inter, MovieLens "::"), plain or gzip. The first byte picks the format,
// or guessing it from the first line as `prepare` does without --format.
// A caudal::Error is the right answer to a bad file; anything else is a bug:
// a crash or sanitizer report, another exception, a hang, or an event that
// breaks LogEvent's contract (empty id, id with a tab or line break,
// non-finite timestamp or rating).
#include <cmath>

#include "caudal/core/error.h"
#include "caudal/data/interaction_log.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::vector<caudal::LogFormat> formats = {caudal::LogFormat::csv, caudal::LogFormat::amazon,
                                                  caudal::LogFormat::recbole, caudal::LogFormat::movielens};
  const size_t choice = data[0] % (formats.size() + 1);
  const std::string path = caudal::fuzz::write_input("interactions.log", data + 1, size - 1);
  auto check_event = [](const caudal::LogEvent& event) {
    for (const std::string* id : {&event.user, &event.item})
      caudal::fuzz::require(!id->empty() && id->find_first_of(std::string("\t\n\r\0", 4)) == std::string::npos);
    caudal::fuzz::require(std::isfinite(event.timestamp));
    caudal::fuzz::require(!event.rating || std::isfinite(*event.rating));
  };
  try {
    const auto format = choice < formats.size() ? formats[choice] : caudal::guess_log_format(path);
    caudal::read_interaction_log(path, format, check_event);
  } catch (const caudal::Error&) {
  }
  return 0;
}
