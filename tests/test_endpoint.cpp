// The endpoint client against a small OpenAI-compatible server that the test
// starts on loopback, including the failures a real server produces.
#include <gtest/gtest.h>
#include <httplib.h>

#include <ATen/ATen.h>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "caudal/core/error.h"
#include "caudal/semantic/endpoint.h"
#include "test_util.h"

namespace caudal {
namespace {

using testing::error_of;

// The vector a healthy server returns for a text: easy to recognise.
std::vector<float> vector_for(const std::string& text) {
  return {static_cast<float>(text.size()), static_cast<float>(text[0]), 1.0f};
}

class FakeEmbeddingServer {
 public:
  // behaviour(request number, inputs, response) -> true when it wrote the response itself.
  using Behaviour = std::function<bool(int, const std::vector<std::string>&, httplib::Response&)>;

  explicit FakeEmbeddingServer(Behaviour behaviour = nullptr) : behaviour_(std::move(behaviour)) {
    server_.Post("/v1/embeddings", [this](const httplib::Request& request, httplib::Response& response) {
      const int number = requests_++;
      auto body = nlohmann::json::parse(request.body);
      auto inputs = body.at("input").get<std::vector<std::string>>();
      inputs_received_ += static_cast<int>(inputs.size());
      last_authorization_ = request.get_header_value("Authorization");
      if (behaviour_ && behaviour_(number, inputs, response)) return;
      nlohmann::json data = nlohmann::json::array();
      for (size_t i = inputs.size(); i-- > 0;)  // answered in reverse order, with indices
        data.push_back({{"index", i}, {"embedding", vector_for(inputs[i])}, {"object", "embedding"}});
      response.set_content(nlohmann::json{{"data", data}, {"model", body.at("model")}}.dump(), "application/json");
    });
    // bind_to_any_port also listens: connections queue until the loop accepts them.
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~FakeEmbeddingServer() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1/embeddings"; }
  int requests() const { return requests_; }
  int inputs_received() const { return inputs_received_; }
  std::string last_authorization() const { return last_authorization_; }

 private:
  Behaviour behaviour_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<int> requests_{0}, inputs_received_{0};
  std::string last_authorization_;
};

EndpointOptions fast_options(const FakeEmbeddingServer& server) {
  EndpointOptions options;
  options.url = server.url();
  options.model = "test-model";
  options.backoff_seconds = 0.01;
  options.timeout_seconds = 5;
  options.max_retries = 3;
  options.api_key_env = "CAUDAL_TEST_NO_SUCH_KEY";
  return options;
}

TEST(Endpoint, EmbedsInTheOrderOfTheInputs) {
  FakeEmbeddingServer server;
  EmbeddingClient client(fast_options(server));
  auto vectors = client.embed({"apple", "kiwi fruit"});
  EXPECT_EQ(vectors[0], vector_for("apple"));
  EXPECT_EQ(vectors[1], vector_for("kiwi fruit"));
  EXPECT_EQ(server.requests(), 1);
}

TEST(Endpoint, SendsTheKeyFromTheEnvironment) {
  FakeEmbeddingServer server;
  auto options = fast_options(server);
  options.api_key_env = "CAUDAL_TEST_KEY";
  ::setenv("CAUDAL_TEST_KEY", "sk-test", 1);
  EmbeddingClient(options).embed({"a text"});
  ::unsetenv("CAUDAL_TEST_KEY");
  EXPECT_EQ(server.last_authorization(), "Bearer sk-test");
}

TEST(Endpoint, RetriesServerErrorsAndRateLimits) {
  FakeEmbeddingServer server([](int number, const std::vector<std::string>&, httplib::Response& response) {
    if (number == 0) return response.status = 503, response.set_content("busy", "text/plain"), true;
    if (number == 1) return response.status = 429, response.set_content("slow down", "text/plain"), true;
    return false;
  });
  EmbeddingClient client(fast_options(server));
  EXPECT_EQ(client.embed({"abc"})[0], vector_for("abc"));
  EXPECT_EQ(server.requests(), 3);
}

TEST(Endpoint, GivesUpAfterTheRetries) {
  FakeEmbeddingServer server([](int, const std::vector<std::string>&, httplib::Response& response) {
    return response.status = 500, response.set_content("boom", "text/plain"), true;
  });
  auto message = error_of([&] { EmbeddingClient(fast_options(server)).embed({"abc"}); });
  EXPECT_NE(message.find("no valid answer after 4 tries"), std::string::npos) << message;
  EXPECT_NE(message.find("HTTP 500: boom"), std::string::npos) << message;
  EXPECT_EQ(server.requests(), 4);
}

TEST(Endpoint, ClientErrorsAreNotRetried) {
  FakeEmbeddingServer server([](int, const std::vector<std::string>&, httplib::Response& response) {
    return response.status = 400, response.set_content("{\"error\": \"unknown model\"}", "application/json"), true;
  });
  auto message = error_of([&] { EmbeddingClient(fast_options(server)).embed({"abc"}); });
  EXPECT_NE(message.find("HTTP 400"), std::string::npos) << message;
  EXPECT_NE(message.find("unknown model"), std::string::npos) << message;
  EXPECT_EQ(server.requests(), 1);
}

TEST(Endpoint, MalformedAnswersAreClearErrors) {
  auto answer_with = [](std::string body) {
    return [body](int, const std::vector<std::string>&, httplib::Response& response) {
      response.set_content(body, "application/json");
      return true;
    };
  };
  {
    FakeEmbeddingServer server(answer_with("<html>oops"));
    auto message = error_of([&] { EmbeddingClient(fast_options(server)).embed({"abc"}); });
    EXPECT_NE(message.find("malformed answer (not JSON)"), std::string::npos) << message;
  }
  {
    FakeEmbeddingServer server(answer_with("{\"result\": []}"));
    auto message = error_of([&] { EmbeddingClient(fast_options(server)).embed({"abc"}); });
    EXPECT_NE(message.find("no 'data' array"), std::string::npos) << message;
  }
  {
    FakeEmbeddingServer server(answer_with("{\"data\": [{\"index\": 0, \"embedding\": [1, 2, 3]}]}"));
    auto message = error_of([&] { EmbeddingClient(fast_options(server)).embed({"abc", "def"}); });
    EXPECT_NE(message.find("answered 1 vectors for 2 inputs"), std::string::npos) << message;
  }
  {
    FakeEmbeddingServer server(
        answer_with("{\"data\": [{\"index\": 0, \"embedding\": [1, 2, 3]}, {\"index\": 1, \"embedding\": [1, 2]}]}"));
    auto message = error_of([&] { EmbeddingClient(fast_options(server)).embed({"abc", "def"}); });
    EXPECT_NE(message.find("vector of length 2 in data[1], expected 3"), std::string::npos) << message;
  }
  {
    FakeEmbeddingServer server(answer_with("{\"data\": [{\"index\": 0, \"embedding\": [1, \"x\", 3]}]}"));
    auto message = error_of([&] { EmbeddingClient(fast_options(server)).embed({"abc"}); });
    EXPECT_NE(message.find("non-numeric"), std::string::npos) << message;
  }
  {  // beyond the float range: it would become inf in the table
    FakeEmbeddingServer server(answer_with("{\"data\": [{\"index\": 0, \"embedding\": [1, 1e39, 3]}]}"));
    auto message = error_of([&] { EmbeddingClient(fast_options(server)).embed({"abc"}); });
    EXPECT_NE(message.find("value 1e+39 in data[0] is not a finite float"), std::string::npos) << message;
  }
  {  // an empty vector would normalise to NaN
    FakeEmbeddingServer server(answer_with("{\"data\": [{\"index\": 0, \"embedding\": []}]}"));
    auto message = error_of([&] { EmbeddingClient(fast_options(server)).embed({"abc"}); });
    EXPECT_NE(message.find("data[0] is an empty vector"), std::string::npos) << message;
  }
}

// Found by fuzz/fuzz_endpoint: a number beyond double in an answer made
// nlohmann::json throw out_of_range, not the parse_error that was caught, so
// `caudal embed` died on an uncaught exception.
TEST(Endpoint, ANumberBeyondDoubleInAnAnswerIsAnError) {
  int64_t dim = 0;
  auto message = error_of([&] { parse_embedding_answer("{\"data\": [{\"embedding\": [1e400]}]}", 1, dim, "http://e"); });
  EXPECT_NE(message.find("http://e: malformed answer (not JSON)"), std::string::npos) << message;
}

// A timeout that rounds to 0 ms would mean no timeout at all.
TEST(Endpoint, TimeoutBelowAMillisecondIsRefused) {
  EndpointOptions options;  // refused before any request: no server needed
  options.url = "http://127.0.0.1:9/v1/embeddings";
  options.model = "test";
  options.timeout_seconds = 0.0004;
  auto message = error_of([&] { EmbeddingClient client(options); });
  EXPECT_NE(message.find("--timeout must be at least 0.001 seconds"), std::string::npos) << message;
}

TEST(Endpoint, TimeoutsAreRetriedThenReported) {
  FakeEmbeddingServer server([](int, const std::vector<std::string>&, httplib::Response&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    return false;
  });
  auto options = fast_options(server);
  options.timeout_seconds = 0.2;
  options.max_retries = 1;
  auto message = error_of([&] { EmbeddingClient(options).embed({"abc"}); });
  EXPECT_NE(message.find("no valid answer after 2 tries"), std::string::npos) << message;
  EXPECT_NE(message.find("Timeout"), std::string::npos) << message;
}

TEST(Endpoint, InterruptedRunResumesFromTheCache) {
  testing::TempDir dir;
  const std::vector<std::string> texts = {"", "one", "two", "three", "four", "five", "six"};
  const std::vector<int64_t> items = {1, 2, 3, 4, 5, 6};
  {
    // Healthy for two batches of two, then down.
    FakeEmbeddingServer server([](int number, const std::vector<std::string>&, httplib::Response& response) {
      if (number < 2) return false;
      return response.status = 500, true;
    });
    auto options = fast_options(server);
    options.batch_size = 2;
    options.max_retries = 0;
    options.cache_path = dir.file("cache.jsonl");
    EXPECT_THROW(endpoint_item_vectors(texts, items, options), Error);
    EXPECT_EQ(server.inputs_received(), 6);  // 2 + 2 + the failed 2
  }
  FakeEmbeddingServer server;
  auto options = fast_options(server);
  options.batch_size = 2;
  options.cache_path = dir.file("cache.jsonl");
  auto table = endpoint_item_vectors(texts, items, options);
  EXPECT_EQ(server.inputs_received(), 2) << "only the items missing from the cache are sent again";
  ASSERT_EQ(table.sizes(), (at::IntArrayRef{7, 3}));
  EXPECT_EQ(table[0].abs().sum().item<float>(), 0.f);
  for (int64_t id : items)
    for (int c = 0; c < 3; ++c) EXPECT_EQ(table[id][c].item<float>(), vector_for(texts[id])[c]) << "item " << id;
  // A torn last line (a write cut short) is ignored, not fatal...
  std::ofstream(dir.file("cache.jsonl"), std::ios::app) << "{\"item\": 3, \"fingerp";
  endpoint_item_vectors(texts, items, options);
  EXPECT_EQ(server.inputs_received(), 2);
  // ...and cut off, so that the next append starts on a line of its own: an
  // edited text is sent again and appended, and every later run reads it back.
  auto edited = texts;
  edited[6] = "six, edited";
  endpoint_item_vectors(edited, items, options);
  EXPECT_EQ(server.inputs_received(), 3);
  endpoint_item_vectors(edited, items, options);
  EXPECT_EQ(server.inputs_received(), 3) << "the appended line was not readable";
  // A cache path that is a directory would silently cache nothing.
  options.cache_path = dir.file("");
  auto message = error_of([&] { endpoint_item_vectors(texts, items, options); });
  EXPECT_NE(message.find("is not a regular file"), std::string::npos) << message;
}

TEST(Endpoint, RetryDelayDoublesUpToACap) {
  EXPECT_DOUBLE_EQ(retry_delay(0.5, 1), 0.5);
  EXPECT_DOUBLE_EQ(retry_delay(0.5, 3), 2.0);
  EXPECT_DOUBLE_EQ(retry_delay(0.5, 7), 32.0);
  EXPECT_DOUBLE_EQ(retry_delay(0.5, 40), 32.0);  // 1 << 39 would have overflowed an int
}

}  // namespace
}  // namespace caudal
