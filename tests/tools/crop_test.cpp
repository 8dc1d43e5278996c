#include <gtest/gtest.h>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "test_support.h"
#include "tools/image_cv.h"
#include "tools/image_store.h"
#include "tools/registry.h"
#include "util/error.h"
#include "util/files.h"

namespace taco {
namespace {

class ToolsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    input_ = test::write_test_image(dir_.file("in.png"), 400, 200);
    store_ = std::make_unique<ImageStore>(dir_.file("out"));
    store_->add_input(input_);
  }
  Json call(const std::string& name, Json args) { return test::call_tool(tools_, *store_, name, std::move(args)); }
  std::string error_of(const std::string& name, Json args) {
    try {
      call(name, std::move(args));
    } catch (const ToolError& e) {
      return std::string(to_string(e.kind())) + ": " + e.what();
    }
    return "no error";
  }

  test::TempDir dir_;
  std::string input_;
  ToolRegistry tools_ = make_builtin_registry();
  std::unique_ptr<ImageStore> store_;
};

TEST_F(ToolsTest, CropAddsTheMarginAndSavesTheImage) {
  Json r = call("Crop", Json{{"image", "image-0"}, {"bbox", {0.25, 0.25, 0.75, 0.75}}});
  EXPECT_EQ(r["image"], "image-1");
  const auto* e = store_->find("image-1");
  ASSERT_NE(e, nullptr);
  // A 200x100 box grows by half to 300x150, centred and inside the image.
  EXPECT_EQ(e->image.width(), 300);
  EXPECT_EQ(e->image.height(), 150);
  EXPECT_EQ(e->path, dir_.file("out/image-1.png"));
  EXPECT_EQ(Image::load(e->path).width(), 300);
  EXPECT_EQ(e->data_url->rfind("data:image/png;base64,", 0), 0u);
}

TEST_F(ToolsTest, CropClampsAtTheBorder) {
  call("Crop", Json{{"image", "image-0"}, {"bbox", {0.0, 0.0, 0.5, 0.5}}});
  const auto* e = store_->find("image-1");
  EXPECT_EQ(e->image.width(), 250);  // from 0 to centre 100 + 150
  EXPECT_EQ(e->image.height(), 125);
}

TEST_F(ToolsTest, ZoomInScalesTheCrop) {
  call("ZoomIn", Json{{"image", "image-0"}, {"bbox", {0.25, 0.25, 0.75, 0.75}}, {"zoom_factor", 2}});
  const auto* e = store_->find("image-1");
  EXPECT_EQ(e->image.width(), 600);
  EXPECT_EQ(e->image.height(), 300);
  // Tools chain on their own outputs.
  call("ZoomIn", Json{{"image", "image-1"}, {"bbox", "[0.1, 0.1, 0.9, 0.9]"}, {"zoom_factor", "1.5"}});
  EXPECT_NE(store_->find("image-2"), nullptr);
}

TEST_F(ToolsTest, TacoErrorsForBadBoxesAndFactors) {
  EXPECT_EQ(error_of("Crop", Json{{"image", "image-0"}, {"bbox", {10, 20, 100, 200}}}),
            "ValueError: Bounding box coordinates must be between 0 and 1.");
  EXPECT_EQ(error_of("ZoomIn", Json{{"image", "image-0"}, {"bbox", {0.1, 0.1, 0.5, 0.5}}, {"zoom_factor", 1}}),
            "ValueError: Zoom factor must be greater than 1 to zoom in");
  EXPECT_NE(error_of("ZoomIn", Json{{"image", "image-0"}, {"bbox", {0.1, 0.1, 0.5, 0.5}}, {"zoom_factor", 1e6}}).find("limit"),
            std::string::npos);
  EXPECT_NE(error_of("Crop", Json{{"image", "image-0"}, {"bbox", {0.5, 0.5, 0.2, 0.2}}}).find("left < right"),
            std::string::npos);
  EXPECT_NE(error_of("Crop", Json{{"image", "image-0"}, {"bbox", {0.1, 0.2}}}).find("TypeError"), std::string::npos);
}

// The images tools make in one episode total at most twice the per-image limit: repeated zooms
// are refused once that is spent, before they allocate, as one tool error each.
TEST_F(ToolsTest, AnEpisodesToolImagesHaveABudget) {
  store_ = std::make_unique<ImageStore>("", 100000);  // 100,000 pixels per image, 200,000 for the tools
  store_->add_input(input_);                          // 400 x 200 = 80,000 (inputs are not counted)
  const Json zoom{{"image", "image-0"}, {"bbox", {0.0, 0.0, 1.0, 1.0}}, {"zoom_factor", 1.1}};  // ~ 97,000 pixels each
  call("ZoomIn", zoom);
  call("ZoomIn", zoom);
  EXPECT_LT(store_->tool_pixels_left(), 97000);
  EXPECT_NE(error_of("ZoomIn", zoom).find("over the limit of " + std::to_string(store_->tool_pixels_left())), std::string::npos)
      << error_of("ZoomIn", zoom);
  call("Crop", Json{{"image", "image-0"}, {"bbox", {0.0, 0.0, 0.1, 0.1}}});  // small ones still fit
  EXPECT_NE(error_of("Crop", Json{{"image", "image-0"}, {"bbox", {0.0, 0.0, 1.0, 1.0}}}).find("all the image pixels it allows"),
            std::string::npos);
  EXPECT_EQ(store_->entries().size(), 4u);
}

TEST_F(ToolsTest, ImagesOnlyByEpisodeName) {
  EXPECT_NE(error_of("Crop", Json{{"image", input_}, {"bbox", {0.1, 0.1, 0.5, 0.5}}}).find("does not exist"),
            std::string::npos);
  EXPECT_NE(error_of("Crop", Json{{"image", "image-7"}, {"bbox", {0.1, 0.1, 0.5, 0.5}}}).find("available images: image-0"),
            std::string::npos);
  // Common spellings of a valid name are accepted.
  EXPECT_EQ(call("Crop", Json{{"image", "image-0: <image>"}, {"bbox", {0.1, 0.1, 0.5, 0.5}}})["image"], "image-1");
}

TEST_F(ToolsTest, ArgumentValidation) {
  EXPECT_EQ(error_of("Calculate", Json::object()), "TypeError: Calculate() missing 1 required positional argument: 'expression'");
  EXPECT_EQ(error_of("Calculate", Json{{"expression", "1"}, {"extra", 2}}),
            "TypeError: Calculate() got an unexpected keyword argument 'extra'");
  EXPECT_EQ(error_of("NoSuchTool", Json::object()).rfind("KeyError: 'NoSuchTool' is not an available action", 0), 0u);
  EXPECT_EQ(call("Calculate", Json{{"expression", 12}})["result"], 12);
  EXPECT_EQ(call("Terminate", Json{{"answer", 8}})["answer"], "8");
}

TEST_F(ToolsTest, VisualizeRegionsDrawsOnACopy) {
  Json r = call("VisualizeRegionsOnImage",
                Json{{"image", "image-0"}, {"regions", {{{"bbox", {0.1, 0.1, 0.4, 0.6}}, {"label", "cat"}}}}, {"color", "red"}});
  EXPECT_EQ(r["image"], "image-1");
  EXPECT_EQ(store_->find("image-1")->image.width(), 400);
  EXPECT_NE(error_of("VisualizeRegionsOnImage", Json{{"image", "image-0"}, {"regions", {{{"bbox", {0.1, 0.1, 0.4, 0.6}}}}}, {"color", "chartreuse-ish"}})
                .find("unknown color"),
            std::string::npos);
}

TEST(ImageTest, BadFilesGiveClearErrors) {
  test::TempDir dir;
  write_file(dir.file("empty.png"), "");
  write_file(dir.file("text.png"), "this is not an image");
  EXPECT_THROW(Image::load(dir.file("missing.png")), Error);
  EXPECT_THROW(Image::load(dir.file("empty.png")), Error);
  EXPECT_THROW(Image::load(dir.file("text.png")), Error);
  EXPECT_THROW(Image::load(dir.path()), Error);
}

TEST(ImageTest, DecompressionBombRefusedFromItsHeader) {
  // A PNG header declaring 50000 x 50000 pixels, with no data behind it.
  std::string png("\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\xc3\x50\0\0\xc3\x50\x08\x02\0\0\0", 29);
  int64_t w = 0, h = 0;
  ASSERT_TRUE(image_header_size(png, w, h));
  EXPECT_EQ(w, 50000);
  try {
    Image::decode(png, kDefaultMaxPixels, "bomb.png");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("over the limit"), std::string::npos) << e.what();
  }
}

// The limit holds for every format before decoding: a TIFF's size is read from its first
// directory (this one, a few bytes, once took 2.7 GB to decode), and a format whose size the
// header does not tell is not decoded at all.
TEST(ImageTest, EveryFormatIsMeasuredBeforeDecoding) {
  // Little-endian TIFF: header, then a directory of two LONG entries: 30000 x 30000.
  std::string tiff("II*\0\x08\0\0\0\x02\0", 10);
  tiff += std::string("\x00\x01\x04\x00\x01\0\0\0\x30\x75\0\0", 12);  // ImageWidth
  tiff += std::string("\x01\x01\x04\x00\x01\0\0\0\x30\x75\0\0", 12);  // ImageLength
  tiff += std::string(4, '\0');
  int64_t w = 0, h = 0;
  ASSERT_TRUE(image_header_size(tiff, w, h));
  EXPECT_EQ(w, 30000);
  EXPECT_EQ(h, 30000);
  auto refusal = [](const std::string& bytes) -> std::string {
    try {
      Image::decode(bytes, kDefaultMaxPixels, "x");
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(refusal(tiff).find("30000x30000, over the limit"), std::string::npos) << refusal(tiff);
  EXPECT_NE(refusal("P6\n# made by hand\n40000 40000\n255\n").find("40000x40000, over the limit"), std::string::npos);
  EXPECT_NE(refusal(std::string("\x00\x00\x00\x0cjP  \r\n\x87\n", 12)).find("not an image taco reads"), std::string::npos);
  const std::string far_directory("II*\0\xff\xff\xff\x7f", 8);
  EXPECT_NE(refusal(far_directory).find("damaged tiff header"), std::string::npos) << refusal(far_directory);
}

// libjpeg decodes a JPEG cut short without complaint (gray below the cut): it is refused.
TEST(ImageTest, TruncatedJpegIsReported) {
  test::TempDir dir;
  const std::string jpeg = Image::load(test::write_test_image(dir.file("a.png"), 200, 150)).encode(".jpg");
  EXPECT_NO_THROW(Image::decode(jpeg, kDefaultMaxPixels, "whole.jpg"));
  EXPECT_NO_THROW(Image::decode(jpeg + std::string(100, '\0'), kDefaultMaxPixels, "padded.jpg"));  // bytes after the end are fine
  try {
    Image::decode(jpeg.substr(0, jpeg.size() * 2 / 3), kDefaultMaxPixels, "cut.jpg");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cut.jpg: a truncated JPEG"), std::string::npos) << e.what();
  }
}

// JPEG goes through libjpeg-turbo's own API: the same pixels as OpenCV's decoder gives, and a
// picture with Exif data is still turned as its orientation tag says (it goes through OpenCV).
TEST(ImageTest, JpegDecodesToOpenCvsPixelsAndExifOrientationIsHonoured) {
  test::TempDir dir;
  const Image img = Image::load(test::write_test_image(dir.file("a.png"), 123, 45, "A7"));
  const std::string jpeg = img.encode(".jpg", 90);
  const Image mine = Image::decode(jpeg, kDefaultMaxPixels, "a.jpg");
  const std::vector<uchar> raw(jpeg.begin(), jpeg.end());
  const cv::Mat theirs = cv::imdecode(raw, cv::IMREAD_COLOR);
  ASSERT_EQ(mine.width(), theirs.cols);
  EXPECT_EQ(cv::norm(mat_of(mine), theirs, cv::NORM_INF), 0.0);
  // Orientation 6 (turned a quarter clockwise) in an APP1 Exif segment right after SOI.
  const std::string tiff("II*\0\x08\0\0\0\x01\0\x12\x01\x03\0\x01\0\0\0\x06\0\0\0\0\0\0\0", 26);
  const std::string payload = std::string("Exif\0\0", 6) + tiff;
  const size_t length = payload.size() + 2;
  const std::string app1 = std::string("\xFF\xE1", 2) + static_cast<char>(length >> 8) + static_cast<char>(length & 0xFF) + payload;
  const Image turned = Image::decode(jpeg.substr(0, 2) + app1 + jpeg.substr(2), kDefaultMaxPixels, "turned.jpg");
  EXPECT_EQ(turned.width(), 45);
  EXPECT_EQ(turned.height(), 123);
}

TEST(ImageTest, HeaderSizeOfRealEncodings) {
  test::TempDir dir;
  Image img = Image::load(test::write_test_image(dir.file("a.png"), 123, 45));
  for (const char* ext : {".png", ".jpg", ".tiff", ".ppm", ".bmp", ".webp"}) {
    int64_t w = 0, h = 0;
    ASSERT_TRUE(image_header_size(img.encode(ext), w, h)) << ext;
    EXPECT_EQ(w, 123);
    EXPECT_EQ(h, 45);
    EXPECT_EQ(Image::decode(img.encode(ext), kDefaultMaxPixels, ext).width(), 123) << ext;
  }
}

}  // namespace
}  // namespace taco
