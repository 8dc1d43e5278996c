// Factories for the neural specialist tools over a VisionBackend (tools/vision_backend.h).
#pragma once

#include <memory>

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

// The depth of a normalized box under TACO's modes: "mean", "center" or "mode" (the most
// frequent value to two decimals). Throws ToolError for another mode.
double region_depth(const DepthMap& depth, const std::array<double, 4>& box, const std::string& mode);

}  // namespace taco
