// The evaluation jobs called as a server or a test calls them: settings in, results and events
// out, no command line in between.
#include <gtest/gtest.h>

#include <filesystem>

#include "eval/run.h"
#include "test_support.h"
#include "util/error.h"
#include "util/files.h"
#include "util/jsonl.h"

namespace taco {
namespace {

struct Heard {
  std::string notes, printed;
  JobEvents events() {
    JobEvents e;
    e.note = [this](const std::string& t) { notes += t; };
    e.print = [this](const std::string& t) { printed += t; };
    return e;
  }
};

// Three tasks whose answer is "blue", and a replay model that always says "blue".
struct Bench {
  test::TempDir dir;
  std::string tasks = dir.file("bench.jsonl");
  std::string model = "replay:" + dir.file("always-blue.json");
  Bench() {
    const std::string image = test::write_test_image(dir.file("img.png"), 64, 48);
    std::string lines;
    for (int i = 0; i < 3; ++i)
      lines += Json{{"id", "q" + std::to_string(i)}, {"images", {image}}, {"question", "What colour is the sky?"}, {"answer", "blue"}}.dump() + "\n";
    write_file(tasks, lines);
    write_file(dir.file("always-blue.json"), "[\"blue\"]");
  }
  EvalRunSettings run_settings() const {
    EvalRunSettings s;
    s.data = tasks;
    s.episode.model.model = model;
    s.episode.prompt = "direct";
    s.batch.out_path = dir.file("run.jsonl");
    s.batch.jobs = 2;
    return s;
  }
};

TEST(EvalJobsTest, RunThenScoreAreOneCallEachAndTellWhatTheyDid) {
  Bench b;
  Heard heard;
  const BatchSummary ran = eval_run(b.run_settings(), heard.events());
  EXPECT_EQ(ran.succeeded, 3u);
  EXPECT_EQ(ran.failed, 0u);
  EXPECT_NE(heard.notes.find("3 tasks: 3 done now, 0 already in " + b.dir.file("run.jsonl")), std::string::npos) << heard.notes;
  EXPECT_TRUE(heard.printed.empty());  // a run has no result text; its traces are the result

  EvalScoreSettings score;
  score.data = b.tasks;
  score.traces = {b.dir.file("run.jsonl")};
  const EvalScoreResult scored = eval_score(score, heard.events());
  EXPECT_EQ(scored.report.overall.n, 3u);
  EXPECT_DOUBLE_EQ(scored.report.overall.score, 1.0);
  EXPECT_EQ(scored.scores_path, b.dir.file("run.scores.jsonl"));
  EXPECT_EQ(heard.printed, scored.report.to_markdown());  // the report is the result text
  EXPECT_EQ(read_file(scored.report_path), scored.report.to_markdown());
}

TEST(EvalJobsTest, AStopRequestedBeforehandStartsNoEpisodeAndARerunFinishes) {
  Bench b;
  std::stop_source stop;
  stop.request_stop();
  JobEvents events;
  events.stop = stop.get_token();
  EXPECT_EQ(eval_run(b.run_settings(), events).succeeded, 0u);
  EXPECT_TRUE(finished_ids(b.dir.file("run.jsonl")).empty());
  const BatchSummary again = eval_run(b.run_settings());
  EXPECT_EQ(again.succeeded, 3u);
}

TEST(EvalJobsTest, ErrorsNameTheSettingNotAFlag) {
  Bench b;
  EvalRunSettings s = b.run_settings();
  s.episode.max_replies = -3;
  try {
    eval_run(s);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "EpisodeSettings.max_replies must be 0 or more");
  }
  s = b.run_settings();
  s.shard = "1/x";
  try {
    eval_run(s);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "Shard.spec must look like 0/4 (k/N), not 1/x");
  }
}

TEST(EvalJobsTest, EvalAllRefusesAnEarlierRunUnlessReused) {
  Bench b;
  EvalAllSettings all;
  all.run = b.run_settings();
  all.data = {b.tasks};
  all.work_dir = b.dir.file("outputs");
  Heard heard;
  EXPECT_TRUE(eval_all(all, heard.events()));
  EXPECT_NE(heard.printed.find("bench"), std::string::npos) << heard.printed;
  try {
    eval_all(all);
    FAIL() << "an earlier run was not refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("EvalAllSettings.reuse resumes it"), std::string::npos) << e.what();
  }
  all.reuse = true;
  EXPECT_TRUE(eval_all(all));
}

// A run limited to the first questions is scored over those: 2 of 3 asked and right is 100%,
// with the one not asked said so, not 66.7% as if it were answered wrong.
TEST(EvalJobsTest, ALimitedRunIsScoredOverTheQuestionsItAsked) {
  Bench b;
  EvalAllSettings all;
  all.run = b.run_settings();
  all.run.limit = 2;
  all.data = {b.tasks};
  all.work_dir = b.dir.file("outputs");
  Heard heard;
  EXPECT_TRUE(eval_all(all, heard.events()));
  EXPECT_NE(heard.printed.find("       2   100.0%"), std::string::npos) << heard.printed;
  EXPECT_NE(heard.printed.find("1 items of the benchmark were not asked"), std::string::npos) << heard.printed;

  // Scored as a whole (no answered_only), the item without a trace counts wrong, as before.
  EvalScoreSettings whole;
  whole.data = b.tasks;
  whole.traces = {all.work_dir + "/replay-always-blue-direct/bench/replay-always-blue-direct_bench.jsonl"};
  ASSERT_TRUE(std::filesystem::exists(whole.traces[0])) << heard.notes;
  EXPECT_EQ(eval_score(whole).report.overall.n, 3u);
}

}  // namespace
}  // namespace taco
