// `caudal recommend`: the k best items for histories, from a trained run:
// a user's full history (--user), given histories (--history, --input), or
// every user of the run's data (--all-users), as TSV or JSON lines.
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "caudal/core/atomic_file.h"
#include "caudal/core/device.h"
#include "caudal/core/error.h"
#include "caudal/core/log.h"
#include "caudal/core/threads.h"
#include "caudal/infer/catalogue.h"
#include "caudal/infer/recommender.h"
#include "caudal/run/trained_model.h"
#include "command.h"

namespace caudal {
namespace {

struct RecommendCommand {
  RunToRecommend source;
  std::string input, out, format = "tsv", exclude;
  std::vector<std::string> users, histories;
  bool all_users = false, include_history = false, overwrite = false;
  int64_t k = 10, block = 256;
};

std::vector<int64_t> item_ids(const Catalogue& catalogue, const std::string& names, const std::string& where) {
  std::vector<int64_t> ids;
  std::istringstream in(names);
  std::string name;
  try {
    while (in >> name) ids.push_back(catalogue.item_id(name));
  } catch (const Error& e) {
    throw Error(where + ": " + e.what());
  }
  return ids;
}

// Where --out writes: a regular file (through a link, the file it names),
// never a device or a directory, and an existing one only with --overwrite.
std::string output_path(const RecommendCommand& c) {
  if (c.out.empty() || !std::filesystem::exists(c.out)) return c.out;
  const auto target = std::filesystem::canonical(c.out);
  if (!std::filesystem::is_regular_file(target)) throw Error("--out " + c.out + ": not a regular file");
  if (!c.overwrite) throw Error(c.out + " exists; pass --overwrite to replace it");
  return target.string();
}

int run_recommend(const RecommendCommand& c) {
  const auto out = output_path(c);
  const auto loaded = c.source.load(c.block);
  const auto& recommender = *loaded.recommender;
  const auto& catalogue = *loaded.catalogue;
  const auto& dataset = recommender.run().dataset;

  std::vector<std::string> queries;  // what each output row answers
  std::vector<RecommendRequest> requests;
  const auto excluded = item_ids(catalogue, c.exclude, "--exclude");
  auto add = [&](std::string query, std::vector<int64_t> history) {
    queries.push_back(std::move(query));
    requests.push_back(RecommendRequest{std::move(history), excluded, c.k, !c.include_history});
  };
  auto add_user = [&](int64_t position) { add(catalogue.user_name(position), dataset.sequence(position)); };
  for (const auto& user : c.users) add_user(catalogue.user_position(user));
  if (c.all_users)
    for (int64_t u = 0; u < dataset.num_users(); ++u) add_user(u);
  for (size_t i = 0; i < c.histories.size(); ++i)
    add(fmt::format("history-{}", i + 1), item_ids(catalogue, c.histories[i], fmt::format("--history {}", i + 1)));
  if (!c.input.empty()) {
    std::ifstream in(c.input);
    if (!in) throw Error("cannot open " + c.input);
    std::string line;
    for (int64_t line_no = 1; std::getline(in, line); ++line_no) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      add(fmt::format("line-{}", line_no), item_ids(catalogue, line, fmt::format("{}:{}", c.input, line_no)));
    }
  }
  if (requests.empty())
    throw Error(c.input.empty() ? "nothing to recommend for: give --user, --history, --input or --all-users"
                                : "--input " + c.input + " holds no history");

  const auto start = std::chrono::steady_clock::now();
  std::vector<Recommendation> results;
  {
    Progress bar("recommending", static_cast<int64_t>(requests.size()), "histories");
    results = recommender.recommend(requests, &bar);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  const auto& head = dataset.groups().is_head_item;
  std::string text;
  if (c.format == "tsv") text = catalogue.has_text() ? "query\trank\titem\tscore\tgroup\ttext\n" : "query\trank\titem\tscore\tgroup\n";
  for (size_t q = 0; q < results.size(); ++q) {
    nlohmann::json items = nlohmann::json::array();
    for (size_t j = 0; j < results[q].items.size(); ++j) {
      const int64_t item = results[q].items[j];
      const char* group = head[item] ? "head" : "tail";
      if (c.format == "tsv") {
        text += fmt::format("{}\t{}\t{}\t{:.6g}\t{}", queries[q], j + 1, catalogue.item_name(item), results[q].scores[j], group);
        text += catalogue.has_text() ? "\t" + catalogue.item_text(item) + "\n" : "\n";
      } else {
        nlohmann::json entry = {{"id", catalogue.item_name(item)}, {"score", results[q].scores[j]}, {"group", group}};
        if (catalogue.has_text()) entry["text"] = catalogue.item_text(item);
        items.push_back(std::move(entry));
      }
    }
    if (c.format == "jsonl")  // item text need not be valid UTF-8: replace what is not
      text += nlohmann::json{{"query", queries[q]}, {"items", items}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  if (out.empty()) {
    std::cout << text << std::flush;
    if (!std::cout) throw Error("cannot write the recommendations to standard output");
  } else {
    write_file_atomically(out, text);
  }
  std::cerr << fmt::format("{} histories scored in {:.2f}s ({:.0f} per second){}\n", results.size(), seconds,
                           static_cast<double>(results.size()) / std::max(seconds, 1e-9),
                           out.empty() ? "" : "; written to " + out);
  return 0;
}

}  // namespace

void RunToRecommend::add_options(CLI::App& command) {
  command.add_option("--run", run, "run directory written by train")->required()->check(CLI::ExistingDirectory);
  command.add_option("--items", items, "item side file (.tsv/.csv with a header): answers carry item text")
      ->check(CLI::ExistingFile);
  command.add_option("--item-columns", item_columns, "text columns of --items, comma-separated")->capture_default_str();
  command.add_option("--threads", threads, "compute threads")->capture_default_str()->check(CLI::Range(1, 256));
  command.add_option("--device", device, "cpu or cuda[:N]")->capture_default_str();
}

RunToRecommend::Loaded RunToRecommend::load(int64_t block_size) const {
  make_logger("");
  set_compute_threads(threads);
  const auto directory = RunDirectory::open(run);
  Loaded loaded{read_run_config(directory), directory.path(), nullptr, nullptr};
  loaded.recommender = std::make_unique<Recommender>(
      load_trained_run(directory, loaded.config, parse_device(device)), block_size);
  ItemTextOptions texts;
  if (!items.empty()) texts.columns = split_list(item_columns);
  loaded.catalogue = std::make_unique<Catalogue>(loaded.recommender->run().dataset, loaded.config.data, items, texts);
  return loaded;
}

Command add_recommend_command(CLI::App& app) {
  auto c = std::make_shared<RecommendCommand>();
  auto* cmd = app.add_subcommand("recommend", "the k best items for users or histories, from a trained run");
  c->source.add_options(*cmd);
  cmd->add_option("--user", c->users, "a user of the run's data (original id after `caudal prepare`): its full history")
      ->allow_extra_args(false);
  cmd->add_option("--history", c->histories, "a history: item ids separated by spaces, oldest first (quoted)")
      ->allow_extra_args(false);
  cmd->add_option("--input", c->input, "a file with one history per line")->check(CLI::ExistingFile);
  cmd->add_flag("--all-users", c->all_users, "every user of the run's data");
  cmd->add_option("--k", c->k, "items per history")->capture_default_str()->check(CLI::Range(1, 100000));
  cmd->add_option("--exclude", c->exclude, "items never to recommend, separated by spaces");
  cmd->add_flag("--include-history", c->include_history, "allow items of the history (default: removed)");
  cmd->add_option("--format", c->format, "tsv or jsonl")->capture_default_str()->check(CLI::IsMember({"tsv", "jsonl"}));
  cmd->add_option("--out", c->out, "output file (default: standard output)");
  cmd->add_flag("--overwrite", c->overwrite, "replace --out if it exists");
  cmd->add_option("--batch", c->block, "histories per forward pass")->capture_default_str()->check(CLI::Range(1, 65536));
  return {cmd, [c] { return run_recommend(*c); }};
}

}  // namespace caudal
