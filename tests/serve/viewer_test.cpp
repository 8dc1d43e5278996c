// The trace viewer's data side: paging, search and scores over an indexed file, traces and
// their images over HTTP.
#include "serve/viewer.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "cota/trace.h"
#include "eval/score.h"
#include "serve/http_server.h"
#include "test_support.h"
#include "util/base64.h"
#include "util/error.h"
#include "util/files.h"

namespace taco {
namespace {

// A trace file of `n` episodes in dir/runs/, each with its input image and, for even ones, a
// tool image saved beside the file; scores mark the multiples of three right, another run's
// (other.scores.jsonl) the even ones; categories: "even" and "odd".
void write_traces(const test::TempDir& dir, int n) {
  make_dirs(dir.file("runs/t.images"));
  const std::string input = test::write_test_image(dir.file("runs/input.png"), 40, 30);
  std::string lines, scores, other;
  for (int i = 0; i < n; ++i) {
    Trace t;
    t.task.id = "q" + std::to_string(i);
    t.task.question = i == 7 ? "How many zebras are there?" : "What is " + std::to_string(i) + " + 1?";
    t.task.images = {input};
    t.model = "m";
    t.status = TraceStatus::kTerminated;
    t.answer = std::to_string(i + 1);
    StepRecord s;
    s.raw = "{}";
    s.content = StepContent{"add", {Action{"Calculate", Json{{"expression", std::to_string(i) + "+1"}}}}};
    s.observation = Json{{"result", i + 1}};
    if (i % 2 == 0) s.new_images = {"image-1"};
    t.steps.push_back(s);
    t.images.push_back(TraceImage{"image-0", input, "input", 40, 30});
    if (i % 2 == 0) {
      const std::string made = test::write_test_image(dir.file("runs/t.images/q" + std::to_string(i) + "-1.png"), 20, 20);
      t.images.push_back(TraceImage{"image-1", made, "ZoomIn", 20, 20});
    }
    lines += t.to_json_in(dir.file("runs/t.jsonl")).dump() + "\n";
    const std::string category = i % 2 == 0 ? "even" : "odd";
    scores += Json{{"id", t.task.id}, {"category", category}, {"score", i % 3 == 0 ? 1.0 : 0.0}, {"reference", std::to_string(i + 1)}}.dump() + "\n";
    other += Json{{"id", t.task.id}, {"category", category}, {"score", i % 2 == 0 ? 1.0 : 0.0}}.dump() + "\n";
  }
  write_file(dir.file("runs/other.scores.jsonl"), other);
  write_file(dir.file("runs/t.jsonl"), lines + "\n");  // a blank line is no episode
  write_file(dir.file("runs/t.scores.jsonl"), scores);
}

// `viewer` over HTTP on a free loopback port, until the object goes away.
struct ServedViewer {
  explicit ServedViewer(const TraceViewer& viewer) : http(quiet()) {
    viewer.mount(http);
    port = http.bind("127.0.0.1", 0);
    serving = std::thread([this] { http.serve(); });
  }
  ~ServedViewer() {
    http.stop();
    serving.join();
  }
  static HttpLimits quiet() {
    HttpLimits l;
    l.access_log = false;
    return l;
  }
  HttpServer http;
  int port = 0;
  std::thread serving;
};

TEST(ViewerTest, PagesSearchAndScoresOverAnIndexedFile) {
  test::TempDir dir;
  write_traces(dir, 120);
  TraceViewer viewer(dir.file("runs/t.jsonl"), dir.file("runs/t.scores.jsonl"));
  EXPECT_EQ(viewer.size(), 120u);
  Json first = viewer.page(0, 50, "", "");
  EXPECT_EQ(first["total"], 120);
  ASSERT_EQ(first["episodes"].size(), 50u);
  EXPECT_EQ(first["episodes"][0]["id"], "q0");
  EXPECT_EQ(first["episodes"][0]["tools"], Json({"Calculate"}));
  EXPECT_EQ(first["episodes"][0]["score"], 1.0);
  EXPECT_EQ(viewer.page(100, 50, "", "")["episodes"].size(), 20u);
  Json zebras = viewer.page(0, 50, "ZEBRA", "");
  ASSERT_EQ(zebras["total"], 1);
  EXPECT_EQ(zebras["episodes"][0]["id"], "q7");
  EXPECT_EQ(viewer.page(0, 500, "", "yes")["total"], 40);   // 0, 3, ..., 117
  EXPECT_EQ(viewer.page(0, 500, "", "no")["total"], 80);
  EXPECT_EQ(viewer.trace(5)["answer"], "6");
  EXPECT_THROW(viewer.trace(120), Error);
  // Images resolve from the file's folder, whatever the working folder.
  EXPECT_EQ(read_file(viewer.image_path(4, 1)), read_file(dir.file("runs/t.images/q4-1.png")));
  EXPECT_THROW(viewer.image_path(5, 1), Error);
}

// The report: each run overall and per category with bootstrap intervals; two runs' paired
// difference as taco eval compare computes it; scores of other traces refused.
TEST(ViewerTest, TheReportOfOneRunOrTwoCompared) {
  test::TempDir dir;
  write_traces(dir, 120);
  const Json one = TraceViewer(dir.file("runs/t.jsonl"), dir.file("runs/t.scores.jsonl")).report();
  ASSERT_EQ(one["runs"].size(), 1u);
  EXPECT_EQ(one["runs"][0]["name"], "t");
  EXPECT_NEAR(one["runs"][0]["overall"]["score"].get<double>(), 40.0 / 120, 1e-9);
  EXPECT_LT(one["runs"][0]["overall"]["low"].get<double>(), 40.0 / 120);
  EXPECT_GT(one["runs"][0]["overall"]["high"].get<double>(), 40.0 / 120);
  ASSERT_EQ(one["runs"][0]["categories"].size(), 2u);
  EXPECT_EQ(one["runs"][0]["categories"][0]["category"], "even");
  EXPECT_EQ(one["runs"][0]["categories"][0]["n"], 60);
  EXPECT_FALSE(one.contains("comparison"));

  const Json two = TraceViewer(dir.file("runs/t.jsonl"), dir.file("runs/t.scores.jsonl"), dir.file("runs/other.scores.jsonl"),
                               {"cota", "direct"}).report();
  ASSERT_EQ(two["runs"].size(), 2u);
  EXPECT_EQ(two["runs"][1]["name"], "direct");
  EXPECT_DOUBLE_EQ(two["runs"][1]["overall"]["score"].get<double>(), 0.5);
  const Json& overall = two["comparison"]["rows"][0];
  EXPECT_EQ(overall["category"], "overall");
  EXPECT_NEAR(overall["difference"].get<double>(), 40.0 / 120 - 0.5, 1e-9);  // this run minus the other
  // The same rows as taco eval compare writes (direct first: the difference is cota - direct).
  const Json compared = comparison_json("direct", "cota",
                                        compare_runs(load_item_scores(dir.file("runs/other.scores.jsonl")),
                                                     load_item_scores(dir.file("runs/t.scores.jsonl"))));
  EXPECT_EQ(two["comparison"], compared);
  const Json& odd = two["comparison"]["rows"][2];
  EXPECT_EQ(odd["category"], "odd");
  EXPECT_GT(odd["ci_low"].get<double>(), 0) << "odd items: 1/3 right against none";

  // Scores that belong to other traces would mark the wrong episodes: refused.
  write_file(dir.file("stranger.scores.jsonl"), Json{{"id", "zz"}, {"score", 1.0}}.dump() + "\n");
  try {
    TraceViewer(dir.file("runs/t.jsonl"), dir.file("stranger.scores.jsonl"));
    ADD_FAILURE() << "scores of other traces were taken";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("scores none of the first 50 episodes"), std::string::npos) << e.what();
  }
  EXPECT_THROW(TraceViewer(dir.file("runs/t.jsonl"), "", dir.file("runs/other.scores.jsonl")), Error);
}

TEST(ViewerTest, TheApiAndThePageOverHttp) {
  test::TempDir dir;
  write_traces(dir, 3);
  TraceViewer viewer(dir.file("runs/t.jsonl"), "");
  ServedViewer served(viewer);
  httplib::Client c("127.0.0.1", served.port);
  auto page = c.Get("/");
  ASSERT_TRUE(page);
  EXPECT_NE(page->body.find("<title>taco traces</title>"), std::string::npos);
  EXPECT_EQ(page->body.find("http"), std::string::npos) << "the page must load nothing from the network";
  Json list = Json::parse(c.Get("/api/episodes?limit=2")->body);
  EXPECT_EQ(list["total"], 3);
  EXPECT_EQ(list["episodes"].size(), 2u);
  EXPECT_FALSE(list["scored"]);
  EXPECT_EQ(Json::parse(c.Get("/api/episodes/2")->body)["id"], "q2");
  auto image = c.Get("/api/episodes/2/images/1");
  EXPECT_EQ(image->status, 200);
  EXPECT_EQ(image->get_header_value("Content-Type"), "image/png");
  EXPECT_EQ(c.Get("/api/episodes/9")->status, 404);
  EXPECT_EQ(c.Get("/api/episodes/1/images/1")->status, 404);
}

// A taco rl run's metrics for the training page: its lines as they are (a line being written,
// or garbage, left out), read afresh at each request; none without a file.
TEST(ViewerTest, TheTrainingCurvesOfAnRlRun) {
  test::TempDir dir;
  write_traces(dir, 3);
  TraceViewer viewer(dir.file("runs/t.jsonl"), "");
  EXPECT_EQ(viewer.training(), Json({{"steps", Json::array()}}));
  write_file(dir.file("runs/metrics.jsonl"), Json{{"step", 1}, {"reward", 0.25}, {"accuracy", 0.25}}.dump() + "\nnot json\n[1, 2]\n" +
                                                 Json{{"step", 2}, {"reward", 0.5}, {"accuracy", 0.5}}.dump() + "\n{\"step\": 3, \"rew");
  viewer.set_training_metrics(dir.file("runs/metrics.jsonl"));
  ServedViewer served(viewer);
  httplib::Client c("127.0.0.1", served.port);
  Json t = Json::parse(c.Get("/api/training")->body);
  ASSERT_EQ(t["steps"].size(), 2u);
  EXPECT_EQ(t["steps"][1]["reward"], 0.5);
  std::ofstream(dir.file("runs/metrics.jsonl"), std::ios::app) << "ard\": 0.75, \"accuracy\": 1}\n";
  t = Json::parse(c.Get("/api/training")->body);
  ASSERT_EQ(t["steps"].size(), 3u);  // the run went on
  EXPECT_EQ(t["steps"][2]["step"], 3);
  EXPECT_NE(c.Get("/")->body.find("trainingPage"), std::string::npos);
}

// A trace can name any path as an image: only regular image files under the allowed roots
// (the traces' folder, the working folder, --allowed-root), links resolved, are ever served.
TEST(ViewerTest, ServesNoFileATraceNamesOutsideTheAllowedRoots) {
  test::TempDir dir;
  make_dirs(dir.file("runs"));
  make_dirs(dir.file("elsewhere"));
  const std::string good = test::write_test_image(dir.file("runs/good.png"), 20, 20);
  const std::string outside = test::write_test_image(dir.file("elsewhere/outside.png"), 20, 20);
  write_file(dir.file("runs/notes.png"), "not an image at all");
  std::filesystem::create_symlink("/etc/passwd", dir.file("runs/passwd.png"));
  std::filesystem::create_symlink(outside, dir.file("runs/link-out.png"));
  const std::vector<std::string> paths = {good,          "/etc/passwd",        "../../../../../../etc/passwd", dir.file("runs/passwd.png"),
                                          "/proc/self/environ", "/dev/zero",   dir.file("runs/notes.png"),    dir.file("runs/link-out.png"),
                                          outside,       dir.file("runs")};
  std::string lines;
  for (size_t i = 0; i < paths.size(); ++i)
    lines += Json{{"id", "t" + std::to_string(i)}, {"images", {{{"name", "image-0"}, {"path", paths[i]}, {"source", "input"}}}}}.dump() + "\n";
  write_file(dir.file("runs/t.jsonl"), lines);

  TraceViewer viewer(dir.file("runs/t.jsonl"), "");
  std::string type;
  EXPECT_EQ(viewer.image_bytes(0, 0, type), read_file(good));
  EXPECT_EQ(type, "image/png");
  auto refusal = [&](size_t n) {
    try {
      viewer.image_bytes(n, 0, type);
      return std::string("served");
    } catch (const Error& e) {
      return std::string(e.what());
    }
  };
  const std::string outside_roots = "outside the allowed roots (TraceViewer.allowed_roots DIR)";
  for (size_t n : {1, 2, 3, 4, 5, 7, 8}) EXPECT_EQ(refusal(n), outside_roots) << paths[n];
  EXPECT_NE(refusal(6).find("not an image file"), std::string::npos) << refusal(6);  // inside, but not an image
  EXPECT_NE(refusal(9).find("not an image file"), std::string::npos) << refusal(9);  // a folder

  // --allowed-root adds a folder; what it holds is then served, and only that.
  viewer.allow_root(dir.file("elsewhere"));
  EXPECT_EQ(viewer.image_bytes(8, 0, type), read_file(outside));
  EXPECT_EQ(viewer.image_bytes(7, 0, type), read_file(outside));
  EXPECT_EQ(refusal(1), outside_roots);

  // Over HTTP: a 404 with the reason, never the file.
  ServedViewer served(viewer);
  httplib::Client c("127.0.0.1", served.port);
  auto shadow = c.Get("/api/episodes/1/images/0");
  ASSERT_TRUE(shadow);
  EXPECT_EQ(shadow->status, 404);
  EXPECT_EQ(shadow->body.find("root:"), std::string::npos);
  EXPECT_EQ(Json::parse(shadow->body)["error"]["message"], outside_roots);
  EXPECT_EQ(c.Get("/api/episodes/0/images/0")->status, 200);
}

// Summaries are rows of a table: whatever a trace holds, a page of them stays small, and an
// episode over the record limit is refused rather than read whole.
TEST(ViewerTest, APageOfSummariesStaysSmallWhateverTheTracesHold) {
  test::TempDir dir;
  const std::string huge(100000, 'x');
  std::string lines;
  for (int i = 0; i < 60; ++i)
    lines += Json{{"id", "t" + std::to_string(i)}, {"task", {{"question", huge}}}, {"answer", huge}}.dump() + "\n";
  write_file(dir.file("t.jsonl"), lines);
  TraceViewer viewer(dir.file("t.jsonl"), "");
  const Json page = viewer.page(0, 500, "", "");
  EXPECT_EQ(page["episodes"].size(), 60u);
  EXPECT_LT(page.dump().size(), 80000u);  // 12 MB before summaries were cut
  EXPECT_EQ(page["episodes"][3]["id"], "t3");
  EXPECT_EQ(viewer.trace(3)["answer"].get<std::string>().size(), huge.size());  // the whole trace is one click away
}

// Debian's chromium through playwright-core (npm, tests/js) on `taco view` started as users
// start it: the table, an episode's steps and images, a search.
TEST(ViewerTest, ABrowserShowsTheTableAnEpisodeAndItsImages) {
  const std::string js = std::string(TACO_SOURCE_DIR) + "/tests/js";
  if (test::run_command("node --version").code != 0 || !std::filesystem::exists(js + "/node_modules/playwright-core/package.json") ||
      !std::filesystem::exists("/usr/bin/chromium"))
    GTEST_SKIP() << "needs node, chromium and the npm packages in tests/js/node_modules: scripts/bootstrap installs them";
  test::TempDir dir;
  write_traces(dir, 10);
  // Episode 10 failed, and names an image "constructor" (a key every plain JavaScript object
  // has) at a path outside the allowed roots.
  {
    std::ofstream out(dir.file("runs/t.jsonl"), std::ios::app);
    out << Json{{"id", "poison"}, {"task", {{"id", "poison"}, {"question", "Who sent this?"}, {"images", {"/etc/passwd"}}}},
                {"model", "m"}, {"prompt", "cota"}, {"status", "error"}, {"error", "the model server refused the request (HTTP 400)"},
                {"answer", ""}, {"steps", Json::array()},
                {"images", {{{"name", "constructor"}, {"path", "/etc/passwd"}, {"source", "input"}}}}}
               .dump()
        << "\n";
  }
  std::string log;
  int port = 0;
  auto viewer = test::start_taco_listening("view " + dir.file("runs/t.jsonl") + " --scores " + dir.file("runs/t.scores.jsonl") +
                                               " --compare " + dir.file("runs/other.scores.jsonl") + " --names cota,direct --port 0",
                                           port, log);
  ASSERT_GT(port, 0) << log;
  const test::CliResult browser =
      test::run_command("node " + js + "/viewer_check.mjs http://127.0.0.1:" + std::to_string(port) + "/ " + dir.path() + " 10");
  ASSERT_EQ(browser.code, 0) << browser.output;
  const Json seen = test::last_line_json(browser.output);
  ASSERT_TRUE(seen.is_object()) << browser.output;
  EXPECT_EQ(seen["rows"], 11);
  // The failed episode shows its failure, and the refused image its reason, not an empty box.
  EXPECT_EQ(seen["poison_errors"], Json({"outside the allowed roots (--allowed-root DIR)", "the model server refused the request (HTTP 400)"}))
      << seen["poison_errors"];
  EXPECT_EQ(seen["poison_images"], 0);
  EXPECT_EQ(seen["steps"], 1);
  EXPECT_EQ(seen["actions"], Json({"Calculate({\"expression\":\"0+1\"})"}));
  EXPECT_EQ(seen["answer"], "answer: 1");
  EXPECT_EQ(seen["images"], 2);  // the input, and the image the tool made
  EXPECT_EQ(seen["images_loaded"], 2);
  EXPECT_EQ(seen["failed_requests"], Json::array());
  EXPECT_EQ(seen["search_rows"], 1);  // typed, not submitted
  EXPECT_EQ(seen["search_kept_focus"], true);
  EXPECT_EQ(seen["verdict"], "reference: 1 · right");  // the episode page shows the reference and the verdict
  EXPECT_TRUE(std::filesystem::file_size(dir.file("viewer-episode.png")) > 10000);
  // The report page: both runs' bars per category (overall, even, odd) and the differences.
  EXPECT_EQ(seen["report_charts"], 2);
  EXPECT_EQ(seen["report_bars"], 6);
  EXPECT_EQ(seen["report_differences"], 3);
  EXPECT_NE(seen["report_headline"].get<std::string>().find("cota"), std::string::npos) << seen["report_headline"];
  ::kill(viewer->pid(), SIGTERM);
}

// taco serve with an API key: its viewer page asks for the key, refuses a wrong one, and with
// the right one lists the server's episodes and loads their images (it showed no viewer at all).
TEST(ViewerTest, ABrowserOpensTheServersViewerWithItsKey) {
  const std::string js = std::string(TACO_SOURCE_DIR) + "/tests/js";
  if (test::run_command("node --version").code != 0 || !std::filesystem::exists(js + "/node_modules/playwright-core/package.json") ||
      !std::filesystem::exists("/usr/bin/chromium"))
    GTEST_SKIP() << "needs node, chromium and the npm packages in tests/js/node_modules: scripts/bootstrap installs them";
  test::TempDir dir;
  test::ScriptedServer model([](const Json&, int) {
    return test::ScriptedServer::Reply{
        200, test::ScriptedServer::completion(R"({"thought": "t", "actions": [{"name": "Terminate", "arguments": {"answer": "a cone"}}]})")};
  });
  std::string log;
  int port = 0;
  auto serve = test::start_taco_listening("serve --model scripted --endpoint " + model.base_url() + " --api-key sesame --work-dir " +
                                              dir.file("work") + " --port 0",
                                          port, log);
  ASSERT_GT(port, 0) << log;
  httplib::Client c("127.0.0.1", port);
  c.set_bearer_token_auth("sesame");
  const std::string image = "data:image/png;base64," + base64_encode(read_file(test::write_test_image(dir.file("a.png"), 40, 30)));
  auto posted = c.Post("/v1/episodes", Json{{"question", "What is this?"}, {"images", {image}}}.dump(), "application/json");
  ASSERT_TRUE(posted);
  ASSERT_EQ(posted->status, 200) << posted->body;
  const test::CliResult browser = test::run_command("VIEWER_KEY=sesame node " + js + "/viewer_check.mjs http://127.0.0.1:" +
                                                    std::to_string(port) + "/ " + dir.path());
  ASSERT_EQ(browser.code, 0) << browser.output;
  const Json seen = test::last_line_json(browser.output);
  ASSERT_TRUE(seen.is_object()) << browser.output;
  EXPECT_EQ(seen["asked_for_key"], true);
  EXPECT_EQ(seen["wrong_key_refused"], "That key was not accepted.");
  EXPECT_EQ(seen["rows"], 1);
  EXPECT_EQ(seen["images_loaded"], 1);
  EXPECT_EQ(seen["failed_requests"], Json::array());
  ::kill(serve->pid(), SIGTERM);
}

}  // namespace
}  // namespace taco
