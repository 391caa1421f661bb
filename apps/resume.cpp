// `caudal resume`: continue an unfinished training (killed or paused) from
// RUN/resume.pt with RUN/config.json.
#include "caudal/run/trained_model.h"
#include "command.h"
#include "options.h"

namespace caudal {

Command add_resume_command(CLI::App& app) {
  struct State {
    std::string run;
    int threads = 0;
    int64_t pause_after = 0;
    ClusterFlags cluster;
  };
  auto s = std::make_shared<State>();
  auto* cmd = app.add_subcommand("resume", "continue an unfinished training (killed or paused) where its last epoch ended");
  cmd->add_option("--run", s->run, "run directory of the training")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--threads", s->threads, "compute threads (default: the training's)")->check(in_range(1, 1024));
  cmd->add_option("--pause-after", s->pause_after, "stop after this many more epochs, resumable again")
      ->check(in_range(1, 1e6));
  s->cluster.add_to(*cmd);
  return {cmd, [s] {
            const auto run = RunDirectory::open(s->run);
            auto config = read_run_config(run);
            require_data_field(run, config);
            if (s->threads > 0) config.threads = s->threads;
            TrainControl control;
            control.resume = true;
            control.pause_after = s->pause_after;
            return run_training(config, s->run, control, false, s->cluster.resolve());
          }};
}

}  // namespace caudal
