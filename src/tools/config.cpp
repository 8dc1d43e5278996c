#include "tools/config.h"

#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>

#include "tools/builtin.h"
#include "tools/mcp_client.h"
#include "tools/vision.h"
#include "tools/worker.h"
#include "util/error.h"
#include "util/files.h"

namespace taco {
namespace {

const std::set<std::string>& vision_tools() {
  static const std::set<std::string> t = {"GetObjects", "LocalizeObjects", "EstimateRegionDepth", "EstimateObjectDepth",
                                          "GetImageToImagesSimilarity", "GetImageToTextsSimilarity",
                                          "GetTextToImagesSimilarity"};
  return t;
}

}  // namespace

const std::vector<std::string>& all_tool_names() {
  static const std::vector<std::string> t = {
      "OCR", "LocalizeObjects", "GetObjects", "EstimateRegionDepth", "EstimateObjectDepth", "Crop", "ZoomIn",
      "VisualizeRegionsOnImage", "QueryLanguageModel", "GetImageToImagesSimilarity", "GetImageToTextsSimilarity",
      "GetTextToImagesSimilarity", "DetectFaces", "QueryKnowledgeBase", "Calculate", "SolveMathEquation", "Terminate"};
  return t;
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
    std::shared_ptr<VisionBackend> b;
    if (kind == "oracle") b = make_oracle_backend(section, base_dir_);
    else if (kind == "http") b = make_http_backend(section);
    else if (kind == "torchscript") b = make_torchscript_backend(section, base_dir_);
    else throw Error("tools." + tool + ".backend: unknown backend '" + kind + "' (use torchscript, http or oracle)");
    return cache_[key] = b;
  }

 private:
  std::string base_dir_;
  std::map<std::string, std::shared_ptr<VisionBackend>> cache_;
};

}  // namespace

std::string knowledge_base_to_import_into() {
  if (const char* env = std::getenv("TACO_KB"); env && *env) return env;
  if (const char* data = std::getenv("XDG_DATA_HOME"); data && *data) return (std::filesystem::path(data) / "taco" / "kb.sqlite").string();
  const char* home = std::getenv("HOME");
  return (std::filesystem::path(home && *home ? home : ".") / ".local" / "share" / "taco" / "kb.sqlite").string();
}

std::string default_knowledge_base() {
  std::error_code ec;
  if (const char* env = std::getenv("TACO_KB"); env && *env) return env;
  if (const std::string own = knowledge_base_to_import_into(); std::filesystem::exists(own, ec)) return own;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? "kb-sample.sqlite" : (exe.parent_path() / "kb-sample.sqlite").string();
}

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
      if (std::find(all_tool_names().begin(), all_tool_names().end(), name) == all_tool_names().end())
        throw Error(path + ": unknown tool '" + name + "' under \"tools\"");
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
  if (vision_tools().count(tool) && json.contains("vision")) s = json["vision"];
  if (json.contains("tools") && json["tools"].contains(tool))
    for (const auto& [k, v] : json["tools"][tool].items()) s[k] = v;
  return s;
}

ToolRegistry make_tool_registry(const ToolsConfig& config) {
  ToolRegistry r;
  r.set_time_limit(config.time_limit_s());
  BackendCache backends(config.base_dir);
  auto vision = [&](const std::string& tool) { return backends.get(tool, config.section(tool)); };
  auto resolved = [&](Json section, const char* key) {
    if (section.contains(key) && section[key].is_string()) section[key] = resolve_path(config.base_dir, section[key].get<std::string>());
    return section;
  };
  std::shared_ptr<ToolWorkers> workers;
  auto isolated = [&](std::unique_ptr<Tool> tool) {
    if (tool_worker_program().empty()) return tool;
    if (!workers) workers = std::make_shared<ToolWorkers>(tool_worker_program(), config.time_limit_s(), config.worker_memory_bytes());
    return in_worker(std::move(tool), workers);
  };
  for (const auto& name : all_tool_names()) {
    if (name == "OCR") r.add(make_ocr_tool(resolved(config.section(name), "datapath")));
    else if (name == "LocalizeObjects") r.add(make_localize_objects_tool(vision(name)));
    else if (name == "GetObjects") r.add(make_get_objects_tool(vision(name)));
    else if (name == "EstimateRegionDepth") r.add(make_region_depth_tool(vision(name)));
    else if (name == "EstimateObjectDepth") {
      Json own = config.section(name);
      bool has_own = config.json.contains("tools") && config.json["tools"].contains(name) &&
                     config.json["tools"][name].contains("backend");
      r.add(has_own ? make_object_depth_tool(vision(name), vision(name))
                    : make_object_depth_tool(vision("LocalizeObjects"), vision("EstimateRegionDepth")));
    } else if (name == "Crop") r.add(make_crop_tool());
    else if (name == "ZoomIn") r.add(make_zoom_in_tool());
    else if (name == "VisualizeRegionsOnImage") r.add(make_visualize_regions_tool());
    else if (name == "QueryLanguageModel") r.add(make_language_model_tool(config.section(name)));
    else if (name == "GetImageToImagesSimilarity") r.add(make_image_to_images_tool(vision(name)));
    else if (name == "GetImageToTextsSimilarity") r.add(make_image_to_texts_tool(vision(name)));
    else if (name == "GetTextToImagesSimilarity") r.add(make_text_to_images_tool(vision(name)));
    else if (name == "DetectFaces") r.add(make_faces_tool(resolved(config.section(name), "cascade")));
    else if (name == "QueryKnowledgeBase") {
      Json s = resolved(config.section(name), "database");
      if (!s.contains("database")) s["database"] = default_knowledge_base();
      r.add(make_knowledge_tool(s));
    } else if (name == "Calculate") r.add(isolated(make_calculate_tool()));
    else if (name == "SolveMathEquation") r.add(isolated(make_solve_tool()));
    else if (name == "Terminate") r.add(make_terminate_tool());
  }
  if (config.json.contains("mcpServers"))
    add_mcp_tools(r, mcp_servers_from_config(config.json["mcpServers"], config.base_dir, config.time_limit_s()));
  return r;
}

}  // namespace taco
