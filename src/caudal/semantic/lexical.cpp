#include "caudal/semantic/lexical.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <unordered_map>

#include "caudal/core/error.h"

namespace caudal {

std::vector<std::string> tokenize(const std::string& text) {
  std::vector<std::string> tokens;
  std::string current;
  auto flush = [&]() {
    if (current.size() >= 2) tokens.push_back(current);
    current.clear();
  };
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '_' || c >= 0x80) {  // bytes of UTF-8 letters stay inside words
      current += static_cast<char>(std::tolower(c));
    } else {
      flush();
    }
  }
  flush();
  return tokens;
}

TfidfMatrix tfidf(const std::vector<std::string>& texts, const LexicalOptions& options) {
  // Terms of each text with their counts: unigrams and bigrams.
  std::unordered_map<std::string, int64_t> term_index;
  std::vector<std::string> terms;
  std::vector<std::vector<std::pair<int64_t, int64_t>>> counts(texts.size());
  std::vector<int64_t> df;
  int64_t documents = 0;
  for (size_t t = 0; t < texts.size(); ++t) {
    auto tokens = tokenize(texts[t]);
    if (tokens.empty()) continue;
    ++documents;
    std::unordered_map<int64_t, int64_t> local;
    auto add = [&](const std::string& term) {
      auto [it, inserted] = term_index.emplace(term, static_cast<int64_t>(terms.size()));
      if (inserted) {
        terms.push_back(term);
        df.push_back(0);
      }
      ++local[it->second];
    };
    for (size_t k = 0; k < tokens.size(); ++k) {
      add(tokens[k]);
      if (k + 1 < tokens.size()) add(tokens[k] + " " + tokens[k + 1]);
    }
    for (auto& [term, count] : local) {
      ++df[term];
      counts[t].emplace_back(term, count);
    }
  }
  // Keep frequent-enough terms, renumbered in first-seen order (deterministic).
  std::vector<int64_t> kept(terms.size(), -1);
  TfidfMatrix out;
  for (size_t i = 0; i < terms.size(); ++i) {
    if (df[i] >= options.min_df) {
      kept[i] = static_cast<int64_t>(out.terms.size());
      out.terms.push_back(terms[i]);
    }
  }
  if (out.terms.empty()) throw Error("lexical encoder: no term appears in " + std::to_string(options.min_df) + " texts");
  std::vector<int64_t> rows, cols;
  std::vector<float> values;
  for (size_t t = 0; t < texts.size(); ++t) {
    auto& entries = counts[t];
    std::sort(entries.begin(), entries.end());
    const size_t start = values.size();
    double norm = 0;
    for (auto& [term, count] : entries) {
      if (kept[term] < 0) continue;
      const double idf = std::log((1.0 + documents) / (1.0 + df[term])) + 1.0;
      const double w = (1.0 + std::log(static_cast<double>(count))) * idf;
      rows.push_back(static_cast<int64_t>(t));
      cols.push_back(kept[term]);
      values.push_back(static_cast<float>(w));
      norm += w * w;
    }
    norm = std::sqrt(norm);
    for (size_t v = start; v < values.size(); ++v) values[v] = static_cast<float>(values[v] / norm);
  }
  const auto nnz = static_cast<int64_t>(values.size());
  auto indices = at::stack({at::tensor(rows, at::kLong), at::tensor(cols, at::kLong)}).view({2, nnz});
  out.matrix = at::sparse_coo_tensor(indices, at::tensor(values, at::kFloat),
                                     {static_cast<int64_t>(texts.size()), static_cast<int64_t>(out.terms.size())})
                   .coalesce();
  return out;
}

at::Tensor randomized_svd_embedding(const at::Tensor& sparse, int64_t k, const LexicalOptions& options) {
  const int64_t rows = sparse.size(0), cols = sparse.size(1);
  k = std::min({k, rows, cols});
  const int64_t width = std::min({k + options.oversample, rows, cols});
  auto transposed = sparse.t().coalesce();
  auto generator = at::detail::createCPUGenerator(options.seed);
  auto omega = at::randn({cols, width}, generator, at::kFloat);
  auto orthonormal = [](const at::Tensor& y) { return std::get<0>(at::linalg_qr(y)); };
  auto q = orthonormal(at::mm(sparse, omega));
  for (int64_t i = 0; i < options.power_iterations; ++i) {
    q = orthonormal(at::mm(transposed, q));
    q = orthonormal(at::mm(sparse, q));
  }
  // B = Q^T A is width x cols; its left singular vectors come from the small
  // width x width matrix B B^T.
  auto b = at::mm(transposed, q).t().contiguous();  // [width, cols]
  auto gram = at::mm(b, b.t()).to(at::kDouble);
  auto [eigenvalues, eigenvectors] = at::linalg_eigh(gram);  // ascending
  auto top = at::arange(width - 1, width - 1 - k, -1, at::kLong);
  auto singular = eigenvalues.index_select(0, top).clamp_min(0).sqrt();
  auto u = at::mm(q.to(at::kDouble), eigenvectors.index_select(1, top));  // [rows, k]
  // Sign convention (as scikit-learn's svd_flip): largest |entry| positive.
  auto largest = u.abs().argmax(0);
  auto signs = u.gather(0, largest.unsqueeze(0)).sign();
  signs = at::where(signs == 0, at::ones_like(signs), signs);
  return (u * signs * singular.unsqueeze(0)).to(at::kFloat);
}

at::Tensor lexical_item_vectors(const std::vector<std::string>& texts, const LexicalOptions& options) {
  if (options.dim < 1) throw Error("--dim must be at least 1");
  auto matrix = tfidf(texts, options).matrix;
  auto vectors = randomized_svd_embedding(matrix, options.dim, options);
  if (vectors.size(1) < options.dim)  // fewer terms or texts than dimensions: pad with zero columns
    vectors = at::constant_pad_nd(vectors, {0, options.dim - vectors.size(1)});
  vectors[0].zero_();
  return vectors;
}

at::Tensor pca_project(const at::Tensor& table, int64_t d) {
  auto items = table.narrow(0, 1, table.size(0) - 1).to(at::kDouble);
  if (d > std::min(items.size(0), items.size(1)))
    throw Error("PCA to " + std::to_string(d) + " dimensions needs at least that many items and input dimensions (have " +
                std::to_string(items.size(0)) + " x " + std::to_string(items.size(1)) + ")");
  auto centred = items - items.mean(0, true);
  auto svd = at::linalg_svd(centred, /*full_matrices=*/false);
  auto axes = std::get<2>(svd).narrow(0, 0, d);  // [d, D]
  auto projected = at::mm(centred, axes.t());
  auto out = at::zeros({table.size(0), d}, at::kFloat);
  out.narrow(0, 1, items.size(0)).copy_(projected);
  return out;
}

}  // namespace caudal
