// Curation: filters, quotas, proportions and determinism over trace files the test writes.
#include "curate/curate.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>

#include "cota/trace.h"
#include "util/base64.h"
#include "test_support.h"
#include "util/error.h"
#include "util/files.h"
#include "util/jsonl.h"

namespace taco {
namespace {

// A trace with `tools` called before Terminate; variant cota/cot/direct.
Json make_trace(const std::string& id, const std::vector<std::string>& tools, const std::string& variant = "cota",
                const std::string& source = "s", std::optional<bool> correct = std::nullopt, const std::string& error_kind = "") {
  Trace t;
  t.task.id = id;
  t.task.question = "question " + id;
  t.task.images = {"img.png"};
  t.task.metadata = Json{{"source", source}, {"variant", variant}};
  for (const auto& tool : tools) {
    StepRecord s;
    s.content = StepContent{"use " + tool, {Action{tool, Json::object()}}};
    s.raw = "{\"thought\": \"use " + tool + "\"}";
    s.error_kind = error_kind;
    s.error = error_kind.empty() ? "" : "failed";
    t.steps.push_back(s);
  }
  StepRecord end;
  end.content = StepContent{"", {Action{"Terminate", Json{{"answer", "a"}}}}};
  end.raw = "{\"answer\": \"a\"}";
  t.steps.push_back(end);
  t.status = TraceStatus::kTerminated;
  t.answer = "a";
  if (correct) t.verification = Json{{"correct", *correct}, {"split", *correct ? "correct_with_tools" : "incorrect"}};
  return t.to_json();
}

std::vector<std::string> ids_in(const std::string& path) {
  std::vector<std::string> ids;
  for_each_jsonl(path, [&](size_t, Json&& j) { ids.push_back(j["id"]); });
  return ids;
}

void write_lines(const std::string& path, const std::vector<Json>& records) {
  std::string text;
  for (const auto& r : records) text += r.dump() + "\n";
  write_file(path, text);
}

TEST(CurateTest, FiltersRemoveWhatTheySayAndReportIt) {
  test::TempDir dir;
  write_lines(dir.file("a.jsonl"), {make_trace("ok", {"OCR"}), make_trace("wrong", {"OCR"}, "cota", "s", false),
                                    make_trace("right", {"OCR"}, "cota", "s", true), make_trace("noparse", {"OCR"}, "cota", "s", {}, "json"),
                                    make_trace("failed", {"OCR"}, "cota", "s", {}, "tool"), make_trace("short", {}),
                                    make_trace("calc", {"Calculate", "OCR"}), make_trace("ok", {"OCR"})});
  std::string text = read_file(dir.file("a.jsonl")) + "{not json\n{\"format\": \"other\"}\n";
  write_file(dir.file("a.jsonl"), text);
  Recipe r;
  r.sources.push_back(RecipeSource{"a", dir.file("a.jsonl"), {}, {}, false});
  r.filters.correct_only = r.filters.parsed = r.filters.no_failed_action = r.filters.dedupe = true;
  r.filters.min_steps = 2;
  r.filters.tools_forbidden = {"Calculate"};
  CurateReport rep = run_curate(r, dir.file("out.jsonl"), false);
  auto ids = ids_in(dir.file("out.jsonl"));
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::string>{"ok", "right"}));
  std::map<std::string, size_t> removed(rep.removed.begin(), rep.removed.end());
  EXPECT_EQ(removed["malformed"], 2u);
  EXPECT_EQ(removed["incorrect"], 1u);
  EXPECT_EQ(removed["unparsed reply"], 1u);
  EXPECT_EQ(removed["failed action"], 1u);
  EXPECT_EQ(removed["too few steps"], 1u);
  EXPECT_EQ(removed["forbidden tool"], 1u);
  EXPECT_EQ(removed["duplicate"], 1u);
  EXPECT_EQ(rep.input, 10u);
  EXPECT_EQ(rep.kept, 2u);
  EXPECT_EQ(rep.kept_per_tool["OCR"], 2u);
  EXPECT_EQ(rep.warnings.size(), 2u);
  EXPECT_NE(rep.to_markdown().find("| duplicate | 1 |"), std::string::npos);
}

TEST(CurateTest, QuotasProportionsAndSeedDecideTheMixDeterministically) {
  test::TempDir dir;
  std::vector<Json> human, synthetic;
  for (int i = 0; i < 300; ++i) {
    human.push_back(make_trace("h" + std::to_string(i), {"OCR"}, i % 3 == 0 ? "direct" : "cota", "vqa"));
    synthetic.push_back(make_trace("g" + std::to_string(i), {"LocalizeObjects"}, "cota", "synth"));
  }
  write_lines(dir.file("human.jsonl"), human);
  write_lines(dir.file("synth.jsonl"), synthetic);
  Json recipe = Json::parse(R"({"seed": 7, "target_size": 100, "programmatic_share": 0.3,
      "formats": {"cota": 3, "direct": 1},
      "sources": [{"name": "human", "path": "human.jsonl"}, {"name": "synthetic", "path": "synth.jsonl", "programmatic": true}]})");
  Recipe r = Recipe::from_json(recipe, dir.path());
  ASSERT_EQ(r.source_quotas()[0], 70u);
  ASSERT_EQ(r.source_quotas()[1], 30u);
  CurateReport rep = run_curate(r, dir.file("out.jsonl"), false);
  // human: 70 split 3:1 -> 53 CoTA (of 200) + 18 Direct (of 100); synthetic: 30 -> 23 CoTA, 8 Direct wanted, none there.
  EXPECT_EQ(rep.kept_per_source["human"], 53u + 18u);
  EXPECT_EQ(rep.kept_per_source["synthetic"], 23u);
  EXPECT_EQ(rep.kept_per_format["direct"], 18u);
  // Input order does not matter; another seed picks other traces.
  std::shuffle(human.begin(), human.end(), std::mt19937(3));
  write_lines(dir.file("human.jsonl"), human);
  run_curate(r, dir.file("again.jsonl"), false);
  EXPECT_EQ(read_file(dir.file("again.jsonl")), read_file(dir.file("out.jsonl")));
  r.seed = 8;
  run_curate(r, dir.file("other.jsonl"), false);
  EXPECT_NE(ids_in(dir.file("other.jsonl")), ids_in(dir.file("out.jsonl")));
  EXPECT_EQ(ids_in(dir.file("other.jsonl")).size(), ids_in(dir.file("out.jsonl")).size());
}

TEST(CurateTest, RecipesAreCheckedAndImagesCanBeRequired) {
  test::TempDir dir;
  EXPECT_THROW(Recipe::from_json(Json::parse(R"({"sources": []})"), ""), Error);
  EXPECT_THROW(Recipe::from_json(Json::parse(R"({"sources": [{"path": "x"}], "filterz": {}})"), ""), Error);
  EXPECT_THROW(Recipe::from_json(Json::parse(R"({"sources": [{"path": "x"}], "formats": {"cotb": 1}})"), ""), Error);
  EXPECT_THROW(Recipe::from_json(Json::parse(R"({"sources": [{"path": "x"}], "filters": {"min_steps": "two"}})"), ""), Error);
  Recipe missing;
  missing.sources.push_back(RecipeSource{"m", dir.file("none.jsonl"), {}, {}, false});
  EXPECT_THROW(run_curate(missing, dir.file("o.jsonl"), false), Error);

  test::write_test_image(dir.file("img.png"));
  Json here = make_trace("here", {"OCR"}), gone = make_trace("gone", {"OCR"});
  here["task"]["images"] = {dir.file("img.png")};
  gone["task"]["images"] = {dir.file("nope.png")};
  write_lines(dir.file("t.jsonl"), {here, gone});
  Recipe r;
  r.sources.push_back(RecipeSource{"t", dir.file("t.jsonl"), {}, {}, false});
  r.filters.images_present = true;
  run_curate(r, dir.file("o.jsonl"), false);
  EXPECT_EQ(ids_in(dir.file("o.jsonl")), std::vector<std::string>{"here"});
}

// Targets no data could meet are refused when the recipe is read; a run that keeps nothing of
// what the recipe asks for is refused and writes nothing; a shortfall is a warning in the report.
TEST(CurateTest, ImpossibleTargetsAreRefused) {
  auto refusal = [](const char* recipe) -> std::string {
    try {
      Recipe::from_json(Json::parse(recipe), "");
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(refusal(R"({"target_size": 0, "sources": [{"path": "x"}]})").find("target_size 0"), std::string::npos);
  EXPECT_NE(refusal(R"({"target_size": 10, "sources": [{"path": "x", "count": 8}, {"path": "y", "count": 5}]})").find("add up to 13"),
            std::string::npos);
  EXPECT_NE(refusal(R"({"target_size": 10, "sources": [{"path": "x", "count": 8}, {"path": "y", "weight": 0}]})").find("no source has a weight"),
            std::string::npos);
  EXPECT_NE(refusal(R"({"programmatic_share": 0.2, "sources": [{"path": "x"}]})").find("no source is"), std::string::npos);

  test::TempDir dir;
  write_lines(dir.file("t.jsonl"), {make_trace("a", {"OCR"}), make_trace("b", {"OCR"})});
  write_file(dir.file("o.jsonl"), "previous\n");
  Recipe none = Recipe::from_json(Json::parse(R"({"sources": [{"path": "t.jsonl", "count": 2}], "filters": {"min_steps": 50}})"), dir.path());
  EXPECT_THROW(run_curate(none, dir.file("o.jsonl"), false), Error);
  EXPECT_EQ(read_file(dir.file("o.jsonl")), "previous\n");
  Recipe more = Recipe::from_json(Json::parse(R"({"target_size": 5, "sources": [{"path": "t.jsonl"}]})"), dir.path());
  CurateReport rep = run_curate(more, dir.file("o.jsonl"), false);
  EXPECT_EQ(rep.kept, 2u);
  EXPECT_NE(rep.to_markdown().find("warning: short of the recipe: target_size 5, 2 traces"), std::string::npos) << rep.to_markdown();
}

// The ready recipes in recipes/ stay loadable.
// Decontamination: traces that share an input image (the same file, or the same picture
// re-encoded and resized) or a specific question with a benchmark item are dropped and
// counted; a training set from other scenes loses nothing.
TEST(CurateTest, ExcludeDropsWhatSharesAnImageOrAQuestionWithABenchmark) {
  test::TempDir dir;
  ASSERT_EQ(test::run_taco("synth -q --n 12 --seed 1 --out " + dir.file("train-world")).code, 0);
  ASSERT_EQ(test::run_taco("synth -q --n 6 --seed 1000 --out " + dir.file("bench-world")).code, 0);
  ASSERT_EQ(test::run_taco("gen -q --data " + dir.file("train-world/scene-graph-annotations.json") +
                           " --format trace --no-direct --no-images --out " + dir.file("train.jsonl")).code, 0);
  ASSERT_EQ(test::run_taco("gen -q --data " + dir.file("bench-world/scene-graph-annotations.json") +
                           " --format trace --no-direct --no-images --out " + dir.file("leaked.jsonl")).code, 0);
  // A VLMEvalKit TSV in $LMUData: one item, a scene of the benchmark world as base64, a
  // question of its own.
  const std::string scene = dir.file("bench-world/images/1000-0.png");
  std::filesystem::create_directories(dir.file("LMUData"));
  const std::string question = "What colour is the largest object standing near the left edge?";
  write_file(dir.file("LMUData/Leaky.tsv"),
             "index\timage\tquestion\tA\tB\tanswer\n0\t" + base64_encode(read_file(scene)) + "\t" + question + "\tred\tblue\tA\n");
  // Training traces of other scenes with what leaked: the TSV's picture re-encoded at 3/4 size,
  // and the TSV's question.
  cv::Mat picture = cv::imread(scene), smaller;
  cv::resize(picture, smaller, cv::Size(), 0.75, 0.75, cv::INTER_AREA);
  cv::imwrite(dir.file("copy.jpg"), smaller, {cv::IMWRITE_JPEG_QUALITY, 70});
  std::vector<Json> train;
  for_each_jsonl(dir.file("train.jsonl"), [&](size_t, Json&& j) { train.push_back(j); });
  ASSERT_GE(train.size(), 3u);
  Json similar = train[0], asked = train[1];
  similar["id"] = similar["task"]["id"] = "similar";
  similar["task"]["images"][0] = dir.file("copy.jpg");
  asked["id"] = asked["task"]["id"] = "asked";
  asked["task"]["question"] = "What colour is the largest object, standing near the LEFT edge?";  // case and punctuation aside
  write_file(dir.file("extra.jsonl"), similar.dump() + "\n" + asked.dump() + "\n");
  size_t leaked = 0;
  for_each_jsonl(dir.file("leaked.jsonl"), [&](size_t, Json&&) { ++leaked; });

  const std::string taco = "LMUData=" + dir.file("LMUData") + " " + std::string(TACO_BINARY);
  auto clean = test::run_command(taco + " curate -q " + dir.file("train.jsonl") + " --exclude Leaky " + dir.file("leaked.jsonl") +
                                 " --out " + dir.file("clean.jsonl"));
  // leaked.jsonl as a benchmark: a trace file is not one.
  EXPECT_EQ(clean.code, 1) << clean.output;
  ASSERT_EQ(test::run_taco("gen -q --data " + dir.file("bench-world/scene-graph-annotations.json") + " --format tasks --seed 1000 --out " +
                           dir.file("bench.jsonl")).code, 0);
  auto run = [&](const std::string& by) {
    return test::run_command(taco + " curate -q " + dir.file("train.jsonl") + " " + dir.file("leaked.jsonl") + " " +
                             dir.file("extra.jsonl") + " --exclude Leaky " + dir.file("bench.jsonl") + by + " --out " +
                             dir.file("clean.jsonl"));
  };
  auto by_image = run(" --exclude-by image");
  ASSERT_EQ(by_image.code, 0) << by_image.output;
  Json report = Json::parse(read_file(dir.file("clean.report.json")))["decontamination"];
  EXPECT_EQ(report["benchmarks"], Json::array({"Leaky", "bench"}));
  EXPECT_EQ(report["dropped_per_kind"]["image"], leaked);  // every trace of the benchmark's scenes
  EXPECT_EQ(report["dropped_per_kind"]["similar image"], 1);
  EXPECT_FALSE(report["dropped_per_kind"].contains("question"));
  EXPECT_NE(by_image.output.find("Decontamination against Leaky, bench"), std::string::npos) << by_image.output;
  size_t kept = 0;
  for_each_jsonl(dir.file("clean.jsonl"), [&](size_t, Json&& j) {
    ++kept;
    EXPECT_NE(j["id"], "similar");
  });
  EXPECT_EQ(kept, train.size() + 1);  // the other scenes' traces all stay, and the one that only asks

  // By question too: the one that asks the TSV's question goes (and, here, traces of other
  // scenes whose template question the synthetic benchmark asks once).
  auto both = run("");
  ASSERT_EQ(both.code, 0) << both.output;
  report = Json::parse(read_file(dir.file("clean.report.json")))["decontamination"];
  EXPECT_GE(report["dropped_per_kind"]["question"].get<size_t>(), 1u);
  for_each_jsonl(dir.file("clean.jsonl"), [&](size_t, Json&& j) { EXPECT_NE(j["id"], "asked"); });
}

TEST(CurateTest, ShippedRecipesLoad) {
  for (const char* name : {"cota-only", "cota-direct", "with-programmatic"}) {
    Recipe r = Recipe::load(std::string(TACO_SOURCE_DIR) + "/recipes/" + name + ".json");
    EXPECT_FALSE(r.sources.empty()) << name;
    EXPECT_TRUE(r.filters.correct_only) << name;
  }
  Recipe p = Recipe::load(std::string(TACO_SOURCE_DIR) + "/recipes/with-programmatic.json");
  auto q = p.source_quotas();
  EXPECT_EQ(q[1], 0u);                     // the CoT file informs the rule only
  EXPECT_EQ(*q[0], 293000u * 8 / 10);      // the model-based share
  EXPECT_EQ(*q[2] + *q[3], 293000u * 2 / 10);
}

}  // namespace
}  // namespace taco
