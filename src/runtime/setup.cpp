#include "runtime/setup.h"

#include "models/embedded/embedded.h"

#include <filesystem>

#include "tools/builtin.h"
#include "util/error.h"
#include "util/files.h"

namespace taco {

ToolsConfig load_tools_config(const std::string& path) { return path.empty() ? ToolsConfig{} : ToolsConfig::load(path); }

std::string shipped_model_spec() {
  // By name when the binary has it beside it (the embedded kind finds it there from any
  // folder): the id /v1/models and the traces show, not an absolute path.
  return shipped_model_dir("taco-small").empty() ? "embedded:models/taco-small" : "embedded:taco-small";
}

std::unique_ptr<RuntimeSetup> make_runtime(const EpisodeSettings& settings, const std::string& out_path, bool chain_of_thought,
                                           const JobEvents& events, Model* model) {
  EpisodeSettings f = settings;
  if (f.model.model.empty()) f.model.model = shipped_model_spec();
  if (f.max_replies < -1) throw Error("EpisodeSettings.max_replies must be 0 or more");
  auto s = std::make_unique<RuntimeSetup>(RuntimeSetup{load_tools_config(f.tools_config), ToolRegistry(), nullptr, nullptr});
  if (chain_of_thought) s->tools.add(make_terminate_tool());
  else s->tools = make_tool_registry(s->config);
  if (!model) {
    s->model = make_model(f.model);
    model = s->model.get();
  }
  // A model that was trained on one prompt (an embedded checkpoint) runs with that prompt, so
  // that it reads the text it learned; the user may still override it, with a warning.
  const ModelDefaults own = model->defaults();
  PromptTemplate prompts = PromptTemplate::defaults();
  if (!f.prompt_template.empty()) {
    prompts = PromptTemplate::from_file(f.prompt_template);
    if (!own.prompt_template.is_null() && prompts.hash() != PromptTemplate::from_json(own.prompt_template, f.model.model).hash())
      events.tell("taco: warning: EpisodeSettings.prompt_template replaces the template " + f.model.model + " was trained with\n");
  } else if (!own.prompt_template.is_null()) {
    prompts = PromptTemplate::from_json(own.prompt_template, f.model.model);
  }
  if (!f.prompt.empty() && !own.mode.empty() && f.prompt != own.mode)
    events.tell("taco: warning: EpisodeSettings.prompt " + f.prompt + ", but " + f.model.model + " was trained with " + own.mode +
                " prompts\n");
  EpisodeOptions episode;
  episode.mode = prompt_mode_from_string(!f.prompt.empty() ? f.prompt : !own.mode.empty() ? own.mode : "cota");
  episode.max_replies = f.max_replies >= 0 ? f.max_replies : own.max_replies >= 0 ? own.max_replies : 10;
  episode.max_pixels = f.max_pixels > 0 ? f.max_pixels : s->config.max_pixels();
  episode.blank_inputs = f.blank_images;
  episode.protocol = action_protocol_from_string(f.protocol);
  episode.images_dir = !f.images_dir.empty() ? f.images_dir : !out_path.empty() ? output_base(out_path) + ".images" : "";
  s->runtime = std::make_unique<Runtime>(*model, s->tools, std::move(prompts), episode);
  return s;
}

}  // namespace taco
