// `caudal prepare`: a raw interaction log (CSV, Amazon review dump, RecBole
// .inter, MovieLens ratings) -> sequence file, id maps, a summary and, with
// --items, the item text file that `caudal embed` reads.
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <iostream>
#include <unordered_map>

#include "caudal/core/atomic_file.h"
#include "caudal/core/error.h"
#include "caudal/data/item_metadata.h"
#include "caudal/data/prepare.h"
#include "command.h"

namespace caudal {
namespace {

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : "|") + n;
  return out;
}

}  // namespace

Command add_prepare_command(CLI::App& app) {
  struct State {
    std::string interactions, out, format = "auto", items, items_format = "auto", dedupe = "keep";
    PrepareOptions options;
    double min_rating = 0;
    bool overwrite = false;
  };
  auto s = std::make_shared<State>();
  auto* cmd = app.add_subcommand("prepare", "raw interaction log -> sequence file, id maps, item text");
  cmd->add_option("--interactions", s->interactions, "interaction log (plain or .gz)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--format", s->format, "auto|" + joined(log_format_names()))->capture_default_str();
  cmd->add_option("--out", s->out, "output directory")->required();
  cmd->add_option("--items", s->items, "item metadata -> DIR/items.tsv (plain or .gz)")->check(CLI::ExistingFile);
  cmd->add_option("--items-format", s->items_format, "auto|" + joined(item_format_names()))->capture_default_str();
  auto* min_rating = cmd->add_option("--min-rating", s->min_rating, "drop interactions rated below this");
  cmd->add_option("--dedupe", s->dedupe, "repeated user-item interactions: keep|first|last")->capture_default_str();
  cmd->add_option("--k-core", s->options.k_core, "iterated k-core filter (at least 1)")->capture_default_str();
  cmd->add_flag("--overwrite", s->overwrite, "replace data already prepared in --out");
  return {cmd, [s, min_rating] {
            auto& options = s->options;
            if (s->format != "auto") options.format = parse_log_format(s->format);
            if (min_rating->count()) {
              if (!std::isfinite(s->min_rating)) throw Error("--min-rating: must be a finite number");
              options.min_rating = s->min_rating;
            }
            options.dedupe = parse_dedupe(s->dedupe);
            std::optional<ItemFormat> items_format;
            if (!s->items.empty())
              items_format = s->items_format == "auto" ? guess_item_format(s->items) : parse_item_format(s->items_format);
            // What will be written; checked before any reading.
            std::vector<std::string> names = {"sequences.txt", "user_map.tsv", "item_map.tsv", "prepare.json"};
            if (items_format) names.push_back("items.tsv");
            for (const auto& name : names) {
              const auto path = std::filesystem::path(s->out) / name;
              std::error_code ec;
              for (const auto& input : {s->interactions, s->items})
                if (!input.empty() && std::filesystem::equivalent(path, input, ec))
                  throw Error(path.string() + " is an input of this command; choose another --out");
              if (std::filesystem::exists(path) && !s->overwrite)
                throw Error(s->out + " already holds prepared data (" + name + "); give --overwrite to replace it");
            }

            const auto data = prepare_interactions(s->interactions, options);
            auto summary = summarize(data, options);
            auto files = prepared_files(data);
            std::optional<ItemMetadata> metadata;
            if (items_format) {
              std::unordered_map<std::string, int64_t> item_ids;
              for (size_t i = 0; i < data.item_names.size(); ++i) item_ids.emplace(data.item_names[i], static_cast<int64_t>(i) + 1);
              metadata = read_item_metadata(s->items, *items_format, item_ids, static_cast<int64_t>(data.item_names.size()));
              summary["item_text"] = {{"source", s->items},
                                      {"format", item_format_name(*items_format)},
                                      {"rows_read", metadata->rows_read},
                                      {"items_with_text", metadata->items_found},
                                      {"columns", metadata->columns}};
              files.emplace_back("items.tsv", items_tsv(*metadata, data.item_names));
            }
            // Paths and ids need not be UTF-8; the summary must be valid JSON all the same.
            files.emplace_back("prepare.json", summary.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
            for (auto& [name, content] : files) name = (std::filesystem::path(s->out) / name).string();
            std::filesystem::create_directories(s->out);
            write_files_atomically(files);
            // An items.tsv of earlier data would no longer match the new ids.
            if (!items_format) std::filesystem::remove(std::filesystem::path(s->out) / "items.tsv");
            std::cout << summary_text(summary);
            if (metadata) {
              std::string columns;
              for (const auto& c : metadata->columns) columns += (columns.empty() ? "" : ",") + c;
              std::cout << fmt::format("item text: {} of {} items ({} rows read) -> {}/items.tsv, columns {}\n",
                                       metadata->items_found, data.item_names.size(), metadata->rows_read, s->out, columns);
            }
            std::cout << fmt::format("-> {}/sequences.txt, user_map.tsv, item_map.tsv, prepare.json\n", s->out);
            return 0;
          }};
}

}  // namespace caudal
