// Policy: the embedded model as RL trains it (torch module; make_policy loads it on first use).
// Rollouts sample from model(), whose weights are the policy's; update() takes a GRPO step on
// the rollouts' recorded tokens (SessionTokens) and their advantages. The run's state (weights,
// AdamW moments, the starting model for the KL term) is one file written atomically, with the
// job's own state in its metadata, so a run killed at any moment resumes from its last step.
// Not thread-safe: rollouts and updates take turns.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "models/model.h"
#include "util/json.h"

namespace taco {

struct PolicyOptions {
  std::string start;            // the checkpoint folder RL starts from (an SFT model)
  ModelOptions sampling;        // what rollouts sample with (temperature, seed, json_schema)
  double lr = 1e-5;
  double clip_low = 0.2;        // PPO's ratio clipped to [1 - clip_low, 1 + clip_high] (clip-higher)
  double clip_high = 0.28;
  double kl = 0;                // weight of the KL term to the starting model (0: none, and no copy kept)
  double max_grad_norm = 1.0;
  int updates_per_step = 2;     // optimizer steps per RL step, each on its share of the rollouts
  int threads = 1;              // math threads of the update
};

struct RolloutForUpdate {
  const SessionTokens* tokens = nullptr;
  double advantage = 0;
};

struct UpdateReport {
  double loss = 0;                  // mean over the optimizer steps
  double max_logprob_mismatch = 0;  // largest |recomputed - sampler's| log-prob at the step's first update (~0)
  double mean_logprob_mismatch = 0;
  double clip_fraction = 0;         // policy tokens whose ratio the clip held
  double kl = 0;                    // mean KL estimate (k3) to the starting model, per policy token (when kl > 0)
  double entropy = 0;               // mean entropy of the policy's distribution at its tokens (first update)
  double grad_norm = 0;             // mean, before clipping
  int64_t tokens = 0;               // tokens read (all), policy tokens trained on
  int64_t policy_tokens = 0;
  int updates = 0;
};

class Policy {
 public:
  virtual ~Policy() = default;
  virtual Model& model() = 0;
  // One RL step's update at learning rate `lr`: the rollouts split into updates_per_step
  // shares in order, one optimizer step each.
  virtual UpdateReport update(const std::vector<RolloutForUpdate>& rollouts, double lr) = 0;
  // Writes the state file (metadata added) and the checkpoint folder `out` (config.json with
  // `training` under its "rl" key, model.safetensors, tokenizer.model).
  virtual void save(const std::string& state_file, const std::map<std::string, std::string>& metadata, const std::string& out,
                    const Json& training) = 0;
  // Reads a state file written by save() into the policy; returns its metadata. Throws Error
  // for a file of another model or damaged.
  virtual std::map<std::string, std::string> restore(const std::string& state_file) = 0;
  virtual int64_t parameters() const = 0;
};

// Loads options.start. Throws Error naming what is wrong.
std::unique_ptr<Policy> make_policy(const PolicyOptions& options);
using PolicyFactory = std::unique_ptr<Policy> (*)(const PolicyOptions& options);

}  // namespace taco
