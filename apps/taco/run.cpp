// taco run: one question about images, or a whole task file, through the CoTA runtime.
#include <cstdio>

#include "commands.h"
#include "cota/prompt.h"
#include "runtime/batch.h"
#include "runtime/episode.h"
#include "util/error.h"
#include "util/files.h"
#include "util/jsonl.h"

namespace taco::cli {
namespace {

struct RunFlags {
  ModelOptions model;
  std::vector<std::string> images;
  std::string question;
  std::string dataset;
  std::string out;
  std::string errors_out;
  std::string images_dir;
  std::string prompt = "cota";
  std::string prompt_template;
  std::string tools_config;
  int max_replies = 10;
  int jobs = 8;
  int64_t max_pixels = 0;
  bool quiet = false;
};

void run(const RunFlags& f) {
  if (f.dataset.empty() && f.question.empty()) throw Error("give --question (with --image) or --dataset tasks.jsonl");
  if (!f.dataset.empty() && (!f.question.empty() || !f.images.empty()))
    throw Error("--dataset runs a task file; it cannot be combined with --question or --image");
  if (!f.dataset.empty() && f.out.empty()) throw Error("--dataset needs --out traces.jsonl");
  if (f.max_replies < 0) throw Error("--max-replies must be 0 or more");

  ToolsConfig config = load_tools_config(f.tools_config);
  ToolRegistry tools = make_tool_registry(config);
  PromptTemplate prompts = f.prompt_template.empty() ? PromptTemplate::defaults() : PromptTemplate::from_file(f.prompt_template);
  auto model = make_model(f.model);
  EpisodeOptions episode;
  episode.mode = prompt_mode_from_string(f.prompt);
  episode.max_replies = f.max_replies;
  episode.max_pixels = f.max_pixels > 0 ? f.max_pixels : config.max_pixels();
  episode.images_dir = !f.images_dir.empty() ? f.images_dir : !f.out.empty() ? output_base(f.out) + ".images" : "";
  Runtime runtime(*model, tools, std::move(prompts), episode);

  if (f.dataset.empty()) {
    Task task;
    task.id = "task";
    task.images = f.images;
    task.question = f.question;
    if (!f.out.empty()) {
      // A fresh id per run so repeated questions append rather than collide.
      task.id = "run-" + std::to_string(finished_ids(f.out).size() + 1);
    }
    if (!f.quiet) print_task(task);
    Trace trace = runtime.run(task, f.quiet ? Runtime::StepCallback() : print_step);
    if (!f.quiet) print_outcome(trace);
    else if (trace.status != TraceStatus::kError) std::printf("%s\n", trace.answer.c_str());
    if (trace.status == TraceStatus::kError) {
      if (f.quiet) std::fprintf(stderr, "taco: %s\n", trace.error.c_str());
      throw ExitCode{kExitFailure};
    }
    if (!f.out.empty()) {
      JsonlAppender(f.out).append(trace.to_json());
      if (!f.quiet) std::printf("  trace appended to %s\n", f.out.c_str());
    }
    return;
  }

  std::vector<Task> tasks = load_tasks(f.dataset);
  BatchOptions batch;
  batch.jobs = f.jobs;
  batch.out_path = f.out;
  batch.errors_path = f.errors_out;
  batch.progress = !f.quiet;
  BatchSummary s = run_batch(tasks, runtime, batch);
  std::fprintf(stderr, "%zu tasks: %zu done now, %zu already in %s, %zu failed (%.1f s)\n", s.total, s.succeeded,
               s.skipped, f.out.c_str(), s.failed, s.seconds);
  if (s.failed) {
    std::fprintf(stderr, "failures are listed in %s; run the same command again to retry them\n", s.errors_path.c_str());
    throw ExitCode{kExitFailure};
  }
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto flags = std::make_shared<RunFlags>();
  auto* cmd = app.add_subcommand("run", "answer a question about images with a chain of thoughts and actions");
  add_model_flags(*cmd, flags->model);
  cmd->add_option("--image", flags->images, "an input image (repeat for several: image-0, image-1, ...)");
  cmd->add_option("--question", flags->question, "the question to answer");
  cmd->add_option("--dataset", flags->dataset, "a task JSONL file to run instead of one question");
  cmd->add_option("--out", flags->out, "append traces to this JSONL file (resumes: finished tasks are skipped)");
  cmd->add_option("--errors-out", flags->errors_out, "where failed tasks are listed (default: <out>.errors.jsonl)");
  cmd->add_option("--images-dir", flags->images_dir, "where images made by tools are saved (default: <out>.images)");
  cmd->add_option("--prompt", flags->prompt, "cota or direct")->check(CLI::IsMember({"cota", "direct"}))->capture_default_str();
  cmd->add_option("--prompt-template", flags->prompt_template, "a JSON file replacing prompt texts (docs/prompt-templates.md)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--max-replies", flags->max_replies, "observations fed back before the episode stops")->capture_default_str();
  cmd->add_option("-j,--jobs", flags->jobs, "episodes in flight with --dataset")->capture_default_str()->check(CLI::Range(1, 4096));
  cmd->add_option("--max-pixels", flags->max_pixels, "refuse images with more pixels than this (default: the tools config's, 64 M)");
  cmd->add_option("--tools-config", flags->tools_config, "the tools config: backends and model paths (docs/tools.md)")
      ->check(CLI::ExistingFile);
  cmd->add_flag("-q,--quiet", flags->quiet, "print only the answer (or, with --dataset, no progress)");
  cmd->callback([flags] { run(*flags); });
}

}  // namespace taco::cli
