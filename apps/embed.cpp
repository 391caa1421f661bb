// `caudal embed`: item text -> a vector table file (.npy or text), with the
// built-in lexical encoder or an OpenAI-compatible embedding endpoint.
#include <ATen/ATen.h>
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <iostream>

#include "caudal/core/error.h"
#include "caudal/core/progress.h"
#include "caudal/core/threads.h"
#include "caudal/data/sequences.h"
#include "caudal/semantic/endpoint.h"
#include "caudal/semantic/item_text.h"
#include "caudal/semantic/lexical.h"
#include "caudal/semantic/vector_file.h"
#include "command.h"
#include "options.h"

namespace caudal {
namespace {

struct EmbedRequest {
  std::string items;      // item side file
  std::string data;       // optional sequence file: fixes the catalogue size, reports items without text
  ItemTextOptions text;
  std::string encoder = "lexical";  // lexical | endpoint
  LexicalOptions lexical;
  EndpointOptions endpoint;
  bool allow_missing = false;       // items without text get the mean vector instead of an error
  std::string out;
  bool overwrite = false;
  int threads = 1;
};

// The output never replaces an input, nor (without --overwrite) a table made before.
void check_output(const EmbedRequest& request) {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (const auto& [flag, input] : {std::pair<const char*, const std::string&>{"--items", request.items},
                                    {"--id-map", request.text.id_map},
                                    {"--data", request.data}})
    if (!input.empty() && fs::equivalent(request.out, input, ec))
      throw Error("--out " + request.out + " is the " + flag + " file: choose another output");
  if (fs::exists(request.out) && !request.overwrite)
    throw Error("--out " + request.out + " exists; give --overwrite to replace it");
}

int run_embed(const EmbedRequest& request) {
  check_output(request);
  set_compute_threads(request.threads);
  const auto start = std::chrono::steady_clock::now();
  const int64_t num_items = request.data.empty() ? 0 : load_sequences(request.data).num_items;
  auto texts = load_item_texts(request.items, request.text, num_items);
  const auto catalogue = static_cast<int64_t>(texts.text.size()) - 1;
  if (!texts.missing.empty()) {
    std::string ids;
    for (size_t i = 0; i < texts.missing.size() && i < 10; ++i) ids += (i ? ", " : "") + std::to_string(texts.missing[i]);
    const std::string message = fmt::format("{} of {} items have no text (first: {}{})", texts.missing.size(), catalogue,
                                            ids, texts.missing.size() > 10 ? ", ..." : "");
    if (!request.allow_missing) throw Error(request.items + ": " + message + "; pass --allow-missing to give them the mean vector");
    std::cerr << "caudal: warning: " << message << "; they get the mean vector\n";
  }
  std::vector<int64_t> with_text;
  std::vector<char> missing(catalogue + 1, 0);
  for (int64_t id : texts.missing) missing[id] = 1;
  for (int64_t id = 1; id <= catalogue; ++id)
    if (!missing[id]) with_text.push_back(id);

  at::Tensor table;
  if (request.encoder == "lexical") {
    table = lexical_item_vectors(texts.text, request.lexical);
  } else if (request.encoder == "endpoint") {
    Progress bar("embedding", static_cast<int64_t>(with_text.size()), "texts");
    // The first report counts texts already in the cache too: they are no
    // work of this run, so the bar starts after them and the rate stays true.
    int64_t shown = -1, cached = 0;
    table = endpoint_item_vectors(texts.text, with_text, request.endpoint, [&](int64_t done, int64_t total) {
      if (shown < 0) cached = shown = done;
      bar.set_total(total - cached);
      bar.advance(done - shown);
      shown = done;
    });
  } else {
    throw Error("--encoder must be lexical or endpoint, got '" + request.encoder + "'");
  }
  // Texts whose every term is unique to them give an all-zero lexical row: as
  // uninformative as no text. They get the mean vector too, with a warning.
  std::vector<int64_t> empty_rows;
  for (int64_t id : with_text)
    if (table[id].abs().sum().item<double>() == 0.0) empty_rows.push_back(id);
  if (!empty_rows.empty())
    std::cerr << fmt::format("caudal: warning: {} items have text but an all-zero vector (lexical: no term shared with another item; first: {}); they "
                             "get the mean vector\n",
                             empty_rows.size(), empty_rows.front());
  auto uninformative = texts.missing;
  uninformative.insert(uninformative.end(), empty_rows.begin(), empty_rows.end());
  if (!uninformative.empty()) {
    auto mean = table.narrow(0, 1, catalogue).sum(0) / static_cast<double>(catalogue - static_cast<int64_t>(uninformative.size()));
    for (int64_t id : uninformative) table[id].copy_(mean);
  }
  save_item_vectors(request.out, table);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << fmt::format("{} items x {} dims ({} encoder) -> {} in {:.2f}s\n", catalogue, table.size(1), request.encoder,
                           request.out, seconds);
  return 0;
}

}  // namespace

Command add_embed_command(CLI::App& app) {
  struct State {
    EmbedRequest request;
    std::string columns;
  };
  auto s = std::make_shared<State>();
  auto& r = s->request;
  auto* cmd = app.add_subcommand("embed", "item text -> semantic vectors (.npy or text)");
  cmd->add_option("--items", r.items, "item side file (.tsv or .csv with a header)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--columns", s->columns, "text columns, comma-separated")->required();
  cmd->add_option("--template", r.text.text_template, "text template with {column} fields (default: join)");
  cmd->add_option("--id-map", r.text.id_map, "item_map.tsv from `caudal prepare`")->check(CLI::ExistingFile);
  cmd->add_option("--data", r.data, "sequence file: catalogue size, items without text")->check(CLI::ExistingFile);
  cmd->add_option("--encoder", r.encoder, "lexical | endpoint")->capture_default_str()
      ->check(CLI::IsMember({"lexical", "endpoint"}));
  cmd->add_option("--out", r.out, "output vectors (.npy, otherwise text)")->required();
  cmd->add_flag("--overwrite", r.overwrite, "replace --out if it exists");
  cmd->add_option("--dim", r.lexical.dim, "lexical: dimensions")->capture_default_str()->check(in_range(1, 65536));
  cmd->add_option("--min-df", r.lexical.min_df, "lexical: minimal document frequency")->capture_default_str();
  cmd->add_option("--seed", r.lexical.seed, "lexical: SVD seed")->capture_default_str();
  cmd->add_option("--endpoint", r.endpoint.url, "endpoint: URL of an OpenAI-compatible /v1/embeddings");
  cmd->add_option("--model", r.endpoint.model, "endpoint: model name");
  cmd->add_option("--api-key-env", r.endpoint.api_key_env, "endpoint: environment variable with the key")
      ->capture_default_str();
  cmd->add_option("--batch-size", r.endpoint.batch_size, "endpoint: texts per request")->capture_default_str()
      ->check(in_range(1, 1e6));
  cmd->add_option("--timeout", r.endpoint.timeout_seconds, "endpoint: seconds per request")->capture_default_str()
      ->check(in_range(0.001, 86400));
  cmd->add_option("--retries", r.endpoint.max_retries, "endpoint: retries on 429/5xx/network errors")
      ->capture_default_str()->check(in_range(0, 1000));
  cmd->add_option("--cache", r.endpoint.cache_path, "endpoint: resumable cache (default: OUT.cache.jsonl)");
  cmd->add_flag("--allow-missing", r.allow_missing, "items without text get the mean vector");
  cmd->add_option("--threads", r.threads, "compute threads")->capture_default_str()->check(in_range(1, 1024));
  return {cmd, [s] {
            s->request.text.columns = split_list(s->columns);
            if (s->request.endpoint.cache_path.empty()) s->request.endpoint.cache_path = s->request.out + ".cache.jsonl";
            return run_embed(s->request);
          }};
}

}  // namespace caudal
