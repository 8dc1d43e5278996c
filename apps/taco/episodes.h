// What the commands that run episodes share (taco run, taco eval run, taco distill, serve, mcp):
// their flags, which fill the job layer's EpisodeSettings and BatchOptions.
#pragma once

#include <string>

#include "commands.h"
#include "runtime/run_tasks.h"
#include "runtime/setup.h"

namespace taco::cli {

// --model and the other model flags, --prompt (unless with_prompt_mode is false), --prompt-template, --max-replies, --max-pixels,
// --tools-config, --images-dir; --api-key unless with_api_key is false (servers name their own key so).
void add_episode_flags(CLI::App& cmd, EpisodeSettings& settings, bool with_prompt_mode = true, bool with_api_key = true);

// The flags of a resumable batch: --out and the rest fill `batch`; --shard fills `shard`.
struct BatchFlags {
  BatchOptions batch;
  std::string shard;  // Shard.spec
  bool quiet = false;
};

// --shard, as the batch commands (run --data, eval run, distill) take it.
void add_shard_flag(CLI::App& cmd, std::string& shard);

// Exit 1 when some tasks of a batch failed: the job has told where they are listed.
void exit_if_failed(size_t failed);

}  // namespace taco::cli
