#include "runtime/episode.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "cota/training_format.h"
#include "models/replay.h"
#include "tools/config.h"
#include "tools/image_cv.h"
#include "util/base64.h"
#include "test_support.h"
#include "util/files.h"

namespace taco {
namespace {

using Reply = test::ScriptedServer::Reply;

int assistant_turns(const Json& request) {
  int n = 0;
  for (const auto& m : request["messages"])
    if (m["role"] == "assistant") ++n;
  return n;
}

// The text of the last message, and the number of image parts in it.
std::pair<std::string, int> last_message(const Json& request) {
  const Json& content = request["messages"].back()["content"];
  if (content.is_string()) return {content.get<std::string>(), 0};
  std::string text;
  int images = 0;
  for (const auto& p : content) {
    if (p["type"] == "text") text += p["text"].get<std::string>();
    else ++images;
  }
  return {text, images};
}

class EpisodeTest : public ::testing::Test {
 protected:
  Task task_with_image(const std::string& question = "How much?") {
    Task t;
    t.id = "t1";
    t.images = {test::write_test_image(dir_.file("in.png"), 200, 100)};
    t.question = question;
    return t;
  }
  ModelOptions model_options(const test::ScriptedServer& server) {
    ModelOptions o;
    o.model = "scripted";
    o.endpoint = server.base_url();
    o.retries = 0;
    return o;
  }
  test::TempDir dir_;
  ToolRegistry tools_ = make_builtin_registry();
};

TEST_F(EpisodeTest, FullLoopWithImagesAndObservations) {
  std::vector<std::string> problems;
  test::ScriptedServer server([&](const Json& req, int) {
    auto [text, images] = last_message(req);
    switch (assistant_turns(req)) {
      case 0:
        if (images != 1 || text.find("# USER REQUEST #:\nimage-0: \nHow much?") == std::string::npos)
          problems.push_back("first request: " + text);
        return Reply{200, test::ScriptedServer::completion(
                              R"({"thought": "zoom", "actions": [{"name": "ZoomIn", "arguments": {"image": "image-0", "bbox": [0.1, 0.1, 0.6, 0.6], "zoom_factor": 2}}]})")};
      case 1:
        if (images != 1 || text.rfind("OBSERVATION:\n{'image': 'image-1: '}", 0) != 0)
          problems.push_back("observation with image: " + text);
        return Reply{200, test::ScriptedServer::completion(
                              "```json\n{'thought': 'add', 'actions': [{'name': 'Calculate', 'arguments': {'expression': '2 ** 3 + 0.5'}}]}\n```")};
      case 2:
        if (text.rfind("OBSERVATION:\n{'result': 8.5}\n", 0) != 0) problems.push_back("calc observation: " + text);
        return Reply{200, test::ScriptedServer::completion(
                              R"({"thought": "done", "actions": [{"name": "Terminate", "arguments": {"answer": "8.5"}}]})")};
    }
    return Reply{500, "too many calls"};
  });
  auto model = make_model(model_options(server));
  EpisodeOptions opts;
  opts.images_dir = dir_.file("images");
  Runtime rt(*model, tools_, PromptTemplate::defaults(), opts);
  Trace t = rt.run(task_with_image());
  EXPECT_TRUE(problems.empty()) << problems.front();
  EXPECT_EQ(t.status, TraceStatus::kTerminated);
  EXPECT_EQ(t.answer, "8.5");
  EXPECT_EQ(t.answer_source, "terminate");
  ASSERT_EQ(t.steps.size(), 3u);
  EXPECT_EQ(t.steps[0].new_images, std::vector<std::string>{"image-1"});
  EXPECT_EQ(t.steps[1].observation["result"], 8.5);
  EXPECT_EQ(t.tools_called(), (std::vector<std::string>{"ZoomIn", "Calculate"}));
  ASSERT_EQ(t.images.size(), 2u);
  EXPECT_EQ(t.images[1].path, dir_.file("images/t1/image-1.png"));
  EXPECT_TRUE(std::filesystem::exists(t.images[1].path));
  EXPECT_EQ(t.steps[0].prompt_tokens, 10);
  // The system prompt went first, built from the registry.
  EXPECT_NE(server.requests()[0]["messages"][0]["content"].get<std::string>().find("Name: ZoomIn"), std::string::npos);
}

// The image parts of the last message, decoded.
std::vector<Image> last_images(const Json& request) {
  std::vector<Image> out;
  for (const auto& p : request["messages"].back()["content"])
    if (p["type"] == "image_url") {
      const std::string url = p["image_url"]["url"];
      out.push_back(Image::decode(base64_decode(url.substr(url.find(',') + 1)).value()));
    }
  return out;
}

bool uniform(const Image& image) {
  double lo = 0, hi = 0;
  cv::minMaxLoc(mat_of(image).reshape(1), &lo, &hi);
  return lo == hi;
}

// --blank-images: the model gets a gray picture of the input's size, the tools the real one
// (the zoomed image it gets back shows the real pixels), and the trace says so.
TEST_F(EpisodeTest, BlankInputsHideTheImageFromTheModelOnly) {
  std::vector<Image> seen;
  test::ScriptedServer server([&](const Json& req, int) {
    for (auto& im : last_images(req)) seen.push_back(im);
    if (assistant_turns(req) == 0)
      return Reply{200, test::ScriptedServer::completion(
                            R"({"thought": "zoom", "actions": [{"name": "ZoomIn", "arguments": {"image": "image-0", "bbox": [0.1, 0.1, 0.6, 0.6], "zoom_factor": 2}}]})")};
    return Reply{200, test::ScriptedServer::completion(R"({"thought": "done", "actions": [{"name": "Terminate", "arguments": {"answer": "x"}}]})")};
  });
  auto model = make_model(model_options(server));
  EpisodeOptions opts;
  opts.blank_inputs = true;
  Trace t = Runtime(*model, tools_, PromptTemplate::defaults(), opts).run(task_with_image());
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].width(), 200);
  EXPECT_EQ(seen[0].height(), 100);
  EXPECT_TRUE(uniform(seen[0]));
  EXPECT_FALSE(uniform(seen[1]));
  EXPECT_TRUE(t.inputs_blanked);
  EXPECT_TRUE(Trace::from_json(t.to_json()).inputs_blanked);
  EXPECT_FALSE(t.to_json().dump().find("inputs_blanked") == std::string::npos);
}

TEST_F(EpisodeTest, GarbageRepliesGetFeedbackUntilTheBudgetEnds) {
  std::vector<std::string> feedback;
  test::ScriptedServer server([&](const Json& req, int) {
    if (assistant_turns(req) > 0) feedback.push_back(last_message(req).first);
    return Reply{200, test::ScriptedServer::completion("I believe the {answer: is, 42")};
  });
  auto model = make_model(model_options(server));
  EpisodeOptions opts;
  opts.max_replies = 3;
  Runtime rt(*model, tools_, PromptTemplate::defaults(), opts);
  Trace t = rt.run(task_with_image());
  EXPECT_EQ(t.status, TraceStatus::kMaxReplies);
  EXPECT_EQ(server.calls(), 4);  // the first reply plus three replies to feedback
  ASSERT_EQ(feedback.size(), 3u);
  EXPECT_EQ(feedback[0].rfind("OBSERVATION:\nExpecting", 0), 0u) << feedback[0];
  EXPECT_EQ(t.steps[0].error_kind, "json");
  EXPECT_TRUE(t.steps.back().feedback.empty());
  EXPECT_EQ(t.answer_source, "none");
}

TEST_F(EpisodeTest, ToolFailuresBecomeObservationsAndTheLoopGoesOn) {
  std::vector<std::string> feedback;
  test::ScriptedServer server([&](const Json& req, int) {
    int turn = assistant_turns(req);
    if (turn > 0) feedback.push_back(last_message(req).first);
    const char* replies[] = {
        R"({"thought": "t", "actions": [{"name": "FlyToTheMoon", "arguments": {}}]})",
        R"({"thought": "t", "actions": [{"name": "Crop", "arguments": {"image": "image-0", "bbox": [5, 5, 50, 50]}}]})",
        R"({"thought": "t", "actions": [{"name": "Calculate", "arguments": {"expr": "1"}}]})",
        R"({"thought": "t", "actions": []})",
        R"({"thought": "t", "actions": [{"name": "Terminate", "arguments": {"answer": "ok"}}]})"};
    return Reply{200, test::ScriptedServer::completion(replies[std::min(turn, 4)])};
  });
  auto model = make_model(model_options(server));
  Runtime rt(*model, tools_, PromptTemplate::defaults(), EpisodeOptions{});
  Trace t = rt.run(task_with_image());
  EXPECT_EQ(t.status, TraceStatus::kTerminated);
  ASSERT_EQ(feedback.size(), 4u);
  EXPECT_EQ(feedback[0].rfind("Execution failed with <class 'KeyError'>: 'FlyToTheMoon' is not an available action", 0), 0u)
      << feedback[0];
  EXPECT_EQ(feedback[1].rfind("Execution failed with <class 'ValueError'>: Bounding box coordinates must be between 0 and 1.", 0), 0u)
      << feedback[1];
  EXPECT_EQ(feedback[2].rfind("Execution failed with <class 'TypeError'>: Calculate() got an unexpected keyword argument 'expr'", 0), 0u)
      << feedback[2];
  EXPECT_EQ(feedback[3].rfind("OBSERVATION:\n{'message': 'No action was given", 0), 0u) << feedback[3];
  EXPECT_EQ(t.steps[0].error_kind, "unknown_tool");
  EXPECT_EQ(t.steps[1].error_kind, "tool");
  EXPECT_EQ(t.steps[2].error_kind, "arguments");
}

TEST_F(EpisodeTest, UnparseableTerminateStopsWithTheExtractedAnswer) {
  test::ScriptedServer server([&](const Json&, int) {
    return Reply{200, test::ScriptedServer::completion(R"(Terminate now {"name": "Terminate", "arguments": {"answer": "blue"})")};
  });
  auto model = make_model(model_options(server));
  Runtime rt(*model, tools_, PromptTemplate::defaults(), EpisodeOptions{});
  Trace t = rt.run(task_with_image());
  EXPECT_EQ(t.status, TraceStatus::kTerminated);
  EXPECT_EQ(t.answer, "blue");
  EXPECT_EQ(t.answer_source, "extracted");
  EXPECT_EQ(server.calls(), 1);
}

TEST_F(EpisodeTest, MissingImageFailsBeforeAnyModelCall) {
  test::ScriptedServer server([&](const Json&, int) { return Reply{200, test::ScriptedServer::completion("x")}; });
  auto model = make_model(model_options(server));
  Runtime rt(*model, tools_, PromptTemplate::defaults(), EpisodeOptions{});
  Task t;
  t.id = "m";
  t.images = {dir_.file("missing.jpg")};
  t.question = "q";
  Trace trace = rt.run(t);
  EXPECT_EQ(trace.status, TraceStatus::kError);
  EXPECT_NE(trace.error.find("missing.jpg: cannot open"), std::string::npos) << trace.error;
  EXPECT_EQ(server.calls(), 0);
}

TEST_F(EpisodeTest, ModelFailureEndsTheEpisodeWithAnError) {
  test::ScriptedServer server([&](const Json& req, int) {
    if (assistant_turns(req) == 0)
      return Reply{200, test::ScriptedServer::completion(R"({"thought": "", "actions": [{"name": "Calculate", "arguments": {"expression": "1+1"}}]})")};
    return Reply{400, R"({"error": {"message": "context length exceeded"}})"};
  });
  auto model = make_model(model_options(server));
  Runtime rt(*model, tools_, PromptTemplate::defaults(), EpisodeOptions{});
  Trace t = rt.run(task_with_image());
  EXPECT_EQ(t.status, TraceStatus::kError);
  EXPECT_NE(t.error.find("context length exceeded"), std::string::npos);
  EXPECT_EQ(t.steps.size(), 1u);
}

TEST_F(EpisodeTest, DirectModeIsOneCall) {
  test::ScriptedServer server([&](const Json& req, int) {
    EXPECT_EQ(req["messages"][0]["content"], PromptTemplate::defaults().direct_system());
    return Reply{200, test::ScriptedServer::completion("  B \n")};
  });
  auto model = make_model(model_options(server));
  EpisodeOptions opts;
  opts.mode = PromptMode::kDirect;
  Runtime rt(*model, tools_, PromptTemplate::defaults(), opts);
  Trace t = rt.run(task_with_image());
  EXPECT_EQ(t.status, TraceStatus::kDirect);
  EXPECT_EQ(t.answer, "B");
  EXPECT_EQ(server.calls(), 1);
}

TEST_F(EpisodeTest, ReplaysARecordedEpisodeThroughTheRealTools) {
  write_file(dir_.file("rec.json"),
             Json::array({R"({"thought": "crop", "actions": [{"name": "Crop", "arguments": {"image": "image-0", "bbox": [0.2, 0.2, 0.8, 0.8]}}]})",
                          R"({"thought": "compute", "actions": [{"name": "Calculate", "arguments": {"expression": "3.65 ** 2"}}]})",
                          R"({"thought": "done", "actions": [{"name": "Terminate", "arguments": {"answer": "13.32"}}]})"})
                 .dump());
  ReplayModel model(dir_.file("rec.json"));
  Runtime rt(model, tools_, PromptTemplate::defaults(), EpisodeOptions{});
  Trace t = rt.run(task_with_image());
  EXPECT_EQ(t.status, TraceStatus::kTerminated);
  EXPECT_EQ(t.steps[0].new_images.size(), 1u);
  EXPECT_DOUBLE_EQ(t.steps[1].observation["result"].get<double>(), 3.65 * 3.65);
  EXPECT_EQ(t.answer, "13.32");
}

class TwoKeysTool : public Tool {
 public:
  const ToolSpec& spec() const override {
    static const ToolSpec s{"TwoKeys", "returns two keys", {}, {{"zeta", ""}, {"alpha", ""}}, {}};
    return s;
  }
  Json call(const Json&, ToolContext&) const override { return Json{{"zeta", 1}, {"alpha", "a"}}; }
};

TEST_F(EpisodeTest, ObservationKeysAreSortedAsTacoPrintedThem) {
  write_file(dir_.file("rec.json"),
             Json::array({R"({"thought": "", "actions": [{"name": "TwoKeys", "arguments": {}}]})",
                          R"({"thought": "", "actions": [{"name": "Terminate", "arguments": {"answer": "x"}}]})"})
                 .dump());
  ReplayModel model(dir_.file("rec.json"));
  tools_.add(std::make_unique<TwoKeysTool>());
  Runtime rt(model, tools_, PromptTemplate::defaults(), EpisodeOptions{});
  Trace t = rt.run(task_with_image());
  EXPECT_EQ(t.steps[0].feedback.rfind("OBSERVATION:\n{'alpha': 'a', 'zeta': 1}\n", 0), 0u) << t.steps[0].feedback;
  EXPECT_EQ(t.steps[0].observation.begin().key(), "zeta");  // the trace keeps the tool's order
}

TEST(ExtractAnswerTest, TacoPattern) {
  EXPECT_EQ(extract_answer(R"(blah "answer": "yes" blah)"), "yes");
  EXPECT_EQ(extract_answer("{'answer': 'no'}"), "no");
  EXPECT_EQ(extract_answer("nothing"), "");
  EXPECT_EQ(extract_answer(R"("answer": 5, "answer" :
 "six")"), "six");  // the first quoted one
  EXPECT_EQ(extract_answer(R"("answer": "open)"), "");
  EXPECT_EQ(extract_answer(R"({"answer": "", 'answer': 'x'})"), "");
}

// An unparsable Terminate reply with a 30 KB answer once overflowed the stack (std::regex).
TEST(ExtractAnswerTest, HugeAnswers) {
  const std::string answer(100000, 'a');
  EXPECT_EQ(extract_answer(R"({"actions": [{"name": "Terminate", "arguments": {"answer": ")" + answer + "\"}}"), answer);
  EXPECT_EQ(extract_answer("'answer': '" + answer), "");
}

// Opt-in: replays the real TACO episodes of ../shared/fixtures (third-party data, not part of the
// project) through the loop. Set TACO_FIXTURES to the taco-traces/TACO-Qwen2-SigLIP folder and
// TACO_FIXTURE_IMAGES to mmvet-images.
TEST(FixtureReplayTest, RealTacoEpisodesRunWithoutCrashing) {
  const char* traces = std::getenv("TACO_FIXTURES");
  const char* images = std::getenv("TACO_FIXTURE_IMAGES");
  if (!traces || !images) GTEST_SKIP() << "set TACO_FIXTURES and TACO_FIXTURE_IMAGES to run";
  ToolRegistry tools = make_tool_registry(ToolsConfig{});
  ReplayModel model(traces);
  Runtime rt(model, tools, PromptTemplate::defaults(), EpisodeOptions{});
  int episodes = 0, calculations = 0, ocr = 0, kb = 0;
  for (const auto& entry : std::filesystem::directory_iterator(traces)) {
    Json rec = Json::parse(read_file(entry.path().string()));
    Task t;
    t.id = entry.path().stem().string();
    t.question = rec["question_text"];
    t.images = {std::string(images) + "/" + t.id + ".jpg"};
    Trace trace = rt.run(t);
    ++episodes;
    EXPECT_NE(trace.status, TraceStatus::kError) << t.id << ": " << trace.error;
    for (const auto& s : trace.steps) {
      if (!s.content || s.content->actions.empty()) continue;
      const std::string& name = s.content->actions[0].name;
      if (name == "Calculate") {
        ++calculations;
        EXPECT_TRUE(s.observation.contains("result")) << t.id << ": " << s.error;
      } else if (name == "OCR") {
        ++ocr;
        EXPECT_TRUE(s.observation.contains("text")) << t.id << ": " << s.error;
      } else if (name == "QueryKnowledgeBase") {
        ++kb;
        EXPECT_TRUE(s.observation.contains("summary") || s.error_kind == "tool") << t.id << ": " << s.error;
      }
    }
  }
  EXPECT_GT(episodes, 0);
  std::printf("replayed %d episodes: %d OCR, %d Calculate, %d QueryKnowledgeBase calls\n", episodes, ocr, calculations, kb);
}

}  // namespace
}  // namespace taco

namespace taco {
namespace {

// Answers with a Calculate step twice, then finds its context full.
class FillingModel : public Model {
 public:
  Completion complete(const CompletionRequest& request) override {
    int turns = 0;
    for (const auto& m : *request.messages) turns += m.role == "assistant";
    if (turns == 2) throw ContextFullError("the conversation is 1100 tokens and the model reads at most 1024");
    return Completion{"{\"thought\": \"\", \"actions\": [{\"name\": \"Calculate\", \"arguments\": {\"expression\": \"1 + 1\"}}]}", 0, 0, {}};
  }
  std::string name() const override { return "filling"; }
};

TEST(EpisodeContextTest, AFullContextEndsTheEpisodeLikeASpentBudget) {
  FillingModel model;
  ToolRegistry tools = make_tool_registry(ToolsConfig());
  Runtime runtime(model, tools, PromptTemplate::defaults(), EpisodeOptions());
  Trace t = runtime.run(Task{"t", {}, "What is 1 + 1?"});
  EXPECT_EQ(t.status, TraceStatus::kContextFull);
  EXPECT_TRUE(t.error.empty());
  ASSERT_EQ(t.steps.size(), 2u);
  EXPECT_TRUE(t.steps.back().feedback.empty());
  EXPECT_EQ(t.answer_source, "none");
  EXPECT_EQ(Trace::from_json(t.to_json()).status, TraceStatus::kContextFull);
}

}  // namespace
}  // namespace taco

namespace taco {
namespace {

// A chat completion whose message calls tools (OpenAI's shape), with `content` as the thought.
std::string tool_call_reply(const std::string& content, const Json& calls) {
  Json message{{"role", "assistant"}, {"content", content}};
  Json with_ids = Json::array();
  for (size_t i = 0; i < calls.size(); ++i)
    with_ids.push_back(Json{{"id", "call_" + std::to_string(i)}, {"type", "function"},
                            {"function", {{"name", calls[i][0]}, {"arguments", calls[i][1]}}}});
  if (!with_ids.empty()) message["tool_calls"] = with_ids;
  return Json{{"id", "c"}, {"object", "chat.completion"}, {"model", "scripted"},
              {"choices", Json::array({Json{{"index", 0}, {"message", message}, {"finish_reason", with_ids.empty() ? "stop" : "tool_calls"}}})},
              {"usage", {{"prompt_tokens", 5}, {"completion_tokens", 5}}}}
      .dump();
}

// --protocol tools: the actions go as OpenAI tools, the replies' tool_calls run (several in one
// reply, a malformed one refused with a message the model reads), results come back as tool
// messages and the images a tool made in a user message after them; Terminate answers.
TEST_F(EpisodeTest, NativeToolCallsDriveAWholeEpisode) {
  test::ScriptedServer server([](const Json& req, int) {
    const int turn = assistant_turns(req);
    if (turn == 0)
      return Reply{200, tool_call_reply("Two sums first.", Json::array({Json::array({"Calculate", R"({"expression": "6*7"})"}),
                                                                        Json::array({"Calculate", R"({"expression": "2+2"})"})}))};
    if (turn == 1)
      return Reply{200, tool_call_reply("A closer look.", Json::array({Json::array({"ZoomIn", "{oops"}),
                                                                       Json::array({"ZoomIn", R"({"image": "image-0", "bbox": [0, 0, 0.5, 0.5], "zoom_factor": 2})"})}))};
    return Reply{200, tool_call_reply("", Json::array({Json::array({"Terminate", R"({"answer": "42"})"})}))};
  });
  auto model = make_model(model_options(server));
  EpisodeOptions eo;
  eo.protocol = ActionProtocol::kTools;
  Runtime runtime(*model, tools_, PromptTemplate::defaults(), eo);
  Trace t = runtime.run(task_with_image("What is 6*7?"));
  ASSERT_EQ(t.status, TraceStatus::kTerminated) << t.error;
  EXPECT_EQ(t.protocol, "tools");
  EXPECT_EQ(t.answer, "42");
  EXPECT_EQ(t.answer_source, "terminate");
  ASSERT_EQ(t.steps.size(), 3u);
  ASSERT_TRUE(t.steps[0].observation.is_array());
  EXPECT_EQ(t.steps[0].observation[0]["result"], 42);
  EXPECT_EQ(t.steps[0].observation[1]["result"], 4);
  EXPECT_EQ(t.steps[0].content->thought, "Two sums first.");
  EXPECT_EQ(t.steps[1].error_kind, "arguments");
  EXPECT_EQ(t.steps[1].new_images.size(), 1u);
  EXPECT_EQ(Trace::from_json(t.to_json()).protocol, "tools");

  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  bool offered = false;
  for (const auto& tool : requests[0]["tools"]) offered = offered || (tool["function"]["name"] == "Calculate" && tool["function"]["parameters"]["required"][0] == "expression");
  EXPECT_TRUE(offered) << requests[0]["tools"].dump();
  EXPECT_EQ(requests[0]["tool_choice"], "auto");
  // The second request: the assistant's calls, then one tool message per call, by id.
  const Json& second = requests[1]["messages"];
  ASSERT_EQ(second.size(), 5u) << second.dump();
  EXPECT_EQ(second[2]["tool_calls"].size(), 2u);
  EXPECT_EQ(second[3]["role"], "tool");
  EXPECT_EQ(second[3]["tool_call_id"], "call_0");
  EXPECT_EQ(second[3]["content"], "{'result': 42}");
  EXPECT_EQ(second[4]["tool_call_id"], "call_1");
  // The third: the malformed call refused in its tool message, the zoomed image in a user message.
  const Json& third = requests[2]["messages"];
  ASSERT_EQ(third.size(), 9u) << third.dump();
  EXPECT_NE(third[6]["content"].get<std::string>().find("must be a JSON object"), std::string::npos) << third[6];
  EXPECT_EQ(third[8]["role"], "user");
  EXPECT_EQ(last_message(requests[2]).second, 1) << "the tool's image follows the tool messages";

  // The chain as training messages: the same turns the model saw, parallel calls included.
  const Json chain = to_messages(t, "x", Json::array());
  const Json& m = chain["messages"];
  ASSERT_EQ(m.size(), 9u) << m.dump();
  EXPECT_EQ(m[1]["tool_calls"].size(), 2u);
  EXPECT_EQ(m[2]["content"], "{'result': 42}");
  EXPECT_EQ(m[3]["tool_call_id"], m[1]["tool_calls"][1]["id"]);
  EXPECT_NE(m[5]["content"].get<std::string>().find("must be a JSON object"), std::string::npos) << m[5];
  EXPECT_EQ(m[7]["content"][1]["type"], "image");
  EXPECT_EQ(m[8]["tool_calls"][0]["function"]["name"], "Terminate");
  EXPECT_EQ(chain["images"].size(), 2u);  // the input and the zoomed region
}

TEST_F(EpisodeTest, NativeToolCallsAPlainTextAnswerEndsTheEpisode) {
  test::ScriptedServer server([](const Json&, int) { return Reply{200, tool_call_reply("Paris", Json::array())}; });
  auto model = make_model(model_options(server));
  EpisodeOptions eo;
  eo.protocol = ActionProtocol::kTools;
  Trace t = Runtime(*model, tools_, PromptTemplate::defaults(), eo).run(task_with_image("Capital of France?"));
  EXPECT_EQ(t.status, TraceStatus::kTerminated);
  EXPECT_EQ(t.answer, "Paris");
  EXPECT_EQ(t.answer_source, "text");
  // A model that writes its actions as text cannot take this protocol.
  write_file(dir_.file("r.json"), "[\"x\"]");
  ReplayModel replay(dir_.file("r.json"));
  EXPECT_THROW(Runtime(replay, tools_, PromptTemplate::defaults(), eo), Error);
}

}  // namespace
}  // namespace taco
