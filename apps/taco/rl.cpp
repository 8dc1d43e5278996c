// taco rl: the embedded action model learns from its own tool use (GRPO over real tool
// rollouts; docs/rl.md).
#include <cstdio>

#include "commands.h"
#include "rl/rl.h"
#include "setting_flags.h"
#include "util/progress.h"

namespace taco::cli {
namespace {

struct RlFlags {
  RlSettings settings;
  std::vector<std::string> reward;
  bool quiet = false;
};

void rl(RlFlags& f) {
  for (const auto& r : f.reward) f.settings.reward.set(r, "RlSettings.reward");
  const RlSummary s = run_rl(f.settings, cli_events(f.quiet));
  const std::string& out = f.settings.out;
  if (s.already_done) {
    std::fprintf(stderr, "%s already holds this run, finished (%lld steps); nothing to do (more --steps extend it)\n", out.c_str(),
                 static_cast<long long>(s.steps));
    return;
  }
  if (s.steps < f.settings.steps) {
    std::fprintf(stderr, "rl: stopped after step %lld of %lld; rerun the same command to go on\n", static_cast<long long>(s.steps),
                 static_cast<long long>(f.settings.steps));
    exit_status() = kExitFailure;
    return;
  }
  std::fprintf(stderr, "rl: %lld steps in %s; last step's reward %.3f, accuracy %.1f%%; the model is in %s (run it with --model embedded:%s)\n",
               static_cast<long long>(s.steps), format_duration(s.seconds).c_str(), s.reward, 100 * s.accuracy, out.c_str(), out.c_str());
}

}  // namespace

void add_rl_command(CLI::App& app) {
  auto f = std::make_shared<RlFlags>();
  RlSettings& s = f->settings;
  EpisodeSettings& e = s.episode;
  auto* cmd = app.add_subcommand("rl", "the embedded model learns from its own tool use: GRPO over real tool rollouts (docs/rl.md)");
  cmd->add_option("--model", e.model.model, "embedded:DIR, the model RL starts from (an SFT checkpoint)")->required();
  cmd->add_option("--data", s.data, "taco task files (taco gen --format tasks) of a world of its own seed (repeatable)")->required();
  cmd->add_option("--out", s.out, "the output folder: the trained checkpoint, rollouts, metrics; rerunning the same command resumes")
      ->required();
  cmd->add_option("--exclude", s.exclude, "benchmarks (task files or TSVs) whose images and scenes the tasks must not share (repeatable)");
  cmd->add_option("--tools-config", e.tools_config, "the tools config: backends and oracle noise (docs/tools.md)")->check(CLI::ExistingFile);
  cmd->add_option("--group", s.group, "episodes per question (G)")->capture_default_str();
  cmd->add_option("--questions-per-step", s.questions_per_step, "questions per step (Q)")->capture_default_str();
  cmd->add_option("--steps", s.steps, "RL steps (a rerun with more continues a finished run)")->capture_default_str();
  cmd->add_option("--temperature", s.temperature, "sampling temperature of the rollouts")->capture_default_str();
  cmd->add_option("--lr", s.lr, "learning rate (constant)")->capture_default_str();
  cmd->add_option("--clip-low", s.clip_low, "PPO ratio clipped below at 1 - this")->capture_default_str();
  cmd->add_option("--clip-high", s.clip_high, "PPO ratio clipped above at 1 + this (clip-higher)")->capture_default_str();
  cmd->add_option("--kl", s.kl, "weight of the KL term to the starting model")->capture_default_str();
  cmd->add_option("--updates-per-step", s.updates_per_step, "optimizer steps per RL step, each on its share of the rollouts")
      ->capture_default_str();
  cmd->add_option("--reward", f->reward,
                  "a reward rule NAME=VALUE (repeatable): correct (1), parse_penalty (0.1 per reply that does not parse or action "
                  "that fails), unfinished (0: an episode out of replies or context), tool_cost (0 per tool call beyond the first), "
                  "tool_bonus (0 for a right answer reached with a tool)");
  cmd->add_option("--threads", s.threads, "the update's math threads (a step's episodes all run at once, their replies decoded together)")->capture_default_str();
  cmd->add_option("--seed", s.seed, "the run's seed: questions and every rollout's sampling")->capture_default_str();
  cmd->add_option("--prompt", e.prompt, "cota or direct (default: what the model was trained with)");
  cmd->add_option("--prompt-template", e.prompt_template, "a JSON file replacing prompt texts")->check(CLI::ExistingFile);
  cmd->add_option("--max-replies", e.max_replies, "replies per episode at most (default: the model's own)");
  cmd->add_option("--max-tokens", e.model.max_tokens, "tokens per reply at most (default: the model's own)");
  cmd->add_option("--json-schema", e.model.json_schema, "\"cota\": replies kept to the step grammar as they are sampled");
  cmd->add_option("--images-dir", e.images_dir, "where images made by tools are saved (default: OUT/rollouts.images)");
  cmd->add_flag("-q,--quiet", f->quiet, "no progress lines");
  cmd->footer("Example:\n  taco gen --data world-7/scene-graph-annotations.json --format tasks --out rl-tasks.jsonl\n"
              "  taco rl --model embedded:models/cota --data rl-tasks.jsonl --exclude benchmark.jsonl --out models/cota-rl\n");
  cmd->callback([f] { rl(*f); });
}

}  // namespace taco::cli
