// OCR with Tesseract. The model sees the text in reading order; the word boxes and confidences
// go to the trace's step details. One TessBaseAPI per thread and language (initialising one
// costs ~100 ms, so it is kept), and a cancel hook so an abandoned call stops early.
//
// Tesseract's OpenMP threads make it ~10x slower on small machines unless OMP_THREAD_LIMIT=1 is
// set before the process starts; the taco binary re-executes itself with it set.
#include <tesseract/baseapi.h>
#include <tesseract/ocrclass.h>
#include <tesseract/resultiterator.h>

#include <map>
#include <memory>
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
    cv::Mat gray;
    cv::cvtColor(bgr, gray, cv::COLOR_BGR2GRAY);
    // Tesseract reads small print badly: bring the shorter side of small images up to 400 px.
    const int shorter = std::min(gray.cols, gray.rows);
    if (shorter < 400) {
      double scale = std::min(3.0, 400.0 / std::max(shorter, 1));
      cv::resize(gray, gray, {}, scale, scale, cv::INTER_CUBIC);
    }

    tesseract::TessBaseAPI& api = engine();
    tesseract::ETEXT_DESC monitor;
    monitor.cancel = [](void* c, int) { return static_cast<ToolContext*>(c)->cancelled(); };
    monitor.cancel_this = &ctx;
    // Page layout analysis suits documents; photos with a few scattered words often come back
    // empty from it, so those get a second pass that looks for sparse text.
    for (auto mode : {tesseract::PSM_AUTO, tesseract::PSM_SPARSE_TEXT}) {
      api.SetPageSegMode(mode);
      api.SetImage(gray.data, gray.cols, gray.rows, 1, static_cast<int>(gray.step));
      api.SetSourceResolution(300);
      if (api.Recognize(&monitor) != 0) {
        api.Clear();
        throw ToolError(ToolFailure::kRuntimeError, ctx.cancelled() ? "OCR was cancelled" : "Tesseract could not read the image");
      }
      std::unique_ptr<char[]> probe(api.GetUTF8Text());
      if (probe && tidy(probe.get()).size() >= 2) break;
    }
    std::unique_ptr<char[]> text(api.GetUTF8Text());
    Json words = Json::array();
    const double W = gray.cols, H = gray.rows;
    std::unique_ptr<tesseract::ResultIterator> it(api.GetIterator());
    if (it) {
      do {
        std::unique_ptr<char[]> word(it->GetUTF8Text(tesseract::RIL_WORD));
        if (!word) continue;
        int x1, y1, x2, y2;
        it->BoundingBox(tesseract::RIL_WORD, &x1, &y1, &x2, &y2);
        words.push_back(Json{{"text", word.get()},
                             {"bbox", {round2(x1 / W), round2(y1 / H), round2(x2 / W), round2(y2 / H)}},
                             {"confidence", round2(it->Confidence(tesseract::RIL_WORD) / 100.0)}});
      } while (it->Next(tesseract::RIL_WORD));
    }
    api.Clear();
    ctx.set_details(Json{{"words", std::move(words)}});
    return Json{{"text", tidy(text ? text.get() : "")}};
  }

 private:
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
