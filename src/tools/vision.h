// Factories for the neural specialist tools over a VisionBackend (tools/vision_backend.h).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "tools/vision_backend.h"

namespace taco {

std::unique_ptr<Tool> make_get_objects_tool(std::shared_ptr<VisionBackend> backend);
std::unique_ptr<Tool> make_localize_objects_tool(std::shared_ptr<VisionBackend> backend);
std::unique_ptr<Tool> make_region_depth_tool(std::shared_ptr<VisionBackend> backend);
// LocalizeObjects on `detector`, then EstimateRegionDepth on `depth` for the best box.
std::unique_ptr<Tool> make_object_depth_tool(std::shared_ptr<VisionBackend> detector, std::shared_ptr<VisionBackend> depth);
std::unique_ptr<Tool> make_image_to_images_tool(std::shared_ptr<VisionBackend> backend);
std::unique_ptr<Tool> make_image_to_texts_tool(std::shared_ptr<VisionBackend> backend);
std::unique_ptr<Tool> make_text_to_images_tool(std::shared_ptr<VisionBackend> backend);

// Intersection over union of two boxes [left, top, right, bottom] (any one unit); 0 when either is empty.
double box_iou(const std::array<double, 4>& a, const std::array<double, 4>& b);

// The depth of a normalized box under TACO's modes: "mean", "center" or "mode" (the most
// frequent value to two decimals). Throws ToolError for another mode.
double region_depth(const DepthMap& depth, const std::array<double, 4>& box, const std::string& mode);

// TACO's region list, as LocalizeObjects returns it and gen's chains show it: one object per
// region, {"label", "bbox", "score"}, with a label that repeats numbered in order ("dog",
// "dog-2", "dog-3"). Boxes and scores go in as given (the caller rounds them).
class RegionList {
 public:
  void add(const std::string& label, const std::array<double, 4>& box, double score);
  const Json& json() const { return regions_; }

 private:
  std::map<std::string, int> seen_;
  Json regions_ = Json::array();
};

}  // namespace taco
