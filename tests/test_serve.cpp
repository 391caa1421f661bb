#include <gtest/gtest.h>

#include <httplib.h>

#include <thread>

#include <nlohmann/json.hpp>

#include "caudal/core/error.h"
#include "caudal/run/trained_model.h"
#include "caudal/serve/server.h"
#include "small_models.h"

namespace caudal {
namespace {

using json = nlohmann::json;

// A server on a free loopback port over a random SASRec of 40 items and 30
// users, answering from a thread for the test's lifetime.
class ServeTest : public ::testing::Test {
 protected:
  void start(ServeOptions options = {}) {
    TrainConfig config;
    config.backbone.hidden = 8;
    config.backbone.max_len = 10;
    recommender_ = std::make_unique<Recommender>(testing::random_recommender(testing::stepped_walks(30, 40, 4, 9, 5, 3), config));
    catalogue_ = std::make_unique<Catalogue>(recommender_->run().dataset, "");
    options.port = 0;
    options.model_name = "test";
    options.max_body_bytes = 4096;
    server_ = std::make_unique<RecommendServer>(*recommender_, *catalogue_, options);
    port_ = server_->bind();
    thread_ = std::thread([this] { server_->serve(); });
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
  }
  void TearDown() override {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
  }
  httplib::Result post(const std::string& path, const std::string& body) { return client_->Post(path.c_str(), body, "application/json"); }
  // Expects `status` and an error message containing `message`.
  void expect_refused(const std::string& body, int status, const std::string& message, const std::string& path = "/v1/recommend") {
    auto res = post(path, body);
    ASSERT_TRUE(res) << body;
    EXPECT_EQ(res->status, status) << body;
    EXPECT_NE(res->body.find(message), std::string::npos) << body << " -> " << res->body;
  }

  std::unique_ptr<Recommender> recommender_;
  std::unique_ptr<Catalogue> catalogue_;
  std::unique_ptr<RecommendServer> server_;
  std::unique_ptr<httplib::Client> client_;
  std::thread thread_;
  int port_ = 0;
};

TEST_F(ServeTest, AnswersAsTheRecommenderDoes) {
  start();
  auto res = post("/v1/recommend", R"({"history": [3, "7", 12], "k": 5})");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const auto answer = json::parse(res->body);
  const auto expected = recommender_->recommend({RecommendRequest{{3, 7, 12}, {}, 5, true}}).front();
  ASSERT_EQ(answer["items"].size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(answer["items"][i]["id"], std::to_string(expected.items[i]));
    EXPECT_NEAR(answer["items"][i]["score"].get<double>(), expected.scores[i], 1e-5);
    EXPECT_TRUE(answer["items"][i]["group"] == "head" || answer["items"][i]["group"] == "tail");
  }
  EXPECT_EQ(answer["model"], "test");
  // A known user: its whole history.
  auto by_user = json::parse(post("/v1/recommend", R"({"user": 4, "k": 3})")->body);
  const auto& history = recommender_->run().dataset.sequence(3);  // user id 4 is the 4th line
  EXPECT_EQ(by_user["items"][0]["id"],
            std::to_string(recommender_->recommend({RecommendRequest{history, {}, 3, true}}).front().items[0]));
}

TEST_F(ServeTest, BatchAndSingleRequestsAgree) {
  start();
  const json requests = json::array({json{{"history", {1, 2, 3}}, {"k", 4}}, json{{"user", 7}}, json{{"history", {40}}, {"exclude", {1}}}});
  auto batch = json::parse(post("/v1/recommend/batch", json{{"requests", requests}}.dump())->body);
  ASSERT_EQ(batch["results"].size(), 3u);
  for (size_t i = 0; i < requests.size(); ++i) {
    auto single = json::parse(post("/v1/recommend", requests[i].dump())->body)["items"];
    const auto& batched = batch["results"][i]["items"];
    ASSERT_EQ(single.size(), batched.size()) << i;
    for (size_t j = 0; j < single.size(); ++j) {
      EXPECT_EQ(single[j]["id"], batched[j]["id"]) << i;
      EXPECT_NEAR(single[j]["score"].get<double>(), batched[j]["score"].get<double>(), 1e-5) << i;
    }
  }
}

TEST_F(ServeTest, EachKindOfBadRequestGetsItsOwn4xx) {
  start();
  expect_refused("{\"history\": [1, 2", 400, "malformed JSON");
  expect_refused("[1, 2]", 400, "a request must be a JSON object");
  expect_refused("{}", 400, "give either 'history' or 'user'");
  expect_refused(R"({"history": [1], "user": 2})", 400, "give either 'history' or 'user'");
  expect_refused(R"({"history": []})", 400, "'history' is empty");
  expect_refused(R"({"history": 5})", 400, "'history' must be an array of item ids");
  expect_refused(R"({"history": [1, 999]})", 400, "'history'[1]: unknown item '999'");
  expect_refused(R"({"history": [1, 2.5]})", 400, "'history'[1] must be an item id");
  expect_refused(R"({"user": "nobody"})", 400, "'user': unknown user 'nobody'");
  expect_refused(R"({"user": [1]})", 400, "'user' must be a string or an integer");
  expect_refused(R"({"history": [1], "k": "ten"})", 400, "'k' must be an integer");
  expect_refused(R"({"history": [1], "k": 0})", 400, "'k' must be in [1, 1000], got 0");
  expect_refused(R"({"history": [1], "k": 100000})", 400, "'k' must be in [1, 1000], got 100000");
  expect_refused(R"({"history": [1], "exclude_history": "no"})", 400, "'exclude_history' must be true or false");
  expect_refused(R"({"history": [1], "exclude": [0]})", 400, "'exclude'[0]: unknown item '0'");
  expect_refused(R"({"history": [1], "kk": 3})", 400, "unknown field 'kk'");
  expect_refused(R"({"history": [1], "k": 1e999})", 400, "malformed JSON");
  expect_refused(R"({"requests": [{"history": [1]}, {"history": []}]})", 400, "requests[1]: 'history' is empty",
                 "/v1/recommend/batch");
  expect_refused(R"({"requests": [{"history": [1]}, {"history": [77]}]})", 400, "requests[1]: 'history'[0]: unknown item '77'",
                 "/v1/recommend/batch");
  expect_refused(R"({"requests": []})", 400, "'requests' must hold 1 to 256 requests", "/v1/recommend/batch");
  expect_refused(R"({"history": [)" + std::string(5000, ' ') + "1]}", 413, "too large");
  expect_refused("{}", 404, "no such endpoint", "/v1/nothing");
  auto item = client_->Get("/v1/items/999");
  ASSERT_TRUE(item);
  EXPECT_EQ(item->status, 404);
  // A path that is not UTF-8 (httplib decodes %FF) is answered, not a crash.
  EXPECT_EQ(client_->Get("/%FF")->status, 404);
  EXPECT_EQ(client_->Get("/v1/items/%FF")->status, 404);
  // Its port is its own: a second server cannot bind it.
  ServeOptions same_port;
  same_port.port = port_;
  RecommendServer second(*recommender_, *catalogue_, same_port);
  EXPECT_THROW(second.bind(), Error);
  // Still serving after all that.
  EXPECT_EQ(client_->Get("/v1/health")->status, 200);
  auto known = json::parse(client_->Get("/v1/items/3")->body);
  EXPECT_EQ(known["id"], "3");
  EXPECT_TRUE(known.contains("train_count"));
  const auto metrics = client_->Get("/metrics")->body;
  EXPECT_NE(metrics.find("caudal_requests_total{path=\"/v1/recommend\",code=\"400\"} 17\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("caudal_request_seconds_count"), std::string::npos);
}

TEST_F(ServeTest, ABearerTokenIsRequiredWhenSet) {
  ServeOptions options;
  options.api_key = "s3cret";
  start(options);
  EXPECT_EQ(post("/v1/recommend", R"({"history": [1]})")->status, 401);
  client_->set_bearer_token_auth("wrong");
  EXPECT_EQ(post("/v1/recommend", R"({"history": [1]})")->status, 401);
  client_->set_bearer_token_auth("s3cret");
  EXPECT_EQ(post("/v1/recommend", R"({"history": [1]})")->status, 200);
}

TEST(Serve, AnAddressBeyondLoopbackNeedsAToken) {
  EXPECT_TRUE(is_loopback_host("127.0.0.1"));
  EXPECT_TRUE(is_loopback_host("localhost"));
  EXPECT_TRUE(is_loopback_host("127.0.0.2"));
  EXPECT_TRUE(is_loopback_host("::1"));
  EXPECT_FALSE(is_loopback_host("0.0.0.0"));
  EXPECT_FALSE(is_loopback_host("127.evil.example"));
  TrainConfig config;
  config.backbone.hidden = 8;
  auto dataset = testing::dataset_from({{1, 2, 3, 4}});
  auto model = build_model(config, dataset.num_items());
  Recommender recommender(TrainedRun{config, std::move(dataset), model, c10::Device(c10::kCPU), EvalOptions{}});
  Catalogue catalogue(recommender.run().dataset, "");
  ServeOptions options;
  options.host = "0.0.0.0";
  EXPECT_THROW(RecommendServer(recommender, catalogue, options), Error);
  options.api_key = "key";
  EXPECT_NO_THROW(RecommendServer(recommender, catalogue, options));
}

}  // namespace
}  // namespace caudal
