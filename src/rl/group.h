// GRPO's groups: the G rollouts of one question, their advantages (each reward against the
// group's, in the group's standard deviations), and the questions each step asks: sampled by
// family, preferring families the model answers sometimes but not always, since a group whose
// rewards are all equal carries no signal. Pure functions and value types.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "cota/task.h"
#include "util/json.h"

namespace taco {

struct GroupAdvantages {
  bool kept = false;               // false: every reward equal (no signal), the group is dropped
  std::vector<double> advantages;  // (reward - mean) / std of the group (population std), when kept
};
GroupAdvantages group_advantages(const std::vector<double>& rewards);

// Picks each step's questions. Deterministic: the questions of step s are a function of the
// tasks, the seed, s and the pass rates so far, which the run's state carries across a resume.
class QuestionSampler {
 public:
  // A family with no pass rate yet counts as 0.5; weights are p (1 - p), at least kMinWeight,
  // so that no family starves.
  static constexpr double kMinWeight = 0.05;
  // Each step's pass rate of a family moves its estimate this far (an exponential average).
  static constexpr double kRefresh = 0.3;

  // `tasks` must outlive the sampler. Families come from each task's metadata ("family", else
  // "category"; "(none)" without either).
  QuestionSampler(const std::vector<Task>& tasks, uint64_t seed);

  // Indices into the tasks of step `step`'s `n` questions (distinct when the tasks allow it).
  std::vector<size_t> pick(int64_t step, size_t n);
  // A step's pass rates: each family's right answers over its rollouts.
  void refresh(const std::map<std::string, std::pair<size_t, size_t>>& right_and_total);

  static std::string family_of(const Task& task);
  const std::map<std::string, double>& pass_rates() const { return pass_rate_; }
  Json state() const;                 // pass rates and where each family's order stands
  void restore(const Json& state);    // throws Error for a state that is not one

 private:
  const std::vector<Task>& tasks_;
  uint64_t seed_;
  std::map<std::string, std::vector<size_t>> members_;  // family -> task indices
  std::map<std::string, size_t> cursor_;                // family -> questions asked so far
  std::map<std::string, double> pass_rate_;
};

}  // namespace taco
