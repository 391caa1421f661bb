// Feeds any bytes to the readers of a run directory's text files: bit 0 of
// the first byte picks config.json (read_run_config: JSON, then every option
// checked against config_options()) or history.jsonl (read_history).
// A caudal::Error is the right answer to a bad file; anything else is a bug:
// a crash or sanitizer report, another exception (nlohmann::json's
// included), a hang, or a wrong reading: an option read as another value
// than the file holds (to_json of the config read must give it back), a
// history whose epochs do not count up.
#include <nlohmann/json.hpp>

#include "caudal/core/error.h"
#include "caudal/run/config.h"
#include "caudal/run/run_dir.h"
#include "caudal/run/trained_model.h"
#include "fuzz_input.h"

namespace {

void read_config(const caudal::RunDirectory& run) {
  const caudal::TrainConfig config = caudal::read_run_config(run);
  const nlohmann::json file = run.read_json("config.json");
  const nlohmann::json written = caudal::to_json(config);
  for (const auto& [key, value] : file.items()) {
    // The one value the reader translates: an empty loss of older runs is "auto".
    if (key == "loss" && value == "") continue;
    if (written.contains(key)) caudal::fuzz::require(written[key] == value);
  }
}

void read_history(const caudal::RunDirectory& run) {
  int64_t previous = 0;
  for (const auto& record : run.read_history()) {
    caudal::fuzz::require(record.is_object() && record["epoch"].is_number_integer());
    caudal::fuzz::require(record["epoch"].get<int64_t>() > previous);
    previous = record["epoch"].get<int64_t>();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool config = data[0] & 1;
  caudal::fuzz::write_input(config ? "config.json" : "history.jsonl", data + 1, size - 1);
  try {
    const auto run = caudal::RunDirectory::open(caudal::fuzz::scratch_directory());
    if (config) {
      read_config(run);
    } else {
      read_history(run);
    }
  } catch (const caudal::Error&) {
  }
  return 0;
}
