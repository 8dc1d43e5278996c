// taco curate: filter and mix traces by a recipe; taco export: traces as LLaVA / Mantis.
#include <cstdio>
#include <memory>

#include "commands.h"
#include "curate/curate.h"
#include "curate/export.h"
#include "setting_flags.h"
#include "util/error.h"
#include "util/files.h"

namespace taco::cli {
namespace {

struct ExportFlags {
  std::vector<std::string> inputs;
  ExportOptions options;
  std::vector<std::string> reward;  // NAME=VALUE rules
};

void export_traces(ExportFlags f) {
  for (const auto& r : f.reward) f.options.reward.set(r, "ExportOptions.reward");
  ExportSummary s = run_export(f.inputs, f.options);
  std::fprintf(stderr, "%zu traces -> %zu %s records in %s (%zu images %s)\n", s.traces, s.records, f.options.format.c_str(),
               f.options.out_path.c_str(), s.images,
               f.options.images == "keep" ? "left in place" : f.options.images == "link" ? "linked" : "copied");
  if (!s.dataset_info.empty())
    std::fprintf(stderr, "dataset_info.json beside it names it \"%s\": llamafactory-cli train ... --dataset_dir %s --dataset %s\n",
                 s.dataset_info.c_str(), parent_dir(f.options.out_path).empty() ? "." : parent_dir(f.options.out_path).c_str(),
                 s.dataset_info.c_str());
  if (s.invalid) {
    std::fprintf(stderr, "%zu traces were left out as invalid:\n", s.invalid);
    for (const auto& p : s.problems) std::fprintf(stderr, "  %s\n", p.c_str());
    exit_status() = kExitFailure;
  }
}

}  // namespace

void add_curate_command(CLI::App& app) {
  auto f = std::make_shared<CurateSettings>();
  auto quiet = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("curate", "filter and mix traces into a training set by a recipe (docs/distill.md)");
  cmd->footer("Examples:\n  taco curate --recipe recipe.json --out curated.jsonl\n  taco curate verified.jsonl --correct-only --dedupe --out curated.jsonl\n");
  cmd->add_option("inputs", f->inputs, "trace files to take whole (besides or instead of the recipe's sources)")->check(CLI::ExistingFile);
  cmd->add_option("--recipe", f->recipe, "the recipe: sources, weights or counts, filters, formats, target size, seed")
      ->check(CLI::ExistingFile);
  cmd->add_option("--out", f->out, "the curated traces (JSONL)")->required();
  cmd->add_option("--report", f->report, "Markdown report, with a .json twin (default: <out>.report.md)");
  cmd->add_flag("--correct-only", f->correct_only, "drop traces verified wrong");
  cmd->add_flag("--parsed", f->parsed, "drop traces with a reply that did not parse");
  cmd->add_flag("--no-failed-action", f->no_failed_action, "drop traces with a failed action");
  cmd->add_option("--min-steps", f->min_steps, "fewest steps");
  cmd->add_option("--max-steps", f->max_steps, "most steps");
  cmd->add_option("--min-tools", f->min_tools, "fewest tool calls");
  cmd->add_option("--require-tool", f->require_tools, "a tool every trace must call (repeat)");
  cmd->add_option("--forbid-tool", f->forbid_tools, "a tool no trace may call (repeat)");
  cmd->add_flag("--images-present", f->images_present, "drop traces naming an image that is not on disk");
  cmd->add_flag("--dedupe", f->dedupe, "one trace per content (question, images, replies, answer)");
  cmd->add_flag("--drop-action-useless", f->drop_action_useless, "drop sources where actions do not help (the paper's rule)");
  cmd->add_option("--target-size", f->target_size, "traces in the output (shared by weight)");
  cmd->add_option("--seed", f->seed, "selection seed (default: the recipe's, else 1)");
  cmd->add_option("--exclude", f->exclude,
                  "benchmarks to decontaminate against (names found in $LMUData, or files): drop traces that share a question or "
                  "an input image (same bytes or perceptually the same) with one of their items");
  cmd->add_option("--exclude-by", f->exclude_by,
                  "what counts as overlap with --exclude: question, image, or both (default; a synthetic benchmark from taco's "
                  "own templates shares its questions with any synthetic training set: use image)")
      ->delimiter(',')->check(CLI::IsMember({"question", "image"}));
  cmd->add_option("--data-dir", f->data_dir, "where --exclude names are looked up (default: $LMUData, else ~/LMUData)");
  cmd->add_flag("-q,--quiet", *quiet, "no progress line");
  cmd->callback([f, quiet] { curate(*f, cli_events(*quiet)); });

  auto e = std::make_shared<ExportFlags>();
  auto* ex = app.add_subcommand("export", "traces as training data for LLaVA, Mantis, TRL/Qwen2-VL, LLaMA-Factory or ms-swift, checked");
  ex->footer("Examples:\n  taco export curated.jsonl --format llava --out train.json\n"
             "  taco export curated.jsonl --format llamafactory --out data/taco_cota.json   # + data/dataset_info.json\n");
  ex->add_option("inputs", e->inputs, "trace files (e.g. from taco curate)")->required()->check(CLI::ExistingFile);
  ex->add_option("--format", e->options.format,
                 "llava, mantis, messages (OpenAI-style with tool_calls and the actions' schemas: TRL, Qwen2-VL/2.5-VL), "
                 "llamafactory (multimodal ShareGPT, with its dataset_info.json entry), llamafactory-tools (its tool-use layout: "
                 "function_call / observation turns, a tools string), ms-swift (messages with <image> and images) (docs/distill.md) "
                 "or rl (rollouts right or wrong with their rewards, and a taco rl run's tokens, masks and log-probs: docs/rl.md)")
      ->required()->check(CLI::IsMember({"llava", "mantis", "messages", "llamafactory", "llamafactory-tools", "ms-swift", "rl"}));
  ex->add_option("--out", e->options.out_path, ".json (one array) or .jsonl")->required();
  ex->add_option("--images", e->options.images, "copy, link or keep the image files")
      ->capture_default_str()
      ->check(CLI::IsMember({"copy", "link", "keep"}));
  ex->add_option("--images-dir", e->options.images_dir, "where images are copied or linked (default: <out>.images)");
  ex->add_option("--image-folder", e->options.image_folder,
                 "where the traces' relative image paths start (default: each trace file's folder; the traces were moved without their images, say)");
  ex->add_option("--dataset", e->options.dataset, "Mantis metadata.dataset")->capture_default_str();
  ex->add_option("--reward", e->reward,
                 "format rl: a reward rule NAME=VALUE for traces without a run's tokens sidecar (repeatable), as taco rl's --reward");
  ex->callback([e] { export_traces(*e); });
}

}  // namespace taco::cli
