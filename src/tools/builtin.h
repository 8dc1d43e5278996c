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

std::unique_ptr<Tool> make_solve_tool();
// OCR with Tesseract; options: {"language": "eng", "datapath": ""}.
std::unique_ptr<Tool> make_ocr_tool(const Json& options = Json::object());

// DetectFaces with a Haar cascade; options: {"cascade": "path/to/haarcascade.xml"}.
std::unique_ptr<Tool> make_faces_tool(const Json& options = Json::object());

// QueryKnowledgeBase over a `taco kb import` database; options: {"database": path, "sentences": 2}.
std::unique_ptr<Tool> make_knowledge_tool(const Json& options);

// QueryLanguageModel over an OpenAI-compatible endpoint; options: {"model", "endpoint", "api_key_env", ...}.
std::unique_ptr<Tool> make_language_model_tool(const Json& options);

// SolveMathEquation's solver: reads a query such as "x^2 + 2x + 1 = 0, what is x?" and returns
// the solution text. Throws ToolError(ValueError) for what it cannot read or solve.
std::string solve_math_query(const std::string& query);

// Calculate's evaluator: Python arithmetic without code execution. Returns an integer or float
// JSON number; throws ToolError (SyntaxError, ZeroDivisionError, ValueError, OverflowError).
Json evaluate_expression(std::string_view expression);

}  // namespace taco
