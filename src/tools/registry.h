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

// The most one observation (a tool's result) may hold, serialized. A longer text in it is cut,
// and says so ("... [cut: the tool returned 100 MB; the first 64 KB are shown]"); a result that
// is still over the limit (a list of a million boxes) becomes an error observation.
inline constexpr size_t kMaxObservationBytes = size_t{256} << 10;

// `result` within kMaxObservationBytes as described above; throws ToolError when it cannot be.
void cap_observation(Json& result, const std::string& tool);

class ToolRegistry {
 public:
  // Adds a tool; a tool of the same name is replaced (a configured backend overrides a default).
  void add(std::unique_ptr<Tool> tool);
  const Tool* find(std::string_view name) const;
  std::vector<const Tool*> tools() const;
  // What the prompt lists: the tools that are ready to run, in registry order.
  std::vector<ActionDoc> action_docs() const;

  // Checks the arguments against the tool's spec (coercing what is unambiguous, e.g. "3" for a
  // number) and runs it. Throws ToolError: KeyError for an unknown action, TypeError for
  // missing, unexpected or mistyped arguments, TimeoutError when the call overruns the time
  // limit, and whatever the tool itself throws. The result is within kMaxObservationBytes.
  Json execute(const Action& action, const std::shared_ptr<ToolContext>& ctx) const;

  // Seconds one call may take (0: no limit). An overrunning call in a worker process is killed
  // (tools/worker.h); any other is abandoned: it finishes on its own thread, its result dropped.
  void set_time_limit(double seconds) { time_limit_s_ = seconds; }
  double time_limit() const { return time_limit_s_; }

 private:
  std::vector<std::shared_ptr<const Tool>> tools_;
  double time_limit_s_ = 60;
};

// A tool's arguments as a JSON Schema object: what MCP clients get as a tool's inputSchema and
// what native tool calling sends as a function's parameters. Image arguments are strings
// naming an image ("image-0").
Json tool_input_schema(const ToolSpec& spec);

// The catalog's standalone tools (tools/catalog.h), which need no model, backend or file:
// Crop, ZoomIn, VisualizeRegionsOnImage, Calculate, Terminate.
ToolRegistry make_builtin_registry();

}  // namespace taco
