#include "episodes.h"

namespace taco::cli {

void add_episode_flags(CLI::App& cmd, EpisodeSettings& f, bool with_prompt_mode, bool with_api_key) {
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

void add_shard_flag(CLI::App& cmd, std::string& shard) {
  cmd.add_option("--shard", shard,
                 "k/N: answer the tasks with index % N == k, into OUT.shard-k-of-N (default: from a Slurm array or an Indexed "
                 "Job, docs/scale.md; taco merge joins them)");
}

void exit_if_failed(size_t failed) {
  if (failed) exit_status() = kExitFailure;
}

}  // namespace taco::cli
