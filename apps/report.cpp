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
            namespace fs = std::filesystem;
            if (s->format == "md" && (!s->out.empty() || s->overwrite))
              throw Error("--format md prints to standard output: --out and --overwrite are for html");
            if (s->format == "html") {
              if (s->buckets) throw Error("--buckets is for --format md (the HTML report shows the buckets anyway)");
              if (s->out.empty()) throw Error("--out: name the HTML file to write (or give --format md)");
              if (fs::is_directory(s->out)) throw Error("--out " + s->out + " is a directory; name the HTML file to write");
              if (fs::exists(s->out) && !s->overwrite) throw Error(s->out + " exists; give --overwrite to replace it");
            }
            if (s->runs.size() > 10) throw Error("--run: at most 10 runs in one report (their colours would repeat)");
            std::vector<ReportRun> runs;
            for (const auto& spec : s->runs) {
              runs.push_back(load_report_run(spec));
              if (s->format != "html") continue;
              std::error_code ec;
              const auto out_dir = fs::weakly_canonical(fs::absolute(s->out).parent_path(), ec);
              if (!ec && fs::equivalent(out_dir, runs.back().path, ec))
                throw Error("--out " + s->out + " is inside the run directory " + runs.back().path + "; write the report elsewhere");
            }
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
