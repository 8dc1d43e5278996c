#include "tools/catalog.h"

#include <algorithm>

#include "tools/config.h"
#include "tools/vision_backend.h"
#include "util/error.h"
#include "util/files.h"

namespace taco {

Registry<ToolEntry>& tool_registry() {
  static Registry<ToolEntry> r;
  return r;
}

Registry<VisionBackendEntry>& vision_backend_registry() {
  static Registry<VisionBackendEntry> r;
  return r;
}

Json ToolMaking::section(const std::string& tool) const { return config.section(tool); }

Json ToolMaking::section_with_path(const std::string& tool, const char* key) const {
  Json s = config.section(tool);
  if (s.contains(key) && s[key].is_string()) s[key] = resolve_path(config.base_dir, s[key].get<std::string>());
  return s;
}

bool ToolMaking::has_own(const std::string& tool, const char* key) const {
  return config.json.contains("tools") && config.json["tools"].contains(tool) && config.json["tools"][tool].contains(key);
}

std::vector<ToolEntry> tool_catalog() { return tool_registry().entries(); }

std::unique_ptr<ToolEntry> find_tool_entry(const std::string& name) {
  for (auto& e : tool_registry().entries())
    if (e.name == name) return std::make_unique<ToolEntry>(std::move(e));
  return nullptr;
}

std::shared_ptr<VisionBackend> make_vision_backend(const std::string& tool, const std::string& name, const Json& section,
                                                   const std::string& base_dir) {
  const std::vector<VisionBackendEntry> known = vision_backend_registry().entries();
  for (const auto& b : known)
    if (b.name == name) return b.make(section, base_dir);
  std::string names;
  for (size_t i = 0; i < known.size(); ++i) names += (i == 0 ? "" : i + 1 == known.size() ? " or " : ", ") + known[i].name;
  throw Error("tools." + tool + ".backend: unknown backend '" + name + "' (use " + names + ")");
}

std::string VisionBackend::unavailable_reason_for(const std::string& tool) const {
  if (std::string why = unavailable_reason(); !why.empty()) return why;
  for (const auto& b : vision_backend_registry().entries())
    if (b.name == name() && !b.tools.empty() && std::find(b.tools.begin(), b.tools.end(), tool) == b.tools.end())
      return "the " + name() + " backend does not answer " + tool + ": set tools." + tool + ".backend in the tools config to " +
             vision_backend_choices(tool);
  return "";
}

std::string vision_backend_choices(const std::string& tool) {
  std::vector<const VisionBackendEntry*> fit;
  const std::vector<VisionBackendEntry> known = vision_backend_registry().entries();
  for (const auto& b : known)
    if (b.tools.empty() || std::find(b.tools.begin(), b.tools.end(), tool) != b.tools.end()) fit.push_back(&b);
  std::string out;
  for (size_t i = 0; i < fit.size(); ++i)
    out += (i == 0 ? "" : i + 1 == fit.size() ? " or " : ", ") + fit[i]->name + (fit[i]->needs.empty() ? "" : " (" + fit[i]->needs + ")");
  return out;
}

}  // namespace taco
