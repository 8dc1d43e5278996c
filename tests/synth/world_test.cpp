#include "synth/world.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "test_support.h"
#include "tools/config.h"
#include "tools/image_store.h"
#include "util/files.h"
#include "util/npy.h"

namespace taco {
namespace {

TEST(SynthWorldTest, SameSeedSameScene) {
  SynthScene a = render_scene(7, 3), b = render_scene(7, 3), c = render_scene(7, 4), d = render_scene(8, 3);
  EXPECT_EQ(a.image.encode(".png"), b.image.encode(".png"));
  EXPECT_EQ(scene_annotation_to_json(a.annotation, "x"), scene_annotation_to_json(b.annotation, "x"));
  EXPECT_EQ(a.inverse_depth, b.inverse_depth);
  EXPECT_NE(a.image.encode(".png"), c.image.encode(".png"));
  EXPECT_NE(a.image.encode(".png"), d.image.encode(".png"));
}

TEST(SynthWorldTest, AnnotationsAreExactAndLoadable) {
  test::TempDir dir;
  SynthSummary s = write_world(dir.path(), 12, 5, 2);
  EXPECT_EQ(s.scenes, 12u);
  auto scenes = load_scene_annotations(dir.file("scene-graph-annotations.json"));
  ASSERT_EQ(scenes.size(), 12u);
  const std::set<std::string> categories(synth_categories().begin(), synth_categories().end());
  const std::set<std::string> colors(synth_colors().begin(), synth_colors().end());
  for (const auto& a : scenes) {
    EXPECT_EQ(Image::load(a.image_path).width(), a.width);
    NpyArray depth = read_npy(a.depth_path);
    EXPECT_EQ(depth.shape, (std::vector<size_t>{static_cast<size_t>(a.height), static_cast<size_t>(a.width)}));
    EXPECT_GE(a.objects.size(), 1u);
    for (const auto& o : a.objects) {
      EXPECT_TRUE(categories.count(o.label)) << o.label;
      ASSERT_GE(o.attributes.size(), 2u);
      EXPECT_TRUE(colors.count(o.attributes[0])) << o.attributes[0];
      EXPECT_GE(o.box[0], 0);
      EXPECT_LE(o.box[2], a.width);
      EXPECT_LT(o.box[1], o.box[3]);
    }
  }
}

TEST(SynthWorldTest, ThreadCountDoesNotChangeTheWorld) {
  test::TempDir one, two;
  write_world(one.path(), 8, 3, 1);
  write_world(two.path(), 8, 3, 2);
  EXPECT_EQ(read_file(one.file("scene-graph-annotations.json")), read_file(two.file("scene-graph-annotations.json")));
  EXPECT_EQ(read_file(one.file("images/3-5.png")), read_file(two.file("images/3-5.png")));
}

// The depth map is real: every "in front of" relation is what the oracle's depth tool says.
TEST(SynthWorldTest, DepthAgreesWithRelations) {
  test::TempDir dir;
  write_world(dir.path(), 10, 11, 2);
  write_file(dir.file("tools.json"), Json{{"vision", {{"backend", "oracle"}, {"annotations", "scene-graph-annotations.json"}}}}.dump());
  ToolRegistry tools = make_tool_registry(ToolsConfig::load(dir.file("tools.json")));
  int checked = 0;
  for (const auto& a : load_scene_annotations(dir.file("scene-graph-annotations.json"))) {
    ImageStore store;
    store.add_input(a.image_path);
    auto depth_of = [&](int i) {
      const auto& b = a.objects[static_cast<size_t>(i)].box;
      auto ctx = store.context_for("t");
      return tools.execute(Action{"EstimateRegionDepth",
                                  Json{{"image", "image-0"},
                                       {"bbox", {b[0] / a.width, b[1] / a.height, b[2] / a.width, b[3] / a.height}},
                                       {"mode", "mode"}}},
                           ctx)["depth"]
          .get<double>();
    };
    for (const auto& r : a.relations)
      if (r.relation == "in front of") {
        EXPECT_LT(depth_of(r.head), depth_of(r.tail)) << a.id;
        ++checked;
      }
  }
  EXPECT_GT(checked, 10);
}

// Printed text is annotated only when all of it is in the picture and it is large enough to read.
TEST(SynthWorldTest, TextAnnotationsAreWholeAndLarge) {
  int with_text = 0;
  for (uint64_t i = 0; i < 40; ++i) {
    SynthScene s = render_scene(2, i);
    for (const auto& o : s.annotation.objects) {
      if (o.text.empty()) continue;
      ++with_text;
      EXPECT_GE(o.box[3] - o.box[1], 14) << s.annotation.id;
      EXPECT_TRUE(o.label == "box" || o.label == "can" || o.label == "sign" || o.label == "house" || o.label == "car")
          << o.label;
    }
  }
  EXPECT_GT(with_text, 10);
}

}  // namespace
}  // namespace taco
