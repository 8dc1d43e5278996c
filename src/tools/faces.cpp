// DetectFaces with OpenCV's Haar cascade (Debian's opencv-data): face boxes labelled "face",
// "face 2", ... as TACO labels them, and the image with the boxes drawn.
#include <filesystem>
#include <map>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>

#include "tools/args.h"
#include "tools/builtin.h"
#include "tools/image_cv.h"
#include "tools/visualize.h"
#include "util/strings.h"
#include "tools/catalog.h"

namespace taco {
namespace {

constexpr char kDefaultCascade[] = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml";

class FacesTool : public Tool {
 public:
  explicit FacesTool(std::string cascade) : cascade_(std::move(cascade)) {
    cv::CascadeClassifier probe;
    if (!std::filesystem::exists(cascade_) || !probe.load(cascade_))
      unavailable_ = "cannot load the face cascade " + cascade_ + " (install opencv-data)";
  }

  const ToolSpec& spec() const override {
    static const ToolSpec s{
        "DetectFaces",
        "Finds the faces in an image and returns their boxes, with the image where they are marked.",
        {{"image", ArgType::kImage, "the image to find faces in."}},
        {{"image", "the image with the faces marked."},
         {"regions", "the faces found, each a dictionary with a label and a bounding box."}},
        {Json{{"name", "DetectFaces"}, {"arguments", {{"image", "image-0"}}}}}};
    return s;
  }
  std::string backend() const override { return "opencv-haar"; }
  std::string unavailable_reason() const override { return unavailable_; }

  Json call(const Json& args, ToolContext& ctx) const override {
    const Image& image = image_arg(args, "image", ctx);
    cv::Mat gray;
    cv::cvtColor(mat_of(image), gray, cv::COLOR_BGR2GRAY);
    cv::equalizeHist(gray, gray);
    std::vector<cv::Rect> faces;
    int min_side = std::max(24, std::min(gray.cols, gray.rows) / 40);
    classifier().detectMultiScale(gray, faces, 1.1, 5, 0, cv::Size(min_side, min_side));
    // Largest first: "face" is the most prominent one.
    std::sort(faces.begin(), faces.end(), [](const cv::Rect& a, const cv::Rect& b) { return a.area() > b.area(); });
    const double W = gray.cols, H = gray.rows;
    Json regions = Json::array();
    for (size_t i = 0; i < faces.size(); ++i) {
      const cv::Rect& f = faces[i];
      regions.push_back(Json{{"bbox", {round2(f.x / W), round2(f.y / H), round2((f.x + f.width) / W), round2((f.y + f.height) / H)}},
                             {"label", i == 0 ? std::string("face") : "face " + std::to_string(i + 1)}});
    }
    std::string tagged = ctx.add_image(draw_regions(image, regions));
    return Json{{"image", tagged}, {"regions", std::move(regions)}};
  }

 private:
  cv::CascadeClassifier& classifier() const {
    // Detection mutates the classifier's buffers: one per thread.
    thread_local std::map<std::string, cv::CascadeClassifier> classifiers;
    auto& c = classifiers[cascade_];
    if (c.empty() && !c.load(cascade_)) throw ToolError(ToolFailure::kRuntimeError, "cannot load the face cascade " + cascade_);
    return c;
  }

  std::string cascade_;
  std::string unavailable_;
};

}  // namespace

std::unique_ptr<Tool> make_faces_tool(const Json& options) {
  return std::make_unique<FacesTool>(options.value("cascade", kDefaultCascade));
}

namespace {

const ToolRegistration kFaces({"DetectFaces", 13, false, false, false,
                                [](const ToolMaking& m) { return make_faces_tool(m.section_with_path("DetectFaces", "cascade")); }});

}  // namespace

}  // namespace taco
