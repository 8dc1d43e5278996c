// taco tools list | taco tools call: the tool registry as the runtime builds it.
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "runtime/setup.h"
#include "tools/config.h"
#include "tools/image_store.h"
#include "util/error.h"
#include "util/pyrepr.h"

namespace taco::cli {
namespace {

struct ToolsFlags {
  std::string config;
  bool json = false;
  std::string name;
  std::vector<std::string> images;
  std::string args = "{}";
  std::string out_dir = "tool-output";
};

void list(const ToolsFlags& f) {
  ToolRegistry tools = make_tool_registry(load_tools_config(f.config));
  if (f.json) {
    Json out = Json::array();
    for (const Tool* t : tools.tools()) {
      Json args = Json::object();
      for (const auto& a : t->spec().args) args[a.name] = a.description;
      out.push_back(Json{{"name", t->spec().name}, {"backend", t->backend()}, {"ready", t->unavailable_reason().empty()},
                         {"why_not", t->unavailable_reason()}, {"description", t->spec().description}, {"arguments", args}});
    }
    std::printf("%s\n", out.dump(2).c_str());
    return;
  }
  std::printf("%-28s %-16s %s\n", "NAME", "BACKEND", "READY");
  for (const Tool* t : tools.tools()) {
    std::string why = t->unavailable_reason();
    std::printf("%-28s %-16s %s\n", t->spec().name.c_str(), t->backend().c_str(), why.empty() ? "yes" : ("no: " + why).c_str());
    std::string args;
    for (const auto& a : t->spec().args) args += (args.empty() ? "" : ", ") + a.name + (a.required ? "" : "?");
    std::printf("    %s\n    arguments: %s\n", t->spec().description.c_str(), args.c_str());
  }
}

void call(const ToolsFlags& f) {
  ToolsConfig config = load_tools_config(f.config);
  ToolRegistry tools = make_tool_registry(config);
  Json args;
  try {
    args = parse_json(f.args);
  } catch (const Error& e) {
    throw Error(std::string("--args is not valid JSON: ") + e.what());
  }
  if (!args.is_object()) throw Error("--args must be a JSON object, e.g. '{\"image\": \"image-0\"}'");
  // `taco tools call OCR --image a.png` means image-0 when no image argument is given.
  if (const Tool* tool = tools.find(f.name); tool && !f.images.empty() && !args.contains("image"))
    for (const auto& a : tool->spec().args)
      if (a.name == "image") args["image"] = "image-0";
  ImageStore store(f.out_dir, config.max_pixels());
  for (const auto& path : f.images) store.add_input(path);
  auto ctx = store.context_for("cli");
  Json result;
  try {
    result = tools.execute(Action{f.name, args}, ctx);
  } catch (const ToolError& e) {
    std::fprintf(stderr, "%s\n", e.observation().c_str());
    exit_status() = kExitFailure;
    return;
  }
  // Each image goes to a new file (<tool>-1.png, <tool>-2.png, ...), so a second call keeps the first's.
  for (const auto& name : store.commit(*ctx, f.name)) {
    std::string path;
    for (int n = 1; path.empty() || std::filesystem::exists(path); ++n) path = f.out_dir + "/" + f.name + "-" + std::to_string(n) + ".png";
    std::filesystem::rename(store.find(name)->path, path);
    std::fprintf(stderr, "%s saved to %s\n", name.c_str(), path.c_str());
  }
  std::printf("%s\n", python_repr(result).c_str());
  if (!ctx->details().is_null()) std::printf("details: %s\n", ctx->details().dump().c_str());
}

}  // namespace


void add_tools_command(CLI::App& app) {
  auto flags = std::make_shared<ToolsFlags>();
  auto* cmd = app.add_subcommand("tools", "list the tools or call one");
  print_help_without_subcommand(*cmd);
  auto* list_cmd = cmd->add_subcommand("list", "print every tool: name, backend, ready or why not, arguments");
  list_cmd->footer("Example:\n  taco tools list --tools-config examples/tools-oracle.json\n");
  list_cmd->add_option("--tools-config", flags->config, "the tools config (docs/tools.md)")->check(CLI::ExistingFile);
  list_cmd->add_flag("--json", flags->json, "print JSON");
  list_cmd->callback([flags] { list(*flags); });
  auto* call_cmd = cmd->add_subcommand("call", "run one tool and print its observation");
  call_cmd->footer("Examples:\n  taco tools call OCR --image receipt.png\n  taco tools call ZoomIn --image scene.png --args '{\"image\": \"image-0\", \"bbox\": [0.1, 0.1, 0.5, 0.5], \"zoom_factor\": 2}'\n");
  call_cmd->add_option("name", flags->name, "the tool, e.g. OCR")->required();
  call_cmd->add_option("--image", flags->images, "an input image (image-0, image-1, ...)");
  call_cmd->add_option("--args", flags->args, "the arguments as a JSON object")->capture_default_str();
  call_cmd->add_option("--tools-config", flags->config, "the tools config (docs/tools.md)")->check(CLI::ExistingFile);
  call_cmd->add_option("--out,--out-dir", flags->out_dir, "where images the tool makes are saved")->capture_default_str();
  call_cmd->callback([flags] { call(*flags); });
}

}  // namespace taco::cli
