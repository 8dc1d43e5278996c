// ToolRegistry: the actions an episode may call, looked up by name, with argument validation
// against each tool's spec. Built once, then shared read-only by every episode (thread-safe
// for lookups and execute()).
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "cota/prompt.h"
#include "cota/step.h"
#include "tools/tool.h"

namespace taco {

class ToolRegistry {
 public:
  // Adds a tool; a tool of the same name is replaced (a configured backend overrides a default).
  void add(std::unique_ptr<Tool> tool);
  const Tool* find(std::string_view name) const;
  std::vector<const Tool*> tools() const;
  std::vector<ActionDoc> action_docs() const;

  // Checks the arguments against the tool's spec (coercing what is unambiguous, e.g. "3" for a
  // number) and runs it. Throws ToolError: KeyError for an unknown action, TypeError for
  // missing, unexpected or mistyped arguments, and whatever the tool itself throws.
  Json execute(const Action& action, ToolContext& ctx) const;

 private:
  std::vector<std::unique_ptr<Tool>> tools_;
};

// The tools that need no model: Terminate, Calculate, Crop, ZoomIn, VisualizeRegionsOnImage.
ToolRegistry make_builtin_registry();

}  // namespace taco
