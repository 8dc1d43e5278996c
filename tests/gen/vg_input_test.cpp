// Visual-Genome-style input as pcota reads it: segment masks decide depth answers, predicates
// that no box shows are never asked, attributes are normalized, odd but readable records are
// read, and a bad scene is skipped and counted rather than ending the run.
#include <gtest/gtest.h>

#include <algorithm>

#include "cota/annotation.h"
#include "test_support.h"
#include "util/error.h"
#include "util/files.h"
#include "util/jsonl.h"
#include "util/npy.h"

namespace taco {
namespace {

constexpr size_t kW = 300, kH = 100;
using Rect = test::PixelRect;
// A car mostly hidden behind a nearer tree, a sign between them in depth, and a cup behind the
// sign of which 9 pixels show.
const Rect kCar{20, 20, 120, 90}, kTree{60, 10, 180, 95}, kSign{200, 30, 280, 90}, kCup{230, 40, 240, 50}, kCupShown{230, 40, 233, 43};

// Writes the world: `scenes` records over the same image, depth map and masks.
void write_vg_world(const test::TempDir& dir, int scenes) {
  make_dirs(dir.file("images"));
  make_dirs(dir.file("depth"));
  make_dirs(dir.file("segment"));
  test::write_test_image(dir.file("images/s.png"), kW, kH);
  // Inverse depth (larger is closer): background 0.05, car 0.3, cup 0.2, sign 0.5, tree 0.9.
  std::vector<float> inverse(kW * kH, 0.05f);
  std::vector<uint8_t> masks(4 * kW * kH, 0);
  for (size_t y = 0; y < kH; ++y)
    for (size_t x = 0; x < kW; ++x) {
      float& v = inverse[y * kW + x];
      auto mask = [&](size_t object) { masks[(object * kH + y) * kW + x] = 1; };
      if (kTree.contains(x, y)) v = 0.9f, mask(1);
      else if (kCar.contains(x, y)) v = 0.3f, mask(0);
      if (kCupShown.contains(x, y)) v = 0.2f, mask(3);
      else if (kSign.contains(x, y)) v = 0.5f, mask(2);
    }
  write_file(dir.file("depth/s.npy"), encode_npy_f32({kH, kW}, inverse.data()));
  write_file(dir.file("segment/s.npy"), encode_npy({4, kH, kW}, "|b1", masks.data(), 1));
  Json world = Json::object();
  auto box = [](const Rect& r) { return Json{r.x1, r.y1, r.x2, r.y2}; };
  for (int i = 0; i < scenes; ++i) {
    Json boxes{box(kCar), box(kTree), box(kSign), box(kCup)};
    if (i == 0) boxes[3] = Json{kCup.x2, kCup.y2, kCup.x1, kCup.y1};  // corners swapped, as some exports write them
    world["s" + std::to_string(i)] = {
        {"data_path", "images/s.png"},
        {"source", "vg"},
        {"annotation",
         {{"width", static_cast<double>(kW)}, {"height", static_cast<double>(kH)},  // floats, as pcota's files have them
          {"bboxes", boxes},
          {"labels", {"car", "Tree ", "sign", "cup"}},
          {"attributes", {{"Grey", "metal"}, {"green"}, {"white"}, {"red"}}},
          {"relations", {{0, "of", 1}, {0, "LEFT  of", 2}, {1, "has", 3}, {1, "left of", 2}}},
          {"depth_mask_id", "s.npy"},
          {"seg_mask_id", "s.npy"}}}};
  }
  world["unreadable"] = {{"source", "vg"}, {"annotation", {{"width", 10}, {"height", 10}}}};  // no data_path
  world["missing-image"] = world["s1"];
  world["missing-image"]["data_path"] = "images/gone.png";
  write_file(dir.file("scene-graph-annotations.json"), world.dump());
}

TEST(VgInputTest, OddButReadableRecordsAreReadAndNormalized) {
  test::TempDir dir;
  write_vg_world(dir, 2);
  AnnotationProblems problems;
  auto scenes = load_scene_annotations(dir.file("scene-graph-annotations.json"), &problems);
  ASSERT_EQ(scenes.size(), 3u);  // s0, s1, missing-image (its image is read later)
  EXPECT_EQ(problems.scenes_skipped, 1u);
  EXPECT_EQ(problems.boxes_fixed, 1u);
  ASSERT_EQ(problems.first.size(), 2u);
  EXPECT_NE(problems.first[0].find("image s0: box 3 has x2 < x1 or y2 < y1; its corners were swapped"), std::string::npos);
  EXPECT_NE(problems.first[1].find("image unreadable: missing \"data_path\"; skipped"), std::string::npos);
  const SceneAnnotation& s0 = scenes[0];
  EXPECT_EQ(s0.width, 300);
  EXPECT_EQ(s0.objects[3].box, (std::array<double, 4>{230, 40, 240, 50}));
  EXPECT_EQ(s0.objects[1].label, "tree");
  EXPECT_EQ(s0.objects[0].attributes, (std::vector<std::string>{"gray", "metal"}));
  EXPECT_EQ(s0.relations[1].relation, "left of");

  // A file with no readable record is an error naming the record.
  write_file(dir.file("bad.json"), R"({"x": {"data_path": "a.png", "annotation": {"width": 10.5, "height": 10}}})");
  try {
    load_scene_annotations(dir.file("bad.json"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("image x: \"width\" and \"height\" must be whole numbers"), std::string::npos) << e.what();
  }
}

TEST(VgInputTest, MasksDecideDepthAndOnlySpatialRelationsAreAsked) {
  test::TempDir dir;
  write_vg_world(dir, 40);
  auto gen = test::run_taco("gen --annotations " + dir.file("scene-graph-annotations.json") + " --out " + dir.file("t.jsonl") +
                            " --format trace --no-direct --no-images");
  ASSERT_EQ(gen.code, 0) << gen.output;
  EXPECT_NE(gen.output.find("warning: 2 scenes skipped, 1 boxes fixed"), std::string::npos) << gen.output;
  Json stats = read_json_file(dir.file("t.jsonl.stats.json"));
  EXPECT_EQ(stats["scenes"], 40);
  EXPECT_EQ(stats["scenes_skipped"], 2);
  EXPECT_EQ(stats["boxes_fixed"], 1);

  size_t depth_questions = 0, relation_questions = 0;
  for_each_jsonl(dir.file("t.jsonl"), [&](size_t, Json&& t) {
    const Json& m = t["task"]["metadata"];
    const std::string family = m["family"], question = t["task"]["question"], answer = t["answer"];
    EXPECT_EQ(question.find("grey"), std::string::npos) << question;
    // "of" and "has" are in the graph, and no box shows them.
    for (const char* predicate : {"car of the tree", "tree has the cup", "relationship between the car and the tree",
                                  "relationship between the tree and the cup"})
      EXPECT_EQ(question.find(predicate), std::string::npos) << question;
    if (m.contains("relation")) {
      ++relation_questions;
      EXPECT_NE(m["relation"], "of");
      EXPECT_NE(m["relation"], "has");
    }
    if (family == "depth" || family == "depth_anchor") {
      ++depth_questions;
      std::vector<std::string> named = m["labels"].get<std::vector<std::string>>();
      if (m.contains("anchor")) named.push_back(m["anchor"]);
      // 9 visible pixels do not decide the cup's depth.
      EXPECT_EQ(std::count(named.begin(), named.end(), "cup"), 0) << question;
      // The car's box is mostly tree: by its box it is nearer than the sign, by what shows of
      // it farther. The tools would report the first and the truth is the second: never asked.
      const bool car_and_sign = std::count(named.begin(), named.end(), "car") && std::count(named.begin(), named.end(), "sign");
      EXPECT_FALSE(car_and_sign) << question;
      if (family == "depth" && std::count(named.begin(), named.end(), "tree")) {
        EXPECT_EQ(answer, m["relation"] == "closer" ? "tree" : named[0] == "tree" ? named[1] : named[0]) << question;
      }
    }
  });
  EXPECT_GT(depth_questions, 0u);
  EXPECT_GT(relation_questions, 0u);
}

}  // namespace
}  // namespace taco
