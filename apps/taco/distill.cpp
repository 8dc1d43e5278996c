// taco distill: a teacher model answers QA data in CoTA mode with real tools; every answer is
// verified against the ground truth and split as the paper does; wrong ones become Direct
// examples with the true answer (the job of distill/distill.h).
#include "distill/distill.h"
#include "episodes.h"
#include "setting_flags.h"

namespace taco::cli {

void add_distill_command(CLI::App& app) {
  struct DistillFlags {
    DistillSettings settings;
    bool quiet = false;
  };
  auto flags = std::make_shared<DistillFlags>();
  DistillSettings* f = &flags->settings;
  auto* cmd = app.add_subcommand("distill", "a teacher model answers QA data with tools; answers verified and split (docs/distill.md)");
  cmd->footer("Example:\n  taco distill --data qa.jsonl --model gpt-4o --endpoint https://api.openai.com/v1 --out verified.jsonl\n");
  cmd->add_option("--data", f->data, "QA data: task .jsonl, LLaVA/Mantis .json/.jsonl, VLMEvalKit .tsv (repeat for several)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--out", f->batch.out_path, "verified CoTA traces (appended; finished questions are skipped)")->required();
  add_episode_flags(*cmd, f->episode, false);
  cmd->add_flag("--cot", f->cot, "also run CoT mode (thought and answer, no tools) into <out>.cot.jsonl");
  cmd->add_option("--turns-per-example", f->input.turns_per_example, "questions taken from one conversation at most (seeded)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--turn-seed", f->input.seed, "seed for choosing conversation turns")->capture_default_str();
  cmd->add_option("--image-folder", f->input.image_folder, "base folder of relative image paths (default: the data file's)");
  cmd->add_option("--inputs-dir", f->input.images_dir, "where base64 images are decoded (default: <out>.inputs)");
  add_judge_flags(*cmd, f->judge, f->judge_cache, "free-form answers that do not match exactly");
  cmd->add_option("--judge-threshold", f->judge_threshold, "judge grade counted as correct")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  cmd->add_option("-j,--jobs", f->batch.jobs, "episodes in flight")->capture_default_str()->check(CLI::Range(1, 4096));
  add_shard_flag(*cmd, f->shard);
  cmd->add_flag("--force", f->batch.force, "resume into outputs made by another model, mode or dataset");
  cmd->add_option("--limit", f->limit, "only the first N questions");
  cmd->add_flag("-q,--quiet", flags->quiet, "no progress line");
  cmd->callback([flags] { exit_if_failed(distill(flags->settings, cli_events(flags->quiet)).failed); });
}

}  // namespace taco::cli
