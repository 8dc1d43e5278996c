#include "cota/trace.h"

#include <gtest/gtest.h>

#include "test_support.h"
#include "util/error.h"
#include "util/files.h"

namespace taco {
namespace {

TEST(TraceTest, JsonRoundTrip) {
  Trace t;
  t.task.id = "q1";
  t.task.images = {"/data/a.png"};
  t.task.question = "How many?";
  t.task.answer = "3";
  t.model = "m";
  t.user_request = "\n# USER REQUEST #:\nimage-0: <image>\nHow many?\n";
  StepRecord s;
  s.raw = "{\"thought\": \"t\", \"actions\": [{\"name\": \"Calculate\", \"arguments\": {\"expression\": \"1+2\"}}]}";
  s.content = StepContent{"t", {Action{"Calculate", Json{{"expression", "1+2"}}}}};
  s.observation = Json{{"result", 3}};
  s.feedback = "OBSERVATION:\n{'result': 3}";
  s.model_ms = 12.5;
  t.steps.push_back(s);
  StepRecord bad;
  bad.raw = "oops";
  bad.parse_error = ParseErrorKind::kJson;
  bad.error_kind = "json";
  bad.error = "Expecting a JSON object";
  t.steps.push_back(bad);
  t.images.push_back(TraceImage{"image-0", "/data/a.png", "input", 10, 20});
  t.status = TraceStatus::kTerminated;
  t.answer = "3";
  t.answer_source = "terminate";

  Json j = t.to_json();
  EXPECT_EQ(j.begin().key(), "id");
  EXPECT_EQ(j["format"], "taco.trace");
  EXPECT_EQ(j["version"], kTraceVersion);
  EXPECT_EQ(j["totals"]["tools_called"], 1);
  Trace back = Trace::from_json(Json::parse(j.dump()));
  EXPECT_EQ(back.to_json(), j);
  EXPECT_EQ(back.steps[1].parse_error, ParseErrorKind::kJson);
}

// An action the registry does not know ran nothing: it is not a tool called (reports once
// listed "tools" such as "]} each kind of the bottle").
TEST(TraceTest, UnknownActionsAreNotToolsCalled) {
  Trace t;
  StepRecord known, unknown;
  known.content = StepContent{"", {Action{"OCR", Json::object()}}};
  unknown.content = StepContent{"", {Action{"]} each kind", Json::object()}}};
  unknown.error_kind = "unknown_tool";
  t.steps = {unknown, known, unknown};
  EXPECT_EQ(t.tools_called(), (std::vector<std::string>{"OCR"}));
}

TEST(TraceTest, RejectsWhatIsNotATrace) {
  EXPECT_THROW(Trace::from_json(Json{{"id", "x"}}), Error);
  EXPECT_THROW(Trace::from_json(Json{{"format", "taco.trace"}, {"version", 99}}), Error);
}

TEST(TaskTest, LoadsJsonlWithRelativeImages) {
  test::TempDir dir;
  write_file(dir.file("tasks.jsonl"),
             "{\"id\": 1, \"images\": [\"img/a.png\"], \"question\": \"q\", \"answer\": 4}\n"
             "{\"id\": \"b\", \"image\": \"/abs/b.png\", \"question\": \"q2\", \"choices\": [\"x\", \"y\"]}\n");
  auto tasks = load_tasks(dir.file("tasks.jsonl"));
  ASSERT_EQ(tasks.size(), 2u);
  EXPECT_EQ(tasks[0].id, "1");
  EXPECT_EQ(tasks[0].images[0], dir.file("img/a.png"));
  EXPECT_EQ(*tasks[0].answer, "4");
  EXPECT_EQ(tasks[1].images[0], "/abs/b.png");
  EXPECT_EQ(tasks[1].choices.size(), 2u);
}

TEST(TaskTest, BadRecordsNameTheLine) {
  test::TempDir dir;
  write_file(dir.file("t.jsonl"), "{\"id\": 1, \"question\": \"q\"}\n{\"id\": 2}\n");
  try {
    load_tasks(dir.file("t.jsonl"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("t.jsonl:2: task 2: missing 'question'"), std::string::npos) << e.what();
  }
  write_file(dir.file("d.jsonl"), "{\"id\": 1, \"question\": \"q\"}\n{\"id\": 1, \"question\": \"q\"}\n");
  EXPECT_THROW(load_tasks(dir.file("d.jsonl")), Error);
}

}  // namespace
}  // namespace taco
