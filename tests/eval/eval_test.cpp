// Benchmarks loaded from VLMEvalKit TSVs, scored, reported and compared; and the whole
// `taco eval` path offline against a loopback model server.
#include <gtest/gtest.h>

#include <filesystem>
#include <mutex>

#include "eval/benchmark.h"
#include "eval/judge.h"
#include "eval/score.h"
#include "test_support.h"
#include "util/base64.h"
#include "util/error.h"
#include "util/files.h"
#include "util/jsonl.h"

namespace taco {
namespace {

TEST(TsvTest, QuotedFieldsHoldTabsNewlinesAndQuotes) {
  auto rows = parse_tsv("index\tquestion\n1\t\"a\tb\nc \"\"q\"\"\"\n2\tplain\r\n");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1][1], "a\tb\nc \"q\"");
  EXPECT_EQ(rows[2][1], "plain");
}

// A VLMEvalKit-style TSV the test writes: base64 images, options, hints, categories.
std::string write_tsv(const test::TempDir& dir, const std::string& name, const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  write_file(dir.file(name), text);
  return dir.file(name);
}

std::string png_base64(const test::TempDir& dir, const std::string& text = "") {
  return base64_encode(read_file(test::write_test_image(dir.file("img.png"), 64, 48, text)));
}

TEST(BenchmarkTest, ChoiceAndFreeFormPromptsImagesAndReferences) {
  test::TempDir dir;
  const std::string img = png_base64(dir);
  std::string path = write_tsv(dir, "MMStar.tsv",
                               {"index\timage\tquestion\thint\tA\tB\tC\tanswer\tcategory\tl2-category",
                                "10\t" + img + "\tWhat animal?\tLook closely\tcat\tdog\t\tB\tcoarse\tanimals",
                                "11\t10\tHow many?\t\t\t\t\t3\tcount\t",
                                "12\t['" + img + "', '" + img + "']\tSame?\t\tyes\tno\t\tA\tmulti\t"});
  std::vector<Task> tasks = load_benchmark(path, BenchmarkOptions{dir.file("inputs")});
  ASSERT_EQ(tasks.size(), 3u);
  EXPECT_EQ(tasks[0].question,
            "Hint: Look closely\nQuestion: What animal?\nOptions:\nA. cat\nB. dog\nPlease select the correct answer from the options above.");
  EXPECT_EQ(tasks[0].choices, (std::vector<std::string>{"cat", "dog"}));
  EXPECT_EQ(tasks[0].metadata["category"], "coarse");
  EXPECT_EQ(tasks[0].metadata["l2_category"], "animals");
  EXPECT_EQ(tasks[0].metadata["benchmark"], "MMStar");
  EXPECT_EQ(tasks[0].images, (std::vector<std::string>{dir.file("inputs/10.png")}));
  EXPECT_EQ(tasks[1].question, "How many?\nAnswer the question using a single word or phrase.");
  EXPECT_EQ(tasks[1].metadata["scoring"], kScoreFreeForm);
  EXPECT_EQ(tasks[1].images, (std::vector<std::string>{dir.file("inputs/11.png")}));  // row 10's image, by reference
  EXPECT_EQ(tasks[2].images, (std::vector<std::string>{dir.file("inputs/12-0.png"), dir.file("inputs/12-1.png")}));
  EXPECT_EQ(read_file(tasks[2].images[1]), read_file(dir.file("img.png")));
  // Without an images folder nothing is decoded (scoring needs no pictures).
  EXPECT_TRUE(load_benchmark(path)[0].images.empty());
}

TEST(BenchmarkTest, ChartQAIsScoredByRelaxedAccuracy) {
  test::TempDir dir;
  auto tasks = load_benchmark(write_tsv(dir, "ChartQA_TEST.tsv", {"index\tquestion\tanswer", "0\tHow many?\t100"}));
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].metadata["scoring"], kScoreRelaxed);
  Trace t;
  t.task = tasks[0];
  t.status = TraceStatus::kTerminated;
  t.answer = "about 103";
  ItemScore s = score_item(tasks[0], &t, nullptr);
  EXPECT_EQ(s.method, "relaxed");
  EXPECT_EQ(s.score, 1);
}

TEST(BenchmarkTest, BadFilesGiveClearErrors) {
  test::TempDir dir;
  EXPECT_THROW(load_benchmark(write_tsv(dir, "x.tsv", {"question\tanswer", "q\ta"})), Error);
  EXPECT_THROW(load_benchmark(write_tsv(dir, "y.tsv", {"index\timage\tquestion", "1\t%%%notbase64\tq"}), {dir.file("in")}),
               Error);
  EXPECT_THROW(load_benchmark(dir.file("y.csv")), Error);
  try {
    load_benchmark(write_tsv(dir, "z.tsv", {"index\tquestion", "1\t"}));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("row 2"), std::string::npos) << e.what();
  }
}

Trace answered(const Task& task, const std::string& answer) {
  Trace t;
  t.task = task;
  t.status = TraceStatus::kTerminated;
  t.answer = answer;
  return t;
}

// The same answers under taco's rules and under VLMEvalKit's exact matching; the report says
// which produced it.
TEST(ScoreTest, VlmEvalKitMatchingMode) {
  Task mc{"1", {}, "q", "B", {"cat", "dog"}, Json{{"category", "animals"}, {"scoring", kScoreChoice}}};
  Task yes{"2", {}, "q", "Yes", {}, Json{{"category", "exists"}, {"scoring", kScoreFreeForm}}};
  Task open{"3", {}, "q", "don't know", {}, Json{{"category", "open"}, {"scoring", kScoreFreeForm}}};
  struct Case {
    const Task* task;
    std::string answer;
    double taco, vlmevalkit;
  };
  for (const Case& c : std::vector<Case>{{&mc, "The answer is b.", 1, 0},  // VLMEvalKit reads no bare lower-case letter
                                         {&mc, "B", 1, 1},
                                         {&mc, "The correct answer is B, not A.", 1, 0},
                                         {&yes, "Yes, there is.", 1, 1},
                                         {&yes, "Yes, though no dog is near.", 1, 0},  // VLMEvalKit: both words, Unknown
                                         {&open, "dont know", 1, 1}}) {
    Trace t = answered(*c.task, c.answer);
    EXPECT_EQ(score_item(*c.task, &t, nullptr).score, c.taco) << c.answer;
    ItemScore v = score_item(*c.task, &t, nullptr, Matching::kVlmEvalKit);
    EXPECT_EQ(v.score, c.vlmevalkit) << c.answer;
    EXPECT_EQ(v.method.rfind("vlmevalkit_", 0), 0u) << v.method;
  }
  Report r = make_report("run", "bench", {}, ToolUseStats(), Matching::kVlmEvalKit);
  EXPECT_NE(r.to_markdown().find("Matching: vlmevalkit"), std::string::npos);
  EXPECT_EQ(r.to_json()["matching"], "vlmevalkit");
  EXPECT_NE(make_report("run", "bench", {}, ToolUseStats()).to_markdown().find("Matching: taco."), std::string::npos);
}

TEST(ScoreTest, ItemsReportAndToolUse) {
  Task mc{"1", {}, "q", "B", {"cat", "dog"}, Json{{"category", "animals"}, {"scoring", kScoreChoice}}};
  Task free{"2", {}, "q", "3", {}, Json{{"category", "count"}, {"scoring", kScoreFreeForm}}};
  Task mc_text_answer{"3", {}, "q", "dog", {"cat", "dog"}, Json{{"category", "animals"}}};
  Trace t1 = answered(mc, "The answer is (B).");
  EXPECT_EQ(score_item(mc, &t1, nullptr).score, 1);
  Trace t2 = answered(free, "three");
  EXPECT_EQ(score_item(free, &t2, nullptr).score, 1);
  Trace t3 = answered(mc_text_answer, "A");
  EXPECT_EQ(score_item(mc_text_answer, &t3, nullptr).score, 0);
  ItemScore missing = score_item(free, nullptr, nullptr);
  EXPECT_FALSE(missing.answered);
  EXPECT_EQ(missing.score, 0);
  Task judged{"4", {}, "q", "red", {}, Json{{"scoring", kScoreJudge}}};
  EXPECT_THROW(score_item(judged, &t1, nullptr), Error);  // needs a judge

  ToolUseStats tools;
  t1.steps.resize(2);
  t1.steps[0].content = StepContent{"look", {Action{"OCR", Json::object()}}};
  t1.steps[1].parse_error = ParseErrorKind::kJson;
  tools.add(t1);
  tools.add(t2);
  Report r = make_report("run", "bench", {score_item(mc, &t1, nullptr), score_item(free, &t2, nullptr),
                                          score_item(mc_text_answer, &t3, nullptr), missing},
                         tools);
  EXPECT_EQ(r.overall.n, 4u);
  EXPECT_DOUBLE_EQ(r.overall.score, 0.5);
  EXPECT_DOUBLE_EQ(r.categories["animals"].score, 0.5);
  EXPECT_DOUBLE_EQ(r.categories["count"].score, 0.5);
  EXPECT_EQ(r.missing, 1u);
  EXPECT_EQ(r.tools.tool_calls["OCR"], 1u);
  EXPECT_EQ(r.tools.parse_failures, 1u);
  EXPECT_NE(r.to_markdown().find("| **overall** | 4 | **50.0** |"), std::string::npos) << r.to_markdown();
  Task l2{"5", {}, "q", "B", {"cat", "dog"}, Json{{"category", "coarse"}, {"l2_category", "animals"}}};
  ItemScore with_l2 = score_item(l2, &t1, nullptr);
  EXPECT_EQ(ItemScore::from_json(with_l2.to_json()).l2_category, "animals");
  Report r2 = make_report("run", "bench", {with_l2}, ToolUseStats());
  EXPECT_DOUBLE_EQ(r2.l2_categories["animals"].score, 1.0);
  EXPECT_NE(r2.to_markdown().find("| l2-category | n | score (%) |"), std::string::npos);
}

// An answer the rules cannot read (a synonym they do not list, world knowledge) is undecided:
// without a judge it scores 0 and the report counts it; with one, the judge settles it and the
// report says how.
TEST(ScoreTest, UndecidedItemsGoToTheJudgeAndAreCounted) {
  Task sport{"1", {}, "What sport is it?", "table tennis", {}, Json{{"scoring", kScoreFreeForm}}};
  Task color{"2", {}, "What color is it?", "pink", {}, Json{{"scoring", kScoreFreeForm}}};
  Task plain{"3", {}, "What color is it?", "red", {}, Json{{"scoring", kScoreFreeForm}}};
  Trace ping = answered(sport, "ping pong"), rose = answered(color, "rose"), blue = answered(plain, "blue");
  ItemScore unjudged = score_item(sport, &ping, nullptr);
  EXPECT_TRUE(unjudged.undecided);
  EXPECT_EQ(unjudged.method, "undecided");
  EXPECT_EQ(unjudged.score, 0);
  EXPECT_TRUE(ItemScore::from_json(unjudged.to_json()).undecided);
  EXPECT_FALSE(score_item(plain, &blue, nullptr).undecided);  // another color: wrong, decided
  Report without = make_report("run", "bench", {unjudged, score_item(plain, &blue, nullptr)}, ToolUseStats());
  EXPECT_EQ(without.undecided, 1u);
  EXPECT_NE(without.to_markdown().find("Undecided by the rules: 1 items, scored 0"), std::string::npos) << without.to_markdown();

  test::TempDir dir;
  test::ScriptedServer server([](const Json& req, int) {
    const std::string text = req["messages"][0]["content"].is_string() ? req["messages"][0]["content"].get<std::string>()
                                                                        : req["messages"][0]["content"][0]["text"].get<std::string>();
    return test::ScriptedServer::Reply{200, test::ScriptedServer::completion(text.find("ping pong") != std::string::npos ? "1.0" : "0.0")};
  });
  ModelOptions o;
  o.model = "judge-model";
  o.endpoint = server.base_url();
  auto model = make_model(o);
  Judge judge(*model, dir.file("cache.jsonl"));
  ItemScore settled = score_item(sport, &ping, &judge), refused = score_item(color, &rose, &judge);
  EXPECT_EQ(settled.method, "judge");
  EXPECT_EQ(settled.score, 1);
  EXPECT_EQ(refused.score, 0);
  EXPECT_EQ(score_item(plain, &blue, &judge).method, "other_in_class");  // decided: the judge is not asked
  EXPECT_EQ(server.calls(), 2);
  Report with = make_report("run", "bench", {settled, refused}, ToolUseStats());
  EXPECT_EQ(with.undecided_judged, 2u);
  EXPECT_NE(with.to_markdown().find("Undecided by the rules: 2 items; the judge settled 2 (1 right, 1 wrong)."), std::string::npos)
      << with.to_markdown();
  EXPECT_EQ(with.to_json()["undecided"]["judged_right"], 1.0);
}

// MMVet's categories are combinations of capabilities: each capability gets its own row too,
// every item counted under each of its capabilities.
TEST(ScoreTest, PerCapabilityTableForCombinedCategories) {
  std::vector<ItemScore> items = {{"1", "rec", "", "", "", "", 1.0, true},
                                  {"2", "ocr,math", "", "", "", "", 0.5, true},
                                  {"3", "rec, ocr", "", "", "", "", 0.0, true}};
  Report r = make_report("run", "MMVet", items, ToolUseStats());
  EXPECT_EQ(r.categories.size(), 3u);
  ASSERT_EQ(r.capabilities.size(), 3u);
  EXPECT_DOUBLE_EQ(r.capabilities["rec"].score, 0.5);
  EXPECT_EQ(r.capabilities["ocr"].n, 2u);
  EXPECT_DOUBLE_EQ(r.capabilities["ocr"].score, 0.25);
  EXPECT_DOUBLE_EQ(r.capabilities["math"].score, 0.5);
  EXPECT_NE(r.to_markdown().find("| capability | n | score (%) |"), std::string::npos);
  EXPECT_TRUE(r.to_json().contains("capabilities"));
  EXPECT_TRUE(make_report("run", "b", {items[0]}, ToolUseStats()).capabilities.empty());
}

TEST(CompareTest, PairedBootstrapInterval) {
  std::vector<ItemScore> a, b;
  for (int i = 0; i < 200; ++i) {
    ItemScore x{std::to_string(i), i % 2 ? "odd" : "even", "", "", "", "", i % 4 == 0 ? 1.0 : 0.0, true};
    ItemScore y = x;
    y.score = i % 4 <= 1 ? 1.0 : 0.0;  // b is right on every item a is, and on a quarter more
    a.push_back(x);
    b.push_back(y);
  }
  auto rows = compare_runs(a, b, 1000, 7);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].category, "overall");
  EXPECT_DOUBLE_EQ(rows[0].a, 0.25);
  EXPECT_DOUBLE_EQ(rows[0].b, 0.5);
  EXPECT_DOUBLE_EQ(rows[0].diff, 0.25);
  EXPECT_LT(rows[0].ci_low, 0.25);
  EXPECT_GT(rows[0].ci_high, 0.25);
  EXPECT_GT(rows[0].ci_low, 0.15);  // 200 paired items: the interval is narrow
  EXPECT_DOUBLE_EQ(rows[1].diff, 0.0);  // "even": items 0, 2, 4...: b only gains on odd ones (i % 4 == 1)
  auto same = compare_runs(a, a, 500, 1);
  EXPECT_EQ(same[0].ci_low, 0);
  EXPECT_EQ(same[0].ci_high, 0);
}

TEST(JudgeTest, GradesAndCachesJudgments) {
  test::TempDir dir;
  test::ScriptedServer server([](const Json& req, int call) {
    const std::string text = req["messages"][0]["content"].is_string() ? req["messages"][0]["content"].get<std::string>()
                                                                        : req["messages"][0]["content"][0]["text"].get<std::string>();
    EXPECT_NE(text.find("Question | Ground truth | Prediction | Correctness"), std::string::npos);
    EXPECT_NE(text.find("What color? | red | reddish | "), std::string::npos);  // the item's row ends the table
    return test::ScriptedServer::Reply{200, test::ScriptedServer::completion(call == 0 ? "I think so" : "Score: 0.6")};
  });
  ModelOptions o;
  o.model = "judge-model";
  o.endpoint = server.base_url();
  auto model = make_model(o);
  {
    Judge judge(*model, dir.file("cache.jsonl"));
    EXPECT_DOUBLE_EQ(judge.grade("What color?", "red", "reddish"), 0.6);  // the first reply had no score: asked again
    EXPECT_EQ(judge.calls(), 1u);
    EXPECT_DOUBLE_EQ(judge.grade("What color?", "red", "reddish"), 0.6);
    EXPECT_EQ(judge.cache_hits(), 1u);
  }
  Judge again(*model, dir.file("cache.jsonl"));
  EXPECT_DOUBLE_EQ(again.grade("What color?", "red", "reddish"), 0.6);
  EXPECT_EQ(server.calls(), 2);  // nothing new: the cache file answered
  EXPECT_EQ(parse_judge_score("1.0"), 1.0);
  EXPECT_EQ(parse_judge_score("Score: 0.25."), 0.25);
  EXPECT_FALSE(parse_judge_score("7/10 but no").has_value() && *parse_judge_score("7/10 but no") > 1);
  EXPECT_FALSE(parse_judge_score("none").has_value());
}

// A judge that never gives a score is asked five times, hotter each time; the item then scores
// 0 and is counted, and nothing is cached. A prompt of the user's own gets the item filled in
// (or its row appended) and its judgments are kept apart from taco's prompt's.
TEST(JudgeTest, RetriesHotterThenScoresZeroAndTakesTheUsersPrompt) {
  test::TempDir dir;
  std::vector<double> temperatures;
  std::vector<std::string> prompts;
  std::mutex mu;
  test::ScriptedServer server([&](const Json& req, int) {
    std::lock_guard<std::mutex> lock(mu);
    temperatures.push_back(req["temperature"].get<double>());
    prompts.push_back(req["messages"][0]["content"].is_string() ? req["messages"][0]["content"].get<std::string>()
                                                                 : req["messages"][0]["content"][0]["text"].get<std::string>());
    const bool mine = prompts.back().rfind("MINE", 0) == 0;
    return test::ScriptedServer::Reply{200, test::ScriptedServer::completion(mine ? "0.9" : "I cannot grade this.")};
  });
  ModelOptions o;
  o.model = "judge-model";
  o.endpoint = server.base_url();
  auto model = make_model(o);
  Judge stubborn(*model, dir.file("cache.jsonl"));
  EXPECT_EQ(stubborn.grade("q", "r", "a"), 0);
  EXPECT_EQ(stubborn.unusable(), 1u);
  EXPECT_EQ(temperatures, (std::vector<double>{0, 0.5, 1.0, 1.5, 2.0}));
  Judge mine(*model, dir.file("cache.jsonl"), "MINE: {question} / {ground_truth} / {prediction}");
  EXPECT_DOUBLE_EQ(mine.grade("q", "r", "a"), 0.9);  // not answered from a cache of taco's prompt
  EXPECT_EQ(prompts.back(), "MINE: q / r / a");
  Judge official(*model, "", "MINE table\nQuestion | Ground truth | Prediction | Correctness\n");
  official.grade("What is\nshown?", "7", "seven");
  EXPECT_EQ(prompts.back(), "MINE table\nQuestion | Ground truth | Prediction | Correctness\nWhat is shown? | 7 | seven | ");
  Judge again(*model, dir.file("cache.jsonl"));
  EXPECT_EQ(again.grade("q", "r", "a"), 0);  // the unusable grade was not cached: asked again
  EXPECT_EQ(again.unusable(), 1u);
}

// The user message's text of a chat request.
std::string user_text(const Json& req) {
  for (const auto& m : req["messages"])
    if (m["role"] == "user") {
      if (m["content"].is_string()) return m["content"];
      std::string t;
      for (const auto& part : m["content"])
        if (part["type"] == "text") t += part["text"].get<std::string>();
      return t;
    }
  return "";
}

// Offline end to end: a TSV made here, a loopback server playing the model (and the judge),
// `taco eval run` in CoTA and Direct mode, `taco eval score`, `taco eval compare`.
TEST(EvalEndToEndTest, RunScoreCompareOffline) {
  test::TempDir dir;
  const std::string img = png_base64(dir, "7");
  std::vector<std::string> lines = {"index\timage\tquestion\tA\tB\tanswer\tcategory"};
  // Six questions, answer B each; CoTA gets 5 right, Direct 3.
  for (int i = 0; i < 6; ++i)
    lines.push_back(std::to_string(i) + "\t" + img + "\tQuestion " + std::to_string(i) + "?\tcat\tdog\tB\t" +
                    (i < 3 ? "easy" : "hard"));
  const std::string data = write_tsv(dir, "Tiny.tsv", lines);
  test::ScriptedServer server([](const Json& req, int) {
    const std::string text = user_text(req);
    const bool cota = req["messages"][0]["role"] == "system" &&
                      req["messages"][0]["content"].dump().find("Terminate") != std::string::npos;
    int q = text[text.find("Question ") + 9] - '0';
    if (cota) {
      std::string answer = q == 5 ? "A" : "B";
      return test::ScriptedServer::Reply{
          200, test::ScriptedServer::completion("{\"thought\": \"I can see it.\", \"actions\": [{\"name\": \"Terminate\", "
                                                "\"arguments\": {\"answer\": \"" + answer + "\"}}]}")};
    }
    return test::ScriptedServer::Reply{200, test::ScriptedServer::completion(q < 3 ? "B. dog" : "cat")};
  });
  const std::string common = "--data " + data + " --model tiny --endpoint " + server.base_url() + " -q";
  auto cota = test::run_taco("eval run " + common + " --out " + dir.file("cota.jsonl"));
  ASSERT_EQ(cota.code, 0) << cota.output;
  auto direct = test::run_taco("eval run " + common + " --prompt direct --out " + dir.file("direct.jsonl"));
  ASSERT_EQ(direct.code, 0) << direct.output;
  // Resuming asks nothing again.
  int calls = server.calls();
  ASSERT_EQ(test::run_taco("eval run " + common + " --out " + dir.file("cota.jsonl")).code, 0);
  EXPECT_EQ(server.calls(), calls);

  auto s1 = test::run_taco("eval score --data " + data + " --traces " + dir.file("cota.jsonl") + " --name cota");
  ASSERT_EQ(s1.code, 0) << s1.output;
  EXPECT_NE(s1.output.find("| **overall** | 6 | **83.3** |"), std::string::npos) << s1.output;
  EXPECT_NE(s1.output.find("| hard | 3 | 66.7 |"), std::string::npos) << s1.output;
  Json report = Json::parse(read_file(dir.file("cota.report.json")));
  EXPECT_NEAR(report["overall"]["score"].get<double>(), 5.0 / 6, 1e-12);
  EXPECT_EQ(report["tool_use"]["episodes"], 6);
  auto s2 = test::run_taco("eval score --data " + data + " --traces " + dir.file("direct.jsonl"));
  ASSERT_EQ(s2.code, 0) << s2.output;
  EXPECT_NE(s2.output.find("| **overall** | 6 | **50.0** |"), std::string::npos) << s2.output;

  // The same ids in another version of the benchmark: the traces answer other questions.
  std::vector<std::string> changed = lines;
  changed[3] = "2\t" + img + "\tQuestion 2, reworded?\tcat\tdog\tB\teasy";
  const std::string other = write_tsv(dir, "Tiny2.tsv", changed);
  auto mixed = test::run_taco("eval score --data " + other + " --traces " + dir.file("cota.jsonl"));
  EXPECT_EQ(mixed.code, 1) << mixed.output;
  EXPECT_NE(mixed.output.find("these traces were made from another benchmark"), std::string::npos) << mixed.output;
  EXPECT_NE(mixed.output.find("Question 2, reworded?"), std::string::npos) << mixed.output;

  auto cmp = test::run_taco("eval compare " + dir.file("direct.scores.jsonl") + " " + dir.file("cota.scores.jsonl") +
                            " --names direct,cota --out " + dir.file("cmp.md"));
  ASSERT_EQ(cmp.code, 0) << cmp.output;
  EXPECT_NE(cmp.output.find("| **overall** | 6 | 50.0 | 83.3 | +33.3 |"), std::string::npos) << cmp.output;
  EXPECT_TRUE(Json::parse(read_file(dir.file("cmp.json")))["rows"].is_array());

  // An MMVet-style free-form set scored by the judge, which the same server plays.
  const std::string mmvet = write_tsv(dir, "MMVet.tsv", {"index\timage\tquestion\tanswer\tcategory", "0\t" + img +
                                                                                                        "\tWhat number is shown?\t7\tocr"});
  test::ScriptedServer judge([](const Json& req, int) {
    const bool grading = user_text(req).find("| Correctness") != std::string::npos;
    return test::ScriptedServer::Reply{200, test::ScriptedServer::completion(grading ? "0.5" : "{\"thought\": \"t\", \"actions\": [{\"name\": \"Terminate\", \"arguments\": {\"answer\": \"seven\"}}]}")};
  });
  ASSERT_EQ(test::run_taco("eval run --data " + mmvet + " --model m --endpoint " + judge.base_url() + " -q --out " +
                           dir.file("mmvet.jsonl"))
                .code,
            0);
  auto no_judge = test::run_taco("eval score --data " + mmvet + " --traces " + dir.file("mmvet.jsonl"));
  EXPECT_EQ(no_judge.code, 1);
  EXPECT_NE(no_judge.output.find("give --judge"), std::string::npos) << no_judge.output;
  auto judged = test::run_taco("eval score --data " + mmvet + " --traces " + dir.file("mmvet.jsonl") + " --judge-model j " +
                               "--judge-endpoint " + judge.base_url());
  ASSERT_EQ(judged.code, 0) << judged.output;
  EXPECT_NE(judged.output.find("| **overall** | 1 | **50.0** |"), std::string::npos) << judged.output;
  EXPECT_NE(judged.output.find("1 calls, 0 from the cache"), std::string::npos) << judged.output;
  auto cached = test::run_taco("eval score --data " + mmvet + " --traces " + dir.file("mmvet.jsonl") + " --judge-model j " +
                               "--judge-endpoint " + judge.base_url());
  EXPECT_NE(cached.output.find("0 calls, 1 from the cache"), std::string::npos) << cached.output;
  // The cache is the judge model's, not the run's: another run with the same answer costs no call.
  write_file(dir.file("rerun.jsonl"), read_file(dir.file("mmvet.jsonl")));
  auto other_run = test::run_taco("eval score --data " + mmvet + " --traces " + dir.file("rerun.jsonl") + " --judge-model j " +
                                  "--judge-endpoint " + judge.base_url());
  EXPECT_NE(other_run.output.find("0 calls, 1 from the cache"), std::string::npos) << other_run.output;
}

// `taco eval --model M --data NAME...`: benchmarks found by name in $LMUData, run and scored into
// a folder per model and benchmark; results already there are refused without --reuse.
TEST(EvalEndToEndTest, OneCommandWithNamedBenchmarks) {
  test::TempDir dir;
  const std::string img = png_base64(dir, "7");
  std::filesystem::create_directories(dir.file("LMUData"));
  std::vector<std::string> lines = {"index\timage\tquestion\tA\tB\tanswer\tcategory"};
  for (int i = 0; i < 4; ++i) lines.push_back(std::to_string(i) + "\t" + img + "\tQuestion " + std::to_string(i) + "?\tcat\tdog\tB\tall");
  write_tsv(dir, "LMUData/Tiny.tsv", lines);
  write_tsv(dir, "LMUData/Small.tsv", {lines[0], lines[1], lines[2]});
  test::ScriptedServer server([](const Json& req, int) {
    const std::string text = user_text(req);
    const std::string answer = text[text.find("Question ") + 9] == '0' ? "A" : "B";  // the first question wrong
    return test::ScriptedServer::Reply{200, test::ScriptedServer::completion("{\"thought\": \"t\", \"actions\": [{\"name\": "
                                                                             "\"Terminate\", \"arguments\": {\"answer\": \"" + answer + "\"}}]}")};
  });
  const std::string taco = "LMUData=" + dir.file("LMUData") + " " + std::string(TACO_BINARY);
  test::CliResult list = test::run_command(taco + " eval list");
  EXPECT_EQ(list.code, 0) << list.output;
  EXPECT_NE(list.output.find("Small"), std::string::npos) << list.output;
  EXPECT_NE(list.output.find("2 benchmarks in " + dir.file("LMUData")), std::string::npos) << list.output;

  const std::string all = taco + " eval --model tiny --endpoint " + server.base_url() + " --data Tiny Small -q --work-dir " +
                          dir.file("outputs");
  test::CliResult first = test::run_command(all);
  ASSERT_EQ(first.code, 0) << first.output;
  EXPECT_NE(first.output.find("Tiny                            4    75.0%  " + dir.file("outputs/tiny/Tiny/tiny_Tiny.report.md")),
            std::string::npos) << first.output;
  EXPECT_NE(first.output.find("Small                           2    50.0%"), std::string::npos) << first.output;
  EXPECT_EQ(load_item_scores(dir.file("outputs/tiny/Tiny/tiny_Tiny.scores.jsonl")).size(), 4u);
  const int calls = server.calls();

  test::CliResult again = test::run_command(all);
  EXPECT_EQ(again.code, 1);
  EXPECT_NE(again.output.find("tiny_Tiny.jsonl is there from an earlier run: --reuse resumes it"), std::string::npos) << again.output;
  test::CliResult reused = test::run_command(all + " --reuse");
  EXPECT_EQ(reused.code, 0) << reused.output;
  EXPECT_NE(reused.output.find("75.0%"), std::string::npos) << reused.output;
  EXPECT_EQ(server.calls(), calls);  // a finished run asks nothing again

  // The pieces take names too; a name that is not there gets the nearest.
  test::CliResult run = test::run_command(taco + " eval run --data Small --model tiny --endpoint " + server.base_url() + " -q --out " +
                                 dir.file("small.jsonl"));
  EXPECT_EQ(run.code, 0) << run.output;
  test::CliResult score = test::run_command(taco + " eval score --data Small --traces " + dir.file("small.jsonl"));
  EXPECT_NE(score.output.find("| **overall** | 2 | **50.0** |"), std::string::npos) << score.output;
  test::CliResult typo = test::run_command(taco + " eval --model tiny --data Tinny");
  EXPECT_EQ(typo.code, 1);
  EXPECT_NE(typo.output.find("no benchmark Tinny: neither a file nor Tinny.tsv in $LMUData (" + dir.file("LMUData") +
                             "); did you mean Tiny?"),
            std::string::npos) << typo.output;
  EXPECT_EQ(server.calls(), calls + 2);
  test::CliResult half = test::run_command(taco + " eval --model tiny");
  EXPECT_EQ(half.code, 1);
  EXPECT_NE(half.output.find("given both --model and --data"), std::string::npos) << half.output;
}

}  // namespace
}  // namespace taco
