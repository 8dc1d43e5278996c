// Factories for the tools that need no model. Each lives in its own file.
#pragma once

#include <memory>
#include <string_view>

#include "tools/tool.h"

namespace taco {

std::unique_ptr<Tool> make_terminate_tool();
std::unique_ptr<Tool> make_calculate_tool();
std::unique_ptr<Tool> make_crop_tool();
std::unique_ptr<Tool> make_zoom_in_tool();
std::unique_ptr<Tool> make_visualize_regions_tool();

// Calculate's evaluator: Python arithmetic without code execution. Returns an integer or float
// JSON number; throws ToolError (SyntaxError, ZeroDivisionError, ValueError, OverflowError).
Json evaluate_expression(std::string_view expression);

}  // namespace taco
