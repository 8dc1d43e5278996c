// taco merge: the outputs of a sharded batch job (gen, run, eval run, distill), each with its
// manifest (ShardManifest, util/shard.h), joined into what one run would have written. The
// manifests say whether the parts are all the shards of one job; gen's records come out in one
// run's order, byte for byte; runs' traces in the dataset's order (one run writes them as they
// finish).
#pragma once

#include <string>
#include <vector>

#include "util/json.h"
#include "util/shard.h"

namespace taco {

struct MergeSummary {
  size_t parts = 0;
  size_t records = 0;
  std::string command;
  int shards = 0;
  // With allow_partial: what the parts lack of what their manifests promise, one line each
  // ("shard 1/2 (runs.shard-1-of-2.jsonl): task t7 (failed: in its errors file)"); empty
  // when the merge is complete.
  std::vector<std::string> missing;
};

// Merges the shard outputs `parts` (in any order) into `out` (.jsonl or a JSON array, as
// RecordWriter writes), rebasing relative image paths to start at out's folder. gen's
// statistics (<part>.stats.json) are summed into <out>.stats.json. Throws Error, naming the
// part, when a part has no manifest, a shard is missing or given twice, or two parts were made
// with different settings (naming the setting). A part with fewer records than its manifest
// promises (a shard killed midway, a task that failed, a record deleted) is refused, naming
// what is missing, unless `allow_partial`: then the rest is merged, the summary lists what is
// missing, and so does <out>.missing.json (removed by a complete merge).
MergeSummary merge_shards(const std::vector<std::string>& parts, const std::string& out, bool allow_partial = false);

}  // namespace taco
