// The reward of one RL rollout: taco's scorer with exact matching against the task's answer
// (the verifier is the scorer: nothing judges twice), and the shaping terms a run may add. Each
// part is kept apart, so that a run reports what its reward is made of. Pure functions.
#pragma once

#include <string>

#include "cota/task.h"
#include "cota/trace.h"
#include "util/json.h"

namespace taco {

// The rules of a run's reward, frozen for the run (recorded in its checkpoint's config).
struct RewardSettings {
  double correct = 1;           // a right answer (exact matching)
  double parse_penalty = 0.1;   // taken off per reply that does not parse and per action that fails
  double unfinished = 0;        // an episode that runs out of replies or fills its context, instead of scoring its answer
  double tool_cost = 0;         // taken off per tool call beyond the first
  double tool_bonus = 0;        // added to a right answer reached with at least one tool call

  Json to_json() const;
  // Sets one rule from "name=value" (the names of to_json); throws Error naming `setting` (where
  // the rules come from: RlSettings.reward, EnvOptions.reward) for another name or a value that
  // is not a number.
  void set(const std::string& assignment, const std::string& setting);
};

struct RewardParts {
  double correct = 0;     // settings.correct or 0
  double parse = 0;       // -parse_penalty per failure (0 or less)
  double unfinished = 0;  // settings.unfinished for an unfinished episode
  double tool_cost = 0;   // 0 or less
  double tool_bonus = 0;
  bool right = false;     // the answer was right (what accuracy counts)
  bool error = false;     // the episode could not run (a model or image error): no reward at all

  double total() const { return correct + parse + unfinished + tool_cost + tool_bonus; }
  // The five parts by name (what metrics, environments and exports report).
  Json to_json() const;
};

// Throws Error saying why when `task` cannot be rewarded: no answer, a scoring other than
// choice and free-form (lenient or judged ones invite reward hacking), or an answer exact
// matching cannot read (a letter that is no option).
void check_rewardable(const Task& task);

// Scores `trace` of `task` (which must carry an answer; Error otherwise).
RewardParts reward_of(const Task& task, const Trace& trace, const RewardSettings& settings);

}  // namespace taco
