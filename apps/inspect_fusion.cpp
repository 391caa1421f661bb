// `caudal inspect-fusion`: FAERec's gate and branches by item group, for a
// trained FAERec run (writes RUN/fusion.json).
#include <iostream>

#include "caudal/core/error.h"
#include "caudal/core/log.h"
#include "caudal/core/threads.h"
#include "caudal/method/faerec/fusion_report.h"
#include "caudal/run/trained_model.h"
#include "command.h"
#include "options.h"

namespace caudal {

Command add_inspect_fusion_command(CLI::App& app) {
  struct State {
    std::string run;
    int threads = 1;
  };
  auto s = std::make_shared<State>();
  auto* cmd = app.add_subcommand(
      "inspect-fusion", "FAERec run: the gate's ID share and the two branches' sizes by item popularity (writes RUN/fusion.json)");
  cmd->add_option("--run", s->run, "run directory of a FAERec training")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--threads", s->threads, "compute threads")->capture_default_str()->check(in_range(1, 1024));
  return {cmd, [s] {
            const auto run = RunDirectory::open(s->run);
            make_logger("");
            set_compute_threads(s->threads);
            const auto config = read_run_config(run);
            auto trained = load_trained_run(run, config, c10::Device(c10::kCPU));
            auto* fused = dynamic_cast<FusedItems*>(&trained.model->items());
            if (fused == nullptr)
              throw Error(run.file("config.json") + ": method \"" + config.methods.list +
                          "\" has no FAERec fusion to inspect");
            const auto summary =
                summarise_fusion(*fused, trained.model->backbone(), config.backbone.max_len, trained.dataset.groups());
            run.write_json("fusion.json", to_json(summary));
            std::cout << format_fusion_table(summary) << "\nwritten to " << run.file("fusion.json") << "\n";
            return 0;
          }};
}

}  // namespace caudal
