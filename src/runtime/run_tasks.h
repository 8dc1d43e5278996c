// The task-file job (taco run --data): a model answers every task of a taco task file through
// the runtime, as a resumable (and shardable) batch.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "runtime/batch.h"
#include "runtime/setup.h"
#include "util/job.h"

namespace taco {

struct RunTasksSettings {
  EpisodeSettings episode;
  BatchOptions batch;  // batch.out_path: the traces (appended; finished tasks skipped)
  std::string shard;   // Shard.spec
  std::string data;    // a taco task .jsonl
  size_t limit = 0;    // only the first N tasks; 0: all
};

// How a job's episodes are shown while they run (the command line prints each part; any may be
// unset).
struct EpisodeWatch {
  std::function<void(const Task&)> task;
  std::function<void(const Trace&, const StepRecord&)> step;
  std::function<void(const Trace&)> outcome;
};

// One question about images (taco run --question).
struct RunQuestionSettings {
  EpisodeSettings episode;
  std::vector<std::string> images;
  std::string question;
  std::string out;  // a traces file to append the trace to ("": not kept); its images beside it
};

// Runs the question through the runtime and returns its trace; appended to settings.out unless
// the episode could not run (a fresh id per run, so that asking again appends).
Trace run_question(const RunQuestionSettings& settings, const EpisodeWatch& watch = {}, const JobEvents& events = {});

// The summary's `failed` counts the tasks that failed (listed in its errors file).
BatchSummary run_tasks(const RunTasksSettings& settings, const JobEvents& events = {});

// What run_tasks and eval_run share once they hold their tasks and runtime: this shard's part
// of `tasks` (its manifest naming `command`, the data file `data` and the runtime's model,
// prompt and protocol as what every shard must share), run as a resumable batch whose summary
// the events hear.
BatchSummary run_task_batch(std::vector<Task> tasks, const Runtime& runtime, const std::string& command, const std::string& data,
                            BatchOptions batch, const std::string& shard, const JobEvents& events);

}  // namespace taco
