#include "models/openai.h"

#include <gtest/gtest.h>

#include "models/replay.h"
#include "test_support.h"
#include "util/files.h"

namespace taco {
namespace {

ModelOptions options_for(const test::ScriptedServer& server) {
  ModelOptions o;
  o.model = "test-model";
  o.endpoint = server.base_url();
  o.backoff_s = 0.01;
  o.retries = 3;
  o.timeout_s = 10;
  return o;
}

std::vector<Message> conversation_with_image() {
  auto url = std::make_shared<const std::string>("data:image/png;base64,AAAA");
  return {Message{"system", {{"You are a test.", nullptr}}},
          Message{"user", {{"image-0: ", nullptr}, {"", url}, {"\nWhat is it?", nullptr}}}};
}

TEST(OpenAIModelTest, SendsChatCompletionWithDataUrls) {
  test::ScriptedServer server([](const Json&, int) { return test::ScriptedServer::Reply{200, test::ScriptedServer::completion("hello")}; });
  ModelOptions o = options_for(server);
  o.seed = 7;
  o.max_tokens = 64;
  OpenAIModel model(o);
  auto messages = conversation_with_image();
  Completion c = model.complete(CompletionRequest{"t", &messages});
  EXPECT_EQ(c.text, "hello");
  EXPECT_EQ(c.prompt_tokens, 10);
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  const Json& r = reqs[0];
  EXPECT_EQ(r["model"], "test-model");
  EXPECT_EQ(r["seed"], 7);
  EXPECT_EQ(r["max_tokens"], 64);
  EXPECT_EQ(r["messages"][0]["content"], "You are a test.");
  const Json& parts = r["messages"][1]["content"];
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0]["text"], "image-0: ");
  EXPECT_EQ(parts[1]["type"], "image_url");
  EXPECT_EQ(parts[1]["image_url"]["url"], "data:image/png;base64,AAAA");
  EXPECT_EQ(parts[2]["text"], "\nWhat is it?");
}

TEST(OpenAIModelTest, RetriesOn429And5xx) {
  test::ScriptedServer server([](const Json&, int call) {
    if (call == 0) return test::ScriptedServer::Reply{429, R"({"error": {"message": "slow down"}})"};
    if (call == 1) return test::ScriptedServer::Reply{503, "overloaded"};
    return test::ScriptedServer::Reply{200, test::ScriptedServer::completion("third time")};
  });
  OpenAIModel model(options_for(server));
  auto messages = conversation_with_image();
  EXPECT_EQ(model.complete(CompletionRequest{"t", &messages}).text, "third time");
  EXPECT_EQ(server.calls(), 3);
}

TEST(OpenAIModelTest, ClientErrorsFailAtOnceWithTheServersMessage) {
  test::ScriptedServer server([](const Json&, int) {
    return test::ScriptedServer::Reply{401, R"({"error": {"message": "Incorrect API key provided"}})"};
  });
  OpenAIModel model(options_for(server));
  auto messages = conversation_with_image();
  try {
    model.complete(CompletionRequest{"t", &messages});
    FAIL();
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("HTTP 401: Incorrect API key provided"), std::string::npos) << e.what();
  }
  EXPECT_EQ(server.calls(), 1);
}

TEST(OpenAIModelTest, GivesUpAfterRetries) {
  test::ScriptedServer server([](const Json&, int) { return test::ScriptedServer::Reply{500, "boom"}; });
  OpenAIModel model(options_for(server));
  auto messages = conversation_with_image();
  try {
    model.complete(CompletionRequest{"t", &messages});
    FAIL();
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("after 4 attempts"), std::string::npos) << e.what();
    EXPECT_EQ(dynamic_cast<const ModelUnreachableError*>(&e), nullptr);  // the server answered
  }
  EXPECT_NO_THROW(model.check_reachable());
  EXPECT_EQ(server.calls(), 4);
}

TEST(OpenAIModelTest, UnreachableEndpointIsAClearError) {
  ModelOptions o;
  o.model = "m";
  o.endpoint = "http://127.0.0.1:1/v1";  // nothing listens on port 1
  o.retries = 1;
  o.backoff_s = 0.01;
  OpenAIModel model(o);
  auto messages = conversation_with_image();
  try {
    model.complete(CompletionRequest{"t", &messages});
    FAIL();
  } catch (const ModelUnreachableError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot reach http://127.0.0.1:1/v1/chat/completions"), std::string::npos) << e.what();
  }
  try {
    model.check_reachable();
    FAIL();
  } catch (const ModelUnreachableError& e) {
    EXPECT_NE(std::string(e.what()).find("does not answer: cannot reach http://127.0.0.1:1/v1/models"), std::string::npos) << e.what();
  }
}

// A server that sends without end is cut off at 64 MB: one failed task, not the process's memory.
TEST(OpenAIModelTest, AnOversizedResponseIsRefused) {
  test::ScriptedServer server([](const Json&, int) { return test::ScriptedServer::Reply{200, std::string((64u << 20) + 1, ' ')}; });
  OpenAIModel model(options_for(server));
  auto messages = conversation_with_image();
  try {
    model.complete(CompletionRequest{"t", &messages});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("answered with more than 64 MB"), std::string::npos) << e.what();
  }
  EXPECT_EQ(server.calls(), 1);  // not retried
}

TEST(OpenAIModelTest, GarbageResponseIsAnError) {
  test::ScriptedServer server([](const Json&, int) { return test::ScriptedServer::Reply{200, "<html>oops</html>"}; });
  OpenAIModel model(options_for(server));
  auto messages = conversation_with_image();
  EXPECT_THROW(model.complete(CompletionRequest{"t", &messages}), ModelError);
}

// Usage counts as servers really write them: null, floats, strings, negative. Once a null
// count was an uncaught JSON type error that aborted the whole batch.
TEST(OpenAIModelTest, OddUsageCountsAreReadAsUnknown) {
  test::ScriptedServer server([](const Json&, int) {
    Json reply = Json::parse(test::ScriptedServer::completion("fine"));
    reply["usage"] = Json{{"prompt_tokens", 12.0}, {"completion_tokens", nullptr}, {"total_tokens", "x"}};
    return test::ScriptedServer::Reply{200, reply.dump()};
  });
  OpenAIModel model(options_for(server));
  auto messages = conversation_with_image();
  Completion c = model.complete(CompletionRequest{"t", &messages});
  EXPECT_EQ(c.text, "fine");
  EXPECT_EQ(c.prompt_tokens, 12);
  EXPECT_EQ(c.completion_tokens, 0);
}

TEST(OpenAIModelTest, JsonSchemaGoesAsResponseFormat) {
  ModelOptions o;
  o.model = "m";
  o.endpoint = "http://127.0.0.1:1/v1";
  o.json_schema = R"({"type": "object"})";
  OpenAIModel model(o);
  Json body = Json::parse(model.request_payload(CompletionRequest{}));
  EXPECT_EQ(body["response_format"]["type"], "json_schema");
  EXPECT_EQ(body["response_format"]["json_schema"]["schema"]["type"], "object");
  o.json_schema = "cota";
  Json cota = Json::parse(OpenAIModel(o).request_payload(CompletionRequest{}));
  EXPECT_EQ(cota["response_format"]["json_schema"]["schema"]["required"], Json::array({"thought", "actions"}));
  EXPECT_THROW(OpenAIModel(ModelOptions{.model = "m", .endpoint = "localhost:8000"}), Error);
}

TEST(ReplayModelTest, AnswersInTurnAndFromFolders) {
  test::TempDir dir;
  write_file(dir.file("list.json"), R"(["first", "second"])");
  write_file(dir.file("folder/q7.json"), R"({"assistant_raw": ["for q7"]})");
  ReplayModel list(dir.file("list.json"));
  std::vector<Message> msgs = {Message{"system", {}}, Message{"user", {}}};
  EXPECT_EQ(list.complete(CompletionRequest{"any", &msgs}).text, "first");
  msgs.push_back(Message{"assistant", {}});
  EXPECT_EQ(list.complete(CompletionRequest{"any", &msgs}).text, "second");
  msgs.push_back(Message{"assistant", {}});
  EXPECT_THROW(list.complete(CompletionRequest{"any", &msgs}), ModelError);

  ReplayModel folder(dir.file("folder"));
  std::vector<Message> fresh = {Message{"user", {}}};
  EXPECT_EQ(folder.complete(CompletionRequest{"q7", &fresh}).text, "for q7");
  EXPECT_THROW(folder.complete(CompletionRequest{"q8", &fresh}), ModelError);
  EXPECT_THROW(folder.complete(CompletionRequest{"../list", &fresh}), ModelError);
  EXPECT_THROW(ReplayModel(dir.file("nope.json")), Error);
}

TEST(ReplayModelTest, ReplaysTheRepliesOfATraceFile) {
  test::TempDir dir;
  write_file(dir.file("t.jsonl"), R"({"task": {"id": "a"}, "steps": [{"raw": "one"}, {"raw": "two"}]})"
                                  "\n"
                                  R"({"task": {"id": 7}, "steps": [{"raw": "seven"}]})"
                                  "\n");
  ReplayModel traces(dir.file("t.jsonl"));
  std::vector<Message> msgs = {Message{"user", {}}, Message{"assistant", {}}};
  EXPECT_EQ(traces.complete(CompletionRequest{"a", &msgs}).text, "two");
  std::vector<Message> fresh = {Message{"user", {}}};
  EXPECT_EQ(traces.complete(CompletionRequest{"7", &fresh}).text, "seven");
  EXPECT_THROW(traces.complete(CompletionRequest{"b", &fresh}), ModelError);
  write_file(dir.file("bad.jsonl"), "{\"x\": 1}\n");
  EXPECT_THROW(ReplayModel(dir.file("bad.jsonl")), Error);
}

}  // namespace
}  // namespace taco
