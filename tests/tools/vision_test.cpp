#include "tools/vision.h"

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include <filesystem>

#include "test_support.h"
#include "tools/config.h"
#include "tools/image_store.h"
#include "util/base64.h"
#include "util/error.h"
#include "util/files.h"
#include "util/npy.h"

namespace taco {
namespace {

// A 200 x 100 scene: two dogs and a cat; the depth map says the right half is closer.
class VisionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    image_ = test::write_test_image(dir_.file("images/scene.png"), 200, 100);
    Json ann{{"scene", {{"data_path", "images/scene.png"},
                        {"source", "test"},
                        {"annotation",
                         {{"width", 200},
                          {"height", 100},
                          {"bboxes", {{10, 10, 50, 60}, {60, 20, 90, 70}, {120, 30, 190, 90}}},
                          {"labels", {"dog", "dog", "cat"}},
                          {"attributes", {{"brown"}, {"white"}, {"black", "small"}}},
                          {"relations", {{0, "next to", 1}}},
                          {"det_scores", {0.9, 0.6, 0.8}},
                          {"caption", "two dogs and a cat on grass"},
                          {"depth_mask_id", "scene.npy"}}}}}};
    write_file(dir_.file("scene-graph-annotations.json"), ann.dump());
    // Depth Anything style: larger is closer. Left half 1.0, right half 3.0.
    std::vector<float> depth(100 * 200);
    for (int y = 0; y < 100; ++y)
      for (int x = 0; x < 200; ++x) depth[static_cast<size_t>(y * 200 + x)] = x < 100 ? 1.0f : 3.0f;
    write_file(dir_.file("depth/scene.npy"), encode_npy_f32({100, 200}, depth.data()));
    write_file(dir_.file("tools.json"), Json{{"vision", {{"backend", "oracle"}, {"annotations", "scene-graph-annotations.json"}}}}.dump());
    tools_ = std::make_unique<ToolRegistry>(make_tool_registry(ToolsConfig::load(dir_.file("tools.json"))));
    store_.add_input(image_);
  }

  Json call(const std::string& name, Json args) { return test::call_tool(*tools_, store_, name, std::move(args)); }

  test::TempDir dir_;
  std::string image_;
  std::unique_ptr<ToolRegistry> tools_;
  ImageStore store_;
};

TEST_F(VisionTest, OracleAnswersFromAnnotations) {
  EXPECT_EQ(call("GetObjects", Json{{"image", "image-0"}}), Json::parse(R"({"objects": ["dog", "cat"]})"));
  Json r = call("LocalizeObjects", Json{{"image", "image-0"}, {"objects", {"dogs", "cat"}}});
  EXPECT_EQ(r["image"], "image-1");
  ASSERT_EQ(r["regions"].size(), 3u);
  EXPECT_EQ(r["regions"][0], Json::parse(R"({"label": "dogs", "bbox": [0.05, 0.1, 0.25, 0.6], "score": 0.9})"));
  EXPECT_EQ(r["regions"][1]["label"], "dogs-2");
  EXPECT_EQ(r["regions"][2]["label"], "cat");
  EXPECT_TRUE(call("LocalizeObjects", Json{{"image", "image-0"}, {"objects", {"giraffe"}}})["regions"].empty());
}

// An image is known by its pixels: a copy elsewhere (an image decoded from a TSV, uploaded to a
// server) is the same scene. One pixel changed is another image, whatever its name; the oracle
// says so once on stderr, and each call on it fails.
TEST_F(VisionTest, OracleKnowsAnImageByItsPixelsNotItsName) {
  std::filesystem::create_directories(dir_.file("elsewhere"));
  std::filesystem::copy_file(image_, dir_.file("elsewhere/upload-1.png"));
  ImageStore copied;
  copied.add_input(dir_.file("elsewhere/upload-1.png"));
  EXPECT_EQ(test::call_tool(*tools_, copied, "GetObjects", Json{{"image", "image-0"}}), Json::parse(R"({"objects": ["dog", "cat"]})"));

  cv::Mat m = cv::imread(image_);
  m.at<cv::Vec3b>(50, 100)[0] ^= 1;
  cv::imwrite(dir_.file("elsewhere/scene.png"), m);
  ImageStore changed;
  changed.add_input(dir_.file("elsewhere/scene.png"));
  testing::internal::CaptureStderr();
  for (int i = 0; i < 2; ++i) {
    try {
      test::call_tool(*tools_, changed, "GetObjects", Json{{"image", "image-0"}});
      ADD_FAILURE() << "an image the annotations do not hold was answered";
    } catch (const ToolError& e) {
      EXPECT_NE(std::string(e.what()).find("do not cover image-0"), std::string::npos) << e.what();
    }
  }
  const std::string warned = testing::internal::GetCapturedStderr();
  EXPECT_NE(warned.find("warning: the oracle's annotations"), std::string::npos) << warned;
  EXPECT_EQ(warned.find("warning", warned.find("warning") + 1), std::string::npos) << "said more than once: " << warned;

  // The index of the annotations' pixels is kept in taco's cache, for the next process.
  EXPECT_TRUE(std::filesystem::exists(user_cache_dir() + "/oracle-index"));
}

TEST_F(VisionTest, DepthIsSmallerWhenCloser) {
  // The right half has inverse depth 3 (closer), so its TACO depth is 3 - 3 = 0; the left half 2.
  EXPECT_EQ(call("EstimateRegionDepth", Json{{"image", "image-0"}, {"bbox", {0.6, 0.1, 0.9, 0.9}}})["depth"], 0.0);
  EXPECT_EQ(call("EstimateRegionDepth", Json{{"image", "image-0"}, {"bbox", {0.0, 0.0, 0.4, 1.0}}})["depth"], 2.0);
  EXPECT_EQ(call("EstimateRegionDepth", Json{{"image", "image-0"}, {"bbox", {0.25, 0.0, 0.75, 1.0}}})["depth"], 1.0);
  EXPECT_EQ(call("EstimateRegionDepth", Json{{"image", "image-0"}, {"bbox", {0.25, 0.0, 0.75, 1.0}}, {"mode", "center"}})["depth"], 0.0);
  EXPECT_EQ(call("EstimateRegionDepth", Json{{"image", "image-0"}, {"bbox", {0.0, 0.0, 0.7, 1.0}}, {"mode", "mode"}})["depth"], 2.0);
  EXPECT_THROW(call("EstimateRegionDepth", Json{{"image", "image-0"}, {"bbox", {0, 0, 1, 1}}, {"mode", "median"}}), ToolError);
  // The cat is on the right (closer), the first dog on the left.
  EXPECT_EQ(call("EstimateObjectDepth", Json{{"image", "image-0"}, {"object", "cat"}})["depth"], 0.0);
  EXPECT_EQ(call("EstimateObjectDepth", Json{{"image", "image-0"}, {"object", "dog"}})["depth"], 2.0);
  EXPECT_EQ(call("EstimateObjectDepth", Json{{"image", "image-0"}, {"object", "unicorn"}})["depth"], "Object not found.");
}

TEST_F(VisionTest, SimilarityTools) {
  Json r = call("GetImageToTextsSimilarity", Json{{"image", "image-0"}, {"texts", {"a red car", "a small black cat"}}});
  EXPECT_EQ(r["best_text_index"], 1);
  EXPECT_EQ(r["best_text"], "a small black cat");
  EXPECT_EQ(r["similarity"].size(), 2u);
  Json t = call("GetTextToImagesSimilarity", Json{{"text", "dogs on grass"}, {"images", {"image-0"}}});
  EXPECT_EQ(t["best_image"], "image-0");
  Json i = call("GetImageToImagesSimilarity", Json{{"image", "image-0"}, {"other_images", {"image-0"}}});
  EXPECT_EQ(i["similarity"][0], 1.0);
}

TEST_F(VisionTest, OracleKnowsOnlyAnnotatedInputs) {
  call("Crop", Json{{"image", "image-0"}, {"bbox", {0.1, 0.1, 0.5, 0.5}}});
  try {
    call("GetObjects", Json{{"image", "image-1"}});
    FAIL();
  } catch (const ToolError& e) {
    EXPECT_NE(std::string(e.what()).find("only the input images"), std::string::npos) << e.what();
  }
}

TEST(VisionConfigTest, UnconfiguredAndBadConfigs) {
  ToolRegistry r = make_tool_registry(ToolsConfig{});
  EXPECT_NE(r.find("LocalizeObjects")->unavailable_reason().find("no backend is configured"), std::string::npos);
  // What would make a tool ready: the backends that can answer it, each with what it needs.
  const std::string detector = r.find("LocalizeObjects")->unavailable_reason();
  EXPECT_NE(detector.find("learned (taco's own detector and depth model: examples/tools-learned.json)"), std::string::npos) << detector;
  const std::string similarity = r.find("GetImageToImagesSimilarity")->unavailable_reason();
  EXPECT_EQ(similarity.find("learned"), std::string::npos) << similarity;
  EXPECT_NE(similarity.find("CLIP encoders"), std::string::npos) << similarity;
  EXPECT_NE(similarity.find("oracle (\"annotations\""), std::string::npos) << similarity;
  // Unready tools are left out of the prompt.
  for (const auto& doc : r.action_docs()) EXPECT_NE(doc.name, "LocalizeObjects");
  test::TempDir dir;
  write_file(dir.file("a.json"), R"({"tools": {"Localize": {}}})");
  EXPECT_THROW(ToolsConfig::load(dir.file("a.json")), Error);
  write_file(dir.file("b.json"), R"({"tool": {}})");
  EXPECT_THROW(ToolsConfig::load(dir.file("b.json")), Error);
  write_file(dir.file("c.json"), R"({"tools": {"GetObjects": {"backend": "magic"}}})");
  EXPECT_THROW(make_tool_registry(ToolsConfig::load(dir.file("c.json"))), Error);
  write_file(dir.file("d.json"), R"({"vision": {"backend": "oracle", "annotations": "missing.json"}})");
  ToolRegistry missing = make_tool_registry(ToolsConfig::load(dir.file("d.json")));
  EXPECT_NE(missing.find("GetObjects")->unavailable_reason().find("missing.json"), std::string::npos);
}

TEST(HttpBackendTest, SpeaksTheDocumentedProtocol) {
  test::ScriptedServer server([&](const Json& req, int) {
    if (req.contains("queries"))
      return test::ScriptedServer::Reply{200, R"({"detections": [{"label": "cat", "bbox": [0.1, 0.2, 0.3, 0.4], "score": 0.77}]})"};
    if (req.contains("texts")) return test::ScriptedServer::Reply{200, R"({"embeddings": [[1, 0], [0, 1]]})"};
    if (req.contains("images")) return test::ScriptedServer::Reply{200, R"({"embeddings": [[0.9, 0.1]]})"};
    float depth[4] = {1, 2, 3, 4};
    return test::ScriptedServer::Reply{
        200, Json{{"width", 2}, {"height", 2}, {"depth", base64_encode(std::string(reinterpret_cast<char*>(depth), 16))},
                  {"closer", "larger"}}
                 .dump()};
  });
  test::TempDir dir;
  auto backend = make_http_backend(Json{{"url", server.base_url() + "/vision/"}});
  ImageStore store;
  store.add_input(test::write_test_image(dir.file("a.png"), 40, 30));
  auto ctx = store.context_for("t");
  const auto& image = *ctx->find("image-0");
  auto det = backend->detect(image, {"cat"}, *ctx);
  ASSERT_EQ(det.size(), 1u);
  EXPECT_EQ(det[0].label, "cat");
  EXPECT_DOUBLE_EQ(det[0].score, 0.77);
  DepthMap d = backend->depth(image, *ctx);
  EXPECT_EQ(d.width, 2);
  EXPECT_FLOAT_EQ(d.at(1, 1), 0.0f);  // the largest inverse depth becomes the smallest depth
  auto texts = backend->embed_texts({"a", "b"}, *ctx);
  EXPECT_EQ(texts.size(), 2u);
  EXPECT_THROW(backend->embed_texts({"only one"}, *ctx), ToolError);  // the server sends two
  EXPECT_EQ(server.paths(), (std::vector<std::string>{"/v1/vision/detect", "/v1/vision/depth", "/v1/vision/embed",
                                                       "/v1/vision/embed"}));
  EXPECT_NE(make_http_backend(Json::object())->unavailable_reason().find("needs \"url\""), std::string::npos);
  auto down = make_http_backend(Json{{"url", "http://127.0.0.1:1"}});
  EXPECT_THROW(down->tags(image, *ctx), ToolError);
}

TEST(NpyTest, RoundTripAndDtypes) {
  float v[6] = {0, 1.5f, -2, 3, 4, 5};
  NpyArray a = parse_npy(encode_npy_f32({2, 3}, v));
  EXPECT_EQ(a.shape, (std::vector<size_t>{2, 3}));
  EXPECT_EQ(a.values[1], 1.5f);
  std::string u8("\x93NUMPY\x01\x00", 8);
  std::string header = "{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }";
  header += "\n";
  u8 += static_cast<char>(header.size());
  u8 += '\0';
  u8 += header + std::string("\x01\x02\xff", 3);
  NpyArray b = parse_npy(u8);
  EXPECT_EQ(b.values, (std::vector<float>{1, 2, 255}));
  EXPECT_THROW(parse_npy("garbage"), Error);
  EXPECT_THROW(parse_npy(u8.substr(0, u8.size() - 1)), Error);
}

}  // namespace
}  // namespace taco
