// taco distill: a teacher model answers QA data in CoTA mode with real tools; every answer is
// verified against the ground truth and split as the paper does; wrong ones become Direct
// examples with the true answer.
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>

#include "distill/qa_input.h"
#include "distill/verify.h"
#include "curate/merge.h"
#include "episodes.h"
#include "eval/benchmark.h"
#include "runtime/batch.h"
#include "util/error.h"
#include "util/files.h"
#include "util/jsonl.h"

namespace taco::cli {
namespace {

struct DistillFlags {
  EpisodeFlags episode;
  BatchFlags batch;
  std::vector<std::string> data;
  QaInputOptions input;
  bool cot = false;
  size_t limit = 0;
  ModelOptions judge;
  std::string judge_cache;
  double judge_threshold = 0.5;
};

std::vector<Task> load_inputs(const DistillFlags& f, const QaInputOptions& input) {
  std::vector<Task> tasks;
  std::set<std::string> ids;
  for (const auto& path : f.data) {
    std::vector<Task> part = load_qa_tasks(path, input);
    for (auto& t : part) {
      if (!t.answer) throw Error(path + ": question " + t.id + " has no answer; distillation verifies against the ground truth");
      if (f.data.size() > 1) t.id = benchmark_name(path) + ":" + t.id;  // ids stay unique across inputs
      if (!ids.insert(t.id).second) throw Error(path + ": question id " + t.id + " appears twice");
      tasks.push_back(std::move(t));
    }
  }
  if (f.limit && tasks.size() > f.limit) tasks.resize(f.limit);
  return tasks;
}

// Runs one mode into `out`, verifying each trace before it is written; `on_verified` sees
// each verified trace (under no lock). Returns the number of tasks that failed.
size_t run_verified(const std::vector<Task>& tasks, const Runtime& runtime, const std::string& out, const std::string& variant,
                    const DistillFlags& f, Judge* judge, const std::function<void(const Trace&)>& on_verified) {
  std::map<std::string, const Task*> by_id;
  for (const auto& t : tasks) by_id[t.id] = &t;
  BatchOptions batch;
  batch.jobs = f.batch.jobs;
  batch.out_path = out;
  batch.progress = !f.batch.quiet;
  batch.force = f.batch.force;
  batch.before_write = [&](Trace& trace) {
    trace.task.metadata["variant"] = variant;  // "cota" or "cot": the format curate mixes by
    trace.verification = verify_trace(*by_id.at(trace.task.id), trace, judge, f.judge_threshold);
    if (on_verified) on_verified(trace);
  };
  BatchSummary s = run_batch(tasks, runtime, batch);
  std::fprintf(stderr, "%s: %zu questions: %zu done now, %zu already there, %zu failed (%.1f s)\n", out.c_str(), s.total,
               s.succeeded, s.skipped, s.failed, s.seconds);
  if (s.failed) std::fprintf(stderr, "failures are listed in %s; run the same command again to retry them\n", s.errors_path.c_str());
  return s.failed;
}

void distill(DistillFlags f) {
  const Shard shard = shard_from(f.batch.shard);
  const std::string base = output_base(shard.output_path(f.batch.out));
  QaInputOptions input = f.input;
  if (input.images_dir.empty()) input.images_dir = base + ".inputs";
  std::vector<Task> tasks = load_inputs(f, input);
  if (tasks.empty()) throw Error("no questions in the input");
  Json data = Json::array();
  for (const auto& d : f.data) data.push_back(std::filesystem::absolute(d).lexically_normal().string());
  tasks = take_shard(std::move(tasks), f.batch, "distill", {{"data", data}, {"model", f.episode.model.model}, {"cot", f.cot}});
  // The CoT traces and the Direct examples are parts of the job too: the same manifest.
  if (shard.active()) {
    ShardManifest manifest = ShardManifest::load_for(f.batch.out);
    if (f.cot) manifest.write_for(base + ".cot.jsonl");
    manifest.every_unit = false;  // a Direct example only for each question the teacher missed
    manifest.write_for(base + ".direct.jsonl");
  }

  std::unique_ptr<Model> judge_model;
  std::unique_ptr<Judge> judge;
  if (!f.judge.model.empty()) {
    judge_model = make_model(f.judge);
    judge = std::make_unique<Judge>(*judge_model, !f.judge_cache.empty() ? f.judge_cache : default_judge_cache(judge_model->name()));
  } else {
    for (const auto& t : tasks)
      if (t.metadata.value("scoring", "") == kScoreJudge)
        throw Error("question " + t.id + " is graded by a judge model (MMVet-style): give --judge");
  }

  // Wrong answers become Direct examples with the true answer (once each, across reruns).
  const std::string direct_path = base + ".direct.jsonl";
  std::set<std::string> direct_done;
  if (std::filesystem::exists(direct_path))
    for (auto& id : finished_ids(direct_path)) direct_done.insert(std::move(id));
  JsonlAppender direct_out(direct_path);
  std::mutex direct_mu;
  auto on_cota = [&](const Trace& t) {
    if (t.verification.value("split", "") != kIncorrect) return;
    Trace d = direct_example(t, *t.task.answer);
    std::lock_guard<std::mutex> lock(direct_mu);
    if (direct_done.insert(d.task.id).second) direct_out.append(d.to_json());
  };

  EpisodeFlags episode = f.episode;
  episode.prompt = "cota";
  auto cota = make_runtime(episode, f.batch.out);
  if (!f.batch.quiet)
    std::fprintf(stderr, "distill: %zu questions, teacher %s%s\n", tasks.size(), cota->model->name().c_str(), f.cot ? ", CoTA and CoT" : "");
  size_t failed = run_verified(tasks, *cota->runtime, f.batch.out, "cota", f, judge.get(), on_cota);
  const std::string cot_path = base + ".cot.jsonl";
  if (f.cot) {
    auto cot = make_runtime(episode, cot_path, true);
    failed += run_verified(tasks, *cot->runtime, cot_path, "cot", f, judge.get(), nullptr);
  }

  std::map<std::string, SourceStats> stats;
  auto read = [&](const std::string& path, bool is_cot) {
    if (!std::filesystem::exists(path)) return;
    for_each_jsonl(path, [&](size_t, Json&& j) { add_to_stats(stats, Trace::from_json(j), is_cot); });
  };
  read(f.batch.out, false);
  if (f.cot) read(cot_path, true);
  write_file(base + ".stats.json", source_stats_json(stats).dump(2) + "\n");
  std::printf("%s", source_stats_markdown(stats).c_str());
  std::fprintf(stderr, "\ntraces: %s (verified)%s; Direct examples for wrong answers: %s; statistics: %s\n", f.batch.out.c_str(),
               f.cot ? (", " + cot_path + " (CoT)").c_str() : "", direct_path.c_str(), (base + ".stats.json").c_str());
  if (failed) throw ExitCode{kExitFailure};
}

}  // namespace

void add_distill_command(CLI::App& app) {
  auto f = std::make_shared<DistillFlags>();
  auto* cmd = app.add_subcommand("distill", "a teacher model answers QA data with tools; answers verified and split (docs/distill.md)");
  cmd->footer("Example:\n  taco distill --data qa.jsonl --model gpt-4o --endpoint https://api.openai.com/v1 --out verified.jsonl\n");
  cmd->add_option("--data", f->data, "QA data: task .jsonl, LLaVA/Mantis .json/.jsonl, VLMEvalKit .tsv (repeat for several)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--out", f->batch.out, "verified CoTA traces (appended; finished questions are skipped)")->required();
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
  add_shard_flag(*cmd, f->batch);
  cmd->add_flag("--force", f->batch.force, "resume into outputs made by another model, mode or dataset");
  cmd->add_option("--limit", f->limit, "only the first N questions");
  cmd->add_flag("-q,--quiet", f->batch.quiet, "no progress line");
  cmd->callback([f] { distill(*f); });
}

}  // namespace taco::cli
