#include "tools/builtin.h"

#include "tools/catalog.h"
#include "tools/config.h"
#include "tools/registry.h"
#include "tools/vision_backend.h"

namespace taco {

ToolRegistry make_builtin_registry() {
  ToolRegistry r;
  const ToolsConfig defaults;
  const ToolMaking making{defaults, [](const std::string& tool) { return make_unconfigured_backend(tool); }};
  for (const ToolEntry& entry : tool_catalog())
    if (entry.standalone) r.add(entry.make(making));
  return r;
}

}  // namespace taco
