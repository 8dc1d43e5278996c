// Distillation's inputs and verification, and the whole data path offline: a loopback server
// answering as a teacher, taco distill, taco curate with a recipe, taco export.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "cota/training_format.h"
#include "distill/qa_input.h"
#include "distill/verify.h"
#include "eval/benchmark.h"
#include "models/embedded/conversation.h"
#include "test_support.h"
#include "util/base64.h"
#include "util/error.h"
#include "util/files.h"
#include "util/jsonl.h"

namespace taco {
namespace {

TEST(QaInputTest, LlavaAndMantisConversationsBecomeTasks) {
  test::TempDir dir;
  test::write_test_image(dir.file("imgs/a.png"));
  const std::string b64 = base64_encode(read_file(dir.file("imgs/a.png")));
  write_file(dir.file("llava.json"), R"([
    {"id": "x1", "image": "a.png", "conversations": [
      {"from": "human", "value": "<image>\nWhat color?"}, {"from": "gpt", "value": "Red"},
      {"from": "human", "value": "How many?"}, {"from": "gpt", "value": "3"},
      {"from": "human", "value": "Where?"}, {"from": "gpt", "value": "left"}]},
    {"id": "x2", "image": "data:image/png;base64,)" + b64 + R"(", "conversations": [
      {"from": "human", "value": "Is it big?"}, {"from": "gpt", "value": "no"}]}])");
  QaInputOptions o;
  o.turns_per_example = 2;
  o.image_folder = dir.file("imgs");
  o.images_dir = dir.file("decoded");
  std::vector<Task> tasks = load_qa_tasks(dir.file("llava.json"), o);
  ASSERT_EQ(tasks.size(), 3u);  // two of x1's three turns, x2's one
  EXPECT_EQ(tasks[0].images, (std::vector<std::string>{dir.file("imgs/a.png")}));
  EXPECT_EQ(tasks[0].id.rfind("x1-t", 0), 0u);
  EXPECT_EQ(tasks[2].id, "x2");
  EXPECT_EQ(tasks[2].question, "Is it big?");
  EXPECT_EQ(tasks[2].answer, "no");
  EXPECT_EQ(read_file(tasks[2].images[0]), read_file(dir.file("imgs/a.png")));
  EXPECT_EQ(tasks[2].metadata["source"], "llava");
  for (const auto& t : tasks) EXPECT_EQ(t.question.find("<image>"), std::string::npos);
  // The same seed picks the same turns.
  EXPECT_EQ(load_qa_tasks(dir.file("llava.json"), o)[1].id, tasks[1].id);

  write_file(dir.file("m.jsonl"), R"({"id": 5, "images": ["imgs/a.png"], "metadata": {"dataset": "docvqa"}, "conversation": [{"role": "user", "content": "Q?"}, {"role": "assistant", "content": "A"}]})"
                                  "\n");
  auto mantis = load_qa_tasks(dir.file("m.jsonl"), QaInputOptions{});
  ASSERT_EQ(mantis.size(), 1u);
  EXPECT_EQ(mantis[0].metadata["source"], "docvqa");
  EXPECT_EQ(mantis[0].images[0], dir.file("imgs/a.png"));
  write_file(dir.file("bad.json"), R"([{"id": 1, "image": "a.png"}])");
  EXPECT_THROW(load_qa_tasks(dir.file("bad.json"), QaInputOptions{}), Error);
}

TEST(VerifyTest, SplitsAndTheActionUselessRule) {
  Task t{"q", {}, "How many?", "3", {}, Json{{"source", "s"}}};
  Trace tr;
  tr.task = t;
  tr.status = TraceStatus::kTerminated;
  tr.answer = "3";
  EXPECT_EQ(verify_trace(t, tr, nullptr)["split"], kCorrectWithoutTools);
  StepRecord s;
  s.content = StepContent{"count", {Action{"LocalizeObjects", Json::object()}}};
  tr.steps.push_back(s);
  EXPECT_EQ(verify_trace(t, tr, nullptr)["split"], kCorrectWithTools);
  tr.answer = "4";
  Json v = verify_trace(t, tr, nullptr);
  EXPECT_EQ(v["split"], kIncorrect);
  EXPECT_EQ(v["correct"], false);
  EXPECT_FALSE(action_useless(0.6, 0.3, 0.65));  // CoT better by 5 points
  EXPECT_TRUE(action_useless(0.5, 0.3, 0.61));   // by 11
  EXPECT_TRUE(action_useless(0.3, 0.45, -1));    // incorrect above correct by 15
  EXPECT_FALSE(action_useless(0.3, 0.35, -1));
}

std::string user_text(const Json& req) {
  std::string t;
  for (const auto& m : req["messages"])
    if (m["role"] == "user") {
      if (m["content"].is_string()) t += m["content"].get<std::string>();
      else
        for (const auto& part : m["content"])
          if (part["type"] == "text") t += part["text"].get<std::string>();
    }
  return t;
}

std::string step(const std::string& action, const std::string& args) {
  return "{\"thought\": \"t\", \"actions\": [{\"name\": \"" + action + "\", \"arguments\": " + args + "}]}";
}

// The data path end to end. Six questions "What is N + 1?" (answer N + 1) from two sources.
// The teacher, in CoTA mode: q0-q2 call Calculate then answer right; q3 answers right at once;
// q4 and q5 answer wrong. In CoT mode (Terminate only) it answers right on q0 and q3 alone.
TEST(DistillEndToEndTest, DistillCurateExportOffline) {
  test::TempDir dir;
  test::write_test_image(dir.file("a.png"));
  std::string tasks;
  for (int i = 0; i < 6; ++i)
    tasks += R"({"id": "q)" + std::to_string(i) + R"(", "images": ["a.png"], "question": "What is )" + std::to_string(i) +
             R"( + 1?", "answer": ")" + std::to_string(i + 1) + R"(", "metadata": {"source": ")" + (i < 3 ? "alpha" : "beta") +
             "\"}}\n";
  write_file(dir.file("qa.jsonl"), tasks);
  test::ScriptedServer teacher([](const Json& req, int) {
    const std::string text = user_text(req);
    const std::string system = req["messages"][0]["content"].dump();
    const bool cot = system.find("Calculate") == std::string::npos;
    const int q = text[text.find("What is ") + 8] - '0';
    const bool observed = text.find("OBSERVATION") != std::string::npos;
    std::string reply;
    if (cot) reply = step("Terminate", "{\"answer\": \"" + std::to_string(q == 0 || q == 3 ? q + 1 : 99) + "\"}");
    else if (q <= 2 && !observed) reply = step("Calculate", "{\"expression\": \"" + std::to_string(q) + " + 1\"}");
    else reply = step("Terminate", "{\"answer\": \"" + std::to_string(q <= 3 ? q + 1 : 0) + "\"}");
    return test::ScriptedServer::Reply{200, test::ScriptedServer::completion(reply)};
  });
  auto d = test::run_taco("distill --data " + dir.file("qa.jsonl") + " --model teacher --endpoint " + teacher.base_url() +
                          " --out " + dir.file("distill.jsonl") + " --cot -q");
  ASSERT_EQ(d.code, 0) << d.output;
  // alpha: 3 correct with tools; CoT right on 1 of 3. beta: 1 correct without tools, 2 wrong;
  // incorrect (67%) exceeds correct (33%) by more than 10 points, but on 3 questions: too few
  // to judge (one answer moves a rate by 33 points), so not called action-useless.
  EXPECT_NE(d.output.find("| alpha | 3 | 100.0 | 3 | 0 | 0 | 33.3 |"), std::string::npos) << d.output;
  EXPECT_NE(d.output.find("| beta | 3 | 33.3 | 0 | 1 | 2 | 33.3 |"), std::string::npos) << d.output;
  EXPECT_NE(d.output.find("| too few to judge |"), std::string::npos) << d.output;
  std::vector<Json> direct;
  for_each_jsonl(dir.file("distill.direct.jsonl"), [&](size_t, Json&& j) { direct.push_back(j); });
  ASSERT_EQ(direct.size(), 2u);  // q4 and q5, with the true answers
  EXPECT_EQ(direct[0]["answer"].get<std::string>(), direct[0]["id"] == "q4-direct" ? "5" : "6");
  Json stats = Json::parse(read_file(dir.file("distill.stats.json")));
  EXPECT_EQ(stats["beta"]["action_useless"], false);
  EXPECT_EQ(stats["beta"]["too_few_to_judge"], true);
  EXPECT_EQ(stats["alpha"]["tool_use"]["tool_calls"]["Calculate"], 3);

  // Rerun: nothing asked again, no Direct example twice.
  int calls = teacher.calls();
  ASSERT_EQ(test::run_taco("distill --data " + dir.file("qa.jsonl") + " --model teacher --endpoint " + teacher.base_url() +
                           " --out " + dir.file("distill.jsonl") + " --cot -q")
                .code,
            0);
  EXPECT_EQ(teacher.calls(), calls);
  size_t direct_lines = 0;
  for_each_jsonl(dir.file("distill.direct.jsonl"), [&](size_t, Json&&) { ++direct_lines; });
  EXPECT_EQ(direct_lines, 2u);

  // With the recipe's minimum (20 verified answers a source), curate keeps beta and says why.
  const std::string sources = R"("sources": [{"name": "teacher", "path": "distill.jsonl"}, {"name": "cot", "path": "distill.cot.jsonl", "count": 0},
                {"name": "fallback", "path": "distill.direct.jsonl"}])";
  write_file(dir.file("default.json"), R"({"filters": {"correct_only": true, "drop_action_useless": true}, )" + sources + "}");
  auto kept = test::run_taco("curate --recipe " + dir.file("default.json") + " --out " + dir.file("kept.jsonl") + " -q");
  ASSERT_EQ(kept.code, 0) << kept.output;
  EXPECT_EQ(kept.output.find("Action-useless sources dropped"), std::string::npos) << kept.output;
  EXPECT_NE(kept.output.find("Kept without judging them action-useless (too few verified CoTA answers): alpha 3, beta 3."), std::string::npos)
      << kept.output;

  // Curate: correct CoTA from the distilled traces (the CoT file only informs the rule), plus
  // the Direct fallbacks; with the minimum lowered to 3, beta is dropped as action-useless,
  // which takes its Direct examples with it.
  write_file(dir.file("recipe.json"), R"({"seed": 5,
    "filters": {"correct_only": true, "parsed": true, "no_failed_action": true, "dedupe": true, "drop_action_useless": true,
                "action_useless_min_questions": 3},
    "sources": [{"name": "teacher", "path": "distill.jsonl"}, {"name": "cot", "path": "distill.cot.jsonl", "count": 0},
                {"name": "fallback", "path": "distill.direct.jsonl"}]})");
  auto c = test::run_taco("curate --recipe " + dir.file("recipe.json") + " --out " + dir.file("curated.jsonl") + " -q");
  ASSERT_EQ(c.code, 0) << c.output;
  std::vector<Json> curated;
  for_each_jsonl(dir.file("curated.jsonl"), [&](size_t, Json&& j) { curated.push_back(j); });
  ASSERT_EQ(curated.size(), 3u) << c.output;  // q0-q2
  for (const auto& t : curated) EXPECT_EQ(t["task"]["metadata"]["source"], "alpha");
  EXPECT_NE(c.output.find("Action-useless sources dropped: beta"), std::string::npos) << c.output;
  Json report = Json::parse(read_file(dir.file("curated.report.json")));
  // Filters apply in order: the wrong answers go first (q4, q5 in CoTA; q1, q2, q4, q5 in CoT),
  // then beta's rest (q3 CoTA, q3 CoT, the 2 Direct examples); the CoT file's quota is 0 (q0).
  EXPECT_EQ(report["removed"]["incorrect"], 2 + 4);
  EXPECT_EQ(report["removed"]["action-useless source"], 4);
  EXPECT_EQ(report["removed"]["over quota"], 1);
  // The same recipe gives the same file.
  ASSERT_EQ(test::run_taco("curate --recipe " + dir.file("recipe.json") + " --out " + dir.file("again.jsonl") + " -q").code, 0);
  EXPECT_EQ(read_file(dir.file("again.jsonl")), read_file(dir.file("curated.jsonl")));

  auto e = test::run_taco("export " + dir.file("curated.jsonl") + " --format llava --out " + dir.file("train.json"));
  ASSERT_EQ(e.code, 0) << e.output;
  Json train = Json::parse(read_file(dir.file("train.json")));
  ASSERT_EQ(train.size(), 3u);
  for (const auto& r : train) {
    ASSERT_EQ(r["image"].size(), 1u);
    EXPECT_TRUE(std::filesystem::exists(dir.file(r["image"][0].get<std::string>()))) << r["image"][0];
    EXPECT_EQ(r["conversations"].size(), 4u);  // request, Calculate, observation, Terminate
    EXPECT_EQ(r["conversations"][0]["value"].get<std::string>().find("<image>") != std::string::npos, true);
  }
  EXPECT_NE(e.output.find("1 images copied"), std::string::npos) << e.output;  // one file, shared
  auto m = test::run_taco("export " + dir.file("distill.direct.jsonl") + " --format mantis --images keep --out " + dir.file("d.jsonl"));
  ASSERT_EQ(m.code, 0) << m.output;
  std::vector<Json> mantis;
  for_each_jsonl(dir.file("d.jsonl"), [&](size_t, Json&& j) { mantis.push_back(j); });
  ASSERT_EQ(mantis.size(), 2u);
  EXPECT_EQ(mantis[0]["conversation"].size(), 2u);  // a Direct example: request and Terminate

  // The messages layout (TRL, Qwen2-VL/2.5-VL): tool calls with object arguments, tool turns
  // with the results, image parts naming the copied files, the actions' schemas.
  auto msg = test::run_taco("export " + dir.file("curated.jsonl") + " --format messages --out " + dir.file("messages.jsonl"));
  ASSERT_EQ(msg.code, 0) << msg.output;
  std::vector<Json> chains;
  for_each_jsonl(dir.file("messages.jsonl"), [&](size_t, Json&& j) { chains.push_back(j); });
  ASSERT_EQ(chains.size(), 3u);
  const Json& chain = chains[0];
  ASSERT_EQ(chain["messages"].size(), 4u) << chain.dump();  // request, Calculate call, its result, Terminate call
  EXPECT_EQ(chain["messages"][0]["content"][1]["type"], "image");
  EXPECT_EQ(chain["messages"][0]["content"][1]["image"], chain["images"][0]);
  EXPECT_TRUE(std::filesystem::exists(dir.file(chain["images"][0].get<std::string>())));
  const Json& call = chain["messages"][1]["tool_calls"][0];
  EXPECT_EQ(call["function"]["name"], "Calculate");
  EXPECT_TRUE(call["function"]["arguments"].is_object());
  EXPECT_EQ(chain["messages"][2]["role"], "tool");
  EXPECT_EQ(chain["messages"][2]["tool_call_id"], call["id"]);
  EXPECT_EQ(chain["messages"][3]["tool_calls"][0]["function"]["name"], "Terminate");
  bool described = false;
  for (const auto& t : chain["tools"]) described = described || (t["function"]["name"] == "Calculate" && t["function"]["parameters"]["type"] == "object");
  EXPECT_TRUE(described);

  // An export that fails half way (a line that is not JSON after good traces) leaves the
  // previous output as it was, not a shorter file that looks whole.
  const std::string before = read_file(dir.file("train.json"));
  write_file(dir.file("torn.jsonl"), read_file(dir.file("curated.jsonl")) + "{not json\n");
  auto failed = test::run_taco("export " + dir.file("torn.jsonl") + " --format llava --out " + dir.file("train.json"));
  EXPECT_EQ(failed.code, 1) << failed.output;
  EXPECT_NE(failed.output.find("torn.jsonl"), std::string::npos) << failed.output;
  EXPECT_EQ(read_file(dir.file("train.json")), before);
  EXPECT_FALSE(std::filesystem::exists(dir.file("train.json.tmp")));
}

// The README's pipeline as a reader types it: relative paths, the traces in a folder of their
// own (--out distill/traces.jsonl). The Direct examples distill makes from wrong answers name
// their images relative to their own file, as their trace version says, so curate keeps them
// and export finds their images.
TEST(DistillEndToEndTest, DirectExamplesInAnotherFolderFindTheirImages) {
  test::TempDir dir;
  std::filesystem::create_directories(dir.file("data"));
  test::write_test_image(dir.file("data/a.png"));
  write_file(dir.file("data/qa.jsonl"), R"({"id": "q0", "images": ["a.png"], "question": "What is 2 + 2?", "answer": "4"})" "\n");
  test::ScriptedServer teacher([](const Json&, int) {
    return test::ScriptedServer::Reply{200, test::ScriptedServer::completion(step("Terminate", "{\"answer\": \"5\"}"))};
  });
  const std::string cd = "cd " + dir.path() + " && " + TACO_BINARY + " ";
  auto d = test::run_command(cd + "distill --data data/qa.jsonl --model teacher --endpoint " + teacher.base_url() +
                             " --out distill/traces.jsonl -q 2>&1");
  ASSERT_EQ(d.code, 0) << d.output;
  std::vector<Json> direct;
  for_each_jsonl(dir.file("distill/traces.direct.jsonl"), [&](size_t, Json&& j) { direct.push_back(j); });
  ASSERT_EQ(direct.size(), 1u);
  const Trace t = Trace::from_json(direct[0]);
  ASSERT_EQ(t.task.images.size(), 1u);
  EXPECT_TRUE(std::filesystem::exists(dir.file("distill/" + t.task.images[0]))) << t.task.images[0];
  write_file(dir.file("recipe.json"), R"({"sources": [{"name": "fallback", "path": "distill/traces.direct.jsonl"}]})");
  auto c = test::run_command(cd + "curate --recipe recipe.json --images-present --out curated.jsonl -q 2>&1");
  ASSERT_EQ(c.code, 0) << c.output;
  auto e = test::run_command(cd + "export curated.jsonl --format llava --out train.json 2>&1");
  ASSERT_EQ(e.code, 0) << e.output;
  EXPECT_EQ(Json::parse(read_file(dir.file("train.json"))).size(), 1u);
}

// Today's trainers: LLaMA-Factory (multimodal ShareGPT with its dataset_info.json entry, and its
// tool-use layout) and ms-swift, from traces of taco gen (tool-made images included), checked
// by LLaMA-Factory's loader rules and read back by taco train's reader.
TEST(ExportLayoutsTest, LlamaFactoryAndMsSwift) {
  test::TempDir dir;
  ASSERT_EQ(test::run_taco("synth -q --n 3 --seed 5 --out " + dir.file("world")).code, 0);
  ASSERT_EQ(test::run_taco("gen -q --data " + dir.file("world/scene-graph-annotations.json") + " --format trace --limit 12 --out " +
                           dir.file("traces.jsonl")).code, 0);
  size_t traces = 0;
  for_each_jsonl(dir.file("traces.jsonl"), [&](size_t, Json&&) { ++traces; });

  // The multimodal layout, registered in dataset_info.json beside it (other entries kept).
  write_file(dir.file("data/dataset_info.json"), R"({"mine": {"file_name": "mine.json"}})");
  auto lf = test::run_taco("export " + dir.file("traces.jsonl") + " --format llamafactory --out " + dir.file("data/taco_cota.json"));
  ASSERT_EQ(lf.code, 0) << lf.output;
  EXPECT_NE(lf.output.find("--dataset_dir " + dir.file("data") + " --dataset taco_cota"), std::string::npos) << lf.output;
  const Json info = read_json_file(dir.file("data/dataset_info.json"));
  EXPECT_TRUE(info.contains("mine"));
  EXPECT_EQ(info["taco_cota"], Json::parse(R"({"file_name": "taco_cota.json", "formatting": "sharegpt",
      "columns": {"messages": "messages", "images": "images"},
      "tags": {"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant"}})"));
  const Json records = read_json_file(dir.file("data/taco_cota.json"));
  ASSERT_EQ(records.size(), traces);
  size_t tool_images = 0;
  for (const auto& r : records) {
    EXPECT_EQ(check_llamafactory_record(r), "") << r.dump();
    EXPECT_EQ(r["messages"][0]["role"], "user");
    EXPECT_EQ(r["messages"].back()["role"], "assistant");
    EXPECT_NE(r["messages"].back()["content"].get<std::string>().find("Terminate"), std::string::npos);
    for (const auto& p : r["images"]) EXPECT_TRUE(std::filesystem::exists(dir.file("data/" + p.get<std::string>()))) << p;
    tool_images += r["images"].size() > 1;
  }
  EXPECT_GT(tool_images, 0u);  // images the tools made are in the records too

  // ms-swift's: the same messages and images; read back by taco train's reader, the turns equal.
  auto swift = test::run_taco("export " + dir.file("traces.jsonl") + " --format ms-swift --out " + dir.file("swift.jsonl"));
  ASSERT_EQ(swift.code, 0) << swift.output;
  auto llava = test::run_taco("export " + dir.file("traces.jsonl") + " --format llava --out " + dir.file("llava.jsonl"));
  ASSERT_EQ(llava.code, 0) << llava.output;
  TrainingData from_swift, from_llava;
  read_training_records(dir.file("swift.jsonl"), "", from_swift);
  read_training_records(dir.file("llava.jsonl"), "", from_llava);
  EXPECT_EQ(from_swift.skipped, 0u) << from_swift.first_skip_reason;
  ASSERT_EQ(from_swift.conversations.size(), traces);
  for (size_t i = 0; i < traces; ++i) {
    const auto& a = from_swift.conversations[i];
    const auto& b = from_llava.conversations[i];
    ASSERT_EQ(a.messages.size(), b.messages.size());
    for (size_t m = 0; m < a.messages.size(); ++m) {
      EXPECT_EQ(a.messages[m].assistant, b.messages[m].assistant);
      ASSERT_EQ(a.messages[m].segments.size(), b.messages[m].segments.size());
      for (size_t k = 0; k < a.messages[m].segments.size(); ++k) EXPECT_EQ(a.messages[m].segments[k].text, b.messages[m].segments[k].text);
    }
    ASSERT_EQ(a.image_paths.size(), b.image_paths.size());
    for (size_t k = 0; k < a.image_paths.size(); ++k)
      EXPECT_EQ(read_file(a.image_paths[k]), read_file(b.image_paths[k]));  // copies of the same files
  }

  // The tool-use layout: calls and observations, a tools string of the actions' definitions.
  auto tools = test::run_taco("export " + dir.file("traces.jsonl") + " --format llamafactory-tools --out " + dir.file("data/taco_tools.jsonl"));
  ASSERT_EQ(tools.code, 0) << tools.output;
  EXPECT_EQ(read_json_file(dir.file("data/dataset_info.json"))["taco_tools"]["columns"],
            Json::parse(R"({"messages": "conversations", "images": "images", "tools": "tools"})"));
  size_t calls = 0;
  for_each_jsonl(dir.file("data/taco_tools.jsonl"), [&](size_t, Json&& r) {
    EXPECT_EQ(check_llamafactory_record(r), "") << r.dump();
    const Json functions = Json::parse(r["tools"].get<std::string>());
    ASSERT_TRUE(functions.is_array());
    EXPECT_TRUE(functions[0].contains("name") && functions[0].contains("parameters"));
    const Json& turns = r["conversations"];
    EXPECT_EQ(turns[0]["from"], "human");
    EXPECT_NE(turns[0]["value"].get<std::string>().find("image-0: <image>"), std::string::npos);
    const Json last = Json::parse(turns.back()["value"].get<std::string>());
    EXPECT_EQ(last["name"], "Terminate");
    for (const auto& t : turns) calls += t["from"] == "function_call";
  });
  EXPECT_GT(calls, traces);  // the chains call tools before Terminate

  // The loader's rules, broken one at a time.
  EXPECT_NE(check_llamafactory_record(Json::parse(R"({"messages": [{"role": "user", "content": "q"}], "images": []})")), "");
  EXPECT_NE(check_llamafactory_record(Json::parse(
                R"({"messages": [{"role": "assistant", "content": "a"}, {"role": "user", "content": "q"}], "images": []})")), "");
  EXPECT_NE(check_llamafactory_record(Json::parse(
                R"({"messages": [{"role": "user", "content": "<image>q"}, {"role": "assistant", "content": "a"}], "images": []})")), "");
  EXPECT_NE(check_llamafactory_record(Json::parse(
                R"({"conversations": [{"from": "human", "value": "q"}, {"from": "function_call", "value": "{\"name\": \"x\"}"}]})")), "");
  EXPECT_EQ(check_llamafactory_record(Json::parse(
                R"({"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "<image>q"}, {"role": "assistant", "content": "a"}], "images": ["x.png"]})")), "");

}

// LLaMA-Factory's own sample records pass the same checks, and its registry entries have the
// shape of the ones taco writes (third-party data, read in place: set TACO_TRAINER_FIXTURES to
// the trainer-formats fixtures folder).
TEST(ExportLayoutsTest, LlamaFactorysOwnRecords) {
  const char* fixtures = std::getenv("TACO_TRAINER_FIXTURES");
  if (!fixtures) GTEST_SKIP() << "set TACO_TRAINER_FIXTURES to check against LLaMA-Factory's own records";
  test::TempDir dir;
  ASSERT_EQ(test::run_taco("synth -q --n 1 --seed 5 --out " + dir.file("world")).code, 0);
  ASSERT_EQ(test::run_taco("gen -q --data " + dir.file("world/scene-graph-annotations.json") + " --format trace --limit 3 --out " +
                           dir.file("traces.jsonl")).code, 0);
  for (const std::string format : {"llamafactory", "llamafactory-tools"})
    ASSERT_EQ(test::run_taco("export " + dir.file("traces.jsonl") + " --format " + format + " --out " +
                             dir.file(format == "llamafactory" ? "data/taco_cota.json" : "data/taco_tools.jsonl")).code, 0);
  const std::string lf_dir = std::string(fixtures) + "/llamafactory";
  for (const char* file : {"mllm_demo.json", "glaive_toolcall_en_demo.json"})
    for (const auto& r : read_json_file(lf_dir + "/" + file)) EXPECT_EQ(check_llamafactory_record(r), "") << file << ": " << r.dump();
  const Json theirs = read_json_file(lf_dir + "/dataset_info.json");
  const Json ours = read_json_file(dir.file("data/dataset_info.json"));
  EXPECT_EQ(ours["taco_cota"]["tags"], theirs["mllm_demo"]["tags"]);
  EXPECT_EQ(ours["taco_cota"]["formatting"], theirs["mllm_demo"]["formatting"]);
  EXPECT_EQ(ours["taco_tools"]["columns"]["tools"], theirs["glaive_toolcall_en_demo"]["columns"]["tools"]);
  EXPECT_EQ(ours["taco_tools"]["columns"]["messages"], theirs["glaive_toolcall_en_demo"]["columns"]["messages"]);
  // Their tool-use record's shape: the same keys, a tools string of definitions like ours.
  const Json glaive = read_json_file(lf_dir + "/glaive_toolcall_en_demo.json")[0];
  const Json their_tools = Json::parse(glaive["tools"].get<std::string>());
  for (const char* key : {"name", "description", "parameters"}) EXPECT_TRUE(their_tools[0].contains(key)) << key;
}

}  // namespace
}  // namespace taco
