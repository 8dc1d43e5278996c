// Drawing labelled boxes on an image: VisualizeRegionsOnImage, and the tagged images that
// Crop, LocalizeObjects and DetectFaces return.
#pragma once

#include <string>

#include "tools/image.h"
#include "util/json.h"

namespace taco {

// Draws each region ({"bbox": [l, t, r, b] normalized, "label": text}) as a box of `color`
// (a name such as "yellow" or "red") with its label on a filled tab below the box, or inside
// it when there is no room below. Returns a new image. Throws ToolError for an unknown color.
Image draw_regions(const Image& image, const Json& regions, const std::string& color = "yellow", int line_width = 4);

}  // namespace taco
