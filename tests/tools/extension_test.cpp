// What a newcomer adds without editing any existing file: a tool and a model kind, each
// registered from this file alone, then listed and used in an episode through the real
// registry, prompt and runtime.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>

#include "models/kinds.h"
#include "runtime/episode.h"
#include "test_support.h"
#include "tools/catalog.h"
#include "tools/config.h"
#include "tools/registry.h"

namespace taco {
namespace {

// A tool of the test's own: the text, upper-cased.
class ShoutTool : public Tool {
 public:
  ShoutTool() {
    spec_.name = "Shout";
    spec_.description = "Returns the text in capital letters.";
    spec_.args = {{"text", ArgType::kString, "the text to shout"}};
    spec_.returns = {{"text", "the text in capitals"}};
  }
  const ToolSpec& spec() const override { return spec_; }
  Json call(const Json& args, ToolContext&) const override {
    std::string text = args.at("text").get<std::string>();
    for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return Json{{"text", text}};
  }

 private:
  ToolSpec spec_;
};

// A model kind of the test's own: "canned:WORD" calls Shout on WORD, then answers with what
// the observation said.
class CannedModel : public Model {
 public:
  explicit CannedModel(std::string word) : word_(std::move(word)) {}
  std::string name() const override { return "canned:" + word_; }
  Completion complete(const CompletionRequest& request) override {
    const std::vector<Message>& messages = *request.messages;
    const bool answered = std::any_of(messages.begin(), messages.end(), [](const Message& m) { return m.role == "assistant"; });
    const std::string seen = messages.back().text();
    Completion c;
    if (!answered)
      c.text = Json{{"thought", "Shout it."}, {"actions", {{{"name", "Shout"}, {"arguments", {{"text", word_}}}}}}}.dump();
    else
      c.text = Json{{"thought", "Done."}, {"actions", {{{"name", "Terminate"}, {"arguments", {{"answer", seen}}}}}}}.dump();
    return c;
  }

 private:
  std::string word_;
};

TEST(ExtensionTest, AToolFromATestFileIsRegisteredListedAndCalledInAnEpisode) {
  const ToolRegistration shout({"Shout", 100, false, false, false, [](const ToolMaking&) { return std::make_unique<ShoutTool>(); }});
  const std::vector<std::string> names = all_tool_names();
  EXPECT_EQ(names.back(), "Shout");  // after TACO's own, by its rank
  EXPECT_EQ(names.front(), "OCR");

  ToolRegistry tools = make_tool_registry(ToolsConfig{});
  ASSERT_NE(tools.find("Shout"), nullptr);
  const auto docs = tools.action_docs();
  EXPECT_TRUE(std::any_of(docs.begin(), docs.end(), [](const ActionDoc& d) { return d.name == "Shout"; }));

  const ModelKindRegistration canned({"canned:", [](const std::string& rest, const ModelOptions&) -> std::unique_ptr<Model> {
                                        return std::make_unique<CannedModel>(rest);
                                      }});
  ModelOptions options;
  options.model = "canned:taco";
  std::unique_ptr<Model> model = make_model(options);
  EXPECT_EQ(model->name(), "canned:taco");

  Runtime runtime(*model, tools, PromptTemplate::defaults(), EpisodeOptions{});
  EXPECT_NE(runtime.system_prompt().find("Shout"), std::string::npos);  // the prompt offers it
  test::TempDir dir;
  Task task;
  task.id = "t";
  task.images = {test::write_test_image(dir.file("a.png"), 32, 24)};
  task.question = "Shout taco.";
  const Trace trace = runtime.run(task);
  ASSERT_EQ(trace.status, TraceStatus::kTerminated) << trace.error;
  ASSERT_EQ(trace.steps.size(), 2u);
  EXPECT_EQ(trace.steps[0].observation.value("text", ""), "TACO");
  EXPECT_NE(trace.answer.find("TACO"), std::string::npos) << trace.answer;
}

TEST(ExtensionTest, ARegistrationLastsAsLongAsItsObject) {
  {
    const ModelKindRegistration canned({"canned:", [](const std::string& rest, const ModelOptions&) -> std::unique_ptr<Model> {
                                          return std::make_unique<CannedModel>(rest);
                                        }});
    const ToolRegistration shout({"Shout", 100, false, false, false, [](const ToolMaking&) { return std::make_unique<ShoutTool>(); }});
    EXPECT_NE(find_tool_entry("Shout"), nullptr);
  }
  EXPECT_EQ(find_tool_entry("Shout"), nullptr);
  EXPECT_EQ(make_tool_registry(ToolsConfig{}).find("Shout"), nullptr);
  const std::vector<std::string> prefixes = model_kind_prefixes();
  EXPECT_EQ(std::count(prefixes.begin(), prefixes.end(), "canned:"), 0);
  EXPECT_EQ(std::count(prefixes.begin(), prefixes.end(), "replay:"), 1);  // taco's own stay
  EXPECT_EQ(std::count(prefixes.begin(), prefixes.end(), "embedded:"), 1);
}

TEST(ExtensionTest, TacosOwnToolsKeepTheirOrderAndTraits) {
  const std::vector<std::string> want = {
      "OCR", "LocalizeObjects", "GetObjects", "EstimateRegionDepth", "EstimateObjectDepth", "Crop", "ZoomIn",
      "VisualizeRegionsOnImage", "QueryLanguageModel", "GetImageToImagesSimilarity", "GetImageToTextsSimilarity",
      "GetTextToImagesSimilarity", "DetectFaces", "QueryKnowledgeBase", "Calculate", "SolveMathEquation", "Terminate"};
  EXPECT_EQ(all_tool_names(), want);
  std::vector<std::string> vision, worker_safe, standalone;
  for (const ToolEntry& e : tool_catalog()) {
    if (e.vision) vision.push_back(e.name);
    if (e.worker_safe) worker_safe.push_back(e.name);
    if (e.standalone) standalone.push_back(e.name);
  }
  EXPECT_EQ(vision, (std::vector<std::string>{"LocalizeObjects", "GetObjects", "EstimateRegionDepth", "EstimateObjectDepth",
                                               "GetImageToImagesSimilarity", "GetImageToTextsSimilarity", "GetTextToImagesSimilarity"}));
  EXPECT_EQ(worker_safe, (std::vector<std::string>{"Calculate", "SolveMathEquation"}));
  EXPECT_EQ(standalone, (std::vector<std::string>{"Crop", "ZoomIn", "VisualizeRegionsOnImage", "Calculate", "Terminate"}));
}

}  // namespace
}  // namespace taco
