// The report's content from hand-written run directories: the Markdown
// table's numbers, what differs between configurations, the best epoch
// marked, and clear errors for runs that cannot be reported.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "caudal/core/error.h"
#include "caudal/report/report.h"
#include "caudal/run/run_dir.h"
#include "test_util.h"

namespace caudal {
namespace {

using testing::TempDir;

nlohmann::json split(double hr10, double ndcg10) {
  nlohmann::json group = {{"hr@5", 0.0}, {"hr@10", hr10}, {"hr@20", 0.0}, {"ndcg@5", 0.0}, {"ndcg@10", ndcg10}, {"ndcg@20", 0.0}};
  nlohmann::json out;
  for (const char* g : {"overall", "head_item", "tail_item", "head_user", "tail_user"}) out[g] = group;
  for (const char* b : {"1-4", "5-9", "10-19", "20-49", "50+"}) out["buckets"][b] = group;
  out["tail_item"]["hr@10"] = hr10 / 2;
  return out;
}

std::string make_run(const TempDir& dir, const std::string& name, int hidden, double hr10, bool with_history) {
  auto run = RunDirectory::create(dir.file(name));
  run.write_json("config.json", {{"model", "sasrec"}, {"hidden", hidden}, {"lr", 0.001}, {"method", ""}});
  run.write_json("metrics.json", {{"valid", split(hr10, 0.1)}, {"test", split(hr10, 0.05)}, {"best_epoch", 2}, {"epochs", 3},
                                  {"seconds_per_epoch", 1.5}});
  if (with_history) {
    std::vector<nlohmann::json> history;
    for (int epoch = 1; epoch <= 3; ++epoch)
      history.push_back({{"epoch", epoch}, {"losses", {{"loss", 1.0 / epoch}, {"rec", 0.8 / epoch}, {"tada_self", 0.2 / epoch}}},
                         {"train_seconds", 1.5}, {"valid_seconds", 2.0}, {"valid", {{"ndcg@20", 0.1 * epoch}}}, {"best", epoch == 2}});
    run.write_history(history);
  }
  return run.path();
}

TEST(Report, MarkdownTableHoldsTheTestNumbers) {
  TempDir dir;
  const std::vector<ReportRun> runs = {load_report_run(make_run(dir, "a", 8, 0.25, true) + "=plain"),
                                       load_report_run(make_run(dir, "b", 16, 0.5, false))};
  EXPECT_EQ(runs[1].label, "b");  // the directory's name when no label is given
  EXPECT_EQ(markdown_table(runs, false),
            "| run | overall | tail_item | head_item | tail_user | head_user | best epoch |\n"
            "|---|---|---|---|---|---|---|\n"
            "| plain | 0.2500 / 0.0500 | 0.1250 / 0.0500 | 0.2500 / 0.0500 | 0.2500 / 0.0500 | 0.2500 / 0.0500 | 2 |\n"
            "| b | 0.5000 / 0.0500 | 0.2500 / 0.0500 | 0.5000 / 0.0500 | 0.5000 / 0.0500 | 0.5000 / 0.0500 | 2 |\n");
  EXPECT_EQ(markdown_table(runs, true).substr(0, 55), "| run | 1-4 | 5-9 | 10-19 | 20-49 | 50+ | best epoch |\n");
}

TEST(Report, HtmlMarksTheBestEpochAndWhatDiffers) {
  TempDir dir;
  const std::vector<ReportRun> runs = {load_report_run(make_run(dir, "a", 8, 0.25, true) + "=plain <a>"),
                                       load_report_run(make_run(dir, "b", 16, 0.5, false))};
  const auto html = html_report(runs, "now");
  auto count = [&](const std::string& what) {
    size_t n = 0;
    for (size_t at = html.find(what); at != std::string::npos; at = html.find(what, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("class=\"best-epoch\""), 1u);  // only the run with a history has epochs to mark
  EXPECT_EQ(count("<svg class=\"chart\""), 6u);  // validation, loss, plain's named losses, 2 group charts, buckets
  EXPECT_NE(html.find("<tr class=\"differs\"><td>hidden</td><td>8</td><td>16</td></tr>"), std::string::npos);
  EXPECT_EQ(html.find("<tr class=\"differs\"><td>lr</td>"), std::string::npos);
  EXPECT_NE(html.find("plain &lt;a&gt;"), std::string::npos);  // labels are escaped
  EXPECT_EQ(html.find("plain <a>"), std::string::npos);
  EXPECT_NE(html.find("No per-epoch history (history.jsonl) for b"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);  // self-contained, nothing to run or fetch
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg"));
}

TEST(Report, UnfinishedOrDamagedRunsAreClearErrors) {
  TempDir dir;
  auto run = RunDirectory::create(dir.file("unfinished"));
  run.write_json("config.json", {{"model", "sasrec"}});
  try {
    load_report_run(run.path());
    ADD_FAILURE() << "no error for a run without metrics";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), run.path() + ": the run has not finished (no metrics.json)");
  }
  run.write_json("metrics.json", {{"valid", {{"overall", {}}}}});
  EXPECT_EQ(testing::error_of([&] { load_report_run(run.path()); }),
            run.file("metrics.json") + ": \"valid.overall\" is not an object");
  auto metrics = nlohmann::json{{"valid", split(0.5, 0.1)}, {"test", split(0.5, 0.1)}};
  metrics["test"]["buckets"]["5-9"]["ndcg@10"] = -3;
  run.write_json("metrics.json", metrics);
  EXPECT_EQ(testing::error_of([&] { load_report_run(run.path()); }),
            run.file("metrics.json") + ": \"test.buckets.5-9.ndcg@10\" is not a number in [0, 1]");

  // Histories: a torn line, epochs that do not count up, a loss that is not a number.
  const auto good = make_run(dir, "good", 8, 0.25, true);
  const auto history = RunDirectory::open(good).read_history();
  auto expect_history_error = [&](const std::string& extra_line, const std::string& message) {
    RunDirectory::open(good).write_history(history);
    std::ofstream(good + "/history.jsonl", std::ios::app) << extra_line << "\n";
    EXPECT_EQ(testing::error_of([&] { load_report_run(good); }), good + "/history.jsonl:4: " + message);
  };
  expect_history_error("{\"epoch\": 4, \"losses\"", "not an epoch record (a JSON object with an integer \"epoch\")");
  expect_history_error("{\"epoch\": 3}", "epoch 3 after epoch 3: epochs must count up from 1");
  expect_history_error("{\"epoch\": 4, \"losses\": {\"loss\": null}}", "\"losses\": \"loss\" is not a finite number");
}

TEST(Report, ADirectoryWithAnEqualsSignNeedsNoLabel) {
  TempDir dir;
  const auto path = make_run(dir, "lr=0.001", 8, 0.25, false);
  EXPECT_EQ(load_report_run(path).label, "lr=0.001");
  EXPECT_EQ(load_report_run(path + "=fast").label, "fast");
}

}  // namespace
}  // namespace caudal
