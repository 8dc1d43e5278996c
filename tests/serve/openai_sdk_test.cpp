// A client nobody here wrote: the official OpenAI SDK for JavaScript (npm `openai`, installed
// into tests/js by scripts/bootstrap) against `taco serve` started as users start it, then
// stopped with SIGTERM.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>

#include "test_support.h"

namespace taco {
namespace {

using Reply = test::ScriptedServer::Reply;

TEST(OpenAiSdkTest, TheOfficialClientTalksToTacoServe) {
  const std::string js = std::string(TACO_SOURCE_DIR) + "/tests/js";
  if (test::run_command("node --version").code != 0 || !std::filesystem::exists(js + "/node_modules/openai/package.json"))
    GTEST_SKIP() << "needs node and the npm packages in tests/js/node_modules: scripts/bootstrap installs them (npm ci)";

  // The backing model: the CoTA protocol when it gets taco's system prompt (the agent), a tool
  // call when it is given tools, else plain answers.
  test::ScriptedServer backend([](const Json& req, int) {
    const Json& messages = req["messages"];
    if (req.contains("tools")) {
      const Json call{{"id", "call_7"}, {"type", "function"}, {"function", {{"name", "get_weather"}, {"arguments", R"({"city":"Oslo"})"}}}};
      const Json message{{"role", "assistant"}, {"content", nullptr}, {"tool_calls", Json::array({call})}};
      const Json body{{"id", "c"}, {"object", "chat.completion"}, {"created", 0}, {"model", "scripted"},
                      {"choices", Json::array({Json{{"index", 0}, {"finish_reason", "tool_calls"}, {"message", message}}})}};
      return Reply{200, body.dump()};
    }
    if (messages[0]["role"] == "system") {
      const bool first = messages.size() == 2;
      return Reply{200, test::ScriptedServer::completion(
                            first ? R"({"thought": "t", "actions": [{"name": "Calculate", "arguments": {"expression": "6*7"}}]})"
                                  : R"({"thought": "t", "actions": [{"name": "Terminate", "arguments": {"answer": "42"}}]})")};
    }
    return Reply{200, test::ScriptedServer::completion(messages[0]["content"].is_array() ? "a picture" : "hello")};
  });
  test::TempDir dir;
  const std::string image = test::write_test_image(dir.file("a.png"), 48, 32);
  std::string log;
  int port = 0;
  auto server = test::start_taco_listening("serve --model scripted --endpoint " + backend.base_url() +
                                               " --retries 0 --port 0 --api-key sesame --work-dir " + dir.file("work"),
                                           port, log);
  ASSERT_GT(port, 0) << log;

  const test::CliResult client =
      test::run_command("node " + js + "/openai_client.mjs http://127.0.0.1:" + std::to_string(port) + "/v1 sesame " + image);
  ASSERT_EQ(client.code, 0) << client.output;
  const Json seen = test::last_line_json(client.output);
  ASSERT_TRUE(seen.is_object()) << client.output;
  EXPECT_EQ(seen["models"], Json({"scripted", "taco-agent"}));
  EXPECT_EQ(seen["plain"], "hello");
  EXPECT_EQ(seen["usage"], 15);
  EXPECT_EQ(seen["with_image"], "a picture");
  EXPECT_EQ(seen["streamed"], "hello");
  EXPECT_GE(seen["chunks"].get<int>(), 3);
  EXPECT_EQ(seen["agent"], "42");
  EXPECT_EQ(seen["agent_steps"], 2);
  EXPECT_EQ(seen["agent_streamed"], "42");
  EXPECT_NE(seen["agent_reasoning"].get<std::string>().find("Calculate"), std::string::npos) << seen["agent_reasoning"];
  const Json weather{{"name", "get_weather"}, {"arguments", R"({"city":"Oslo"})"}};
  EXPECT_EQ(seen["tool_call"], weather);
  EXPECT_EQ(seen["streamed_tool_call"]["name"], "get_weather");
  EXPECT_EQ(seen["streamed_tool_call"]["arguments"], weather["arguments"]);
  EXPECT_EQ(seen["refused"], true);

  // SIGTERM: it stops accepting, finishes what is in flight, and exits 0.
  ::kill(server->pid(), SIGTERM);
  std::string line;
  while (server->read_line(line, 20) == ChildProcess::ReadResult::kLine) log += line + "\n";
  EXPECT_EQ(server->wait_description(), "exited with status 0") << log;
  EXPECT_NE(log.find("taco serve: stopped"), std::string::npos) << log;
}

}  // namespace
}  // namespace taco
