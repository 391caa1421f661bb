// Feeds any bytes to the checkpoint readers: bit 0 of the first byte picks
// model.pt (RunDirectory::load_checkpoint, what eval/serve/recommend read) or
// resume.pt (load_resume_state: model, Adam state, random generator state,
// progress; what `caudal resume` reads). Both are LibTorch zip archives.
// A caudal::Error is the right answer to a damaged file; anything else is a
// bug: a crash or sanitizer report, another exception (c10::Error, which the
// readers must translate, included), a hang, or running out of memory.
#include <c10/core/Device.h>

#include "caudal/core/error.h"
#include "caudal/run/run_dir.h"
#include "checkpoint_model.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const auto model = caudal::fuzz::checkpoint_model();
  const bool resume = data[0] & 1;
  caudal::fuzz::write_input(resume ? "resume.pt" : "model.pt", data + 1, size - 1);
  try {
    const auto run = caudal::RunDirectory::open(caudal::fuzz::scratch_directory());
    if (resume) {
      auto optimizer = caudal::fuzz::checkpoint_optimizer(*model);  // fresh: no state left from the last input
      run.load_resume_state(*model, optimizer, c10::Device(c10::kCPU));
    } else {
      run.load_checkpoint(*model);
    }
  } catch (const caudal::Error&) {
  }
  return 0;
}
