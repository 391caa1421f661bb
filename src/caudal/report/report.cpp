#include "caudal/report/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <cmath>
#include <set>

#include "caudal/core/error.h"
#include "caudal/data/dataset.h"
#include "caudal/report/svg_chart.h"
#include "caudal/run/run_dir.h"

namespace caudal {
namespace {

// Tableau's ten colours: distinct, and readable for most colour vision.
const char* const kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
std::string colour_of(size_t run) { return kPalette[run % 10]; }

// metrics.json's groups, in the order the report shows them.
const std::pair<const char*, const char*> kGroups[] = {{"overall", "overall"},     {"head_item", "head items"},
                                                       {"tail_item", "tail items"}, {"head_user", "head users"},
                                                       {"tail_user", "tail users"}};
const char* const kMetrics[] = {"hr@5", "hr@10", "hr@20", "ndcg@5", "ndcg@10", "ndcg@20"};

// NaN when the run has no such group or metric (load_report_run checked the
// types): shown as "-" and left out of charts, never as a zero.
double metric(const nlohmann::json& split, const std::string& group, const std::string& name) {
  const auto* g = &split;
  if (group.rfind("bucket:", 0) == 0) {
    if (!split.contains("buckets") || !split["buckets"].contains(group.substr(7))) return std::nan("");
    g = &split["buckets"][group.substr(7)];
  } else {
    if (!split.contains(group)) return std::nan("");
    g = &split[group];
  }
  return g->contains(name) ? (*g)[name].get<double>() : std::nan("");
}

std::string number(double value) { return std::isnan(value) ? "-" : fmt::format("{:.4f}", value); }

// Checks what the report reads: metric values in [0, 1], whole epochs.
void check_metrics(const nlohmann::json& metrics, const std::string& path) {
  if (!metrics.is_object()) throw Error(path + ": not a JSON object");
  for (const char* split : {"valid", "test"}) {
    if (!metrics.contains(split) || !metrics[split].is_object() || !metrics[split].contains("overall"))
      throw Error(path + ": no \"" + split + "\" metrics with an \"overall\" group");
    std::vector<std::pair<std::string, const nlohmann::json*>> groups;
    for (const auto& [name, group] : metrics[split].items())
      if (name == "buckets" && group.is_object()) {
        for (const auto& [bucket, values] : group.items()) groups.emplace_back("buckets." + bucket, &values);
      } else {
        groups.emplace_back(name, &group);
      }
    for (const auto& [name, group] : groups) {
      if (!group->is_object()) throw Error(path + ": \"" + split + "." + name + "\" is not an object");
      for (const auto& [key, value] : group->items())
        if (!value.is_number() || !(value.get<double>() >= 0 && value.get<double>() <= 1))
          throw Error(path + ": \"" + split + "." + name + "." + key + "\" is not a number in [0, 1]");
    }
  }
  for (const char* key : {"best_epoch", "epochs"})
    if (metrics.contains(key) && !metrics[key].is_number_integer()) throw Error(path + ": \"" + key + "\" is not a whole number");
  if (metrics.contains("seconds_per_epoch") && !metrics["seconds_per_epoch"].is_number())
    throw Error(path + ": \"seconds_per_epoch\" is not a number");
}

std::string method_of(const ReportRun& run) {
  const std::string method = run.config.value("method", "");
  return run.config.value("model", "?") + (method.empty() ? "" : " + " + method);
}

std::string dump_value(const nlohmann::json& value) { return value.is_string() ? value.get<std::string>() : value.dump(); }

const char* kStyle = R"(
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; margin: 0 auto; padding: 12px 16px 40px; max-width: 1400px; }
h1 { font-size: 22px; margin: 8px 0 2px; } h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; }
.meta { color: #666; font-size: 13px; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 12px 20px; }
svg.chart { width: 100%; height: auto; background: #fff; }
svg .chart-title { font-size: 15px; font-weight: 600; } svg .tick, svg .axis-label, svg .empty { font-size: 12px; fill: #555; }
svg line.grid { stroke: #e4e4e4; } svg path.series { fill: none; stroke-width: 2.2; }
svg circle.best-epoch { fill: none; stroke-width: 2.5; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 18px; margin: 8px 0; }
.swatch { display: inline-block; width: 14px; height: 14px; border-radius: 3px; vertical-align: -2px; margin-right: 6px; }
.scroll { overflow-x: auto; } table { border-collapse: collapse; font-size: 13px; }
th, td { padding: 3px 9px; border-bottom: 1px solid #eee; text-align: right; white-space: nowrap; }
th:first-child, td:first-child, td.run { text-align: left; } tr.first-of-group td { border-top: 1px solid #bbb; } td.best { font-weight: 700; } tr.differs td { background: #fff6d8; }
.note { color: #777; font-size: 13px; }
)";

std::string legend(const std::vector<ReportRun>& runs) {
  std::string out = "<div class=\"legend\">";
  for (size_t r = 0; r < runs.size(); ++r)
    out += fmt::format("<span><span class=\"swatch\" style=\"background:{}\"></span>{}</span>", colour_of(r),
                       escape_html(runs[r].label));
  return out + "</div>\n";
}

std::string runs_table(const std::vector<ReportRun>& runs) {
  std::string out =
      "<div class=\"scroll\"><table><tr><th>run</th><th>model</th><th>best epoch</th><th>epochs</th>"
      "<th>s per training epoch</th><th>s per validation</th><th>directory</th></tr>\n";
  for (size_t r = 0; r < runs.size(); ++r) {
    const auto& run = runs[r];
    double valid_seconds = 0;
    int64_t validations = 0;
    for (const auto& h : run.history)
      if (h.contains("valid_seconds")) valid_seconds += h["valid_seconds"].get<double>(), ++validations;
    out += fmt::format(
        "<tr><td><span class=\"swatch\" style=\"background:{}\"></span>{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "<td>{:.2f}</td><td>{}</td><td>{}</td></tr>\n",
        colour_of(r), escape_html(run.label), escape_html(method_of(run)), run.metrics.value("best_epoch", -1),
        run.metrics.value("epochs", 0), run.metrics.value("seconds_per_epoch", 0.0),
        validations ? fmt::format("{:.2f}", valid_seconds / static_cast<double>(validations)) : "-", escape_html(run.path));
  }
  return out + "</table></div>\n";
}

std::string epoch_charts(const std::vector<ReportRun>& runs) {
  std::vector<ChartSeries> valid, loss;
  std::string missing;
  for (size_t r = 0; r < runs.size(); ++r) {
    const auto& run = runs[r];
    if (run.history.empty()) missing += (missing.empty() ? "" : ", ") + run.label;
    ChartSeries v{run.label, colour_of(r), {}, "", std::nullopt}, l{run.label, colour_of(r), {}, "", std::nullopt};
    for (const auto& h : run.history) {
      const auto epoch = static_cast<double>(h["epoch"].get<int64_t>());
      if (h.contains("valid")) {
        v.points.emplace_back(epoch, h["valid"].value("ndcg@20", 0.0));
        if (h["epoch"].get<int64_t>() == run.metrics.value("best_epoch", -1)) v.marked = v.points.back();
      }
      if (h.contains("losses")) l.points.emplace_back(epoch, h["losses"].value("loss", 0.0));
    }
    valid.push_back(std::move(v));
    loss.push_back(std::move(l));
  }
  std::string out = "<div class=\"grid\">\n";
  out += line_chart({"chart-valid-ndcg20", "Validation NDCG@20 (ringed: best epoch)", "epoch", "NDCG@20", {}, true}, valid);
  out += line_chart({"chart-train-loss", "Training loss (total)", "epoch", "mean loss per batch", {}, false}, loss);
  // Each run's named losses (recommendation and each method's), when it has several.
  const char* const dashes[] = {"", "6 4", "2 3", "9 3 2 3", "1 5", "12 4"};
  for (size_t r = 0; r < runs.size(); ++r) {
    std::vector<std::string> names;
    for (const auto& h : runs[r].history)
      if (h.contains("losses"))
        for (const auto& [name, value] : h["losses"].items())
          if (name != "loss" && std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    if (names.size() < 2) continue;
    std::vector<ChartSeries> parts;
    for (size_t n = 0; n < names.size(); ++n) {
      ChartSeries s{names[n], colour_of(r), {}, dashes[n % 6], std::nullopt};
      for (const auto& h : runs[r].history)
        if (h.contains("losses") && h["losses"].contains(names[n]))
          s.points.emplace_back(static_cast<double>(h["epoch"].get<int64_t>()), h["losses"][names[n]].get<double>());
      parts.push_back(std::move(s));
    }
    std::string legend_text;
    for (size_t n = 0; n < names.size(); ++n)
      legend_text += (legend_text.empty() ? "" : ", ") + names[n] + (n ? " (" + std::string(dashes[n % 6]) + ")" : " (solid)");
    out += "<div>" + line_chart({fmt::format("chart-losses-{}", r), runs[r].label + ": losses by name", "epoch", "mean loss", {}, false}, parts) +
           "<div class=\"note\">" + escape_html(legend_text) + "</div></div>\n";
  }
  out += "</div>\n";
  if (!missing.empty())
    out += "<p class=\"note\">No per-epoch history (history.jsonl) for " + escape_html(missing) +
           ": trained before caudal kept one.</p>\n";
  return out;
}

std::string group_charts(const std::vector<ReportRun>& runs) {
  BarChartSpec spec;
  for (size_t r = 0; r < runs.size(); ++r) spec.series.push_back(runs[r].label), spec.colours.push_back(colour_of(r));
  for (const auto& [key, label] : kGroups) spec.groups.push_back(label);
  std::string out = "<div class=\"grid\">\n";
  for (const char* name : {"hr@10", "ndcg@10"}) {
    std::vector<std::vector<double>> values;
    for (const auto& [key, label] : kGroups) {
      values.emplace_back();
      for (const auto& run : runs) values.back().push_back(metric(run.metrics["test"], key, name));
    }
    spec.id = std::string("chart-groups-") + (name[0] == 'h' ? "hr10" : "ndcg10");
    spec.title = std::string("Test ") + (name[0] == 'h' ? "HR@10" : "NDCG@10") + " by group";
    spec.y_label = name[0] == 'h' ? "HR@10" : "NDCG@10";
    out += bar_chart(spec, values);
  }
  std::vector<std::string> buckets;
  for (const char* b : bucket_names()) buckets.push_back(b);
  std::vector<ChartSeries> series;
  for (size_t r = 0; r < runs.size(); ++r) {
    ChartSeries s{runs[r].label, colour_of(r), {}, "", std::nullopt};
    for (size_t b = 0; b < buckets.size(); ++b) {
      const double value = metric(runs[r].metrics["test"], "bucket:" + buckets[b], "ndcg@10");
      if (!std::isnan(value)) s.points.emplace_back(static_cast<double>(b), value);
    }
    series.push_back(std::move(s));
  }
  out += line_chart({"chart-buckets", "Test NDCG@10 by item popularity", "training interactions of the target item", "NDCG@10",
                     buckets, true},
                    series);
  return out + "</div>\n";
}

// One row per group and run, one column per metric; the best run of each
// group and metric in bold.
std::string metrics_table(const std::vector<ReportRun>& runs, const char* split) {
  std::string out = "<div class=\"scroll\"><table><tr><th>group</th><th>run</th>";
  for (const char* name : kMetrics) out += std::string("<th>") + name + "</th>";
  out += "</tr>\n";
  std::vector<std::pair<std::string, std::string>> rows;
  for (const auto& [key, label] : kGroups) rows.emplace_back(key, label);
  for (const char* b : bucket_names()) rows.emplace_back(std::string("bucket:") + b, std::string("items with ") + b + " interactions");
  for (const auto& [key, label] : rows) {
    std::vector<double> best;
    for (const char* name : kMetrics) {
      double top = 0;
      for (const auto& run : runs) top = std::fmax(top, metric(run.metrics[split], key, name));
      best.push_back(top);
    }
    for (size_t r = 0; r < runs.size(); ++r) {
      out += r == 0 ? fmt::format("<tr class=\"first-of-group\"><td rowspan=\"{}\">{}</td>", runs.size(), escape_html(label)) : "<tr>";
      out += fmt::format("<td class=\"run\"><span class=\"swatch\" style=\"background:{}\"></span>{}</td>", colour_of(r),
                         escape_html(runs[r].label));
      for (size_t m = 0; m < std::size(kMetrics); ++m) {
        const double v = metric(runs[r].metrics[split], key, kMetrics[m]);
        out += fmt::format("<td{}>{}</td>", runs.size() > 1 && v == best[m] && v > 0 ? " class=\"best\"" : "", number(v));
      }
      out += "</tr>\n";
    }
  }
  return out + "</table></div>\n";
}

std::string config_table(const std::vector<ReportRun>& runs) {
  std::set<std::string> keys;
  for (const auto& run : runs)
    for (const auto& [key, value] : run.config.items()) keys.insert(key);
  std::vector<std::string> differing, same;
  for (const auto& key : keys) {
    std::set<std::string> values;
    for (const auto& run : runs) values.insert(run.config.contains(key) ? dump_value(run.config[key]) : "(unset)");
    (values.size() > 1 ? differing : same).push_back(key);
  }
  auto rows = [&](const std::vector<std::string>& list, bool differs) {
    std::string out;
    for (const auto& key : list) {
      out += std::string("<tr") + (differs ? " class=\"differs\"" : "") + "><td>" + escape_html(key) + "</td>";
      for (const auto& run : runs)
        out += "<td>" + escape_html(run.config.contains(key) ? dump_value(run.config[key]) : "(unset)") + "</td>";
      out += "</tr>\n";
    }
    return out;
  };
  std::string header = "<tr><th>option</th>";
  for (size_t r = 0; r < runs.size(); ++r)
    header += fmt::format("<th><span class=\"swatch\" style=\"background:{}\"></span>{}</th>", colour_of(r), escape_html(runs[r].label));
  header += "</tr>\n";
  std::string out;
  if (runs.size() > 1)
    out += differing.empty() ? "<p>The runs have the same configuration.</p>\n"
                             : "<p>What differs between the runs (highlighted):</p>\n<div class=\"scroll\"><table>" + header +
                                   rows(differing, true) + "</table></div>\n";
  out += "<details" + std::string(runs.size() == 1 ? " open" : "") + "><summary>Every option (" + std::to_string(keys.size()) +
         ")</summary><div class=\"scroll\"><table>" + header + rows(differing, runs.size() > 1) + rows(same, false) +
         "</table></div></details>\n";
  return out;
}

}  // namespace

ReportRun load_report_run(const std::string& spec) {
  ReportRun run;
  // DIR=LABEL, split at the last '=' unless the whole spec is a directory
  // (sweeps name runs "lr=0.001").
  const auto eq = std::filesystem::is_directory(spec) ? std::string::npos : spec.rfind('=');
  run.path = spec.substr(0, eq);
  while (run.path.size() > 1 && run.path.back() == '/') run.path.pop_back();
  run.label = eq == std::string::npos ? std::filesystem::path(run.path).filename().string() : spec.substr(eq + 1);
  if (run.label.empty()) run.label = run.path;
  const auto dir = RunDirectory::open(run.path);
  if (dir.has_resume_state() || !std::filesystem::exists(dir.file("metrics.json")))
    throw Error(run.path + ": the run has not finished (no metrics.json" +
                std::string(dir.has_resume_state() ? "; continue it with `caudal resume --run " + run.path + "`)" : ")"));
  run.config = dir.read_json("config.json");
  if (!run.config.is_object()) throw Error(dir.file("config.json") + ": not a JSON object");
  run.metrics = dir.read_json("metrics.json");
  check_metrics(run.metrics, dir.file("metrics.json"));
  run.history = dir.read_history();
  return run;
}

std::string html_report(const std::vector<ReportRun>& runs, const std::string& generated_at) {
  std::string title = "caudal report: ";
  for (size_t r = 0; r < runs.size(); ++r) title += (r ? ", " : "") + runs[r].label;
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" +
                    escape_html(title) + "</title>\n<style>" + kStyle + "</style></head>\n<body>\n";
  out += "<h1>" + escape_html(title) + "</h1>\n<div class=\"meta\">generated " + escape_html(generated_at) +
         " by caudal report; full ranking, test split unless said otherwise</div>\n";
  out += legend(runs) + runs_table(runs);
  out += "<h2>Training</h2>\n" + epoch_charts(runs);
  out += "<h2>Test results by group and popularity</h2>\n" + group_charts(runs);
  out += "<h2>Every metric: test</h2>\n" + metrics_table(runs, "test");
  out += "<details><summary>Every metric: validation (best epoch)</summary>\n" + metrics_table(runs, "valid") + "</details>\n";
  out += "<h2>Configuration</h2>\n" + config_table(runs);
  return out + "</body></html>\n";
}

std::string markdown_table(const std::vector<ReportRun>& runs, bool buckets) {
  std::vector<std::pair<std::string, std::string>> columns;
  if (buckets) {
    for (const char* b : bucket_names()) columns.emplace_back(std::string("bucket:") + b, b);
  } else {
    for (const char* key : {"overall", "tail_item", "head_item", "tail_user", "head_user"}) columns.emplace_back(key, key);
  }
  std::string out = "| run |";
  for (const auto& [key, label] : columns) out += " " + label + " |";
  out += " best epoch |\n|---|";
  for (size_t c = 0; c < columns.size(); ++c) out += "---|";
  out += "---|\n";
  for (const auto& run : runs) {
    std::string label;
    for (char c : run.label) label += c == '|' ? std::string("\\|") : c == '\n' || c == '\r' ? std::string(" ") : std::string(1, c);
    out += "| " + label + " |";
    for (const auto& [key, name] : columns)
      out += " " + number(metric(run.metrics["test"], key, "hr@10")) + " / " + number(metric(run.metrics["test"], key, "ndcg@10")) + " |";
    out += fmt::format(" {} |\n", run.metrics.value("best_epoch", -1));
  }
  return out;
}

}  // namespace caudal
