// taco's learned vision models end to end: a tiny detector and depth model trained on a handful
// of synthetic scenes find those scenes' objects through the real tools; the depth map follows
// the tools' convention (smaller is closer) and normalized boxes index it; a run killed with
// SIGKILL and rerun ends with the weights of one never stopped; bad checkpoints are refused in
// one line naming what is wrong.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "cota/step.h"
#include "synth/world.h"
#include "test_support.h"
#include "tools/config.h"
#include "tools/image_store.h"
#include "tools/vision.h"
#include "util/error.h"
#include "util/files.h"
#include "util/safetensors.h"
#include "vision/vision_model.h"

namespace taco {
namespace {

VisionTrainOptions tiny(const std::string& task, const std::string& world, const std::string& out, int64_t steps) {
  VisionTrainOptions o;
  o.task = task;
  o.data = {world};
  o.out = out;
  o.size = "tiny";
  o.steps = steps;
  o.batch = 4;
  o.lr = 5e-3;
  o.quiet = true;
  return o;
}

// Four scenes of one world, a tiny detector and a tiny depth model trained on them (once for
// the suite: a few seconds).
class LearnedVisionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    write_world(dir_->file("world"), 4, 5, 1);
    train_vision_model(tiny("detector", dir_->file("world"), dir_->file("detector"), 300));
    train_vision_model(tiny("depth", dir_->file("world"), dir_->file("depth"), 200));
    write_file(dir_->file("tools.json"),
               Json{{"vision", {{"backend", "learned"}, {"detector", "detector"}, {"depth", "depth"}}}}.dump());
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  static test::TempDir* dir_;
};
test::TempDir* LearnedVisionTest::dir_ = nullptr;

TEST_F(LearnedVisionTest, ATinyDetectorOverfitsAHandfulOfScenesAndFindsTheirObjects) {
  const ToolRegistry tools = make_tool_registry(ToolsConfig::load(dir_->file("tools.json")));
  size_t objects = 0, found = 0;
  for (const auto& scene : load_scene_annotations(dir_->file("world/scene-graph-annotations.json"))) {
    ImageStore store;
    store.add_input(scene.image_path);
    for (const auto& o : scene.objects) {
      ++objects;
      const Json r = test::call_tool(tools, store, "LocalizeObjects", Json{{"image", "image-0"}, {"objects", {o.label}}});
      const std::array<double, 4> truth = {o.box[0] / scene.width, o.box[1] / scene.height, o.box[2] / scene.width, o.box[3] / scene.height};
      bool hit = false;
      for (const auto& region : r["regions"]) {
        const auto box = region["bbox"].get<std::array<double, 4>>();
        for (double v : box) EXPECT_TRUE(v >= 0 && v <= 1) << "a box is normalized: " << region.dump();
        EXPECT_GT(region["score"].get<double>(), 0);
        hit = hit || box_iou(box, truth) >= 0.5;
      }
      found += hit;
    }
    // A query for what is not in the picture finds nothing.
    EXPECT_TRUE(test::call_tool(tools, store, "LocalizeObjects", Json{{"image", "image-0"}, {"objects", {"giraffe"}}})["regions"].empty());
  }
  ASSERT_GT(objects, 10u);
  EXPECT_GE(static_cast<double>(found) / static_cast<double>(objects), 0.8) << found << " of " << objects;
}

// One backend serves every episode of a run: calls from several threads at once answer what
// one call alone answers.
TEST_F(LearnedVisionTest, CallsFromSeveralThreadsAnswerAsOneAlone) {
  const ToolRegistry tools = make_tool_registry(ToolsConfig::load(dir_->file("tools.json")));
  const auto scenes = load_scene_annotations(dir_->file("world/scene-graph-annotations.json"));
  const Json localize{{"image", "image-0"}, {"objects", {scenes[0].objects[0].label}}};
  const Json depth{{"image", "image-0"}, {"bbox", {0.1, 0.5, 0.4, 0.9}}};
  std::vector<Json> alone;
  for (const auto& scene : scenes) {
    ImageStore store;
    store.add_input(scene.image_path);
    alone.push_back(Json::array({test::call_tool(tools, store, "LocalizeObjects", localize),
                                 test::call_tool(tools, store, "EstimateRegionDepth", depth)}));
  }
  std::vector<std::vector<Json>> together(4, std::vector<Json>(scenes.size()));
  std::vector<std::thread> threads;
  for (size_t t = 0; t < together.size(); ++t)
    threads.emplace_back([&, t] {
      for (int round = 0; round < 3; ++round)
        for (size_t i = 0; i < scenes.size(); ++i) {
          ImageStore store;
          store.add_input(scenes[i].image_path);
          together[t][i] = Json::array({test::call_tool(tools, store, "LocalizeObjects", localize),
                                        test::call_tool(tools, store, "EstimateRegionDepth", depth)});
        }
    });
  for (auto& t : threads) t.join();
  for (size_t t = 0; t < together.size(); ++t)
    for (size_t i = 0; i < scenes.size(); ++i) EXPECT_EQ(together[t][i], alone[i]) << "thread " << t << ", scene " << i;
}

TEST_F(LearnedVisionTest, TheDepthMapSaysSmallerIsCloserAtNormalizedBoxes) {
  const ToolRegistry tools = make_tool_registry(ToolsConfig::load(dir_->file("tools.json")));
  const auto scenes = load_scene_annotations(dir_->file("world/scene-graph-annotations.json"));
  size_t pairs = 0, right = 0;
  for (const auto& scene : scenes) {
    ImageStore store;
    store.add_input(scene.image_path);
    auto depth_at = [&](std::array<double, 4> box) {
      return test::call_tool(tools, store, "EstimateRegionDepth", Json{{"image", "image-0"}, {"bbox", box}})["depth"].get<double>();
    };
    // The ground at the bottom of the picture is nearer than the horizon.
    EXPECT_LT(depth_at({0.0, 0.9, 1.0, 1.0}), depth_at({0.0, 0.4, 1.0, 0.45})) << scene.id;
    EXPECT_GE(depth_at({0.0, 0.0, 1.0, 1.0}), 0);
    for (size_t i = 0; i < scene.objects.size(); ++i)
      for (size_t j = i + 1; j < scene.objects.size(); ++j) {
        const auto& a = scene.objects[i];
        const auto& b = scene.objects[j];
        if (std::fabs(*a.depth_value - *b.depth_value) < 300) continue;  // clearly apart
        auto box = [&](const SceneObject& o) {
          return std::array<double, 4>{o.box[0] / scene.width, o.box[1] / scene.height, o.box[2] / scene.width, o.box[3] / scene.height};
        };
        ++pairs;
        right += (depth_at(box(a)) < depth_at(box(b))) == (*a.depth_value > *b.depth_value);
      }
  }
  ASSERT_GT(pairs, 5u);
  EXPECT_GE(static_cast<double>(right) / static_cast<double>(pairs), 0.8) << right << " of " << pairs;
}

TEST_F(LearnedVisionTest, ResumesAfterSigkillToTheSameWeights) {
  test::TempDir dir;
  VisionTrainOptions whole = tiny("detector", dir_->file("world"), dir.file("whole"), 120);
  whole.checkpoint_every = 10;
  train_vision_model(whole);
  const std::string world = dir_->file("world"), killed = dir.file("killed");
  const std::string args = "train-vision detector -q --data " + world + " --out " + killed +
                           " --size tiny --steps 120 --batch 4 --lr 0.005 --checkpoint-every 10";
  pid_t pid = ::fork();
  if (pid == 0) {
    ::execl(TACO_BINARY, TACO_BINARY, "train-vision", "detector", "-q", "--data", world.c_str(), "--out", killed.c_str(), "--size", "tiny",
            "--steps", "120", "--batch", "4", "--lr", "0.005", "--checkpoint-every", "10", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::error_code ec;
  while (!std::filesystem::exists(killed + "/train-state.safetensors", ec) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  const std::string stopped_at = read_safetensors(killed + "/train-state.safetensors").metadata.at("step");
  SCOPED_TRACE("killed after step " + stopped_at);
  ASSERT_LT(std::stoi(stopped_at), 120) << "the run finished before it could be killed";

  test::CliResult rerun = test::run_taco(args);
  ASSERT_EQ(rerun.code, 0) << rerun.output;
  EXPECT_EQ(read_file(killed + "/model.safetensors"), read_file(dir.file("whole/model.safetensors")));
  test::CliResult again = test::run_taco(args);
  EXPECT_EQ(again.code, 0);
  EXPECT_NE(again.output.find("already holds this run, finished (120 steps)"), std::string::npos) << again.output;
}

TEST_F(LearnedVisionTest, BadCheckpointsAreRefusedInOneLine) {
  test::TempDir dir;
  auto copy_of = [&](const std::string& name, const std::string& from) {
    std::filesystem::copy(dir_->file(from), dir.file(name), std::filesystem::copy_options::recursive);
    return dir.file(name);
  };
  struct Case {
    std::string name, why;
    std::function<void(const std::string&)> spoil;
    std::string model_key = "detector";
  };
  const std::vector<Case> cases = {
      {"no-config", "no config.json", [](const std::string& d) { std::filesystem::remove(d + "/config.json"); }},
      {"no-weights", "no model.safetensors", [](const std::string& d) { std::filesystem::remove(d + "/model.safetensors"); }},
      {"not-json", "malformed JSON", [](const std::string& d) { write_file(d + "/config.json", "{\"format\": "); }},
      {"other-format", "not a taco vision-model config", [](const std::string& d) { write_file(d + "/config.json", "{\"format\": \"taco-embedded\"}"); }},
      {"depth-as-detector", "a depth checkpoint, where a detector is needed", [](const std::string&) {}, "detector"},
      {"huge", "architecture.input_width is 100000",
       [](const std::string& d) {
         Json c = parse_json(read_file(d + "/config.json"));
         c["architecture"]["input_width"] = 100000;
         write_file(d + "/config.json", c.dump());
       }},
      {"other-shapes", "has shape",
       [](const std::string& d) {
         Json c = parse_json(read_file(d + "/config.json"));
         c["architecture"]["channels"] = {8, 16, 16, 32};
         write_file(d + "/config.json", c.dump());
       }},
      {"truncated", "model.safetensors",
       [](const std::string& d) {
         const std::string w = read_file(d + "/model.safetensors");
         write_file(d + "/model.safetensors", w.substr(0, w.size() / 2));
       }},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string d = copy_of(c.name, c.name == "depth-as-detector" ? "depth" : "detector");
    c.spoil(d);
    write_file(dir.file(c.name + ".json"), Json{{"vision", {{"backend", "learned"}, {c.model_key, d}}}}.dump());
    test::CliResult r = test::run_taco("tools list --tools-config " + dir.file(c.name + ".json"));
    EXPECT_NE(r.output.find(c.why), std::string::npos) << r.output;
    ImageStore store;
    store.add_input(load_scene_annotations(dir_->file("world/scene-graph-annotations.json"))[0].image_path);
    const ToolRegistry tools = make_tool_registry(ToolsConfig::load(dir.file(c.name + ".json")));
    try {
      test::call_tool(tools, store, "LocalizeObjects", Json{{"image", "image-0"}, {"objects", {"cone"}}});
      ADD_FAILURE() << "a bad checkpoint answered";
    } catch (const Error& e) {
      const std::string line = e.what();
      EXPECT_NE(line.find(c.why), std::string::npos) << line;
      EXPECT_EQ(line.find('\n'), std::string::npos) << line;
    }
  }
}

// An image the oracle's annotations do not cover goes to the learned fallback, and the call's
// details say so; an annotated one is still the oracle's.
TEST_F(LearnedVisionTest, TheOracleHandsUnannotatedImagesToItsLearnedFallback) {
  test::TempDir dir;
  write_world(dir.file("other"), 1, 77, 1);
  write_file(dir.file("tools.json"), Json{{"vision",
                                           {{"backend", "oracle"},
                                            {"annotations", dir_->file("world/scene-graph-annotations.json")},
                                            {"fallback", {{"backend", "learned"}, {"detector", dir_->file("detector")}, {"depth", dir_->file("depth")}}}}}}
                                         .dump());
  const ToolRegistry tools = make_tool_registry(ToolsConfig::load(dir.file("tools.json")));
  auto details_of = [&](const std::string& image, const std::string& tool, Json args) {
    ImageStore store;
    store.add_input(image);
    auto ctx = store.context_for("t");
    const Json result = tools.execute(Action{tool, std::move(args)}, ctx);
    EXPECT_FALSE(result.contains("error")) << result.dump();
    return ctx->details();
  };
  const std::string unannotated = load_scene_annotations(dir.file("other/scene-graph-annotations.json"))[0].image_path;
  const Json seen = details_of(unannotated, "LocalizeObjects", Json{{"image", "image-0"}, {"objects", {"cone"}}});
  ASSERT_TRUE(seen.is_object()) << seen.dump();
  EXPECT_NE(seen.value("vision_backend", "").find("learned (fallback: the annotations do not cover image-0)"), std::string::npos) << seen.dump();
  EXPECT_TRUE(details_of(unannotated, "EstimateRegionDepth", Json{{"image", "image-0"}, {"bbox", {0.1, 0.5, 0.3, 0.9}}}).contains("vision_backend"));
  const std::string annotated = load_scene_annotations(dir_->file("world/scene-graph-annotations.json"))[0].image_path;
  EXPECT_TRUE(details_of(annotated, "LocalizeObjects", Json{{"image", "image-0"}, {"objects", {"cone"}}}).is_null());
}

// taco eval vision measures the learned models and the oracle by the same metrics: the perfect
// oracle is exact, the overfit detector nearly so on its own scenes.
TEST_F(LearnedVisionTest, EvalVisionMeasuresLearnedModelsAndTheOracleAlike) {
  test::TempDir dir;
  write_file(dir.file("oracle.json"),
             Json{{"vision", {{"backend", "oracle"}, {"annotations", dir_->file("world/scene-graph-annotations.json")}}}}.dump());
  test::CliResult learned = test::run_taco("eval vision --tools-config " + dir_->file("tools.json") + " --data " + dir_->file("world") +
                                           " --out " + dir.file("learned.json"));
  ASSERT_EQ(learned.code, 0) << learned.output;
  EXPECT_NE(learned.output.find("| AP50 (mean over categories) |"), std::string::npos) << learned.output;
  const Json l = parse_json(read_file(dir.file("learned.json")));
  EXPECT_EQ(l["detector"]["backend"], "learned");
  EXPECT_GE(l["detector"]["recall"].get<double>(), 0.8) << l.dump(2);
  EXPECT_GT(l["detector"]["images_per_second"].get<double>(), 0);
  EXPECT_GE(l["depth"]["pair_order"].get<double>(), 0.7) << l.dump(2);
  test::CliResult oracle = test::run_taco("eval vision --tools-config " + dir.file("oracle.json") + " --data " + dir_->file("world") +
                                          " --out " + dir.file("oracle.json.out"));
  ASSERT_EQ(oracle.code, 0) << oracle.output;
  const Json o = parse_json(read_file(dir.file("oracle.json.out")));
  EXPECT_EQ(o["detector"]["ap50"].get<double>(), 1.0) << o.dump(2);
  EXPECT_EQ(o["detector"]["false_boxes_per_image"].get<double>(), 0.0);
  EXPECT_EQ(o["depth"]["relative_error"].get<double>(), 0.0);
  EXPECT_EQ(o["depth"]["pair_order"], o["depth"]["pair_order_truth_map"]);
  for (const char* kind : {"color", "material", "size"}) EXPECT_EQ(o["detector"]["attributes"][kind].get<double>(), 1.0) << kind;
}

TEST_F(LearnedVisionTest, EvalVisionMeasuresADetectorWithoutADepthModel) {
  test::TempDir dir;
  write_file(dir.file("detector-only.json"),
             Json{{"vision", {{"backend", "learned"}, {"detector", dir_->file("detector")}, {"score_threshold", 0.05}}}}.dump());
  test::CliResult r = test::run_taco("eval vision --tools-config " + dir.file("detector-only.json") + " --data " + dir_->file("world") +
                                     " --out " + dir.file("report.json"));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("EstimateRegionDepth is not measured: the learned section names no \"depth\" model"),
            std::string::npos)
      << r.output;
  const Json report = parse_json(read_file(dir.file("report.json")));
  EXPECT_TRUE(report.contains("detector"));
  EXPECT_FALSE(report.contains("depth")) << report.dump(2);
}

// A tool the learned backend does not answer, or whose model the section leaves out, is not
// ready (and so never offered to a model), and says what would make it so.
TEST_F(LearnedVisionTest, ToolsTheSectionCannotAnswerAreNotReady) {
  test::TempDir dir;
  write_file(dir.file("detector-only.json"), Json{{"vision", {{"backend", "learned"}, {"detector", dir_->file("detector")}}}}.dump());
  test::CliResult r = test::run_taco("tools list --tools-config " + dir.file("detector-only.json"));
  ASSERT_EQ(r.code, 0) << r.output;
  auto line_of = [&](const std::string& tool) {
    const size_t at = r.output.find("\n" + tool + " ");
    return at == std::string::npos ? std::string() : r.output.substr(at + 1, r.output.find('\n', at + 1) - at - 1);
  };
  EXPECT_NE(line_of("LocalizeObjects").find(" yes"), std::string::npos) << r.output;
  EXPECT_NE(line_of("GetObjects").find(" yes"), std::string::npos) << r.output;
  EXPECT_NE(line_of("EstimateRegionDepth").find("no: the learned section names no \"depth\" model"), std::string::npos) << r.output;
  EXPECT_NE(line_of("EstimateObjectDepth").find("no: the learned section names no \"depth\" model"), std::string::npos) << r.output;
  EXPECT_NE(line_of("GetImageToTextsSimilarity").find("no: the learned backend does not answer GetImageToTextsSimilarity: set "),
            std::string::npos)
      << r.output;
}

}  // namespace
}  // namespace taco
