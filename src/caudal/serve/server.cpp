#include "caudal/serve/server.h"

#include <arpa/inet.h>
#include <httplib.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "caudal/core/error.h"

namespace caudal {
namespace {

using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

// Seconds; the last bucket is +Inf.
constexpr std::array<double, 12> kLatencyBuckets = {0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5};

class Metrics {
 public:
  void record(const std::string& path, int status, double seconds) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++requests_[{path, status}];
    for (size_t b = 0; b < kLatencyBuckets.size(); ++b)
      if (seconds <= kLatencyBuckets[b]) ++latency_counts_[b];
    ++latency_count_;
    latency_sum_ += seconds;
  }
  void record_batch(size_t size) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++batches_;
    batched_requests_ += size;
  }
  std::string text() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::string out = "# HELP caudal_requests_total HTTP requests by path and status code.\n# TYPE caudal_requests_total counter\n";
    uint64_t errors = 0;
    for (const auto& [key, count] : requests_) {
      out += fmt::format("caudal_requests_total{{path=\"{}\",code=\"{}\"}} {}\n", key.first, key.second, count);
      if (key.second >= 400) errors += count;
    }
    out += fmt::format("# HELP caudal_errors_total Requests answered with a 4xx or 5xx code.\n# TYPE caudal_errors_total counter\ncaudal_errors_total {}\n", errors);
    out += "# HELP caudal_request_seconds Time from routing to response.\n# TYPE caudal_request_seconds histogram\n";
    for (size_t b = 0; b < kLatencyBuckets.size(); ++b)
      out += fmt::format("caudal_request_seconds_bucket{{le=\"{}\"}} {}\n", kLatencyBuckets[b], latency_counts_[b]);
    out += fmt::format("caudal_request_seconds_bucket{{le=\"+Inf\"}} {}\ncaudal_request_seconds_sum {}\ncaudal_request_seconds_count {}\n",
                       latency_count_, latency_sum_, latency_count_);
    out += fmt::format("# HELP caudal_batches_total Forward passes.\n# TYPE caudal_batches_total counter\ncaudal_batches_total {}\n", batches_);
    out += fmt::format("# HELP caudal_batched_requests_total Histories scored in those passes.\n# TYPE caudal_batched_requests_total counter\ncaudal_batched_requests_total {}\n",
                       batched_requests_);
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::array<uint64_t, kLatencyBuckets.size()> latency_counts_{};
  uint64_t latency_count_ = 0, batches_ = 0, batched_requests_ = 0;
  double latency_sum_ = 0;
};

// Compares all of both strings whatever they hold, so the time taken does
// not tell how much of a guessed key was right.
bool equal_in_constant_time(const std::string& a, const std::string& b) {
  unsigned char difference = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) difference |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  return difference == 0;
}

std::string metric_path(const std::string& path) {
  for (const char* known : {"/v1/recommend/batch", "/v1/recommend", "/v1/health", "/metrics"})
    if (path == known) return known;
  return path.rfind("/v1/items/", 0) == 0 ? "/v1/items" : "other";
}

// When the request this thread is answering reached routing (unset for
// requests httplib refuses before that).
thread_local std::optional<Clock::time_point> request_start;

// Client text (paths, item text) need not be UTF-8: replace what is not.
std::string text(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::vector<int64_t> item_list(const json& j, const std::string& field, const std::string& request,
                               const Catalogue& catalogue, const ServeOptions& options) {
  if (!j.is_array()) throw BadRequest{400, request + "'" + field + "' must be an array of item ids"};
  if (static_cast<int64_t>(j.size()) > options.max_history)
    throw BadRequest{400, fmt::format("{}'{}' has {} items; at most {}", request, field, j.size(), options.max_history)};
  std::vector<int64_t> ids;
  for (size_t i = 0; i < j.size(); ++i) {
    const auto where = fmt::format("{}'{}'[{}]", request, field, i);
    std::string name;
    if (j[i].is_string()) {
      name = j[i].get<std::string>();
    } else if (j[i].is_number_integer()) {
      name = j[i].dump();
    } else {
      throw BadRequest{400, where + " must be an item id (a string or an integer)"};
    }
    try {
      ids.push_back(catalogue.item_id(name));
    } catch (const Error& e) {
      throw BadRequest{400, where + ": " + e.what()};
    }
  }
  return ids;
}

RecommendRequest parse_request(const json& j, const std::string& where, const Dataset& dataset, const Catalogue& catalogue,
                               const ServeOptions& options) {
  if (!j.is_object()) throw BadRequest{400, where + "a request must be a JSON object"};
  for (const auto& [key, value] : j.items())
    if (key != "history" && key != "user" && key != "k" && key != "exclude_history" && key != "exclude")
      throw BadRequest{400, where + "unknown field '" + key + "' (known: history, user, k, exclude_history, exclude)"};
  RecommendRequest request;
  request.k = std::min<int64_t>(request.k, options.max_k);
  if (j.contains("history") == j.contains("user")) throw BadRequest{400, where + "give either 'history' or 'user'"};
  if (j.contains("history")) {
    request.history = item_list(j["history"], "history", where, catalogue, options);
    if (request.history.empty()) throw BadRequest{400, where + "'history' is empty"};
  } else {
    const auto& user = j["user"];
    if (!user.is_string() && !user.is_number_integer()) throw BadRequest{400, where + "'user' must be a string or an integer"};
    try {
      request.history = dataset.sequence(catalogue.user_position(user.is_string() ? user.get<std::string>() : user.dump()));
    } catch (const Error& e) {
      throw BadRequest{400, where + "'user': " + e.what()};
    }
  }
  if (j.contains("k")) {
    if (!j["k"].is_number_integer()) throw BadRequest{400, where + "'k' must be an integer"};
    request.k = j["k"].get<int64_t>();
    if (request.k < 1 || request.k > options.max_k)
      throw BadRequest{400, fmt::format("{}'k' must be in [1, {}], got {}", where, options.max_k, request.k)};
  }
  if (j.contains("exclude_history")) {
    if (!j["exclude_history"].is_boolean()) throw BadRequest{400, where + "'exclude_history' must be true or false"};
    request.exclude_history = j["exclude_history"].get<bool>();
  }
  if (j.contains("exclude")) request.exclude = item_list(j["exclude"], "exclude", where, catalogue, options);
  return request;
}

}  // namespace

std::vector<RecommendRequest> parse_recommend_body(const std::string& body, bool batch, const Dataset& dataset,
                                                   const Catalogue& catalogue, const ServeOptions& options) {
  json j;
  try {
    j = json::parse(body);
  } catch (const json::exception& e) {  // a syntax error, or a number out of range
    throw BadRequest{400, std::string("malformed JSON: ") + e.what()};
  }
  if (!batch) return {parse_request(j, "", dataset, catalogue, options)};
  if (!j.is_object() || !j.contains("requests") || !j["requests"].is_array())
    throw BadRequest{400, "expected {\"requests\": [...]}"};
  const auto& list = j["requests"];
  if (list.empty() || static_cast<int64_t>(list.size()) > options.max_batch_requests)
    throw BadRequest{400, fmt::format("'requests' must hold 1 to {} requests, got {}", options.max_batch_requests, list.size())};
  std::vector<RecommendRequest> requests;
  for (size_t i = 0; i < list.size(); ++i)
    requests.push_back(parse_request(list[i], fmt::format("requests[{}]: ", i), dataset, catalogue, options));
  return requests;
}

bool is_loopback_host(const std::string& host) {
  if (host == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  return inet_pton(AF_INET6, host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

struct RecommendServer::State {
  struct Pending {
    RecommendRequest request;
    std::promise<Recommendation> done;
  };

  const Recommender& recommender;
  const Catalogue& catalogue;
  ServeOptions options;
  httplib::Server http;
  Metrics metrics;
  std::mutex mutex;
  std::condition_variable queued;
  std::deque<std::shared_ptr<Pending>> queue;
  bool stopping = false;
  std::vector<std::thread> workers;
  std::atomic<bool> stop_requested{false}, serving{false};

  State(const Recommender& r, const Catalogue& c, ServeOptions o) : recommender(r), catalogue(c), options(std::move(o)) {}

  // One scoring thread: takes what is queued (waiting up to the window for
  // a fuller batch), scores it in one pass, hands each answer back.
  void work() {
    const auto window = std::chrono::duration<double, std::milli>(options.batch_window_ms);
    const size_t most = options.batching ? static_cast<size_t>(options.max_batch) : 1;
    while (true) {
      std::unique_lock<std::mutex> lock(mutex);
      queued.wait(lock, [&] { return stopping || !queue.empty(); });
      if (queue.empty()) return;  // stopping, and nothing left
      if (options.batching) {
        const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(window);
        while (queue.size() < most && !stopping && queued.wait_until(lock, deadline) != std::cv_status::timeout) {
        }
      }
      std::vector<std::shared_ptr<Pending>> batch;
      while (!queue.empty() && batch.size() < most) {
        batch.push_back(queue.front());
        queue.pop_front();
      }
      lock.unlock();
      if (batch.empty()) continue;  // another worker took them
      std::vector<RecommendRequest> requests;
      for (const auto& pending : batch) requests.push_back(pending->request);
      try {
        auto results = recommender.recommend(requests);
        for (size_t i = 0; i < batch.size(); ++i) batch[i]->done.set_value(std::move(results[i]));
      } catch (...) {
        for (const auto& pending : batch) pending->done.set_exception(std::current_exception());
      }
      metrics.record_batch(batch.size());
    }
  }

  std::vector<Recommendation> score(std::vector<RecommendRequest> requests) {
    std::vector<std::future<Recommendation>> answers;
    {
      std::lock_guard<std::mutex> lock(mutex);
      for (auto& request : requests) {
        auto pending = std::make_shared<Pending>();
        pending->request = std::move(request);
        answers.push_back(pending->done.get_future());
        queue.push_back(std::move(pending));
      }
    }
    queued.notify_all();
    std::vector<Recommendation> out;
    for (auto& answer : answers) out.push_back(answer.get());
    return out;
  }

  json items_json(const Recommendation& r) const {
    const auto& head = recommender.run().dataset.groups().is_head_item;
    json items = json::array();
    for (size_t i = 0; i < r.items.size(); ++i) {
      json item = {{"id", catalogue.item_name(r.items[i])}, {"score", r.scores[i]}, {"group", head[r.items[i]] ? "head" : "tail"}};
      if (catalogue.has_text()) item["text"] = catalogue.item_text(r.items[i]);
      items.push_back(std::move(item));
    }
    return items;
  }

  // Runs a handler, turning a BadRequest into its status and {"error": ...}.
  static void answer(httplib::Response& res, const std::function<json()>& handler) {
    try {
      res.set_content(text(handler()), "application/json");
    } catch (const BadRequest& bad) {
      res.status = bad.status;
      res.set_content(text(json{{"error", bad.what()}}), "application/json");
    }
  }

  void routes() {
    http.Post("/v1/recommend", [this](const httplib::Request& req, httplib::Response& res) {
      answer(res, [&] {
        auto results = score(parse_recommend_body(req.body, false, recommender.run().dataset, catalogue, options));
        return json{{"items", items_json(results.front())}, {"model", options.model_name}};
      });
    });
    http.Post("/v1/recommend/batch", [this](const httplib::Request& req, httplib::Response& res) {
      answer(res, [&] {
        auto requests = parse_recommend_body(req.body, true, recommender.run().dataset, catalogue, options);
        json results = json::array();
        for (const auto& r : score(std::move(requests))) results.push_back(json{{"items", items_json(r)}});
        return json{{"results", results}, {"model", options.model_name}};
      });
    });
    http.Get("/v1/health", [this](const httplib::Request&, httplib::Response& res) {
      answer(res, [&] {
        return json{{"status", "ok"}, {"model", options.model_name}, {"items", catalogue.num_items()},
                    {"users", recommender.run().dataset.num_users()}};
      });
    });
    http.Get(R"(/v1/items/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
      answer(res, [&] {
        int64_t id = 0;
        try {
          id = catalogue.item_id(req.matches[1]);
        } catch (const Error& e) {
          throw BadRequest{404, e.what()};
        }
        const auto& groups = recommender.run().dataset.groups();
        json item = {{"id", catalogue.item_name(id)}, {"group", groups.is_head_item[id] ? "head" : "tail"},
                     {"train_count", groups.item_train_count[id]}};
        if (catalogue.has_text()) item["text"] = catalogue.item_text(id);
        return item;
      });
    });
    http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(metrics.text(), "text/plain; version=0.0.4");
    });
  }

  void guards() {
    http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      request_start = Clock::now();
      if (options.api_key.empty()) return httplib::Server::HandlerResponse::Unhandled;
      if (equal_in_constant_time(req.get_header_value("Authorization"), "Bearer " + options.api_key))
        return httplib::Server::HandlerResponse::Unhandled;
      res.status = 401;
      res.set_content(text(json{{"error", "missing or wrong bearer token (Authorization: Bearer KEY)"}}), "application/json");
      return httplib::Server::HandlerResponse::Handled;
    });
    // Answers httplib gives by itself (404, 413, ...) get a JSON error too.
    // It calls this outside its own try block: nothing here may throw.
    http.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return;
      try {
        const std::string what = res.status == 404 ? "no such endpoint: " + req.method + " " + req.path
                                 : res.status == 413 ? "request body too large"
                                                     : "request refused";
        res.set_content(text(json{{"error", what}}), "application/json");
      } catch (...) {
        res.set_content("{\"error\": \"request refused\"}", "application/json");
      }
    });
    http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr error) {
      res.status = 500;
      std::string what = "internal error";
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        what += std::string(": ") + e.what();
      } catch (...) {
      }
      res.set_content(text(json{{"error", what}}), "application/json");
    });
    http.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
      const double seconds = request_start ? std::chrono::duration<double>(Clock::now() - *request_start).count() : 0.0;
      request_start.reset();
      metrics.record(metric_path(req.path), res.status, seconds);
    });
    http.set_payload_max_length(options.max_body_bytes);
    // httplib writes headers and body separately: with Nagle's algorithm the
    // body waits for the client's delayed ACK (40 ms per request on Linux).
    http.set_tcp_nodelay(true);
    // httplib's default socket options add SO_REUSEPORT, which lets a second
    // server bind the same port and take half its requests: reuse the
    // address only (a restart need not wait for TIME_WAIT).
    http.set_socket_options([](socket_t sock) {
      int yes = 1;
      setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    const int threads = options.http_threads;
    http.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  }
};

RecommendServer::RecommendServer(const Recommender& recommender, const Catalogue& catalogue, ServeOptions options)
    : state_(std::make_unique<State>(recommender, catalogue, std::move(options))) {
  const auto& o = state_->options;
  if (o.workers < 1 || o.http_threads < 1 || o.max_batch < 1 || o.max_k < 1 || o.max_history < 1 || o.batch_window_ms < 0)
    throw Error("serve: workers, threads, batch sizes and limits must be positive");
  if (!is_loopback_host(o.host) && o.api_key.empty())
    throw Error("serve: --host " + o.host + " is reachable from other machines: it needs --api-key-env (a bearer token)");
  state_->routes();
  state_->guards();
}

RecommendServer::~RecommendServer() { stop(); }

int RecommendServer::bind() {
  auto& o = state_->options;
  const int port = o.port == 0 ? state_->http.bind_to_any_port(o.host) : (state_->http.bind_to_port(o.host, o.port) ? o.port : -1);
  if (port < 0) throw Error(fmt::format("serve: cannot listen on {}:{} (in use, or not an address of this machine)", o.host, o.port));
  o.port = port;
  return port;
}

void RecommendServer::serve() {
  state_->serving = true;
  for (int i = 0; i < state_->options.workers; ++i) state_->workers.emplace_back([this] { state_->work(); });
  // Returns after stop(), once its threads have answered the requests they hold.
  if (!state_->stop_requested) state_->http.listen_after_bind();
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->stopping = true;
  }
  state_->queued.notify_all();
  for (auto& worker : state_->workers) worker.join();
  state_->workers.clear();
  state_->serving = false;
}

void RecommendServer::stop() {
  state_->stop_requested = true;
  // httplib ignores a stop before it listens: repeat until serve() is over.
  while (state_->serving) {
    state_->http.stop();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace caudal
