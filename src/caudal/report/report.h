// Reports on finished runs: a self-contained HTML page with SVG charts
// (validation NDCG@20 and training losses over epochs with the best epoch
// marked, HR/NDCG@10 by head/tail group, NDCG@10 across popularity buckets,
// every metric, the configurations and what differs), or a Markdown table
// for terminals and docs. Several runs side by side, one colour per run
// throughout.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace caudal {

struct ReportRun {
  std::string path, label;
  nlohmann::json config;                // config.json
  nlohmann::json metrics;               // metrics.json
  std::vector<nlohmann::json> history;  // history.jsonl; empty for runs trained before it existed
};

// `spec` is DIR or DIR=LABEL (the label defaults to the directory's name;
// split at the last '=' unless the whole spec is a directory). Throws
// caudal::Error naming the file and field when the run has not finished, a
// file is damaged, or a metric is not a number in [0, 1].
ReportRun load_report_run(const std::string& spec);

// The page, with generated_at (e.g. "2026-12-02 22:30") in its header.
std::string html_report(const std::vector<ReportRun>& runs, const std::string& generated_at);

// | run | overall | tail_item | head_item | tail_user | head_user | best epoch |
// with test "HR@10 / NDCG@10" cells; `buckets`: the popularity buckets instead.
std::string markdown_table(const std::vector<ReportRun>& runs, bool buckets);

}  // namespace caudal
