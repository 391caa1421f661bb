#include "caudal/semantic/endpoint.h"

#include <ATen/ATen.h>
#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <unordered_map>

#include "caudal/core/error.h"

namespace caudal {
namespace {

size_t append_body(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

struct Response {
  long status = 0;
  std::string body;
  std::string network_error;  // set when no HTTP answer came (timeout, refused...)
};

Response post_json(const std::string& url, const std::string& body, const std::string& api_key, double timeout_seconds) {
  static std::once_flag curl_ready;
  std::call_once(curl_ready, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  Response response;
  CURL* curl = curl_easy_init();
  if (!curl) throw Error("cannot start an HTTP client (libcurl)");
  struct curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  if (!api_key.empty()) headers = curl_slist_append(headers, ("Authorization: Bearer " + api_key).c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  // At least 1 ms: 0 would mean no timeout at all.
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, std::max(1L, std::lround(timeout_seconds * 1000)));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  const CURLcode code = curl_easy_perform(curl);
  if (code != CURLE_OK) {
    response.network_error = curl_easy_strerror(code);
  } else {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return response;
}

std::string excerpt(const std::string& text) { return text.size() > 200 ? text.substr(0, 200) + "..." : text; }

// A stable fingerprint of (model, text), so cached vectors of edited texts
// or of another model are not reused. FNV-1a.
std::string fingerprint(const std::string& model, const std::string& text) {
  uint64_t h = 1469598103934665603ull;
  for (const std::string* s : {&model, &text}) {
    for (unsigned char c : *s) h = (h ^ c) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;
  }
  char buffer[17];
  std::snprintf(buffer, sizeof buffer, "%016llx", static_cast<unsigned long long>(h));
  return buffer;
}

}  // namespace

EmbeddingClient::EmbeddingClient(EndpointOptions options) : options_(std::move(options)) {
  if (options_.url.empty()) throw Error("--endpoint: a URL is required for the endpoint encoder");
  if (options_.model.empty()) throw Error("--model: the endpoint encoder needs a model name");
  if (options_.batch_size < 1) throw Error("--batch-size must be at least 1");
  if (!(options_.timeout_seconds >= 0.001))
    throw Error("--timeout must be at least 0.001 seconds, got " + std::to_string(options_.timeout_seconds));
  if (const char* key = std::getenv(options_.api_key_env.c_str())) api_key_ = key;
}

EmbeddingClient::~EmbeddingClient() = default;

std::vector<std::vector<float>> EmbeddingClient::embed(const std::vector<std::string>& texts) {
  const std::string body = nlohmann::json{{"model", options_.model}, {"input", texts}}.dump();
  std::string last_problem;
  for (int attempt = 0; attempt <= options_.max_retries; ++attempt) {
    if (attempt > 0)
      std::this_thread::sleep_for(std::chrono::duration<double>(retry_delay(options_.backoff_seconds, attempt)));
    auto response = post_json(options_.url, body, api_key_, options_.timeout_seconds);
    if (!response.network_error.empty()) {
      last_problem = response.network_error;
      continue;
    }
    if (response.status == 429 || response.status >= 500) {
      last_problem = "HTTP " + std::to_string(response.status) + ": " + excerpt(response.body);
      continue;
    }
    if (response.status != 200)
      throw Error(options_.url + ": HTTP " + std::to_string(response.status) + ": " + excerpt(response.body));
    return parse_embedding_answer(response.body, texts.size(), options_.dim, options_.url);
  }
  throw Error(options_.url + ": no valid answer after " + std::to_string(options_.max_retries + 1) +
              " tries; last: " + last_problem);
}

std::vector<std::vector<float>> parse_embedding_answer(const std::string& body, size_t count, int64_t& dim,
                                                       const std::string& url) {
  nlohmann::json answer;
  try {
    answer = nlohmann::json::parse(body);
  } catch (const nlohmann::json::exception&) {  // a syntax error, or a number beyond double (1e400)
    throw Error(url + ": malformed answer (not JSON): " + excerpt(body));
  }
  if (!answer.is_object() || !answer.contains("data") || !answer["data"].is_array())
    throw Error(url + ": malformed answer (no 'data' array): " + excerpt(body));
  const auto& data = answer["data"];
  if (data.size() != count)
    throw Error(url + ": answered " + std::to_string(data.size()) + " vectors for " + std::to_string(count) + " inputs");
  std::vector<std::vector<float>> vectors(count);
  for (size_t i = 0; i < data.size(); ++i) {
    const auto& entry = data[i];
    const size_t index = entry.contains("index") && entry["index"].is_number_unsigned() ? entry["index"].get<size_t>() : i;
    if (index >= count || !vectors[index].empty())
      throw Error(url + ": malformed answer (bad or repeated index " + std::to_string(index) + ")");
    if (!entry.contains("embedding") || !entry["embedding"].is_array())
      throw Error(url + ": malformed answer (data[" + std::to_string(i) + "] has no 'embedding' array)");
    for (const auto& v : entry["embedding"]) {
      if (!v.is_number()) throw Error(url + ": malformed answer (non-numeric value in data[" + std::to_string(i) + "])");
      const double value = v.get<double>();
      if (!std::isfinite(value) || std::abs(value) > std::numeric_limits<float>::max())
        throw Error(url + ": malformed answer (value " + v.dump() + " in data[" + std::to_string(i) +
                    "] is not a finite float)");
      vectors[index].push_back(static_cast<float>(value));
    }
    if (vectors[index].empty())
      throw Error(url + ": malformed answer (data[" + std::to_string(i) + "] is an empty vector)");
    if (dim == 0) dim = static_cast<int64_t>(vectors[index].size());
    if (static_cast<int64_t>(vectors[index].size()) != dim)
      throw Error(url + ": vector of length " + std::to_string(vectors[index].size()) + " in data[" + std::to_string(i) +
                  "], expected " + std::to_string(dim));
  }
  return vectors;
}

std::unordered_map<int64_t, std::vector<float>> read_embedding_cache(const std::string& path, const std::string& model,
                                                                    const std::vector<std::string>& texts) {
  namespace fs = std::filesystem;
  std::unordered_map<int64_t, std::vector<float>> cached;
  if (!fs::exists(path)) return cached;
  if (!fs::is_regular_file(path)) throw Error("--cache " + path + " is not a regular file (a directory?)");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open the cache " + path + ": " + std::strerror(errno));
  std::string line;
  int64_t line_no = 0;
  uint64_t whole_lines_bytes = 0;  // up to and including the last newline
  while (std::getline(in, line)) {
    ++line_no;
    if (in.eof()) {  // no newline after it: the torn tail of an interrupted write
      std::error_code ec;
      fs::resize_file(path, whole_lines_bytes, ec);
      if (ec) throw Error("cannot cut the torn last line of the cache " + path + ": " + ec.message());
      std::fprintf(stderr, "caudal: warning: %s:%lld: dropped a torn last line (an interrupted write)\n", path.c_str(),
                   static_cast<long long>(line_no));
      break;
    }
    whole_lines_bytes += line.size() + 1;
    if (line.empty()) continue;
    auto entry = nlohmann::json::parse(line, nullptr, false);
    if (entry.is_discarded() || !entry.is_object() || !entry.contains("item") || !entry["item"].is_number_integer() ||
        !entry.contains("fingerprint") || !entry["fingerprint"].is_string() || !entry.contains("embedding") ||
        !entry["embedding"].is_array() || entry["embedding"].empty())
      throw input_error(path, line_no,
                        "damaged cache line (not {\"item\", \"fingerprint\", \"embedding\"}); delete the line or the cache");
    std::vector<float> vector;
    for (const auto& v : entry["embedding"]) {
      if (!v.is_number() || !std::isfinite(v.get<double>()) || std::abs(v.get<double>()) > std::numeric_limits<float>::max())
        throw input_error(path, line_no, "damaged cache line (value " + v.dump() + " is not a finite float)");
      vector.push_back(v.get<float>());
    }
    const int64_t item = entry["item"].get<int64_t>();
    if (item >= 1 && item < static_cast<int64_t>(texts.size()) &&
        entry["fingerprint"].get<std::string>() == fingerprint(model, texts[item]))
      cached[item] = std::move(vector);
  }
  return cached;
}

at::Tensor endpoint_item_vectors(const std::vector<std::string>& texts, const std::vector<int64_t>& items,
                                 const EndpointOptions& options, const std::function<void(int64_t, int64_t)>& progress) {
  std::unordered_map<int64_t, std::vector<float>> done;
  if (!options.cache_path.empty()) done = read_embedding_cache(options.cache_path, options.model, texts);
  std::vector<int64_t> todo;
  for (int64_t item : items)
    if (!done.count(item)) todo.push_back(item);
  EndpointOptions client_options = options;
  if (!done.empty() && client_options.dim == 0) client_options.dim = static_cast<int64_t>(done.begin()->second.size());
  EmbeddingClient client(client_options);
  std::ofstream cache;
  if (!options.cache_path.empty()) {
    cache.open(options.cache_path, std::ios::app | std::ios::binary);
    if (!cache) throw Error("cannot open the cache " + options.cache_path + " to append: " + std::strerror(errno));
  }
  const auto total = static_cast<int64_t>(items.size());
  for (size_t start = 0; start < todo.size(); start += options.batch_size) {
    const size_t end = std::min(todo.size(), start + static_cast<size_t>(options.batch_size));
    std::vector<std::string> batch;
    for (size_t k = start; k < end; ++k) batch.push_back(texts[todo[k]]);
    auto vectors = client.embed(batch);
    for (size_t k = start; k < end; ++k) {
      done[todo[k]] = vectors[k - start];
      if (cache.is_open())
        cache << nlohmann::json{{"item", todo[k]}, {"fingerprint", fingerprint(options.model, texts[todo[k]])},
                                {"embedding", vectors[k - start]}}
                     .dump()
              << '\n';
    }
    if (cache.is_open() && !cache.flush())
      throw Error("cannot write the cache " + options.cache_path + " (disk full?): " + std::strerror(errno));
    if (progress) progress(total - static_cast<int64_t>(todo.size() - end), total);
  }
  int64_t dim = 0;
  for (auto& [item, v] : done) {
    if (dim == 0) dim = static_cast<int64_t>(v.size());
    if (static_cast<int64_t>(v.size()) != dim)
      throw Error("endpoint vectors of different lengths (" + std::to_string(dim) + " and " + std::to_string(v.size()) +
                  "); delete the cache " + options.cache_path + " if the model changed");
  }
  auto table = at::zeros({static_cast<int64_t>(texts.size()), std::max<int64_t>(dim, 1)}, at::kFloat);
  for (int64_t item : items) {
    const auto& v = done.at(item);
    std::copy(v.begin(), v.end(), table[item].data_ptr<float>());
  }
  return table;
}

double retry_delay(double first, int retry) { return std::ldexp(first, std::clamp(retry - 1, 0, 6)); }

}  // namespace caudal
