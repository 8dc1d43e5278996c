// Helpers for tool implementations: reading validated arguments.
#pragma once

#include <array>
#include <string>

#include "tools/image.h"
#include "tools/tool.h"

namespace taco {

// The image named by args[key]; the registry has already checked that it exists.
const Image& image_arg(const Json& args, const char* key, const ToolContext& ctx);

// A normalized [left, top, right, bottom] box. Throws TACO's ValueError when a coordinate is
// outside [0, 1] or the box is empty.
std::array<double, 4> box_arg(const Json& args, const char* key);

}  // namespace taco
