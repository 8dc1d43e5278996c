#include "runtime/run_tasks.h"

#include <filesystem>

namespace taco {

BatchSummary run_tasks(const RunTasksSettings& f, const JobEvents& events) {
  auto setup = make_runtime(f.episode, f.batch.out_path, false, events);
  const Runtime& runtime = *setup->runtime;
  std::vector<Task> tasks = load_tasks(f.data);
  if (f.limit && tasks.size() > f.limit) tasks.resize(f.limit);
  BatchOptions batch = f.batch;
  batch.progress = events.progress;
  batch.stop = events.stop;
  tasks = take_shard(std::move(tasks), f.shard, batch, "run",
                     {{"data", std::filesystem::absolute(f.data).lexically_normal().string()}, {"model", runtime.model().name()},
                      {"prompt", to_string(runtime.options().mode)}, {"protocol", to_string(runtime.options().protocol)}},
                     events);
  BatchSummary summary = run_batch(tasks, runtime, batch);
  events.tell(batch_summary_text(summary, batch.out_path));
  return summary;
}

}  // namespace taco
