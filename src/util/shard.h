// Shard: which part of a batch job this process does, from --shard k/N or from the scheduler
// that started it: a Slurm job array (SLURM_ARRAY_TASK_ID, _MIN, _STEP, _COUNT; indices need
// not start at 0) or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX, with the count in
// TACO_SHARDS since Kubernetes sets none). Item i of a job belongs to shard i % N.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include "util/json.h"

namespace taco {

struct Shard {
  int index = 0;
  int count = 1;
  std::string source;  // "Shard.spec" (--shard), "SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"; "" when not sharded

  bool active() const { return count > 1; }
  bool takes(size_t item) const { return static_cast<int>(item % static_cast<size_t>(count)) == index; }
  // "3/16"
  std::string to_string() const;
  // A shard's output: `out` with ".shard-03-of-16" before its extension (the number padded so
  // the parts sort), so every task of an array can be given the same --out; `out` itself when
  // not sharded.
  std::string output_path(const std::string& out) const;
};

// `spec` ("k/N", or "" when none was given; the setting Shard.spec, --shard at the command line)
// wins; else the scheduler's variables, read with `env` (std::getenv by default). Throws Error
// for a malformed spec, k outside [0, N), an array whose task ids do not map onto 0..N-1, or a
// Kubernetes index without TACO_SHARDS.
Shard shard_from(const std::string& spec, const std::function<const char*(const char*)>& env = nullptr);

// A sharded batch command's record of its part, written beside each output as
// <output>.shard.json: which shard it is, the settings every shard must share, and its units in
// the order one run would have made them (record counts per scene for gen, task ids for runs).
// taco merge (curate/merge.h) reads them to check that the parts are all the shards of one job.
struct ShardManifest {
  std::string command;  // "gen", "run", "eval run", "distill"
  Shard shard;
  Json settings = Json::object();  // what all shards must share: data, seed, model, ...
  Json units = Json::array();      // numbers: records per unit; strings: task ids
  // Whether every task id has a record in the part (a run's traces); false where a task may
  // have none (distill's Direct examples exist only for the questions the teacher missed).
  bool every_unit = true;

  static std::string path_for(const std::string& output) { return output + ".shard.json"; }
  void write_for(const std::string& output) const;
  static ShardManifest load_for(const std::string& output);  // throws Error naming the file
};

}  // namespace taco
