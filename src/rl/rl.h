// taco rl: the embedded action model learns from its own tool use (GRPO over real tool
// rollouts). Each step samples questions, runs a group of episodes of each through the same
// runtime, tools and parser as taco run, scores them with taco's scorer (exact matching), and
// updates the policy on the tokens it sampled (rl/policy.h). The job is resumable: killed at
// any moment and rerun with the same settings, it continues from its last step and ends with
// the same weights as a run never stopped (same seed and threads). docs/rl.md.
//
// The output folder:
//   config.json, model.safetensors, tokenizer.model   the policy as a checkpoint (`embedded:OUT`)
//   rl-state.safetensors   weights, AdamW moments, and the job's state in its metadata
//   rollouts.jsonl         every rollout as an ordinary trace (taco view shows them)
//   rollouts.tokens.jsonl  per rollout: token ids, mask, sampler log-probs, reward (docs/rl.md)
//   metrics.jsonl          one line per step
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "rl/reward.h"
#include "runtime/setup.h"
#include "util/job.h"

namespace taco {

// A step's episodes all run at once, each on a thread of its own.
inline constexpr int64_t kMaxEpisodesPerStep = 1024;

struct RlSettings {
  EpisodeSettings episode;            // episode.model.model: embedded:DIR, the model RL starts from
  std::vector<std::string> data;      // taco task files (taco gen --format tasks) of a world neither SFT nor the benchmark used
  std::vector<std::string> exclude;   // benchmarks (task files or TSVs) whose images and scenes the tasks must not share
  std::string out;                    // the output folder (created; resumed when it holds this run)
  int group = 8;                      // episodes per question (G)
  int questions_per_step = 8;         // questions per step (Q)
  int64_t steps = 100;
  double temperature = 1.0;
  double lr = 1e-4;                   // constant; about a twentieth of the SFT run's peak serves (docs/rl.md)
  double clip_low = 0.2;
  double clip_high = 0.28;
  double kl = 0;
  int updates_per_step = 2;
  RewardSettings reward;
  int threads = 2;                    // the update's math threads (every episode of a step runs at once)
  uint64_t seed = 0;
};

struct RlSummary {
  int64_t steps = 0;                 // steps done in all
  bool already_done = false;         // the folder held the finished run
  double seconds = 0;                // over every invocation
  double reward = 0, accuracy = 0;   // the last step's means
};

RlSummary run_rl(const RlSettings& settings, const JobEvents& events = {});

}  // namespace taco
