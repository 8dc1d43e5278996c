// Counting what can be seen: an object hidden from sight (its segment mask shows fewer than 64
// pixels, or the synthetic world's count of its visible pixels says so) is not counted, not
// asked about and not found by the oracle tools, and the masks of the objects that remain still
// decide their depth. A world that says nothing of visibility is generated as before.
#include <gtest/gtest.h>

#include <algorithm>

#include "cota/visibility.h"
#include "gen/generate.h"
#include "test_support.h"
#include "tools/config.h"
#include "tools/image_store.h"
#include "tools/registry.h"
#include "util/error.h"
#include "util/files.h"
#include "util/npy.h"

namespace taco {
namespace {

constexpr size_t kW = 200, kH = 100;
using Rect = test::PixelRect;
// A green cup wholly behind a nearer box, two cups that show (red, blue), a ball, and a star so
// small that all of its 36 pixels are fewer than 64 (small is not hidden: it is seen). The
// hidden cup comes first, so every mask after it is found by its place in the file, not in the scene.
const Rect kHiddenCup{10, 10, 40, 40}, kBox{5, 5, 60, 60}, kRedCup{100, 20, 130, 60}, kBlueCup{150, 20, 180, 60}, kBall{70, 60, 95, 95},
    kStar{190, 5, 196, 11};
const std::vector<Rect> kBoxes{kHiddenCup, kBox, kRedCup, kBlueCup, kBall, kStar};
// Inverse depth (larger is closer) of what shows at each object: the blue cup is nearer than the red one.
const std::vector<float> kInverse{0.9f, 0.8f, 0.3f, 0.5f, 0.2f, 0.1f};

enum class Told { kByMasks, kByCounts, kNothing, kNothingHidden };

// Writes a world of `scenes` records over one picture. kByMasks: segment masks (the hidden cup's
// is empty); kByCounts: "visible_pixels" as the synthetic world writes them; kNothing: neither
// (every object is taken as seen); kNothingHidden: counts that hide nothing.
std::vector<SceneAnnotation> write_world(const test::TempDir& dir, Told told, int scenes = 40) {
  make_dirs(dir.file("images"));
  make_dirs(dir.file("depth"));
  make_dirs(dir.file("segment"));
  test::write_test_image(dir.file("images/s.png"), kW, kH);
  std::vector<float> inverse(kW * kH, 0.05f);
  std::vector<uint8_t> masks(kBoxes.size() * kW * kH, 0);
  for (size_t y = 0; y < kH; ++y)
    for (size_t x = 0; x < kW; ++x)
      for (size_t k = 1; k < kBoxes.size(); ++k)  // the hidden cup (0) shows nowhere
        if (kBoxes[k].contains(x, y)) {
          inverse[y * kW + x] = kInverse[k];
          masks[(k * kH + y) * kW + x] = 1;
        }
  write_file(dir.file("depth/s.npy"), encode_npy_f32({kH, kW}, inverse.data()));
  write_file(dir.file("segment/s.npy"), encode_npy({kBoxes.size(), kH, kW}, "|b1", masks.data(), 1));
  Json boxes = Json::array(), shown = Json::array();
  for (size_t k = 0; k < kBoxes.size(); ++k) {
    boxes.push_back({kBoxes[k].x1, kBoxes[k].y1, kBoxes[k].x2, kBoxes[k].y2});
    shown.push_back(k == 0 && told != Told::kNothingHidden ? size_t{0} : kBoxes[k].area());
  }
  Json annotation{{"width", kW},
                  {"height", kH},
                  {"bboxes", boxes},
                  {"labels", {"cup", "box", "cup", "cup", "ball", "star"}},
                  {"attributes", Json::array({Json::array({"green", "glass"}), Json::array({"brown", "wooden"}), Json::array({"red", "metal"}),
                                              Json::array({"blue", "rubber"}), Json::array({"white", "rubber"}), Json::array({"yellow", "metal"})})},
                  {"relations", {{0, "left of", 4}, {1, "left of", 2}, {2, "left of", 3}, {4, "left of", 2}}},
                  {"depth_mask_id", "s.npy"}};
  if (told == Told::kByMasks) annotation["seg_mask_id"] = "s.npy";
  if (told == Told::kByCounts || told == Told::kNothingHidden) annotation["visible_pixels"] = shown;
  Json world = Json::object();
  for (int i = 0; i < scenes; ++i) world["s" + std::to_string(i)] = {{"data_path", "images/s.png"}, {"source", "test"}, {"annotation", annotation}};
  write_file(dir.file("scene-graph-annotations.json"), world.dump());
  return load_scene_annotations(dir.file("scene-graph-annotations.json"));
}

std::vector<GeneratedExample> generate_all(const std::vector<SceneAnnotation>& scenes) {
  GenOptions options;
  std::vector<GeneratedExample> out;
  for (size_t i = 0; i < scenes.size(); ++i)
    for (auto& ex : generate_for_scene(scenes[i], i, options, PromptTemplate::defaults())) out.push_back(std::move(ex));
  for (size_t g = 0; g + 3 <= scenes.size(); g += 3)
    for (auto& ex : generate_for_group({&scenes[g], &scenes[g + 1], &scenes[g + 2]}, g / 3, options, PromptTemplate::defaults()))
      out.push_back(std::move(ex));
  return out;
}

class VisibilityTest : public ::testing::TestWithParam<Told> {};

TEST_P(VisibilityTest, AHiddenObjectIsNotCountedAskedAboutOrFound) {
  test::TempDir dir;
  const auto scenes = write_world(dir, GetParam());
  const SceneAnnotation seen = visible_part(scenes[0]);
  ASSERT_EQ(seen.objects.size(), 5u);
  EXPECT_EQ(seen.objects[0].label, "box");
  EXPECT_EQ(seen.objects[4].label, "star");
  EXPECT_EQ(seen.objects[0].mask_index, 1u);
  ASSERT_EQ(seen.relations.size(), 3u);  // the hidden cup's relation goes with it
  EXPECT_EQ(seen.relations[0].head, 0);
  EXPECT_EQ(seen.relations[0].tail, 1);

  size_t cup_counts = 0, cup_depths = 0;
  for (const auto& ex : generate_all(scenes)) {
    const Json& m = ex.cota.task.metadata;
    const std::string& question = ex.cota.task.question;
    // Nothing about the hidden cup: not its color, not its material, not as a third cup
    // (attribute_exists may ask after a color nothing has).
    if (ex.family != "attribute_exists") {
      EXPECT_EQ(question.find("green"), std::string::npos) << question;
      EXPECT_EQ(question.find("glass"), std::string::npos) << question;
    }
    for (const auto& s : ex.cota.steps) {
      if (!s.observation.contains("regions")) continue;
      const Json& regions = s.observation["regions"];
      const auto cups = std::count_if(regions.begin(), regions.end(), [](const Json& r) { return r["label"].get<std::string>().rfind("cup", 0) == 0; });
      EXPECT_LE(cups, 2) << question;
    }
    const std::string answer = ex.cota.task.choices.empty() ? ex.cota.answer : m["answer_text"].get<std::string>();
    if ((ex.family == "count" || ex.family == "multi_count") && m["label"] == "cup") {
      ++cup_counts;
      EXPECT_EQ(answer, ex.family == "count" ? "2" : "6") << question;
    }
    if (ex.family == "region_depth") {  // which cup is closer, the red or the blue: by their masks
      ++cup_depths;
      EXPECT_EQ(answer, m["relation"] == "closer" ? "blue" : "red") << question;
    }
  }
  EXPECT_GT(cup_counts, 0u);
  EXPECT_GT(cup_depths, 0u);

  // The oracle tools see the same scene: two cups, and the hidden one's label only because
  // other cups show.
  write_file(dir.file("tools.json"), Json{{"vision", {{"backend", "oracle"}, {"annotations", "scene-graph-annotations.json"}}}}.dump());
  ToolRegistry tools = make_tool_registry(ToolsConfig::load(dir.file("tools.json")));
  ImageStore store;
  store.add_input(dir.file("images/s.png"));
  const Json found = test::call_tool(tools, store, "LocalizeObjects", Json{{"image", "image-0"}, {"objects", {"cup"}}});
  ASSERT_EQ(found["regions"].size(), 2u) << found.dump();
  EXPECT_EQ(found["regions"][0]["bbox"], Json({0.5, 0.2, 0.65, 0.6}));
  EXPECT_TRUE(test::call_tool(tools, store, "LocalizeObjects", Json{{"image", "image-0"}, {"objects", {"green cup"}}})["regions"].empty());
  EXPECT_EQ(test::call_tool(tools, store, "LocalizeObjects", Json{{"image", "image-0"}, {"objects", {"star"}}})["regions"].size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(MasksOrCounts, VisibilityTest, ::testing::Values(Told::kByMasks, Told::kByCounts),
                         [](const auto& info) { return info.param == Told::kByMasks ? std::string("ByMasks") : std::string("ByCounts"); });

TEST(VisibilityTest, AWorldThatHidesNothingIsGeneratedAsBefore) {
  // The same world without a word about visibility, and with counts that hide nothing: the
  // same examples, byte for byte (the hidden cup is then a cup like the others).
  test::TempDir dir;
  const auto without = generate_all(write_world(dir, Told::kNothing, 12));
  const auto with = generate_all(write_world(dir, Told::kNothingHidden, 12));
  ASSERT_EQ(without.size(), with.size());
  ASSERT_GT(without.size(), 20u);
  size_t threes = 0;
  for (size_t i = 0; i < with.size(); ++i) {
    EXPECT_TRUE(with[i].cota.to_json() == without[i].cota.to_json()) << with[i].cota.task.id;
    threes += with[i].family == "count" && with[i].cota.answer == "3";
  }
  EXPECT_GT(threes, 0u);  // all three cups counted
}

TEST(SegmentMasksTest, ReadsOneMaskAtATimeAsBytesWhateverTheDtype) {
  test::TempDir dir;
  std::vector<uint8_t> bytes(3 * 4 * 5, 0);
  bytes[1 * 20 + 7] = 1, bytes[1 * 20 + 8] = 1, bytes[2 * 20 + 0] = 1;
  std::vector<float> floats(bytes.begin(), bytes.end());
  write_file(dir.file("b.npy"), encode_npy({3, 4, 5}, "|b1", bytes.data(), 1));
  write_file(dir.file("f.npy"), encode_npy_f32({3, 4, 5}, floats.data()));
  for (const char* name : {"b.npy", "f.npy"}) {
    SegmentMasks masks(dir.file(name));
    EXPECT_EQ(masks.count(), 3u);
    EXPECT_EQ(masks.height(), 4u);
    EXPECT_EQ(masks.width(), 5u);
    EXPECT_EQ(masks.pixel_counts(), (std::vector<int64_t>{0, 2, 1})) << name;
    const std::vector<uint8_t> one = masks.mask(1);
    ASSERT_EQ(one.size(), 20u);
    EXPECT_EQ(std::count(one.begin(), one.end(), 0), 18) << name;
    EXPECT_NE(one[7], 0);
    EXPECT_THROW(masks.mask(3), Error);
  }
  // Not n x H x W, or shorter than its header says: one line naming the file.
  write_file(dir.file("flat.npy"), encode_npy({60}, "|b1", bytes.data(), 1));
  const std::string whole = encode_npy({3, 4, 5}, "|b1", bytes.data(), 1);
  write_file(dir.file("short.npy"), whole.substr(0, whole.size() - 10));
  for (const char* name : {"flat.npy", "short.npy", "missing.npy"}) {
    try {
      SegmentMasks masks(dir.file(name));
      FAIL() << name;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
    }
  }
}

TEST(SegmentMasksTest, MasksThatDoNotMatchTheBoxesAreRefused) {
  test::TempDir dir;
  auto scenes = write_world(dir, Told::kByMasks, 1);
  std::vector<uint8_t> two(2 * kW * kH, 1);
  write_file(dir.file("segment/s.npy"), encode_npy({2, kH, kW}, "|b1", two.data(), 1));
  try {
    visible_part(scenes[0]);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("expected one segment mask per box (6), not 2"), std::string::npos) << e.what();
  }
}

TEST(SegmentMasksTest, VisiblePixelsMustBeOneCountPerBox) {
  test::TempDir dir;
  write_world(dir, Told::kByCounts, 1);
  const Json good = read_json_file(dir.file("scene-graph-annotations.json"));
  for (const Json& bad : {Json{1, 2}, Json{0, 1, 2, 3, 4, -5}, Json{0, 1, 2, 3, 4, 5.5}, Json("many")}) {
    Json world = good;
    world["s0"]["annotation"][bad.is_string() ? "object_pixels" : "visible_pixels"] = bad;
    write_file(dir.file("bad.json"), world.dump());
    try {
      load_scene_annotations(dir.file("bad.json"));
      FAIL() << bad.dump();
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(bad.is_string() ? "\"object_pixels\" must have one count per box" : "visible_pixels"),
                std::string::npos)
          << e.what();
    }
  }
}

}  // namespace
}  // namespace taco
