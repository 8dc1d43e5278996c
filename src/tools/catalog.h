// The tool catalog: every tool taco can offer registers itself here from its own file, with
// its traits and a maker, so that adding a tool is one new file (ToolRegistration below) and no
// list elsewhere changes. make_tool_registry (tools/config.h) makes the catalog's tools from a
// tools config; the tool worker process makes its worker-safe tools from it; the prompt lists
// the catalog's tools in rank order.
//
// Vision backends (oracle, http, torchscript, ...) register the same way by name
// (VisionBackendRegistration), so a new backend is one new file too.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tools/tool.h"
#include "util/registry.h"

namespace taco {

struct ToolsConfig;
class VisionBackend;

// What a tool's maker gets: the config it is made from, and the vision backends the config
// gives each tool (one backend per distinct section: one server, one model load).
struct ToolMaking {
  const ToolsConfig& config;
  std::function<std::shared_ptr<VisionBackend>(const std::string& tool)> backend;

  // The tool's section of the config (its vision defaults first, for vision tools).
  Json section(const std::string& tool) const;
  // The same, with the value of `key` (a path) resolved against the config's folder.
  Json section_with_path(const std::string& tool, const char* key) const;
  // Whether the config gives `tool` a section of its own with `key` in it.
  bool has_own(const std::string& tool, const char* key) const;
};

struct ToolEntry {
  std::string name;
  // Its place among the tools: the prompt's tool list, `taco tools list` and the registry follow
  // the rank (the built-ins' order is part of the prompts taco's model was trained on).
  double rank = 0;
  bool vision = false;       // its section starts from the config's "vision" defaults
  bool worker_safe = false;  // pure computation: runs in a tool worker process when there is one
  bool standalone = false;   // needs no model, backend or file (make_builtin_registry's tools)
  std::function<std::unique_ptr<Tool>(const ToolMaking&)> make;
};

Registry<ToolEntry>& tool_registry();

// Registers `entry` while it lives (a static one in the tool's file: for the whole program; a
// test's: for the test). Two entries of one name: the later wins while it lives.
class ToolRegistration : public Registry<ToolEntry>::Registration {
 public:
  explicit ToolRegistration(ToolEntry entry) : Registration(tool_registry(), std::move(entry)) {}
};

// The registered tools in rank order (a copy: thread-safe against registrations).
std::vector<ToolEntry> tool_catalog();
// A copy of the entry named `name`, or nullptr.
std::unique_ptr<ToolEntry> find_tool_entry(const std::string& name);

struct VisionBackendEntry {
  std::string name;  // the "backend" value of a config section
  double rank = 0;   // its place in the lists of backends errors show
  std::function<std::shared_ptr<VisionBackend>(const Json& section, const std::string& base_dir)> make;
  std::string needs;               // what a section must give it, for the person choosing ("annotations of the images")
  std::vector<std::string> tools;  // the tools it can answer; empty: every vision tool
};

// What would make `tool` ready when no backend is configured for it: the backends that can
// answer it, each with what it needs.
std::string vision_backend_choices(const std::string& tool);

Registry<VisionBackendEntry>& vision_backend_registry();

class VisionBackendRegistration : public Registry<VisionBackendEntry>::Registration {
 public:
  explicit VisionBackendRegistration(VisionBackendEntry entry) : Registration(vision_backend_registry(), std::move(entry)) {}
};

// The backend `name` makes from `section`; throws Error naming the tool and the known backends
// for an unknown name.
std::shared_ptr<VisionBackend> make_vision_backend(const std::string& tool, const std::string& name, const Json& section,
                                                   const std::string& base_dir);

}  // namespace taco
