// ToolsConfig: the one file that picks each tool's backend and model paths (docs/tools.md).
//
//   {"time_limit_s": 60, "max_pixels": 64000000,
//    "vision": {"backend": "http", "url": "http://gpu-host:9100"},      default for the neural tools
//    "tools": {"OCR": {"language": "eng"},
//              "QueryKnowledgeBase": {"database": "kb.sqlite"},
//              "QueryLanguageModel": {"model": "gpt-4o-mini"},
//              "EstimateRegionDepth": {"backend": "torchscript", "model": "depth_anything_v2_small.pt"}},
//    "mcpServers": {"everything": {"command": "npx", "args": [...]}}}   tools of MCP servers (tools/mcp_client.h)
//
// Relative paths are resolved against the config file's folder. Plain value type.
#pragma once

#include <string>

#include "tools/image.h"
#include "tools/registry.h"
#include "util/json.h"

namespace taco {

struct ToolsConfig {
  Json json = Json::object();
  std::string base_dir;

  // Reads and checks a config file: unknown keys, tools and backends are errors.
  static ToolsConfig load(const std::string& path);

  double time_limit_s() const { return json.value("time_limit_s", 60.0); }
  int64_t max_pixels() const { return json.value("max_pixels", kDefaultMaxPixels); }
  // The address space each tool worker process may take (tools/worker.h).
  int64_t worker_memory_bytes() const { return json.value("worker_memory_mb", int64_t{2048}) << 20; }
  // The tool's section, with the "vision" defaults under it for the neural tools.
  Json section(const std::string& tool) const;
};

// The names of every action taco has, in TACO's order (what make_tool_registry registers).
std::vector<std::string> all_tool_names();

// Every TACO action with the backends the config names, in TACO's order.
ToolRegistry make_tool_registry(const ToolsConfig& config);

}  // namespace taco
