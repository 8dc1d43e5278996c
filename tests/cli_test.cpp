// The taco binary as a user meets it: exit codes and one clear message for bad input.
#include <gtest/gtest.h>

#include <cstdio>

#include "test_support.h"
#include "util/files.h"
#include "util/jsonl.h"

namespace taco {
namespace {

using Result = test::CliResult;
Result taco_cli(const std::string& args, const std::string& stdin_text = "") { return test::run_taco(args, stdin_text); }

TEST(CliTest, VersionAndUsage) {
  Result v = taco_cli("--version");
  EXPECT_EQ(v.code, 0);
  EXPECT_NE(v.output.find("taco "), std::string::npos);
  EXPECT_EQ(taco_cli("run --no-such-flag").code, 2);
  EXPECT_EQ(taco_cli("").code, 2);
  EXPECT_EQ(taco_cli("run --help").code, 0);
}

TEST(CliTest, ParseCommand) {
  Result ok = taco_cli("parse", "```json\n{'thought': 'x', 'actions': [{'name': 'OCR', 'arguments': {'image': 'image-0'}}]}\n```");
  EXPECT_EQ(ok.code, 0);
  EXPECT_EQ(ok.output, "{\"thought\":\"x\",\"actions\":[{\"name\":\"OCR\",\"arguments\":{\"image\":\"image-0\"}}]}\n");
  Result bad = taco_cli("parse", "no json here");
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.output.find("\"error\":\"json\""), std::string::npos) << bad.output;
  // Bytes that are not UTF-8 (once an internal error while printing).
  Result raw = taco_cli("parse", "\xff\xff");
  EXPECT_EQ(raw.code, 1);
  EXPECT_EQ(raw.output.rfind("{\"error\":\"json\"", 0), 0u) << raw.output;
  Result in_thought = taco_cli("parse", "{\"thought\": \"\xff\", \"actions\": []}");
  EXPECT_EQ(in_thought.code, 0) << in_thought.output;
  EXPECT_EQ(in_thought.output, "{\"thought\":\"\xEF\xBF\xBD\",\"actions\":[]}\n");
}

TEST(CliTest, BadInputGivesOneClearLine) {
  test::TempDir dir;
  std::string image = test::write_test_image(dir.file("a.png"));
  Result no_question = taco_cli("run --model m");
  EXPECT_EQ(no_question.code, 1);
  EXPECT_EQ(no_question.output, "taco: give --question (with --image) or --dataset tasks.jsonl\n");

  // Once a division by zero (SIGFPE) before the shard was checked.
  write_file(dir.file("scenes.json"), "{}");
  Result no_shards = taco_cli("gen --annotations " + dir.file("scenes.json") + " --out " + dir.file("g.jsonl") + " --shard 0/0");
  EXPECT_EQ(no_shards.code, 1);
  EXPECT_EQ(no_shards.output, "taco: --shard must be k/N with 0 <= k < N\n");

  Result no_replay = taco_cli("run --model replay:" + dir.file("none.json") + " --image " + image + " --question q");
  EXPECT_EQ(no_replay.code, 1);
  EXPECT_NE(no_replay.output.find("none.json does not exist"), std::string::npos) << no_replay.output;

  write_file(dir.file("rec.json"), R"(["{\"thought\": \"\", \"actions\": [{\"name\": \"Terminate\", \"arguments\": {\"answer\": \"x\"}}]}"])");
  Result missing_image = taco_cli("run -q --model replay:" + dir.file("rec.json") + " --image " + dir.file("nope.jpg") + " --question q");
  EXPECT_EQ(missing_image.code, 1);
  EXPECT_NE(missing_image.output.find("nope.jpg: cannot open"), std::string::npos) << missing_image.output;

  write_file(dir.file("garbage.png"), "this is not an image at all");
  Result unreadable = taco_cli("run -q --model replay:" + dir.file("rec.json") + " --image " + dir.file("garbage.png") + " --question q");
  EXPECT_EQ(unreadable.code, 1);
  EXPECT_NE(unreadable.output.find("not an image taco reads"), std::string::npos) << unreadable.output;

  Result unreachable = taco_cli("run -q --model m --endpoint http://127.0.0.1:1/v1 --retries 0 --image " + image + " --question q");
  EXPECT_EQ(unreachable.code, 1);
  EXPECT_NE(unreachable.output.find("cannot reach http://127.0.0.1:1/v1/chat/completions"), std::string::npos) << unreachable.output;

  write_file(dir.file("tasks.jsonl"), "{\"id\": 1, \"question\": \"q\"}\n{broken\n");
  Result bad_dataset = taco_cli("run --model replay:" + dir.file("rec.json") + " --dataset " + dir.file("tasks.jsonl") +
                                " --out " + dir.file("o.jsonl"));
  EXPECT_EQ(bad_dataset.code, 1);
  EXPECT_NE(bad_dataset.output.find("tasks.jsonl:2: malformed JSON"), std::string::npos) << bad_dataset.output;
}

TEST(CliTest, RunOneQuestionAppendsATrace) {
  test::TempDir dir;
  std::string image = test::write_test_image(dir.file("a.png"));
  write_file(dir.file("rec.json"),
             R"(["{\"thought\": \"sum\", \"actions\": [{\"name\": \"Calculate\", \"arguments\": {\"expression\": \"2+2\"}}]}",
                 "{\"thought\": \"\", \"actions\": [{\"name\": \"Terminate\", \"arguments\": {\"answer\": \"4\"}}]}"])");
  std::string args = "run --model replay:" + dir.file("rec.json") + " --image " + image + " --question 'What is 2+2?' --out " +
                     dir.file("t.jsonl");
  Result r = taco_cli(args);
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("action: Calculate {\"expression\": \"2+2\"}"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("observation: {'result': 4}"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Answer: 4"), std::string::npos) << r.output;
  EXPECT_EQ(taco_cli(args).code, 0);
  int n = 0;
  for_each_jsonl(dir.file("t.jsonl"), [&](size_t, Json&& j) {
    ++n;
    EXPECT_EQ(j["answer"], "4");
  });
  EXPECT_EQ(n, 2);
}

TEST(CliTest, DatasetRunReportsAndResumes) {
  test::TempDir dir;
  std::string image = test::write_test_image(dir.file("a.png"));
  write_file(dir.file("rec.json"), R"(["{\"thought\": \"\", \"actions\": [{\"name\": \"Terminate\", \"arguments\": {\"answer\": \"x\"}}]}"])");
  std::string tasks;
  for (int i = 0; i < 5; ++i) tasks += "{\"id\": " + std::to_string(i) + ", \"images\": [\"a.png\"], \"question\": \"q\"}\n";
  write_file(dir.file("tasks.jsonl"), tasks);
  std::string args = "run --model replay:" + dir.file("rec.json") + " --dataset " + dir.file("tasks.jsonl") + " --out " +
                     dir.file("out.jsonl") + " -j 3";
  Result first = taco_cli(args);
  EXPECT_EQ(first.code, 0) << first.output;
  EXPECT_NE(first.output.find("5 tasks: 5 done now, 0 already in"), std::string::npos) << first.output;
  Result second = taco_cli(args);
  EXPECT_NE(second.output.find("5 tasks: 0 done now, 5 already in"), std::string::npos) << second.output;
}

TEST(CliTest, DemoRunsOffline) {
  test::TempDir dir;
  Result r = taco_cli("demo --out " + dir.file("demo"));
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("Answer: 10.28"), std::string::npos) << r.output;
}

// The model that ships still loads and still answers: a change to the tokenizer, the
// conversation rendering or the network that broke it would drop it to chance or below.
TEST(CliTest, DemoRunsTheShippedModel) {
  test::TempDir dir;
  Result r = taco_cli("demo --out " + dir.file("demo") + " --model " + std::string(TACO_SOURCE_DIR) + "/models/taco-small");
  ASSERT_EQ(r.code, 0) << r.output;
  int right = -1, asked = 0;
  ASSERT_EQ(std::sscanf(r.output.c_str() + r.output.rfind("\n== ") + 4, "%d of %d answered right", &right, &asked), 2) << r.output;
  EXPECT_EQ(asked, 11);
  EXPECT_GE(right, 3) << r.output;
  size_t lines = 0;
  for_each_jsonl(dir.file("demo/model-traces.jsonl"), [&](size_t, Json&&) { ++lines; });
  EXPECT_EQ(lines, 11u);
}

}  // namespace
}  // namespace taco

namespace taco {
namespace {

TEST(CliToolsTest, ListAndCall) {
  Result list = taco_cli("tools list --json");
  ASSERT_EQ(list.code, 0) << list.output;
  Json tools = Json::parse(list.output);
  EXPECT_EQ(tools.size(), 17u);
  EXPECT_EQ(tools[0]["name"], "OCR");
  EXPECT_EQ(tools.back()["name"], "Terminate");

  Result calc = taco_cli("tools call Calculate --args '{\"expression\": \"2 ** 10 / 4\"}'");
  EXPECT_EQ(calc.code, 0);
  EXPECT_EQ(calc.output, "{'result': 256.0}\n");

  test::TempDir dir;
  std::string image = test::write_test_image(dir.file("a.png"), 200, 100);
  Result crop = taco_cli("tools call Crop --image " + image + " --out-dir " + dir.file("out") +
                         " --args '{\"image\": \"image-0\", \"bbox\": [0.1, 0.1, 0.5, 0.5]}'");
  EXPECT_EQ(crop.code, 0) << crop.output;
  EXPECT_NE(crop.output.find("image-1 saved to " + dir.file("out/image-1.png")), std::string::npos) << crop.output;

  Result bad = taco_cli("tools call Crop --image " + image + " --args '{\"image\": \"image-0\", \"bbox\": [5, 5, 9, 9]}'");
  EXPECT_EQ(bad.code, 1);
  EXPECT_EQ(bad.output, "Execution failed with <class 'ValueError'>: Bounding box coordinates must be between 0 and 1.\n");
  EXPECT_EQ(taco_cli("tools call Calculate --args 'not json'").code, 1);
}

TEST(CliToolsTest, KnowledgeBaseImportAndQuery) {
  test::TempDir dir;
  write_file(dir.file("kb.jsonl"), "{\"title\": \"Zebra\", \"text\": \"Zebras are striped. They live in Africa.\"}\n");
  Result imp = taco_cli("kb import " + dir.file("kb.jsonl") + " --db " + dir.file("kb.sqlite"));
  EXPECT_EQ(imp.code, 0) << imp.output;
  write_file(dir.file("tools.json"), Json{{"tools", {{"QueryKnowledgeBase", {{"database", "kb.sqlite"}}}}}}.dump());
  Result q = taco_cli("tools call QueryKnowledgeBase --tools-config " + dir.file("tools.json") + " --args '{\"query\": \"zebra\"}'");
  EXPECT_EQ(q.code, 0) << q.output;
  EXPECT_EQ(q.output, "{'title': 'Zebra', 'url': '', 'summary': 'Zebras are striped. They live in Africa.'}\n");
}

}  // namespace
}  // namespace taco
