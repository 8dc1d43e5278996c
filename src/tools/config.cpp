#include "tools/config.h"

#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>

#include "tools/builtin.h"
#include "tools/catalog.h"
#include "tools/mcp_client.h"
#include "tools/vision.h"
#include "tools/worker.h"
#include "util/error.h"
#include "util/files.h"

namespace taco {

std::vector<std::string> all_tool_names() {
  std::vector<std::string> names;
  for (const auto& e : tool_catalog()) names.push_back(e.name);
  return names;
}

namespace {

// Backends are shared between tools whose sections are the same (one server, one model load).
class BackendCache {
 public:
  explicit BackendCache(std::string base_dir) : base_dir_(std::move(base_dir)) {}
  std::shared_ptr<VisionBackend> get(const std::string& tool, const Json& section) {
    std::string kind = section.value("backend", "");
    if (kind.empty() || kind == "none") return make_unconfigured_backend(tool);
    std::string key = section.dump();
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
    return cache_[key] = make_vision_backend(tool, kind, section, base_dir_);
  }

 private:
  std::string base_dir_;
  std::map<std::string, std::shared_ptr<VisionBackend>> cache_;
};

}  // namespace

ToolsConfig ToolsConfig::load(const std::string& path) {
  ToolsConfig c;
  c.json = read_json_file(path, kJsonConfigLimits);
  if (!c.json.is_object()) throw Error(path + ": the tools config must be a JSON object");
  c.base_dir = parent_dir(std::filesystem::absolute(path).string());
  static const std::set<std::string> top = {"time_limit_s", "max_pixels", "worker_memory_mb", "vision", "tools", "mcpServers"};
  for (const auto& [key, value] : c.json.items())
    if (!top.count(key))
      throw Error(path + ": unknown key '" + key + "' (known: time_limit_s, max_pixels, worker_memory_mb, vision, tools, mcpServers)");
  if (c.json.contains("tools")) {
    if (!c.json["tools"].is_object()) throw Error(path + ": \"tools\" must be an object of {tool name: settings}");
    for (const auto& [name, section] : c.json["tools"].items()) {
      if (!find_tool_entry(name)) throw Error(path + ": unknown tool '" + name + "' under \"tools\"");
      if (!section.is_object()) throw Error(path + ": tools." + name + " must be an object");
    }
  }
  if (c.json.contains("vision") && !c.json["vision"].is_object()) throw Error(path + ": \"vision\" must be an object");
  for (const char* key : {"time_limit_s", "max_pixels", "worker_memory_mb"})
    if (c.json.contains(key) && (!c.json[key].is_number() || c.json[key].get<double>() < 0))
      throw Error(path + ": \"" + key + "\" must be a number of at least 0");
  if (c.json.contains("mcpServers")) {
    try {
      mcp_servers_from_config(c.json["mcpServers"], c.base_dir, c.time_limit_s());
    } catch (const Error& e) {
      throw Error(path + ": " + e.what());
    }
  }
  return c;
}

Json ToolsConfig::section(const std::string& tool) const {
  Json s = Json::object();
  if (json.contains("vision"))
    if (auto entry = find_tool_entry(tool); entry && entry->vision) s = json["vision"];
  if (json.contains("tools") && json["tools"].contains(tool))
    for (const auto& [k, v] : json["tools"][tool].items()) s[k] = v;
  return s;
}

ToolRegistry make_tool_registry(const ToolsConfig& config) {
  ToolRegistry r;
  r.set_time_limit(config.time_limit_s());
  BackendCache backends(config.base_dir);
  const ToolMaking making{config, [&](const std::string& tool) { return backends.get(tool, config.section(tool)); }};
  std::shared_ptr<ToolWorkers> workers;
  for (const ToolEntry& entry : tool_catalog()) {
    std::unique_ptr<Tool> tool = entry.make(making);
    if (entry.worker_safe && !tool_worker_program().empty()) {
      if (!workers) workers = std::make_shared<ToolWorkers>(tool_worker_program(), config.time_limit_s(), config.worker_memory_bytes());
      tool = in_worker(std::move(tool), workers);
    }
    r.add(std::move(tool));
  }
  if (config.json.contains("mcpServers"))
    add_mcp_tools(r, mcp_servers_from_config(config.json["mcpServers"], config.base_dir, config.time_limit_s()));
  return r;
}

}  // namespace taco
