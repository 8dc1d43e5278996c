// The torchscript backend against small TorchScript modules that the test defines with the
// same signatures as the exported models (docs/tools.md).
#include <gtest/gtest.h>
#include <torch/script.h>

#include <opencv2/imgcodecs.hpp>

#include "test_support.h"
#include "tools/clip_tokenizer.h"
#include "tools/config.h"
#include "tools/image_store.h"
#include "util/error.h"
#include "util/files.h"

namespace taco {
namespace {

void save_module(const std::string& path, const std::string& source) {
  torch::jit::Module m("TestModule");
  m.define(source);
  m.save(path);
}

void write_tokenizer(const test::TempDir& dir) {
  write_file(dir.file("vocab.json"), R"({"<|startoftext|>": 100, "<|endoftext|>": 101, "c": 1, "a": 2, "t</w>": 3,
    "ca": 4, "cat</w>": 5, "d": 6, "o": 7, "g</w>": 8, "do": 9, "dog</w>": 10, "a</w>": 11})");
  write_file(dir.file("merges.txt"), "#version: 0.2\nc a\nca t</w>\nd o\ndo g</w>\n");
}

TEST(ClipTokenizerTest, BytePairMerges) {
  test::TempDir dir;
  write_tokenizer(dir);
  ClipTokenizer tok(dir.file("vocab.json"), dir.file("merges.txt"));
  EXPECT_EQ(tok.encode("a  Cat"), (std::vector<int64_t>{100, 11, 5, 101}));
  EXPECT_EQ(tok.encode("DOG"), (std::vector<int64_t>{100, 10, 101}));
  EXPECT_EQ(tok.encode_padded("a cat dog", 4), (std::vector<int64_t>{100, 11, 5, 101}));  // cut, end token kept
  EXPECT_EQ(tok.encode_padded("dog", 5), (std::vector<int64_t>{100, 10, 101, 0, 0}));
  EXPECT_THROW(ClipTokenizer(dir.file("none.json"), dir.file("merges.txt")), taco::Error);
}

class TorchScriptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    write_tokenizer(dir_);
    save_module(dir_.file("depth.pt"), "def forward(self, x):\n    return x.mean(dim=1)\n");
    save_module(dir_.file("image.pt"), "def forward(self, x):\n    return x.mean(dim=[2, 3])\n");
    save_module(dir_.file("text.pt"),
                "def forward(self, ids):\n"
                "    return torch.stack([(ids == 5).sum(dim=1).float(), (ids == 10).sum(dim=1).float(), (ids == 11).sum(dim=1).float()], dim=1)\n");
    save_module(dir_.file("detector.pt"),
                "def forward(self, pixels, ids, mask):\n"
                "    logits = torch.zeros([1, 2, ids.size(0)]) - 5.0\n"
                "    logits[0, 0, 0] = 5.0\n"
                "    boxes = torch.tensor([[[0.25, 0.25, 0.2, 0.2], [0.5, 0.5, 0.1, 0.1]]])\n"
                "    return logits, boxes\n");
    write_file(dir_.file("labels.txt"), "cat\ndog\n");
    Json config{{"vision",
                 {{"backend", "torchscript"}, {"depth_model", "depth.pt"}, {"image_encoder", "image.pt"},
                  {"text_encoder", "text.pt"}, {"detector", "detector.pt"}, {"vocab", "vocab.json"},
                  {"merges", "merges.txt"}, {"tags_vocabulary", "labels.txt"}, {"image_size", 32},
                  {"depth_size", 28}, {"detector_size", 64}}}};
    write_file(dir_.file("tools.json"), config.dump());
    tools_ = std::make_unique<ToolRegistry>(make_tool_registry(ToolsConfig::load(dir_.file("tools.json"))));
    // Left half black, right half white: the depth module calls bright pixels near.
    cv::Mat img(100, 200, CV_8UC3, cv::Scalar(0, 0, 0));
    img(cv::Rect(100, 0, 100, 100)).setTo(cv::Scalar(255, 255, 255));
    cv::imwrite(dir_.file("half.png"), img);
    store_.add_input(dir_.file("half.png"));
  }
  Json call(const std::string& name, Json args) { return test::call_tool(*tools_, store_, name, std::move(args)); }
  test::TempDir dir_;
  std::unique_ptr<ToolRegistry> tools_;
  ImageStore store_;
};

TEST_F(TorchScriptTest, AllToolsReady) {
  for (const char* name : {"GetObjects", "LocalizeObjects", "EstimateRegionDepth", "EstimateObjectDepth",
                           "GetImageToImagesSimilarity", "GetImageToTextsSimilarity", "GetTextToImagesSimilarity"}) {
    EXPECT_EQ(tools_->find(name)->unavailable_reason(), "") << name;
    EXPECT_EQ(tools_->find(name)->backend(), "torchscript") << name;
  }
}

TEST_F(TorchScriptTest, DepthFromTheModuleSmallerIsCloser) {
  double right = call("EstimateRegionDepth", Json{{"image", "image-0"}, {"bbox", {0.6, 0.1, 0.9, 0.9}}})["depth"];
  double left = call("EstimateRegionDepth", Json{{"image", "image-0"}, {"bbox", {0.1, 0.1, 0.4, 0.9}}})["depth"];
  EXPECT_EQ(right, 0.0);
  EXPECT_GT(left, 3.0);
}

TEST_F(TorchScriptTest, DetectorBoxesAreUnpaddedAndThresholded) {
  Json r = call("LocalizeObjects", Json{{"image", "image-0"}, {"objects", {"cat", "dog"}}});
  ASSERT_EQ(r["regions"].size(), 1u);
  // (cx, cy, w, h) = (0.25, 0.25, 0.2, 0.2) of the 200 x 200 padded square; the image is 200 x 100.
  EXPECT_EQ(r["regions"][0], Json::parse(R"({"label": "cat", "bbox": [0.15, 0.3, 0.35, 0.7], "score": 0.99})"));
  EXPECT_EQ(r["image"], "image-1");
  EXPECT_EQ(call("EstimateObjectDepth", Json{{"image", "image-0"}, {"object", "cat"}})["depth"].is_number(), true);
}

TEST_F(TorchScriptTest, EmbeddingsAndTags) {
  Json r = call("GetImageToTextsSimilarity", Json{{"image", "image-0"}, {"texts", {"a cat", "dog"}}});
  EXPECT_EQ(r["similarity"].size(), 2u);
  Json t = call("GetTextToImagesSimilarity", Json{{"text", "a cat"}, {"images", {"image-0", "image-0"}}});
  EXPECT_EQ(t["best_image_index"], 0);
  Json objects = call("GetObjects", Json{{"image", "image-0"}});
  EXPECT_TRUE(objects["objects"].is_array());
}

TEST(TorchScriptConfigTest, MissingOrBrokenModulesAreReported) {
  test::TempDir dir;
  write_file(dir.file("broken.pt"), "not a zip archive");
  write_file(dir.file("a.json"), R"({"vision": {"backend": "torchscript", "depth_model": "broken.pt"}})");
  ToolRegistry r = make_tool_registry(ToolsConfig::load(dir.file("a.json")));
  EXPECT_NE(r.find("EstimateRegionDepth")->unavailable_reason().find("cannot load the TorchScript module"), std::string::npos);
  write_file(dir.file("b.json"), R"({"vision": {"backend": "torchscript"}})");
  ToolRegistry none = make_tool_registry(ToolsConfig::load(dir.file("b.json")));
  EXPECT_NE(none.find("GetObjects")->unavailable_reason().find("needs at least one"), std::string::npos);
}

}  // namespace
}  // namespace taco
