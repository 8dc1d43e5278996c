// Decoding the detector's output into what LocalizeObjects reports: a centre becomes a box in
// the image's pixels with its score and attributes, and a weaker centre of another category
// whose box overlaps a stronger one's by IoU 0.6 or more is the same object guessed twice
// (left out), while boxes that overlap a little are two objects.
#include <gtest/gtest.h>

#include "tools/vision.h"
#include "vision/vision_heads.h"

namespace taco {
namespace {

class DecodeObjectsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = VisionModelConfig::preset(VisionTask::kDetector, "tiny");
    const int64_t k = static_cast<int64_t>(config_.categories.size());
    size_ = k;
    out_ = torch::zeros({config_.output_channels(), 30, 40});
    out_.narrow(0, 0, k).fill_(-10);  // no centre anywhere
  }
  // A centre of category `category` at cell (x, y) with logit `logit`, its box w x h cells.
  void centre(int category, int x, int y, float logit, float w, float h) {
    out_[category][y][x] = logit;
    out_[size_][y][x] = w;
    out_[size_ + 1][y][x] = h;
  }
  std::vector<SceneObject> decode() { return decode_objects(out_, config_, 400, 300, 0.3); }

  VisionModelConfig config_;
  int64_t size_ = 0;
  torch::Tensor out_;
};

TEST_F(DecodeObjectsTest, ACentreIsABoxInTheImagesPixels) {
  centre(2, 10, 5, 3.0f, 4, 6);
  const auto found = decode();
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].label, config_.categories[2]);
  EXPECT_NEAR(*found[0].score, 1 / (1 + std::exp(-3.0)), 1e-6);
  // cell 10 of 40 across a 400-pixel image, 4 cells wide: 80 to 120; 5 of 30 down 300, 6 tall: 20 to 80
  EXPECT_NEAR(found[0].box[0], 80, 1e-3);
  EXPECT_NEAR(found[0].box[1], 20, 1e-3);
  EXPECT_NEAR(found[0].box[2], 120, 1e-3);
  EXPECT_NEAR(found[0].box[3], 80, 1e-3);
  EXPECT_GE(found[0].attributes.size(), 2u);  // colour and material at least
}

TEST_F(DecodeObjectsTest, AnotherCategorysWeakerGuessAtTheSameObjectIsLeftOut) {
  centre(0, 10, 10, 3.0f, 6, 6);
  centre(1, 11, 10, 1.0f, 6, 6);   // the same object, a second category: IoU 0.71
  centre(1, 30, 20, 2.0f, 4, 4);   // a real object of that category elsewhere
  centre(3, 13, 10, 1.5f, 2, 2);   // overlapping the first box a little (IoU 0.05): an object of its own
  const auto found = decode();
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[0].label, config_.categories[0]);
  EXPECT_EQ(found[1].label, config_.categories[1]);
  EXPECT_NEAR(found[1].box[0], 280, 1e-3);  // the one at cell 30, not the guess at cell 11
  EXPECT_EQ(found[2].label, config_.categories[3]);
  for (size_t i = 0; i < found.size(); ++i)
    for (size_t j = i + 1; j < found.size(); ++j) EXPECT_LT(box_iou(found[i].box, found[j].box), 0.6);
}

}  // namespace
}  // namespace taco
