// The tools as one configured run sees them: the jobs behind `taco tools list` and
// `taco tools call` (and anything else that lists or tries tools outside an episode).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "util/json.h"

namespace taco {

struct ToolArgument {
  std::string name, description;
  bool required = true;
};

// One tool of the registry a tools config makes, in the prompt's order.
struct ToolSummary {
  std::string name, backend, description;
  std::string why_not;  // "": ready
  std::vector<ToolArgument> arguments;
};

// The tools the config at `tools_config` makes ("": the defaults).
std::vector<ToolSummary> list_tools(const std::string& tools_config);

struct ToolCallSettings {
  std::string tools_config;         // "": the defaults
  std::string name;                 // the tool, e.g. OCR
  std::vector<std::string> images;  // the inputs: image-0, image-1, ...
  std::string args = "{}";          // a JSON object; a tool with an "image" argument gets image-0 when it is left out
  std::string out_dir = "tool-output";  // where the images the tool makes are saved
};

struct ToolCallResult {
  std::string failure;  // TACO's observation of a failed call ("Execution failed with ..."); "" on success
  Json observation;     // the tool's result
  Json details;         // what the tool tells besides its observation (null: nothing)
  // The images the call made and the files they were saved to, as <tool>-1.png, <tool>-2.png,
  // ... (never over an earlier call's).
  std::vector<std::pair<std::string, std::string>> saved;
};

// Runs one call through the registry the config makes. A failed call is a result, not an
// exception; a bad setting throws Error naming it.
ToolCallResult call_tool(const ToolCallSettings& settings);

}  // namespace taco
