// taco as an MCP client, against the protocol's reference server that nobody here wrote
// (`@modelcontextprotocol/server-everything` from npm, installed into tests/js by
// scripts/bootstrap): its tools listed in the registry and the prompt, called inside an episode
// driven by a scripted loopback model (text and image results), over stdio and over streamable
// HTTP; argument checks, a call over the time limit, and the server started again after it.
#include "tools/mcp_client.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "runtime/episode.h"
#include "test_support.h"
#include "tools/config.h"
#include "tools/image_store.h"
#include "util/child_process.h"
#include "util/error.h"
#include "util/files.h"

namespace taco {
namespace {

using Reply = test::ScriptedServer::Reply;

std::string everything_server() {
  return std::string(TACO_SOURCE_DIR) + "/tests/js/node_modules/@modelcontextprotocol/server-everything/dist/index.js";
}

bool have_everything_server() {
  return test::run_command("node --version").code == 0 && std::filesystem::exists(everything_server());
}

ToolsConfig config_with(const test::TempDir& dir, const Json& servers) {
  write_file(dir.file("tools.json"), Json{{"mcpServers", servers}}.dump());
  return ToolsConfig::load(dir.file("tools.json"));
}

// A port nothing listens on now (the kernel's pick for a socket bound to port 0).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t n = sizeof a;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
  ::close(fd);
  return ntohs(a.sin_port);
}

std::string step_json(const std::string& thought, const std::string& name, const Json& arguments) {
  return Json{{"thought", thought}, {"actions", {{{"name", name}, {"arguments", arguments}}}}}.dump();
}

TEST(McpClientTest, SchemaChecks) {
  const Json schema = Json::parse(R"({"type": "object", "properties": {
      "a": {"type": "number", "minimum": 0}, "kind": {"type": "string", "enum": ["x", "y"]},
      "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2}},
    "required": ["a"], "additionalProperties": false})");
  EXPECT_EQ(json_schema_problem(schema, Json{{"a", 1}, {"kind", "x"}, {"tags", {"p"}}}), "");
  EXPECT_EQ(json_schema_problem(schema, Json{{"kind", "x"}}), "arguments needs 'a'");
  EXPECT_EQ(json_schema_problem(schema, Json{{"a", -1}}), "arguments.a must be at least 0");
  EXPECT_EQ(json_schema_problem(schema, Json{{"a", 1}, {"kind", "z"}}), "arguments.kind must be one of [\"x\",\"y\"]");
  EXPECT_EQ(json_schema_problem(schema, Json{{"a", 1}, {"tags", {"p", 3}}}), "arguments.tags[1] must be string, not integer");
  EXPECT_EQ(json_schema_problem(schema, Json{{"a", 1}, {"tags", {"p", "q", "r"}}}), "arguments.tags must have at most 2 items");
  EXPECT_EQ(json_schema_problem(schema, Json{{"a", 1}, {"b", 2}}), "arguments has 'b', which is not one of its properties");
  EXPECT_EQ(json_schema_problem(Json{{"type", "integer"}}, Json(2.0)), "") << "2.0 is an integer to JSON Schema";
  EXPECT_EQ(json_schema_problem(Json{{"anyOf", {{{"type", "string"}}, {{"type", "null"}}}}}, Json(3)),
            "arguments matches none of the schemas its anyOf allows");
}

TEST(McpClientTest, BadServerEntriesAreRefusedWithTheReason) {
  test::TempDir dir;
  auto refused = [&](const Json& servers) {
    try {
      config_with(dir, servers);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("(taken)");
  };
  EXPECT_NE(refused({{"s", Json::object()}}).find("mcpServers.s needs a \"command\""), std::string::npos);
  EXPECT_NE(refused({{"s", {{"command", "x"}, {"url", "http://h/mcp"}}}}).find("both a command and a url"), std::string::npos);
  EXPECT_NE(refused({{"s", {{"command", "x"}, {"cmd", "y"}}}}).find("unknown key 'cmd'"), std::string::npos);
  EXPECT_NE(refused({{"s", {{"url", "ftp://h"}}}}).find("must start with http"), std::string::npos);
  EXPECT_NE(refused({{"s", {{"command", "x"}, {"args", "-v"}}}}).find("args must be a list of strings"), std::string::npos);

  // A server that exits at once: the error says how, and what it printed last.
  ToolsConfig quits = config_with(dir, {{"quits", {{"command", "sh"}, {"args", {"-c", "echo 'no such model' >&2; exit 3"}}}}});
  try {
    make_tool_registry(quits);
    ADD_FAILURE() << "a server that exits was taken";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("MCP server 'quits' stopped (exited with status 3)"), std::string::npos) << m;
    EXPECT_NE(m.find("ends: no such model"), std::string::npos) << m;
  }
  EXPECT_THROW(make_tool_registry(config_with(dir, {{"missing", {{"command", "/nonexistent/server"}}}})), Error);
}

// A hostile MCP server over stdio, in Python: a proper handshake, then in `mode` a tools/list
// (deep-list) or tools/call (deep-call) reply nested 100,000 levels deep, a 2 MB text result
// (big-text), a reply line that never ends (endless), or an image that its structured content
// carries again as base64 (media, as server-filesystem's read_media_file does).
std::string write_hostile_server(const test::TempDir& dir) {
  write_file(dir.file("hostile.py"), R"PY(import json, sys
mode = sys.argv[1]
deep = "[" * 100000 + "]" * 100000
def send(text):
    sys.stdout.write(text + chr(10)); sys.stdout.flush()
for line in sys.stdin:
    m = json.loads(line)
    if "id" not in m: continue
    i = json.dumps(m["id"])
    if m["method"] == "initialize":
        send(json.dumps({"jsonrpc": "2.0", "id": m["id"], "result": {"protocolVersion": m["params"]["protocolVersion"],
             "capabilities": {"tools": {}}, "serverInfo": {"name": "hostile", "version": "1"}}}))
    elif m["method"] == "tools/list":
        if mode == "deep-list": send('{"jsonrpc": "2.0", "id": %s, "result": %s}' % (i, deep))
        else: send(json.dumps({"jsonrpc": "2.0", "id": m["id"], "result": {"tools": [{"name": "Shout",
             "description": "says a lot", "inputSchema": {"type": "object", "properties": {}}}]}}))
    elif m["method"] == "tools/call":
        if mode == "deep-call": send('{"jsonrpc": "2.0", "id": %s, "result": %s}' % (i, deep))
        elif mode == "media":
            png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
            image = {"type": "image", "data": png, "mimeType": "image/png"}
            send(json.dumps({"jsonrpc": "2.0", "id": m["id"], "result": {"content": [image],
                 "structuredContent": {"content": [image], "preview": "data:image/png;base64," + png, "name": "dot.png"}}}))
        elif mode == "endless":
            while True: sys.stdout.write("x" * 65536)
        else: send(json.dumps({"jsonrpc": "2.0", "id": m["id"], "result": {"content": [{"type": "text", "text": "y" * 2000000}]}}))
)PY");
  return dir.file("hostile.py");
}

// Replies from an MCP server are read with the same limits as every JSON from outside: a
// deep one is the server's error, not a stack overflow; a huge text is cut, and says so.
TEST(McpClientTest, AHostileServerIsAnErrorNeverACrash) {
  if (test::run_command("python3 --version").code != 0) GTEST_SKIP() << "needs python3 (scripts/bootstrap)";
  test::TempDir dir;
  const std::string server = write_hostile_server(dir);
  auto config = [&](const std::string& mode) {
    return config_with(dir, {{"hostile", {{"command", "python3"}, {"args", {server, mode}}, {"time_limit_s", 20}}}});
  };
  try {
    make_tool_registry(config("deep-list"));
    ADD_FAILURE() << "a tools/list nested 100,000 deep was taken";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("nested deeper than"), std::string::npos) << e.what();
  }
  auto call = [&](const std::string& mode) -> Json {
    ToolRegistry tools = make_tool_registry(config(mode));
    ImageStore store;
    try {
      return test::call_tool(tools, store, "Shout", Json::object());
    } catch (const ToolError& e) {
      return Json{{"error", e.what()}};
    }
  };
  const Json deep = call("deep-call");
  EXPECT_NE(deep.value("error", "").find("nested deeper than"), std::string::npos) << deep.dump().substr(0, 300);
  const Json endless = call("endless");
  EXPECT_NE(endless.value("error", "").find("sent a message over 64 MB"), std::string::npos) << endless.dump().substr(0, 300);
  const Json big = call("big-text");
  ASSERT_TRUE(big.contains("text")) << big.dump().substr(0, 300);
  EXPECT_LE(big.dump().size(), kMaxObservationBytes);
  EXPECT_NE(big["text"].get<std::string>().find("[cut: Shout returned 1.9 MB here; the first 128 KB are shown]"), std::string::npos)
      << big["text"].get<std::string>().substr(big["text"].get<std::string>().size() - 200);
}

// An image a server returns is image-k; its structured content names it so instead of carrying
// its base64 into the prompt a second time.
TEST(McpClientTest, StructuredContentNamesTheImagesItCarries) {
  if (test::run_command("python3 --version").code != 0) GTEST_SKIP() << "needs python3 (scripts/bootstrap)";
  test::TempDir dir;
  const std::string server = write_hostile_server(dir);
  ToolRegistry tools = make_tool_registry(config_with(dir, {{"media", {{"command", "python3"}, {"args", {server, "media"}}, {"time_limit_s", 20}}}}));
  ImageStore store;
  const Json r = test::call_tool(tools, store, "Shout", Json::object());
  EXPECT_EQ(r["image"], "image-0") << r.dump();
  EXPECT_EQ(r["result"]["content"][0]["data"], "image-0") << r.dump();
  EXPECT_EQ(r["result"]["preview"], "image-0") << r.dump();
  EXPECT_EQ(r["result"]["name"], "dot.png");
  EXPECT_EQ(r.dump().find("iVBOR"), std::string::npos) << r.dump();
}

// server-everything over stdio: its tools in the registry and the prompt; an episode that
// calls echo (text), get-tiny-image (an image) and Terminate through a scripted model.
TEST(McpClientTest, TheReferenceServersToolsRunInAnEpisode) {
  if (!have_everything_server())
    GTEST_SKIP() << "needs node and @modelcontextprotocol/server-everything in tests/js/node_modules (scripts/bootstrap)";
  test::TempDir dir;
  ToolsConfig config = config_with(dir, {{"everything", {{"command", "node"}, {"args", {everything_server()}},
                                                         {"allow", {"echo", "get-tiny-image", "get-sum", "trigger-long-running-operation"}},
                                                         {"time_limit_s", 4}}}});  // room for node's start on a loaded machine
  ToolRegistry tools = make_tool_registry(config);
  const Tool* echo = tools.find("echo");
  ASSERT_NE(echo, nullptr);
  EXPECT_EQ(echo->backend(), "mcp:everything");
  EXPECT_EQ(tools.find("get-env"), nullptr) << "not in allow";
  bool in_prompt = false;
  for (const auto& d : tools.action_docs()) in_prompt = in_prompt || (d.name == "get-sum" && d.arguments.contains("b"));
  EXPECT_TRUE(in_prompt);

  test::ScriptedServer model_server([](const Json& req, int) {
    int turn = 0;
    for (const auto& m : req["messages"]) turn += m["role"] == "assistant";
    const std::vector<std::string> replies = {
        step_json("say it back", "echo", {{"message", "hello from taco"}}),
        step_json("a wrong argument", "get-sum", {{"a", 1}, {"b", "two"}}),
        step_json("look at the logo", "get-tiny-image", Json::object()),
        step_json("done", "Terminate", {{"answer", "a logo"}}),
    };
    return Reply{200, test::ScriptedServer::completion(replies[std::min<size_t>(turn, replies.size() - 1)])};
  });
  ModelOptions mo;
  mo.model = "scripted";
  mo.endpoint = model_server.base_url();
  mo.retries = 0;
  auto model = make_model(mo);
  EpisodeOptions eo;
  eo.images_dir = dir.file("images");
  Runtime runtime(*model, tools, PromptTemplate::defaults(), eo);
  EXPECT_NE(runtime.system_prompt().find("get-tiny-image"), std::string::npos);
  Task task;
  task.id = "mcp-1";
  task.question = "What does the server show?";
  Trace t = runtime.run(task);
  ASSERT_EQ(t.status, TraceStatus::kTerminated) << t.error;
  ASSERT_EQ(t.steps.size(), 4u);
  EXPECT_EQ(t.steps[0].observation["text"], "Echo: hello from taco");
  EXPECT_EQ(t.steps[1].error_kind, "arguments");
  EXPECT_NE(t.steps[1].feedback.find("must be a number"), std::string::npos) << t.steps[1].feedback;
  ASSERT_EQ(t.steps[2].new_images.size(), 1u);
  EXPECT_EQ(t.steps[2].observation["image"], t.steps[2].new_images[0]);
  ASSERT_EQ(t.images.size(), 1u);
  EXPECT_EQ(t.images[0].source, "get-tiny-image");
  EXPECT_GT(t.images[0].width, 0);
  EXPECT_TRUE(std::filesystem::exists(t.images[0].path));
  EXPECT_EQ(t.answer, "a logo");

  // A call over the time limit is a TimeoutError the model sees; the server is started again
  // for the next call, which works.
  auto ctx = ImageStore().context_for("t");
  try {
    tools.execute(Action{"trigger-long-running-operation", {{"duration", 10}, {"steps", 2}}}, ctx);
    ADD_FAILURE() << "a 10-second operation finished under a 4-second limit";
  } catch (const ToolError& e) {
    EXPECT_EQ(e.kind(), ToolFailure::kTimeoutError) << e.what();
    EXPECT_NE(std::string(e.what()).find("started again at the next call"), std::string::npos) << e.what();
  }
  EXPECT_EQ(tools.execute(Action{"echo", {{"message", "again"}}}, ctx)["text"], "Echo: again");
  EXPECT_EQ(tools.execute(Action{"get-sum", {{"a", 2}, {"b", 3}}}, ctx)["text"], "The sum of 2 and 3 is 5.");
}

// The same server over streamable HTTP (its streamableHttp transport: SSE answers, a session).
TEST(McpClientTest, AServerOverStreamableHttp) {
  if (!have_everything_server())
    GTEST_SKIP() << "needs node and @modelcontextprotocol/server-everything in tests/js/node_modules (scripts/bootstrap)";
  test::TempDir dir;
  const int port = free_port();
  auto server = ChildProcess::start({{"node", everything_server(), "streamableHttp"}, {{"PORT", std::to_string(port)}}, 0, dir.file("server.log")});
  bool listening = false;
  for (int i = 0; i < 200 && !listening; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    listening = read_file(dir.file("server.log")).find("listening on port") != std::string::npos;
  }
  ASSERT_TRUE(listening) << read_file(dir.file("server.log"));
  ToolsConfig config = config_with(dir, {{"remote", {{"url", "http://127.0.0.1:" + std::to_string(port) + "/mcp"},
                                                     {"headers", {{"X-Test", "1"}}}, {"deny", {"get-env"}}}}});
  ToolRegistry tools = make_tool_registry(config);
  ASSERT_NE(tools.find("echo"), nullptr);
  EXPECT_EQ(tools.find("get-env"), nullptr) << "denied";
  auto ctx = ImageStore().context_for("t");
  EXPECT_EQ(tools.execute(Action{"echo", {{"message", "over http"}}}, ctx)["text"], "Echo: over http");
  Json image = tools.execute(Action{"get-tiny-image", Json::object()}, ctx);
  EXPECT_EQ(image["image"], "image-0");
  ASSERT_EQ(ctx->new_images().size(), 1u);
  EXPECT_GT(ctx->new_images()[0].width(), 0);
  Json weather = tools.execute(Action{"get-structured-content", {{"location", "Chicago"}}}, ctx);
  EXPECT_TRUE(weather["result"].contains("temperature")) << weather;
}

}  // namespace
}  // namespace taco
