#include "embed_command.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <chrono>
#include <iostream>

#include "caudal/core/error.h"
#include "caudal/core/threads.h"
#include "caudal/data/sequences.h"
#include "caudal/semantic/vector_file.h"

namespace caudal {

int run_embed(const EmbedRequest& request) {
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
    table = endpoint_item_vectors(texts.text, with_text, request.endpoint, [](int64_t done, int64_t total) {
      std::cerr << fmt::format("\rembedded {}/{}", done, total) << std::flush;
    });
    std::cerr << "\n";
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

}  // namespace caudal
