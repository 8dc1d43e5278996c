// The vision metrics on cases worked out by hand: AP50 per category (VOC's all-point average),
// recall and false boxes at a threshold, attribute accuracy; depth pair order and relative error.
#include "eval/vision_metrics.h"

#include <gtest/gtest.h>

namespace taco {
namespace {

SceneObject object(const std::string& label, std::array<double, 4> box, std::vector<std::string> attributes, double score = -1,
                   double depth = 0) {
  SceneObject o;
  o.label = label;
  o.box = box;
  o.attributes = std::move(attributes);
  if (score >= 0) o.score = score;
  if (depth > 0) o.depth_value = depth;
  return o;
}

TEST(VisionMetricsTest, DetectionApRecallFalseBoxesAndAttributes) {
  SceneAnnotation truth;
  truth.width = 100, truth.height = 100;
  truth.objects = {object("cat", {0, 0, 20, 20}, {"red", "metal"}), object("cat", {50, 50, 70, 70}, {"blue", "glass", "small"}),
                   object("dog", {10, 60, 40, 90}, {"white", "wooden", "large"})};
  const std::vector<SceneObject> found = {
      object("cat", {1, 1, 20, 20}, {"red", "rubber"}, 0.9),       // right, material wrong
      object("cat", {80, 0, 99, 20}, {"red", "metal"}, 0.8),        // nowhere near a cat: false
      object("dog", {10, 60, 40, 90}, {"white", "wooden"}, 0.7),    // right, size wrong (medium for large)
  };
  DetectionTally tally;
  tally.add(truth, found, 0.75);
  const Json r = tally.report();
  // cat: precision 1 up to recall 0.5, then nothing more found: AP 0.5; dog: 1.
  EXPECT_DOUBLE_EQ(r["ap50_per_category"]["cat"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(r["ap50_per_category"]["dog"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(r["ap50"].get<double>(), 0.75);
  // At 0.75 the tool reports the two cats' boxes: one right of three objects, one false box.
  EXPECT_DOUBLE_EQ(r["recall"].get<double>(), 0.3333);
  EXPECT_DOUBLE_EQ(r["false_boxes_per_image"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(tally.wrong_per_image(), 3.0);  // two objects missed, one false box
  EXPECT_DOUBLE_EQ(r["attributes"]["color"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(r["attributes"]["material"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(r["attributes"]["size"].get<double>(), 1.0);  // the cat: medium for medium
  EXPECT_EQ(r["ap50_per_width"]["20-40 px"]["objects"], 3);  // the cats 20 px wide, the dog 30
  EXPECT_EQ(r["ap50_per_width"]["under 20 px"]["objects"], 0);
}

TEST(VisionMetricsTest, DepthPairsAndRelativeError) {
  SceneAnnotation scene;
  scene.width = 8, scene.height = 8;
  // Left object nearer (inverse depth 300) than the right one (100).
  scene.objects = {object("box", {0, 0, 4, 8}, {}, -1, 300), object("box", {4, 0, 8, 8}, {}, -1, 100)};
  DepthMap truth;
  truth.width = 8, truth.height = 8;
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 8; ++x) truth.values.push_back(x < 4 ? 1.f : 3.f);
  DepthTally same, reversed;
  same.add(scene, truth, truth);
  DepthMap wrong = truth;
  for (float& v : wrong.values) v = 4.f - v;
  reversed.add(scene, truth, wrong);
  EXPECT_DOUBLE_EQ(same.report()["pair_order"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(same.report()["relative_error"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(reversed.report()["pair_order"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(reversed.report()["pair_order_truth_map"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(reversed.report()["relative_error"].get<double>(), 1.0);  // |3-1| everywhere over a mean of 2
}

}  // namespace
}  // namespace taco
