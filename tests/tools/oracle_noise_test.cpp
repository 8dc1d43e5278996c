// The oracle's noise: what each setting does to a scene and a depth map, and how bad settings
// are refused. (generate_test checks that gen's chains and the oracle tools agree under noise.)
#include "tools/oracle_noise.h"

#include <gtest/gtest.h>

#include <set>

#include "util/error.h"

namespace taco {
namespace {

SceneAnnotation scene_with(size_t n_objects, const std::string& id) {
  SceneAnnotation a;
  a.id = id;
  a.width = 640;
  a.height = 480;
  for (size_t i = 0; i < n_objects; ++i) {
    SceneObject o;
    o.label = "thing" + std::to_string(i);
    o.attributes = {"red", "metal"};
    o.box = {10.0 + static_cast<double>(i % 10) * 60, 20.0 + static_cast<double>(i / 10) * 40,
             60.0 + static_cast<double>(i % 10) * 60, 50.0 + static_cast<double>(i / 10) * 40};
    o.text = i % 3 == 0 ? std::to_string(i) : "";
    a.objects.push_back(o);
    if (i > 0) a.relations.push_back(SceneRelation{static_cast<int>(i), "left of", static_cast<int>(i - 1)});
  }
  return a;
}

TEST(OracleNoiseTest, ParsesLevelsListsAndObjects) {
  EXPECT_TRUE(OracleNoise::parse(Json()).none());
  EXPECT_TRUE(OracleNoise::parse("none").none());
  const OracleNoise r = OracleNoise::parse("realistic");
  EXPECT_EQ(r.to_string(), "miss=0.1,false=0.05,jitter=0.05,depth=0.1,seed=0");
  EXPECT_EQ(OracleNoise::parse(r.to_string()).to_string(), r.to_string());
  EXPECT_EQ(OracleNoise::parse(Json{{"miss", 0.2}, {"seed", 3}}).to_string(), "miss=0.2,false=0,jitter=0,depth=0,seed=3");
  for (const Json& bad : {Json("loud"), Json("miss=abc"), Json("miss=1.5"), Json("blur=0.1"), Json("miss=0.1x"),
                          Json{{"miss", "0.1"}}, Json(3)})
    EXPECT_THROW(OracleNoise::parse(bad), Error) << bad.dump();
}

TEST(OracleNoiseTest, NoNoiseSeesTheTruth) {
  const SceneAnnotation a = scene_with(12, "s1");
  const SceneAnnotation seen = perceive(a, OracleNoise{});
  ASSERT_EQ(seen.objects.size(), a.objects.size());
  for (size_t i = 0; i < a.objects.size(); ++i) EXPECT_EQ(seen.objects[i].box, a.objects[i].box);
  DepthMap d{4, 3, std::vector<float>(12, 2.f)};
  perturb_depth(d, "s1", OracleNoise{});
  EXPECT_EQ(d.values, std::vector<float>(12, 2.f));
}

TEST(OracleNoiseTest, EachSettingDoesWhatItSays) {
  const SceneAnnotation a = scene_with(100, "s2");
  OracleNoise miss;
  miss.miss = 0.3;
  const SceneAnnotation m = perceive(a, miss);
  EXPECT_GT(m.objects.size(), 55u);
  EXPECT_LT(m.objects.size(), 85u);
  // Relations survive only between objects that were seen, and point at them.
  for (const auto& r : m.relations) {
    ASSERT_LT(static_cast<size_t>(r.head), m.objects.size());
    EXPECT_EQ(m.objects[static_cast<size_t>(r.tail)].label, "thing" + std::to_string(std::stoi(m.objects[static_cast<size_t>(r.head)].label.substr(5)) - 1));
  }
  // Every object carries the confidence the noise-free oracle gives it.
  for (const auto& o : m.objects) EXPECT_TRUE(o.score.has_value());

  OracleNoise spurious;
  spurious.false_detection = 0.2;
  const SceneAnnotation s = perceive(a, spurious);
  ASSERT_GT(s.objects.size(), 105u);
  ASSERT_LT(s.objects.size(), 135u);
  for (size_t i = a.objects.size(); i < s.objects.size(); ++i) {
    EXPECT_GE(*s.objects[i].score, 0.35);
    EXPECT_LE(*s.objects[i].score, 0.65);
    EXPECT_EQ(s.objects[i].text, "");  // a box where nothing is has nothing printed on it
    EXPECT_LE(s.objects[i].box[2], a.width);
    EXPECT_LE(s.objects[i].box[3], a.height);
  }
  EXPECT_EQ(s.relations.size(), a.relations.size());

  OracleNoise jitter;
  jitter.box_jitter = 0.1;
  const SceneAnnotation j = perceive(a, jitter);
  ASSERT_EQ(j.objects.size(), a.objects.size());
  double moved = 0;
  for (size_t i = 0; i < a.objects.size(); ++i) {
    moved += std::abs(j.objects[i].box[0] - a.objects[i].box[0]) / 50;  // boxes are 50 wide
    EXPECT_LT(j.objects[i].box[0], j.objects[i].box[2]);
    EXPECT_GE(j.objects[i].box[0], 0);
  }
  EXPECT_GT(moved / 100, 0.04);  // mean |N(0, 0.1)| is 0.08
  EXPECT_LT(moved / 100, 0.12);

  OracleNoise depth;
  depth.depth = 0.1;
  DepthMap d{64, 48, std::vector<float>(64 * 48, 1.f)};
  perturb_depth(d, "s2", depth);
  float lo = 10, hi = 0;
  for (float v : d.values) lo = std::min(lo, v), hi = std::max(hi, v);
  EXPECT_LT(lo, 0.99f);
  EXPECT_GT(hi, 1.01f);
  EXPECT_NEAR(d.at(10, 10), d.at(11, 10), 0.02);  // smooth: neighbours nearly agree
}

TEST(OracleNoiseTest, FixedByTheSceneAndTheSeed) {
  const OracleNoise noise = OracleNoise::parse("realistic");
  auto boxes = [](const SceneAnnotation& a) {
    std::vector<std::array<double, 4>> out;
    for (const auto& o : a.objects) out.push_back(o.box);
    return out;
  };
  const SceneAnnotation a = scene_with(30, "s3");
  EXPECT_EQ(boxes(perceive(a, noise)), boxes(perceive(a, noise)));
  SceneAnnotation b = a;
  b.id = "s4";
  EXPECT_NE(boxes(perceive(a, noise)), boxes(perceive(b, noise)));
  OracleNoise reseeded = noise;
  reseeded.seed = 7;
  EXPECT_NE(boxes(perceive(a, noise)), boxes(perceive(a, reseeded)));
}

}  // namespace
}  // namespace taco
