// Crop and ZoomIn with TACO's semantics: the region is outlined on the image, then cut out with
// a margin of half the box's size around it (clamped to the image); ZoomIn then enlarges the
// cut with Lanczos interpolation.
#include <opencv2/imgproc.hpp>

#include "tools/args.h"
#include "tools/builtin.h"
#include "tools/image_cv.h"
#include "tools/visualize.h"
#include "tools/catalog.h"

namespace taco {
namespace {

constexpr double kCropMargin = 0.5;

Image crop_with_margin(const Image& image, const std::array<double, 4>& box) {
  Image outlined = draw_regions(image, Json::array({Json{{"bbox", box}, {"label", ""}}}));
  const cv::Mat& m = mat_of(outlined);
  const double W = m.cols, H = m.rows;
  double l = box[0] * W, t = box[1] * H, r = box[2] * W, b = box[3] * H;
  double w = (r - l) * (1 + kCropMargin), h = (b - t) * (1 + kCropMargin);
  double cx = l + (r - l) / 2, cy = t + (b - t) / 2;
  int x1 = static_cast<int>(std::max(0.0, cx - w / 2)), y1 = static_cast<int>(std::max(0.0, cy - h / 2));
  int x2 = static_cast<int>(std::min(W, cx + w / 2)), y2 = static_cast<int>(std::min(H, cy + h / 2));
  if (x2 <= x1 || y2 <= y1) throw ToolError(ToolFailure::kValueError, "The bounding box is too small to crop.");
  return image_from_mat(m(cv::Rect(x1, y1, x2 - x1, y2 - y1)).clone());
}

const char kBoxDescription[] =
    "the region as [left, top, right, bottom], each value between 0 and 1: a fraction of the image's width or "
    "height, measured from the top left corner [0, 0].";

class CropTool : public Tool {
 public:
  const ToolSpec& spec() const override {
    static const ToolSpec s{
        "Crop",
        "Cuts a region out of an image, with some margin around it for context; the region itself is outlined.",
        {{"image", ArgType::kImage, "the image to crop."}, {"bbox", ArgType::kBox, kBoxDescription}},
        {{"image", "the cropped image."}},
        {Json{{"name", "Crop"}, {"arguments", {{"image", "image-0"}, {"bbox", {0.25, 0.1, 0.6, 0.45}}}}}}};
    return s;
  }
  Json call(const Json& args, ToolContext& ctx) const override {
    Image out = crop_with_margin(image_arg(args, "image", ctx), box_arg(args, "bbox"));
    return Json{{"image", ctx.add_image(std::move(out))}};
  }
};

class ZoomInTool : public Tool {
 public:
  const ToolSpec& spec() const override {
    static const ToolSpec s{
        "ZoomIn",
        "Enlarges a region of an image: crops it with some margin for context, then scales the crop up.",
        {{"image", ArgType::kImage, "the image to zoom into."},
         {"bbox", ArgType::kBox, kBoxDescription},
         {"zoom_factor", ArgType::kNumber, "how many times to enlarge the region; greater than 1."}},
        {{"image", "the enlarged region."}},
        {Json{{"name", "ZoomIn"},
              {"arguments", {{"image", "image-0"}, {"bbox", {0.5, 0.4, 0.7, 0.6}}, {"zoom_factor", 2}}}}}};
    return s;
  }
  Json call(const Json& args, ToolContext& ctx) const override {
    double factor = args.at("zoom_factor").get<double>();
    if (!(factor > 1)) throw ToolError(ToolFailure::kValueError, "Zoom factor must be greater than 1 to zoom in");
    Image cropped = crop_with_margin(image_arg(args, "image", ctx), box_arg(args, "bbox"));
    double new_w = cropped.width() * factor, new_h = cropped.height() * factor;
    if (new_w * new_h > static_cast<double>(ctx.max_pixels()) || new_w > 1e6 || new_h > 1e6)
      throw ToolError(ToolFailure::kValueError, "Zooming by " + std::to_string(factor) + " would make an image over the limit of " +
                                        std::to_string(ctx.max_pixels()) + " pixels; use a smaller zoom factor");
    cv::Mat zoomed;
    cv::resize(mat_of(cropped), zoomed, cv::Size(static_cast<int>(new_w), static_cast<int>(new_h)), 0, 0,
               cv::INTER_LANCZOS4);
    return Json{{"image", ctx.add_image(image_from_mat(std::move(zoomed)))}};
  }
};

}  // namespace

std::unique_ptr<Tool> make_crop_tool() { return std::make_unique<CropTool>(); }
std::unique_ptr<Tool> make_zoom_in_tool() { return std::make_unique<ZoomInTool>(); }

namespace {

const ToolRegistration kCrop({"Crop", 6, false, false, true, [](const ToolMaking&) { return make_crop_tool(); }});
const ToolRegistration kZoomIn({"ZoomIn", 7, false, false, true, [](const ToolMaking&) { return make_zoom_in_tool(); }});

}  // namespace

}  // namespace taco
