// What the commands that run episodes share (taco run, taco eval run, taco distill): their
// flags, the runtime those flags make, and running a task list as a resumable batch.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "runtime/episode.h"

namespace taco::cli {

struct EpisodeFlags {
  ModelOptions model;
  std::string images_dir;
  std::string prompt;           // "": the model's own (an embedded checkpoint's), else cota
  std::string prompt_template;  // "": the model's own template, else taco's default
  std::string tools_config;
  int max_replies = -1;         // -1: the model's own limit, else 10
  int64_t max_pixels = 0;
  bool blank_images = false;
  std::string protocol = "cota";  // or "tools" (EpisodeOptions::protocol)
};

// --model and the other model flags, --prompt (unless with_prompt_mode is false), --prompt-template, --max-replies, --max-pixels,
// --tools-config, --images-dir; --api-key unless with_api_key is false (servers name their own key so).
void add_episode_flags(CLI::App& cmd, EpisodeFlags& flags, bool with_prompt_mode = true, bool with_api_key = true);

// A runtime with the model and tools it uses; held by pointer because the runtime refers to
// its parts.
struct RuntimeSetup {
  ToolsConfig config;
  ToolRegistry tools;
  std::unique_ptr<Model> model;
  std::unique_ptr<Runtime> runtime;
};

// The shipped embedded model as a --model spec: beside the binary's source tree
// (build/taco -> models/taco-small), else in the working folder. What taco serve and taco mcp
// run when no --model is given.
std::string shipped_model_spec();

// `out_path` names the default images folder (<out>.images) when --images-dir is not given.
// With `chain_of_thought`, the CoTA prompt offers Terminate alone: the model thinks, then
// answers without tools (the paper's CoT mode).
std::unique_ptr<RuntimeSetup> make_runtime(const EpisodeFlags& flags, const std::string& out_path, bool chain_of_thought = false);

struct BatchFlags {
  std::string out;
  std::string errors_out;
  int jobs = 8;
  bool quiet = false;
  bool force = false;  // resume into an output of another model, mode or dataset
  std::string shard;   // --shard k/N; "": from the scheduler's environment, else the whole job
};

// --shard, as the batch commands (run --data, eval run, distill) take it.
void add_shard_flag(CLI::App& cmd, BatchFlags& flags);

// When the job is sharded (--shard, a Slurm array, an Indexed Job): keeps this shard's tasks
// (task i is shard i % N's), moves flags.out (and errors_out) to the shard's file
// (OUT.shard-k-of-N.jsonl) and writes its manifest for taco merge; `settings` are what every
// shard must share. Returns the data's tasks unchanged otherwise.
std::vector<Task> take_shard(std::vector<Task> tasks, BatchFlags& flags, const std::string& command, Json settings);

// Runs the tasks into flags.out (resuming), prints the summary line, and ends with exit code 1
// (ExitCode) when some tasks failed.
void run_task_batch(const std::vector<Task>& tasks, const Runtime& runtime, const BatchFlags& flags);

}  // namespace taco::cli
