// The task-file job (taco run --data): a model answers every task of a taco task file through
// the runtime, as a resumable (and shardable) batch.
#pragma once

#include <string>

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

// The summary's `failed` counts the tasks that failed (listed in its errors file).
BatchSummary run_tasks(const RunTasksSettings& settings, const JobEvents& events = {});

}  // namespace taco
