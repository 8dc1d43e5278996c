// taco serve over loopback: OpenAI-shaped completions (plain, with an image, streamed), the
// agent as a model, episodes, auth, the concurrency limit, metrics and a graceful stop. The
// backing model is a scripted OpenAI-compatible server; the product speaks real HTTP to it.
#include "serve/server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <thread>

#include "test_support.h"
#include "tools/builtin.h"
#include "util/base64.h"
#include "util/files.h"

namespace taco {
namespace {

using Reply = test::ScriptedServer::Reply;

// A server on a free port, serving on its own thread.
class Running {
 public:
  Running(Model& model, const ToolRegistry& tools, ServeOptions options) {
    options.port = 0;
    options.work_dir = dir_.file("work");
    server_ = std::make_unique<Server>(model, tools, PromptTemplate::defaults(), EpisodeOptions{}, options);
    port_ = server_->bind();
    thread_ = std::thread([this] { server_->serve(); });
  }
  ~Running() { stop(); }
  void stop() {
    server_->stop();
    if (thread_.joinable()) thread_.join();
  }
  std::string work_dir() const { return dir_.file("work"); }
  httplib::Client client(const std::string& key = "") const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(30, 0);
    if (!key.empty()) c.set_bearer_token_auth(key.c_str());
    return c;
  }

 private:
  test::TempDir dir_;
  std::unique_ptr<Server> server_;
  int port_ = 0;
  std::thread thread_;
};

std::unique_ptr<Model> scripted_model(const test::ScriptedServer& backend) {
  ModelOptions mo;
  mo.model = "scripted";
  mo.endpoint = backend.base_url();
  mo.retries = 0;
  return make_model(mo);
}

std::string png_data_url() {
  test::TempDir dir;
  return "data:image/png;base64," + base64_encode(read_file(test::write_test_image(dir.file("a.png"), 32, 24)));
}

Json post(httplib::Client& c, const std::string& path, const Json& body, int want_status) {
  auto res = c.Post(path.c_str(), body.dump(), "application/json");
  EXPECT_TRUE(res) << path;
  if (!res) return Json();
  EXPECT_EQ(res->status, want_status) << res->body;
  return Json::parse(res->body, nullptr, false);
}

TEST(ServeTest, ChatCompletionsPlainWithAnImageAndStreamed) {
  test::ScriptedServer backend([](const Json& req, int) {
    const bool image = req["messages"][0]["content"].is_array();
    return Reply{200, test::ScriptedServer::completion(image ? "a picture" : "hello there, user")};
  });
  auto model = scripted_model(backend);
  ToolRegistry tools = make_builtin_registry();
  Running server(*model, tools, {});
  auto c = server.client();

  EXPECT_EQ(Json::parse(c.Get("/health")->body)["status"], "ok");
  // A bad body is answered with an excerpt of the problem, never the body (a 20 MB
  // unterminated string once came back as a 20 MB 400).
  auto unterminated = c.Post("/v1/chat/completions", "{\"model\": \"" + std::string(20 << 20, 'x'), "application/json");
  ASSERT_TRUE(unterminated);
  EXPECT_EQ(unterminated->status, 400);
  EXPECT_LT(unterminated->body.size(), 1000u);
  EXPECT_NE(unterminated->body.find("malformed JSON at byte"), std::string::npos) << unterminated->body.substr(0, 300);
  Json models = Json::parse(c.Get("/v1/models")->body);
  ASSERT_EQ(models["data"].size(), 2u);
  EXPECT_EQ(models["data"][0]["id"], "scripted");
  EXPECT_EQ(models["data"][1]["id"], "taco-agent");

  Json plain = post(c, "/v1/chat/completions", {{"model", "scripted"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}}, 200);
  EXPECT_EQ(plain["object"], "chat.completion");
  EXPECT_EQ(plain["choices"][0]["message"]["content"], "hello there, user");
  EXPECT_EQ(plain["usage"]["total_tokens"], 15);

  Json parts = Json::array({{{"type", "text"}, {"text", "what is this?"}}, {{"type", "image_url"}, {"image_url", {{"url", png_data_url()}}}}});
  Json with_image = post(c, "/v1/chat/completions", {{"model", "scripted"}, {"messages", {{{"role", "user"}, {"content", parts}}}}}, 200);
  EXPECT_EQ(with_image["choices"][0]["message"]["content"], "a picture");
  // The image reached the backing model as a data URL.
  EXPECT_EQ(backend.requests().back()["messages"][0]["content"][1]["image_url"]["url"].get<std::string>().rfind("data:image/png;base64,", 0), 0u);

  // Remote images are refused: taco fetches nothing.
  Json remote = post(c, "/v1/chat/completions",
                     {{"model", "scripted"},
                      {"messages", {{{"role", "user"}, {"content", {{{"type", "image_url"}, {"image_url", {{"url", "https://x/y.png"}}}}}}}}}},
                     400);
  EXPECT_EQ(remote["error"]["type"], "invalid_request_error");
  EXPECT_NE(remote["error"]["message"].get<std::string>().find("data: URL"), std::string::npos);

  auto streamed = c.Post("/v1/chat/completions",
                         Json{{"model", "scripted"}, {"stream", true}, {"stream_options", {{"include_usage", true}}},
                              {"messages", {{{"role", "user"}, {"content", "hi"}}}}}.dump(),
                         "application/json");
  ASSERT_TRUE(streamed);
  EXPECT_EQ(streamed->get_header_value("Content-Type"), "text/event-stream");
  std::string text;
  bool done = false, usage = false;
  for (size_t at = 0; (at = streamed->body.find("data: ", at)) != std::string::npos; at += 6) {
    std::string data = streamed->body.substr(at + 6, streamed->body.find("\n\n", at) - at - 6);
    if (data == "[DONE]") {
      done = true;
      continue;
    }
    Json chunk = Json::parse(data);
    EXPECT_EQ(chunk["object"], "chat.completion.chunk");
    if (chunk.contains("usage")) usage = true;
    for (const auto& ch : chunk["choices"]) text += ch["delta"].value("content", "");
  }
  EXPECT_EQ(text, "hello there, user");
  EXPECT_TRUE(done);
  EXPECT_TRUE(usage);

  Json unknown = post(c, "/v1/chat/completions", {{"model", "gpt-9"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}}, 404);
  EXPECT_EQ(unknown["error"]["code"], "model_not_found");
  auto not_json = c.Post("/v1/chat/completions", "{oops", "application/json");
  EXPECT_EQ(not_json->status, 400);
  EXPECT_TRUE(Json::parse(not_json->body)["error"].contains("message"));
}

// --served-model-name: the backing model answers to the names clients use (vLLM's flag), and
// its answers carry the name asked for.
TEST(ServeTest, ServedModelNames) {
  test::ScriptedServer backend([](const Json&, int) { return Reply{200, test::ScriptedServer::completion("hi")}; });
  auto model = scripted_model(backend);
  ToolRegistry tools = make_builtin_registry();
  ServeOptions options;
  options.served_model_names = {"Qwen/Qwen2-VL-7B-Instruct", "gpt-4o"};
  Running server(*model, tools, options);
  auto c = server.client();
  Json models = Json::parse(c.Get("/v1/models")->body);
  ASSERT_EQ(models["data"].size(), 3u);
  EXPECT_EQ(models["data"][0]["id"], "Qwen/Qwen2-VL-7B-Instruct");
  EXPECT_EQ(models["data"][2]["id"], "taco-agent");
  for (const std::string name : {"Qwen/Qwen2-VL-7B-Instruct", "gpt-4o"}) {
    Json r = post(c, "/v1/chat/completions", {{"model", name}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}}, 200);
    EXPECT_EQ(r["model"], name);
  }
  Json own = post(c, "/v1/chat/completions", {{"model", "scripted"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}}, 404);
  EXPECT_NE(own["error"]["message"].get<std::string>().find("'gpt-4o'"), std::string::npos) << own.dump();
}

TEST(ServeTest, TheAgentRunsAWholeEpisodeAndEpisodesAreKept) {
  test::ScriptedServer backend([](const Json& req, int) {
    const bool first = req["messages"].size() == 2;
    return Reply{200, test::ScriptedServer::completion(
                          first ? R"({"thought": "compute", "actions": [{"name": "Calculate", "arguments": {"expression": "6*7"}}]})"
                                : R"({"thought": "done", "actions": [{"name": "Terminate", "arguments": {"answer": "42"}}]})")};
  });
  auto model = scripted_model(backend);
  ToolRegistry tools = make_builtin_registry();
  Running server(*model, tools, {});
  auto c = server.client();
  Json parts = Json::array({{{"type", "text"}, {"text", "What is 6*7?"}}, {{"type", "image_url"}, {"image_url", {{"url", png_data_url()}}}}});
  Json agent = post(c, "/v1/chat/completions", {{"model", "taco-agent"}, {"messages", {{{"role", "user"}, {"content", parts}}}}}, 200);
  EXPECT_EQ(agent["model"], "taco-agent");
  EXPECT_EQ(agent["choices"][0]["message"]["content"], "42");
  const Json& trace = agent["taco"]["trace"];
  EXPECT_EQ(trace["format"], "taco.trace");
  EXPECT_EQ(trace["steps"][0]["observation"]["result"], 42);
  EXPECT_EQ(trace["images"].size(), 1u);

  Json ep = post(c, "/v1/episodes", {{"question", "What is 6*7?"}, {"images", {png_data_url()}}, {"max_replies", 3}}, 200);
  EXPECT_EQ(ep["trace"]["answer"], "42");
  const std::string id = ep["id"];
  Json listed = Json::parse(c.Get("/v1/episodes")->body);
  ASSERT_EQ(listed["data"].size(), 2u);
  EXPECT_EQ(listed["data"][0]["id"], id);  // newest first
  EXPECT_EQ(Json::parse(c.Get(("/v1/episodes/" + id).c_str())->body)["trace"]["answer"], "42");
  EXPECT_EQ(c.Get("/v1/episodes/ep-none")->status, 404);
  EXPECT_EQ(post(c, "/v1/episodes", {{"images", Json::array()}}, 400)["error"]["message"], "an episode needs a question");

  // The viewer at / shows the server's episodes, as they come.
  EXPECT_NE(c.Get("/")->body.find("<title>taco traces</title>"), std::string::npos);
  Json viewed = Json::parse(c.Get("/api/episodes")->body);
  EXPECT_EQ(viewed["total"], 2);
  EXPECT_EQ(viewed["episodes"][1]["answer"], "42");
  EXPECT_EQ(c.Get("/api/episodes/0/images/0")->status, 200);

  const std::string metrics = c.Get("/metrics")->body;
  EXPECT_NE(metrics.find("taco_episodes_total{status=\"terminated\"} 2"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("taco_tool_calls_total{tool=\"Calculate\"} 2"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("taco_requests_total{route=\"POST /v1/episodes\",status=\"200\"} 1"), std::string::npos) << metrics;
}

// Past --keep-episodes, an episode's images go (its trace stays in episodes.jsonl), so a
// long-running server does not fill its disk.
TEST(ServeTest, OlderEpisodesImagesAreRemoved) {
  test::ScriptedServer backend([](const Json&, int) {
    return Reply{200, test::ScriptedServer::completion(R"({"thought": "t", "actions": [{"name": "Terminate", "arguments": {"answer": "ok"}}]})")};
  });
  auto model = scripted_model(backend);
  ToolRegistry tools = make_builtin_registry();
  ServeOptions options;
  options.keep_episodes = 2;
  Running server(*model, tools, options);
  auto c = server.client();
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(post(c, "/v1/episodes", {{"question", "q"}, {"images", {png_data_url()}}}, 200)["id"]);
  EXPECT_FALSE(std::filesystem::exists(server.work_dir() + "/" + ids[0]));
  EXPECT_TRUE(std::filesystem::exists(server.work_dir() + "/" + ids[1]));
  EXPECT_TRUE(std::filesystem::exists(server.work_dir() + "/" + ids[2]));
  EXPECT_EQ(Json::parse(c.Get("/v1/episodes")->body)["data"].size(), 2u);
  EXPECT_EQ(Json::parse(c.Get("/api/episodes")->body)["total"], 3) << "the viewer still lists every episode";
}

// A request's tools, tool_choice, response_format and sampling settings reach a served backing
// model as they are, and its tool_calls come back unchanged (also streamed).
TEST(ServeTest, ToolsResponseFormatAndSamplingPassThroughToAServedModel) {
  const Json call = Json::array({{{"id", "call_1"}, {"type", "function"},
                                  {"function", {{"name", "get_weather"}, {"arguments", R"({"city": "Oslo"})"}}}}});
  test::ScriptedServer backend([&](const Json& req, int) {
    if (!req.contains("tools")) return Reply{200, test::ScriptedServer::completion("plain")};
    Json body{{"id", "x"}, {"object", "chat.completion"}, {"model", "scripted"},
              {"choices", {{{"index", 0}, {"message", {{"role", "assistant"}, {"content", nullptr}, {"tool_calls", call}}}, {"finish_reason", "tool_calls"}}}},
              {"usage", {{"prompt_tokens", 3}, {"completion_tokens", 4}}}};
    return Reply{200, body.dump()};
  });
  auto model = scripted_model(backend);
  ToolRegistry tools = make_builtin_registry();
  Running server(*model, tools, {});
  auto c = server.client();
  const Json weather_tool = Json::array({{{"type", "function"},
                                          {"function", {{"name", "get_weather"}, {"parameters", {{"type", "object"}}}}}}});
  Json asked = post(c, "/v1/chat/completions",
                    {{"model", "scripted"}, {"tools", weather_tool}, {"tool_choice", "auto"}, {"temperature", 0.3}, {"top_p", 0.9},
                     {"seed", 11}, {"max_completion_tokens", 77}, {"messages", {{{"role", "user"}, {"content", "weather in Oslo?"}}}}},
                    200);
  EXPECT_EQ(asked["choices"][0]["message"]["tool_calls"], call);
  EXPECT_TRUE(asked["choices"][0]["message"]["content"].is_null());
  EXPECT_EQ(asked["choices"][0]["finish_reason"], "tool_calls");
  Json sent = backend.requests().back();
  EXPECT_EQ(sent["tools"], weather_tool);
  EXPECT_EQ(sent["tool_choice"], "auto");
  EXPECT_DOUBLE_EQ(sent["temperature"].get<double>(), 0.3);
  EXPECT_DOUBLE_EQ(sent["top_p"].get<double>(), 0.9);
  EXPECT_EQ(sent["seed"], 11);
  EXPECT_EQ(sent["max_tokens"], 77);

  // The conversation goes on with the call and its result.
  Json history = Json::array({{{"role", "user"}, {"content", "weather in Oslo?"}},
                              {{"role", "assistant"}, {"content", nullptr}, {"tool_calls", call}},
                              {{"role", "tool"}, {"tool_call_id", "call_1"}, {"content", "rain, 4 C"}}});
  post(c, "/v1/chat/completions", {{"model", "scripted"}, {"tools", weather_tool}, {"messages", history}}, 200);
  sent = backend.requests().back();
  EXPECT_EQ(sent["messages"][1]["tool_calls"], call);
  EXPECT_TRUE(sent["messages"][1]["content"].is_null());
  EXPECT_EQ(sent["messages"][2]["role"], "tool");
  EXPECT_EQ(sent["messages"][2]["tool_call_id"], "call_1");
  EXPECT_EQ(sent["messages"][2]["content"], "rain, 4 C");

  // Streamed: the calls arrive in a delta, with their index, as OpenAI's stream has them.
  auto streamed = c.Post("/v1/chat/completions",
                         Json{{"model", "scripted"}, {"stream", true}, {"tools", weather_tool}, {"messages", history}}.dump(), "application/json");
  ASSERT_TRUE(streamed);
  Json streamed_calls, finish;
  for (size_t at = 0; (at = streamed->body.find("data: {", at)) != std::string::npos; at += 6) {
    Json chunk = Json::parse(streamed->body.substr(at + 6, streamed->body.find("\n\n", at) - at - 6));
    for (const auto& ch : chunk["choices"]) {
      if (ch["delta"].contains("tool_calls")) streamed_calls = ch["delta"]["tool_calls"];
      if (!ch["finish_reason"].is_null()) finish = ch["finish_reason"];
    }
  }
  ASSERT_TRUE(streamed_calls.is_array());
  EXPECT_EQ(streamed_calls[0]["index"], 0);
  EXPECT_EQ(streamed_calls[0]["function"]["name"], "get_weather");
  EXPECT_EQ(finish, "tool_calls");

  // response_format goes through to a served model as it is.
  const Json format{{"type", "json_schema"}, {"json_schema", {{"name", "w"}, {"schema", {{"type", "object"}}}}}};
  post(c, "/v1/chat/completions", {{"model", "scripted"}, {"response_format", format}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}}, 200);
  EXPECT_EQ(backend.requests().back()["response_format"], format);

  // What cannot be honoured is refused with the reason.
  Json agent_tools = post(c, "/v1/chat/completions",
                          {{"model", "taco-agent"}, {"tools", weather_tool}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}}, 400);
  EXPECT_NE(agent_tools["error"]["message"].get<std::string>().find("taco's own tools"), std::string::npos);
  Json hot = post(c, "/v1/chat/completions", {{"model", "scripted"}, {"temperature", "hot"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}}, 400);
  EXPECT_NE(hot["error"]["message"].get<std::string>().find("'temperature' must be a number"), std::string::npos);
  post(c, "/v1/chat/completions", {{"model", "scripted"}, {"n", 2}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}}, 400);
  EXPECT_EQ(backend.calls(), 4) << "a refused request reached the backing model";

  // A model that cannot take tools says so (the replay model here).
  test::TempDir dir;
  write_file(dir.file("r.jsonl"), "");
  auto replay = make_model(ModelOptions{.model = "replay:" + dir.file("r.jsonl")});
  Running replay_server(*replay, tools, {});
  auto rc = replay_server.client();
  Json refused = post(rc, "/v1/chat/completions", {{"tools", weather_tool}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}}, 400);
  EXPECT_NE(refused["error"]["message"].get<std::string>().find("cannot honour 'tools'"), std::string::npos);
  Json unformatted = post(rc, "/v1/chat/completions", {{"response_format", format}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}}, 400);
  EXPECT_NE(unformatted["error"]["message"].get<std::string>().find("cannot keep to this response_format"), std::string::npos);
}

// A request over the server's time limit ends with 504 and stops waiting on the backing model;
// a client that goes away from a streamed episode stops the episode.
TEST(ServeTest, ATimeLimitAndAClientThatGoesAwayStopTheWork) {
  test::ScriptedServer backend([](const Json&, int) {
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    return Reply{200, test::ScriptedServer::completion(R"({"thought": "again", "actions": [{"name": "Calculate", "arguments": {"expression": "1+1"}}]})")};
  });
  auto model = scripted_model(backend);
  ToolRegistry tools = make_builtin_registry();
  {
    ServeOptions limited;
    limited.request_timeout_s = 1.0;
    Running server(*model, tools, limited);
    auto c = server.client();
    const auto start = std::chrono::steady_clock::now();
    Json late = post(c, "/v1/episodes", {{"question", "loop"}, {"max_replies", 30}}, 504);
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_EQ(late["error"]["code"], "timeout");
    EXPECT_LT(took, 2.0) << "the episode went on past its time limit";
    EXPECT_LE(backend.calls(), 4);
  }
  const int before = backend.calls();
  Running server(*model, tools, {});
  auto c = server.client();
  std::string received;
  // The client reads the first step of the agent's stream, then hangs up.
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/chat/completions";
  req.body = Json{{"model", "taco-agent"}, {"stream", true}, {"taco", {{"max_replies", 30}}},
                  {"messages", {{{"role", "user"}, {"content", "loop"}}}}}.dump();
  req.set_header("Content-Type", "application/json");
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    received.append(data, n);
    return received.find("reasoning_content") == std::string::npos;
  };
  c.send(req);
  EXPECT_NE(received.find("again"), std::string::npos) << received;
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  const int after_hangup = backend.calls();
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(backend.calls(), after_hangup) << "the episode went on after its client left";
  EXPECT_LE(after_hangup - before, 4);
  const std::string metrics = c.Get("/metrics")->body;
  EXPECT_NE(metrics.find("status=\"499\"} 1"), std::string::npos) << metrics;
}

TEST(ServeTest, AuthTheConcurrencyLimitAndAGracefulStop) {
  test::ScriptedServer backend(
      [](const Json&, int) {
        std::this_thread::sleep_for(std::chrono::milliseconds(700));
        return Reply{200, test::ScriptedServer::completion("slow answer")};
      },
      8);
  auto model = scripted_model(backend);
  ToolRegistry tools = make_builtin_registry();
  ServeOptions options;
  options.api_key = "sesame";
  options.max_concurrency = 1;
  Running server(*model, tools, options);
  const Json ask{{"model", "scripted"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}};

  auto anonymous = server.client();
  EXPECT_EQ(anonymous.Get("/health")->status, 200);  // no key needed
  auto refused = anonymous.Post("/v1/chat/completions", ask.dump(), "application/json");
  EXPECT_EQ(refused->status, 401);
  EXPECT_EQ(Json::parse(refused->body)["error"]["code"], "invalid_api_key");
  EXPECT_EQ(server.client("wrong").Get("/v1/models")->status, 401);
  // With a key, the viewer's page is there (it holds no data) and asks for the key; its API wants
  // the key as the rest do (it was a 404 at /: no viewer at all).
  EXPECT_EQ(anonymous.Get("/")->status, 200);
  EXPECT_EQ(anonymous.Get("/favicon.ico")->status, 204);
  EXPECT_EQ(anonymous.Get("/api/episodes")->status, 401);
  EXPECT_EQ(server.client("wrong").Get("/api/episodes/0")->status, 401);
  EXPECT_EQ(Json::parse(server.client("sesame").Get("/api/episodes")->body)["total"], 0);

  // One request in flight; the second is told to come back.
  auto first = std::async(std::launch::async, [&] { return server.client("sesame").Post("/v1/chat/completions", ask.dump(), "application/json"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto second = server.client("sesame").Post("/v1/chat/completions", ask.dump(), "application/json");
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 429);
  EXPECT_EQ(second->get_header_value("Retry-After"), "1");
  EXPECT_EQ(Json::parse(second->body)["error"]["type"], "rate_limit_error");
  EXPECT_EQ(first.get()->status, 200);

  // Stopped while an episode is in flight: it is answered, and kept in episodes.jsonl.
  auto in_flight = std::async(std::launch::async, [&] {
    return server.client("sesame").Post("/v1/episodes", Json{{"question", "slow"}, {"prompt", "direct"}}.dump(), "application/json");
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  server.stop();
  auto answered = in_flight.get();
  ASSERT_TRUE(answered);
  EXPECT_EQ(answered->status, 200);
  const Json episode = Json::parse(answered->body);
  EXPECT_EQ(episode["trace"]["answer"], "slow answer");
  EXPECT_NE(read_file(server.work_dir() + "/episodes.jsonl").find(episode["id"].get<std::string>()), std::string::npos);
  EXPECT_FALSE(server.client("sesame").Get("/health")) << "the server still accepts connections after stop()";
}

}  // namespace
}  // namespace taco
