// `caudal report`: finished runs -> one self-contained HTML page with charts,
// or a Markdown table on standard output.
#include <ctime>
#include <filesystem>
#include <iostream>

#include "caudal/core/atomic_file.h"
#include "caudal/core/error.h"
#include "caudal/report/report.h"
#include "command.h"

namespace caudal {

Command add_report_command(CLI::App& app) {
  struct State {
    std::vector<std::string> runs;
    std::string out, format = "html";
    bool buckets = false, overwrite = false;
  };
  auto s = std::make_shared<State>();
  auto* cmd = app.add_subcommand("report", "finished runs -> HTML report with charts, or a Markdown table");
  cmd->add_option("--run", s->runs, "run directory, DIR or DIR=LABEL (repeat for several runs)")->required();
  cmd->add_option("--out", s->out, "the HTML file to write (html format)");
  cmd->add_option("--format", s->format, "html | md (a Markdown table on standard output)")->capture_default_str()
      ->check(CLI::IsMember({"html", "md"}));
  cmd->add_flag("--buckets", s->buckets, "md: popularity buckets instead of head/tail groups");
  cmd->add_flag("--overwrite", s->overwrite, "replace an existing --out file");
  return {cmd, [s] {
            if (s->format == "html") {
              if (s->out.empty()) throw Error("--out: name the HTML file to write (or give --format md)");
              if (std::filesystem::exists(s->out) && !s->overwrite)
                throw Error(s->out + " exists; give --overwrite to replace it");
            }
            std::vector<ReportRun> runs;
            for (const auto& spec : s->runs) runs.push_back(load_report_run(spec));
            if (s->format == "md") {
              std::cout << markdown_table(runs, s->buckets);
              return 0;
            }
            const std::time_t now = std::time(nullptr);
            char stamp[32];
            std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
            write_file_atomically(s->out, html_report(runs, stamp));
            std::cout << "report of " << runs.size() << " run(s) -> " << s->out << "\n";
            return 0;
          }};
}

}  // namespace caudal
