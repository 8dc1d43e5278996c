// run_batch: many episodes with N in flight, resumable. Each finished trace is appended to the
// output JSONL and flushed at once; tasks whose id is already in the output are skipped, so a
// killed run resumes where it stopped with no duplicates. A task that cannot run (missing
// image, a reply the model server refused) never stops the batch: it is written to the errors
// file instead and is tried again by the next run. A model that cannot be reached at all does:
// it is asked once before the first task, and after a few episodes in a row get no answer
// from it the batch stops taking tasks and throws Error saying so (what finished is kept).
#pragma once

#include <functional>
#include <stop_token>
#include <string>
#include <vector>

#include "cota/task.h"
#include "runtime/episode.h"
#include "util/job.h"

namespace taco {

struct BatchOptions {
  int jobs = 8;
  std::string out_path;
  std::string errors_path;  // "" means <out without .jsonl>.errors.jsonl
  bool progress = true;
  int stop_after_unreachable = 3;  // episodes in a row that got no answer from the model; 0: never stop
  // Resume into an output made by another model, prompt mode, template or image blanking, or
  // with other questions under the same ids (refused otherwise: one file would hold two runs).
  bool force = false;
  // Called in the episode's thread on each finished trace before it is written (distill
  // verifies answers here). An exception fails the task: it goes to the errors file.
  std::function<void(Trace&)> before_write;
  // Asked to stop: no further episode starts; the traces written so far stay (a rerun resumes).
  std::stop_token stop;
};

struct BatchSummary {
  size_t total = 0;
  size_t skipped = 0;    // already in the output
  size_t succeeded = 0;  // traces written by this run
  size_t failed = 0;     // written to the errors file
  double seconds = 0;
  std::string out_path;  // the traces (a shard's own file when sharded)
  std::string errors_path;
};

BatchSummary run_batch(const std::vector<Task>& tasks, const Runtime& runtime, const BatchOptions& options);

// The ids of the traces already in a trace file (a torn last line is ignored).
std::vector<std::string> finished_ids(const std::string& path);

std::string default_errors_path(const std::string& out_path);

// When the job is sharded (`shard_spec` "k/N", else a Slurm array or an Indexed Job: shard_from):
// keeps this shard's tasks (task i is shard i % N's), moves batch.out_path (and errors_path) to
// the shard's file (OUT.shard-k-of-N.jsonl) and writes its manifest for taco merge; `settings`
// are what every shard must share. Returns the tasks unchanged otherwise.
std::vector<Task> take_shard(std::vector<Task> tasks, const std::string& shard_spec, BatchOptions& batch, const std::string& command,
                             Json settings, const JobEvents& events);

// The summary of a batch for a person: "12 tasks: 10 done now, 2 already in OUT, 0 failed (1.2 s)",
// and where the failures are listed when there are some.
std::string batch_summary_text(const BatchSummary& summary, const std::string& out_path);

}  // namespace taco
