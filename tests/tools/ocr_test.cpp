#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "test_support.h"
#include "tools/builtin.h"
#include "tools/image_store.h"
#include "tools/registry.h"
#include "util/files.h"
#include "util/json.h"

namespace taco {
namespace {

std::string render_text_image(const std::string& path, const std::vector<std::string>& lines) {
  cv::Mat img(90 + 70 * static_cast<int>(lines.size()), 900, CV_8UC3, cv::Scalar(255, 255, 255));
  for (size_t i = 0; i < lines.size(); ++i)
    cv::putText(img, lines[i], {40, 80 + 70 * static_cast<int>(i)}, cv::FONT_HERSHEY_DUPLEX, 1.6, {0, 0, 0}, 2, cv::LINE_AA);
  cv::imwrite(path, img);
  return path;
}

TEST(OcrTest, ReadsRenderedTextWithWordBoxes) {
  test::TempDir dir;
  ImageStore store;
  store.add_input(render_text_image(dir.file("text.png"), {"Regular 3.49", "Supreme 3.65", "TOTAL 42"}));
  ToolRegistry tools;
  tools.add(make_ocr_tool());
  ASSERT_EQ(tools.find("OCR")->unavailable_reason(), "");
  auto ctx = store.context_for("t");
  Json r = tools.execute(Action{"OCR", Json{{"image", "image-0"}}}, ctx);
  std::string text = r["text"];
  EXPECT_NE(text.find("Regular 3.49"), std::string::npos) << text;
  EXPECT_NE(text.find("Supreme 3.65"), std::string::npos) << text;
  EXPECT_NE(text.find("TOTAL 42"), std::string::npos) << text;
  // Lines come in reading order.
  EXPECT_LT(text.find("Regular"), text.find("Supreme"));
  const Json& words = ctx->details()["words"];
  ASSERT_GE(words.size(), 6u);
  EXPECT_EQ(words[0]["text"], "Regular");
  EXPECT_GT(words[0]["confidence"].get<double>(), 0.5);
  EXPECT_LT(words[0]["bbox"][0].get<double>(), 0.2);
}

TEST(OcrTest, BlankImageGivesEmptyText) {
  test::TempDir dir;
  cv::imwrite(dir.file("blank.png"), cv::Mat(100, 100, CV_8UC3, cv::Scalar(255, 255, 255)));
  ImageStore store;
  store.add_input(dir.file("blank.png"));
  ToolRegistry tools;
  tools.add(make_ocr_tool());
  auto ctx = store.context_for("t");
  EXPECT_EQ(tools.execute(Action{"OCR", Json{{"image", "image-0"}}}, ctx)["text"], "");
}

// The numbers and words taco synth prints on plates (signs, boxes, houses), read in the scene:
// Tesseract's page layout found no text among the objects (1 of 22 read in this world, the demo's
// ocr_math questions answered from invented numbers); each light plate is now read as a line.
TEST(OcrTest, ReadsThePrintedPlatesOfSyntheticScenes) {
  test::TempDir dir;
  ASSERT_EQ(test::run_taco("synth -q --n 40 --seed 7 --out " + dir.file("world")).code, 0);
  const Json scenes = Json::parse(read_file(dir.file("world/scene-graph-annotations.json")));
  ToolRegistry tools;
  tools.add(make_ocr_tool());
  size_t printed = 0, read = 0;
  std::string missed;
  for (const auto& [id, scene] : scenes.items()) {
    std::vector<std::string> texts;
    for (const auto& t : scene["annotation"].value("texts", Json::array()))
      if (!t.get<std::string>().empty()) texts.push_back(t);
    if (texts.empty()) continue;
    ImageStore store;
    store.add_input(dir.file("world/" + scene["data_path"].get<std::string>()));
    auto ctx = store.context_for(id);
    const std::string text = tools.execute(Action{"OCR", Json{{"image", "image-0"}}}, ctx)["text"];
    std::string words = " ";
    for (char c : text) words += std::isalnum(static_cast<unsigned char>(c)) ? c : ' ';
    words += " ";
    for (const auto& t : texts) {
      ++printed;
      if (words.find(" " + t + " ") != std::string::npos) ++read;
      else missed += id + ": " + t + " (read '" + text + "')\n";
    }
  }
  ASSERT_GE(printed, 15u);
  EXPECT_GE(static_cast<double>(read), 0.9 * static_cast<double>(printed)) << read << " of " << printed << "\n" << missed;
}

TEST(OcrTest, MissingLanguageIsReportedNotFatal) {
  auto tool = make_ocr_tool(Json{{"language", "xx-none"}});
  EXPECT_NE(tool->unavailable_reason().find("cannot load language 'xx-none'"), std::string::npos);
}

}  // namespace
}  // namespace taco
