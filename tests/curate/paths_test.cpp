// Image paths in trace files and the records made from them mean the same from any working
// folder: relative to the file's own folder (docs/trace-format.md).
#include <gtest/gtest.h>

#include <filesystem>

#include "cota/trace.h"
#include "test_support.h"
#include "util/files.h"
#include "util/jsonl.h"

namespace taco {
namespace {

std::vector<Json> lines_of(const std::string& path) {
  std::vector<Json> out;
  for_each_jsonl(path, [&](size_t, Json&& j) { out.push_back(std::move(j)); });
  return out;
}

TEST(TracePathsTest, RebasingMovesRelativePathsAndLeavesAbsoluteOnes) {
  Json t{{"format", "taco.trace"}, {"version", 1},
         {"task", {{"images", {"data/a.png", "/abs/b.png"}}}},
         {"images", {{{"name", "image-0"}, {"path", "data/a.png"}}, {{"name", "image-1"}, {"path", "runs/t.images/q/image-1.png"}}, {{"name", "image-2"}, {"path", ""}}}}};
  rebase_trace_paths(t, "base", "base/runs");
  EXPECT_EQ(t["task"]["images"], Json({"../data/a.png", "/abs/b.png"}));
  EXPECT_EQ(t["images"][0]["path"], "../data/a.png");
  EXPECT_EQ(t["images"][1]["path"], "t.images/q/image-1.png");
  EXPECT_EQ(t["images"][2]["path"], "");
  EXPECT_EQ(t["version"], kTraceVersion);
  EXPECT_EQ(trace_paths_base(t, "x/y/t.jsonl"), "x/y");
  EXPECT_EQ(trace_paths_base(Json{{"version", 1}}, "x/y/t.jsonl"), "") << "version 1 paths start at the working folder";
}

TEST(TracePathsTest, TracesNameImagesFromTheirOwnFolderSoExportAndCurateWorkFromAnywhere) {
  test::TempDir dir;
  make_dirs(dir.file("data"));
  test::write_test_image(dir.file("data/img.png"), 64, 48);
  write_file(dir.file("data/tasks.jsonl"), Json{{"id", "q"}, {"images", {"img.png"}}, {"question", "what?"}}.dump() + "\n");
  test::ScriptedServer model([](const Json& req, int) {
    const bool first = req["messages"].size() == 2;
    return test::ScriptedServer::Reply{
        200, test::ScriptedServer::completion(
                 first ? R"({"thought": "", "actions": [{"name": "ZoomIn", "arguments": {"image": "image-0", "bbox": [0, 0, 0.5, 0.5], "zoom_factor": 2}}]})"
                       : R"({"thought": "", "actions": [{"name": "Terminate", "arguments": {"answer": "a"}}]})")};
  });
  // The dataset named relative to the working folder, the output absolutely.
  const std::string tasks = std::filesystem::relative(dir.file("data/tasks.jsonl")).string();
  const std::string traces = dir.file("runs/traces.jsonl");
  auto run = test::run_taco("run --dataset " + tasks + " --model m --endpoint " + model.base_url() + " --out " + traces + " -q");
  ASSERT_EQ(run.code, 0) << run.output;
  Json t = lines_of(traces).at(0);
  EXPECT_EQ(t["version"], 2);
  EXPECT_EQ(t["task"]["images"], Json({"../data/img.png"}));
  EXPECT_EQ(t["images"][0]["path"], "../data/img.png");
  EXPECT_EQ(t["images"][1]["path"], "traces.images/q/image-1.png");

  // Exported from another folder, with the images kept in place: paths from the record's folder.
  auto keep = test::run_taco("export " + traces + " --format llava --images keep --out " + dir.file("train/keep.jsonl"));
  ASSERT_EQ(keep.code, 0) << keep.output;
  EXPECT_EQ(lines_of(dir.file("train/keep.jsonl")).at(0)["image"], Json({"../data/img.png", "../runs/traces.images/q/image-1.png"}));

  // Curated into another folder: the lines are rewritten to start there.
  write_file(dir.file("recipe.json"), R"({"sources": [{"path": "runs/traces.jsonl"}]})");
  auto curate = test::run_taco("curate --recipe " + dir.file("recipe.json") + " --images-present --out " + dir.file("curated/c.jsonl"));
  ASSERT_EQ(curate.code, 0) << curate.output;
  Json c = lines_of(dir.file("curated/c.jsonl")).at(0);
  EXPECT_EQ(c["images"][0]["path"], "../data/img.png");
  EXPECT_EQ(c["images"][1]["path"], "../runs/traces.images/q/image-1.png");

  // A trace file moved away from its images: export says which image is missing, and
  // --image-folder names where the paths start.
  make_dirs(dir.file("elsewhere"));
  std::filesystem::copy_file(traces, dir.file("elsewhere/traces.jsonl"));
  auto lost = test::run_taco("export " + dir.file("elsewhere/traces.jsonl") + " --format llava --out " + dir.file("train/lost.json"));
  EXPECT_NE(lost.output.find("image missing"), std::string::npos) << lost.output;
  auto found = test::run_taco("export " + dir.file("elsewhere/traces.jsonl") + " --format llava --image-folder " + dir.file("runs") +
                              " --out " + dir.file("train/found.json"));
  ASSERT_EQ(found.code, 0) << found.output;
  EXPECT_NE(found.output.find("1 traces -> 1 llava records"), std::string::npos) << found.output;
}

}  // namespace
}  // namespace taco
