// The fast trace reader (TraceFactsReader) against the whole one (Trace::from_json): the same
// trace read both ways gives the same facts.
#include "cota/trace_facts.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "cota/trace.h"

namespace taco {
namespace {

StepRecord step_calling(const std::string& action, const std::string& error_kind = "") {
  StepRecord s;
  s.content = StepContent{"thinking", {Action{action, Json{{"image", "image-0"}}}}};
  s.raw = "{\"thought\": \"thinking\", \"actions\": [{\"name\": \"" + action + "\"}]}";
  s.error_kind = error_kind;
  if (!error_kind.empty()) s.error = "it went wrong";
  return s;
}

// A trace with one of everything the facts count: a tool that ran, one that failed, an action
// the registry does not have, a reply that did not parse, and Terminate.
Trace busy_trace() {
  Trace t;
  t.task.id = "t1";
  t.task.question = "How many cones are there?";
  t.task.images = {"images/a.png", "images/b.png"};
  t.task.answer = "3";
  t.task.metadata = Json{{"source", "synth"}, {"variant", "cota"}};
  t.steps.push_back(step_calling("LocalizeObjects"));
  t.steps.push_back(step_calling("OCR", "tool"));
  t.steps.push_back(step_calling("]} not a tool", "unknown_tool"));
  StepRecord unparsed;
  unparsed.raw = "I think it is 3";
  unparsed.parse_error = ParseErrorKind::kJson;
  unparsed.error_kind = "json";
  unparsed.error = "Expecting a JSON object";
  t.steps.push_back(unparsed);
  t.steps.push_back(step_calling("Crop", "arguments"));
  t.steps.push_back(step_calling("Terminate"));
  t.images.push_back(TraceImage{"image-0", "images/a.png", "input", 10, 20});
  t.images.push_back(TraceImage{"image-2", "out/crop.png", "Crop", 5, 5});
  t.status = TraceStatus::kTerminated;
  t.answer = "3";
  t.answer_source = "terminate";
  t.verification = Json{{"correct", true}};
  return t;
}

TraceFacts read_fast(const Json& j, bool want_images = true, bool want_task = true) {
  std::string line = j.dump();
  const size_t len = line.size();
  line.append(TraceFactsReader::kPadding, '\0');
  TraceFactsReader reader;
  TraceFacts f;
  std::string error;
  EXPECT_TRUE(reader.read(line.data(), len, line.size(), want_images, want_task, f, error)) << error;
  return f;
}

TEST(TraceFactsTest, AgreesWithTheWholeReader) {
  const Json line = busy_trace().to_json();
  const Trace t = Trace::from_json(line);
  const TraceFacts f = read_fast(line);
  EXPECT_EQ(f.steps, t.steps.size());
  EXPECT_EQ(f.tools, t.tools_called());
  EXPECT_EQ(f.tools, (std::vector<std::string>{"LocalizeObjects", "OCR", "Crop"}));
  EXPECT_EQ(f.parse_failures, static_cast<size_t>(std::count_if(t.steps.begin(), t.steps.end(),
                                                                 [](const StepRecord& s) { return s.parse_error != ParseErrorKind::kNone; })));
  EXPECT_EQ(f.parse_failures, 1u);
  EXPECT_EQ(f.failed_actions, 3u);  // the failed tool, the unknown action and the wrong arguments
  EXPECT_EQ(f.status, to_string(t.status));
  EXPECT_EQ(f.question, t.task.question);
  EXPECT_EQ(f.input_images, t.task.images);
  EXPECT_EQ(f.source, t.task.metadata["source"]);
  EXPECT_EQ(f.format(), "cota");
  EXPECT_TRUE(f.verified);
  EXPECT_TRUE(f.correct);
  EXPECT_EQ(f.version, line["version"].get<int>());
  // Every image the trace names, the inputs and the tools' outputs.
  EXPECT_EQ(f.image_paths, (std::vector<std::string>{"images/a.png", "images/b.png", "images/a.png", "out/crop.png"}));
}

TEST(TraceFactsTest, TheContentHashFollowsTheContentAlone) {
  Trace a = busy_trace();
  Trace b = busy_trace();
  b.task.id = "another-id";
  b.steps[0].model_ms = 1234;
  EXPECT_EQ(read_fast(a.to_json()).content_hash, read_fast(b.to_json()).content_hash);
  b.answer = "4";
  EXPECT_NE(read_fast(a.to_json()).content_hash, read_fast(b.to_json()).content_hash);
}

TEST(TraceFactsTest, ADirectTraceAndWhatIsNotATrace) {
  Trace d = direct_example(busy_trace(), "3");
  const TraceFacts f = read_fast(d.to_json());
  EXPECT_EQ(f.format(), "direct");
  EXPECT_EQ(f.tools, Trace::from_json(d.to_json()).tools_called());

  std::string line = R"({"id": "x", "question": "q"})";
  const size_t len = line.size();
  line.append(TraceFactsReader::kPadding, '\0');
  TraceFactsReader reader;
  TraceFacts g;
  std::string error;
  EXPECT_FALSE(reader.read(line.data(), len, line.size(), false, false, g, error));
  EXPECT_NE(error.find("not a taco trace"), std::string::npos) << error;
}

TEST(TraceFactsTest, ErrorKindsAreReadAsTheLoopWritesThem) {
  for (const char* k : {"json", "schema", "unknown"}) EXPECT_TRUE(is_parse_failure(k)) << k;
  for (const char* k : {"tool", "unknown_tool", "arguments"}) EXPECT_TRUE(is_failed_action(k)) << k;
  EXPECT_FALSE(is_parse_failure("tool"));
  EXPECT_FALSE(is_failed_action("json"));
  EXPECT_FALSE(is_failed_action(""));
}

}  // namespace
}  // namespace taco
