// Client of an OpenAI-compatible embeddings endpoint (POST {url} with
// {"model": M, "input": [texts]}, answer {"data": [{"index": i,
// "embedding": [...]}, ...]}): OpenAI itself, or a local llama.cpp, Ollama
// or vLLM server. Batched requests, a timeout per request, retries with
// exponential back-off on 429, 5xx and network errors, strict checks of every
// answer, and a resumable cache so an interrupted run re-sends only the
// items it has no vector for.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include <ATen/core/Tensor.h>

namespace caudal {

struct EndpointOptions {
  std::string url;                      // e.g. http://127.0.0.1:8080/v1/embeddings
  std::string model;                    // the "model" field of each request
  std::string api_key_env = "OPENAI_API_KEY";  // sent as a Bearer token when the variable is set
  int64_t batch_size = 64;              // texts per request
  double timeout_seconds = 60;          // per request
  int max_retries = 5;                  // after the first try
  double backoff_seconds = 1.0;         // wait before the first retry; doubles each time (retry_delay)
  std::string cache_path;               // JSON-lines cache of finished items ("" = none)
  int64_t dim = 0;                      // expected vector length (0 = take the first answer's)
};

// One request's worth of texts -> vectors, retrying as the options say.
// Throws caudal::Error naming the URL and what was wrong with the answer.
class EmbeddingClient {
 public:
  explicit EmbeddingClient(EndpointOptions options);
  ~EmbeddingClient();
  std::vector<std::vector<float>> embed(const std::vector<std::string>& texts);

 private:
  EndpointOptions options_;
  std::string api_key_;
};

// Embeds texts[id] for every id in `items` (texts indexed by item id, index 0
// unused) -> [texts.size(), d] table, row 0 and rows of other ids zero.
// progress(done, total) is called after each batch.
at::Tensor endpoint_item_vectors(const std::vector<std::string>& texts, const std::vector<int64_t>& items,
                                 const EndpointOptions& options,
                                 const std::function<void(int64_t, int64_t)>& progress = nullptr);

// The vectors of an endpoint's answer `body` to a request of `count` texts
// ({"data": [{"index": i, "embedding": [...]}, ...]}), in the order of the
// texts. Every vector must have length `dim`; 0 takes the first one's and
// sets `dim` to it. Throws caudal::Error naming `url` and what is wrong with
// the answer. What EmbeddingClient::embed does with a 200 answer; public so
// that it can be fuzzed without a server (fuzz/fuzz_endpoint.cpp).
std::vector<std::vector<float>> parse_embedding_answer(const std::string& body, size_t count, int64_t& dim,
                                                       const std::string& url);

// The resumable cache: JSON lines {"item", "fingerprint", "embedding"}, one
// per finished item -> the vectors of the items whose (model, text) still
// match. A last line without its newline (the torn tail of an interrupted
// write) is cut off the file, so that appending continues on a whole line; a
// malformed whole line or a non-finite value is an error naming file and
// line, and a path that is not a regular file is an error. No file: none cached.
std::unordered_map<int64_t, std::vector<float>> read_embedding_cache(const std::string& path, const std::string& model,
                                                                    const std::vector<std::string>& texts);

// Seconds to wait before retry number `retry` (1, 2, ...): `first`, doubling
// with each retry up to 64 times `first`, however many retries are allowed.
double retry_delay(double first, int retry);

}  // namespace caudal
