#include "tools/tool.h"

#include <array>

namespace taco {
namespace {

// In ToolFailure's order.
constexpr std::array<const char*, 15> kFailureNames = {
    "ValueError",      "TypeError",       "KeyError",           "LookupError",  "NameError",
    "RuntimeError",    "TimeoutError",    "ConnectionError",    "PermissionError", "NotImplementedError",
    "SyntaxError",     "OverflowError",   "ZeroDivisionError",  "RecursionError",  "MemoryError",
};
static_assert(kFailureNames.size() == static_cast<size_t>(ToolFailure::kMemoryError) + 1, "a name for every ToolFailure");

}  // namespace

const char* to_string(ToolFailure kind) { return kFailureNames[static_cast<size_t>(kind)]; }

ToolFailure tool_failure_from_string(std::string_view name) {
  for (size_t i = 0; i < kFailureNames.size(); ++i)
    if (name == kFailureNames[i]) return static_cast<ToolFailure>(i);
  return ToolFailure::kRuntimeError;
}

}  // namespace taco
