// `caudal prepare`: a raw user,item,rating,timestamp CSV -> a sequence file
// plus id maps.
#include <fmt/format.h>

#include <iostream>

#include "caudal/data/prepare.h"
#include "command.h"

namespace caudal {

Command add_prepare_command(CLI::App& app) {
  struct State {
    std::string interactions, out;
    PrepareOptions options;
    double min_rating = 0;
  };
  auto s = std::make_shared<State>();
  auto* cmd = app.add_subcommand("prepare", "raw user,item,rating,timestamp CSV -> sequence file + id maps");
  cmd->add_option("--interactions", s->interactions, "CSV file")->required()->check(CLI::ExistingFile);
  cmd->add_option("--out", s->out, "output directory")->required();
  auto* min_rating = cmd->add_option("--min-rating", s->min_rating, "drop interactions rated below this");
  cmd->add_option("--k-core", s->options.k_core, "iterated k-core filter")->capture_default_str()->check(CLI::PositiveNumber);
  return {cmd, [s, min_rating] {
            if (min_rating->count()) s->options.min_rating = s->min_rating;
            const auto data = prepare_interactions(s->interactions, s->options);
            write_prepared(data, s->out);
            std::cout << fmt::format("{} interactions read, {} kept; {} users, {} items -> {}/sequences.txt\n",
                                     data.events_read, data.events_kept, data.sequences.size(), data.item_names.size(),
                                     s->out);
            return 0;
          }};
}

}  // namespace caudal
