// taco serve's RL environments over loopback HTTP (/v1/envs): a client plays the policy, the
// server runs its replies through taco's protocol, parser and tools and rewards the answer, as a
// trainer elsewhere (verl, OpenRLHF, TRL) would drive it.
#include "serve/envs.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <thread>

#include "serve/server.h"
#include "test_support.h"
#include "tools/builtin.h"
#include "util/files.h"

namespace taco {
namespace {

// The server's own backing model: environments never call it (the client is the policy).
class UnusedModel : public Model {
 public:
  Completion complete(const CompletionRequest&) override { throw Error("the environments called the server's model"); }
  std::string name() const override { return "unused"; }
};

const char* const kCalculate = R"({"thought": "compute", "actions": [{"name": "Calculate", "arguments": {"expression": "6*7"}}]})";
std::string terminate_with(const std::string& answer) {
  return R"({"thought": "done", "actions": [{"name": "Terminate", "arguments": {"answer": ")" + answer + R"("}}]})";
}

class EnvsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    test::write_test_image(dir_.file("a.png"), 32, 24);
    write_file(dir_.file("tasks.jsonl"),
               R"({"id": "calc", "images": ["a.png"], "question": "What is 6*7?", "answer": "42"})" "\n"
               R"({"id": "pick", "images": ["a.png"], "question": "Which is 6*7?", "choices": ["41", "42"], "answer": "B"})" "\n");
  }

  void start(EnvOptions envs = {}) {
    if (envs.tasks.empty()) envs.tasks = {dir_.file("tasks.jsonl")};
    ServeOptions options;
    options.port = 0;
    options.work_dir = dir_.file("work");
    options.access_log = false;
    options.envs = envs;
    server_ = std::make_unique<Server>(model_, tools_, PromptTemplate::defaults(), EpisodeOptions{}, options);
    port_ = server_->bind();
    thread_ = std::thread([this] { server_->serve(); });
  }
  void TearDown() override {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
  }

  Json post(const std::string& path, const Json& body, int want_status) {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(30, 0);
    auto res = c.Post(path.c_str(), body.dump(), "application/json");
    EXPECT_TRUE(res) << path;
    if (!res) return Json();
    EXPECT_EQ(res->status, want_status) << path << ": " << res->body;
    return Json::parse(res->body, nullptr, false);
  }
  Json get(const std::string& path, int want_status = 200) {
    httplib::Client c("127.0.0.1", port_);
    auto res = c.Get(path.c_str());
    EXPECT_TRUE(res) << path;
    if (!res) return Json();
    EXPECT_EQ(res->status, want_status) << path << ": " << res->body;
    return Json::parse(res->body, nullptr, false);
  }
  Json step(const std::string& id, const std::string& text, int want_status = 200) {
    return post("/v1/envs/" + id + "/step", {{"content", text}}, want_status);
  }

  test::TempDir dir_;
  UnusedModel model_;
  ToolRegistry tools_ = make_builtin_registry();
  std::unique_ptr<Server> server_;
  int port_ = 0;
  std::thread thread_;
};

TEST_F(EnvsTest, AnEpisodeStepByStepEndsWithItsReward) {
  start();
  Json env = post("/v1/envs", {{"task_id", "calc"}}, 200);
  const std::string id = env["id"];
  EXPECT_EQ(env["task_id"], "calc");
  EXPECT_EQ(env["done"], false);
  EXPECT_FALSE(env.contains("answer"));  // the verifier's, not the policy's
  // The opening messages as a chat model reads them: the system prompt with the tools, the
  // request with its image as a data URL.
  const Json& messages = env["messages"];
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0]["role"], "system");
  EXPECT_NE(messages[0]["content"].get<std::string>().find("Calculate"), std::string::npos);
  EXPECT_EQ(messages[1]["role"], "user");
  bool has_image = false, has_question = false;
  for (const auto& part : messages[1]["content"]) {
    if (part["type"] == "image_url") has_image = part["image_url"]["url"].get<std::string>().rfind("data:image/png;base64,", 0) == 0;
    if (part["type"] == "text") has_question |= part["text"].get<std::string>().find("What is 6*7?") != std::string::npos;
  }
  EXPECT_TRUE(has_image);
  EXPECT_TRUE(has_question);

  // The action runs with the real tool; its result is the next user message.
  Json s1 = step(id, kCalculate);
  EXPECT_EQ(s1["done"], false);
  EXPECT_EQ(s1["reward"], 0);
  ASSERT_EQ(s1["observation"].size(), 1u);
  EXPECT_EQ(s1["observation"][0]["role"], "user");
  EXPECT_NE(s1["observation"][0]["content"].get<std::string>().find("42"), std::string::npos) << s1;

  Json s2 = step(id, terminate_with("42"));
  EXPECT_EQ(s2["done"], true);
  EXPECT_EQ(s2["reward"], 1);
  EXPECT_EQ(s2["right"], true);
  EXPECT_EQ(s2["status"], "terminated");
  EXPECT_EQ(s2["answer"], "42");
  EXPECT_EQ(s2["observation"].size(), 0u);
  EXPECT_EQ(s2["reward_parts"]["correct"], 1);

  // The finished environment is an episode of the server's (its trace, the viewer), and takes
  // no more steps.
  Json trace = get("/v1/episodes/" + id)["trace"];
  EXPECT_EQ(trace["steps"].size(), 2u);
  EXPECT_EQ(trace["model"], "client");
  EXPECT_EQ(trace["steps"][0]["observation"]["result"], 42);
  EXPECT_NE(step(id, terminate_with("42"), 404)["error"]["message"].get<std::string>().find("no live environment"), std::string::npos);
  EXPECT_EQ(get("/v1/envs")["data"].size(), 0u);
}

TEST_F(EnvsTest, RewardsAsTacoRlScoresThem) {
  EnvOptions envs;
  envs.reward.set("correct=2", "EnvOptions.reward");
  start(envs);
  // A wrong answer.
  std::string id = post("/v1/envs", {{"task_id", "calc"}}, 200)["id"];
  Json done = step(id, terminate_with("41"));
  EXPECT_EQ(done["reward"], 0);
  EXPECT_EQ(done["right"], false);
  // A reply that does not parse is an observation to recover from, and costs the penalty.
  id = post("/v1/envs", {{"task_id", "calc"}}, 200)["id"];
  Json s = step(id, "I think it is 42");
  EXPECT_EQ(s["done"], false);
  ASSERT_EQ(s["observation"].size(), 1u);
  done = step(id, terminate_with("42"));
  EXPECT_DOUBLE_EQ(done["reward"].get<double>(), 1.9);
  EXPECT_DOUBLE_EQ(done["reward_parts"]["parse"].get<double>(), -0.1);
  // Multiple choice: exact matching of the letter.
  id = post("/v1/envs", {{"task_id", "pick"}}, 200)["id"];
  EXPECT_EQ(step(id, terminate_with("B"))["reward"], 2);
  id = post("/v1/envs", {{"task_id", "pick"}}, 200)["id"];
  EXPECT_EQ(step(id, terminate_with("42 (B)"))["reward"], 0);
  // Out of replies: the episode ends with the unfinished reward, not a scored answer.
  id = post("/v1/envs", {{"task_id", "calc"}, {"max_replies", 0}}, 200)["id"];
  done = step(id, kCalculate);
  EXPECT_EQ(done["done"], true);
  EXPECT_EQ(done["status"], "max_replies");
  EXPECT_EQ(done["reward"], 0);
  // A client whose context is full says so.
  id = post("/v1/envs", {{"task_id", "calc"}}, 200)["id"];
  step(id, kCalculate);
  done = post("/v1/envs/" + id + "/step", {{"context_full", true}}, 200);
  EXPECT_EQ(done["status"], "context_full");
  EXPECT_EQ(done["done"], true);
}

TEST_F(EnvsTest, TasksByIdBySeedOrDrawnAndToolCalls) {
  start();
  Json a = post("/v1/envs", {{"seed", 7}}, 200), b = post("/v1/envs", {{"seed", 7}}, 200);
  EXPECT_EQ(a["task_id"], b["task_id"]);
  std::set<std::string> drawn;
  for (int i = 0; i < 20; ++i) drawn.insert(post("/v1/envs", Json::object(), 200)["task_id"].get<std::string>());
  EXPECT_EQ(drawn.size(), 2u);
  EXPECT_EQ(get("/v1/envs")["data"].size(), 22u);

  // Native tool calls: the tools come with the reset, results as tool messages.
  Json env = post("/v1/envs", {{"task_id", "calc"}, {"protocol", "tools"}, {"model", "policy-step-3"}}, 200);
  ASSERT_TRUE(env["tools"].is_array());
  bool calculate = false;
  for (const auto& t : env["tools"]) calculate |= t["function"]["name"] == "Calculate";
  EXPECT_TRUE(calculate);
  const std::string id = env["id"];
  Json call = {{"id", "call_1"}, {"type", "function"}, {"function", {{"name", "Calculate"}, {"arguments", R"({"expression": "6*7"})"}}}};
  Json s = post("/v1/envs/" + id + "/step", {{"message", {{"role", "assistant"}, {"content", nullptr}, {"tool_calls", {call}}}}}, 200);
  ASSERT_EQ(s["observation"].size(), 1u);
  EXPECT_EQ(s["observation"][0]["role"], "tool");
  EXPECT_EQ(s["observation"][0]["tool_call_id"], "call_1");
  Json done = step(id, "42");
  EXPECT_EQ(done["reward"], 1);
  EXPECT_EQ(get("/v1/episodes/" + id)["trace"]["model"], "policy-step-3");
}

// The idle limit is generous against a loaded machine (two CI suites side by side): a live
// environment must not time out between the requests that test it.
TEST_F(EnvsTest, BoundedInNumberAndTime) {
  EnvOptions envs;
  envs.max_envs = 2;
  envs.idle_timeout_s = 2;
  start(envs);
  const std::string first = post("/v1/envs", {{"task_id", "calc"}}, 200)["id"];
  const std::string second = post("/v1/envs", {{"task_id", "calc"}}, 200)["id"];
  EXPECT_NE(post("/v1/envs", {{"task_id", "calc"}}, 429)["error"]["message"].get<std::string>().find("2 environments are live"),
            std::string::npos);
  httplib::Client c("127.0.0.1", port_);
  auto closed = c.Delete(("/v1/envs/" + second).c_str());
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->status, 200);
  EXPECT_EQ(get("/v1/episodes/" + second)["trace"]["status"], "error");
  const std::string third = post("/v1/envs", {{"task_id", "calc"}}, 200)["id"];

  // Nobody stepped them: they end, and their traces say why.
  std::this_thread::sleep_for(std::chrono::milliseconds(3000));
  EXPECT_EQ(step(first, kCalculate, 404)["error"]["type"], "invalid_request_error");
  EXPECT_NE(get("/v1/episodes/" + third)["trace"]["error"].get<std::string>().find("no step for over 2 s"), std::string::npos);
}

TEST_F(EnvsTest, BadRequestsAreRefusedAndLeaveTheEnvironmentAsItWas) {
  start(EnvOptions{});
  const std::string id = post("/v1/envs", {{"task_id", "calc"}}, 200)["id"];
  EXPECT_EQ(post("/v1/envs", {{"task_id", "nope"}}, 404)["error"]["message"], "no task 'nope' in this server's tasks");
  post("/v1/envs", {{"seed", "x"}}, 400);
  post("/v1/envs", {{"max_replies", 51}}, 400);
  post("/v1/envs", {{"protocol", "telepathy"}}, 400);
  post("/v1/envs/" + id + "/step", Json::object(), 400);
  post("/v1/envs/" + id + "/step", {{"tool_calls", Json::array()}}, 400);  // a CoTA environment reads text
  post("/v1/envs/" + id + "/step", {{"content", {{{"type", "image_url"}}}}}, 400);
  post("/v1/envs/" + id + "/step", {{"content", "x"}, {"context_full", "yes"}}, 400);
  post("/v1/envs/" + id + "/step", {{"content", std::string((1 << 20) + 1, 'x')}}, 400);
  EXPECT_EQ(step(id, terminate_with("42"))["reward"], 1);  // the refusals left it as it was

  // Tool calls not of OpenAI's shape are refused before any of them runs.
  const std::string tools = post("/v1/envs", {{"task_id", "calc"}, {"protocol", "tools"}}, 200)["id"];
  Json good = {{"id", "c1"}, {"type", "function"}, {"function", {{"name", "Calculate"}, {"arguments", R"({"expression": "6*7"})"}}}};
  for (const Json& bad : {Json{{"id", 5}, {"function", {{"name", "Calculate"}}}}, Json{{"function", {{"name", 5}}}}, Json("Calculate"),
                          Json{{"function", {{"name", "Calculate"}, {"arguments", 7}}}}})
    EXPECT_NE(post("/v1/envs/" + tools + "/step", {{"tool_calls", {good, bad}}}, 400)["error"]["message"].get<std::string>().find("a tool call must be"),
              std::string::npos);
  post("/v1/envs/" + tools + "/step", {{"tool_calls", Json(std::vector<Json>(17, good))}}, 400);
  Json s = post("/v1/envs/" + tools + "/step", {{"tool_calls", {good}}}, 200);
  EXPECT_EQ(s["steps"], 1);  // the refused replies took no step
  EXPECT_EQ(step(tools, "42")["reward"], 1);
}

TEST(EnvsSetupTest, TasksWithoutAnAnswerOrWithoutEnvironmentsAreSaid) {
  test::TempDir dir;
  test::write_test_image(dir.file("a.png"), 8, 8);
  write_file(dir.file("t.jsonl"), R"({"id": "x", "images": ["a.png"], "question": "What?"})" "\n");
  ToolRegistry tools = make_builtin_registry();
  EnvOptions options;
  options.tasks = {dir.file("t.jsonl")};
  try {
    Environments envs(tools, PromptTemplate::defaults(), EpisodeOptions{}, options, dir.file("work"), nullptr);
    FAIL() << "a task without an answer was taken";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("task x of " + dir.file("t.jsonl") + ": it has no answer to reward"), std::string::npos) << e.what();
  }
  Environments none(tools, PromptTemplate::defaults(), EpisodeOptions{}, EnvOptions{}, dir.file("work"), nullptr);
  try {
    none.reset(Json::object());
    FAIL();
  } catch (const EnvError& e) {
    EXPECT_EQ(e.status, 404);
  }
}

}  // namespace
}  // namespace taco
