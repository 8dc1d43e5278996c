#include "runtime/batch.h"

#include <gtest/gtest.h>

#include <map>

#include "test_support.h"
#include "util/files.h"
#include "util/jsonl.h"

namespace taco {
namespace {

using Reply = test::ScriptedServer::Reply;

class BatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string image = test::write_test_image(dir_.file("img.png"), 64, 48);
    std::string lines;
    for (int i = 0; i < 20; ++i)
      lines += Json{{"id", "q" + std::to_string(i)}, {"images", {image}}, {"question", "what?"}}.dump() + "\n";
    lines += Json{{"id", "broken"}, {"images", {dir_.file("gone.png")}}, {"question", "what?"}}.dump() + "\n";
    write_file(dir_.file("tasks.jsonl"), lines);
    tasks_ = load_tasks(dir_.file("tasks.jsonl"));
  }

  // A server answering every task with a Calculate step, then Terminate.
  static Reply answer(const Json& req, int) {
    bool first = req["messages"].size() == 2;
    return Reply{200, test::ScriptedServer::completion(
                          first ? R"({"thought": "", "actions": [{"name": "Calculate", "arguments": {"expression": "6*7"}}]})"
                                : R"({"thought": "", "actions": [{"name": "Terminate", "arguments": {"answer": "42"}}]})")};
  }

  std::map<std::string, int> ids_in(const std::string& path) {
    std::map<std::string, int> count;
    for_each_jsonl(path, [&](size_t, Json&& j) { ++count[j["id"].get<std::string>()]; });
    return count;
  }

  BatchSummary run(test::ScriptedServer& server, const std::string& out, int jobs) {
    ModelOptions mo;
    mo.model = "scripted";
    mo.endpoint = server.base_url();
    mo.retries = 0;
    auto model = make_model(mo);
    Runtime rt(*model, tools_, PromptTemplate::defaults(), EpisodeOptions{});
    BatchOptions bo;
    bo.jobs = jobs;
    bo.out_path = out;
    bo.progress = false;
    return run_batch(tasks_, rt, bo);
  }

  test::TempDir dir_;
  std::vector<Task> tasks_;
  ToolRegistry tools_ = make_builtin_registry();
};

TEST_F(BatchTest, RunsEverythingAndIsolatesTheFailingTask) {
  test::ScriptedServer server(answer, 16);
  BatchSummary s = run(server, dir_.file("out.jsonl"), 8);
  EXPECT_EQ(s.succeeded, 20u);
  EXPECT_EQ(s.failed, 1u);
  auto ids = ids_in(dir_.file("out.jsonl"));
  EXPECT_EQ(ids.size(), 20u);
  EXPECT_EQ(ids.count("broken"), 0u);
  auto errors = ids_in(s.errors_path);
  EXPECT_EQ(errors.count("broken"), 1u);
  EXPECT_EQ(s.errors_path, dir_.file("out.errors.jsonl"));
  // Each line is a full trace.
  for_each_jsonl(dir_.file("out.jsonl"), [](size_t, Json&& j) {
    Trace t = Trace::from_json(j);
    EXPECT_EQ(t.answer, "42");
  });
}

TEST_F(BatchTest, ResumesAfterAnInterruptedRunWithoutDuplicates) {
  const std::string out = dir_.file("out.jsonl");
  {
    test::ScriptedServer server(answer, 16);
    run(server, out, 4);
  }
  // Simulate a run killed mid-way: keep 5 complete traces and half of the sixth.
  std::string text = read_file(out);
  size_t pos = 0;
  for (int i = 0; i < 5; ++i) pos = text.find('\n', pos) + 1;
  size_t sixth_end = text.find('\n', pos);
  write_file(out, text.substr(0, pos + (sixth_end - pos) / 2));

  test::ScriptedServer server(answer, 16);
  BatchSummary s = run(server, out, 4);
  EXPECT_EQ(s.skipped, 5u);
  EXPECT_EQ(s.succeeded, 15u);
  EXPECT_EQ(server.calls(), 15 * 2);  // no finished task is asked again
  auto ids = ids_in(out);
  EXPECT_EQ(ids.size(), 20u);
  for (const auto& [id, n] : ids) EXPECT_EQ(n, 1) << id;

  // A third run has nothing left but the broken task.
  test::ScriptedServer idle(answer, 4);
  BatchSummary again = run(idle, out, 4);
  EXPECT_EQ(again.skipped, 20u);
  EXPECT_EQ(again.failed, 1u);
  EXPECT_EQ(idle.calls(), 0);
}

TEST_F(BatchTest, UnreachableServerLosesNothing) {
  ModelOptions mo;
  mo.model = "m";
  mo.endpoint = "http://127.0.0.1:1/v1";
  mo.retries = 0;
  auto model = make_model(mo);
  Runtime rt(*model, tools_, PromptTemplate::defaults(), EpisodeOptions{});
  BatchOptions bo;
  bo.jobs = 4;
  bo.out_path = dir_.file("out.jsonl");
  bo.progress = false;
  BatchSummary s = run_batch(tasks_, rt, bo);
  EXPECT_EQ(s.failed, tasks_.size());
  EXPECT_EQ(ids_in(s.errors_path).size(), tasks_.size());
  EXPECT_TRUE(ids_in(bo.out_path).empty());
}

}  // namespace
}  // namespace taco
