#include "runtime/batch.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
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

// A server that does not answer at all is found before the first task, and nothing is written.
TEST_F(BatchTest, AnUnreachableServerIsOneLineBeforeAnyTask) {
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
  try {
    run_batch(tasks_, rt, bo);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("the model server does not answer"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(bo.out_path));
  EXPECT_FALSE(std::filesystem::exists(default_errors_path(bo.out_path)));
}

// A model that answers the first tasks and then goes away: after three episodes in a row get
// no answer the batch stops taking tasks; the finished ones are kept and a rerun goes on.
class GoesAwayModel : public Model {
 public:
  explicit GoesAwayModel(int answers) : answers_(answers) {}
  Completion complete(const CompletionRequest&) override {
    if (calls_.fetch_add(1) >= answers_) throw ModelUnreachableError("cannot reach http://gone/v1/chat/completions");
    Completion c;
    c.text = R"({"thought": "", "actions": [{"name": "Terminate", "arguments": {"answer": "42"}}]})";
    return c;
  }
  std::string name() const override { return "goes-away"; }
  int calls() const { return calls_.load(); }

 private:
  int answers_;
  std::atomic<int> calls_{0};
};

TEST_F(BatchTest, StopsAfterEpisodesInARowGetNoAnswer) {
  std::vector<Task> reachable(tasks_.begin(), tasks_.begin() + 20);  // without the broken task
  BatchOptions bo;
  bo.jobs = 1;
  bo.out_path = dir_.file("out.jsonl");
  bo.progress = false;
  GoesAwayModel model(5);
  Runtime rt(model, tools_, PromptTemplate::defaults(), EpisodeOptions{});
  try {
    run_batch(reachable, rt, bo);
    FAIL();
  } catch (const Error& e) {
    const std::string why = e.what();
    EXPECT_NE(why.find("3 episodes in a row got no answer from the model (cannot reach http://gone"), std::string::npos) << why;
    EXPECT_NE(why.find("5 tasks done now"), std::string::npos) << why;
    EXPECT_NE(why.find("15 to do"), std::string::npos) << why;
  }
  EXPECT_EQ(model.calls(), 5 + 3);  // not one call per remaining task
  EXPECT_EQ(ids_in(bo.out_path).size(), 5u);
  EXPECT_EQ(ids_in(default_errors_path(bo.out_path)).size(), 3u);

  GoesAwayModel back(100);
  Runtime again(back, tools_, PromptTemplate::defaults(), EpisodeOptions{});
  BatchSummary s = run_batch(reachable, again, bo);
  EXPECT_EQ(s.skipped, 5u);
  EXPECT_EQ(s.succeeded, 15u);
  EXPECT_EQ(ids_in(bo.out_path).size(), 20u);
}

// A resumed output must hold this run's traces: another model, prompt mode or dataset (another
// question under the same id) is refused with one line naming file and line, unless forced;
// a line that is not a trace always is.
TEST_F(BatchTest, ResumingIntoAnotherRunsOutputIsRefused) {
  std::vector<Task> some(tasks_.begin(), tasks_.begin() + 4);
  const std::string out = dir_.file("out.jsonl");
  BatchOptions bo;
  bo.jobs = 2;
  bo.out_path = out;
  bo.progress = false;
  GoesAwayModel first(100);
  run_batch(std::vector<Task>(some.begin(), some.begin() + 2), Runtime(first, tools_, PromptTemplate::defaults(), EpisodeOptions{}), bo);
  auto refusal = [&](const Runtime& rt, const std::vector<Task>& tasks) -> std::string {
    try {
      run_batch(tasks, rt, bo);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };

  class Renamed : public GoesAwayModel {
   public:
    Renamed() : GoesAwayModel(100) {}
    std::string name() const override { return "another-model"; }
  } other;
  std::string why = refusal(Runtime(other, tools_, PromptTemplate::defaults(), EpisodeOptions{}), some);
  EXPECT_NE(why.find(out + " line 1 was made with the model 'goes-away', this run uses 'another-model'"), std::string::npos) << why;
  EXPECT_NE(why.find("BatchOptions.force"), std::string::npos) << why;

  EpisodeOptions direct;
  direct.mode = PromptMode::kDirect;
  why = refusal(Runtime(first, tools_, PromptTemplate::defaults(), direct), some);
  EXPECT_NE(why.find("the prompt mode 'cota', this run uses 'direct'"), std::string::npos) << why;

  std::vector<Task> changed = some;
  changed[1].question = "a different question";
  why = refusal(Runtime(first, tools_, PromptTemplate::defaults(), EpisodeOptions{}), changed);
  EXPECT_NE(why.find("task q1 asks \"what?\" there but \"a different question\" here"), std::string::npos) << why;
  EXPECT_EQ(ids_in(out).size(), 2u);  // nothing was added by the refused runs

  bo.force = true;
  BatchSummary forced = run_batch(some, Runtime(other, tools_, PromptTemplate::defaults(), EpisodeOptions{}), bo);
  EXPECT_EQ(forced.skipped, 2u);
  EXPECT_EQ(forced.succeeded, 2u);

  write_file(out, read_file(out) + "{\"id\": \"x\", \"answer\": \"not a trace\"}\n");
  why = refusal(Runtime(other, tools_, PromptTemplate::defaults(), EpisodeOptions{}), some);
  EXPECT_NE(why.find(out + " line 5 is not a taco trace"), std::string::npos) << why;
}

}  // namespace
}  // namespace taco
