#include "runtime/run_tasks.h"

#include <filesystem>

#include "util/jsonl.h"

namespace taco {

BatchSummary run_tasks(const RunTasksSettings& f, const JobEvents& events) {
  auto setup = make_runtime(f.episode, f.batch.out_path, false, events);
  std::vector<Task> tasks = load_tasks(f.data);
  if (f.limit && tasks.size() > f.limit) tasks.resize(f.limit);
  return run_task_batch(std::move(tasks), *setup->runtime, "run", f.data, f.batch, f.shard, events);
}

BatchSummary run_task_batch(std::vector<Task> tasks, const Runtime& runtime, const std::string& command, const std::string& data,
                            BatchOptions batch, const std::string& shard, const JobEvents& events) {
  batch.progress = events.progress;
  batch.stop = events.stop;
  tasks = take_shard(std::move(tasks), shard, batch, command,
                     {{"data", std::filesystem::absolute(data).lexically_normal().string()}, {"model", runtime.model().name()},
                      {"prompt", to_string(runtime.options().mode)}, {"protocol", to_string(runtime.options().protocol)}},
                     events);
  BatchSummary summary = run_batch(tasks, runtime, batch);
  events.tell(batch_summary_text(summary, batch.out_path));
  return summary;
}

Trace run_question(const RunQuestionSettings& settings, const EpisodeWatch& watch, const JobEvents& events) {
  auto setup = make_runtime(settings.episode, settings.out, false, events);
  Task task;
  task.id = settings.out.empty() ? "task" : "run-" + std::to_string(finished_ids(settings.out).size() + 1);
  task.images = settings.images;
  task.question = settings.question;
  if (watch.task) watch.task(task);
  Trace trace = setup->runtime->run(task, watch.step);
  if (watch.outcome) watch.outcome(trace);
  if (!settings.out.empty() && trace.status != TraceStatus::kError) JsonlAppender(settings.out).append(trace.to_json_in(settings.out));
  return trace;
}

}  // namespace taco
