// taco run: one question about images, or a whole task file, through the CoTA runtime.
#include <cstdio>
#include <filesystem>

#include "episodes.h"
#include "eval/run.h"
#include "runtime/run_tasks.h"
#include "setting_flags.h"
#include "util/error.h"

namespace taco::cli {
namespace {

struct RunFlags {
  EpisodeSettings episode;
  BatchFlags batch;
  std::vector<std::string> images;
  std::string question;
  std::string dataset;
  size_t limit = 0;
};

void run(const RunFlags& f) {
  if (f.dataset.empty() && f.question.empty()) throw Error("give --question (with --image) or --data tasks.jsonl");
  if (!f.dataset.empty() && (!f.question.empty() || !f.images.empty()))
    throw Error("--data runs a task file; it cannot be combined with --question or --image");
  if (!f.dataset.empty() && f.batch.batch.out_path.empty()) throw Error("--data needs --out traces.jsonl");
  const bool quiet = f.batch.quiet;
  const JobEvents events = cli_events(quiet);
  if (!f.dataset.empty()) {
    RunTasksSettings settings{f.episode, f.batch.batch, f.batch.shard, f.dataset, f.limit};
    const BatchSummary summary = run_tasks(settings, events);
    events.show(task_accuracy_text(f.dataset, summary.out_path));
    exit_if_failed(summary.failed);
    return;
  }

  const std::string& out = f.batch.batch.out_path;
  EpisodeWatch watch;
  if (!quiet) watch = EpisodeWatch{print_task, print_step, print_outcome};
  const Trace trace = run_question(RunQuestionSettings{f.episode, f.images, f.question, out}, watch, events);
  if (quiet && trace.status != TraceStatus::kError) std::printf("%s\n", trace.answer.c_str());
  if (trace.status == TraceStatus::kError) {
    if (quiet) std::fprintf(stderr, "taco: %s\n", trace.error.c_str());
    exit_status() = kExitFailure;
    return;
  }
  if (!out.empty() && !quiet) std::printf("  trace appended to %s\n", out.c_str());
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto flags = std::make_shared<RunFlags>();
  auto* cmd = app.add_subcommand("run", "answer a question about images with a chain of thoughts and actions");
  cmd->footer("Examples:\n  taco run --image scene.png --question \"How many cups are there?\"\n  taco run --model Qwen2-VL-7B --endpoint http://localhost:8000/v1 --data tasks.jsonl --out traces.jsonl -j 32\n");
  add_episode_flags(*cmd, flags->episode);
  cmd->get_option("--model")->required(false)->description(
      "a served model's name, replay:PATH or embedded:DIR (default: the shipped embedded:taco-small)");
  cmd->add_option("--image", flags->images, "an input image (repeat for several: image-0, image-1, ...)");
  cmd->add_option("--question", flags->question, "the question to answer");
  cmd->add_option("--data,--dataset", flags->dataset, "a task JSONL file to run instead of one question");
  cmd->add_option("--limit", flags->limit, "with --data: only the first N tasks");
  cmd->add_option("--out", flags->batch.batch.out_path, "append traces to this JSONL file (resumes: finished tasks are skipped)");
  cmd->add_option("--errors-out", flags->batch.batch.errors_path, "where failed tasks are listed (default: <out>.errors.jsonl)");
  cmd->add_option("-j,--jobs", flags->batch.batch.jobs, "episodes in flight with --data")->capture_default_str()->check(CLI::Range(1, 4096));
  add_shard_flag(*cmd, flags->batch.shard);
  cmd->add_flag("--force", flags->batch.batch.force, "with --data: resume into an --out made by another model, mode or dataset");
  cmd->add_flag("-q,--quiet", flags->batch.quiet, "print only the answer (or, with --data, no progress)");
  cmd->callback([flags] { run(*flags); });
}

}  // namespace taco::cli
