#include "episodes.h"

#include <cstdio>
#include <filesystem>

#include "curate/merge.h"
#include "runtime/batch.h"
#include "tools/builtin.h"
#include "util/error.h"
#include "util/files.h"

namespace taco::cli {

std::string shipped_model_spec() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    auto beside = exe.parent_path().parent_path() / "models" / "taco-small";
    if (std::filesystem::exists(beside / "config.json", ec)) return "embedded:" + beside.string();
  }
  return "embedded:models/taco-small";
}

void add_episode_flags(CLI::App& cmd, EpisodeFlags& f, bool with_prompt_mode, bool with_api_key) {
  add_model_flags(cmd, f.model, with_api_key);
  cmd.add_option("--images-dir", f.images_dir, "where images made by tools are saved (default: <out>.images)");
  if (with_prompt_mode)
    cmd.add_option("--prompt", f.prompt, "cota or direct (default: cota, or what an embedded model was trained with)")
        ->check(CLI::IsMember({"cota", "direct"}));
  cmd.add_option("--prompt-template", f.prompt_template, "a JSON file replacing prompt texts (docs/prompt-templates.md)")
      ->check(CLI::ExistingFile);
  cmd.add_option("--max-replies", f.max_replies,
                 "observations fed back before the episode stops (default: 10, or an embedded model's own limit)");
  cmd.add_flag("--blank-images", f.blank_images,
               "show the model gray input images while the tools see the real ones (how much it leans on its tools)");
  cmd.add_option("--protocol", f.protocol,
                 "how the model calls tools: cota (a JSON step in its reply, TACO's) or tools (OpenAI tools / tool_calls: a model "
                 "served with native tool calling, docs/models.md)")
      ->capture_default_str()->check(CLI::IsMember({"cota", "tools"}));
  cmd.add_option("--max-pixels", f.max_pixels, "refuse images with more pixels than this (default: the tools config's, 64 M)");
  cmd.add_option("--tools-config", f.tools_config, "the tools config: backends and model paths (docs/tools.md)")
      ->check(CLI::ExistingFile);
}

std::unique_ptr<RuntimeSetup> make_runtime(const EpisodeFlags& f, const std::string& out_path, bool chain_of_thought) {
  if (f.max_replies < -1) throw Error("--max-replies must be 0 or more");
  auto s = std::make_unique<RuntimeSetup>(RuntimeSetup{load_tools_config(f.tools_config), ToolRegistry(), nullptr, nullptr});
  if (chain_of_thought) s->tools.add(make_terminate_tool());
  else s->tools = make_tool_registry(s->config);
  s->model = make_model(f.model);
  // A model that was trained on one prompt (an embedded checkpoint) runs with that prompt, so
  // that it reads the text it learned; the user may still override it, with a warning.
  const ModelDefaults own = s->model->defaults();
  PromptTemplate prompts = PromptTemplate::defaults();
  if (!f.prompt_template.empty()) {
    prompts = PromptTemplate::from_file(f.prompt_template);
    if (!own.prompt_template.is_null() && prompts.hash() != PromptTemplate::from_json(own.prompt_template, f.model.model).hash())
      std::fprintf(stderr, "taco: warning: --prompt-template replaces the template %s was trained with\n", f.model.model.c_str());
  } else if (!own.prompt_template.is_null()) {
    prompts = PromptTemplate::from_json(own.prompt_template, f.model.model);
  }
  if (!f.prompt.empty() && !own.mode.empty() && f.prompt != own.mode)
    std::fprintf(stderr, "taco: warning: --prompt %s, but %s was trained with %s prompts\n", f.prompt.c_str(),
                 f.model.model.c_str(), own.mode.c_str());
  EpisodeOptions episode;
  episode.mode = prompt_mode_from_string(!f.prompt.empty() ? f.prompt : !own.mode.empty() ? own.mode : "cota");
  episode.max_replies = f.max_replies >= 0 ? f.max_replies : own.max_replies >= 0 ? own.max_replies : 10;
  episode.max_pixels = f.max_pixels > 0 ? f.max_pixels : s->config.max_pixels();
  episode.blank_inputs = f.blank_images;
  episode.protocol = f.protocol;
  episode.images_dir = !f.images_dir.empty() ? f.images_dir : !out_path.empty() ? output_base(out_path) + ".images" : "";
  s->runtime = std::make_unique<Runtime>(*s->model, s->tools, std::move(prompts), episode);
  return s;
}

void add_shard_flag(CLI::App& cmd, BatchFlags& f) {
  cmd.add_option("--shard", f.shard,
                 "k/N: answer the tasks with index % N == k, into OUT.shard-k-of-N (default: from a Slurm array or an Indexed "
                 "Job, docs/scale.md; taco merge joins them)");
}

std::vector<Task> take_shard(std::vector<Task> tasks, BatchFlags& f, const std::string& command, Json settings) {
  const Shard shard = shard_from(f.shard);
  if (!shard.active()) return tasks;
  ShardManifest manifest{command, shard, std::move(settings), Json::array()};
  manifest.settings["out"] = f.out;
  manifest.settings["tasks"] = tasks.size();
  std::vector<Task> mine;
  for (size_t i = 0; i < tasks.size(); ++i)
    if (shard.takes(i)) {
      manifest.units.push_back(tasks[i].id);
      mine.push_back(std::move(tasks[i]));
    }
  f.out = shard.output_path(f.out);
  if (!f.errors_out.empty()) f.errors_out = shard.output_path(f.errors_out);
  manifest.write_for(f.out);
  if (!f.quiet)
    std::fprintf(stderr, "shard %s (from %s): %zu of %zu tasks -> %s\n", shard.to_string().c_str(), shard.source.c_str(), mine.size(),
                 tasks.size(), f.out.c_str());
  return mine;
}

void run_task_batch(const std::vector<Task>& tasks, const Runtime& runtime, const BatchFlags& f) {
  BatchOptions batch;
  batch.jobs = f.jobs;
  batch.out_path = f.out;
  batch.errors_path = f.errors_out;
  batch.progress = !f.quiet;
  batch.force = f.force;
  BatchSummary s = run_batch(tasks, runtime, batch);
  std::fprintf(stderr, "%zu tasks: %zu done now, %zu already in %s, %zu failed (%.1f s)\n", s.total, s.succeeded, s.skipped,
               f.out.c_str(), s.failed, s.seconds);
  if (s.failed) {
    std::fprintf(stderr, "failures are listed in %s; run the same command again to retry them\n", s.errors_path.c_str());
    throw ExitCode{kExitFailure};
  }
}

}  // namespace taco::cli
