#include "tools/visualize.h"

#include <opencv2/imgproc.hpp>

#include "tools/args.h"
#include "tools/builtin.h"
#include "tools/image_cv.h"
#include "tools/catalog.h"

namespace taco {
namespace {

cv::Scalar color_bgr(const std::string& name) {
  static const std::vector<std::pair<std::string, cv::Scalar>> colors = {
      {"yellow", {0, 255, 255}}, {"red", {0, 0, 255}},     {"green", {0, 200, 0}},    {"blue", {255, 0, 0}},
      {"white", {255, 255, 255}}, {"black", {0, 0, 0}},    {"orange", {0, 165, 255}}, {"purple", {128, 0, 128}},
      {"cyan", {255, 255, 0}},   {"magenta", {255, 0, 255}}, {"pink", {203, 192, 255}}, {"gray", {128, 128, 128}},
  };
  std::string lower;
  for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const auto& [n, bgr] : colors)
    if (n == lower) return bgr;
  std::string known;
  for (const auto& [n, bgr] : colors) known += (known.empty() ? "" : ", ") + n;
  throw ToolError(ToolFailure::kValueError, "unknown color '" + name + "'; use one of: " + known);
}

class VisualizeRegionsTool : public Tool {
 public:
  const ToolSpec& spec() const override {
    static const ToolSpec s{
        "VisualizeRegionsOnImage",
        "Draws labelled boxes on an image, to mark regions for a closer look.",
        {{"image", ArgType::kImage, "the image to draw on."},
         {"regions", ArgType::kRegions,
          "the regions to draw, each a dictionary with a \"bbox\" [left, top, right, bottom] of values between 0 and "
          "1 and a \"label\" (may be empty)."},
         {"color", ArgType::kString, "optional color of the boxes, e.g. \"red\"; yellow by default.", false}},
        {{"image", "the image with the regions drawn on it."}},
        {Json{{"name", "VisualizeRegionsOnImage"},
              {"arguments",
               {{"image", "image-0"}, {"regions", {{{"label", "sign"}, {"bbox", {0.1, 0.2, 0.4, 0.5}}}}}}}}}};
    return s;
  }
  Json call(const Json& args, ToolContext& ctx) const override {
    const Image& image = image_arg(args, "image", ctx);
    for (const auto& r : args["regions"])
      for (const auto& c : r["bbox"])
        if (c.get<double>() < 0 || c.get<double>() > 1)
          throw ToolError(ToolFailure::kValueError, "Bounding box coordinates must be between 0 and 1.");
    Image out = draw_regions(image, args["regions"], args.value("color", "yellow"));
    return Json{{"image", ctx.add_image(std::move(out))}};
  }
};

}  // namespace

Image draw_regions(const Image& image, const Json& regions, const std::string& color, int line_width) {
  cv::Scalar bgr = color_bgr(color);
  cv::Mat canvas = mat_of(image).clone();
  const int W = canvas.cols, H = canvas.rows;
  const int font = cv::FONT_HERSHEY_SIMPLEX;
  const double scale = std::max(0.4, std::min(W, H) / 900.0);
  const int thickness = std::max(1, static_cast<int>(scale * 1.5));
  for (const auto& r : regions) {
    const Json& b = r["bbox"];
    int x1 = static_cast<int>(b[0].get<double>() * W), y1 = static_cast<int>(b[1].get<double>() * H);
    int x2 = static_cast<int>(b[2].get<double>() * W), y2 = static_cast<int>(b[3].get<double>() * H);
    cv::rectangle(canvas, {x1, y1}, {x2, y2}, bgr, line_width);
    std::string label = r.value("label", "");
    if (label.empty()) continue;
    int baseline = 0;
    cv::Size ts = cv::getTextSize(label, font, scale, thickness, &baseline);
    int tab_h = ts.height + baseline + 4;
    int top = (y2 + tab_h > H || x1 + ts.width > W) ? y2 - tab_h : y2;  // inside the box when no room below
    cv::rectangle(canvas, {x1, top}, {x1 + ts.width + 4, top + tab_h}, bgr, cv::FILLED);
    cv::putText(canvas, label, {x1 + 2, top + ts.height + 2}, font, scale, {0, 0, 0}, thickness, cv::LINE_AA);
  }
  return image_from_mat(std::move(canvas));
}

std::unique_ptr<Tool> make_visualize_regions_tool() { return std::make_unique<VisualizeRegionsTool>(); }

namespace {

const ToolRegistration kVisualize({"VisualizeRegionsOnImage", 8, false, false, true,
                                    [](const ToolMaking&) { return make_visualize_regions_tool(); }});

}  // namespace

}  // namespace taco
