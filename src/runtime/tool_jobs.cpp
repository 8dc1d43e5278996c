#include "runtime/tool_jobs.h"

#include <filesystem>

#include "runtime/setup.h"
#include "tools/image_store.h"
#include "util/error.h"

namespace taco {

std::vector<ToolSummary> list_tools(const std::string& tools_config) {
  ToolRegistry tools = make_tool_registry(load_tools_config(tools_config));
  std::vector<ToolSummary> out;
  for (const Tool* t : tools.tools()) {
    ToolSummary s{t->spec().name, t->backend(), t->spec().description, t->unavailable_reason(), {}};
    for (const auto& a : t->spec().args) s.arguments.push_back(ToolArgument{a.name, a.description, a.required});
    out.push_back(std::move(s));
  }
  return out;
}

ToolCallResult call_tool(const ToolCallSettings& settings) {
  ToolsConfig config = load_tools_config(settings.tools_config);
  ToolRegistry tools = make_tool_registry(config);
  Json args;
  try {
    args = parse_json(settings.args);
  } catch (const Error& e) {
    throw Error(std::string("ToolCallSettings.args is not valid JSON: ") + e.what());
  }
  if (!args.is_object()) throw Error("ToolCallSettings.args must be a JSON object, e.g. '{\"image\": \"image-0\"}'");
  // A call given images but no image argument means image-0.
  if (const Tool* tool = tools.find(settings.name); tool && !settings.images.empty() && !args.contains("image"))
    for (const auto& a : tool->spec().args)
      if (a.name == "image") args["image"] = "image-0";
  ImageStore store(settings.out_dir, config.max_pixels());
  for (const auto& path : settings.images) store.add_input(path);
  auto ctx = store.context_for("cli");
  ToolCallResult result;
  try {
    result.observation = tools.execute(Action{settings.name, args}, ctx);
  } catch (const ToolError& e) {
    result.failure = e.observation();
    return result;
  }
  for (const auto& name : store.commit(*ctx, settings.name)) {
    std::string path;
    for (int n = 1; path.empty() || std::filesystem::exists(path); ++n)
      path = settings.out_dir + "/" + settings.name + "-" + std::to_string(n) + ".png";
    std::filesystem::rename(store.find(name)->path, path);
    result.saved.emplace_back(name, path);
  }
  result.details = ctx->details();
  return result;
}

}  // namespace taco
