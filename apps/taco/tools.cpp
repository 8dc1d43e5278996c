// taco tools list | taco tools call: the tool registry as the runtime builds it.
#include <algorithm>
#include <cstdio>

#include "commands.h"
#include "runtime/tool_jobs.h"
#include "util/pyrepr.h"

namespace taco::cli {
namespace {

struct ToolsFlags {
  ToolCallSettings call;  // list uses its tools_config
  bool json = false;
};

void list(const ToolsFlags& f) {
  const std::vector<ToolSummary> tools = list_tools(f.call.tools_config);
  if (f.json) {
    Json out = Json::array();
    for (const auto& t : tools) {
      Json args = Json::object();
      for (const auto& a : t.arguments) args[a.name] = a.description;
      out.push_back(Json{{"name", t.name}, {"backend", t.backend}, {"ready", t.why_not.empty()},
                         {"why_not", t.why_not}, {"description", t.description}, {"arguments", args}});
    }
    std::printf("%s\n", out.dump(2).c_str());
    return;
  }
  // Columns as wide as their longest entry ("builtin, worker process" is wider than most), so
  // READY lines up.
  int name_width = 4, backend_width = 7;
  for (const auto& t : tools) {
    name_width = std::max(name_width, static_cast<int>(t.name.size()));
    backend_width = std::max(backend_width, static_cast<int>(t.backend.size()));
  }
  std::printf("%-*s  %-*s  %s\n", name_width, "NAME", backend_width, "BACKEND", "READY");
  for (const auto& t : tools) {
    std::printf("%-*s  %-*s  %s\n", name_width, t.name.c_str(), backend_width, t.backend.c_str(),
                t.why_not.empty() ? "yes" : ("no: " + t.why_not).c_str());
    std::string args;
    for (const auto& a : t.arguments) args += (args.empty() ? "" : ", ") + a.name + (a.required ? "" : "?");
    std::printf("    %s\n    arguments: %s\n", t.description.c_str(), args.c_str());
  }
}

void call(const ToolsFlags& f) {
  const ToolCallResult r = call_tool(f.call);
  if (!r.failure.empty()) {
    std::fprintf(stderr, "%s\n", r.failure.c_str());
    exit_status() = kExitFailure;
    return;
  }
  for (const auto& [name, path] : r.saved) std::fprintf(stderr, "%s saved to %s\n", name.c_str(), path.c_str());
  std::printf("%s\n", python_repr(r.observation).c_str());
  if (!r.details.is_null()) std::printf("details: %s\n", r.details.dump().c_str());
}

}  // namespace

void add_tools_command(CLI::App& app) {
  auto flags = std::make_shared<ToolsFlags>();
  auto* cmd = app.add_subcommand("tools", "list the tools or call one");
  print_help_without_subcommand(*cmd);
  auto* list_cmd = cmd->add_subcommand("list", "print every tool: name, backend, ready or why not, arguments");
  list_cmd->footer("Example:\n  taco tools list --tools-config examples/tools-oracle.json\n");
  list_cmd->add_option("--tools-config", flags->call.tools_config, "the tools config (docs/tools.md)")->check(CLI::ExistingFile);
  list_cmd->add_flag("--json", flags->json, "print JSON");
  list_cmd->callback([flags] { list(*flags); });
  auto* call_cmd = cmd->add_subcommand("call", "run one tool and print its observation");
  call_cmd->footer("Examples:\n  taco tools call OCR --image receipt.png\n  taco tools call ZoomIn --image scene.png --args '{\"image\": \"image-0\", \"bbox\": [0.1, 0.1, 0.5, 0.5], \"zoom_factor\": 2}'\n");
  call_cmd->add_option("name", flags->call.name, "the tool, e.g. OCR")->required();
  call_cmd->add_option("--image", flags->call.images, "an input image (image-0, image-1, ...)");
  call_cmd->add_option("--args", flags->call.args, "the arguments as a JSON object")->capture_default_str();
  call_cmd->add_option("--tools-config", flags->call.tools_config, "the tools config (docs/tools.md)")->check(CLI::ExistingFile);
  call_cmd->add_option("--out,--out-dir", flags->call.out_dir, "where images the tool makes are saved")->capture_default_str();
  call_cmd->callback([flags] { call(*flags); });
}

}  // namespace taco::cli
