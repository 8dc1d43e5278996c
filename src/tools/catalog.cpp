#include "tools/catalog.h"

#include <algorithm>
#include <mutex>

#include "tools/config.h"
#include "util/error.h"
#include "util/files.h"

namespace taco {
namespace {

// Entries in registration order, each with its registration's id; later ones of a name win.
template <typename Entry>
struct Catalog {
  std::mutex mu;
  std::vector<std::pair<size_t, Entry>> entries;
  size_t next_id = 1;

  size_t add(Entry e) {
    std::lock_guard<std::mutex> lock(mu);
    entries.emplace_back(next_id, std::move(e));
    return next_id++;
  }
  void remove(size_t id) {
    std::lock_guard<std::mutex> lock(mu);
    entries.erase(std::remove_if(entries.begin(), entries.end(), [id](const auto& p) { return p.first == id; }), entries.end());
  }
  // One entry per name (the latest registered), in rank order (ties: registration order).
  std::vector<Entry> current() {
    std::lock_guard<std::mutex> lock(mu);
    std::vector<Entry> out;
    for (auto it = entries.rbegin(); it != entries.rend(); ++it)
      if (std::none_of(out.begin(), out.end(), [&](const Entry& e) { return e.name == it->second.name; })) out.push_back(it->second);
    std::reverse(out.begin(), out.end());
    std::stable_sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) { return a.rank < b.rank; });
    return out;
  }
};

Catalog<ToolEntry>& tools() {
  static Catalog<ToolEntry> c;
  return c;
}

Catalog<VisionBackendEntry>& backends() {
  static Catalog<VisionBackendEntry> c;
  return c;
}

}  // namespace

Json ToolMaking::section(const std::string& tool) const { return config.section(tool); }

Json ToolMaking::section_with_path(const std::string& tool, const char* key) const {
  Json s = config.section(tool);
  if (s.contains(key) && s[key].is_string()) s[key] = resolve_path(config.base_dir, s[key].get<std::string>());
  return s;
}

bool ToolMaking::has_own(const std::string& tool, const char* key) const {
  return config.json.contains("tools") && config.json["tools"].contains(tool) && config.json["tools"][tool].contains(key);
}

ToolRegistration::ToolRegistration(ToolEntry entry) : id_(tools().add(std::move(entry))) {}
ToolRegistration::~ToolRegistration() { tools().remove(id_); }

std::vector<ToolEntry> tool_catalog() { return tools().current(); }

std::unique_ptr<ToolEntry> find_tool_entry(const std::string& name) {
  for (auto& e : tools().current())
    if (e.name == name) return std::make_unique<ToolEntry>(std::move(e));
  return nullptr;
}

VisionBackendRegistration::VisionBackendRegistration(VisionBackendEntry entry) : id_(backends().add(std::move(entry))) {}
VisionBackendRegistration::~VisionBackendRegistration() { backends().remove(id_); }

std::shared_ptr<VisionBackend> make_vision_backend(const std::string& tool, const std::string& name, const Json& section,
                                                   const std::string& base_dir) {
  const std::vector<VisionBackendEntry> known = backends().current();
  for (const auto& b : known)
    if (b.name == name) return b.make(section, base_dir);
  std::string names;
  for (size_t i = 0; i < known.size(); ++i) names += (i == 0 ? "" : i + 1 == known.size() ? " or " : ", ") + known[i].name;
  throw Error("tools." + tool + ".backend: unknown backend '" + name + "' (use " + names + ")");
}

}  // namespace taco
