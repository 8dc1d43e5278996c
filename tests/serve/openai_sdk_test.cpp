// A client nobody here wrote: the official OpenAI SDK for JavaScript (npm `openai`, installed
// into tests/js by scripts/bootstrap) against `taco serve` started as users start it, then
// stopped with SIGTERM.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>
#include <filesystem>

#include "test_support.h"
#include "util/child_process.h"

namespace taco {
namespace {

using Reply = test::ScriptedServer::Reply;

std::string command_output(const std::string& command, int& status) {
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  std::string out;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  status = ::pclose(p);
  return out;
}

TEST(OpenAiSdkTest, TheOfficialClientTalksToTacoServe) {
  const std::string js = std::string(TACO_SOURCE_DIR) + "/tests/js";
  int status = 0;
  command_output("node --version", status);
  if (status != 0 || !std::filesystem::exists(js + "/node_modules/openai/package.json"))
    GTEST_SKIP() << "needs node and the npm packages in tests/js/node_modules: scripts/bootstrap installs them (npm ci)";

  // The backing model: the CoTA protocol when it gets taco's system prompt (the agent), else plain answers.
  test::ScriptedServer backend([](const Json& req, int) {
    const Json& messages = req["messages"];
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
  auto server = ChildProcess::start({{"/bin/sh", "-c",
                                      "exec " + std::string(TACO_BINARY) + " serve --model scripted --endpoint " + backend.base_url() +
                                          " --retries 0 --port 0 --api-key sesame --work-dir " + dir.file("work") + " 2>&1"},
                                     {},
                                     0});
  std::string line, log;
  int port = 0;
  while (!port && server->read_line(line, 20) == ChildProcess::ReadResult::kLine) {
    log += line + "\n";
    if (size_t at = line.find("http://127.0.0.1:"); at != std::string::npos) port = std::stoi(line.substr(at + 17));
  }
  ASSERT_GT(port, 0) << log;

  const std::string out = command_output("node " + js + "/openai_client.mjs http://127.0.0.1:" + std::to_string(port) +
                                             "/v1 sesame " + image,
                                         status);
  ASSERT_EQ(status, 0) << out;
  const std::string last_line = out.substr(out.rfind('\n', out.size() - 2) == std::string::npos ? 0 : out.rfind('\n', out.size() - 2) + 1);
  const Json seen = Json::parse(last_line, nullptr, false);
  ASSERT_TRUE(seen.is_object()) << out;
  EXPECT_EQ(seen["models"], Json({"scripted", "taco-agent"}));
  EXPECT_EQ(seen["plain"], "hello");
  EXPECT_EQ(seen["usage"], 15);
  EXPECT_EQ(seen["with_image"], "a picture");
  EXPECT_EQ(seen["streamed"], "hello");
  EXPECT_GE(seen["chunks"].get<int>(), 3);
  EXPECT_EQ(seen["agent"], "42");
  EXPECT_EQ(seen["agent_steps"], 2);
  EXPECT_EQ(seen["refused"], true);

  // SIGTERM: it stops accepting, finishes what is in flight, and exits 0.
  ::kill(server->pid(), SIGTERM);
  while (server->read_line(line, 20) == ChildProcess::ReadResult::kLine) log += line + "\n";
  EXPECT_EQ(server->wait_description(), "exited with status 0") << log;
  EXPECT_NE(log.find("taco serve: stopped"), std::string::npos) << log;
}

}  // namespace
}  // namespace taco
