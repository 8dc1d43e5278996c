// taco eval: run a benchmark through the runtime, score the traces, compare runs (the jobs of
// eval/run.h).
#include <cstdio>

#include "episodes.h"
#include "eval/run.h"
#include "eval/vision_eval.h"
#include "setting_flags.h"
#include "util/error.h"

namespace taco::cli {
namespace {

struct EvalRunFlags {
  EvalRunSettings settings;
  bool quiet = false;
};

struct EvalAllFlags {
  EvalAllSettings settings;
  bool quiet = false;
};

// taco eval --model M --data NAME...: run and score; without them, the help.
void add_eval_all_flags(CLI::App* eval) {
  auto all = std::make_shared<EvalAllFlags>();
  add_episode_flags(*eval, all->settings.run.episode);
  eval->get_option("--model")->required(false);
  eval->add_option("--data", all->settings.data, "benchmarks: names found in the data folder (MMVet -> $LMUData/MMVet.tsv) or files");
  eval->add_option("--data-dir", all->settings.run.data_dir, "where benchmark names are looked up (default: $LMUData, else ~/LMUData)");
  eval->add_option("--work-dir", all->settings.work_dir, "results go to WORK_DIR/NAME/BENCHMARK/")->capture_default_str();
  eval->add_option("--name", all->settings.name, "the run's folder name (default: the model's: embedded:models/taco-small -> taco-small)");
  eval->add_flag("--reuse", all->settings.reuse, "resume and rescore results already in the folder (else they are refused)");
  add_judge_flags(*eval, all->settings.score.judge, all->settings.score.judge_cache, "MMVet-style items (and unmatched options)");
  eval->add_option("--matching", all->settings.score.matching, "taco (its rules), vlmevalkit (VLMEvalKit's exact matching) or exact (the letter or the answer itself, as taco rl rewards)")
      ->check(CLI::IsMember({"taco", "vlmevalkit", "exact"}))->capture_default_str();
  eval->add_option("-j,--jobs", all->settings.run.batch.jobs, "episodes (and judge calls) in flight")->capture_default_str()->check(CLI::Range(1, 256));
  eval->add_option("--limit", all->settings.run.limit, "only the first N questions of each benchmark");
  eval->add_flag("-q,--quiet", all->quiet, "no progress line");
  eval->require_subcommand(0, 1);
  eval->footer("Examples:\n  taco eval --model embedded:models/taco-small --data MMVet MMStar     # $LMUData/MMVet.tsv, ...\n"
               "  taco eval --model gpt-4o --endpoint https://api.openai.com/v1 --data MMVet --judge gpt-4o-mini --reuse\n"
               "  taco eval list\n");
  eval->callback([eval, all] {
    if (!eval->get_subcommands().empty()) return;
    EvalAllSettings& settings = all->settings;
    if (settings.run.episode.model.model.empty() || settings.data.empty()) {
      if (!settings.run.episode.model.model.empty() || !settings.data.empty())
        throw Error("taco eval runs and scores benchmarks given both --model and --data");
      std::fputs(eval->help("taco").c_str(), stdout);
      return;
    }
    settings.score.jobs = settings.run.batch.jobs;
    if (!eval_all(settings, cli_events(all->quiet))) exit_status() = kExitFailure;
  });
}

void add_eval_list_command(CLI::App* eval) {
  auto list_dir = std::make_shared<std::string>();
  auto* list = eval->add_subcommand("list", "the benchmarks found by name: NAME.tsv in $LMUData (or --data-dir)");
  list->footer("Example:\n  LMUData=~/LMUData taco eval list\n");
  list->add_option("--data-dir", *list_dir, "the data folder (default: $LMUData, else ~/LMUData)");
  list->callback([list_dir] { cli_events().show(benchmark_list_text(*list_dir)); });
}

void add_eval_run_command(CLI::App* eval) {
  auto run_flags = std::make_shared<EvalRunFlags>();
  auto* run = eval->add_subcommand("run", "answer a benchmark's questions with a model; writes traces (resumable)");
  run->footer("Example:\n  taco eval run --model embedded:models/taco-small --data MMVet --out runs/mmvet.jsonl\n");
  run->add_option("--data", run_flags->settings.data, "a benchmark: a name found in the data folder (MMVet), a VLMEvalKit .tsv or a taco task .jsonl")->required();
  run->add_option("--data-dir", run_flags->settings.data_dir, "where benchmark names are looked up (default: $LMUData, else ~/LMUData)");
  run->add_option("--out", run_flags->settings.batch.out_path, "traces JSONL (appended; finished questions are skipped)")->required();
  add_episode_flags(*run, run_flags->settings.episode);
  run->add_option("--inputs-dir", run_flags->settings.inputs_dir, "where the TSV's base64 images are decoded (default: <out>.inputs)");
  run->add_option("--errors-out", run_flags->settings.batch.errors_path, "where failed questions are listed (default: <out>.errors.jsonl)");
  run->add_option("-j,--jobs", run_flags->settings.batch.jobs, "episodes in flight")->capture_default_str()->check(CLI::Range(1, 4096));
  add_shard_flag(*run, run_flags->settings.shard);
  run->add_flag("--force", run_flags->settings.batch.force, "resume into an --out made by another model, mode or benchmark");
  run->add_option("--limit", run_flags->settings.limit, "only the first N questions");
  run->add_flag("-q,--quiet", run_flags->quiet, "no progress line");
  run->callback([run_flags] { exit_if_failed(eval_run(run_flags->settings, cli_events(run_flags->quiet)).failed); });
}

void add_eval_score_command(CLI::App* eval) {
  auto score_flags = std::make_shared<EvalScoreSettings>();
  auto* score = eval->add_subcommand("score", "score a run's traces: overall, per category, tool use");
  score->footer("Example:\n  taco eval score --data MMVet --traces runs/mmvet.jsonl --judge gpt-4o-mini\n");
  score->add_option("--data", score_flags->data, "the benchmark the run answered (a name or a file, as in eval run)")->required();
  score->add_option("--data-dir", score_flags->data_dir, "where benchmark names are looked up (default: $LMUData, else ~/LMUData)");
  score->add_option("--traces", score_flags->traces, "the run's traces JSONL (several: the shards of one run)")->required()->check(CLI::ExistingFile);
  score->add_option("--name", score_flags->name, "the run's name in the report (default: the traces file's)");
  score->add_option("--report", score_flags->report, "Markdown report path, with a .json twin (default: <traces>.report.md)");
  score->add_option("--scores", score_flags->scores, "per-item scores for taco eval compare (default: <traces>.scores.jsonl)");
  add_judge_flags(*score, score_flags->judge, score_flags->judge_cache, "MMVet-style items (and unmatched options)");
  score->add_option("--judge-prompt", score_flags->judge_prompt,
                    "the judge's prompt: a text with {question}, {ground_truth}, {prediction}, or MMVet's own (the item's row is appended)")
      ->check(CLI::ExistingFile);
  score->add_option("--matching", score_flags->matching, "taco (its rules), vlmevalkit (VLMEvalKit's exact matching, for leaderboard numbers) or exact (the letter or the answer itself, as taco rl rewards)")
      ->check(CLI::IsMember({"taco", "vlmevalkit", "exact"}))->capture_default_str();
  score->add_option("-j,--jobs", score_flags->jobs, "judge calls in flight")->capture_default_str()->check(CLI::Range(1, 256));
  score->add_flag("--answered-only", score_flags->answered_only,
                  "score only the items the traces answer (a run with --limit): the others are said not asked, not counted wrong");
  score->callback([score_flags] { eval_score(*score_flags, cli_events()); });
}

struct CompareFlags {
  std::vector<std::string> runs;  // two .scores.jsonl files
  std::vector<std::string> names;
  EvalCompareSettings settings;
};

void add_eval_compare_command(CLI::App* eval) {
  auto compare_flags = std::make_shared<CompareFlags>();
  auto* compare = eval->add_subcommand("compare", "two scored runs side by side with the difference and its bootstrap CI");
  compare->footer("Example:\n  taco eval compare runs/direct.scores.jsonl runs/cota.scores.jsonl --names direct,cota\n");
  compare->add_option("runs", compare_flags->runs, "A.scores.jsonl B.scores.jsonl")->required()->check(CLI::ExistingFile);
  compare->add_option("--names", compare_flags->names, "names of the two runs, e.g. direct,cota")->delimiter(',');
  compare->add_option("--out", compare_flags->settings.out, "also write the table here (Markdown, with a .json twin)");
  compare->add_option("--resamples", compare_flags->settings.resamples, "bootstrap resamples")->capture_default_str()->check(CLI::Range(100, 1000000));
  compare->add_option("--seed", compare_flags->settings.seed, "bootstrap seed")->capture_default_str();
  compare->callback([compare_flags] {
    const CompareFlags& f = *compare_flags;
    if (f.runs.size() != 2) throw Error("compare takes two score files: taco eval compare A.scores.jsonl B.scores.jsonl");
    if (!f.names.empty() && f.names.size() != 2) throw Error("--names takes two names, e.g. --names direct,cota");
    EvalCompareSettings settings = f.settings;
    settings.a = f.runs[0];
    settings.b = f.runs[1];
    if (!f.names.empty()) settings.name_a = f.names[0], settings.name_b = f.names[1];
    eval_compare(settings, cli_events());
  });
}

void add_eval_vision_command(CLI::App* eval) {
  auto settings = std::make_shared<VisionEvalSettings>();
  auto* vision = eval->add_subcommand("vision", "how well the vision tools' backends see a world: detection AP50, attributes, depth order (docs/tools.md)");
  vision->footer("Example:\n  taco synth --n 300 --seed 23 --out worlds/test23\n"
                 "  taco eval vision --tools-config examples/tools-learned.json --data worlds/test23 --out learned.json\n");
  vision->add_option("--tools-config", settings->tools_config, "the tools config whose LocalizeObjects and EstimateRegionDepth backends are measured")
      ->required()->check(CLI::ExistingFile);
  vision->add_option("--data", settings->data, "a world `taco synth` wrote (its folder or scene-graph-annotations.json)")->required();
  vision->add_option("--out", settings->out, "also write the report here (JSON)");
  vision->add_option("--limit", settings->limit, "measure the first N scenes only");
  vision->callback([settings] { eval_vision(*settings, cli_events()); });
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto* eval = app.add_subcommand("eval", "run benchmarks, score the answers, compare runs (docs/eval.md)");
  add_eval_all_flags(eval);
  add_eval_list_command(eval);
  add_eval_run_command(eval);
  add_eval_score_command(eval);
  add_eval_compare_command(eval);
  add_eval_vision_command(eval);
}

}  // namespace taco::cli
