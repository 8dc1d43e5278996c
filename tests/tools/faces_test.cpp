#include <gtest/gtest.h>

#include "test_support.h"
#include "tools/builtin.h"
#include "tools/image_store.h"
#include "tools/registry.h"

namespace taco {
namespace {

TEST(FacesTest, FindsTheAstronautsFace) {
  ImageStore store;
  store.add_input(std::string(TACO_TEST_DATA) + "/astronaut.png");
  ToolRegistry tools;
  tools.add(make_faces_tool());
  ASSERT_EQ(tools.find("DetectFaces")->unavailable_reason(), "");
  auto ctx = store.context_for("t");
  Json r = tools.execute(Action{"DetectFaces", Json{{"image", "image-0"}}}, ctx);
  ASSERT_GE(r["regions"].size(), 1u);
  const Json& face = r["regions"][0];
  EXPECT_EQ(face["label"], "face");
  // The face is in the upper middle of the 512x512 photo, around x 0.33-0.5, y 0.1-0.3.
  double cx = (face["bbox"][0].get<double>() + face["bbox"][2].get<double>()) / 2;
  double cy = (face["bbox"][1].get<double>() + face["bbox"][3].get<double>()) / 2;
  EXPECT_NEAR(cx, 0.43, 0.1) << face.dump();
  EXPECT_NEAR(cy, 0.22, 0.1) << face.dump();
  EXPECT_EQ(r["image"], "image-1");
  EXPECT_EQ(ctx->new_images().size(), 1u);
}

TEST(FacesTest, NoFacesInShapes) {
  test::TempDir dir;
  ImageStore store;
  store.add_input(test::write_test_image(dir.file("shapes.png"), 320, 240));
  ToolRegistry tools;
  tools.add(make_faces_tool());
  auto ctx = store.context_for("t");
  Json r = tools.execute(Action{"DetectFaces", Json{{"image", "image-0"}}}, ctx);
  EXPECT_TRUE(r["regions"].empty());
}

TEST(FacesTest, MissingCascadeIsReported) {
  EXPECT_NE(make_faces_tool(Json{{"cascade", "/nonexistent.xml"}})->unavailable_reason().find("cannot load"), std::string::npos);
}

}  // namespace
}  // namespace taco
