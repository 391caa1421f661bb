// The HTTP front of a trained run (cpp-httplib):
//   POST /v1/recommend        {"history": [ids] | "user": id, "k": 10, "exclude_history": true, "exclude": [ids]}
//                             -> {"items": [{"id", "score", "group": "head"|"tail", "text"?}], "model": "..."}
//   POST /v1/recommend/batch  {"requests": [ ...as above... ]} -> {"results": [ {"items": ...}, ... ], "model": "..."}
//   GET  /v1/health           -> {"status": "ok", "model", "items", "users"}
//   GET  /v1/items/{id}       -> {"id", "group", "train_count", "text"?}
//   GET  /metrics             Prometheus text: requests and errors by path and code, latency histogram, batch sizes
// Ids are the catalogue's names (catalogue.h). Bad requests get a 4xx with
// {"error": "..."} naming the field; nothing a client sends stops the server.
//
// Requests that arrive together are scored together: scoring workers take
// whatever is queued, wait up to `batch_window_ms` for up to `max_batch`
// requests, and score them in one forward pass (Recommender::recommend).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "caudal/core/error.h"
#include "caudal/infer/catalogue.h"
#include "caudal/infer/recommender.h"

namespace caudal {

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8080;              // 0: any free port (see RecommendServer::bind)
  int workers = 1;              // scoring threads
  int http_threads = 64;        // connections served at once
  bool batching = true;         // false: each request scored alone
  double batch_window_ms = 2;   // how long a worker waits for more requests
  int64_t max_batch = 64;       // requests per forward pass
  size_t max_body_bytes = 1 << 20;
  int64_t max_history = 2000;   // items in a history (the model reads the last max_len)
  int64_t max_k = 1000;
  int64_t max_batch_requests = 256;  // requests in one /v1/recommend/batch call
  std::string api_key;          // when set, every request needs "Authorization: Bearer <key>"
  std::string model_name;       // reported in answers
};

class RecommendServer {
 public:
  RecommendServer(const Recommender& recommender, const Catalogue& catalogue, ServeOptions options);
  ~RecommendServer();
  RecommendServer(const RecommendServer&) = delete;
  RecommendServer& operator=(const RecommendServer&) = delete;

  // Binds host:port; returns the port bound. Throws caudal::Error when it cannot.
  int bind();
  // Answers requests until stop(); returns once the requests being answered
  // are answered (connections not yet taken up by a thread are closed).
  void serve();
  // From any thread, before or during serve(): stop accepting and wait until
  // serve() has returned.
  void stop();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// A request the client got wrong: answered with `status` (a 4xx) and
// {"error": what()}, which names the field.
class BadRequest : public Error {
 public:
  BadRequest(int status, const std::string& message) : Error(message), status(status) {}
  int status;
};

// The requests in the body of POST /v1/recommend (one request) or, when
// `batch`, of /v1/recommend/batch ({"requests": [...]}): item names resolved
// through `catalogue`, a "user" replaced by that user's sequence in
// `dataset`, sizes held to the options' limits. Throws BadRequest for
// anything a client can get wrong. Public so that the parser can be fuzzed
// without a server (fuzz/fuzz_server.cpp).
std::vector<RecommendRequest> parse_recommend_body(const std::string& body, bool batch, const Dataset& dataset,
                                                   const Catalogue& catalogue, const ServeOptions& options);

// Whether host is a loopback address (127.0.0.0/8, ::1, localhost).
bool is_loopback_host(const std::string& host);

}  // namespace caudal
