#include <gtest/gtest.h>

#include "test_support.h"
#include "tools/builtin.h"
#include "tools/image_store.h"
#include "tools/registry.h"

namespace taco {
namespace {

TEST(LanguageModelToolTest, AsksTheConfiguredEndpoint) {
  test::ScriptedServer server([](const Json& req, int) {
    std::string q = req["messages"][0]["content"];
    return test::ScriptedServer::Reply{200, test::ScriptedServer::completion(q == "Capital of France?" ? "Paris" : "?")};
  });
  ToolRegistry tools;
  tools.add(make_language_model_tool(Json{{"model", "text-model"}, {"endpoint", server.base_url()}}));
  ImageStore store;
  auto ctx = store.context_for("t");
  EXPECT_EQ(tools.execute(Action{"QueryLanguageModel", Json{{"query", "Capital of France?"}}}, ctx)["result"], "Paris");
  EXPECT_EQ(server.requests()[0]["model"], "text-model");
}

TEST(LanguageModelToolTest, UnconfiguredOrUnreachable) {
  EXPECT_NE(make_language_model_tool(Json::object())->unavailable_reason().find("no language model"), std::string::npos);
  ToolRegistry tools;
  tools.add(make_language_model_tool(Json{{"model", "m"}, {"endpoint", "http://127.0.0.1:1/v1"}, {"retries", 0}}));
  ImageStore store;
  auto ctx = store.context_for("t");
  try {
    tools.execute(Action{"QueryLanguageModel", Json{{"query", "hi"}}}, ctx);
    FAIL();
  } catch (const ToolError& e) {
    EXPECT_EQ(e.kind(), ToolFailure::kConnectionError);
  }
}

}  // namespace
}  // namespace taco
