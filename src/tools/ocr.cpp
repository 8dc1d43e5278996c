// OCR with Tesseract. The model sees the text in reading order; the word boxes and confidences
// go to the trace's step details. One TessBaseAPI per thread and language (initialising one
// costs ~100 ms, so it is kept), and a cancel hook so an abandoned call stops early.
//
// Tesseract's OpenMP threads make it ~10x slower on small machines unless OMP_THREAD_LIMIT=1 is
// set before the process starts; the taco binary re-executes itself with it set.
#include <tesseract/baseapi.h>
#include <tesseract/ocrclass.h>
#include <tesseract/resultiterator.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <memory>
#include <tuple>
#include <vector>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "tools/args.h"
#include "tools/builtin.h"
#include "tools/image_cv.h"
#include "util/strings.h"
#include "tools/catalog.h"

namespace taco {
namespace {

// Drops trailing spaces on each line and runs of blank lines.
std::string tidy(const std::string& text) {
  std::istringstream in(text);
  std::string line, out;
  bool blank = false;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.pop_back();
    if (line.empty()) {
      blank = !out.empty();
      continue;
    }
    if (!out.empty()) out += blank ? "\n\n" : "\n";
    out += line;
    blank = false;
  }
  return out;
}

// Light, neutral, roughly rectangular regions: signs, labels, price tags, the plates taco synth
// prints numbers on. Tesseract's page layout analysis finds no text in a photo with a few such
// plates (it read 1 of 22 printed numbers in a synthetic world), so each is read as one line.
std::vector<cv::Rect> light_plates(const cv::Mat& bgr) {
  cv::Mat hsv, mask;
  cv::cvtColor(bgr, hsv, cv::COLOR_BGR2HSV);
  cv::inRange(hsv, cv::Scalar(0, 0, 200), cv::Scalar(180, 40, 255), mask);
  std::vector<std::vector<cv::Point>> contours;
  cv::findContours(mask, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_SIMPLE);
  std::vector<cv::Rect> plates;
  for (const auto& c : contours) {
    const cv::Rect r = cv::boundingRect(c);
    // Big enough for a line of print, not the page itself (documents go to the page pass).
    if (r.height < 14 || r.width < 14 || r.height > bgr.rows / 2 || r.width > bgr.cols * 3 / 4) continue;
    if (cv::contourArea(c) < 0.8 * r.area()) continue;
    plates.push_back(r);
  }
  // The 32 largest at most: an image of a thousand small light squares costs 32 reads, not a
  // thousand (each is a Tesseract call).
  constexpr size_t kMaxPlates = 32;
  if (plates.size() > kMaxPlates) {
    std::partial_sort(plates.begin(), plates.begin() + kMaxPlates, plates.end(),
                      [](const cv::Rect& a, const cv::Rect& b) { return a.area() > b.area(); });
    plates.resize(kMaxPlates);
  }
  // Reading order: rows top to bottom (a plate starting within half the row's first plate's
  // height of it joins that row), each row left to right.
  std::sort(plates.begin(), plates.end(), [](const cv::Rect& a, const cv::Rect& b) { return a.y < b.y || (a.y == b.y && a.x < b.x); });
  for (size_t row = 0; row < plates.size();) {
    size_t end = row + 1;
    while (end < plates.size() && plates[end].y - plates[row].y <= plates[row].height / 2) ++end;
    std::sort(plates.begin() + static_cast<long>(row), plates.begin() + static_cast<long>(end),
              [](const cv::Rect& a, const cv::Rect& b) { return a.x < b.x || (a.x == b.x && a.y < b.y); });
    row = end;
  }
  return plates;
}

class OcrTool : public Tool {
 public:
  OcrTool(std::string language, std::string datapath) : language_(std::move(language)), datapath_(std::move(datapath)) {
    // Check once that the language data loads, so `taco tools list` can say so.
    tesseract::TessBaseAPI probe;
    if (probe.Init(datapath_.empty() ? nullptr : datapath_.c_str(), language_.c_str(), tesseract::OEM_LSTM_ONLY) != 0)
      unavailable_ = "Tesseract cannot load language '" + language_ + "' (install tesseract-ocr-" + language_ + ")";
  }

  const ToolSpec& spec() const override {
    static const ToolSpec s{
        "OCR",
        "Reads the text in an image, in reading order, or returns an empty string when there is none. The text may "
        "contain mistakes or be out of order, so use it as a reference.",
        {{"image", ArgType::kImage, "the image to read text from."}},
        {{"text", "the text found in the image."}},
        {Json{{"name", "OCR"}, {"arguments", {{"image", "image-0"}}}}}};
    return s;
  }
  std::string backend() const override { return "tesseract"; }
  std::string unavailable_reason() const override { return unavailable_; }

  Json call(const Json& args, ToolContext& ctx) const override {
    const cv::Mat& bgr = mat_of(image_arg(args, "image", ctx));
    cv::Mat plain;  // the image in gray at its own size: the plates are cut from it
    cv::cvtColor(bgr, plain, cv::COLOR_BGR2GRAY);
    // Tesseract reads small print badly: the page pass brings the shorter side of small images
    // up to 400 px.
    cv::Mat gray = plain;
    const int shorter = std::min(gray.cols, gray.rows);
    if (shorter < 400) {
      double scale = std::min(3.0, 400.0 / std::max(shorter, 1));
      cv::resize(plain, gray, {}, scale, scale, cv::INTER_CUBIC);
    }

    tesseract::TessBaseAPI& api = engine();
    tesseract::ETEXT_DESC monitor;
    monitor.cancel = [](void* c, int) { return static_cast<ToolContext*>(c)->cancelled(); };
    monitor.cancel_this = &ctx;
    Json words = Json::array();
    auto read = [&](const cv::Mat& image, tesseract::PageSegMode mode, const std::function<cv::Rect2d(const cv::Rect&)>& to_whole) {
      return read_text(api, monitor, ctx, image, mode, to_whole);
    };
    auto keep = [&](Json& found) {
      for (auto& w : found) words.push_back(std::move(w));
    };
    const double W = gray.cols, H = gray.rows;
    auto whole_page = [&](const cv::Rect& r) { return cv::Rect2d(r.x / W, r.y / H, r.width / W, r.height / H); };

    // The page, as a document: its layout analysis finds blocks and lines.
    auto page = read(gray, tesseract::PSM_AUTO, whole_page);
    std::string text = std::get<0>(page);
    if (text.size() >= 2) keep(std::get<2>(page));
    else text.clear();

    // Each light plate as one line, its print brought to ~48 px high and set on white.
    for (const cv::Rect& plate : light_plates(bgr)) {
      const cv::Rect inside(plate.x + 3, plate.y + 3, plate.width - 6, plate.height - 6);  // not its border line
      if (inside.width < 8 || inside.height < 8) continue;
      const double scale = std::max(1.0, 48.0 / inside.height);
      cv::Mat line, framed;
      cv::resize(plain(inside), line, {}, scale, scale, cv::INTER_CUBIC);
      const int margin = 16;
      cv::copyMakeBorder(line, framed, margin, margin, margin, margin, cv::BORDER_CONSTANT, 255);
      auto [said, confidence, found] = read(framed, tesseract::PSM_SINGLE_LINE, [&](const cv::Rect& r) {
        return cv::Rect2d((inside.x + (r.x - margin) / scale) / bgr.cols, (inside.y + (r.y - margin) / scale) / bgr.rows,
                          r.width / scale / bgr.cols, r.height / scale / bgr.rows);
      });
      // Under 60 it is a plate with no print (a white object, a window): Tesseract guesses.
      const bool readable = confidence >= 60 && std::any_of(said.begin(), said.end(), [](unsigned char c) { return std::isalnum(c); });
      if (!readable || text.find(said) != std::string::npos) continue;
      text += (text.empty() ? "" : "\n") + said;
      keep(found);
    }

    // Nothing yet: a last pass that looks for sparse text anywhere.
    if (text.empty()) {
      auto [sparse, confidence, found] = read(gray, tesseract::PSM_SPARSE_TEXT, whole_page);
      if (!sparse.empty()) {
        text = sparse;
        keep(found);
      }
    }
    ctx.set_details(Json{{"words", std::move(words)}});
    return Json{{"text", text}};
  }

 private:

  // Runs Tesseract on `image` in `mode`: its text, mean confidence (0-100) and words, their boxes
  // mapped to the whole image by `to_whole` (a box in `image`'s pixels -> one in [0, 1]).
  static std::tuple<std::string, int, Json> read_text(tesseract::TessBaseAPI& api, tesseract::ETEXT_DESC& monitor, ToolContext& ctx,
                                                      const cv::Mat& image, tesseract::PageSegMode mode,
                                                      const std::function<cv::Rect2d(const cv::Rect&)>& to_whole) {
    api.SetPageSegMode(mode);
    api.SetImage(image.data, image.cols, image.rows, 1, static_cast<int>(image.step));
    api.SetSourceResolution(300);
    if (api.Recognize(&monitor) != 0) {
      api.Clear();
      throw ToolError(ToolFailure::kRuntimeError, ctx.cancelled() ? "OCR was cancelled" : "Tesseract could not read the image");
    }
    std::unique_ptr<char[]> text(api.GetUTF8Text());
    const int confidence = api.MeanTextConf();
    Json found = Json::array();
    std::unique_ptr<tesseract::ResultIterator> it(api.GetIterator());
    if (it) {
      do {
        std::unique_ptr<char[]> word(it->GetUTF8Text(tesseract::RIL_WORD));
        if (!word) continue;
        int x1, y1, x2, y2;
        it->BoundingBox(tesseract::RIL_WORD, &x1, &y1, &x2, &y2);
        const cv::Rect2d b = to_whole(cv::Rect(x1, y1, x2 - x1, y2 - y1));
        found.push_back(Json{{"text", word.get()},
                             {"bbox", {round2(b.x), round2(b.y), round2(b.x + b.width), round2(b.y + b.height)}},
                             {"confidence", round2(it->Confidence(tesseract::RIL_WORD) / 100.0)}});
      } while (it->Next(tesseract::RIL_WORD));
    }
    api.Clear();
    return std::make_tuple(tidy(text ? text.get() : ""), confidence, std::move(found));
  }
  tesseract::TessBaseAPI& engine() const {
    thread_local std::map<std::string, std::unique_ptr<tesseract::TessBaseAPI>> engines;
    auto& e = engines[datapath_ + "\n" + language_];
    if (!e) {
      e = std::make_unique<tesseract::TessBaseAPI>();
      if (e->Init(datapath_.empty() ? nullptr : datapath_.c_str(), language_.c_str(), tesseract::OEM_LSTM_ONLY) != 0) {
        e.reset();
        throw ToolError(ToolFailure::kRuntimeError, "Tesseract cannot load language '" + language_ + "'");
      }
      e->SetVariable("debug_file", "/dev/null");  // no "Estimating resolution" chatter on stderr
    }
    return *e;
  }

  std::string language_;
  std::string datapath_;
  std::string unavailable_;
};

}  // namespace

std::unique_ptr<Tool> make_ocr_tool(const Json& options) {
  return std::make_unique<OcrTool>(options.value("language", "eng"), options.value("datapath", ""));
}

namespace {

const ToolRegistration kOcr({"OCR", 1, false, false, false,
                              [](const ToolMaking& m) { return make_ocr_tool(m.section_with_path("OCR", "datapath")); }});

}  // namespace

}  // namespace taco
