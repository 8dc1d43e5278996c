#include "distill/distill.h"

#include <filesystem>
#include <map>
#include <mutex>
#include <set>

#include "distill/verify.h"
#include "eval/benchmark.h"
#include "eval/judge.h"
#include "util/error.h"
#include "util/files.h"
#include "util/jsonl.h"
#include "util/shard.h"

namespace taco {
namespace {

std::vector<Task> load_inputs(const DistillSettings& f, const QaInputOptions& input) {
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
                    const DistillSettings& f, Judge* judge, const std::function<void(const Trace&)>& on_verified,
                    const JobEvents& events) {
  std::map<std::string, const Task*> by_id;
  for (const auto& t : tasks) by_id[t.id] = &t;
  BatchOptions batch = f.batch;
  batch.out_path = out;
  batch.errors_path.clear();
  batch.progress = events.progress;
  batch.stop = events.stop;
  batch.before_write = [&](Trace& trace) {
    trace.task.metadata["variant"] = variant;  // "cota" or "cot": the format curate mixes by
    trace.verification = verify_trace(*by_id.at(trace.task.id), trace, judge, f.judge_threshold);
    if (on_verified) on_verified(trace);
  };
  BatchSummary s = run_batch(tasks, runtime, batch);
  events.tell(format_text("%s: %zu questions: %zu done now, %zu already there, %zu failed (%.1f s)\n", out.c_str(), s.total,
                          s.succeeded, s.skipped, s.failed, s.seconds));
  if (s.failed) events.tell("failures are listed in " + s.errors_path + "; run the same command again to retry them\n");
  return s.failed;
}

}  // namespace

DistillResult distill(DistillSettings f, const JobEvents& events) {
  const Shard shard = shard_from(f.shard);
  const std::string base = output_base(shard.output_path(f.batch.out_path));
  QaInputOptions input = f.input;
  if (input.images_dir.empty()) input.images_dir = base + ".inputs";
  std::vector<Task> tasks = load_inputs(f, input);
  if (tasks.empty()) throw Error("no questions in the input");
  Json data = Json::array();
  for (const auto& d : f.data) data.push_back(std::filesystem::absolute(d).lexically_normal().string());
  tasks = take_shard(std::move(tasks), f.shard, f.batch, "distill", {{"data", data}, {"model", f.episode.model.model}, {"cot", f.cot}},
                     events);
  // The CoT traces and the Direct examples are parts of the job too: the same manifest.
  if (shard.active()) {
    ShardManifest manifest = ShardManifest::load_for(f.batch.out_path);
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
        throw Error("question " + t.id + " is graded by a judge model (MMVet-style): give DistillSettings.judge");
  }

  DistillResult result;
  result.traces_path = f.batch.out_path;
  // Wrong answers become Direct examples with the true answer (once each, across reruns).
  result.direct_path = base + ".direct.jsonl";
  std::set<std::string> direct_done;
  if (std::filesystem::exists(result.direct_path))
    for (auto& id : finished_ids(result.direct_path)) direct_done.insert(std::move(id));
  JsonlAppender direct_out(result.direct_path);
  std::mutex direct_mu;
  auto on_cota = [&](const Trace& t) {
    if (t.verification.value("split", "") != kIncorrect) return;
    Trace d = direct_example(t, *t.task.answer);
    std::lock_guard<std::mutex> lock(direct_mu);
    // Paths relative to the Direct file's folder, as its trace version says (not the working folder).
    if (direct_done.insert(d.task.id).second) direct_out.append(d.to_json_in(result.direct_path));
  };

  EpisodeSettings episode = f.episode;
  episode.prompt = "cota";
  auto cota = make_runtime(episode, f.batch.out_path, false, events);
  events.announce(format_text("distill: %zu questions, teacher %s%s\n", tasks.size(), cota->model->name().c_str(),
                              f.cot ? ", CoTA and CoT" : ""));
  result.failed = run_verified(tasks, *cota->runtime, f.batch.out_path, "cota", f, judge.get(), on_cota, events);
  result.cot_path = base + ".cot.jsonl";
  if (f.cot) {
    auto cot = make_runtime(episode, result.cot_path, true, events);
    result.failed += run_verified(tasks, *cot->runtime, result.cot_path, "cot", f, judge.get(), nullptr, events);
  }

  std::map<std::string, SourceStats> stats;
  auto read = [&](const std::string& path, bool is_cot) {
    if (!std::filesystem::exists(path)) return;
    for_each_jsonl(path, [&](size_t, Json&& j) { add_to_stats(stats, Trace::from_json(j), is_cot); });
  };
  read(f.batch.out_path, false);
  if (f.cot) read(result.cot_path, true);
  result.stats_path = base + ".stats.json";
  write_file(result.stats_path, source_stats_json(stats).dump(2) + "\n");
  events.show(source_stats_markdown(stats));
  events.tell("\ntraces: " + f.batch.out_path + " (verified)" + (f.cot ? ", " + result.cot_path + " (CoT)" : std::string()) +
              "; Direct examples for wrong answers: " + result.direct_path + "; statistics: " + result.stats_path + "\n");
  return result;
}

}  // namespace taco
