// The job layer's runtime: the model, tools and prompts a set of episode settings names, and the
// Runtime that runs episodes with them. What taco run, eval, distill, serve and mcp (and RL's
// rollouts) start from; the CLI's episode flags fill EpisodeSettings one for one.
#pragma once

#include <memory>
#include <string>

#include "runtime/episode.h"
#include "tools/config.h"
#include "util/job.h"

namespace taco {

struct EpisodeSettings {
  ModelOptions model;
  std::string images_dir;       // "": <out>.images beside the output, else in memory
  std::string prompt;           // "cota" or "direct"; "": the model's own (an embedded checkpoint's), else cota
  std::string prompt_template;  // a JSON file; "": the model's own template, else taco's default
  std::string tools_config;     // a tools config file; "": the defaults
  int max_replies = -1;         // -1: the model's own limit, else 10
  int64_t max_pixels = 0;       // 0: the tools config's
  bool blank_images = false;    // EpisodeOptions::blank_inputs
  std::string protocol = "cota";  // or "tools" (EpisodeOptions::protocol)
};

// A runtime with the model and tools it uses; held by pointer because the runtime refers to
// its parts.
struct RuntimeSetup {
  ToolsConfig config;
  ToolRegistry tools;
  std::unique_ptr<Model> model;
  std::unique_ptr<Runtime> runtime;
};

// The tools config at `path`, or the defaults when `path` is empty.
ToolsConfig load_tools_config(const std::string& path);

// The shipped embedded model as a model spec: `embedded:taco-small` when the binary has it
// beside it (build/taco -> models/taco-small, or the installed lib/taco/models/), else
// `embedded:models/taco-small` in the working folder. What runs when no model is given.
std::string shipped_model_spec();

// An empty settings.model.model is the shipped model (shipped_model_spec).
// `out_path` names the default images folder (<out>.images) when settings.images_dir is empty.
// With `chain_of_thought`, the CoTA prompt offers Terminate alone: the model thinks, then
// answers without tools (the paper's CoT mode). A model trained on one prompt (an embedded
// checkpoint) runs with that prompt unless the settings say otherwise; then `events` hear a
// warning. Throws Error naming the setting at fault.
// With `model`, the episodes use it (the caller's, e.g. RL's policy) instead of the one
// settings.model names (whose options it should share); RuntimeSetup.model stays null.
std::unique_ptr<RuntimeSetup> make_runtime(const EpisodeSettings& settings, const std::string& out_path, bool chain_of_thought = false,
                                           const JobEvents& events = {}, Model* model = nullptr);

}  // namespace taco
