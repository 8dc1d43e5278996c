// Shard outputs and taco merge. A sharded batch command (gen, run --data, eval run, distill)
// writes, beside each output, a manifest <output>.shard.json: which shard it is, the settings
// every shard must share, and its units in the order one run would have made them (record
// counts per scene for gen, task ids for runs). merge_shards checks that the parts are all the
// shards of one job and writes what one run would have: gen's records in one run's order,
// byte for byte; runs' traces in the dataset's order (one run writes them as they finish).
#pragma once

#include <string>
#include <vector>

#include "util/json.h"
#include "util/shard.h"

namespace taco {

struct ShardManifest {
  std::string command;  // "gen", "run", "eval run", "distill"
  Shard shard;
  Json settings = Json::object();  // what all shards must share: data, seed, model, ...
  Json units = Json::array();      // numbers: records per unit; strings: task ids

  static std::string path_for(const std::string& output) { return output + ".shard.json"; }
  void write_for(const std::string& output) const;
  static ShardManifest load_for(const std::string& output);  // throws Error naming the file
};

struct MergeSummary {
  size_t parts = 0;
  size_t records = 0;
  std::string command;
  int shards = 0;
};

// Merges the shard outputs `parts` (in any order) into `out` (.jsonl or a JSON array, as
// RecordWriter writes), rebasing relative image paths to start at out's folder. gen's
// statistics (<part>.stats.json) are summed into <out>.stats.json. Throws Error, naming the
// part, when a part has no manifest, a shard is missing or given twice, or two parts were made
// with different settings (naming the setting).
MergeSummary merge_shards(const std::vector<std::string>& parts, const std::string& out);

}  // namespace taco
